/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ARP (RFC 826) for IPv4 over Ethernet. What an on-link sender says is
 * recorded as Linux does (arp_accept off): a request for us creates its
 * sender's entry (it is about to talk to us), a reply to us confirms one we
 * are resolving or probing but creates nothing, and any other ARP (a
 * gratuitous announcement, a request for someone else) only updates a
 * neighbour we know. Off-link senders teach nothing.
 */
#include <errno.h>
#include <string.h>

#include <rte_arp.h>
#include <rte_byteorder.h>

#include "arp.h"
#include "eth.h"
#include "neigh.h"
#include "runtime/runtime.h"

static bool resolving(const struct fn_queue *q, uint32_t addr)
{
	for (unsigned i = 0; i < q->arp.n_req; i++)
		if (q->arp.req[i].addr == addr)
			return true;
	return false;
}

static void send_arp(struct fn_queue *q, uint16_t op, const struct rte_ether_addr *eth_dst,
		     const struct rte_ether_addr *tha, uint32_t tip)
{
	struct rte_mbuf *m = fn_alloc(q);
	struct rte_arp_hdr *arp;

	if (m == NULL)
		return;
	arp = (struct rte_arp_hdr *)rte_pktmbuf_append(m, sizeof(*arp));
	arp->arp_hardware = RTE_BE16(RTE_ARP_HRD_ETHER);
	arp->arp_protocol = RTE_BE16(RTE_ETHER_TYPE_IPV4);
	arp->arp_hlen = RTE_ETHER_ADDR_LEN;
	arp->arp_plen = 4;
	arp->arp_opcode = rte_cpu_to_be_16(op);
	rte_ether_addr_copy(&q->mac, &arp->arp_data.arp_sha);
	arp->arp_data.arp_sip = q->addr;
	rte_ether_addr_copy(tha, &arp->arp_data.arp_tha);
	arp->arp_data.arp_tip = tip;
	fn_eth_output(q, m, eth_dst, RTE_ETHER_TYPE_ARP);
}

static void send_request(struct fn_queue *q, uint32_t tip)
{
	static const struct rte_ether_addr bcast = {
		.addr_bytes = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff } };
	static const struct rte_ether_addr zero;

	send_arp(q, RTE_ARP_OP_REQUEST, &bcast, &zero, tip);
}

void fn_arp_announce(struct fn_queue *q)
{
	send_request(q, q->addr);
}

bool fn_arp_probe(struct fn_queue *q, uint32_t addr, const struct rte_ether_addr *mac)
{
	static const struct rte_ether_addr zero;
	int rc = fn_neigh_probe(q->fn->neigh, addr, q->clk.now);

	if (rc == 1)   /* unicast, to the MAC we hold (Linux's PROBE state) */
		send_arp(q, RTE_ARP_OP_REQUEST, mac, &zero, addr);
	return rc >= 0;
}

/* An address a neighbour of ours may have: a host on our subnet. */
static bool host_on_link(const struct fragnet *fn, uint32_t addr)
{
	return addr != 0 && addr != fn->addr && fn_on_link(fn, addr) &&
	       !fn_is_broadcast(fn, addr);
}

static void learn(struct fn_queue *q, const struct rte_arp_hdr *arp, bool for_us)
{
	struct fragnet *fn = q->fn;
	uint32_t sip = arp->arp_data.arp_sip;
	unsigned flags = FN_NEIGH_F_OVERRIDE;
	int rc;

	if (!host_on_link(fn, sip)) {
		if (for_us)
			FN_DROP(&q->stats, NEIGH_REFUSED);
		return;
	}
	if (for_us)
		flags |= FN_NEIGH_F_CONFIRM;
	if (for_us && arp->arp_opcode == RTE_BE16(RTE_ARP_OP_REQUEST))
		flags |= FN_NEIGH_F_CREATE;
	if (sip == fn->gateway)
		flags |= FN_NEIGH_F_SOLICITED;
	rc = fn_neigh_update(fn->neigh, sip, &arp->arp_data.arp_sha, flags, q->clk.now);
	if (rc != -ENOENT || for_us)   /* news about strangers is ignored */
		fn_neigh_count(&q->stats, rc);
}

void fn_arp_input(struct fn_queue *q, struct rte_mbuf *m)
{
	const struct rte_arp_hdr *arp;
	uint32_t sip, tip;
	bool for_us;

	if (m->data_len < sizeof(struct rte_ether_hdr) + sizeof(*arp)) {
		FN_DROP(&q->stats, ARP_MALFORMED);
		goto free;
	}
	arp = rte_pktmbuf_mtod_offset(m, const struct rte_arp_hdr *,
				      sizeof(struct rte_ether_hdr));
	if (arp->arp_hardware != RTE_BE16(RTE_ARP_HRD_ETHER) ||
	    arp->arp_protocol != RTE_BE16(RTE_ETHER_TYPE_IPV4) ||
	    arp->arp_hlen != RTE_ETHER_ADDR_LEN || arp->arp_plen != 4 ||
	    (arp->arp_opcode != RTE_BE16(RTE_ARP_OP_REQUEST) &&
	     arp->arp_opcode != RTE_BE16(RTE_ARP_OP_REPLY)) ||
	    !rte_is_valid_assigned_ether_addr(&arp->arp_data.arp_sha)) {
		FN_DROP(&q->stats, ARP_MALFORMED);
		goto free;
	}
	sip = arp->arp_data.arp_sip;
	tip = arp->arp_data.arp_tip;
	for_us = tip == q->addr && sip != tip;

	/* A reply to us may answer a request sent from another queue: the
	 * shared table knows what any queue is resolving. A sender of 0.0.0.0
	 * probes for an address (RFC 5227) and teaches nothing. */
	if (sip != 0)
		learn(q, arp, for_us);
	if (!for_us) {
		FN_DROP(&q->stats, ARP_NOT_OURS);
		goto free;
	}
	if (arp->arp_opcode == RTE_BE16(RTE_ARP_OP_REQUEST)) {
		struct rte_ether_addr sha = arp->arp_data.arp_sha;

		send_arp(q, RTE_ARP_OP_REPLY, &sha, &sha, sip);
	} else if (q->arp.n) {
		fn_arp_service(q);
	}
free:
	fn_rx_done(q, m);
}

void fn_arp_park(struct fn_queue *q, struct rte_mbuf *m, uint32_t nexthop)
{
	struct fn_arp_wait *w = &q->arp;

	if (!resolving(q, nexthop)) {
		if (w->n_req == FN_ARP_REQUESTS)
			goto full;
		w->req[w->n_req++] = (struct fn_arp_request){
			.addr = nexthop, .tries = 1, .next_try = q->clk.now + q->clk.hz };
		fn_neigh_count(&q->stats, fn_neigh_resolving(q->fn->neigh, nexthop, q->clk.now));
		send_request(q, nexthop);
	}
	if (w->n == FN_ARP_WAIT)
		goto full;
	w->pkts[w->n] = m;
	w->nexthop[w->n] = nexthop;
	w->n++;
	return;
full:
	FN_DROP(&q->stats, ARP_UNRESOLVED);
	rte_pktmbuf_free(m);
}

void fn_arp_service(struct fn_queue *q)
{
	struct fn_arp_wait *w = &q->arp;
	struct rte_ether_addr mac;
	unsigned i, keep = 0;

	/* Give up on neighbours that never answered; ask again the others. */
	for (i = 0; i < w->n_req; i++) {
		struct fn_arp_request *r = &w->req[i];

		if (fn_neigh_lookup(q->fn->neigh, r->addr, &mac))
			continue;
		if (q->clk.now >= r->next_try) {
			if (r->tries >= FN_ARP_RETRIES) {
				r->addr = 0;   /* its packets are dropped below */
				continue;
			}
			r->tries++;
			r->next_try = q->clk.now + q->clk.hz;
			fn_neigh_count(&q->stats,
				       fn_neigh_resolving(q->fn->neigh, r->addr, q->clk.now));
			send_request(q, r->addr);
		}
		w->req[keep++] = *r;
	}
	w->n_req = keep;

	keep = 0;
	for (i = 0; i < w->n; i++) {
		if (fn_neigh_lookup(q->fn->neigh, w->nexthop[i], &mac)) {
			fn_eth_output(q, w->pkts[i], &mac, RTE_ETHER_TYPE_IPV4);
		} else if (!resolving(q, w->nexthop[i])) {
			FN_DROP(&q->stats, ARP_UNRESOLVED);
			rte_pktmbuf_free(w->pkts[i]);
		} else {
			w->pkts[keep] = w->pkts[i];
			w->nexthop[keep] = w->nexthop[i];
			keep++;
		}
	}
	w->n = keep;
}

void fn_arp_flush(struct fn_queue *q)
{
	rte_pktmbuf_free_bulk(q->arp.pkts, q->arp.n);
	q->arp.n = 0;
	q->arp.n_req = 0;
}
