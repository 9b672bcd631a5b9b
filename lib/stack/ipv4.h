/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IPv4: validation and local delivery on receive (with the prerouting and
 * input hooks), header building, output hooks, fragmentation and next-hop
 * resolution on transmit.
 */
#ifndef FN_IPV4_H
#define FN_IPV4_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <rte_ip.h>
#include <rte_mbuf.h>

#include "csum.h"
#include "fn_build_config.h"
#include "eth.h"
#include "neigh.h"
#include "filter/filter.h"
#include "runtime/capture.h"
#include "runtime/runtime.h"

struct fn_queue;
struct fragnet;

#define FN_IPV4_TTL 64

/* Consume a received packet; m->data at the IPv4 header, l2 the Ethernet header. */
void fn_ipv4_input(struct fn_queue *q, struct rte_mbuf *m, uint8_t *l2, uint8_t pkttype);

/* Deliver a reassembled datagram (segment chain, first segment at the IPv4
 * header) on this queue; frees the chain. */
void fn_ipv4_input_reassembled(struct fn_queue *q, struct rte_mbuf *chain);

/*
 * Sources no host sends from: multicast and limited broadcast (and the
 * reserved class E), loopback, "this network" (0.0.0.0/8: nothing we speak
 * needs it), our subnet's broadcast, our own address. Answering them would
 * reflect: a reply to the subnet's broadcast reaches every host on the LAN.
 */
static inline bool fn_ipv4_martian_source(const struct fragnet *fn, uint32_t src)
{
	uint8_t first;

	memcpy(&first, &src, 1);   /* the first octet, with no byte swap */
	return first >= 224 || first == 127 || first == 0 || src == fn->addr ||
	       fn_is_broadcast(fn, src);
}

void fn_ipv4_learn_slow(struct fn_queue *q, const uint8_t *l2, uint32_t src);

/* src is the last source the queue learned, within the last second. It
 * passed fn_ipv4_martian_source() then, against addresses fixed at open:
 * the receive fast path skips that check for it. */
static inline bool fn_ipv4_learned(const struct fn_queue *q, uint32_t src)
{
	return src == q->learned_src && (int64_t)(q->learned_until - q->clk.now) > 0;
}

/* Learn or confirm the neighbour that sent an accepted datagram (l2: its
 * Ethernet header, or NULL): see ipv4.c. Inline, since a queue checks its
 * last source only once a second: most packets stop at the first test. */
static inline void fn_ipv4_learn(struct fn_queue *q, const uint8_t *l2, uint32_t src)
{
	if (!fn_ipv4_learned(q, src))
		fn_ipv4_learn_slow(q, l2, src);
}

/* Draw the queue's secret for its IPv4 IDs (at queue creation). */
void fn_ipv4_ids_init(struct fn_queue *q);

/* The IPv4 ID counter of dst (see ipv4.c), when dst is not the last
 * destination. */
uint16_t *fn_ipv4_id_counter(struct fn_queue *q, uint32_t dst);

/* A reply goes where the last one went, most of the time: the last
 * destination's counter is kept, which spares the hash. The counter is the
 * same one the hash picks, so the IDs are those ipv4.c describes. */
static inline uint16_t fn_ipv4_next_id(struct fn_queue *q, uint32_t dst)
{
	uint16_t *c = likely(dst == q->ip_id_last_dst) ? q->ip_id_last
						       : fn_ipv4_id_counter(q, dst);
	uint16_t id = *c;

	*c = (uint16_t)(id + q->ip_id_step);
	return id;
}

/* The same when dst is known to be the last destination: no call. */
static inline uint16_t fn_ipv4_next_id_last(struct fn_queue *q)
{
	uint16_t id = *q->ip_id_last;

	*q->ip_id_last = (uint16_t)(id + q->ip_id_step);
	return id;
}

/*
 * Fill an IPv4 header (no options, checksum included) from us to dst, with
 * ID host_id (host order). Inline, every datagram sent has one; its checksum is summed from the
 * values in registers, not read back from the header (the words in memory
 * order: a 16-bit value stored big-endian is summed as rte_cpu_to_be_16()
 * of it, a 32-bit one counts as its two halves).
 */
static inline void fn_ipv4_header_id(struct fn_queue *q, struct rte_ipv4_hdr *ip, uint8_t proto,
				     uint32_t dst, uint16_t total_len, uint16_t host_id)
{
	uint16_t len = rte_cpu_to_be_16(total_len);
	uint16_t id = rte_cpu_to_be_16(host_id);
	uint16_t ttl_proto = rte_cpu_to_be_16(FN_IPV4_TTL << 8 | proto);

	uint32_t src = q->addr;
	uint16_t check = fn_csum_finish((uint64_t)RTE_BE16(RTE_IPV4_VHL_DEF << 8) + len + id +
					ttl_proto + src + dst);
	uint64_t w0, w1;

	/* the header as two 8-byte words and the destination, built in
	 * registers (len, id and check are in memory order already): three
	 * stores rather than one a field */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	w0 = RTE_IPV4_VHL_DEF | (uint64_t)len << 16 | (uint64_t)id << 32;
	w1 = FN_IPV4_TTL | (uint64_t)proto << 8 | (uint64_t)check << 16 | (uint64_t)src << 32;
#else
	w0 = (uint64_t)RTE_IPV4_VHL_DEF << 56 | (uint64_t)len << 40 | (uint64_t)id << 24;
	w1 = (uint64_t)FN_IPV4_TTL << 56 | (uint64_t)proto << 48 | (uint64_t)check << 32 | src;
#endif
	memcpy(ip, &w0, 8);
	memcpy((uint8_t *)ip + 8, &w1, 8);
	ip->dst_addr = dst;
}

/* The same with the ID drawn for dst, as for any datagram. */
static inline void fn_ipv4_header(struct fn_queue *q, struct rte_ipv4_hdr *ip, uint8_t proto,
				  uint32_t dst, uint16_t total_len)
{
	fn_ipv4_header_id(q, ip, proto, dst, total_len, fn_ipv4_next_id(q, dst));
}

/*
 * Send a datagram built in one mbuf (data at the IPv4 header, total length
 * <= MTU): output and postrouting hooks, next hop, Ethernet. Takes m.
 * 0, or -EPERM (filtered), -EHOSTUNREACH.
 */
int fn_ipv4_output(struct fn_queue *q, struct rte_mbuf *m);

/*
 * Send a datagram of any size built in contiguous memory (l3, len): hooks,
 * then one packet or fragments. 0, or -EPERM, -EHOSTUNREACH, -ENOBUFS,
 * -EMSGSIZE (larger than the MTU in a build without fragmentation).
 */
int fn_ipv4_output_linear(struct fn_queue *q, uint8_t *l3, uint32_t len);

/* Next hop for dst: dst itself on-link, the gateway, or 0 (no route). */
static inline uint32_t fn_ipv4_nexthop(const struct fragnet *fn, uint32_t dst)
{
	if (fn_on_link(fn, dst) || dst == UINT32_MAX)
		return dst;
	return fn->gateway;
}

/* The next hop cache's entry has not aged. With ARP a reachable entry must
 * be confirmed again once it goes stale (fn_arp_probe()); without, nothing
 * confirms a neighbour and a stale one stays in use, so the entry holds
 * until the table changes (its generation, checked beside this). */
static inline bool fn_nexthop_fresh(const struct fn_queue *q, const struct fn_nexthop_cache *c)
{
	return !FN_WITH_ARP || (int64_t)(c->until - q->clk.now) > 0;
}

/* The next hop cache's entry is good, and no output hook and no capture
 * wants to see what goes out. */
static inline bool fn_ipv4_cached_nexthop_ok(struct fn_queue *q)
{
	const struct fn_nexthop_cache *c = &q->nexthop;

	return !(q->filter.hooks & (1u << FN_HOOK_OUTPUT | 1u << FN_HOOK_POSTROUTING)) &&
	       !fn_capture_on(q) && fn_neigh_gen(q->fn->neigh) == c->gen &&
	       fn_nexthop_fresh(q, c);
}

/*
 * True when a datagram to dst goes to the next hop cache's entry with no
 * output hook and no capture to see it on the way: what a reply to the
 * last destination nearly always finds, and what fn_ipv4_output() would
 * then do is to prepend the entry's Ethernet header and queue the frame.
 */
static inline bool fn_ipv4_to_cached_nexthop(struct fn_queue *q, uint32_t dst)
{
	struct fn_nexthop_cache *c = &q->nexthop;

	if (dst != c->dst) {
		/* a broadcast's next hop is never cached (fn_ipv4_xmit()) */
		if (dst == q->addr || dst == 0 || fn_ipv4_nexthop(q->fn, dst) != c->addr)
			return false;
		c->dst = dst;
	}
	return fn_ipv4_cached_nexthop_ok(q);
}

/*
 * The frame of a datagram in m (data at its IPv4 header, lengths set)
 * received with an Ethernet header right before it, made ready to go to
 * the next hop cache's entry: that header becomes the entry's, copied
 * whole (two 8-byte copies, overlapping by two bytes), with no headroom to
 * check, and the offload lengths are set with one store, not bit-field
 * updates (l2_len and l3_len, the other offload lengths 0: no offload but
 * the checksums, whose lengths these are).
 */
static inline void fn_ipv4_in_frame_eth(struct fn_queue *q, struct rte_mbuf *m, uint8_t *l3)
{
	const struct fn_nexthop_cache *c = &q->nexthop;
	uint64_t w0, w1;

	memcpy(&w0, &c->eth, 8);
	memcpy(&w1, (const uint8_t *)&c->eth + 6, 8);
	memcpy(l3 - RTE_ETHER_HDR_LEN, &w0, 8);
	memcpy(l3 - RTE_ETHER_HDR_LEN + 6, &w1, 8);
	m->data_off -= RTE_ETHER_HDR_LEN;
	m->data_len += RTE_ETHER_HDR_LEN;
	m->pkt_len += RTE_ETHER_HDR_LEN;
	m->tx_offload = rte_mbuf_tx_offload(RTE_ETHER_HDR_LEN, sizeof(struct rte_ipv4_hdr),
					    0, 0, 0, 0, 0);
}

/*
 * fn_ipv4_output() inline for its common case, a reply sent in the frame
 * of its request (udp.c) to the cached next hop; anything else goes the
 * whole way. The same outcome. m's data is at the IPv4 header l3, right
 * after the Ethernet header the request came with. dst is the header's
 * destination, which the caller has in a register.
 */
static inline int fn_ipv4_output_in_frame(struct fn_queue *q, struct rte_mbuf *m, uint8_t *l3,
					  uint32_t dst)
{
	if (likely(fn_ipv4_to_cached_nexthop(q, dst))) {
		fn_ipv4_in_frame_eth(q, m, l3);
		fn_tx(q, m);
		return 0;
	}
	return fn_ipv4_output(q, m);
}

/* Hand a finished packet (data at the IPv4 header) to its next hop. Takes m. */
void fn_ipv4_xmit(struct fn_queue *q, struct rte_mbuf *m, uint32_t nexthop);

#endif /* FN_IPV4_H */
