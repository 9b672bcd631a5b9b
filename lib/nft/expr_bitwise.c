/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bitwise (mask/xor, shifts) and byteorder (nft_bitwise.c, nft_byteorder.c).
 * Both work on the register words in host order, as the kernel does.
 */
#include <string.h>

#include "nft.h"

static void bitwise_eval(struct fn_nft_ctx *c, const struct fn_op *op)
{
	const struct fn_op_bitwise *o = (const void *)op;
	unsigned i, n = fn_img_round4(o->len) / 4;
	const uint32_t *mask = o->data, *xor = o->data + n;

	for (i = 0; i < n; i++)
		c->reg[o->dreg + i] = (c->reg[o->sreg + i] & mask[i]) ^ xor[i];
}

static int bitwise_verify(struct fn_verify *v, const struct fn_op *op)
{
	const struct fn_op_bitwise *o = (const void *)op;
	int err;

	if ((err = fn_verify_data(v, op, sizeof(*o), o->len, 2)) ||
	    (err = fn_verify_load(v, o->sreg, o->len)))
		return err;
	return fn_verify_store(v, o->dreg, o->len);
}

static void shift_eval(struct fn_nft_ctx *c, const struct fn_op *op)
{
	const struct fn_op_shift *o = (const void *)op;
	unsigned i, n = fn_img_round4(o->len) / 4, s = o->shift;
	uint32_t src[FN_NREGS], carry = 0;

	/* source first: the kernel's loops read each word before the
	 * (possibly same) destination word is written */
	for (i = 0; i < n; i++)
		src[i] = c->reg[o->sreg + i];
	if (o->op == FN_SHIFT_LEFT) {
		for (i = n; i > 0; i--) {
			c->reg[o->dreg + i - 1] = (src[i - 1] << s) | carry;
			carry = src[i - 1] >> (32 - s);
		}
	} else {
		for (i = 0; i < n; i++) {
			c->reg[o->dreg + i] = carry | (src[i] >> s);
			carry = src[i] << (32 - s);
		}
	}
}

static int shift_verify(struct fn_verify *v, const struct fn_op *op)
{
	const struct fn_op_shift *o = (const void *)op;
	int err;

	if (op->size * 4u != sizeof(*o))
		return fn_verify_fail(v, "shift op size");
	if (o->op != FN_SHIFT_LEFT && o->op != FN_SHIFT_RIGHT)
		return fn_verify_fail(v, "shift op %u", o->op);
	/* 0 is a no-op nft never emits, and the kernel's carry would shift
	 * by 32 (undefined) */
	if (o->shift == 0 || o->shift >= 32)
		return fn_verify_fail(v, "shift by %u", o->shift);
	if ((err = fn_verify_load(v, o->sreg, o->len)))
		return err;
	return fn_verify_store(v, o->dreg, o->len);
}

/* One conversion of `size` bytes: the only form every kernel version treats
 * the same way (multi-register conversions changed meaning over time). */
static void byteorder_eval(struct fn_nft_ctx *c, const struct fn_op *op)
{
	const struct fn_op_byteorder *o = (const void *)op;
	uint8_t *s = fn_reg8(c, o->sreg), *d = fn_reg8(c, o->dreg);

	switch (o->size) {
	case 2: {
		uint16_t x;

		memcpy(&x, s, 2);
		x = __builtin_bswap16(x);
		memcpy(d, &x, 2);
		break;
	}
	case 4: {
		uint32_t x;

		memcpy(&x, s, 4);
		x = __builtin_bswap32(x);
		memcpy(d, &x, 4);
		break;
	}
	default: {
		uint64_t x;

		memcpy(&x, s, 8);
		x = __builtin_bswap64(x);
		memcpy(d, &x, 8);
		break;
	}
	}
}

static int byteorder_verify(struct fn_verify *v, const struct fn_op *op)
{
	const struct fn_op_byteorder *o = (const void *)op;
	int err;

	if (op->size * 4u != sizeof(*o))
		return fn_verify_fail(v, "byteorder op size");
	if (o->op > FN_HTON)
		return fn_verify_fail(v, "byteorder op %u", o->op);
	if ((o->size != 2 && o->size != 4 && o->size != 8) || o->len != o->size)
		return fn_verify_fail(v, "byteorder of %u bytes in units of %u",
				      o->len, o->size);
	if ((err = fn_verify_load(v, o->sreg, o->len)))
		return err;
	return fn_verify_store(v, o->dreg, o->len);
}

const struct fn_nft_op_type fn_op_bitwise = {
	.name = "bitwise", .min_size = 4,
	.eval = bitwise_eval, .verify = bitwise_verify,
};

const struct fn_nft_op_type fn_op_shift = {
	.name = "shift", .min_size = 2,
	.eval = shift_eval, .verify = shift_verify,
};

const struct fn_nft_op_type fn_op_byteorder = {
	.name = "byteorder", .min_size = 2,
	.eval = byteorder_eval, .verify = byteorder_verify,
};
