/* SPDX-License-Identifier: BSD-3-Clause */
/* The queue's connection lists behind ct count: see connlimit.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "connlimit.h"
#include "conntrack.h"

#define NIL FN_IMG_NONE

/* The ct count lists a rule's ops ask for: lists past the highest slot of
 * a connlimit op; *counts set when it has a connlimit or a dynset with
 * ct count. */
static void scan_rule(const struct fn_nft_prog *prog, uint32_t r, uint32_t *lists, bool *counts)
{
	const uint8_t *op = prog->code + prog->rules[r].code_off;
	const uint8_t *end = op + prog->rules[r].code_len;

	for (; op < end; op += ((const struct fn_op *)op)->size * 4u) {
		const struct fn_op_connlimit *o = (const void *)op;
		const struct fn_op_dynset *d = (const void *)op;

		if (o->h.type == FN_OP_CONNLIMIT) {
			*counts = true;
			if (o->slot >= *lists)
				*lists = o->slot + 1;
		} else if (d->h.type == FN_OP_DYNSET && (d->flags & FN_DYNSET_F_CT_COUNT)) {
			*counts = true;
		}
	}
}

int fn_cl_init(struct fn_connlimit *cl, const struct fn_nft_prog *prog)
{
	uint32_t c, r, i, lists = 0;
	bool counts = false;

	memset(cl, 0, sizeof(*cl));
	cl->free = NIL;
	/* The rules of the chains, as the verifier checked them: a rule no
	 * chain holds was never checked (its ops may not even be aligned) and
	 * is never run. */
	for (c = 0; c < prog->hdr->n_chains; c++) {
		const struct fn_img_chain *ch = &prog->chains[c];

		for (r = ch->first_rule; r < ch->first_rule + ch->n_rules; r++)
			scan_rule(prog, r, &lists, &counts);
	}
	if (!counts)
		return 0;
	cl->head = malloc((lists + 1) * sizeof(*cl->head));
	cl->count = calloc(lists + 1, sizeof(*cl->count));
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

/* Unlink the node at *link and give it back. */
static void drop_node(struct fn_connlimit *cl, struct fn_cl_list l, uint32_t *link)
{
	uint32_t n = *link;

	*link = cl->node[n].next;
	cl->node[n].next = cl->free;
	cl->free = n;
	(*l.count)--;
}

/* nf_conncount_add(): 0, or -ENOMEM when the pool is empty. */
static int add(struct fn_nft_ctx *c, struct fn_cl_list l, const struct fn_ct_tuple *k)
{
	struct fn_connlimit *cl = c->qs->cl;
	uint32_t *link = l.head, n, evicted = 0;

	while ((n = *link) != NIL) {
		struct fn_cl_node *node = &cl->node[n];

		if (evicted > FN_CL_EVICT_MAX)
			break;
		if (!fn_ct_alive(c, &node->t)) {
			/* its flow is gone: forget it */
			drop_node(cl, l, link);
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
	for (link = l.head; *link != NIL; link = &cl->node[*link].next)
		;
	*link = n;
	(*l.count)++;
	return 0;
}

/* An empty pool: every list forgets its dead flows (connlimit.h). true when
 * that freed some. */
static bool collect(struct fn_nft_ctx *c, struct fn_cl_list l)
{
	struct fn_connlimit *cl = c->qs->cl;
	uint64_t now = (uint64_t)c->qs->env->mono_ns(c->qs->env->clock_arg);

	if (now < cl->next_collect)
		return false;
	cl->next_collect = now + FN_CL_COLLECT_NS;
	for (uint32_t i = 0; i < cl->n_lists; i++)
		fn_cl_gc(c, (struct fn_cl_list){ &cl->head[i], &cl->count[i] }, UINT32_MAX);
	fn_dynset_cl_collect(c, now, l.head);
	return cl->free != NIL;
}

void fn_cl_eval(struct fn_nft_ctx *c, struct fn_cl_list l, uint32_t limit, bool over)
{
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
	if (add(c, l, &k) && !(collect(c, l) && add(c, l, &k) == 0)) {
		c->qs->cl->full++;
		c->vcode = FN_V_DROP;
		return;
	}
	if ((*l.count > limit) != over)
		c->vcode = FN_V_BREAK;
}

bool fn_cl_gc(struct fn_nft_ctx *c, struct fn_cl_list l, uint32_t max)
{
	struct fn_connlimit *cl = c->qs->cl;
	uint32_t *link = l.head, evicted = 0;

	while (*link != NIL && evicted < max) {
		if (fn_ct_alive(c, &cl->node[*link].t)) {
			link = &cl->node[*link].next;
			continue;
		}
		drop_node(cl, l, link);
		evicted++;
	}
	return *l.count == 0;
}

void fn_cl_release(struct fn_connlimit *cl, struct fn_cl_list l)
{
	while (*l.head != NIL)
		drop_node(cl, l, l.head);
}
