/* SPDX-License-Identifier: BSD-3-Clause */
/* Reassembly: order, duplicates, overlaps, timeouts and the memory bound. */
#include <stdlib.h>
#include <string.h>

#include <rte_ring.h>

#include "unit.h"
#include "runtime/port.h"
#include "stack/eth.h"
#include "stack/ipv4.h"
#include "stack/reasm.h"
#include "stack/rss.h"
#include "stack/udp.h"

#define PAYLOAD 3000

struct frag {
	uint32_t off, len;   /* in bytes of the IP payload */
	bool more;
};

static uint8_t dgram[70000];
static size_t dgram_len;

static void make_datagram_from(uint32_t src, uint16_t id, size_t payload_len)
{
	static uint8_t payload[66000];

	for (size_t i = 0; i < payload_len; i++)
		payload[i] = i * 13 + id;
	dgram_len = tp_udp(dgram, src, H_ADDR, 4000, 7, payload, payload_len,
			   &(struct tp_ip){ .id = id });
}

static void make_datagram(uint16_t id, size_t payload_len)
{
	make_datagram_from(H_PEER, id, payload_len);
}

/* Host i of 10.0.2.0/24, the senders of tests that want many. */
static uint32_t host(unsigned i)
{
	return rte_cpu_to_be_32(RTE_IPV4(10, 0, 2, 1 + i));
}

static void send_frag(struct fragnet *fn, uint32_t off, uint32_t len, bool more)
{
	static uint8_t buf[2048];

	fn_eth_input(fn->queues[0], h_ip_frame(fn, buf, tp_fragment(buf, dgram, off, len, more)));
}

/* Split the current datagram into n pieces of `step` bytes. */
static unsigned split(struct frag *f, uint32_t step)
{
	uint32_t total = dgram_len - 20;
	unsigned n = 0;

	for (uint32_t off = 0; off < total; off += step, n++) {
		f[n].off = off;
		f[n].len = RTE_MIN(step, total - off);
		f[n].more = off + step < total;
	}
	return n;
}

struct fixture {
	struct h_fix h;            /* first: h_teardown() frees the whole fixture */
	struct h_rx rx;
	struct fn_reasm *saved;    /* the queue's own table while a test swaps it */
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	fx->h.fn = h_new(1);
	assert_int_equal(fn_udp_bind(fx->h.fn->udp, RTE_BE16(7), h_record, &fx->rx), 0);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	struct fn_queue *q = fx->h.fn->queues[0];

	if (fx->saved) {
		fn_reasm_free(q->reasm);
		q->reasm = fx->saved;
	}
	return h_teardown(state);
}

static void check_delivered(struct fixture *fx, unsigned n)
{
	assert_int_equal(fx->rx.n, n);
	assert_int_equal(fx->rx.last.len, dgram_len - 28);
	assert_memory_equal(fx->rx.data, dgram + 28, dgram_len - 28);
	assert_int_equal(fn_reasm_pending(fx->h.fn->queues[0]->reasm), 0);
	assert_int_equal(fn_reasm_mem(fx->h.fn->queues[0]->reasm), 0);
}

static void test_every_order(void **state)
{
	/* All 24 orders of 4 fragments. */
	static const unsigned perms[24][4] = {
		{0,1,2,3},{0,1,3,2},{0,2,1,3},{0,2,3,1},{0,3,1,2},{0,3,2,1},
		{1,0,2,3},{1,0,3,2},{1,2,0,3},{1,2,3,0},{1,3,0,2},{1,3,2,0},
		{2,0,1,3},{2,0,3,1},{2,1,0,3},{2,1,3,0},{2,3,0,1},{2,3,1,0},
		{3,0,1,2},{3,0,2,1},{3,1,0,2},{3,1,2,0},{3,2,0,1},{3,2,1,0},
	};
	struct fixture *fx = *state;
	struct frag f[8];

	for (unsigned p = 0; p < 24; p++) {
		make_datagram(100 + p, PAYLOAD);
		assert_int_equal(split(f, 760), 4);
		for (unsigned i = 0; i < 4; i++) {
			const struct frag *x = &f[perms[p][i]];

			assert_int_equal(fx->rx.n, p);
			send_frag(fx->h.fn, x->off, x->len, x->more);
		}
		check_delivered(fx, p + 1);
		/* The filter sees the first fragment's link header, as in Linux. */
		assert_memory_equal(fx->h.fn->queues[0]->rx_l2 + 6, h_peer_mac.addr_bytes, 6);
	}
	assert_int_equal(h_drops(fx->h.fn->queues[0]), 0);
}

static void test_duplicates(void **state)
{
	struct fixture *fx = *state;
	struct frag f[8];
	unsigned n;

	make_datagram(1, PAYLOAD);
	n = split(f, 1480);
	send_frag(fx->h.fn, f[0].off, f[0].len, f[0].more);
	send_frag(fx->h.fn, f[0].off, f[0].len, f[0].more);
	send_frag(fx->h.fn, f[1].off, f[1].len, f[1].more);
	send_frag(fx->h.fn, f[1].off, f[1].len, f[1].more);
	for (unsigned i = 2; i < n; i++)
		send_frag(fx->h.fn, f[i].off, f[i].len, f[i].more);
	check_delivered(fx, 1);
	assert_int_equal(fx->h.fn->queues[0]->stats.drops[FRAGNET_DROP_FRAG_DUPLICATE], 2);
	/* A late duplicate starts a datagram that never completes. */
	send_frag(fx->h.fn, f[0].off, f[0].len, f[0].more);
	assert_int_equal(fx->rx.n, 1);
}

static void test_overlaps_discard_the_datagram(void **state)
{
	static const struct frag overlapping[][3] = {
		/* second piece starts inside the first */
		{ { 0, 1480, true }, { 1472, 1480, true }, { 2952, 56, false } },
		/* a piece inside another */
		{ { 0, 1480, true }, { 8, 16, true }, { 1480, 1528, false } },
		/* the last fragment ends before data already held */
		{ { 1480, 1480, true }, { 8, 992, false }, { 0, 1480, true } },
	};
	struct fixture *fx = *state;
	struct fn_queue *q = fx->h.fn->queues[0];

	for (unsigned t = 0; t < RTE_DIM(overlapping); t++) {
		uint64_t before = q->stats.drops[FRAGNET_DROP_FRAG_MALFORMED];

		make_datagram(10 + t, PAYLOAD);
		send_frag(fx->h.fn, overlapping[t][0].off, overlapping[t][0].len, overlapping[t][0].more);
		send_frag(fx->h.fn, overlapping[t][1].off, overlapping[t][1].len, overlapping[t][1].more);
		/* both the offender and what was held are gone */
		assert_int_equal(q->stats.drops[FRAGNET_DROP_FRAG_MALFORMED], before + 2);
		assert_int_equal(fn_reasm_pending(q->reasm), 0);
		send_frag(fx->h.fn, overlapping[t][2].off, overlapping[t][2].len, overlapping[t][2].more);
		assert_int_equal(fx->rx.n, 0);
		h_tx_clear(q);
		fn_reasm_expire(q);
		q->clk.now += (FN_REASM_TIMEOUT_S + 1) * q->clk.hz;
		fn_reasm_expire(q);
	}
}

static void test_bad_fragments(void **state)
{
	struct fixture *fx = *state;
	struct fn_queue *q = fx->h.fn->queues[0];

	make_datagram(3, PAYLOAD);
	send_frag(fx->h.fn, 0, 1001, true);       /* not a multiple of 8 */
	send_frag(fx->h.fn, 65528, 100, false);   /* beyond 64 KB */
	assert_int_equal(q->stats.drops[FRAGNET_DROP_FRAG_MALFORMED], 2);
	assert_int_equal(fn_reasm_pending(q->reasm), 0);
}

static void test_timeout(void **state)
{
	struct fixture *fx = *state;
	struct fn_queue *q = fx->h.fn->queues[0];
	struct frag f[8];

	make_datagram(4, PAYLOAD);
	split(f, 1480);
	send_frag(fx->h.fn, f[0].off, f[0].len, f[0].more);
	send_frag(fx->h.fn, f[2].off, f[2].len, f[2].more);
	q->clk.now += (FN_REASM_TIMEOUT_S - 1) * q->clk.hz;
	fn_reasm_expire(q);
	assert_int_equal(fn_reasm_pending(q->reasm), 1);
	q->clk.now += 2 * q->clk.hz;
	fn_reasm_expire(q);
	assert_int_equal(fn_reasm_pending(q->reasm), 0);
	assert_int_equal(fn_reasm_mem(q->reasm), 0);
	assert_int_equal(q->stats.drops[FRAGNET_DROP_FRAG_TIMEOUT], 2);
	/* The missing piece now starts a new, incomplete datagram. */
	send_frag(fx->h.fn, f[1].off, f[1].len, f[1].more);
	assert_int_equal(fx->rx.n, 0);
}

static void test_memory_bound(void **state)
{
	struct fixture *fx = *state;
	struct fn_queue *q = fx->h.fn->queues[0];
	struct fn_reasm *small = fn_reasm_create(SOCKET_ID_ANY, 20 * 2176, q->clk.hz);
	struct frag f[8];

	assert_non_null(small);
	fx->saved = q->reasm;
	q->reasm = small;
	/* Forty first halves, each from its own host: never more than 20
	 * mbufs held, oldest evicted. */
	for (unsigned i = 0; i < 40; i++) {
		make_datagram_from(host(i), 200 + i, PAYLOAD);
		split(f, 1480);
		send_frag(fx->h.fn, f[0].off, f[0].len, f[0].more);
		assert_true(fn_reasm_mem(small) <= 20 * 2176);
	}
	assert_int_equal(q->stats.drops[FRAGNET_DROP_FRAG_NOMEM], 20);
	/* The newest still completes. */
	send_frag(fx->h.fn, f[1].off, f[1].len, f[1].more);
	send_frag(fx->h.fn, f[2].off, f[2].len, f[2].more);
	assert_int_equal(fx->rx.n, 1);
	assert_memory_equal(fx->rx.data, dgram + 28, dgram_len - 28);
	/* Its two new pieces each pushed out one more of the older twenty. */
	assert_int_equal(q->stats.drops[FRAGNET_DROP_FRAG_NOMEM], 22);
	assert_int_equal(fn_reasm_pending(small), 17);
	/* More datagrams in flight than the table holds: oldest go. */
	for (unsigned i = 0; i < FN_REASM_DATAGRAMS + 5; i++) {
		make_datagram_from(host(i), 300 + i, 100);
		send_frag(fx->h.fn, 0, 16, true);
	}
	assert_int_equal(q->stats.drops[FRAGNET_DROP_FRAG_QUOTA], 0);
	assert_true(fn_reasm_pending(small) <= FN_REASM_DATAGRAMS);
}

static void test_largest_datagram(void **state)
{
	struct fixture *fx = *state;
	static struct frag f[64];
	unsigned n;

	make_datagram(5, FRAGNET_MAX_DGRAM);
	n = split(f, 1480);
	assert_int_equal(n, 45);
	for (unsigned i = n; i-- > 0;)
		send_frag(fx->h.fn, f[i].off, f[i].len, f[i].more);
	check_delivered(fx, 1);
}

/* A fragment of a datagram that exists only for this (zeros from src, ID
 * id): len bytes at off of its payload, received on queue qid. */
static void send_piece(struct fragnet *fn, unsigned qid, uint32_t src, uint16_t id,
		       uint32_t off, uint32_t len, bool more)
{
	static uint8_t buf[2048];
	const struct tp_ip opt = { .id = id, .frag = off / 8 | (more ? TP_MF : 0) };
	size_t n = tp_ipv4(buf, src, H_ADDR, IPPROTO_UDP, len, &opt);

	memset(buf + n, 0, len);
	fn_eth_input(fn->queues[qid], h_ip_frame(fn, buf, n + len));
}

/*
 * One host floods us with first fragments of datagrams that never complete,
 * 200 between each two pieces of a client's datagrams: the client's
 * datagrams still complete. A source holds at most its share of the table
 * and of the memory, and what it sends beyond pushes out its own.
 */
static void test_flood_from_one_source(void **state)
{
	const uint32_t attacker = RTE_BE32(RTE_IPV4(10, 0, 0, 66));
	struct fixture *fx = *state;
	struct fn_queue *q = fx->h.fn->queues[0];
	uint16_t id = 0;
	struct frag f[8];

	for (unsigned d = 0; d < 20; d++) {
		unsigned n;

		make_datagram(1000 + d, PAYLOAD);
		n = split(f, 1480);
		for (unsigned i = 0; i < n; i++) {
			send_frag(fx->h.fn, f[i].off, f[i].len, f[i].more);
			for (unsigned k = 0; i + 1 < n && k < 200; k++)
				send_piece(fx->h.fn, 0, attacker, id++, 0, 1480, true);
		}
		assert_int_equal(fx->rx.n, d + 1);
		assert_memory_equal(fx->rx.data, dgram + 28, dgram_len - 28);
	}
	assert_true(q->stats.drops[FRAGNET_DROP_FRAG_QUOTA] > 0);

	/* Now a few large datagrams, each in 100 pieces: over its share of
	 * memory the attacker loses its own oldest, the client loses nothing. */
	for (unsigned d = 0; d < 8; d++) {
		make_datagram(2000 + d, PAYLOAD);
		split(f, 1480);
		send_frag(fx->h.fn, f[0].off, f[0].len, f[0].more);
		for (uint32_t k = 1; k <= 100; k++)
			send_piece(fx->h.fn, 0, attacker, id, k * 1480, 1480, true);
		id++;
		send_frag(fx->h.fn, f[1].off, f[1].len, f[1].more);
		send_frag(fx->h.fn, f[2].off, f[2].len, f[2].more);
		assert_int_equal(fx->rx.n, 20 + d + 1);
	}
}

/* Fragments held on every queue together leave the pool the mbufs every
 * queue's descriptors and transmit batch need: reassembly cannot starve the
 * device. Many sources, so that the whole bound is reached. */
static void test_memory_within_pool(void **state)
{
	struct fragnet *fn = h_fn(state);

	for (unsigned qid = 0; qid < 2; qid++)
		for (uint32_t src = 0; src < 16; src++)
			for (uint16_t id = 0; id < 16; id++)
				for (uint32_t k = 1; k <= 40; k++)
					send_piece(fn, qid, rte_cpu_to_be_32(RTE_IPV4(10, 0, 1, src)),
						   id, k * 1480, 1480, true);
	assert_true(rte_mempool_avail_count(fn->pool) >=
		    2 * (FN_RX_DESC + FN_TX_DESC + FN_TX_PENDING + FN_ARP_WAIT));
}

/*
 * Each fragment fits in 64 KiB with its own header, but the whole does not
 * with the first's: a first fragment with 40 bytes of options and a
 * 65 515-byte payload would rebuild to 65 575 bytes, its total length
 * wrapping (to 39: the filter would see no transport header). Refused, as
 * Linux refuses it ("oversized"), every fragment counted.
 */
static void test_oversized_with_first_header(void **state)
{
	struct fixture *fx = *state;
	struct fn_queue *q = fx->h.fn->queues[0];
	static uint8_t payload[65515], buf[2048];
	const uint32_t total = sizeof(payload), first = 1400, step = 1480;
	unsigned n = 0;

	memset(payload, 0, sizeof(payload));
	payload[1] = 7;   /* UDP source port 7: the header's bytes don't matter */
	payload[3] = 7;   /* destination port 7 */
	for (uint32_t off = 0; off < total; n++) {
		uint32_t len = off == 0 ? first : RTE_MIN(step, total - off);
		uint32_t ihl = off == 0 ? 60 : 20;
		const struct tp_ip opt = { .id = 77, .frag = off / 8 |
						    (off + len < total ? TP_MF : 0) };

		tp_ipv4(buf, H_PEER, H_ADDR, IPPROTO_UDP, ihl - 20 + len, &opt);
		if (ihl > 20) {       /* options: no-ops, the payload after them */
			buf[0] = 0x40 | ihl / 4;
			memset(buf + 20, 1, ihl - 20);
			tp_ipv4_fix(buf);
		}
		memcpy(buf + ihl, payload + off, len);
		fn_eth_input(q, h_ip_frame(fx->h.fn, buf, ihl + len));
		off += len;
	}
	assert_int_equal(fx->rx.n, 0);
#if FN_WITH_IP_OPTIONS
	assert_int_equal(fn_reasm_pending(q->reasm), 0);
	assert_int_equal(fn_reasm_mem(q->reasm), 0);
	assert_int_equal(q->stats.drops[FRAGNET_DROP_FRAG_MALFORMED], n);
#else
	/* without options the first fragment goes alone, the rest wait */
	assert_int_equal(q->stats.drops[FRAGNET_DROP_IP_MALFORMED], 1);
	(void)n;
#endif
}

/*
 * Datagrams reassembled on queue 0 whose flows queue 1 owns wait in queue
 * 1's handoff ring. While queue 1 does not poll, what they hold still
 * counts against queue 0's reassembly memory: a sender cannot pin more of
 * the pool than reassembly's bound (64 datagrams of 45 mbufs here, twice
 * the bound), and queue 0 drops what is over it. Once queue 1 takes them,
 * queue 0's account is back to nothing.
 */
static void test_handoff_within_bound(void **state)
{
	struct fragnet *fn = h_fn(state);
	struct fn_queue *q0 = fn->queues[0], *q1 = fn->queues[1];
	static uint8_t payload[FRAGNET_MAX_DGRAM];
	struct h_rx rx = { 0 };
	struct rte_mbuf *chain;
	struct frag f[64];
	unsigned waiting;
	uint16_t sport = 1000;

	assert_int_equal(fn_udp_bind(fn->udp, RTE_BE16(7), h_record, &rx), 0);
	fn_rss_set(&fn->port.rss, fn_rss_default_key, 128, 2);
	for (unsigned d = 0; d < 64; d++, sport++) {
		unsigned n;

		while (fn_rss_queue_of(fn, H_PEER, H_ADDR, RTE_BE16(sport), RTE_BE16(7)) != 1)
			sport++;
		dgram_len = tp_udp(dgram, H_PEER, H_ADDR, sport, 7, payload, sizeof(payload),
				   &(struct tp_ip){ .id = (uint16_t)d });
		n = split(f, 1480);
		for (unsigned i = 0; i < n; i++)
			send_frag(fn, f[i].off, f[i].len, f[i].more);
	}
	waiting = rte_ring_count(q1->handoff);
	assert_true(waiting > 0);
	assert_true(rte_mempool_in_use_count(fn->pool) <= FN_REASM_MBUFS);
	assert_true(q0->stats.drops[FRAGNET_DROP_FRAG_NOMEM] > 0);
	assert_int_equal(q0->stats.drops[FRAGNET_DROP_HANDOFF], 0);

	while (rte_ring_dequeue(q1->handoff, (void **)&chain) == 0) {
		fn_reasm_taken(fn, chain);   /* as queue 1's poll does */
		fn_ipv4_input_reassembled(q1, chain);
	}
	assert_int_equal(rx.n, waiting);
	assert_int_equal(rx.queue, 1);
	/* what queue 0 still holds: the datagrams cut short by the bound */
	q0->clk.now += (FN_REASM_TIMEOUT_S + 1) * q0->clk.hz;
	fn_reasm_expire(q0);
	assert_int_equal(fn_reasm_mem(q0->reasm), 0);
	assert_int_equal(rte_mempool_in_use_count(fn->pool), 0);
}

#if FN_WITH_ICMP
/* Frames sent back for a datagram to our address and a closed port in
 * link-layer broadcast frames, whole or in two fragments. */
static unsigned broadcast_frame_answers(struct fragnet *fn, bool fragmented)
{
	struct fn_queue *q = fn->queues[0];
	uint8_t payload[32] = { 0 }, buf[128];
	unsigned before = h_tx_count(q);

	dgram_len = tp_udp(dgram, H_PEER, H_ADDR, 4000, 9, payload, sizeof(payload),
			   &(struct tp_ip){ .id = 9 });
	for (uint32_t off = 0; off < dgram_len - 20; off += 24) {
		size_t n = fragmented ? tp_fragment(buf, dgram, off, RTE_MIN(24u, dgram_len - 20 - off),
						    off + 24 < dgram_len - 20)
				      : (memcpy(buf, dgram, dgram_len), dgram_len);
		struct rte_mbuf *m = h_ip_frame(fn, buf, n);

		memset(rte_pktmbuf_mtod(m, uint8_t *), 0xff, RTE_ETHER_ADDR_LEN);
		fn_eth_input(q, m);
		if (!fragmented)
			break;
	}
	return h_tx_count(q) - before;
}

/* The kernel answers PACKET_HOST only; a reassembled datagram is what its
 * first fragment was, at the link layer too. */
static void test_broadcast_frames_keep_pkttype(void **state)
{
	struct fragnet *fn = h_fn(state);

	h_knows(fn, H_PEER, &h_peer_mac);
	assert_int_equal(broadcast_frame_answers(fn, false), 0);
	assert_int_equal(broadcast_frame_answers(fn, true), 0);
	/* the same fragments in a unicast frame are answered */
	dgram_len = tp_udp(dgram, H_PEER, H_ADDR, 4000, 9, (uint8_t[32]){ 0 }, 32,
			   &(struct tp_ip){ .id = 10 });
	send_frag(fn, 0, 24, true);
	send_frag(fn, 24, dgram_len - 20 - 24, false);
	assert_int_equal(h_tx_count(fn->queues[0]), 1);
	h_tx_clear(fn->queues[0]);
}
#endif

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_every_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_duplicates, setup, teardown),
		cmocka_unit_test_setup_teardown(test_overlaps_discard_the_datagram, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_fragments, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_memory_bound, setup, teardown),
		cmocka_unit_test_setup_teardown(test_largest_datagram, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flood_from_one_source, setup, teardown),
		H_TEST2(test_memory_within_pool),
		cmocka_unit_test_setup_teardown(test_oversized_with_first_header, setup, teardown),
		H_TEST2(test_handoff_within_bound),
#if FN_WITH_ICMP
		H_TEST(test_broadcast_frames_keep_pkttype),
#endif
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
