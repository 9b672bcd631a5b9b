/* SPDX-License-Identifier: BSD-3-Clause */
/* The verifier refuses corrupt images, each for the reason it should. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "nft_test.h"
#include "samples.h"

struct img {
	uint8_t *p;
	size_t len;
	struct fn_img_header *h;
};

static struct img sample(unsigned which)
{
	struct img i;

	i.p = t_own(fn_sample_image(which, &i.len), free);
	assert_non_null(i.p);
	i.h = (struct fn_img_header *)i.p;
	return i;
}

static void refused(struct img *i, const char *reason)
{
	char err[256];

	assert_int_equal(fn_nft_image_check(i->p, i->len, err, sizeof(err)), -EBADMSG);
	if (!strstr(err, reason))
		fail_msg("expected \"%s\", got \"%s\"", reason, err);
	assert_null(fn_nft_state_new(i->p, i->len));
	assert_int_equal(errno, EBADMSG);
	t_free(i->p);
}

static void test_samples_accepted(void **state)
{
	unsigned w;

	(void)state;
	for (w = 0; w < FN_SAMPLES; w++) {
		struct img i = sample(w);
		char err[256];

		if (fn_nft_image_check(i.p, i.len, err, sizeof(err)))
			fail_msg("sample %u: %s", w, err);
		t_free(i.p);
	}
}

static void test_header(void **state)
{
	struct img i;

	(void)state;
	i = sample(1); i.h->magic ^= 1; refused(&i, "bad magic");
	i = sample(1); i.h->version = FN_IMG_VERSION + 1; refused(&i, "this library reads");
	i = sample(1); i.len -= 8; refused(&i, "length mismatch");
	i = sample(1); i.h->flags |= 0x80; refused(&i, "unknown flags");
	i = sample(1); i.h->family = 10; refused(&i, "family 10");
	i = sample(1); i.h->rules.off += 4; refused(&i, "rules section");
	i = sample(1); i.h->code.len += 4096; refused(&i, "code section out of bounds");
	i = sample(1); i.h->n_rules++; refused(&i, "rules section holds");
	i = sample(1);
	i.p[i.h->strings.off + i.h->strings.len - 1] = 'x';
	refused(&i, "strings not NUL-terminated");
	i = sample(1); i.len = 16; refused(&i, "too short");
}

static struct fn_op *first_op(struct img *i, unsigned rule)
{
	struct fn_img_rule *r = (struct fn_img_rule *)(i->p + i->h->rules.off) + rule;

	return (struct fn_op *)(i->p + i->h->code.off + r->code_off);
}

static void test_ops(void **state)
{
	struct img i;

	(void)state;
	/* sample 1: payload (transport +2, 2 bytes -> reg 0), cmp, verdict */
	i = sample(1); first_op(&i, 0)->type = 200; refused(&i, "unknown op type");
	i = sample(1); first_op(&i, 0)->size = 200; refused(&i, "op size");
	i = sample(1); first_op(&i, 0)->size = 0; refused(&i, "op size");
	i = sample(1);
	((struct fn_op_payload *)first_op(&i, 0))->dreg = 16;
	refused(&i, "register 16 length 2 out of range");
	i = sample(1);
	((struct fn_op_payload *)first_op(&i, 0))->dreg = 3;
	refused(&i, "register 0 read before written");
	i = sample(1);
	((struct fn_op_payload *)first_op(&i, 0))->base = 7;
	refused(&i, "payload base 7");
	{
		struct fn_op_cmp *c;

		i = sample(1);
		c = (struct fn_op_cmp *)((uint8_t *)first_op(&i, 0) + 8);
		((uint8_t *)c->data)[3] = 1; /* padding of the 2-byte operand */
		refused(&i, "data padding not zero");
		i = sample(1);
		c = (struct fn_op_cmp *)((uint8_t *)first_op(&i, 0) + 8);
		c->op = 9;
		refused(&i, "cmp op 9");
	}
	{
		struct fn_op_verdict *v;

		i = sample(1);
		v = (struct fn_op_verdict *)((uint8_t *)first_op(&i, 0) + 8 + 12);
		v->v.code = 3; /* NF_QUEUE */
		refused(&i, "verdict code 3");
		i = sample(1);
		v = (struct fn_op_verdict *)((uint8_t *)first_op(&i, 0) + 8 + 12);
		v->v.code = FN_V_JUMP;
		v->v.chain = 9;
		refused(&i, "jump to chain 9");
	}
}

static void test_chains_and_sets(void **state)
{
	struct img i;
	struct fn_img_chain *c;
	struct fn_img_set *s;

	(void)state;
	i = sample(0);
	c = (struct fn_img_chain *)(i.p + i.h->chains.off);
	c[0].priority = 100; /* raw now after pre on prerouting */
	refused(&i, "not in priority order");
	i = sample(0);
	c = (struct fn_img_chain *)(i.p + i.h->chains.off);
	c[2].policy = 7;
	refused(&i, "policy 7");
	i = sample(0);
	c = (struct fn_img_chain *)(i.p + i.h->chains.off);
	c[2].n_rules = 1000;
	refused(&i, "rules out of range");
	i = sample(0);
	s = (struct fn_img_set *)(i.p + i.h->sets.off);
	s[0].n_buckets = 3;
	refused(&i, "buckets");
	i = sample(0);
	s = (struct fn_img_set *)(i.p + i.h->sets.off);
	s[1].elems = i.h->set_data.len;
	refused(&i, "elements out of bounds");
	i = sample(0);
	s = (struct fn_img_set *)(i.p + i.h->sets.off);
	{
		/* interval set "i": swap its two boundaries */
		uint8_t *e = i.p + i.h->set_data.off + s[1].elems;
		uint8_t tmp[4];

		memcpy(tmp, e + 4, 4);
		memcpy(e + 4, e + s[1].elem_size + 4, 4);
		memcpy(e + s[1].elem_size + 4, tmp, 4);
	}
	refused(&i, "intervals not sorted");
	i = sample(0);
	s = (struct fn_img_set *)(i.p + i.h->sets.off);
	s[2].field_len[1] = 9;
	refused(&i, "fields do not add up");
	i = sample(0);
	((struct fn_img_limit *)(i.p + i.h->limits.off))->rate = 0;
	refused(&i, "limit 0 parameters");
	i = sample(0);
	i.h->flags = 0;
	refused(&i, "ct without the conntrack flag");
	/* sample 0, rule 0: ct state -> reg 0 */
	i = sample(0);
	((struct fn_op_ct *)first_op(&i, 0))->dir = FN_CT_DIR_REPLY;
	refused(&i, "ct key 0 with direction 2");
	i = sample(0);
	((struct fn_op_ct *)first_op(&i, 0))->key = 99;
	refused(&i, "ct key 99");
	i = sample(0);
	((struct fn_op_ct *)first_op(&i, 0))->key = FN_CT_SRC_IP; /* needs a direction */
	refused(&i, "ct key 13 with direction 0");
	i = sample(0);
	((struct fn_op_ct *)first_op(&i, 0))->key = FN_CT_PKTS;
	((struct fn_op_ct *)first_op(&i, 0))->dir = 3;
	refused(&i, "ct key 17 with direction 3");
	i = sample(0);
	((struct fn_op_ct *)first_op(&i, 0))->key = FN_CT_LABELS;
	((struct fn_op_ct *)first_op(&i, 0))->dreg = 13;
	refused(&i, "register 13 length 16 out of range");
}

/* The connlimit op of sample 0 (post chain, rule 7): its list index is
 * bounded by the code's size. */
static struct fn_op_connlimit *find_connlimit(struct img *i)
{
	uint8_t *p = i->p + i->h->code.off, *end = p + i->h->code.len;

	for (; p < end; p += ((struct fn_op *)p)->size * 4u)
		if (((struct fn_op *)p)->type == FN_OP_CONNLIMIT)
			return (struct fn_op_connlimit *)p;
	fail_msg("no connlimit op in the sample");
	return NULL;
}

static void test_connlimit(void **state)
{
	struct img i;

	(void)state;
	i = sample(0);
	find_connlimit(&i)->slot = i.h->code.len;
	refused(&i, "connlimit list");
	i = sample(0);
	find_connlimit(&i)->invert = 2;
	refused(&i, "connlimit invert 2");
}

/* Every single-byte corruption of the full sample is refused or runs. */
static void test_every_byte(void **state)
{
	struct img i = sample(0);
	uint8_t *copy = t_own(malloc(i.len), free);
	size_t pos;
	unsigned accepted = 0;

	(void)state;
	assert_non_null(copy);
	for (pos = 0; pos < i.len; pos++) {
		struct fn_nft_state *s;
		struct tpkt t;

		memcpy(copy, i.p, i.len);
		copy[pos] ^= 0xa5;
		s = t_state(fn_nft_state_new(copy, i.len));
		if (!s) {
			assert_int_equal(errno, EBADMSG);
			continue;
		}
		accepted++;
		t_udp(&t, IP4(10, 0, 0, 7), IP4(2, 2, 2, 2), 99, 150, 8);
		fn_nft_eval(s, FN_HOOK_PREROUTING, &t.pkt, NULL);
		fn_nft_eval(s, FN_HOOK_INPUT, &t.pkt, NULL);
		fn_nft_eval(s, FN_HOOK_OUTPUT, &t.pkt, NULL);
		fn_nft_eval(s, FN_HOOK_POSTROUTING, &t.pkt, NULL);
		t_free(s);
	}
	/* some bytes (data, handles, priorities) are free to change */
	assert_true(accepted > 0 && accepted < i.len);
	t_free(copy);
	t_free(i.p);
}

/* One rule: udp port at offset `off` == 53: counter, drop; and `rules`
 * more rules that only count. */
static void *port_image(uint8_t off, unsigned rules, size_t *len)
{
	struct fn_imgb *b = t_builder();
	uint8_t p53[2] = { 0, 53 };

	fn_imgb_table(b, "t", FN_FAMILY_INET, 0);
	fn_imgb_chain(b, "in", FN_HOOK_INPUT, 0, FN_POLICY_ACCEPT);
	for (unsigned r = 0; r < rules; r++) {
		fn_imgb_rule(b, 0, 10 + r);
		t_counter(b, 0, 10 + r);
	}
	fn_imgb_rule(b, 0, 1);
	t_payload_cmp(b, FN_PAYLOAD_TRANSPORT, off, 2, FN_CMP_EQ, p53);
	t_counter(b, 0, 1);
	t_verdict(b, FN_V_DROP, 0);
	return t_image(b, len);
}

/* fn_nft_state_replace_code(): later packets run the other image's ops,
 * state carries on; another layout or a corrupt image is refused. */
static void test_replace_code(void **state)
{
	size_t len, len_b, len_c;
	void *dport = port_image(2, 0, &len), *sport = port_image(0, 0, &len_b);
	void *other = port_image(0, 1, &len_c);
	struct fn_nft_state *s = t_state(fn_nft_state_new(dport, len));
	struct tpkt t;

	(void)state;
	assert_non_null(s);
	t_udp(&t, IP4(1, 1, 1, 1), IP4(2, 2, 2, 2), 7, 53, 0);
	assert_int_equal(t_run(s, FN_HOOK_INPUT, &t, NULL), FN_DROP);
	assert_int_equal(len_b, len);
	assert_int_equal(fn_nft_state_replace_code(s, sport, len_b), 0);
	t_udp(&t, IP4(1, 1, 1, 1), IP4(2, 2, 2, 2), 7, 53, 0);
	assert_int_equal(t_run(s, FN_HOOK_INPUT, &t, NULL), FN_ACCEPT);
	t_udp(&t, IP4(1, 1, 1, 1), IP4(2, 2, 2, 2), 53, 7, 0);
	assert_int_equal(t_run(s, FN_HOOK_INPUT, &t, NULL), FN_DROP);
	assert_int_equal(t_rule_packets(s, 1), 2);      /* the counter carried on */
	assert_int_equal(fn_nft_state_replace_code(s, other, len_c), -EINVAL);
	((struct fn_img_header *)dport)->magic ^= 1;
	assert_int_equal(fn_nft_state_replace_code(s, dport, len), -EBADMSG);
	t_udp(&t, IP4(1, 1, 1, 1), IP4(2, 2, 2, 2), 53, 7, 0);
	assert_int_equal(t_run(s, FN_HOOK_INPUT, &t, NULL), FN_DROP);
	t_free(s);
	t_free(dport);
	t_free(sport);
	t_free(other);
}

/* Overwrite the flags and data of the catch-all element of set `set`. */
static void patch_catchall(uint8_t *img, uint32_t set, uint32_t flags, const void *data,
			   size_t dlen)
{
	const struct fn_img_header *h = (const void *)img;
	const struct fn_img_set *s = (const void *)(img + h->sets.off + set * sizeof(*s));
	uint8_t *e = img + h->set_data.off + s->elems + (size_t)s->catchall * s->elem_size;

	memcpy(e, &flags, 4);
	memcpy(e + s->elem_size - fn_img_round4(s->data_len), data, dlen);
}

/*
 * The catch-all of an interval set is used whatever its flags say, so the
 * end-of-interval flag must not let it skip the checks an element's data
 * gets: a verdict to a chain out of range or a goto loop (vmap), an object
 * slot out of range (object map) would otherwise pass.
 */
static void test_catchall_is_checked(void **state)
{
	static const struct { bool objmap; struct fn_img_vdata v; uint32_t slot; } cases[] = {
		{ false, { FN_V_JUMP, 40000 }, 0 },
		{ false, { FN_V_GOTO, 1 }, 0 },
		{ true, { 0, 0 }, 1000000 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fn_imgb *b = fn_imgb_new();
		struct fn_img_vdata acc = { FN_V_ACCEPT, 0 };
		uint8_t k[2] = { 0, 100 };
		uint32_t set, slot = 0;
		char err[256];
		size_t len;
		void *img;

		fn_imgb_table(b, "t", FN_FAMILY_INET, 0);
		fn_imgb_chain(b, "in", FN_HOOK_INPUT, 0, FN_POLICY_ACCEPT);
		fn_imgb_chain(b, "sub", FN_CHAIN_REGULAR, 0, 0);
		if (cases[i].objmap) {
			slot = fn_imgb_counter(b, FN_IMG_NONE, 0, 0, 0);
			fn_imgb_object(b, "c", FN_OBJ_COUNTER, slot);
			set = fn_imgb_set(b, "om", FN_SET_INTERVAL, 0, 2, 4, 0, NULL);
			fn_imgb_set_objects(b, set, FN_OBJ_COUNTER);
			fn_imgb_elem(b, set, k, NULL, 0, &slot);
			k[1] = 200;
			fn_imgb_elem(b, set, k, NULL, FN_ELEM_F_END, NULL);
			fn_imgb_catchall(b, set, &slot);
			fn_imgb_rule(b, 0, 1);
			t_payload(b, FN_PAYLOAD_TRANSPORT, 2, 2, 0);
			t_objref_map(b, 0, FN_OBJ_COUNTER, set);
		} else {
			set = fn_imgb_set(b, "iv", FN_SET_INTERVAL, FN_SET_F_MAP | FN_SET_F_VMAP, 2, 8,
					  0, NULL);
			fn_imgb_elem(b, set, k, NULL, 0, &acc);
			k[1] = 200;
			fn_imgb_elem(b, set, k, NULL, FN_ELEM_F_END, NULL);
			fn_imgb_catchall(b, set, &acc);
			fn_imgb_rule(b, 0, 1);
			t_verdict(b, FN_V_JUMP, 1);
			fn_imgb_rule(b, 1, 2);
			t_payload(b, FN_PAYLOAD_TRANSPORT, 2, 2, 0);
			t_lookup(b, 0, FN_REG_VERDICT, set, 0);
		}
		img = t_finish(b, &len);
		assert_non_null(img);
		assert_int_equal(fn_nft_image_check(img, len, err, sizeof(err)), 0);
		if (cases[i].objmap)
			patch_catchall(img, set, FN_ELEM_F_END, &cases[i].slot, 4);
		else
			patch_catchall(img, set, FN_ELEM_F_END, &cases[i].v, sizeof(cases[i].v));
		assert_int_not_equal(fn_nft_image_check(img, len, err, sizeof(err)), 0);
		/* the same data without the flag is refused too, by the element checks */
		patch_catchall(img, set, 0, cases[i].objmap ? (const void *)&cases[i].slot
							    : (const void *)&cases[i].v,
			       cases[i].objmap ? 4 : sizeof(cases[i].v));
		assert_int_not_equal(fn_nft_image_check(img, len, err, sizeof(err)), 0);
		free(img);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		T_TEST(test_samples_accepted),
		T_TEST(test_header),
		T_TEST(test_ops),
		T_TEST(test_chains_and_sets),
		T_TEST(test_connlimit),
		T_TEST(test_every_byte),
		T_TEST(test_replace_code),
		T_TEST(test_catchall_is_checked),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
