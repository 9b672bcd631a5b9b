/* SPDX-License-Identifier: BSD-3-Clause */
/* Fragmentation on transmit: the shape of the fragments, and all-or-nothing. */
#include <string.h>

#include "unit.h"
#include "stack/fragment.h"
#include "stack/udp.h"

static uint8_t payload[FRAGNET_MAX_DGRAM];

static void check_fragments(struct fn_queue *q, size_t len, unsigned mtu)
{
	unsigned n = h_tx_count(q);
	uint32_t expect_off = 0, id = 0;

	assert_int_equal(n, (len + 8 + (mtu - 20) / 8 * 8 - 1) / ((mtu - 20) / 8 * 8));
	for (unsigned i = 0; i < n; i++) {
		const struct rte_ipv4_hdr *ip =
			rte_pktmbuf_mtod_offset(q->tx[i], const struct rte_ipv4_hdr *, 14);
		uint16_t frag = rte_be_to_cpu_16(ip->fragment_offset);
		uint16_t tot = rte_be_to_cpu_16(ip->total_length);

		assert_true(tot <= mtu);
		assert_int_equal(q->tx[i]->pkt_len, 14 + tot);
		assert_int_equal((frag & RTE_IPV4_HDR_OFFSET_MASK) * 8, expect_off);
		assert_int_equal(!!(frag & RTE_IPV4_HDR_MF_FLAG), i + 1 < n);
		assert_int_equal(rte_raw_cksum(ip, 20), 0xffff);
		if (i == 0)
			id = ip->packet_id;
		assert_int_equal(ip->packet_id, id);
		if (i + 1 < n)
			assert_int_equal((tot - 20) % 8, 0);
		expect_off += tot - 20;
	}
	assert_int_equal(expect_off, len + 8);
}

static void test_shape(void **state)
{
	static const unsigned mtus[] = { 1500, 576, 1280 };
	struct fragnet *fn = h_fn(state);
	struct fn_queue *q = fn->queues[0];

	h_knows(fn, H_PEER, &h_peer_mac);
	for (unsigned i = 0; i < RTE_DIM(mtus); i++) {
		fn->port.mtu = mtus[i];
		assert_int_equal(fn_udp_send(q, RTE_BE16(7), H_PEER, RTE_BE16(9), payload, 8000), 0);
		check_fragments(q, 8000, mtus[i]);
		h_tx_clear(q);
		assert_int_equal(fn_udp_send(q, RTE_BE16(7), H_PEER, RTE_BE16(9), payload,
					     FRAGNET_MAX_DGRAM), 0);
		check_fragments(q, FRAGNET_MAX_DGRAM, mtus[i]);
		h_tx_clear(q);
	}
}

/* No mbufs for all the fragments: none leaves. */
static void test_all_or_nothing(void **state)
{
	struct fragnet *fn = h_fn(state);
	struct fn_queue *q = fn->queues[0];
	struct rte_mbuf *hoard[8192];
	unsigned n = 0;

	h_knows(fn, H_PEER, &h_peer_mac);
	while (rte_pktmbuf_alloc_bulk(fn->pool, &hoard[n], 1) == 0)
		n++;
	/* Leave 3: an 8000-byte datagram needs 6. */
	rte_pktmbuf_free_bulk(&hoard[n - 3], 3);
	n -= 3;
	assert_int_equal(fn_udp_send(q, RTE_BE16(7), H_PEER, RTE_BE16(9), payload, 8000), -ENOBUFS);
	assert_int_equal(h_tx_count(q), 0);
	assert_int_equal(q->stats.drops[FRAGNET_DROP_NO_MBUF], 1);
	rte_pktmbuf_free_bulk(hoard, n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		H_TEST(test_shape),
		H_TEST(test_all_or_nothing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
