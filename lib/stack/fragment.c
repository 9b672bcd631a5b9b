/* SPDX-License-Identifier: BSD-3-Clause */
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ip.h>

#include "csum.h"
#include "fragment.h"
#include "ipv4.h"
#include "runtime/runtime.h"

/* 64 KB at the smallest MTU we accept (576): 65515 / 552 bytes. */
#define FN_MAX_FRAGMENTS 119


int fn_ipv4_fragment(struct fn_queue *q, const uint8_t *l3, uint32_t len, uint32_t nexthop)
{
	const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)l3;
	uint32_t ihl = rte_ipv4_hdr_len(ip);
	uint32_t step = (q->fn->port.mtu - ihl) & ~7u;    /* payload per fragment */
	uint32_t payload = len - ihl;
	unsigned n = (payload + step - 1) / step;
	struct rte_mbuf *frags[FN_MAX_FRAGMENTS];
	uint32_t off = 0;

	if (n > RTE_DIM(frags) || rte_pktmbuf_alloc_bulk(q->pool, frags, n) != 0) {
		FN_DROP(&q->stats, NO_MBUF);
		return -ENOBUFS;
	}
	for (unsigned i = 0; i < n; i++, off += step) {
		uint32_t chunk = RTE_MIN(step, payload - off);
		uint8_t *p = (uint8_t *)rte_pktmbuf_append(frags[i], ihl + chunk);
		struct rte_ipv4_hdr *f = (struct rte_ipv4_hdr *)p;
		uint16_t bits = off / 8;

		memcpy(p, l3, ihl);
		memcpy(p + ihl, l3 + ihl + off, chunk);
		if (i + 1 < n)
			bits |= RTE_IPV4_HDR_MF_FLAG;
		f->fragment_offset = rte_cpu_to_be_16(bits);
		f->total_length = rte_cpu_to_be_16(ihl + chunk);
		f->hdr_checksum = 0;
		f->hdr_checksum = fn_csum(f, ihl);
		frags[i]->l3_len = ihl;
		fn_ipv4_xmit(q, frags[i], nexthop);
	}
	return 0;
}
