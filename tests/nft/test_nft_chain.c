/* SPDX-License-Identifier: BSD-3-Clause */
/* Verdicts, jump/goto/return, policies and the order of base chains. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nft_test.h"

static struct fn_imgb *table(void)
{
	struct fn_imgb *b = t_builder();

	fn_imgb_table(b, "t", FN_FAMILY_INET, 0);
	return b;
}

/* Rule: udp dport == port -> verdict. */
static void port_rule(struct fn_imgb *b, uint32_t chain, uint64_t handle,
		      uint16_t port, int32_t code, uint32_t target)
{
	uint8_t be[2] = { (uint8_t)(port >> 8), (uint8_t)port };

	fn_imgb_rule(b, chain, handle);
	t_payload_cmp(b, FN_PAYLOAD_TRANSPORT, 2, 2, FN_CMP_EQ, be);
	t_counter(b, chain, handle);
	t_verdict(b, code, target);
}

static enum fn_verdict run_port(struct fn_nft_state *s, uint16_t port, uint64_t *h,
				const char **chain)
{
	struct fn_nft_result r;
	struct tpkt t;

	t_udp(&t, IP4(1, 1, 1, 1), IP4(2, 2, 2, 2), 7, port, 0);
	fn_nft_eval(s, FN_HOOK_INPUT, &t.pkt, &r);
	*h = r.rule_handle;
	if (chain)
		*chain = r.chain;
	return r.verdict;
}

static void test_jump_goto_return(void **state)
{
	struct fn_imgb *b = table();
	struct fn_nft_state *s;
	const char *chain;
	uint64_t h;

	(void)state;
	/* in (policy drop): jump sub; port 1 accept; port 5 goto sub2;
	 * port 6 continue; port 6 accept
	 * sub: port 2 drop; port 3 return; port 1 counter only
	 * sub2: port 5 accept if reached; falls off to in's caller (policy) */
	fn_imgb_chain(b, "in", FN_HOOK_INPUT, 0, FN_POLICY_DROP);
	fn_imgb_chain(b, "sub", FN_CHAIN_REGULAR, 0, 0);
	fn_imgb_chain(b, "sub2", FN_CHAIN_REGULAR, 0, 0);
	fn_imgb_rule(b, 0, 10);
	t_verdict(b, FN_V_JUMP, 1);
	port_rule(b, 0, 11, 1, FN_V_ACCEPT, 0);
	port_rule(b, 0, 12, 3, FN_V_ACCEPT, 0);
	port_rule(b, 0, 13, 5, FN_V_GOTO, 2);
	port_rule(b, 0, 14, 6, FN_V_CONTINUE, 0);
	port_rule(b, 0, 15, 6, FN_V_ACCEPT, 0);
	port_rule(b, 0, 16, 7, FN_V_GOTO, 2);
	port_rule(b, 1, 20, 2, FN_V_DROP, 0);
	port_rule(b, 1, 21, 3, FN_V_RETURN, 0);
	port_rule(b, 2, 30, 5, FN_V_ACCEPT, 0);
	s = t_load(b);

	assert_int_equal(run_port(s, 1, &h, &chain), FN_ACCEPT);   /* back from sub */
	assert_int_equal(h, 11);
	assert_string_equal(chain, "in");
	assert_int_equal(run_port(s, 2, &h, &chain), FN_DROP);     /* in sub */
	assert_int_equal(h, 20);
	assert_string_equal(chain, "sub");
	assert_int_equal(run_port(s, 3, &h, NULL), FN_ACCEPT);     /* return */
	assert_int_equal(h, 12);
	assert_int_equal(run_port(s, 5, &h, &chain), FN_ACCEPT);   /* goto */
	assert_int_equal(h, 30);
	assert_string_equal(chain, "sub2");
	assert_int_equal(run_port(s, 6, &h, NULL), FN_ACCEPT);     /* continue */
	assert_int_equal(h, 15);
	/* goto sub2, no match there: no return to in, the policy decides */
	assert_int_equal(run_port(s, 7, &h, &chain), FN_DROP);
	assert_int_equal(h, 0);
	assert_string_equal(chain, "in");
	assert_int_equal(run_port(s, 9, &h, NULL), FN_DROP);       /* policy */
	assert_int_equal(h, 0);
	assert_int_equal(t_rule_packets(s, 14), 1);
	assert_int_equal(t_rule_packets(s, 16), 1);
	t_free(s);
}

/* accept ends one base chain; the next one on the hook still runs, in
 * priority order; drop is final. */
static void test_base_chain_order(void **state)
{
	struct fn_imgb *b = table();
	struct fn_nft_state *s;
	const char *chain;
	uint64_t h;

	(void)state;
	fn_imgb_chain(b, "first", FN_HOOK_INPUT, -10, FN_POLICY_ACCEPT);
	fn_imgb_chain(b, "second", FN_HOOK_INPUT, 10, FN_POLICY_ACCEPT);
	port_rule(b, 0, 1, 1, FN_V_ACCEPT, 0);
	port_rule(b, 0, 2, 2, FN_V_DROP, 0);
	port_rule(b, 1, 3, 1, FN_V_DROP, 0);
	port_rule(b, 1, 4, 2, FN_V_ACCEPT, 0);
	s = t_load(b);
	assert_int_equal(run_port(s, 1, &h, &chain), FN_DROP);
	assert_int_equal(h, 3);
	assert_string_equal(chain, "second");
	assert_int_equal(run_port(s, 2, &h, &chain), FN_DROP);
	assert_int_equal(h, 2);
	assert_int_equal(t_rule_packets(s, 4), 0);
	assert_int_equal(run_port(s, 3, &h, &chain), FN_ACCEPT);
	assert_int_equal(h, 0);
	assert_string_equal(chain, "second");
	t_free(s);
}

static enum fn_verdict resume_port(struct fn_nft_state *s, uint16_t port,
				   uint32_t chain, uint32_t rule, uint64_t *h)
{
	struct fn_nft_result r;
	struct tpkt t;

	t_udp(&t, IP4(1, 1, 1, 1), IP4(2, 2, 2, 2), 7, port, 0);
	fn_nft_eval_from(s, FN_HOOK_INPUT, &t.pkt, chain, rule, &r);
	*h = r.rule_handle;
	return r.verdict;
}

/* Resuming where the kernel part stopped: rules before the point are not
 * evaluated (nor counted), the jump stack starts empty, later base chains
 * run, and a point outside the hook's base chains drops. */
static void test_resume(void **state)
{
	struct fn_imgb *b = table();
	struct fn_nft_state *s;
	uint64_t h;

	(void)state;
	fn_imgb_chain(b, "first", FN_HOOK_INPUT, -10, FN_POLICY_ACCEPT);  /* rules 0-2 */
	fn_imgb_chain(b, "second", FN_HOOK_INPUT, 10, FN_POLICY_DROP);    /* rules 3-4 */
	fn_imgb_chain(b, "sub", FN_CHAIN_REGULAR, 0, 0);                  /* rule 5 */
	port_rule(b, 0, 1, 1, FN_V_DROP, 0);
	port_rule(b, 0, 2, 2, FN_V_JUMP, 2);
	port_rule(b, 0, 3, 3, FN_V_ACCEPT, 0);
	port_rule(b, 1, 4, 2, FN_V_ACCEPT, 0);
	port_rule(b, 1, 5, 3, FN_V_ACCEPT, 0);
	port_rule(b, 2, 6, 2, FN_V_RETURN, 0);
	s = t_load(b);

	/* from rule 1: rule 0 (drop port 1) is skipped, policy accept, then
	 * "second" has no rule for port 1: its policy drops */
	assert_int_equal(resume_port(s, 1, 0, 1, &h), FN_DROP);
	assert_int_equal(h, 0);
	assert_int_equal(t_rule_packets(s, 1), 0);
	/* rule 2 accepts, then "second" accepts too and is reported */
	assert_int_equal(resume_port(s, 3, 0, 1, &h), FN_ACCEPT);
	assert_int_equal(h, 5);
	/* the jump from rule 1 returns into rule 2 of the resumed chain */
	assert_int_equal(resume_port(s, 2, 0, 1, &h), FN_ACCEPT);
	assert_int_equal(h, 4);
	assert_int_equal(t_rule_packets(s, 6), 1);
	/* only the policy of "first" left; then "second" */
	assert_int_equal(resume_port(s, 3, 0, 3, &h), FN_ACCEPT);
	assert_int_equal(h, 5);
	/* in the second base chain, at its second rule */
	assert_int_equal(resume_port(s, 2, 1, 4, &h), FN_DROP);
	assert_int_equal(h, 0);
	/* points outside the hook's base chains */
	assert_int_equal(resume_port(s, 3, 2, 5, &h), FN_DROP);
	assert_int_equal(resume_port(s, 3, 1, 2, &h), FN_DROP);
	assert_int_equal(resume_port(s, 3, 0, 4, &h), FN_DROP);
	assert_int_equal(t_rule_packets(s, 5), 2);
	t_free(s);
}

static void test_break_verdict(void **state)
{
	struct fn_imgb *b = table();
	struct fn_nft_state *s;
	uint64_t h;

	(void)state;
	fn_imgb_chain(b, "in", FN_HOOK_INPUT, 0, FN_POLICY_ACCEPT);
	port_rule(b, 0, 1, 1, FN_V_BREAK, 0);
	port_rule(b, 0, 2, 1, FN_V_DROP, 0);
	s = t_load(b);
	assert_int_equal(run_port(s, 1, &h, NULL), FN_DROP);
	assert_int_equal(h, 2);
	t_free(s);
}

/* A chain of n regular chains, each jumping to the next. */
static void *jump_ladder(unsigned n, size_t *len)
{
	struct fn_imgb *b = table();
	unsigned i;

	fn_imgb_chain(b, "in", FN_HOOK_INPUT, 0, FN_POLICY_ACCEPT);
	for (i = 1; i <= n; i++) {
		char name[16];

		snprintf(name, sizeof(name), "c%u", i);
		fn_imgb_chain(b, name, FN_CHAIN_REGULAR, 0, 0);
	}
	for (i = 0; i < n; i++) {
		fn_imgb_rule(b, i, i + 1);
		t_verdict(b, FN_V_JUMP, i + 1);
	}
	fn_imgb_rule(b, n, 100);
	t_verdict(b, FN_V_DROP, 0);
	return t_image(b, len);
}

static void test_depth_limit(void **state)
{
	struct fn_nft_state *s;
	char err[256];
	size_t len;
	void *img;
	uint64_t h;

	(void)state;
	img = jump_ladder(15, &len);     /* 15 jumps deep: the kernel's limit */
	s = t_state(fn_nft_state_new(img, len));
	assert_non_null(s);
	assert_int_equal(run_port(s, 1, &h, NULL), FN_DROP);
	assert_int_equal(h, 100);
	t_free(s);
	t_free(img);

	img = jump_ladder(16, &len);
	assert_int_equal(fn_nft_image_check(img, len, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "jumps deep"));
	assert_null(fn_nft_state_new(img, len));
	assert_int_equal(errno, EBADMSG);
	t_free(img);
}

static void test_refused_graphs(void **state)
{
	char err[256];
	size_t len;
	void *img;

	(void)state;
	{       /* a loop between regular chains, even unreachable */
		struct fn_imgb *b = table();

		fn_imgb_chain(b, "in", FN_HOOK_INPUT, 0, FN_POLICY_ACCEPT);
		fn_imgb_chain(b, "a", FN_CHAIN_REGULAR, 0, 0);
		fn_imgb_chain(b, "b", FN_CHAIN_REGULAR, 0, 0);
		fn_imgb_rule(b, 1, 1);
		t_verdict(b, FN_V_GOTO, 2);
		fn_imgb_rule(b, 2, 2);
		t_verdict(b, FN_V_JUMP, 1);
		img = t_image(b, &len);
		assert_int_equal(fn_nft_image_check(img, len, err, sizeof(err)), -EBADMSG);
		assert_non_null(strstr(err, "loop"));
		t_free(img);
	}
	{       /* jump to a base chain */
		struct fn_imgb *b = table();

		fn_imgb_chain(b, "in", FN_HOOK_INPUT, 0, FN_POLICY_ACCEPT);
		fn_imgb_chain(b, "out", FN_HOOK_OUTPUT, 0, FN_POLICY_ACCEPT);
		fn_imgb_rule(b, 0, 1);
		t_verdict(b, FN_V_JUMP, 1);
		img = t_image(b, &len);
		assert_int_equal(fn_nft_image_check(img, len, err, sizeof(err)), -EBADMSG);
		assert_non_null(strstr(err, "not a regular chain"));
		t_free(img);
	}
	{       /* reject reachable from postrouting */
		struct fn_imgb *b = table();
		struct fn_op_reject *o;

		fn_imgb_chain(b, "post", FN_HOOK_POSTROUTING, 0, FN_POLICY_ACCEPT);
		fn_imgb_chain(b, "r", FN_CHAIN_REGULAR, 0, 0);
		fn_imgb_rule(b, 0, 1);
		t_verdict(b, FN_V_JUMP, 1);
		fn_imgb_rule(b, 1, 2);
		o = fn_imgb_op(b, FN_OP_REJECT, sizeof(*o));
		o->verdict = FN_REJECT_PORT_UNREACH;
		img = t_image(b, &len);
		assert_int_equal(fn_nft_image_check(img, len, err, sizeof(err)), -EBADMSG);
		assert_non_null(strstr(err, "postrouting"));
		t_free(img);
	}
}

static void test_reject_verdicts(void **state)
{
	static const uint8_t kinds[] = {
		FN_REJECT_PORT_UNREACH, FN_REJECT_ADMIN_PROHIB, FN_REJECT_NET_UNREACH,
		FN_REJECT_HOST_UNREACH, FN_REJECT_PROT_UNREACH, FN_REJECT_NET_PROHIB,
		FN_REJECT_HOST_PROHIB,
	};
	unsigned i;

	(void)state;
	for (i = 0; i < sizeof(kinds); i++) {
		struct fn_imgb *b = table();
		struct fn_op_reject *o;
		struct fn_nft_state *s;
		uint64_t h;

		fn_imgb_chain(b, "in", FN_HOOK_INPUT, 0, FN_POLICY_ACCEPT);
		fn_imgb_rule(b, 0, 5);
		o = fn_imgb_op(b, FN_OP_REJECT, sizeof(*o));
		o->verdict = kinds[i];
		s = t_load(b);
		assert_int_equal(run_port(s, 1, &h, NULL), kinds[i]);
		assert_int_equal(h, 5);
		t_free(s);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		T_TEST(test_jump_goto_return),
		T_TEST(test_base_chain_order),
		T_TEST(test_resume),
		T_TEST(test_break_verdict),
		T_TEST(test_depth_limit),
		T_TEST(test_refused_graphs),
		T_TEST(test_reject_verdicts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
