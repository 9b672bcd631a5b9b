/* SPDX-License-Identifier: BSD-3-Clause */
/* IPv4: checksum vectors, header validation, broadcast and options handling. */
#include <string.h>

#include "unit.h"
#include "stack/eth.h"
#include "stack/ipv4.h"
#include "stack/neigh.h"
#include "stack/udp.h"
#if FN_WITH_FILTER
#include "filter/generation.h"
#include "images.h"
#endif

/* The classic example header (RFC 1071 style): checksum 0xb861. */
static void test_header_checksum_vector(void **state)
{
	uint8_t h[20] = { 0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
			  0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7 };
	uint16_t c;

	(void)state;
	c = rte_ipv4_cksum((const struct rte_ipv4_hdr *)h);
	memcpy(h + 10, &c, 2);
	assert_int_equal(h[10], 0xb8);
	assert_int_equal(h[11], 0x61);
	assert_int_equal(rte_raw_cksum(h, 20), 0xffff);   /* what input checks */
}

/* A datagram we build carries the checksums an independent implementation
 * computes (Python, RFC 1071 one's complement sums) for the same bytes. */
static void test_udp_checksum_vector(void **state)
{
	struct fragnet *fn = h_fn(state);
	struct fn_queue *q = fn->queues[0];
	const char *p = "fragnet checksum vector";
	const uint8_t *f;
	struct rte_mbuf *m;

	memset(q->ip_id, 0, sizeof(q->ip_id));   /* the vector has IP ID 0 */
	h_knows(fn, H_PEER, &h_peer_mac);
	assert_int_equal(fn_udp_send(q, RTE_BE16(7), H_PEER, RTE_BE16(9000), p, strlen(p)), 0);
	m = h_tx_take(q, 0);
	f = rte_pktmbuf_mtod(m, const uint8_t *);
	assert_int_equal(f[14 + 10], 0x66);   /* IPv4 header checksum 0x66b8 */
	assert_int_equal(f[14 + 11], 0xb8);
	assert_int_equal(f[34 + 6], 0x08);    /* UDP checksum 0x0829 */
	assert_int_equal(f[34 + 7], 0x29);
	rte_pktmbuf_free(m);
}

struct mutation {
	const char *what;
	size_t off;
	uint8_t value;
	bool fix_csum;
	unsigned reason;
};

static void test_malformed_headers(void **state)
{
	static const struct mutation muts[] = {
		{ "version 6", 0, 0x65, true, FRAGNET_DROP_IP_MALFORMED },
		{ "ihl 4", 0, 0x44, true, FRAGNET_DROP_IP_MALFORMED },
		{ "ihl 15 > total", 0, 0x4f, true, FRAGNET_DROP_IP_MALFORMED },
		{ "total 19 < ihl", 3, 19, true, FRAGNET_DROP_IP_MALFORMED },
		{ "total > frame", 3, 200, true, FRAGNET_DROP_IP_MALFORMED },
		{ "bad checksum", 10, 0x12, false, FRAGNET_DROP_IP_CSUM },
		{ "not our address", 19, 77, true, FRAGNET_DROP_IP_NOT_OURS },
		{ "multicast source", 12, 224, true, FRAGNET_DROP_IP_SRC },
		{ "loopback source", 12, 127, true, FRAGNET_DROP_IP_SRC },
		{ "unknown protocol", 9, 200, true, FRAGNET_DROP_IP_PROTO },
	};
	struct fragnet *fn = h_fn(state);
	struct fn_queue *q = fn->queues[0];
	struct h_rx rx = { 0 };

	assert_int_equal(fn_udp_bind(fn->udp, RTE_BE16(7), h_record, &rx), 0);
	for (unsigned i = 0; i < RTE_DIM(muts); i++) {
		uint8_t buf[128];
		size_t n = tp_udp(buf, H_PEER, H_ADDR, 4000, 7, "abcd", 4, NULL);
		uint64_t before = q->stats.drops[muts[i].reason];

		buf[muts[i].off] = muts[i].value;
		if (muts[i].fix_csum)
			tp_ipv4_fix(buf);
		fn_eth_input(q, h_ip_frame(fn, buf, n));
		if (q->stats.drops[muts[i].reason] != before + 1)
			fail_msg("%s: not counted as %s", muts[i].what,
				 fragnet_drop_name(muts[i].reason));
		h_tx_clear(q);   /* ICMP errors some of them earn */
	}
	assert_int_equal(rx.n, 0);
}

static void test_padding_and_options(void **state)
{
	struct fragnet *fn = h_fn(state);
	struct fn_queue *q = fn->queues[0];
	struct h_rx rx = { 0 };
	uint8_t buf[128], opt[128];
	size_t n = tp_udp(buf, H_PEER, H_ADDR, 4000, 7, "abcd", 4, NULL);
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)opt;

	assert_int_equal(fn_udp_bind(fn->udp, RTE_BE16(7), h_record, &rx), 0);
	/* Ethernet pads short frames: the trailer is not part of the datagram. */
	memset(buf + n, 0xee, 20);
	fn_eth_input(q, h_ip_frame(fn, buf, n + 20));
	assert_int_equal(rx.n, 1);
	assert_int_equal(rx.last.len, 4);

	/* The same datagram with 4 bytes of options (NOP NOP NOP EOL). */
	memcpy(opt, buf, 20);
	memcpy(opt + 20, "\x01\x01\x01\x00", 4);
	memcpy(opt + 24, buf + 20, n - 20);
	ip->version_ihl = 0x46;
	ip->total_length = rte_cpu_to_be_16(n + 4);
	tp_ipv4_fix(opt);
	fn_eth_input(q, h_ip_frame(fn, opt, n + 4));
	assert_int_equal(rx.n, FN_WITH_IP_OPTIONS ? 2 : 1);
	assert_int_equal(q->stats.drops[FRAGNET_DROP_IP_MALFORMED], FN_WITH_IP_OPTIONS ? 0 : 1);
}

static void test_broadcast(void **state)
{
	struct fragnet *fn = h_fn(state);
	struct fn_queue *q = fn->queues[0];
	struct h_rx rx = { 0 };
	static const uint32_t dsts[] = { RTE_BE32(0xffffffff), RTE_BE32(RTE_IPV4(10, 0, 0, 255)) };

	assert_int_equal(fn_udp_bind(fn->udp, RTE_BE16(7), h_record, &rx), 0);
	for (unsigned i = 0; i < RTE_DIM(dsts); i++) {
		uint8_t buf[128];
		size_t n = tp_udp(buf, H_PEER, dsts[i], 4000, 7, "b", 1, NULL);

		fn_eth_input(q, h_ip_frame(fn, buf, n));
		assert_int_equal(rx.n, i + 1);
		/* To a closed port: dropped, and no ICMP error for a broadcast. */
		n = tp_udp(buf, H_PEER, dsts[i], 4000, 8, "b", 1, NULL);
		fn_eth_input(q, h_ip_frame(fn, buf, n));
		assert_int_equal(h_tx_count(q), 0);
	}
}

/* A subnet's directed broadcast; none for a /32, nor for a /31, whose two
 * addresses are both hosts (RFC 3021): its peer must not be a martian. */
static void test_subnet_broadcast(void **state)
{
	const uint32_t a = RTE_BE32(RTE_IPV4(10, 0, 0, 6));

	(void)state;
	assert_int_equal(fn_subnet_bcast(a, RTE_BE32(0xffffff00)), RTE_BE32(RTE_IPV4(10, 0, 0, 255)));
	assert_int_equal(fn_subnet_bcast(a, RTE_BE32(0xfffffffc)), RTE_BE32(RTE_IPV4(10, 0, 0, 7)));
	assert_int_equal(fn_subnet_bcast(a, RTE_BE32(0xfffffffe)), UINT32_MAX);
	assert_int_equal(fn_subnet_bcast(a, UINT32_MAX), UINT32_MAX);
}

static void echo(struct fragnet_queue *q, const struct fragnet_dgram *d, void *arg)
{
	(void)arg;
	fn_udp_send((struct fn_queue *)q, d->dst_port, d->src_addr, d->src_port, d->data, d->len);
}

/*
 * A request from an address no host sends from is dropped and counted, never
 * answered: a reply to our subnet's broadcast address would go to every host
 * on the LAN (reflection), one to ourselves nowhere useful. The client's
 * requests in between are answered as usual.
 */
static void test_martian_sources(void **state)
{
	static const uint32_t srcs[] = {
		RTE_BE32(RTE_IPV4(10, 0, 0, 255)),   /* our subnet's broadcast */
		RTE_BE32(0xffffffff),
		RTE_BE32(0), RTE_BE32(RTE_IPV4(0, 1, 2, 3)),
		H_ADDR,
		RTE_BE32(RTE_IPV4(224, 0, 0, 1)),
		RTE_BE32(RTE_IPV4(127, 0, 0, 1)),
	};
	struct fragnet *fn = h_fn(state);
	struct fn_queue *q = fn->queues[0];

	assert_int_equal(fn_udp_bind(fn->udp, RTE_BE16(7), echo, NULL), 0);
	for (unsigned i = 0; i < RTE_DIM(srcs); i++) {
		uint8_t buf[128];
		size_t n = tp_udp(buf, srcs[i], H_ADDR, 4000, 7, "spoofed", 7, NULL);

		fn_eth_input(q, h_ip_frame(fn, buf, n));
		assert_int_equal(h_tx_count(q), 0);
		assert_int_equal(q->stats.drops[FRAGNET_DROP_IP_SRC], i + 1);

		fn_eth_input(q, h_udp_frame(fn, 4000, 7, "client", 6));
		assert_int_equal(h_tx_count(q), 1);
		assert_true(rte_is_same_ether_addr(
			&rte_pktmbuf_mtod(q->tx[0], struct rte_ether_hdr *)->dst_addr, &h_peer_mac));
		h_tx_clear(q);
	}
}

/* An on-link sender is learned from its datagram, so the reply needs no ARP;
 * what ARP taught is not overwritten by it. */
static void test_neighbour_learning(void **state)
{
	struct fragnet *fn = h_fn(state);
	struct fn_queue *q = fn->queues[0];
	struct rte_ether_addr mac;

	assert_false(fn_neigh_lookup(fn->neigh, H_PEER, &mac));
	fn_eth_input(q, h_udp_frame(fn, 4000, 9, "x", 1));
	assert_true(fn_neigh_lookup(fn->neigh, H_PEER, &mac));
	assert_true(rte_is_same_ether_addr(&mac, &h_peer_mac));
	h_tx_clear(q);
}

#if FN_WITH_FILTER
/* Rules for queue 0 of fn: input drops every datagram from src. */
static struct fn_filter *drop_input_from(struct fragnet *fn, uint32_t src)
{
	struct fn_filter *r = fn_filter_create(1);
	struct fn_imgb *b = fn_imgb_new();
	size_t len;
	void *img;

	fn_imgb_table(b, "fragnet", FN_FAMILY_IPV4, 0);
	fn_imgb_chain(b, "in", FN_HOOK_INPUT, 0, FN_POLICY_ACCEPT);
	fn_imgb_rule(b, 0, 1);
	t_payload_cmp(b, FN_PAYLOAD_NETWORK, 12, 4, FN_CMP_EQ, &src);   /* ip saddr */
	t_verdict(b, FN_V_DROP, 0);
	img = t_finish(b, &len);
	assert_non_null(img);
	fn_filter_queue_attach(r, &fn->queues[0]->filter, 0);
	assert_int_equal(fn_filter_install(r, img, len, 0, free, img), 0);
	fn_filter_burst_begin(&fn->queues[0]->filter);
	return r;
}
#endif

/*
 * Only a datagram that the input rules accepted, from a unicast source MAC,
 * teaches us a neighbour: one the rules drop, or one claiming a broadcast,
 * multicast or zero MAC, must not decide where our replies go.
 */
static void test_learning_needs_accepted_unicast(void **state)
{
	static const struct rte_ether_addr bad[] = {
		{ .addr_bytes = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff } },
		{ .addr_bytes = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 } },
		{ .addr_bytes = { 0 } },
	};
	struct fragnet *fn = h_fn(state);
	struct fn_queue *q = fn->queues[0];
	struct rte_ether_addr mac;
	struct h_rx rx = { 0 };

	assert_int_equal(fn_udp_bind(fn->udp, RTE_BE16(7), h_record, &rx), 0);
	for (unsigned i = 0; i < RTE_DIM(bad); i++) {
		struct rte_mbuf *m = h_udp_frame(fn, 4000, 7, "x", 1);

		rte_pktmbuf_mtod(m, struct rte_ether_hdr *)->src_addr = bad[i];
		fn_eth_input(q, m);
		assert_int_equal(rx.n, i + 1);   /* delivered, but taught nothing */
		assert_false(fn_neigh_lookup(fn->neigh, H_PEER, &mac));
	}
#if FN_WITH_FILTER
	{
		struct fn_filter *r = drop_input_from(fn, H_PEER);
		const uint32_t next = RTE_BE32(RTE_IPV4(10, 0, 0, 3));
		uint8_t buf[128];
		size_t n;

		fn_eth_input(q, h_udp_frame(fn, 4000, 7, "x", 1));
		assert_int_equal(q->stats.drops[FRAGNET_DROP_FILTER], 1);
		assert_false(fn_neigh_lookup(fn->neigh, H_PEER, &mac));
		/* what the rules accept still teaches */
		n = tp_udp(buf, next, H_ADDR, 4000, 7, "y", 1, NULL);
		fn_eth_input(q, h_ip_frame(fn, buf, n));
		assert_int_equal(rx.n, RTE_DIM(bad) + 1);
		assert_true(fn_neigh_lookup(fn->neigh, next, &mac));
		assert_true(rte_is_same_ether_addr(&mac, &h_peer_mac));
		fn_filter_destroy(r);
	}
#endif
}

#if FN_WITH_FILTER && FN_WITH_FRAG
/*
 * A mark prerouting sets on a fragment: the reassembled datagram carries the
 * first fragment's to input, as the kernel's reassembled skb keeps its
 * head's (ip_local_deliver reassembles between the two hooks). Prerouting
 * marks the first fragment 7 and any other 5; input drops what is not 7.
 * The first fragment arrives last but one, so neither "the last one's" nor
 * "none" passes.
 */
static void test_first_fragment_mark_survives(void **state)
{
	static const uint8_t first[2] = { 0x20, 0x00 };   /* MF, offset 0 */
	struct fragnet *fn = h_fn(state);
	struct fn_queue *q = fn->queues[0];
	struct fn_filter *r = fn_filter_create(1);
	struct fn_imgb *b = fn_imgb_new();
	const struct tp_ip id = { .id = 77 };
	uint8_t dgram[20 + 8 + 40], buf[128], payload[40] = { 0 };
	uint32_t seven = 7, five = 5;
	struct fn_op_meta_set *o;
	struct h_rx rx = { 0 };
	size_t len;
	void *img;

	fn_imgb_table(b, "fragnet", FN_FAMILY_IPV4, 0);
	fn_imgb_chain(b, "pre", FN_HOOK_PREROUTING, -450, FN_POLICY_ACCEPT);
	fn_imgb_chain(b, "in", FN_HOOK_INPUT, 0, FN_POLICY_ACCEPT);
	fn_imgb_rule(b, 0, 1);                 /* ip frag-off 0x2000 meta mark set 7 */
	t_payload_cmp(b, FN_PAYLOAD_NETWORK, 6, 2, FN_CMP_EQ, first);
	t_imm(b, 1, &seven, 4);
	o = fn_imgb_op(b, FN_OP_META_SET, sizeof(*o));
	o->key = FN_META_MARK;
	o->sreg = 1;
	fn_imgb_rule(b, 0, 2);                 /* ip frag-off != 0x2000 meta mark set 5 */
	t_payload_cmp(b, FN_PAYLOAD_NETWORK, 6, 2, FN_CMP_NEQ, first);
	t_imm(b, 1, &five, 4);
	o = fn_imgb_op(b, FN_OP_META_SET, sizeof(*o));
	o->key = FN_META_MARK;
	o->sreg = 1;
	fn_imgb_rule(b, 1, 3);                 /* meta mark != 7 drop */
	t_meta(b, FN_META_MARK, 0);
	t_cmp32(b, 0, FN_CMP_NEQ, 7);
	t_verdict(b, FN_V_DROP, 0);
	img = t_finish(b, &len);
	assert_non_null(img);
	fn_filter_queue_attach(r, &q->filter, 0);
	assert_int_equal(fn_filter_install(r, img, len, 0, free, img), 0);
	fn_filter_burst_begin(&q->filter);
	assert_false(q->filter.defrag_first);  /* no conntrack: prerouting sees fragments */

	assert_int_equal(fn_udp_bind(fn->udp, RTE_BE16(7), h_record, &rx), 0);
	tp_udp(dgram, H_PEER, H_ADDR, 4000, 7, payload, sizeof(payload), &id);
	/* 48 bytes of UDP: [0, 16) [16, 32) [32, 48), the first arriving second */
	fn_eth_input(q, h_ip_frame(fn, buf, tp_fragment(buf, dgram, 16, 16, true)));
	fn_eth_input(q, h_ip_frame(fn, buf, tp_fragment(buf, dgram, 0, 16, true)));
	fn_eth_input(q, h_ip_frame(fn, buf, tp_fragment(buf, dgram, 32, 16, false)));
	assert_int_equal(rx.n, 1);
	assert_int_equal(q->stats.drops[FRAGNET_DROP_FILTER], 0);
	fn_filter_destroy(r);
	h_tx_clear(q);
}
#endif

#if FN_WITH_FILTER
/*
 * A prerouting rule that rewrites the header length (`@nh,0,8 set 0x4f`,
 * checksum fixed): the stack checked it before the rules ran and reads it
 * after (UDP and ICMP input take len - ihl), so the write is not made and
 * the rule ends there; the datagram is delivered as it came.
 */
static void test_rules_keep_ip_lengths(void **state)
{
	static const uint8_t vhl = 0x4f;
	struct fragnet *fn = h_fn(state);
	struct fn_queue *q = fn->queues[0];
	struct fn_filter *r = fn_filter_create(1);
	struct fn_imgb *b = fn_imgb_new();
	struct fn_op_payload_set *o;
	uint8_t buf[128], payload[4] = "ping";
	struct h_rx rx = { 0 };
	size_t len, n;
	void *img;

	fn_imgb_table(b, "fragnet", FN_FAMILY_IPV4, 0);
	fn_imgb_chain(b, "pre", FN_HOOK_PREROUTING, 0, FN_POLICY_ACCEPT);
	fn_imgb_rule(b, 0, 1);
	t_imm(b, 1, &vhl, 1);
	o = fn_imgb_op(b, FN_OP_PAYLOAD_SET, sizeof(*o));
	o->base = FN_PAYLOAD_NETWORK;
	o->offset = 0;
	o->len = 1;
	o->sreg = 1;
	o->csum_type = FN_CSUM_INET;
	o->csum_offset = 10;
	img = t_finish(b, &len);
	assert_non_null(img);
	fn_filter_queue_attach(r, &q->filter, 0);
	assert_int_equal(fn_filter_install(r, img, len, 0, free, img), 0);
	fn_filter_burst_begin(&q->filter);
	assert_int_equal(fn_udp_bind(fn->udp, RTE_BE16(7), h_record, &rx), 0);

	n = tp_udp(buf, H_PEER, H_ADDR, 4000, 7, payload, sizeof(payload), NULL);
	fn_eth_input(q, h_ip_frame(fn, buf, n));
	assert_int_equal(rx.n, 1);
	assert_int_equal(rx.last.len, sizeof(payload));
	assert_memory_equal(rx.data, payload, sizeof(payload));
	fn_filter_destroy(r);
	h_tx_clear(q);
}
#endif

/* Send one datagram to dst; the number of IPv4 frames that went out to
 * `mac` (others, ARP, are dropped). */
static unsigned sent_to(struct fn_queue *q, uint32_t dst, const struct rte_ether_addr *mac)
{
	unsigned n = 0;

	assert_int_equal(fn_udp_send(q, RTE_BE16(7), dst, RTE_BE16(9), "x", 1), 0);
	while (h_tx_count(q) > 0) {
		struct rte_mbuf *m = h_tx_take(q, 0);
		const struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);

		n += eth->ether_type == RTE_BE16(RTE_ETHER_TYPE_IPV4) &&
		     rte_is_same_ether_addr(&eth->dst_addr, mac);
		rte_pktmbuf_free(m);
	}
	return n;
}

/*
 * The queue's copy of its last next hop follows the table: a new MAC, the
 * entry growing stale (which must reach the ARP probe) and the entry pushed
 * out by others while still reachable each make it read the table again.
 */
static void test_nexthop_cache_follows_table(void **state)
{
	static const struct rte_ether_addr mac_a = { { 2, 0xa, 0, 0, 0, 1 } };
	static const struct rte_ether_addr mac_b = { { 2, 0xb, 0, 0, 0, 1 } };
	const unsigned learned = FN_NEIGH_F_CREATE | FN_NEIGH_F_CONFIRM;
	struct fragnet *fn = h_fn(state);
	struct fn_queue *q = fn->queues[0];
	uint32_t mates[5];
	unsigned n = 0;

	/* on-link addresses that share one bucket of the table */
	for (uint32_t i = 10; n < RTE_DIM(mates); i++) {
		uint32_t a = rte_cpu_to_be_32(RTE_IPV4(10, 0, 0, 0) + i);

		if (n == 0 || fn_neigh_bucket(fn->neigh, a) == fn_neigh_bucket(fn->neigh, mates[0]))
			mates[n++] = a;
	}
	assert_int_equal(fn_neigh_update(fn->neigh, mates[0], &mac_a, learned, q->clk.now), 0);
	assert_int_equal(sent_to(q, mates[0], &mac_a), 1);
	assert_int_equal(sent_to(q, mates[0], &mac_a), 1);   /* from the copy */

	/* a new MAC */
	assert_int_equal(fn_neigh_update(fn->neigh, mates[0], &mac_b,
					 learned | FN_NEIGH_F_OVERRIDE, q->clk.now), 0);
	assert_int_equal(sent_to(q, mates[0], &mac_b), 1);

	/* pushed out by younger strangers of its bucket while its copy is
	 * still within its 30 s */
	for (unsigned i = 1; i < RTE_DIM(mates); i++)
		fn_neigh_update(fn->neigh, mates[i], &mac_a, learned, q->clk.now + i);
	assert_false(fn_neigh_lookup(fn->neigh, mates[0], &(struct rte_ether_addr){ 0 }));
	assert_int_equal(sent_to(q, mates[1], &mac_a), 1);   /* another hop meanwhile */
	assert_int_equal(sent_to(q, mates[0], &mac_b), 0);

	/* stale after 30 s: still used, and probed where ARP resolves */
	assert_true(fn_neigh_update(fn->neigh, mates[0], &mac_b, learned, q->clk.now) >= 0);
	assert_int_equal(sent_to(q, mates[0], &mac_b), 1);
	q->clk.now += 31 * q->clk.hz;
	assert_int_equal(fn_udp_send(q, RTE_BE16(7), mates[0], RTE_BE16(9), "x", 1), 0);
	assert_int_equal(h_tx_count(q), FN_WITH_ARP ? 2 : 1);
	h_tx_clear(q);
}

static uint16_t next_id(struct fn_queue *q, uint32_t dst)
{
	struct rte_ipv4_hdr ip;

	fn_ipv4_header(q, &ip, IPPROTO_UDP, dst, 28);
	return rte_be_to_cpu_16(ip.packet_id);
}

/*
 * IP IDs. A host that gets our datagrams must learn nothing of the IDs we
 * send others (from a predictable ID it can forge a fragment into their
 * datagrams); and an ID must not come back for one destination while its
 * fragments may still be waiting at the receiver, however much we send to
 * other hosts meanwhile.
 */
static void test_ip_ids(void **state)
{
	struct fragnet *fn = h_fn(state);
	struct fn_queue *q = fn->queues[0];
	static bool seen[65536];
	unsigned predictable = 0;

	/* An attacker's ID, then a victim's: is the victim's the next one? */
	for (uint32_t v = 0; v < 8; v++) {
		uint32_t victim = rte_cpu_to_be_32(RTE_IPV4(10, 0, 0, 10 + v));
		unsigned hits = 0;

		for (unsigned round = 0; round < 16; round++) {
			uint16_t mine = next_id(q, H_PEER);

			hits += next_id(q, victim) == (uint16_t)(mine + fn->n_queues);
		}
		predictable += hits == 16;
	}
	assert_true(predictable <= 1);   /* one may share the attacker's counter */

	/* 30000 datagrams to one host among 90000 to others: no ID twice. */
	memset(seen, 0, sizeof(seen));
	for (uint32_t i = 0; i < 30000; i++) {
		uint16_t id = next_id(q, H_PEER);

		assert_false(seen[id]);
		seen[id] = true;
		for (uint32_t j = 0; j < 3; j++)
			next_id(q, rte_cpu_to_be_32(RTE_IPV4(10, 1, 0, 0) + i * 3 + j));
	}
	/* Two queues sending to one host never pick the same ID. */
	memset(seen, 0, sizeof(seen));
	for (uint32_t i = 0; i < 32768; i++) {
		for (unsigned k = 0; k < 2; k++) {
			uint16_t id = next_id(fn->queues[k], H_FAR);

			assert_false(seen[id]);
			seen[id] = true;
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header_checksum_vector),
		cmocka_unit_test(test_subnet_broadcast),
		H_TEST(test_udp_checksum_vector),
		H_TEST(test_malformed_headers),
		H_TEST(test_padding_and_options),
		H_TEST(test_broadcast),
		H_TEST(test_neighbour_learning),
		H_TEST(test_martian_sources),
		H_TEST(test_learning_needs_accepted_unicast),
#if FN_WITH_FILTER && FN_WITH_FRAG
		H_TEST(test_first_fragment_mark_survives),
#endif
#if FN_WITH_FILTER
		H_TEST(test_rules_keep_ip_lengths),
#endif
		H_TEST2(test_ip_ids),
		H_TEST(test_nexthop_cache_follows_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
