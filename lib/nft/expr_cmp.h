/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Comparison as the kernel's cmp/range: memcmp order (big-endian numbers),
 * shared by cmp, range and the fused ops; and the cmp op itself, inline so
 * that the interpreter's hot dispatch and the registry run the same code.
 */
#ifndef FN_NFT_EXPR_CMP_H
#define FN_NFT_EXPR_CMP_H

#include <string.h>

#include "nft.h"

static inline int fn_memcmp(const void *a, const void *b, unsigned len)
{
	const uint8_t *x = a, *y = b;

	/* the common lengths without a libc call */
	switch (len) {
	case 1:
		return (int)x[0] - (int)y[0];
	case 2: {
		uint16_t u = (uint16_t)(x[0] << 8 | x[1]), v = (uint16_t)(y[0] << 8 | y[1]);

		return (u > v) - (u < v);
	}
	case 4: {
		uint32_t u = (uint32_t)x[0] << 24 | (uint32_t)x[1] << 16 |
			     (uint32_t)x[2] << 8 | x[3];
		uint32_t v = (uint32_t)y[0] << 24 | (uint32_t)y[1] << 16 |
			     (uint32_t)y[2] << 8 | y[3];

		return (u > v) - (u < v);
	}
	default:
		return memcmp(a, b, len);
	}
}

/* true when `d` (a memcmp result) satisfies op. */
static inline bool fn_cmp_holds(unsigned op, int d)
{
	switch (op) {
	case FN_CMP_EQ:
		return d == 0;
	case FN_CMP_NEQ:
		return d != 0;
	case FN_CMP_LT:
		return d < 0;
	case FN_CMP_LTE:
		return d <= 0;
	case FN_CMP_GT:
		return d > 0;
	default:
		return d >= 0;
	}
}

/* The first len (1..4) bytes of a word, as a mask in memory order. */
static inline uint32_t fn_word_mask(unsigned len)
{
	static const uint8_t ones[8] = { 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0 };
	uint32_t m;

	memcpy(&m, ones + 4 - len, 4);
	return m;
}

/* cmp of len bytes at a against the op's data: sets BREAK when it fails.
 * (In)equality within one word is a masked word compare (the op's data is
 * zero padded). */
static inline __attribute__((always_inline)) void
fn_cmp_apply(struct fn_nft_ctx *c, const uint32_t *a,
				const uint32_t *data, unsigned len, unsigned op)
{
	if (FN_LIKELY(len <= 4 && op <= FN_CMP_NEQ)) {
		bool eq = ((*a ^ *data) & fn_word_mask(len)) == 0;

		if (eq != (op == FN_CMP_EQ))
			c->vcode = FN_V_BREAK;
		return;
	}
	if (!fn_cmp_holds(op, fn_memcmp(a, data, len)))
		c->vcode = FN_V_BREAK;
}

/* cmp (nft_cmp.c): a register against the op's data. */
static inline __attribute__((always_inline)) void
fn_cmp_eval(struct fn_nft_ctx *c, const struct fn_op *op)
{
	const struct fn_op_cmp *o = (const void *)op;

	fn_cmp_apply(c, &c->reg[o->sreg], o->data, o->len, o->op);
}

#endif /* FN_NFT_EXPR_CMP_H */
