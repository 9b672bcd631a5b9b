/* SPDX-License-Identifier: BSD-3-Clause */
/* Op shorthands over the image builder (images.h). */
#include <errno.h>
#include <string.h>

#include "images.h"

/* fn_imgb_op() fills in each op's header (h): the literals keep it. */

void t_payload(struct fn_imgb *b, uint8_t base, uint8_t off, uint8_t len, uint8_t dreg)
{
	struct fn_op_payload *o = fn_imgb_op(b, FN_OP_PAYLOAD, sizeof(*o));

	if (o)
		*o = (struct fn_op_payload){ .h = o->h, .base = base, .offset = off, .len = len,
					     .dreg = dreg };
}

void t_cmp(struct fn_imgb *b, uint8_t sreg, uint8_t op, const void *data, uint8_t len)
{
	struct fn_op_cmp *o = fn_imgb_op(b, FN_OP_CMP, sizeof(*o) + fn_img_round4(len));

	if (o) {
		*o = (struct fn_op_cmp){ .h = o->h, .sreg = sreg, .op = op, .len = len };
		fn_imgb_words(o->data, data, len);
	}
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

	if (o) {
		*o = (struct fn_op_payload_cmp){ .h = o->h, .base = base, .offset = off,
						 .len = len, .op = op };
		fn_imgb_words(o->data, data, len);
	}
}

void t_meta(struct fn_imgb *b, uint8_t key, uint8_t dreg)
{
	struct fn_op_meta *o = fn_imgb_op(b, FN_OP_META, sizeof(*o));

	if (o)
		*o = (struct fn_op_meta){ .h = o->h, .key = key, .dreg = dreg };
}

void t_imm(struct fn_imgb *b, uint8_t dreg, const void *data, uint8_t len)
{
	struct fn_op_immediate *o = fn_imgb_op(b, FN_OP_IMMEDIATE,
					       sizeof(*o) + fn_img_round4(len));

	if (o) {
		*o = (struct fn_op_immediate){ .h = o->h, .dreg = dreg, .len = len };
		fn_imgb_words(o->data, data, len);
	}
}

void t_verdict(struct fn_imgb *b, int32_t code, uint32_t chain)
{
	struct fn_op_verdict *o = fn_imgb_op(b, FN_OP_VERDICT, sizeof(*o));

	if (o)
		*o = (struct fn_op_verdict){ .h = o->h, .v = { .code = code, .chain = chain } };
}

void t_slot(struct fn_imgb *b, enum fn_op_type type, uint32_t slot)
{
	struct fn_op_slot *o = fn_imgb_op(b, type, sizeof(*o));

	if (o)
		*o = (struct fn_op_slot){ .h = o->h, .slot = slot };
}

void t_counter(struct fn_imgb *b, uint32_t chain, uint64_t handle)
{
	t_slot(b, FN_OP_COUNTER, fn_imgb_counter(b, chain, handle, 0, 0));
}

void t_lookup(struct fn_imgb *b, uint8_t sreg, uint8_t dreg, uint32_t set, int invert)
{
	struct fn_op_lookup *o = fn_imgb_op(b, FN_OP_LOOKUP, sizeof(*o));

	if (o)
		*o = (struct fn_op_lookup){ .h = o->h, .sreg = sreg, .dreg = dreg, .set = set,
					    .invert = (uint8_t)invert };
}

void t_objref_map(struct fn_imgb *b, uint8_t sreg, uint8_t type, uint32_t set)
{
	struct fn_op_objref_map *o = fn_imgb_op(b, FN_OP_OBJREF_MAP, sizeof(*o));

	if (o)
		*o = (struct fn_op_objref_map){ .h = o->h, .sreg = sreg, .type = type,
						.set = set };
}

void t_dynset(struct fn_imgb *b, uint8_t sreg, uint8_t op, uint32_t set, uint32_t limit,
	      uint64_t timeout_ms)
{
	struct fn_op_dynset *o = fn_imgb_op(b, FN_OP_DYNSET, sizeof(*o));

	if (!o)
		return;
	*o = (struct fn_op_dynset){ .h = o->h, .sreg = sreg, .op = op, .set = set,
				    .limit = limit };
	memcpy(o->timeout_ms, &timeout_ms, sizeof(timeout_ms));
}

void t_dynset_ct_count(struct fn_imgb *b, uint8_t sreg, uint8_t op, uint32_t set,
		       uint32_t count, int over, uint64_t timeout_ms)
{
	struct fn_op_dynset *o = fn_imgb_op(b, FN_OP_DYNSET, sizeof(*o));

	if (!o)
		return;
	*o = (struct fn_op_dynset){ .h = o->h, .sreg = sreg, .op = op, .set = set,
				    .limit = FN_IMG_NONE, .ct_count = count,
				    .flags = FN_DYNSET_F_CT_COUNT |
					     (over ? FN_DYNSET_F_CT_COUNT_OVER : 0) };
	memcpy(o->timeout_ms, &timeout_ms, sizeof(timeout_ms));
}

void t_port_rule(struct fn_imgb *b, uint32_t chain, uint64_t handle, uint16_t port,
		 int32_t verdict)
{
	const uint8_t be[2] = { (uint8_t)(port >> 8), (uint8_t)port };

	fn_imgb_rule(b, chain, handle);
	t_payload_cmp(b, FN_PAYLOAD_TRANSPORT, 2, 2, FN_CMP_EQ, be);
	t_counter(b, chain, handle);
	t_verdict(b, verdict, 0);
}

void *t_finish(struct fn_imgb *b, size_t *len)
{
	void *img = NULL;
	int rc = fn_imgb_finish(b, &img, len);

	fn_imgb_free(b);
	if (rc < 0) {
		errno = -rc;
		return NULL;
	}
	return img;
}
