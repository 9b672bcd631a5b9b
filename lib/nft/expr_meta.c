/* SPDX-License-Identifier: BSD-3-Clause */
/* meta: packet and time attributes (nft_meta.c), the fused meta+cmp (its
 * eval is in expr_meta.h), and meta mark set. */
#include <string.h>

#include "expr_meta.h"

#define SECS_PER_DAY 86400u

/* Our ports are Ethernet (DPDK ethdevs): dev->type ARPHRD_ETHER. */
#define ARPHRD_ETHER 1

static void store_name(uint32_t *dst, const char *name)
{
	/* strncpy(IFNAMSIZ) of the name or "": zero padded */
	memset(dst, 0, 16);
	if (name)
		strncpy((char *)dst, name, 16);
}

bool fn_meta_load_slow(const struct fn_nft_ctx *c, unsigned key, uint32_t *dst)
{
	const struct fn_pkt *pkt = c->pkt;
	const struct fn_nft_env *env = c->qs->env;
	uint64_t ns;
	int64_t secs;

	switch (key) {
	case FN_META_PROTOCOL: {
		/* skb->protocol, big endian ETH_P_IP */
		static const uint8_t ip[2] = { 0x08, 0x00 };
		uint16_t v;

		memcpy(&v, ip, 2);
		fn_reg_store16(dst, v);
		return true;
	}
	case FN_META_IIF:
		*dst = pkt->iif;
		return true;
	case FN_META_OIF:
		*dst = pkt->oif;
		return true;
	case FN_META_IIFNAME:
		store_name(dst, pkt->iif ? pkt->iifname : NULL);
		return true;
	case FN_META_OIFNAME:
		store_name(dst, pkt->oif ? pkt->oifname : NULL);
		return true;
	case FN_META_IIFTYPE:
		/* the kernel breaks where the device is missing: no input
		 * device on output/postrouting, no output device on
		 * prerouting/input (nft_meta_store_iftype) */
		if (!pkt->iif)
			return false;
		fn_reg_store16(dst, ARPHRD_ETHER);
		return true;
	case FN_META_OIFTYPE:
		if (!pkt->oif)
			return false;
		fn_reg_store16(dst, ARPHRD_ETHER);
		return true;
	case FN_META_PKTTYPE:
		fn_reg_store8(dst, pkt->pkttype);
		return true;
	case FN_META_CPU:
		*dst = pkt->cpu;
		return true;
	case FN_META_TIME_NS:
		ns = env->real_ns(env->clock_arg);
		memcpy(dst, &ns, 8);
		return true;
	case FN_META_TIME_DAY:
		/* local day of week (0 = Sunday) with the kernel's sys_tz */
		secs = (int64_t)(env->real_ns(env->clock_arg) / 1000000000u) -
		       60 * (int64_t)env->tz_minuteswest;
		fn_reg_store8(dst, (uint8_t)((4 + (uint64_t)secs / SECS_PER_DAY) % 7));
		return true;
	case FN_META_TIME_HOUR:
		/* seconds since midnight UTC: the kernel ignores sys_tz here */
		*dst = (uint32_t)((env->real_ns(env->clock_arg) / 1000000000u) % SECS_PER_DAY);
		return true;
	default:
		return false;
	}
}

/* Register bytes each key writes (nft_meta_get_init). 0: not supported. */
static unsigned meta_len(unsigned key)
{
	switch (key) {
	case FN_META_PROTOCOL:
	case FN_META_IIFTYPE:
	case FN_META_OIFTYPE:
		return 2;
	case FN_META_LEN:
	case FN_META_MARK:
	case FN_META_IIF:
	case FN_META_OIF:
	case FN_META_NFPROTO:
	case FN_META_L4PROTO:
	case FN_META_PKTTYPE:
	case FN_META_CPU:
	case FN_META_TIME_HOUR:
		return 4;
	case FN_META_IIFNAME:
	case FN_META_OIFNAME:
		return 16;
	case FN_META_TIME_NS:
		return 8;
	case FN_META_TIME_DAY:
		return 1;
	default:
		return 0;
	}
}

static void meta_eval(struct fn_nft_ctx *c, const struct fn_op *op)
{
	const struct fn_op_meta *o = (const void *)op;

	if (!fn_meta_load(c, o->key, &c->reg[o->dreg]))
		c->vcode = FN_V_BREAK;
}

static int meta_verify(struct fn_verify *v, const struct fn_op *op)
{
	const struct fn_op_meta *o = (const void *)op;
	unsigned len = meta_len(o->key);

	if (op->size * 4u != sizeof(*o))
		return fn_verify_fail(v, "meta op size");
	if (!len)
		return fn_verify_fail(v, "meta key %u", o->key);
	return fn_verify_store(v, o->dreg, len);
}

static int meta_cmp_verify(struct fn_verify *v, const struct fn_op *op)
{
	const struct fn_op_meta_cmp *o = (const void *)op;
	unsigned len = meta_len(o->key);

	if (!len)
		return fn_verify_fail(v, "meta key %u", o->key);
	if (o->op > FN_CMP_GTE)
		return fn_verify_fail(v, "cmp op %u", o->op);
	if (o->len > (len < 4 ? 4 : len))
		return fn_verify_fail(v, "meta cmp of %u bytes", o->len);
	return fn_verify_data(v, op, sizeof(*o), o->len, 1);
}

static void meta_set_eval(struct fn_nft_ctx *c, const struct fn_op *op)
{
	const struct fn_op_meta_set *o = (const void *)op;

	c->pkt->mark = c->reg[o->sreg];
}

static int meta_set_verify(struct fn_verify *v, const struct fn_op *op)
{
	const struct fn_op_meta_set *o = (const void *)op;

	if (op->size * 4u != sizeof(*o))
		return fn_verify_fail(v, "meta set op size");
	if (o->key != FN_META_MARK)
		return fn_verify_fail(v, "meta set of key %u", o->key);
	return fn_verify_load(v, o->sreg, 4);
}

const struct fn_nft_op_type fn_op_meta = {
	.name = "meta", .min_size = 1,
	.eval = meta_eval, .verify = meta_verify,
};

const struct fn_nft_op_type fn_op_meta_cmp = {
	.name = "meta+cmp", .min_size = 3,
	.eval = fn_meta_cmp_eval, .verify = meta_cmp_verify,
};

const struct fn_nft_op_type fn_op_meta_set = {
	.name = "meta set", .min_size = 1,
	.eval = meta_set_eval, .verify = meta_set_verify,
};
