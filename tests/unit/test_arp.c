/* SPDX-License-Identifier: BSD-3-Clause */
/* ARP: answering, learning, resolving with retries, and malformed input. */
#include <string.h>

#include <rte_arp.h>

#include "unit.h"
#include "stack/arp.h"
#include "stack/eth.h"
#include "stack/neigh.h"
#include "stack/udp.h"

#define OTHER RTE_BE32(RTE_IPV4(10, 0, 0, 5))
static const struct rte_ether_addr other_mac = { .addr_bytes = { 2, 5, 5, 5, 5, 5 } };

static size_t arp_frame(uint8_t *buf, uint16_t op, const struct rte_ether_addr *sha,
			uint32_t sip, uint32_t tip)
{
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)buf;
	struct rte_arp_hdr *arp = (struct rte_arp_hdr *)(eth + 1);

	memset(buf, 0, 60);
	memset(eth->dst_addr.addr_bytes, 0xff, 6);
	eth->src_addr = *sha;
	eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_ARP);
	arp->arp_hardware = RTE_BE16(RTE_ARP_HRD_ETHER);
	arp->arp_protocol = RTE_BE16(RTE_ETHER_TYPE_IPV4);
	arp->arp_hlen = 6;
	arp->arp_plen = 4;
	arp->arp_opcode = rte_cpu_to_be_16(op);
	arp->arp_data.arp_sha = *sha;
	arp->arp_data.arp_sip = sip;
	arp->arp_data.arp_tip = tip;
	return 60;   /* minimum frame, padded */
}

static const struct rte_arp_hdr *arp_of(struct rte_mbuf *m)
{
	return rte_pktmbuf_mtod_offset(m, const struct rte_arp_hdr *, 14);
}

static void test_request_answered_and_learned(void **state)
{
	struct fragnet *fn = h_fn(state);
	struct fn_queue *q = fn->queues[0];
	struct rte_ether_addr mac;
	const struct rte_arp_hdr *a;
	struct rte_mbuf *m;
	uint8_t buf[64];

	fn_eth_input(q, h_frame(fn, buf, arp_frame(buf, RTE_ARP_OP_REQUEST, &h_peer_mac,
						  H_PEER, H_ADDR)));
	assert_int_equal(h_tx_count(q), 1);
	m = h_tx_take(q, 0);
	a = arp_of(m);
	assert_int_equal(a->arp_opcode, RTE_BE16(RTE_ARP_OP_REPLY));
	assert_true(rte_is_same_ether_addr(&a->arp_data.arp_sha, &h_mac));
	assert_int_equal(a->arp_data.arp_sip, H_ADDR);
	assert_true(rte_is_same_ether_addr(&a->arp_data.arp_tha, &h_peer_mac));
	assert_int_equal(a->arp_data.arp_tip, H_PEER);
	assert_true(rte_is_same_ether_addr(
		&rte_pktmbuf_mtod(m, struct rte_ether_hdr *)->dst_addr, &h_peer_mac));
	rte_pktmbuf_free(m);
	assert_true(fn_neigh_lookup(fn->neigh, H_PEER, &mac));
	assert_true(rte_is_same_ether_addr(&mac, &h_peer_mac));
}

static void test_not_ours_and_gratuitous(void **state)
{
	struct fragnet *fn = h_fn(state);
	struct fn_queue *q = fn->queues[0];
	struct rte_ether_addr mac;
	uint8_t buf[64];

	/* A request for someone else teaches nothing and earns no answer. */
	fn_eth_input(q, h_frame(fn, buf, arp_frame(buf, RTE_ARP_OP_REQUEST, &other_mac,
						  OTHER, H_PEER)));
	assert_int_equal(h_tx_count(q), 0);
	assert_int_equal(q->stats.drops[FRAGNET_DROP_ARP_NOT_OURS], 1);
	assert_false(fn_neigh_lookup(fn->neigh, OTHER, &mac));
	/* Gratuitous ARP updates a neighbour we know. */
	h_knows(fn, H_PEER, &h_peer_mac);
	fn_neigh_update(fn->neigh, OTHER, &h_peer_mac, FN_NEIGH_F_CREATE | FN_NEIGH_F_CONFIRM,
			q->clk.now);
	fn_eth_input(q, h_frame(fn, buf, arp_frame(buf, RTE_ARP_OP_REQUEST, &other_mac,
						  OTHER, OTHER)));
	assert_true(fn_neigh_lookup(fn->neigh, OTHER, &mac));
	assert_true(rte_is_same_ether_addr(&mac, &other_mac));
}

static void test_malformed(void **state)
{
	struct fragnet *fn = h_fn(state);
	struct fn_queue *q = fn->queues[0];
	uint8_t buf[64];
	size_t full = arp_frame(buf, RTE_ARP_OP_REQUEST, &h_peer_mac, H_PEER, H_ADDR);
	static const struct { size_t off; uint8_t v; } bad[] = {
		{ 14 + 1, 6 },      /* hardware type 6 */
		{ 14 + 3, 0xdd },   /* protocol */
		{ 14 + 4, 8 },      /* hlen */
		{ 14 + 5, 16 },     /* plen */
		{ 14 + 7, 9 },      /* opcode */
		{ 14 + 8, 0x01 },   /* multicast sender MAC */
	};

	/* Truncated at every length that cuts the ARP body. */
	for (size_t n = 14; n < 14 + sizeof(struct rte_arp_hdr); n++)
		fn_eth_input(q, h_frame(fn, buf, n));
	assert_int_equal(q->stats.drops[FRAGNET_DROP_ARP_MALFORMED], sizeof(struct rte_arp_hdr));
	for (unsigned i = 0; i < RTE_DIM(bad); i++) {
		uint8_t copy[64];

		memcpy(copy, buf, full);
		copy[bad[i].off] = bad[i].v;
		fn_eth_input(q, h_frame(fn, copy, full));
	}
	assert_int_equal(q->stats.drops[FRAGNET_DROP_ARP_MALFORMED],
			 sizeof(struct rte_arp_hdr) + RTE_DIM(bad));
	assert_int_equal(h_tx_count(q), 0);
}

static void test_resolution(void **state)
{
	struct fragnet *fn = h_fn(state);
	struct fn_queue *q = fn->queues[0];
	const struct rte_arp_hdr *a;
	struct rte_mbuf *m;
	uint8_t buf[64];

	assert_int_equal(fn_udp_send(q, RTE_BE16(7), OTHER, RTE_BE16(9), "p1", 2), 0);
	assert_int_equal(fn_udp_send(q, RTE_BE16(7), OTHER, RTE_BE16(9), "p2", 2), 0);
	/* One request, two packets parked. */
	assert_int_equal(h_tx_count(q), 1);
	m = h_tx_take(q, 0);
	a = arp_of(m);
	assert_int_equal(a->arp_opcode, RTE_BE16(RTE_ARP_OP_REQUEST));
	assert_int_equal(a->arp_data.arp_tip, OTHER);
	assert_true(rte_is_broadcast_ether_addr(
		&rte_pktmbuf_mtod(m, struct rte_ether_hdr *)->dst_addr));
	rte_pktmbuf_free(m);
	assert_int_equal(q->arp.n, 2);

	/* The reply releases both, in order, to the right MAC. */
	fn_eth_input(q, h_frame(fn, buf, arp_frame(buf, RTE_ARP_OP_REPLY, &other_mac,
						  OTHER, H_ADDR)));
	assert_int_equal(h_tx_count(q), 2);
	for (unsigned i = 0; i < 2; i++) {
		m = h_tx_take(q, 0);
		assert_true(rte_is_same_ether_addr(
			&rte_pktmbuf_mtod(m, struct rte_ether_hdr *)->dst_addr, &other_mac));
		assert_int_equal(rte_pktmbuf_mtod(m, uint8_t *)[42 + 1], i == 0 ? '1' : '2');
		rte_pktmbuf_free(m);
	}
	assert_int_equal(q->arp.n, 0);
	assert_int_equal(q->arp.n_req, 0);
}

static void test_retries_then_give_up(void **state)
{
	struct fragnet *fn = h_fn(state);
	struct fn_queue *q = fn->queues[0];

	/* Off-link: resolve the gateway. */
	assert_int_equal(fn_udp_send(q, RTE_BE16(7), H_FAR, RTE_BE16(9), "x", 1), 0);
	assert_int_equal(arp_of(q->tx[0])->arp_data.arp_tip, H_GW);
	h_tx_clear(q);
	for (unsigned i = 1; i < FN_ARP_RETRIES; i++) {
		fn_arp_service(q);                 /* too early: nothing */
		assert_int_equal(h_tx_count(q), 0);
		q->clk.now += q->clk.hz;           /* a second later: ask again */
		fn_arp_service(q);
		assert_int_equal(h_tx_count(q), 1);
		h_tx_clear(q);
	}
	q->clk.now += q->clk.hz;
	fn_arp_service(q);
	assert_int_equal(h_tx_count(q), 0);
	assert_int_equal(q->arp.n, 0);
	assert_int_equal(q->stats.drops[FRAGNET_DROP_ARP_UNRESOLVED], 1);
}

/* A reply that lands on another queue still resolves this queue's packets. */
static void test_reply_on_other_queue(void **state)
{
	struct fragnet *fn = h_fn(state);
	uint8_t buf[64];

	assert_int_equal(fn_udp_send(fn->queues[1], RTE_BE16(7), OTHER, RTE_BE16(9), "x", 1), 0);
	h_tx_clear(fn->queues[1]);
	fn_eth_input(fn->queues[0], h_frame(fn, buf, arp_frame(buf, RTE_ARP_OP_REPLY,
							       &other_mac, OTHER, H_ADDR)));
	fn_arp_service(fn->queues[1]);
	assert_int_equal(h_tx_count(fn->queues[1]), 1);
}

static void test_parking_is_bounded(void **state)
{
	struct fragnet *fn = h_fn(state);
	struct fn_queue *q = fn->queues[0];

	for (unsigned i = 0; i < FN_ARP_WAIT + 10; i++)
		fn_udp_send(q, RTE_BE16(7), OTHER, RTE_BE16(9), "x", 1);
	assert_int_equal(q->arp.n, FN_ARP_WAIT);
	assert_int_equal(q->stats.drops[FRAGNET_DROP_ARP_UNRESOLVED], 10);
	for (unsigned i = 0; i < FN_ARP_REQUESTS + 3; i++)
		fn_udp_send(q, RTE_BE16(7), rte_cpu_to_be_32(RTE_IPV4(10, 0, 0, 100 + i)),
			    RTE_BE16(9), "x", 1);
	assert_int_equal(q->arp.n_req, FN_ARP_REQUESTS);
}

static const struct rte_ether_addr gw_mac = { .addr_bytes = { 2, 0xfe, 0xfe, 0xfe, 0xfe, 0xfe } };

/* Queue 0 sends a datagram to dst, asks for nexthop, and nexthop answers
 * with mac: the datagram leaves to mac. */
static void send_resolved(struct fragnet *fn, uint32_t dst, uint32_t nexthop,
			  const struct rte_ether_addr *mac)
{
	struct fn_queue *q = fn->queues[0];
	uint8_t buf[64];
	struct rte_mbuf *m;

	assert_int_equal(fn_udp_send(q, RTE_BE16(7), dst, RTE_BE16(9), "x", 1), 0);
	assert_int_equal(h_tx_count(q), 1);
	assert_int_equal(arp_of(q->tx[0])->arp_data.arp_tip, nexthop);
	h_tx_clear(q);
	fn_eth_input(q, h_frame(fn, buf, arp_frame(buf, RTE_ARP_OP_REPLY, mac, nexthop, H_ADDR)));
	assert_int_equal(h_tx_count(q), 1);
	m = h_tx_take(q, 0);
	assert_true(rte_is_same_ether_addr(&rte_pktmbuf_mtod(m, struct rte_ether_hdr *)->dst_addr,
					   mac));
	rte_pktmbuf_free(m);
}

/*
 * Forged ARP cannot lock us out of our neighbours. Thousands of requests
 * for our address from made-up senders, off-link ones and on-link ones (on
 * a /16), are all answered, but the off-link ones teach nothing and the
 * on-link ones take only part of the table: the gateway can still be
 * resolved afterwards, what we resolved before is still there, and a new
 * client is answered.
 */
static void test_flood_leaves_room(void **state)
{
	const uint32_t client = RTE_BE32(RTE_IPV4(10, 0, 0, 7));
	struct fragnet *fn = h_fn(state);
	struct fn_queue *q = fn->queues[0];
	struct rte_ether_addr mac;
	uint8_t buf[64];
	struct rte_mbuf *m;

	fn->netmask = RTE_BE32(0xffff0000);
	fn->bcast = fn_subnet_bcast(fn->addr, fn->netmask);
	send_resolved(fn, OTHER, OTHER, &other_mac);
	for (unsigned i = 0; i < 4096; i++) {
		const struct rte_ether_addr forged = {
			.addr_bytes = { 2, 0xee, 0, i & 1, i >> 8, i & 0xff } };
		uint32_t sip = i & 1 ? RTE_IPV4(172, 16, i >> 8, i & 0xff)
				     : RTE_IPV4(10, 0, 1 + (i >> 8), i & 0xff);

		fn_eth_input(q, h_frame(fn, buf, arp_frame(buf, RTE_ARP_OP_REQUEST, &forged,
							  rte_cpu_to_be_32(sip), H_ADDR)));
		assert_int_equal(h_tx_count(q), 1);   /* answered */
		h_tx_clear(q);
	}
	/* the gateway (H_FAR is off-link) */
	send_resolved(fn, H_FAR, H_GW, &gw_mac);
	/* resolved before the flood: no new request */
	assert_int_equal(fn_udp_send(q, RTE_BE16(7), OTHER, RTE_BE16(9), "y", 1), 0);
	assert_int_equal(h_tx_count(q), 1);
	m = h_tx_take(q, 0);
	assert_true(rte_is_same_ether_addr(&rte_pktmbuf_mtod(m, struct rte_ether_hdr *)->dst_addr,
					   &other_mac));
	rte_pktmbuf_free(m);
	/* a new client asks for us and is answered */
	fn_eth_input(q, h_frame(fn, buf, arp_frame(buf, RTE_ARP_OP_REQUEST, &h_peer_mac,
						  client, H_ADDR)));
	h_tx_clear(q);
	assert_true(fn_neigh_lookup(fn->neigh, client, &mac));
	assert_true(rte_is_same_ether_addr(&mac, &h_peer_mac));
	/* off-link senders taught nothing; what was refused and evicted is counted */
	assert_false(fn_neigh_lookup(fn->neigh, RTE_BE32(RTE_IPV4(172, 16, 0, 1)), &mac));
	assert_int_equal(q->stats.drops[FRAGNET_DROP_NEIGH_REFUSED], 2048);
	assert_true(q->stats.drops[FRAGNET_DROP_NEIGH_EVICTED] > 0);
}

/* The ARP request in q's transmit queue at i, or NULL. */
static const struct rte_arp_hdr *request_at(struct fn_queue *q, unsigned i)
{
	const struct rte_ether_hdr *eth = rte_pktmbuf_mtod(q->tx[i], const struct rte_ether_hdr *);

	if (eth->ether_type != RTE_BE16(RTE_ETHER_TYPE_ARP))
		return NULL;
	return arp_of(q->tx[i]);
}

/* Send one datagram to OTHER; the frames that leave: the datagram, and a
 * probe when one is due. Returns the number of probes (unicast requests). */
static unsigned send_to_other(struct fn_queue *q)
{
	unsigned probes = 0;

	assert_int_equal(fn_udp_send(q, RTE_BE16(7), OTHER, RTE_BE16(9), "x", 1), 0);
	for (unsigned i = 0; i < h_tx_count(q); i++) {
		const struct rte_ether_hdr *eth = rte_pktmbuf_mtod(q->tx[i],
								   const struct rte_ether_hdr *);
		const struct rte_arp_hdr *a = request_at(q, i);

		assert_true(rte_is_same_ether_addr(&eth->dst_addr, &other_mac));
		if (a != NULL) {
			assert_int_equal(a->arp_opcode, RTE_BE16(RTE_ARP_OP_REQUEST));
			assert_int_equal(a->arp_data.arp_tip, OTHER);
			probes++;
		}
	}
	assert_int_equal(h_tx_count(q), 1 + probes);
	h_tx_clear(q);
	return probes;
}

/*
 * A neighbour is reachable for 30 s after it last confirmed its address,
 * then stale: still used, but a datagram to it also probes it (a unicast
 * request, at most one a second). An answer makes it reachable again; three
 * unanswered probes and it is forgotten, to be resolved from scratch.
 */
static void test_stale_neighbour_is_probed(void **state)
{
	struct fragnet *fn = h_fn(state);
	struct fn_queue *q = fn->queues[0];
	uint8_t buf[64];

	send_resolved(fn, OTHER, OTHER, &other_mac);
	q->clk.now += 29 * q->clk.hz;
	assert_int_equal(send_to_other(q), 0);
	q->clk.now += 2 * q->clk.hz;               /* 31 s: stale */
	assert_int_equal(send_to_other(q), 1);
	assert_int_equal(send_to_other(q), 0);     /* not again within the second */
	fn_eth_input(q, h_frame(fn, buf, arp_frame(buf, RTE_ARP_OP_REPLY, &other_mac,
						  OTHER, H_ADDR)));
	q->clk.now += 29 * q->clk.hz;
	assert_int_equal(send_to_other(q), 0);     /* reachable again */
	for (unsigned i = 0; i < 3; i++) {
		q->clk.now += 2 * q->clk.hz;
		assert_int_equal(send_to_other(q), 1);
	}
	q->clk.now += 2 * q->clk.hz;               /* three unanswered: forgotten */
	assert_int_equal(fn_udp_send(q, RTE_BE16(7), OTHER, RTE_BE16(9), "x", 1), 0);
	assert_int_equal(h_tx_count(q), 1);
	assert_non_null(request_at(q, 0));
	assert_true(rte_is_broadcast_ether_addr(
		&rte_pktmbuf_mtod(q->tx[0], struct rte_ether_hdr *)->dst_addr));
	assert_int_equal(q->arp.n, 1);             /* the datagram waits */
}

static void test_announce(void **state)
{
	struct fragnet *fn = h_fn(state);
	struct fn_queue *q = fn->queues[0];
	const struct rte_arp_hdr *a;

	fn_arp_announce(q);
	a = arp_of(q->tx[0]);
	assert_int_equal(a->arp_data.arp_sip, H_ADDR);
	assert_int_equal(a->arp_data.arp_tip, H_ADDR);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		H_TEST(test_request_answered_and_learned),
		H_TEST(test_not_ours_and_gratuitous),
		H_TEST(test_malformed),
		H_TEST(test_resolution),
		H_TEST(test_retries_then_give_up),
		H_TEST2(test_reply_on_other_queue),
		H_TEST(test_parking_is_bounded),
		H_TEST(test_announce),
		H_TEST(test_flood_leaves_room),
		H_TEST(test_stale_neighbour_is_probed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
