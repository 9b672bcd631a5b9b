/* SPDX-License-Identifier: BSD-3-Clause */
/* Ethernet: which frames we take, and the header we put on what we send. */
#include <string.h>

#include "unit.h"
#include "stack/eth.h"
#include "stack/udp.h"

static struct rte_mbuf *frame_to(struct fragnet *fn, const uint8_t dst[6], uint16_t type)
{
	struct rte_mbuf *m = h_udp_frame(fn, 4000, 7, "e", 1);
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);

	memcpy(eth->dst_addr.addr_bytes, dst, 6);
	eth->ether_type = rte_cpu_to_be_16(type);
	return m;
}

static void test_accept_and_drop(void **state)
{
	static const uint8_t other[6] = { 2, 9, 9, 9, 9, 9 };
	static const uint8_t mcast[6] = { 0x01, 0x00, 0x5e, 0, 0, 1 };
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	struct fragnet *fn = h_fn(state);
	struct fn_queue *q = fn->queues[0];
	struct h_rx rx = { 0 };

	assert_int_equal(fn_udp_bind(fn->udp, RTE_BE16(7), h_record, &rx), 0);
	fn_eth_input(q, frame_to(fn, h_mac.addr_bytes, RTE_ETHER_TYPE_IPV4));
	fn_eth_input(q, frame_to(fn, bcast, RTE_ETHER_TYPE_IPV4));
	assert_int_equal(rx.n, 2);
	fn_eth_input(q, frame_to(fn, other, RTE_ETHER_TYPE_IPV4));
	fn_eth_input(q, frame_to(fn, mcast, RTE_ETHER_TYPE_IPV4));
	assert_int_equal(q->stats.drops[FRAGNET_DROP_ETH_DST], 2);
	fn_eth_input(q, frame_to(fn, h_mac.addr_bytes, RTE_ETHER_TYPE_IPV6));
	fn_eth_input(q, frame_to(fn, h_mac.addr_bytes, RTE_ETHER_TYPE_VLAN));
	assert_int_equal(q->stats.drops[FRAGNET_DROP_ETH_TYPE], 2);
	assert_int_equal(rx.n, 2);
}

static void test_output_header(void **state)
{
	struct fragnet *fn = h_fn(state);
	struct fn_queue *q = fn->queues[0];
	const struct rte_ether_hdr *eth;
	struct rte_mbuf *m;

	h_knows(fn, H_PEER, &h_peer_mac);
	assert_int_equal(fn_udp_send(q, RTE_BE16(7), H_PEER, RTE_BE16(9), "z", 1), 0);
	m = h_tx_take(q, 0);
	eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	assert_true(rte_is_same_ether_addr(&eth->dst_addr, &h_peer_mac));
	assert_true(rte_is_same_ether_addr(&eth->src_addr, &h_mac));
	assert_int_equal(eth->ether_type, RTE_BE16(RTE_ETHER_TYPE_IPV4));
	assert_int_equal(m->pkt_len, 14 + 20 + 8 + 1);
	rte_pktmbuf_free(m);
	/* A broadcast (for an application that asked for them) needs no neighbour. */
	fn->cfg.flags |= FRAGNET_F_BROADCAST;
	assert_int_equal(fn_udp_send(q, RTE_BE16(7), RTE_BE32(0xffffffff), RTE_BE16(9), "z", 1), 0);
	m = h_tx_take(q, 0);
	eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	assert_true(rte_is_broadcast_ether_addr(&eth->dst_addr));
	rte_pktmbuf_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		H_TEST(test_accept_and_drop),
		H_TEST(test_output_header),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
