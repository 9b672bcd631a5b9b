/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdlib.h>
#include <string.h>

#include "nft_test.h"
#include "stack/csum.h"

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

void t_ip_csum(struct tpkt *t)
{
	uint8_t *ip = t->buf;

	put16(ip + 10, 0);
	fn_csum_store(ip + 10, fn_csum(ip, (ip[0] & 0xf) * 4u));
}

static void ip_header(struct tpkt *t, uint32_t src, uint32_t dst, uint8_t proto,
		      size_t total)
{
	uint8_t *ip = t->buf;

	memset(t->buf, 0, sizeof(t->buf));
	ip[0] = 0x45;
	put16(ip + 2, (uint16_t)total);
	put16(ip + 4, 0x1234);
	ip[8] = 64;
	ip[9] = proto;
	put32(ip + 12, src);
	put32(ip + 16, dst);
	t_ip_csum(t);
	memset(&t->pkt, 0, sizeof(t->pkt));
	t->pkt.l3 = t->buf;
	t->pkt.l3_len = (uint32_t)total;
	t->pkt.l4_off = 20;
	t->pkt.l4proto = proto;
}

/* The UDP sum, pseudo-header included, of a datagram after a plain header. */
static uint64_t udp_sum(const uint8_t *ip, size_t l4len)
{
	return fn_csum_add_pseudo(fn_csum_add(0, ip + 20, l4len), ip, 17, (uint32_t)l4len);
}

void t_udp(struct tpkt *t, uint32_t src, uint32_t dst, uint16_t sport,
	   uint16_t dport, size_t payload)
{
	uint8_t *u = t->buf + 20;
	size_t i;

	ip_header(t, src, dst, 17, 20 + 8 + payload);
	put16(u, sport);
	put16(u + 2, dport);
	put16(u + 4, (uint16_t)(8 + payload));
	for (i = 0; i < payload; i++)
		u[8 + i] = (uint8_t)(i * 7 + 1);
	fn_csum_store(u + 6, fn_csum_finish_udp(udp_sum(t->buf, 8 + payload)));
}

void t_icmp(struct tpkt *t, uint32_t src, uint32_t dst, uint8_t type, uint8_t code,
	    uint16_t id, uint16_t seq)
{
	uint8_t *c = t->buf + 20;

	ip_header(t, src, dst, 1, 20 + 8 + 8);
	c[0] = type;
	c[1] = code;
	put16(c + 4, id);
	put16(c + 6, seq);
	fn_csum_store(c + 2, fn_csum(c, 16));
}

int t_csums_ok(const struct tpkt *t)
{
	const uint8_t *ip = t->buf;

	if (!fn_csum_ok(ip, 20))
		return 0;
	if (ip[9] != 17 || (ip[26] == 0 && ip[27] == 0))
		return 1;
	return fn_csum_sum_ok(udp_sum(ip, t->pkt.l3_len - 20));
}

void t_payload(struct fn_imgb *b, uint8_t base, uint8_t off, uint8_t len, uint8_t dreg)
{
	struct fn_op_payload *o = fn_imgb_op(b, FN_OP_PAYLOAD, sizeof(*o));

	o->base = base;
	o->offset = off;
	o->len = len;
	o->dreg = dreg;
}

void t_cmp(struct fn_imgb *b, uint8_t sreg, uint8_t op, const void *data, uint8_t len)
{
	struct fn_op_cmp *o = fn_imgb_op(b, FN_OP_CMP, sizeof(*o) + fn_img_round4(len));

	o->sreg = sreg;
	o->op = op;
	o->len = len;
	fn_imgb_words(o->data, data, len);
}

void t_cmp32(struct fn_imgb *b, uint8_t sreg, uint8_t op, uint32_t host_value)
{
	t_cmp(b, sreg, op, &host_value, 4);
}

void t_payload_cmp(struct fn_imgb *b, uint8_t base, uint8_t off, uint8_t len,
		   uint8_t op, const void *data)
{
	struct fn_op_payload_cmp *o = fn_imgb_op(b, FN_OP_PAYLOAD_CMP,
						 sizeof(*o) + fn_img_round4(len));

	o->base = base;
	o->offset = off;
	o->len = len;
	o->op = op;
	fn_imgb_words(o->data, data, len);
}

void t_meta(struct fn_imgb *b, uint8_t key, uint8_t dreg)
{
	struct fn_op_meta *o = fn_imgb_op(b, FN_OP_META, sizeof(*o));

	o->key = key;
	o->dreg = dreg;
}

void t_imm(struct fn_imgb *b, uint8_t dreg, const void *data, uint8_t len)
{
	struct fn_op_immediate *o = fn_imgb_op(b, FN_OP_IMMEDIATE,
					       sizeof(*o) + fn_img_round4(len));

	o->dreg = dreg;
	o->len = len;
	fn_imgb_words(o->data, data, len);
}

void t_verdict(struct fn_imgb *b, int32_t code, uint32_t chain)
{
	struct fn_op_verdict *o = fn_imgb_op(b, FN_OP_VERDICT, sizeof(*o));

	o->v.code = code;
	o->v.chain = chain;
}

void t_counter(struct fn_imgb *b, uint32_t chain, uint64_t handle)
{
	struct fn_op_slot *o = fn_imgb_op(b, FN_OP_COUNTER, sizeof(*o));

	o->slot = fn_imgb_counter(b, chain, handle, 0, 0);
}

void t_lookup(struct fn_imgb *b, uint8_t sreg, uint8_t dreg, uint32_t set, int invert)
{
	struct fn_op_lookup *o = fn_imgb_op(b, FN_OP_LOOKUP, sizeof(*o));

	o->sreg = sreg;
	o->dreg = dreg;
	o->set = set;
	o->invert = (uint8_t)invert;
}

void *t_image(struct fn_imgb *b, size_t *len)
{
	void *img = NULL;

	assert_int_equal(fn_imgb_finish(b, &img, len), 0);
	fn_imgb_free(b);
	return img;
}

struct fn_nft_state *t_load(struct fn_imgb *b)
{
	char err[256];
	size_t len;
	void *img = t_image(b, &len);
	struct fn_nft_state *s;

	if (fn_nft_image_check(img, len, err, sizeof(err)))
		fail_msg("image refused: %s", err);
	s = fn_nft_state_new(img, len);
	assert_non_null(s);
	free(img);
	return s;
}

uint64_t t_mono(void *arg)
{
	return ((struct tclock *)arg)->mono;
}

uint64_t t_real(void *arg)
{
	return ((struct tclock *)arg)->real;
}

enum fn_verdict t_run(struct fn_nft_state *s, enum fn_hook hook, struct tpkt *t,
		      uint64_t *handle)
{
	struct fn_nft_result r;

	fn_nft_eval(s, hook, &t->pkt, &r);
	if (handle)
		*handle = r.rule_handle;
	return r.verdict;
}

struct find {
	uint64_t handle, packets;
};

static void find_cb(void *arg, const char *chain, uint64_t handle, uint64_t packets,
		    uint64_t bytes)
{
	struct find *f = arg;

	(void)chain;
	(void)bytes;
	if (handle == f->handle)
		f->packets = packets;
}

uint64_t t_rule_packets(struct fn_nft_state *s, uint64_t handle)
{
	struct find f = { handle, 0 };

	fn_nft_counters(s, find_cb, &f);
	return f.packets;
}
