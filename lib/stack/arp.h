/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ARP: answer for our address, learn neighbours, resolve on transmit (packets
 * wait in a small per-queue list while a request is retried), probe stale
 * neighbours still in use, announce our address at start. Built only with
 * -Darp=resolve; the static build knows its neighbours from the
 * configuration and from received datagrams.
 */
#ifndef FN_ARP_H
#define FN_ARP_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_ether.h>
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
/* addr's entry (MAC mac) is stale and about to be used: probe it when due.
 * false: it was forgotten after unanswered probes; resolve it again. */
bool fn_arp_probe(struct fn_queue *q, uint32_t addr, const struct rte_ether_addr *mac);
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
/* Without ARP nothing confirms a neighbour: stale entries stay in use. */
static inline bool fn_arp_probe(struct fn_queue *q, uint32_t addr,
				const struct rte_ether_addr *mac)
{
	(void)q; (void)addr; (void)mac;
	return true;
}
static inline void fn_arp_flush(struct fn_queue *q) { (void)q; }
#endif

#endif /* FN_ARP_H */
