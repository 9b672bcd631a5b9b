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

/* The burst running on this thread under the guard, and its port. */
static __thread sigjmp_buf *guarded;
static __thread uint16_t guarded_port;
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

uint16_t fn_peer_gone_tx(uint16_t port_id, uint16_t queue, struct rte_mbuf **pkts,
			 uint16_t n, bool *fault)
{
	uint16_t refs[FN_TX_PENDING];
	sigjmp_buf jb;
	uint16_t sent, i;

	n = RTE_MIN(n, (uint16_t)FN_TX_PENDING);
	/* An extra reference on every frame: the PMD frees each one it has
	 * copied, in order, so after a fault the frames whose count went back
	 * are the ones it took, and none is freed twice or lost. */
	for (i = 0; i < n; i++) {
		refs[i] = rte_mbuf_refcnt_read(pkts[i]);
		rte_pktmbuf_refcnt_update(pkts[i], 1);
	}
	if (sigsetjmp(jb, 0)) {
		*fault = true;
		for (sent = 0; sent < n && rte_mbuf_refcnt_read(pkts[sent]) == refs[sent]; sent++)
			;
	} else {
		guarded_port = port_id;
		guarded = &jb;
		__atomic_signal_fence(__ATOMIC_SEQ_CST);
		sent = rte_eth_tx_burst(port_id, queue, pkts, n);
		__atomic_signal_fence(__ATOMIC_SEQ_CST);
		guarded = NULL;
	}
	for (i = 0; i < sent; i++)
		rte_pktmbuf_free(pkts[i]);
	for (; i < n; i++)
		rte_pktmbuf_refcnt_update(pkts[i], -1);
	return sent;
}
