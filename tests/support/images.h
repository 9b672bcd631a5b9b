/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Rules images for tests, fuzzers and benchmarks, op by op on top of
 * lib/nft/builder.h: each shorthand appends one op to the current rule.
 * Like the builder they never fail on their own: after an error they do
 * nothing and t_finish() reports it.
 */
#ifndef TEST_SUPPORT_IMAGES_H
#define TEST_SUPPORT_IMAGES_H

#include <stddef.h>
#include <stdint.h>

#include "nft/builder.h"

void t_payload(struct fn_imgb *b, uint8_t base, uint8_t off, uint8_t len, uint8_t dreg);
/* data: len bytes in packet order. */
void t_cmp(struct fn_imgb *b, uint8_t sreg, uint8_t op, const void *data, uint8_t len);
/* A 4-byte register against a value in host order. */
void t_cmp32(struct fn_imgb *b, uint8_t sreg, uint8_t op, uint32_t host_value);
void t_payload_cmp(struct fn_imgb *b, uint8_t base, uint8_t off, uint8_t len,
		   uint8_t op, const void *data);
void t_meta(struct fn_imgb *b, uint8_t key, uint8_t dreg);
void t_imm(struct fn_imgb *b, uint8_t dreg, const void *data, uint8_t len);
void t_verdict(struct fn_imgb *b, int32_t code, uint32_t chain);
/* An anonymous counter of rule `handle` in `chain`. */
void t_counter(struct fn_imgb *b, uint32_t chain, uint64_t handle);
/* An op naming a state slot: FN_OP_COUNTER, _LIMIT, _QUOTA, _LOG. */
void t_slot(struct fn_imgb *b, enum fn_op_type type, uint32_t slot);
void t_lookup(struct fn_imgb *b, uint8_t sreg, uint8_t dreg, uint32_t set, int invert);
/* objref map: the object of `type` (enum fn_obj_type) that object map `set`
 * gives the key in sreg. */
void t_objref_map(struct fn_imgb *b, uint8_t sreg, uint8_t type, uint32_t set);
/* dynset: op FN_DYNSET_ADD/UPDATE of the key in sreg, a per-element limit
 * slot (FN_IMG_NONE: none), timeout_ms (0: the set's). */
void t_dynset(struct fn_imgb *b, uint8_t sreg, uint8_t op, uint32_t set, uint32_t limit,
	      uint64_t timeout_ms);
/* dynset with a per-element `ct count [over] count` instead of a limit. */
void t_dynset_ct_count(struct fn_imgb *b, uint8_t sreg, uint8_t op, uint32_t set,
		       uint32_t count, int over, uint64_t timeout_ms);

/* A whole rule, `udp dport PORT counter VERDICT`, as rule `handle` of
 * `chain` (FN_V_ACCEPT, FN_V_DROP, ...). */
void t_port_rule(struct fn_imgb *b, uint32_t chain, uint64_t handle, uint16_t port,
		 int32_t verdict);

/* Lay the image out and free the builder: the image (malloc'd, its length
 * in *len), or NULL with errno set to the builder's error. */
void *t_finish(struct fn_imgb *b, size_t *len);

#endif /* TEST_SUPPORT_IMAGES_H */
