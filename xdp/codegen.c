/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Image + split -> eBPF (codegen.h). One pass over the base chains of
 * prerouting and input, emitting each rule as straight-line code whose
 * failed matches jump to the next rule (BREAK), with forward jumps only:
 * labels are resolved at the end. Code that cannot be reached (after a
 * verdict, behind a vmap whose every case ends the rule) is not emitted,
 * as the kernel's verifier refuses unreachable instructions.
 *
 * Machine registers: r6 the context, r7 the frame (data), r8 data_end,
 * r9 the transport header (data + 14 + IHL); r0-r5 are scratch (helper
 * calls clobber them). The stack holds the interpreter's 16 registers and
 * a few scratch words (see the STK_* offsets).
 *
 * Payload bounds: a load must end within the IPv4 total length (the
 * interpreter's base_len; BREAK beyond) and, for the kernel's verifier,
 * within the frame. The prologue trims any link padding off the frame
 * (bpf_xdp_adjust_tail), so that the frame ends where the datagram does and
 * one check against data_end is both. The IPv4 header is checked there
 * too; other loads check once per rule and per extent.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "codegen.h"
#include "meta.h"
#include "nft/set.h"

#define ETH_HLEN 14
#define IP_HLEN 20

/* Stack layout, offsets from r10 (8-byte aligned blocks). */
#define STK_REGS (-64)          /* the interpreter's registers, word r at +4r */
#define STK_SCRATCH (-128)      /* shift's source words */
#define STK_LPM (-144)          /* LPM trie key: prefix length, key bytes */
#define STK_SLOT (-148)         /* counter map key */
#define STK_TOTLEN (-152)       /* IPv4 total length */
#define STK_PAGES (-160 - 8 * (int)FN_XDP_MAX_PAGES)  /* counter page pointers */

#define R_CTX BPF_REG_6
#define R_DATA BPF_REG_7
#define R_END BPF_REG_8
#define R_L4 BPF_REG_9

struct label {
	int32_t pos;            /* -1 until bound */
	uint32_t refs;
};

struct fixup {
	uint32_t insn, label;
};

/* Bytes known to be readable, per rule (see the header comment). */
struct extents {
	uint32_t frame;         /* from data */
	uint32_t l4;            /* from the transport header */
};

struct cg {
	const struct fn_nft_prog *p;
	const struct fn_xdp_split *split;
	bool measure;           /* only count a rule's own instructions */
	bool test_epilogue;
	uint64_t generation;
	struct bpf_insn *insn;
	uint32_t n, cap;
	struct label *labels;
	uint32_t n_labels, cap_labels;
	struct fixup *fix;
	uint32_t n_fix, cap_fix;
	bool live;              /* the next instruction can be reached */
	struct extents ext;
	struct fn_xdp_map_desc *maps;
	uint32_t n_maps;
	uint32_t *set_map;      /* per set: its map index, 0 = none yet */
	struct fn_xdp_decision *dec;
	uint32_t n_dec, cap_dec;
	uint32_t *kslot;        /* per image counter slot: its kernel slot + 1 */
	uint32_t *slot_image;   /* per kernel slot (codegen.h) */
	uint32_t n_slots, cap_slots;
	uint32_t n_pages;       /* counter pages the prologue looks up */
	int err;
};

/* Where control goes from the rule being emitted. */
struct rctx {
	uint32_t base;          /* base chain */
	uint8_t hook;
	uint32_t chain;         /* the chain holding the rule */
	uint32_t ret;           /* label: RETURN, end of this chain */
	uint32_t accept;        /* label: the next base chain */
};

static void *grow(struct cg *g, void *arr, uint32_t *cap, uint32_t n, size_t size)
{
	uint32_t c;
	void *m;

	if (n < *cap)
		return arr;
	c = *cap ? *cap * 2 : 64;
	m = realloc(arr, (size_t)c * size);
	if (!m) {
		g->err = -ENOMEM;
		return NULL;
	}
	*cap = c;
	return m;
}

/* --- instructions --- */

static void ins(struct cg *g, uint8_t code, uint8_t dst, uint8_t src, int16_t off,
		int32_t imm)
{
	struct bpf_insn *n;

	if (!g->live || g->err)
		return;
	if (!(n = grow(g, g->insn, &g->cap, g->n, sizeof(*g->insn))))
		return;
	g->insn = n;
	g->insn[g->n++] = (struct bpf_insn){ .code = code, .dst_reg = dst, .src_reg = src,
					     .off = off, .imm = imm };
}

static uint32_t label_new(struct cg *g)
{
	struct label *l = grow(g, g->labels, &g->cap_labels, g->n_labels, sizeof(*l));

	if (!l)
		return 0;
	g->labels = l;
	g->labels[g->n_labels] = (struct label){ -1, 0 };
	return g->n_labels++;
}

/* Forward jumps only: a label is reached when it was jumped to, or when
 * the code before it falls through. */
static void bind(struct cg *g, uint32_t l)
{
	if (g->err)
		return;
	g->labels[l].pos = (int32_t)g->n;
	if (g->labels[l].refs)
		g->live = true;
}

static void jump(struct cg *g, uint8_t code, uint8_t dst, uint8_t src, int32_t imm,
		 uint32_t l)
{
	struct fixup *f;

	if (!g->live || g->err)
		return;
	if (!(f = grow(g, g->fix, &g->cap_fix, g->n_fix, sizeof(*f))))
		return;
	g->fix = f;
	g->fix[g->n_fix++] = (struct fixup){ g->n, l };
	g->labels[l].refs++;
	ins(g, code, dst, src, 0, imm);
	if (BPF_OP(code) == BPF_JA)
		g->live = false;
}

static void ja(struct cg *g, uint32_t l)
{
	jump(g, BPF_JMP | BPF_JA, 0, 0, 0, l);
}

/* if (u32)dst OP imm goto l */
static void jmp32_imm(struct cg *g, uint8_t op, uint8_t dst, uint32_t imm, uint32_t l)
{
	jump(g, BPF_JMP32 | op | BPF_K, dst, 0, (int32_t)imm, l);
}

static void jmp_reg(struct cg *g, uint8_t op, uint8_t dst, uint8_t src, uint32_t l)
{
	jump(g, BPF_JMP | op | BPF_X, dst, src, 0, l);
}

static void mov_imm(struct cg *g, uint8_t dst, int32_t imm)
{
	ins(g, BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, imm);
}

static void mov_reg(struct cg *g, uint8_t dst, uint8_t src)
{
	ins(g, BPF_ALU64 | BPF_MOV | BPF_X, dst, src, 0, 0);
}

static void alu64_imm(struct cg *g, uint8_t op, uint8_t dst, int32_t imm)
{
	ins(g, BPF_ALU64 | op | BPF_K, dst, 0, 0, imm);
}

static void alu32_imm(struct cg *g, uint8_t op, uint8_t dst, uint32_t imm)
{
	ins(g, BPF_ALU | op | BPF_K, dst, 0, 0, (int32_t)imm);
}

static void alu_reg(struct cg *g, uint8_t op, uint8_t dst, uint8_t src)
{
	ins(g, BPF_ALU64 | op | BPF_X, dst, src, 0, 0);
}

static void ldx(struct cg *g, uint8_t size, uint8_t dst, uint8_t src, int16_t off)
{
	ins(g, BPF_LDX | BPF_MEM | size, dst, src, off, 0);
}

static void stx(struct cg *g, uint8_t size, uint8_t dst, int16_t off, uint8_t src)
{
	ins(g, BPF_STX | BPF_MEM | size, dst, src, off, 0);
}

static void st(struct cg *g, uint8_t size, uint8_t dst, int16_t off, uint32_t imm)
{
	ins(g, BPF_ST | BPF_MEM | size, dst, 0, off, (int32_t)imm);
}

static void ld_imm64(struct cg *g, uint8_t dst, uint8_t src, uint64_t v)
{
	if (!g->live)
		return;
	ins(g, BPF_LD | BPF_DW | BPF_IMM, dst, src, 0, (int32_t)(uint32_t)v);
	ins(g, 0, 0, 0, 0, (int32_t)(uint32_t)(v >> 32));
}

static void ld_map(struct cg *g, uint8_t dst, uint32_t map)
{
	ld_imm64(g, dst, BPF_PSEUDO_MAP_FD, map);
}

static void call(struct cg *g, int32_t helper)
{
	ins(g, BPF_JMP | BPF_CALL, 0, 0, 0, helper);
}

static void exit_with(struct cg *g, int32_t ret)
{
	mov_imm(g, BPF_REG_0, ret);
	ins(g, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	g->live = false;
}

static int16_t reg_off(unsigned reg)
{
	return (int16_t)(STK_REGS + 4 * (int)reg);
}

/* --- counters and decisions --- */

/* A new kernel slot counting image slot `image` (FN_IMG_NONE: a decision). */
static uint32_t slot_new(struct cg *g, uint32_t image)
{
	uint32_t *n = grow(g, g->slot_image, &g->cap_slots, g->n_slots, sizeof(*n));

	if (!n)
		return 0;
	g->slot_image = n;
	g->slot_image[g->n_slots] = image;
	return g->n_slots++;
}

static int16_t page_off(uint32_t page)
{
	return (int16_t)(STK_PAGES + 8 * (int)page);
}

/* packets += 1, bytes += the IPv4 total length, in kernel slot k */
static void count(struct cg *g, uint32_t k)
{
	int16_t off = (int16_t)(k % FN_XDP_PAGE_SLOTS * sizeof(struct fn_nft_counter));

	ldx(g, BPF_DW, BPF_REG_1, BPF_REG_10, page_off(k / FN_XDP_PAGE_SLOTS));
	ldx(g, BPF_DW, BPF_REG_2, BPF_REG_1, off);
	alu64_imm(g, BPF_ADD, BPF_REG_2, 1);
	stx(g, BPF_DW, BPF_REG_1, off, BPF_REG_2);
	ldx(g, BPF_DW, BPF_REG_2, BPF_REG_1, (int16_t)(off + 8));
	ldx(g, BPF_W, BPF_REG_3, BPF_REG_10, STK_TOTLEN);
	alu_reg(g, BPF_ADD, BPF_REG_2, BPF_REG_3);
	stx(g, BPF_DW, BPF_REG_1, (int16_t)(off + 8), BPF_REG_2);
}

/* A counter op: image slot `image`. */
static void counter(struct cg *g, uint32_t image)
{
	if (!g->live || g->err)
		return;
	if (!g->measure && !g->kslot[image])
		g->kslot[image] = slot_new(g, image) + 1;
	count(g, g->measure ? 0 : g->kslot[image] - 1);
}

/* Count a verdict given in base chain ctx->base by rule r (FN_IMG_NONE:
 * the policy), one slot per distinct (base, rule, verdict). */
static void decision(struct cg *g, const struct rctx *ctx, uint32_t r, int32_t verdict)
{
	uint32_t i;

	if (!g->live || g->err)
		return;
	if (g->measure) {
		count(g, 0);
		return;
	}
	/* one base chain's decisions are consecutive */
	for (i = g->n_dec; i > 0 && g->dec[i - 1].base == ctx->base; i--)
		if (g->dec[i - 1].rule == r && g->dec[i - 1].verdict == verdict)
			break;
	if (i == 0 || g->dec[i - 1].base != ctx->base) {
		struct fn_xdp_decision *d = grow(g, g->dec, &g->cap_dec, g->n_dec, sizeof(*d));

		if (!d)
			return;
		g->dec = d;
		g->dec[g->n_dec++] = (struct fn_xdp_decision){
			.base = ctx->base, .rule = r,
			.rule_chain = r == FN_IMG_NONE ? ctx->base : ctx->chain,
			.verdict = verdict, .hook = ctx->hook,
			.slot = slot_new(g, FN_IMG_NONE),
		};
		i = g->n_dec;
	}
	count(g, g->dec[i - 1].slot);
}

/* --- the end of the program: meta + hand over --- */

static void resume(struct cg *g, uint8_t hook, uint8_t chain, uint32_t rule)
{
	uint32_t drop = label_new(g);

	mov_reg(g, BPF_REG_1, R_CTX);
	mov_imm(g, BPF_REG_2, -(int32_t)sizeof(struct fn_xdp_meta));
	call(g, BPF_FUNC_xdp_adjust_meta);
	/* no room for the meta: the frame cannot be judged exactly */
	jump(g, BPF_JMP | BPF_JNE | BPF_K, BPF_REG_0, 0, 0, drop);
	/* the packet pointers are stale after the helper: reload */
	ldx(g, BPF_W, BPF_REG_2, R_CTX, offsetof(struct xdp_md, data_meta));
	ldx(g, BPF_W, BPF_REG_3, R_CTX, offsetof(struct xdp_md, data));
	mov_reg(g, BPF_REG_4, BPF_REG_2);
	alu64_imm(g, BPF_ADD, BPF_REG_4, sizeof(struct fn_xdp_meta));
	jmp_reg(g, BPF_JGT, BPF_REG_4, BPF_REG_3, drop);
	st(g, BPF_W, BPF_REG_2, offsetof(struct fn_xdp_meta, magic), FN_XDP_META_MAGIC);
	st(g, BPF_W, BPF_REG_2, offsetof(struct fn_xdp_meta, hook),
	   (uint32_t)hook | (uint32_t)chain << 8);   /* hook, chain, pad */
	st(g, BPF_W, BPF_REG_2, offsetof(struct fn_xdp_meta, rule), rule);
	st(g, BPF_W, BPF_REG_2, offsetof(struct fn_xdp_meta, pad2), 0);
	ld_imm64(g, BPF_REG_1, 0, g->generation);
	stx(g, BPF_DW, BPF_REG_2, offsetof(struct fn_xdp_meta, generation), BPF_REG_1);
	if (g->test_epilogue) {
		exit_with(g, XDP_TX);
	} else {
		ld_map(g, BPF_REG_1, FN_XDP_MAP_XSKS);
		ldx(g, BPF_W, BPF_REG_2, R_CTX, offsetof(struct xdp_md, rx_queue_index));
		mov_imm(g, BPF_REG_3, XDP_DROP);   /* no socket on this queue */
		call(g, BPF_FUNC_redirect_map);
		ins(g, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
		g->live = false;
	}
	bind(g, drop);
	exit_with(g, XDP_DROP);
}

/* --- operands: chunks of 4, 2 and 1 bytes, at aligned offsets --- */

enum src_kind { SRC_MEM, SRC_WORD };

/* Bytes to compare: in memory at reg + off (packet or stack), or the first
 * bytes of a 32-bit value in a register (meta), in memory order. */
struct src {
	enum src_kind kind;
	uint8_t reg;
	int16_t off;
};

static unsigned chunk_size(unsigned left)
{
	return left >= 4 ? 4 : left >= 2 ? 2 : 1;
}

static uint8_t size_code(unsigned size)
{
	return size == 4 ? BPF_W : size == 2 ? BPF_H : BPF_B;
}

/* dst = bytes [pos, pos + size) of s, as a little-endian number */
static void load_chunk(struct cg *g, const struct src *s, unsigned pos, unsigned size,
		       uint8_t dst)
{
	if (s->kind == SRC_MEM) {
		ldx(g, size_code(size), dst, s->reg, (int16_t)(s->off + pos));
		return;
	}
	mov_reg(g, dst, s->reg);
	if (pos)
		alu32_imm(g, BPF_RSH, dst, 8 * pos);
	if (size < 4)
		alu32_imm(g, BPF_AND, dst, size == 1 ? 0xff : 0xffff);
}

static uint32_t le_bytes(const uint8_t *b, unsigned size)
{
	uint32_t v = 0;

	for (unsigned i = size; i > 0; i--)
		v = v << 8 | b[i - 1];
	return v;
}

static uint32_t be_bytes(const uint8_t *b, unsigned size)
{
	uint32_t v = 0;

	for (unsigned i = 0; i < size; i++)
		v = v << 8 | b[i];
	return v;
}

/*
 * Fall through when `s <op> data` holds over len bytes in memcmp order (the
 * interpreter's fn_cmp_apply), else jump to fail. Equality compares chunks
 * as loaded; order compares them as big-endian numbers, first chunk first.
 */
static void test(struct cg *g, const struct src *s, const uint8_t *data, unsigned len,
		 unsigned op, uint32_t fail)
{
	uint32_t pass = label_new(g);
	unsigned pos, size;

	for (pos = 0; pos < len; pos += size) {
		bool last;
		uint32_t v;

		size = chunk_size(len - pos);
		last = pos + size == len;
		load_chunk(g, s, pos, size, BPF_REG_1);
		if (op == FN_CMP_EQ || op == FN_CMP_NEQ) {
			v = le_bytes(data + pos, size);
			jmp32_imm(g, BPF_JNE, BPF_REG_1, v, op == FN_CMP_EQ ? fail : pass);
			continue;
		}
		v = be_bytes(data + pos, size);
		if (size > 1)
			ins(g, BPF_ALU | BPF_END | BPF_TO_BE, BPF_REG_1, 0, 0, 8 * (int)size);
		if (last) {
			static const uint8_t fail_if[] = {
				[FN_CMP_LT] = BPF_JGE, [FN_CMP_LTE] = BPF_JGT,
				[FN_CMP_GT] = BPF_JLE, [FN_CMP_GTE] = BPF_JLT,
			};

			jmp32_imm(g, fail_if[op], BPF_REG_1, v, fail);
		} else if (op == FN_CMP_LT || op == FN_CMP_LTE) {
			jmp32_imm(g, BPF_JLT, BPF_REG_1, v, pass);
			jmp32_imm(g, BPF_JGT, BPF_REG_1, v, fail);
		} else {
			jmp32_imm(g, BPF_JGT, BPF_REG_1, v, pass);
			jmp32_imm(g, BPF_JLT, BPF_REG_1, v, fail);
		}
	}
	if (op == FN_CMP_NEQ)
		ja(g, fail);     /* every chunk equal */
	bind(g, pass);
}

/* --- payload --- */

static void reset_extents(struct cg *g)
{
	g->ext = (struct extents){ .frame = ETH_HLEN + IP_HLEN };
}

/* Jump to fail unless bytes [off, off + len) of base can be read; the
 * operand's address: reg + off. */
static struct src payload_src(struct cg *g, unsigned base, unsigned off, unsigned len,
			      uint32_t fail)
{
	uint32_t end = off + len;
	uint8_t reg = R_L4;
	uint32_t *known = &g->ext.l4;

	if (base != FN_PAYLOAD_TRANSPORT) {
		/* link: the Ethernet header, then the datagram */
		if (base == FN_PAYLOAD_NETWORK)
			end += ETH_HLEN, off += ETH_HLEN;
		reg = R_DATA;
		known = &g->ext.frame;
	}
	if (end > *known) {
		mov_reg(g, BPF_REG_1, reg);
		alu64_imm(g, BPF_ADD, BPF_REG_1, (int32_t)end);
		jmp_reg(g, BPF_JGT, BPF_REG_1, R_END, fail);
		*known = end;
	}
	return (struct src){ SRC_MEM, reg, (int16_t)off };
}

/* payload -> registers: whole words, the last one zero padded */
static void payload(struct cg *g, const struct fn_op_payload *o, uint32_t brk)
{
	struct src s = payload_src(g, o->base, o->offset, o->len, brk);
	unsigned w;

	for (w = 0; w * 4 < o->len; w++) {
		unsigned left = o->len - w * 4;

		if (left == 3) {
			ldx(g, BPF_H, BPF_REG_1, s.reg, (int16_t)(s.off + 4 * w));
			ldx(g, BPF_B, BPF_REG_2, s.reg, (int16_t)(s.off + 4 * w + 2));
			alu32_imm(g, BPF_LSH, BPF_REG_2, 16);
			alu_reg(g, BPF_OR, BPF_REG_1, BPF_REG_2);
		} else {
			ldx(g, size_code(chunk_size(left)), BPF_REG_1, s.reg,
			    (int16_t)(s.off + 4 * w));
		}
		stx(g, BPF_W, BPF_REG_10, reg_off(o->dreg + w), BPF_REG_1);
	}
}

/* --- meta --- */

/* dst = the register word meta `key` writes (split.c: these keys only) */
static void meta_word(struct cg *g, unsigned key, uint8_t dst)
{
	switch (key) {
	case FN_META_LEN:
		ldx(g, BPF_W, dst, BPF_REG_10, STK_TOTLEN);
		break;
	case FN_META_PROTOCOL:
		mov_imm(g, dst, 0x0008);          /* ETH_P_IP, big endian */
		break;
	case FN_META_NFPROTO:
		mov_imm(g, dst, 2);               /* NFPROTO_IPV4 */
		break;
	case FN_META_L4PROTO:
		ldx(g, BPF_B, dst, R_DATA, ETH_HLEN + 9);
		break;
	case FN_META_PKTTYPE: {
		/* eth_type_trans() on the destination address; the steering
		 * program hands over no other host's frames */
		uint32_t group = label_new(g), done = label_new(g);

		mov_imm(g, dst, FN_PKT_HOST);
		ldx(g, BPF_B, BPF_REG_5, R_DATA, 0);
		jump(g, BPF_JMP | BPF_JSET | BPF_K, BPF_REG_5, 0, 1, group);
		ja(g, done);
		bind(g, group);
		mov_imm(g, dst, FN_PKT_MULTICAST);
		ldx(g, BPF_W, BPF_REG_5, R_DATA, 0);
		jmp32_imm(g, BPF_JNE, BPF_REG_5, 0xffffffffu, done);
		ldx(g, BPF_H, BPF_REG_5, R_DATA, 4);
		jmp32_imm(g, BPF_JNE, BPF_REG_5, 0xffffu, done);
		mov_imm(g, dst, FN_PKT_BROADCAST);
		bind(g, done);
		break;
	}
	default:
		g->err = -EINVAL;
	}
}

/* --- registers --- */

static void immediate(struct cg *g, unsigned dreg, const uint32_t *data, unsigned len)
{
	for (unsigned w = 0; w * 4 < len; w++)
		st(g, BPF_W, BPF_REG_10, reg_off(dreg + w), data[w]);
}

static void bitwise(struct cg *g, const struct fn_op_bitwise *o)
{
	unsigned i, n = fn_img_round4(o->len) / 4;

	/* word by word, reading word i before writing word i, as the
	 * interpreter's loop (the registers may overlap) */
	for (i = 0; i < n; i++) {
		ldx(g, BPF_W, BPF_REG_1, BPF_REG_10, reg_off(o->sreg + i));
		alu32_imm(g, BPF_AND, BPF_REG_1, o->data[i]);
		alu32_imm(g, BPF_XOR, BPF_REG_1, o->data[n + i]);
		stx(g, BPF_W, BPF_REG_10, reg_off(o->dreg + i), BPF_REG_1);
	}
}

static void shift(struct cg *g, const struct fn_op_shift *o)
{
	unsigned i, n = fn_img_round4(o->len) / 4, s = o->shift;

	/* the source first (the kernel's loops read each word before the
	 * possibly same destination word is written) */
	for (i = 0; i < n; i++) {
		ldx(g, BPF_W, BPF_REG_1, BPF_REG_10, reg_off(o->sreg + i));
		stx(g, BPF_W, BPF_REG_10, (int16_t)(STK_SCRATCH + 4 * i), BPF_REG_1);
	}
	mov_imm(g, BPF_REG_3, 0);                 /* carry */
	for (unsigned k = 0; k < n; k++) {
		i = o->op == FN_SHIFT_LEFT ? n - 1 - k : k;
		ldx(g, BPF_W, BPF_REG_1, BPF_REG_10, (int16_t)(STK_SCRATCH + 4 * i));
		mov_reg(g, BPF_REG_2, BPF_REG_1);
		alu32_imm(g, o->op == FN_SHIFT_LEFT ? BPF_LSH : BPF_RSH, BPF_REG_1, s);
		alu_reg(g, BPF_OR, BPF_REG_1, BPF_REG_3);
		stx(g, BPF_W, BPF_REG_10, reg_off(o->dreg + i), BPF_REG_1);
		alu32_imm(g, o->op == FN_SHIFT_LEFT ? BPF_RSH : BPF_LSH, BPF_REG_2, 32 - s);
		mov_reg(g, BPF_REG_3, BPF_REG_2);
	}
}

static void byteorder(struct cg *g, const struct fn_op_byteorder *o)
{
	int16_t s = reg_off(o->sreg), d = reg_off(o->dreg);

	switch (o->size) {
	case 2:
		ldx(g, BPF_H, BPF_REG_1, BPF_REG_10, s);
		ins(g, BPF_ALU | BPF_END | BPF_TO_BE, BPF_REG_1, 0, 0, 16);
		stx(g, BPF_H, BPF_REG_10, d, BPF_REG_1);
		break;
	case 4:
		ldx(g, BPF_W, BPF_REG_1, BPF_REG_10, s);
		ins(g, BPF_ALU | BPF_END | BPF_TO_BE, BPF_REG_1, 0, 0, 32);
		stx(g, BPF_W, BPF_REG_10, d, BPF_REG_1);
		break;
	default:
		/* 64 bits as two words (register words are only 4-aligned):
		 * the swapped high word becomes the low one */
		ldx(g, BPF_W, BPF_REG_1, BPF_REG_10, s);
		ldx(g, BPF_W, BPF_REG_2, BPF_REG_10, (int16_t)(s + 4));
		ins(g, BPF_ALU | BPF_END | BPF_TO_BE, BPF_REG_1, 0, 0, 32);
		ins(g, BPF_ALU | BPF_END | BPF_TO_BE, BPF_REG_2, 0, 0, 32);
		stx(g, BPF_W, BPF_REG_10, d, BPF_REG_2);
		stx(g, BPF_W, BPF_REG_10, (int16_t)(d + 4), BPF_REG_1);
		break;
	}
}

/* --- verdicts and chains --- */

static void rule(struct cg *g, uint32_t r, const struct rctx *ctx);

/* Chain `chain` inlined: RETURN and its end go to ret. */
static void inline_chain(struct cg *g, uint32_t chain, const struct rctx *parent,
			 uint32_t ret)
{
	const struct fn_img_chain *c = &g->p->chains[chain];
	struct rctx ctx = *parent;
	struct extents saved = g->ext;

	if (!g->live)
		return;
	if (g->measure) {
		ja(g, ret);         /* stands for the chain (split.c adds its size) */
		return;
	}
	ctx.chain = chain;
	ctx.ret = ret;
	for (uint32_t r = c->first_rule; r < c->first_rule + c->n_rules; r++)
		rule(g, r, &ctx);
	ja(g, ret);
	g->ext = saved;
}

/* A verdict of rule r: ends the rule unless CONTINUE. brk: the next rule. */
static void verdict(struct cg *g, const struct fn_img_vdata *v, uint32_t r,
		    const struct rctx *ctx, uint32_t brk)
{
	switch (v->code) {
	case FN_V_ACCEPT:
		decision(g, ctx, r, FN_V_ACCEPT);
		ja(g, ctx->accept);
		break;
	case FN_V_DROP:
		decision(g, ctx, r, FN_V_DROP);
		exit_with(g, XDP_DROP);
		break;
	case FN_V_BREAK:
		ja(g, brk);
		break;
	case FN_V_RETURN:
		ja(g, ctx->ret);
		break;
	case FN_V_JUMP:
		/* back to the rule after the jumping one */
		inline_chain(g, v->chain, ctx, brk);
		break;
	case FN_V_GOTO:
		inline_chain(g, v->chain, ctx, ctx->ret);
		break;
	default:  /* CONTINUE */
		break;
	}
}

static uint32_t set_map(struct cg *g, uint32_t set)
{
	const struct fn_img_set *s = &g->p->sets[set];
	struct fn_xdp_map_desc *m;

	if (g->set_map[set])
		return g->set_map[set];
	m = realloc(g->maps, (g->n_maps + 1) * sizeof(*m));
	if (!m) {
		g->err = -ENOMEM;
		return 0;
	}
	g->maps = m;
	m = &g->maps[g->n_maps];
	memset(m, 0, sizeof(*m));
	m->set = set;
	if (s->kind == FN_SET_HASH) {
		m->type = BPF_MAP_TYPE_HASH;
		m->key_size = s->key_len;
	} else {
		m->type = BPF_MAP_TYPE_LPM_TRIE;
		m->key_size = 4 + s->key_len;
	}
	if (s->flags & FN_SET_F_VMAP) {
		m->value_size = 4;
		if ((g->err = fn_xdp_vmap_cases(g->p, set, &m->cases, &m->n_cases)))
			return 0;
	} else {
		m->value_size = (s->flags & FN_SET_F_MAP) ? fn_img_round4(s->data_len) : 4;
	}
	g->set_map[set] = g->n_maps;
	return g->n_maps++;
}

/* The catch-all element's map data into dreg: whole words, zero padded. */
static void catchall_data(struct cg *g, const struct fn_img_set *s, unsigned dreg)
{
	const uint8_t *d = fn_set_elem_data(s, fn_set_elem(g->p, s, s->catchall));
	uint32_t words[FN_NREGS] = { 0 };

	memcpy(words, d, s->data_len);
	immediate(g, dreg, words, s->data_len);
}

/* lookup (expr_lookup.c): a miss, or an inverted hit, takes the catch-all
 * element, else BREAK. */
static void lookup(struct cg *g, const struct fn_op_lookup *o, uint32_t r,
		   const struct rctx *ctx, uint32_t brk)
{
	const struct fn_img_set *s = &g->p->sets[o->set];
	uint32_t map = set_map(g, o->set), miss = label_new(g), cont = label_new(g);
	bool catchall = s->catchall != FN_IMG_NONE;
	uint32_t *cases = NULL, i;

	if (g->err)
		return;
	if (s->kind == FN_SET_HASH) {
		mov_reg(g, BPF_REG_2, BPF_REG_10);
		alu64_imm(g, BPF_ADD, BPF_REG_2, reg_off(o->sreg));
	} else {
		st(g, BPF_W, BPF_REG_10, STK_LPM, 8u * s->key_len);
		ldx(g, BPF_W, BPF_REG_1, BPF_REG_10, reg_off(o->sreg));
		stx(g, BPF_W, BPF_REG_10, STK_LPM + 4, BPF_REG_1);
		mov_reg(g, BPF_REG_2, BPF_REG_10);
		alu64_imm(g, BPF_ADD, BPF_REG_2, STK_LPM);
	}
	ld_map(g, BPF_REG_1, map);
	call(g, BPF_FUNC_map_lookup_elem);
	jump(g, BPF_JMP | BPF_JEQ | BPF_K, BPF_REG_0, 0, 0, miss);
	if (o->invert) {
		/* a hit is "not found": the catch-all matches, else BREAK;
		 * a miss matches */
		if (!catchall)
			ja(g, brk);
		bind(g, miss);
		bind(g, cont);
		return;
	}
	if (s->flags & FN_SET_F_VMAP) {
		uint32_t n = g->maps[map].n_cases;

		cases = malloc((n + 1) * sizeof(*cases));
		if (!cases) {
			g->err = -ENOMEM;
			return;
		}
		for (i = 0; i < n; i++)
			cases[i] = label_new(g);
		ldx(g, BPF_W, BPF_REG_1, BPF_REG_0, 0);
		for (i = 0; i < n; i++)
			jmp32_imm(g, BPF_JEQ, BPF_REG_1, i, cases[i]);
		ja(g, brk);          /* no such case: load.c writes none */
		bind(g, miss);
		if (catchall)
			ja(g, cases[fn_xdp_vmap_case(&g->maps[map], fn_set_elem_data(s,
					fn_set_elem(g->p, s, s->catchall)))]);
		else
			ja(g, brk);
		for (i = 0; i < n && !g->err; i++) {
			/* a copy: inlining the case may add maps (realloc) */
			struct fn_img_vdata v = g->maps[map].cases[i];

			bind(g, cases[i]);
			verdict(g, &v, r, ctx, brk);
			ja(g, cont);     /* CONTINUE: the rule goes on */
		}
		free(cases);
	} else if (s->flags & FN_SET_F_MAP) {
		for (i = 0; i * 4 < s->data_len; i++) {
			ldx(g, BPF_W, BPF_REG_1, BPF_REG_0, (int16_t)(4 * i));
			stx(g, BPF_W, BPF_REG_10, reg_off(o->dreg + i), BPF_REG_1);
		}
		ja(g, cont);
		bind(g, miss);
		if (catchall)
			catchall_data(g, s, o->dreg);
		else
			ja(g, brk);
	} else {
		ja(g, cont);
		bind(g, miss);
		if (!catchall)
			ja(g, brk);
	}
	bind(g, cont);
}

static void op(struct cg *g, const struct fn_op *op, uint32_t r, const struct rctx *ctx,
	       uint32_t brk)
{
	switch (op->type) {
	case FN_OP_PAYLOAD_CMP: {
		const struct fn_op_payload_cmp *o = (const void *)op;
		struct src s = payload_src(g, o->base, o->offset, o->len, brk);

		test(g, &s, (const uint8_t *)o->data, o->len, o->op, brk);
		break;
	}
	case FN_OP_META_CMP: {
		const struct fn_op_meta_cmp *o = (const void *)op;
		struct src s = { SRC_WORD, BPF_REG_2, 0 };

		meta_word(g, o->key, BPF_REG_2);
		test(g, &s, (const uint8_t *)o->data, o->len, o->op, brk);
		break;
	}
	case FN_OP_CMP: {
		const struct fn_op_cmp *o = (const void *)op;
		struct src s = { SRC_MEM, BPF_REG_10, reg_off(o->sreg) };

		test(g, &s, (const uint8_t *)o->data, o->len, o->op, brk);
		break;
	}
	case FN_OP_PAYLOAD:
		payload(g, (const void *)op, brk);
		break;
	case FN_OP_VERDICT:
		verdict(g, &((const struct fn_op_verdict *)op)->v, r, ctx, brk);
		break;
	case FN_OP_LOOKUP:
		lookup(g, (const void *)op, r, ctx, brk);
		break;
	case FN_OP_META: {
		const struct fn_op_meta *o = (const void *)op;

		meta_word(g, o->key, BPF_REG_1);
		stx(g, BPF_W, BPF_REG_10, reg_off(o->dreg), BPF_REG_1);
		break;
	}
	case FN_OP_RANGE: {
		const struct fn_op_range *o = (const void *)op;
		struct src s = { SRC_MEM, BPF_REG_10, reg_off(o->sreg) };
		const uint8_t *from = (const void *)o->data;
		const uint8_t *to = from + fn_img_round4(o->len);
		uint32_t out = o->op == FN_CMP_EQ ? brk : label_new(g);

		test(g, &s, from, o->len, FN_CMP_GTE, out);
		test(g, &s, to, o->len, FN_CMP_LTE, out);
		if (o->op != FN_CMP_EQ) {   /* inside: no match */
			ja(g, brk);
			bind(g, out);
		}
		break;
	}
	case FN_OP_BITWISE:
		bitwise(g, (const void *)op);
		break;
	case FN_OP_SHIFT:
		shift(g, (const void *)op);
		break;
	case FN_OP_BYTEORDER:
		byteorder(g, (const void *)op);
		break;
	case FN_OP_IMMEDIATE: {
		const struct fn_op_immediate *o = (const void *)op;

		immediate(g, o->dreg, o->data, o->len);
		break;
	}
	case FN_OP_COUNTER:
		counter(g, ((const struct fn_op_slot *)op)->slot);
		break;
	case FN_OP_CLASSIFY:
		break;    /* an optimisation only: the rules run linearly here */
	default:
		g->err = -EINVAL;    /* the split let through what we cannot do */
		break;
	}
}

/* One rule: its ops in order, a failed match jumps to the next rule. */
static void rule(struct cg *g, uint32_t r, const struct rctx *ctx)
{
	const struct fn_img_rule *ru = &g->p->rules[r];
	const uint8_t *p = g->p->code + ru->code_off, *end = p + ru->code_len;
	uint32_t brk = label_new(g);

	reset_extents(g);
	for (; p < end && g->live && !g->err; p += ((const struct fn_op *)p)->size * 4u)
		op(g, (const void *)p, r, ctx, brk);
	bind(g, brk);
}

/* --- the program --- */

static void zero_registers(struct cg *g)
{
	for (int i = 0; i < FN_REGS_BYTES; i += 8)
		st(g, BPF_DW, BPF_REG_10, (int16_t)(STK_REGS + i), 0);
}

/* r7, r8, and r7's verifier range over the Ethernet and IPv4 headers */
static void frame_pointers(struct cg *g, uint32_t bad)
{
	ldx(g, BPF_W, R_DATA, R_CTX, offsetof(struct xdp_md, data));
	ldx(g, BPF_W, R_END, R_CTX, offsetof(struct xdp_md, data_end));
	mov_reg(g, BPF_REG_1, R_DATA);
	alu64_imm(g, BPF_ADD, BPF_REG_1, ETH_HLEN + IP_HLEN);
	jmp_reg(g, BPF_JGT, BPF_REG_1, R_END, bad);
}

/* r1 = the IPv4 header length, r2 = the total length; jumps to bad unless
 * 20 <= IHL <= total length, and r3 = where the datagram ends. */
static void ip_lengths(struct cg *g, uint32_t bad)
{
	ldx(g, BPF_B, BPF_REG_1, R_DATA, ETH_HLEN);
	alu64_imm(g, BPF_AND, BPF_REG_1, 0xf);
	alu64_imm(g, BPF_LSH, BPF_REG_1, 2);
	jump(g, BPF_JMP | BPF_JLT | BPF_K, BPF_REG_1, 0, IP_HLEN, bad);
	ldx(g, BPF_H, BPF_REG_2, R_DATA, ETH_HLEN + 2);
	ins(g, BPF_ALU | BPF_END | BPF_TO_BE, BPF_REG_2, 0, 0, 16);
	jmp_reg(g, BPF_JLT, BPF_REG_2, BPF_REG_1, bad);
	mov_reg(g, BPF_REG_3, R_DATA);
	alu_reg(g, BPF_ADD, BPF_REG_3, BPF_REG_2);
	alu64_imm(g, BPF_ADD, BPF_REG_3, ETH_HLEN);
}

/* Load the frame pointers, trim link padding, note the lengths, look the
 * counter pages up. A frame the steering program should not have passed
 * is handed over unjudged (FN_XDP_RESUME_START): the application judges
 * all of it. */
static void prologue(struct cg *g)
{
	uint32_t bad = label_new(g), ok = label_new(g), trimmed = label_new(g);

	mov_reg(g, R_CTX, BPF_REG_1);
	frame_pointers(g, bad);
	ip_lengths(g, bad);
	jmp_reg(g, BPF_JGT, BPF_REG_3, R_END, bad);
	jmp_reg(g, BPF_JEQ, BPF_REG_3, R_END, trimmed);
	/* shorten the frame by the padding (privileged: pointer difference) */
	mov_reg(g, BPF_REG_2, BPF_REG_3);
	alu_reg(g, BPF_SUB, BPF_REG_2, R_END);
	mov_reg(g, BPF_REG_1, R_CTX);
	call(g, BPF_FUNC_xdp_adjust_tail);
	jump(g, BPF_JMP | BPF_JNE | BPF_K, BPF_REG_0, 0, 0, bad);
	frame_pointers(g, bad);     /* stale after the helper */
	ip_lengths(g, bad);
	bind(g, trimmed);
	stx(g, BPF_W, BPF_REG_10, STK_TOTLEN, BPF_REG_2);
	mov_reg(g, R_L4, R_DATA);
	alu64_imm(g, BPF_ADD, R_L4, ETH_HLEN);
	alu_reg(g, BPF_ADD, R_L4, BPF_REG_1);
	/* this CPU's counter pages, for the whole program */
	for (uint32_t p = 0; p < g->n_pages; p++) {
		st(g, BPF_W, BPF_REG_10, STK_SLOT, p);
		ld_map(g, BPF_REG_1, FN_XDP_MAP_COUNTERS);
		mov_reg(g, BPF_REG_2, BPF_REG_10);
		alu64_imm(g, BPF_ADD, BPF_REG_2, STK_SLOT);
		call(g, BPF_FUNC_map_lookup_elem);
		jump(g, BPF_JMP | BPF_JEQ | BPF_K, BPF_REG_0, 0, 0, bad);
		stx(g, BPF_DW, BPF_REG_10, page_off(p), BPF_REG_0);
	}
	ja(g, ok);
	/* Unreachable after fn_steer's checks, and so failing closed: a frame
	 * these rules cannot judge is not the application's to see. */
	bind(g, bad);
	exit_with(g, XDP_DROP);
	bind(g, ok);
}

/* The base chains of one hook; false when every packet stops in it. */
static bool hook(struct cg *g, enum fn_hook h)
{
	const struct fn_nft_prog *p = g->p;
	uint32_t first = p->hdr->hook_first[h], n = p->hdr->hook_count[h];

	/* conntrack's own hook follows prerouting's chains in-process: the
	 * kernel part never gets past it (split.c stops it in the last chain) */
	if (p->conntrack && h == FN_HOOK_PREROUTING && n == 0) {
		resume(g, FN_XDP_RESUME_START, 0, 0);
		return false;
	}
	zero_registers(g);        /* the interpreter starts each hook so */
	for (uint32_t i = 0; i < n; i++) {
		const struct fn_img_chain *c = &p->chains[first + i];
		uint32_t stop = g->split->boundary[first + i], r;
		struct rctx ctx = {
			.base = first + i, .hook = (uint8_t)h, .chain = first + i,
			.ret = label_new(g), .accept = label_new(g),
		};

		if (!g->split->enters[first + i]) {
			resume(g, (uint8_t)h, (uint8_t)i, stop);
			return false;
		}
		for (r = c->first_rule; r < stop; r++)
			rule(g, r, &ctx);
		if (stop < c->first_rule + c->n_rules)
			resume(g, (uint8_t)h, (uint8_t)i, stop);
		bind(g, ctx.ret);         /* the policy */
		decision(g, &ctx, FN_IMG_NONE,
			 c->policy == FN_POLICY_ACCEPT ? FN_V_ACCEPT : FN_V_DROP);
		if (c->policy != FN_POLICY_ACCEPT)
			exit_with(g, XDP_DROP);
		bind(g, ctx.accept);
	}
	return true;
}

/*
 * Resolve the jumps. The kernel's verifier grows the program as it inlines
 * helper calls (a map lookup becomes several instructions), moving jump
 * targets apart, and refuses a 16-bit offset that overflows then: offsets
 * keep half their range free. A far `ja` becomes `gotol` (BPF_JMP32 |
 * BPF_JA, 32-bit offset in imm); conditional jumps stay within a rule,
 * which FN_XDP_RULE_BUDGET keeps short.
 */
#define NEAR (INT16_MAX / 2)

static void resolve(struct cg *g)
{
	for (uint32_t i = 0; i < g->n_fix && !g->err; i++) {
		struct bpf_insn *in = &g->insn[g->fix[i].insn];
		int64_t d = (int64_t)g->labels[g->fix[i].label].pos - g->fix[i].insn - 1;

		if (d >= -NEAR && d <= NEAR) {
			in->off = (int16_t)d;
		} else if (BPF_OP(in->code) == BPF_JA) {
			in->code = BPF_JMP32 | BPF_JA;
			in->imm = (int32_t)d;
		} else {
			g->err = -E2BIG;
		}
	}
}

static void cg_free(struct cg *g)
{
	free(g->insn);
	free(g->labels);
	free(g->fix);
	free(g->set_map);
	free(g->dec);
	free(g->kslot);
	free(g->slot_image);
	for (uint32_t i = 0; i < g->n_maps; i++)
		free(g->maps[i].cases);
	free(g->maps);
}

static int cg_init(struct cg *g, const struct fn_nft_prog *p)
{
	memset(g, 0, sizeof(*g));
	g->p = p;
	g->live = true;
	g->n_maps = FN_XDP_MAP_SETS;
	g->maps = calloc(FN_XDP_MAP_SETS, sizeof(*g->maps));
	g->set_map = calloc(p->hdr->n_sets + 1, sizeof(*g->set_map));
	g->kslot = calloc(p->hdr->n_counters + 1, sizeof(*g->kslot));
	if (!g->maps || !g->set_map || !g->kslot) {
		cg_free(g);
		return -ENOMEM;
	}
	return 0;
}

/* The whole program into g, with n_pages counter pages. */
static int generate(struct cg *g, const struct fn_nft_prog *p, const struct fn_xdp_split *s,
		    const struct fn_xdp_cg_opts *o, uint32_t n_pages)
{
	int err;

	if ((err = cg_init(g, p)))
		return err;
	g->split = s;
	g->test_epilogue = o->test_epilogue;
	g->generation = o->generation;
	g->n_pages = n_pages;
	prologue(g);
	if (hook(g, FN_HOOK_PREROUTING) && hook(g, FN_HOOK_INPUT))
		resume(g, FN_XDP_RESUME_DONE, 0, 0);
	resolve(g);
	if (g->err)
		cg_free(g);
	return g->err;
}

int fn_xdp_codegen(const struct fn_nft_prog *p, const struct fn_xdp_split *s,
		   const struct fn_xdp_cg_opts *o, struct fn_xdp_code **out)
{
	struct fn_xdp_code *c;
	uint32_t pages;
	struct cg g;
	int err;

	/* the prologue looks the counter pages up, and how many there are
	 * is known at the end: again if one page does not do (the same
	 * input gives the same slots) */
	if ((err = generate(&g, p, s, o, 1)))
		return err;
	pages = (g.n_slots + FN_XDP_PAGE_SLOTS - 1) / FN_XDP_PAGE_SLOTS;
	if (pages > 1) {
		cg_free(&g);
		if (pages > FN_XDP_MAX_PAGES)
			return -E2BIG;
		if ((err = generate(&g, p, s, o, pages)))
			return err;
	}
	if (!(c = calloc(1, sizeof(*c)))) {
		cg_free(&g);
		return -ENOMEM;
	}
	g.maps[FN_XDP_MAP_COUNTERS] = (struct fn_xdp_map_desc){
		.type = BPF_MAP_TYPE_PERCPU_ARRAY, .key_size = 4,
		.value_size = FN_XDP_PAGE_SLOTS * sizeof(struct fn_nft_counter),
		.set = FN_IMG_NONE,
	};
	g.maps[FN_XDP_MAP_XSKS] = (struct fn_xdp_map_desc){
		.type = BPF_MAP_TYPE_XSKMAP, .key_size = 4, .value_size = 4,
		.set = FN_IMG_NONE,
	};
	*c = (struct fn_xdp_code){
		.insns = g.insn, .n_insns = g.n, .maps = g.maps, .n_maps = g.n_maps,
		.slot_image = g.slot_image, .n_slots = g.n_slots, .n_pages = g.n_pages,
		.decisions = g.dec, .n_decisions = g.n_dec, .test_epilogue = o->test_epilogue,
	};
	g.insn = NULL;
	g.maps = NULL;
	g.n_maps = 0;
	g.dec = NULL;
	g.slot_image = NULL;
	cg_free(&g);
	*out = c;
	return 0;
}

void fn_xdp_code_free(struct fn_xdp_code *c)
{
	if (!c)
		return;
	free(c->insns);
	for (uint32_t i = 0; i < c->n_maps; i++)
		free(c->maps[i].cases);
	free(c->maps);
	free(c->decisions);
	free(c->slot_image);
	free(c);
}

uint32_t fn_xdp_rule_insns(const struct fn_nft_prog *p, uint32_t r)
{
	struct rctx ctx = { 0 };
	struct cg g;
	uint32_t n;

	if (cg_init(&g, p))
		return UINT32_MAX;
	g.measure = true;
	ctx.ret = label_new(&g);
	ctx.accept = label_new(&g);
	rule(&g, r, &ctx);
	n = g.err ? UINT32_MAX : g.n;
	cg_free(&g);
	return n;
}

/* Verdicts other than jump and goto carry no chain (image.h says 0, the
 * verifier does not insist). */
static bool same_verdict(const struct fn_img_vdata *a, const struct fn_img_vdata *b)
{
	return a->code == b->code &&
	       (a->chain == b->chain || (a->code != FN_V_JUMP && a->code != FN_V_GOTO));
}

uint32_t fn_xdp_vmap_case(const struct fn_xdp_map_desc *m, const void *vdata)
{
	struct fn_img_vdata v;
	uint32_t i;

	memcpy(&v, vdata, sizeof(v));
	for (i = 0; i < m->n_cases && !same_verdict(&m->cases[i], &v); i++)
		;
	return i;
}

int fn_xdp_vmap_cases(const struct fn_nft_prog *p, uint32_t set,
		      struct fn_img_vdata **cases, uint32_t *n)
{
	const struct fn_img_set *s = &p->sets[set];
	uint32_t total = s->n_elems + (s->catchall != FN_IMG_NONE), i, k, count = 0;
	struct fn_img_vdata *c = malloc((total + 1) * sizeof(*c));

	if (!c)
		return -ENOMEM;
	for (i = 0; i < total; i++) {
		const uint8_t *e = fn_set_elem(p, s, i);
		struct fn_img_vdata v;
		uint32_t flags;

		memcpy(&flags, e, 4);
		if (flags & FN_ELEM_F_END)
			continue;
		memcpy(&v, fn_set_elem_data(s, e), sizeof(v));
		for (k = 0; k < count && !same_verdict(&c[k], &v); k++)
			;
		if (k == count)
			c[count++] = v;
	}
	*cases = c;
	*n = count;
	return 0;
}
