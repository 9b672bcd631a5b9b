/* SPDX-License-Identifier: BSD-3-Clause */
/* counter: rule counters and named counter objects (nft_counter.c). Each
 * queue counts into its own slots; readers sum over queues. */
#include "expr_object.h"

void fn_counter_slot_eval(struct fn_nft_ctx *c, uint32_t slot)
{
	struct fn_nft_counter *ctr = &c->qs->counters[slot];

	ctr->packets++;
	ctr->bytes += c->pkt->l3_len;
}

static void counter_eval(struct fn_nft_ctx *c, const struct fn_op *op)
{
	fn_counter_slot_eval(c, ((const struct fn_op_slot *)op)->slot);
}

static int counter_verify(struct fn_verify *v, const struct fn_op *op)
{
	const struct fn_op_slot *o = (const void *)op;

	if (op->size * 4u != sizeof(*o))
		return fn_verify_fail(v, "counter op size");
	if (o->slot >= v->prog->hdr->n_counters)
		return fn_verify_fail(v, "counter slot %u", o->slot);
	return 0;
}

const struct fn_nft_op_type fn_op_counter = {
	.name = "counter", .min_size = 2,
	.eval = counter_eval, .verify = counter_verify,
};
