/* SPDX-License-Identifier: BSD-3-Clause */
/* counter, limit, quota, named objects and log, with a manual clock. */
#include <string.h>

#include "nft_test.h"
#include "nft/nft.h"

#define SEC 1000000000ull

static struct fn_imgb *table(void)
{
	struct fn_imgb *b = t_builder();

	fn_imgb_table(b, "t", FN_FAMILY_INET, 0);
	fn_imgb_chain(b, "in", FN_HOOK_INPUT, 0, FN_POLICY_ACCEPT);
	return b;
}

static enum fn_verdict send(struct fn_nft_state *s, size_t payload)
{
	struct tpkt t;

	t_udp(&t, IP4(1, 1, 1, 1), IP4(2, 2, 2, 2), 7, 8, payload);
	return t_run(s, FN_HOOK_INPUT, &t, NULL);
}

struct seen {
	uint64_t handle, packets, bytes;
	const char *name;
};

static void rule_cb(void *arg, const char *chain, uint64_t handle, uint64_t packets,
		    uint64_t bytes)
{
	struct seen *s = arg;

	assert_string_equal(chain, "in");
	if (handle == s->handle) {
		s->packets = packets;
		s->bytes = bytes;
	}
}

static void obj_cb(void *arg, const char *name, uint64_t packets, uint64_t bytes)
{
	struct seen *s = arg;

	if (!strcmp(name, s->name)) {
		s->packets = packets;
		s->bytes = bytes;
	}
}

static void test_counters(void **state)
{
	struct fn_imgb *b = table();
	struct fn_nft_state *s;
	struct seen seen = { 0 };
	uint32_t named;

	(void)state;
	/* a rule counter that starts at 5/500 (as nft says), a named one */
	named = fn_imgb_counter(b, FN_IMG_NONE, 0, 0, 0);
	fn_imgb_object(b, "c1", FN_OBJ_COUNTER, named);
	fn_imgb_rule(b, 0, 9);
	t_slot(b, FN_OP_COUNTER, fn_imgb_counter(b, 0, 9, 5, 500));
	t_slot(b, FN_OP_COUNTER, named);
	s = t_load(b);
	send(s, 0);
	send(s, 12);
	seen.handle = 9;
	fn_nft_counters(s, rule_cb, &seen);
	assert_int_equal(seen.packets, 7);
	assert_int_equal(seen.bytes, 500 + 28 + 40);
	seen.name = "c1";
	seen.packets = 0;
	fn_nft_named_counters(s, obj_cb, &seen);
	assert_int_equal(seen.packets, 2);
	assert_int_equal(seen.bytes, 68);
	t_free(s);
}

/* limit rate 10/second burst 3 packets accept; policy drop. */
static void test_limit_packets(void **state)
{
	struct tclock clk = { .mono = 1000 * SEC };
	struct fn_img_limit lim;
	struct fn_imgb *b = t_builder();
	struct fn_nft_state *s;
	int i, passed = 0;

	(void)state;
	fn_imgb_table(b, "t", FN_FAMILY_INET, 0);
	fn_imgb_chain(b, "in", FN_HOOK_INPUT, 0, FN_POLICY_DROP);
	assert_int_equal(fn_img_limit_init(&lim, 10, 1, 3, 0, 0), 0);
	assert_int_equal(lim.cost, SEC / 10);
	assert_int_equal(lim.tokens_max, 3 * SEC / 10);
	fn_imgb_rule(b, 0, 1);
	t_slot(b, FN_OP_LIMIT, fn_imgb_limit(b, &lim));
	t_verdict(b, FN_V_ACCEPT, 0);
	s = t_load(b);
	fn_nft_state_set_clock(s, t_mono, t_real, &clk);
	/* the burst passes at once, then nothing */
	for (i = 0; i < 10; i++)
		passed += send(s, 0) == FN_ACCEPT;
	assert_int_equal(passed, 3);
	/* 100 ms is one token */
	clk.mono += SEC / 10;
	assert_int_equal(send(s, 0), FN_ACCEPT);
	assert_int_equal(send(s, 0), FN_DROP);
	/* a long pause refills to the burst, no more */
	clk.mono += 60 * SEC;
	for (i = passed = 0; i < 10; i++)
		passed += send(s, 0) == FN_ACCEPT;
	assert_int_equal(passed, 3);
	/* over one second at a steady 20/s, 10 pass */
	clk.mono += 10 * SEC;
	for (i = passed = 0; i < 20; i++) {
		clk.mono += SEC / 20;
		passed += send(s, 0) == FN_ACCEPT;
	}
	assert_in_range(passed, 10, 13);
	t_free(s);
}

/* limit rate over 1000 bytes/second burst 500 bytes: matches once the
 * byte budget is spent. */
static void test_limit_bytes_over(void **state)
{
	struct tclock clk = { .mono = 5 * SEC };
	struct fn_img_limit lim;
	struct fn_imgb *b = t_builder();
	struct fn_nft_state *s;

	(void)state;
	fn_imgb_table(b, "t", FN_FAMILY_INET, 0);
	fn_imgb_chain(b, "in", FN_HOOK_INPUT, 0, FN_POLICY_ACCEPT);
	assert_int_equal(fn_img_limit_init(&lim, 1000, 1, 500, 1, 1), 0);
	/* tokens_max = unit * (rate + burst) / rate = 1.5 s of credit */
	assert_int_equal(lim.tokens_max, 3 * SEC / 2);
	fn_imgb_rule(b, 0, 1);
	t_slot(b, FN_OP_LIMIT, fn_imgb_limit(b, &lim));
	t_verdict(b, FN_V_DROP, 0);
	s = t_load(b);
	fn_nft_state_set_clock(s, t_mono, t_real, &clk);
	/* 1500 bytes of credit: 500-byte packets (472 payload + 28) */
	assert_int_equal(send(s, 472), FN_ACCEPT);
	assert_int_equal(send(s, 472), FN_ACCEPT);
	assert_int_equal(send(s, 472), FN_ACCEPT);
	assert_int_equal(send(s, 472), FN_DROP);   /* over the limit */
	clk.mono += SEC / 2;                       /* 500 bytes more */
	assert_int_equal(send(s, 472), FN_ACCEPT);
	t_free(s);
}

static void test_quota(void **state)
{
	struct fn_img_quota until = { .bytes = 100, .consumed = 20 };
	struct fn_img_quota over = { .bytes = 100, .invert = 1 };
	struct fn_imgb *b = t_builder();
	struct fn_nft_state *s;
	uint64_t h;
	struct tpkt t;

	(void)state;
	fn_imgb_table(b, "t", FN_FAMILY_INET, 0);
	fn_imgb_chain(b, "in", FN_HOOK_INPUT, 0, FN_POLICY_DROP);
	/* rule 1: quota over 100 bytes -> drop; rule 2: quota until 100
	 * (20 already used) -> accept */
	fn_imgb_rule(b, 0, 1);
	t_slot(b, FN_OP_QUOTA, fn_imgb_quota(b, &over));
	t_verdict(b, FN_V_DROP, 0);
	fn_imgb_rule(b, 0, 2);
	t_slot(b, FN_OP_QUOTA, fn_imgb_quota(b, &until));
	t_verdict(b, FN_V_ACCEPT, 0);
	s = t_load(b);
	/* 40-byte packets: "over" counts 40, 80, 120 (>100: matches) */
	t_udp(&t, IP4(1, 1, 1, 1), IP4(2, 2, 2, 2), 7, 8, 12);
	assert_int_equal(t_run(s, FN_HOOK_INPUT, &t, &h), FN_ACCEPT);  /* until: 60 */
	assert_int_equal(h, 2);
	assert_int_equal(t_run(s, FN_HOOK_INPUT, &t, &h), FN_ACCEPT);  /* until: 100 */
	assert_int_equal(t_run(s, FN_HOOK_INPUT, &t, &h), FN_DROP);    /* over: 120 */
	assert_int_equal(h, 1);
	t_free(s);

	/* "until" alone: 100 is still within, 101 is not */
	b = t_builder();
	fn_imgb_table(b, "t", FN_FAMILY_INET, 0);
	fn_imgb_chain(b, "in", FN_HOOK_INPUT, 0, FN_POLICY_DROP);
	until.consumed = 60;
	fn_imgb_rule(b, 0, 1);
	t_slot(b, FN_OP_QUOTA, fn_imgb_quota(b, &until));
	t_verdict(b, FN_V_ACCEPT, 0);
	s = t_load(b);
	assert_int_equal(t_run(s, FN_HOOK_INPUT, &t, NULL), FN_ACCEPT);  /* 100 */
	assert_int_equal(t_run(s, FN_HOOK_INPUT, &t, NULL), FN_DROP);    /* 140 */
	t_free(s);
}

struct lines {
	int n;
	char last[256];
};

static void log_cb(void *arg, int level, const char *line)
{
	struct lines *l = arg;

	assert_int_equal(level, 4);
	l->n++;
	strncpy(l->last, line, sizeof(l->last) - 1);
}

static void test_log_rate_limited(void **state)
{
	struct tclock clk = { .mono = 77 * SEC };
	struct fn_imgb *b = table();
	struct fn_nft_state *s;
	struct lines lines = { 0 };
	uint64_t written, suppressed;
	int i;

	(void)state;
	fn_imgb_rule(b, 0, 1);
	t_slot(b, FN_OP_LOG, fn_imgb_log(b, "drop-me", 4));
	t_verdict(b, FN_V_DROP, 0);
	s = t_load(b);
	fn_nft_state_set_clock(s, t_mono, t_real, &clk);
	fn_nft_state_set_log(s, log_cb, &lines);
	for (i = 0; i < 25; i++)
		assert_int_equal(send(s, 0), FN_DROP); /* log never changes a verdict */
	assert_int_equal(lines.n, FN_NFT_LOG_PER_SEC);
	fn_nft_log_stats(s, &written, &suppressed);
	assert_int_equal(written, FN_NFT_LOG_PER_SEC);
	assert_int_equal(suppressed, 25 - FN_NFT_LOG_PER_SEC);
	assert_non_null(strstr(lines.last, "drop-me IN= OUT= SRC=1.1.1.1 DST=2.2.2.2"));
	assert_non_null(strstr(lines.last, "SPT=7 DPT=8"));
	/* a tenth of a second buys one line */
	clk.mono += SEC / FN_NFT_LOG_PER_SEC;
	send(s, 0);
	send(s, 0);
	assert_int_equal(lines.n, FN_NFT_LOG_PER_SEC + 1);
	t_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		T_TEST(test_counters),
		T_TEST(test_limit_packets),
		T_TEST(test_limit_bytes_over),
		T_TEST(test_quota),
		T_TEST(test_log_rate_limited),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
