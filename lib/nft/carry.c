/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Which counters of a new program go on counting where the program it
 * replaces left off (fn_nft_carry_map in nft.h).
 *
 * nftables identifies a rule by its table, chain and handle; a rule that
 * an update leaves alone keeps its counter, while a replaced rule (same
 * handle, new expressions) starts a new one. Rules are compared op by op;
 * what an op refers to by index (a counter slot, a jump's chain, a set, a
 * limit, a quota, a log) is compared by what it names, since indexes move
 * when other rules come and go.
 *
 * fragnetd sees snapshots, not the transactions between them: a load that
 * flushes the ruleset and adds the same text again gives the same tables,
 * chains and handles (the kernel numbers a new table's objects from 1), so
 * its unchanged rules keep counting, where `nft -f` would start them
 * afresh. docs/rules-lifecycle.md says so.
 */
#include <string.h>

#include "nft.h"

static bool same_str(const struct fn_nft_prog *a, uint32_t x,
		     const struct fn_nft_prog *b, uint32_t y)
{
	return strcmp(fn_nft_str(a, x), fn_nft_str(b, y)) == 0;
}

/* The named object behind a slot of type `type`, or NULL. */
static const char *object_at(const struct fn_nft_prog *p, uint32_t type, uint32_t slot)
{
	for (uint32_t o = 0; o < p->hdr->n_objects; o++)
		if (p->objects[o].type == type && p->objects[o].slot == slot)
			return fn_nft_str(p, p->objects[o].name);
	return NULL;
}

static bool same_object(const struct fn_nft_prog *a, uint32_t x,
			const struct fn_nft_prog *b, uint32_t y, uint32_t type)
{
	const char *na = object_at(a, type, x), *nb = object_at(b, type, y);

	return (na == NULL) == (nb == NULL) && (na == NULL || strcmp(na, nb) == 0);
}

/* An anonymous set ("__set0") is part of its rule: its elements count.
 * A named one is the rule's only by name: its elements change on their own,
 * as in the kernel, without touching the rule. */
static bool same_set(const struct fn_nft_prog *a, uint32_t x,
		     const struct fn_nft_prog *b, uint32_t y)
{
	const struct fn_img_set *sa = &a->sets[x], *sb = &b->sets[y];
	size_t n;

	if (!same_str(a, sa->name, b, sb->name))
		return false;
	if (strncmp(fn_nft_str(a, sa->name), "__", 2) != 0)
		return true;
	if (sa->kind != sb->kind || sa->flags != sb->flags || sa->key_len != sb->key_len ||
	    sa->data_len != sb->data_len || sa->n_fields != sb->n_fields ||
	    memcmp(sa->field_len, sb->field_len, sizeof(sa->field_len)) != 0 ||
	    sa->n_elems != sb->n_elems || sa->elem_size != sb->elem_size ||
	    (sa->catchall == FN_IMG_NONE) != (sb->catchall == FN_IMG_NONE))
		return false;
	/* verdict maps hold chain indexes: a moved chain makes them differ,
	 * and the rule counts afresh, which is the safe side */
	n = (size_t)sa->n_elems + (sa->catchall != FN_IMG_NONE);
	return memcmp(a->set_data + sa->elems, b->set_data + sb->elems, n * sa->elem_size) == 0;
}

static bool same_op(const struct fn_nft_prog *a, const struct fn_op *oa,
		    const struct fn_nft_prog *b, const struct fn_op *ob)
{
	const struct fn_op_slot *sa = (const void *)oa, *sb = (const void *)ob;

	if (oa->type != ob->type || oa->size != ob->size)
		return false;
	switch (oa->type) {
	case FN_OP_COUNTER:
		/* the rule's own counter, or the same named counter */
		return (a->counters[sa->slot].chain == FN_IMG_NONE) ==
		       (b->counters[sb->slot].chain == FN_IMG_NONE) &&
		       same_object(a, sa->slot, b, sb->slot, FN_OBJ_COUNTER);
	case FN_OP_LIMIT:
		return same_object(a, sa->slot, b, sb->slot, FN_OBJ_LIMIT) &&
		       memcmp(&a->limits[sa->slot], &b->limits[sb->slot],
			      sizeof(a->limits[0])) == 0;
	case FN_OP_QUOTA:
		return same_object(a, sa->slot, b, sb->slot, FN_OBJ_QUOTA) &&
		       memcmp(&a->quotas[sa->slot], &b->quotas[sb->slot],
			      sizeof(a->quotas[0])) == 0;
	case FN_OP_LOG:
		return a->logs[sa->slot].level == b->logs[sb->slot].level &&
		       same_str(a, a->logs[sa->slot].prefix, b, b->logs[sb->slot].prefix);
	case FN_OP_VERDICT: {
		const struct fn_op_verdict *va = (const void *)oa, *vb = (const void *)ob;

		if (va->v.code != vb->v.code)
			return false;
		if (va->v.code != FN_V_JUMP && va->v.code != FN_V_GOTO)
			return true;
		return same_str(a, a->chains[va->v.chain].name, b, b->chains[vb->v.chain].name);
	}
	case FN_OP_LOOKUP: {
		const struct fn_op_lookup *la = (const void *)oa, *lb = (const void *)ob;

		return la->sreg == lb->sreg && la->dreg == lb->dreg && la->invert == lb->invert &&
		       same_set(a, la->set, b, lb->set);
	}
	case FN_OP_OBJREF_MAP: {
		/* an anonymous map holds slots: moved objects make the rule
		 * count afresh, the safe side as for verdict maps */
		const struct fn_op_objref_map *ma = (const void *)oa, *mb = (const void *)ob;

		return ma->sreg == mb->sreg && ma->type == mb->type &&
		       same_set(a, ma->set, b, mb->set);
	}
	case FN_OP_DYNSET: {
		const struct fn_op_dynset *da = (const void *)oa, *db = (const void *)ob;

		if (da->sreg != db->sreg || da->op != db->op || da->flags != db->flags ||
		    da->ct_count != db->ct_count ||
		    memcmp(da->timeout_ms, db->timeout_ms, sizeof(da->timeout_ms)) != 0 ||
		    (da->limit == FN_IMG_NONE) != (db->limit == FN_IMG_NONE) ||
		    !same_set(a, da->set, b, db->set))
			return false;
		return da->limit == FN_IMG_NONE ||
		       memcmp(&a->limits[da->limit], &b->limits[db->limit], sizeof(a->limits[0])) == 0;
	}
	default:
		return memcmp(oa, ob, (size_t)oa->size * 4) == 0;
	}
}

/* Where a rule's own ops start: after its classify op (verified to come
 * first), which only says where its run may skip to and comes and goes
 * with the rules around it. */
static uint32_t body(const struct fn_nft_prog *p, const struct fn_img_rule *r)
{
	const struct fn_op *op = (const void *)(p->code + r->code_off);

	return r->code_len && op->type == FN_OP_CLASSIFY ? op->size * 4u : 0;
}

static bool same_rule(const struct fn_nft_prog *a, const struct fn_img_rule *ra,
		      const struct fn_nft_prog *b, const struct fn_img_rule *rb)
{
	uint32_t off = 0, sa = body(a, ra), sb = body(b, rb);

	if (ra->code_len - sa != rb->code_len - sb)
		return false;
	while (off < ra->code_len - sa) {
		const struct fn_op *oa = (const void *)(a->code + ra->code_off + sa + off);
		const struct fn_op *ob = (const void *)(b->code + rb->code_off + sb + off);

		if (!same_op(a, oa, b, ob))
			return false;
		off += (uint32_t)oa->size * 4;
	}
	return true;
}

/* A counter set to a value (`counter packets 5 bytes 300` in the text)
 * starts there, as in the kernel; one left alone goes on. */
static bool same_start(const struct fn_img_counter *a, const struct fn_img_counter *b)
{
	return a->packets == b->packets && a->bytes == b->bytes;
}

/* Pair the rule counters of two identical rules, in the order they run. */
static void pair_rule(const struct fn_nft_prog *prev, const struct fn_img_rule *rp,
		      const struct fn_nft_prog *next, const struct fn_img_rule *rn,
		      uint32_t *from)
{
	uint32_t off = 0, sn = body(next, rn), sp = body(prev, rp);

	while (off < rn->code_len - sn) {
		const struct fn_op_slot *on = (const void *)(next->code + rn->code_off + sn + off);
		const struct fn_op_slot *op = (const void *)(prev->code + rp->code_off + sp + off);

		if (on->h.type == FN_OP_COUNTER && next->counters[on->slot].chain != FN_IMG_NONE &&
		    same_start(&prev->counters[op->slot], &next->counters[on->slot]))
			from[on->slot] = op->slot;
		off += (uint32_t)on->h.size * 4;
	}
}

static const struct fn_img_chain *chain_named(const struct fn_nft_prog *p, const char *name)
{
	for (uint32_t c = 0; c < p->hdr->n_chains; c++)
		if (strcmp(fn_nft_str(p, p->chains[c].name), name) == 0)
			return &p->chains[c];
	return NULL;
}

uint32_t fn_nft_carry_map(const struct fn_nft_prog *prev, const struct fn_nft_prog *next,
			  uint32_t *from)
{
	uint32_t carried = 0;

	for (uint32_t i = 0; i < next->hdr->n_counters; i++)
		from[i] = FN_IMG_NONE;
	if (prev == NULL || prev->hdr->family != next->hdr->family ||
	    !same_str(prev, prev->hdr->table_name, next, next->hdr->table_name))
		return 0;
	for (uint32_t o = 0; o < next->hdr->n_objects; o++) {
		const struct fn_img_object *on = &next->objects[o];

		for (uint32_t q = 0; on->type == FN_OBJ_COUNTER && q < prev->hdr->n_objects; q++)
			if (prev->objects[q].type == FN_OBJ_COUNTER &&
			    same_str(prev, prev->objects[q].name, next, on->name) &&
			    same_start(&prev->counters[prev->objects[q].slot], &next->counters[on->slot]))
				from[on->slot] = prev->objects[q].slot;
	}
	for (uint32_t c = 0; c < next->hdr->n_chains; c++) {
		const struct fn_img_chain *cn = &next->chains[c];
		const struct fn_img_chain *cp = chain_named(prev, fn_nft_str(next, cn->name));

		for (uint32_t r = 0; cp && r < cn->n_rules; r++) {
			const struct fn_img_rule *rn = &next->rules[cn->first_rule + r];

			for (uint32_t s = 0; s < cp->n_rules; s++) {
				const struct fn_img_rule *rp = &prev->rules[cp->first_rule + s];

				if (rp->handle == rn->handle) {
					if (same_rule(prev, rp, next, rn))
						pair_rule(prev, rp, next, rn, from);
					break;
				}
			}
		}
	}
	for (uint32_t i = 0; i < next->hdr->n_counters; i++)
		carried += from[i] != FN_IMG_NONE;
	return carried;
}
