/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The receive fast path: what an echo server receives nearly always, a
 * datagram in one frame to our MAC, a 20-byte IPv4 header to our address,
 * no fragment, UDP to a bound port, valid lengths and checksums, and no
 * ingress hook to run. One pass over the three headers checks all of it
 * before anything is done to the frame, then delivers as the careful path
 * would (capture, neighbour learning, the callback). A frame that fails any
 * check goes untouched to the careful path (fn_eth_input_careful(): eth.c,
 * ipv4.c, udp.c), which counts the drop or takes the rarer way; so every
 * frame has the careful path's outcome, and only the cost differs
 * (tests/unit/test_rx_fast.c compares the two on random frames).
 */
#include <string.h>

#include <rte_byteorder.h>
#include <rte_prefetch.h>
#include <rte_udp.h>

#include "csum.h"
#include "eth.h"
#include "ipv4.h"
#include "udp.h"
#include "runtime/capture.h"
#include "runtime/runtime.h"

#define FRAG_BITS RTE_BE16(RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK)
#define INGRESS_HOOKS (1u << FN_HOOK_PREROUTING | 1u << FN_HOOK_INPUT)
#define HDRS (RTE_ETHER_HDR_LEN + sizeof(struct rte_ipv4_hdr) + sizeof(struct rte_udp_hdr))

/* The frame's destination MAC is ours: the 8 bytes from it (the frame is
 * checked to be longer) against q->mac_word, the two bytes after the MAC
 * shifted out (rte_is_same_ether_addr() compares three 16-bit words). */
static inline bool to_our_mac(const struct fn_queue *q, const uint8_t *l2)
{
	uint64_t w;

	memcpy(&w, l2, 8);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return (w ^ q->mac_word) << 16 == 0;
#else
	return (w ^ q->mac_word) >> 16 == 0;
#endif
}

/* fn_udp_lookup() for the port the queue delivered to last, which most
 * datagrams go to, while no binding has changed: two compares instead of
 * the slot, the binding and its sequence counter read twice. As current as
 * a plain lookup: the generation is bumped after every change and read
 * before the lookup that fills the cache, so a change that races with the
 * fill leaves the cache under the old generation, refilled by the first
 * packet that sees the bump. */
static inline bool udp_lookup(struct fn_queue *q, uint16_t port, fragnet_recv_fn *cb, void **arg)
{
	struct fn_udp_cache *c = &q->last_port;
	const struct fn_udp_table *t = q->fn->udp;
	uint64_t gen = __atomic_load_n(&t->gen, __ATOMIC_ACQUIRE);

	if (likely(port == c->port && gen == c->gen)) {
		*cb = c->cb;
		*arg = c->arg;
		return true;
	}
	if (!fn_udp_lookup(t, port, cb, arg))
		return false;
	*c = (struct fn_udp_cache){ .port = port, .gen = gen, .cb = *cb, .arg = *arg };
	return true;
}

/* One frame: the fast path, or the careful one. Inline in both entries
 * below, so that the unit tests' fn_eth_input() runs the poll loop's code. */
static __rte_always_inline void input(struct fn_queue *q, struct rte_mbuf *m)
{
	uint8_t *l2 = rte_pktmbuf_mtod(m, uint8_t *);
	const struct rte_ether_hdr *eth = (const struct rte_ether_hdr *)l2;
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(ip + 1);
	uint16_t len = m->data_len, total, ulen;
	uint64_t ip_ck = m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK;
	uint64_t l4_ck = m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK;
	struct fragnet_dgram d;
	fragnet_recv_fn cb;
	bool l4_csum_ok, summed, known_src;
	void *arg;

	/* The frame and the fixed fields; pkt_len == data_len so that the
	 * careful path's adjust and trim come to the lengths set below. */
	if (unlikely(m->nb_segs != 1 || m->pkt_len != len || len < HDRS ||
		     !to_our_mac(q, l2) ||
		     eth->ether_type != RTE_BE16(RTE_ETHER_TYPE_IPV4) ||
		     ip->version_ihl != RTE_IPV4_VHL_DEF || ip->next_proto_id != IPPROTO_UDP ||
		     (ip->fragment_offset & FRAG_BITS) || ip->dst_addr != q->addr ||
		     (q->filter.hooks & INGRESS_HOOKS)))
		goto careful;
	/* lengths: the datagram within the frame, UDP's within the datagram */
	total = rte_be_to_cpu_16(ip->total_length);
	ulen = rte_be_to_cpu_16(udp->dgram_len);
	/* in int: ulen >= 8 and ulen <= total - 20 make total >= 28 */
	if (unlikely(total > len - RTE_ETHER_HDR_LEN || ulen < sizeof(*udp) ||
		     (int)ulen > (int)total - (int)sizeof(*ip)))
		goto careful;
	if (unlikely(ip_ck != RTE_MBUF_F_RX_IP_CKSUM_GOOD &&
		     (ip_ck == RTE_MBUF_F_RX_IP_CKSUM_BAD || !fn_csum_ipv4_hdr_ok(ip))))
		goto careful;
	known_src = fn_ipv4_learned(q, ip->src_addr);
	if (unlikely(!known_src && fn_ipv4_martian_source(q->fn, ip->src_addr)))
		goto careful;
	/* as fn_ipv4_input() reads the device's word on the UDP checksum */
	l4_csum_ok = l4_ck == RTE_MBUF_F_RX_L4_CKSUM_GOOD || l4_ck == RTE_MBUF_F_RX_L4_CKSUM_NONE;
	/* summed here: the record below says so, and the value is kept
	 * rather than read again after the calls in between */
	summed = udp->dgram_cksum != 0 && !l4_csum_ok;
	if (summed &&
	    !fn_csum_sum_ok(fn_csum_add_pseudo_seg(0, ip, IPPROTO_UDP, ulen)))
		goto careful;
	if (unlikely(!udp_lookup(q, udp->dst_port, &cb, &arg)))
		goto careful;

	/* Accepted: what the careful path does to such a frame, in its order.
	 * The Ethernet header is stripped and the padding trimmed. */
	m->data_off += RTE_ETHER_HDR_LEN;
	m->data_len = m->pkt_len = total;
	fn_capture(q, FN_CAP_IN, (const uint8_t *)ip, total, FN_ACCEPT, 0);
	if (!known_src)
		fn_ipv4_learn_slow(q, l2, ip->src_addr);
	d = (struct fragnet_dgram){
		.src_addr = ip->src_addr, .dst_addr = ip->dst_addr,
		.src_port = udp->src_port, .dst_port = udp->dst_port,
		.data = udp + 1, .len = ulen - sizeof(*udp),
	};
	q->stats.rx_datagrams++;
	q->rx = (struct fn_rx_frame){
		.m = m, .udp = udp, .csum_verified = summed };
	cb((struct fragnet_queue *)q, &d, arg);
	q->rx.m = NULL;
	fn_rx_done(q, m);
	return;
careful:
	fn_eth_input_careful(q, m);
}

void fn_eth_input(struct fn_queue *q, struct rte_mbuf *m)
{
	input(q, m);
}

/* The loop is here, around the fast path inline, so that its registers are
 * saved once a burst rather than once a packet. */
void fn_eth_input_burst(struct fn_queue *q, struct rte_mbuf **pkts, uint16_t n)
{
	uint64_t bytes = 0;

	for (uint16_t i = 0; i < n; i++) {
		if (i + 1 < n)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 1], void *));
		bytes += pkts[i]->pkt_len;
		input(q, pkts[i]);
	}
	/* once a burst (stats.h: readers may see a burst-old value) */
	q->stats.rx_packets += n;
	q->stats.rx_bytes += bytes;
}
