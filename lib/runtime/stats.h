/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Per-queue counters. Written only by the queue's own lcore, without atomics;
 * readers on other threads may see a value one burst old, never a torn one
 * (aligned 64-bit stores).
 */
#ifndef FN_STATS_H
#define FN_STATS_H

#include <stdint.h>

#include "fragnet.h"

struct fn_stats {
	uint64_t rx_packets, rx_bytes;
	uint64_t tx_packets, tx_bytes;
	uint64_t rx_datagrams, tx_datagrams;
	uint64_t drops[FRAGNET_DROP_MAX];
};

#define FN_DROP(st, reason) ((st)->drops[FRAGNET_DROP_##reason]++)

#endif /* FN_STATS_H */
