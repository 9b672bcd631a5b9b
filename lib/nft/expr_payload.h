/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Payload loads, and the evals of the payload and fused payload+cmp ops:
 * inline here so that the interpreter's hot dispatch and the registry
 * entries in expr_payload.c run the same code.
 */
#ifndef FN_NFT_EXPR_PAYLOAD_H
#define FN_NFT_EXPR_PAYLOAD_H

#include <string.h>

#include "expr_cmp.h"
#include "nft.h"

#define FN_ETH_HLEN 14

bool fn_payload_load_link(const struct fn_nft_ctx *c, unsigned off, unsigned len,
			  uint8_t *dst);
void fn_payload_find_inner(struct fn_nft_ctx *c);

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

/*
 * Copy len bytes at base+off into dst (a register or scratch words), with
 * the last word zero padded as the kernel does. false means the bytes are
 * not there: the op's result is BREAK.
 */
static inline __attribute__((always_inline)) bool
fn_payload_load(struct fn_nft_ctx *c, unsigned base,
				   unsigned off, unsigned len, uint32_t *dst)
{
	if (len % 4)
		dst[len / 4] = 0;
	if (FN_LIKELY(base != FN_PAYLOAD_LINK)) {
		/* network, transport or inner: see fn_nft_ctx.base_ptr */
		if (off + len > c->base_len[base]) {
			/* out of bounds, or the inner base not found yet */
			if (base != FN_PAYLOAD_INNER || c->inner_ready)
				return false;
			fn_payload_find_inner(c);
			if (off + len > c->base_len[base])
				return false;
		}
		fn_payload_copy(dst, c->base_ptr[base] + off, len);
		return true;
	}
	return fn_payload_load_link(c, off, len, (uint8_t *)dst);
}

/* payload: a load into a register. */
static inline __attribute__((always_inline)) void
fn_payload_eval(struct fn_nft_ctx *c, const struct fn_op *op)
{
	const struct fn_op_payload *o = (const void *)op;

	if (!fn_payload_load(c, o->base, o->offset, o->len, &c->reg[o->dreg]))
		c->vcode = FN_V_BREAK;
}

/* payload+cmp: a load compared in scratch words, no register written. */
static inline __attribute__((always_inline)) void
fn_payload_cmp_eval(struct fn_nft_ctx *c, const struct fn_op *op)
{
	const struct fn_op_payload_cmp *o = (const void *)op;
	uint32_t buf[FN_NREGS];

	/* `ip saddr X`, `udp dport N`: a field of at most a word with a
	 * whole word of header behind it is one unaligned load; the
	 * compare looks at its first len bytes only. */
	if (FN_LIKELY(o->len <= 4 && o->base != FN_PAYLOAD_LINK &&
		      o->offset + 4u <= c->base_len[o->base])) {
		uint32_t w;

		memcpy(&w, c->base_ptr[o->base] + o->offset, 4);
		fn_cmp_apply(c, &w, o->data, o->len, o->op);
		return;
	}
	if (!fn_payload_load(c, o->base, o->offset, o->len, buf))
		c->vcode = FN_V_BREAK;
	else
		fn_cmp_apply(c, buf, o->data, o->len, o->op);
}

#endif /* FN_NFT_EXPR_PAYLOAD_H */
