/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * limit: the kernel's token bucket (nft_limit.c), packets or bytes, plain or
 * "over".
 *
 * Several lcores: ONE bucket per limit expression (or named limit object),
 * shared by every queue of the process, exactly as the kernel shares one
 * bucket among its CPUs. `limit rate 100/second` therefore means 100 per
 * second for the whole application, however many queues it runs and however
 * RSS spreads the flows. Splitting the rate per lcore was rejected: with
 * uneven RSS spread a flow on a busy queue would see a fraction of the
 * configured rate while idle queues waste theirs, which is not what the rule
 * says.
 *
 * The bucket is lock-free. The kernel keeps (tokens, last) under a spinlock;
 * the same state fits in one number, the time at which the bucket was (or
 * would have been) empty: E = last - tokens, with tokens(now) =
 * min(now - E, tokens_max). A packet costing `cost` passes when
 * tokens(now) >= cost and moves E forward by cost; a failing packet only
 * clamps E to now - tokens_max, as the kernel's failing path does. One
 * compare-and-swap per evaluation; cost: the cache line bounces between the
 * lcores that hit the same limit rule.
 */
#include "expr_object.h"
#include "limit.h"

void fn_limit_slot_eval(struct fn_nft_ctx *c, uint32_t slot)
{
	const struct fn_img_limit *l = &c->prog->limits[slot];
	_Atomic int64_t *empty = &c->qs->shared->limit_empty[slot];
	const struct fn_nft_env *env = c->qs->env;
	int64_t now = (int64_t)env->mono_ns(env->clock_arg);
	uint64_t cost = fn_limit_cost(l, c->pkt->l3_len);
	int64_t old = atomic_load_explicit(empty, memory_order_relaxed), next;
	bool pass;

	do {
		pass = fn_limit_step(l, cost, now, old, &next);
	} while (!atomic_compare_exchange_weak_explicit(empty, &old, next,
							memory_order_relaxed,
							memory_order_relaxed));
	if (pass == (bool)l->invert)
		c->vcode = FN_V_BREAK;
}

static void limit_eval(struct fn_nft_ctx *c, const struct fn_op *op)
{
	fn_limit_slot_eval(c, ((const struct fn_op_slot *)op)->slot);
}

static int limit_verify(struct fn_verify *v, const struct fn_op *op)
{
	const struct fn_op_slot *o = (const void *)op;

	if (op->size * 4u != sizeof(*o))
		return fn_verify_fail(v, "limit op size");
	if (o->slot >= v->prog->hdr->n_limits)
		return fn_verify_fail(v, "limit slot %u", o->slot);
	return 0;
}

const struct fn_nft_op_type fn_op_limit = {
	.name = "limit", .min_size = 2,
	.eval = limit_eval, .verify = limit_verify,
};
