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
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "connlimit.h"
#include "conntrack.h"

#define NIL FN_IMG_NONE

int fn_cl_init(struct fn_connlimit *cl, const struct fn_nft_prog *prog)
{
	uint32_t r, i, lists = 0;

	memset(cl, 0, sizeof(*cl));
	for (r = 0; r < prog->hdr->n_rules; r++) {
		const uint8_t *op = prog->code + prog->rules[r].code_off;
		const uint8_t *end = op + prog->rules[r].code_len;

		for (; op < end; op += ((const struct fn_op *)op)->size * 4u) {
			const struct fn_op_connlimit *o = (const void *)op;

			if (o->h.type == FN_OP_CONNLIMIT && o->slot >= lists)
				lists = o->slot + 1;
		}
	}
	if (!lists)
		return 0;
	cl->head = malloc(lists * sizeof(*cl->head));
	cl->count = calloc(lists, sizeof(*cl->count));
	cl->node = malloc(FN_CL_NODES * sizeof(*cl->node));
	if (!cl->head || !cl->count || !cl->node) {
		fn_cl_fini(cl);
		return -ENOMEM;
	}
	cl->n_lists = lists;
	for (i = 0; i < lists; i++)
		cl->head[i] = NIL;
	for (i = 0; i < FN_CL_NODES; i++)
		cl->node[i].next = i + 1 < FN_CL_NODES ? i + 1 : NIL;
	cl->free = 0;
	return 0;
}

void fn_cl_fini(struct fn_connlimit *cl)
{
	free(cl->head);
	free(cl->count);
	free(cl->node);
	memset(cl, 0, sizeof(*cl));
}

static bool tuple_eq(const struct fn_ct_tuple *a, const struct fn_ct_tuple *b)
{
	return a->src == b->src && a->dst == b->dst && a->sport == b->sport &&
	       a->dport == b->dport && a->proto == b->proto;
}

/* nf_conncount_add(): 0, or -ENOMEM when the pool is empty. */
static int cl_add(struct fn_nft_ctx *c, uint32_t list, const struct fn_ct_tuple *k)
{
	struct fn_connlimit *cl = c->qs->cl;
	uint32_t *link = &cl->head[list], n, evicted = 0;

	while ((n = *link) != NIL) {
		struct fn_cl_node *node = &cl->node[n];

		if (evicted > FN_CL_EVICT_MAX)
			break;
		if (!fn_ct_alive(c, &node->t)) {
			/* its flow is gone: forget it */
			*link = node->next;
			node->next = cl->free;
			cl->free = n;
			cl->count[list]--;
			evicted++;
			continue;
		}
		if (tuple_eq(&node->t, k))
			return 0; /* counted already */
		link = &node->next;
	}
	if ((n = cl->free) == NIL)
		return -ENOMEM;
	cl->free = cl->node[n].next;
	cl->node[n].t = *k;
	/* at the end, as the kernel's list_add_tail */
	cl->node[n].next = NIL;
	for (link = &cl->head[list]; *link != NIL; link = &cl->node[*link].next)
		;
	*link = n;
	cl->count[list]++;
	return 0;
}

static void connlimit_eval(struct fn_nft_ctx *c, const struct fn_op *op)
{
	const struct fn_op_connlimit *o = (const void *)op;
	const struct fn_ct_view *ct = fn_ct_get(c);
	struct fn_ct_tuple k;

	/* the flow's original tuple, else the packet's own (a packet
	 * conntrack refused), else no way to count it: drop */
	if (ct->tracked)
		k = *ct->tuple;
	else if (!fn_ct_packet_tuple(c, &k)) {
		c->vcode = FN_V_DROP;
		return;
	}
	if (cl_add(c, o->slot, &k)) {
		c->qs->cl->full++;
		c->vcode = FN_V_DROP;
		return;
	}
	if ((c->qs->cl->count[o->slot] > o->limit) != (bool)o->invert)
		c->vcode = FN_V_BREAK;
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
