/* SPDX-License-Identifier: BSD-3-Clause */
/* Software RSS: the Toeplitz hash against Microsoft's published verification
 * vectors, replies of our own flows hashing back, and reassembled datagrams
 * handed to the queue that owns their flow. */
#include <string.h>

#include <rte_ring.h>
#include <rte_thash.h>

#include "unit.h"
#include "stack/eth.h"
#include "stack/ipv4.h"
#include "stack/rss.h"
#include "stack/udp.h"

#define IP(a, b, c, d) RTE_BE32(RTE_IPV4(a, b, c, d))

/* "Verifying the RSS Hash Calculation" (Microsoft), IPv4 with ports. */
static const struct {
	uint32_t src, dst;
	uint16_t sport, dport;
	uint32_t hash;
} vectors[] = {
	{ IP(66, 9, 149, 187), IP(161, 142, 100, 80), 2794, 1766, 0x51ccc178 },
	{ IP(199, 92, 111, 2), IP(65, 69, 140, 83), 14230, 4739, 0xc626b0ea },
	{ IP(24, 19, 198, 95), IP(12, 22, 207, 184), 12898, 38024, 0x5c2b394a },
	{ IP(38, 27, 205, 30), IP(209, 142, 163, 6), 48228, 2217, 0xafc7327f },
	{ IP(153, 39, 163, 191), IP(202, 188, 127, 2), 44251, 1303, 0x10e828a2 },
};

static void test_toeplitz_vectors(void **state)
{
	struct fragnet *fn = h_fn(state);

	/* A RETA of 2^32 buckets would map hash -> queue directly; with 512
	 * buckets round robin over 2 queues the queue is the hash's low bit. */
	fn_rss_set(&fn->port.rss, fn_rss_default_key, 512, 2);
	for (unsigned i = 0; i < RTE_DIM(vectors); i++) {
		struct rte_ipv4_tuple t = {
			.src_addr = rte_be_to_cpu_32(vectors[i].src),
			.dst_addr = rte_be_to_cpu_32(vectors[i].dst),
			.sport = vectors[i].sport, .dport = vectors[i].dport,
		};

		assert_int_equal(rte_softrss((uint32_t *)&t, RTE_THASH_V4_L4_LEN,
					     fn_rss_default_key), vectors[i].hash);
		assert_int_equal(fn_rss_queue_of(fn, vectors[i].src, vectors[i].dst,
						 rte_cpu_to_be_16(vectors[i].sport),
						 rte_cpu_to_be_16(vectors[i].dport)),
				 vectors[i].hash % 512 % 2);
	}
	/* Unknown device hash: no opinion. */
	fn->port.rss.known = false;
	assert_int_equal(fn_rss_queue_of(fn, vectors[0].src, vectors[0].dst, 1, 2), -1);
}

static void test_ephemeral_ports_hash_back(void **state)
{
	struct fragnet *fn = h_fn(state);
	struct h_rx rx = { 0 };

	fn_rss_set(&fn->port.rss, fn_rss_default_key, 128, 2);
	for (unsigned i = 0; i < 200; i++) {
		unsigned qid = i & 1;
		uint16_t dport = rte_cpu_to_be_16(1000 + i);
		int port = fn_rss_bind_ephemeral(fn->queues[qid], H_PEER, dport, h_record, &rx);

		if (i >= FRAGNET_MAX_PORTS) {
			assert_int_equal(port, -ENOSPC);   /* binding table full */
			continue;
		}
		assert_true(port > 0);
		assert_true(rte_be_to_cpu_16(port) >= 49152);
		assert_int_equal(fn_rss_queue_of(fn, H_PEER, H_ADDR, dport, port), qid);
	}
}

#if FN_WITH_FRAG
static void test_reassembled_goes_to_owner(void **state)
{
	struct fragnet *fn = h_fn(state);
	struct h_rx rx = { 0 };
	uint8_t dgram[4000], payload[3000];
	uint16_t sport = 0;
	struct rte_mbuf *chain = NULL;
	size_t n;

	fn_rss_set(&fn->port.rss, fn_rss_default_key, 128, 2);
	assert_int_equal(fn_udp_bind(fn->udp, RTE_BE16(7), h_record, &rx), 0);
	/* A source port whose flow belongs to queue 1. */
	for (uint16_t p = 1024; sport == 0; p++)
		if (fn_rss_queue_of(fn, H_PEER, H_ADDR, rte_cpu_to_be_16(p), RTE_BE16(7)) == 1)
			sport = p;
	memset(payload, 0x5a, sizeof(payload));
	n = tp_udp(dgram, H_PEER, H_ADDR, sport, 7, payload, sizeof(payload),
		   &(struct tp_ip){ .id = 42 });

	/* Fragments all arrive on queue 0 (the device hashed addresses only). */
	for (size_t off = 0; off < n - 20; off += 1480) {
		uint8_t frag[1600];
		size_t chunk = RTE_MIN((size_t)1480, n - 20 - off);
		size_t len = tp_fragment(frag, dgram, off, chunk, off + chunk < n - 20);

		fn_eth_input(fn->queues[0], h_ip_frame(fn, frag, len));
	}
	assert_int_equal(rx.n, 0);   /* not delivered on queue 0 */
	assert_int_equal(rte_ring_count(fn->queues[1]->handoff), 1);
	assert_int_equal(rte_ring_dequeue(fn->queues[1]->handoff, (void **)&chain), 0);
	fn_ipv4_input_reassembled(fn->queues[1], chain);
	assert_int_equal(rx.n, 1);
	assert_int_equal(rx.queue, 1);
	assert_int_equal(rx.last.len, sizeof(payload));
	assert_memory_equal(rx.data, payload, sizeof(payload));
}
#endif

int main(void)
{
	const struct CMUnitTest tests[] = {
		H_TEST2(test_toeplitz_vectors),
		H_TEST2(test_ephemeral_ports_hash_back),
#if FN_WITH_FRAG
		H_TEST2(test_reassembled_goes_to_owner),
#endif
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
