/* SPDX-License-Identifier: BSD-3-Clause */
/* The sample images (samples.h), op by op. */
#include <stdint.h>
#include <string.h>

#include "images.h"
#include "samples.h"
#include "filter/filter.h"

static void ct_load(struct fn_imgb *b, uint8_t key, uint8_t dir, uint8_t dreg)
{
	struct fn_op_ct *o = fn_imgb_op(b, FN_OP_CT, sizeof(*o));

	if (o) {
		o->key = key;
		o->dir = dir;
		o->dreg = dreg;
	}
}

/* Everything: conntrack, all hooks, every op type, every set kind. */
static void full(struct fn_imgb *b)
{
	static const uint8_t p53[2] = { 0, 53 }, net10[4] = { 10, 0, 0, 0 };
	static const uint8_t mask[4] = { 255, 255, 0, 0 }, zero[4] = { 0 };
	uint8_t k[8] = { 0 }, fields[2] = { 4, 2 };
	struct fn_img_vdata acc = { FN_V_ACCEPT, 0 }, jmp = { FN_V_JUMP, 5 };
	struct fn_img_limit lim;
	struct fn_img_quota q = { .bytes = 1000 };
	uint32_t hset, iset, rset, map, vmap, dset, cset, mark = 5;
	uint32_t ctr, quo, lmt, omc, omq, oml;

	fn_imgb_table(b, "fragnet", FN_FAMILY_INET, 1);
	fn_imgb_set_flags(b, FN_IMG_F_CONNTRACK);
	fn_imgb_chain(b, "raw", FN_HOOK_PREROUTING, -300, FN_POLICY_ACCEPT);  /* 0 */
	fn_imgb_chain(b, "pre", FN_HOOK_PREROUTING, 0, FN_POLICY_ACCEPT);     /* 1 */
	fn_imgb_chain(b, "in", FN_HOOK_INPUT, 0, FN_POLICY_ACCEPT);           /* 2 */
	fn_imgb_chain(b, "out", FN_HOOK_OUTPUT, 0, FN_POLICY_ACCEPT);         /* 3 */
	fn_imgb_chain(b, "post", FN_HOOK_POSTROUTING, 0, FN_POLICY_DROP);     /* 4 */
	fn_imgb_chain(b, "sub", FN_CHAIN_REGULAR, 0, 0);                      /* 5 */

	hset = fn_imgb_set(b, "h", FN_SET_HASH, 0, 2, 0, 0, NULL);
	k[1] = 53;
	fn_imgb_elem(b, hset, k, NULL, 0, NULL);
	k[1] = 54;
	fn_imgb_elem(b, hset, k, NULL, 0, NULL);
	iset = fn_imgb_set(b, "i", FN_SET_INTERVAL, 0, 4, 0, 0, NULL);
	memcpy(k, net10, 4);
	fn_imgb_elem(b, iset, k, NULL, 0, NULL);
	k[0] = 11;
	fn_imgb_elem(b, iset, k, NULL, FN_ELEM_F_END, NULL);
	rset = fn_imgb_set(b, "r", FN_SET_RANGES, 0, 8, 0, 2, fields);
	{
		uint8_t lo[8] = { 10, 0, 0, 0, 0, 50, 0, 0 }, hi[8] = { 10, 0, 0, 255, 0, 60, 0, 0 };

		fn_imgb_elem(b, rset, lo, hi, 0, NULL);
	}
	map = fn_imgb_set(b, "m", FN_SET_HASH, FN_SET_F_MAP, 2, 4, 0, NULL);
	k[0] = 0;
	k[1] = 53;
	fn_imgb_elem(b, map, k, NULL, 0, &mark);
	fn_imgb_catchall(b, map, &mark);
	vmap = fn_imgb_set(b, "v", FN_SET_INTERVAL, FN_SET_F_MAP | FN_SET_F_VMAP, 2, 8, 0, NULL);
	k[1] = 1;
	fn_imgb_elem(b, vmap, k, NULL, 0, &acc);
	k[1] = 100;
	fn_imgb_elem(b, vmap, k, NULL, 0, &jmp);
	k[1] = 200;
	fn_imgb_elem(b, vmap, k, NULL, FN_ELEM_F_END, NULL);
	dset = fn_imgb_set(b, "d", FN_SET_HASH, 0, 4, 0, 0, NULL);
	fn_imgb_set_dynamic(b, dset, 16, 1000);
	cset = fn_imgb_set(b, "cc", FN_SET_HASH, 0, 4, 0, 0, NULL);
	fn_imgb_set_dynamic(b, cset, 2, 0);
	/* named objects and object maps of each type: hash with a catch-all,
	 * hash, interval */
	ctr = fn_imgb_counter(b, FN_IMG_NONE, 0, 0, 0);
	fn_imgb_object(b, "c", FN_OBJ_COUNTER, ctr);
	quo = fn_imgb_quota(b, &q);
	fn_imgb_object(b, "q", FN_OBJ_QUOTA, quo);
	lmt = (fn_img_limit_init(&lim, 5, 1, 2, 0, 0), fn_imgb_limit(b, &lim));
	fn_imgb_object(b, "l", FN_OBJ_LIMIT, lmt);
	omc = fn_imgb_set(b, "oc", FN_SET_HASH, 0, 4, 4, 0, NULL);
	fn_imgb_set_objects(b, omc, FN_OBJ_COUNTER);
	memcpy(k, "TFRN", 4);
	fn_imgb_elem(b, omc, k, NULL, 0, &ctr);
	fn_imgb_catchall(b, omc, &ctr);
	omq = fn_imgb_set(b, "oq", FN_SET_HASH, 0, 2, 4, 0, NULL);
	fn_imgb_set_objects(b, omq, FN_OBJ_QUOTA);
	memcpy(k, p53, 2);
	fn_imgb_elem(b, omq, k, NULL, 0, &quo);
	oml = fn_imgb_set(b, "ol", FN_SET_INTERVAL, 0, 4, 4, 0, NULL);
	fn_imgb_set_objects(b, oml, FN_OBJ_LIMIT);
	memcpy(k, net10, 4);
	fn_imgb_elem(b, oml, k, NULL, 0, &lmt);
	k[0] = 11;
	fn_imgb_elem(b, oml, k, NULL, FN_ELEM_F_END, NULL);

	/* raw: ct state before conntrack, link-layer load */
	fn_imgb_rule(b, 0, 1);
	{
		struct fn_op_ct *o = fn_imgb_op(b, FN_OP_CT, sizeof(*o));

		if (o) {
			o->key = FN_CT_STATE;
			o->dreg = 0;
		}
	}
	t_cmp(b, 0, FN_CMP_NEQ, zero, 4);
	t_payload(b, FN_PAYLOAD_LINK, 12, 2, 1);
	t_slot(b, FN_OP_COUNTER, fn_imgb_counter(b, 0, 1, 0, 0));
	/* pre: fused forms, range, bitwise, lookups */
	fn_imgb_rule(b, 1, 2);
	t_payload_cmp(b, FN_PAYLOAD_TRANSPORT, 2, 2, FN_CMP_LTE, p53);
	{
		struct fn_op_meta_cmp *o = fn_imgb_op(b, FN_OP_META_CMP, sizeof(*o) + 4);

		if (o) {
			o->key = FN_META_L4PROTO;
			o->op = FN_CMP_EQ;
			o->len = 1;
			o->data[0] = 17;
		}
	}
	t_payload(b, FN_PAYLOAD_NETWORK, 12, 4, 0);
	{
		struct fn_op_bitwise *o = fn_imgb_op(b, FN_OP_BITWISE, sizeof(*o) + 8);

		if (o) {
			o->sreg = 0;
			o->dreg = 2;
			o->len = 4;
			fn_imgb_words(o->data, mask, 4);
			fn_imgb_words(o->data + 1, zero, 4);
		}
	}
	{
		struct fn_op_range *o = fn_imgb_op(b, FN_OP_RANGE, sizeof(*o) + 8);

		if (o) {
			o->sreg = 2;
			o->op = FN_CMP_NEQ;
			o->len = 4;
			fn_imgb_words(o->data, net10, 4);
			fn_imgb_words(o->data + 1, mask, 4);
		}
	}
	t_lookup(b, 0, FN_REG_NONE, iset, 1);
	t_payload(b, FN_PAYLOAD_TRANSPORT, 2, 2, 1);
	t_lookup(b, 0, FN_REG_NONE, rset, 0);
	t_slot(b, FN_OP_LIMIT, (fn_img_limit_init(&lim, 100, 1, 10, 0, 0), fn_imgb_limit(b, &lim)));
	t_verdict(b, FN_V_ACCEPT, 0);
	/* in: map into mark, ct mark set, meta, byteorder, shift, vmap */
	fn_imgb_rule(b, 2, 3);
	t_payload(b, FN_PAYLOAD_TRANSPORT, 2, 2, 0);
	t_lookup(b, 0, 4, map, 0);
	{
		struct fn_op_meta_set *o = fn_imgb_op(b, FN_OP_META_SET, sizeof(*o));

		if (o) {
			o->key = FN_META_MARK;
			o->sreg = 4;
		}
	}
	{
		struct fn_op_ct_set *o = fn_imgb_op(b, FN_OP_CT_SET, sizeof(*o));

		if (o) {
			o->key = FN_CT_MARK;
			o->sreg = 4;
		}
	}
	t_meta(b, FN_META_TIME_HOUR, 5);
	{
		struct fn_op_byteorder *o = fn_imgb_op(b, FN_OP_BYTEORDER, sizeof(*o));

		if (o) {
			o->sreg = 5;
			o->dreg = 5;
			o->op = FN_HTON;
			o->len = 4;
			o->size = 4;
		}
	}
	{
		struct fn_op_shift *o = fn_imgb_op(b, FN_OP_SHIFT, sizeof(*o));

		if (o) {
			o->sreg = 5;
			o->dreg = 6;
			o->len = 4;
			o->op = FN_SHIFT_RIGHT;
			o->shift = 3;
		}
	}
	t_slot(b, FN_OP_QUOTA, fn_imgb_quota(b, &q));
	t_slot(b, FN_OP_LOG, fn_imgb_log(b, "in", 4));
	t_payload(b, FN_PAYLOAD_TRANSPORT, 2, 2, 0);
	t_lookup(b, 0, FN_REG_VERDICT, vmap, 0);
	fn_imgb_rule(b, 2, 4);
	/* a meter: a per-source limit in a dynamic set, and its lookup */
	t_payload(b, FN_PAYLOAD_NETWORK, 12, 4, 7);
	t_dynset(b, 7, FN_DYNSET_UPDATE, dset,
		 (fn_img_limit_init(&lim, 2, 1, 1, 0, 1), fn_imgb_limit(b, &lim)), 0);
	t_lookup(b, 7, FN_REG_NONE, dset, 1);
	t_payload(b, FN_PAYLOAD_TRANSPORT, 2, 2, 0);
	t_lookup(b, 0, FN_REG_NONE, hset, 0);
	{
		struct fn_op_reject *o = fn_imgb_op(b, FN_OP_REJECT, sizeof(*o));

		if (o)
			o->verdict = FN_REJECT_PORT_UNREACH;
	}
	/* in: the inner header (@ih), object maps, a reject with a code */
	fn_imgb_rule(b, 2, 10);
	t_payload(b, FN_PAYLOAD_INNER, 0, 4, 8);
	t_objref_map(b, 8, FN_OBJ_COUNTER, omc);
	t_payload_cmp(b, FN_PAYLOAD_INNER, 4, 2, FN_CMP_NEQ, p53);
	t_payload(b, FN_PAYLOAD_NETWORK, 12, 4, 9);
	t_objref_map(b, 9, FN_OBJ_LIMIT, oml);
	t_payload(b, FN_PAYLOAD_TRANSPORT, 2, 2, 10);
	t_objref_map(b, 10, FN_OBJ_QUOTA, omq);
	{
		struct fn_op_reject *o = fn_imgb_op(b, FN_OP_REJECT, sizeof(*o));

		if (o)
			o->verdict = FN_REJECT_HOST_PROHIB;
	}
	/* in: ct count per source in a set of two (filled, then swept) */
	fn_imgb_rule(b, 2, 11);
	t_payload(b, FN_PAYLOAD_NETWORK, 12, 4, 11);
	t_dynset_ct_count(b, 11, FN_DYNSET_UPDATE, cset, 2, 1, 0);
	t_lookup(b, 11, FN_REG_NONE, cset, 0);
	t_verdict(b, FN_V_DROP, 0);
	/* out: payload set with checksums, immediate */
	fn_imgb_rule(b, 3, 5);
	t_imm(b, 3, p53, 2);
	{
		struct fn_op_payload_set *o = fn_imgb_op(b, FN_OP_PAYLOAD_SET, sizeof(*o));

		if (o) {
			o->base = FN_PAYLOAD_TRANSPORT;
			o->offset = 0;
			o->len = 2;
			o->sreg = 3;
			o->csum_type = FN_CSUM_INET;
			o->csum_offset = 6;
		}
	}
	fn_imgb_rule(b, 3, 6);
	t_verdict(b, FN_V_GOTO, 5);
	/* post: ct direction, the flow's other keys, a label, then accept */
	fn_imgb_rule(b, 4, 7);
	ct_load(b, FN_CT_DIRECTION, FN_CT_DIR_NONE, 0);
	ct_load(b, FN_CT_SRC_IP, FN_CT_DIR_ORIGINAL, 1);
	ct_load(b, FN_CT_PROTO_DST, FN_CT_DIR_REPLY, 2);
	ct_load(b, FN_CT_BYTES, FN_CT_DIR_NONE, 4);
	ct_load(b, FN_CT_AVGPKT, FN_CT_DIR_REPLY, 6);
	ct_load(b, FN_CT_PKTS, FN_CT_DIR_ORIGINAL, 6);
	ct_load(b, FN_CT_EXPIRATION, FN_CT_DIR_NONE, 8);
	ct_load(b, FN_CT_ID, FN_CT_DIR_NONE, 9);
	ct_load(b, FN_CT_LABELS, FN_CT_DIR_NONE, 10);
	{
		struct fn_op_ct_set *o = fn_imgb_op(b, FN_OP_CT_SET, sizeof(*o));

		if (o) {
			o->key = FN_CT_LABELS;
			o->sreg = 10;
		}
	}
	{
		struct fn_op_connlimit *o = fn_imgb_op(b, FN_OP_CONNLIMIT, sizeof(*o));

		if (o) {
			o->limit = 1000;
			o->invert = 0;
		}
	}
	t_verdict(b, FN_V_ACCEPT, 0);
	/* sub: return unless port 53 */
	fn_imgb_rule(b, 5, 8);
	t_payload(b, FN_PAYLOAD_TRANSPORT, 2, 2, 0);
	t_cmp(b, 0, FN_CMP_NEQ, p53, 2);
	t_verdict(b, FN_V_RETURN, 0);
	fn_imgb_rule(b, 5, 9);
	t_verdict(b, FN_V_DROP, 0);
}

/* A plain ip table: one input chain, policy drop. */
static void small(struct fn_imgb *b)
{
	static const uint8_t p53[2] = { 0, 53 };

	fn_imgb_table(b, "app", FN_FAMILY_IPV4, 2);
	fn_imgb_chain(b, "in", FN_HOOK_INPUT, 0, FN_POLICY_DROP);
	fn_imgb_rule(b, 0, 1);
	t_payload(b, FN_PAYLOAD_TRANSPORT, 2, 2, 0);
	t_cmp(b, 0, FN_CMP_EQ, p53, 2);
	t_verdict(b, FN_V_ACCEPT, 0);
}

/* Dynamic sets small enough to fill: `add` of the source into a set of 2
 * without timeout, a meter on source and port with a 100 ms timeout. */
static void dynamic(struct fn_imgb *b)
{
	struct fn_img_limit lim;
	uint32_t two, meter;

	fn_imgb_table(b, "dyn", FN_FAMILY_IPV4, 3);
	fn_imgb_chain(b, "in", FN_HOOK_INPUT, 0, FN_POLICY_ACCEPT);
	two = fn_imgb_set(b, "two", FN_SET_HASH, 0, 4, 0, 0, NULL);
	fn_imgb_set_dynamic(b, two, 2, 0);
	meter = fn_imgb_set(b, "m", FN_SET_HASH, 0, 8, 0, 0, NULL);
	fn_imgb_set_dynamic(b, meter, 4, 100);
	fn_imgb_rule(b, 0, 1);
	t_payload(b, FN_PAYLOAD_NETWORK, 12, 4, 0);
	t_dynset(b, 0, FN_DYNSET_ADD, two, FN_IMG_NONE, 0);
	t_verdict(b, FN_V_ACCEPT, 0);
	fn_imgb_rule(b, 0, 2);
	t_payload(b, FN_PAYLOAD_NETWORK, 12, 4, 0);
	t_payload(b, FN_PAYLOAD_TRANSPORT, 2, 2, 1);
	t_dynset(b, 0, FN_DYNSET_ADD, meter,
		 (fn_img_limit_init(&lim, 1, 1, 2, 0, 0), fn_imgb_limit(b, &lim)), 50);
	t_lookup(b, 0, FN_REG_NONE, two, 0);
	t_verdict(b, FN_V_DROP, 0);
}

/* Runs of simple rules with classify ops: saddr prefixes (a whole-byte
 * load and a masked one), udp dport equal and ranges; a rule that is not
 * simple (a counter before its compare) between two runs. */
static void classified(struct fn_imgb *b)
{
	static const uint8_t mask20[4] = { 0xff, 0xff, 0xf0, 0 }, zero[4] = { 0 };
	uint32_t r;

	fn_imgb_table(b, "cls", FN_FAMILY_INET, 4);
	fn_imgb_classify(b, true);
	fn_imgb_chain(b, "in", FN_HOOK_INPUT, 0, FN_POLICY_ACCEPT);
	for (r = 0; r < 12; r++) {
		uint8_t net[4] = { 10, (uint8_t)r, (uint8_t)(r * 16), 0 };
		uint8_t port[4] = { 0, (uint8_t)(50 + r), 0, (uint8_t)(60 + r) };
		struct fn_op_bitwise *bw;

		fn_imgb_rule(b, 0, r + 1);
		if (r == 6) {
			t_counter(b, 0, r + 1);
			t_payload_cmp(b, FN_PAYLOAD_NETWORK, 12, 1, FN_CMP_EQ, net);
		} else if (r % 3 == 0) {
			t_payload_cmp(b, FN_PAYLOAD_NETWORK, 12, 2, FN_CMP_EQ, net);
		} else if (r % 3 == 1) {
			t_payload(b, FN_PAYLOAD_NETWORK, 12, 4, 0);
			bw = fn_imgb_op(b, FN_OP_BITWISE, sizeof(*bw) + 8);
			if (bw) {
				bw->len = 4;
				fn_imgb_words(&bw->data[0], mask20, 4);
				fn_imgb_words(&bw->data[1], zero, 4);
			}
			t_cmp(b, 0, FN_CMP_EQ, net, 4);
		} else {
			struct fn_op_range *rg;

			t_payload(b, FN_PAYLOAD_TRANSPORT, 2, 2, 1);
			rg = fn_imgb_op(b, FN_OP_RANGE, sizeof(*rg) + 8);
			if (rg) {
				rg->sreg = 1;
				rg->len = 2;
				fn_imgb_words(&rg->data[0], port, 2);
				fn_imgb_words(&rg->data[1], port + 2, 2);
			}
		}
		if (r % 2)
			t_counter(b, 0, r + 1);
		t_verdict(b, r % 4 ? FN_V_DROP : FN_V_ACCEPT, 0);
	}
}

void *fn_sample_image(unsigned which, size_t *len)
{
	struct fn_imgb *b = fn_imgb_new();

	if (!b)
		return NULL;
	if (which == 0)
		full(b);
	else if (which == 1)
		small(b);
	else if (which == 2)
		dynamic(b);
	else
		classified(b);
	return t_finish(b, len);
}
