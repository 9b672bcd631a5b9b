/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Classify ops (image.h) change nothing but speed: random rulesets of simple
 * rules (prefixes, ports, ranges, overlapping), broken up by rules that are
 * not simple, are built with and without them, and every random packet gets
 * the same verdict from the same rule, and every counter the same count.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nft_test.h"

static uint32_t rng;

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 17;
	rng ^= rng << 5;
	return rng;
}

/* Values drawn from a small pool, so that rules overlap and packets hit. */
static uint32_t pool_addr(void)
{
	static const uint32_t pool[] = { IP4(10, 0, 0, 1), IP4(10, 0, 1, 7), IP4(10, 1, 2, 3),
					 IP4(192, 168, 1, 1), IP4(192, 168, 1, 200),
					 IP4(172, 16, 5, 5), IP4(0, 0, 0, 0), IP4(255, 255, 255, 255) };

	return rnd() % 4 ? pool[rnd() % 8] : rnd();
}

static uint16_t pool_port(void)
{
	static const uint16_t pool[] = { 0, 1, 53, 80, 443, 1000, 1024, 8080, 65535 };

	return rnd() % 4 ? pool[rnd() % 9] : (uint16_t)rnd();
}

static void be(uint8_t *out, uint32_t v, unsigned len)
{
	unsigned i;

	for (i = 0; i < len; i++)
		out[i] = (uint8_t)(v >> (8 * (len - 1 - i)));
}

/* ip saddr/daddr ADDR/PLEN as nft lowers it: a shorter load for whole
 * bytes, else load, mask and compare. */
static void prefix(struct fn_imgb *b, uint8_t off, uint32_t addr, unsigned plen)
{
	uint32_t mask = plen ? ~0u << (32 - plen) : 0;
	uint8_t d[4];

	if (plen % 8 == 0 && plen) {
		be(d, addr >> (32 - plen), plen / 8);
		t_payload_cmp(b, FN_PAYLOAD_NETWORK, off, (uint8_t)(plen / 8), FN_CMP_EQ, d);
		return;
	}
	struct fn_op_bitwise *o;

	t_payload(b, FN_PAYLOAD_NETWORK, off, 4, 1);
	o = fn_imgb_op(b, FN_OP_BITWISE, sizeof(*o) + 8);
	if (o) {
		o->sreg = 1;
		o->dreg = 1;
		o->len = 4;
		be((uint8_t *)&o->data[0], mask, 4);
	}
	be(d, addr & mask, 4);
	t_cmp(b, 1, FN_CMP_EQ, d, 4);
}

static void udp_check(struct fn_imgb *b)
{
	struct fn_op_meta_cmp *o = fn_imgb_op(b, FN_OP_META_CMP, sizeof(*o) + 4);

	if (o) {
		o->key = FN_META_L4PROTO;
		o->op = FN_CMP_EQ;
		o->len = 1;
		((uint8_t *)o->data)[0] = 17;
	}
}

/* udp sport/dport: equal, a range, or an order compare. */
static void port(struct fn_imgb *b, uint8_t off)
{
	uint16_t p = pool_port(), q = pool_port();
	uint8_t d[2];

	udp_check(b);
	switch (rnd() % 3) {
	case 0:
		be(d, p, 2);
		t_payload_cmp(b, FN_PAYLOAD_TRANSPORT, off, 2, FN_CMP_EQ, d);
		break;
	case 1: {
		struct fn_op_range *o;

		t_payload(b, FN_PAYLOAD_TRANSPORT, off, 2, 2);
		o = fn_imgb_op(b, FN_OP_RANGE, sizeof(*o) + 8);
		if (o) {
			o->sreg = 2;
			o->op = FN_CMP_EQ;
			o->len = 2;
			be((uint8_t *)&o->data[0], p < q ? p : q, 2);
			be((uint8_t *)&o->data[1], p < q ? q : p, 2);
		}
		break;
	}
	default:
		t_payload(b, FN_PAYLOAD_TRANSPORT, off, 2, 3);
		be(d, p, 2);
		t_cmp(b, 3, (uint8_t)(FN_CMP_LT + rnd() % 4), d, 2);
		break;
	}
}

/* A rule of chain: mostly simple, some not (a compare after the counter,
 * a != compare); verdicts of every kind, jumps to chain `sub`. */
static void random_rule(struct fn_imgb *b, uint32_t chain, uint64_t handle, uint32_t sub)
{
	unsigned kind = rnd() % 10, fields = 1 + rnd() % 2, i;
	int counted = 0;

	fn_imgb_rule(b, chain, handle);
	if (kind == 0) {        /* side effect first: not simple */
		t_counter(b, chain, handle);
		counted = 1;
	}
	for (i = 0; i < fields; i++) {
		switch (rnd() % 4) {
		case 0: prefix(b, 12, pool_addr(), rnd() % 33); break;
		case 1: prefix(b, 16, pool_addr(), rnd() % 33); break;
		case 2: port(b, 0); break;
		default: port(b, 2); break;
		}
	}
	if (kind == 1) {        /* != : not an interval */
		uint8_t d[2];

		be(d, pool_port(), 2);
		t_payload_cmp(b, FN_PAYLOAD_TRANSPORT, 2, 2, FN_CMP_NEQ, d);
	}
	if (!counted && rnd() % 4)
		t_counter(b, chain, handle);
	switch (rnd() % 8) {
	case 0: t_verdict(b, FN_V_CONTINUE, 0); break;
	case 1: if (chain != sub) { t_verdict(b, FN_V_JUMP, sub); break; }
		/* fall through */
	case 2: t_verdict(b, chain == sub ? FN_V_RETURN : FN_V_DROP, 0); break;
	case 3: t_verdict(b, FN_V_DROP, 0); break;
	default: t_verdict(b, FN_V_ACCEPT, 0); break;
	}
}

#define N_HANDLES 400

/* The same ruleset from `seed`, with or without classify ops. */
static struct fn_imgb *ruleset(uint32_t seed, bool classify, unsigned *n_handles)
{
	struct fn_imgb *b = t_builder();
	unsigned n_in = 4 + seed % 150, n_sub = seed % 20, r;
	uint64_t h = 1;

	rng = seed * 2654435761u + 1;
	fn_imgb_table(b, "t", FN_FAMILY_INET, 0);
	fn_imgb_classify(b, classify);
	fn_imgb_chain(b, "in", FN_HOOK_INPUT, 0, rnd() % 2 ? FN_POLICY_ACCEPT : FN_POLICY_DROP);
	fn_imgb_chain(b, "sub", FN_CHAIN_REGULAR, 0, 0);
	for (r = 0; r < n_in; r++)
		random_rule(b, 0, h++, 1);
	for (r = 0; r < n_sub; r++)
		random_rule(b, 1, h++, 1);
	*n_handles = (unsigned)h;
	return b;
}

static void random_packet(struct tpkt *t)
{
	if (rnd() % 8 == 0) {
		t_icmp(t, pool_addr(), pool_addr(), 8, 0, (uint16_t)rnd(), 1);
		return;
	}
	t_udp(t, pool_addr(), pool_addr(), pool_port(), pool_port(), rnd() % 8);
	if (rnd() % 10 == 0) {  /* a later fragment: no transport header */
		t->buf[6] = 0x00;
		t->buf[7] = 0x10;
		t_ip_csum(t);
	}
}

static void test_same_as_linear(void **state)
{
	unsigned seed, runs = 0;

	(void)state;
	for (seed = 1; seed <= 60; seed++) {
		struct fn_nft_state *lin, *cls;
		unsigned n, n2, i;
		size_t len;
		void *img;
		char err[256];
		const struct fn_img_header *hdr;

		lin = t_load(ruleset(seed, false, &n));
		img = t_image(ruleset(seed, true, &n2), &len);
		if (fn_nft_image_check(img, len, err, sizeof(err)))
			fail_msg("seed %u: classified image refused: %s", seed, err);
		hdr = img;
		runs += hdr->classify.len > 0;
		cls = t_state(fn_nft_state_new(img, len));
		assert_non_null(cls);

		rng = seed * 7919u + 3;
		for (i = 0; i < 300; i++) {
			struct fn_nft_result a, c;
			struct tpkt t;

			random_packet(&t);
			fn_nft_eval(lin, FN_HOOK_INPUT, &t.pkt, &a);
			fn_nft_eval(cls, FN_HOOK_INPUT, &t.pkt, &c);
			if (a.verdict != c.verdict || a.rule_handle != c.rule_handle ||
			    strcmp(a.chain ? a.chain : "", c.chain ? c.chain : "") != 0)
				fail_msg("seed %u packet %u: %d/%llu/%s linear, %d/%llu/%s classified",
					 seed, i, a.verdict, (unsigned long long)a.rule_handle,
					 a.chain ? a.chain : "-", c.verdict,
					 (unsigned long long)c.rule_handle, c.chain ? c.chain : "-");
		}
		for (i = 1; i < n; i++)
			assert_int_equal(t_rule_packets(lin, i), t_rule_packets(cls, i));
		t_free(cls);
		t_free(lin);
		t_free(img);
	}
	/* the property is not vacuous: most rulesets have runs */
	assert_true(runs >= 30);
}

/* 1000 prefix rules: one classify op, the last rule found directly. */
static void test_long_run(void **state)
{
	struct fn_imgb *b = t_builder();
	struct fn_nft_state *s;
	struct tpkt t;
	uint64_t h;
	uint32_t r;

	(void)state;
	fn_imgb_table(b, "t", FN_FAMILY_INET, 0);
	fn_imgb_classify(b, true);
	fn_imgb_chain(b, "in", FN_HOOK_INPUT, 0, FN_POLICY_ACCEPT);
	for (r = 0; r < 1000; r++) {
		fn_imgb_rule(b, 0, r + 1);
		prefix(b, 12, IP4(10, (r >> 8) & 0xff, r & 0xff, 0), 24);
		t_counter(b, 0, r + 1);
		t_verdict(b, FN_V_DROP, 0);
	}
	s = t_load(b);
	t_udp(&t, IP4(10, 3, 231, 9), IP4(1, 1, 1, 1), 1, 2, 0);
	assert_int_equal(t_run(s, FN_HOOK_INPUT, &t, &h), FN_DROP);
	assert_int_equal(h, 1000);
	assert_int_equal(t_rule_packets(s, 1000), 1);
	t_udp(&t, IP4(11, 0, 0, 1), IP4(1, 1, 1, 1), 1, 2, 0);
	assert_int_equal(t_run(s, FN_HOOK_INPUT, &t, &h), FN_ACCEPT);
	assert_int_equal(h, 0);
}

/* The verifier refuses a table the eval could be misled by. */
static void test_verifier_checks_tables(void **state)
{
	struct fn_imgb *b = t_builder();
	struct fn_img_header *h;
	struct fn_img_classify *t;
	uint32_t *cuts, *first, r;
	uint8_t *img, *copy;
	char err[256];
	size_t len;

	(void)state;
	fn_imgb_table(b, "t", FN_FAMILY_INET, 0);
	fn_imgb_classify(b, true);
	fn_imgb_chain(b, "in", FN_HOOK_INPUT, 0, FN_POLICY_ACCEPT);
	for (r = 0; r < 10; r++) {
		fn_imgb_rule(b, 0, r + 1);
		prefix(b, 12, IP4(10, 0, r, 0), 24);
		t_verdict(b, FN_V_DROP, 0);
	}
	img = t_image(b, &len);
	assert_int_equal(fn_nft_image_check(img, len, err, sizeof(err)), 0);
	h = (void *)img;
	assert_true(h->classify.len > sizeof(*t));
	copy = t_own(malloc(len), free);
	assert_non_null(copy);

#define REFUSED(edit) do {						\
		memcpy(copy, img, len);					\
		h = (void *)copy;					\
		t = (void *)(copy + h->classify.off);			\
		cuts = t->data;						\
		first = cuts + t->field[0].n_cuts;			\
		edit;							\
		assert_int_not_equal(fn_nft_image_check(copy, len, err, sizeof(err)), 0); \
	} while (0)

	REFUSED(t->n_rules = 11);                         /* past the chain */
	REFUSED(t->n_rules = 3);                          /* too short a run */
	REFUSED(t->words = 2);
	REFUSED(t->n_fields = 2);                         /* an empty field */
	REFUSED(t->field[0].base = FN_PAYLOAD_LINK);
	REFUSED(t->field[0].len = 5);
	REFUSED(t->field[0].n_cuts = 1000);               /* past the section */
	REFUSED(cuts[1] = cuts[0]);                       /* not ascending */
	REFUSED(cuts[0] = 0xffffffffu; t->field[0].len = 3);
	REFUSED(first[1] = 1);                            /* a wrong first word */
	REFUSED(first[first - cuts + 1 + 1] |= 1u << 10); /* a bit past the run */
	REFUSED(((struct fn_op_classify *)(copy + h->code.off +
		 ((struct fn_img_rule *)(copy + h->rules.off))[0].code_off))->table = 4);
#undef REFUSED
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		T_TEST(test_same_as_linear),
		T_TEST(test_long_run),
		T_TEST(test_verifier_checks_tables),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
