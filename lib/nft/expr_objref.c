/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * objref with a map (nft_objref_map_eval): `counter name ip saddr map { ... }`
 * looks the key up in an object map and runs the named counter, quota or
 * limit it finds, with that object's state (the same slot a plain
 * `counter name c1` uses). A miss falls back to the catch-all element; with
 * none the rule stops (BREAK), as in the kernel.
 */
#include "expr_object.h"
#include "set.h"

static void objref_map_eval(struct fn_nft_ctx *c, const struct fn_op *op)
{
	const struct fn_op_objref_map *o = (const void *)op;
	const struct fn_img_set *s = &c->prog->sets[o->set];
	const uint8_t *e = fn_set_find(c->prog, s, &c->reg[o->sreg]);
	uint32_t slot;

	if (!e) {
		if (s->catchall == FN_IMG_NONE) {
			c->vcode = FN_V_BREAK;
			return;
		}
		e = fn_set_elem(c->prog, s, s->catchall);
	}
	memcpy(&slot, fn_set_elem_data(s, e), sizeof(slot));
	switch (o->type) {
	case FN_OBJ_COUNTER:
		fn_counter_slot_eval(c, slot);
		break;
	case FN_OBJ_QUOTA:
		fn_quota_slot_eval(c, slot);
		break;
	default:
		fn_limit_slot_eval(c, slot);
		break;
	}
}

static int objref_map_verify(struct fn_verify *v, const struct fn_op *op)
{
	const struct fn_op_objref_map *o = (const void *)op;
	const struct fn_img_set *s;

	if (op->size * 4u != sizeof(*o))
		return fn_verify_fail(v, "objref map op size");
	if (o->set >= v->prog->hdr->n_sets)
		return fn_verify_fail(v, "objref map of set %u", o->set);
	s = &v->prog->sets[o->set];
	/* check_sets() has checked the slots of the map's elements against
	 * its obj_type */
	if (!(s->flags & FN_SET_F_OBJMAP) || s->obj_type != o->type)
		return fn_verify_fail(v, "objref map of set %u: not a map of objects of type %u",
				      o->set, o->type);
	return fn_verify_load(v, o->sreg, s->key_len);
}

const struct fn_nft_op_type fn_op_objref_map = {
	.name = "objref map", .min_size = 2,
	.eval = objref_map_eval, .verify = objref_map_verify,
};
