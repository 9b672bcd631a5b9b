/* SPDX-License-Identifier: BSD-3-Clause */
/* reject: drop, and have the stack answer with an ICMP error (nft_reject).
 * Whether an error may be sent at all (not for fragments, broadcasts or ICMP
 * errors) is the stack's call, as it is icmp_send()'s in the kernel. */
#include "nft.h"

static void reject_eval(struct fn_nft_ctx *c, const struct fn_op *op)
{
	const struct fn_op_reject *o = (const void *)op;

	c->reject = o->verdict;
	c->vcode = FN_V_DROP;
}

static int reject_verify(struct fn_verify *v, const struct fn_op *op)
{
	const struct fn_op_reject *o = (const void *)op;

	if (op->size * 4u != sizeof(*o))
		return fn_verify_fail(v, "reject op size");
	if (o->verdict < FN_REJECT_FIRST || o->verdict > FN_REJECT_LAST)
		return fn_verify_fail(v, "reject verdict %u", o->verdict);
	return 0;
}

const struct fn_nft_op_type fn_op_reject = {
	.name = "reject", .min_size = 1,
	.eval = reject_eval, .verify = reject_verify,
};
