/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Ports whose peer can leave while we poll them: memif. When the process at
 * the other end goes away, DPDK 22.11's memif PMD unmaps the shared rings
 * and buffers from the EAL interrupt thread at once. Its bursts check that
 * the peer is connected only when they start, so an lcore inside a burst
 * (preempted there, typically) touches memory that is gone: SIGSEGV.
 *
 * Two guards. The queue loop watches the port's link (down when the peer
 * leaves, up when one connects) and does not poll a port whose link is
 * down. And a burst on such a port runs under a fault guard: a fault inside
 * it while the port's link is down is the PMD reading the unmapped rings,
 * so the burst is abandoned as if it had returned nothing. Any other fault
 * is left to whoever handled it before (the default: the process dies).
 */
#ifndef FN_PEER_GONE_H
#define FN_PEER_GONE_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_mbuf.h>

/* Whether port_id's peer can vanish under a burst (a memif port). */
bool fn_peer_gone_port(uint16_t port_id);

/* Install the fault guard (once per process); 0 or -errno. */
int fn_peer_gone_init(void);

/* rte_eth_rx_burst under the guard; *fault is set when the burst was
 * abandoned (then the frames it had received whole are returned; the one
 * it was copying is lost). */
uint16_t fn_peer_gone_rx(uint16_t port_id, uint16_t queue, struct rte_mbuf **pkts,
			 uint16_t n, bool *fault);

/*
 * Transmitting under the guard needs to know, after a fault, which frames
 * the PMD took: it frees each one once it has copied it, in order. During
 * a burst the frames' pool is a stand-in, a mempool with no objects: what
 * the PMD frees into it lands in its cache (or, past that, in a put that
 * only counts), so what the PMD freed is known without a reference taken
 * on each frame (the PMD's free of a frame with two is an atomic
 * decrement). After the burst the frames point at their own pool
 * again and the ones freed go back to it in one bulk put. Frames this
 * cannot follow (another pool, a count above one, an indirect buffer) are
 * sent with a reference each instead.
 */
struct fn_tx_count {
	struct rte_mempool *home;       /* the pool the frames come from */
	struct rte_mempool *stand_in;   /* their pool during a burst */
	unsigned freed;                 /* frames the PMD freed past its cache */
};

/* One per queue (a burst's count is the queue's); name is the stand-in's.
 * 0 or -errno; after a failure fn_peer_gone_tx() takes a reference per
 * frame instead. */
int fn_tx_count_init(struct fn_tx_count *c, struct rte_mempool *home, const char *name);
/* Also after a failed (or no) fn_tx_count_init() on a zeroed c. */
void fn_tx_count_fini(struct fn_tx_count *c);

/* rte_eth_tx_burst under the guard; returns the frames the device took,
 * the first ones of pkts, the rest are still the caller's. After a fault
 * (*fault set) what the PMD had taken counts as taken. */
uint16_t fn_peer_gone_tx(struct fn_tx_count *c, uint16_t port_id, uint16_t queue,
			 struct rte_mbuf **pkts, uint16_t n, bool *fault);

#endif /* FN_PEER_GONE_H */
