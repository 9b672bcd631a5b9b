/* SPDX-License-Identifier: BSD-3-Clause */
/* lookup: set membership, maps and verdict maps (nft_lookup.c). */
#include <string.h>

#include "dynset.h"
#include "expr_lookup.h"
#include "set.h"

/* A live element of dynamic set `set` holds key: the queue's table
 * (dynset.h), which has no catch-all and no data. */
static bool dyn_lookup(struct fn_nft_ctx *c, uint32_t set, const uint32_t *key)
{
	const struct fn_nft_env *env = c->qs->env;
	const struct fn_dyn_elem *e = fn_dyn_find(&c->qs->dyn[set], key);

	return e && !fn_dyn_expired(e, env->mono_ns(env->clock_arg));
}

void fn_lookup_eval(struct fn_nft_ctx *c, const struct fn_op *op)
{
	const struct fn_op_lookup *o = (const void *)op;
	const struct fn_nft_prog *p = c->prog;
	const struct fn_img_set *s = &p->sets[o->set];
	const uint8_t *e;
	bool found;

	if (FN_UNLIKELY(s->flags & FN_SET_F_DYNAMIC)) {
		if (!dyn_lookup(c, o->set, &c->reg[o->sreg]) ^ o->invert)
			c->vcode = FN_V_BREAK;
		return;
	}
	e = fn_set_find(p, s, &c->reg[o->sreg]);
	found = (e != NULL) ^ o->invert;
	/* as the kernel: a miss (or an inverted hit) falls back to the
	 * catch-all element */
	if (!found) {
		if (s->catchall == FN_IMG_NONE) {
			c->vcode = FN_V_BREAK;
			return;
		}
		e = fn_set_elem(p, s, s->catchall);
	} else if (o->invert) {
		return;
	}
	if (o->dreg == FN_REG_VERDICT) {
		struct fn_img_vdata vd;

		memcpy(&vd, fn_set_elem_data(s, e), sizeof(vd));
		c->vcode = vd.code;
		c->vchain = vd.chain;
	} else if (o->dreg != FN_REG_NONE) {
		uint32_t *d = &c->reg[o->dreg];

		if (s->data_len % 4)
			d[s->data_len / 4] = 0;
		memcpy(d, fn_set_elem_data(s, e), s->data_len);
	}
}

static int lookup_verify(struct fn_verify *v, const struct fn_op *op)
{
	const struct fn_op_lookup *o = (const void *)op;
	const struct fn_img_set *s;
	int err;

	if (op->size * 4u != sizeof(*o))
		return fn_verify_fail(v, "lookup op size");
	if (o->set >= v->prog->hdr->n_sets)
		return fn_verify_fail(v, "lookup of set %u", o->set);
	s = &v->prog->sets[o->set];
	if ((err = fn_verify_load(v, o->sreg, s->key_len)))
		return err;
	if (o->invert > 1 || (o->invert && (s->flags & FN_SET_F_MAP)))
		return fn_verify_fail(v, "inverted lookup of a map");
	if (s->flags & FN_SET_F_VMAP) {
		if (o->dreg != FN_REG_VERDICT)
			return fn_verify_fail(v, "verdict map into a data register");
		return fn_verify_vmap_edges(v, o->set);
	}
	if (s->flags & FN_SET_F_MAP) {
		if (o->dreg == FN_REG_NONE || o->dreg == FN_REG_VERDICT)
			return fn_verify_fail(v, "map lookup without a data register");
		return fn_verify_store(v, o->dreg, s->data_len);
	}
	if (o->dreg != FN_REG_NONE)
		return fn_verify_fail(v, "set lookup with a destination");
	return 0;
}

const struct fn_nft_op_type fn_op_lookup = {
	.name = "lookup", .min_size = 3,
	.eval = fn_lookup_eval, .verify = lookup_verify,
};
