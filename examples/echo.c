/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fragnet-echo: a UDP echo server on libfragnet. Every datagram that arrives
 * on the bound port goes back to its sender, from the queue that got it.
 *
 *   fragnet-echo --port net_af_packet0,iface=veth0,qpairs=2 --queues 2 \
 *                --addr 10.0.0.1/24 --udp-port 7 --unfiltered
 *
 * Prints per-queue counters when it stops (SIGINT/SIGTERM). --poll drives the
 * queues from one thread with fragnet_poll() instead of fragnet_run();
 * --zero-copy replies through library buffers instead of copying sends.
 */
#include <arpa/inet.h>
#include <getopt.h>
#include <signal.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fragnet.h>

#define MAX_PORTS 16

static volatile sig_atomic_t stopping;

static void echo(struct fragnet_queue *q, const struct fragnet_dgram *d, void *arg)
{
	(void)arg;
	fragnet_udp_send(q, d->dst_port, d->src_addr, d->src_port, d->data, d->len);
}

static void echo_zero_copy(struct fragnet_queue *q, const struct fragnet_dgram *d, void *arg)
{
	struct fragnet_buf *b;
	void *data;

	(void)arg;
	if (d->len > fragnet_buf_room(q)) {
		echo(q, d, arg);
		return;
	}
	b = fragnet_buf_alloc(q, d->len, &data);
	if (b == NULL)
		return;
	memcpy(data, d->data, d->len);
	fragnet_udp_send_buf(q, b, d->dst_port, d->src_addr, d->src_port);
}

static void on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

/* An application with its own loop: one thread polls every queue. */
static void poll_loop(struct fragnet *fn)
{
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	while (!stopping)
		for (unsigned q = 0; q < fragnet_queue_count(fn); q++)
			fragnet_poll(fragnet_queue(fn, q));
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: fragnet-echo --port SPEC [--port SPEC...] --addr A.B.C.D/N [options]\n"
		"  --port SPEC      PCI address or DPDK vdev; several = one port per queue\n"
		"  --queues N       queue pairs on a single multi-queue port\n"
		"  --addr A/N       our IPv4 address and prefix length\n"
		"  --gateway A      default gateway\n"
		"  --udp-port P     port to echo on (default 7)\n"
		"  --mtu N          IP MTU (default: the port's, at most 1500)\n"
		"  --lcores LIST    CPUs for the queues (EAL -l syntax)\n"
		"  --eal ARGS       extra DPDK EAL arguments\n"
		"  --busy           busy-poll even when idle\n"
		"  --sleep          sleep from the first empty poll (no spin)\n"
		"  --rules FILE     filter with a compiled rules image\n"
		"  --unfiltered     run without rules when no fragnetd answers\n"
		"  --neighbour A,MAC  static neighbour (needed by builds without ARP)\n"
		"  --poll           one thread polls all queues (fragnet_poll)\n"
		"  --zero-copy      reply through library buffers\n");
}

static void print_stats(struct fragnet *fn)
{
	/* The library says how many drop reasons it counts: a newer one may
	 * count more than this program's header names. */
	unsigned n_drops = fragnet_drop_count();
	uint64_t *drops = calloc(n_drops, sizeof(*drops));

	for (unsigned q = 0; q < fragnet_queue_count(fn); q++) {
		struct fragnet_queue_stats st = { .sz = sizeof(st) };

		if (fragnet_queue_stats(fn, q, &st) < 0)
			continue;
		printf("queue %u: rx %lu pkts %lu bytes, tx %lu pkts %lu bytes, "
		       "datagrams in %lu out %lu, link down %lu, busy %.6f s, drops:",
		       q, st.rx_packets, st.rx_bytes, st.tx_packets, st.tx_bytes,
		       st.rx_datagrams, st.tx_datagrams, st.link_down, st.busy_ns / 1e9);
		if (drops && fragnet_queue_drops(fn, q, drops, n_drops) >= 0)
			for (unsigned r = 0; r < n_drops; r++)
				if (drops[r])
					printf(" %s=%lu", fragnet_drop_name(r), drops[r]);
		printf("\n");
	}
	fflush(stdout);
	free(drops);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "queues", required_argument, NULL, 'q' },
		{ "addr", required_argument, NULL, 'a' },
		{ "gateway", required_argument, NULL, 'g' },
		{ "udp-port", required_argument, NULL, 'u' },
		{ "mtu", required_argument, NULL, 'm' },
		{ "lcores", required_argument, NULL, 'l' },
		{ "eal", required_argument, NULL, 'e' },
		{ "busy", no_argument, NULL, 'b' },
		{ "sleep", no_argument, NULL, 'S' },
		{ "rules", required_argument, NULL, 'r' },
		{ "unfiltered", no_argument, NULL, 'U' },
		{ "neighbour", required_argument, NULL, 'n' },
		{ "poll", no_argument, NULL, 'P' },
		{ "zero-copy", no_argument, NULL, 'z' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *ports[MAX_PORTS + 1] = { 0 };
	struct fragnet_neighbour neigh[MAX_PORTS];
	struct fragnet_config cfg = { .sz = sizeof(cfg), .app_name = "echo" };
	unsigned n_ports = 0, udp_port = 7;
	bool poll = false, zero_copy = false;
	struct in_addr a;
	struct fragnet *fn;
	char *slash;
	int c, rc;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (n_ports == MAX_PORTS) {
				fprintf(stderr, "fragnet-echo: too many ports\n");
				return 2;
			}
			ports[n_ports++] = optarg;
			break;
		case 'q': cfg.n_queues = atoi(optarg); break;
		case 'a':
			slash = strchr(optarg, '/');
			if (slash == NULL) {
				fprintf(stderr, "fragnet-echo: --addr needs /prefix\n");
				return 2;
			}
			*slash = '\0';
			if (inet_pton(AF_INET, optarg, &a) != 1) {
				fprintf(stderr, "fragnet-echo: bad address %s\n", optarg);
				return 2;
			}
			cfg.ipv4_addr = a.s_addr;
			cfg.prefix_len = atoi(slash + 1);
			break;
		case 'g':
			if (inet_pton(AF_INET, optarg, &a) != 1) {
				fprintf(stderr, "fragnet-echo: bad gateway %s\n", optarg);
				return 2;
			}
			cfg.gateway = a.s_addr;
			break;
		case 'u': udp_port = atoi(optarg); break;
		case 'm': cfg.mtu = atoi(optarg); break;
		case 'l': cfg.lcores = optarg; break;
		case 'e': cfg.eal_args = optarg; break;
		case 'b': cfg.idle = FRAGNET_IDLE_BUSY; break;
		case 'S': cfg.idle = FRAGNET_IDLE_SLEEP; break;
		case 'r': cfg.rules_image = optarg; break;
		case 'U': cfg.flags |= FRAGNET_F_UNFILTERED; break;
		case 'n': {
			struct fragnet_neighbour *nb = &neigh[cfg.n_neighbours];
			char *comma = strchr(optarg, ',');

			if (cfg.n_neighbours == MAX_PORTS || comma == NULL) {
				fprintf(stderr, "fragnet-echo: --neighbour A.B.C.D,MAC\n");
				return 2;
			}
			*comma = '\0';
			if (inet_pton(AF_INET, optarg, &a) != 1 ||
			    sscanf(comma + 1, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &nb->mac[0],
				   &nb->mac[1], &nb->mac[2], &nb->mac[3], &nb->mac[4],
				   &nb->mac[5]) != 6) {
				fprintf(stderr, "fragnet-echo: bad neighbour %s\n", optarg);
				return 2;
			}
			nb->addr = a.s_addr;
			cfg.neighbours = neigh;
			cfg.n_neighbours++;
			break;
		}
		case 'P': poll = true; break;
		case 'z': zero_copy = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (n_ports == 0 || cfg.ipv4_addr == 0 || udp_port == 0 || udp_port > 65535) {
		usage(stderr);
		return 2;
	}
	cfg.ports = ports;

	fn = fragnet_open(&cfg);
	if (fn == NULL) {
		fprintf(stderr, "fragnet-echo: cannot start: %s\n", strerror(errno));
		return 1;
	}
	rc = fragnet_udp_bind(fn, htons(udp_port), zero_copy ? echo_zero_copy : echo, NULL);
	if (rc < 0) {
		fprintf(stderr, "fragnet-echo: bind %u: %s\n", udp_port, strerror(-rc));
		fragnet_close(fn);
		return 1;
	}
	printf("fragnet-echo: echoing on UDP port %u, %u queue(s)\n", udp_port,
	       fragnet_queue_count(fn));
	fflush(stdout);
	if (poll)
		poll_loop(fn);
	else
		rc = fragnet_run(fn);
	if (rc < 0)
		fprintf(stderr, "fragnet-echo: run: %s\n", strerror(-rc));
	print_stats(fn);
	fragnet_close(fn);
	return rc < 0;
}
