/* SPDX-License-Identifier: BSD-3-Clause */
/* Meta loads, shared by the meta ops and the inline fused meta+cmp. */
#ifndef FN_NFT_EXPR_META_H
#define FN_NFT_EXPR_META_H

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

#endif /* FN_NFT_EXPR_META_H */
