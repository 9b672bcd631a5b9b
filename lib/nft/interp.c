/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The interpreter: runs the base chains of one hook over a packet, with the
 * rule loop, jump stack and verdict handling of the kernel's nft_do_chain().
 * The image is verified, so the only checks here are packet bounds.
 *
 * Dispatch: the hot op types are tested inline, in order of frequency, before
 * falling back to an indirect call through the registry. Either way an op
 * runs its family's one eval: the hot ones are inline in the expr_*.h
 * headers, and the registry points at the same functions.
 */
#include <string.h>

#include "conntrack.h"
#include "expr_cmp.h"
#include "expr_immediate.h"
#include "expr_lookup.h"
#include "expr_meta.h"
#include "expr_payload.h"
#include "nft.h"
#include "trace.h"

static inline void eval_op(struct fn_nft_ctx *c, const struct fn_op *op)
{
	if (FN_LIKELY(op->type == FN_OP_PAYLOAD_CMP))
		fn_payload_cmp_eval(c, op);
	else if (op->type == FN_OP_META_CMP)
		fn_meta_cmp_eval(c, op);
	else if (op->type == FN_OP_CMP)
		fn_cmp_eval(c, op);
	else if (op->type == FN_OP_PAYLOAD)
		fn_payload_eval(c, op);
	else if (op->type == FN_OP_VERDICT)
		fn_verdict_eval(c, op);
	else if (op->type == FN_OP_LOOKUP)
		fn_lookup_eval(c, op);
	else
		fn_nft_op_types[op->type]->eval(c, op);
}

/* Evaluate one rule: CONTINUE, BREAK or the verdict of its last op. */
static inline void eval_rule(struct fn_nft_ctx *c, const struct fn_img_rule *rule)
{
	const uint8_t *p = c->prog->code + rule->code_off;
	const uint8_t *end = p + rule->code_len;

	c->vcode = FN_V_CONTINUE;
	while (p < end) {
		const struct fn_op *op = (const void *)p;

		eval_op(c, op);
		if (c->vcode != FN_V_CONTINUE)
			return;
		p += op->size * 4u;
	}
}

/* Note one event of a traced run. In fn_nft_run() t is a constant NULL and
 * every call folds away. */
static inline void trace_ev(struct fn_trace *t, const struct fn_nft_ctx *c,
			    enum fn_trace_kind kind, uint32_t chain, uint64_t handle,
			    int32_t verdict, uint32_t target)
{
	struct fn_trace_ev *e;

	if (t == NULL)
		return;
	if (t->n == FN_TRACE_MAX_EVENTS) {
		t->lost++;
		return;
	}
	e = &t->ev[t->n++];
	*e = (struct fn_trace_ev){ .handle = handle, .chain = chain, .target = target,
				   .verdict = verdict, .hook = c->hook, .kind = (uint8_t)kind,
				   .reject = verdict == FN_V_DROP ? c->reject : 0 };
}

/* What ended the rule loop of a chain: a rule's verdict, or its end. */
static inline void trace_chain_step(struct fn_trace *t, const struct fn_nft_ctx *c,
				    uint32_t chain, uint32_t r, uint32_t end)
{
	if (r == end)
		trace_ev(t, c, FN_TRACE_CHAIN_END, chain, 0, FN_V_RETURN, FN_IMG_NONE);
	else
		trace_ev(t, c, FN_TRACE_RULE, chain, c->prog->rules[r].handle, c->vcode,
			 c->vcode == FN_V_JUMP || c->vcode == FN_V_GOTO ?
			 c->vchain : FN_IMG_NONE);
}

/* One base chain, with jumps, from its rule r (the first, or where the
 * kernel part stopped): the verdict (ACCEPT or DROP) and who gave it. */
static int32_t do_chain(struct fn_nft_ctx *c, uint32_t base, uint32_t r,
			struct fn_nft_decision *d, struct fn_trace *t)
{
	const struct fn_nft_prog *prog = c->prog;
	struct {
		uint32_t chain, rule;
	} stack[FN_JUMP_STACK];
	unsigned sp = 0;
	uint32_t chain = base, end;

	end = prog->chains[chain].first_rule + prog->chains[chain].n_rules;
	for (;;) {
		for (; r < end; r++) {
			eval_rule(c, &prog->rules[r]);
			if (c->vcode != FN_V_CONTINUE && c->vcode != FN_V_BREAK) {
				if (c->vcode != FN_V_SKIP)
					break;
				/* a classify op: the rules skipped cannot match
				 * (verified to stay inside the chain) */
				r += c->skip - 1;
				continue;
			}
			if (t && c->vcode == FN_V_CONTINUE)
				trace_ev(t, c, FN_TRACE_RULE, chain, prog->rules[r].handle,
					 FN_V_CONTINUE, FN_IMG_NONE);
		}
		if (r == end)
			c->vcode = FN_V_RETURN; /* end of chain: back to the caller */
		if (t)
			trace_chain_step(t, c, chain, r, end);

		switch (c->vcode) {
		case FN_V_ACCEPT:
		case FN_V_DROP:
			d->rule_handle = prog->rules[r].handle;
			d->chain = chain;
			return c->vcode;
		case FN_V_JUMP:
			/* a verified image is at most 15 deep; be safe anyway */
			if (FN_UNLIKELY(sp == FN_JUMP_STACK)) {
				d->rule_handle = prog->rules[r].handle;
				d->chain = chain;
				return FN_V_DROP;
			}
			stack[sp].chain = chain;
			stack[sp].rule = r + 1;
			sp++;
			/* fall through */
		case FN_V_GOTO:
			chain = c->vchain;
			r = prog->chains[chain].first_rule;
			end = r + prog->chains[chain].n_rules;
			continue;
		default: /* RETURN */
			break;
		}
		if (sp == 0)
			break;
		sp--;
		chain = stack[sp].chain;
		r = stack[sp].rule;
		end = prog->chains[chain].first_rule + prog->chains[chain].n_rules;
	}
	d->rule_handle = 0;
	d->chain = base;
	trace_ev(t, c, FN_TRACE_POLICY, base, 0,
		 prog->chains[base].policy == FN_POLICY_ACCEPT ? FN_V_ACCEPT : FN_V_DROP,
		 FN_IMG_NONE);
	return prog->chains[base].policy == FN_POLICY_ACCEPT ? FN_V_ACCEPT : FN_V_DROP;
}

/* What the kernel's nft_set_pktinfo_ipv4_validate() works out. */
static inline void parse_ipv4(struct fn_nft_ctx *c, const struct fn_pkt *pkt)
{
	const uint8_t *ip = pkt->l3;
	unsigned ihl;

	c->l4proto = false;
	c->l4 = false;
	c->thoff = 0;
	c->tprot = 0;
	c->base_ptr[FN_PAYLOAD_NETWORK] = pkt->l3;
	c->base_len[FN_PAYLOAD_NETWORK] = pkt->l3_len;
	c->base_ptr[FN_PAYLOAD_TRANSPORT] = pkt->l3;
	c->base_len[FN_PAYLOAD_TRANSPORT] = 0;
	c->base_ptr[FN_PAYLOAD_INNER] = pkt->l3;
	c->base_len[FN_PAYLOAD_INNER] = 0;
	c->inner_ready = false;
	if (FN_UNLIKELY(pkt->l3_len < 20))
		return;
	ihl = (ip[0] & 0xf) * 4u;
	if (FN_UNLIKELY((ip[0] >> 4) != 4 || ihl < 20 || ihl > pkt->l3_len ||
			(unsigned)(ip[2] << 8 | ip[3]) < ihl))
		return;
	c->l4proto = true;
	c->tprot = ip[9];
	c->thoff = (uint16_t)ihl;
	c->l4 = ((ip[6] & 0x1f) | ip[7]) == 0;
	c->base_ptr[FN_PAYLOAD_TRANSPORT] = ip + ihl;
	c->base_len[FN_PAYLOAD_TRANSPORT] = c->l4 ? pkt->l3_len - ihl : 0;
}

/* Conntrack's own hook: a full table drops new flows, decided by no rule. */
static bool ct_step(struct fn_nft_ctx *c, struct fn_nft_decision *d)
{
	c->ct_after = true;
	if (fn_ct_in(c))
		return true;
	d->verdict = FN_DROP;
	d->rule_handle = 0;
	d->chain = FN_IMG_NONE;
	return false;
}

static inline enum fn_verdict trace_ct_full(struct fn_trace *t, const struct fn_nft_ctx *c)
{
	trace_ev(t, c, FN_TRACE_CT_FULL, FN_IMG_NONE, 0, FN_V_DROP, FN_IMG_NONE);
	return FN_DROP;
}

/*
 * The base chains of `hook` from base chain `chain`, starting in it at rule
 * `rule` (FN_IMG_NONE: its first). Both entries below are flattened, so each
 * gets its own copy of the whole loop with the hot ops inlined, and in
 * fn_nft_run() the resume arguments are constants that fold away, as does
 * the trace t (NULL) everywhere but in fn_nft_run_traced().
 */
static inline __attribute__((always_inline)) enum fn_verdict
run_hook(struct fn_nft_qstate *qs, enum fn_hook hook, struct fn_pkt *pkt,
	 uint32_t chain, uint32_t rule, struct fn_nft_decision *d, struct fn_trace *t)
{
	const struct fn_nft_prog *prog = qs->prog;
	uint32_t first = prog->hdr->hook_first[hook], n = prog->hdr->hook_count[hook], i;
	bool ct_hook_in = prog->conntrack &&
			  (hook == FN_HOOK_PREROUTING || hook == FN_HOOK_OUTPUT);
	struct fn_nft_ctx c;
	int32_t v = FN_V_ACCEPT;

	memset(c.reg, 0, sizeof(c.reg));
	c.reject = 0;
	c.hook = (uint8_t)hook;
	c.qs = qs;
	c.prog = prog;
	c.pkt = pkt;
	/* before conntrack's hook a packet has no flow; after it (and in
	 * input/postrouting) the flow is looked up on first use */
	c.ct_ready = false;
	c.ct_after = !ct_hook_in;
	parse_ipv4(&c, pkt);

	d->verdict = FN_ACCEPT;
	d->rule_handle = 0;
	d->chain = FN_IMG_NONE;
	for (i = chain; i < n; i++) {
		uint32_t r = prog->chains[first + i].first_rule;

		if (FN_UNLIKELY(rule != FN_IMG_NONE)) {
			r = rule;          /* the resume point, in the first chain only */
			rule = FN_IMG_NONE;
		}
		if (ct_hook_in && i == prog->ct_chain[hook] && !ct_step(&c, d))
			return trace_ct_full(t, &c);
		v = do_chain(&c, first + i, r, d, t);
		if (v == FN_V_DROP) {
			d->verdict = c.reject ? (enum fn_verdict)c.reject : FN_DROP;
			return d->verdict;
		}
	}
	if (prog->conntrack) {
		if (ct_hook_in && !c.ct_after && !ct_step(&c, d))
			return trace_ct_full(t, &c);
		if (hook == FN_HOOK_INPUT || hook == FN_HOOK_POSTROUTING)
			fn_ct_confirm(&c);
	}
	return FN_ACCEPT;
}

__attribute__((flatten))
enum fn_verdict fn_nft_run(struct fn_nft_qstate *qs, enum fn_hook hook,
			   struct fn_pkt *pkt, struct fn_nft_decision *d)
{
	return run_hook(qs, hook, pkt, 0, FN_IMG_NONE, d, NULL);
}

__attribute__((flatten))
enum fn_verdict fn_nft_run_traced(struct fn_nft_qstate *qs, enum fn_hook hook,
				  struct fn_pkt *pkt, struct fn_nft_decision *d,
				  struct fn_trace *t)
{
	return run_hook(qs, hook, pkt, 0, FN_IMG_NONE, d, t);
}

__attribute__((flatten))
enum fn_verdict fn_nft_run_from(struct fn_nft_qstate *qs, enum fn_hook hook,
				struct fn_pkt *pkt, uint32_t chain, uint32_t rule,
				struct fn_nft_decision *d)
{
	return run_hook(qs, hook, pkt, chain, rule, d, NULL);
}
