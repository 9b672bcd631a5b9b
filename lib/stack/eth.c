/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Ethernet. We accept frames to our MAC and to broadcast; multicast and
 * other hosts' unicast (promiscuous ports) are counted and dropped. This is
 * the careful path, for every frame the fast path (rx_fast.c) hands on.
 */
#include <rte_byteorder.h>

#include "arp.h"
#include "eth.h"
#include "ipv4.h"
#include "runtime/runtime.h"

void fn_eth_input_careful(struct fn_queue *q, struct rte_mbuf *m)
{
	const struct rte_ether_hdr *eth;
	uint8_t pkttype;

	if (unlikely(m->data_len < sizeof(*eth))) {
		FN_DROP(&q->stats, ETH_SHORT);
		goto drop;
	}
	eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	if (likely(rte_is_same_ether_addr(&eth->dst_addr, &q->mac))) {
		pkttype = FN_PKT_HOST;
	} else if (rte_is_broadcast_ether_addr(&eth->dst_addr)) {
		pkttype = FN_PKT_BROADCAST;
	} else {
		FN_DROP(&q->stats, ETH_DST);
		goto drop;
	}

	switch (eth->ether_type) {
	case RTE_BE16(RTE_ETHER_TYPE_IPV4):
		rte_pktmbuf_adj(m, sizeof(*eth));
		fn_ipv4_input(q, m, (uint8_t *)eth, pkttype);
		return;
#if FN_WITH_ARP
	case RTE_BE16(RTE_ETHER_TYPE_ARP):
		fn_arp_input(q, m);
		return;
#endif
	default:
		FN_DROP(&q->stats, ETH_TYPE);
		goto drop;
	}
drop:
	fn_rx_done(q, m);
}
