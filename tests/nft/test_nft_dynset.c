/* SPDX-License-Identifier: BSD-3-Clause */
/* Dynamic sets: add, update, timeouts and expiry, per-element limits, the
 * size bound and its counter, with a manual clock. */
#include <errno.h>
#include <string.h>

#include "nft_test.h"
#include "nft/dynset.h"

#define SEC 1000000000ull
#define MS 1000000ull

static const uint8_t port1[2] = { 0, 1 }, port2[2] = { 0, 2 }, port3[2] = { 0, 3 };

/* `udp dport PORT <op> @set { ip saddr }` (with the limit, if any) accept */
static void dynset_rule(struct fn_imgb *b, uint64_t handle, const uint8_t *port,
			uint8_t op, uint32_t set, uint32_t limit, uint64_t timeout_ms)
{
	fn_imgb_rule(b, 0, handle);
	t_payload_cmp(b, FN_PAYLOAD_TRANSPORT, 2, 2, FN_CMP_EQ, port);
	t_payload(b, FN_PAYLOAD_NETWORK, 12, 4, 0);
	t_dynset(b, 0, op, set, limit, timeout_ms);
	t_verdict(b, FN_V_ACCEPT, 0);
}

/* An input chain, policy drop, ending in `ip saddr @set accept` (handle 9). */
static struct fn_imgb *table(uint32_t size, uint64_t timeout_ms, uint32_t *set)
{
	struct fn_imgb *b = t_builder();

	fn_imgb_table(b, "t", FN_FAMILY_IPV4, 0);
	fn_imgb_chain(b, "in", FN_HOOK_INPUT, 0, FN_POLICY_DROP);
	*set = fn_imgb_set(b, "s", FN_SET_HASH, 0, 4, 0, 0, NULL);
	fn_imgb_set_dynamic(b, *set, size, timeout_ms);
	return b;
}

static void lookup_rule(struct fn_imgb *b, uint32_t set)
{
	fn_imgb_rule(b, 0, 9);
	t_payload(b, FN_PAYLOAD_NETWORK, 12, 4, 0);
	t_lookup(b, 0, FN_REG_NONE, set, 0);
	t_verdict(b, FN_V_ACCEPT, 0);
}

static struct fn_nft_state *load(struct fn_imgb *b, struct tclock *clk)
{
	struct fn_nft_state *s = t_load(b);

	fn_nft_state_set_clock(s, t_mono, t_real, clk);
	return s;
}

static enum fn_verdict send(struct fn_nft_state *s, uint32_t src, uint16_t dport)
{
	struct tpkt t;

	t_udp(&t, src, IP4(2, 2, 2, 2), 7, dport, 0);
	return t_run(s, FN_HOOK_INPUT, &t, NULL);
}

#define A IP4(10, 0, 0, 1)
#define B IP4(10, 0, 0, 2)
#define C IP4(10, 0, 0, 3)

/* add @s { ip saddr }: lookups see exactly the sources added. */
static void test_add_then_lookup(void **state)
{
	struct tclock clk = { .mono = SEC };
	struct fn_nft_state *s;
	uint32_t set;
	struct fn_imgb *b = table(100, 0, &set);

	(void)state;
	dynset_rule(b, 1, port1, FN_DYNSET_ADD, set, FN_IMG_NONE, 0);
	lookup_rule(b, set);
	s = load(b, &clk);
	assert_int_equal(send(s, A, 5), FN_DROP);
	assert_int_equal(send(s, A, 1), FN_ACCEPT);
	assert_int_equal(send(s, A, 5), FN_ACCEPT);
	assert_int_equal(send(s, B, 5), FN_DROP);
	/* no timeout: still there much later */
	clk.mono += 1000 * SEC;
	assert_int_equal(send(s, A, 5), FN_ACCEPT);
	assert_int_equal(fn_nft_set_full(s), 0);
	t_free(s);
}

/* A set timeout of 1 s: add keeps the first expiry, update restarts it, an
 * op's own timeout overrides the set's; an element is gone at its expiry. */
static void test_timeouts(void **state)
{
	struct tclock clk = { .mono = SEC };
	struct fn_nft_state *s;
	uint32_t set;
	struct fn_imgb *b = table(100, 1000, &set);

	(void)state;
	dynset_rule(b, 1, port1, FN_DYNSET_ADD, set, FN_IMG_NONE, 0);
	dynset_rule(b, 2, port2, FN_DYNSET_UPDATE, set, FN_IMG_NONE, 0);
	dynset_rule(b, 3, port3, FN_DYNSET_UPDATE, set, FN_IMG_NONE, 5000);
	lookup_rule(b, set);
	s = load(b, &clk);
	send(s, A, 1);
	send(s, B, 2);
	send(s, C, 3);
	clk.mono += 600 * MS;
	send(s, A, 1);          /* add: A still expires at 1 s */
	send(s, B, 2);          /* update: B now expires at 1.6 s */
	clk.mono += 400 * MS - 1;
	assert_int_equal(send(s, A, 5), FN_ACCEPT);
	clk.mono += 1;          /* A's expiry itself: gone, as in the kernel */
	assert_int_equal(send(s, A, 5), FN_DROP);
	assert_int_equal(send(s, B, 5), FN_ACCEPT);
	clk.mono += 600 * MS;
	assert_int_equal(send(s, B, 5), FN_DROP);
	assert_int_equal(send(s, C, 5), FN_ACCEPT);
	clk.mono += 4 * SEC;
	assert_int_equal(send(s, C, 5), FN_DROP);
	/* an expired element comes back on the next add */
	send(s, A, 1);
	assert_int_equal(send(s, A, 5), FN_ACCEPT);
	t_free(s);
}

/* size 2: a third source is refused (the add does not match) and counted;
 * once the elements expired a full set is swept and takes new ones, but
 * a set full of live elements sweeps at most once per second. */
static void test_full_set(void **state)
{
	struct tclock clk = { .mono = SEC };
	struct fn_nft_state *s;
	uint32_t set;
	struct fn_imgb *b = table(2, 1000, &set);

	(void)state;
	dynset_rule(b, 1, port1, FN_DYNSET_ADD, set, FN_IMG_NONE, 0);
	dynset_rule(b, 2, port2, FN_DYNSET_ADD, set, FN_IMG_NONE, 60000);
	lookup_rule(b, set);
	s = load(b, &clk);
	assert_int_equal(send(s, A, 1), FN_ACCEPT);
	assert_int_equal(send(s, B, 1), FN_ACCEPT);
	assert_int_equal(send(s, C, 1), FN_DROP);
	assert_int_equal(send(s, C, 5), FN_DROP);
	assert_int_equal(fn_nft_set_full(s), 1);
	/* known sources still match */
	assert_int_equal(send(s, A, 1), FN_ACCEPT);
	assert_int_equal(fn_nft_set_full(s), 1);
	/* A and B expired: their places go to C and a long-lived A */
	clk.mono += 1500 * MS;
	assert_int_equal(send(s, C, 2), FN_ACCEPT);
	assert_int_equal(send(s, A, 2), FN_ACCEPT);
	assert_int_equal(send(s, B, 1), FN_DROP);
	assert_int_equal(fn_nft_set_full(s), 2);
	assert_int_equal(send(s, C, 5), FN_ACCEPT);
	assert_int_equal(send(s, B, 5), FN_DROP);
	t_free(s);
}

/* What a sweep asks of an element: expired ones leave. */
static bool expired_leave(struct fn_dyn_elem *e, bool expired, void *arg)
{
	(void)e;
	(*(unsigned *)arg)++;
	return expired;
}

/* The sweep: a table of size 3 filled, two expire, two new keys fit. */
static void test_table_sweep(void **state)
{
	unsigned asked = 0;
	struct fn_dyn_table t;
	uint32_t k[4] = { 1, 2, 3, 4 };
	struct fn_dyn_elem *e;

	(void)state;
	assert_int_equal(fn_dyn_init(&t, 0, 4), -EINVAL);
	assert_int_equal(fn_dyn_init(&t, FN_DYN_MAX_SIZE + 1, 4), -EINVAL);
	assert_int_equal(fn_dyn_init(&t, 3, 4), 0);
	for (int i = 0; i < 3; i++) {
		e = fn_dyn_insert(&t, &k[i], 10, expired_leave, &asked);
		assert_non_null(e);
		e->expires = i == 2 ? FN_DYN_NEVER : 100;
	}
	assert_null(fn_dyn_insert(&t, &k[3], 50, expired_leave, &asked));   /* full, nothing expired */
	assert_null(fn_dyn_insert(&t, &k[3], 200, expired_leave, &asked));  /* swept at 50: not again yet */
	e = fn_dyn_insert(&t, &k[3], 50 + FN_DYN_SWEEP_NS, expired_leave, &asked);
	assert_non_null(e);
	e->expires = FN_DYN_NEVER;
	assert_int_equal(asked, 6);   /* two sweeps of three elements */
	assert_int_equal(t.used, 2);
	assert_null(fn_dyn_find(&t, &k[0]));
	assert_null(fn_dyn_find(&t, &k[1]));
	assert_ptr_equal(fn_dyn_find(&t, &k[3]), e);
	assert_non_null(fn_dyn_find(&t, &k[2]));
	assert_non_null(fn_dyn_insert(&t, &k[0], 50 + FN_DYN_SWEEP_NS, expired_leave, &asked));
	assert_null(fn_dyn_insert(&t, &k[1], 50 + FN_DYN_SWEEP_NS, expired_leave, &asked));
	fn_dyn_fini(&t);
}

/* A meter: `update @s { ip saddr limit rate 1/second burst 2 packets }`.
 * Each source has its own bucket, full when its element is new: also when
 * the old element expired (timeout 3 s). */
static void test_per_element_limit(void **state)
{
	struct tclock clk = { .mono = SEC };
	struct fn_img_limit lim;
	struct fn_nft_state *s;
	uint32_t set, slot;
	struct fn_imgb *b = table(100, 0, &set);
	int i, passed;

	(void)state;
	assert_int_equal(fn_img_limit_init(&lim, 1, 1, 2, 0, 0), 0);
	slot = fn_imgb_limit(b, &lim);
	dynset_rule(b, 1, port1, FN_DYNSET_ADD, set, slot, 3000);
	s = load(b, &clk);
	for (i = passed = 0; i < 5; i++)
		passed += send(s, A, 1) == FN_ACCEPT;
	assert_int_equal(passed, 2);
	for (i = passed = 0; i < 5; i++)
		passed += send(s, B, 1) == FN_ACCEPT;
	assert_int_equal(passed, 2);
	/* one second: one token for A */
	clk.mono += SEC;
	assert_int_equal(send(s, A, 1), FN_ACCEPT);
	assert_int_equal(send(s, A, 1), FN_DROP);
	/* A's element (added at 1 s, not refreshed by add) expired at 4 s: a
	 * new one, a full bucket */
	clk.mono += 2 * SEC;
	assert_int_equal(send(s, A, 1), FN_ACCEPT);
	assert_int_equal(send(s, A, 1), FN_ACCEPT);
	assert_int_equal(send(s, A, 1), FN_DROP);
	t_free(s);
}

/* `limit rate over`: the rule matches (drop) only beyond the rate. */
static void test_per_element_limit_over(void **state)
{
	struct tclock clk = { .mono = SEC };
	struct fn_img_limit lim;
	struct fn_nft_state *s;
	uint32_t set;
	struct fn_imgb *b = table(100, 0, &set);

	(void)state;
	assert_int_equal(fn_img_limit_init(&lim, 1, 60, 1, 0, 1), 0);
	fn_imgb_rule(b, 0, 1);
	t_payload(b, FN_PAYLOAD_NETWORK, 12, 4, 0);
	t_dynset(b, 0, FN_DYNSET_UPDATE, set, fn_imgb_limit(b, &lim), 0);
	t_verdict(b, FN_V_DROP, 0);
	fn_imgb_rule(b, 0, 2);
	t_verdict(b, FN_V_ACCEPT, 0);
	s = load(b, &clk);
	assert_int_equal(send(s, A, 1), FN_ACCEPT);
	assert_int_equal(send(s, A, 1), FN_DROP);
	assert_int_equal(send(s, B, 1), FN_ACCEPT);
	t_free(s);
}

/* The verifier's rules for dynamic sets and the dynset op. */
static void test_verifier(void **state)
{
	struct fn_imgb *b;
	uint32_t set, st;
	size_t len;
	void *img;
	char err[256];
	int i;

	(void)state;
	for (i = 0; i < 6; i++) {
		b = t_builder();
		fn_imgb_table(b, "t", FN_FAMILY_IPV4, 0);
		fn_imgb_chain(b, "in", FN_HOOK_INPUT, 0, FN_POLICY_DROP);
		set = fn_imgb_set(b, "s", FN_SET_HASH, 0, 4, 0, 0, NULL);
		st = fn_imgb_set(b, "static", FN_SET_HASH, 0, 4, 0, 0, NULL);
		fn_imgb_set_dynamic(b, set, i == 1 ? 0 : i == 2 ? FN_DYN_MAX_SIZE + 1 : 8,
				    i == 3 ? FN_DYN_MAX_TIMEOUT_MS + 1 : 0);
		fn_imgb_rule(b, 0, 1);
		t_payload(b, FN_PAYLOAD_NETWORK, 12, 4, i == 5 ? 1 : 0);
		t_dynset(b, 0, i == 4 ? 2 : FN_DYNSET_ADD, i == 0 ? st : set, FN_IMG_NONE, 0);
		img = t_image(b, &len);
		assert_int_equal(fn_nft_image_check(img, len, err, sizeof(err)), -EBADMSG);
		assert_non_null(strstr(err, (const char *[]){ "not dynamic", "size 0", "size 1048577",
				     "timeout", "dynset op 2", "read before written" }[i]));
		t_free(img);
	}
}

/* The verifier's rules for a per-element ct count: known flags, both or
 * neither of its fields, not with a limit, only with conntrack. */
static void test_verifier_ct_count(void **state)
{
	static const struct {
		uint8_t flags;
		uint32_t count;
		bool limit, conntrack;
		const char *why;
	} cases[] = {
		{ 0x4 | FN_DYNSET_F_CT_COUNT, 2, false, true, "dynset flags 0x5" },
		{ FN_DYNSET_F_CT_COUNT_OVER, 2, false, true, "without a ct count" },
		{ 0, 2, false, true, "without a ct count" },
		{ FN_DYNSET_F_CT_COUNT, 2, true, true, "both a limit and a ct count" },
		{ FN_DYNSET_F_CT_COUNT, 2, false, false, "without the conntrack flag" },
		{ FN_DYNSET_F_CT_COUNT | FN_DYNSET_F_CT_COUNT_OVER, 0, false, true, NULL },
	};
	struct fn_img_limit lim;
	char err[256];
	size_t len, i;

	(void)state;
	assert_int_equal(fn_img_limit_init(&lim, 1, 1, 1, 0, 0), 0);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fn_imgb *b = t_builder();
		struct fn_op_dynset *o;
		uint32_t set, slot;
		void *img;

		fn_imgb_table(b, "t", FN_FAMILY_IPV4, 0);
		if (cases[i].conntrack)
			fn_imgb_set_flags(b, FN_IMG_F_CONNTRACK);
		fn_imgb_chain(b, "in", FN_HOOK_INPUT, 0, FN_POLICY_DROP);
		set = fn_imgb_set(b, "s", FN_SET_HASH, 0, 4, 0, 0, NULL);
		fn_imgb_set_dynamic(b, set, 8, 0);
		fn_imgb_rule(b, 0, 1);
		t_payload(b, FN_PAYLOAD_NETWORK, 12, 4, 0);
		slot = cases[i].limit ? fn_imgb_limit(b, &lim) : FN_IMG_NONE;
		o = fn_imgb_op(b, FN_OP_DYNSET, sizeof(*o));
		assert_non_null(o);
		*o = (struct fn_op_dynset){ .h = o->h, .sreg = 0, .op = FN_DYNSET_ADD,
					    .set = set, .limit = slot,
					    .ct_count = cases[i].count, .flags = cases[i].flags };
		img = t_image(b, &len);
		if (!cases[i].why) {
			assert_int_equal(fn_nft_image_check(img, len, err, sizeof(err)), 0);
		} else {
			assert_int_equal(fn_nft_image_check(img, len, err, sizeof(err)), -EBADMSG);
			if (!strstr(err, cases[i].why))
				fail_msg("case %zu: \"%s\" lacks \"%s\"", i, err, cases[i].why);
		}
		t_free(img);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		T_TEST(test_add_then_lookup),
		T_TEST(test_timeouts),
		T_TEST(test_full_set),
		T_TEST(test_table_sweep),
		T_TEST(test_per_element_limit),
		T_TEST(test_per_element_limit_over),
		T_TEST(test_verifier),
		T_TEST(test_verifier_ct_count),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
