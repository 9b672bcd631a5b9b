/* SPDX-License-Identifier: BSD-3-Clause */
/* meta keys, fused meta+cmp, meta mark set. */
#include <string.h>

#include "nft_test.h"

/* A rule: meta key into reg 2, cmp len bytes with want, drop. */
static enum fn_verdict meta_is(uint8_t key, const void *want, uint8_t len, int fused,
			       struct tpkt *t, struct tclock *clk)
{
	struct fn_imgb *b = t_builder();
	struct fn_nft_state *s;
	enum fn_verdict v;

	fn_imgb_table(b, "t", FN_FAMILY_INET, 0);
	fn_imgb_chain(b, "in", FN_HOOK_INPUT, 0, FN_POLICY_ACCEPT);
	fn_imgb_rule(b, 0, 1);
	if (fused) {
		struct fn_op_meta_cmp *o = fn_imgb_op(b, FN_OP_META_CMP,
						      sizeof(*o) + fn_img_round4(len));

		o->key = key;
		o->op = FN_CMP_EQ;
		o->len = len;
		fn_imgb_words(o->data, want, len);
	} else {
		t_meta(b, key, 2);
		t_cmp(b, 2, FN_CMP_EQ, want, len);
	}
	t_verdict(b, FN_V_DROP, 0);
	s = t_load(b);
	if (clk)
		fn_nft_state_set_clock(s, t_mono, t_real, clk);
	v = t_run(s, FN_HOOK_INPUT, t, NULL);
	t_free(s);
	return v;
}

static void check(uint8_t key, const void *want, uint8_t len, struct tpkt *t,
		  struct tclock *clk, enum fn_verdict expect)
{
	int fused;

	for (fused = 0; fused < 2; fused++)
		assert_int_equal(meta_is(key, want, len, fused, t, clk), expect);
}

/* `meta KEY != want drop`, unfused. */
static enum fn_verdict meta_is_not(uint8_t key, const void *want, uint8_t len,
				   struct tpkt *t)
{
	struct fn_imgb *b = t_builder();
	struct fn_nft_state *s;
	enum fn_verdict v;

	fn_imgb_table(b, "t", FN_FAMILY_INET, 0);
	fn_imgb_chain(b, "in", FN_HOOK_INPUT, 0, FN_POLICY_ACCEPT);
	fn_imgb_rule(b, 0, 1);
	t_meta(b, key, 2);
	t_cmp(b, 2, FN_CMP_NEQ, want, len);
	t_verdict(b, FN_V_DROP, 0);
	s = t_load(b);
	v = t_run(s, FN_HOOK_INPUT, t, NULL);
	t_free(s);
	return v;
}

static void test_packet_keys(void **state)
{
	struct tpkt t;
	uint32_t len = 28 + 5, mark = 0xdeadbeef, iif = 3, cpu = 1;
	uint8_t proto[4] = { 0x08, 0x00, 0, 0 }, nfproto[4] = { 2, 0, 0, 0 };
	uint8_t l4[4] = { 17, 0, 0, 0 }, pkttype[4] = { FN_PKT_BROADCAST, 0, 0, 0 };
	char name[16] = "veth0", none[16] = { 0 };

	(void)state;
	t_udp(&t, IP4(1, 1, 1, 1), IP4(2, 2, 2, 2), 7, 8, 5);
	t.pkt.mark = mark;
	t.pkt.iif = iif;
	t.pkt.iifname = "veth0";
	t.pkt.cpu = (uint16_t)cpu;
	t.pkt.pkttype = FN_PKT_BROADCAST;
	check(FN_META_LEN, &len, 4, &t, NULL, FN_DROP);
	check(FN_META_PROTOCOL, proto, 2, &t, NULL, FN_DROP);
	check(FN_META_NFPROTO, nfproto, 4, &t, NULL, FN_DROP);
	check(FN_META_L4PROTO, l4, 4, &t, NULL, FN_DROP);
	check(FN_META_MARK, &mark, 4, &t, NULL, FN_DROP);
	check(FN_META_IIF, &iif, 4, &t, NULL, FN_DROP);
	check(FN_META_IIFNAME, name, 16, &t, NULL, FN_DROP);
	/* no output interface on input: index 0, empty name */
	check(FN_META_OIFNAME, none, 16, &t, NULL, FN_DROP);
	check(FN_META_OIF, none, 4, &t, NULL, FN_DROP);
	check(FN_META_CPU, &cpu, 4, &t, NULL, FN_DROP);
	check(FN_META_PKTTYPE, pkttype, 4, &t, NULL, FN_DROP);
	/* a wildcard name "vet*" compares a 3-byte prefix */
	check(FN_META_IIFNAME, "vet", 3, &t, NULL, FN_DROP);
	check(FN_META_IIFNAME, "eth", 3, &t, NULL, FN_ACCEPT);
}

/* l4proto as nft compares it (one byte, the interpreter's inline case) and
 * as a whole register. */
static void test_l4proto_without_valid_header(void **state)
{
	struct tpkt t;
	uint8_t l4[4] = { 17, 0, 0, 0 }, tcp[1] = { 6 };

	(void)state;
	t_udp(&t, IP4(1, 1, 1, 1), IP4(2, 2, 2, 2), 7, 8, 5);
	check(FN_META_L4PROTO, l4, 1, &t, NULL, FN_DROP);
	check(FN_META_L4PROTO, tcp, 1, &t, NULL, FN_ACCEPT);
	/* later fragments still have a protocol */
	t.buf[7] = 10;
	check(FN_META_L4PROTO, l4, 4, &t, NULL, FN_DROP);
	check(FN_META_L4PROTO, l4, 1, &t, NULL, FN_DROP);
	/* an IPv4 header that does not parse has none: BREAK */
	t_udp(&t, IP4(1, 1, 1, 1), IP4(2, 2, 2, 2), 7, 8, 5);
	t.buf[0] = 0x44;
	check(FN_META_L4PROTO, l4, 4, &t, NULL, FN_ACCEPT);
	check(FN_META_L4PROTO, l4, 1, &t, NULL, FN_ACCEPT);
}

/* meta iiftype/oiftype: ARPHRD_ETHER (1, host order, 2 bytes) for the
 * device the packet has; BREAK where it has none (no input device on
 * output, no output device on input), so even `!= ether` does not match. */
static void test_iftype(void **state)
{
	uint16_t ether = 1, loopback = 772;
	struct tpkt t;

	(void)state;
	t_udp(&t, IP4(1, 1, 1, 1), IP4(2, 2, 2, 2), 7, 8, 0);
	t.pkt.iif = 3;
	t.pkt.iifname = "veth0";
	check(FN_META_IIFTYPE, &ether, 2, &t, NULL, FN_DROP);
	check(FN_META_IIFTYPE, &loopback, 2, &t, NULL, FN_ACCEPT);
	check(FN_META_OIFTYPE, &ether, 2, &t, NULL, FN_ACCEPT);
	assert_int_equal(meta_is_not(FN_META_OIFTYPE, &loopback, 2, &t), FN_ACCEPT);
	assert_int_equal(meta_is_not(FN_META_IIFTYPE, &loopback, 2, &t), FN_DROP);

	t_udp(&t, IP4(2, 2, 2, 2), IP4(1, 1, 1, 1), 8, 7, 0);
	t.pkt.oif = 3;
	t.pkt.oifname = "veth0";
	check(FN_META_OIFTYPE, &ether, 2, &t, NULL, FN_DROP);
	check(FN_META_IIFTYPE, &ether, 2, &t, NULL, FN_ACCEPT);
	assert_int_equal(meta_is_not(FN_META_IIFTYPE, &loopback, 2, &t), FN_ACCEPT);
}

static void test_time_keys(void **state)
{
	struct tclock clk = { .mono = 1, .real = 0 };
	struct tpkt t;
	/* 2024-01-03 (a Wednesday) 13:14:15 UTC */
	uint64_t secs = 1704287655ull;
	uint32_t hour = 13 * 3600 + 14 * 60 + 15;
	uint8_t day[1] = { 3 };
	uint64_t ns;

	(void)state;
	clk.real = secs * 1000000000ull + 5;
	ns = clk.real;
	t_udp(&t, IP4(1, 1, 1, 1), IP4(2, 2, 2, 2), 7, 8, 0);
	check(FN_META_TIME_HOUR, &hour, 4, &t, &clk, FN_DROP);
	check(FN_META_TIME_NS, &ns, 8, &t, &clk, FN_DROP);
	check(FN_META_TIME_DAY, day, 1, &t, &clk, FN_DROP);
}

static void test_mark_set(void **state)
{
	struct fn_imgb *b = t_builder();
	struct fn_op_meta_set *o;
	struct fn_nft_state *s;
	uint32_t mark = 0x42;
	struct tpkt t;

	(void)state;
	fn_imgb_table(b, "t", FN_FAMILY_INET, 0);
	fn_imgb_chain(b, "in", FN_HOOK_INPUT, 0, FN_POLICY_ACCEPT);
	fn_imgb_rule(b, 0, 1);
	t_imm(b, 1, &mark, 4);
	o = fn_imgb_op(b, FN_OP_META_SET, sizeof(*o));
	o->key = FN_META_MARK;
	o->sreg = 1;
	fn_imgb_rule(b, 0, 2);          /* the next rule sees the new mark */
	t_meta(b, FN_META_MARK, 0);
	t_cmp32(b, 0, FN_CMP_EQ, 0x42);
	t_verdict(b, FN_V_DROP, 0);
	s = t_load(b);
	t_udp(&t, IP4(1, 1, 1, 1), IP4(2, 2, 2, 2), 7, 8, 0);
	assert_int_equal(t_run(s, FN_HOOK_INPUT, &t, NULL), FN_DROP);
	assert_int_equal(t.pkt.mark, 0x42);
	t_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		T_TEST(test_packet_keys),
		T_TEST(test_l4proto_without_valid_header),
		T_TEST(test_iftype),
		T_TEST(test_time_keys),
		T_TEST(test_mark_set),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
