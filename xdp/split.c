/* SPDX-License-Identifier: BSD-3-Clause */
/* Which rules the kernel part runs, and where it stops (split.h). */
#include <errno.h>
#include <stdlib.h>

#include "codegen.h"
#include "split.h"

/* Meta keys the XDP program knows as the stack does. */
static bool meta_key_ok(unsigned key)
{
	switch (key) {
	case FN_META_LEN:
	case FN_META_PROTOCOL:
	case FN_META_NFPROTO:
	case FN_META_L4PROTO:
	case FN_META_PKTTYPE:
		return true;
	default:
		return false;
	}
}

static const char *meta_why(unsigned key)
{
	switch (key) {
	case FN_META_MARK:
		return "meta mark: set in-process";
	case FN_META_IIF:
	case FN_META_IIFNAME:
	case FN_META_IIFTYPE:
		return "meta iif: the application's port is known in-process";
	case FN_META_OIF:
	case FN_META_OIFNAME:
	case FN_META_OIFTYPE:
		return "meta oif: known in-process";
	case FN_META_CPU:
		return "meta cpu: the application's queue is known in-process";
	case FN_META_TIME_NS:
	case FN_META_TIME_DAY:
	case FN_META_TIME_HOUR:
		return "meta time: read in-process";
	default:
		return "meta: key not known in the kernel";
	}
}

/* Why one op cannot run in the kernel, or NULL. */
static const char *op_why(const struct fn_nft_prog *p, const struct fn_op *op)
{
	switch (op->type) {
	case FN_OP_PAYLOAD_CMP:
	case FN_OP_PAYLOAD: {
		/* base and offset sit at the same place in both */
		const struct fn_op_payload *o = (const void *)op;

		return o->base == FN_PAYLOAD_INNER ? "payload @ih: the inner offset is found "
		       "in-process" : NULL;
	}
	case FN_OP_CMP:
	case FN_OP_RANGE:
	case FN_OP_BITWISE:
	case FN_OP_SHIFT:
	case FN_OP_BYTEORDER:
	case FN_OP_IMMEDIATE:
	case FN_OP_VERDICT:
	case FN_OP_COUNTER:
	case FN_OP_CLASSIFY:  /* skipped: the rules run linearly, as exactly */
		return NULL;
	case FN_OP_META: {
		const struct fn_op_meta *o = (const void *)op;

		return meta_key_ok(o->key) ? NULL : meta_why(o->key);
	}
	case FN_OP_META_CMP: {
		const struct fn_op_meta_cmp *o = (const void *)op;

		return meta_key_ok(o->key) ? NULL : meta_why(o->key);
	}
	case FN_OP_LOOKUP: {
		const struct fn_op_lookup *o = (const void *)op;
		const struct fn_img_set *set = &p->sets[o->set];

		if (set->flags & FN_SET_F_DYNAMIC)
			return "lookup: dynamic set, filled in-process";
		if (set->kind == FN_SET_HASH)
			return NULL;
		if (set->kind == FN_SET_INTERVAL)
			return set->key_len <= 4 ? NULL :
			       "lookup: interval set key longer than 4 bytes";
		return "lookup: concatenated ranges";
	}
	case FN_OP_LIMIT:
		return "limit: stateful";
	case FN_OP_QUOTA:
		return "quota: stateful";
	case FN_OP_DYNSET: {
		const struct fn_op_dynset *o = (const void *)op;

		return o->flags & FN_DYNSET_F_CT_COUNT ?
		       "dynset: per-element ct count, conntrack runs in-process" :
		       "dynset: updates a set in-process";
	}
	case FN_OP_OBJREF_MAP:
		return "objref map: the object is chosen and updated in-process";
	case FN_OP_CT:
		return "ct: conntrack runs in-process";
	case FN_OP_CT_SET:
		return "ct set: conntrack runs in-process";
	case FN_OP_CONNLIMIT:
		return "ct count: conntrack runs in-process";
	case FN_OP_META_SET:
		return "meta set: changes the packet in-process";
	case FN_OP_PAYLOAD_SET:
		return "payload set: rewrites the packet in-process";
	case FN_OP_LOG:
		return "log: written in-process";
	case FN_OP_REJECT:
		return "reject: answered in-process";
	default:
		return "op not known to the kernel part";
	}
}

/* Saturating: inlining can grow exponentially with the jump graph. */
static uint32_t add_sat(uint32_t a, uint32_t b)
{
	return a > UINT32_MAX - b ? UINT32_MAX : a + b;
}

struct walk {
	struct fn_xdp_split *s;
	uint32_t *rule_insns;      /* per rule, chains inlined */
	uint8_t *state;            /* per chain: 0 new, 1 done */
	uint8_t *chain_ok;
	int err;
};

static void chain_walk(struct walk *w, uint32_t chain);

/* A jump target of rule r: its chain must be offloadable; its code counts. */
static void target(struct walk *w, uint32_t r, uint32_t chain, uint32_t *size)
{
	chain_walk(w, chain);
	if (!w->chain_ok[chain] && !w->s->why[r])
		w->s->why[r] = "jump: a chain it reaches is not offloadable";
	*size = add_sat(*size, w->s->insns[chain]);
}

static void rule_walk(struct walk *w, uint32_t r)
{
	const struct fn_nft_prog *p = w->s->prog;
	const struct fn_img_rule *rule = &p->rules[r];
	const uint8_t *op = p->code + rule->code_off, *end = op + rule->code_len;
	uint32_t size = fn_xdp_rule_insns(p, r), i;

	for (; op < end && !w->err; op += ((const struct fn_op *)op)->size * 4u) {
		const struct fn_op *o = (const void *)op;
		const char *why = op_why(p, o);

		if (why && !w->s->why[r])
			w->s->why[r] = why;
		if (o->type == FN_OP_VERDICT) {
			const struct fn_op_verdict *v = (const void *)o;

			if (v->v.code == FN_V_JUMP || v->v.code == FN_V_GOTO)
				target(w, r, v->v.chain, &size);
		} else if (o->type == FN_OP_LOOKUP && !why) {
			const struct fn_op_lookup *l = (const void *)o;
			struct fn_img_vdata *cases;
			uint32_t n;

			if (!(p->sets[l->set].flags & FN_SET_F_VMAP))
				continue;
			if ((w->err = fn_xdp_vmap_cases(p, l->set, &cases, &n)))
				return;
			for (i = 0; i < n; i++)
				if (cases[i].code == FN_V_JUMP || cases[i].code == FN_V_GOTO)
					target(w, r, cases[i].chain, &size);
			free(cases);
		}
	}
	if (!w->s->why[r] && size > FN_XDP_RULE_BUDGET)
		w->s->why[r] = "too large";
	w->rule_insns[r] = size;
}

/* Depth-first over the jump graph, which the verifier found acyclic and at
 * most 16 deep. */
static void chain_walk(struct walk *w, uint32_t chain)
{
	const struct fn_img_chain *c = &w->s->prog->chains[chain];
	uint32_t r, size = 1;   /* the jump back to the caller */
	bool ok = true;

	if (w->state[chain])
		return;
	for (r = c->first_rule; r < c->first_rule + c->n_rules && !w->err; r++) {
		rule_walk(w, r);
		ok &= !w->s->why[r];
		size = add_sat(size, w->rule_insns[r]);
	}
	w->chain_ok[chain] = ok;
	w->s->insns[chain] = size;
	w->state[chain] = 1;
}

/* Instructions of a base chain's frame (decisions, policy, resume) and of
 * the program's prologue and end, above the rules: generous. */
#define CHAIN_OVERHEAD 96u
#define PROG_OVERHEAD 128u

static void place_boundaries(struct walk *w)
{
	const struct fn_nft_prog *p = w->s->prog;
	static const int hooks[] = { FN_HOOK_PREROUTING, FN_HOOK_INPUT };
	uint32_t total = PROG_OVERHEAD, i, r;
	bool stopped = false;   /* a chain where every packet stops */

	for (unsigned h = 0; h < 2; h++) {
		uint32_t first = p->hdr->hook_first[hooks[h]];
		uint32_t n = p->hdr->hook_count[hooks[h]];

		for (i = 0; i < n; i++) {
			const struct fn_img_chain *c = &p->chains[first + i];
			uint32_t end = c->first_rule + c->n_rules;
			const char *stop = NULL;

			/* conntrack's hook runs in-process: the kernel stops
			 * at the first chain after it, and before the last
			 * prerouting chain at the latest (a resume point names
			 * a chain); no input chain */
			if (p->conntrack && (hooks[h] == FN_HOOK_INPUT || i >= p->ct_chain[hooks[h]] ||
					     i == n - 1))
				stop = "conntrack: its hook and what follows run in-process";
			/* a resume point names its chain in a byte (meta.h) */
			if (i == UINT8_MAX - 1)
				stop = "the 255th base chain of a hook";
			if (stopped || stop) {
				w->s->boundary[first + i] = c->first_rule;
				if (!stopped)
					w->s->stop_why[first + i] = stop;
				stopped = true;
				continue;
			}
			total = add_sat(total, CHAIN_OVERHEAD);
			for (r = c->first_rule; r < end && !w->s->why[r]; r++) {
				if (add_sat(total, w->rule_insns[r]) > FN_XDP_PROG_BUDGET) {
					w->s->stop_why[first + i] = "the program is full";
					break;
				}
				total = add_sat(total, w->rule_insns[r]);
			}
			w->s->boundary[first + i] = r;
			/* of an empty chain, the kernel applies the policy */
			w->s->enters[first + i] = r > c->first_rule || !c->n_rules;
			stopped = !w->s->enters[first + i];
		}
	}
}

int fn_xdp_split(const struct fn_nft_prog *p, struct fn_xdp_split *s)
{
	uint32_t nc = p->hdr->n_chains, nr = p->hdr->n_rules, c;
	struct walk w = { .s = s };

	s->prog = p;
	s->why = calloc(nr + 1, sizeof(*s->why));
	s->boundary = malloc((nc + 1) * sizeof(*s->boundary));
	s->stop_why = calloc(nc + 1, sizeof(*s->stop_why));
	s->enters = calloc(nc + 1, 1);
	s->insns = calloc(nc + 1, sizeof(*s->insns));
	w.rule_insns = calloc(nr + 1, sizeof(*w.rule_insns));
	w.state = calloc(nc + 1, 1);
	w.chain_ok = calloc(nc + 1, 1);
	if (!s->why || !s->boundary || !s->stop_why || !s->enters || !s->insns || !w.rule_insns ||
	    !w.state || !w.chain_ok) {
		w.err = -ENOMEM;
		goto out;
	}
	for (c = 0; c < nc; c++)
		s->boundary[c] = FN_IMG_NONE;
	for (c = 0; c < nc && !w.err; c++)
		chain_walk(&w, c);
	if (!w.err)
		place_boundaries(&w);
out:
	free(w.rule_insns);
	free(w.state);
	free(w.chain_ok);
	if (w.err)
		fn_xdp_split_free(s);
	return w.err;
}

void fn_xdp_split_free(struct fn_xdp_split *s)
{
	free(s->why);
	free(s->boundary);
	free(s->stop_why);
	free(s->enters);
	free(s->insns);
	s->why = NULL;
	s->boundary = NULL;
	s->stop_why = NULL;
	s->enters = NULL;
	s->insns = NULL;
}
