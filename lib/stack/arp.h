/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ARP: answer for our address, learn neighbours, resolve on transmit (packets
 * wait in a small per-queue list while a request is retried), announce our
 * address at start. Built only with -Darp=resolve; the static build knows
 * its neighbours from the configuration and from received datagrams.
 */
#ifndef FN_ARP_H
#define FN_ARP_H

#include <stdint.h>

#include <rte_mbuf.h>

#include "fn_build_config.h"
#include "runtime/runtime.h"

#define FN_ARP_RETRIES 3      /* requests before giving up, one per second */

#if FN_WITH_ARP
void fn_arp_input(struct fn_queue *q, struct rte_mbuf *m);
/* Park m (data at the IPv4 header) until nexthop resolves; takes ownership. */
void fn_arp_park(struct fn_queue *q, struct rte_mbuf *m, uint32_t nexthop);
/* Send parked packets whose neighbour is now known; retry or give up. */
void fn_arp_service(struct fn_queue *q);
/* Gratuitous ARP for our address. */
void fn_arp_announce(struct fn_queue *q);
/* Release everything parked (shutdown). */
void fn_arp_flush(struct fn_queue *q);
#else
static inline void fn_arp_park(struct fn_queue *q, struct rte_mbuf *m, uint32_t nexthop)
{
	(void)nexthop;
	FN_DROP(&q->stats, ARP_UNRESOLVED);
	rte_pktmbuf_free(m);
}
static inline void fn_arp_service(struct fn_queue *q) { (void)q; }
static inline void fn_arp_announce(struct fn_queue *q) { (void)q; }
static inline void fn_arp_flush(struct fn_queue *q) { (void)q; }
#endif

#endif /* FN_ARP_H */
