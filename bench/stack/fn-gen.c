/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fn-gen: a one-lcore DPDK UDP/IPv4 load generator for echo servers on a
 * vdev pair (memif) or on one end of a veth (net_af_xdp). It keeps a window
 * of frames in flight to the server's MAC and IP and counts what comes back,
 * so the figure is the echo rate of whatever sits at the other end
 * (fragnet-echo, testpmd macswap, a kernel UDP echo).
 *
 *   fn-gen -l 0 --vdev net_memif0,role=client,... -- --dst-mac 02:.. \
 *          --src-ip 10.0.0.2 --dst-ip 10.0.0.1 [--window 256 | --open]
 *
 * Closed loop (default): every frame that comes back is rewritten into the
 * next request and sent again, and new frames top the window up; a window
 * that stalls for STALL_MS is written off as lost, so a drop never wedges
 * the run. Open loop (--open): send as fast as the port takes frames, count
 * what returns; this is the generator's own ceiling.
 *
 * --linger: after the result, keep the port open (not polled) until
 * SIGTERM, so that the server can be stopped while we are quiet.
 *
 * Prints per-second rates on stderr and one result line on stdout:
 *   rx_pps=... tx_pps=... lost=... bad=... idle=... rx_burst=... samples=<per-second rx>
 * idle is the share of the measured time spent in loop iterations that
 * neither received nor sent anything: waiting for the server. Well above
 * zero means the generator was not the bottleneck. rx_burst is the mean size
 * of the non-empty receive bursts. With --watch-pid P, server_cpu is the CPU
 * time process P (the server) got during the measurement, in % of one CPU:
 * on a shared machine, rx_pps * 100 / server_cpu is the rate per CPU-second.
 * --watch-tid T narrows that to thread T of the process: the serving thread
 * alone, without the helper threads (EAL's interrupt thread).
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_udp.h>

#include "cpu_usage.h"
#include "gen_port.h"

#define BURST 32
#define MAX_FLOWS 4096
#define POOL_SIZE 16383
#define STALL_MS 250         /* a shared VM can stall a process for tens of ms */
#define MAX_SECONDS 600

struct opts {
	struct rte_ether_addr dst_mac;
	uint32_t src_ip, dst_ip;        /* network order */
	uint16_t dport;
	unsigned flows, size, window;
	bool open, linger;
	int watch_pid, watch_tid;
	double warmup, duration;
};

/* One template frame per flow; flows differ in the UDP source port. */
static uint8_t *build_templates(const struct opts *o, const struct rte_ether_addr *src_mac)
{
	size_t len = o->size;
	uint8_t *t = calloc(o->flows, len);
	size_t l4 = sizeof(struct rte_ether_hdr) + sizeof(struct rte_ipv4_hdr);

	if (t == NULL)
		gen_die("out of memory");
	for (unsigned f = 0; f < o->flows; f++) {
		struct rte_ether_hdr *eth = (struct rte_ether_hdr *)(t + (size_t)f * len);
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);
		struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(ip + 1);

		eth->dst_addr = o->dst_mac;
		eth->src_addr = *src_mac;
		eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV4);
		ip->version_ihl = RTE_IPV4_VHL_DEF;
		ip->total_length = rte_cpu_to_be_16(len - sizeof(*eth));
		ip->time_to_live = 64;
		ip->next_proto_id = IPPROTO_UDP;
		ip->src_addr = o->src_ip;
		ip->dst_addr = o->dst_ip;
		ip->hdr_checksum = rte_ipv4_cksum(ip);
		udp->src_port = rte_cpu_to_be_16(10000 + f);
		udp->dst_port = o->dport;
		udp->dgram_len = rte_cpu_to_be_16(len - l4);
		memset(udp + 1, 'x', len - l4 - sizeof(*udp));
		/* The servers verify checksums in software (memif has no offload). */
		udp->dgram_cksum = rte_ipv4_udptcp_cksum(ip, udp);
	}
	return t;
}

static void parse_mac(const char *s, struct rte_ether_addr *mac)
{
	if (rte_ether_unformat_addr(s, mac) < 0)
		gen_die("bad MAC address");
}

static uint32_t parse_ip(const char *s)
{
	uint32_t a = gen_parse_ip(s);

	if (a == 0)
		gen_die("bad IPv4 address");
	return a;
}

static void parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "dst-mac", required_argument, NULL, 'm' },
		{ "src-ip", required_argument, NULL, 's' },
		{ "dst-ip", required_argument, NULL, 'd' },
		{ "dport", required_argument, NULL, 'p' },
		{ "flows", required_argument, NULL, 'f' },
		{ "size", required_argument, NULL, 'z' },
		{ "window", required_argument, NULL, 'w' },
		{ "open", no_argument, NULL, 'o' },
		{ "warmup", required_argument, NULL, 'W' },
		{ "duration", required_argument, NULL, 't' },
		{ "linger", no_argument, NULL, 'L' },
		{ "watch-pid", required_argument, NULL, 'P' },
		{ "watch-tid", required_argument, NULL, 'T' },
		{ 0 }
	};
	int c;
	bool have_mac = false;

	*o = (struct opts){ .dport = RTE_BE16(7), .flows = 64, .size = 60, .window = 256,
			    .warmup = 1, .duration = 3 };
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'm': parse_mac(optarg, &o->dst_mac); have_mac = true; break;
		case 's': o->src_ip = parse_ip(optarg); break;
		case 'd': o->dst_ip = parse_ip(optarg); break;
		case 'p': o->dport = rte_cpu_to_be_16(atoi(optarg)); break;
		case 'f': o->flows = atoi(optarg); break;
		case 'z': o->size = atoi(optarg); break;
		case 'w': o->window = atoi(optarg); break;
		case 'o': o->open = true; break;
		case 'W': o->warmup = atof(optarg); break;
		case 't': o->duration = atof(optarg); break;
		case 'L': o->linger = true; break;
		case 'P': o->watch_pid = atoi(optarg); break;
		case 'T': o->watch_tid = atoi(optarg); break;
		default: gen_die("usage: fn-gen [EAL] -- --dst-mac M --src-ip A --dst-ip B "
			     "[--dport P] [--flows N] [--size FRAME] [--window W | --open] "
			     "[--warmup S] [--duration S] [--linger] [--watch-pid PID [--watch-tid T]]");
		}
	}
	if (!have_mac || o->src_ip == 0 || o->dst_ip == 0)
		gen_die("--dst-mac, --src-ip and --dst-ip are required");
	if (o->flows == 0 || o->flows > MAX_FLOWS || o->window == 0 || o->window > POOL_SIZE / 2)
		gen_die("bad --flows or --window");
	if (o->size < 60 || o->size > RTE_MBUF_DEFAULT_DATAROOM)
		gen_die("--size is a frame length without FCS, 60 to 2048");
	if (o->watch_tid && !o->watch_pid)
		gen_die("--watch-tid needs --watch-pid");
	if (o->duration <= 0 || o->warmup + o->duration > MAX_SECONDS)
		gen_die("bad --duration");
}

/* CPU seconds of the watched server (process or one thread); -1 if none. */
static double server_cpu_seconds(const struct opts *o)
{
	if (o->watch_pid == 0)
		return -1;
	return o->watch_tid ? task_cpu_seconds(o->watch_pid, o->watch_tid) :
			      proc_cpu_seconds(o->watch_pid);
}

int main(int argc, char **argv)
{
	struct rte_mbuf *rx[BURST], *tx[BURST * 2];
	struct rte_ether_addr src_mac;
	struct rte_mempool *pool;
	struct opts o;
	uint8_t *tmpl;
	uint64_t hz, now, start, t_measure, t_end, next_sample, last_rx_tsc;
	uint64_t n_tx = 0, n_rx = 0, lost = 0, bad = 0, inflight = 0;
	uint64_t rx_at_measure = 0, tx_at_measure = 0, rx_at_sample = 0, idle_tsc = 0;
	uint64_t rx_bursts = 0, rx_bursts_at_measure = 0;
	double samples[MAX_SECONDS];
	unsigned n_samples = 0, flow = 0;
	bool measuring = false;
	bool did_work = true;
	double server_cpu0 = -1;
	uint16_t port;
	int n;

	n = rte_eal_init(argc, argv);
	if (n < 0)
		gen_die("EAL initialisation failed");
	parse_opts(argc - n, argv + n, &o);
	signal(SIGINT, gen_on_signal);
	signal(SIGTERM, gen_on_signal);

	pool = rte_pktmbuf_pool_create("fn_gen", POOL_SIZE, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
				       rte_socket_id());
	if (pool == NULL)
		gen_die("cannot create the mbuf pool");
	switch (gen_port_up(pool, &port)) {
	case -1: gen_die("give exactly one port (--vdev) that can be configured"); break;
	case -2: gen_die("link did not come up in 10 s (is the server running?)"); break;
	}
	rte_eth_macaddr_get(port, &src_mac);
	tmpl = build_templates(&o, &src_mac);
#define TEMPLATE(f) (tmpl + (size_t)(f) * o.size)

	hz = rte_get_tsc_hz();
	start = rte_get_tsc_cycles();
	t_measure = start + (uint64_t)(o.warmup * hz);
	t_end = t_measure + (uint64_t)(o.duration * hz);
	next_sample = t_measure + hz;
	last_rx_tsc = start;

	now = start;
	while (!gen_quit) {
		uint16_t nrx, ntx = 0, sent;
		uint64_t prev = now;

		now = rte_get_tsc_cycles();
		if (measuring && !did_work)
			idle_tsc += now - prev;   /* the last iteration found nothing to do */
		if (!measuring && now >= t_measure) {
			measuring = true;
			rx_at_measure = n_rx;
			tx_at_measure = n_tx;
			rx_at_sample = n_rx;
			rx_bursts_at_measure = rx_bursts;
			server_cpu0 = server_cpu_seconds(&o);
		}
		if (now >= next_sample && n_samples < MAX_SECONDS) {
			samples[n_samples++] = (double)(n_rx - rx_at_sample);
			fprintf(stderr, "fn-gen: %.0f pps\n", samples[n_samples - 1]);
			rx_at_sample = n_rx;
			next_sample += hz;
		}
		if (now >= t_end)
			break;

		nrx = rte_eth_rx_burst(port, 0, rx, BURST);
		if (nrx) {
			rx_bursts++;
			last_rx_tsc = now;
			n_rx += nrx;
			inflight -= RTE_MIN(inflight, (uint64_t)nrx);
		}
		for (uint16_t i = 0; i < nrx; i++) {
			struct rte_mbuf *m = rx[i];
			const struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, void *);

			if (m->pkt_len != o.size || m->nb_segs != 1 ||
			    !rte_is_same_ether_addr(&eth->dst_addr, &src_mac) ||
			    eth->ether_type != RTE_BE16(RTE_ETHER_TYPE_IPV4))
				bad++;
			if (o.open || m->nb_segs != 1 || m->buf_len < RTE_PKTMBUF_HEADROOM + o.size) {
				rte_pktmbuf_free(m);
				continue;
			}
			/* Recycle the reply as the next request: no allocation. */
			m->data_off = RTE_PKTMBUF_HEADROOM;
			m->data_len = m->pkt_len = o.size;
			m->ol_flags = 0;
			rte_memcpy(rte_pktmbuf_mtod(m, void *), TEMPLATE(flow), o.size);
			flow = flow + 1 == o.flows ? 0 : flow + 1;
			tx[ntx++] = m;
		}

		if (!o.open && inflight > 0 && now - last_rx_tsc > hz * STALL_MS / 1000) {
			lost += inflight;   /* the server dropped them: top up again */
			inflight = 0;
			last_rx_tsc = now;
		}
		/* Top the window up (closed loop) or fill a burst (open loop). */
		{
			unsigned want = o.open ? BURST :
				RTE_MIN((uint64_t)BURST, o.window > inflight + ntx ?
					o.window - inflight - ntx : 0);

			if (want && rte_pktmbuf_alloc_bulk(pool, tx + ntx, want) == 0) {
				for (unsigned i = 0; i < want; i++) {
					struct rte_mbuf *m = tx[ntx + i];

					m->data_len = m->pkt_len = o.size;
					rte_memcpy(rte_pktmbuf_mtod(m, void *), TEMPLATE(flow),
						   o.size);
					flow = flow + 1 == o.flows ? 0 : flow + 1;
				}
				ntx += want;
			}
		}
		sent = ntx ? rte_eth_tx_burst(port, 0, tx, ntx) : 0;
		if (sent < ntx)
			rte_pktmbuf_free_bulk(tx + sent, ntx - sent);
		n_tx += sent;
		inflight += sent;
		did_work = nrx + sent > 0;
	}

	now = rte_get_tsc_cycles();
	{
		double secs = (double)(now - t_measure) / hz;
		double server_cpu1 = server_cpu_seconds(&o);

		if (!measuring || secs <= 0)
			gen_die("stopped before the measurement started");
		printf("rx_pps=%.0f tx_pps=%.0f lost=%lu bad=%lu idle=%.0f rx_burst=%.1f "
		       "server_cpu=%.0f samples=",
		       (n_rx - rx_at_measure) / secs, (n_tx - tx_at_measure) / secs, lost, bad,
		       100.0 * idle_tsc / (now - t_measure),
		       (double)(n_rx - rx_at_measure) / RTE_MAX(rx_bursts - rx_bursts_at_measure, 1ul),
		       server_cpu0 >= 0 && server_cpu1 >= 0 ?
		       100 * (server_cpu1 - server_cpu0) / secs : -1.0);
		for (unsigned i = 0; i < n_samples; i++)
			printf("%s%.0f", i ? "," : "", samples[i]);
		printf("\n");
	}
	gen_port_down(port, o.linger);
	return 0;
}
