/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fnr-gen: a one-lcore DPDK load generator for the Redis fork's RESP over
 * UDP, on a vdev pair (memif), so that the figure is what the server can
 * serve and not what a kernel-socket client can send (fnr-bench).
 *
 *   fnr-gen -l 0 --vdev net_memif0,role=client,... -- --dst-mac 02:.. \
 *           --src-ip 10.0.0.2 --dst-ip 10.0.0.1 [--dport 6380] [--flows 64] \
 *           [--window 1] [--pipeline 1] [--keys 100000] [--value-size 64] \
 *           [--get-ratio 0.9] [--warmup 1] [--duration 5] [--timeout-ms 250] \
 *           [--watch-task PID[/TID]] [--linger]
 *
 * The mix is fnr-bench's: GET and SET of keys "key:%012u" drawn at random
 * from --keys, values of --value-size bytes of 'x'. First every key is SET
 * once (the fill, not measured), then the mix runs closed loop: each flow
 * (a UDP source port: one Redis client on the server) keeps --window
 * requests of --pipeline commands in flight, and a request's last reply
 * sends the next. A request goes out as the fork's clients send it: whole
 * commands packed into datagrams of at most 1472 bytes of payload (the
 * flow's RESP stream is the concatenation of its datagrams).
 *
 * Every reply is checked against what its command must get: "+OK" for a
 * SET, the value (length and bytes) for a GET; a GET that finds nothing is
 * a miss (the fill lost it), anything else an error. A flow that has had no
 * reply for --timeout-ms writes its requests in flight off as lost and
 * starts over on a new source port (a new client: its stream is out of
 * step), so a drop never wedges the run.
 *
 * Result on stdout, one line:
 *   rps=... lost=... errors=... misses=... stale=... idle=... server_cpu=...
 *   server_proc_cpu=... samples=<per-second commands>
 * rps counts commands (a request of 16 pipelined commands is 16). idle is
 * the share of the measured receive polls that found nothing; idle_time
 * the share of the measured time spent in loop iterations that neither
 * received nor sent anything (an empty poll is quick, a busy one slow, so
 * idle overstates the waiting and idle_time is the one to read): the time
 * the generator waited for the server. Well above zero, the generator was
 * not the bound; near zero, it was (or it lost its CPU: compare with
 * server_cpu). With --watch-task PID/TID, server_cpu is the CPU time of that
 * thread (the fork's main thread, which polls the queue and runs the
 * commands) in % of one CPU over the measurement, server_proc_cpu that of
 * the whole process.
 *
 * --linger: after the result, keep the port open (not polled) until
 * SIGTERM, so that the server can be stopped first (memif crashes a peer
 * still polling when the other end leaves).
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

#include "../stack/cpu_usage.h"
#include "../stack/gen_port.h"

#define BURST 32u
#define MAX_FLOWS 4096
#define MAX_QUEUED 8192          /* datagrams built but not yet taken by the port */
#define POOL_SIZE 16383
#define MAX_PAYLOAD 1472         /* the fork's clients pack requests up to this */
#define MAX_VALUE 1400           /* a SET must fit one datagram */
#define MAX_PIPELINE 64
#define PORT_BASE 1024
#define KEY_DIGITS 12
#define KEY_LEN (4 + KEY_DIGITS) /* "key:" and the digits */
#define MAX_SECONDS 600
#define HDR_MAX 24               /* longest reply header line we accept */

enum cmd { CMD_GET, CMD_SET };

struct opts {
	struct rte_ether_addr dst_mac;
	uint32_t src_ip, dst_ip;        /* network order */
	uint16_t dport;
	unsigned flows, window, pipeline, keys, vsize;
	double get_ratio, warmup, duration;
	unsigned timeout_ms;
	int watch_pid, watch_tid;
	bool linger;
};

/* One flow: a source port, its requests in flight, and where its reply
 * stream stands. The commands' kinds come from a per-flow random sequence
 * that the receive side replays, so no per-command record is kept. */
struct flow {
	uint16_t sport;                 /* host order */
	unsigned generation;            /* how often it started over */
	unsigned inflight;              /* requests sent, not fully answered */
	unsigned replies;               /* replies of the oldest request so far */
	unsigned fill_due;              /* fill SETs sent, not answered */
	uint32_t kind_tx, kind_rx;      /* the kind sequence: next to send, next to check */
	uint64_t progress_tsc;          /* last reply bytes, or the send into an idle flow */
	/* reply parser */
	char hdr[HDR_MAX];
	unsigned hdr_len;
	long body_left;                 /* bytes of a bulk reply still to come, with its CRLF */
	bool body_bad;
};

struct counters {
	uint64_t cmds, lost, errors, misses, stale, polls, empty_polls;
	uint64_t idle_tsc;              /* time in loop iterations that did nothing */
};

static struct opts o;
static struct flow flows[MAX_FLOWS];
static struct counters all, at_measure;
static struct rte_mbuf *txq[MAX_QUEUED];
static unsigned txq_head, txq_len;
static struct rte_mempool *pool;
static struct rte_ether_addr src_mac;
static uint32_t key_rng = 0x2545f491, mix_threshold;
static unsigned fill_next, port_space;
static char *value;                 /* the value SETs write and GETs must return */
static uint64_t hz, now;
static bool filling = true, measuring;
static uint32_t xorshift(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static enum cmd next_kind(uint32_t *s)
{
	return xorshift(s) < mix_threshold ? CMD_GET : CMD_SET;
}

/* ------------------------------------------------------------- requests */

/* A datagram being filled: its mbuf and where its payload ends. */
struct dgram {
	struct rte_mbuf *m;
	char *payload;
	unsigned len;
};

static const size_t HDRS = sizeof(struct rte_ether_hdr) + sizeof(struct rte_ipv4_hdr) +
			   sizeof(struct rte_udp_hdr);

static void dgram_open(struct dgram *d)
{
	d->m = rte_pktmbuf_alloc(pool);
	if (d->m == NULL)
		gen_die("mbuf pool exhausted (bad --flows/--window/--pipeline sizing)");
	d->payload = rte_pktmbuf_mtod(d->m, char *) + HDRS;
	d->len = 0;
}

/* Headers and checksums (the server verifies the UDP checksum: memif has
 * no offload), then onto the transmit queue. */
static void dgram_close(struct dgram *d, const struct flow *f)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(d->m, struct rte_ether_hdr *);
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(ip + 1);
	unsigned len = HDRS + d->len;

	eth->dst_addr = o.dst_mac;
	eth->src_addr = src_mac;
	eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV4);
	*ip = (struct rte_ipv4_hdr){
		.version_ihl = RTE_IPV4_VHL_DEF,
		.total_length = rte_cpu_to_be_16(len - sizeof(*eth)),
		.time_to_live = 64,
		.next_proto_id = IPPROTO_UDP,
		.src_addr = o.src_ip,
		.dst_addr = o.dst_ip,
	};
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	*udp = (struct rte_udp_hdr){
		.src_port = rte_cpu_to_be_16(f->sport),
		.dst_port = o.dport,
		.dgram_len = rte_cpu_to_be_16(sizeof(*udp) + d->len),
	};
	udp->dgram_cksum = rte_ipv4_udptcp_cksum(ip, udp);
	d->m->data_len = d->m->pkt_len = len;
	if (txq_len == MAX_QUEUED)
		gen_die("transmit queue overflow (bad sizing)");
	txq[(txq_head + txq_len++) % MAX_QUEUED] = d->m;
	d->m = NULL;
}

static char *put(char *p, const char *s, size_t n)
{
	memcpy(p, s, n);
	return p + n;
}

static char *put_key(char *p, unsigned k)
{
	p = put(p, "$16\r\nkey:", 9);
	for (int i = KEY_DIGITS - 1; i >= 0; i--, k /= 10)
		p[i] = (char)('0' + k % 10);
	return put(p + KEY_DIGITS, "\r\n", 2);
}

static size_t cmd_len(enum cmd c)
{
	size_t key = 5 + KEY_LEN + 2;   /* "$16\r\n" key "\r\n" */
	char n[16];

	if (c == CMD_GET)
		return 4 + 9 + key;      /* "*2\r\n" "$3\r\nGET\r\n" */
	return 4 + 9 + key + (size_t)snprintf(n, sizeof(n), "$%u\r\n", o.vsize) + o.vsize + 2;
}

static void put_cmd(struct dgram *d, const struct flow *f, enum cmd c, unsigned key)
{
	char *p;

	if (d->len + cmd_len(c) > MAX_PAYLOAD) {
		dgram_close(d, f);
		dgram_open(d);
	}
	p = d->payload + d->len;
	if (c == CMD_GET) {
		p = put(p, "*2\r\n$3\r\nGET\r\n", 13);
		p = put_key(p, key);
	} else {
		p = put(p, "*3\r\n$3\r\nSET\r\n", 13);
		p = put_key(p, key);
		p += sprintf(p, "$%u\r\n", o.vsize);
		p = put(p, value, o.vsize);
		p = put(p, "\r\n", 2);
	}
	d->len = (unsigned)(p - d->payload);
}

/* One request of --pipeline commands on flow f: during the fill, SETs of
 * the next keys; then the mix. Returns false when the
 * fill has no key left to give. */
static bool send_request(struct flow *f)
{
	struct dgram d;

	if (filling && fill_next == o.keys)
		return false;
	dgram_open(&d);
	for (unsigned n = 0; n < o.pipeline; n++) {
		if (filling) {
			put_cmd(&d, f, CMD_SET, fill_next++);
			f->fill_due++;
		} else {
			put_cmd(&d, f, next_kind(&f->kind_tx), xorshift(&key_rng) % o.keys);
		}
	}
	dgram_close(&d, f);
	if (f->inflight++ == 0)
		f->progress_tsc = now;
	return true;
}

static void top_up(struct flow *f)
{
	while (f->inflight < o.window && send_request(f))
		;
}

/* A new source port: the server sees a new client, and replies still on
 * their way to the old port are stale. */
static void flow_start(struct flow *f, unsigned index)
{
	unsigned generation = f->generation + 1;

	*f = (struct flow){ .generation = generation, .kind_tx = 0x9e3779b9u ^ (index * 2654435761u) };
	f->kind_rx = f->kind_tx;
	f->sport = (uint16_t)(PORT_BASE + (index + (uint64_t)generation * o.flows) % port_space);
}

/* ------------------------------------------------------------- replies */

/* One whole reply (its header line in f->hdr, its body checked) for the
 * oldest request: count it, and when it was the request's last, send the
 * next request. */
static void reply_done(struct flow *f, char type, long len, bool body_bad)
{
	enum cmd expect = f->fill_due ? CMD_SET : next_kind(&f->kind_rx);

	if (f->fill_due)
		f->fill_due--;
	if (expect == CMD_SET) {
		if (type != '+' || f->hdr_len != 5 || memcmp(f->hdr, "+OK\r\n", 5) != 0)
			all.errors++;
	} else if (type == '$' && len == -1) {
		all.misses++;
	} else if (type != '$' || len != (long)o.vsize || body_bad) {
		all.errors++;
	}
	if (++f->replies < o.pipeline)
		return;
	f->replies = 0;
	f->inflight--;
	if (!filling)
		all.cmds += o.pipeline;
	top_up(f);
}

/* Feed a reply datagram's payload through f's parser: header lines are
 * gathered (they may span datagrams), bulk bodies compared with the value
 * as they go by. */
static void flow_input(struct flow *f, const char *p, size_t n)
{
	f->progress_tsc = now;
	while (n > 0 && f->inflight > 0) {
		if (f->body_left > 0) {
			size_t take = RTE_MIN(n, (size_t)f->body_left);
			long off = (long)o.vsize + 2 - f->body_left;   /* offset into value + CRLF */

			for (size_t i = 0; i < take; i++, off++) {
				char want = off < (long)o.vsize ? value[off] : off == (long)o.vsize ? '\r' : '\n';

				if (p[i] != want)
					f->body_bad = true;
			}
			p += take;
			n -= take;
			f->body_left -= (long)take;
			if (f->body_left == 0)
				reply_done(f, '$', o.vsize, f->body_bad);
			continue;
		}
		/* Header line: up to and with its '\n'. */
		while (n > 0 && f->hdr_len < HDR_MAX) {
			char c = *p++;

			n--;
			f->hdr[f->hdr_len++] = c;
			if (c == '\n')
				break;
		}
		if (f->hdr_len == HDR_MAX && f->hdr[HDR_MAX - 1] != '\n') {
			/* Not a reply we can read: the stream is out of step, and
			 * the next stall check starts the flow over. */
			all.errors++;
			f->progress_tsc = 0;
			return;
		}
		if (f->hdr[f->hdr_len - 1] != '\n')
			return;                 /* the rest comes in the next datagram */
		if (f->hdr[0] == '$') {
			long len = strtol(f->hdr + 1, NULL, 10);

			f->hdr_len = 0;
			if (len == (long)o.vsize) {
				f->body_left = len + 2;
				f->body_bad = false;
				continue;
			}
			if (len != -1) {        /* a length we cannot check: out of step */
				all.errors++;
				f->progress_tsc = 0;
				return;
			}
			reply_done(f, '$', -1, false);
		} else {
			reply_done(f, f->hdr[0], 0, false);
			f->hdr_len = 0;
		}
	}
	if (n > 0)
		all.stale++;                    /* bytes past what we asked for */
}

static void receive(struct rte_mbuf *m)
{
	const struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)(eth + 1);
	const struct rte_udp_hdr *udp = (const struct rte_udp_hdr *)(ip + 1);
	size_t ulen;
	unsigned port;
	struct flow *f;

	if (m->nb_segs != 1 || m->data_len < HDRS || eth->ether_type != RTE_BE16(RTE_ETHER_TYPE_IPV4) ||
	    ip->version_ihl != RTE_IPV4_VHL_DEF || ip->next_proto_id != IPPROTO_UDP ||
	    udp->src_port != o.dport) {
		all.stale++;
		return;
	}
	ulen = rte_be_to_cpu_16(udp->dgram_len);
	port = rte_be_to_cpu_16(udp->dst_port);
	if (ulen < sizeof(*udp) || HDRS - sizeof(*udp) + ulen > m->data_len || port < PORT_BASE) {
		all.errors++;
		return;
	}
	f = &flows[(port - PORT_BASE) % o.flows];
	if (f->sport != port) {
		all.stale++;                    /* for a port the flow left */
		return;
	}
	flow_input(f, (const char *)(udp + 1), ulen - sizeof(*udp));
}

/* Flows with no reply for the timeout: their requests are lost. */
static void check_stalls(void)
{
	uint64_t limit = hz * o.timeout_ms / 1000;

	for (unsigned i = 0; i < o.flows; i++) {
		struct flow *f = &flows[i];

		if (f->inflight == 0 || now - f->progress_tsc < limit)
			continue;
		all.lost += f->inflight;
		flow_start(f, i);
		top_up(f);
	}
}

/* ------------------------------------------------------------- options */

static void parse_opts(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "dst-mac", required_argument, NULL, 'm' },
		{ "src-ip", required_argument, NULL, 's' },
		{ "dst-ip", required_argument, NULL, 'd' },
		{ "dport", required_argument, NULL, 'p' },
		{ "flows", required_argument, NULL, 'f' },
		{ "window", required_argument, NULL, 'w' },
		{ "pipeline", required_argument, NULL, 'P' },
		{ "keys", required_argument, NULL, 'k' },
		{ "value-size", required_argument, NULL, 'v' },
		{ "get-ratio", required_argument, NULL, 'g' },
		{ "warmup", required_argument, NULL, 'W' },
		{ "duration", required_argument, NULL, 't' },
		{ "timeout-ms", required_argument, NULL, 'T' },
		{ "watch-task", required_argument, NULL, 'X' },
		{ "linger", no_argument, NULL, 'L' },
		{ 0 }
	};
	int c;
	bool have_mac = false;

	o = (struct opts){ .dport = RTE_BE16(6380), .flows = 64, .window = 1, .pipeline = 1,
			   .keys = 100000, .vsize = 64, .get_ratio = 0.9, .warmup = 1, .duration = 5,
			   .timeout_ms = 250 };
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'm':
			if (rte_ether_unformat_addr(optarg, &o.dst_mac) < 0)
				gen_die("bad MAC address");
			have_mac = true;
			break;
		case 's': o.src_ip = gen_parse_ip(optarg); break;
		case 'd': o.dst_ip = gen_parse_ip(optarg); break;
		case 'p': o.dport = rte_cpu_to_be_16((uint16_t)atoi(optarg)); break;
		case 'f': o.flows = (unsigned)atoi(optarg); break;
		case 'w': o.window = (unsigned)atoi(optarg); break;
		case 'P': o.pipeline = (unsigned)atoi(optarg); break;
		case 'k': o.keys = (unsigned)atoi(optarg); break;
		case 'v': o.vsize = (unsigned)atoi(optarg); break;
		case 'g': o.get_ratio = atof(optarg); break;
		case 'W': o.warmup = atof(optarg); break;
		case 't': o.duration = atof(optarg); break;
		case 'T': o.timeout_ms = (unsigned)atoi(optarg); break;
		case 'X':
			if (sscanf(optarg, "%d/%d", &o.watch_pid, &o.watch_tid) < 1)
				gen_die("--watch-task PID[/TID]");
			if (o.watch_tid == 0)
				o.watch_tid = o.watch_pid;
			break;
		case 'L': o.linger = true; break;
		default:
			gen_die("usage: fnr-gen [EAL] -- --dst-mac M --src-ip A --dst-ip B [--dport P] "
			    "[--flows N] [--window W] [--pipeline P] [--keys K] [--value-size V] "
			    "[--get-ratio F] [--warmup S] [--duration S] [--timeout-ms MS] "
			    "[--watch-task PID[/TID]] [--linger]");
		}
	}
	if (!have_mac || o.src_ip == 0 || o.dst_ip == 0)
		gen_die("--dst-mac, --src-ip and --dst-ip (IPv4) are required");
	if (o.flows == 0 || o.flows > MAX_FLOWS || o.window == 0 || o.pipeline == 0 ||
	    o.pipeline > MAX_PIPELINE || (uint64_t)o.flows * o.window * o.pipeline > MAX_QUEUED / 2)
		gen_die("bad --flows, --window or --pipeline (flows x window x pipeline at most 4096)");
	/* The fill's requests are whole pipelines too: a reply count per
	 * request is all the receive side keeps. */
	if (o.keys == 0 || o.keys > 999999999 || o.keys % o.pipeline || o.vsize > MAX_VALUE)
		gen_die("bad --keys (a multiple of --pipeline) or --value-size (at most 1400)");
	if (o.get_ratio < 0 || o.get_ratio > 1 || o.duration <= 0 || o.warmup < 0 ||
	    o.warmup + o.duration > MAX_SECONDS || o.timeout_ms == 0)
		gen_die("bad --get-ratio, --warmup, --duration or --timeout-ms");
}

/* ------------------------------------------------------------- main */

int main(int argc, char **argv)
{
	struct rte_mbuf *rx[BURST];
	uint64_t t_measure = 0, t_end = 0, next_sample = 0, next_stall_check;
	uint64_t cmds_at_sample = 0;
	double samples[MAX_SECONDS], cpu0 = -1, proc0 = -1;
	unsigned n_samples = 0;
	bool did_work = true;
	uint16_t port;
	int n;

	n = rte_eal_init(argc, argv);
	if (n < 0)
		gen_die("EAL initialisation failed");
	parse_opts(argc - n, argv + n);
	signal(SIGINT, gen_on_signal);
	signal(SIGTERM, gen_on_signal);

	mix_threshold = (uint32_t)(o.get_ratio * UINT32_MAX);
	port_space = (65536 - PORT_BASE) / o.flows * o.flows;
	value = malloc(o.vsize + 1);
	if (value == NULL)
		gen_die("out of memory");
	memset(value, 'x', o.vsize);
	pool = rte_pktmbuf_pool_create("fnr_gen", POOL_SIZE, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
				       rte_socket_id());
	if (pool == NULL)
		gen_die("cannot create the mbuf pool");
	switch (gen_port_up(pool, &port)) {
	case -1: gen_die("give exactly one port (--vdev) that can be configured"); break;
	case -2: gen_die("link did not come up in 10 s (is the server running?)"); break;
	}
	rte_eth_macaddr_get(port, &src_mac);

	hz = rte_get_tsc_hz();
	now = rte_get_tsc_cycles();
	next_stall_check = now;
	for (unsigned i = 0; i < o.flows; i++) {
		flows[i].generation = (unsigned)-1;   /* flow_start makes it 0 */
		flow_start(&flows[i], i);
		top_up(&flows[i]);
	}

	while (!gen_quit) {
		uint16_t nrx, sent;
		unsigned sent_any = 0;
		uint64_t prev = now;

		now = rte_get_tsc_cycles();
		if (!did_work)
			all.idle_tsc += now - prev;   /* the last iteration found nothing to do */
		if (filling && fill_next == o.keys) {
			/* The fill is over once every SET has its answer: only then
			 * can a GET count on its key. */
			bool drained = true;

			for (unsigned i = 0; i < o.flows && drained; i++)
				drained = flows[i].inflight == 0;
			if (drained) {
				filling = false;
				t_measure = now + (uint64_t)(o.warmup * hz);
				t_end = t_measure + (uint64_t)(o.duration * hz);
				fprintf(stderr, "fnr-gen: %u keys written, %lu lost, %lu errors\n", o.keys,
					all.lost, all.errors);
				for (unsigned i = 0; i < o.flows; i++)
					top_up(&flows[i]);
			}
		}
		if (!filling && !measuring && now >= t_measure) {
			measuring = true;
			at_measure = all;
			next_sample = now + hz;
			cmds_at_sample = all.cmds;
			if (o.watch_pid) {
				cpu0 = task_cpu_seconds(o.watch_pid, o.watch_tid);
				proc0 = proc_cpu_seconds(o.watch_pid);
			}
		}
		if (measuring && now >= next_sample && n_samples < MAX_SECONDS) {
			samples[n_samples++] = (double)(all.cmds - cmds_at_sample);
			fprintf(stderr, "fnr-gen: %.0f commands/s\n", samples[n_samples - 1]);
			cmds_at_sample = all.cmds;
			next_sample += hz;
		}
		if (measuring && now >= t_end)
			break;

		nrx = rte_eth_rx_burst(port, 0, rx, BURST);
		all.polls++;
		all.empty_polls += nrx == 0;
		for (uint16_t i = 0; i < nrx; i++) {
			receive(rx[i]);
			rte_pktmbuf_free(rx[i]);
		}
		if (now >= next_stall_check) {
			check_stalls();
			next_stall_check = now + hz / 1000;
		}
		/* Send what the queue holds, in order, as far as the port takes it. */
		while (txq_len > 0) {
			unsigned contiguous = RTE_MIN(txq_len, MAX_QUEUED - txq_head);
			uint16_t run = (uint16_t)RTE_MIN(contiguous, BURST);

			sent = rte_eth_tx_burst(port, 0, txq + txq_head, run);
			txq_head = (txq_head + sent) % MAX_QUEUED;
			txq_len -= sent;
			sent_any += sent;
			if (sent < run)
				break;
		}
		did_work = nrx > 0 || sent_any > 0;
	}

	now = rte_get_tsc_cycles();
	if (!measuring)
		gen_die("stopped before the measurement started");
	{
		double secs = (double)(now - t_measure) / hz;
		double cpu1 = o.watch_pid ? task_cpu_seconds(o.watch_pid, o.watch_tid) : -1;
		double proc1 = o.watch_pid ? proc_cpu_seconds(o.watch_pid) : -1;
		uint64_t polls = all.polls - at_measure.polls;

		printf("rps=%.0f lost=%lu errors=%lu misses=%lu stale=%lu idle=%.2f idle_time=%.1f "
		       "server_cpu=%.1f server_proc_cpu=%.1f samples=",
		       (all.cmds - at_measure.cmds) / secs, all.lost - at_measure.lost,
		       all.errors - at_measure.errors, all.misses - at_measure.misses,
		       all.stale - at_measure.stale,
		       polls ? 100.0 * (all.empty_polls - at_measure.empty_polls) / polls : 0.0,
		       100.0 * (all.idle_tsc - at_measure.idle_tsc) / (now - t_measure),
		       cpu0 >= 0 && cpu1 >= 0 ? 100 * (cpu1 - cpu0) / secs : -1.0,
		       proc0 >= 0 && proc1 >= 0 ? 100 * (proc1 - proc0) / secs : -1.0);
		for (unsigned i = 0; i < n_samples; i++)
			printf("%s%.0f", i ? "," : "", samples[i]);
		printf("\n");
	}
	gen_port_down(port, o.linger);
	return 0;
}
