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

/* rte_eth_tx_burst under the guard; returns the frames the device took,
 * the first ones of pkts, the rest are still the caller's. After a fault
 * (*fault set) what the PMD had taken counts as taken. */
uint16_t fn_peer_gone_tx(uint16_t port_id, uint16_t queue, struct rte_mbuf **pkts,
			 uint16_t n, bool *fault);

#endif /* FN_PEER_GONE_H */
