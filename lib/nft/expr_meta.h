/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Meta loads, shared by the meta ops, and the eval of the fused meta+cmp:
 * inline here so that the interpreter's hot dispatch and the registry
 * entry in expr_meta.c run the same code.
 */
#ifndef FN_NFT_EXPR_META_H
#define FN_NFT_EXPR_META_H

#include "expr_cmp.h"
#include "nft.h"

/* The keys that need more than a field read (names, time). */
bool fn_meta_load_slow(const struct fn_nft_ctx *c, unsigned key, uint32_t *dst);

/* Load meta `key` into dst as the kernel's nft_meta_get_eval; false: BREAK. */
static inline bool fn_meta_load(const struct fn_nft_ctx *c, unsigned key,
				uint32_t *dst)
{
	switch (key) {
	case FN_META_L4PROTO:
		if (!c->l4proto)
			return false;
		fn_reg_store8(dst, c->tprot);
		return true;
	case FN_META_NFPROTO:
		fn_reg_store8(dst, 2); /* NFPROTO_IPV4 */
		return true;
	case FN_META_MARK:
		*dst = c->pkt->mark;
		return true;
	case FN_META_LEN:
		*dst = c->pkt->l3_len;
		return true;
	default:
		return fn_meta_load_slow(c, key, dst);
	}
}

/* meta+cmp: a load compared in scratch words, no register written. */
static inline __attribute__((always_inline)) void
fn_meta_cmp_eval(struct fn_nft_ctx *c, const struct fn_op *op)
{
	const struct fn_op_meta_cmp *o = (const void *)op;
	uint32_t buf[4];

	/* `meta l4proto udp`, before every `udp dport` in an inet table */
	if (o->key == FN_META_L4PROTO && o->len == 1 && o->op == FN_CMP_EQ) {
		if (!c->l4proto || c->tprot != *(const uint8_t *)o->data)
			c->vcode = FN_V_BREAK;
		return;
	}
	if (!fn_meta_load(c, o->key, buf))
		c->vcode = FN_V_BREAK;
	else
		fn_cmp_apply(c, buf, o->data, o->len, o->op);
}

#endif /* FN_NFT_EXPR_META_H */
