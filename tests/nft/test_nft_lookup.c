/* SPDX-License-Identifier: BSD-3-Clause */
/* Sets, maps and verdict maps: hash, interval, concatenated ranges. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "nft_test.h"

static void be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void be32(uint8_t *p, uint32_t v)
{
	be16(p, (uint16_t)(v >> 16));
	be16(p + 2, (uint16_t)v);
}

static enum fn_verdict run(struct fn_nft_state *s, uint32_t src, uint16_t dport,
			   uint64_t *h)
{
	struct tpkt t;

	t_udp(&t, src, IP4(2, 2, 2, 2), 7, dport, 0);
	return t_run(s, FN_HOOK_INPUT, &t, h);
}

/* `udp dport @ports drop` with 1000 ports in a hash set. */
static void test_hash_set(void **state)
{
	struct fn_imgb *b = t_builder();
	struct fn_nft_state *s;
	uint32_t set, i;
	uint64_t h;

	(void)state;
	fn_imgb_table(b, "t", FN_FAMILY_INET, 0);
	fn_imgb_chain(b, "in", FN_HOOK_INPUT, 0, FN_POLICY_ACCEPT);
	set = fn_imgb_set(b, "ports", FN_SET_HASH, 0, 2, 0, 0, NULL);
	for (i = 0; i < 1000; i++) {
		uint8_t k[2];

		be16(k, (uint16_t)(1000 + 3 * i));
		fn_imgb_elem(b, set, k, NULL, 0, NULL);
	}
	fn_imgb_rule(b, 0, 1);
	t_payload(b, FN_PAYLOAD_TRANSPORT, 2, 2, 0);
	t_lookup(b, 0, FN_REG_NONE, set, 0);
	t_verdict(b, FN_V_DROP, 0);
	s = t_load(b);
	for (i = 0; i < 1000; i++) {
		assert_int_equal(run(s, IP4(1, 1, 1, 1), (uint16_t)(1000 + 3 * i), &h), FN_DROP);
		assert_int_equal(run(s, IP4(1, 1, 1, 1), (uint16_t)(1001 + 3 * i), &h), FN_ACCEPT);
	}
	t_free(s);
}

/* The kernel's rbtree dump of { 10.0.0.0/8, 192.168.1.1, 172.16.0.0-172.16.0.9,
 * 172.16.0.10-172.16.0.20 } (adjacent: end and start share a key, the
 * compiler keeps the start), with its leading end element at 0.0.0.0. */
static void test_interval_set(void **state)
{
	static const struct { uint32_t key; uint32_t flags; } bounds[] = {
		{ IP4(0, 0, 0, 0), FN_ELEM_F_END },
		{ IP4(10, 0, 0, 0), 0 }, { IP4(11, 0, 0, 0), FN_ELEM_F_END },
		{ IP4(172, 16, 0, 0), 0 }, { IP4(172, 16, 0, 10), 0 },
		{ IP4(172, 16, 0, 21), FN_ELEM_F_END },
		{ IP4(192, 168, 1, 1), 0 }, { IP4(192, 168, 1, 2), FN_ELEM_F_END },
	};
	static const struct { uint32_t addr; enum fn_verdict v; } cases[] = {
		{ IP4(9, 255, 255, 255), FN_ACCEPT }, { IP4(10, 0, 0, 0), FN_DROP },
		{ IP4(10, 255, 255, 255), FN_DROP }, { IP4(11, 0, 0, 0), FN_ACCEPT },
		{ IP4(172, 16, 0, 9), FN_DROP }, { IP4(172, 16, 0, 10), FN_DROP },
		{ IP4(172, 16, 0, 20), FN_DROP }, { IP4(172, 16, 0, 21), FN_ACCEPT },
		{ IP4(192, 168, 1, 1), FN_DROP }, { IP4(192, 168, 1, 2), FN_ACCEPT },
		{ IP4(0, 0, 0, 0), FN_ACCEPT }, { IP4(255, 255, 255, 255), FN_ACCEPT },
	};
	struct fn_imgb *b = t_builder();
	struct fn_nft_state *s;
	uint32_t set, i;

	(void)state;
	fn_imgb_table(b, "t", FN_FAMILY_INET, 0);
	fn_imgb_chain(b, "in", FN_HOOK_INPUT, 0, FN_POLICY_ACCEPT);
	set = fn_imgb_set(b, "nets", FN_SET_INTERVAL, 0, 4, 0, 0, NULL);
	for (i = 0; i < sizeof(bounds) / sizeof(bounds[0]); i++) {
		uint8_t k[4];

		be32(k, bounds[i].key);
		fn_imgb_elem(b, set, k, NULL, bounds[i].flags, NULL);
	}
	fn_imgb_rule(b, 0, 1);
	t_payload(b, FN_PAYLOAD_NETWORK, 12, 4, 0);
	t_lookup(b, 0, FN_REG_NONE, set, 0);
	t_verdict(b, FN_V_DROP, 0);
	s = t_load(b);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(run(s, cases[i].addr, 1, NULL), cases[i].v);
	t_free(s);
}

/* ip saddr . udp dport in { 10.0.0.0/24 . 50-60, 10.0.1.7 . 53 }: each
 * field within its own range (the fields are not one big number). */
static void test_concat_ranges(void **state)
{
	uint8_t fields[2] = { 4, 2 }, lo[8] = { 0 }, hi[8] = { 0 };
	struct fn_imgb *b = t_builder();
	struct fn_nft_state *s;
	uint32_t set;

	(void)state;
	fn_imgb_table(b, "t", FN_FAMILY_INET, 0);
	fn_imgb_chain(b, "in", FN_HOOK_INPUT, 0, FN_POLICY_ACCEPT);
	set = fn_imgb_set(b, "c", FN_SET_RANGES, 0, 8, 0, 2, fields);
	be32(lo, IP4(10, 0, 0, 0));
	be16(lo + 4, 50);
	be32(hi, IP4(10, 0, 0, 255));
	be16(hi + 4, 60);
	fn_imgb_elem(b, set, lo, hi, 0, NULL);
	be32(lo, IP4(10, 0, 1, 7));
	be16(lo + 4, 53);
	fn_imgb_elem(b, set, lo, lo, 0, NULL);
	fn_imgb_rule(b, 0, 1);
	t_payload(b, FN_PAYLOAD_NETWORK, 12, 4, 0);
	t_payload(b, FN_PAYLOAD_TRANSPORT, 2, 2, 1);
	t_lookup(b, 0, FN_REG_NONE, set, 0);
	t_verdict(b, FN_V_DROP, 0);
	s = t_load(b);
	assert_int_equal(run(s, IP4(10, 0, 0, 9), 55, NULL), FN_DROP);
	assert_int_equal(run(s, IP4(10, 0, 0, 255), 60, NULL), FN_DROP);
	/* in the first field's range but not the second's */
	assert_int_equal(run(s, IP4(10, 0, 0, 9), 61, NULL), FN_ACCEPT);
	/* lexicographically between the bounds, but the port is out */
	assert_int_equal(run(s, IP4(10, 0, 0, 100), 7, NULL), FN_ACCEPT);
	assert_int_equal(run(s, IP4(10, 0, 1, 7), 53, NULL), FN_DROP);
	assert_int_equal(run(s, IP4(10, 0, 1, 7), 54, NULL), FN_ACCEPT);
	t_free(s);
}

/* meta mark set udp dport map { 80 : 3, * : 9 }; then drop mark 3. */
static void test_map_and_catchall(void **state)
{
	struct fn_imgb *b = t_builder();
	struct fn_op_meta_set *ms;
	struct fn_nft_state *s;
	uint32_t set, three = 3, nine = 9;
	uint8_t k[2];
	struct tpkt t;

	(void)state;
	fn_imgb_table(b, "t", FN_FAMILY_INET, 0);
	fn_imgb_chain(b, "in", FN_HOOK_INPUT, 0, FN_POLICY_ACCEPT);
	set = fn_imgb_set(b, "m", FN_SET_HASH, FN_SET_F_MAP, 2, 4, 0, NULL);
	be16(k, 80);
	fn_imgb_elem(b, set, k, NULL, 0, &three);
	fn_imgb_catchall(b, set, &nine);
	fn_imgb_rule(b, 0, 1);
	t_payload(b, FN_PAYLOAD_TRANSPORT, 2, 2, 0);
	t_lookup(b, 0, 4, set, 0);
	ms = fn_imgb_op(b, FN_OP_META_SET, sizeof(*ms));
	ms->key = FN_META_MARK;
	ms->sreg = 4;
	s = t_load(b);
	t_udp(&t, IP4(1, 1, 1, 1), IP4(2, 2, 2, 2), 7, 80, 0);
	fn_nft_eval(s, FN_HOOK_INPUT, &t.pkt, NULL);
	assert_int_equal(t.pkt.mark, 3);
	t_udp(&t, IP4(1, 1, 1, 1), IP4(2, 2, 2, 2), 7, 81, 0);
	fn_nft_eval(s, FN_HOOK_INPUT, &t.pkt, NULL);
	assert_int_equal(t.pkt.mark, 9);
	t_free(s);
}

/* udp dport vmap { 1 : accept, 2 : drop, 3 : jump sub } with an interval
 * vmap for 100-199 : drop. */
static void test_verdict_maps(void **state)
{
	struct fn_imgb *b = t_builder();
	struct fn_img_vdata acc = { FN_V_ACCEPT, 0 }, drop = { FN_V_DROP, 0 };
	struct fn_img_vdata jump = { FN_V_JUMP, 1 };
	struct fn_nft_state *s;
	uint32_t set, iset;
	uint8_t k[2];
	uint64_t h;

	(void)state;
	fn_imgb_table(b, "t", FN_FAMILY_INET, 0);
	fn_imgb_chain(b, "in", FN_HOOK_INPUT, 0, FN_POLICY_ACCEPT);
	fn_imgb_chain(b, "sub", FN_CHAIN_REGULAR, 0, 0);
	set = fn_imgb_set(b, "v", FN_SET_HASH, FN_SET_F_MAP | FN_SET_F_VMAP, 2, 8, 0, NULL);
	be16(k, 1);
	fn_imgb_elem(b, set, k, NULL, 0, &acc);
	be16(k, 2);
	fn_imgb_elem(b, set, k, NULL, 0, &drop);
	be16(k, 3);
	fn_imgb_elem(b, set, k, NULL, 0, &jump);
	iset = fn_imgb_set(b, "iv", FN_SET_INTERVAL, FN_SET_F_MAP | FN_SET_F_VMAP, 2, 8, 0, NULL);
	be16(k, 100);
	fn_imgb_elem(b, iset, k, NULL, 0, &drop);
	be16(k, 200);
	fn_imgb_elem(b, iset, k, NULL, FN_ELEM_F_END, NULL);
	fn_imgb_rule(b, 0, 1);
	t_payload(b, FN_PAYLOAD_TRANSPORT, 2, 2, 0);
	t_lookup(b, 0, FN_REG_VERDICT, set, 0);
	fn_imgb_rule(b, 0, 2);
	t_payload(b, FN_PAYLOAD_TRANSPORT, 2, 2, 0);
	t_lookup(b, 0, FN_REG_VERDICT, iset, 0);
	fn_imgb_rule(b, 1, 3);
	t_verdict(b, FN_V_DROP, 0);
	s = t_load(b);
	assert_int_equal(run(s, IP4(1, 1, 1, 1), 1, &h), FN_ACCEPT);
	assert_int_equal(h, 1);
	assert_int_equal(run(s, IP4(1, 1, 1, 1), 2, &h), FN_DROP);
	assert_int_equal(h, 1);
	assert_int_equal(run(s, IP4(1, 1, 1, 1), 3, &h), FN_DROP);
	assert_int_equal(h, 3);
	assert_int_equal(run(s, IP4(1, 1, 1, 1), 150, &h), FN_DROP);
	assert_int_equal(h, 2);
	assert_int_equal(run(s, IP4(1, 1, 1, 1), 200, &h), FN_ACCEPT);
	assert_int_equal(h, 0);
	t_free(s);
}

/* An inverted lookup (`!= @s`) with a catch-all element: the kernel falls
 * back to the catch-all on an inverted hit, so every packet matches. */
static void test_inverted_lookup(void **state)
{
	int catchall;

	(void)state;
	for (catchall = 0; catchall < 2; catchall++) {
		struct fn_imgb *b = t_builder();
		struct fn_nft_state *s;
		uint32_t set;
		uint8_t k[2];

		fn_imgb_table(b, "t", FN_FAMILY_INET, 0);
		fn_imgb_chain(b, "in", FN_HOOK_INPUT, 0, FN_POLICY_ACCEPT);
		set = fn_imgb_set(b, "s", FN_SET_HASH, 0, 2, 0, 0, NULL);
		be16(k, 53);
		fn_imgb_elem(b, set, k, NULL, 0, NULL);
		if (catchall)
			fn_imgb_catchall(b, set, NULL);
		fn_imgb_rule(b, 0, 1);
		t_payload(b, FN_PAYLOAD_TRANSPORT, 2, 2, 0);
		t_lookup(b, 0, FN_REG_NONE, set, 1);
		t_verdict(b, FN_V_DROP, 0);
		s = t_load(b);
		assert_int_equal(run(s, IP4(1, 1, 1, 1), 54, NULL), FN_DROP);
		assert_int_equal(run(s, IP4(1, 1, 1, 1), 53, NULL),
				 catchall ? FN_DROP : FN_ACCEPT);
		t_free(s);
	}
}

/* Empty named sets (`set e { type ipv4_addr; }`): no elements, one empty
 * bucket, whether the empty set is laid out alone, before or after another
 * set's elements. A lookup never matches, an inverted one always does. */
static void test_empty_sets(void **state)
{
	int layout;

	(void)state;
	for (layout = 0; layout < 3; layout++) {
		struct fn_imgb *b = t_builder();
		struct fn_nft_state *s;
		uint32_t empty = 0, ports = 0, other;
		uint8_t k[2];
		uint64_t h;

		fn_imgb_table(b, "t", FN_FAMILY_INET, 0);
		fn_imgb_chain(b, "in", FN_HOOK_INPUT, 0, FN_POLICY_ACCEPT);
		if (layout == 2)
			ports = fn_imgb_set(b, "ports", FN_SET_HASH, 0, 2, 0, 0, NULL);
		empty = fn_imgb_set(b, "empty", FN_SET_HASH, 0, 2, 0, 0, NULL);
		if (layout == 1)
			ports = fn_imgb_set(b, "ports", FN_SET_HASH, 0, 2, 0, 0, NULL);
		other = layout ? ports : empty;
		be16(k, 53);
		if (layout)
			fn_imgb_elem(b, ports, k, NULL, 0, NULL);
		fn_imgb_rule(b, 0, 1);          /* udp dport @empty drop */
		t_payload(b, FN_PAYLOAD_TRANSPORT, 2, 2, 0);
		t_lookup(b, 0, FN_REG_NONE, empty, 0);
		t_verdict(b, FN_V_DROP, 0);
		fn_imgb_rule(b, 0, 2);          /* udp dport @ports drop */
		t_payload(b, FN_PAYLOAD_TRANSPORT, 2, 2, 0);
		t_lookup(b, 0, FN_REG_NONE, other, 0);
		t_verdict(b, FN_V_DROP, 0);
		fn_imgb_rule(b, 0, 3);          /* udp dport != @empty drop */
		t_payload(b, FN_PAYLOAD_TRANSPORT, 2, 2, 0);
		t_lookup(b, 0, FN_REG_NONE, empty, 1);
		t_verdict(b, FN_V_DROP, 0);
		s = t_load(b);
		assert_int_equal(run(s, IP4(1, 1, 1, 1), 53, &h), FN_DROP);
		assert_int_equal(h, layout ? 2 : 3);
		assert_int_equal(run(s, IP4(1, 1, 1, 1), 54, &h), FN_DROP);
		assert_int_equal(h, 3);
		t_free(s);
	}
}

static void test_bad_sets_refused(void **state)
{
	uint8_t k[2] = { 0, 1 };
	char err[256];
	size_t len;
	void *img;

	(void)state;
	{       /* duplicate keys */
		struct fn_imgb *b = t_builder();
		uint32_t set;

		fn_imgb_table(b, "t", FN_FAMILY_INET, 0);
		set = fn_imgb_set(b, "d", FN_SET_HASH, 0, 2, 0, 0, NULL);
		fn_imgb_elem(b, set, k, NULL, 0, NULL);
		fn_imgb_elem(b, set, k, NULL, 0, NULL);
		assert_int_equal(fn_imgb_finish(b, &img, &len), -EEXIST);
		assert_string_equal(fn_imgb_failed_set(b), "d");
		t_free(b);
	}
	{       /* an element moved to the wrong bucket */
		struct fn_imgb *b = t_builder();
		struct fn_img_header *h;
		struct fn_img_set *s;
		uint32_t set, i;

		fn_imgb_table(b, "t", FN_FAMILY_INET, 0);
		set = fn_imgb_set(b, "h", FN_SET_HASH, 0, 2, 0, 0, NULL);
		for (i = 0; i < 8; i++) {
			k[1] = (uint8_t)i;
			fn_imgb_elem(b, set, k, NULL, 0, NULL);
		}
		img = t_image(b, &len);
		h = img;
		s = (struct fn_img_set *)((uint8_t *)img + h->sets.off);
		/* swap the first key with one in another bucket */
		{
			uint8_t *e = (uint8_t *)img + h->set_data.off + s->elems;
			uint8_t tmp[4];

			memcpy(tmp, e + 4, 4);
			memcpy(e + 4, e + 7 * s->elem_size + 4, 4);
			memcpy(e + 7 * s->elem_size + 4, tmp, 4);
		}
		assert_int_equal(fn_nft_image_check(img, len, err, sizeof(err)), -EBADMSG);
		assert_non_null(strstr(err, "wrong bucket"));
		t_free(img);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		T_TEST(test_hash_set),
		T_TEST(test_interval_set),
		T_TEST(test_concat_ranges),
		T_TEST(test_map_and_catchall),
		T_TEST(test_verdict_maps),
		T_TEST(test_inverted_lookup),
		T_TEST(test_empty_sets),
		T_TEST(test_bad_sets_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
