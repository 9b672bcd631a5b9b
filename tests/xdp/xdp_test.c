/* SPDX-License-Identifier: BSD-3-Clause */
/* The exactness check shared by the XDP tests (xdp_test.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xdp/split.h"
#include "xdp_test.h"

static const uint8_t mac_host[6] = { 0x02, 0, 0, 0, 0, 0x01 };
static const uint8_t mac_peer[6] = { 0x02, 0, 0, 0, 0, 0x02 };
static const uint8_t mac_bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t mac_mcast[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 };

void t_frame(struct tframe *f, const struct tpkt *t, int mac, size_t trailer)
{
	static const uint8_t *const dst[] = { mac_host, mac_bcast, mac_mcast };
	static const uint8_t types[] = { FN_PKT_HOST, FN_PKT_BROADCAST, FN_PKT_MULTICAST };

	memcpy(f->b, dst[mac], 6);
	memcpy(f->b + 6, mac_peer, 6);
	f->b[12] = 0x08;
	f->b[13] = 0x00;
	memcpy(f->b + 14, t->buf, t->pkt.l3_len);
	for (size_t i = 0; i < trailer; i++)
		f->b[14 + t->pkt.l3_len + i] = (uint8_t)(0xa5 ^ i);
	f->len = 14 + t->pkt.l3_len + trailer;
	f->pkttype = types[mac];
}

void t_env_open(struct tenv *e, const void *image, size_t len)
{
	char err[4096] = "";

	memset(e, 0, sizeof(*e));
	e->clock = (struct tclock){ .mono = 1000000000000ull, .real = 1700000000000000000ull };
	if (fn_nft_image_check(image, len, err, sizeof(err)))
		fail_msg("image refused: %s", err);
	e->ref = fn_nft_state_new(image, len);
	e->comb = fn_nft_state_new(image, len);
	assert_non_null(e->ref);
	assert_non_null(e->comb);
	fn_nft_state_set_clock(e->ref, t_mono, t_real, &e->clock);
	fn_nft_state_set_clock(e->comb, t_mono, t_real, &e->clock);
	e->image = malloc(len);
	assert_non_null(e->image);
	memcpy(e->image, image, len);
	e->len = len;
	e->x = xh_new(image, len, err, sizeof(err));
	if (!e->x) {
		size_t n = strlen(err);

		/* the verifier's reason is at the end of its log */
		fail_msg("XDP program refused: %s", n > 1500 ? err + n - 1500 : err);
	}
}

void t_env_close(struct tenv *e)
{
	fn_nft_state_free(e->ref);
	fn_nft_state_free(e->comb);
	xh_free(e->x);
	free(e->image);
	memset(e, 0, sizeof(*e));
}

static const char *vname(enum fn_verdict v)
{
	return v == FN_ACCEPT ? "accept" : v == FN_DROP ? "drop" : "reject";
}

/* The chains, rules and ops of the image, for a mismatch's report. */
static void dump_image(const struct tenv *e)
{
	const struct fn_xdp_split *s = xh_split(e->x);
	const struct fn_nft_prog *p = s->prog;

	for (uint32_t c = 0; c < p->hdr->n_chains; c++) {
		const struct fn_img_chain *ch = &p->chains[c];

		fprintf(stderr, "chain %u %s hook %u policy %u boundary %d\n", c,
			fn_nft_str(p, ch->name), ch->hook, ch->policy, (int)s->boundary[c]);
		for (uint32_t r = ch->first_rule; r < ch->first_rule + ch->n_rules; r++) {
			const uint32_t *w = (const uint32_t *)(p->code + p->rules[r].code_off);

			fprintf(stderr, "  rule %u handle %llu%s%s:", r,
				(unsigned long long)p->rules[r].handle, s->why[r] ? " ! " : "",
				s->why[r] ? s->why[r] : "");
			for (uint32_t i = 0; i < p->rules[r].code_len / 4; i++)
				fprintf(stderr, " %08x", w[i]);
			fprintf(stderr, "\n");
		}
	}
}

static void dump_frame(const struct tframe *f)
{
	fprintf(stderr, "frame (%zu bytes):", f->len);
	for (size_t i = 0; i < f->len; i++)
		fprintf(stderr, "%s%02x", i % 32 ? "" : "\n  ", f->b[i]);
	fprintf(stderr, "\n");
}

/* The view the stack gives the filter of a frame (lib/stack/ipv4.c). */
static void view(struct fn_pkt *pkt, uint8_t *b, const struct tframe *f)
{
	static const char ifname[16] = "fn0";
	uint8_t *ip = b + 14;
	unsigned frag = ((unsigned)(ip[6] & 0x1f) << 8 | ip[7]) * 8;

	memset(pkt, 0, sizeof(*pkt));
	pkt->l2 = b;
	pkt->l3 = ip;
	pkt->l3_len = (uint32_t)(ip[2] << 8 | ip[3]);
	pkt->fragoff = (uint16_t)frag;
	pkt->l4_off = frag ? 0 : (uint16_t)((ip[0] & 0xf) * 4);
	pkt->l4proto = ip[9];
	pkt->pkttype = f->pkttype;
	pkt->iif = 1;
	pkt->iifname = ifname;
}

static int same(const struct fn_nft_result *a, const struct fn_nft_result *b)
{
	if (a->verdict != b->verdict || a->rule_handle != b->rule_handle)
		return 0;
	if (!a->chain || !b->chain)
		return a->chain == b->chain;
	return strcmp(a->chain, b->chain) == 0;
}

enum fn_verdict t_check(struct tenv *e, const struct tframe *f, struct xh_kernel *kout)
{
	static const enum fn_hook hooks[2] = { FN_HOOK_PREROUTING, FN_HOOK_INPUT };
	static uint8_t a[2048], b[2048];
	struct fn_nft_result ra[2], rb[2];
	struct fn_pkt pa, pb;
	struct xh_kernel k;
	int ran_a = 0, ran_b = 0, ret;
	enum fn_verdict v = FN_ACCEPT;

	memcpy(a, f->b, f->len);
	memcpy(b, f->b, f->len);
	view(&pa, a, f);
	view(&pb, b, f);
	for (int h = 0; h < 2 && v == FN_ACCEPT; h++) {
		v = fn_nft_eval(e->ref, hooks[h], &pa, &ra[h]);
		ran_a++;
	}
	ret = xh_kernel(e->x, e->comb, f->b, f->len, &k);
	if (ret) {
		dump_frame(f);
		fail_msg("%s: the kernel part failed: %s", e->what ? e->what : "", strerror(-ret));
	}
	if (k.retval == XDP_DROP)
		e->n_drop++;
	else if (k.meta.hook == FN_XDP_RESUME_DONE)
		e->n_done++;
	else if (k.meta.hook == FN_XDP_RESUME_START)
		e->n_start++;
	else
		e->n_resumed++;
	for (int h = 0; h < 2; h++) {
		if (!xh_hook(e->x, e->comb, &k, hooks[h], &pb, &rb[h]))
			break;
		ran_b++;
		if (rb[h].verdict != FN_ACCEPT)
			break;
	}
	for (int h = 0; h < ran_a || h < ran_b; h++) {
		if (h < ran_a && h < ran_b && same(&ra[h], &rb[h]))
			continue;
		dump_image(e);
		dump_frame(f);
		fprintf(stderr, "kernel part: retval %u, resume hook %u chain %u rule %u\n",
			k.retval, k.meta.hook, k.meta.chain, k.meta.rule);
		if (h >= ran_b)
			fail_msg("%s: %s: interpreter %s (%s/%llu), the kernel part did not run it",
				 e->what ? e->what : "", h ? "input" : "prerouting",
				 vname(ra[h].verdict), ra[h].chain ? ra[h].chain : "-",
				 (unsigned long long)ra[h].rule_handle);
		if (h >= ran_a)
			fail_msg("%s: %s: not run by the interpreter, kernel part %s",
				 e->what ? e->what : "", h ? "input" : "prerouting",
				 vname(rb[h].verdict));
		fail_msg("%s: %s: interpreter %s (%s/%llu), kernel part + resume %s (%s/%llu)",
			 e->what ? e->what : "", h ? "input" : "prerouting",
			 vname(ra[h].verdict), ra[h].chain ? ra[h].chain : "-",
			 (unsigned long long)ra[h].rule_handle, vname(rb[h].verdict),
			 rb[h].chain ? rb[h].chain : "-", (unsigned long long)rb[h].rule_handle);
	}
	if (pa.mark != pb.mark || memcmp(a, b, f->len)) {
		dump_frame(f);
		fail_msg("%s: packet or mark out differ", e->what ? e->what : "");
	}
	if (kout)
		*kout = k;
	return v;
}

#define MAX_COUNTERS 4096

struct clist {
	uint64_t handle[MAX_COUNTERS], packets[MAX_COUNTERS], bytes[MAX_COUNTERS];
	unsigned n;
};

static void add_rule(void *arg, const char *chain, uint64_t handle, uint64_t packets,
		     uint64_t bytes)
{
	struct clist *l = arg;

	(void)chain;
	assert_true(l->n < MAX_COUNTERS);
	l->handle[l->n] = handle;
	l->packets[l->n] = packets;
	l->bytes[l->n] = bytes;
	l->n++;
}

static void add_named(void *arg, const char *name, uint64_t packets, uint64_t bytes)
{
	(void)name;
	add_rule(arg, NULL, UINT64_MAX, packets, bytes);
}

void t_check_counters(struct tenv *e)
{
	static struct clist a, b;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	fn_nft_counters(e->ref, add_rule, &a);
	fn_nft_named_counters(e->ref, add_named, &a);
	fn_nft_counters(e->comb, add_rule, &b);
	fn_nft_named_counters(e->comb, add_named, &b);
	assert_int_equal(a.n, b.n);
	for (unsigned i = 0; i < a.n; i++)
		if (a.handle[i] != b.handle[i] || a.packets[i] != b.packets[i] ||
		    a.bytes[i] != b.bytes[i])
			fail_msg("%s: counter %u (handle %llu): interpreter %llu packets %llu bytes, "
				 "kernel part + resume %llu packets %llu bytes",
				 e->what ? e->what : "", i, (unsigned long long)a.handle[i],
				 (unsigned long long)a.packets[i], (unsigned long long)a.bytes[i],
				 (unsigned long long)b.packets[i], (unsigned long long)b.bytes[i]);
}

void t_meta_cmp(struct fn_imgb *b, uint8_t key, uint8_t op, const void *data, uint8_t len)
{
	struct fn_op_meta_cmp *o = fn_imgb_op(b, FN_OP_META_CMP, sizeof(*o) + fn_img_round4(len));

	o->key = key;
	o->op = op;
	o->len = len;
	fn_imgb_words(o->data, data, len);
}

void t_range(struct fn_imgb *b, uint8_t sreg, uint8_t op, const void *from, const void *to,
	     uint8_t len)
{
	struct fn_op_range *o = fn_imgb_op(b, FN_OP_RANGE, sizeof(*o) + 2 * fn_img_round4(len));

	o->sreg = sreg;
	o->op = op;
	o->len = len;
	fn_imgb_words(o->data, from, len);
	fn_imgb_words(o->data + fn_img_round4(len) / 4, to, len);
}

void t_bitwise(struct fn_imgb *b, uint8_t sreg, uint8_t dreg, uint8_t len, const void *mask,
	       const void *xor)
{
	struct fn_op_bitwise *o = fn_imgb_op(b, FN_OP_BITWISE, sizeof(*o) + 2 * fn_img_round4(len));

	o->sreg = sreg;
	o->dreg = dreg;
	o->len = len;
	fn_imgb_words(o->data, mask, len);
	fn_imgb_words(o->data + fn_img_round4(len) / 4, xor, len);
}

void t_shift(struct fn_imgb *b, uint8_t sreg, uint8_t dreg, uint8_t len, uint8_t op,
	     uint8_t shift)
{
	struct fn_op_shift *o = fn_imgb_op(b, FN_OP_SHIFT, sizeof(*o));

	o->sreg = sreg;
	o->dreg = dreg;
	o->len = len;
	o->op = op;
	o->shift = shift;
}

void t_byteorder(struct fn_imgb *b, uint8_t sreg, uint8_t dreg, uint8_t op, uint8_t size)
{
	struct fn_op_byteorder *o = fn_imgb_op(b, FN_OP_BYTEORDER, sizeof(*o));

	o->sreg = sreg;
	o->dreg = dreg;
	o->op = op;
	o->len = size;
	o->size = size;
}

void t_slot_op(struct fn_imgb *b, uint8_t type, uint32_t slot)
{
	struct fn_op_slot *o = fn_imgb_op(b, type, sizeof(*o));

	o->slot = slot;
}

void t_reject(struct fn_imgb *b, uint8_t verdict)
{
	struct fn_op_reject *o = fn_imgb_op(b, FN_OP_REJECT, sizeof(*o));

	o->verdict = verdict;
}

void t_meta_set(struct fn_imgb *b, uint8_t key, uint8_t sreg)
{
	struct fn_op_meta_set *o = fn_imgb_op(b, FN_OP_META_SET, sizeof(*o));

	o->key = key;
	o->sreg = sreg;
}

void t_payload_set(struct fn_imgb *b, uint8_t base, uint8_t off, uint8_t len, uint8_t sreg)
{
	struct fn_op_payload_set *o = fn_imgb_op(b, FN_OP_PAYLOAD_SET, sizeof(*o));

	o->base = base;
	o->offset = off;
	o->len = len;
	o->sreg = sreg;
	o->csum_type = FN_CSUM_NONE;
}

void t_ct(struct fn_imgb *b, uint8_t key, uint8_t dreg)
{
	struct fn_op_ct *o = fn_imgb_op(b, FN_OP_CT, sizeof(*o));

	o->key = key;
	o->dreg = dreg;
}

void t_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

void t_be32(uint8_t *p, uint32_t v)
{
	t_be16(p, (uint16_t)(v >> 16));
	t_be16(p + 2, (uint16_t)v);
}
