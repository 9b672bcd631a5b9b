/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fn-icount: the echo path under callgrind, for instructions per packet.
 *
 * The library runs on a net_ring port whose receive and transmit rings are
 * one ring (the ring PMD's loopback): we enqueue a burst of UDP requests,
 * call fragnet_poll() once (rx burst -> stack -> echo callback -> tx burst),
 * and dequeue the replies. Callgrind collects only inside fragnet_poll()
 * (CALLGRIND_TOGGLE_COLLECT around it, run with --collect-atstart=no), so the
 * count is one full poll iteration: the stack, the application callback, the
 * per-iteration overhead and the ring PMD's rx/tx (a ring enqueue/dequeue:
 * the cheapest PMD there is). Building requests and checking replies are
 * not counted. The request mbufs come from our pool; the echo sends each
 * request's payload, which the library sends in the request's own mbuf
 * (counted: the stack drops its receive reference to it); the replies are
 * freed here (not counted), as a NIC's tx completion would.
 *
 *   valgrind --tool=callgrind --collect-atstart=no fn-icount [--bursts N]
 *
 * The echo callback is examples/echo.c's: fragnet_udp_send() of what came
 * in. Without valgrind it runs natively as a check that every request was
 * answered. Prints "packets=N replies_ok=N".
 */
#include <arpa/inet.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <valgrind/callgrind.h>

#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_udp.h>

#include <fragnet.h>

#define BURST 32                /* the library's rx burst */
#define SERVER_IP "10.0.0.1"
#define CLIENT_IP "10.0.0.2"
#define ECHO_PORT 7
#define RING "ETH_RXTX0_net_ring0"   /* drivers/net/ring: rx and tx share it */

static const struct rte_ether_addr client_mac = { { 0x02, 0xfe, 0, 0, 0, 2 } };

/* examples/echo.c's callback. */
static void echo(struct fragnet_queue *q, const struct fragnet_dgram *d, void *arg)
{
	(void)arg;
	fragnet_udp_send(q, d->dst_port, d->src_addr, d->src_port, d->data, d->len);
}

static void die(const char *msg)
{
	fprintf(stderr, "fn-icount: %s\n", msg);
	exit(1);
}

static void build(struct rte_mbuf *m, const struct rte_ether_addr *server_mac,
		  uint16_t sport, unsigned payload)
{
	struct rte_ether_hdr *eth;
	struct rte_ipv4_hdr *ip;
	struct rte_udp_hdr *udp;

	eth = (struct rte_ether_hdr *)rte_pktmbuf_append(m, sizeof(*eth) + sizeof(*ip) +
							 sizeof(*udp) + payload);
	ip = (struct rte_ipv4_hdr *)(eth + 1);
	udp = (struct rte_udp_hdr *)(ip + 1);
	eth->dst_addr = *server_mac;
	eth->src_addr = client_mac;
	eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV4);
	memset(ip, 0, sizeof(*ip));
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16(sizeof(*ip) + sizeof(*udp) + payload);
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_UDP;
	ip->src_addr = inet_addr(CLIENT_IP);
	ip->dst_addr = inet_addr(SERVER_IP);
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	udp->src_port = rte_cpu_to_be_16(sport);
	udp->dst_port = rte_cpu_to_be_16(ECHO_PORT);
	udp->dgram_len = rte_cpu_to_be_16(sizeof(*udp) + payload);
	udp->dgram_cksum = 0;
	memset(udp + 1, 'x', payload);
	udp->dgram_cksum = rte_ipv4_udptcp_cksum(ip, udp);
}

static bool reply_ok(const struct rte_mbuf *m, unsigned payload)
{
	const struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)(eth + 1);
	const struct rte_udp_hdr *udp = (const struct rte_udp_hdr *)(ip + 1);

	return m->pkt_len == sizeof(*eth) + sizeof(*ip) + sizeof(*udp) + payload &&
	       rte_is_same_ether_addr(&eth->dst_addr, &client_mac) &&
	       ip->dst_addr == inet_addr(CLIENT_IP) &&
	       udp->src_port == RTE_BE16(ECHO_PORT);
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "bursts", required_argument, NULL, 'b' },
		{ "warmup", required_argument, NULL, 'w' },
		{ "payload", required_argument, NULL, 'p' },
		{ 0 }
	};
	const char *ports[] = { "net_ring0", NULL };
	struct fragnet_config cfg = {
		.sz = sizeof(cfg), .app_name = "fn-icount", .ports = ports,
		.prefix_len = 24, .flags = FRAGNET_F_UNFILTERED | FRAGNET_F_NO_SIGNALS,
		/* Valgrind cannot map hugepages; --no-shconf keeps us out of
		 * /var/run/dpdk, where other processes live. */
		.eal_args = "--no-huge -m 512 --no-shconf --log-level=*:error",
	};
	unsigned bursts = 1000, warmup = 100, payload = 18;
	unsigned long packets = 0, ok = 0;
	struct rte_ether_addr server_mac;
	struct rte_mempool *pool;
	struct fragnet_queue *q;
	struct fragnet *fn;
	struct rte_ring *ring;
	int c;

	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'b': bursts = atoi(optarg); break;
		case 'w': warmup = atoi(optarg); break;
		case 'p': payload = atoi(optarg); break;
		default: die("usage: fn-icount [--bursts N] [--warmup N] [--payload BYTES]");
		}
	}
	if (payload < 18 || payload > 1400)
		die("--payload: 18 (a 60-byte frame) to 1400");
	cfg.ipv4_addr = inet_addr(SERVER_IP);
	fn = fragnet_open(&cfg);
	if (fn == NULL)
		die("fragnet_open failed");
	if (fragnet_udp_bind(fn, htons(ECHO_PORT), echo, NULL) < 0)
		die("bind failed");
	q = fragnet_queue(fn, 0);
	fragnet_mac(fn, server_mac.addr_bytes);
	ring = rte_ring_lookup(RING);
	pool = rte_pktmbuf_pool_create("fn_icount", 4095, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
				       SOCKET_ID_ANY);
	if (ring == NULL || pool == NULL)
		die("no ring or no pool");

	for (unsigned b = 0; b < warmup + bursts; b++) {
		struct rte_mbuf *pkts[BURST];
		unsigned n;

		if (rte_pktmbuf_alloc_bulk(pool, pkts, BURST) != 0)
			die("pool empty");
		for (unsigned i = 0; i < BURST; i++)
			build(pkts[i], &server_mac, 10000 + (b * BURST + i) % 64, payload);
		if (rte_ring_enqueue_bulk(ring, (void **)pkts, BURST, NULL) != BURST)
			die("ring full");
		if (b >= warmup)
			CALLGRIND_TOGGLE_COLLECT;
		fragnet_poll(q);
		if (b >= warmup) {
			CALLGRIND_TOGGLE_COLLECT;
			packets += BURST;
		}
		n = rte_ring_dequeue_burst(ring, (void **)pkts, BURST, NULL);
		for (unsigned i = 0; i < n; i++) {
			ok += b >= warmup && reply_ok(pkts[i], payload);
			rte_pktmbuf_free(pkts[i]);
		}
	}
	printf("packets=%lu replies_ok=%lu\n", packets, ok);
	fragnet_close(fn);
	return ok == packets ? 0 : 1;
}
