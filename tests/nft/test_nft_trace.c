/* SPDX-License-Identifier: BSD-3-Clause */
/* The traced run: the events of jump, goto, return, continue, chain ends and
 * policies, the cap, and verdicts and state equal to the untraced run's. */
#include <stdio.h>
#include <string.h>

#include "nft_test.h"
#include "nft/trace.h"

#define NONE FN_IMG_NONE

/* Rule: udp dport == port -> verdict, counted. */
static void port_rule(struct fn_imgb *b, uint32_t chain, uint64_t handle,
		      uint16_t port, int32_t code, uint32_t target)
{
	uint8_t be[2] = { (uint8_t)(port >> 8), (uint8_t)port };

	fn_imgb_rule(b, chain, handle);
	t_payload_cmp(b, FN_PAYLOAD_TRANSPORT, 2, 2, FN_CMP_EQ, be);
	t_counter(b, chain, handle);
	t_verdict(b, code, target);
}

/*
 * in (input, policy drop): 10 counter; 11 jump sub; 12 port 1 accept;
 *                          13 port 5 goto sub2
 * sub: 20 port 2 drop; 21 port 3 return
 * sub2: 30 port 5 accept
 */
static struct fn_nft_state *ruleset(void)
{
	struct fn_imgb *b = t_builder();

	fn_imgb_table(b, "t", FN_FAMILY_INET, 0);
	fn_imgb_chain(b, "in", FN_HOOK_INPUT, 0, FN_POLICY_DROP);
	fn_imgb_chain(b, "sub", FN_CHAIN_REGULAR, 0, 0);
	fn_imgb_chain(b, "sub2", FN_CHAIN_REGULAR, 0, 0);
	fn_imgb_rule(b, 0, 10);
	t_counter(b, 0, 10);
	fn_imgb_rule(b, 0, 11);
	t_verdict(b, FN_V_JUMP, 1);
	port_rule(b, 0, 12, 1, FN_V_ACCEPT, 0);
	port_rule(b, 0, 13, 5, FN_V_GOTO, 2);
	port_rule(b, 1, 20, 2, FN_V_DROP, 0);
	port_rule(b, 1, 21, 3, FN_V_RETURN, 0);
	port_rule(b, 2, 30, 5, FN_V_ACCEPT, 0);
	return t_load(b);
}

struct want {
	uint8_t kind;
	uint32_t chain;
	uint64_t handle;
	int32_t verdict;
	uint32_t target;
};

static void check_trace(const struct fn_trace *t, const struct want *w, unsigned n)
{
	assert_int_equal(t->n, n);
	assert_int_equal(t->lost, 0);
	for (unsigned i = 0; i < n; i++) {
		const struct fn_trace_ev *e = &t->ev[i];

		assert_int_equal(e->kind, w[i].kind);
		assert_int_equal(e->chain, w[i].chain);
		assert_int_equal(e->handle, w[i].handle);
		assert_int_equal(e->verdict, w[i].verdict);
		assert_int_equal(e->target, w[i].target);
		assert_int_equal(e->hook, FN_HOOK_INPUT);
	}
}

static enum fn_verdict traced(struct fn_nft_state *s, uint16_t port, struct fn_trace *t,
			      struct fn_nft_result *r)
{
	struct tpkt p;

	t_udp(&p, IP4(1, 1, 1, 1), IP4(2, 2, 2, 2), 7, port, 0);
	return fn_nft_eval_traced(s, FN_HOOK_INPUT, &p.pkt, r, t);
}

#define CHECK(t, ...) do { \
	static const struct want w_[] = { __VA_ARGS__ }; \
	check_trace(t, w_, sizeof(w_) / sizeof(w_[0])); \
} while (0)

static void test_paths(void **state)
{
	struct fn_nft_state *s = ruleset();
	struct fn_nft_result r;
	struct fn_trace t;

	(void)state;
	/* jump, nothing in sub, back to in where 12 accepts */
	assert_int_equal(traced(s, 1, &t, &r), FN_ACCEPT);
	CHECK(&t, { FN_TRACE_RULE, 0, 10, FN_V_CONTINUE, NONE },
	      { FN_TRACE_RULE, 0, 11, FN_V_JUMP, 1 },
	      { FN_TRACE_CHAIN_END, 1, 0, FN_V_RETURN, NONE },
	      { FN_TRACE_RULE, 0, 12, FN_V_ACCEPT, NONE });
	/* drop in the jumped-to chain */
	assert_int_equal(traced(s, 2, &t, &r), FN_DROP);
	CHECK(&t, { FN_TRACE_RULE, 0, 10, FN_V_CONTINUE, NONE },
	      { FN_TRACE_RULE, 0, 11, FN_V_JUMP, 1 },
	      { FN_TRACE_RULE, 1, 20, FN_V_DROP, NONE });
	/* an explicit return, then the end of in and its policy */
	assert_int_equal(traced(s, 3, &t, &r), FN_DROP);
	CHECK(&t, { FN_TRACE_RULE, 0, 10, FN_V_CONTINUE, NONE },
	      { FN_TRACE_RULE, 0, 11, FN_V_JUMP, 1 },
	      { FN_TRACE_RULE, 1, 21, FN_V_RETURN, NONE },
	      { FN_TRACE_CHAIN_END, 0, 0, FN_V_RETURN, NONE },
	      { FN_TRACE_POLICY, 0, 0, FN_V_DROP, NONE });
	assert_int_equal(r.rule_handle, 0);
	assert_string_equal(r.chain, "in");
	/* goto: sub2 accepts */
	assert_int_equal(traced(s, 5, &t, &r), FN_ACCEPT);
	CHECK(&t, { FN_TRACE_RULE, 0, 10, FN_V_CONTINUE, NONE },
	      { FN_TRACE_RULE, 0, 11, FN_V_JUMP, 1 },
	      { FN_TRACE_CHAIN_END, 1, 0, FN_V_RETURN, NONE },
	      { FN_TRACE_RULE, 0, 13, FN_V_GOTO, 2 },
	      { FN_TRACE_RULE, 2, 30, FN_V_ACCEPT, NONE });
	assert_string_equal(r.chain, "sub2");
	assert_string_equal(fn_nft_chain_name(s, 2), "sub2");
	assert_null(fn_nft_chain_name(s, 3));
	assert_null(fn_nft_chain_name(s, NONE));
	/* a hook without base chains: no event, accepted */
	{
		struct tpkt p;

		t_udp(&p, IP4(1, 1, 1, 1), IP4(2, 2, 2, 2), 7, 1, 0);
		assert_int_equal(fn_nft_eval_traced(s, FN_HOOK_OUTPUT, &p.pkt, NULL, &t),
				 FN_ACCEPT);
		assert_int_equal(t.n, 0);
	}
	t_free(s);
}

/* The same packets through two states of one image, one traced: the same
 * verdicts, deciding rules and counters. */
static void test_same_effects(void **state)
{
	struct fn_nft_state *a = ruleset(), *b = ruleset();
	static const uint64_t handles[] = { 10, 11, 12, 13, 20, 21, 30 };
	struct fn_trace t;

	(void)state;
	for (uint16_t port = 0; port < 8; port++) {
		struct fn_nft_result ra, rb;
		struct tpkt p;

		t_udp(&p, IP4(1, 1, 1, 1), IP4(2, 2, 2, 2), 7, port, 0);
		fn_nft_eval(a, FN_HOOK_INPUT, &p.pkt, &ra);
		assert_int_equal(traced(b, port, &t, &rb), ra.verdict);
		assert_int_equal(rb.rule_handle, ra.rule_handle);
		assert_string_equal(rb.chain, ra.chain);
	}
	for (unsigned i = 0; i < sizeof(handles) / sizeof(handles[0]); i++)
		assert_int_equal(t_rule_packets(b, handles[i]), t_rule_packets(a, handles[i]));
	assert_int_equal(t_rule_packets(b, 10), 8);
	t_free(a);
	t_free(b);
}

/* More events than the cap: the first FN_TRACE_MAX_EVENTS kept, the rest
 * counted; the verdict is unaffected. */
static void test_cap(void **state)
{
	struct fn_imgb *b = t_builder();
	struct fn_nft_state *s;
	struct fn_nft_result r;
	struct fn_trace t;
	unsigned n = FN_TRACE_MAX_EVENTS + 8;

	(void)state;
	fn_imgb_table(b, "t", FN_FAMILY_INET, 0);
	fn_imgb_chain(b, "in", FN_HOOK_INPUT, 0, FN_POLICY_ACCEPT);
	for (unsigned i = 0; i < n; i++) {
		fn_imgb_rule(b, 0, 100 + i);
		t_counter(b, 0, 100 + i);
	}
	s = t_load(b);
	assert_int_equal(traced(s, 1, &t, &r), FN_ACCEPT);
	assert_int_equal(t.n, FN_TRACE_MAX_EVENTS);
	assert_int_equal(t.lost, n + 2 - FN_TRACE_MAX_EVENTS); /* + chain end, policy */
	assert_int_equal(t.ev[FN_TRACE_MAX_EVENTS - 1].handle, 100 + FN_TRACE_MAX_EVENTS - 1);
	/* the next run starts afresh */
	assert_int_equal(traced(s, 1, &t, &r), FN_ACCEPT);
	assert_int_equal(t.n, FN_TRACE_MAX_EVENTS);
	assert_int_equal(t.lost, n + 2 - FN_TRACE_MAX_EVENTS);
	t_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		T_TEST(test_paths),
		T_TEST(test_same_effects),
		T_TEST(test_cap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
