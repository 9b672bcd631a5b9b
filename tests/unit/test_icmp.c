/* SPDX-License-Identifier: BSD-3-Clause */
/* ICMP: echo replies, error messages and their rate limit. */
#include <string.h>

#include <rte_icmp.h>

#include "unit.h"
#include "stack/eth.h"
#include "stack/icmp.h"
#include "stack/udp.h"

static size_t echo_request(uint8_t *buf, uint32_t dst, const void *data, size_t len)
{
	return tp_icmp(buf, H_PEER, dst, FN_ICMP_ECHO_REQUEST, 0, 0x1234, 7, data, len);
}

static void test_echo_reply(void **state)
{
	struct fragnet *fn = h_fn(state);
	struct fn_queue *q = fn->queues[0];
	uint8_t buf[256];
	size_t n = echo_request(buf, H_ADDR, "ping payload", 12);
	const struct rte_ipv4_hdr *ip;
	const struct rte_icmp_hdr *icmp;
	struct rte_mbuf *m;

	fn_eth_input(q, h_ip_frame(fn, buf, n));
	assert_int_equal(h_tx_count(q), 1);
	m = h_tx_take(q, 0);
	ip = rte_pktmbuf_mtod_offset(m, const struct rte_ipv4_hdr *, 14);
	icmp = (const struct rte_icmp_hdr *)(ip + 1);
	assert_int_equal(ip->dst_addr, H_PEER);
	assert_int_equal(ip->src_addr, H_ADDR);
	assert_int_equal(rte_raw_cksum(ip, 20), 0xffff);
	assert_int_equal(icmp->icmp_type, FN_ICMP_ECHO_REPLY);
	assert_int_equal(icmp->icmp_ident, RTE_BE16(0x1234));
	assert_int_equal(icmp->icmp_seq_nb, RTE_BE16(7));
	assert_memory_equal(icmp + 1, "ping payload", 12);
	assert_int_equal(rte_raw_cksum(icmp, 8 + 12), 0xffff);
	rte_pktmbuf_free(m);
}

static void test_echo_refused(void **state)
{
	struct fragnet *fn = h_fn(state);
	struct fn_queue *q = fn->queues[0];
	uint8_t buf[256];
	size_t n;

	/* Broadcast ping: ignored, like Linux. */
	n = echo_request(buf, RTE_BE32(0xffffffff), "b", 1);
	fn_eth_input(q, h_ip_frame(fn, buf, n));
	assert_int_equal(q->stats.drops[FRAGNET_DROP_ICMP_UNHANDLED], 1);
	/* From our subnet's broadcast address: the reply would reach every
	 * host on the LAN. Dropped before ICMP sees it. */
	n = tp_icmp(buf, RTE_BE32(RTE_IPV4(10, 0, 0, 255)), H_ADDR, FN_ICMP_ECHO_REQUEST, 0,
		    0x1234, 7, "r", 1);
	fn_eth_input(q, h_ip_frame(fn, buf, n));
	assert_int_equal(h_tx_count(q), 0);
	assert_int_equal(q->stats.drops[FRAGNET_DROP_IP_SRC], 1);
	/* Bad checksum. */
	n = echo_request(buf, H_ADDR, "c", 1);
	buf[n - 1] ^= 0xff;
	fn_eth_input(q, h_ip_frame(fn, buf, n));
	/* Shorter than an ICMP header. */
	n = echo_request(buf, H_ADDR, "", 0);
	buf[3] = 20 + 4;
	tp_ipv4_fix(buf);
	fn_eth_input(q, h_ip_frame(fn, buf, 24));
	assert_int_equal(q->stats.drops[FRAGNET_DROP_ICMP_MALFORMED], 2);
	assert_int_equal(h_tx_count(q), 0);
}

static void test_error_quotes_and_rate_limit(void **state)
{
	struct fragnet *fn = h_fn(state);
	struct fn_queue *q = fn->queues[0];
	const struct rte_icmp_hdr *icmp;
	struct rte_mbuf *m;

	q->icmp_bucket.tokens = 0;
	q->icmp_bucket.last = q->clk.now;
	q->clk.now += q->clk.hz;       /* a full bucket */
	for (unsigned i = 0; i < 200; i++)
		fn_eth_input(q, h_udp_frame(fn, 4000, 9, "closed", 6));
	assert_int_equal(q->stats.drops[FRAGNET_DROP_UDP_NO_PORT], 200);
	assert_int_equal(h_tx_count(q), FN_ICMP_BURST);

	/* The error quotes the offending datagram from its IPv4 header on. */
	m = h_tx_take(q, 0);
	icmp = rte_pktmbuf_mtod_offset(m, const struct rte_icmp_hdr *, 34);
	assert_int_equal(icmp->icmp_type, FN_ICMP_DEST_UNREACH);
	assert_int_equal(icmp->icmp_code, FN_ICMP_PORT_UNREACH);
	assert_int_equal(m->pkt_len, 14 + 20 + 8 + 20 + 8 + 6);
	assert_int_equal(((const uint8_t *)(icmp + 1))[9], IPPROTO_UDP);
	assert_int_equal(rte_raw_cksum(icmp, 8 + 34), 0xffff);
	rte_pktmbuf_free(m);
	h_tx_clear(q);

	/* Tokens come back with time. */
	q->clk.now += q->clk.hz / FN_ICMP_RATE * 3;
	for (unsigned i = 0; i < 10; i++)
		fn_eth_input(q, h_udp_frame(fn, 4000, 9, "closed", 6));
	assert_int_equal(h_tx_count(q), 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		H_TEST(test_echo_reply),
		H_TEST(test_echo_refused),
		H_TEST(test_error_quotes_and_rate_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
