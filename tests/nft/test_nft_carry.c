/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/nft/carry.c: which counters of a new program go on from the program
 * it replaces. A rule is the same when its ops are, with what they refer to
 * by index (a jump's chain, a lookup's set, a named counter) compared by
 * name, and an anonymous set by its elements.
 */
#include <string.h>

#include "nft_test.h"
#include "nft/nft.h"

/* Table `table`: base chain "in", regular chains `chains` in that order.
 * Rule 1 counts and jumps to `jump`; rule 2 looks the UDP port up in set
 * `set` (`ports`) and counts; rule 3 counts into the named counter "c",
 * which starts at `start`. Slots: rule 1, rule 2, "c". */
struct spec {
	const char *table;
	const char *chains[2];
	const char *jump;
	const char *set;
	uint16_t ports[2];
	uint64_t start;
};

static const struct spec base = {
	.table = "t", .chains = { "a", "b" }, .jump = "a", .set = "ports",
	.ports = { 53, 54 }, .start = 0,
};

static void load(const struct spec *sp, struct fn_nft_prog *prog)
{
	struct fn_imgb *b = t_builder();
	uint32_t set, c;
	char err[128];
	size_t len;
	void *img;

	fn_imgb_table(b, sp->table, FN_FAMILY_INET, 0);
	fn_imgb_chain(b, "in", FN_HOOK_INPUT, 0, FN_POLICY_ACCEPT);
	fn_imgb_chain(b, sp->chains[0], FN_CHAIN_REGULAR, 0, 0);
	fn_imgb_chain(b, sp->chains[1], FN_CHAIN_REGULAR, 0, 0);
	set = fn_imgb_set(b, sp->set, FN_SET_HASH, 0, 2, 0, 0, NULL);
	for (int i = 0; i < 2; i++) {
		const uint8_t k[2] = { (uint8_t)(sp->ports[i] >> 8), (uint8_t)sp->ports[i] };

		fn_imgb_elem(b, set, k, NULL, 0, NULL);
	}
	fn_imgb_rule(b, 0, 1);
	t_counter(b, 0, 1);
	t_verdict(b, FN_V_JUMP, strcmp(sp->jump, sp->chains[0]) == 0 ? 1 : 2);
	fn_imgb_rule(b, 0, 2);
	t_payload(b, FN_PAYLOAD_TRANSPORT, 2, 2, 0);
	t_lookup(b, 0, FN_REG_NONE, set, 0);
	t_counter(b, 0, 2);
	t_verdict(b, FN_V_ACCEPT, 0);
	c = fn_imgb_counter(b, FN_IMG_NONE, 0, sp->start, 0);
	fn_imgb_object(b, "c", FN_OBJ_COUNTER, c);
	fn_imgb_rule(b, 0, 3);
	t_slot(b, FN_OP_COUNTER, c);
	img = t_image(b, &len);
	assert_int_equal(fn_nft_verify(img, len, prog, err, sizeof(err)), 0);
}

/* from[] of next against prev, as "012": a digit per slot carried from
 * that slot of prev, '-' for one that starts afresh. */
static const char *carry(const struct spec *prev, const struct spec *next)
{
	static char out[4];
	struct fn_nft_prog p, n;
	uint32_t from[3], carried;
	unsigned digits = 0;

	load(prev, &p);
	load(next, &n);
	assert_int_equal(n.hdr->n_counters, 3);
	carried = fn_nft_carry_map(&p, &n, from);
	for (int i = 0; i < 3; i++) {
		out[i] = from[i] == FN_IMG_NONE ? '-' : (char)('0' + from[i]);
		digits += from[i] != FN_IMG_NONE;
	}
	assert_int_equal(carried, digits);
	return out;
}

static void test_same_rules(void **state)
{
	(void)state;
	assert_string_equal(carry(&base, &base), "012");
}

/* Chains in another order: the jump's index differs, its target does not. */
static void test_jump_by_name(void **state)
{
	struct spec moved = base, other = base;

	(void)state;
	moved.chains[0] = "b";
	moved.chains[1] = "a";
	assert_string_equal(carry(&base, &moved), "012");
	other.jump = "b";
	assert_string_equal(carry(&base, &other), "-12");
}

/* A named set's elements change on their own; an anonymous set is part of
 * its rule. */
static void test_sets(void **state)
{
	struct spec named = base, anon = base, anon2;

	(void)state;
	named.ports[1] = 55;
	assert_string_equal(carry(&base, &named), "012");
	anon.set = "__set0";
	anon2 = anon;
	anon2.ports[1] = 55;
	assert_string_equal(carry(&anon, &anon), "012");
	assert_string_equal(carry(&anon, &anon2), "0-2");
	assert_string_equal(carry(&base, &anon), "0-2");     /* another set */
}

/* Another table, or a counter the text starts at another value: afresh. */
static void test_afresh(void **state)
{
	struct spec table = base, start = base;

	(void)state;
	table.table = "u";
	assert_string_equal(carry(&base, &table), "---");
	start.start = 10;
	assert_string_equal(carry(&base, &start), "01-");
	assert_string_equal(carry(&start, &start), "012");
}

/* `add @NAME { ip saddr } counter`, with sets "x" and "y" declared in the
 * order given: the rule's set is the one named, whatever its index. */
static void load_dynset(const char *first, const char *second, const char *name,
			uint64_t timeout_ms, struct fn_nft_prog *prog)
{
	struct fn_imgb *b = t_builder();
	uint32_t sets[2];
	char err[128];
	size_t len;
	void *img;

	fn_imgb_table(b, "t", FN_FAMILY_IPV4, 0);
	fn_imgb_chain(b, "in", FN_HOOK_INPUT, 0, FN_POLICY_ACCEPT);
	sets[0] = fn_imgb_set(b, first, FN_SET_HASH, 0, 4, 0, 0, NULL);
	sets[1] = fn_imgb_set(b, second, FN_SET_HASH, 0, 4, 0, 0, NULL);
	for (int i = 0; i < 2; i++)
		fn_imgb_set_dynamic(b, sets[i], 16, 0);
	fn_imgb_rule(b, 0, 1);
	t_payload(b, FN_PAYLOAD_NETWORK, 12, 4, 0);
	t_dynset(b, 0, FN_DYNSET_ADD, strcmp(name, first) == 0 ? sets[0] : sets[1],
		 FN_IMG_NONE, timeout_ms);
	t_counter(b, 0, 1);
	img = t_image(b, &len);
	assert_int_equal(fn_nft_verify(img, len, prog, err, sizeof(err)), 0);
}

/* A dynamic set's add or update names its set: a set that moved is the
 * same, another set at the same index is not, nor another timeout. */
static void test_dynset_by_name(void **state)
{
	struct fn_nft_prog a, moved, other, timeout;
	uint32_t from[1];

	(void)state;
	load_dynset("x", "y", "x", 0, &a);
	load_dynset("y", "x", "x", 0, &moved);
	load_dynset("x", "y", "y", 0, &other);
	load_dynset("x", "y", "x", 5000, &timeout);
	assert_int_equal(fn_nft_carry_map(&a, &moved, from), 1);
	assert_int_equal(fn_nft_carry_map(&a, &other, from), 0);
	assert_int_equal(fn_nft_carry_map(&a, &timeout, from), 0);
}

/* Four `udp dport N counter drop` rules, with a classify op or without. */
static void load_run(bool classify, struct fn_nft_prog *prog)
{
	struct fn_imgb *b = t_builder();
	char err[128];
	size_t len;
	void *img;

	fn_imgb_table(b, "t", FN_FAMILY_INET, 0);
	fn_imgb_classify(b, classify);
	fn_imgb_chain(b, "in", FN_HOOK_INPUT, 0, FN_POLICY_ACCEPT);
	for (uint16_t r = 1; r <= 4; r++)
		t_port_rule(b, 0, r, r, FN_V_DROP);
	img = t_image(b, &len);
	assert_int_equal(fn_nft_verify(img, len, prog, err, sizeof(err)), 0);
}

/* A classify op comes and goes with the rules around its rule (a run
 * broken or formed elsewhere): it does not make the rule another one. */
static void test_classify_op_ignored(void **state)
{
	struct fn_nft_prog lin, cls;
	uint32_t from[4];

	(void)state;
	load_run(false, &lin);
	load_run(true, &cls);
	assert_true(cls.hdr->classify.len > 0);
	assert_int_equal(fn_nft_carry_map(&lin, &cls, from), 4);
	assert_int_equal(fn_nft_carry_map(&cls, &lin, from), 4);
	for (uint32_t i = 0; i < 4; i++)
		assert_int_equal(from[i], i);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		T_TEST(test_same_rules),
		T_TEST(test_jump_by_name),
		T_TEST(test_sets),
		T_TEST(test_dynset_by_name),
		T_TEST(test_afresh),
		T_TEST(test_classify_op_ignored),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
