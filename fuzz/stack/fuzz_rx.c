/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz the receive path: whatever arrives on the wire goes through
 * fn_eth_input_burst() (what the poll loop calls: the fast path, then the
 * careful one) of a device-less stack with an echo socket bound, so
 * replies, ICMP errors, ARP and fragmentation run too. The first byte picks
 * how the rest is framed, so the fuzzer reaches past the checksums:
 *   0: a raw Ethernet frame
 *   1: an IPv4 packet (header checksum fixed up) in a frame to us
 *   2: the same with the UDP checksum cleared (reaches the sockets)
 *   3: a train of such packets, each prefixed by a 16-bit length (fragments)
 * After each input every mbuf must be back in the pool: leaks abort.
 */
#include <stdint.h>
#include <string.h>

#include <rte_ip.h>

#include "harness.h"
#include "stack/arp.h"
#include "stack/eth.h"

/* One frame as the poll loop hands it over. */
static void rx(struct fn_queue *q, struct rte_mbuf *m)
{
	fn_eth_input_burst(q, &m, 1);
}
#include "stack/reasm.h"
#include "stack/udp.h"

static struct fragnet *fn;

static void echo(struct fragnet_queue *q, const struct fragnet_dgram *d, void *arg)
{
	(void)arg;
	fn_udp_send((struct fn_queue *)q, d->dst_port, d->src_addr, d->src_port, d->data, d->len);
}

static void setup(void)
{
	fn = h_new(1);
	fn_udp_bind(fn->udp, RTE_BE16(7), echo, NULL);
}

static void feed_ip(const uint8_t *p, size_t len, bool clear_udp_csum)
{
	uint8_t buf[1600];
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)buf;

	if (len > sizeof(buf))
		len = sizeof(buf);
	memcpy(buf, p, len);
	if (len >= sizeof(*ip)) {
		size_t ihl = (ip->version_ihl & 0xf) * 4;

		if (clear_udp_csum && ihl >= 20 && len >= ihl + 8)
			buf[ihl + 6] = buf[ihl + 7] = 0;
		if (ihl >= 20 && ihl <= len)
			tp_ipv4_fix(buf);
	}
	rx(fn->queues[0], h_ip_frame(fn, buf, len));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fn_queue *q;

	if (fn == NULL)
		setup();
	q = fn->queues[0];
	if (size < 1)
		return 0;
	switch (data[0] & 3) {
	case 0:
		if (size - 1 <= 1600)
			rx(q, h_frame(fn, data + 1, size - 1));
		break;
	case 1:
	case 2:
		feed_ip(data + 1, size - 1, data[0] & 2);
		break;
	case 3:
		for (size_t off = 1; off + 2 <= size;) {
			size_t n = (size_t)data[off] << 8 | data[off + 1];

			off += 2;
			if (n > size - off)
				n = size - off;
			feed_ip(data + off, n, true);
			off += n;
		}
		break;
	}
	/* Let time pass so reassembly and ARP give up, then check for leaks. */
	q->clk.now += (FN_REASM_TIMEOUT_S + 1) * q->clk.hz;
#if FN_WITH_FRAG
	fn_reasm_expire(q);
#endif
	fn_arp_flush(q);
	h_tx_clear(q);
	if (rte_mempool_in_use_count(fn->pool) != 0)
		__builtin_trap();
	return 0;
}
