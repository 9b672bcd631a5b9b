/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The per-queue loop, run to completion: rx burst -> stack -> callbacks ->
 * tx burst, on one lcore, with no locks. Timers (ARP retries, reassembly
 * expiry) piggyback on the loop once a millisecond.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_malloc.h>
#include <rte_prefetch.h>
#include <rte_ring.h>

#include "log.h"
#include "peer_gone.h"
#include "queue.h"
#include "xsk.h"
#include "stack/arp.h"
#include "stack/eth.h"
#include "stack/ipv4.h"
#include "stack/reasm.h"

#define TX_RETRIES 4           /* tx bursts per flush */
#define HANDOFF_RING 1024
#define IDLE_SPIN 1000         /* empty polls before the first sleep */
#define IDLE_MIN_US 10
#define IDLE_MAX_US 1000

unsigned fn_queue_pool_size(unsigned n_queues)
{
	return n_queues * (FN_QUEUE_MBUFS + (FN_WITH_FRAG ? FN_REASM_MBUFS : 0)) + FN_POOL_SLACK;
}

#if FN_WITH_FRAG
/* What reassembly may hold on one queue: the queue's share of the pool
 * beyond what every queue needs anyway (FN_REASM_MBUFS with the pool
 * fragnet_open() makes), at most FN_REASM_MEM. More would leave the device
 * without mbufs to receive into. */
static uint32_t reasm_mem_limit(const struct fragnet *fn)
{
	unsigned size = fn->pool->size, share, mbufs = 0;

	share = size > FN_POOL_SLACK ? (size - FN_POOL_SLACK) / fn->n_queues : 0;
	if (share > FN_QUEUE_MBUFS)
		mbufs = share - FN_QUEUE_MBUFS;
	return RTE_MIN((uint64_t)mbufs * rte_pktmbuf_data_room_size(fn->pool),
		       (uint64_t)FN_REASM_MEM);
}
#endif

struct fn_queue *fn_queue_create(struct fragnet *fn, unsigned qid, int socket)
{
	static unsigned instance;
	struct fn_queue *q;

	q = rte_zmalloc_socket("fn_queue", sizeof(*q), RTE_CACHE_LINE_SIZE, socket);
	if (q == NULL)
		goto nomem;
	q->fn = fn;
	q->qid = qid;
	q->port_id = fn->port.ids[qid];
	q->port_queue = fn->port.queue_of[qid];
	q->xsk = fn->port.xsk[qid];
	q->addr = fn->addr;
	q->mac = fn->port.mac;
	q->pool = fn->pool;
	q->clk.hz = rte_get_tsc_hz();
	q->clk.now = rte_get_tsc_cycles();
	fn_ipv4_ids_init(q);
	q->nexthop.gen = UINT64_MAX;   /* no generation of the table: empty */
	q->nexthop.dst = fn->addr;     /* none */
	q->last_port.gen = UINT64_MAX; /* the same */
	q->icmp_bucket.last = q->clk.now;
	q->icmp_bucket.tokens = UINT64_MAX / 2;   /* full: capped at first use */
	q->announce = FN_WITH_ARP && qid == 0;
	q->filter.qid = qid;
	if (q->xsk == NULL && fn_peer_gone_port(q->port_id)) {
		char name[RTE_MEMPOOL_NAMESIZE];
		int rc;

		errno = -fn_peer_gone_init();
		if (errno)
			goto fail;
		snprintf(name, sizeof(name), "fn_txcount_%u_%u", instance, qid);
		rc = fn_tx_count_init(&q->tx_count, fn->pool, name);
		if (rc < 0)   /* then a reference per frame: slower, as safe */
			FN_LOG(NOTICE, "queue %u: no stand-in pool for the memif transmit "
			       "guard (%s): it takes a reference per frame\n", qid, strerror(-rc));
		q->peer_may_leave = true;
		q->link_down = true;        /* until a peer connects */
	}
#if FN_WITH_FRAG
	q->reasm = fn_reasm_create(socket, reasm_mem_limit(fn), FN_REASM_TIMEOUT_S * q->clk.hz);
	if (q->reasm == NULL)
		goto nomem;
	if (fn->n_queues > 1) {
		char name[RTE_RING_NAMESIZE];

		snprintf(name, sizeof(name), "fn_handoff_%u_%u", instance, qid);
		q->handoff = rte_ring_create(name, HANDOFF_RING, socket, RING_F_SC_DEQ);
		if (q->handoff == NULL)
			goto nomem;
	}
#endif
	if (qid + 1 == fn->n_queues)
		instance++;
	return q;
nomem:
	errno = ENOMEM;
fail:
	fn_queue_free(q);
	return NULL;
}

void fn_queue_free(struct fn_queue *q)
{
	if (q == NULL)
		return;
	/* What the device never took is lost at close: say so. */
	q->stats.drops[FRAGNET_DROP_TX_FULL] += q->n_tx;
	rte_pktmbuf_free_bulk(q->tx, q->n_tx);
	fn_rx_done_flush(q);
	fn_arp_flush(q);
	fn_tx_count_fini(&q->tx_count);
#if FN_WITH_FRAG
	fn_reasm_free(q->reasm);
	if (q->handoff) {
		struct rte_mbuf *m;

		while (rte_ring_dequeue(q->handoff, (void **)&m) == 0)
			rte_pktmbuf_free(m);
		rte_ring_free(q->handoff);
	}
#endif
	rte_free(q);
}

/* The port's link went down (seen by the link watch, or by a burst that
 * faulted on the peer's unmapped rings): not polled until it is back. */
static void link_went_down(struct fn_queue *q, const char *how)
{
	if (q->link_down)
		return;
	q->link_down = true;
	q->stats.link_down++;
	FN_LOG(WARNING, "queue %u: port %u link down (%s): not polled until it is back\n",
	       q->qid, q->port_id, how);
}

static void watch_link(struct fn_queue *q)
{
	struct rte_eth_link link;

	if (rte_eth_link_get_nowait(q->port_id, &link) < 0)
		return;
	if (link.link_status == RTE_ETH_LINK_DOWN) {
		link_went_down(q, "its peer left");
	} else if (q->link_down) {
		q->link_down = false;
		FN_LOG(NOTICE, "queue %u: port %u link up: polled\n", q->qid, q->port_id);
	}
}

static __rte_noinline uint16_t guarded_rx(struct fn_queue *q, struct rte_mbuf **pkts, uint16_t n)
{
	bool fault = false;
	uint16_t got;

	if (q->link_down)
		return 0;
	got = fn_peer_gone_rx(q->port_id, q->port_queue, pkts, n, &fault);
	if (fault)
		link_went_down(q, "its peer left during a receive burst");
	return got;
}

static __rte_noinline uint16_t guarded_tx(struct fn_queue *q, struct rte_mbuf **pkts, uint16_t n)
{
	bool fault = false;
	uint16_t sent;

	if (q->link_down)
		return 0;
	sent = fn_peer_gone_tx(&q->tx_count, q->port_id, q->port_queue, pkts, n, &fault);
	if (fault)
		link_went_down(q, "its peer left during a transmit burst");
	return sent;
}

/* The device: a DPDK port's queue or an AF_XDP socket of ours. A branch
 * costs less than a call through a pointer: rte_eth_*_burst are inline. */
static inline uint16_t rx_burst(struct fn_queue *q, struct rte_mbuf **pkts, uint16_t n)
{
	if (q->xsk != NULL)
		return fn_xsk_rx_burst(q->xsk, pkts, n, &q->stats);
	if (unlikely(q->peer_may_leave))
		return guarded_rx(q, pkts, n);
	return rte_eth_rx_burst(q->port_id, q->port_queue, pkts, n);
}

static inline uint16_t tx_burst(struct fn_queue *q, struct rte_mbuf **pkts, uint16_t n)
{
	if (q->xsk != NULL)
		return fn_xsk_tx_burst(q->xsk, pkts, n, &q->stats);
	if (unlikely(q->peer_may_leave))
		return guarded_tx(q, pkts, n);
	return rte_eth_tx_burst(q->port_id, q->port_queue, pkts, n);
}

/* fn_tx() on a full queue: make room by a burst, or drop. */
void fn_tx_full(struct fn_queue *q, struct rte_mbuf *m)
{
	fn_tx_flush(q);
	if (q->n_tx == FN_TX_PENDING) {   /* the device takes nothing */
		FN_DROP(&q->stats, TX_FULL);
		rte_pktmbuf_free(m);
		return;
	}
	q->tx[q->n_tx++] = m;
}

/* Hand queued frames to the device. What it does not take stays queued for
 * the next iteration (a full ring is usually drained by then); frames are
 * dropped only when the queue itself overflows, in fn_tx(). */
int fn_tx_flush(struct fn_queue *q)
{
	uint16_t n = q->n_tx, sent = 0;
	unsigned tries = 0;
	uint64_t bytes = 0;

	/* Count before the burst: the device may free what it takes at once. */
	for (uint16_t i = 0; i < n; i++)
		bytes += q->tx[i]->pkt_len;
	while (sent < n && tries++ < TX_RETRIES)
		sent += tx_burst(q, q->tx + sent, n - sent);
	for (uint16_t i = sent; i < n; i++)
		bytes -= q->tx[i]->pkt_len;
	if (sent < n)
		memmove(q->tx, q->tx + sent, (n - sent) * sizeof(q->tx[0]));
	q->stats.tx_packets += sent;
	q->stats.tx_bytes += bytes;
	q->n_tx = n - sent;
	return sent;
}

static void timers(struct fn_queue *q)
{
	q->next_timer = q->clk.now + q->clk.hz / 1000;
	if (q->peer_may_leave)
		watch_link(q);
	if (unlikely(q->announce)) {
		fn_arp_announce(q);
		q->announce = false;
	}
	if (q->arp.n_req || q->arp.n)
		fn_arp_service(q);
#if FN_WITH_FRAG
	fn_reasm_expire(q);
#endif
}

#if FN_WITH_FRAG
static void drain_handoff(struct fn_queue *q)
{
	struct rte_mbuf *chains[FN_BURST];
	unsigned n = rte_ring_dequeue_burst(q->handoff, (void **)chains, FN_BURST, NULL);

	for (unsigned i = 0; i < n; i++) {
		fn_reasm_taken(q->fn, chains[i]);
		fn_ipv4_input_reassembled(q, chains[i]);
	}
}
#endif

/*
 * One poll: receive a burst, run it through the stack, then the per-poll
 * work. A poll that received packets counts as busy from its start to the
 * next poll's start (the application's work between polls, under
 * fragnet_poll(), included); an empty poll, the spin or sleep after it,
 * and the time before the first poll do not count. busy_cycles against
 * wall time is the share of the lcore the traffic takes, whatever the idle
 * policy: the headroom left, and the capacity of a polling core measured
 * by a generator that cannot fill it.
 */
int fn_queue_poll(struct fn_queue *q)
{
	struct rte_mbuf *pkts[FN_BURST];
	uint64_t now;
	uint16_t n;

	now = rte_get_tsc_cycles();
	if (q->polled_packets)
		q->stats.busy_cycles += now - q->clk.now;
	q->clk.now = now;
	fn_filter_burst_begin(&q->filter);
	n = rx_burst(q, pkts, FN_BURST);
	q->polled_packets = n > 0;
	fn_eth_input_burst(q, pkts, n);
#if FN_WITH_FRAG
	if (q->handoff != NULL && unlikely(!rte_ring_empty(q->handoff)))
		drain_handoff(q);
#endif
	fn_rx_done_flush(q);
	if (unlikely(q->clk.now >= q->next_timer))
		timers(q);
	if (q->n_tx)
		fn_tx_flush(q);
	return n;
}

/* Nothing arrived: spin a while (cheap, keeps latency; not under
 * FRAGNET_IDLE_SLEEP, which starts where the spin ends), then sleep with a
 * growing interval so an idle queue costs almost no CPU. */
static void idle(struct fn_queue *q, unsigned spin)
{
	unsigned n = ++q->idle_polls, shift;

	if (n < spin) {
		rte_pause();
		return;
	}
	shift = RTE_MIN(n - spin, 7u);
	fn_filter_queue_offline(&q->filter);   /* do not hold old rules asleep */
	rte_delay_us_sleep(RTE_MIN(IDLE_MAX_US, IDLE_MIN_US << shift));
}

void fn_queue_loop(struct fn_queue *q)
{
	bool busy = q->fn->cfg.idle == FRAGNET_IDLE_BUSY;
	unsigned spin = q->fn->cfg.idle == FRAGNET_IDLE_SLEEP ? 1 : IDLE_SPIN;

	while (!__atomic_load_n(&q->fn->stop, __ATOMIC_RELAXED)) {
		if (fn_queue_poll(q) > 0 || busy)
			q->idle_polls = 0;
		else
			idle(q, spin);
	}
	fn_filter_queue_offline(&q->filter);
}
