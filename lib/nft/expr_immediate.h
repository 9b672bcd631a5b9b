/* SPDX-License-Identifier: BSD-3-Clause */
/* The verdict op's eval, inline so that the interpreter's hot dispatch and
 * the registry entry in expr_immediate.c run the same code. */
#ifndef FN_NFT_EXPR_IMMEDIATE_H
#define FN_NFT_EXPR_IMMEDIATE_H

#include "nft.h"

/* verdict: an immediate into the verdict register (nft_immediate.c). */
static inline __attribute__((always_inline)) void
fn_verdict_eval(struct fn_nft_ctx *c, const struct fn_op *op)
{
	const struct fn_op_verdict *o = (const void *)op;

	c->vcode = o->v.code;
	c->vchain = o->v.chain;
}

#endif /* FN_NFT_EXPR_IMMEDIATE_H */
