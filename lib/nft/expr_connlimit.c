/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ct count (nft_connlimit.c with nf_conncount_add()): the packet's flow
 * joins the rule's list unless it is there already; the count is the
 * list's length after that walk. `ct count N` goes on while the count is
 * at most N, `ct count over N` while it is above.
 *
 * The lists are the queue's (connlimit.h): per-lcore state like conntrack
 * itself. RSS keeps one flow on one queue, so a connection is counted once;
 * a limit across flows (all of one source's connections) counts those of
 * its queue. See docs/nft-support.md.
 */
#include "connlimit.h"

static void connlimit_eval(struct fn_nft_ctx *c, const struct fn_op *op)
{
	const struct fn_op_connlimit *o = (const void *)op;
	struct fn_connlimit *cl = c->qs->cl;

	fn_cl_eval(c, (struct fn_cl_list){ &cl->head[o->slot], &cl->count[o->slot] },
		   o->limit, o->invert);
}

static int connlimit_verify(struct fn_verify *v, const struct fn_op *op)
{
	const struct fn_op_connlimit *o = (const void *)op;

	if (op->size * 4u != sizeof(*o))
		return fn_verify_fail(v, "connlimit op size");
	if (o->invert > 1)
		return fn_verify_fail(v, "connlimit invert %u", o->invert);
	/* no more lists than connlimit ops fit in the code: their memory
	 * follows the image's size */
	if (o->slot >= v->prog->hdr->code.len / sizeof(*o))
		return fn_verify_fail(v, "connlimit list %u", o->slot);
	if (!(v->prog->hdr->flags & FN_IMG_F_CONNTRACK))
		return fn_verify_fail(v, "ct count without the conntrack flag");
	return 0;
}

const struct fn_nft_op_type fn_op_connlimit = {
	.name = "connlimit", .min_size = 1,
	.eval = connlimit_eval, .verify = connlimit_verify,
};
