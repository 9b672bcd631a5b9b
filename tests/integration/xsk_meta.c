/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fn-xsk-meta: does the XDP metadata reach an xsk queue's mbufs, and only
 * the frames that carry it? Opens the library's AF_XDP queues 0 and 1 on
 * IFACE (lib/runtime/xsk.c, as a port would), attaches xsk_redirect.bpf.o
 * (native or generic XDP) with metadata for UDP port META_PORT, prints
 * "ready", then receives datagrams to ADDR:META_PORT until COUNT arrived,
 * none did for a second, or 20 s have passed. One whose payload starts with
 * 'M' must come with the program's metadata (hook RESUME_DONE, chain 1,
 * rule 7, generation = its source port); any other with none (hook
 * RESUME_START), also when its UMEM frame held one with metadata before.
 * Prints "datagrams N meta_ok N meta_bad N plain_ok N plain_bad N busiest
 * queue N" and exits 0 when every datagram was as expected, both kinds came,
 * and one queue received more than its receive frames (so that frames were
 * reused). The kernel may drop some on a busy machine (the library reports
 * how many at close).
 *
 *   fn-xsk-meta OBJ IFACE ADDR native|skb META_PORT COUNT
 */
#include <arpa/inet.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_udp.h>

#include "runtime/xsk.h"
#include "xsk_prog.h"

int main(int argc, char **argv)
{
	char *eal[] = { "fn-xsk-meta", "--no-huge", "-m", "128", "--no-pci", "--no-shconf",
			"--no-telemetry", "--log-level=lib.eal:error", "-l", "0", NULL };
	unsigned long seen = 0, meta_ok = 0, meta_bad = 0, plain_ok = 0, plain_bad = 0, want;
	unsigned long per_queue[2] = { 0 };
	struct fn_stats stats = { 0 };
	struct rte_mempool *pool;
	struct fn_xsk *xsk[2];
	struct xsk_prog prog;
	struct in_addr addr;
	uint16_t meta_port;
	uint64_t deadline, idle_until;
	cpu_set_t cpus;

	if (argc != 7 || inet_pton(AF_INET, argv[3], &addr) != 1) {
		fprintf(stderr, "usage: fn-xsk-meta OBJ IFACE ADDR native|skb META_PORT COUNT\n");
		return 2;
	}
	meta_port = atoi(argv[5]);
	want = strtoul(argv[6], NULL, 10);
	/* EAL pins us to CPU 0; on a busy machine a pinned receiver may wait
	 * long enough for the kernel to run out of frames: let it move. */
	sched_getaffinity(0, sizeof(cpus), &cpus);
	if (rte_eal_init(RTE_DIM(eal) - 1, eal) < 0) {
		fprintf(stderr, "fn-xsk-meta: EAL: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	sched_setaffinity(0, sizeof(cpus), &cpus);
	pool = rte_pktmbuf_pool_create("meta", 4095, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
				       SOCKET_ID_ANY);
	for (unsigned q = 0; q < 2; q++) {
		xsk[q] = pool ? fn_xsk_open(argv[2], q, pool, SOCKET_ID_ANY) : NULL;
		if (xsk[q] == NULL) {
			fprintf(stderr, "fn-xsk-meta: cannot open queue %u\n", q);
			return 1;
		}
	}
	if (xsk_prog_attach(&prog, argv[1], argv[2], addr.s_addr, htons(meta_port),
			    strcmp(argv[4], "skb") == 0) < 0 ||
	    xsk_prog_insert(&prog, 0, fn_xsk_fd(xsk[0])) < 0 ||
	    xsk_prog_insert(&prog, 1, fn_xsk_fd(xsk[1])) < 0)
		return 1;
	printf("ready\n");
	fflush(stdout);

	deadline = rte_get_tsc_cycles() + 20 * rte_get_tsc_hz();
	idle_until = deadline;
	while (seen < want && rte_get_tsc_cycles() < RTE_MIN(deadline, idle_until)) {
		for (unsigned q = 0; q < 2; q++) {
			struct rte_mbuf *pkts[32];
			uint16_t n = fn_xsk_rx_burst(xsk[q], pkts, 32, &stats);

			for (uint16_t i = 0; i < n; i++) {
				const struct rte_ipv4_hdr *ip =
					rte_pktmbuf_mtod_offset(pkts[i], struct rte_ipv4_hdr *,
								RTE_ETHER_HDR_LEN);
				const struct rte_udp_hdr *udp = (const void *)(ip + 1);
				const struct fn_xsk_meta *m = fn_xsk_meta(pkts[i]);

				if (pkts[i]->pkt_len < RTE_ETHER_HDR_LEN + sizeof(*ip) + sizeof(*udp) + 1 ||
				    ip->next_proto_id != IPPROTO_UDP || udp->dst_port != htons(meta_port))
					continue;
				seen++;
				per_queue[q]++;
				idle_until = rte_get_tsc_cycles() + rte_get_tsc_hz();
				if (*(const char *)(udp + 1) == 'M') {
					bool ok = m->hook == FN_XDP_RESUME_DONE && m->chain == 1 && m->rule == 7 &&
						  m->generation == ntohs(udp->src_port);

					meta_ok += ok;
					meta_bad += !ok;
				} else {
					bool ok = m->hook == FN_XDP_RESUME_START;

					plain_ok += ok;
					plain_bad += !ok;
				}
			}
			rte_pktmbuf_free_bulk(pkts, n);
		}
	}
	printf("datagrams %lu meta_ok %lu meta_bad %lu plain_ok %lu plain_bad %lu busiest "
	       "queue %lu\n", seen, meta_ok, meta_bad, plain_ok, plain_bad,
	       RTE_MAX(per_queue[0], per_queue[1]));
	xsk_prog_detach(&prog);
	fn_xsk_close(xsk[0]);
	fn_xsk_close(xsk[1]);
	return meta_bad == 0 && plain_bad == 0 && meta_ok > 0 && plain_ok > 0 &&
	       RTE_MAX(per_queue[0], per_queue[1]) > FN_XSK_RX_FRAMES ? 0 : 1;
}
