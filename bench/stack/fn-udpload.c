/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fn-udpload: a kernel-socket UDP echo load tool. Many flows (one connected
 * socket each, so each has its own source port), one thread, sendmmsg and
 * recvmmsg in batches.
 *
 * Closed loop (default): a window of requests in flight, shared out over the
 * flows; every reply frees a slot. Each request carries its send time, so
 * every reply gives a round-trip latency (p50/p99 printed). A flow that
 * hears nothing for STALL_MS has its window written off as lost, so drops
 * never wedge a run.
 * Open loop (--open): send batches back to back as fast as the kernel takes
 * them and count what comes back: the tool's own ceiling (offered load).
 *
 *   fn-udpload --dst 10.0.0.1:7 [--flows 16] [--window 64] [--size 18]
 *              [--warmup 1] [--duration 3] [--open]
 *
 * One result line on stdout:
 *   rps=... sent_pps=... p50_us=... p99_us=... lost=... cpu=... cpu_busy=...
 * cpu is this process's CPU time (% of one CPU); cpu_busy is how busy the
 * CPU we run on was, everything included (our softirqs, other processes).
 * Pin the tool (taskset) for cpu_busy to mean anything. With --watch-pid P,
 * server_cpu is the CPU time process P got (% of one CPU).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cpu_usage.h"

#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX_FLOWS 1024
#define BATCH 32
#define MAX_DGRAM 2048
#define STALL_MS 250
/* Latency histogram: 1 us steps to 10 ms, then 100 us steps to 1 s. */
#define FINE_US 10000
#define COARSE_STEP 100
#define N_BUCKETS (FINE_US + (1000000 - FINE_US) / COARSE_STEP + 1)

struct flow {
	int fd;
	unsigned window, inflight;
	uint64_t last_reply_ns;
};

static uint64_t hist[N_BUCKETS];

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + ts.tv_nsec;
}

static double cpu_seconds(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static void record(uint64_t ns)
{
	uint64_t us = ns / 1000;

	if (us < FINE_US)
		hist[us]++;
	else
		hist[MIN(FINE_US + (us - FINE_US) / COARSE_STEP, N_BUCKETS - 1)]++;
}

static double percentile(double p)
{
	uint64_t total = 0, seen = 0;

	for (unsigned i = 0; i < N_BUCKETS; i++)
		total += hist[i];
	if (total == 0)
		return -1;
	for (unsigned i = 0; i < N_BUCKETS; i++) {
		seen += hist[i];
		if (seen >= (uint64_t)(p * total + 0.5) && seen > 0)
			return i < FINE_US ? i : FINE_US + (double)(i - FINE_US) * COARSE_STEP;
	}
	return N_BUCKETS;
}

static void usage(void)
{
	fprintf(stderr, "usage: fn-udpload --dst A:P [--flows N] [--window W] [--size BYTES] "
		"[--warmup S] [--duration S] [--open] [--watch-pid PID]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "dst", required_argument, NULL, 'd' },
		{ "flows", required_argument, NULL, 'f' },
		{ "window", required_argument, NULL, 'w' },
		{ "size", required_argument, NULL, 's' },
		{ "warmup", required_argument, NULL, 'W' },
		{ "duration", required_argument, NULL, 't' },
		{ "open", no_argument, NULL, 'o' },
		{ "watch-pid", required_argument, NULL, 'P' },
		{ 0 }
	};
	static uint8_t rxbuf[BATCH][MAX_DGRAM], txbuf[MAX_DGRAM];
	static struct flow flows[MAX_FLOWS];
	struct sockaddr_in dst = { .sin_family = AF_INET };
	struct mmsghdr txm[BATCH], rxm[BATCH];
	struct iovec txiov, rxiov[BATCH];
	struct epoll_event evs[MAX_FLOWS];
	unsigned n_flows = 16, window = 64, size = 18;
	double warmup = 1, duration = 3, cpu0 = 0, server0 = 0;
	int watch_pid = 0;
	uint64_t busy0 = 0, total0 = 0, busy1, total1;
	int my_cpu = -1;
	uint64_t sent = 0, recvd = 0, lost = 0, sent0 = 0, recvd0 = 0;
	uint64_t t_start, t_measure, t_end, now, next_stall_check;
	bool open_loop = false, measuring = false;
	unsigned rr = 0;
	int ep, c;
	char *colon;

	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'd':
			colon = strchr(optarg, ':');
			if (colon == NULL)
				usage();
			*colon = '\0';
			if (inet_pton(AF_INET, optarg, &dst.sin_addr) != 1)
				usage();
			dst.sin_port = htons(atoi(colon + 1));
			break;
		case 'f': n_flows = atoi(optarg); break;
		case 'w': window = atoi(optarg); break;
		case 's': size = atoi(optarg); break;
		case 'W': warmup = atof(optarg); break;
		case 't': duration = atof(optarg); break;
		case 'o': open_loop = true; break;
		case 'P': watch_pid = atoi(optarg); break;
		default: usage();
		}
	}
	if (dst.sin_port == 0 || n_flows == 0 || n_flows > MAX_FLOWS || window < n_flows ||
	    size < sizeof(uint64_t) || size > MAX_DGRAM || duration <= 0)
		usage();

	ep = epoll_create1(0);
	for (unsigned f = 0; f < n_flows; f++) {
		struct flow *fl = &flows[f];
		struct epoll_event ev = { .events = EPOLLIN, .data.u32 = f };

		fl->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
		if (fl->fd < 0 || connect(fl->fd, (struct sockaddr *)&dst, sizeof(dst)) < 0 ||
		    epoll_ctl(ep, EPOLL_CTL_ADD, fl->fd, &ev) < 0) {
			perror("fn-udpload: socket");
			return 1;
		}
		fl->window = window / n_flows + (f < window % n_flows);
	}
	memset(txbuf, 'x', size);
	txiov = (struct iovec){ .iov_base = txbuf, .iov_len = size };
	for (unsigned i = 0; i < BATCH; i++) {
		/* Every request of a batch carries the same send time: one clock
		 * read per sendmmsg. The buffer is shared, stamped before the call. */
		txm[i].msg_hdr = (struct msghdr){ .msg_iov = &txiov, .msg_iovlen = 1 };
		rxiov[i] = (struct iovec){ .iov_base = rxbuf[i], .iov_len = MAX_DGRAM };
		rxm[i].msg_hdr = (struct msghdr){ .msg_iov = &rxiov[i], .msg_iovlen = 1 };
	}

	t_start = now_ns();
	t_measure = t_start + (uint64_t)(warmup * 1e9);
	t_end = t_measure + (uint64_t)(duration * 1e9);
	next_stall_check = t_start;
	for (unsigned f = 0; f < n_flows; f++)
		flows[f].last_reply_ns = t_start;

	for (now = t_start; now < t_end; ) {
		int n;

		if (!measuring && now >= t_measure) {
			measuring = true;
			sent0 = sent;
			recvd0 = recvd;
			cpu0 = cpu_seconds();
			my_cpu = sched_getcpu();
			cpu_jiffies(my_cpu, &busy0, &total0);
			server0 = watch_pid ? proc_cpu_seconds(watch_pid) : -1;
		}
		/* Send: top every flow up to its window, or one batch (open loop). */
		for (unsigned k = 0; k < (open_loop ? 1 : n_flows); k++) {
			struct flow *fl = &flows[open_loop ? rr++ % n_flows : k];
			unsigned want = open_loop ? BATCH : fl->window - fl->inflight;
			int s;

			if (want == 0)
				continue;
			memcpy(txbuf, &now, sizeof(now));
			s = sendmmsg(fl->fd, txm, MIN(want, BATCH), 0);
			if (s > 0) {
				sent += s;
				fl->inflight += s;
			}
		}
		/* Receive whatever is ready (wait a little when the window is full). */
		n = epoll_wait(ep, evs, n_flows, open_loop ? 0 : 10);
		now = now_ns();
		for (int e = 0; e < n; e++) {
			struct flow *fl = &flows[evs[e].data.u32];
			int r;

			do {
				r = recvmmsg(fl->fd, rxm, BATCH, MSG_DONTWAIT, NULL);
				for (int i = 0; i < r; i++) {
					uint64_t t;

					memcpy(&t, rxbuf[i], sizeof(t));
					if (measuring && rxm[i].msg_len == size && t <= now)
						record(now - t);
				}
				if (r > 0) {
					recvd += r;
					fl->inflight -= MIN((unsigned)r, fl->inflight);
					fl->last_reply_ns = now;
				}
			} while (r == BATCH);
		}
		if (!open_loop && now >= next_stall_check) {
			for (unsigned f = 0; f < n_flows; f++) {
				struct flow *fl = &flows[f];

				if (fl->inflight && now - fl->last_reply_ns > STALL_MS * 1000000ull) {
					lost += fl->inflight;
					fl->inflight = 0;
					fl->last_reply_ns = now;
				}
			}
			next_stall_check = now + 10 * 1000000ull;
		}
		if (open_loop)
			now = now_ns();
	}
	{
		double secs = (now - t_measure) / 1e9;

		if (!measuring || secs <= 0) {
			fprintf(stderr, "fn-udpload: stopped before the measurement started\n");
			return 1;
		}
		cpu_jiffies(my_cpu, &busy1, &total1);
		double server1 = watch_pid ? proc_cpu_seconds(watch_pid) : -1;

		printf("rps=%.0f sent_pps=%.0f p50_us=%.0f p99_us=%.0f lost=%lu cpu=%.0f "
		       "cpu_busy=%.0f server_cpu=%.0f\n",
		       (recvd - recvd0) / secs, (sent - sent0) / secs, percentile(0.50),
		       percentile(0.99), lost, 100 * (cpu_seconds() - cpu0) / secs,
		       total1 > total0 ? 100.0 * (busy1 - busy0) / (total1 - total0) : -1.0,
		       server0 >= 0 && server1 >= 0 ? 100 * (server1 - server0) / secs : -1.0);
	}
	return 0;
}
