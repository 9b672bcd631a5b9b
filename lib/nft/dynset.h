/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The table behind a dynamic set (FN_SET_F_DYNAMIC): one per set and queue,
 * filled by the dynset op (expr_dynset.c) and read by lookups.
 *
 * Bounded: all `size` elements and the buckets are allocated with the
 * queue's state, never on the packet path. A full table takes no more: the
 * dynset op then fails (BREAK, as the kernel's nft_dynset_new() does when
 * the set holds `size` elements) and the queue counts it (set_full).
 * Expired elements keep their place until a sweep gives it back, as in the
 * kernel until its garbage collector runs: a full table is swept at most
 * once per FN_DYN_SWEEP_NS, so a table full of live elements costs one
 * sweep a second, not one per packet. The sweep also asks the caller about
 * each live element: one whose ct count holds no connection any more leaves
 * too, as the kernel's gc drops an element whose expression's gc says so
 * (nft_connlimit_gc).
 *
 * Chained hashing on a seeded hash: the seed is random per table, so a
 * sender choosing source addresses cannot pile its elements into one chain.
 */
#ifndef FN_NFT_DYNSET_H
#define FN_NFT_DYNSET_H

#include <stdbool.h>
#include <stdint.h>

#define FN_DYN_NEVER UINT64_MAX
#define FN_DYN_SWEEP_NS 1000000000ull  /* the kernel's default gc interval */
/* Most elements of one dynamic set (per queue), and the longest timeout:
 * the verifier refuses more. */
#define FN_DYN_MAX_SIZE (1u << 20)
/* The size of a dynamic set declared without one (nft's default). */
#define FN_DYN_DEFAULT_SIZE 65535u
#define FN_DYN_MAX_TIMEOUT_MS (1ull << 40)  /* about 34 years */

struct fn_dyn_elem {
	uint32_t next;         /* its bucket's chain, or the free list */
	uint32_t limit;        /* limits[] slot of its own bucket, FN_IMG_NONE */
	uint64_t expires;      /* monotonic ns; FN_DYN_NEVER: no timeout */
	int64_t limit_empty;   /* its bucket's state (limit.h) */
	/* its own ct count (FN_DYNSET_F_CT_COUNT in cl_flags): the list of
	 * its connections in the queue's pool (connlimit.h) */
	uint32_t cl_head;      /* first node, or FN_IMG_NONE */
	uint32_t cl_count;     /* nodes in the list */
	uint32_t cl_limit;
	uint32_t cl_flags;     /* FN_DYNSET_F_* of the op that made it, or 0 */
	uint32_t key[];        /* key_len bytes, rounded up to words */
};

struct fn_dyn_table {
	uint32_t size;         /* elements allocated */
	uint32_t key_len;
	uint32_t stride;       /* bytes per element */
	uint32_t mask;         /* buckets - 1 */
	uint32_t free;         /* first free element, or FN_IMG_NONE */
	uint32_t used;         /* elements taken, expired ones included */
	uint64_t seed;
	uint64_t next_sweep;   /* earliest time a full table is swept again */
	uint32_t *bucket;      /* first element of each chain, or FN_IMG_NONE */
	uint8_t *elems;
};

/* 0, -EINVAL (size or key_len out of range) or -ENOMEM. */
int fn_dyn_init(struct fn_dyn_table *t, uint32_t size, uint32_t key_len);
void fn_dyn_fini(struct fn_dyn_table *t);

static inline bool fn_dyn_expired(const struct fn_dyn_elem *e, uint64_t now)
{
	/* the kernel's nft_set_elem_expired(): due at the expiration itself */
	return e->expires <= now;
}

/* The element holding key, expired or not, or NULL. */
struct fn_dyn_elem *fn_dyn_find(const struct fn_dyn_table *t, const uint32_t *key);

/* What a sweep asks of each element: whether it leaves the table now
 * (expired, or nothing left to keep, such as an empty ct count). One that
 * leaves gives back what it holds before the call returns true. */
typedef bool (*fn_dyn_leaves_fn)(struct fn_dyn_elem *e, bool expired, void *arg);

/* Give the places of the elements that leave (`leaves` says) back. */
void fn_dyn_sweep(struct fn_dyn_table *t, uint64_t now, fn_dyn_leaves_fn leaves, void *arg);

/* A new element for key (not in the table) with only its key set, or NULL
 * when the table is full. A full table is swept first (at most once per
 * FN_DYN_SWEEP_NS), asking `leaves` about each element. */
struct fn_dyn_elem *fn_dyn_insert(struct fn_dyn_table *t, const uint32_t *key,
				  uint64_t now, fn_dyn_leaves_fn leaves, void *arg);

#endif /* FN_NFT_DYNSET_H */
