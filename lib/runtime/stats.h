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
	uint64_t busy_cycles;           /* TSC cycles of polls that received
					 * packets: see fn_queue_poll() */
	uint64_t drops[FN_DROP_COUNT];
};

#define FN_DROP(st, reason) ((st)->drops[FRAGNET_DROP_##reason]++)

/* TSC cycles as nanoseconds, without overflow for any count a queue
 * reaches (the remainder's product stays below 2^64 for hz < 18 GHz). */
static inline uint64_t fn_cycles_to_ns(uint64_t cycles, uint64_t hz)
{
	return cycles / hz * 1000000000u + cycles % hz * 1000000000u / hz;
}

/* A copy of a queue's counters for a reader on another thread (the public
 * fragnet_queue_stats(), the fragnetd client): each counter whole. */
void fn_stats_read(const struct fn_stats *live, struct fn_stats *copy);

#endif /* FN_STATS_H */
