/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Random rulesets and random frames through the kernel part and the
 * interpreter (xdp_test.h): rules drawn from a grammar of offloadable and
 * non-offloadable expressions (payload, meta, registers, sets, maps, verdict
 * maps, dynamic sets and meters, jumps, limits, quotas, marks, rewrites,
 * rejects, conntrack), frames drawn from a pool whose fields the rules name.
 *
 *   XDP_TEST_SEED=N        the seed (printed; the default is fixed)
 *   XDP_TEST_RULESETS=N    how many rulesets (default 150)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xdp/split.h"
#include "xdp_test.h"

#define NET FN_PAYLOAD_NETWORK
#define TH FN_PAYLOAD_TRANSPORT
#define LL FN_PAYLOAD_LINK

#define N_FRAMES 24
#define MAX_CHAINS 10
#define N_REGULAR 5

static uint64_t rng_state;

static uint32_t rnd(uint32_t n)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return n ? (uint32_t)((rng_state * 0x2545f4914f6cdd1dull) >> 33) % n : 0;
}

static int chance(unsigned percent)
{
	return rnd(100) < percent;
}

/* Packet fields the rules read: base, offset, length. */
struct field {
	uint8_t base, off, len;
};

static const struct field fields[] = {
	{ NET, 12, 4 }, { NET, 16, 4 }, { NET, 9, 1 }, { NET, 8, 1 }, { NET, 2, 2 },
	{ NET, 1, 1 }, { TH, 0, 2 }, { TH, 2, 2 }, { TH, 4, 2 }, { TH, 0, 8 },
	{ LL, 0, 6 }, { LL, 12, 2 }, { NET, 20, 4 }, { TH, 20, 4 }, { TH, 60, 2 },
	{ NET, 12, 3 }, { NET, 12, 8 }, { LL, 10, 8 }, { TH, 1, 3 }, { NET, 0, 20 },
};
#define N_FIELDS (sizeof(fields) / sizeof(fields[0]))
/* the ones a set key or an interval may use (<= 4 bytes for intervals) */
static const unsigned short_fields[] = { 0, 1, 2, 3, 4, 6, 7, 8, 12, 15 };

struct world {
	struct tframe f[N_FRAMES];
	struct fn_imgb *b;
	uint32_t pre[2], in[2], reg[N_REGULAR];
	unsigned n_pre, n_in;
	uint64_t handle;
	bool conntrack;
	/* sets: image index, key field, kind, flags, data length */
	struct {
		uint32_t idx;
		unsigned field;
		uint8_t kind, flags, data_len;
		int min_target;       /* vmaps: the lowest regular chain they jump to */
	} sets[6];
	unsigned n_sets;
};

/* The bytes of field f in a random frame of the pool (zero where the frame
 * has none), or random bytes: values that match now and then. */
static void value(struct world *w, const struct field *f, uint8_t *out)
{
	const struct tframe *fr = &w->f[rnd(N_FRAMES)];
	unsigned start = f->base == LL ? 0 : f->base == NET ? 14 :
			 14 + (fr->b[14] & 0xf) * 4u;

	for (unsigned i = 0; i < f->len; i++)
		out[i] = start + f->off + i < fr->len ? fr->b[start + f->off + i] : 0;
	if (chance(25))
		for (unsigned i = 0; i < f->len; i++)
			out[i] = (uint8_t)rnd(256);
	else if (chance(20))
		out[f->len - 1] = (uint8_t)(out[f->len - 1] + rnd(3) - 1);
}

/* --- frames --- */

static void gen_frames(struct world *w)
{
	static const uint32_t addrs[] = { IP4(10, 0, 0, 1), IP4(10, 0, 0, 2), IP4(10, 0, 1, 5),
					  IP4(192, 168, 1, 7), IP4(1, 2, 3, 4) };
	static const uint16_t ports[] = { 53, 80, 443, 1000, 5000 };
	static const uint8_t protos[] = { 17, 17, 17, 6, 1, 47 };

	for (unsigned i = 0; i < N_FRAMES; i++) {
		unsigned opts = chance(20) ? 4 * rnd(11) : 0, l4len = chance(20) ? rnd(9) :
				rnd(120);
		uint8_t proto = protos[rnd(sizeof(protos))];
		struct tpkt t;
		uint8_t *ip = t.buf;
		unsigned hl = 20 + opts;

		memset(&t, 0, sizeof(t));
		ip[0] = (uint8_t)(0x40 | hl / 4);
		ip[1] = (uint8_t)(chance(30) ? rnd(256) : 0);
		t_be16(ip + 2, (uint16_t)(hl + l4len));
		t_be16(ip + 4, (uint16_t)rnd(65536));
		ip[8] = (uint8_t)(1 + rnd(255));
		ip[9] = proto;
		t_be32(ip + 12, addrs[rnd(5)]);
		t_be32(ip + 16, chance(80) ? IP4(10, 0, 0, 9) : addrs[rnd(5)]);
		for (unsigned k = 20; k < hl; k++)
			ip[k] = chance(70) ? 1 : (uint8_t)rnd(256);
		for (unsigned k = 0; k < l4len; k++)
			ip[hl + k] = (uint8_t)rnd(256);
		if (l4len >= 4 && (proto == 17 || proto == 6)) {
			t_be16(ip + hl, ports[rnd(5)]);
			t_be16(ip + hl + 2, ports[rnd(5)]);
		}
		if (l4len >= 8 && proto == 17)
			t_be16(ip + hl + 4, (uint16_t)l4len);
		t_ip_csum(&t);
		t.pkt.l3 = t.buf;
		t.pkt.l3_len = hl + l4len;
		t_frame(&w->f[i], &t, chance(80) ? T_MAC_HOST : chance(50) ? T_MAC_BROADCAST :
			T_MAC_MULTICAST, chance(25) ? rnd(40) : 0);
	}
}

/* --- sets --- */

static int cmp_keys(const void *a, const void *b)
{
	return memcmp(a, b, 4);
}

static void verdict_data(struct world *w, int min_target, struct fn_img_vdata *vd)
{
	static const int32_t codes[] = { FN_V_ACCEPT, FN_V_DROP, FN_V_CONTINUE, FN_V_BREAK,
					 FN_V_RETURN, FN_V_JUMP, FN_V_GOTO };

	vd->code = codes[rnd(7)];
	vd->chain = 0;
	if (vd->code == FN_V_JUMP || vd->code == FN_V_GOTO)
		vd->chain = w->reg[min_target + (int)rnd((unsigned)(N_REGULAR - min_target))];
}

static void gen_set(struct world *w)
{
	unsigned s = w->n_sets++, fi, n = 1 + rnd(12), i;
	uint8_t keys[16][16], data[16];
	struct fn_img_vdata vd;
	const struct field *f;
	uint8_t flags = 0;

	w->sets[s].kind = chance(50) ? FN_SET_HASH : chance(85) ? FN_SET_INTERVAL :
			  FN_SET_RANGES;
	w->sets[s].min_target = 2;
	if (w->sets[s].kind == FN_SET_RANGES) {
		uint8_t fl[2] = { 4, 2 }, lo[8] = { 0 }, hi[8] = { 0 };

		w->sets[s].field = 0;
		w->sets[s].idx = fn_imgb_set(w->b, "r", FN_SET_RANGES, 0, 8, 0, 2, fl);
		for (i = 0; i < n; i++) {
			value(w, &fields[0], lo);
			memcpy(hi, lo, 4);
			hi[3] = (uint8_t)(lo[3] + rnd(256 - lo[3]));
			t_be16(lo + 4, (uint16_t)rnd(1000));
			t_be16(hi + 4, (uint16_t)(1000 + rnd(5000)));
			fn_imgb_elem(w->b, w->sets[s].idx, lo, hi, 0, NULL);
		}
		w->sets[s].flags = 0;
		return;
	}
	if (w->sets[s].kind == FN_SET_INTERVAL && chance(10))
		fi = 16;                            /* an 8-byte key: not offloadable */
	else if (w->sets[s].kind == FN_SET_INTERVAL)
		fi = short_fields[rnd(sizeof(short_fields) / sizeof(short_fields[0]))];
	else
		fi = chance(20) ? 17 : short_fields[rnd(sizeof(short_fields) / sizeof(short_fields[0]))];
	f = &fields[fi];
	w->sets[s].field = fi;
	if (w->sets[s].kind == FN_SET_HASH && chance(25)) {
		/* dynamic: filled by dynset statements, never offloaded */
		w->sets[s].flags = FN_SET_F_DYNAMIC;
		w->sets[s].data_len = 0;
		w->sets[s].idx = fn_imgb_set(w->b, "d", FN_SET_HASH, 0, f->len, 0, 0, NULL);
		fn_imgb_set_dynamic(w->b, w->sets[s].idx, 1 + rnd(8), chance(50) ? 1 + rnd(3000) : 0);
		return;
	}
	if (chance(40))
		flags = FN_SET_F_MAP | (chance(50) ? FN_SET_F_VMAP : 0);
	w->sets[s].flags = flags;
	w->sets[s].data_len = flags & FN_SET_F_VMAP ? sizeof(vd) :
			      flags ? (uint8_t)(1 + rnd(8)) : 0;
	w->sets[s].idx = fn_imgb_set(w->b, "s", w->sets[s].kind, flags, f->len,
				     w->sets[s].data_len, 0, NULL);
	for (i = 0; i < n; i++) {
		memset(keys[i], 0, sizeof(keys[i]));
		value(w, f, keys[i]);
	}
	if (w->sets[s].kind == FN_SET_INTERVAL)
		qsort(keys, n, sizeof(keys[0]), cmp_keys);   /* f->len <= 4 or 8: first 4 bytes */
	for (i = 0; i < n; i++) {
		uint32_t eflags = 0;
		unsigned k;

		for (k = 0; k < i && memcmp(keys[k], keys[i], f->len); k++)
			;
		if (k < i)
			continue;                  /* a duplicate key */
		if (w->sets[s].kind == FN_SET_INTERVAL && i > 0 && memcmp(keys[i - 1], keys[i], f->len) > 0)
			continue;                  /* not sorted beyond 4 bytes */
		if (w->sets[s].kind == FN_SET_INTERVAL && i > 0 && chance(40))
			eflags = FN_ELEM_F_END;
		for (k = 0; k < 16; k++)
			data[k] = (uint8_t)rnd(256);
		if (flags & FN_SET_F_VMAP) {
			verdict_data(w, w->sets[s].min_target, &vd);
			memcpy(data, &vd, sizeof(vd));
		}
		fn_imgb_elem(w->b, w->sets[s].idx, keys[i], NULL, eflags, flags ? data : NULL);
	}
	if (chance(30)) {
		for (i = 0; i < 16; i++)
			data[i] = (uint8_t)rnd(256);
		if (flags & FN_SET_F_VMAP) {
			verdict_data(w, w->sets[s].min_target, &vd);
			memcpy(data, &vd, sizeof(vd));
		}
		fn_imgb_catchall(w->b, w->sets[s].idx, flags ? data : NULL);
	}
}

/* --- rules --- */

/* A match into the rule; *reg: the next free register. */
static void gen_match(struct world *w, uint32_t chain, unsigned *reg)
{
	const struct field *f = &fields[rnd(N_FIELDS)];
	uint8_t v[64], v2[64], m[64], x[64];
	unsigned r = *reg, words = (f->len + 3) / 4, i;
	uint8_t op = (uint8_t)rnd(6);

	value(w, f, v);
	switch (rnd(13)) {
	case 0:
	case 1:
		t_payload_cmp(w->b, f->base, f->off, f->len, op, v);
		return;
	case 2: {
		static const uint8_t keys[] = { FN_META_LEN, FN_META_PROTOCOL, FN_META_NFPROTO,
						FN_META_L4PROTO, FN_META_PKTTYPE, FN_META_LEN,
						FN_META_L4PROTO, FN_META_PKTTYPE, FN_META_L4PROTO,
						FN_META_MARK, FN_META_IIF, FN_META_CPU };
		uint8_t key = keys[rnd(sizeof(keys))];
		uint32_t val = key == FN_META_LEN ? 40 + rnd(100) : key == FN_META_L4PROTO ?
			       (chance(70) ? 17 : 6) : key == FN_META_PROTOCOL ? 0x0008 : rnd(3);

		if (chance(50) || r >= FN_NREGS) {
			t_meta_cmp(w->b, key, op, &val, (uint8_t)(1 + rnd(key == FN_META_PROTOCOL ? 2 : 4)));
		} else {
			t_meta(w->b, key, (uint8_t)r);
			t_cmp(w->b, (uint8_t)r, op, &val, (uint8_t)(1 + rnd(key == FN_META_PROTOCOL ? 2 : 4)));
			*reg = r + 1;
		}
		return;
	}
	default:
		break;
	}
	if (r + words > FN_NREGS)
		return;
	t_payload(w->b, f->base, f->off, f->len, (uint8_t)r);
	*reg = r + words;
	switch (rnd(8)) {
	case 0:
		value(w, f, v2);
		if (memcmp(v, v2, f->len) > 0)
			t_range(w->b, (uint8_t)r, (uint8_t)rnd(2), v2, v, f->len);
		else
			t_range(w->b, (uint8_t)r, (uint8_t)rnd(2), v, v2, f->len);
		return;
	case 1:
		for (i = 0; i < f->len; i++) {
			m[i] = chance(60) ? 0xff : (uint8_t)rnd(256);
			x[i] = chance(80) ? 0 : (uint8_t)rnd(256);
			v[i] = (uint8_t)((v[i] & m[i]) ^ x[i]);
		}
		t_bitwise(w->b, (uint8_t)r, (uint8_t)r, f->len, m, x);
		t_cmp(w->b, (uint8_t)r, op, v, f->len);
		return;
	case 2: {
		unsigned d = chance(50) ? r : *reg;

		if (d + words > FN_NREGS)
			d = r;
		t_shift(w->b, (uint8_t)r, (uint8_t)d, f->len, (uint8_t)(1 + rnd(2)),
			(uint8_t)(1 + rnd(31)));
		t_cmp(w->b, (uint8_t)d, op, v, f->len);
		return;
	}
	case 3:
		if (f->len == 2 || f->len == 4 || f->len == 8) {
			/* in place: the word's other bytes stay this rule's */
			t_byteorder(w->b, (uint8_t)r, (uint8_t)r, (uint8_t)rnd(2), f->len);
			for (i = 0; i < f->len; i++)
				v2[i] = v[f->len - 1 - i];
			t_cmp(w->b, (uint8_t)r, op, v2, f->len);
			return;
		}
		break;
	case 4:
	case 5:
		for (i = 0; i < w->n_sets; i++) {
			unsigned s = rnd(w->n_sets), dwords;
			const struct field *kf = &fields[w->sets[s].field];

			if (w->sets[s].kind == FN_SET_RANGES || (w->sets[s].flags & FN_SET_F_VMAP))
				continue;
			if (kf != f) {
				if (r + (kf->len + 3) / 4 > FN_NREGS)
					continue;
				t_payload(w->b, kf->base, kf->off, kf->len, (uint8_t)r);
			}
			dwords = (w->sets[s].data_len + 3u) / 4;
			if (w->sets[s].flags & FN_SET_F_MAP) {
				if (r + 4 + dwords > FN_NREGS)
					continue;
				t_lookup(w->b, (uint8_t)r, (uint8_t)(r + 4), w->sets[s].idx, 0);
				for (unsigned k = 0; k < 8; k++)
					v2[k] = (uint8_t)rnd(256);
				t_cmp(w->b, (uint8_t)(r + 4), op, v2, w->sets[s].data_len);
				*reg = r + 4 + dwords;
			} else {
				t_lookup(w->b, (uint8_t)r, FN_REG_NONE, w->sets[s].idx, chance(30));
			}
			return;
		}
		break;
	default:
		break;
	}
	t_cmp(w->b, (uint8_t)r, op, v, f->len);
	(void)chain;
}

/* Something that is not a match: counters, and what stays in-process. */
static void gen_statement(struct world *w, uint32_t chain, unsigned *reg)
{
	switch (chance(70) ? 9 : rnd(9)) {
	case 0: {
		struct fn_img_limit l;

		assert_int_equal(fn_img_limit_init(&l, 1 + rnd(20), 1, rnd(5), (int)rnd(2),
						   (int)rnd(2)), 0);
		t_slot_op(w->b, FN_OP_LIMIT, fn_imgb_limit(w->b, &l));
		break;
	}
	case 1: {
		struct fn_img_quota q = { .bytes = 500 + rnd(3000), .invert = (uint8_t)rnd(2) };

		t_slot_op(w->b, FN_OP_QUOTA, fn_imgb_quota(w->b, &q));
		break;
	}
	case 2:
		t_slot_op(w->b, FN_OP_LOG, fn_imgb_log(w->b, "r: ", 4));
		break;
	case 3:
		if (*reg < FN_NREGS) {
			uint32_t mark = rnd(4);

			t_imm(w->b, (uint8_t)*reg, &mark, 4);
			t_meta_set(w->b, FN_META_MARK, (uint8_t)*reg);
			*reg += 1;
		}
		break;
	case 4:
		if (*reg < FN_NREGS) {
			uint8_t v[2] = { (uint8_t)rnd(256), (uint8_t)rnd(256) };

			t_imm(w->b, (uint8_t)*reg, v, 2);
			t_payload_set(w->b, chance(50) ? TH : NET, (uint8_t)(chance(50) ? 6 : 1), 2,
				      (uint8_t)*reg);
			*reg += 1;
		}
		break;
	case 6:
		for (unsigned i = 0; i < w->n_sets; i++) {
			const struct field *f = &fields[w->sets[i].field];
			uint32_t limit = FN_IMG_NONE;
			struct fn_img_limit l;

			if (!(w->sets[i].flags & FN_SET_F_DYNAMIC) ||
			    *reg + (f->len + 3) / 4 > FN_NREGS)
				continue;
			if (chance(60)) {
				assert_int_equal(fn_img_limit_init(&l, 1 + rnd(20), 1, rnd(5),
								   (int)rnd(2), (int)rnd(2)), 0);
				limit = fn_imgb_limit(w->b, &l);
			}
			t_payload(w->b, f->base, f->off, f->len, (uint8_t)*reg);
			t_dynset(w->b, (uint8_t)*reg, (uint8_t)rnd(2), w->sets[i].idx, limit,
				 chance(30) ? 1 + rnd(2000) : 0);
			*reg += (f->len + 3) / 4;
			break;
		}
		break;
	case 5:
		if (w->conntrack && *reg < FN_NREGS) {
			uint32_t st = 1u << rnd(4);

			t_ct(w->b, FN_CT_STATE, (uint8_t)*reg);
			t_cmp(w->b, (uint8_t)*reg, FN_CMP_NEQ, &st, 4);
			*reg += 1;
		}
		break;
	default:
		t_counter(w->b, chain, w->handle);
		break;
	}
}

/* The rule's verdict. level: -1 in a base chain, else the regular chain's
 * index (jumps go only to higher ones: no loops, at most 5 deep). */
static void gen_verdict(struct world *w, int level, unsigned reg)
{
	unsigned k = rnd(20);

	if (k < 6)
		return;
	if (k < 9) {
		t_verdict(w->b, FN_V_ACCEPT, 0);
	} else if (k < 12) {
		t_verdict(w->b, FN_V_DROP, 0);
	} else if (k < 13) {
		if (chance(50))
			t_reject(w->b, FN_REJECT_PORT_UNREACH);
		else
			t_verdict(w->b, FN_V_DROP, 0);
	} else if (k < 16) {
		if (level + 1 < N_REGULAR) {
			unsigned t = (unsigned)(level + 1) + rnd((unsigned)(N_REGULAR - level - 1));

			t_verdict(w->b, chance(60) ? FN_V_JUMP : FN_V_GOTO, w->reg[t]);
		}
	} else if (k < 17) {
		t_verdict(w->b, FN_V_RETURN, 0);
	} else if (k < 18) {
		t_verdict(w->b, chance(50) ? FN_V_BREAK : FN_V_CONTINUE, 0);
	} else {
		/* a verdict map, if one may be used from here */
		for (unsigned i = 0; i < w->n_sets; i++) {
			const struct field *f = &fields[w->sets[i].field];

			if (!(w->sets[i].flags & FN_SET_F_VMAP) || w->sets[i].min_target <= level ||
			    reg + (f->len + 3u) / 4 > FN_NREGS)
				continue;
			t_payload(w->b, f->base, f->off, f->len, (uint8_t)reg);
			t_lookup(w->b, (uint8_t)reg, FN_REG_VERDICT, w->sets[i].idx, 0);
			return;
		}
		t_verdict(w->b, FN_V_ACCEPT, 0);
	}
}

static void gen_rules(struct world *w, uint32_t chain, int level)
{
	unsigned n = rnd(9);

	for (unsigned i = 0; i < n; i++) {
		unsigned reg = rnd(6), m = rnd(4), j;

		w->handle++;
		fn_imgb_rule(w->b, chain, w->handle);
		for (j = 0; j < m; j++)
			gen_match(w, chain, &reg);
		if (chance(30))
			gen_statement(w, chain, &reg);
		if (chance(30))
			t_counter(w->b, chain, w->handle);
		gen_verdict(w, level, reg);
	}
}

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

static void *gen_image(struct world *w, size_t *len)
{
	int prio[2];
	unsigned i;

	memset(w->pre, 0, sizeof(w->pre));
	w->b = fn_imgb_new();
	w->handle = 0;
	w->n_sets = 0;
	w->conntrack = chance(15);
	fn_imgb_table(w->b, "t", FN_FAMILY_INET, 0);
	if (w->conntrack)
		fn_imgb_set_flags(w->b, FN_IMG_F_CONNTRACK);
	w->n_pre = rnd(3);
	w->n_in = 1 + rnd(2);
	for (i = 0; i < 2; i++)
		prio[i] = (int)rnd(400) - 300;
	qsort(prio, 2, sizeof(int), cmp_int);
	for (i = 0; i < w->n_pre; i++)
		w->pre[i] = fn_imgb_chain(w->b, i ? "pre2" : "pre", FN_HOOK_PREROUTING, prio[i],
					  chance(25) ? FN_POLICY_DROP : FN_POLICY_ACCEPT);
	for (i = 0; i < w->n_in; i++)
		w->in[i] = fn_imgb_chain(w->b, i ? "in2" : "in", FN_HOOK_INPUT, (int)i * 10,
					 chance(20) ? FN_POLICY_DROP : FN_POLICY_ACCEPT);
	for (i = 0; i < N_REGULAR; i++) {
		static const char *const names[] = { "r0", "r1", "r2", "r3", "r4" };

		w->reg[i] = fn_imgb_chain(w->b, names[i], FN_CHAIN_REGULAR, 0, 0);
	}
	for (i = rnd(5); i > 0; i--)
		gen_set(w);
	for (i = 0; i < w->n_pre; i++)
		gen_rules(w, w->pre[i], -1);
	for (i = 0; i < w->n_in; i++)
		gen_rules(w, w->in[i], -1);
	for (i = 0; i < N_REGULAR; i++)
		gen_rules(w, w->reg[i], (int)i);
	return t_image(w->b, len);
}

static void test_random(void **state)
{
	const char *s = getenv("XDP_TEST_SEED"), *n = getenv("XDP_TEST_RULESETS");
	uint64_t seed = s ? strtoull(s, NULL, 0) : 20261204;
	unsigned rulesets = n ? (unsigned)strtoul(n, NULL, 0) : 150, frames = 0;
	unsigned drop = 0, done = 0, resumed = 0, start = 0, kernel_rules = 0, rules = 0;
	static struct world w;
	char what[64];

	(void)state;
	print_message("xdp random: seed %llu (XDP_TEST_SEED), %u rulesets\n",
		      (unsigned long long)seed, rulesets);
	rng_state = seed * 0x9e3779b97f4a7c15ull + 1;
	for (unsigned i = 0; i < rulesets; i++) {
		const struct fn_xdp_split *sp;
		struct tenv e;
		size_t len;
		void *img;

		gen_frames(&w);
		img = gen_image(&w, &len);
		snprintf(what, sizeof(what), "seed %llu ruleset %u", (unsigned long long)seed, i);
		t_env_open(&e, img, len);
		e.what = what;
		free(img);
		sp = xh_split(e.x);
		for (uint32_t c = 0; c < sp->prog->hdr->n_chains; c++) {
			const struct fn_img_chain *ch = &sp->prog->chains[c];

			if (sp->boundary[c] == FN_IMG_NONE)
				continue;
			rules += ch->n_rules;
			kernel_rules += sp->boundary[c] - ch->first_rule;
		}
		for (unsigned round = 0; round < 3; round++) {
			for (unsigned k = 0; k < N_FRAMES; k++) {
				t_check(&e, &w.f[rnd(N_FRAMES)], NULL);
				frames++;
			}
			e.clock.mono += rnd(3) * 100000000ull;
		}
		t_check_counters(&e);
		drop += e.n_drop;
		done += e.n_done;
		resumed += e.n_resumed;
		start += e.n_start;
		t_env_close(&e);
	}
	print_message("xdp random: %u frames: %u dropped in the kernel, %u judged there fully, "
		      "%u resumed in-process, %u unjudged (conntrack, no prerouting chain); "
		      "base chain rules %u of %u in the kernel\n",
		      frames, drop, done, resumed, start, kernel_rules, rules);
	/* the grammar reaches every outcome */
	assert_true(drop > frames / 20 && done > frames / 20 && resumed > frames / 20);
	assert_true(kernel_rules > rules / 5 && kernel_rules < rules);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
