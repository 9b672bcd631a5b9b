/* SPDX-License-Identifier: BSD-3-Clause */
/* bitwise mask/xor, shifts with carry between words, byteorder. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "nft_test.h"

/* Rules that run ops on a constant and compare the result with `want`. */
static struct fn_imgb *start(const void *value, uint8_t len)
{
	struct fn_imgb *b = t_builder();

	fn_imgb_table(b, "t", FN_FAMILY_INET, 0);
	fn_imgb_chain(b, "in", FN_HOOK_INPUT, 0, FN_POLICY_ACCEPT);
	fn_imgb_rule(b, 0, 1);
	t_imm(b, 0, value, len);
	return b;
}

/* Finish: rule drops when reg `reg` holds want (len bytes). */
static int ends_with(struct fn_imgb *b, uint8_t reg, const void *want, uint8_t len)
{
	struct fn_nft_state *s;
	struct tpkt t;
	int dropped;

	t_cmp(b, reg, FN_CMP_EQ, want, len);
	t_verdict(b, FN_V_DROP, 0);
	s = t_load(b);
	t_udp(&t, IP4(1, 1, 1, 1), IP4(2, 2, 2, 2), 7, 8, 0);
	dropped = t_run(s, FN_HOOK_INPUT, &t, NULL) == FN_DROP;
	t_free(s);
	return dropped;
}

static void bitwise(struct fn_imgb *b, uint8_t sreg, uint8_t dreg, uint8_t len,
		    const void *mask, const void *xor)
{
	struct fn_op_bitwise *o = fn_imgb_op(b, FN_OP_BITWISE, sizeof(*o) + 2 * fn_img_round4(len));

	o->sreg = sreg;
	o->dreg = dreg;
	o->len = len;
	fn_imgb_words(o->data, mask, len);
	fn_imgb_words(o->data + fn_img_round4(len) / 4, xor, len);
}

static void test_mask_xor(void **state)
{
	uint8_t v[4] = { 10, 1, 2, 3 }, mask[4] = { 255, 255, 0, 0 }, xor[4] = { 0, 0, 0, 1 };
	uint8_t want[4] = { 10, 1, 0, 1 }, wrong[4] = { 10, 1, 2, 3 };

	(void)state;
	{
		struct fn_imgb *b = start(v, 4);

		bitwise(b, 0, 5, 4, mask, xor);
		assert_true(ends_with(b, 5, want, 4));
	}
	{
		struct fn_imgb *b = start(v, 4);

		bitwise(b, 0, 0, 4, mask, xor);
		assert_false(ends_with(b, 0, wrong, 4));
	}
}

static void shift(struct fn_imgb *b, uint8_t op, uint8_t n, uint8_t len)
{
	struct fn_op_shift *o = fn_imgb_op(b, FN_OP_SHIFT, sizeof(*o));

	o->sreg = 0;
	o->dreg = 0;
	o->len = len;
	o->op = op;
	o->shift = n;
}

static void test_shifts(void **state)
{
	/* host-order words, as the kernel shifts them */
	uint32_t v[2] = { 0x80000001u, 0x00000003u };
	uint32_t left[2], right[2];

	(void)state;
	/* lshift walks from the last word, carrying the top bits down one
	 * word: word0 = (v0 << 1) | (v1 >> 31), word1 = v1 << 1 */
	left[0] = (v[0] << 1) | (v[1] >> 31);
	left[1] = v[1] << 1;
	{
		struct fn_imgb *b = start(v, 8);

		shift(b, FN_SHIFT_LEFT, 1, 8);
		assert_true(ends_with(b, 0, left, 8));
	}
	/* rshift carries the low bits of a word into the next one */
	right[0] = v[0] >> 1;
	right[1] = (v[0] << 31) | (v[1] >> 1);
	{
		struct fn_imgb *b = start(v, 8);

		shift(b, FN_SHIFT_RIGHT, 1, 8);
		assert_true(ends_with(b, 0, right, 8));
	}
}

static void byteorder(struct fn_imgb *b, uint8_t op, uint8_t size)
{
	struct fn_op_byteorder *o = fn_imgb_op(b, FN_OP_BYTEORDER, sizeof(*o));

	o->sreg = 0;
	o->dreg = 0;
	o->op = op;
	o->len = size;
	o->size = size;
}

static void test_byteorder(void **state)
{
	uint8_t v8[8] = { 1, 2, 3, 4, 5, 6, 7, 8 }, r8[8] = { 8, 7, 6, 5, 4, 3, 2, 1 };
	uint8_t r4[4] = { 4, 3, 2, 1 }, r2[2] = { 2, 1 };

	(void)state;
	{
		struct fn_imgb *b = start(v8, 8);

		byteorder(b, FN_HTON, 8);
		assert_true(ends_with(b, 0, r8, 8));
	}
	{
		struct fn_imgb *b = start(v8, 4);

		byteorder(b, FN_NTOH, 4);
		assert_true(ends_with(b, 0, r4, 4));
	}
	{
		struct fn_imgb *b = start(v8, 2);

		byteorder(b, FN_HTON, 2);
		assert_true(ends_with(b, 0, r2, 2));
	}
}

/* Forms whose kernel meaning is not stable, or undefined, are refused. */
static void test_refused_forms(void **state)
{
	uint8_t v[8] = { 0 };
	char err[256];
	size_t len;
	void *img;

	(void)state;
	{
		struct fn_imgb *b = start(v, 8);
		struct fn_op_byteorder *o = fn_imgb_op(b, FN_OP_BYTEORDER, sizeof(*o));

		o->len = 8;
		o->size = 4; /* two conversions in one op */
		img = t_image(b, &len);
		assert_int_equal(fn_nft_image_check(img, len, err, sizeof(err)), -EBADMSG);
		assert_non_null(strstr(err, "byteorder of 8 bytes in units of 4"));
		t_free(img);
	}
	{
		struct fn_imgb *b = start(v, 4);

		shift(b, FN_SHIFT_LEFT, 0, 4);
		img = t_image(b, &len);
		assert_int_equal(fn_nft_image_check(img, len, err, sizeof(err)), -EBADMSG);
		assert_non_null(strstr(err, "shift by 0"));
		t_free(img);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		T_TEST(test_mask_xor),
		T_TEST(test_shifts),
		T_TEST(test_byteorder),
		T_TEST(test_refused_forms),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
