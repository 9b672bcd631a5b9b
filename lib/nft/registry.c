/* SPDX-License-Identifier: BSD-3-Clause */
/* The op registry: op type -> its family's eval and verify. */
#include "nft.h"

extern const struct fn_nft_op_type fn_op_payload_cmp, fn_op_meta_cmp, fn_op_cmp,
	fn_op_payload, fn_op_verdict, fn_op_lookup, fn_op_meta, fn_op_meta_set,
	fn_op_range, fn_op_bitwise, fn_op_shift, fn_op_byteorder, fn_op_immediate,
	fn_op_payload_set, fn_op_counter, fn_op_limit, fn_op_quota, fn_op_ct,
	fn_op_ct_set, fn_op_reject, fn_op_log, fn_op_dynset, fn_op_objref_map,
	fn_op_connlimit, fn_op_classify;

const struct fn_nft_op_type *const fn_nft_op_types[FN_OP_MAX] = {
	[FN_OP_PAYLOAD_CMP] = &fn_op_payload_cmp,
	[FN_OP_META_CMP] = &fn_op_meta_cmp,
	[FN_OP_CMP] = &fn_op_cmp,
	[FN_OP_PAYLOAD] = &fn_op_payload,
	[FN_OP_VERDICT] = &fn_op_verdict,
	[FN_OP_LOOKUP] = &fn_op_lookup,
	[FN_OP_META] = &fn_op_meta,
	[FN_OP_META_SET] = &fn_op_meta_set,
	[FN_OP_RANGE] = &fn_op_range,
	[FN_OP_BITWISE] = &fn_op_bitwise,
	[FN_OP_SHIFT] = &fn_op_shift,
	[FN_OP_BYTEORDER] = &fn_op_byteorder,
	[FN_OP_IMMEDIATE] = &fn_op_immediate,
	[FN_OP_PAYLOAD_SET] = &fn_op_payload_set,
	[FN_OP_COUNTER] = &fn_op_counter,
	[FN_OP_LIMIT] = &fn_op_limit,
	[FN_OP_QUOTA] = &fn_op_quota,
	[FN_OP_CT] = &fn_op_ct,
	[FN_OP_CT_SET] = &fn_op_ct_set,
	[FN_OP_REJECT] = &fn_op_reject,
	[FN_OP_LOG] = &fn_op_log,
	[FN_OP_DYNSET] = &fn_op_dynset,
	[FN_OP_OBJREF_MAP] = &fn_op_objref_map,
	[FN_OP_CONNLIMIT] = &fn_op_connlimit,
	[FN_OP_CLASSIFY] = &fn_op_classify,
};
