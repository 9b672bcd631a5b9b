/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fnr-bench: a closed-loop RESP load generator in the spirit of
 * redis-benchmark, for RESP over UDP (the Redis fork on libfragnet), and for
 * comparison RESP over kernel TCP and memcached's text protocol over UDP.
 *
 * Each flow (one UDP socket, so one source port, so one Redis client) sends
 * a request of P pipelined commands, waits for all P replies (which may span
 * several datagrams), records the round trip, and sends the next. A GET/SET
 * mix over a random key space with fixed-size values. Requests that get no
 * complete answer within the timeout are counted lost; the flow then starts
 * over on a new socket (a new client), since a lost datagram leaves a RESP
 * stream out of step.
 *
 *   fnr-bench -h 10.99.0.1 -p 6380 -c 50 -P 16 -T 10 --get-ratio 0.9 -r 100000 -d 64
 *
 * Prints requests/s (commands per second) and latency percentiles of the
 * request round trip; --csv prints one machine-readable line.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../stack/cpu_usage.h"

enum proto { P_RESP_UDP, P_RESP_TCP, P_MC_UDP };

static struct {
	const char *host;
	int port;
	enum proto proto;
	int flows, threads, pipeline, keyspace, vsize;
	double get_ratio, duration, warmup;
	int timeout_ms, csv, fill, busy;
	int watch_pid, watch_tid;
	const char *label;
	struct sockaddr_in sa;
} o = {
	.host = "127.0.0.1", .port = 6379, .proto = P_RESP_UDP, .flows = 50, .threads = 1,
	.pipeline = 1, .keyspace = 100000, .vsize = 64, .get_ratio = 0.9, .duration = 10,
	.warmup = 1, .timeout_ms = 500,
};

struct flow {
	int fd;
	int outstanding;         /* replies still expected for the request in flight */
	uint64_t sent_ns;
	char *rbuf;
	size_t rlen, rcap;
	uint16_t mc_id;
	int mc_got, mc_total;    /* memcached datagrams of this reply */
};

struct lat {
	uint32_t *v;
	size_t n, cap;
};

struct worker {
	pthread_t tid;
	int id, nflows, ep;
	struct flow *f;
	unsigned rnd;
	uint64_t cmds, reqs, lost, errors, reopen;
	struct lat lat;
	char *req;
	size_t reqcap;
	char *value;
};

static volatile int measuring, stopping;

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void die(const char *what)
{
	fprintf(stderr, "fnr-bench: %s: %s\n", what, strerror(errno));
	exit(1);
}

static unsigned xrand(unsigned *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* Length of the first complete RESP reply in b[0..n), 0 if incomplete,
 * -1 if malformed. */
static long resp_reply_len(const char *b, size_t n)
{
	const char *nl = memchr(b, '\n', n);
	if (!nl) return 0;
	size_t hl = (size_t)(nl - b) + 1;
	long long v;
	switch (b[0]) {
	case '+': case '-': case ':':
		return (long)hl;
	case '$':
		v = strtoll(b + 1, NULL, 10);
		if (v < 0) return (long)hl;
		if (hl + (size_t)v + 2 > n) return 0;
		return (long)(hl + (size_t)v + 2);
	case '*': {
		v = strtoll(b + 1, NULL, 10);
		size_t off = hl;
		for (long long i = 0; i < v; i++) {
			long l = resp_reply_len(b + off, n - off);
			if (l <= 0) return l;
			off += (size_t)l;
		}
		return (long)off;
	}
	default:
		return -1;
	}
}

static void lat_add(struct lat *l, uint32_t us)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 1 << 16;
		l->v = realloc(l->v, l->cap * sizeof(*l->v));
		if (!l->v) die("realloc");
	}
	l->v[l->n++] = us;
}

static int flow_open(struct worker *w, struct flow *f)
{
	int type = o.proto == P_RESP_TCP ? SOCK_STREAM : SOCK_DGRAM;
	f->fd = socket(AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (f->fd < 0) die("socket");
	if (o.proto == P_RESP_TCP) {
		int one = 1;
		setsockopt(f->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	} else {
		int sz = 1 << 20;
		setsockopt(f->fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	}
	if (connect(f->fd, (struct sockaddr *)&o.sa, sizeof(o.sa)) < 0 && errno != EINPROGRESS)
		die("connect");
	if (o.proto == P_RESP_TCP) {
		/* Wait for the handshake so the first request is not timed with it. */
		int fl = 0;
		struct timeval tv = { 2, 0 };
		fd_set wf;
		FD_ZERO(&wf);
		FD_SET(f->fd, &wf);
		if (select(f->fd + 1, NULL, &wf, NULL, &tv) <= 0) die("tcp connect");
		socklen_t l = sizeof(fl);
		getsockopt(f->fd, SOL_SOCKET, SO_ERROR, &fl, &l);
		if (fl) { errno = fl; die("tcp connect"); }
	}
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = f };
	if (epoll_ctl(w->ep, EPOLL_CTL_ADD, f->fd, &ev) < 0) die("epoll_ctl");
	f->rlen = 0;
	f->outstanding = 0;
	return 0;
}

static void flow_reopen(struct worker *w, struct flow *f)
{
	epoll_ctl(w->ep, EPOLL_CTL_DEL, f->fd, NULL);
	close(f->fd);
	w->reopen++;
	flow_open(w, f);
}

static void req_reserve(struct worker *w, size_t need)
{
	if (need <= w->reqcap) return;
	w->reqcap = need * 2;
	w->req = realloc(w->req, w->reqcap);
	if (!w->req) die("realloc");
}

static void flow_send(struct worker *w, struct flow *f, int fill_key)
{
	size_t len = 0;
	char key[32];
	int P = fill_key >= 0 ? 1 : o.pipeline;

	req_reserve(w, (size_t)P * ((size_t)o.vsize + 128) + 16);
	if (o.proto == P_MC_UDP) {
		/* memcached UDP frame: request id, sequence 0, 1 datagram, 0. */
		f->mc_id++;
		uint16_t hdr[4] = { htons(f->mc_id), 0, htons(1), 0 };
		memcpy(w->req, hdr, 8);
		len = 8;
		f->mc_got = f->mc_total = 0;
	}
	for (int i = 0; i < P; i++) {
		unsigned k = fill_key >= 0 ? (unsigned)fill_key : xrand(&w->rnd) % (unsigned)o.keyspace;
		int is_get = fill_key < 0 && (xrand(&w->rnd) % 1000000) < (unsigned)(o.get_ratio * 1000000);
		int kl = snprintf(key, sizeof(key), "key:%012u", k);
		if (o.proto == P_MC_UDP) {
			if (is_get)
				len += (size_t)sprintf(w->req + len, "get %s\r\n", key);
			else {
				len += (size_t)sprintf(w->req + len, "set %s 0 0 %d\r\n", key, o.vsize);
				memcpy(w->req + len, w->value, (size_t)o.vsize);
				len += (size_t)o.vsize;
				memcpy(w->req + len, "\r\n", 2);
				len += 2;
			}
		} else if (is_get) {
			len += (size_t)sprintf(w->req + len, "*2\r\n$3\r\nGET\r\n$%d\r\n%s\r\n", kl, key);
		} else {
			len += (size_t)sprintf(w->req + len, "*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n", kl, key,
					       o.vsize);
			memcpy(w->req + len, w->value, (size_t)o.vsize);
			len += (size_t)o.vsize;
			memcpy(w->req + len, "\r\n", 2);
			len += 2;
		}
	}
	f->outstanding = P;
	f->sent_ns = now_ns();
	size_t off = 0;
	while (off < len) {
		ssize_t r = send(f->fd, w->req + off, len - off, 0);
		if (r < 0) {
			if (errno == EAGAIN || errno == EINTR) continue;
			/* ICMP unreachable etc.: count it and let the timeout retry. */
			w->errors++;
			return;
		}
		off += (size_t)r;
		if (o.proto != P_RESP_TCP) break;
	}
}

static void flow_done(struct worker *w, struct flow *f)
{
	uint64_t t = now_ns();
	if (measuring) {
		w->reqs++;
		w->cmds += (uint64_t)o.pipeline;
		uint64_t us = (t - f->sent_ns + 500) / 1000;
		lat_add(&w->lat, us > UINT32_MAX ? UINT32_MAX : (uint32_t)us);
	}
	if (!stopping) flow_send(w, f, -1);
}

/* memcached: count "END", "STORED", errors; one per command. */
static int mc_count_replies(const char *b, size_t n)
{
	int c = 0;
	const char *p = b, *e = b + n;
	while (p < e) {
		const char *nl = memchr(p, '\n', (size_t)(e - p));
		if (!nl) break;
		size_t l = (size_t)(nl - p + 1);
		if (l >= 5 && !memcmp(p, "VALUE", 5)) {
			/* skip the data line */
			long bytes = 0;
			const char *sp = p;
			for (int i = 0; i < 3 && sp; i++) sp = memchr(sp + 1, ' ', (size_t)(nl - sp - 1));
			if (sp) bytes = strtol(sp + 1, NULL, 10);
			p = nl + 1 + bytes + 2;
			continue;
		}
		if ((l >= 3 && !memcmp(p, "END", 3)) || (l >= 6 && !memcmp(p, "STORED", 6)) ||
		    (l >= 10 && !memcmp(p, "NOT_STORED", 10)) || (l >= 6 && !memcmp(p, "EXISTS", 6)) ||
		    (l >= 9 && !memcmp(p, "NOT_FOUND", 9)) || memmem(p, l, "ERROR", 5))
			c++;
		p = nl + 1;
	}
	return c;
}

static void flow_input(struct worker *w, struct flow *f)
{
	for (;;) {
		if (f->rcap - f->rlen < 65536) {
			f->rcap = f->rcap ? f->rcap * 2 : 131072;
			f->rbuf = realloc(f->rbuf, f->rcap);
			if (!f->rbuf) die("realloc");
		}
		ssize_t r = recv(f->fd, f->rbuf + f->rlen, f->rcap - f->rlen, 0);
		if (r < 0) {
			if (errno == EAGAIN || errno == EINTR) return;
			w->errors++; /* e.g. ECONNREFUSED from an ICMP error */
			return;
		}
		if (r == 0 && o.proto == P_RESP_TCP) {
			fprintf(stderr, "fnr-bench: server closed a TCP connection\n");
			exit(1);
		}
		if (o.proto == P_MC_UDP) {
			if (r < 8) continue;
			uint16_t hdr[4];
			memcpy(hdr, f->rbuf, 8);
			if (ntohs(hdr[0]) != f->mc_id || !f->outstanding) continue; /* stale */
			f->mc_total = ntohs(hdr[2]);
			f->mc_got++;
			int c = mc_count_replies(f->rbuf + 8, (size_t)r - 8);
			f->outstanding -= c;
			if (f->mc_got >= f->mc_total && f->outstanding <= 0) flow_done(w, f);
			continue;
		}
		f->rlen += (size_t)r;
		size_t off = 0;
		while (off < f->rlen && f->outstanding > 0) {
			long l = resp_reply_len(f->rbuf + off, f->rlen - off);
			if (l == 0) break;
			if (l < 0) { /* out of step: start this flow over */
				w->errors++;
				f->rlen = 0;
				off = 0;
				flow_reopen(w, f);
				flow_send(w, f, -1);
				break;
			}
			if (f->rbuf[off] == '-') w->errors++;
			off += (size_t)l;
			if (--f->outstanding == 0) {
				memmove(f->rbuf, f->rbuf + off, f->rlen - off);
				f->rlen -= off;
				off = 0;
				flow_done(w, f);
			}
		}
		if (off) {
			memmove(f->rbuf, f->rbuf + off, f->rlen - off);
			f->rlen -= off;
		}
	}
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct epoll_event ev[64];
	uint64_t last_scan = now_ns();

	for (int i = 0; i < w->nflows; i++) flow_send(w, &w->f[i], -1);
	while (!stopping) {
		int n = epoll_wait(w->ep, ev, 64, o.busy ? 0 : 1);
		for (int i = 0; i < n; i++) flow_input(w, ev[i].data.ptr);
		uint64_t t = now_ns();
		if (t - last_scan > 10000000ull) {
			last_scan = t;
			for (int i = 0; i < w->nflows; i++) {
				struct flow *f = &w->f[i];
				if (f->outstanding && t - f->sent_ns > (uint64_t)o.timeout_ms * 1000000ull) {
					if (measuring) w->lost++;
					if (o.proto == P_RESP_TCP) {
						fprintf(stderr, "fnr-bench: TCP request timed out\n");
						exit(1);
					}
					flow_reopen(w, f);
					flow_send(w, f, -1);
				}
			}
		}
	}
	return NULL;
}

/* Write every key once so GETs hit, through flow 0 of worker 0. */
static void fill_keys(struct worker *w)
{
	struct flow *f = &w->f[0];
	struct epoll_event ev[4];
	for (int k = 0; k < o.keyspace; k++) {
		int tries = 0;
	again:
		flow_send(w, f, k);
		uint64_t start = now_ns();
		while (f->outstanding) {
			int n = epoll_wait(w->ep, ev, 4, 10);
			for (int i = 0; i < n; i++) {
				struct flow *g = ev[i].data.ptr;
				if (g != f) continue;
				/* flow_input would chain a new request: read by hand. */
				char buf[65536];
				ssize_t r;
				while ((r = recv(f->fd, buf, sizeof(buf), 0)) > 0) f->outstanding = 0;
			}
			if (f->outstanding && now_ns() - start > (uint64_t)o.timeout_ms * 1000000ull) {
				if (++tries > 5) {
					fprintf(stderr, "fnr-bench: no answer from %s:%d\n", o.host, o.port);
					exit(1);
				}
				flow_reopen(w, f);
				goto again;
			}
		}
	}
}

/* CPU seconds this process used (all its threads). */
static double own_cpu_seconds(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) != 0)
		return 0;
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* Involuntary context switches of the whole process: how often another task
 * took our CPU, the noise a shared machine adds to a run. */
static long preempted(void)
{
	struct rusage ru;

	return getrusage(RUSAGE_SELF, &ru) == 0 ? ru.ru_nivcsw : 0;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: fnr-bench [options]\n"
		"  -h HOST        server address (default 127.0.0.1)\n"
		"  -p PORT        server port (default 6379)\n"
		"  --proto P      resp-udp (default), resp-tcp, memcache-udp\n"
		"  -c N           flows/clients (default 50)\n"
		"  -j N           load threads (default 1)\n"
		"  -P N           commands per request (pipeline depth, default 1)\n"
		"  -T SEC         measured duration (default 10), after --warmup SEC (1)\n"
		"  -r N           key space (default 100000)\n"
		"  -d BYTES       value size (default 64)\n"
		"  --get-ratio F  fraction of GETs (default 0.9; the rest are SETs)\n"
		"  --fill         SET every key once before measuring\n"
		"  --timeout MS   a request unanswered this long is lost (default 500)\n"
		"  --busy         poll the sockets without sleeping\n"
		"  --watch-task PID[/TID]  report the CPU that thread (the server's) used while measuring\n"
		"  --csv          one line: label,proto,flows,pipeline,rps,p50,p99,p999,lost,preempted,\n"
		"                 server_cpu,client_cpu (both in %% of one CPU; -1: not watched)\n"
		"  --label S      label for --csv\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "proto", 1, 0, 'x' }, { "get-ratio", 1, 0, 'g' }, { "fill", 0, 0, 'f' },
		{ "timeout", 1, 0, 't' }, { "csv", 0, 0, 'C' }, { "label", 1, 0, 'L' },
		{ "warmup", 1, 0, 'w' }, { "busy", 0, 0, 'B' }, { "watch-task", 1, 0, 'X' },
		{ "help", 0, 0, 'H' }, { 0 } };
	int c;
	while ((c = getopt_long(argc, argv, "h:p:c:j:P:T:r:d:", lo, NULL)) != -1) {
		switch (c) {
		case 'h': o.host = optarg; break;
		case 'p': o.port = atoi(optarg); break;
		case 'c': o.flows = atoi(optarg); break;
		case 'j': o.threads = atoi(optarg); break;
		case 'P': o.pipeline = atoi(optarg); break;
		case 'T': o.duration = atof(optarg); break;
		case 'r': o.keyspace = atoi(optarg); break;
		case 'd': o.vsize = atoi(optarg); break;
		case 'g': o.get_ratio = atof(optarg); break;
		case 'f': o.fill = 1; break;
		case 't': o.timeout_ms = atoi(optarg); break;
		case 'C': o.csv = 1; break;
		case 'L': o.label = optarg; break;
		case 'w': o.warmup = atof(optarg); break;
		case 'B': o.busy = 1; break;
		case 'X':
			if (sscanf(optarg, "%d/%d", &o.watch_pid, &o.watch_tid) < 1) usage();
			if (!o.watch_tid) o.watch_tid = o.watch_pid;
			break;
		case 'x':
			if (!strcmp(optarg, "resp-udp")) o.proto = P_RESP_UDP;
			else if (!strcmp(optarg, "resp-tcp")) o.proto = P_RESP_TCP;
			else if (!strcmp(optarg, "memcache-udp")) o.proto = P_MC_UDP;
			else usage();
			break;
		default: usage();
		}
	}
	if (o.flows < 1 || o.threads < 1 || o.threads > o.flows || o.pipeline < 1 || o.keyspace < 1 ||
	    o.vsize < 0 || o.duration <= 0 || o.get_ratio < 0 || o.get_ratio > 1)
		usage();
	o.sa.sin_family = AF_INET;
	o.sa.sin_port = htons((uint16_t)o.port);
	if (inet_pton(AF_INET, o.host, &o.sa.sin_addr) != 1) usage();

	struct worker *w = calloc((size_t)o.threads, sizeof(*w));
	for (int i = 0; i < o.threads; i++) {
		w[i].id = i;
		w[i].nflows = o.flows / o.threads + (i < o.flows % o.threads);
		w[i].f = calloc((size_t)w[i].nflows, sizeof(struct flow));
		w[i].ep = epoll_create1(EPOLL_CLOEXEC);
		w[i].rnd = 0x9e3779b9u * (unsigned)(i + 1) ^ (unsigned)getpid();
		w[i].value = malloc((size_t)o.vsize + 1);
		memset(w[i].value, 'x', (size_t)o.vsize);
		for (int j = 0; j < w[i].nflows; j++) flow_open(&w[i], &w[i].f[j]);
	}
	if (o.fill) fill_keys(&w[0]);
	for (int i = 0; i < o.threads; i++) pthread_create(&w[i].tid, NULL, worker_main, &w[i]);
	struct timespec ts = { (time_t)o.warmup, (long)((o.warmup - (time_t)o.warmup) * 1e9) };
	nanosleep(&ts, NULL);
	long pre0 = preempted();
	double server0 = o.watch_pid ? task_cpu_seconds(o.watch_pid, o.watch_tid) : -1;
	double client0 = own_cpu_seconds();
	uint64_t t0 = now_ns();
	measuring = 1;
	ts = (struct timespec){ (time_t)o.duration, (long)((o.duration - (time_t)o.duration) * 1e9) };
	nanosleep(&ts, NULL);
	measuring = 0;
	uint64_t t1 = now_ns();
	long pre1 = preempted();
	double server1 = o.watch_pid ? task_cpu_seconds(o.watch_pid, o.watch_tid) : -1;
	double client1 = own_cpu_seconds();
	stopping = 1;
	for (int i = 0; i < o.threads; i++) pthread_join(w[i].tid, NULL);

	uint64_t cmds = 0, reqs = 0, lost = 0, errors = 0;
	struct lat all = { 0 };
	for (int i = 0; i < o.threads; i++) {
		cmds += w[i].cmds;
		reqs += w[i].reqs;
		lost += w[i].lost;
		errors += w[i].errors;
		for (size_t j = 0; j < w[i].lat.n; j++) lat_add(&all, w[i].lat.v[j]);
	}
	double secs = (double)(t1 - t0) / 1e9, rps = (double)cmds / secs;
	double server_cpu = server0 >= 0 && server1 >= 0 ? 100 * (server1 - server0) / secs : -1;
	double client_cpu = 100 * (client1 - client0) / secs;
	uint32_t p50 = 0, p99 = 0, p999 = 0, pmax = 0;
	if (all.n) {
		qsort(all.v, all.n, sizeof(*all.v), cmp_u32);
		p50 = all.v[all.n / 2];
		p99 = all.v[(size_t)((double)all.n * 0.99)];
		p999 = all.v[(size_t)((double)all.n * 0.999)];
		pmax = all.v[all.n - 1];
	}
	static const char *pn[] = { "resp-udp", "resp-tcp", "memcache-udp" };
	if (o.csv) {
		printf("%s,%s,%d,%d,%.0f,%u,%u,%u,%llu,%ld,%.1f,%.1f\n", o.label ? o.label : "",
		       pn[o.proto], o.flows, o.pipeline, rps, p50, p99, p999, (unsigned long long)lost,
		       pre1 - pre0, server_cpu, client_cpu);
	} else {
		printf("====== %s %s:%d, %d flows, pipeline %d, %.0f%% GET, %d-byte values, %d keys ======\n",
		       pn[o.proto], o.host, o.port, o.flows, o.pipeline, o.get_ratio * 100, o.vsize,
		       o.keyspace);
		printf("  %.2f s: %llu requests, %llu commands, %llu lost, %llu errors\n", secs,
		       (unsigned long long)reqs, (unsigned long long)cmds, (unsigned long long)lost,
		       (unsigned long long)errors);
		printf("  throughput: %.0f requests/s (commands)\n", rps);
		printf("  latency (us, request round trip): p50 %u  p99 %u  p99.9 %u  max %u\n", p50,
		       p99, p999, pmax);
		printf("  preempted %ld times while measuring (another task took the CPU)\n",
		       pre1 - pre0);
		printf("  CPU while measuring: this tool %.0f%%", client_cpu);
		if (server_cpu >= 0)
			printf(", the watched server thread %.0f%%", server_cpu);
		printf(" (of one CPU)\n");
	}
	return reqs ? 0 : 1;
}
