/* SPDX-License-Identifier: BSD-3-Clause */
/* Payload loads, shared by the payload ops and the interpreter's inline
 * dispatch of the fused payload+cmp op. */
#ifndef FN_NFT_EXPR_PAYLOAD_H
#define FN_NFT_EXPR_PAYLOAD_H

#include <string.h>

#include "nft.h"

#define FN_ETH_HLEN 14

bool fn_payload_load_link(const struct fn_nft_ctx *c, unsigned off, unsigned len,
			  uint8_t *dst);

/*
 * Copy len bytes at base+off into dst (a register or scratch words), with
 * the last word zero padded as the kernel does. false means the bytes are
 * not there: the op's result is BREAK.
 */
/* Copy with the field sizes of IPv4/UDP headers inlined (no libc call). */
static inline void fn_payload_copy(uint32_t *dst, const uint8_t *src, unsigned len)
{
	switch (len) {
	case 1:
		*(uint8_t *)dst = *src;
		break;
	case 2:
		memcpy(dst, src, 2);
		break;
	case 4:
		memcpy(dst, src, 4);
		break;
	default:
		memcpy(dst, src, len);
		break;
	}
}

static inline __attribute__((always_inline)) bool
fn_payload_load(const struct fn_nft_ctx *c, unsigned base,
				   unsigned off, unsigned len, uint32_t *dst)
{
	if (len % 4)
		dst[len / 4] = 0;
	if (FN_LIKELY(base != FN_PAYLOAD_LINK)) {
		/* network or transport: see fn_nft_ctx.base_ptr */
		if (off + len > c->base_len[base])
			return false;
		fn_payload_copy(dst, c->base_ptr[base] + off, len);
		return true;
	}
	return fn_payload_load_link(c, off, len, (uint8_t *)dst);
}

#endif /* FN_NFT_EXPR_PAYLOAD_H */
