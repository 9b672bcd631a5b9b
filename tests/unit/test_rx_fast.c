/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The receive fast path (stack/rx_fast.c) against the careful path it
 * stands in for: two identical stacks, one fed through fn_eth_input_burst()
 * (what the poll loop calls), the other through fn_eth_input_careful()
 * (counted as the poll loop counts), get the same frames, random and
 * mutated (valid UDP, bad checksums, truncations, padding, IPv4 options,
 * fragments, broadcast and multicast, other ethertypes and protocols, odd
 * sources, unbound ports, every device checksum flag). After each frame
 * their counters, deliveries, neighbour tables, the received frame's state
 * and every frame they sent (the echo's reply, ICMP errors, ARP requests)
 * must be identical, byte for byte. In stretches of the run, both have
 * rules on their hooks (a stand-in for the interpreter, through the
 * queue's tracer slot) that mark and drop by the packet's bytes: the hooks
 * must see the same packets and decide the same. Fixed seed: a failure
 * repeats.
 */
#include <string.h>

#include "unit.h"
#include "stack/eth.h"
#include "stack/neigh.h"
#include "stack/udp.h"

#define FRAMES 30000
#define ECHO_PORT 7      /* echoes in the request's frame */
#define SINK_PORT 8      /* records only */

static uint64_t rng = 0x2545f4914f6cdd1dull;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static unsigned pick(unsigned n)
{
	return (unsigned)(rnd() % n);
}

struct side {
	struct fragnet *fn;
	struct fn_queue *q;
	unsigned delivered;
	uint8_t last[2048];
	unsigned last_len;
	unsigned hook_runs;
	uint64_t hook_seen;      /* a running hash of what the hooks saw */
};

static struct side *sides[2];

#if FN_WITH_FILTER
/* The rules: every hook sees the packet; input drops the datagrams from
 * source port 10001 whose prerouting mark it sees, prerouting drops those
 * from 10002 and marks those from 10001. */
static enum fn_verdict rules(struct fn_filter_queue *fq, enum fn_hook hook, struct fn_pkt *pkt)
{
	struct fn_queue *q = container_of(fq, struct fn_queue, filter);
	struct side *s = sides[0]->q == q ? sides[0] : sides[1];
	uint16_t sport = 0;

	s->hook_runs++;
	s->hook_seen = s->hook_seen * 31 + hook * 7 + pkt->l3_len + pkt->mark + pkt->pkttype +
		       pkt->fragoff + pkt->l4_off + pkt->l4proto + pkt->flags;
	for (uint32_t i = 0; i < pkt->l3_len; i++)
		s->hook_seen = s->hook_seen * 3 + pkt->l3[i];
	if (pkt->l4_off && pkt->l3_len >= pkt->l4_off + 2u)
		sport = (uint16_t)(pkt->l3[pkt->l4_off] << 8 | pkt->l3[pkt->l4_off + 1]);
	if (hook == FN_HOOK_PREROUTING && sport == 10001)
		pkt->mark = 0x5a;
	if (hook == FN_HOOK_PREROUTING && sport == 10002)
		return FN_DROP;
	if (hook == FN_HOOK_INPUT && pkt->mark == 0x5a)
		return FN_DROP;
	return FN_ACCEPT;
}

static void rules_on(struct side *s, bool on)
{
	s->q->filter.hooks = on ? 1u << FN_HOOK_PREROUTING | 1u << FN_HOOK_INPUT |
				  1u << FN_HOOK_OUTPUT | 1u << FN_HOOK_POSTROUTING : 0;
	s->q->filter.tracer = on ? rules : NULL;
}
#else
static void rules_on(struct side *s, bool on)
{
	(void)s;
	(void)on;
}
#endif

static void echo(struct fragnet_queue *fq, const struct fragnet_dgram *d, void *arg)
{
	struct side *s = arg;

	s->delivered++;
	fn_udp_send((struct fn_queue *)fq, d->dst_port, d->src_addr, d->src_port, d->data,
		    d->len);
}

static void sink(struct fragnet_queue *fq, const struct fragnet_dgram *d, void *arg)
{
	struct side *s = arg;

	(void)fq;
	s->delivered++;
	s->last_len = d->len;
	memcpy(s->last, d->data, d->len);
}

/* The two stacks start alike: same IPv4 ID secret and counters, same clock. */
static void twin(struct side *a, struct side *b)
{
	b->q->ip_id_key = a->q->ip_id_key;
	memcpy(b->q->ip_id, a->q->ip_id, sizeof(a->q->ip_id));
	b->q->ip_id_last_dst = a->q->ip_id_last_dst;
	b->q->ip_id_last = b->q->ip_id + (a->q->ip_id_last - a->q->ip_id);
	b->q->clk = a->q->clk;
	b->q->icmp_bucket = a->q->icmp_bucket;
}

static const uint32_t sources[] = {
	H_PEER, RTE_BE32(RTE_IPV4(10, 0, 0, 3)), RTE_BE32(RTE_IPV4(10, 0, 0, 77)), H_FAR,
	RTE_BE32(RTE_IPV4(127, 0, 0, 1)), RTE_BE32(RTE_IPV4(224, 0, 0, 1)),
	RTE_BE32(RTE_IPV4(10, 0, 0, 255)), RTE_BE32(RTE_IPV4(0, 1, 2, 3)), H_ADDR,
	UINT32_MAX,
};

/* A frame, most of them valid UDP to us, some with one or more of the
 * mutations; returns its length. */
static size_t make_frame(uint8_t *f, uint64_t *ol_flags)
{
	static const uint64_t ip_flags[] = {
		RTE_MBUF_F_RX_IP_CKSUM_UNKNOWN, RTE_MBUF_F_RX_IP_CKSUM_GOOD,
		RTE_MBUF_F_RX_IP_CKSUM_BAD, RTE_MBUF_F_RX_IP_CKSUM_NONE };
	static const uint64_t l4_flags[] = {
		RTE_MBUF_F_RX_L4_CKSUM_UNKNOWN, RTE_MBUF_F_RX_L4_CKSUM_GOOD,
		RTE_MBUF_F_RX_L4_CKSUM_BAD, RTE_MBUF_F_RX_L4_CKSUM_NONE };
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)f;
	uint8_t *ip = f + sizeof(*eth), payload[600];
	uint32_t src = pick(3) ? H_PEER : sources[pick(RTE_DIM(sources))];
	uint32_t dst = pick(8) ? H_ADDR : (pick(2) ? RTE_BE32(RTE_IPV4(10, 0, 0, 255))
						   : RTE_BE32(RTE_IPV4(10, 0, 0, 9)));
	uint16_t dport = pick(4) ? ECHO_PORT : (pick(2) ? SINK_PORT : 9);
	size_t plen = pick(4) ? pick(64) : pick(sizeof(payload)), n;
	struct tp_ip opt = { .id = (uint16_t)rnd() };

	for (size_t i = 0; i < plen; i++)
		payload[i] = (uint8_t)rnd();
	if (pick(10) == 0)   /* a fragment: first, middle or last */
		opt.frag = (uint16_t)(pick(3) == 0 ? TP_MF : pick(2) ? TP_MF | (1 + pick(50))
								     : 1 + pick(50));
	if (pick(20) == 0)
		opt.frag |= TP_DF;
	eth->dst_addr = h_mac;
	eth->src_addr = h_peer_mac;
	eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV4);
	n = sizeof(*eth) + tp_udp(ip, src, dst, 10000 + pick(4), dport, payload, plen, &opt);
	*ol_flags = pick(2) ? 0 : ip_flags[pick(4)] | l4_flags[pick(4)];

	switch (pick(24)) {
	case 0:   /* another MAC: broadcast, multicast, another host's */
		memset(&eth->dst_addr, 0xff, 6);
		if (pick(3) == 0)
			eth->dst_addr.addr_bytes[0] = 0x01;
		else if (pick(2))
			eth->dst_addr.addr_bytes[5] = 0x42, eth->dst_addr.addr_bytes[0] = 0x02;
		break;
	case 1:   /* another ethertype */
		eth->ether_type = pick(2) ? RTE_BE16(RTE_ETHER_TYPE_IPV6) :
			pick(2) ? RTE_BE16(RTE_ETHER_TYPE_VLAN) : RTE_BE16(RTE_ETHER_TYPE_ARP);
		break;
	case 2:   /* truncated anywhere */
		n = pick((unsigned)n + 1);
		break;
	case 3:   /* Ethernet padding after the datagram */
		memset(f + n, 0, 32);
		n += 1 + pick(32);
		break;
	case 4:   /* a bad IPv4 header checksum */
		ip[10 + pick(2)] ^= (uint8_t)(1 + pick(255));
		break;
	case 5:   /* a bad UDP checksum, or none */
		if (pick(2))
			ip[26 + pick(2)] ^= (uint8_t)(1 + pick(255));
		else
			ip[26] = ip[27] = 0;
		break;
	case 6: { /* IPv4 options (a NOP list), header checksum fixed */
		size_t words = 1 + pick(10), extra = words * 4;

		memmove(ip + 20 + extra, ip + 20, n - sizeof(*eth) - 20);
		memset(ip + 20, 1, extra);
		ip[0] = (uint8_t)(0x45 + words);
		n += extra;
		ip[2] = (uint8_t)((n - sizeof(*eth)) >> 8);
		ip[3] = (uint8_t)(n - sizeof(*eth));
		tp_ipv4_fix(ip);
		break;
	}
	case 7:   /* another transport: ICMP, TCP, or unknown */
		ip[9] = pick(3) == 0 ? IPPROTO_ICMP : pick(2) ? IPPROTO_TCP : 200;
		tp_ipv4_fix(ip);
		break;
	case 8:   /* wrong lengths, IPv4's or UDP's, checksum fixed or not */
		if (pick(2)) {
			uint16_t tl = (uint16_t)rnd() % (n + 8);

			ip[2] = (uint8_t)(tl >> 8);
			ip[3] = (uint8_t)tl;
		} else {
			uint16_t ul = (uint16_t)rnd() % (n + 8);

			ip[24] = (uint8_t)(ul >> 8);
			ip[25] = (uint8_t)ul;
		}
		if (pick(2))
			tp_ipv4_fix(ip);
		break;
	case 9:   /* another version, or a header length below 20 */
		ip[0] = pick(2) ? (uint8_t)(0x05 | pick(16) << 4) : (uint8_t)(0x40 | pick(5));
		tp_ipv4_fix(ip);
		break;
	case 10: case 11: { /* random bytes flipped in the headers */
		unsigned flips = 1 + pick(4);

		for (unsigned i = 0; i < flips && n > 0; i++)
			f[pick((unsigned)(n < 42 ? n : 42))] ^= (uint8_t)(1 + pick(255));
		if (pick(2) && n >= sizeof(*eth) + 20 && (ip[0] & 0xf) == 5)
			tp_ipv4_fix(ip);
		break;
	}
	default:
		break;
	}
	return n;
}

/* The two entries, one frame at a time, as the poll loop hands them over
 * and counts them. */
static void rx_fast(struct fn_queue *q, struct rte_mbuf *m)
{
	fn_eth_input_burst(q, &m, 1);
}

static void rx_careful(struct fn_queue *q, struct rte_mbuf *m)
{
	q->stats.rx_packets++;
	q->stats.rx_bytes += m->pkt_len;
	fn_eth_input_careful(q, m);
}

static struct rte_mbuf *frame_of(struct fragnet *fn, const uint8_t *f, size_t n, uint64_t ol)
{
	struct rte_mbuf *m = h_frame(fn, f, n);

	m->ol_flags = ol;
	return m;
}

/* Both stacks in the same state, and what they sent the same. */
static void assert_same(struct side *a, struct side *b, const uint32_t *addrs, unsigned n_addrs)
{
	struct fn_queue *qa = a->q, *qb = b->q;

	assert_memory_equal(&qa->stats, &qb->stats, sizeof(qa->stats));
	assert_int_equal(a->hook_runs, b->hook_runs);
	assert_int_equal(a->hook_seen, b->hook_seen);
	assert_int_equal(a->delivered, b->delivered);
	assert_int_equal(a->last_len, b->last_len);
	assert_memory_equal(a->last, b->last, a->last_len);
	assert_int_equal(qa->n_tx, qb->n_tx);
	for (unsigned i = 0; i < qa->n_tx; i++) {
		assert_int_equal(qa->tx[i]->pkt_len, qb->tx[i]->pkt_len);
		assert_int_equal(qa->tx[i]->data_len, qb->tx[i]->data_len);
		assert_int_equal(qa->tx[i]->ol_flags, qb->tx[i]->ol_flags);
		assert_memory_equal(rte_pktmbuf_mtod(qa->tx[i], void *),
				    rte_pktmbuf_mtod(qb->tx[i], void *), qa->tx[i]->data_len);
	}
	assert_int_equal(qa->n_done, qb->n_done);
	for (unsigned i = 0; i < qa->n_done; i++) {
		assert_int_equal(qa->done[i]->data_off, qb->done[i]->data_off);
		assert_int_equal(qa->done[i]->data_len, qb->done[i]->data_len);
		assert_int_equal(qa->done[i]->pkt_len, qb->done[i]->pkt_len);
	}
	assert_int_equal(qa->learned_src, qb->learned_src);
	assert_int_equal(qa->learned_until, qb->learned_until);
	assert_int_equal(qa->arp.n, qb->arp.n);
	assert_int_equal(qa->arp.n_req, qb->arp.n_req);
	for (unsigned i = 0; i < n_addrs; i++) {
		struct rte_ether_addr ma = { 0 }, mb = { 0 };

		assert_int_equal(fn_neigh_get(a->fn->neigh, addrs[i], qa->clk.now, &ma),
				 fn_neigh_get(b->fn->neigh, addrs[i], qb->clk.now, &mb));
		assert_memory_equal(&ma, &mb, sizeof(ma));
	}
}

static void test_fast_equals_careful(void **state)
{
	struct side a = { .fn = h_new(1) }, b = { .fn = h_new(1) };
	uint64_t hz;

	(void)state;
	a.q = a.fn->queues[0];
	b.q = b.fn->queues[0];
	sides[0] = &a;
	sides[1] = &b;
	twin(&a, &b);
	hz = a.q->clk.hz;
	assert_int_equal(fn_udp_bind(a.fn->udp, RTE_BE16(ECHO_PORT), echo, &a), 0);
	assert_int_equal(fn_udp_bind(b.fn->udp, RTE_BE16(ECHO_PORT), echo, &b), 0);
	assert_int_equal(fn_udp_bind(a.fn->udp, RTE_BE16(SINK_PORT), sink, &a), 0);
	assert_int_equal(fn_udp_bind(b.fn->udp, RTE_BE16(SINK_PORT), sink, &b), 0);
	for (unsigned i = 0; i < FRAMES; i++) {
		uint8_t f[2048];
		uint64_t ol;
		size_t n = make_frame(f, &ol);

		/* rules on the hooks for a stretch of 2000 frames in 6000 */
		rules_on(&a, i % 6000 >= 4000);
		rules_on(&b, i % 6000 >= 4000);
		/* time moves on, sometimes past the learning interval */
		a.q->clk.now = b.q->clk.now = a.q->clk.now + (pick(8) == 0 ? hz : hz / 1000);
		/* the frames differ only in their pool */
		rx_fast(a.q, frame_of(a.fn, f, n, ol));
		rx_careful(b.q, frame_of(b.fn, f, n, ol));
		assert_same(&a, &b, sources, RTE_DIM(sources));
		h_tx_clear(a.q);
		h_tx_clear(b.q);
	}
#if FN_WITH_FILTER
	assert_true(a.hook_runs > FRAMES / 6);
#endif
	rules_on(&a, false);
	rules_on(&b, false);
	/* the generator reaches deliveries, not only drops (31 % of the
	 * frames in the UDP-only build, which refuses IPv4 options) */
	assert_true(a.delivered > FRAMES / 4);
	assert_int_equal(h_release(a.fn), 0);
	assert_int_equal(h_release(b.fn), 0);
}

/* A frame the fast path takes is the careful path's: an echo's reply is
 * the same frame, and the counters agree, also with the device's word on
 * the checksums. */
static void test_valid_echo(void **state)
{
	struct side a = { .fn = h_new(1) }, b = { .fn = h_new(1) };
	uint8_t f[256];

	(void)state;
	a.q = a.fn->queues[0];
	b.q = b.fn->queues[0];
	twin(&a, &b);
	assert_int_equal(fn_udp_bind(a.fn->udp, RTE_BE16(ECHO_PORT), echo, &a), 0);
	assert_int_equal(fn_udp_bind(b.fn->udp, RTE_BE16(ECHO_PORT), echo, &b), 0);
	for (uint64_t ol = 0; ol < 4; ol++) {
		struct rte_ether_hdr *eth = (struct rte_ether_hdr *)f;
		uint64_t flags = ol ? RTE_MBUF_F_RX_IP_CKSUM_GOOD | RTE_MBUF_F_RX_L4_CKSUM_GOOD : 0;
		size_t n;

		eth->dst_addr = h_mac;
		eth->src_addr = h_peer_mac;
		eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV4);
		n = sizeof(*eth) + tp_udp(f + sizeof(*eth), H_PEER, H_ADDR, 4000,
					  ECHO_PORT, "hello", 5, NULL);
		rx_fast(a.q, frame_of(a.fn, f, n, flags));
		rx_careful(b.q, frame_of(b.fn, f, n, flags));
		/* the reply's checksums are right, also over a request's
		 * checksum the device verified */
		assert_same(&a, &b, sources, 1);
		assert_int_equal(a.delivered, ol + 1);
		assert_int_equal(a.q->n_tx, 1);
		assert_true(tp_checksums_ok(rte_pktmbuf_mtod(a.q->tx[0], uint8_t *) +
					    sizeof(*eth), a.q->tx[0]->pkt_len - sizeof(*eth)));
		h_tx_clear(a.q);
		h_tx_clear(b.q);
	}
	assert_int_equal(h_drops(a.q), 0);
	assert_int_equal(h_release(a.fn), 0);
	assert_int_equal(h_release(b.fn), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_echo),
		cmocka_unit_test(test_fast_equals_careful),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
