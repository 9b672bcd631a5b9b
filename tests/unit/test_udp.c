/* SPDX-License-Identifier: BSD-3-Clause */
/* UDP: bindings, receive validation, and send -> parse round trips. */
#include <string.h>

#include "unit.h"
#include "stack/eth.h"
#include "stack/udp.h"

static uint8_t payload[FRAGNET_MAX_DGRAM];

static void test_bind_rules(void **state)
{
	struct fragnet *fn = h_fn(state);
	struct h_rx rx = { 0 };

	assert_int_equal(fn_udp_bind(fn->udp, 0, h_record, &rx), -EINVAL);
	assert_int_equal(fn_udp_bind(fn->udp, RTE_BE16(7), NULL, &rx), -EINVAL);
	assert_int_equal(fn_udp_bind(fn->udp, RTE_BE16(7), h_record, &rx), 0);
	assert_int_equal(fn_udp_bind(fn->udp, RTE_BE16(7), h_record, &rx), -EADDRINUSE);
	assert_int_equal(fn_udp_unbind(fn->udp, RTE_BE16(7)), 0);
	assert_int_equal(fn_udp_unbind(fn->udp, RTE_BE16(7)), -ENOENT);
	for (unsigned i = 1; i <= FRAGNET_MAX_PORTS; i++)
		assert_int_equal(fn_udp_bind(fn->udp, rte_cpu_to_be_16(i), h_record, &rx), 0);
	assert_int_equal(fn_udp_bind(fn->udp, RTE_BE16(999), h_record, &rx), -ENOSPC);
	/* A freed slot is reused. */
	assert_int_equal(fn_udp_unbind(fn->udp, RTE_BE16(5)), 0);
	assert_int_equal(fn_udp_bind(fn->udp, RTE_BE16(999), h_record, &rx), 0);
}

static void test_receive(void **state)
{
	struct fragnet *fn = h_fn(state);
	struct fn_queue *q = fn->queues[0];
	struct h_rx rx = { 0 };

	assert_int_equal(fn_udp_bind(fn->udp, RTE_BE16(7), h_record, &rx), 0);
	fn_eth_input(q, h_udp_frame(fn, 4000, 7, "hello", 5));
	assert_int_equal(rx.n, 1);
	assert_int_equal(rx.last.len, 5);
	assert_memory_equal(rx.data, "hello", 5);
	assert_int_equal(rx.last.src_addr, H_PEER);
	assert_int_equal(rx.last.dst_addr, H_ADDR);
	assert_int_equal(rx.last.src_port, RTE_BE16(4000));
	assert_int_equal(rx.last.dst_port, RTE_BE16(7));
	assert_int_equal(q->stats.rx_datagrams, 1);
	assert_int_equal(h_drops(q), 0);
}

/* The fast path's cached lookup (rx_fast.c) follows every change: after
 * an unbind the port is closed, after a rebind the new callback gets it. */
static void test_lookup_follows_bindings(void **state)
{
	struct fragnet *fn = h_fn(state);
	struct fn_queue *q = fn->queues[0];
	struct h_rx a = { 0 }, b = { 0 };

	assert_int_equal(fn_udp_bind(fn->udp, RTE_BE16(7), h_record, &a), 0);
	fn_eth_input(q, h_udp_frame(fn, 4000, 7, "x", 1));
	fn_eth_input(q, h_udp_frame(fn, 4000, 7, "x", 1));
	assert_int_equal(a.n, 2);
	assert_int_equal(fn_udp_unbind(fn->udp, RTE_BE16(7)), 0);
	fn_eth_input(q, h_udp_frame(fn, 4000, 7, "x", 1));
	assert_int_equal(a.n, 2);
	assert_int_equal(q->stats.drops[FRAGNET_DROP_UDP_NO_PORT], 1);
	/* another port in between, then 7 again with another argument */
	assert_int_equal(fn_udp_bind(fn->udp, RTE_BE16(8), h_record, &a), 0);
	fn_eth_input(q, h_udp_frame(fn, 4000, 8, "x", 1));
	assert_int_equal(a.n, 3);
	assert_int_equal(fn_udp_bind(fn->udp, RTE_BE16(7), h_record, &b), 0);
	fn_eth_input(q, h_udp_frame(fn, 4000, 7, "x", 1));
	assert_int_equal(a.n, 3);
	assert_int_equal(b.n, 1);
	/* port 8 rebound while it is the cached one */
	fn_eth_input(q, h_udp_frame(fn, 4000, 8, "x", 1));
	assert_int_equal(a.n, 4);
	assert_int_equal(fn_udp_unbind(fn->udp, RTE_BE16(8)), 0);
	assert_int_equal(fn_udp_bind(fn->udp, RTE_BE16(8), h_record, &b), 0);
	fn_eth_input(q, h_udp_frame(fn, 4000, 8, "x", 1));
	assert_int_equal(a.n, 4);
	assert_int_equal(b.n, 2);
	h_tx_clear(q);   /* the closed port's ICMP error */
}

/* Every truncation of a valid frame is dropped, counted, and never delivered. */
static void test_truncated_at_every_length(void **state)
{
	struct fragnet *fn = h_fn(state);
	struct fn_queue *q = fn->queues[0];
	struct h_rx rx = { 0 };
	struct rte_mbuf *full = h_udp_frame(fn, 4000, 7, "0123456789abcdef", 16);
	uint8_t bytes[128];
	uint32_t len = full->data_len;

	memcpy(bytes, rte_pktmbuf_mtod(full, void *), len);
	rte_pktmbuf_free(full);
	assert_int_equal(fn_udp_bind(fn->udp, RTE_BE16(7), h_record, &rx), 0);
	for (uint32_t n = 0; n < len; n++) {
		uint64_t before = h_drops(q);

		fn_eth_input(q, h_frame(fn, bytes, n));
		assert_int_equal(rx.n, 0);
		assert_int_equal(h_drops(q), before + 1);
	}
	fn_eth_input(q, h_frame(fn, bytes, len));
	assert_int_equal(rx.n, 1);
}

static void corrupt_and_feed(struct fragnet *fn, size_t off, uint8_t value, bool fix_ip_csum)
{
	uint8_t buf[128];
	size_t n = tp_udp(buf, H_PEER, H_ADDR, 4000, 7, "abcd", 4, NULL);

	buf[off] = value;
	if (fix_ip_csum)
		tp_ipv4_fix(buf);
	fn_eth_input(fn->queues[0], h_ip_frame(fn, buf, n));
}

static void test_bad_udp(void **state)
{
	struct fragnet *fn = h_fn(state);
	struct fn_queue *q = fn->queues[0];
	struct h_rx rx = { 0 };
	uint8_t buf[128];
	size_t n;

	assert_int_equal(fn_udp_bind(fn->udp, RTE_BE16(7), h_record, &rx), 0);
	corrupt_and_feed(fn, 20 + 8, 'X', false);         /* payload: checksum fails */
	assert_int_equal(q->stats.drops[FRAGNET_DROP_UDP_CSUM], 1);
	corrupt_and_feed(fn, 20 + 5, 7, false);           /* UDP length 7 < 8 */
	corrupt_and_feed(fn, 20 + 5, 40, false);          /* UDP length > IP payload */
	assert_int_equal(q->stats.drops[FRAGNET_DROP_UDP_MALFORMED], 2);
	assert_int_equal(rx.n, 0);

	/* No checksum (0) is accepted. */
	n = tp_udp(buf, H_PEER, H_ADDR, 4000, 7, "abcd", 4, NULL);
	buf[26] = buf[27] = 0;
	fn_eth_input(q, h_ip_frame(fn, buf, n));
	assert_int_equal(rx.n, 1);

	/* A UDP length shorter than the IP payload: the datagram ends there. */
	n = tp_udp(buf, H_PEER, H_ADDR, 4000, 7, "abcd", 4, NULL);
	buf[25] = 8 + 2;
	buf[26] = buf[27] = 0;
	fn_eth_input(q, h_ip_frame(fn, buf, n));
	assert_int_equal(rx.n, 2);
	assert_int_equal(rx.last.len, 2);
}

static void test_closed_port(void **state)
{
	struct fragnet *fn = h_fn(state);
	struct fn_queue *q = fn->queues[0];

	fn_eth_input(q, h_udp_frame(fn, 4000, 9, "x", 1));
	assert_int_equal(q->stats.drops[FRAGNET_DROP_UDP_NO_PORT], 1);
#if FN_WITH_ICMP
	/* Port unreachable goes back to the peer (learned from the frame). */
	assert_int_equal(h_tx_count(q), 1);
	{
		struct rte_mbuf *m = h_tx_take(q, 0);
		const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);

		assert_int_equal(p[14 + 9], IPPROTO_ICMP);
		assert_int_equal(p[34], 3);   /* destination unreachable */
		assert_int_equal(p[35], 3);   /* port */
		rte_pktmbuf_free(m);
	}
#endif
}

/* What we send, our own parser reads back identically, whatever the size. */
static void test_send_round_trip(void **state)
{
	static const size_t sizes[] = { 0, 1, 1471, 1472, 1473, 3000, 8000, 65507 };
	struct fragnet *a = h_fn(state), *b = h_peer(state);
	struct h_rx rx = { 0 };

	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = i * 7 + (i >> 8);
	h_knows(a, H_PEER, &h_peer_mac);
	assert_int_equal(fn_udp_bind(b->udp, RTE_BE16(9000), h_record, &rx), 0);
	for (unsigned i = 0; i < RTE_DIM(sizes); i++) {
		size_t len = sizes[i];
		int rc = fn_udp_send(a->queues[0], RTE_BE16(7), H_PEER, RTE_BE16(9000),
				     payload, len);

		if (!FN_WITH_FRAG && len > 1472) {
			assert_int_equal(rc, -EMSGSIZE);
			continue;
		}
		assert_int_equal(rc, 0);
		assert_int_equal(h_tx_count(a->queues[0]), len <= 1472 ? 1 : (len + 8 + 1479) / 1480);
		h_deliver(a->queues[0], b->queues[0]);
		assert_int_equal(rx.n, i + 1);
		assert_int_equal(rx.last.len, len);
		assert_memory_equal(rx.data, payload, len);
		assert_int_equal(rx.last.src_port, RTE_BE16(7));
		assert_int_equal(h_drops(b->queues[0]), 0);
	}
	assert_int_equal(fn_udp_send(a->queues[0], RTE_BE16(7), H_PEER, RTE_BE16(9000),
				     payload, FRAGNET_MAX_DGRAM + 1), -EMSGSIZE);
}

static void test_no_route(void **state)
{
	struct fragnet *fn = h_fn(state);

	fn->gateway = 0;
	assert_int_equal(fn_udp_send(fn->queues[0], RTE_BE16(7), H_FAR, RTE_BE16(9), "x", 1),
			 -EHOSTUNREACH);
	assert_int_equal(fn->queues[0]->stats.drops[FRAGNET_DROP_NO_ROUTE], 1);
	assert_int_equal(fn_udp_send(fn->queues[0], RTE_BE16(7), H_ADDR, RTE_BE16(9), "x", 1),
			 -EHOSTUNREACH);
}

/* Sending to a broadcast address reaches every host on the LAN: refused
 * unless the application opted in (FRAGNET_F_BROADCAST). */
static void test_broadcast_needs_opt_in(void **state)
{
	static const uint32_t dsts[] = { RTE_BE32(0xffffffff), RTE_BE32(RTE_IPV4(10, 0, 0, 255)) };
	struct fragnet *fn = h_fn(state);
	struct fn_queue *q = fn->queues[0];
	struct rte_mbuf *m;
	void *data;

	for (unsigned i = 0; i < RTE_DIM(dsts); i++) {
		assert_int_equal(fn_udp_send(q, RTE_BE16(7), dsts[i], RTE_BE16(9), "x", 1), -EACCES);
		assert_int_equal(fn_udp_send(q, RTE_BE16(7), dsts[i], RTE_BE16(9), payload, 3000),
				 -EACCES);
		m = rte_pktmbuf_alloc(fn->pool);
		data = rte_pktmbuf_append(m, 1);
		memcpy(data, "x", 1);
		assert_int_equal(fn_udp_send_mbuf(q, m, RTE_BE16(7), dsts[i], RTE_BE16(9)), -EACCES);
	}
	assert_int_equal(h_tx_count(q), 0);

	fn->cfg.flags |= FRAGNET_F_BROADCAST;
	for (unsigned i = 0; i < RTE_DIM(dsts); i++) {
		assert_int_equal(fn_udp_send(q, RTE_BE16(7), dsts[i], RTE_BE16(9), "x", 1), 0);
		m = h_tx_take(q, 0);
		assert_true(rte_is_broadcast_ether_addr(
			&rte_pktmbuf_mtod(m, struct rte_ether_hdr *)->dst_addr));
		rte_pktmbuf_free(m);
	}
}

/* A callback that sends what it got, `times` times, from port 7 to `to`
 * (0: back to the sender) port `to_port` (0: the sender's), then reads the
 * payload again. */
struct sender {
	uint32_t to;
	uint16_t to_port;
	unsigned times;
	uint8_t seen[64];
	size_t len;
	bool payload_kept;
};

static void send_back(struct fragnet_queue *fq, const struct fragnet_dgram *d, void *arg)
{
	struct fn_queue *q = (struct fn_queue *)fq;
	struct sender *s = arg;

	memcpy(s->seen, d->data, d->len);
	s->len = d->len;
	for (unsigned i = 0; i < s->times; i++)
		assert_int_equal(fn_udp_send(q, d->dst_port, s->to ? s->to : d->src_addr,
					     s->to_port ? s->to_port : d->src_port,
					     d->data, d->len), 0);
	s->payload_kept = memcmp(d->data, s->seen, d->len) == 0;
}

/*
 * A send of the payload being delivered goes out in the request's own frame,
 * once; the receiver's stack (which checks both checksums in software) takes
 * what comes out, whether the request came to our address or to the subnet's
 * broadcast (the UDP checksum then covers another source address), whether
 * it goes back to the sender or elsewhere, and whether the request had a UDP
 * checksum or not (then it is computed whole).
 */
static void test_send_in_request_frame(void **state)
{
	static const struct {
		uint32_t dst;
		bool no_csum;
		uint16_t to_port;
		unsigned times;
	} cases[] = {
		{ H_ADDR, false, 0, 1 },
		{ RTE_BE32(RTE_IPV4(10, 0, 0, 255)), false, 0, 1 },
		{ H_ADDR, false, RTE_BE16(4001), 1 },
		{ H_ADDR, true, 0, 1 },
		{ H_ADDR, false, 0, 2 },
	};
	static const struct tp_ip opt = { .id = 1234, .frag = TP_DF, .ttl = 5 };
	static const char msg[] = "echo me, and some more";
	struct fragnet *a = h_fn(state), *b = h_peer(state);
	struct fn_queue *q = a->queues[0];
	struct h_rx rx = { 0 };
	struct sender s = { 0 };
	unsigned expected = 0;

	h_knows(a, H_PEER, &h_peer_mac);
	assert_int_equal(fn_udp_bind(a->udp, RTE_BE16(7), send_back, &s), 0);
	assert_int_equal(fn_udp_bind(b->udp, RTE_BE16(4000), h_record, &rx), 0);
	assert_int_equal(fn_udp_bind(b->udp, RTE_BE16(4001), h_record, &rx), 0);
	for (unsigned i = 0; i < RTE_DIM(cases); i++) {
		uint8_t buf[128];
		size_t n = tp_udp(buf, H_PEER, cases[i].dst, 4000, 7, msg, 7 + i, &opt);
		struct rte_mbuf *req;

		if (cases[i].no_csum)
			memset(buf + TP_HDR + 6, 0, 2);
		req = h_ip_frame(a, buf, n);
		s.to_port = cases[i].to_port;
		s.times = cases[i].times;
		fn_eth_input(q, req);
		assert_true(s.payload_kept);
		assert_int_equal(h_tx_count(q), cases[i].times);
		assert_ptr_equal(q->tx[0], req);
		if (cases[i].times > 1)
			assert_ptr_not_equal(q->tx[1], req);
		expected += cases[i].times;
		h_deliver(q, b->queues[0]);
		fn_rx_done_flush(q);   /* the receive path's reference, at the burst's end */
		assert_int_equal(rx.n, expected);
		assert_int_equal(h_drops(b->queues[0]), 0);
		assert_int_equal(rx.last.src_addr, H_ADDR);
		assert_int_equal(rx.last.src_port, RTE_BE16(7));
		assert_int_equal(rx.last.dst_port, cases[i].to_port ? cases[i].to_port
								    : RTE_BE16(4000));
		assert_int_equal(rx.last.len, 7 + i);
		assert_memory_equal(rx.data, msg, 7 + i);
	}
}

/*
 * Echoes to destinations that take turns, on the link and behind the
 * gateway: each reply goes to its own next hop's MAC, whichever
 * destination the queue's next hop cache last saw routed to it.
 */
static void test_echo_follows_next_hop(void **state)
{
	static const struct rte_ether_addr gw_mac = { { 0x02, 0, 0, 0, 0, 0xfe } };
	static const struct rte_ether_addr peer2_mac = { { 0x02, 0, 0, 0, 0, 0x03 } };
	static const uint32_t peer2 = RTE_BE32(RTE_IPV4(10, 0, 0, 3));
	static const uint32_t far2 = RTE_BE32(RTE_IPV4(198, 51, 100, 7));
	const struct {
		uint32_t src;
		const struct rte_ether_addr *mac;
	} seq[] = {
		{ H_PEER, &h_peer_mac }, { H_PEER, &h_peer_mac }, { H_FAR, &gw_mac },
		{ H_FAR, &gw_mac }, { far2, &gw_mac }, { H_FAR, &gw_mac },
		{ peer2, &peer2_mac }, { H_PEER, &h_peer_mac }, { peer2, &peer2_mac },
		{ H_FAR, &gw_mac }, { H_PEER, &h_peer_mac },
	};
	struct fragnet *fn = h_fn(state);
	struct fn_queue *q = fn->queues[0];
	struct sender s = { .times = 1 };

	h_knows(fn, H_PEER, &h_peer_mac);
	h_knows(fn, H_GW, &gw_mac);
	h_knows(fn, peer2, &peer2_mac);
	assert_int_equal(fn_udp_bind(fn->udp, RTE_BE16(7), send_back, &s), 0);
	for (unsigned i = 0; i < RTE_DIM(seq); i++) {
		uint8_t buf[128];
		size_t n = tp_udp(buf, seq[i].src, H_ADDR, 4000, 7, "ping", 4, NULL);
		const struct rte_ether_hdr *eth;
		const struct rte_ipv4_hdr *ip;
		struct rte_mbuf *m;

		fn_eth_input(q, h_ip_frame(fn, buf, n));
		assert_int_equal(h_tx_count(q), 1);
		m = h_tx_take(q, 0);
		eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
		ip = (const struct rte_ipv4_hdr *)(eth + 1);
		assert_memory_equal(&eth->dst_addr, seq[i].mac, RTE_ETHER_ADDR_LEN);
		assert_memory_equal(&eth->src_addr, &h_mac, RTE_ETHER_ADDR_LEN);
		assert_int_equal(ip->dst_addr, seq[i].src);
		assert_true(tp_checksums_ok((const uint8_t *)ip, m->pkt_len - sizeof(*eth)));
		rte_pktmbuf_free(m);
		fn_rx_done_flush(q);
	}
	assert_int_equal(h_drops(q), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		H_TEST(test_bind_rules),
		H_TEST(test_receive),
		H_TEST(test_lookup_follows_bindings),
		H_TEST(test_truncated_at_every_length),
		H_TEST(test_bad_udp),
		H_TEST(test_closed_port),
		H_TEST_PEER(test_send_round_trip),
		H_TEST(test_no_route),
		H_TEST(test_broadcast_needs_opt_in),
		H_TEST_PEER(test_send_in_request_frame),
		H_TEST(test_echo_follows_next_hop),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
