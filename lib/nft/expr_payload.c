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

/*
 * The transport checksum field a pseudo-header change must fix
 * (nft_payload_l4csum_offset()): 1 with *field set; 0 when there is none
 * to fix (no transport header, a UDP datagram without a checksum, another
 * protocol); -1 when the field is past the end of a short header, where
 * the kernel ends the rule (its checksum read fails) without the write.
 */
static int l4csum_field(struct fn_nft_ctx *c, uint8_t **field)
{
	struct fn_pkt *pkt = c->pkt;
	uint8_t *l4 = pkt->l3 + c->thoff;
	unsigned avail = pkt->l3_len - c->thoff, off;

	if (!c->l4)
		return 0;
	switch (c->tprot) {
	case 6:   /* TCP */
		off = 16;
		break;
	case 17:  /* UDP: 0 means no checksum (and no header, none to read) */
		if (avail < 8 || fn_csum_load(l4 + 6) == 0)
			return 0;
		off = 6;
		break;
	case 136: /* UDP-Lite */
		off = 6;
		break;
	default:
		return 0;
	}
	if (off + 2 > avail)
		return -1;
	*field = l4 + off;
	return 1;
}

/*
 * Would writing src over the network header at off change the IPv4
 * version and header length (byte 0) or total length (2-3)? The stack
 * checked them before the rules ran and goes by them after, so they are
 * not the rules' to change: such a write ends the rule with nothing
 * written, as a write the kernel cannot make. A write may still cover
 * them: nft writes a field's whole 16-bit word, so `ip dscp set` rewrites
 * byte 0 with the value it has.
 */
static bool changes_ip_lengths(const uint8_t *dst, const uint8_t *src, unsigned off,
			       unsigned len)
{
	for (unsigned i = off; i < off + len && i < 4; i++)
		if (i != 1 && src[i - off] != dst[i - off])
			return true;
	return false;
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
	if (o->base == FN_PAYLOAD_NETWORK && changes_ip_lengths(dst, src, o->offset, o->len)) {
		c->vcode = FN_V_BREAK;
		return;
	}
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
		if (o->csum_flags & FN_CSUM_F_L4) {
			int has = l4csum_field(c, &sum);

			if (has < 0) {
				/* as the kernel: the IPv4 checksum fixed, the rest not */
				c->vcode = FN_V_BREAK;
				return;
			}
			if (has == 0)
				goto write;
			if (!partial)
				fn_csum_store(sum, fn_csum_replace(fn_csum_load(sum), fsum, tsum));
			else
				fn_csum_store(sum, fn_csum_replace_partial(fn_csum_load(sum),
									   fsum, tsum));
		}
	}
write:
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
