/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The connection lists behind `ct count`, one pool per queue, as the
 * kernel's nf_conncount lists: each list holds the original tuples of the
 * connections that passed its rule (expr_connlimit.c) or that met one
 * element of a dynamic set (`add @s { ip saddr ct count over 2 }`,
 * expr_dynset.c). A tuple stays while conntrack still has its flow; a walk
 * of the list (every time a packet meets the expression) forgets the ones
 * whose flow is gone, at most FN_CL_EVICT_MAX + 1 per walk, and stops at
 * the packet's own flow.
 *
 * Bounded: one pool of FN_CL_NODES tuples per queue, shared by every list
 * (rules' and elements') and allocated with the queue's state. The walks
 * alone leave a list's dead connections until its own key comes back, and
 * one-packet flows from spoofed sources would empty the pool for good: an
 * empty pool is first collected whole (every list forgets its dead flows,
 * a dynamic set's element whose flows are all gone leaves it, as the
 * kernel's gc does on its own), at most once per FN_CL_COLLECT_NS. Still
 * empty, it drops the packet, as the kernel drops it when it cannot
 * allocate, counted (full; `ct count full` in fragnetctl stats).
 */
#ifndef FN_NFT_CONNLIMIT_H
#define FN_NFT_CONNLIMIT_H

#include <stdbool.h>
#include <stdint.h>

#include "nft.h"

#define FN_CL_NODES 65536u   /* the flows a queue's conntrack holds */
#define FN_CL_EVICT_MAX 8    /* the kernel's CONNCOUNT_GC_MAX_NODES */
#define FN_CL_COLLECT_NS 1000000000ull /* an empty pool is collected at most this often */

struct fn_cl_node {
	struct fn_ct_tuple t;
	uint32_t next;
};

/* One list: where it lives is its owner's business (a rule's slot, a set
 * element). */
struct fn_cl_list {
	uint32_t *head;          /* first node, or FN_IMG_NONE */
	uint32_t *count;         /* its nodes */
};

struct fn_connlimit {
	uint32_t n_lists;        /* the rules' lists */
	uint32_t *head;          /* per rule list: first node, or FN_IMG_NONE */
	uint32_t *count;         /* per rule list: its nodes */
	uint32_t free;           /* free nodes through next */
	struct fn_cl_node *node; /* FN_CL_NODES, NULL when no op counts */
	uint64_t full;           /* packets dropped on an empty pool */
	uint64_t next_collect;   /* ns: earliest time an empty pool is collected again */
};

/* The pool and the rule lists an image's ct count ops need (none: nothing
 * allocated). 0 or -ENOMEM. */
int fn_cl_init(struct fn_connlimit *cl, const struct fn_nft_prog *prog);
void fn_cl_fini(struct fn_connlimit *cl);

/* The ct count of one packet on list l (nft_connlimit_do_eval): the flow
 * joins the list unless it is there; then the rule stops (BREAK) when the
 * count exceeds limit (with over: when it does not). A packet that cannot
 * be counted (no tuple, or an empty pool, counted in full) is dropped. */
void fn_cl_eval(struct fn_nft_ctx *c, struct fn_cl_list l, uint32_t limit, bool over);

/* Forget the connections of list l whose flow is gone, at most max of them
 * (nf_conncount_gc_list: FN_CL_EVICT_MAX + 1); true when none is left. */
bool fn_cl_gc(struct fn_nft_ctx *c, struct fn_cl_list l, uint32_t max);

/* The dynamic sets' part of collecting an empty pool (expr_dynset.c): every
 * element with a ct count forgets its dead flows, and leaves when none is
 * left; keep (an element's list head) is the one being counted in, which
 * stays. */
void fn_dynset_cl_collect(struct fn_nft_ctx *c, uint64_t now, const uint32_t *keep);

/* Give every node of list l back to the pool; the list is then empty. */
void fn_cl_release(struct fn_connlimit *cl, struct fn_cl_list l);

#endif /* FN_NFT_CONNLIMIT_H */
