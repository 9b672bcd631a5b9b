/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * One decision of the kernel's token bucket (nft_limit.c), on the one-number
 * state described in expr_limit.c: E, the time at which the bucket was (or
 * would have been) empty. Shared by the limit op (one bucket per expression,
 * updated by compare-and-swap) and dynamic set elements (one bucket per
 * element, per queue).
 */
#ifndef FN_NFT_LIMIT_H
#define FN_NFT_LIMIT_H

#include <stdbool.h>
#include <stdint.h>

#include "image.h"

/* What one packet of l3_len bytes costs, in ns of credit; the kernel's u64
 * arithmetic, overflow included. */
static inline uint64_t fn_limit_cost(const struct fn_img_limit *l, uint32_t l3_len)
{
	return l->bytes ? l->nsecs * l3_len / l->rate : l->cost;
}

/* Whether a packet costing `cost` passes at `now` with state `empty`, and
 * the state after it (a failing packet only clamps E to now - tokens_max, as
 * the kernel's failing path does). */
static inline bool fn_limit_step(const struct fn_img_limit *l, uint64_t cost,
				 int64_t now, int64_t empty, int64_t *next)
{
	int64_t floor = now - (int64_t)l->tokens_max;
	int64_t base = empty > floor ? empty : floor;
	/* signed: another lcore may have moved E past our (earlier) clock
	 * reading, which leaves us no tokens, not 2^64 */
	bool pass = cost <= (uint64_t)INT64_MAX && now - base >= (int64_t)cost;

	*next = pass ? base + (int64_t)cost : base;
	return pass;
}

/* The state of a full bucket at `now`: where every limit starts. */
static inline int64_t fn_limit_full(const struct fn_img_limit *l, int64_t now)
{
	return now - (int64_t)l->tokens_max;
}

#endif /* FN_NFT_LIMIT_H */
