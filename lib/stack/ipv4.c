/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IPv4 receive and transmit paths, in the netfilter order:
 *   receive:  validate -> PREROUTING -> [reassemble] -> INPUT -> UDP/ICMP
 *   transmit: build -> OUTPUT -> POSTROUTING -> [fragment] -> next hop
 * Like the kernel, prerouting sees fragments one by one unless the rules use
 * conntrack (then the kernel defragments first, and so do we), and input
 * always sees whole datagrams.
 */
#include <errno.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_jhash.h>
#include <rte_random.h>
#include <rte_ring.h>

#include "arp.h"
#include "csum.h"
#include "eth.h"
#include "fragment.h"
#include "icmp.h"
#include "ipv4.h"
#include "neigh.h"
#include "reasm.h"
#include "rss.h"
#include "udp.h"
#include "runtime/capture.h"
#include "runtime/runtime.h"
#include "runtime/xsk.h"

#define FRAG_BITS RTE_BE16(RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK)

static inline struct fn_pkt pkt_view(uint8_t *l2, uint8_t *l3, uint32_t len,
				     uint8_t pkttype, uint16_t cpu)
{
	const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)l3;
	uint16_t fragoff = (rte_be_to_cpu_16(ip->fragment_offset) &
			    RTE_IPV4_HDR_OFFSET_MASK) * 8;

	return (struct fn_pkt){
		.l2 = l2, .l3 = l3, .l3_len = len,
		.l4_off = fragoff ? 0 : rte_ipv4_hdr_len(ip),
		.fragoff = fragoff,
		.l4proto = ip->next_proto_id,
		.pkttype = pkttype,
		.cpu = cpu,
	};
}

/*
 * What one packet carries from hook to hook, as the kernel's skb does: the
 * mark a rule set at prerouting is seen at input, and conntrack finds the
 * flow it began tracking.
 */
struct hook_state {
	uint32_t mark;
	uint32_t ct;
	uint8_t flags;            /* FN_PKT_F_* */
	bool judged;              /* the kernel part judged it: kernel below */
	struct fn_kernel_judged kernel;
};

/* What fragnetd's XDP program judged of a frame from an AF_XDP queue, and
 * with which generation: the filter goes on from there (lib/filter). */
static inline void kernel_judged(struct rte_mbuf *m, struct hook_state *hs)
{
	const struct fn_xsk_meta *k = fn_xsk_meta(m);

	if (k->hook == FN_XDP_RESUME_START)
		return;
	hs->judged = true;
	hs->kernel = (struct fn_kernel_judged){
		.generation = k->generation, .rule = k->rule, .hook = k->hook,
		.chain = k->chain, .done = k->hook == FN_XDP_RESUME_DONE,
	};
}

/* A packet a constant ingress hook dropped, for a capture: at the call
 * sites, so that ingress_hook() keeps no more registers than without it. */
static inline void capture_dropped(struct fn_queue *q, enum fn_hook hook, const uint8_t *l3,
				   uint32_t len)
{
	fn_capture(q, FN_CAP_IN, l3, len, q->filter.last.verdict, 1u << hook);
}

/* An ingress hook that has rules: false when the packet must go. */
static __rte_noinline bool ingress_run(struct fn_queue *q, enum fn_hook hook, uint8_t *l2,
				       uint8_t *l3, uint32_t len, uint8_t pkttype,
				       struct hook_state *hs)
{
	struct fn_pkt pkt;
	enum fn_verdict v;

	pkt = pkt_view(l2, l3, len, pkttype, q->qid);
	pkt.iif = q->fn->port.ifindex;
	pkt.iifname = q->fn->port.ifname;
	pkt.mark = hs->mark;
	pkt.ct = hs->ct;
	pkt.flags = hs->flags;
	pkt.kernel = hs->judged ? &hs->kernel : NULL;
	v = fn_filter_hook(&q->filter, hook, &pkt);
	hs->mark = pkt.mark;
	hs->ct = pkt.ct;
	if (likely(v == FN_ACCEPT))
		return true;
	FN_DROP(&q->stats, FILTER);
	if (v != FN_DROP)
		fn_icmp_reject(q, l3, len, v);
	return false;
}

/* Run an ingress hook; false when the packet must go (counted, maybe
 * answered; the caller shows it to a capture). Inline, so that a hook
 * without rules costs a load and a branch, not a call. */
static inline bool ingress_hook(struct fn_queue *q, enum fn_hook hook, uint8_t *l2,
				uint8_t *l3, uint32_t len, uint8_t pkttype,
				struct hook_state *hs)
{
	if (likely(!(q->filter.hooks & (1u << hook))))
		return true;
	return ingress_run(q, hook, l2, l3, len, pkttype, hs);
}

/* A sent packet no hook judged, for a capture: out of line and a tail
 * call, so that egress_hooks() needs no stack frame when there are none. */
static __rte_noinline int capture_unjudged_out(struct fn_queue *q, const uint8_t *l3,
					       uint32_t len)
{
	fn_capture(q, FN_CAP_OUT, l3, len, FN_ACCEPT, 0);
	return 0;
}

/* Output and postrouting on one packet that has rules to meet. */
static __rte_noinline int egress_run(struct fn_queue *q, uint8_t *l3, uint32_t len,
				     uint8_t flags)
{
	static const enum fn_hook hooks[] = { FN_HOOK_OUTPUT, FN_HOOK_POSTROUTING };
	const uint32_t mask = 1u << FN_HOOK_OUTPUT | 1u << FN_HOOK_POSTROUTING;
	struct fn_pkt pkt;

	pkt = pkt_view(NULL, l3, len, FN_PKT_HOST, q->qid);
	pkt.oif = q->fn->port.ifindex;
	pkt.oifname = q->fn->port.ifname;
	pkt.flags = flags;
	for (unsigned i = 0; i < RTE_DIM(hooks); i++) {
		enum fn_verdict v = fn_filter_hook(&q->filter, hooks[i], &pkt);

		if (v != FN_ACCEPT) {
			fn_capture(q, FN_CAP_OUT, l3, len, v, 1u << hooks[i]);
			FN_DROP(&q->stats, FILTER);
			return -EPERM;
		}
	}
	fn_capture(q, FN_CAP_OUT, l3, len, FN_ACCEPT, q->filter.hooks & mask);
	return 0;
}

/* Output and postrouting. Locally sent packets are PACKET_HOST to
 * nftables, as in the kernel. Without rules on them: inline, no call, and a
 * capture costs one load and a branch. */
static inline int egress_hooks(struct fn_queue *q, uint8_t *l3, uint32_t len, uint8_t flags)
{
	if (likely(!(q->filter.hooks & (1u << FN_HOOK_OUTPUT | 1u << FN_HOOK_POSTROUTING)))) {
		if (unlikely(fn_capture_on(q)))
			return capture_unjudged_out(q, l3, len);
		return 0;
	}
	return egress_run(q, l3, len, flags);
}

/*
 * A datagram from an on-link host teaches us its MAC when we have no entry
 * yet, so the reply need not wait for ARP, which the device may deliver to
 * another queue or, with one process per queue, to another process
 * altogether; and a datagram from the MAC we hold confirms the entry, as
 * TCP's progress does in Linux (else every client would be probed twice a
 * minute, and the probe answered to whichever process gets ARP). It never
 * replaces a MAC: ARP does. Only datagrams the input rules accepted teach
 * (one they drop must not decide where our replies go), and only from a
 * unicast source MAC. A queue looks its last source up once a second.
 */
__rte_noinline void fn_ipv4_learn_slow(struct fn_queue *q, const uint8_t *l2, uint32_t src)
{
	struct fragnet *fn = q->fn;
	unsigned flags = FN_NEIGH_F_CREATE | FN_NEIGH_F_CONFIRM;
	struct rte_ether_addr mac;

	if (l2 == NULL || !fn_on_link(fn, src))
		return;
	/* copied out: the frame may start at any byte (a PMD's headroom, a
	 * reassembled datagram), and rte_ether_addr is 2-byte aligned */
	memcpy(&mac, l2 + offsetof(struct rte_ether_hdr, src_addr), sizeof(mac));
	if (!rte_is_valid_assigned_ether_addr(&mac))
		return;
	if (src == fn->gateway)
		flags |= FN_NEIGH_F_SOLICITED;
	fn_neigh_count(&q->stats, fn_neigh_update(fn->neigh, src, &mac, flags, q->clk.now));
	q->learned_src = src;
	q->learned_until = q->clk.now + q->clk.hz;
}

/* Transport demux of a whole datagram that passed the input hook; frame:
 * the mbuf that holds it at l3, or NULL (reassembled). */
static void local_deliver(struct fn_queue *q, struct rte_mbuf *frame, uint8_t *l2,
			  uint8_t *l3, uint32_t len, uint8_t pkttype, struct hook_state *hs)
{
	const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)l3;
	bool l4_csum_ok = hs->flags & FN_PKT_F_L4_CSUM_OK;

	if (!ingress_hook(q, FN_HOOK_INPUT, l2, l3, len, pkttype, hs)) {
		capture_dropped(q, FN_HOOK_INPUT, l3, len);
		return;
	}
	fn_capture(q, FN_CAP_IN, l3, len, FN_ACCEPT,
		   q->filter.hooks & (1u << FN_HOOK_PREROUTING | 1u << FN_HOOK_INPUT));
	fn_ipv4_learn(q, l2, ip->src_addr);
	switch (ip->next_proto_id) {
	case IPPROTO_UDP:
		fn_udp_input(q, frame, l3, len, pkttype, l4_csum_ok);
		break;
#if FN_WITH_ICMP
	case IPPROTO_ICMP:
		fn_icmp_input(q, l3, len, pkttype);
		break;
#endif
	default:
		FN_DROP(&q->stats, IP_PROTO);
		if (pkttype == FN_PKT_HOST)
			fn_icmp_error(q, l3, len, FN_ICMP_DEST_UNREACH, FN_ICMP_PROT_UNREACH);
		break;
	}
}

void fn_ipv4_input(struct fn_queue *q, struct rte_mbuf *m, uint8_t *l2, uint8_t pkttype)
{
	struct fragnet *fn = q->fn;
	struct hook_state hs = { 0 };
	struct rte_ipv4_hdr *ip;
	uint16_t len = m->data_len, ihl, total;
	uint64_t csum_flags, l4_csum;

	if (unlikely(m->nb_segs != 1 || len < sizeof(*ip)))
		goto malformed;
	ip = rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *);
	ihl = (ip->version_ihl & RTE_IPV4_HDR_IHL_MASK) * RTE_IPV4_IHL_MULTIPLIER;
	total = rte_be_to_cpu_16(ip->total_length);
	if (unlikely((ip->version_ihl >> 4) != 4 || ihl < sizeof(*ip) || ihl > total ||
		     total > len || (!FN_WITH_IP_OPTIONS && ihl != sizeof(*ip))))
		goto malformed;

	csum_flags = m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK;
	if (unlikely(csum_flags != RTE_MBUF_F_RX_IP_CKSUM_GOOD &&
		     (csum_flags == RTE_MBUF_F_RX_IP_CKSUM_BAD ||
		      !(likely(ihl == sizeof(*ip)) ? fn_csum_ipv4_hdr_ok(ip)
						   : fn_csum_ok(ip, ihl))))) {
		FN_DROP(&q->stats, IP_CSUM);
		goto free;
	}
	if (total < len)
		rte_pktmbuf_trim(m, len - total);   /* Ethernet padding */

	if (ip->dst_addr != q->addr) {
		if (!fn_is_broadcast(fn, ip->dst_addr)) {
			FN_DROP(&q->stats, IP_NOT_OURS);
			goto free;
		}
		pkttype = FN_PKT_BROADCAST;
	}
	if (unlikely(fn_ipv4_martian_source(fn, ip->src_addr))) {
		FN_DROP(&q->stats, IP_SRC);
		goto free;
	}

	if (unlikely(ip->fragment_offset & FRAG_BITS)) {
#if FN_WITH_FRAG
		struct rte_mbuf *chain;

		if (!q->filter.defrag_first &&
		    !ingress_hook(q, FN_HOOK_PREROUTING, l2, (uint8_t *)ip, total, pkttype, &hs)) {
			capture_dropped(q, FN_HOOK_PREROUTING, (uint8_t *)ip, total);
			goto free;
		}
		*fn_reasm_meta(m) = (struct fn_frag_meta){ .mark = hs.mark, .pkttype = pkttype };
		chain = fn_reasm_add(q, m);
		if (chain != NULL)
			fn_ipv4_input_reassembled(q, chain);
		return;
#else
		FN_DROP(&q->stats, FRAG_DISABLED);
		goto free;
#endif
	}

	/* Only the NIC's word lets conntrack and UDP skip the software check:
	 * GOOD, or NONE (the data was verified but the field was never
	 * filled in: a sender's checksum offload seen through virtio, the
	 * kernel's CHECKSUM_PARTIAL). Reassembled datagrams are checked in
	 * software. */
	l4_csum = m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK;
	if (l4_csum == RTE_MBUF_F_RX_L4_CKSUM_GOOD || l4_csum == RTE_MBUF_F_RX_L4_CKSUM_NONE)
		hs.flags |= FN_PKT_F_L4_CSUM_OK;
	if (q->xsk != NULL)
		kernel_judged(m, &hs);
	if (ingress_hook(q, FN_HOOK_PREROUTING, l2, (uint8_t *)ip, total, pkttype, &hs))
		local_deliver(q, m, l2, (uint8_t *)ip, total, pkttype, &hs);
	else
		capture_dropped(q, FN_HOOK_PREROUTING, (uint8_t *)ip, total);
	goto free;

malformed:
	FN_DROP(&q->stats, IP_MALFORMED);
free:
	fn_rx_done(q, m);
}

#if FN_WITH_FRAG
/* Copy a reassembled chain into rx_dgram as one datagram, as the kernel
 * presents it: total length of the whole, fragment bits cleared (DF kept),
 * header checksum recomputed. */
static uint32_t linearize(struct fn_queue *q, const struct rte_mbuf *chain)
{
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)q->rx_dgram;
	uint32_t len = 0;

	for (const struct rte_mbuf *s = chain; s != NULL; s = s->next) {
		memcpy(q->rx_dgram + len, rte_pktmbuf_mtod(s, void *), s->data_len);
		len += s->data_len;
	}
	ip->total_length = rte_cpu_to_be_16(len);
	ip->fragment_offset &= RTE_BE16(RTE_IPV4_HDR_DF_FLAG);
	ip->hdr_checksum = 0;
	ip->hdr_checksum = fn_csum(ip, rte_ipv4_hdr_len(ip));
	return len;
}

void fn_ipv4_input_reassembled(struct fn_queue *q, struct rte_mbuf *chain)
{
	struct fragnet *fn = q->fn;
	int owner = fn_rss_owner_of_datagram(fn, chain);
	struct hook_state hs = { 0 };
	uint8_t *l2 = NULL, pkttype;
	uint32_t len;

	/* The device hashed the fragments on addresses only; the flow may
	 * belong to another queue, whose conntrack and sockets must see it. */
	if (owner >= 0 && owner != q->qid) {
		fn_reasm_hand_off(q, chain);
		if (rte_ring_enqueue(fn->queues[owner]->handoff, chain) != 0) {
			fn_reasm_taken(fn, chain);
			FN_DROP(&q->stats, HANDOFF);
			rte_pktmbuf_free(chain);
		}
		return;
	}
	/* Like the kernel's reassembled skb, the datagram keeps the link
	 * header of its first fragment (still in front of the data). */
	if (rte_pktmbuf_headroom(chain) >= RTE_ETHER_HDR_LEN) {
		memcpy(q->rx_l2, rte_pktmbuf_mtod(chain, uint8_t *) - RTE_ETHER_HDR_LEN,
		       RTE_ETHER_HDR_LEN);
		l2 = q->rx_l2;
	}
	hs.mark = fn_reasm_meta(chain)->mark;   /* the first fragment's */
	pkttype = fn_reasm_meta(chain)->pkttype;
	len = linearize(q, chain);
	rte_pktmbuf_free(chain);
	if (q->filter.defrag_first &&
	    !ingress_hook(q, FN_HOOK_PREROUTING, l2, q->rx_dgram, len, pkttype, &hs)) {
		capture_dropped(q, FN_HOOK_PREROUTING, q->rx_dgram, len);
		return;
	}
	local_deliver(q, NULL, l2, q->rx_dgram, len, pkttype, &hs);
}
#endif

/*
 * IPv4 IDs, as Linux picks them for datagrams that may be fragmented: a
 * counter per destination, or rather per bucket of destinations chosen by
 * a keyed hash, starting at a random value. Per destination, so that what
 * we send to other hosts does not use up its IDs: one comes back only after
 * 65536 / n_queues datagrams to that host (queues interleave theirs, so two
 * queues sending to it never pick the same). Keyed and randomly started, so
 * that a host learns nothing from its own IDs about those we send to others
 * (from a predictable ID it can forge fragments into their datagrams), unless
 * it shares their bucket, 1 in FN_IP_ID_BUCKETS.
 *
 * Not random per datagram: a receiver may hold the fragments of a datagram
 * for its reassembly timeout (30 s in Linux) and then mix in those of a later
 * one with the same ID. Random IDs bring one back after ~320 datagrams to a
 * host on average (the birthday bound): within 30 s from ~10 datagrams a
 * second. The counter brings none back before 65536 / n_queues datagrams to
 * that host: within 30 s only above ~2200 a second (one queue), where no
 * 16-bit ID can help (RFC 4963).
 */
static inline uint16_t *ip_id_bucket(struct fn_queue *q, uint32_t dst)
{
	return &q->ip_id[rte_jhash_1word(dst, q->ip_id_key) % FN_IP_ID_BUCKETS];
}

void fn_ipv4_ids_init(struct fn_queue *q)
{
	q->ip_id_key = (uint32_t)rte_rand();
	q->ip_id_step = (uint16_t)q->fn->n_queues;
	/* each counter holds its next ID, c * n_queues + qid for a random
	 * start c, and steps by n_queues: an ID is drawn with a load, an add
	 * and a store */
	for (unsigned i = 0; i < FN_IP_ID_BUCKETS; i++)
		q->ip_id[i] = (uint16_t)((uint16_t)rte_rand() * q->ip_id_step + q->qid);
	q->ip_id_last_dst = 0;
	q->ip_id_last = ip_id_bucket(q, 0);
}

__rte_noinline uint16_t *fn_ipv4_id_counter(struct fn_queue *q, uint32_t dst)
{
	q->ip_id_last_dst = dst;
	q->ip_id_last = ip_id_bucket(q, dst);
	return q->ip_id_last;
}


/*
 * Replies go where the last one went, most of the time: the queue keeps the
 * last next hop's entry, good while the table has not changed since it was
 * read (its generation) and the entry is still reachable, which spares the
 * hashed lookup. Stale entries are not kept: each use must reach
 * fn_arp_probe().
 */
void fn_ipv4_xmit(struct fn_queue *q, struct rte_mbuf *m, uint32_t nexthop)
{
	static const struct rte_ether_addr bcast = {
		.addr_bytes = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff } };
	struct fn_nexthop_cache *c = &q->nexthop;
	struct fn_neigh_table *t = q->fn->neigh;
	struct rte_ether_addr mac;
	uint64_t gen, until;

	gen = fn_neigh_gen(t);
	if (likely(nexthop == c->addr && gen == c->gen && fn_nexthop_fresh(q, c))) {
		fn_eth_output(q, m, &c->eth.dst_addr, RTE_ETHER_TYPE_IPV4);
		return;
	}
	if (fn_is_broadcast(q->fn, nexthop)) {
		fn_eth_output(q, m, &bcast, RTE_ETHER_TYPE_IPV4);
		return;
	}
	switch (fn_neigh_get_until(t, nexthop, q->clk.now, &mac, &until)) {
	case FN_NEIGH_STALE:
		if (!fn_arp_probe(q, nexthop, &mac))
			break;   /* it stopped answering: resolve it again */
		fn_eth_output(q, m, &mac, RTE_ETHER_TYPE_IPV4);
		return;
	case FN_NEIGH_REACHABLE:
		*c = (struct fn_nexthop_cache){
			.addr = nexthop, .gen = gen, .until = until, .dst = q->addr,
			.eth = { .dst_addr = mac, .src_addr = q->mac,
				 .ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV4) } };
		fn_eth_output(q, m, &mac, RTE_ETHER_TYPE_IPV4);
		return;
	case FN_NEIGH_NONE:
		break;
	}
	fn_arp_park(q, m, nexthop);
}

/* fn_ipv4_xmit()'s common case inline: the next hop of the last reply. */
static inline void xmit(struct fn_queue *q, struct rte_mbuf *m, uint32_t nexthop)
{
	const struct fn_nexthop_cache *c = &q->nexthop;

	if (likely(nexthop == c->addr && fn_neigh_gen(q->fn->neigh) == c->gen &&
		   fn_nexthop_fresh(q, c))) {
		fn_eth_output(q, m, &c->eth.dst_addr, RTE_ETHER_TYPE_IPV4);
		return;
	}
	fn_ipv4_xmit(q, m, nexthop);
}

static inline uint32_t route(struct fn_queue *q, uint32_t dst)
{
	if (dst == q->addr || dst == 0)
		return 0;   /* no loopback in this stack */
	return fn_ipv4_nexthop(q->fn, dst);
}

int fn_ipv4_output(struct fn_queue *q, struct rte_mbuf *m)
{
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *);
	uint32_t nexthop = route(q, ip->dst_addr);
	int rc;

	if (unlikely(nexthop == 0)) {
		FN_DROP(&q->stats, NO_ROUTE);
		rte_pktmbuf_free(m);
		return -EHOSTUNREACH;
	}
	rc = egress_hooks(q, (uint8_t *)ip, m->data_len,
			  m->ol_flags & RTE_MBUF_F_TX_UDP_CKSUM ? FN_PKT_F_CSUM_PARTIAL : 0);
	if (unlikely(rc < 0)) {
		rte_pktmbuf_free(m);
		return rc;
	}
	m->l3_len = sizeof(*ip);
	xmit(q, m, nexthop);
	return 0;
}

int fn_ipv4_output_linear(struct fn_queue *q, uint8_t *l3, uint32_t len)
{
	const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)l3;
	uint32_t nexthop = route(q, ip->dst_addr);
	struct rte_mbuf *m;
	int rc;

	if (unlikely(nexthop == 0)) {
		FN_DROP(&q->stats, NO_ROUTE);
		return -EHOSTUNREACH;
	}
	rc = egress_hooks(q, l3, len, 0);
	if (unlikely(rc < 0))
		return rc;
	if (len > q->fn->port.mtu)
		return fn_ipv4_fragment(q, l3, len, nexthop);
	m = fn_alloc(q);
	if (unlikely(m == NULL))
		return -ENOBUFS;
	memcpy(rte_pktmbuf_append(m, len), l3, len);
	m->l3_len = sizeof(*ip);
	fn_ipv4_xmit(q, m, nexthop);
	return 0;
}
