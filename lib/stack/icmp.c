/* SPDX-License-Identifier: BSD-3-Clause */
#include <string.h>

#include <rte_byteorder.h>
#include <rte_icmp.h>
#include <rte_ip.h>

#include "csum.h"
#include "icmp.h"
#include "ipv4.h"
#include "runtime/runtime.h"

/* Errors quote as much of the offending datagram as fits in 576 bytes. */
#define ICMP_ERROR_MAX 576

/* Token bucket in TSC ticks: at most FN_ICMP_RATE per second, bursts of
 * FN_ICMP_BURST. */
static bool rate_allows(struct fn_queue *q)
{
	struct fn_token_bucket *b = &q->icmp_bucket;
	uint64_t cost = q->clk.hz / FN_ICMP_RATE;
	uint64_t cap = cost * FN_ICMP_BURST;

	b->tokens += q->clk.now - b->last;
	b->last = q->clk.now;
	if (b->tokens > cap)
		b->tokens = cap;
	if (b->tokens < cost)
		return false;
	b->tokens -= cost;
	return true;
}

/* Send an ICMP message of icmp_len bytes already built at tx_dgram + 20. */
static void send_icmp(struct fn_queue *q, uint32_t dst, uint32_t icmp_len)
{
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)q->tx_dgram;
	struct rte_icmp_hdr *icmp = (struct rte_icmp_hdr *)(ip + 1);

	icmp->icmp_cksum = 0;
	icmp->icmp_cksum = fn_csum(icmp, icmp_len);
	fn_ipv4_header(q, ip, IPPROTO_ICMP, dst, sizeof(*ip) + icmp_len);
	fn_ipv4_output_linear(q, q->tx_dgram, sizeof(*ip) + icmp_len);
}

void fn_icmp_input(struct fn_queue *q, uint8_t *l3, uint32_t len, uint8_t pkttype)
{
	const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)l3;
	uint32_t ihl = rte_ipv4_hdr_len(ip);
	const struct rte_icmp_hdr *icmp = (const struct rte_icmp_hdr *)(l3 + ihl);
	uint32_t icmp_len = len - ihl;
	struct rte_icmp_hdr *reply;

	if (icmp_len < sizeof(*icmp) || !fn_csum_ok(icmp, icmp_len)) {
		FN_DROP(&q->stats, ICMP_MALFORMED);
		return;
	}
	/* Like Linux (icmp_echo_ignore_broadcasts), only unicast pings. */
	if (icmp->icmp_type != FN_ICMP_ECHO_REQUEST || icmp->icmp_code != 0 ||
	    pkttype != FN_PKT_HOST) {
		FN_DROP(&q->stats, ICMP_UNHANDLED);
		return;
	}
	reply = (struct rte_icmp_hdr *)(q->tx_dgram + sizeof(struct rte_ipv4_hdr));
	memcpy(reply, icmp, icmp_len);
	reply->icmp_type = FN_ICMP_ECHO_REPLY;
	send_icmp(q, ip->src_addr, icmp_len);
}

void fn_icmp_error(struct fn_queue *q, const uint8_t *l3, uint32_t len,
		   uint8_t type, uint8_t code)
{
	const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)l3;
	uint32_t ihl = rte_ipv4_hdr_len(ip);
	struct rte_icmp_hdr *icmp;
	uint32_t quote;

	if (ip->fragment_offset & RTE_BE16(RTE_IPV4_HDR_OFFSET_MASK) ||
	    ip->dst_addr != q->addr || ip->src_addr == 0 ||
	    fn_is_broadcast(q->fn, ip->src_addr))
		return;
	if (ip->next_proto_id == IPPROTO_ICMP) {
		const struct rte_icmp_hdr *orig = (const struct rte_icmp_hdr *)(l3 + ihl);

		if (len < ihl + 1 || (orig->icmp_type != FN_ICMP_ECHO_REQUEST &&
				      orig->icmp_type != FN_ICMP_ECHO_REPLY))
			return;
	}
	if (!rate_allows(q))
		return;

	quote = RTE_MIN(len, (uint32_t)(ICMP_ERROR_MAX - sizeof(*ip) - sizeof(*icmp)));
	icmp = (struct rte_icmp_hdr *)(q->tx_dgram + sizeof(struct rte_ipv4_hdr));
	icmp->icmp_type = type;
	icmp->icmp_code = code;
	icmp->icmp_ident = 0;   /* unused field of destination-unreachable */
	icmp->icmp_seq_nb = 0;
	memcpy(icmp + 1, l3, quote);
	send_icmp(q, ip->src_addr, sizeof(*icmp) + quote);
}
