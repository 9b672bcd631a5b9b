/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * quota (nft_quota.c): bytes consumed by packets reaching it, against a
 * limit. Like limit, one quota is shared by all queues (an atomic add), so a
 * quota of 10 MB is 10 MB for the application, as in the kernel.
 */
#include "expr_object.h"

void fn_quota_slot_eval(struct fn_nft_ctx *c, uint32_t slot)
{
	const struct fn_img_quota *q = &c->prog->quotas[slot];
	uint64_t used = atomic_fetch_add_explicit(&c->qs->shared->quota_used[slot],
						  c->pkt->l3_len, memory_order_relaxed) +
			c->pkt->l3_len;

	/* "until": matches while not over; "over": matches once over */
	if ((used > q->bytes) ^ q->invert)
		c->vcode = FN_V_BREAK;
}

static void quota_eval(struct fn_nft_ctx *c, const struct fn_op *op)
{
	fn_quota_slot_eval(c, ((const struct fn_op_slot *)op)->slot);
}

static int quota_verify(struct fn_verify *v, const struct fn_op *op)
{
	const struct fn_op_slot *o = (const void *)op;

	if (op->size * 4u != sizeof(*o))
		return fn_verify_fail(v, "quota op size");
	if (o->slot >= v->prog->hdr->n_quotas)
		return fn_verify_fail(v, "quota slot %u", o->slot);
	return 0;
}

const struct fn_nft_op_type fn_op_quota = {
	.name = "quota", .min_size = 2,
	.eval = quota_eval, .verify = quota_verify,
};
