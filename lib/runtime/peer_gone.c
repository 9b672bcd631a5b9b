/* SPDX-License-Identifier: BSD-3-Clause */
/* Bursts on ports whose peer can leave under them (peer_gone.h). */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>

#include <rte_ethdev.h>

#include "peer_gone.h"
#include "runtime.h"

/* The burst running on this thread under the guard, and its port. Set and
 * cleared around every burst: initial-exec, so that each access is one
 * instruction, not a call to __tls_get_addr (which the default model for
 * a shared library makes). libfragnet is linked, not dlopen()ed. */
#define TLS_FAST __thread __attribute__((tls_model("initial-exec")))
static TLS_FAST sigjmp_buf *guarded;
static TLS_FAST uint16_t guarded_port;
static struct sigaction before_segv, before_bus;
static bool installed;

bool fn_peer_gone_port(uint16_t port_id)
{
	struct rte_eth_dev_info info;

	return rte_eth_dev_info_get(port_id, &info) == 0 && info.driver_name != NULL &&
	       strcmp(info.driver_name, "net_memif") == 0;
}

static void on_fault(int sig, siginfo_t *si, void *ctx)
{
	struct rte_eth_link link;
	sigjmp_buf *jb = guarded;

	(void)si;
	(void)ctx;
	/* memif marks the link down before it unmaps anything */
	if (jb != NULL && rte_eth_link_get_nowait(guarded_port, &link) == 0 &&
	    link.link_status == RTE_ETH_LINK_DOWN) {
		guarded = NULL;
		siglongjmp(*jb, 1);
	}
	/* Not ours: put back whoever handled it before; returning runs the
	 * faulting instruction again, under them. */
	sigaction(sig, sig == SIGBUS ? &before_bus : &before_segv, NULL);
}

int fn_peer_gone_init(void)
{
	struct sigaction sa;

	if (installed)
		return 0;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_fault;
	/* not blocked in the handler: it leaves with siglongjmp, which does
	 * not restore the signal mask */
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSEGV, &sa, &before_segv) < 0 || sigaction(SIGBUS, &sa, &before_bus) < 0)
		return -errno;
	installed = true;
	return 0;
}

uint16_t fn_peer_gone_rx(uint16_t port_id, uint16_t queue, struct rte_mbuf **pkts,
			 uint16_t n, bool *fault)
{
	sigjmp_buf jb;
	uint16_t got;

	/* the PMD stores each frame once it has copied it whole: after a
	 * fault, those are whole frames, and only the one it was copying is
	 * lost (with its buffer) */
	memset(pkts, 0, n * sizeof(*pkts));
	if (sigsetjmp(jb, 0)) {
		*fault = true;
		for (got = 0; got < n && pkts[got] != NULL; got++)
			;
		return got;
	}
	guarded_port = port_id;
	guarded = &jb;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	got = rte_eth_rx_burst(port_id, queue, pkts, n);
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	guarded = NULL;
	return got;
}

/* The stand-in's operations: a put counts, nothing is ever taken. */
static int count_put(struct rte_mempool *mp, void *const *objs, unsigned n)
{
	(void)objs;
	((struct fn_tx_count *)mp->pool_data)->freed += n;
	return 0;
}

static int count_get(struct rte_mempool *mp, void **objs, unsigned n)
{
	(void)mp;
	(void)objs;
	(void)n;
	return -ENOBUFS;
}

static unsigned count_available(const struct rte_mempool *mp)
{
	(void)mp;
	return 0;
}

static int count_alloc(struct rte_mempool *mp)
{
	(void)mp;
	return 0;
}

static void count_free(struct rte_mempool *mp)
{
	(void)mp;
}

static const struct rte_mempool_ops count_ops = {
	.name = "fragnet_tx_count",
	.alloc = count_alloc,
	.free = count_free,
	.enqueue = count_put,
	.dequeue = count_get,
	.get_count = count_available,
};
RTE_MEMPOOL_REGISTER_OPS(count_ops);

int fn_tx_count_init(struct fn_tx_count *c, struct rte_mempool *home, const char *name)
{
	struct rte_mempool *mp;

	/* A cache as large as a mempool has: the PMD's frees go into this
	 * lcore's, as into any pool's, and are counted by its length; only a
	 * burst larger than the cache holds (or a thread with no lcore and
	 * so no cache) reaches count_put(). No object is ever allocated, so n
	 * (which must exceed the cache's flush threshold) costs nothing. The
	 * private area (the mbuf pool's data room) as home's, for a PMD that
	 * reads it through a frame's pool. The mempool's header holds a cache
	 * for every possible lcore: about 1 MB. Its operations take one of
	 * DPDK's 16 slots (Debian's 22.11 fills 14 with every driver loaded);
	 * they are registered when libfragnet loads, before EAL's drivers. */
	mp = rte_mempool_create_empty(name, 2 * RTE_MEMPOOL_CACHE_MAX_SIZE, home->elt_size,
				      RTE_MEMPOOL_CACHE_MAX_SIZE, home->private_data_size,
				      home->socket_id, 0);
	if (mp == NULL)
		return -rte_errno;
	if (rte_mempool_set_ops_byname(mp, count_ops.name, NULL) < 0) {
		rte_mempool_free(mp);
		return -EINVAL;
	}
	memcpy(rte_mempool_get_priv(mp), rte_mempool_get_priv(home), home->private_data_size);
	mp->pool_data = c;
	c->home = home;
	c->stand_in = mp;
	c->freed = 0;
	return 0;
}

void fn_tx_count_fini(struct fn_tx_count *c)
{
	rte_mempool_free(c->stand_in);
	c->stand_in = NULL;
}

static bool countable(const struct fn_tx_count *c, const struct rte_mbuf *m)
{
	return m->pool == c->home && rte_mbuf_refcnt_read(m) == 1 && RTE_MBUF_DIRECT(m);
}

/* rte_eth_tx_burst under the guard: false after a fault. Apart, so that
 * the callers' variables live past the longjmp. */
static __rte_noinline bool tx_burst_guarded(uint16_t port_id, uint16_t queue,
					    struct rte_mbuf **pkts, uint16_t n, uint16_t *sent)
{
	sigjmp_buf jb;

	if (sigsetjmp(jb, 0))
		return false;
	guarded_port = port_id;
	guarded = &jb;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	*sent = rte_eth_tx_burst(port_id, queue, pkts, n);
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	guarded = NULL;
	return true;
}

/* Frames the stand-in cannot follow: a reference each. */
static uint16_t tx_with_references(uint16_t port_id, uint16_t queue, struct rte_mbuf **pkts,
				   uint16_t n, bool *fault)
{
	uint16_t refs[FN_TX_PENDING];
	uint16_t sent, i;

	n = RTE_MIN(n, (uint16_t)FN_TX_PENDING);
	/* An extra reference on every frame: the PMD frees each one it has
	 * copied, in order, so after a fault the frames whose count went back
	 * are the ones it took, and none is freed twice or lost. */
	for (i = 0; i < n; i++) {
		refs[i] = rte_mbuf_refcnt_read(pkts[i]);
		rte_pktmbuf_refcnt_update(pkts[i], 1);
	}
	if (!tx_burst_guarded(port_id, queue, pkts, n, &sent)) {
		*fault = true;
		for (sent = 0; sent < n && rte_mbuf_refcnt_read(pkts[sent]) == refs[sent]; sent++)
			;
	}
	for (i = 0; i < sent; i++)
		rte_pktmbuf_free(pkts[i]);
	for (; i < n; i++)
		rte_pktmbuf_refcnt_update(pkts[i], -1);
	return sent;
}

uint16_t fn_peer_gone_tx(struct fn_tx_count *c, uint16_t port_id, uint16_t queue,
			 struct rte_mbuf **pkts, uint16_t n, bool *fault)
{
	struct rte_mempool_cache *cache;
	unsigned freed;
	uint16_t sent, i;
	bool done;

	if (unlikely(c->stand_in == NULL))   /* fn_tx_count_init() failed */
		return tx_with_references(port_id, queue, pkts, n, fault);
	for (i = 0; i < n; i++) {
		if (unlikely(!countable(c, pkts[i]))) {
			while (i--)
				pkts[i]->pool = c->home;
			return tx_with_references(port_id, queue, pkts, n, fault);
		}
		pkts[i]->pool = c->stand_in;
	}
	cache = rte_mempool_default_cache(c->stand_in, rte_lcore_id());
	c->freed = 0;
	done = tx_burst_guarded(port_id, queue, pkts, n, &sent);
	freed = c->freed;
	if (cache != NULL) {   /* what the frees left in it: ours again */
		freed += cache->len;
		cache->len = 0;
	}
	if (!done) {
		*fault = true;
		sent = freed;
	}
	for (i = 0; i < n; i++)
		pkts[i]->pool = c->home;
	/* the first ones, in the order the PMD freed them */
	rte_mempool_put_bulk(c->home, (void **)pkts, freed);
	return sent;
}
