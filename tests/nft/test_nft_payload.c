/* SPDX-License-Identifier: BSD-3-Clause */
/* payload load, fused payload+cmp and payload set (checksums). */
#include <errno.h>
#include <string.h>

#include "nft_test.h"

#define NET FN_PAYLOAD_NETWORK
#define TH FN_PAYLOAD_TRANSPORT

/* One rule matching `dport` on a chain with policy accept; the rule drops. */
static struct fn_nft_state *dport_drop(int fused, uint16_t dport)
{
	struct fn_imgb *b = t_builder();
	uint8_t be[2] = { (uint8_t)(dport >> 8), (uint8_t)dport };

	fn_imgb_table(b, "t", FN_FAMILY_INET, 0);
	fn_imgb_chain(b, "in", FN_HOOK_INPUT, 0, FN_POLICY_ACCEPT);
	fn_imgb_rule(b, 0, 7);
	if (fused) {
		t_payload_cmp(b, TH, 2, 2, FN_CMP_EQ, be);
	} else {
		t_payload(b, TH, 2, 2, 0);
		t_cmp(b, 0, FN_CMP_EQ, be, 2);
	}
	t_verdict(b, FN_V_DROP, 0);
	return t_load(b);
}

static void test_transport_port(void **state)
{
	struct tpkt t;
	int fused;

	(void)state;
	for (fused = 0; fused < 2; fused++) {
		struct fn_nft_state *s = dport_drop(fused, 53);
		uint64_t h;

		t_udp(&t, IP4(1, 2, 3, 4), IP4(10, 0, 0, 1), 1000, 53, 4);
		assert_int_equal(t_run(s, FN_HOOK_INPUT, &t, &h), FN_DROP);
		assert_int_equal(h, 7);
		t_udp(&t, IP4(1, 2, 3, 4), IP4(10, 0, 0, 1), 1000, 54, 4);
		assert_int_equal(t_run(s, FN_HOOK_INPUT, &t, &h), FN_ACCEPT);
		assert_int_equal(h, 0);
		/* another hook has no chains: accepted without running */
		t_udp(&t, IP4(1, 2, 3, 4), IP4(10, 0, 0, 1), 1000, 53, 4);
		assert_int_equal(t_run(s, FN_HOOK_OUTPUT, &t, NULL), FN_ACCEPT);
		t_free(s);
	}
}

static void test_fragments(void **state)
{
	struct fn_nft_state *s = dport_drop(1, 53);
	struct tpkt t;

	(void)state;
	/* first fragment (MF, offset 0): the UDP header is there */
	t_udp(&t, IP4(1, 2, 3, 4), IP4(10, 0, 0, 1), 1000, 53, 64);
	t.buf[6] = 0x20;
	assert_int_equal(t_run(s, FN_HOOK_INPUT, &t, NULL), FN_DROP);
	/* a later fragment has no transport header: BREAK, policy accepts,
	 * even though the bytes at +2 happen to read 53 */
	t.buf[6] = 0x00;
	t.buf[7] = 0x08;
	assert_int_equal(t_run(s, FN_HOOK_INPUT, &t, NULL), FN_ACCEPT);
	t_free(s);
}

static void test_bounds_and_padding(void **state)
{
	struct fn_imgb *b = t_builder();
	struct fn_nft_state *s;
	uint8_t ttl_padded[4] = { 64, 0, 0, 0 }, ones[4] = { 0xff, 0xff, 0xff, 0xff };
	uint8_t any[2] = { 0, 0 };
	struct tpkt t;
	uint64_t h;

	(void)state;
	fn_imgb_table(b, "t", FN_FAMILY_IPV4, 0);
	fn_imgb_chain(b, "in", FN_HOOK_INPUT, 0, FN_POLICY_ACCEPT);
	/* rule 1: a load past the end of the packet never matches */
	fn_imgb_rule(b, 0, 1);
	t_payload(b, NET, 250, 2, 0);
	t_cmp(b, 0, FN_CMP_NEQ, any, 2);
	t_verdict(b, FN_V_DROP, 0);
	/* rule 2: a 1-byte load clears the rest of its word */
	fn_imgb_rule(b, 0, 2);
	t_imm(b, 0, ones, 4);
	t_payload(b, NET, 8, 1, 0);
	t_cmp(b, 0, FN_CMP_EQ, ttl_padded, 4);
	t_verdict(b, FN_V_DROP, 0);
	s = t_load(b);
	t_udp(&t, IP4(1, 2, 3, 4), IP4(10, 0, 0, 1), 1, 2, 0);
	assert_int_equal(t_run(s, FN_HOOK_INPUT, &t, &h), FN_DROP);
	assert_int_equal(h, 2);
	t_free(s);
}

static void test_truncated_transport(void **state)
{
	struct fn_imgb *b = t_builder();
	struct fn_nft_state *s;
	uint8_t port[2] = { 0, 53 }, zero[2] = { 0, 0 };
	struct tpkt t;
	uint64_t h;

	(void)state;
	fn_imgb_table(b, "t", FN_FAMILY_IPV4, 0);
	fn_imgb_chain(b, "in", FN_HOOK_INPUT, 0, FN_POLICY_ACCEPT);
	fn_imgb_rule(b, 0, 1);           /* udp length: bytes 4-5, missing */
	t_payload_cmp(b, TH, 4, 2, FN_CMP_NEQ, zero);
	t_verdict(b, FN_V_DROP, 0);
	fn_imgb_rule(b, 0, 2);           /* dport: bytes 2-3, present */
	t_payload_cmp(b, TH, 2, 2, FN_CMP_EQ, port);
	t_verdict(b, FN_V_DROP, 0);
	s = t_load(b);
	t_udp(&t, IP4(1, 2, 3, 4), IP4(10, 0, 0, 1), 9, 53, 0);
	t.pkt.l3_len = 24;               /* only 4 bytes of UDP header */
	t.buf[3] = 24;
	assert_int_equal(t_run(s, FN_HOOK_INPUT, &t, &h), FN_DROP);
	assert_int_equal(h, 2);
	t_free(s);
}

static void test_link_layer(void **state)
{
	struct fn_imgb *b = t_builder();
	struct fn_nft_state *s;
	/* ethertype IPv4 then version/ihl and tos: spans l2 and l3 */
	uint8_t want[4] = { 0x08, 0x00, 0x45, 0x00 };
	uint8_t eth[14] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 0x08, 0x00 };
	struct tpkt t;

	(void)state;
	fn_imgb_table(b, "t", FN_FAMILY_INET, 0);
	fn_imgb_chain(b, "pre", FN_HOOK_PREROUTING, 0, FN_POLICY_ACCEPT);
	fn_imgb_rule(b, 0, 3);
	t_payload_cmp(b, FN_PAYLOAD_LINK, 12, 4, FN_CMP_EQ, want);
	t_verdict(b, FN_V_DROP, 0);
	s = t_load(b);
	t_udp(&t, IP4(1, 2, 3, 4), IP4(10, 0, 0, 1), 9, 53, 0);
	assert_int_equal(t_run(s, FN_HOOK_PREROUTING, &t, NULL), FN_ACCEPT); /* no l2 */
	t.pkt.l2 = eth;
	assert_int_equal(t_run(s, FN_HOOK_PREROUTING, &t, NULL), FN_DROP);
	t_free(s);
}

static struct fn_nft_state *setter(uint8_t base, uint8_t off, uint8_t len,
				   const void *val, uint8_t csum_type,
				   uint8_t csum_off, uint8_t flags)
{
	struct fn_imgb *b = t_builder();
	struct fn_op_payload_set *o;

	fn_imgb_table(b, "t", FN_FAMILY_INET, 0);
	fn_imgb_chain(b, "out", FN_HOOK_OUTPUT, 0, FN_POLICY_ACCEPT);
	fn_imgb_rule(b, 0, 1);
	t_imm(b, 0, val, len);
	o = fn_imgb_op(b, FN_OP_PAYLOAD_SET, sizeof(*o));
	o->base = base;
	o->offset = off;
	o->len = len;
	o->sreg = 0;
	o->csum_type = csum_type;
	o->csum_offset = csum_off;
	o->csum_flags = flags;
	return t_load(b);
}

static void test_payload_set_checksums(void **state)
{
	uint8_t port[2] = { 0x04, 0xd2 }, addr[4] = { 192, 168, 7, 9 }, ttl[1] = { 3 };
	struct fn_nft_state *s;
	struct tpkt t;

	(void)state;
	/* udp dport set 1234: UDP checksum fixed at offset 6 */
	s = setter(TH, 2, 2, port, FN_CSUM_INET, 6, 0);
	t_udp(&t, IP4(1, 2, 3, 4), IP4(10, 0, 0, 1), 1000, 53, 33);
	assert_int_equal(t_run(s, FN_HOOK_OUTPUT, &t, NULL), FN_ACCEPT);
	assert_int_equal(t.buf[22] << 8 | t.buf[23], 1234);
	assert_true(t_csums_ok(&t));
	/* with transmit offload the checksum field is left alone */
	t_udp(&t, IP4(1, 2, 3, 4), IP4(10, 0, 0, 1), 1000, 53, 33);
	t.buf[26] = 0x12;
	t.buf[27] = 0x34;
	t.pkt.flags = FN_PKT_F_CSUM_PARTIAL;
	fn_nft_eval(s, FN_HOOK_OUTPUT, &t.pkt, NULL);
	assert_int_equal(t.buf[26] << 8 | t.buf[27], 0x1234);
	t_free(s);

	/* ip saddr set: IP header checksum and the UDP pseudo-header */
	s = setter(NET, 12, 4, addr, FN_CSUM_INET, 10, FN_CSUM_F_L4);
	t_udp(&t, IP4(1, 2, 3, 4), IP4(10, 0, 0, 1), 1000, 53, 7);
	fn_nft_eval(s, FN_HOOK_OUTPUT, &t.pkt, NULL);
	assert_memory_equal(t.buf + 12, addr, 4);
	assert_true(t_csums_ok(&t));
	/* a UDP checksum of 0 (none) stays 0 */
	t_udp(&t, IP4(1, 2, 3, 4), IP4(10, 0, 0, 1), 1000, 53, 7);
	t.buf[26] = t.buf[27] = 0;
	fn_nft_eval(s, FN_HOOK_OUTPUT, &t.pkt, NULL);
	assert_int_equal(t.buf[26] | t.buf[27], 0);
	assert_true(t_csums_ok(&t));
	t_free(s);

	/* ip ttl set 3: header checksum only */
	s = setter(NET, 8, 1, ttl, FN_CSUM_INET, 10, 0);
	t_udp(&t, IP4(1, 2, 3, 4), IP4(10, 0, 0, 1), 1000, 53, 7);
	fn_nft_eval(s, FN_HOOK_OUTPUT, &t.pkt, NULL);
	assert_int_equal(t.buf[8], 3);
	assert_true(t_csums_ok(&t));
	t_free(s);
}

static void test_payload_set_bounds(void **state)
{
	uint8_t v[4] = { 1, 2, 3, 4 };
	struct fn_nft_state *s = setter(TH, 60, 4, v, FN_CSUM_NONE, 0, 0);
	struct tpkt t, copy;

	(void)state;
	t_udp(&t, IP4(1, 2, 3, 4), IP4(10, 0, 0, 1), 1000, 53, 8);
	copy = t;
	fn_nft_eval(s, FN_HOOK_OUTPUT, &t.pkt, NULL);
	assert_memory_equal(t.buf, copy.buf, sizeof(t.buf));
	t_free(s);
}

/* @ih,0,16: rules 1-3 drop on the two bytes at the inner offset. */
static struct fn_nft_state *inner_rules(int fused)
{
	static const uint8_t want[3][2] = { { 1, 8 }, { 113, 120 }, { 0x12, 0x34 } };
	struct fn_imgb *b = t_builder();
	unsigned i;

	fn_imgb_table(b, "t", FN_FAMILY_IPV4, 0);
	fn_imgb_chain(b, "in", FN_HOOK_INPUT, 0, FN_POLICY_ACCEPT);
	for (i = 0; i < 3; i++) {
		fn_imgb_rule(b, 0, i + 1);
		if (fused) {
			t_payload_cmp(b, FN_PAYLOAD_INNER, 0, 2, FN_CMP_EQ, want[i]);
		} else {
			t_payload(b, FN_PAYLOAD_INNER, 0, 2, 0);
			t_cmp(b, 0, FN_CMP_EQ, want[i], 2);
		}
		t_verdict(b, FN_V_DROP, 0);
	}
	return t_load(b);
}

/* A UDP packet (payload bytes i * 7 + 1: 1, 8, ..., byte 16 is 113) made
 * into protocol proto. */
static uint64_t inner_run(struct fn_nft_state *s, uint8_t proto, uint16_t sport,
			  size_t payload, int later_fragment)
{
	struct tpkt t;
	uint64_t h;

	t_udp(&t, IP4(1, 2, 3, 4), IP4(10, 0, 0, 1), sport, 53, payload);
	t.buf[9] = proto;
	if (later_fragment)
		t.buf[7] = 8;
	if (t_run(s, FN_HOOK_INPUT, &t, &h) == FN_ACCEPT)
		return 0;
	return h;
}

static void test_inner_header(void **state)
{
	int fused;

	(void)state;
	for (fused = 0; fused < 2; fused++) {
		struct fn_nft_state *s = inner_rules(fused);

		/* UDP: after the 8-byte header; short packets do not match */
		assert_int_equal(inner_run(s, 17, 9, 4, 0), 1);
		assert_int_equal(inner_run(s, 17, 9, 2, 0), 1);
		assert_int_equal(inner_run(s, 17, 9, 1, 0), 0);
		assert_int_equal(inner_run(s, 17, 9, 0, 0), 0);
		assert_int_equal(inner_run(s, 17, 9, 4, 1), 0);  /* later fragment */
		/* TCP: after doff words; the UDP length/checksum bytes are
		 * TCP's sequence number, the payload's byte 4 (29) its doff */
		assert_int_equal(inner_run(s, 6, 9, 40, 0), 0);  /* doff 1: +4 */
		{
			struct tpkt t;
			uint64_t h;

			t_udp(&t, IP4(1, 2, 3, 4), IP4(10, 0, 0, 1), 9, 53, 40);
			t.buf[9] = 6;
			t.buf[20 + 12] = 0x60;                 /* doff 6: +24 */
			assert_int_equal(t_run(s, FN_HOOK_INPUT, &t, &h), FN_DROP);
			assert_int_equal(h, 2);
			t.pkt.l3_len = 20 + 19;                /* no whole TCP header */
			assert_int_equal(t_run(s, FN_HOOK_INPUT, &t, &h), FN_ACCEPT);
		}
		/* GRE: the UDP source port is its flags; key: +8 */
		assert_int_equal(inner_run(s, 47, 0x2000, 4, 0), 1);
		assert_int_equal(inner_run(s, 47, 0x0000, 4, 0), 0);  /* +4 */
		assert_int_equal(inner_run(s, 47, 0x6000, 4, 0), 0);  /* routing */
		assert_int_equal(inner_run(s, 47, 0x2001, 4, 0), 0);  /* version 1 */
		/* IP in IP: at the transport header */
		assert_int_equal(inner_run(s, 4, 0x1234, 4, 0), 3);
		/* ICMP and others: no inner offset */
		assert_int_equal(inner_run(s, 1, 0x1234, 4, 0), 0);
		assert_int_equal(inner_run(s, 99, 0x1234, 4, 0), 0);
		t_free(s);
	}
}

/* The inner offset is found at the hook's first @ih load, as in the kernel:
 * a TCP header length rewritten by an earlier rule moves it. */
static void test_inner_after_rewrite(void **state)
{
	static const uint8_t doff6 = 0x60, want[2] = { 113, 120 };
	struct fn_imgb *b = t_builder();
	struct fn_op_payload_set *o;
	struct fn_nft_state *s;
	struct tpkt t;
	uint64_t h;

	(void)state;
	fn_imgb_table(b, "t", FN_FAMILY_IPV4, 0);
	fn_imgb_chain(b, "in", FN_HOOK_INPUT, 0, FN_POLICY_ACCEPT);
	fn_imgb_rule(b, 0, 1);
	t_imm(b, 0, &doff6, 1);
	o = fn_imgb_op(b, FN_OP_PAYLOAD_SET, sizeof(*o));
	o->base = TH;
	o->offset = 12;
	o->len = 1;
	fn_imgb_rule(b, 0, 2);
	t_payload_cmp(b, FN_PAYLOAD_INNER, 0, 2, FN_CMP_EQ, want);
	t_verdict(b, FN_V_DROP, 0);
	s = t_load(b);
	/* doff 5 as sent (inner bytes 85, 92), 6 once rule 1 ran */
	t_udp(&t, IP4(1, 2, 3, 4), IP4(10, 0, 0, 1), 9, 53, 40);
	t.buf[9] = 6;
	t.buf[20 + 12] = 0x50;
	assert_int_equal(t_run(s, FN_HOOK_INPUT, &t, &h), FN_DROP);
	assert_int_equal(h, 2);
	t_free(s);
}

/* @ih is read-only: the verifier refuses a payload set there. */
static void test_inner_header_set_refused(void **state)
{
	struct fn_imgb *b = t_builder();
	struct fn_op_payload_set *o;
	uint8_t v[2] = { 0, 0 };
	char err[256];
	size_t len;
	void *img;

	(void)state;
	fn_imgb_table(b, "t", FN_FAMILY_IPV4, 0);
	fn_imgb_chain(b, "out", FN_HOOK_OUTPUT, 0, FN_POLICY_ACCEPT);
	fn_imgb_rule(b, 0, 1);
	t_imm(b, 0, v, 2);
	o = fn_imgb_op(b, FN_OP_PAYLOAD_SET, sizeof(*o));
	o->base = FN_PAYLOAD_INNER;
	o->len = 2;
	img = t_image(b, &len);
	assert_int_equal(fn_nft_image_check(img, len, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "inner"));
	t_free(img);
}

/* The IPv4 header's version, header length and total length are the
 * stack's, checked before the rules run: a payload set that would change
 * any of them ends the rule with nothing written (checksums included); one
 * that covers them with the values they have (nft writes `ip dscp set` as
 * bytes 0-1) is made. */
static void test_ip_lengths_kept(void **state)
{
	static const struct { uint8_t off, len; uint8_t val[4]; bool written; } cases[] = {
		{ 0, 1, { 0x4f }, false },               /* header length 60 */
		{ 2, 2, { 0x00, 0x14 }, false },         /* total length 20 */
		{ 3, 1, { 0x99 }, false },
		{ 0, 2, { 0x46, 0x80 }, false },         /* header length and tos */
		{ 0, 2, { 0x45, 0x80 }, true },          /* tos alone: byte 0 as it is */
		{ 0, 4, { 0x45, 0x20, 0x00, 0x23 }, true }, /* 20 + 8 + 7 = 35: as it is */
		{ 8, 1, { 7 }, true },                   /* ttl */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fn_nft_state *s = setter(NET, cases[i].off, cases[i].len, cases[i].val,
						FN_CSUM_INET, 10, 0);
		struct tpkt t;
		uint8_t before[20];

		t_udp(&t, IP4(1, 2, 3, 4), IP4(10, 0, 0, 1), 1000, 53, 7);
		memcpy(before, t.buf, sizeof(before));
		assert_int_equal(t_run(s, FN_HOOK_OUTPUT, &t, NULL), FN_ACCEPT);
		if (cases[i].written) {
			assert_memory_equal(t.buf + cases[i].off, cases[i].val, cases[i].len);
			assert_true(t_csums_ok(&t));
		} else {
			assert_memory_equal(t.buf, before, sizeof(before));
		}
		t_free(s);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		T_TEST(test_transport_port),
		T_TEST(test_fragments),
		T_TEST(test_bounds_and_padding),
		T_TEST(test_truncated_transport),
		T_TEST(test_link_layer),
		T_TEST(test_payload_set_checksums),
		T_TEST(test_payload_set_bounds),
		T_TEST(test_ip_lengths_kept),
		T_TEST(test_inner_header),
		T_TEST(test_inner_after_rewrite),
		T_TEST(test_inner_header_set_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
