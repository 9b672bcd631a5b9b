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

#include <rte_ip.h>
#include <rte_mbuf.h>

#include "filter/filter.h"
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
	uint8_t first = rte_be_to_cpu_32(src) >> 24;

	return first >= 224 || first == 127 || first == 0 || src == fn->addr ||
	       fn_is_broadcast(fn, src);
}

void fn_ipv4_learn_slow(struct fn_queue *q, const uint8_t *l2, uint32_t src);

/* Learn or confirm the neighbour that sent an accepted datagram (l2: its
 * Ethernet header, or NULL): see ipv4.c. Inline, since a queue checks its
 * last source only once a second: most packets stop at the first test. */
static inline void fn_ipv4_learn(struct fn_queue *q, const uint8_t *l2, uint32_t src)
{
	if (src == q->learned_src && (int64_t)(q->learned_until - q->clk.now) > 0)
		return;
	fn_ipv4_learn_slow(q, l2, src);
}

/* Draw the queue's secret for its IPv4 IDs (at queue creation). */
void fn_ipv4_ids_init(struct fn_queue *q);

/* Fill an IPv4 header (no options, checksum included) from us to dst. */
void fn_ipv4_header(struct fn_queue *q, struct rte_ipv4_hdr *ip, uint8_t proto,
		    uint32_t dst, uint16_t total_len);

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
uint32_t fn_ipv4_nexthop(const struct fragnet *fn, uint32_t dst);

/* Hand a finished packet (data at the IPv4 header) to its next hop. Takes m. */
void fn_ipv4_xmit(struct fn_queue *q, struct rte_mbuf *m, uint32_t nexthop);

#endif /* FN_IPV4_H */
