/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The kernel part of the rules, op by op and case by case: every frame goes
 * through the interpreter alone and through the generated XDP program
 * (BPF_PROG_TEST_RUN) resumed in the interpreter, with the same results
 * required (xdp_test.h); the split is checked where each case expects its
 * boundary. Needs root (bpf()).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "xdp/codegen.h"
#include "xdp/load.h"
#include "xdp_test.h"

#define NET FN_PAYLOAD_NETWORK
#define TH FN_PAYLOAD_TRANSPORT
#define LL FN_PAYLOAD_LINK

static struct fn_imgb *table(void)
{
	struct fn_imgb *b = fn_imgb_new();

	fn_imgb_table(b, "t", FN_FAMILY_INET, 0);
	return b;
}

/* A datagram with `opts` bytes of IPv4 options (NOPs), protocol proto and
 * l4len bytes after the header (a UDP header when proto is UDP). */
static void raw(struct tpkt *t, uint32_t src, uint32_t dst, unsigned opts, uint8_t proto,
		unsigned l4len, uint16_t sport, uint16_t dport)
{
	unsigned hl = 20 + opts, i;
	uint8_t *ip = t->buf;

	memset(t->buf, 0, sizeof(t->buf));
	ip[0] = (uint8_t)(0x40 | hl / 4);
	t_be16(ip + 2, (uint16_t)(hl + l4len));
	t_be16(ip + 4, 0x4242);
	ip[8] = 64;
	ip[9] = proto;
	t_be32(ip + 12, src);
	t_be32(ip + 16, dst);
	for (i = 20; i < hl; i++)
		ip[i] = 1;
	for (i = 0; i < l4len; i++)
		ip[hl + i] = (uint8_t)(i * 13 + 5);
	if (l4len >= 4) {
		t_be16(ip + hl, sport);
		t_be16(ip + hl + 2, dport);
	}
	if (proto == 17 && l4len >= 8)
		t_be16(ip + hl + 4, (uint16_t)l4len);
	t_ip_csum(t);
	memset(&t->pkt, 0, sizeof(t->pkt));
	t->pkt.l3 = t->buf;
	t->pkt.l3_len = hl + l4len;
}

#define MAX_FRAMES 96

/* Frames for every case: addresses and ports the rules name, every
 * transport length from none up, options, link padding, broadcast and
 * multicast destinations. */
static size_t frames(struct tframe *f)
{
	static const uint32_t srcs[] = { IP4(10, 0, 0, 1), IP4(10, 0, 0, 2), IP4(192, 168, 1, 7),
					 IP4(1, 2, 3, 4), IP4(10, 0, 1, 200), IP4(255, 0, 0, 1) };
	static const uint16_t ports[] = { 53, 80, 1000, 5000, 65535, 443, 54, 0 };
	static const unsigned l4lens[] = { 0, 1, 3, 4, 8, 9, 16, 40, 100 };
	struct tpkt t;
	size_t n = 0;
	unsigned i;

	for (i = 0; i < 48; i++) {
		raw(&t, srcs[i % 6], IP4(10, 0, 0, 9), (i % 5 == 4) ? 4 * (i % 11) : 0,
		    i % 7 == 3 ? 6 : i % 7 == 5 ? 1 : 17, l4lens[i % 9], ports[(i + 3) % 8],
		    ports[i % 8]);
		t_frame(&f[n++], &t, i % 13 == 0 ? T_MAC_BROADCAST : i % 17 == 0 ?
			T_MAC_MULTICAST : T_MAC_HOST, i % 4 == 1 ? 3 + i : 0);
	}
	for (i = 0; i < 16; i++) {
		t_udp(&t, srcs[i % 6], IP4(10, 0, 0, 9), ports[i % 8], ports[(i * 3) % 8], i * 9);
		t_frame(&f[n++], &t, T_MAC_HOST, i % 3 ? 0 : 20);
	}
	t_icmp(&t, IP4(10, 0, 0, 1), IP4(10, 0, 0, 9), 8, 0, 7, 1);
	t_frame(&f[n++], &t, T_MAC_HOST, 0);
	/* the largest keys: the last interval of a set reaches them */
	t_udp(&t, IP4(255, 255, 255, 255), IP4(10, 0, 0, 9), 65535, 65535, 2);
	t_frame(&f[n++], &t, T_MAC_HOST, 0);
	/* the longest header, and one with nothing after it */
	raw(&t, IP4(10, 0, 0, 2), IP4(10, 0, 0, 9), 40, 17, 12, 53, 53);
	t_frame(&f[n++], &t, T_MAC_HOST, 5);
	raw(&t, IP4(10, 0, 0, 2), IP4(10, 0, 0, 9), 40, 17, 0, 0, 0);
	t_frame(&f[n++], &t, T_MAC_HOST, 30);
	return n;
}

static struct tframe frame_set[MAX_FRAMES];
static size_t n_frames;

/* Every frame through e, twice (state moves on), then the counters. */
static void all_frames(struct tenv *e)
{
	if (!n_frames)
		n_frames = frames(frame_set);
	for (int round = 0; round < 2; round++)
		for (size_t i = 0; i < n_frames; i++)
			t_check(e, &frame_set[i], NULL);
	t_check_counters(e);
}

static void env_of(struct tenv *e, struct fn_imgb *b, const char *what)
{
	size_t len;
	void *img = t_image(b, &len);

	t_env_open(e, img, len);
	e->what = what;
	free(img);
}

/* --- offloadable ops, one case per image --- */

typedef void rules_fn(struct fn_imgb *b, uint32_t chain);

/* ip saddr <op> 10.0.0.2 (and 3, 6, 8 and 16 byte variants) */
static void r_payload_cmp(struct fn_imgb *b, uint32_t c)
{
	static const struct { uint8_t base, off, len; } f[] = {
		{ NET, 12, 4 }, { NET, 8, 1 }, { NET, 12, 3 }, { NET, 12, 6 }, { NET, 12, 8 },
		{ NET, 4, 16 }, { TH, 2, 2 }, { TH, 0, 4 }, { TH, 6, 3 }, { TH, 8, 8 },
		{ TH, 30, 2 }, { LL, 0, 6 }, { LL, 12, 2 }, { LL, 12, 4 }, { LL, 30, 4 },
		{ NET, 20, 4 }, { NET, 58, 2 },
	};
	uint8_t ref[16] = { 10, 0, 0, 2, 10, 0, 0, 9, 1, 1, 1, 1, 0, 0, 0, 0 };
	uint64_t h = 1;

	for (unsigned i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		for (uint8_t op = FN_CMP_EQ; op <= FN_CMP_GTE; op++) {
			uint8_t data[16];

			memcpy(data, ref, sizeof(data));
			if (f[i].base == TH) {
				data[0] = 0;
				data[1] = 53;
			} else if (f[i].base == LL && f[i].off == 12) {
				data[0] = 0x08;
				data[1] = 0x00;
				data[2] = 0x45;
			}
			if (i % 3 == 1)
				data[f[i].len - 1] ^= 0x40;
			fn_imgb_rule(b, c, h);
			t_payload_cmp(b, f[i].base, f[i].off, f[i].len, op, data);
			t_counter(b, c, h);
			h++;
		}
	fn_imgb_rule(b, c, h);
	t_counter(b, c, h);
}

/* payload -> register, then cmp, range, bitwise, shift, byteorder */
static void r_registers(struct fn_imgb *b, uint32_t c)
{
	uint8_t lo[8], hi[8], mask[8] = { 0xff, 0xf0, 0x0f, 0x00, 0xff, 0xff, 0, 0x81 };
	uint8_t xor[8] = { 0x01, 0, 0, 0x80, 0, 0x10, 0, 0 };
	uint64_t h = 1;

	for (uint8_t op = FN_CMP_EQ; op <= FN_CMP_GTE; op++) {
		uint8_t port[2] = { 0x13, 0x88 };   /* 5000 */

		fn_imgb_rule(b, c, h);
		t_payload(b, TH, 2, 2, 3);
		t_cmp(b, 3, op, port, 2);
		t_counter(b, c, h++);
	}
	/* range on the source port and on the addresses */
	t_be16(lo, 54);
	t_be16(hi, 1000);
	for (uint8_t op = FN_CMP_EQ; op <= FN_CMP_NEQ; op++) {
		fn_imgb_rule(b, c, h);
		t_payload(b, TH, 0, 2, 0);
		t_range(b, 0, op, lo, hi, 2);
		t_counter(b, c, h++);
	}
	t_be32(lo, IP4(10, 0, 0, 2));
	t_be32(lo + 4, IP4(10, 0, 0, 0));
	t_be32(hi, IP4(10, 0, 1, 0));
	t_be32(hi + 4, IP4(10, 0, 0, 9));
	fn_imgb_rule(b, c, h);
	t_payload(b, NET, 12, 8, 1);
	t_range(b, 1, FN_CMP_EQ, lo, hi, 8);
	t_counter(b, c, h++);
	/* ip saddr & 255.240.15.0 ^ ... == ..., over 8 bytes into 2 words */
	fn_imgb_rule(b, c, h);
	t_payload(b, NET, 12, 8, 4);
	t_bitwise(b, 4, 4, 8, mask, xor);
	t_cmp(b, 4, FN_CMP_GT, lo, 8);
	t_counter(b, c, h++);
	fn_imgb_rule(b, c, h);
	t_payload(b, NET, 12, 3, 2);
	t_bitwise(b, 2, 5, 3, mask, xor);
	t_cmp(b, 5, FN_CMP_LT, hi, 3);
	t_counter(b, c, h++);
	/* shifts, over one and over three words, in place and not */
	for (uint8_t op = FN_SHIFT_LEFT; op <= FN_SHIFT_RIGHT; op++) {
		fn_imgb_rule(b, c, h);
		t_payload(b, NET, 12, 4, 0);
		t_shift(b, 0, 0, 4, op, 3);
		t_cmp(b, 0, FN_CMP_GT, lo, 4);
		t_counter(b, c, h++);
		fn_imgb_rule(b, c, h);
		t_payload(b, NET, 8, 12, 1);
		t_shift(b, 1, 2, 12, op, 9);
		t_cmp(b, 2, FN_CMP_LTE, hi, 8);
		t_counter(b, c, h++);
		fn_imgb_rule(b, c, h);
		t_payload(b, TH, 0, 8, 6);
		t_shift(b, 6, 5, 8, op, 31);
		t_cmp(b, 6, FN_CMP_NEQ, hi, 8);
		t_counter(b, c, h++);
	}
	/* byteorder 2, 4 and 8 bytes: meta length in network order, ports */
	fn_imgb_rule(b, c, h);
	t_meta(b, FN_META_LEN, 0);
	t_byteorder(b, 0, 0, FN_HTON, 4);
	t_be32(lo, 60);
	t_cmp(b, 0, FN_CMP_GT, lo, 4);
	t_counter(b, c, h++);
	fn_imgb_rule(b, c, h);
	t_payload(b, TH, 2, 2, 7);
	t_byteorder(b, 7, 7, FN_NTOH, 2);
	t_cmp(b, 7, FN_CMP_LT, "\x88\x13", 2);
	t_counter(b, c, h++);
	fn_imgb_rule(b, c, h);
	t_payload(b, NET, 12, 8, 8);
	t_byteorder(b, 8, 9, FN_NTOH, 8);
	t_byteorder(b, 8, 8, FN_HTON, 8);
	t_cmp(b, 9, FN_CMP_GTE, hi, 8);
	t_counter(b, c, h++);
	/* immediate data, compared and looked at whole */
	fn_imgb_rule(b, c, h);
	t_imm(b, 10, "\x01\x02\x03", 3);
	t_cmp(b, 10, FN_CMP_EQ, "\x01\x02\x03\x00", 4);
	t_counter(b, c, h++);
}

static void r_meta(struct fn_imgb *b, uint32_t c)
{
	static const uint8_t keys[] = { FN_META_LEN, FN_META_PROTOCOL, FN_META_NFPROTO,
					FN_META_L4PROTO, FN_META_PKTTYPE };
	uint32_t vals[][3] = {
		{ 48, 28, 1500 }, { 0x0008, 0x0608, 0 }, { 2, 10, 0 }, { 17, 6, 1 },
		{ FN_PKT_HOST, FN_PKT_BROADCAST, FN_PKT_MULTICAST },
	};
	uint64_t h = 1;

	for (unsigned k = 0; k < sizeof(keys); k++)
		for (unsigned v = 0; v < 3; v++) {
			uint8_t op = (uint8_t)((k + v) % 6), len = keys[k] == FN_META_PROTOCOL ? 2 :
				     keys[k] == FN_META_LEN ? 4 : 1;

			fn_imgb_rule(b, c, h);
			t_meta_cmp(b, keys[k], op, &vals[k][v], len);
			t_counter(b, c, h++);
			fn_imgb_rule(b, c, h);
			t_meta(b, keys[k], 2);
			t_cmp(b, 2, op, &vals[k][v], 4);
			t_counter(b, c, h++);
		}
	/* the fused form of meta l4proto udp, then udp dport */
	fn_imgb_rule(b, c, h);
	t_meta_cmp(b, FN_META_L4PROTO, FN_CMP_EQ, "\x11", 1);
	t_payload_cmp(b, TH, 2, 2, FN_CMP_EQ, "\x00\x35");
	t_counter(b, c, h);
	t_verdict(b, FN_V_DROP, 0);
}

/* sets, maps and verdict maps; catch-all; inverted lookups */
static void r_sets(struct fn_imgb *b, uint32_t c)
{
	uint32_t hs, ps, is, pi, map, vmap, ca, sub, sub2;
	uint8_t k[8], d[8];
	uint64_t h = 1;
	struct fn_img_vdata vd;

	sub = fn_imgb_chain(b, "sub", FN_CHAIN_REGULAR, 0, 0);
	sub2 = fn_imgb_chain(b, "sub2", FN_CHAIN_REGULAR, 0, 0);
	hs = fn_imgb_set(b, "addrs", FN_SET_HASH, 0, 4, 0, 0, NULL);
	ps = fn_imgb_set(b, "ports", FN_SET_HASH, 0, 2, 0, 0, NULL);
	is = fn_imgb_set(b, "nets", FN_SET_INTERVAL, 0, 4, 0, 0, NULL);
	pi = fn_imgb_set(b, "pranges", FN_SET_INTERVAL, FN_SET_F_MAP, 2, 6, 0, NULL);
	map = fn_imgb_set(b, "marks", FN_SET_HASH, FN_SET_F_MAP, 8, 4, 0, NULL);
	vmap = fn_imgb_set(b, "vm", FN_SET_HASH, FN_SET_F_MAP | FN_SET_F_VMAP, 2,
			   sizeof(vd), 0, NULL);
	ca = fn_imgb_set(b, "ca", FN_SET_INTERVAL, FN_SET_F_MAP | FN_SET_F_VMAP, 1,
			 sizeof(vd), 0, NULL);
	t_be32(k, IP4(10, 0, 0, 1));
	fn_imgb_elem(b, hs, k, NULL, 0, NULL);
	t_be32(k, IP4(1, 2, 3, 4));
	fn_imgb_elem(b, hs, k, NULL, 0, NULL);
	for (uint16_t p = 50; p < 60; p++) {
		t_be16(k, p);
		fn_imgb_elem(b, ps, k, NULL, 0, NULL);
	}
	/* 10.0.0.0/24, 10.0.1.0 - 10.0.1.199, then from 192.168.0.0 to the
	 * largest address */
	t_be32(k, IP4(10, 0, 0, 0));
	fn_imgb_elem(b, is, k, NULL, 0, NULL);
	t_be32(k, IP4(10, 0, 1, 0));
	fn_imgb_elem(b, is, k, NULL, 0, NULL);
	t_be32(k, IP4(10, 0, 1, 200));
	fn_imgb_elem(b, is, k, NULL, FN_ELEM_F_END, NULL);
	t_be32(k, IP4(192, 168, 0, 0));
	fn_imgb_elem(b, is, k, NULL, 0, NULL);
	/* ports 1-53 -> "abcdef", 54-999 gap, 1000-65535 -> "012345" */
	t_be16(k, 1);
	fn_imgb_elem(b, pi, k, NULL, 0, "abcdef");
	t_be16(k, 54);
	fn_imgb_elem(b, pi, k, NULL, FN_ELEM_F_END, NULL);
	t_be16(k, 1000);
	fn_imgb_elem(b, pi, k, NULL, 0, "012345");
	/* saddr . daddr -> a word */
	t_be32(k, IP4(10, 0, 0, 2));
	t_be32(k + 4, IP4(10, 0, 0, 9));
	t_be32(d, 0xdeadbeef);
	fn_imgb_elem(b, map, k, NULL, 0, d);
	fn_imgb_catchall(b, map, "\x01\x02\x03\x04");
	/* dport -> accept, drop, jump, goto, continue, return, break */
	{
		static const struct { uint16_t port; int32_t code; int chain; } e[] = {
			{ 53, FN_V_ACCEPT, 0 }, { 80, FN_V_DROP, 0 }, { 1000, FN_V_JUMP, 1 },
			{ 5000, FN_V_GOTO, 2 }, { 443, FN_V_CONTINUE, 0 }, { 54, FN_V_RETURN, 0 },
			{ 0, FN_V_BREAK, 0 },
		};

		for (unsigned i = 0; i < sizeof(e) / sizeof(e[0]); i++) {
			t_be16(k, e[i].port);
			vd.code = e[i].code;
			vd.chain = e[i].chain == 1 ? sub : e[i].chain == 2 ? sub2 : 0;
			fn_imgb_elem(b, vmap, k, NULL, 0, &vd);
		}
	}
	/* protocol intervals -> verdicts, a catch-all drop for the gaps */
	k[0] = 1;
	vd = (struct fn_img_vdata){ FN_V_JUMP, sub };
	fn_imgb_elem(b, ca, k, NULL, 0, &vd);
	k[0] = 2;
	fn_imgb_elem(b, ca, k, NULL, FN_ELEM_F_END, NULL);
	k[0] = 17;
	vd = (struct fn_img_vdata){ FN_V_CONTINUE, 0 };
	fn_imgb_elem(b, ca, k, NULL, 0, &vd);
	k[0] = 18;
	fn_imgb_elem(b, ca, k, NULL, FN_ELEM_F_END, NULL);
	vd = (struct fn_img_vdata){ FN_V_DROP, 0 };
	fn_imgb_catchall(b, ca, &vd);

	for (int inv = 0; inv < 2; inv++) {
		fn_imgb_rule(b, c, h);
		t_payload(b, NET, 12, 4, 0);
		t_lookup(b, 0, FN_REG_NONE, hs, inv);
		t_counter(b, c, h++);
		fn_imgb_rule(b, c, h);
		t_payload(b, TH, 2, 2, 1);
		t_lookup(b, 1, FN_REG_NONE, ps, inv);
		t_counter(b, c, h++);
		fn_imgb_rule(b, c, h);
		t_payload(b, NET, 12, 4, 2);
		t_lookup(b, 2, FN_REG_NONE, is, inv);
		t_counter(b, c, h++);
	}
	fn_imgb_rule(b, c, h);
	t_payload(b, TH, 0, 2, 3);
	t_lookup(b, 3, 5, pi, 0);
	t_cmp(b, 5, FN_CMP_EQ, "abcdef", 6);
	t_counter(b, c, h++);
	fn_imgb_rule(b, c, h);
	t_payload(b, TH, 0, 2, 3);
	t_lookup(b, 3, 5, pi, 0);
	t_cmp(b, 5, FN_CMP_NEQ, "abcdef", 6);
	t_counter(b, c, h++);
	fn_imgb_rule(b, c, h);
	t_payload(b, NET, 12, 8, 4);
	t_lookup(b, 4, 8, map, 0);
	t_cmp(b, 8, FN_CMP_NEQ, "\x01\x02\x03\x04", 4);
	t_counter(b, c, h++);
	fn_imgb_rule(b, c, h);
	t_payload(b, NET, 9, 1, 0);
	t_lookup(b, 0, FN_REG_VERDICT, ca, 0);
	t_counter(b, c, h++);
	fn_imgb_rule(b, c, h);
	t_payload(b, TH, 2, 2, 0);
	t_lookup(b, 0, FN_REG_VERDICT, vmap, 0);
	t_counter(b, c, h++);
	t_verdict(b, FN_V_DROP, 0);
	/* sub counts and returns; sub2 drops port 5000 from 10.0.0.1 */
	fn_imgb_rule(b, sub, 100);
	t_counter(b, sub, 100);
	fn_imgb_rule(b, sub2, 200);
	t_payload_cmp(b, NET, 12, 4, FN_CMP_EQ, "\x0a\x00\x00\x01");
	t_verdict(b, FN_V_DROP, 0);
	fn_imgb_rule(b, sub2, 201);
	t_counter(b, sub2, 201);
}

/* named counters, and rules with two counters */
static void r_counters(struct fn_imgb *b, uint32_t c)
{
	uint32_t slot = fn_imgb_counter(b, FN_IMG_NONE, 0, 5, 500);

	fn_imgb_object(b, "hits", FN_OBJ_COUNTER, slot);
	fn_imgb_rule(b, c, 1);
	t_payload_cmp(b, TH, 2, 2, FN_CMP_EQ, "\x00\x35");
	t_slot_op(b, FN_OP_COUNTER, slot);
	t_counter(b, c, 1);
	t_counter(b, c, 1);
	fn_imgb_rule(b, c, 2);
	t_slot_op(b, FN_OP_COUNTER, slot);
}

static void offload_case(rules_fn *fn, const char *what)
{
	struct fn_imgb *b = table();
	const struct fn_xdp_split *s;
	uint32_t pre, in;
	struct tenv e;

	pre = fn_imgb_chain(b, "pre", FN_HOOK_PREROUTING, 0, FN_POLICY_ACCEPT);
	in = fn_imgb_chain(b, "in", FN_HOOK_INPUT, 0, FN_POLICY_ACCEPT);
	fn_imgb_rule(b, pre, 1000);
	t_counter(b, pre, 1000);
	fn(b, in);
	env_of(&e, b, what);
	s = xh_split(e.x);
	/* all of it in the kernel */
	assert_int_equal(s->boundary[in], s->prog->chains[in].first_rule +
			 s->prog->chains[in].n_rules);
	for (uint32_t r = 0; r < s->prog->hdr->n_rules; r++)
		if (s->why[r])
			fail_msg("%s: rule %u not offloadable: %s", what, r, s->why[r]);
	all_frames(&e);
	/* judged in the kernel, every frame */
	assert_int_equal(e.n_start + e.n_resumed, 0);
	assert_true(e.n_done > 0);
	t_env_close(&e);
}

static void test_offloadable_ops(void **state)
{
	(void)state;
	offload_case(r_payload_cmp, "payload cmp");
	offload_case(r_registers, "registers");
	offload_case(r_meta, "meta");
	offload_case(r_sets, "sets");
	offload_case(r_counters, "counters");
}

/* --- what stays in-process, at the start, middle and end of a chain --- */

struct nonoff {
	const char *name;
	const char *why;
	void (*op)(struct fn_imgb *b);
	bool conntrack;         /* needs the conntrack flag */
};

static void n_limit(struct fn_imgb *b)
{
	struct fn_img_limit l;

	assert_int_equal(fn_img_limit_init(&l, 10, 1, 5, 0, 0), 0);
	t_slot_op(b, FN_OP_LIMIT, fn_imgb_limit(b, &l));
}

static void n_quota(struct fn_imgb *b)
{
	struct fn_img_quota q = { .bytes = 2000 };

	t_slot_op(b, FN_OP_QUOTA, fn_imgb_quota(b, &q));
}

static void n_log(struct fn_imgb *b)
{
	t_slot_op(b, FN_OP_LOG, fn_imgb_log(b, "x: ", 4));
}

static void n_reject(struct fn_imgb *b)
{
	t_payload_cmp(b, TH, 2, 2, FN_CMP_EQ, "\x00\x50");
	t_reject(b, FN_REJECT_ADMIN_PROHIB);
}

static void n_mark(struct fn_imgb *b)
{
	t_imm(b, 0, "\x07\x00\x00\x00", 4);
	t_meta_set(b, FN_META_MARK, 0);
}

static void n_mark_cmp(struct fn_imgb *b)
{
	t_meta_cmp(b, FN_META_MARK, FN_CMP_EQ, "\x07\x00\x00\x00", 4);
	t_verdict(b, FN_V_DROP, 0);
}

static void n_iif(struct fn_imgb *b)
{
	t_meta(b, FN_META_IIFNAME, 0);
	t_cmp(b, 0, FN_CMP_NEQ, "fn0\0", 4);
	t_verdict(b, FN_V_DROP, 0);
}

static void n_hour(struct fn_imgb *b)
{
	t_meta(b, FN_META_TIME_HOUR, 0);
	t_cmp32(b, 0, FN_CMP_LT, 43200);
	t_verdict(b, FN_V_DROP, 0);
}

static void n_payload_set(struct fn_imgb *b)
{
	t_imm(b, 0, "\x11\x22", 2);
	t_payload_set(b, TH, 6, 2, 0);
}

static void n_ranges(struct fn_imgb *b)
{
	uint8_t fields[2] = { 4, 2 }, lo[8] = { 0 }, hi[8] = { 0 };
	uint32_t set = fn_imgb_set(b, "cr", FN_SET_RANGES, 0, 8, 0, 2, fields);

	t_be32(lo, IP4(10, 0, 0, 0));
	t_be16(lo + 4, 50);
	t_be32(hi, IP4(10, 0, 0, 255));
	t_be16(hi + 4, 1000);
	fn_imgb_elem(b, set, lo, hi, 0, NULL);
	t_payload(b, NET, 12, 4, 0);
	t_payload(b, TH, 2, 2, 1);
	t_lookup(b, 0, FN_REG_NONE, set, 0);
	t_verdict(b, FN_V_DROP, 0);
}

static void n_long_interval(struct fn_imgb *b)
{
	uint32_t set = fn_imgb_set(b, "li", FN_SET_INTERVAL, 0, 8, 0, 0, NULL);
	uint8_t k[8];

	t_be32(k, IP4(10, 0, 0, 1));
	t_be32(k + 4, 0);
	fn_imgb_elem(b, set, k, NULL, 0, NULL);
	t_be32(k, IP4(10, 0, 0, 2));
	fn_imgb_elem(b, set, k, NULL, FN_ELEM_F_END, NULL);
	t_payload(b, NET, 12, 8, 0);
	t_lookup(b, 0, FN_REG_NONE, set, 0);
	t_verdict(b, FN_V_DROP, 0);
}

/* a jump to the chain that holds a limit (chain 2, "limited") */
static void n_jump(struct fn_imgb *b)
{
	t_verdict(b, FN_V_JUMP, 2);
}

static void n_ct(struct fn_imgb *b)
{
	t_ct(b, FN_CT_STATE, 0);
	t_cmp32(b, 0, FN_CMP_NEQ, 8);     /* not new */
	t_verdict(b, FN_V_DROP, 0);
}

static void n_ct_set(struct fn_imgb *b)
{
	struct fn_op_ct_set *o;

	t_imm(b, 0, "\x05\x00\x00\x00", 4);
	o = fn_imgb_op(b, FN_OP_CT_SET, sizeof(*o));
	o->key = FN_CT_MARK;
	o->sreg = 0;
}

/* meter m { ip saddr limit rate 10/second burst 5 packets } */
static void n_meter(struct fn_imgb *b)
{
	uint32_t set = fn_imgb_set(b, "m", FN_SET_HASH, 0, 4, 0, 0, NULL);
	struct fn_img_limit l;

	fn_imgb_set_dynamic(b, set, 64, 0);
	assert_int_equal(fn_img_limit_init(&l, 10, 1, 5, 0, 0), 0);
	t_payload(b, NET, 12, 4, 0);
	t_dynset(b, 0, FN_DYNSET_ADD, set, fn_imgb_limit(b, &l), 0);
}

/* meter m { ip saddr ct count over 2 }: each element's own connections */
static void n_meter_ct_count(struct fn_imgb *b)
{
	uint32_t set = fn_imgb_set(b, "mc", FN_SET_HASH, 0, 4, 0, 0, NULL);

	fn_imgb_set_dynamic(b, set, 64, 0);
	t_payload(b, NET, 12, 4, 0);
	t_dynset_ct_count(b, 0, FN_DYNSET_ADD, set, 2, 1, 0);
}

/* ip saddr @d drop, d filled by a later rule (update @d { ip saddr }) */
static void n_dynamic_lookup(struct fn_imgb *b)
{
	uint32_t set = fn_imgb_set(b, "d", FN_SET_HASH, 0, 4, 0, 0, NULL);

	fn_imgb_set_dynamic(b, set, 64, 1000);
	t_payload(b, NET, 12, 4, 0);
	t_lookup(b, 0, FN_REG_NONE, set, 0);
	t_verdict(b, FN_V_DROP, 0);
}

static const struct nonoff nonoffs[] = {
	{ "meter", "dynset: updates a set in-process", n_meter, false },
	{ "dynamic set", "lookup: dynamic set, filled in-process", n_dynamic_lookup, false },
	{ "limit", "limit: stateful", n_limit, false },
	{ "quota", "quota: stateful", n_quota, false },
	{ "log", "log: written in-process", n_log, false },
	{ "reject", "reject: answered in-process", n_reject, false },
	{ "meta mark set", "meta set: changes the packet in-process", n_mark, false },
	{ "meta mark", "meta mark: set in-process", n_mark_cmp, false },
	{ "meta iifname", "meta iif: the application's port is known in-process", n_iif, false },
	{ "meta hour", "meta time: read in-process", n_hour, false },
	{ "payload set", "payload set: rewrites the packet in-process", n_payload_set, false },
	{ "concatenated ranges", "lookup: concatenated ranges", n_ranges, false },
	{ "long interval", "lookup: interval set key longer than 4 bytes", n_long_interval, false },
	{ "jump", "jump: a chain it reaches is not offloadable", n_jump, false },
	{ "ct", "ct: conntrack runs in-process", n_ct, true },
	{ "ct set", "ct set: conntrack runs in-process", n_ct_set, true },
	{ "meter ct count", "dynset: per-element ct count, conntrack runs in-process",
	  n_meter_ct_count, true },
};

/* Rules 0-4 of the chain under test: udp dport matches with counters; the
 * op under test replaces rule `at`. That chain is input, or with conntrack
 * a prerouting chain before conntrack's hook (the kernel runs no chain
 * after it). A regular chain (2) holds a limit for the jump case. */
static void nonoff_case(const struct nonoff *n, unsigned at)
{
	struct fn_imgb *b = table();
	const struct fn_xdp_split *s;
	uint32_t pre, in, lim, first, c;
	struct fn_img_limit l;
	char what[96];
	struct tenv e;

	if (n->conntrack)
		fn_imgb_set_flags(b, FN_IMG_F_CONNTRACK);
	pre = fn_imgb_chain(b, "pre", FN_HOOK_PREROUTING, n->conntrack ? -300 : 0,
			    FN_POLICY_ACCEPT);
	in = fn_imgb_chain(b, n->conntrack ? "pre2" : "in", n->conntrack ? FN_HOOK_PREROUTING :
			   FN_HOOK_INPUT, 0, FN_POLICY_DROP);
	lim = fn_imgb_chain(b, "limited", FN_CHAIN_REGULAR, 0, 0);
	assert_int_equal(lim, 2);
	c = n->conntrack ? pre : in;
	if (!n->conntrack) {
		fn_imgb_rule(b, pre, 1000);
		t_payload_cmp(b, NET, 12, 4, FN_CMP_EQ, "\x01\x02\x03\x04");
		t_counter(b, pre, 1000);
		t_verdict(b, FN_V_DROP, 0);
	}
	for (unsigned i = 0; i < 5; i++) {
		uint8_t port[2];

		fn_imgb_rule(b, c, i + 1);
		if (i == at) {
			n->op(b);
			t_counter(b, c, i + 1);
			continue;
		}
		t_be16(port, (uint16_t)(i == 4 ? 5000 : i == 2 ? 53 : 80 + i));
		t_payload_cmp(b, TH, 2, 2, FN_CMP_EQ, port);
		t_counter(b, c, i + 1);
		t_verdict(b, i == 2 ? FN_V_DROP : FN_V_ACCEPT, 0);
	}
	if (n->conntrack) {
		fn_imgb_rule(b, in, 1000);
		t_payload_cmp(b, NET, 12, 4, FN_CMP_EQ, "\x01\x02\x03\x04");
		t_counter(b, in, 1000);
		t_verdict(b, FN_V_DROP, 0);
	}
	assert_int_equal(fn_img_limit_init(&l, 5, 1, 2, 0, 0), 0);
	fn_imgb_rule(b, lim, 100);
	t_slot_op(b, FN_OP_LIMIT, fn_imgb_limit(b, &l));
	t_counter(b, lim, 100);
	t_verdict(b, FN_V_ACCEPT, 0);
	snprintf(what, sizeof(what), "%s at rule %u", n->name, at);
	env_of(&e, b, what);
	s = xh_split(e.x);
	first = s->prog->chains[c].first_rule;
	assert_int_equal(s->boundary[c], first + at);
	assert_false(fn_xdp_split_in_kernel(s, c, first + at));
	assert_true(at == 0 || fn_xdp_split_in_kernel(s, c, first + at - 1));
	assert_non_null(s->why[first + at]);
	assert_string_equal(s->why[first + at], n->why);
	if (!n->conntrack)
		assert_int_equal(s->boundary[pre], s->prog->chains[pre].first_rule + 1);
	all_frames(&e);
	assert_int_equal(e.n_start, 0);
	assert_true(e.n_resumed > 0);
	/* by the rule for 1.2.3.4 before, or the port 53 rule in the prefix */
	assert_true(e.n_drop > 0 || (n->conntrack && at <= 2));
	/* the clock moves: limits refill the same way on both sides */
	e.clock.mono += 1000000000ull;
	all_frames(&e);
	t_env_close(&e);
}

static void test_not_offloadable(void **state)
{
	(void)state;
	for (unsigned i = 0; i < sizeof(nonoffs) / sizeof(nonoffs[0]); i++) {
		nonoff_case(&nonoffs[i], 0);
		nonoff_case(&nonoffs[i], 2);
		nonoff_case(&nonoffs[i], 4);
	}
}

/* --- base chains: accept in one prefix, a boundary in the next --- */

static void test_base_chains(void **state)
{
	struct fn_imgb *b = table();
	uint32_t p1, p2, i1, i2, limslot;
	struct fn_img_limit l;
	struct xh_kernel k;
	struct tframe f;
	struct tpkt t;
	struct tenv e;

	(void)state;
	p1 = fn_imgb_chain(b, "p1", FN_HOOK_PREROUTING, -10, FN_POLICY_ACCEPT);
	p2 = fn_imgb_chain(b, "p2", FN_HOOK_PREROUTING, 10, FN_POLICY_ACCEPT);
	i1 = fn_imgb_chain(b, "i1", FN_HOOK_INPUT, -10, FN_POLICY_ACCEPT);
	i2 = fn_imgb_chain(b, "i2", FN_HOOK_INPUT, 10, FN_POLICY_DROP);
	assert_int_equal(fn_img_limit_init(&l, 1000, 1, 1000, 0, 0), 0);
	limslot = fn_imgb_limit(b, &l);
	/* p1: port 53 accept (then p2 runs), port 80 drop */
	fn_imgb_rule(b, p1, 1);
	t_payload_cmp(b, TH, 2, 2, FN_CMP_EQ, "\x00\x35");
	t_counter(b, p1, 1);
	t_verdict(b, FN_V_ACCEPT, 0);
	fn_imgb_rule(b, p1, 2);
	t_payload_cmp(b, TH, 2, 2, FN_CMP_EQ, "\x00\x50");
	t_verdict(b, FN_V_DROP, 0);
	/* p2: port 1000 accept, then a limit: the boundary */
	fn_imgb_rule(b, p2, 3);
	t_payload_cmp(b, TH, 2, 2, FN_CMP_EQ, "\x03\xe8");
	t_counter(b, p2, 3);
	t_verdict(b, FN_V_ACCEPT, 0);
	fn_imgb_rule(b, p2, 4);
	t_slot_op(b, FN_OP_LIMIT, limslot);
	t_counter(b, p2, 4);
	fn_imgb_rule(b, p2, 5);
	t_payload_cmp(b, TH, 2, 2, FN_CMP_EQ, "\x13\x88");
	t_verdict(b, FN_V_DROP, 0);
	/* i1: all kernel; i2: drops port 443, accepts 53 and 1000 */
	fn_imgb_rule(b, i1, 6);
	t_counter(b, i1, 6);
	fn_imgb_rule(b, i2, 7);
	t_payload_cmp(b, TH, 2, 2, FN_CMP_EQ, "\x01\xbb");
	t_verdict(b, FN_V_DROP, 0);
	fn_imgb_rule(b, i2, 8);
	t_payload_cmp(b, TH, 2, 2, FN_CMP_LTE, "\x03\xe8");
	t_counter(b, i2, 8);
	t_verdict(b, FN_V_ACCEPT, 0);
	env_of(&e, b, "base chains");

	/* port 53: accepted by p1 in the kernel, then p2's prefix, boundary
	 * at its limit rule: resumed there */
	t_udp(&t, IP4(10, 0, 0, 1), IP4(10, 0, 0, 9), 7, 53, 4);
	t_frame(&f, &t, T_MAC_HOST, 0);
	assert_int_equal(t_check(&e, &f, &k), FN_ACCEPT);
	assert_int_equal(k.retval, XDP_TX);
	assert_int_equal(k.meta.hook, FN_HOOK_PREROUTING);
	assert_int_equal(k.meta.chain, 1);
	assert_int_equal(k.meta.rule, 3);       /* handle 4 */
	/* port 1000: p2 accepts before its boundary; input all in the kernel */
	t_udp(&t, IP4(10, 0, 0, 1), IP4(10, 0, 0, 9), 7, 1000, 4);
	t_frame(&f, &t, T_MAC_HOST, 0);
	assert_int_equal(t_check(&e, &f, &k), FN_ACCEPT);
	assert_int_equal(k.meta.hook, FN_XDP_RESUME_DONE);
	/* port 80: dropped in the kernel */
	t_udp(&t, IP4(10, 0, 0, 1), IP4(10, 0, 0, 9), 7, 80, 4);
	t_frame(&f, &t, T_MAC_HOST, 0);
	assert_int_equal(t_check(&e, &f, &k), FN_DROP);
	assert_int_equal(k.retval, XDP_DROP);
	all_frames(&e);
	t_env_close(&e);
}

/* A frame the rules program cannot judge (its IPv4 lengths do not hold:
 * fn_steer drops those before the tail call, so only a program run on its
 * own meets one) is dropped, not handed over unjudged. */
static void test_unjudgeable_dropped(void **state)
{
	struct fn_imgb *b = table();
	struct xh_kernel k;
	struct tframe f;
	struct tpkt t;
	struct tenv e;
	uint32_t in;

	(void)state;
	in = fn_imgb_chain(b, "in", FN_HOOK_INPUT, 0, FN_POLICY_ACCEPT);
	fn_imgb_rule(b, in, 1);
	t_payload_cmp(b, TH, 2, 2, FN_CMP_EQ, "\x00\x50");
	t_verdict(b, FN_V_DROP, 0);
	env_of(&e, b, "unjudgeable");
	t_udp(&t, IP4(10, 0, 0, 1), IP4(10, 0, 0, 9), 7, 53, 4);
	t_frame(&f, &t, T_MAC_HOST, 0);
	f.b[14] = 0x4f;                          /* header length 60: past the datagram */
	/* a drop no rule decided: the harness says so with -EPROTO */
	assert_int_equal(xh_kernel(e.x, e.comb, f.b, f.len, &k), -EPROTO);
	assert_int_equal(k.retval, XDP_DROP);
	t_env_close(&e);
}

/* empty base chains: the kernel applies their policies */
static void test_empty_chains(void **state)
{
	(void)state;
	for (int drop = 0; drop < 2; drop++) {
		struct fn_imgb *b = table();
		struct tenv e;

		fn_imgb_chain(b, "pre", FN_HOOK_PREROUTING, 0, FN_POLICY_ACCEPT);
		fn_imgb_chain(b, "in", FN_HOOK_INPUT, 0, drop ? FN_POLICY_DROP : FN_POLICY_ACCEPT);
		env_of(&e, b, "empty chains");
		assert_true(xh_split(e.x)->enters[0] && xh_split(e.x)->enters[1]);
		all_frames(&e);
		assert_int_equal(drop ? e.n_drop : e.n_done, 2 * n_frames);
		t_env_close(&e);
	}
}

/* --- jumps, gotos, returns, nested, from vmaps --- */

static void test_jumps(void **state)
{
	struct fn_imgb *b = table();
	uint32_t in, a, bb, c, d, vm;
	struct fn_img_vdata vd;
	uint8_t k[2];
	struct tenv e;

	(void)state;
	in = fn_imgb_chain(b, "in", FN_HOOK_INPUT, 0, FN_POLICY_ACCEPT);
	a = fn_imgb_chain(b, "a", FN_CHAIN_REGULAR, 0, 0);
	bb = fn_imgb_chain(b, "b", FN_CHAIN_REGULAR, 0, 0);
	c = fn_imgb_chain(b, "c", FN_CHAIN_REGULAR, 0, 0);
	d = fn_imgb_chain(b, "d", FN_CHAIN_REGULAR, 0, 0);
	vm = fn_imgb_set(b, "vm", FN_SET_HASH, FN_SET_F_MAP | FN_SET_F_VMAP, 2, sizeof(vd),
			 0, NULL);
	t_be16(k, 53);
	vd = (struct fn_img_vdata){ FN_V_JUMP, c };
	fn_imgb_elem(b, vm, k, NULL, 0, &vd);
	t_be16(k, 80);
	vd = (struct fn_img_vdata){ FN_V_GOTO, d };
	fn_imgb_elem(b, vm, k, NULL, 0, &vd);
	/* in: jump a; source 1.2.3.4 goto b; vmap on dport; accept */
	fn_imgb_rule(b, in, 1);
	t_counter(b, in, 1);
	t_verdict(b, FN_V_JUMP, a);
	fn_imgb_rule(b, in, 2);
	t_payload_cmp(b, NET, 12, 4, FN_CMP_EQ, "\x01\x02\x03\x04");
	t_verdict(b, FN_V_GOTO, bb);
	fn_imgb_rule(b, in, 3);
	t_payload(b, TH, 2, 2, 0);
	t_lookup(b, 0, FN_REG_VERDICT, vm, 0);
	t_counter(b, in, 3);
	fn_imgb_rule(b, in, 4);
	t_counter(b, in, 4);
	t_verdict(b, FN_V_DROP, 0);
	/* a: 10.0.0.2 returns early; jumps to c; counts */
	fn_imgb_rule(b, a, 10);
	t_payload_cmp(b, NET, 12, 4, FN_CMP_EQ, "\x0a\x00\x00\x02");
	t_verdict(b, FN_V_RETURN, 0);
	fn_imgb_rule(b, a, 11);
	t_verdict(b, FN_V_JUMP, c);
	fn_imgb_rule(b, a, 12);
	t_counter(b, a, 12);
	/* b: goto c, then nothing (c's end returns to in's caller: policy) */
	fn_imgb_rule(b, bb, 20);
	t_counter(b, bb, 20);
	t_verdict(b, FN_V_GOTO, c);
	fn_imgb_rule(b, bb, 21);
	t_verdict(b, FN_V_DROP, 0);
	/* c: port 5000 accept, port 1000 jump d, port 443 return */
	fn_imgb_rule(b, c, 30);
	t_payload_cmp(b, TH, 2, 2, FN_CMP_EQ, "\x13\x88");
	t_verdict(b, FN_V_ACCEPT, 0);
	fn_imgb_rule(b, c, 31);
	t_payload_cmp(b, TH, 2, 2, FN_CMP_EQ, "\x03\xe8");
	t_verdict(b, FN_V_JUMP, d);
	fn_imgb_rule(b, c, 32);
	t_payload_cmp(b, TH, 2, 2, FN_CMP_EQ, "\x01\xbb");
	t_verdict(b, FN_V_RETURN, 0);
	fn_imgb_rule(b, c, 33);
	t_counter(b, c, 33);
	/* d: drop from 192.168.1.7, else count */
	fn_imgb_rule(b, d, 40);
	t_payload_cmp(b, NET, 12, 4, FN_CMP_EQ, "\xc0\xa8\x01\x07");
	t_verdict(b, FN_V_DROP, 0);
	fn_imgb_rule(b, d, 41);
	t_counter(b, d, 41);
	env_of(&e, b, "jumps");
	assert_int_equal(xh_split(e.x)->boundary[in], 4);
	all_frames(&e);
	t_env_close(&e);
}

/* --- conntrack: its hook runs in-process --- */

static void test_conntrack(void **state)
{
	struct fn_imgb *b = table();
	const struct fn_xdp_split *s;
	uint32_t raw_c, pre, in;
	struct xh_kernel k;
	struct tenv e;

	(void)state;
	fn_imgb_set_flags(b, FN_IMG_F_CONNTRACK);
	raw_c = fn_imgb_chain(b, "raw", FN_HOOK_PREROUTING, -300, FN_POLICY_ACCEPT);
	pre = fn_imgb_chain(b, "pre", FN_HOOK_PREROUTING, 0, FN_POLICY_ACCEPT);
	in = fn_imgb_chain(b, "in", FN_HOOK_INPUT, 0, FN_POLICY_ACCEPT);
	fn_imgb_rule(b, raw_c, 1);
	t_payload_cmp(b, TH, 2, 2, FN_CMP_EQ, "\x00\x50");
	t_counter(b, raw_c, 1);
	t_verdict(b, FN_V_DROP, 0);
	fn_imgb_rule(b, raw_c, 2);
	t_counter(b, raw_c, 2);
	fn_imgb_rule(b, pre, 3);
	t_counter(b, pre, 3);
	fn_imgb_rule(b, in, 4);
	t_ct(b, FN_CT_STATE, 0);
	t_cmp32(b, 0, FN_CMP_EQ, 8);     /* new */
	t_counter(b, in, 4);
	env_of(&e, b, "conntrack");
	s = xh_split(e.x);
	assert_int_equal(s->boundary[raw_c], 2);
	assert_int_equal(s->boundary[pre], 2);
	assert_non_null(s->stop_why[pre]);
	assert_int_equal(s->boundary[in], 3);
	all_frames(&e);
	/* what the raw chain lets through resumes at conntrack's chain */
	t_check(&e, &frame_set[n_frames - 3], &k);
	assert_int_equal(k.retval, XDP_TX);
	assert_int_equal(k.meta.hook, FN_HOOK_PREROUTING);
	assert_int_equal(k.meta.chain, 1);
	assert_int_equal(k.meta.rule, 2);
	t_env_close(&e);
}

/* --- the budget: a chain too large to inline --- */

static void test_too_large(void **state)
{
	struct fn_imgb *b = table();
	const struct fn_xdp_split *s;
	uint32_t in, big;
	struct tenv e;
	uint8_t v[16] = { 0x45 };

	(void)state;
	in = fn_imgb_chain(b, "in", FN_HOOK_INPUT, 0, FN_POLICY_ACCEPT);
	big = fn_imgb_chain(b, "big", FN_CHAIN_REGULAR, 0, 0);
	fn_imgb_rule(b, in, 1);
	t_counter(b, in, 1);
	fn_imgb_rule(b, in, 2);
	t_verdict(b, FN_V_JUMP, big);
	fn_imgb_rule(b, in, 3);
	t_counter(b, in, 3);
	for (unsigned i = 0; i < 1000; i++) {
		v[15] = (uint8_t)i;
		fn_imgb_rule(b, big, 100 + i);
		t_payload_cmp(b, NET, 0, 16, FN_CMP_EQ, v);
		t_verdict(b, FN_V_DROP, 0);
	}
	env_of(&e, b, "too large");
	s = xh_split(e.x);
	assert_true(s->insns[big] > FN_XDP_RULE_BUDGET);
	assert_int_equal(s->boundary[in], 1);
	assert_string_equal(s->why[1], "too large");
	all_frames(&e);
	t_env_close(&e);
}

/* --- scale: 1000 rules, 100k-element sets --- */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* 1000 rules (accepting ones jump over the rest: 32-bit jumps), a 100k
 * element hash set and a 100k interval set (an LPM trie of their prefixes) */
static void test_scale(void **state)
{
	struct fn_imgb *b = table();
	const struct fn_xdp_code *code;
	uint32_t in, in2, hs, is, i, all, far = 0;
	uint8_t k[4];
	struct tenv e;
	double t0, t1;

	(void)state;
	in = fn_imgb_chain(b, "in", FN_HOOK_INPUT, 0, FN_POLICY_ACCEPT);
	in2 = fn_imgb_chain(b, "in2", FN_HOOK_INPUT, 10, FN_POLICY_ACCEPT);
	hs = fn_imgb_set(b, "h", FN_SET_HASH, 0, 4, 0, 0, NULL);
	is = fn_imgb_set(b, "i", FN_SET_INTERVAL, 0, 4, 0, 0, NULL);
	all = fn_imgb_counter(b, FN_IMG_NONE, 0, 0, 0);
	fn_imgb_object(b, "all", FN_OBJ_COUNTER, all);
	for (i = 0; i < 100000; i++) {
		t_be32(k, IP4(11, 0, 0, 0) + i * 3);
		fn_imgb_elem(b, hs, k, NULL, 0, NULL);
		/* [12.0.0.0 + 40i, + 25) in the set, the rest a gap */
		t_be32(k, IP4(12, 0, 0, 0) + i * 40);
		fn_imgb_elem(b, is, k, NULL, 0, NULL);
		t_be32(k, IP4(12, 0, 0, 0) + i * 40 + 25);
		fn_imgb_elem(b, is, k, NULL, FN_ELEM_F_END, NULL);
	}
	for (i = 0; i < 1000; i++) {
		t_be32(k, IP4(10, 1, 0, 0) + i);
		fn_imgb_rule(b, in, 1 + i);
		t_payload_cmp(b, NET, 12, 4, FN_CMP_EQ, k);
		t_counter(b, in, 1 + i);
		t_slot_op(b, FN_OP_COUNTER, all);
		t_verdict(b, i % 2 ? FN_V_ACCEPT : FN_V_DROP, 0);
	}
	fn_imgb_rule(b, in, 2000);
	t_payload(b, NET, 12, 4, 0);
	t_lookup(b, 0, FN_REG_NONE, hs, 0);
	t_counter(b, in, 2000);
	t_verdict(b, FN_V_DROP, 0);
	fn_imgb_rule(b, in, 2001);
	t_payload(b, NET, 16, 4, 0);
	t_lookup(b, 0, FN_REG_NONE, is, 0);
	t_counter(b, in, 2001);
	t_verdict(b, FN_V_DROP, 0);
	fn_imgb_rule(b, in2, 3000);
	t_payload_cmp(b, NET, 12, 2, FN_CMP_EQ, "\x0a\x01");
	t_counter(b, in2, 3000);
	t0 = now_s();
	env_of(&e, b, "scale");
	t1 = now_s();
	code = xh_code(e.x);
	for (i = 0; i < code->n_insns; i++)
		far += code->insns[i].code == (BPF_JMP32 | BPF_JA);
	print_message("scale: %u instructions (%u 32-bit jumps), %u counter slots in %u pages, "
		      "loaded with its maps in %.2fs\n", code->n_insns, far, code->n_slots,
		      code->n_pages, t1 - t0);
	assert_true(far > 0);
	assert_true(code->n_pages > 1);
	assert_int_equal(xh_split(e.x)->boundary[in], 1002);
	all_frames(&e);
	for (i = 0; i < 2000; i++) {
		struct tframe f;
		struct tpkt t;

		t_udp(&t, i % 2 ? IP4(10, 1, 0, 0) + i % 1100 : IP4(11, 0, 0, 0) + i * 157,
		      IP4(12, 0, 0, 0) + i * 2003, 1, 2, 0);
		t_frame(&f, &t, T_MAC_HOST, 0);
		t_check(&e, &f, NULL);
	}
	t_check_counters(&e);
	t_env_close(&e);
}

/* --- the production epilogue, and the loader's failures --- */

static int open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	assert_non_null(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

static uint32_t run_once(int fd, const struct tframe *f, uint8_t *out, uint32_t *out_len)
{
	LIBBPF_OPTS(bpf_test_run_opts, t, .data_in = f->b, .data_size_in = (uint32_t)f->len,
		    .data_out = out, .data_size_out = 256, .repeat = 1);

	assert_int_equal(bpf_prog_test_run_opts(fd, &t), 0);
	*out_len = t.data_size_out;
	return t.retval;
}

static void test_redirect_epilogue(void **state)
{
	struct fn_xdp_cg_opts o = { .test_epilogue = false, .generation = 77 };
	struct fn_imgb *b = table();
	struct fn_xdp_split split;
	struct fn_xdp_code *code;
	struct fn_xdp_rules r;
	struct fn_nft_counter ctr;
	struct bpf_prog_info info;
	uint32_t info_len = sizeof(info), in, out_len;
	struct fn_xdp_meta meta;
	struct fn_nft_prog p;
	uint8_t out[256];
	struct tframe f;
	struct tpkt t;
	int xsks, devnull, fds;
	void *img, *aligned;
	size_t len;

	(void)state;
	in = fn_imgb_chain(b, "in", FN_HOOK_INPUT, 0, FN_POLICY_ACCEPT);
	fn_imgb_rule(b, in, 1);
	t_payload_cmp(b, TH, 2, 2, FN_CMP_EQ, "\x00\x50");
	t_counter(b, in, 1);
	t_verdict(b, FN_V_DROP, 0);
	img = t_image(b, &len);
	aligned = aligned_alloc(8, (len + 7) & ~(size_t)7);
	assert_non_null(aligned);
	memcpy(aligned, img, len);
	assert_int_equal(fn_nft_verify(aligned, len, &p, NULL, 0), 0);
	assert_int_equal(fn_xdp_split(&p, &split), 0);
	assert_int_equal(fn_xdp_codegen(&p, &split, &o, &code), 0);
	xsks = bpf_map_create(BPF_MAP_TYPE_XSKMAP, "xsks", 4, 4, 4, NULL);
	assert_true(xsks >= 0);
	devnull = open("/dev/null", O_RDONLY);
	assert_true(devnull >= 0);

	/* refused, with nothing left open: no XSKMAP for the redirect, and
	 * something that is not a map */
	fds = open_fds();
	assert_int_equal(fn_xdp_load(&p, code, -1, "x", &r, NULL, 0), -EINVAL);
	assert_true(fn_xdp_load(&p, code, devnull, "x", &r, NULL, 0) < 0);
	assert_int_equal(open_fds(), fds);

	assert_int_equal(fn_xdp_load(&p, code, xsks, "redirect-1", &r, NULL, 0), 0);
	memset(&info, 0, sizeof(info));
	assert_int_equal(bpf_obj_get_info_by_fd(r.prog_fd, &info, &info_len), 0);
	assert_string_equal(info.name, "fn_rules_redire");   /* 15 characters */
	assert_int_equal(info.type, BPF_PROG_TYPE_XDP);
	/* accepted: the meta, then the redirect, which finds no socket on
	 * queue 0 and drops */
	t_udp(&t, IP4(10, 0, 0, 1), IP4(10, 0, 0, 9), 7, 53, 10);
	t_frame(&f, &t, T_MAC_HOST, 0);
	assert_int_equal(run_once(r.prog_fd, &f, out, &out_len), XDP_DROP);
	assert_int_equal(out_len, f.len + sizeof(meta));
	memcpy(&meta, out, sizeof(meta));
	assert_int_equal(meta.magic, FN_XDP_META_MAGIC);
	assert_int_equal(meta.hook, FN_XDP_RESUME_DONE);
	assert_int_equal(meta.generation, 77);
	assert_memory_equal(out + sizeof(meta), f.b, f.len);
	/* dropped by the rule: no meta, counted */
	t_udp(&t, IP4(10, 0, 0, 1), IP4(10, 0, 0, 9), 7, 80, 10);
	t_frame(&f, &t, T_MAC_HOST, 0);
	assert_int_equal(run_once(r.prog_fd, &f, out, &out_len), XDP_DROP);
	assert_int_equal(out_len, f.len);
	assert_int_equal(fn_xdp_read_counters(&r, 0, 1, &ctr), 0);
	assert_int_equal(ctr.packets, 1);
	assert_int_equal(ctr.bytes, t.pkt.l3_len);
	assert_int_equal(fn_xdp_read_counters(&r, r.n_slots, 1, &ctr), -EINVAL);
	fn_xdp_rules_close(&r);
	assert_int_equal(open_fds(), fds);

	close(devnull);
	close(xsks);
	fn_xdp_code_free(code);
	fn_xdp_split_free(&split);
	free(aligned);
	free(img);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_offloadable_ops),
		cmocka_unit_test(test_not_offloadable),
		cmocka_unit_test(test_base_chains),
		cmocka_unit_test(test_empty_chains),
		cmocka_unit_test(test_unjudgeable_dropped),
		cmocka_unit_test(test_jumps),
		cmocka_unit_test(test_conntrack),
		cmocka_unit_test(test_too_large),
		cmocka_unit_test(test_scale),
		cmocka_unit_test(test_redirect_epilogue),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
