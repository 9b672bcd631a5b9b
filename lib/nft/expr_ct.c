/* SPDX-License-Identifier: BSD-3-Clause */
/* ct: the packet's flow as conntrack.c tracks it (nft_ct.c). */
#include <arpa/inet.h>
#include <string.h>

#include "conntrack.h"

#define NS_PER_MS 1000000ull

/* A flow's accounting in one direction or both (the kernel's
 * nft_ct_get_eval_counter). */
static uint64_t counter(const struct fn_ct_flow *f, unsigned key, unsigned dir)
{
	const uint64_t *v = key == FN_CT_BYTES ? f->bytes : f->packets;

	return dir == FN_CT_DIR_NONE ? v[0] + v[1] : v[dir - FN_CT_DIR_ORIGINAL];
}

static void store64(uint32_t *d, uint64_t v)
{
	memcpy(d, &v, sizeof(v));
}

/* Milliseconds until the flow expires, rounded up: the kernel counts whole
 * jiffies from the tick of the last refresh, so it reads the full timeout
 * until its clock ticks. A flow conntrack has not confirmed yet reports 0,
 * as the kernel does once it has been up for a few minutes: the timeout
 * is still relative there, and nf_ct_expires() subtracts the clock from it. */
static uint32_t expiration_ms(const struct fn_nft_ctx *c, uint64_t expires)
{
	const struct fn_nft_env *env = c->qs->env;
	uint64_t now;

	if (!expires)
		return 0;
	now = env->mono_ns(env->clock_arg);
	return expires > now ? (uint32_t)((expires - now + NS_PER_MS - 1) / NS_PER_MS) : 0;
}

static void tuple_key(uint32_t *d, const struct fn_ct_view *ct, unsigned key, unsigned dir)
{
	struct fn_ct_tuple t;

	fn_ct_tuple_dir(ct->tuple, dir - FN_CT_DIR_ORIGINAL, &t);
	switch (key) {
	case FN_CT_SRC_IP:
		*d = t.src;
		break;
	case FN_CT_DST_IP:
		*d = t.dst;
		break;
	case FN_CT_PROTO_SRC:
		fn_reg_store16(d, htons(t.sport));
		break;
	default: /* FN_CT_PROTO_DST */
		fn_reg_store16(d, htons(t.dport));
		break;
	}
}

static void ct_eval(struct fn_nft_ctx *c, const struct fn_op *op)
{
	const struct fn_op_ct *o = (const void *)op;
	const struct fn_ct_view *ct = fn_ct_get(c);
	uint32_t *d = &c->reg[o->dreg];
	uint64_t pkts;

	if (o->key == FN_CT_STATE) {
		*d = ct->state; /* invalid when no flow is attached */
		return;
	}
	if (!ct->tracked) {
		c->vcode = FN_V_BREAK;
		return;
	}
	switch (o->key) {
	case FN_CT_DIRECTION:
		fn_reg_store8(d, ct->dir);
		break;
	case FN_CT_STATUS:
		*d = ct->status;
		break;
	case FN_CT_MARK:
		*d = ct->flow->mark;
		break;
	case FN_CT_L3PROTO:
		fn_reg_store8(d, 2); /* NFPROTO_IPV4 */
		break;
	case FN_CT_PROTOCOL:
		fn_reg_store8(d, ct->proto);
		break;
	case FN_CT_PKTS:
	case FN_CT_BYTES:
		store64(d, counter(ct->flow, o->key, o->dir));
		break;
	case FN_CT_AVGPKT:
		pkts = counter(ct->flow, FN_CT_PKTS, o->dir);
		store64(d, pkts ? counter(ct->flow, FN_CT_BYTES, o->dir) / pkts : 0);
		break;
	case FN_CT_EXPIRATION:
		*d = expiration_ms(c, ct->expires);
		break;
	case FN_CT_ID:
		*d = ct->flow->id;
		break;
	case FN_CT_LABELS:
		memcpy(d, ct->flow->labels, sizeof(ct->flow->labels));
		break;
	default: /* the tuple keys */
		tuple_key(d, ct, o->key, o->dir);
		break;
	}
}

static unsigned ct_len(unsigned key)
{
	switch (key) {
	case FN_CT_STATE:
	case FN_CT_STATUS:
	case FN_CT_MARK:
	case FN_CT_SRC_IP:
	case FN_CT_DST_IP:
	case FN_CT_EXPIRATION:
	case FN_CT_ID:
		return 4;
	case FN_CT_DIRECTION:
	case FN_CT_L3PROTO:
	case FN_CT_PROTOCOL:
		return 1;
	case FN_CT_PROTO_SRC:
	case FN_CT_PROTO_DST:
		return 2;
	case FN_CT_PKTS:
	case FN_CT_BYTES:
	case FN_CT_AVGPKT:
		return 8;
	case FN_CT_LABELS:
		return 16;
	default:
		return 0;
	}
}

/* The directions a key takes: the tuple keys one of the two, counters
 * either or none (both), the others none. */
static bool ct_dir_ok(unsigned key, unsigned dir)
{
	switch (key) {
	case FN_CT_SRC_IP:
	case FN_CT_DST_IP:
	case FN_CT_PROTO_SRC:
	case FN_CT_PROTO_DST:
		return dir == FN_CT_DIR_ORIGINAL || dir == FN_CT_DIR_REPLY;
	case FN_CT_PKTS:
	case FN_CT_BYTES:
	case FN_CT_AVGPKT:
		return dir <= FN_CT_DIR_REPLY;
	default:
		return dir == FN_CT_DIR_NONE;
	}
}

static int ct_verify(struct fn_verify *v, const struct fn_op *op)
{
	const struct fn_op_ct *o = (const void *)op;
	unsigned len = ct_len(o->key);

	if (op->size * 4u != sizeof(*o))
		return fn_verify_fail(v, "ct op size");
	if (!len)
		return fn_verify_fail(v, "ct key %u", o->key);
	if (!ct_dir_ok(o->key, o->dir))
		return fn_verify_fail(v, "ct key %u with direction %u", o->key, o->dir);
	if (!(v->prog->hdr->flags & FN_IMG_F_CONNTRACK))
		return fn_verify_fail(v, "ct without the conntrack flag");
	return fn_verify_store(v, o->dreg, len);
}

static void ct_set_eval(struct fn_nft_ctx *c, const struct fn_op *op)
{
	const struct fn_op_ct_set *o = (const void *)op;
	const struct fn_ct_view *ct = fn_ct_get(c);
	const uint32_t *s = &c->reg[o->sreg];
	unsigned i;

	if (!ct->tracked)
		return;
	if (o->key == FN_CT_MARK) {
		ct->flow->mark = *s;
		return;
	}
	/* labels are only ever added (nf_connlabels_replace with the value
	 * as its own mask) */
	for (i = 0; i < 4; i++)
		ct->flow->labels[i] |= s[i];
}

static int ct_set_verify(struct fn_verify *v, const struct fn_op *op)
{
	const struct fn_op_ct_set *o = (const void *)op;

	if (op->size * 4u != sizeof(*o))
		return fn_verify_fail(v, "ct set op size");
	if (o->key != FN_CT_MARK && o->key != FN_CT_LABELS)
		return fn_verify_fail(v, "ct set of key %u", o->key);
	if (!(v->prog->hdr->flags & FN_IMG_F_CONNTRACK))
		return fn_verify_fail(v, "ct without the conntrack flag");
	return fn_verify_load(v, o->sreg, ct_len(o->key));
}

const struct fn_nft_op_type fn_op_ct = {
	.name = "ct", .min_size = 1,
	.eval = ct_eval, .verify = ct_verify,
};

const struct fn_nft_op_type fn_op_ct_set = {
	.name = "ct set", .min_size = 1,
	.eval = ct_set_eval, .verify = ct_set_verify,
};
