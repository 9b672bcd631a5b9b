/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Which queue a flow belongs to. The device spreads flows with a Toeplitz
 * hash over addresses and ports; we compute the same hash in software
 * (rte_softrss with the key we programmed) for the two cases the device
 * cannot handle for us: reassembled datagrams (the device hashed their
 * fragments on addresses only) and source ports for flows we start (chosen
 * so the replies come back to the sending queue).
 */
#ifndef FN_RSS_H
#define FN_RSS_H

#include <stdint.h>

#include <rte_mbuf.h>

#include "fragnet.h"

struct fragnet;
struct fn_queue;
struct fn_rss;

/* Our Toeplitz key: the one most drivers default to (Microsoft's). */
extern const uint8_t fn_rss_default_key[40];

/* Record key and a round-robin RETA of `size` buckets over n_queues. */
void fn_rss_set(struct fn_rss *rss, const uint8_t key[40], uint16_t reta_size,
		unsigned n_queues);

/* The queue the device gives flow src:sport -> dst:dport (network order), or
 * -1 when the device hash is unknown or there is one queue. */
int fn_rss_queue_of(const struct fragnet *fn, uint32_t src, uint32_t dst,
		    uint16_t sport, uint16_t dport);

/* The queue owning a reassembled datagram's flow (UDP), or -1. */
int fn_rss_owner_of_datagram(const struct fragnet *fn, const struct rte_mbuf *chain);

/* Bind an unused source port for a flow from queue q to dst:dport whose
 * replies hash back to q. Port (network order), -EADDRNOTAVAIL, or -ENOSPC
 * (FRAGNET_MAX_PORTS bindings already). */
int fn_rss_bind_ephemeral(struct fn_queue *q, uint32_t dst, uint16_t dport,
			  fragnet_recv_fn cb, void *arg);

#endif /* FN_RSS_H */
