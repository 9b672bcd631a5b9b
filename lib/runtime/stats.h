/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Per-queue counters. Written only by the queue's own lcore, without atomics;
 * readers on other threads may see a value one burst old, never a torn one
 * (aligned 64-bit stores, read back with fn_stats_read()).
 */
#ifndef FN_STATS_H
#define FN_STATS_H

#include <stdint.h>

#include "fragnet.h"

/* The drop reasons this library counts. The public enum only grows at its
 * end, so this is its last member + 1 (stats.c checks it against the names). */
#define FN_DROP_COUNT (FRAGNET_DROP_FRAG_QUOTA + 1)

struct fn_stats {
	uint64_t rx_packets, rx_bytes;
	uint64_t tx_packets, tx_bytes;
	uint64_t rx_datagrams, tx_datagrams;
	uint64_t link_down;             /* times the port's link went down */
	uint64_t drops[FN_DROP_COUNT];
};

#define FN_DROP(st, reason) ((st)->drops[FRAGNET_DROP_##reason]++)

/* A copy of a queue's counters for a reader on another thread (the public
 * fragnet_queue_stats(), the fragnetd client): each counter whole. */
void fn_stats_read(const struct fn_stats *live, struct fn_stats *copy);

#endif /* FN_STATS_H */
