/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Lowering a table: chains (base chains ordered as the kernel runs them),
 * named objects, rules (expressions in lower_expr.c, then the fused fast
 * forms), sets on first reference (lower_set.c). The finished image goes
 * through the library's own verifier before it is handed out.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/object.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include "lower.h"
#include "lower_int.h"
#include "nft/eval.h"

int fn_lower_fail(struct lower *l, int ret, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (l->chain && l->in_rule && l->expr_name)
		snprintf(l->err, l->errlen,
			     "table %s, chain %s, rule handle %llu, expression %u (%s): %s",
			     l->table, l->chain, (unsigned long long)l->handle,
			     l->expr_no, l->expr_name, msg);
	else if (l->chain && l->in_rule)
		snprintf(l->err, l->errlen, "table %s, chain %s, rule handle %llu: %s",
			     l->table, l->chain, (unsigned long long)l->handle, msg);
	else if (l->chain)
		snprintf(l->err, l->errlen, "table %s, chain %s: %s", l->table,
			     l->chain, msg);
	else
		snprintf(l->err, l->errlen, "table %s: %s", l->table, msg);
	return ret;
}

int fn_lower_chain_ref(struct lower *l, const char *name, uint32_t *idx)
{
	size_t i;

	for (i = 0; i < l->n_chains; i++)
		if (!strcmp(l->chains[i].name, name)) {
			if (l->chains[i].hook != FN_CHAIN_REGULAR)
				return fn_lower_fail(l, -EOPNOTSUPP,
						     "jump to base chain %s", name);
			*idx = l->chains[i].idx;
			return 0;
		}
	return fn_lower_fail(l, -EINVAL, "jump to unknown chain %s", name);
}

int fn_lower_verdict(struct lower *l, int32_t code, const char *chain,
		     struct fn_img_vdata *vd)
{
	vd->chain = 0;
	switch (code) {
	case NF_ACCEPT:
		vd->code = FN_V_ACCEPT;
		return 0;
	case NF_DROP:
		vd->code = FN_V_DROP;
		return 0;
	case NFT_CONTINUE:
		vd->code = FN_V_CONTINUE;
		return 0;
	case NFT_BREAK:
		vd->code = FN_V_BREAK;
		return 0;
	case NFT_RETURN:
		vd->code = FN_V_RETURN;
		return 0;
	case NFT_JUMP:
	case NFT_GOTO:
		vd->code = code == NFT_JUMP ? FN_V_JUMP : FN_V_GOTO;
		if (!chain)
			return fn_lower_fail(l, -EINVAL, "jump without a chain");
		return fn_lower_chain_ref(l, chain, &vd->chain);
	default:
		if ((code & NF_VERDICT_MASK) == NF_QUEUE)
			return fn_lower_fail(l, -EOPNOTSUPP,
					     "queue verdicts are not supported (no userspace queue)");
		return fn_lower_fail(l, -EOPNOTSUPP, "verdict code %d is not supported", code);
	}
}

/* Base chains run by hook, then priority; at equal priority the chain
 * registered last runs first (nf_hook_entries_grow() inserts before equal
 * priorities), i.e. the higher handle. Regular chains follow. */
static int cmp_chain(const void *a, const void *b)
{
	const struct lchain *x = a, *y = b;

	if (x->hook != y->hook)
		return x->hook < y->hook ? -1 : 1;
	if (x->hook != FN_CHAIN_REGULAR && x->prio != y->prio)
		return x->prio < y->prio ? -1 : 1;
	if (x->handle != y->handle)
		return x->hook == FN_CHAIN_REGULAR ? (x->handle < y->handle ? -1 : 1)
						   : (x->handle > y->handle ? -1 : 1);
	return 0;
}

static int lower_chains(struct lower *l, bool dormant)
{
	const struct fn_dump *d = l->d;
	size_t i, n = 0;

	l->chains = calloc(d->n_chains + 1, sizeof(*l->chains));
	if (!l->chains)
		return -ENOMEM;
	for (i = 0; i < d->n_chains; i++) {
		struct nftnl_chain *c = d->chains[i];
		struct lchain *lc = &l->chains[n];
		const char *type;
		uint32_t hook;

		lc->name = nftnl_chain_get_str(c, NFTNL_CHAIN_NAME);
		lc->handle = nftnl_chain_get_u64(c, NFTNL_CHAIN_HANDLE);
		l->chain = lc->name;
		if (!nftnl_chain_is_set(c, NFTNL_CHAIN_HOOKNUM)) {
			lc->hook = FN_CHAIN_REGULAR;
			n++;
			continue;
		}
		/* a dormant table's base chains are not attached to hooks */
		if (dormant)
			continue;
		hook = nftnl_chain_get_u32(c, NFTNL_CHAIN_HOOKNUM);
		type = nftnl_chain_is_set(c, NFTNL_CHAIN_TYPE) ?
		       nftnl_chain_get_str(c, NFTNL_CHAIN_TYPE) : "filter";
		if (hook > NF_INET_POST_ROUTING)
			return fn_lower_fail(l, -EOPNOTSUPP,
					     "hook %u (ingress) is not supported", hook);
		if (strcmp(type, "filter"))
			return fn_lower_fail(l, -EOPNOTSUPP,
					     "chain type %s is not supported (filter only)", type);
		if (nftnl_chain_is_set(c, NFTNL_CHAIN_DEV) ||
		    nftnl_chain_is_set(c, NFTNL_CHAIN_DEVICES))
			return fn_lower_fail(l, -EOPNOTSUPP, "chains bound to devices are not supported");
		lc->hook = (uint8_t)hook;
		lc->prio = (int32_t)nftnl_chain_get_u32(c, NFTNL_CHAIN_PRIO);
		lc->policy = nftnl_chain_is_set(c, NFTNL_CHAIN_POLICY) &&
			     nftnl_chain_get_u32(c, NFTNL_CHAIN_POLICY) == NF_DROP ?
			     FN_POLICY_DROP : FN_POLICY_ACCEPT;
		n++;
	}
	l->chain = NULL;
	l->n_chains = n;
	qsort(l->chains, n, sizeof(*l->chains), cmp_chain);
	for (i = 0; i < n; i++)
		l->chains[i].idx = fn_imgb_chain(l->b, l->chains[i].name, l->chains[i].hook,
						 l->chains[i].prio, l->chains[i].policy);
	return 0;
}

/* Counter, quota and limit objects all get a slot (so tools can read named
 * counters even when no rule uses them yet); other kinds are refused only
 * when a rule refers to them. */
static int lower_objects(struct lower *l)
{
	const struct fn_dump *d = l->d;
	size_t i;

	l->obj_slot = malloc((d->n_objs + 1) * sizeof(*l->obj_slot));
	if (!l->obj_slot)
		return -ENOMEM;
	for (i = 0; i < d->n_objs; i++) {
		struct nftnl_obj *o = d->objs[i];
		const char *name = nftnl_obj_get_str(o, NFTNL_OBJ_NAME);
		uint32_t type = nftnl_obj_get_u32(o, NFTNL_OBJ_TYPE), slot;

		l->obj_slot[i] = FN_IMG_NONE;
		switch (type) {
		case NFT_OBJECT_COUNTER:
			slot = fn_imgb_counter(l->b, FN_IMG_NONE, 0,
					       nftnl_obj_get_u64(o, NFTNL_OBJ_CTR_PKTS),
					       nftnl_obj_get_u64(o, NFTNL_OBJ_CTR_BYTES));
			break;
		case NFT_OBJECT_QUOTA: {
			struct fn_img_quota q = {
				.bytes = nftnl_obj_get_u64(o, NFTNL_OBJ_QUOTA_BYTES),
				.consumed = nftnl_obj_get_u64(o, NFTNL_OBJ_QUOTA_CONSUMED),
				.invert = !!(nftnl_obj_get_u32(o, NFTNL_OBJ_QUOTA_FLAGS) &
					     NFT_QUOTA_F_INV),
			};

			slot = fn_imgb_quota(l->b, &q);
			break;
		}
		case NFT_OBJECT_LIMIT: {
			struct fn_img_limit lim;
			int ret = fn_img_limit_init(&lim, nftnl_obj_get_u64(o, NFTNL_OBJ_LIMIT_RATE),
					nftnl_obj_get_u64(o, NFTNL_OBJ_LIMIT_UNIT),
					nftnl_obj_get_u32(o, NFTNL_OBJ_LIMIT_BURST),
					nftnl_obj_get_u32(o, NFTNL_OBJ_LIMIT_TYPE) == NFT_LIMIT_PKT_BYTES,
					!!(nftnl_obj_get_u32(o, NFTNL_OBJ_LIMIT_FLAGS) & NFT_LIMIT_F_INV));

			if (ret)
				return fn_lower_fail(l, -EOPNOTSUPP, "limit object %s: bad rate", name);
			slot = fn_imgb_limit(l->b, &lim);
			break;
		}
		default:
			continue;
		}
		fn_imgb_object(l->b, name, type, slot);
		l->obj_slot[i] = slot;
	}
	return 0;
}

/* The registers an op reads and writes completely, for the fusion check. */
static bool reg_dead_after(const struct lower *l, unsigned from, uint32_t mask)
{
	unsigned i;

	for (i = from; i < l->n_ops; i++) {
		if (l->ops[i].reads & mask)
			return false;
		mask &= ~l->ops[i].writes;
		if (!mask)
			return true;
	}
	return true; /* registers do not outlive the rule */
}

static uint32_t reg_mask(unsigned reg, unsigned len)
{
	unsigned words = (len + 3) / 4;

	return (words >= 32 ? ~0u : ((1u << words) - 1)) << reg;
}

/*
 * The fused forms: payload or meta load immediately followed by a cmp of
 * the same register and length, when nothing else in the rule reads that
 * register afterwards. One op, no register traffic.
 */
static void fuse(struct lower *l)
{
	unsigned i, out = 0;

	for (i = 0; i < l->n_ops; i++) {
		struct lop *a = &l->ops[i], *b = i + 1 < l->n_ops ? &l->ops[i + 1] : NULL;
		const struct fn_op_cmp *cmp = b ? (const void *)&b->u : NULL;

		if (b && b->u.h.type == FN_OP_CMP && a->u.h.type == FN_OP_PAYLOAD) {
			const struct fn_op_payload *p = (const void *)&a->u;

			if (cmp->sreg == p->dreg && cmp->len == p->len &&
			    reg_dead_after(l, i + 2, reg_mask(p->dreg, p->len))) {
				struct lop f = { 0 };
				struct fn_op_payload_cmp *o = (void *)&f.u;
				size_t data = fn_img_round4(p->len);

				o->h.type = FN_OP_PAYLOAD_CMP;
				o->h.size = (uint8_t)((sizeof(*o) + data) / 4);
				o->base = p->base;
				o->offset = p->offset;
				o->len = p->len;
				o->op = cmp->op;
				memcpy(o->data, cmp->data, data);
				l->ops[out++] = f;
				i++;
				continue;
			}
		}
		if (b && b->u.h.type == FN_OP_CMP && a->u.h.type == FN_OP_META) {
			const struct fn_op_meta *m = (const void *)&a->u;

			/* `meta nfproto ipv4`, which nft puts before every IPv4
			 * match in an inet table, always holds: the stack carries
			 * IPv4 only, and the interpreter's nfproto is constant.
			 * Nothing to run. */
			if (m->key == FN_META_NFPROTO && cmp->sreg == m->dreg && cmp->len == 1 &&
			    cmp->op == FN_CMP_EQ && *(const uint8_t *)cmp->data == NFPROTO_IPV4 &&
			    reg_dead_after(l, i + 2, a->writes)) {
				i++;
				continue;
			}
			if (cmp->sreg == m->dreg && cmp->len <= 16 &&
			    (a->writes & reg_mask(m->dreg, cmp->len)) == reg_mask(m->dreg, cmp->len) &&
			    reg_dead_after(l, i + 2, a->writes)) {
				struct lop f = { 0 };
				struct fn_op_meta_cmp *o = (void *)&f.u;
				size_t data = fn_img_round4(cmp->len);

				o->h.type = FN_OP_META_CMP;
				o->h.size = (uint8_t)((sizeof(*o) + data) / 4);
				o->key = m->key;
				o->len = cmp->len;
				o->op = cmp->op;
				memcpy(o->data, cmp->data, data);
				l->ops[out++] = f;
				i++;
				continue;
			}
		}
		l->ops[out++] = *a;
	}
	l->n_ops = out;
}

static int expr_cb(struct nftnl_expr *e, void *data)
{
	struct lower *l = data;
	int ret;

	l->expr_no++;
	l->expr_name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);
	ret = fn_lower_expr(l, e);
	return ret < 0 ? ret : 0;
}

static int lower_rule(struct lower *l, const struct lchain *lc, struct nftnl_rule *r)
{
	unsigned i;
	int ret;

	l->handle = nftnl_rule_get_u64(r, NFTNL_RULE_HANDLE);
	l->in_rule = true;
	l->expr_no = 0;
	l->expr_name = NULL;
	l->n_ops = 0;
	if (nftnl_rule_is_set(r, NFTNL_RULE_COMPAT_PROTO) ||
	    nftnl_rule_is_set(r, NFTNL_RULE_COMPAT_FLAGS))
		return fn_lower_fail(l, -EOPNOTSUPP, "iptables-nft compat rules are not supported");
	ret = nftnl_expr_foreach(r, expr_cb, l);
	if (ret < 0)
		return ret;
	l->expr_name = NULL;
	l->in_rule = false;
	fuse(l);
	fn_imgb_rule(l->b, lc->idx, l->handle);
	for (i = 0; i < l->n_ops; i++) {
		void *op = fn_imgb_op(l->b, l->ops[i].u.h.type, l->ops[i].u.h.size * 4u);

		if (!op)
			break;
		memcpy(op, &l->ops[i].u, l->ops[i].u.h.size * 4u);
	}
	return 0;
}

static int lower_rules(struct lower *l)
{
	const struct fn_dump *d = l->d;
	size_t c, i;
	int ret;

	/* image order is chain by chain; the dump keeps each chain's order */
	for (c = 0; c < l->n_chains; c++) {
		const struct lchain *lc = &l->chains[c];

		l->chain = lc->name;
		for (i = 0; i < d->n_rules; i++) {
			if (strcmp(nftnl_rule_get_str(d->rules[i], NFTNL_RULE_CHAIN), lc->name))
				continue;
			if ((ret = lower_rule(l, lc, d->rules[i])))
				return ret;
		}
	}
	l->chain = NULL;
	return 0;
}

int fn_lower(const struct fn_dump *d, bool classify, void **image, size_t *len, char *err,
	     size_t errlen)
{
	struct lower l = { .d = d, .err = err, .errlen = errlen };
	const char *tname = "fragnet";
	uint32_t family = FN_FAMILY_INET;
	bool dormant = false;
	char verr[256];
	size_t i;
	int ret;

	*image = NULL;
	*len = 0;
	if (d->table) {
		tname = nftnl_table_get_str(d->table, NFTNL_TABLE_NAME);
		family = nftnl_table_get_u32(d->table, NFTNL_TABLE_FAMILY) == NFPROTO_IPV4 ?
			 FN_FAMILY_IPV4 : FN_FAMILY_INET;
		dormant = nftnl_table_is_set(d->table, NFTNL_TABLE_FLAGS) &&
			  (nftnl_table_get_u32(d->table, NFTNL_TABLE_FLAGS) & NFT_TABLE_F_DORMANT);
	}
	snprintf(l.table, sizeof(l.table), "%s %s",
		 family == FN_FAMILY_IPV4 ? "ip" : "inet", tname);
	l.b = fn_imgb_new();
	if (l.b)
		fn_imgb_classify(l.b, classify);
	l.set_idx = malloc((d->n_sets + 1) * sizeof(*l.set_idx));
	if (!l.b || !l.set_idx) {
		ret = fn_lower_fail(&l, -ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < d->n_sets; i++)
		l.set_idx[i] = FN_IMG_NONE;
	fn_imgb_table(l.b, tname, family, d->genid);

	if ((ret = lower_chains(&l, dormant)) || (ret = lower_objects(&l)) ||
	    (ret = lower_rules(&l)))
		goto out;
	if (l.conntrack)
		fn_imgb_set_flags(l.b, FN_IMG_F_CONNTRACK);
	ret = fn_imgb_finish(l.b, image, len);
	if (ret) {
		if (ret == -EEXIST)
			fn_lower_fail(&l, ret, "set %s: duplicate elements", fn_imgb_failed_set(l.b));
		else
			fn_lower_fail(&l, ret, "building the image: %s", strerror(-ret));
		goto out;
	}
	/* the library must accept what we hand out */
	ret = fn_nft_image_check(*image, *len, verr, sizeof(verr));
	if (ret) {
		fn_lower_fail(&l, ret, "internal error, the image fails verification: %s", verr);
		free(*image);
		*image = NULL;
		*len = 0;
	}
out:
	fn_imgb_free(l.b);
	free(l.chains);
	free(l.set_idx);
	free(l.obj_slot);
	return ret;
}
