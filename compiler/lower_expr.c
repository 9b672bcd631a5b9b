/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Lowering expressions, one function per kernel expression type. Every
 * attribute the kernel would act on is either reproduced or refused; the
 * table at the end lists what is refused and why.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <libnftnl/expr.h>
#include <libnftnl/object.h>
#include <libnftnl/set.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include "lower_int.h"
#include "nft/dynset.h"
#include "filter/filter.h"

/* Kernel register numbers: NFT_REG_1..4 are words 4, 8, 12, 16; NFT_REG32_00
 * .. 15 are words 4..19. Image register r is word r + 4. */
static int map_reg(struct lower *l, uint32_t kreg, unsigned len, uint8_t *out)
{
	unsigned word;

	if (kreg >= NFT_REG_1 && kreg <= NFT_REG_4)
		word = kreg * 4;
	else if (kreg >= NFT_REG32_00 && kreg <= NFT_REG32_15)
		word = kreg - NFT_REG32_00 + 4;
	else
		return fn_lower_fail(l, -EOPNOTSUPP, "register %u", kreg);
	if (len == 0 || len > FN_REGS_BYTES || word - 4 + (len + 3) / 4 > FN_NREGS)
		return fn_lower_fail(l, -EINVAL, "register %u with %u bytes", kreg, len);
	*out = (uint8_t)(word - 4);
	return 0;
}

static uint32_t mask_of(uint8_t reg, unsigned len)
{
	unsigned words = (len + 3) / 4;

	return ((words >= 32 ? ~0u : (1u << words) - 1)) << reg;
}

static void *new_op(struct lower *l, enum fn_op_type type, size_t size)
{
	struct lop *o;

	if (l->n_ops == MAX_RULE_OPS) {
		fn_lower_fail(l, -E2BIG, "more than %d expressions in a rule", MAX_RULE_OPS);
		return NULL;
	}
	o = &l->ops[l->n_ops++];
	memset(o, 0, sizeof(*o));
	o->u.h.type = (uint8_t)type;
	o->u.h.size = (uint8_t)((size + 3) / 4);
	return &o->u;
}

static struct lop *cur(struct lower *l)
{
	return &l->ops[l->n_ops - 1];
}

static const void *get_data(struct nftnl_expr *e, uint16_t attr, uint32_t *len)
{
	if (!nftnl_expr_is_set(e, attr)) {
		*len = 0;
		return NULL;
	}
	return nftnl_expr_get(e, attr, len);
}

static int lower_payload(struct lower *l, struct nftnl_expr *e)
{
	uint32_t base = nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_BASE);
	uint32_t off = nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET);
	uint32_t len = nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_LEN);
	uint8_t reg;
	int ret;

	if (base > NFT_PAYLOAD_INNER_HEADER)
		return fn_lower_fail(l, -EOPNOTSUPP, "payload base %u is not supported", base);
	if (off > 255 || len == 0 || len > FN_REGS_BYTES)
		return fn_lower_fail(l, -EINVAL, "payload offset %u length %u", off, len);

	if (nftnl_expr_is_set(e, NFTNL_EXPR_PAYLOAD_SREG)) {
		struct fn_op_payload_set *o;
		uint32_t csum = nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_CSUM_TYPE);
		uint32_t csum_off = nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_CSUM_OFFSET);
		uint32_t flags = nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_FLAGS);

		if (base == NFT_PAYLOAD_LL_HEADER)
			return fn_lower_fail(l, -EOPNOTSUPP, "rewriting the link-layer header is not supported");
		if (base == NFT_PAYLOAD_INNER_HEADER)
			return fn_lower_fail(l, -EOPNOTSUPP, "rewriting @ih (the inner header) is not supported");
		if (csum > NFT_PAYLOAD_CSUM_INET)
			return fn_lower_fail(l, -EOPNOTSUPP, "checksum type %u (SCTP) is not supported", csum);
		if (flags & ~NFT_PAYLOAD_L4CSUM_PSEUDOHDR || csum_off > 255)
			return fn_lower_fail(l, -EOPNOTSUPP, "checksum flags 0x%x", flags);
		if ((ret = map_reg(l, nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_SREG), len, &reg)))
			return ret;
		if (!(o = new_op(l, FN_OP_PAYLOAD_SET, sizeof(*o))))
			return -E2BIG;
		o->base = (uint8_t)base;
		o->offset = (uint8_t)off;
		o->len = (uint8_t)len;
		o->sreg = reg;
		o->csum_type = (uint8_t)csum;
		o->csum_offset = (uint8_t)csum_off;
		o->csum_flags = flags ? FN_CSUM_F_L4 : 0;
		cur(l)->reads = mask_of(reg, len);
		return 0;
	}
	{
		struct fn_op_payload *o;

		if ((ret = map_reg(l, nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_DREG), len, &reg)))
			return ret;
		if (!(o = new_op(l, FN_OP_PAYLOAD, sizeof(*o))))
			return -E2BIG;
		o->base = (uint8_t)base;
		o->offset = (uint8_t)off;
		o->len = (uint8_t)len;
		o->dreg = reg;
		cur(l)->writes = mask_of(reg, len);
		return 0;
	}
}

static int lower_cmp(struct lower *l, struct nftnl_expr *e)
{
	uint32_t len, op = nftnl_expr_get_u32(e, NFTNL_EXPR_CMP_OP);
	const void *data = get_data(e, NFTNL_EXPR_CMP_DATA, &len);
	struct fn_op_cmp *o;
	uint8_t reg;
	int ret;

	if (!data || len == 0 || len > FN_REGS_BYTES || op > NFT_CMP_GTE)
		return fn_lower_fail(l, -EINVAL, "cmp op %u of %u bytes", op, len);
	if ((ret = map_reg(l, nftnl_expr_get_u32(e, NFTNL_EXPR_CMP_SREG), len, &reg)))
		return ret;
	if (!(o = new_op(l, FN_OP_CMP, sizeof(*o) + fn_img_round4(len))))
		return -E2BIG;
	o->sreg = reg;
	o->op = (uint8_t)op;
	o->len = (uint8_t)len;
	fn_imgb_words(o->data, data, len);
	cur(l)->reads = mask_of(reg, len);
	return 0;
}

static int lower_range(struct lower *l, struct nftnl_expr *e)
{
	uint32_t flen, tlen, op = nftnl_expr_get_u32(e, NFTNL_EXPR_RANGE_OP);
	const void *from = get_data(e, NFTNL_EXPR_RANGE_FROM_DATA, &flen);
	const void *to = get_data(e, NFTNL_EXPR_RANGE_TO_DATA, &tlen);
	struct fn_op_range *o;
	uint8_t reg;
	int ret;

	if (!from || !to || flen != tlen || flen == 0 || flen > FN_REGS_BYTES ||
	    op > NFT_RANGE_NEQ)
		return fn_lower_fail(l, -EINVAL, "range op %u of %u/%u bytes", op, flen, tlen);
	if ((ret = map_reg(l, nftnl_expr_get_u32(e, NFTNL_EXPR_RANGE_SREG), flen, &reg)))
		return ret;
	if (!(o = new_op(l, FN_OP_RANGE, sizeof(*o) + 2 * fn_img_round4(flen))))
		return -E2BIG;
	o->sreg = reg;
	o->op = op == NFT_RANGE_EQ ? FN_CMP_EQ : FN_CMP_NEQ;
	o->len = (uint8_t)flen;
	fn_imgb_words(o->data, from, flen);
	fn_imgb_words(o->data + fn_img_round4(flen) / 4, to, flen);
	cur(l)->reads = mask_of(reg, flen);
	return 0;
}

static int lower_bitwise(struct lower *l, struct nftnl_expr *e)
{
	uint32_t len = nftnl_expr_get_u32(e, NFTNL_EXPR_BITWISE_LEN);
	uint32_t op = nftnl_expr_get_u32(e, NFTNL_EXPR_BITWISE_OP);
	uint8_t sreg, dreg;
	int ret;

	if ((ret = map_reg(l, nftnl_expr_get_u32(e, NFTNL_EXPR_BITWISE_SREG), len, &sreg)) ||
	    (ret = map_reg(l, nftnl_expr_get_u32(e, NFTNL_EXPR_BITWISE_DREG), len, &dreg)))
		return ret;
	if (op == NFT_BITWISE_BOOL) {
		uint32_t mlen, xlen;
		const void *mask = get_data(e, NFTNL_EXPR_BITWISE_MASK, &mlen);
		const void *xor = get_data(e, NFTNL_EXPR_BITWISE_XOR, &xlen);
		struct fn_op_bitwise *o;
		unsigned w = fn_img_round4(len);

		if (!mask || !xor || mlen != len || xlen != len)
			return fn_lower_fail(l, -EINVAL, "bitwise mask/xor of %u/%u bytes", mlen, xlen);
		if (!(o = new_op(l, FN_OP_BITWISE, sizeof(*o) + 2 * w)))
			return -E2BIG;
		o->sreg = sreg;
		o->dreg = dreg;
		o->len = (uint8_t)len;
		fn_imgb_words(o->data, mask, len);
		fn_imgb_words(o->data + w / 4, xor, len);
	} else if (op == NFT_BITWISE_LSHIFT || op == NFT_BITWISE_RSHIFT) {
		uint32_t dlen, shift = 0;
		const void *data = get_data(e, NFTNL_EXPR_BITWISE_DATA, &dlen);
		struct fn_op_shift *o;

		if (!data || dlen != 4)
			return fn_lower_fail(l, -EINVAL, "shift amount of %u bytes", dlen);
		memcpy(&shift, data, 4);
		if (shift == 0 || shift >= 32)
			return fn_lower_fail(l, -EOPNOTSUPP, "shift by %u is not supported", shift);
		if (!(o = new_op(l, FN_OP_SHIFT, sizeof(*o))))
			return -E2BIG;
		o->sreg = sreg;
		o->dreg = dreg;
		o->len = (uint8_t)len;
		o->op = op == NFT_BITWISE_LSHIFT ? FN_SHIFT_LEFT : FN_SHIFT_RIGHT;
		o->shift = (uint8_t)shift;
	} else {
		return fn_lower_fail(l, -EOPNOTSUPP, "bitwise operation %u is not supported", op);
	}
	cur(l)->reads = mask_of(sreg, len);
	cur(l)->writes = mask_of(dreg, len);
	return 0;
}

static int lower_byteorder(struct lower *l, struct nftnl_expr *e)
{
	uint32_t len = nftnl_expr_get_u32(e, NFTNL_EXPR_BYTEORDER_LEN);
	uint32_t size = nftnl_expr_get_u32(e, NFTNL_EXPR_BYTEORDER_SIZE);
	uint32_t op = nftnl_expr_get_u32(e, NFTNL_EXPR_BYTEORDER_OP);
	struct fn_op_byteorder *o;
	uint8_t sreg, dreg;
	int ret;

	if (size != 2 && size != 4 && size != 8)
		return fn_lower_fail(l, -EINVAL, "byteorder size %u", size);
	/* converting several registers at once changed meaning between kernel
	 * versions: we only take the single conversion */
	if (len != size)
		return fn_lower_fail(l, -EOPNOTSUPP,
				     "byteorder of %u bytes in %u-byte units is not supported "
				     "(host-order keys in concatenations)", len, size);
	if ((ret = map_reg(l, nftnl_expr_get_u32(e, NFTNL_EXPR_BYTEORDER_SREG), len, &sreg)) ||
	    (ret = map_reg(l, nftnl_expr_get_u32(e, NFTNL_EXPR_BYTEORDER_DREG), len, &dreg)))
		return ret;
	if (!(o = new_op(l, FN_OP_BYTEORDER, sizeof(*o))))
		return -E2BIG;
	o->sreg = sreg;
	o->dreg = dreg;
	o->op = op == NFT_BYTEORDER_HTON ? FN_HTON : FN_NTOH;
	o->len = (uint8_t)len;
	o->size = (uint8_t)size;
	cur(l)->reads = mask_of(sreg, len);
	cur(l)->writes = mask_of(dreg, len);
	return 0;
}

static const char *meta_refusal(uint32_t key)
{
	switch (key) {
	case NFT_META_PRIORITY: return "meta priority (no packet priority here)";
	case NFT_META_SKUID:
	case NFT_META_SKGID: return "meta skuid/skgid (no sockets here)";
	case NFT_META_NFTRACE: return "meta nftrace (no tracing)";
	case NFT_META_RTCLASSID: return "meta rtclassid (no routing realms)";
	case NFT_META_SECMARK: return "meta secmark";
	case NFT_META_IIFGROUP:
	case NFT_META_OIFGROUP: return "meta iifgroup/oifgroup";
	case NFT_META_CGROUP: return "meta cgroup (no sockets here)";
	case NFT_META_PRANDOM: return "meta random (cannot be reproduced)";
	case NFT_META_SECPATH: return "meta secpath (no IPsec)";
	case NFT_META_IIFKIND:
	case NFT_META_OIFKIND: return "meta iifkind/oifkind";
	case NFT_META_SDIF:
	case NFT_META_SDIFNAME: return "meta sdif/sdifname (no VRF)";
	default: return NULL;
	}
}

static int lower_meta(struct lower *l, struct nftnl_expr *e)
{
	uint32_t key = nftnl_expr_get_u32(e, NFTNL_EXPR_META_KEY);
	const char *why = meta_refusal(key);
	uint8_t reg;
	int ret;

	if (nftnl_expr_is_set(e, NFTNL_EXPR_META_SREG)) {
		struct fn_op_meta_set *o;

		if (key != NFT_META_MARK)
			return fn_lower_fail(l, -EOPNOTSUPP, "setting meta key %u is not supported "
					     "(meta mark only)", key);
		if ((ret = map_reg(l, nftnl_expr_get_u32(e, NFTNL_EXPR_META_SREG), 4, &reg)))
			return ret;
		if (!(o = new_op(l, FN_OP_META_SET, sizeof(*o))))
			return -E2BIG;
		o->key = FN_META_MARK;
		o->sreg = reg;
		cur(l)->reads = mask_of(reg, 4);
		return 0;
	}
	{
		unsigned len;
		struct fn_op_meta *o;

		switch (key) {
		case NFT_META_LEN: case NFT_META_MARK: case NFT_META_IIF: case NFT_META_OIF:
		case NFT_META_NFPROTO: case NFT_META_L4PROTO: case NFT_META_PKTTYPE:
		case NFT_META_CPU: case NFT_META_TIME_HOUR:
			len = 4;
			break;
		case NFT_META_PROTOCOL: case NFT_META_IIFTYPE: case NFT_META_OIFTYPE:
			len = 2;
			break;
		case NFT_META_IIFNAME: case NFT_META_OIFNAME:
			len = 16;
			break;
		case NFT_META_TIME_NS:
			len = 8;
			break;
		case NFT_META_TIME_DAY:
			len = 1;
			break;
		default:
			return fn_lower_fail(l, -EOPNOTSUPP, "%s is not supported",
					     why ? why : "this meta key");
		}
		if ((ret = map_reg(l, nftnl_expr_get_u32(e, NFTNL_EXPR_META_DREG), len, &reg)))
			return ret;
		if (!(o = new_op(l, FN_OP_META, sizeof(*o))))
			return -E2BIG;
		o->key = (uint8_t)key;
		o->dreg = reg;
		cur(l)->writes = mask_of(reg, len);
		return 0;
	}
}

static int lower_immediate(struct lower *l, struct nftnl_expr *e)
{
	uint32_t kreg = nftnl_expr_get_u32(e, NFTNL_EXPR_IMM_DREG);
	int ret;

	if (kreg == NFT_REG_VERDICT) {
		struct fn_op_verdict *o;
		struct fn_img_vdata vd;
		const char *chain = nftnl_expr_is_set(e, NFTNL_EXPR_IMM_CHAIN) ?
				    nftnl_expr_get_str(e, NFTNL_EXPR_IMM_CHAIN) : NULL;

		if ((ret = fn_lower_verdict(l, (int32_t)nftnl_expr_get_u32(e, NFTNL_EXPR_IMM_VERDICT),
					    chain, &vd)))
			return ret;
		if (!(o = new_op(l, FN_OP_VERDICT, sizeof(*o))))
			return -E2BIG;
		o->v = vd;
		return 0;
	}
	{
		uint32_t len;
		const void *data = get_data(e, NFTNL_EXPR_IMM_DATA, &len);
		struct fn_op_immediate *o;
		uint8_t reg;

		if (!data || len == 0 || len > FN_REGS_BYTES)
			return fn_lower_fail(l, -EINVAL, "immediate of %u bytes", len);
		if ((ret = map_reg(l, kreg, len, &reg)))
			return ret;
		if (!(o = new_op(l, FN_OP_IMMEDIATE, sizeof(*o) + fn_img_round4(len))))
			return -E2BIG;
		o->dreg = reg;
		o->len = (uint8_t)len;
		fn_imgb_words(o->data, data, len);
		cur(l)->writes = mask_of(reg, len);
		return 0;
	}
}

static int lower_lookup(struct lower *l, struct nftnl_expr *e)
{
	const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_LOOKUP_SET);
	uint32_t flags = nftnl_expr_get_u32(e, NFTNL_EXPR_LOOKUP_FLAGS);
	struct fn_op_lookup *o;
	uint32_t idx, key_len = 0, data_len = 0, set_flags = 0;
	uint8_t sreg, dreg = FN_REG_NONE;
	size_t i;
	int ret;

	if (!name)
		return fn_lower_fail(l, -EINVAL, "lookup without a set name");
	if (flags & ~NFT_LOOKUP_F_INV)
		return fn_lower_fail(l, -EOPNOTSUPP, "lookup flags 0x%x", flags);
	if ((ret = fn_lower_set_ref(l, name, &idx)))
		return ret;
	for (i = 0; i < l->d->n_sets; i++)
		if (l->set_idx[i] == idx) {
			key_len = nftnl_set_get_u32(l->d->sets[i], NFTNL_SET_KEY_LEN);
			set_flags = nftnl_set_get_u32(l->d->sets[i], NFTNL_SET_FLAGS);
			if (set_flags & NFT_SET_MAP)
				data_len = nftnl_set_get_u32(l->d->sets[i], NFTNL_SET_DATA_LEN);
			if ((set_flags & NFT_SET_MAP) &&
			    nftnl_set_get_u32(l->d->sets[i], NFTNL_SET_DATA_TYPE) == NFT_DATA_VERDICT)
				dreg = FN_REG_VERDICT;
			break;
		}
	if ((ret = map_reg(l, nftnl_expr_get_u32(e, NFTNL_EXPR_LOOKUP_SREG), key_len, &sreg)))
		return ret;
	if ((set_flags & NFT_SET_MAP) && dreg != FN_REG_VERDICT) {
		if (!nftnl_expr_is_set(e, NFTNL_EXPR_LOOKUP_DREG))
			return fn_lower_fail(l, -EINVAL, "map lookup without a destination");
		if ((ret = map_reg(l, nftnl_expr_get_u32(e, NFTNL_EXPR_LOOKUP_DREG), data_len, &dreg)))
			return ret;
	}
	if (!(o = new_op(l, FN_OP_LOOKUP, sizeof(*o))))
		return -E2BIG;
	o->sreg = sreg;
	o->dreg = dreg;
	o->invert = !!(flags & NFT_LOOKUP_F_INV);
	o->set = idx;
	cur(l)->reads = mask_of(sreg, key_len);
	if (dreg < FN_NREGS)
		cur(l)->writes = mask_of(dreg, data_len);
	return 0;
}

static int lower_counter(struct lower *l, struct nftnl_expr *e)
{
	struct fn_op_slot *o;
	const struct lchain *lc = NULL;
	size_t i;

	for (i = 0; i < l->n_chains; i++)
		if (!strcmp(l->chains[i].name, l->chain))
			lc = &l->chains[i];
	if (!(o = new_op(l, FN_OP_COUNTER, sizeof(*o))))
		return -E2BIG;
	o->slot = fn_imgb_counter(l->b, lc ? lc->idx : FN_IMG_NONE, l->handle,
				  nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_PACKETS),
				  nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_BYTES));
	return 0;
}

/* A limit expression's parameters, as the kernel derives them. */
static int limit_params(struct lower *l, struct nftnl_expr *e, struct fn_img_limit *lim)
{
	uint32_t type = nftnl_expr_get_u32(e, NFTNL_EXPR_LIMIT_TYPE);
	uint32_t flags = nftnl_expr_get_u32(e, NFTNL_EXPR_LIMIT_FLAGS);

	if (type > NFT_LIMIT_PKT_BYTES || flags & ~NFT_LIMIT_F_INV)
		return fn_lower_fail(l, -EOPNOTSUPP, "limit type %u flags 0x%x", type, flags);
	if (fn_img_limit_init(lim, nftnl_expr_get_u64(e, NFTNL_EXPR_LIMIT_RATE),
			      nftnl_expr_get_u64(e, NFTNL_EXPR_LIMIT_UNIT),
			      nftnl_expr_get_u32(e, NFTNL_EXPR_LIMIT_BURST),
			      type == NFT_LIMIT_PKT_BYTES, !!(flags & NFT_LIMIT_F_INV)))
		return fn_lower_fail(l, -EINVAL, "limit rate out of range");
	return 0;
}

static int lower_limit(struct lower *l, struct nftnl_expr *e)
{
	struct fn_img_limit lim;
	struct fn_op_slot *o;
	int ret;

	if ((ret = limit_params(l, e, &lim)))
		return ret;
	if (!(o = new_op(l, FN_OP_LIMIT, sizeof(*o))))
		return -E2BIG;
	o->slot = fn_imgb_limit(l->b, &lim);
	return 0;
}

/* The expressions a dynset gives each new element: one, a limit or a ct
 * count. */
struct dynset_exprs {
	struct lower *l;
	unsigned n;
	uint32_t limit;          /* slot, or FN_IMG_NONE */
	uint32_t ct_count;
	uint8_t flags;           /* FN_DYNSET_F_* */
	int err;
};

static int dynset_expr(struct nftnl_expr *e, void *arg)
{
	struct dynset_exprs *x = arg;
	const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);
	struct fn_img_limit lim;

	if (!name || (strcmp(name, "limit") && strcmp(name, "connlimit")) || x->n++) {
		x->err = fn_lower_fail(x->l, -EOPNOTSUPP, "per-element %s in add/update @set: "
				       "only one limit or one ct count is supported",
				       name ? name : "?");
		return -1;
	}
	if (!strcmp(name, "connlimit")) {
		uint32_t flags = nftnl_expr_is_set(e, NFTNL_EXPR_CONNLIMIT_FLAGS) ?
				 nftnl_expr_get_u32(e, NFTNL_EXPR_CONNLIMIT_FLAGS) : 0;

		if (flags & ~NFT_CONNLIMIT_F_INV) {
			x->err = fn_lower_fail(x->l, -EOPNOTSUPP, "ct count flags 0x%x", flags);
			return -1;
		}
		x->flags = FN_DYNSET_F_CT_COUNT |
			   (flags & NFT_CONNLIMIT_F_INV ? FN_DYNSET_F_CT_COUNT_OVER : 0);
		x->ct_count = nftnl_expr_get_u32(e, NFTNL_EXPR_CONNLIMIT_COUNT);
		x->l->conntrack = true;
		return 0;
	}
	if ((x->err = limit_params(x->l, e, &lim)))
		return -1;
	x->limit = fn_imgb_limit(x->l->b, &lim);
	return 0;
}

static int lower_dynset(struct lower *l, struct nftnl_expr *e)
{
	const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_DYNSET_SET_NAME);
	uint32_t op = nftnl_expr_get_u32(e, NFTNL_EXPR_DYNSET_OP);
	uint32_t flags = nftnl_expr_is_set(e, NFTNL_EXPR_DYNSET_FLAGS) ?
			 nftnl_expr_get_u32(e, NFTNL_EXPR_DYNSET_FLAGS) : 0;
	uint64_t timeout = nftnl_expr_is_set(e, NFTNL_EXPR_DYNSET_TIMEOUT) ?
			   nftnl_expr_get_u64(e, NFTNL_EXPR_DYNSET_TIMEOUT) : 0;
	struct dynset_exprs x = { .l = l, .limit = FN_IMG_NONE };
	struct fn_op_dynset *o;
	uint32_t idx, key_len = 0;
	uint8_t sreg;
	size_t i;
	int ret;

	if (!name)
		return fn_lower_fail(l, -EINVAL, "dynset without a set name");
	if (op == NFT_DYNSET_OP_DELETE)
		return fn_lower_fail(l, -EOPNOTSUPP, "delete @set from the packet path is not supported");
	if (op > NFT_DYNSET_OP_UPDATE || flags & ~NFT_DYNSET_F_EXPR)
		return fn_lower_fail(l, -EOPNOTSUPP, "dynset op %u flags 0x%x", op, flags);
	if (nftnl_expr_is_set(e, NFTNL_EXPR_DYNSET_SREG_DATA))
		return fn_lower_fail(l, -EOPNOTSUPP, "adding to a map from the packet path "
				     "(add @map { key : data }) is not supported");
	if (timeout > FN_DYN_MAX_TIMEOUT_MS)
		return fn_lower_fail(l, -EOPNOTSUPP, "timeout of %llu ms is too long",
				     (unsigned long long)timeout);
	if ((ret = fn_lower_set_ref(l, name, &idx)))
		return ret;
	for (i = 0; i < l->d->n_sets; i++)
		if (l->set_idx[i] == idx)
			key_len = nftnl_set_get_u32(l->d->sets[i], NFTNL_SET_KEY_LEN);
	if ((ret = map_reg(l, nftnl_expr_get_u32(e, NFTNL_EXPR_DYNSET_SREG_KEY), key_len, &sreg)))
		return ret;
	nftnl_expr_expr_foreach(e, dynset_expr, &x);
	if (x.err)
		return x.err;
	if (!(o = new_op(l, FN_OP_DYNSET, sizeof(*o))))
		return -E2BIG;
	o->sreg = sreg;
	o->op = op == NFT_DYNSET_OP_UPDATE ? FN_DYNSET_UPDATE : FN_DYNSET_ADD;
	o->set = idx;
	o->limit = x.limit;
	memcpy(o->timeout_ms, &timeout, sizeof(timeout));
	o->ct_count = x.ct_count;
	o->flags = x.flags;
	cur(l)->reads = mask_of(sreg, key_len);
	return 0;
}

static int lower_quota(struct lower *l, struct nftnl_expr *e)
{
	uint32_t flags = nftnl_expr_get_u32(e, NFTNL_EXPR_QUOTA_FLAGS);
	struct fn_img_quota q = {
		.bytes = nftnl_expr_get_u64(e, NFTNL_EXPR_QUOTA_BYTES),
		.consumed = nftnl_expr_get_u64(e, NFTNL_EXPR_QUOTA_CONSUMED),
		.invert = !!(flags & NFT_QUOTA_F_INV),
	};
	struct fn_op_slot *o;

	if (!(o = new_op(l, FN_OP_QUOTA, sizeof(*o))))
		return -E2BIG;
	o->slot = fn_imgb_quota(l->b, &q);
	return 0;
}

int fn_lower_obj_slot(struct lower *l, uint32_t type, const char *name, uint32_t *slot)
{
	size_t i;

	for (i = 0; i < l->d->n_objs; i++) {
		struct nftnl_obj *obj = l->d->objs[i];

		if (nftnl_obj_get_u32(obj, NFTNL_OBJ_TYPE) != type ||
		    strcmp(nftnl_obj_get_str(obj, NFTNL_OBJ_NAME), name) ||
		    l->obj_slot[i] == FN_IMG_NONE)
			continue;
		*slot = l->obj_slot[i];
		return 0;
	}
	return fn_lower_fail(l, -EINVAL, "unknown object %s", name);
}

/* `counter name ip saddr map { ... }`: the object comes from a map lookup. */
static int lower_objref_map(struct lower *l, struct nftnl_expr *e)
{
	const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_OBJREF_SET_NAME);
	struct fn_op_objref_map *o;
	uint32_t idx, key_len = 0, type = 0;
	uint8_t sreg;
	size_t i;
	int ret;

	if (!name)
		return fn_lower_fail(l, -EINVAL, "objref without a map name");
	if ((ret = fn_lower_set_ref(l, name, &idx)))
		return ret;
	for (i = 0; i < l->d->n_sets; i++)
		if (l->set_idx[i] == idx) {
			key_len = nftnl_set_get_u32(l->d->sets[i], NFTNL_SET_KEY_LEN);
			if (nftnl_set_get_u32(l->d->sets[i], NFTNL_SET_FLAGS) & NFT_SET_OBJECT)
				type = nftnl_set_get_u32(l->d->sets[i], NFTNL_SET_OBJ_TYPE);
		}
	if (!type)
		return fn_lower_fail(l, -EINVAL, "objref of set %s, not an object map", name);
	if ((ret = map_reg(l, nftnl_expr_get_u32(e, NFTNL_EXPR_OBJREF_SET_SREG), key_len, &sreg)))
		return ret;
	if (!(o = new_op(l, FN_OP_OBJREF_MAP, sizeof(*o))))
		return -E2BIG;
	o->sreg = sreg;
	o->type = (uint8_t)type;  /* lower_set() took counter, quota or limit only */
	o->set = idx;
	cur(l)->reads = mask_of(sreg, key_len);
	return 0;
}

static int lower_objref(struct lower *l, struct nftnl_expr *e)
{
	const char *name;
	uint32_t type, slot;
	struct fn_op_slot *o;
	enum fn_op_type op;
	int ret;

	if (nftnl_expr_is_set(e, NFTNL_EXPR_OBJREF_SET_NAME) ||
	    nftnl_expr_is_set(e, NFTNL_EXPR_OBJREF_SET_SREG))
		return lower_objref_map(l, e);
	name = nftnl_expr_get_str(e, NFTNL_EXPR_OBJREF_IMM_NAME);
	type = nftnl_expr_get_u32(e, NFTNL_EXPR_OBJREF_IMM_TYPE);
	switch (type) {
	case NFT_OBJECT_COUNTER: op = FN_OP_COUNTER; break;
	case NFT_OBJECT_QUOTA: op = FN_OP_QUOTA; break;
	case NFT_OBJECT_LIMIT: op = FN_OP_LIMIT; break;
	default:
		return fn_lower_fail(l, -EOPNOTSUPP, "object %s of type %u is not supported "
				     "(counter, quota and limit only)", name ? name : "?", type);
	}
	if (!name)
		return fn_lower_fail(l, -EINVAL, "objref without a name");
	if ((ret = fn_lower_obj_slot(l, type, name, &slot)))
		return ret;
	if (!(o = new_op(l, op, sizeof(*o))))
		return -E2BIG;
	o->slot = slot;
	return 0;
}

/* The ct keys we reproduce: their image key, register length and which
 * directions they take (as nft_ct_get_init: the tuple keys need one,
 * counters may have one, l3proto/protocol ignore one, the others refuse). */
enum ct_dirs { DIR_NO, DIR_NEEDED, DIR_OPTIONAL, DIR_IGNORED };

static int ct_key(struct lower *l, uint32_t key, uint8_t *fkey, unsigned *len,
		  enum ct_dirs *dirs)
{
	switch (key) {
	case NFT_CT_STATE: *fkey = FN_CT_STATE; *len = 4; *dirs = DIR_NO; break;
	case NFT_CT_DIRECTION: *fkey = FN_CT_DIRECTION; *len = 1; *dirs = DIR_NO; break;
	case NFT_CT_STATUS: *fkey = FN_CT_STATUS; *len = 4; *dirs = DIR_NO; break;
	case NFT_CT_MARK: *fkey = FN_CT_MARK; *len = 4; *dirs = DIR_NO; break;
	case NFT_CT_EXPIRATION: *fkey = FN_CT_EXPIRATION; *len = 4; *dirs = DIR_NO; break;
	case NFT_CT_ID: *fkey = FN_CT_ID; *len = 4; *dirs = DIR_NO; break;
	case NFT_CT_LABELS: *fkey = FN_CT_LABELS; *len = 16; *dirs = DIR_NO; break;
	case NFT_CT_L3PROTOCOL: *fkey = FN_CT_L3PROTO; *len = 1; *dirs = DIR_IGNORED; break;
	case NFT_CT_PROTOCOL: *fkey = FN_CT_PROTOCOL; *len = 1; *dirs = DIR_IGNORED; break;
	case NFT_CT_PKTS: *fkey = FN_CT_PKTS; *len = 8; *dirs = DIR_OPTIONAL; break;
	case NFT_CT_BYTES: *fkey = FN_CT_BYTES; *len = 8; *dirs = DIR_OPTIONAL; break;
	case NFT_CT_AVGPKT: *fkey = FN_CT_AVGPKT; *len = 8; *dirs = DIR_OPTIONAL; break;
	case NFT_CT_SRC_IP: *fkey = FN_CT_SRC_IP; *len = 4; *dirs = DIR_NEEDED; break;
	case NFT_CT_DST_IP: *fkey = FN_CT_DST_IP; *len = 4; *dirs = DIR_NEEDED; break;
	case NFT_CT_PROTO_SRC: *fkey = FN_CT_PROTO_SRC; *len = 2; *dirs = DIR_NEEDED; break;
	case NFT_CT_PROTO_DST: *fkey = FN_CT_PROTO_DST; *len = 2; *dirs = DIR_NEEDED; break;
	case NFT_CT_SRC:
	case NFT_CT_DST:
		/* `ct original saddr` in an ip table: 4 bytes, as `ct original
		 * ip saddr`; in inet the kernel loads 16 (an IPv6 address) */
		if (strncmp(l->table, "ip ", 3))
			return fn_lower_fail(l, -EOPNOTSUPP, "ct saddr/daddr outside an ip table "
					     "is not supported (IPv6 sized; write ct original ip saddr)");
		*fkey = key == NFT_CT_SRC ? FN_CT_SRC_IP : FN_CT_DST_IP;
		*len = 4;
		*dirs = DIR_NEEDED;
		break;
	case NFT_CT_ZONE:
		return fn_lower_fail(l, -EOPNOTSUPP, "ct zone is not supported (one zone: "
				     "there is no other conntrack table to tell apart)");
	case NFT_CT_HELPER:
		return fn_lower_fail(l, -EOPNOTSUPP, "ct helper is not supported (no "
				     "conntrack helpers: no protocol here opens related flows)");
	case NFT_CT_SECMARK:
		return fn_lower_fail(l, -EOPNOTSUPP, "ct secmark is not supported (no LSM "
				     "labels on a userspace stack)");
	case NFT_CT_SRC_IP6:
	case NFT_CT_DST_IP6:
		return fn_lower_fail(l, -EOPNOTSUPP, "ct ip6 addresses are not supported (no IPv6)");
	default:
		return fn_lower_fail(l, -EOPNOTSUPP, "ct key %u is not supported", key);
	}
	return 0;
}

static int lower_ct_set(struct lower *l, struct nftnl_expr *e, uint32_t key)
{
	struct fn_op_ct_set *o;
	uint8_t reg, fkey;
	unsigned len;
	int ret;

	switch (key) {
	case NFT_CT_MARK: fkey = FN_CT_MARK; len = 4; break;
	case NFT_CT_LABELS: fkey = FN_CT_LABELS; len = 16; break;
	case NFT_CT_ZONE:
		return fn_lower_fail(l, -EOPNOTSUPP, "ct zone set is not supported (one zone: "
				     "there is no other conntrack table to tell apart)");
	case NFT_CT_HELPER:
		return fn_lower_fail(l, -EOPNOTSUPP, "ct helper set is not supported (no "
				     "conntrack helpers)");
	case NFT_CT_EVENTMASK:
		return fn_lower_fail(l, -EOPNOTSUPP, "ct event set is not supported (no "
				     "ctnetlink listeners to send events to)");
	default:
		return fn_lower_fail(l, -EOPNOTSUPP, "setting ct key %u is not supported "
				     "(ct mark and ct label only)", key);
	}
	if ((ret = map_reg(l, nftnl_expr_get_u32(e, NFTNL_EXPR_CT_SREG), len, &reg)))
		return ret;
	if (!(o = new_op(l, FN_OP_CT_SET, sizeof(*o))))
		return -E2BIG;
	o->key = fkey;
	o->sreg = reg;
	cur(l)->reads = mask_of(reg, len);
	return 0;
}

static int lower_ct(struct lower *l, struct nftnl_expr *e)
{
	uint32_t key = nftnl_expr_get_u32(e, NFTNL_EXPR_CT_KEY);
	bool has_dir = nftnl_expr_is_set(e, NFTNL_EXPR_CT_DIR);
	uint8_t reg, fkey = 0, dir = FN_CT_DIR_NONE;
	enum ct_dirs dirs = DIR_NO;
	struct fn_op_ct *o;
	unsigned len = 0;
	int ret;

	l->conntrack = true;
	if (nftnl_expr_is_set(e, NFTNL_EXPR_CT_SREG))
		return lower_ct_set(l, e, key);
	if ((ret = ct_key(l, key, &fkey, &len, &dirs)))
		return ret;
	if (has_dir) {
		uint8_t d = nftnl_expr_get_u8(e, NFTNL_EXPR_CT_DIR);

		if (dirs == DIR_NO || d > 1)
			return fn_lower_fail(l, -EINVAL, "ct key %u with direction %u", key, d);
		if (dirs != DIR_IGNORED)
			dir = (uint8_t)(FN_CT_DIR_ORIGINAL + d);
	} else if (dirs == DIR_NEEDED) {
		return fn_lower_fail(l, -EINVAL, "ct key %u without a direction", key);
	}
	if ((ret = map_reg(l, nftnl_expr_get_u32(e, NFTNL_EXPR_CT_DREG), len, &reg)))
		return ret;
	if (!(o = new_op(l, FN_OP_CT, sizeof(*o))))
		return -E2BIG;
	o->key = fkey;
	o->dreg = reg;
	o->dir = dir;
	cur(l)->writes = mask_of(reg, len);
	return 0;
}

/* ct count: a list of its own per rule expression (the kernel's
 * nft_connlimit keeps one per expression). */
static int lower_connlimit(struct lower *l, struct nftnl_expr *e)
{
	uint32_t flags = nftnl_expr_is_set(e, NFTNL_EXPR_CONNLIMIT_FLAGS) ?
			 nftnl_expr_get_u32(e, NFTNL_EXPR_CONNLIMIT_FLAGS) : 0;
	struct fn_op_connlimit *o;

	if (flags & ~NFT_CONNLIMIT_F_INV)
		return fn_lower_fail(l, -EOPNOTSUPP, "ct count flags 0x%x", flags);
	l->conntrack = true;
	if (!(o = new_op(l, FN_OP_CONNLIMIT, sizeof(*o))))
		return -E2BIG;
	o->invert = !!(flags & NFT_CONNLIMIT_F_INV);
	o->slot = l->connlimits++;
	o->limit = nftnl_expr_get_u32(e, NFTNL_EXPR_CONNLIMIT_COUNT);
	return 0;
}

static int lower_reject(struct lower *l, struct nftnl_expr *e)
{
	uint32_t type = nftnl_expr_get_u32(e, NFTNL_EXPR_REJECT_TYPE);
	uint32_t code = nftnl_expr_get_u8(e, NFTNL_EXPR_REJECT_CODE); /* a u8 in libnftnl */
	struct fn_op_reject *o;
	uint8_t v;

	if (type == NFT_REJECT_ICMP_UNREACH) {
		switch (code) {
		case 0: v = FN_REJECT_NET_UNREACH; break;
		case 1: v = FN_REJECT_HOST_UNREACH; break;
		case 2: v = FN_REJECT_PROT_UNREACH; break;
		case 3: v = FN_REJECT_PORT_UNREACH; break;
		case 9: v = FN_REJECT_NET_PROHIB; break;
		case 10: v = FN_REJECT_HOST_PROHIB; break;
		case 13: v = FN_REJECT_ADMIN_PROHIB; break;
		default:
			/* frag-needed (4) would tell the sender an MTU of 0 */
			return fn_lower_fail(l, -EOPNOTSUPP, "reject with ICMP code %u is not supported "
					     "(net-, host-, prot-, port-unreachable, net-, host-, "
					     "admin-prohibited)", code);
		}
	} else if (type == NFT_REJECT_ICMPX_UNREACH) {
		switch (code) {
		case NFT_REJECT_ICMPX_NO_ROUTE: v = FN_REJECT_NET_UNREACH; break;
		case NFT_REJECT_ICMPX_PORT_UNREACH: v = FN_REJECT_PORT_UNREACH; break;
		case NFT_REJECT_ICMPX_HOST_UNREACH: v = FN_REJECT_HOST_UNREACH; break;
		case NFT_REJECT_ICMPX_ADMIN_PROHIBITED: v = FN_REJECT_ADMIN_PROHIB; break;
		default:
			return fn_lower_fail(l, -EOPNOTSUPP, "reject with icmpx code %u", code);
		}
	} else {
		return fn_lower_fail(l, -EOPNOTSUPP, "reject with tcp reset is not supported (no TCP)");
	}
	if (!(o = new_op(l, FN_OP_REJECT, sizeof(*o))))
		return -E2BIG;
	o->verdict = v;
	return 0;
}

static int lower_log(struct lower *l, struct nftnl_expr *e)
{
	const char *prefix = nftnl_expr_is_set(e, NFTNL_EXPR_LOG_PREFIX) ?
			     nftnl_expr_get_str(e, NFTNL_EXPR_LOG_PREFIX) : "";
	/* nft's default level is warn (4) */
	uint32_t level = nftnl_expr_is_set(e, NFTNL_EXPR_LOG_LEVEL) ?
			 nftnl_expr_get_u32(e, NFTNL_EXPR_LOG_LEVEL) : 4;
	struct fn_op_slot *o;

	if (!(o = new_op(l, FN_OP_LOG, sizeof(*o))))
		return -E2BIG;
	o->slot = fn_imgb_log(l->b, prefix, level > 7 ? 7 : level);
	return 0;
}

static const struct {
	const char *name;
	int (*lower)(struct lower *l, struct nftnl_expr *e);
} lowerers[] = {
	{ "payload", lower_payload },
	{ "cmp", lower_cmp },
	{ "range", lower_range },
	{ "bitwise", lower_bitwise },
	{ "byteorder", lower_byteorder },
	{ "meta", lower_meta },
	{ "immediate", lower_immediate },
	{ "lookup", lower_lookup },
	{ "counter", lower_counter },
	{ "limit", lower_limit },
	{ "dynset", lower_dynset },
	{ "quota", lower_quota },
	{ "objref", lower_objref },
	{ "ct", lower_ct },
	{ "connlimit", lower_connlimit },
	{ "reject", lower_reject },
	{ "log", lower_log },
};

/* What we refuse, and why, for a clearer message than "unknown". */
static const struct {
	const char *name;
	const char *why;
} refusals[] = {
	{ "nat", "NAT is not supported" },
	{ "masq", "masquerade is not supported" },
	{ "redir", "redirect is not supported" },
	{ "tproxy", "tproxy is not supported" },
	{ "queue", "queue to userspace is not supported" },
	{ "notrack", "notrack is not supported" },
	{ "fib", "fib lookups are not supported (no routing table)" },
	{ "rt", "routing expressions are not supported" },
	{ "numgen", "numgen is not supported (random or per-CPU state cannot be reproduced)" },
	{ "hash", "hash expressions are not supported" },
	{ "socket", "socket expressions are not supported (no sockets here)" },
	{ "osf", "OS fingerprinting is not supported" },
	{ "exthdr", "extension header and TCP option matching is not supported" },
	{ "fwd", "fwd is not supported" },
	{ "dup", "dup is not supported" },
	{ "flow_offload", "flow offload is not supported" },
	{ "synproxy", "synproxy is not supported" },
	{ "tunnel", "tunnel expressions are not supported" },
	{ "xfrm", "IPsec expressions are not supported" },
	{ "match", "iptables matches are not supported" },
	{ "target", "iptables targets are not supported" },
	{ "last", "last is not supported" },
};

int fn_lower_expr(struct lower *l, struct nftnl_expr *e)
{
	const char *name = l->expr_name ? l->expr_name : "";
	size_t i;

	for (i = 0; i < sizeof(lowerers) / sizeof(lowerers[0]); i++)
		if (!strcmp(lowerers[i].name, name))
			return lowerers[i].lower(l, e);
	for (i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++)
		if (!strcmp(refusals[i].name, name))
			return fn_lower_fail(l, -EOPNOTSUPP, "%s", refusals[i].why);
	return fn_lower_fail(l, -EOPNOTSUPP, "expression type %s is not supported", name);
}
