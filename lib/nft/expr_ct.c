/* SPDX-License-Identifier: BSD-3-Clause */
/* ct: the packet's flow as conntrack.c tracks it (nft_ct.c). */
#include "conntrack.h"

static void ct_eval(struct fn_nft_ctx *c, const struct fn_op *op)
{
	const struct fn_op_ct *o = (const void *)op;
	const struct fn_ct_view *ct = fn_ct_get(c);
	uint32_t *d = &c->reg[o->dreg];

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
		*d = *ct->mark;
		break;
	case FN_CT_L3PROTO:
		fn_reg_store8(d, 2); /* NFPROTO_IPV4 */
		break;
	default: /* FN_CT_PROTOCOL */
		fn_reg_store8(d, ct->proto);
		break;
	}
}

static unsigned ct_len(unsigned key)
{
	switch (key) {
	case FN_CT_STATE:
	case FN_CT_STATUS:
	case FN_CT_MARK:
		return 4;
	case FN_CT_DIRECTION:
	case FN_CT_L3PROTO:
	case FN_CT_PROTOCOL:
		return 1;
	default:
		return 0;
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
	if (!(v->prog->hdr->flags & FN_IMG_F_CONNTRACK))
		return fn_verify_fail(v, "ct without the conntrack flag");
	return fn_verify_store(v, o->dreg, len);
}

static void ct_set_eval(struct fn_nft_ctx *c, const struct fn_op *op)
{
	const struct fn_op_ct_set *o = (const void *)op;
	const struct fn_ct_view *ct = fn_ct_get(c);

	if (ct->tracked)
		*ct->mark = c->reg[o->sreg];
}

static int ct_set_verify(struct fn_verify *v, const struct fn_op *op)
{
	const struct fn_op_ct_set *o = (const void *)op;

	if (op->size * 4u != sizeof(*o))
		return fn_verify_fail(v, "ct set op size");
	if (o->key != FN_CT_MARK)
		return fn_verify_fail(v, "ct set of key %u", o->key);
	if (!(v->prog->hdr->flags & FN_IMG_F_CONNTRACK))
		return fn_verify_fail(v, "ct without the conntrack flag");
	return fn_verify_load(v, o->sreg, 4);
}

const struct fn_nft_op_type fn_op_ct = {
	.name = "ct", .min_size = 1,
	.eval = ct_eval, .verify = ct_verify,
};

const struct fn_nft_op_type fn_op_ct_set = {
	.name = "ct set", .min_size = 1,
	.eval = ct_set_eval, .verify = ct_set_verify,
};
