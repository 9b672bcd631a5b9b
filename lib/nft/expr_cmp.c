/* SPDX-License-Identifier: BSD-3-Clause */
/* cmp and range (nft_cmp.c, nft_range.c): memcmp of a register. The cmp
 * eval is in expr_cmp.h. */
#include "expr_cmp.h"

static int cmp_verify(struct fn_verify *v, const struct fn_op *op)
{
	const struct fn_op_cmp *o = (const void *)op;
	int err;

	if (o->op > FN_CMP_GTE)
		return fn_verify_fail(v, "cmp op %u", o->op);
	if ((err = fn_verify_data(v, op, sizeof(*o), o->len, 1)))
		return err;
	return fn_verify_load(v, o->sreg, o->len);
}

static void range_eval(struct fn_nft_ctx *c, const struct fn_op *op)
{
	const struct fn_op_range *o = (const void *)op;
	const void *x = &c->reg[o->sreg];
	int d1 = fn_memcmp(x, o->data, o->len);
	int d2 = fn_memcmp(x, o->data + fn_img_round4(o->len) / 4, o->len);
	bool inside = d1 >= 0 && d2 <= 0;

	if (inside != (o->op == FN_CMP_EQ))
		c->vcode = FN_V_BREAK;
}

static int range_verify(struct fn_verify *v, const struct fn_op *op)
{
	const struct fn_op_range *o = (const void *)op;
	int err;

	if (o->op != FN_CMP_EQ && o->op != FN_CMP_NEQ)
		return fn_verify_fail(v, "range op %u", o->op);
	if ((err = fn_verify_data(v, op, sizeof(*o), o->len, 2)))
		return err;
	return fn_verify_load(v, o->sreg, o->len);
}

const struct fn_nft_op_type fn_op_cmp = {
	.name = "cmp", .min_size = 3,
	.eval = fn_cmp_eval, .verify = cmp_verify,
};

const struct fn_nft_op_type fn_op_range = {
	.name = "range", .min_size = 4,
	.eval = range_eval, .verify = range_verify,
};
