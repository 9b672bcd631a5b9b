/* SPDX-License-Identifier: BSD-3-Clause */
/* objref maps: named counters, quotas and limits chosen per packet by a map
 * lookup (nft_objref_map_eval), and what the verifier refuses of them. */
#include <errno.h>
#include <string.h>

#include "nft_test.h"
#include "nft/nft.h"

#define SEC 1000000000ull
#define NET FN_PAYLOAD_NETWORK
#define TH FN_PAYLOAD_TRANSPORT

static struct fn_imgb *table(uint8_t policy)
{
	struct fn_imgb *b = t_builder();

	fn_imgb_table(b, "t", FN_FAMILY_INET, 0);
	fn_imgb_chain(b, "in", FN_HOOK_INPUT, 0, policy);
	return b;
}

/* A hash object map keyed by ip saddr (4 bytes) or udp dport (2 bytes). */
static uint32_t objmap(struct fn_imgb *b, uint8_t type, uint8_t key_len)
{
	uint32_t set = fn_imgb_set(b, "__objmap0", FN_SET_HASH, 0, key_len, 4, 0, NULL);

	fn_imgb_set_objects(b, set, type);
	return set;
}

static void addr_elem(struct fn_imgb *b, uint32_t set, uint32_t addr, uint32_t slot)
{
	uint8_t key[4] = { (uint8_t)(addr >> 24), (uint8_t)(addr >> 16),
			   (uint8_t)(addr >> 8), (uint8_t)addr };

	fn_imgb_elem(b, set, key, NULL, 0, &slot);
}

static void port_elem(struct fn_imgb *b, uint32_t set, uint16_t port, uint32_t slot)
{
	uint8_t key[2] = { (uint8_t)(port >> 8), (uint8_t)port };

	fn_imgb_elem(b, set, key, NULL, 0, &slot);
}

static enum fn_verdict from(struct fn_nft_state *s, uint32_t src, uint16_t dport,
			    uint64_t *h)
{
	struct tpkt t;

	t_udp(&t, src, IP4(2, 2, 2, 2), 7, dport, 12);   /* 40 bytes */
	return t_run(s, FN_HOOK_INPUT, &t, h);
}

struct named {
	const char *name;
	uint64_t packets, bytes;
};

static void named_cb(void *arg, const char *name, uint64_t packets, uint64_t bytes)
{
	struct named *n = arg;

	for (; n->name; n++)
		if (!strcmp(n->name, name)) {
			n->packets = packets;
			n->bytes = bytes;
		}
}

/* counter name ip saddr map { 1.1.1.1 : "c1", 3.3.3.3 : "c2" } counter:
 * each source counts into its object; a source not in the map ends the rule
 * (the rule's own counter after the objref does not count it), unless the
 * map has a catch-all. */
static void test_counter_map(void **state)
{
	int catchall;

	(void)state;
	for (catchall = 0; catchall < 2; catchall++) {
		struct fn_imgb *b = table(FN_POLICY_ACCEPT);
		struct named n[] = { { "c1", 0, 0 }, { "c2", 0, 0 }, { NULL, 0, 0 } };
		uint32_t c1, c2, set;
		struct fn_nft_state *s;

		c1 = fn_imgb_counter(b, FN_IMG_NONE, 0, 0, 0);
		fn_imgb_object(b, "c1", FN_OBJ_COUNTER, c1);
		c2 = fn_imgb_counter(b, FN_IMG_NONE, 0, 0, 0);
		fn_imgb_object(b, "c2", FN_OBJ_COUNTER, c2);
		set = objmap(b, FN_OBJ_COUNTER, 4);
		addr_elem(b, set, IP4(1, 1, 1, 1), c1);
		addr_elem(b, set, IP4(3, 3, 3, 3), c2);
		if (catchall)
			fn_imgb_catchall(b, set, &c2);
		fn_imgb_rule(b, 0, 4);
		t_payload(b, NET, 12, 4, 0);
		t_objref_map(b, 0, FN_OBJ_COUNTER, set);
		t_counter(b, 0, 4);
		s = t_load(b);
		from(s, IP4(1, 1, 1, 1), 9, NULL);
		from(s, IP4(1, 1, 1, 1), 9, NULL);
		from(s, IP4(3, 3, 3, 3), 9, NULL);
		from(s, IP4(9, 9, 9, 9), 9, NULL);
		fn_nft_named_counters(s, named_cb, n);
		assert_int_equal(n[0].packets, 2);
		assert_int_equal(n[0].bytes, 80);
		assert_int_equal(n[1].packets, 1 + catchall);
		assert_int_equal(t_rule_packets(s, 4), 3 + catchall);
		t_free(s);
	}
}

/* quota name udp dport map { 53 : "q1" } drop, q1 over 50 bytes: matches
 * from the second 40-byte packet; port 54 is not in the map. */
static void test_quota_map(void **state)
{
	struct fn_img_quota over = { .bytes = 50, .invert = 1 };
	struct fn_imgb *b = table(FN_POLICY_ACCEPT);
	struct fn_nft_state *s;
	uint32_t q1, set;
	uint64_t h;

	(void)state;
	q1 = fn_imgb_quota(b, &over);
	fn_imgb_object(b, "q1", FN_OBJ_QUOTA, q1);
	set = objmap(b, FN_OBJ_QUOTA, 2);
	port_elem(b, set, 53, q1);
	fn_imgb_rule(b, 0, 6);
	t_payload(b, TH, 2, 2, 0);
	t_objref_map(b, 0, FN_OBJ_QUOTA, set);
	t_verdict(b, FN_V_DROP, 0);
	s = t_load(b);
	assert_int_equal(from(s, IP4(1, 1, 1, 1), 53, &h), FN_ACCEPT);   /* 40 */
	assert_int_equal(from(s, IP4(1, 1, 1, 1), 54, &h), FN_ACCEPT);   /* no object */
	assert_int_equal(from(s, IP4(1, 1, 1, 1), 53, &h), FN_DROP);     /* 80 */
	assert_int_equal(h, 6);
	t_free(s);
}

/* limit name ip saddr map { 1.1.1.1 : "l1", 3.3.3.3 : "l2" } accept with
 * policy drop: each source spends its own object's bucket. */
static void test_limit_map(void **state)
{
	struct tclock clk = { .mono = 100 * SEC };
	struct fn_imgb *b = table(FN_POLICY_DROP);
	struct fn_img_limit lim;
	struct fn_nft_state *s;
	uint32_t l1, l2, set;
	int i, a = 0, c = 0;

	(void)state;
	assert_int_equal(fn_img_limit_init(&lim, 10, 1, 2, 0, 0), 0);
	l1 = fn_imgb_limit(b, &lim);
	fn_imgb_object(b, "l1", FN_OBJ_LIMIT, l1);
	l2 = fn_imgb_limit(b, &lim);
	fn_imgb_object(b, "l2", FN_OBJ_LIMIT, l2);
	set = objmap(b, FN_OBJ_LIMIT, 4);
	addr_elem(b, set, IP4(1, 1, 1, 1), l1);
	addr_elem(b, set, IP4(3, 3, 3, 3), l2);
	fn_imgb_rule(b, 0, 1);
	t_payload(b, NET, 12, 4, 0);
	t_objref_map(b, 0, FN_OBJ_LIMIT, set);
	t_verdict(b, FN_V_ACCEPT, 0);
	s = t_load(b);
	fn_nft_state_set_clock(s, t_mono, t_real, &clk);
	for (i = 0; i < 5; i++) {
		a += from(s, IP4(1, 1, 1, 1), 9, NULL) == FN_ACCEPT;
		c += from(s, IP4(3, 3, 3, 3), 9, NULL) == FN_ACCEPT;
	}
	assert_int_equal(a, 2);           /* the burst of l1 */
	assert_int_equal(c, 2);           /* l2 is a bucket of its own */
	assert_int_equal(from(s, IP4(9, 9, 9, 9), 9, NULL), FN_DROP);  /* no object */
	clk.mono += SEC / 10;             /* one token each */
	assert_int_equal(from(s, IP4(1, 1, 1, 1), 9, NULL), FN_ACCEPT);
	assert_int_equal(from(s, IP4(1, 1, 1, 1), 9, NULL), FN_DROP);
	t_free(s);
}

enum corrupt { SLOT_RANGE, WRONG_TYPE, NOT_OBJMAP, MAP_FLAG, DATA_LEN };

static void expect_refused(enum corrupt how, const char *why)
{
	struct fn_imgb *b = table(FN_POLICY_ACCEPT);
	uint32_t c1, set;
	char err[256];
	size_t len;
	void *img;

	c1 = fn_imgb_counter(b, FN_IMG_NONE, 0, 0, 0);
	fn_imgb_object(b, "c1", FN_OBJ_COUNTER, c1);
	/* a map of u32 data, an object map with a map's flag, an object map
	 * with 8 bytes of data (no elements), the right object map */
	set = fn_imgb_set(b, "s", FN_SET_HASH, how == NOT_OBJMAP || how == MAP_FLAG ?
			  FN_SET_F_MAP : 0, 4, how == DATA_LEN ? 8 : 4, 0, NULL);
	if (how != NOT_OBJMAP)
		fn_imgb_set_objects(b, set, FN_OBJ_COUNTER);
	if (how != DATA_LEN)
		addr_elem(b, set, IP4(1, 1, 1, 1), how == SLOT_RANGE ? c1 + 1 : c1);
	fn_imgb_rule(b, 0, 1);
	t_payload(b, NET, 12, 4, 0);
	t_objref_map(b, 0, how == WRONG_TYPE ? FN_OBJ_QUOTA : FN_OBJ_COUNTER, set);
	img = t_image(b, &len);
	assert_int_equal(fn_nft_image_check(img, len, err, sizeof(err)), -EBADMSG);
	if (!strstr(err, why))
		fail_msg("case %d: \"%s\" does not say \"%s\"", how, err, why);
	t_free(img);
}

static void test_verifier(void **state)
{
	(void)state;
	expect_refused(SLOT_RANGE, "object slot 1");
	expect_refused(WRONG_TYPE, "not a map of objects of type 2");
	expect_refused(NOT_OBJMAP, "not a map of objects");
	expect_refused(MAP_FLAG, "object map 0");
	expect_refused(DATA_LEN, "data 8");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		T_TEST(test_counter_map),
		T_TEST(test_quota_map),
		T_TEST(test_limit_map),
		T_TEST(test_verifier),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
