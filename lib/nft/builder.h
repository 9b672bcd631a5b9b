/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Building an image (image.h) piece by piece: used by the rules compiler and
 * by tests. The builder lays the sections out; it does not judge what goes in
 * them — fn_nft_verify() does, and the compiler runs it on every image it
 * produces.
 *
 * Errors are sticky: after the first failure every call is a no-op and
 * fn_imgb_finish() returns that error, so callers may check once at the end.
 * Indexes returned before a failure stay meaningful.
 *
 * Order: chains are added in image order (base chains grouped by hook in
 * ascending priority, then regular chains); rules are added chain by chain.
 * Chains may be referenced (jump targets) before their rules exist.
 */
#ifndef FN_NFT_BUILDER_H
#define FN_NFT_BUILDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "image.h"

struct fn_imgb;

/* NULL + errno ENOMEM. */
struct fn_imgb *fn_imgb_new(void);
void fn_imgb_free(struct fn_imgb *b);

void fn_imgb_table(struct fn_imgb *b, const char *name, uint32_t family,
		   uint64_t source_gen);
void fn_imgb_set_flags(struct fn_imgb *b, uint32_t flags);

/* Returns the chain index. hook: enum fn_hook or FN_CHAIN_REGULAR. */
uint32_t fn_imgb_chain(struct fn_imgb *b, const char *name, uint8_t hook,
		       int32_t priority, uint8_t policy);

/* Start a rule of `chain` (the current or a later chain). */
void fn_imgb_rule(struct fn_imgb *b, uint32_t chain, uint64_t handle);
/*
 * Append an op of `size` bytes (rounded up to words) to the current rule and
 * return it zeroed with its header filled in; valid until the next call.
 * Returns NULL after an error.
 */
void *fn_imgb_op(struct fn_imgb *b, enum fn_op_type type, size_t size);

/* Convenience for ops with data operands: copies `len` bytes into a zeroed
 * word array (round-up of len to 4). */
void fn_imgb_words(uint32_t *dst, const void *src, size_t len);

/* Sets. key_len/data_len in bytes; field_len only for FN_SET_RANGES. */
uint32_t fn_imgb_set(struct fn_imgb *b, const char *name, uint8_t kind,
		     uint8_t flags, uint8_t key_len, uint8_t data_len,
		     uint8_t n_fields, const uint8_t *field_len);
/* Make `set` dynamic (FN_SET_F_DYNAMIC): at most `size` elements per
 * queue, elements expiring after timeout_ms unless 0. */
void fn_imgb_set_dynamic(struct fn_imgb *b, uint32_t set, uint32_t size,
			 uint64_t timeout_ms);
/* Make `set` (created with data_len 4, not a map) an object map of objects
 * of obj_type (enum fn_obj_type): each element's data is a u32 slot. */
void fn_imgb_set_objects(struct fn_imgb *b, uint32_t set, uint8_t obj_type);
/* key: key_len bytes; key_end: key_len bytes (FN_SET_RANGES) or NULL;
 * data: data_len bytes (for verdict maps a struct fn_img_vdata) or NULL. */
void fn_imgb_elem(struct fn_imgb *b, uint32_t set, const void *key,
		  const void *key_end, uint32_t flags, const void *data);
void fn_imgb_catchall(struct fn_imgb *b, uint32_t set, const void *data);

/* State slots; each returns the slot index. */
uint32_t fn_imgb_counter(struct fn_imgb *b, uint32_t chain, uint64_t rule_handle,
			 uint64_t packets, uint64_t bytes);
uint32_t fn_imgb_limit(struct fn_imgb *b, const struct fn_img_limit *l);
uint32_t fn_imgb_quota(struct fn_imgb *b, const struct fn_img_quota *q);
uint32_t fn_imgb_log(struct fn_imgb *b, const char *prefix, uint32_t level);
void fn_imgb_object(struct fn_imgb *b, const char *name, uint32_t type,
		    uint32_t slot);

/* Put a classify op (image.h) in front of each run of simple rules when
 * the image is laid out; off by default. */
void fn_imgb_classify(struct fn_imgb *b, bool on);

/* Number of chains/sets added so far (for callers mapping names). */
uint32_t fn_imgb_n_chains(const struct fn_imgb *b);

/*
 * Lay out the image: *image is malloc'd, *len its size. Returns 0, or the
 * first error: -ENOMEM, -EINVAL (calls out of order, a set element of the
 * wrong shape), -E2BIG (a section beyond 4 GiB), -EEXIST (duplicate keys).
 */
int fn_imgb_finish(struct fn_imgb *b, void **image, size_t *len);

/* After -EEXIST from fn_imgb_finish(): the set with duplicate keys. */
const char *fn_imgb_failed_set(const struct fn_imgb *b);

/* The limit parameters the kernel derives from rate/unit/burst (nft_limit.c).
 * -EINVAL for a zero rate, -EOVERFLOW where the kernel refuses too. */
int fn_img_limit_init(struct fn_img_limit *l, uint64_t rate, uint64_t unit_secs,
		      uint32_t burst, int bytes, int invert);

#endif /* FN_NFT_BUILDER_H */
