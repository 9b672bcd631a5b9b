/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * payload: load (link, network, transport), the fused load+cmp, and payload
 * set with the kernel's checksum fixups (nft_payload.c). The evals of load
 * and load+cmp are inline in expr_payload.h.
 */
#include <string.h>

#include "expr_payload.h"
#include "stack/csum.h"

/* Link layer: the Ethernet header, then the packet, as one byte string. */
bool fn_payload_load_link(const struct fn_nft_ctx *c, unsigned off, unsigned len,
			  uint8_t *dst)
{
	const struct fn_pkt *pkt = c->pkt;
	unsigned n;

	if (!pkt->l2 || off + len > FN_ETH_HLEN + pkt->l3_len)
		return false;
	if (off < FN_ETH_HLEN) {
		n = len < FN_ETH_HLEN - off ? len : FN_ETH_HLEN - off;
		memcpy(dst, pkt->l2 + off, n);
		dst += n;
		len -= n;
		off = FN_ETH_HLEN;
	}
	memcpy(dst, pkt->l3 + (off - FN_ETH_HLEN), len);
	return true;
}

/*
 * Where @ih starts: the kernel's __nft_payload_inner_offset(), worked out
 * on the hook's first @ih load (a rewrite by an earlier rule of the same
 * hook counts, as in the kernel) for a packet with a transport header (not
 * a later fragment): after the UDP header, after the TCP header with its
 * options, after a version 0 GRE header with its optional fields (none with
 * routing), at the transport header for IP in IP; for any other protocol
 * there is no inner offset.
 */
void fn_payload_find_inner(struct fn_nft_ctx *c)
{
	const uint8_t *th = c->base_ptr[FN_PAYLOAD_TRANSPORT];
	uint32_t avail = c->base_len[FN_PAYLOAD_TRANSPORT], off;
	uint16_t flags;

	c->inner_ready = true;
	if (!c->l4proto || !c->l4)
		return;
	switch (c->tprot) {
	case 17:  /* UDP */
		off = 8;
		break;
	case 6:   /* TCP: the kernel reads the 20-byte header for doff */
		if (avail < 20)
			return;
		off = (th[12] >> 4) * 4u;
		break;
	case 47:  /* GRE */
		if (avail < 4)
			return;
		flags = (uint16_t)(th[0] << 8 | th[1]);
		if ((flags & 0x7) != 0 || (flags & 0x4000))  /* version, routing */
			return;
		off = 4 + ((flags & 0x8000) ? 4 : 0) + ((flags & 0x2000) ? 4 : 0) +
		      ((flags & 0x1000) ? 4 : 0);            /* csum, key, seq */
		break;
	case 4:   /* IP in IP */
		off = 0;
		break;
	default:
		return;
	}
	if (off <= avail) {
		c->base_ptr[FN_PAYLOAD_INNER] = th + off;
		c->base_len[FN_PAYLOAD_INNER] = avail - off;
	}
}

static int check_base(struct fn_verify *v, unsigned base, unsigned len)
{
	if (base > FN_PAYLOAD_INNER)
		return fn_verify_fail(v, "payload base %u", base);
	if (len == 0 || len > FN_REGS_BYTES)
		return fn_verify_fail(v, "payload length %u", len);
	return 0;
}

static int payload_verify(struct fn_verify *v, const struct fn_op *op)
{
	const struct fn_op_payload *o = (const void *)op;
	int err;

	if (op->size * 4u != sizeof(*o))
		return fn_verify_fail(v, "payload op size");
	if ((err = check_base(v, o->base, o->len)))
		return err;
	return fn_verify_store(v, o->dreg, o->len);
}

static int payload_cmp_verify(struct fn_verify *v, const struct fn_op *op)
{
	const struct fn_op_payload_cmp *o = (const void *)op;
	int err;

	if ((err = check_base(v, o->base, o->len)))
		return err;
	if (o->op > FN_CMP_GTE)
		return fn_verify_fail(v, "cmp op %u", o->op);
	return fn_verify_data(v, op, sizeof(*o), o->len, 1);
}

/* Where bytes of `base` start in the packet, and how many there are. */
static bool payload_span(struct fn_nft_ctx *c, unsigned base, uint8_t **start,
			 unsigned *avail)
{
	struct fn_pkt *pkt = c->pkt;

	switch (base) {
	case FN_PAYLOAD_NETWORK:
		*start = pkt->l3;
		*avail = pkt->l3_len;
		return true;
	case FN_PAYLOAD_TRANSPORT:
		if (!c->l4)
			return false;
		*start = pkt->l3 + c->thoff;
		*avail = pkt->l3_len - c->thoff;
		return true;
	default:
		return false; /* link and inner writes are refused at load */
	}
}

/* The transport checksum field a pseudo-header change must fix, if any
 * (nft_payload_l4csum_offset()). */
static uint8_t *l4csum_field(struct fn_nft_ctx *c)
{
	struct fn_pkt *pkt = c->pkt;
	uint8_t *l4 = pkt->l3 + c->thoff;
	unsigned avail = pkt->l3_len - c->thoff, off;

	if (!c->l4)
		return NULL;
	switch (c->tprot) {
	case 6:   /* TCP */
		off = 16;
		break;
	case 17:  /* UDP: 0 means no checksum */
		if (avail < 8 || fn_csum_load(l4 + 6) == 0)
			return NULL;
		off = 6;
		break;
	case 136: /* UDP-Lite */
		off = 6;
		break;
	default:
		return NULL;
	}
	return off + 2 <= avail ? l4 + off : NULL;
}

static void payload_set_eval(struct fn_nft_ctx *c, const struct fn_op *op)
{
	const struct fn_op_payload_set *o = (const void *)op;
	const uint8_t *src = fn_reg8(c, o->sreg);
	bool partial = c->pkt->flags & FN_PKT_F_CSUM_PARTIAL;
	uint8_t *start, *dst;
	unsigned avail;

	if (!payload_span(c, o->base, &start, &avail) || o->offset + o->len > avail) {
		c->vcode = FN_V_BREAK;
		return;
	}
	dst = start + o->offset;
	if ((o->csum_type == FN_CSUM_INET || o->csum_flags) &&
	    (o->base != FN_PAYLOAD_TRANSPORT || !partial)) {
		uint64_t fsum = fn_csum_add(0, dst, o->len), tsum = fn_csum_add(0, src, o->len);
		uint8_t *sum;

		if (o->csum_type == FN_CSUM_INET) {
			if (o->csum_offset + 2u > avail) {
				c->vcode = FN_V_BREAK;
				return;
			}
			sum = start + o->csum_offset;
			fn_csum_store(sum, fn_csum_replace(fn_csum_load(sum), fsum, tsum));
		}
		if ((o->csum_flags & FN_CSUM_F_L4) && (sum = l4csum_field(c))) {
			if (!partial)
				fn_csum_store(sum, fn_csum_replace(fn_csum_load(sum), fsum, tsum));
			else
				fn_csum_store(sum, fn_csum_replace_partial(fn_csum_load(sum),
									   fsum, tsum));
		}
	}
	memmove(dst, src, o->len);
}

static int payload_set_verify(struct fn_verify *v, const struct fn_op *op)
{
	const struct fn_op_payload_set *o = (const void *)op;
	int err;

	if (op->size * 4u != sizeof(*o))
		return fn_verify_fail(v, "payload set op size");
	if ((err = check_base(v, o->base, o->len)))
		return err;
	if (o->base == FN_PAYLOAD_LINK || o->base == FN_PAYLOAD_INNER)
		return fn_verify_fail(v, "payload set of the link or inner header");
	/* The stack checked the IPv4 header's version, header length and total
	 * length before the rules ran, and goes by them after: rewritten, they
	 * would send it past the packet. Not the rules' to write. */
	if (o->base == FN_PAYLOAD_NETWORK && (o->offset < 1 || (o->offset < 4 && o->offset + o->len > 2)))
		return fn_verify_fail(v, "payload set of the IPv4 version, header length or total "
				      "length");
	if (o->csum_type > FN_CSUM_INET || o->csum_flags & ~FN_CSUM_F_L4)
		return fn_verify_fail(v, "payload set checksum %u/%u", o->csum_type,
				      o->csum_flags);
	return fn_verify_load(v, o->sreg, o->len);
}

const struct fn_nft_op_type fn_op_payload = {
	.name = "payload", .min_size = 2,
	.eval = fn_payload_eval, .verify = payload_verify,
};

const struct fn_nft_op_type fn_op_payload_cmp = {
	.name = "payload+cmp", .min_size = 3,
	.eval = fn_payload_cmp_eval, .verify = payload_cmp_verify,
};

const struct fn_nft_op_type fn_op_payload_set = {
	.name = "payload set", .min_size = 3,
	.eval = payload_set_eval, .verify = payload_set_verify,
};
