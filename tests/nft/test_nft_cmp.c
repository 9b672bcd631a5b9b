/* SPDX-License-Identifier: BSD-3-Clause */
/* cmp (all operators, memcmp order) and range. */
#include "nft_test.h"

/* A rule `udp dport OP value drop`; returns whether it dropped `port`. */
static int cmp_drops(uint8_t op, uint16_t value, uint16_t port)
{
	struct fn_imgb *b = t_builder();
	uint8_t be[2] = { (uint8_t)(value >> 8), (uint8_t)value };
	struct fn_nft_state *s;
	struct tpkt t;
	int dropped;

	fn_imgb_table(b, "t", FN_FAMILY_INET, 0);
	fn_imgb_chain(b, "in", FN_HOOK_INPUT, 0, FN_POLICY_ACCEPT);
	fn_imgb_rule(b, 0, 1);
	t_payload(b, FN_PAYLOAD_TRANSPORT, 2, 2, 3);
	t_cmp(b, 3, op, be, 2);
	t_verdict(b, FN_V_DROP, 0);
	s = t_load(b);
	t_udp(&t, IP4(1, 1, 1, 1), IP4(2, 2, 2, 2), 7, port, 0);
	dropped = t_run(s, FN_HOOK_INPUT, &t, NULL) == FN_DROP;
	t_free(s);
	return dropped;
}

static void test_cmp_operators(void **state)
{
	(void)state;
	assert_true(cmp_drops(FN_CMP_EQ, 256, 256));
	assert_false(cmp_drops(FN_CMP_EQ, 256, 255));
	assert_true(cmp_drops(FN_CMP_NEQ, 256, 255));
	assert_false(cmp_drops(FN_CMP_NEQ, 256, 256));
	/* big-endian order: 0x0100 > 0x00ff although the low byte is smaller */
	assert_true(cmp_drops(FN_CMP_LT, 256, 255));
	assert_false(cmp_drops(FN_CMP_LT, 256, 256));
	assert_true(cmp_drops(FN_CMP_LTE, 256, 256));
	assert_false(cmp_drops(FN_CMP_LTE, 256, 257));
	assert_true(cmp_drops(FN_CMP_GT, 255, 256));
	assert_false(cmp_drops(FN_CMP_GT, 256, 256));
	assert_true(cmp_drops(FN_CMP_GTE, 256, 256));
	assert_false(cmp_drops(FN_CMP_GTE, 256, 255));
}

static int range_drops(uint8_t op, uint16_t lo, uint16_t hi, uint16_t port)
{
	struct fn_imgb *b = t_builder();
	struct fn_op_range *o;
	uint8_t from[2] = { (uint8_t)(lo >> 8), (uint8_t)lo }, to[2] = { (uint8_t)(hi >> 8), (uint8_t)hi };
	struct fn_nft_state *s;
	struct tpkt t;
	int dropped;

	fn_imgb_table(b, "t", FN_FAMILY_INET, 0);
	fn_imgb_chain(b, "in", FN_HOOK_INPUT, 0, FN_POLICY_ACCEPT);
	fn_imgb_rule(b, 0, 1);
	t_payload(b, FN_PAYLOAD_TRANSPORT, 2, 2, 0);
	o = fn_imgb_op(b, FN_OP_RANGE, sizeof(*o) + 8);
	o->sreg = 0;
	o->op = op;
	o->len = 2;
	fn_imgb_words(o->data, from, 2);
	fn_imgb_words(o->data + 1, to, 2);
	t_verdict(b, FN_V_DROP, 0);
	s = t_load(b);
	t_udp(&t, IP4(1, 1, 1, 1), IP4(2, 2, 2, 2), 7, port, 0);
	dropped = t_run(s, FN_HOOK_INPUT, &t, NULL) == FN_DROP;
	t_free(s);
	return dropped;
}

static void test_range(void **state)
{
	(void)state;
	assert_true(range_drops(FN_CMP_EQ, 10, 300, 10));
	assert_true(range_drops(FN_CMP_EQ, 10, 300, 300));
	assert_true(range_drops(FN_CMP_EQ, 10, 300, 255));
	assert_false(range_drops(FN_CMP_EQ, 10, 300, 9));
	assert_false(range_drops(FN_CMP_EQ, 10, 300, 301));
	assert_true(range_drops(FN_CMP_NEQ, 10, 300, 9));
	assert_true(range_drops(FN_CMP_NEQ, 10, 300, 301));
	assert_false(range_drops(FN_CMP_NEQ, 10, 300, 10));
	assert_false(range_drops(FN_CMP_NEQ, 10, 300, 300));
}

/* Odd lengths use memcmp: a 3-byte prefix of the source address. */
static void test_cmp_odd_length(void **state)
{
	struct fn_imgb *b = t_builder();
	uint8_t prefix[3] = { 10, 1, 2 };
	struct fn_nft_state *s;
	struct tpkt t;

	(void)state;
	fn_imgb_table(b, "t", FN_FAMILY_INET, 0);
	fn_imgb_chain(b, "in", FN_HOOK_INPUT, 0, FN_POLICY_ACCEPT);
	fn_imgb_rule(b, 0, 1);
	t_payload(b, FN_PAYLOAD_NETWORK, 12, 3, 0);
	t_cmp(b, 0, FN_CMP_GTE, prefix, 3);
	t_verdict(b, FN_V_DROP, 0);
	s = t_load(b);
	t_udp(&t, IP4(10, 1, 2, 99), IP4(2, 2, 2, 2), 7, 8, 0);
	assert_int_equal(t_run(s, FN_HOOK_INPUT, &t, NULL), FN_DROP);
	t_udp(&t, IP4(10, 1, 1, 255), IP4(2, 2, 2, 2), 7, 8, 0);
	assert_int_equal(t_run(s, FN_HOOK_INPUT, &t, NULL), FN_ACCEPT);
	t_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		T_TEST(test_cmp_operators),
		T_TEST(test_range),
		T_TEST(test_cmp_odd_length),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
