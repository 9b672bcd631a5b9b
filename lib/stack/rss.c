/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ip.h>
#include <rte_random.h>
#include <rte_thash.h>
#include <rte_udp.h>

#include "rss.h"
#include "udp.h"
#include "runtime/runtime.h"

#define EPHEMERAL_FIRST 49152   /* IANA dynamic range, as Linux's default */
#define EPHEMERAL_COUNT (65536 - EPHEMERAL_FIRST)

const uint8_t fn_rss_default_key[40] = {
	0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67,
	0x25, 0x3d, 0x43, 0xa3, 0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb,
	0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3, 0x80, 0x30,
	0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
};

void fn_rss_set(struct fn_rss *rss, const uint8_t key[40], uint16_t reta_size,
		unsigned n_queues)
{
	memcpy(rss->key, key, sizeof(rss->key));
	rss->reta_size = RTE_MIN(reta_size, (uint16_t)RTE_DIM(rss->reta));
	for (unsigned i = 0; i < rss->reta_size; i++)
		rss->reta[i] = i % n_queues;
	rss->known = rss->reta_size > 0;
}

int fn_rss_queue_of(const struct fragnet *fn, uint32_t src, uint32_t dst,
		    uint16_t sport, uint16_t dport)
{
	const struct fn_rss *rss = &fn->port.rss;
	struct rte_ipv4_tuple t;
	uint32_t hash;

	if (!rss->known || fn->n_queues < 2)
		return -1;
	t.src_addr = rte_be_to_cpu_32(src);
	t.dst_addr = rte_be_to_cpu_32(dst);
	t.sport = rte_be_to_cpu_16(sport);
	t.dport = rte_be_to_cpu_16(dport);
	hash = rte_softrss((uint32_t *)&t, RTE_THASH_V4_L4_LEN, rss->key);
	return rss->reta[hash % rss->reta_size];
}

int fn_rss_owner_of_datagram(const struct fragnet *fn, const struct rte_mbuf *chain)
{
	const struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(chain, const struct rte_ipv4_hdr *);
	uint32_t ihl = rte_ipv4_hdr_len(ip);
	const struct rte_udp_hdr *udp;

	if (ip->next_proto_id != IPPROTO_UDP || chain->data_len < ihl + sizeof(*udp))
		return -1;
	udp = (const struct rte_udp_hdr *)((const uint8_t *)ip + ihl);
	return fn_rss_queue_of(fn, ip->src_addr, ip->dst_addr, udp->src_port, udp->dst_port);
}

int fn_rss_bind_ephemeral(struct fn_queue *q, uint32_t dst, uint16_t dport,
			  fragnet_recv_fn cb, void *arg)
{
	struct fragnet *fn = q->fn;
	unsigned start = rte_rand() % EPHEMERAL_COUNT;

	for (unsigned i = 0; i < EPHEMERAL_COUNT; i++) {
		uint16_t port = rte_cpu_to_be_16(EPHEMERAL_FIRST + (start + i) % EPHEMERAL_COUNT);
		int owner, rc;

		if (fn_udp_is_bound(fn->udp, port))
			continue;
		/* The reply travels dst:dport -> us:port. */
		owner = fn_rss_queue_of(fn, dst, q->addr, dport, port);
		if (owner >= 0 && owner != q->qid)
			continue;
		rc = fn_udp_bind(fn->udp, port, cb, arg);
		if (rc == 0)
			return port;
		if (rc == -ENOSPC)
			return rc;
	}
	return -EADDRNOTAVAIL;
}
