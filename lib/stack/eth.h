/* SPDX-License-Identifier: BSD-3-Clause */
/* Ethernet: receive demux on ethertype, and framing on transmit. */
#ifndef FN_ETH_H
#define FN_ETH_H

#include <stdint.h>

#include <rte_ether.h>
#include <rte_mbuf.h>

#include "runtime/runtime.h"

/* Consume one received frame (m->data at the Ethernet header): the fast
 * path for the common unicast UDP datagram (rx_fast.c), which hands any
 * other frame to the careful path below. The poll loop calls this one. */
void fn_eth_input(struct fn_queue *q, struct rte_mbuf *m);

/* fn_eth_input() on a received burst, counting it (rx packets and bytes):
 * what the poll loop calls. */
void fn_eth_input_burst(struct fn_queue *q, struct rte_mbuf **pkts, uint16_t n);

/* The same for any frame, every check in its protocol's module (eth.c,
 * ipv4.c, udp.c): the outcome fn_eth_input() must reproduce. */
void fn_eth_input_careful(struct fn_queue *q, struct rte_mbuf *m);

/* Prepend an Ethernet header to m (data at the L3 header) and queue it.
 * Inline: every frame sent comes here. */
static inline void fn_eth_output(struct fn_queue *q, struct rte_mbuf *m,
				 const struct rte_ether_addr *dst, uint16_t ether_type)
{
	struct rte_ether_hdr *eth;

	eth = (struct rte_ether_hdr *)rte_pktmbuf_prepend(m, sizeof(*eth));
	if (unlikely(eth == NULL)) {   /* every sender reserves headroom */
		FN_DROP(&q->stats, NO_MBUF);
		rte_pktmbuf_free(m);
		return;
	}
	rte_ether_addr_copy(dst, &eth->dst_addr);
	rte_ether_addr_copy(&q->mac, &eth->src_addr);
	eth->ether_type = rte_cpu_to_be_16(ether_type);
	m->l2_len = sizeof(*eth);
	fn_tx(q, m);
}

#endif /* FN_ETH_H */
