/* SPDX-License-Identifier: BSD-3-Clause */
/* immediate: constants into registers, and verdicts (nft_immediate.c; the
 * verdict eval is in expr_immediate.h). */
#include <string.h>

#include "expr_immediate.h"

static void immediate_eval(struct fn_nft_ctx *c, const struct fn_op *op)
{
	const struct fn_op_immediate *o = (const void *)op;

	/* whole words: the data is zero padded like nft_data */
	memcpy(&c->reg[o->dreg], o->data, fn_img_round4(o->len));
}

static int immediate_verify(struct fn_verify *v, const struct fn_op *op)
{
	const struct fn_op_immediate *o = (const void *)op;
	int err;

	if ((err = fn_verify_data(v, op, sizeof(*o), o->len, 1)))
		return err;
	return fn_verify_store(v, o->dreg, o->len);
}

static int verdict_verify(struct fn_verify *v, const struct fn_op *op)
{
	const struct fn_op_verdict *o = (const void *)op;

	if (op->size * 4u != sizeof(*o))
		return fn_verify_fail(v, "verdict op size");
	return fn_verify_vdata(v, &o->v);
}

const struct fn_nft_op_type fn_op_immediate = {
	.name = "immediate", .min_size = 2,
	.eval = immediate_eval, .verify = immediate_verify,
};

const struct fn_nft_op_type fn_op_verdict = {
	.name = "verdict", .min_size = 3,
	.eval = fn_verdict_eval, .verify = verdict_verify,
};
