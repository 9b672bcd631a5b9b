/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * UDP. Bindings are shared by all queues and may change while packets flow
 * (a callback may bind), so each binding slot is read under a sequence
 * counter (udp.h).
 */
#include <errno.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_malloc.h>
#include <rte_spinlock.h>
#include <rte_udp.h>

#include "csum.h"
#include "icmp.h"
#include "ipv4.h"
#include "udp.h"
#include "runtime/export.h"
#include "runtime/runtime.h"

#define HDRS (sizeof(struct rte_ipv4_hdr) + sizeof(struct rte_udp_hdr))

struct fn_udp_table *fn_udp_table_create(int socket)
{
	struct fn_udp_table *t;

	t = rte_zmalloc_socket("fn_udp", sizeof(*t), RTE_CACHE_LINE_SIZE, socket);
	if (t == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	rte_spinlock_init(&t->lock);
	return t;
}

void fn_udp_table_free(struct fn_udp_table *t)
{
	rte_free(t);
}

static void write_binding(struct fn_udp_binding *b, uint16_t port, fragnet_recv_fn cb, void *arg)
{
	__atomic_store_n(&b->seq, b->seq + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	b->port = port;
	b->cb = cb;
	b->arg = arg;
	__atomic_store_n(&b->seq, b->seq + 1, __ATOMIC_RELEASE);
}

/* A binding changed: the queues' cached lookups are stale. */
static void bump_gen(struct fn_udp_table *t)
{
	__atomic_store_n(&t->gen, t->gen + 1, __ATOMIC_RELEASE);
}

int fn_udp_bind(struct fn_udp_table *t, uint16_t port, fragnet_recv_fn cb, void *arg)
{
	int rc = -ENOSPC;

	if (port == 0 || cb == NULL)
		return -EINVAL;
	rte_spinlock_lock(&t->lock);
	if (t->slot[port]) {
		rc = -EADDRINUSE;
	} else {
		for (unsigned i = 0; i < FRAGNET_MAX_PORTS; i++) {
			if (t->b[i].port == 0) {
				write_binding(&t->b[i], port, cb, arg);
				__atomic_store_n(&t->slot[port], i + 1, __ATOMIC_RELEASE);
				bump_gen(t);
				rc = 0;
				break;
			}
		}
	}
	rte_spinlock_unlock(&t->lock);
	return rc;
}

int fn_udp_unbind(struct fn_udp_table *t, uint16_t port)
{
	unsigned i;

	if (port == 0)
		return -EINVAL;
	rte_spinlock_lock(&t->lock);
	i = t->slot[port];
	if (i) {
		__atomic_store_n(&t->slot[port], 0, __ATOMIC_RELEASE);
		write_binding(&t->b[i - 1], 0, NULL, NULL);
		bump_gen(t);
	}
	rte_spinlock_unlock(&t->lock);
	return i ? 0 : -ENOENT;
}

bool fn_udp_is_bound(const struct fn_udp_table *t, uint16_t port)
{
	return __atomic_load_n(&t->slot[port], __ATOMIC_ACQUIRE) != 0;
}

/* One's complement sum of the pseudo header and the UDP datagram. */
static uint64_t udp_sum(const struct rte_ipv4_hdr *ip, const struct rte_udp_hdr *udp,
			uint16_t ulen)
{
	return fn_csum_add_pseudo(fn_csum_add(0, udp, ulen), ip, IPPROTO_UDP, ulen);
}

void fn_udp_input(struct fn_queue *q, struct rte_mbuf *frame, uint8_t *l3, uint32_t len,
		  uint8_t pkttype, bool l4_csum_ok)
{
	const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)l3;
	uint32_t ihl = rte_ipv4_hdr_len(ip);
	const struct rte_udp_hdr *udp = (const struct rte_udp_hdr *)(l3 + ihl);
	struct fragnet_dgram d;
	fragnet_recv_fn cb;
	uint16_t ulen;
	void *arg;

	if (unlikely(len < ihl + sizeof(*udp)))
		goto malformed;
	ulen = rte_be_to_cpu_16(udp->dgram_len);
	if (unlikely(ulen < sizeof(*udp) || ulen > len - ihl))
		goto malformed;
	if (udp->dgram_cksum != 0 && !l4_csum_ok && !fn_csum_sum_ok(udp_sum(ip, udp, ulen))) {
		FN_DROP(&q->stats, UDP_CSUM);
		return;
	}
	if (unlikely(!fn_udp_lookup(q->fn->udp, udp->dst_port, &cb, &arg))) {
		FN_DROP(&q->stats, UDP_NO_PORT);
		if (pkttype == FN_PKT_HOST)
			fn_icmp_error(q, l3, len, FN_ICMP_DEST_UNREACH, FN_ICMP_PORT_UNREACH);
		return;
	}
	d = (struct fragnet_dgram){
		.src_addr = ip->src_addr, .dst_addr = ip->dst_addr,
		.src_port = udp->src_port, .dst_port = udp->dst_port,
		.data = udp + 1, .len = ulen - sizeof(*udp),
	};
	q->stats.rx_datagrams++;
	if (frame != NULL && ihl == sizeof(*ip))
		q->rx = (struct fn_rx_frame){
			.m = frame, .udp = (struct rte_udp_hdr *)udp,
			.csum_verified = udp->dgram_cksum != 0 && !l4_csum_ok };
	cb((struct fragnet_queue *)q, &d, arg);
	q->rx.m = NULL;
	return;
malformed:
	FN_DROP(&q->stats, UDP_MALFORMED);
}

static void udp_header(struct rte_udp_hdr *udp, uint16_t sport, uint16_t dport, uint16_t ulen)
{
	udp->src_port = sport;
	udp->dst_port = dport;
	udp->dgram_len = rte_cpu_to_be_16(ulen);
	udp->dgram_cksum = 0;
}

/* A datagram larger than one frame: build it whole in tx_dgram, then let
 * IPv4 fragment it. */
static int send_linear(struct fn_queue *q, uint16_t sport, uint32_t dst, uint16_t dport,
		       const void *data, size_t len)
{
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)q->tx_dgram;
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(ip + 1);
	uint16_t ulen = sizeof(*udp) + len;

	if (!FN_WITH_FRAG)
		return -EMSGSIZE;
	if ((const uint8_t *)data != (const uint8_t *)(udp + 1))
		memmove(udp + 1, data, len);
	udp_header(udp, sport, dport, ulen);
	fn_ipv4_header(q, ip, IPPROTO_UDP, dst, HDRS + len);
	udp->dgram_cksum = fn_csum_finish_udp(udp_sum(ip, udp, ulen));
	q->stats.tx_datagrams++;
	return fn_ipv4_output_linear(q, q->tx_dgram, HDRS + len);
}

/* Broadcast reaches every host on the LAN: only for applications that ask. */
static inline bool broadcast_refused(const struct fn_queue *q, uint32_t dst)
{
	return unlikely(fn_is_broadcast(q->fn, dst)) &&
	       !(q->fn->cfg.flags & FRAGNET_F_BROADCAST);
}

/* The UDP checksum of a datagram built in m: the device's, or ours. */
static void udp_csum_out(struct fn_queue *q, struct rte_mbuf *m, struct rte_ipv4_hdr *ip,
			 struct rte_udp_hdr *udp, uint16_t ulen)
{
	if (q->fn->port.tx_csum) {
		m->ol_flags |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_UDP_CKSUM;
		m->l2_len = sizeof(struct rte_ether_hdr);
		m->l3_len = sizeof(*ip);
		udp->dgram_cksum = rte_ipv4_phdr_cksum(ip, m->ol_flags);
	} else {
		udp->dgram_cksum = fn_csum_finish_udp(udp_sum(ip, udp, ulen));
	}
}

/*
 * Send the payload of the datagram being delivered from the frame it came
 * in: no mbuf to allocate, no copy, and, when its checksum was verified
 * here, no sum over the payload either: the checksum is updated for the
 * addresses and ports that change (RFC 1624), as the payload and length
 * stay. The IPv4 header is written anew (its own checksum is a sum of 20
 * bytes, no more than an update of the fields that change), with an ID
 * drawn as for any datagram. The frame gains a reference: the receive path
 * still drops its own once the callback has returned (fn_rx_done()), so the
 * callback may read the payload until then, whatever becomes of the send.
 */
static int send_in_frame(struct fn_queue *q, uint16_t sport, uint32_t dst, uint16_t dport,
			 size_t len)
{
	struct rte_mbuf *m = q->rx.m;
	struct rte_udp_hdr *udp = q->rx.udp;
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)udp - 1;
	uint16_t ulen = sizeof(*udp) + len;   /* the request's, checked by the caller */
	uint32_t ports, ports_new;
	uint64_t addrs, addrs_new;

	/* the request's ports and addresses as one word each, to tell an
	 * echo (both swapped) with one compare each */
	memcpy(&ports, udp, 4);
	memcpy(&addrs, &ip->src_addr, 8);
	q->rx.m = NULL;   /* one send per frame */
	rte_mbuf_refcnt_update(m, 1);
	m->ol_flags = 0;   /* the receive flags */
	m->data_len = m->pkt_len = sizeof(*ip) + ulen;   /* bytes after the datagram */
	udp->src_port = sport;
	udp->dst_port = dport;
	memcpy(&ports_new, udp, 4);
	fn_ipv4_header(q, ip, IPPROTO_UDP, dst, sizeof(*ip) + ulen);
	memcpy(&addrs_new, &ip->src_addr, 8);
	if (!q->rx.csum_verified || q->fn->port.tx_csum) {
		/* the request's checksum (one the device verified) is not
		 * part of the sum */
		udp->dgram_cksum = 0;
		udp_csum_out(q, m, ip, udp, ulen);
	} else if (ports_new != (ports >> 16 | ports << 16) ||
		   addrs_new != (addrs >> 32 | addrs << 32)) {
		/* not an echo, which swaps what the checksum covers: the
		 * same sum */
		uint64_t from = (uint64_t)(uint32_t)addrs + (addrs >> 32) + (ports & 0xffff) +
				(ports >> 16);
		uint64_t to = (uint64_t)q->addr + dst + sport + dport;

		udp->dgram_cksum = fn_csum_replace(udp->dgram_cksum, from, to);
	}
	q->stats.tx_datagrams++;
	return fn_ipv4_output_in_frame(q, m, (uint8_t *)ip, dst);
}

int fn_udp_send_mbuf(struct fn_queue *q, struct rte_mbuf *m, uint16_t sport,
		     uint32_t dst, uint16_t dport)
{
	uint32_t len = m->pkt_len;
	struct rte_ipv4_hdr *ip;
	struct rte_udp_hdr *udp;

	if (broadcast_refused(q, dst)) {
		rte_pktmbuf_free(m);
		return -EACCES;
	}
	if (HDRS + len > q->fn->port.mtu) {
		int rc;

		if (len > FRAGNET_MAX_DGRAM) {
			rte_pktmbuf_free(m);
			return -EMSGSIZE;
		}
		rc = send_linear(q, sport, dst, dport, rte_pktmbuf_mtod(m, void *), len);
		rte_pktmbuf_free(m);
		return rc;
	}
	ip = (struct rte_ipv4_hdr *)rte_pktmbuf_prepend(m, HDRS);
	udp = (struct rte_udp_hdr *)(ip + 1);
	udp_header(udp, sport, dport, sizeof(*udp) + len);
	fn_ipv4_header(q, ip, IPPROTO_UDP, dst, HDRS + len);
	udp_csum_out(q, m, ip, udp, sizeof(*udp) + len);
	q->stats.tx_datagrams++;
	return fn_ipv4_output(q, m);
}

/* A payload sent in a frame of its own: out of line, so that the echo's
 * in-frame send does not pay for its registers. */
static __rte_noinline int send_copy(struct fn_queue *q, uint16_t sport, uint32_t dst,
				    uint16_t dport, const void *data, size_t len)
{
	struct rte_mbuf *m = fn_alloc(q);

	if (unlikely(m == NULL))
		return -ENOBUFS;
	memcpy(rte_pktmbuf_append(m, len), data, len);
	return fn_udp_send_mbuf(q, m, sport, dst, dport);
}

/* fragnet_udp_send() the whole way: any payload, any destination. */
static __rte_noinline int send_any(struct fn_queue *q, uint16_t sport, uint32_t dst,
				   uint16_t dport, const void *data, size_t len)
{
	if (len > FRAGNET_MAX_DGRAM)
		return -EMSGSIZE;
	if (broadcast_refused(q, dst))
		return -EACCES;
	if (HDRS + len > q->fn->port.mtu)
		return send_linear(q, sport, dst, dport, data, len);
	if (q->rx.m != NULL && data == q->rx.udp + 1 &&
	    len == rte_be_to_cpu_16(q->rx.udp->dgram_len) - sizeof(struct rte_udp_hdr))
		return send_in_frame(q, sport, dst, dport, len);
	return send_copy(q, sport, dst, dport, data, len);
}

/*
 * An echo's reply when all is as for the last one: the payload sent back
 * in the frame it came in, to its source from the port it came to (so the
 * UDP checksum, verified here, stays: no device fills one), to the last
 * destination (its IPv4 ID counter kept) already found routed to the cached
 * next hop (so not a broadcast either), with room on the transmit queue. Then it is what send_in_frame() would do,
 * with no call on the way, so that fragnet_udp_send() saves no register
 * for it: every check comes first, reads only, and one that fails leaves
 * the datagram to send_any(), which gives it the same outcome the long way.
 */
static __rte_always_inline bool echo_in_frame(struct fn_queue *q, uint16_t sport, uint32_t dst,
					      uint16_t dport, const void *data, size_t len)
{
	struct rte_mbuf *m = q->rx.m;
	struct rte_udp_hdr *udp = q->rx.udp;
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)udp - 1;
	const struct fragnet *fn = q->fn;
	uint16_t total = sizeof(*ip) + sizeof(*udp) + len;

	if (m == NULL || data != udp + 1 ||
	    len + sizeof(*udp) != rte_be_to_cpu_16(udp->dgram_len) ||
	    dst != ip->src_addr || ip->dst_addr != q->addr ||
	    sport != udp->dst_port || dport != udp->src_port ||
	    !q->rx.csum_verified || fn->port.tx_csum || HDRS + len > fn->port.mtu ||
	    dst != q->ip_id_last_dst || dst != q->nexthop.dst ||
	    !fn_ipv4_cached_nexthop_ok(q) || q->n_tx == FN_TX_PENDING)
		return false;
	q->rx.m = NULL;   /* one send per frame */
	rte_mbuf_refcnt_update(m, 1);
	m->ol_flags = 0;   /* the receive flags */
	m->data_len = m->pkt_len = total;
	udp->src_port = sport;
	udp->dst_port = dport;
	fn_ipv4_header_id(q, ip, IPPROTO_UDP, dst, total, fn_ipv4_next_id_last(q));
	q->stats.tx_datagrams++;
	fn_ipv4_in_frame_eth(q, m, (uint8_t *)ip);
	q->tx[q->n_tx++] = m;
	return true;
}

FN_EXPORT int fragnet_udp_send(struct fragnet_queue *fq, uint16_t sport, uint32_t dst,
			       uint16_t dport, const void *data, size_t len)
{
	struct fn_queue *q = (struct fn_queue *)fq;

	if (likely(echo_in_frame(q, sport, dst, dport, data, len)))
		return 0;
	return send_any(q, sport, dst, dport, data, len);
}
