/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The connection lists behind `ct count` (expr_connlimit.c), one set per
 * queue, as the kernel's nf_conncount lists: each list holds the original
 * tuples of the connections that passed its rule. A tuple stays while
 * conntrack still has its flow; a walk of the list (every time a packet
 * meets the rule) forgets the ones whose flow is gone, at most
 * FN_CL_EVICT_MAX + 1 per walk, and stops at the packet's own flow.
 *
 * Bounded: one pool of FN_CL_NODES tuples per queue, shared by the lists
 * and allocated with the queue's state. An empty pool drops the packet, as
 * the kernel drops it when it cannot allocate, and is counted
 * (connlimit_full).
 */
#ifndef FN_NFT_CONNLIMIT_H
#define FN_NFT_CONNLIMIT_H

#include <stdint.h>

#include "nft.h"

#define FN_CL_NODES 65536u   /* the flows a queue's conntrack holds */
#define FN_CL_EVICT_MAX 8    /* the kernel's CONNCOUNT_GC_MAX_NODES */

struct fn_cl_node {
	struct fn_ct_tuple t;
	uint32_t next;
};

struct fn_connlimit {
	uint32_t n_lists;
	uint32_t *head;          /* per list: first node, or FN_IMG_NONE */
	uint32_t *count;         /* per list: its nodes */
	uint32_t free;           /* free nodes through next */
	struct fn_cl_node *node; /* FN_CL_NODES */
	uint64_t full;           /* packets dropped on an empty pool */
};

/* The lists an image's connlimit ops use (none: n_lists 0, nothing
 * allocated). 0 or -ENOMEM. */
int fn_cl_init(struct fn_connlimit *cl, const struct fn_nft_prog *prog);
void fn_cl_fini(struct fn_connlimit *cl);

#endif /* FN_NFT_CONNLIMIT_H */
