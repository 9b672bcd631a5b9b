/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dynset: `add @set { key }`, `update @set { key timeout T }` and nft's meters
 * (`meter NAME { key limit rate ... }`, an add with a per-element limit), as
 * the kernel's nft_dynset.c:
 *  - a key not in the set (or whose element expired) gets a new element: its
 *    timeout is the op's, else the set's, else none; its limit bucket starts
 *    full, its ct count list empty. A full set refuses it: the rule stops
 *    (BREAK), counted in set_full;
 *  - an existing element is kept; update restarts its timeout (only when it
 *    has one, as the kernel's element without a timeout extension);
 *  - then the element's own expression, if it has one, decides: a limit out
 *    of tokens (or, for "over", within them) stops the rule; a ct count
 *    (`add @s { ip saddr ct count over 2 }`) counts the packet's connection
 *    in the element's own list and stops the rule as a rule's ct count does
 *    (connlimit.h).
 *
 * An element's expression is the one of the op that made it, as the kernel
 * clones the op's expressions into each new element.
 *
 * The table is the queue's (dynset.h): per-lcore state, like counters and
 * conntrack. See docs/nft-support.md for what that means for a per-source
 * limit or count.
 */
#include <string.h>

#include "connlimit.h"
#include "dynset.h"
#include "limit.h"
#include "nft.h"

static struct fn_cl_list cl_list(struct fn_dyn_elem *e)
{
	return (struct fn_cl_list){ &e->cl_head, &e->cl_count };
}

/* A sweep of a full table (dynset.h): expired elements give their
 * connections back; a live one with a ct count leaves once its flows are
 * all gone, as the kernel's gc asks nft_connlimit_gc(). */
static bool elem_leaves(struct fn_dyn_elem *e, bool expired, void *arg)
{
	struct fn_nft_ctx *c = arg;

	if (!(e->cl_flags & FN_DYNSET_F_CT_COUNT))
		return expired;
	if (expired) {
		fn_cl_release(c->qs->cl, cl_list(e));
		return true;
	}
	return fn_cl_gc(c, cl_list(e), FN_CL_EVICT_MAX + 1);
}

struct collect_arg {
	struct fn_nft_ctx *c;
	const uint32_t *keep;
};

/* Collecting an empty pool (connlimit.h): the whole list, not a walk's share. */
static bool elem_collected(struct fn_dyn_elem *e, bool expired, void *arg)
{
	struct collect_arg *a = arg;

	if (!(e->cl_flags & FN_DYNSET_F_CT_COUNT) || &e->cl_head == a->keep)
		return false;   /* others wait for their table's own sweep */
	if (expired) {
		fn_cl_release(a->c->qs->cl, cl_list(e));
		return true;
	}
	return fn_cl_gc(a->c, cl_list(e), UINT32_MAX);
}

void fn_dynset_cl_collect(struct fn_nft_ctx *c, uint64_t now, const uint32_t *keep)
{
	struct collect_arg a = { c, keep };

	for (uint32_t s = 0; s < c->prog->hdr->n_sets; s++)
		if (c->qs->dyn[s].size)
			fn_dyn_sweep(&c->qs->dyn[s], now, elem_collected, &a);
}

static void dynset_eval(struct fn_nft_ctx *c, const struct fn_op *op)
{
	const struct fn_op_dynset *o = (const void *)op;
	const struct fn_img_set *s = &c->prog->sets[o->set];
	struct fn_nft_qstate *qs = c->qs;
	struct fn_dyn_table *t = &qs->dyn[o->set];
	const uint32_t *key = &c->reg[o->sreg];
	int64_t now = (int64_t)qs->env->mono_ns(qs->env->clock_arg);
	struct fn_dyn_elem *e = fn_dyn_find(t, key);
	uint64_t timeout_ms;

	memcpy(&timeout_ms, o->timeout_ms, sizeof(timeout_ms));
	if (!timeout_ms)
		timeout_ms = s->timeout_ms;
	if (e && !fn_dyn_expired(e, (uint64_t)now)) {
		if (o->op == FN_DYNSET_UPDATE && e->expires != FN_DYN_NEVER)
			e->expires = (uint64_t)now + timeout_ms * 1000000u;
	} else {
		if (e && (e->cl_flags & FN_DYNSET_F_CT_COUNT))
			fn_cl_release(qs->cl, cl_list(e)); /* the old element's */
		if (!e && !(e = fn_dyn_insert(t, key, (uint64_t)now, elem_leaves, c))) {
			qs->set_full++;
			c->vcode = FN_V_BREAK;
			return;
		}
		/* new, or expired and so new again, as the kernel sees it */
		e->expires = timeout_ms ? (uint64_t)now + timeout_ms * 1000000u : FN_DYN_NEVER;
		e->limit = o->limit;
		if (o->limit != FN_IMG_NONE)
			e->limit_empty = fn_limit_full(&c->prog->limits[o->limit], now);
		e->cl_flags = o->flags;
		e->cl_limit = o->ct_count;
		e->cl_head = FN_IMG_NONE;
		e->cl_count = 0;
	}
	if (e->limit != FN_IMG_NONE) {
		const struct fn_img_limit *l = &c->prog->limits[e->limit];
		bool pass = fn_limit_step(l, fn_limit_cost(l, c->pkt->l3_len), now,
					  e->limit_empty, &e->limit_empty);

		if (pass == (bool)l->invert)
			c->vcode = FN_V_BREAK;
	} else if (e->cl_flags & FN_DYNSET_F_CT_COUNT) {
		fn_cl_eval(c, cl_list(e), e->cl_limit, e->cl_flags & FN_DYNSET_F_CT_COUNT_OVER);
	}
}

static int dynset_verify(struct fn_verify *v, const struct fn_op *op)
{
	const struct fn_op_dynset *o = (const void *)op;
	const struct fn_img_set *s;
	uint64_t timeout_ms;

	if (op->size * 4u != sizeof(*o))
		return fn_verify_fail(v, "dynset op size");
	if (o->set >= v->prog->hdr->n_sets)
		return fn_verify_fail(v, "dynset of set %u", o->set);
	s = &v->prog->sets[o->set];
	if (!(s->flags & FN_SET_F_DYNAMIC))
		return fn_verify_fail(v, "dynset of set %u, not dynamic", o->set);
	if (o->op > FN_DYNSET_UPDATE)
		return fn_verify_fail(v, "dynset op %u", o->op);
	if (o->limit != FN_IMG_NONE && o->limit >= v->prog->hdr->n_limits)
		return fn_verify_fail(v, "dynset limit slot %u", o->limit);
	if (o->flags & ~(FN_DYNSET_F_CT_COUNT | FN_DYNSET_F_CT_COUNT_OVER))
		return fn_verify_fail(v, "dynset flags 0x%x", o->flags);
	if (o->flags == FN_DYNSET_F_CT_COUNT_OVER || (!o->flags && o->ct_count))
		return fn_verify_fail(v, "dynset ct count fields without a ct count");
	if ((o->flags & FN_DYNSET_F_CT_COUNT) && o->limit != FN_IMG_NONE)
		return fn_verify_fail(v, "dynset with both a limit and a ct count");
	if ((o->flags & FN_DYNSET_F_CT_COUNT) && !(v->prog->hdr->flags & FN_IMG_F_CONNTRACK))
		return fn_verify_fail(v, "dynset ct count without the conntrack flag");
	memcpy(&timeout_ms, o->timeout_ms, sizeof(timeout_ms));
	if (timeout_ms > FN_DYN_MAX_TIMEOUT_MS)
		return fn_verify_fail(v, "dynset timeout %llu ms", (unsigned long long)timeout_ms);
	return fn_verify_load(v, o->sreg, s->key_len);
}

const struct fn_nft_op_type fn_op_dynset = {
	.name = "dynset", .min_size = 7,
	.eval = dynset_eval, .verify = dynset_verify,
};
