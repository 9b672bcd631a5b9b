/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fragnetctl capture and trace (capture.h). The rings are written by the
 * application, so every record is copied out of shared memory before it is
 * checked and used (fn_cap_rec_valid(), fn_cap_trace_ev_valid()); a ring
 * whose head makes no sense ends the capture with an error.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "capture.h"
#include "pcapng.h"
#include "rule_text.h"
#include "ctl/capture_ring.h"
#include "ctl/proto.h"
#include "nft/image.h"
#include "nft/packet.h"
#include "nft/trace.h"

#define POLL_MS 10                 /* how often empty rings are looked at again */
#define REPLY_TIMEOUT_MS 10000

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

static const char *verdict_name(unsigned v)
{
	static const char *const names[] = {
		[FN_ACCEPT] = "accept", [FN_DROP] = "drop",
		[FN_REJECT_PORT_UNREACH] = "reject-port-unreachable",
		[FN_REJECT_ADMIN_PROHIB] = "reject-admin-prohibited",
		[FN_REJECT_NET_UNREACH] = "reject-net-unreachable",
		[FN_REJECT_HOST_UNREACH] = "reject-host-unreachable",
		[FN_REJECT_PROT_UNREACH] = "reject-prot-unreachable",
		[FN_REJECT_NET_PROHIB] = "reject-net-prohibited",
		[FN_REJECT_HOST_PROHIB] = "reject-host-prohibited",
	};

	/* a kind of reject this table does not name yet is still a reject */
	return v < sizeof(names) / sizeof(names[0]) ? names[v] : "reject";
}

static const char *hook_name(unsigned h)
{
	static const char *const names[] = {
		[FN_HOOK_PREROUTING] = "prerouting", [FN_HOOK_INPUT] = "input",
		[FN_HOOK_FORWARD] = "forward", [FN_HOOK_OUTPUT] = "output",
		[FN_HOOK_POSTROUTING] = "postrouting",
	};

	return h < FN_HOOK_MAX ? names[h] : "none";
}

/* Who decided: "hook input chain input handle 4", or "no rule". */
static void decided(const struct fn_cap_rec *r, char *s, size_t n)
{
	if (r->hook == FN_CAP_NO_HOOK)
		snprintf(s, n, "no rules");
	else if (r->chain[0] == '\0')
		snprintf(s, n, "hook %s", hook_name(r->hook));
	else if (r->rule_handle == 0)
		snprintf(s, n, "hook %s chain %s policy", hook_name(r->hook), r->chain);
	else
		snprintf(s, n, "hook %s chain %s handle %" PRIu64, hook_name(r->hook), r->chain,
			 r->rule_handle);
}

/* The comment of a pcapng packet: every field, key=value. */
static void comment_of(const struct fn_cap_rec *r, char *s, size_t n)
{
	snprintf(s, n, "queue=%u dir=%s verdict=%s hook=%s chain=%s handle=%" PRIu64
		 " generation=%" PRIu64, r->queue, r->dir == FN_CAP_IN ? "in" : "out",
		 verdict_name(r->verdict), hook_name(r->hook), r->chain[0] ? r->chain : "-",
		 r->rule_handle, r->generation);
}

/* tcpdump -n's idea of the packet: addresses, ports, protocol. */
static void summary(const uint8_t *p, uint32_t cap, uint32_t len, char *s, size_t n)
{
	char src[INET_ADDRSTRLEN], dst[INET_ADDRSTRLEN];
	unsigned ihl;

	if (cap < 20 || (p[0] >> 4) != 4 || (ihl = (p[0] & 0xfu) * 4u) < 20) {
		snprintf(s, n, "IPv4?, length %u", len);
		return;
	}
	inet_ntop(AF_INET, p + 12, src, sizeof(src));
	inet_ntop(AF_INET, p + 16, dst, sizeof(dst));
	if ((p[6] & 0x1f) | p[7]) {
		snprintf(s, n, "%s > %s: ip-proto-%u fragment, length %u", src, dst, p[9], len);
	} else if (p[9] == 17 && cap >= ihl + 8) {
		const uint8_t *u = p + ihl;

		snprintf(s, n, "%s.%u > %s.%u: UDP, length %u", src, u[0] << 8 | u[1], dst,
			 u[2] << 8 | u[3], (unsigned)(u[4] << 8 | u[5]) - 8u);
	} else if (p[9] == 1 && cap >= ihl + 2) {
		snprintf(s, n, "%s > %s: ICMP type %u code %u, length %u", src, dst, p[ihl],
			 p[ihl + 1], len);
	} else {
		snprintf(s, n, "%s > %s: ip-proto-%u, length %u", src, dst, p[9], len);
	}
}

/* A record's local time of day, "HH:MM:SS.uuuuuu", as tcpdump prints it. */
static void time_of(const struct fn_cap_rec *r, char *s, size_t n)
{
	time_t sec = (time_t)(r->ts_ns / 1000000000u);
	struct tm tm;

	localtime_r(&sec, &tm);
	snprintf(s, n, "%02d:%02d:%02d.%06u", tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (unsigned)(r->ts_ns % 1000000000u / 1000u));
}

static void print_line(FILE *out, const struct fn_cap_rec *r, const uint8_t *data)
{
	char when[32], what[160], who[FN_CAP_CHAIN_MAX + 64];

	time_of(r, when, sizeof(when));
	summary(data, r->cap_len, r->orig_len, what, sizeof(what));
	decided(r, who, sizeof(who));
	fprintf(out, "%s q%u %-3s %s %s (%s)\n", when, r->queue,
		r->dir == FN_CAP_IN ? "in" : "out", what, verdict_name(r->verdict), who);
}

/* What an event's verdict did: "accept", "jump c1", "reject-port-unreachable". */
static void verdict_of(const struct fn_cap_trace_ev *e, char *s, size_t n)
{
	switch (e->verdict) {
	case FN_V_ACCEPT: snprintf(s, n, "accept"); break;
	case FN_V_DROP:
		snprintf(s, n, "%s", e->reject ? verdict_name(e->reject) : "drop");
		break;
	case FN_V_CONTINUE: snprintf(s, n, "continue"); break;
	case FN_V_JUMP: snprintf(s, n, "jump %s", e->target); break;
	case FN_V_GOTO: snprintf(s, n, "goto %s", e->target); break;
	case FN_V_RETURN: snprintf(s, n, "return"); break;
	default: snprintf(s, n, "break"); break;
	}
}

/* One event, in the manner of nft monitor trace. */
static void print_event(FILE *out, const struct fn_cap_trace_ev *e,
			const struct fnctl_rule_text *rules)
{
	const char *text;
	char v[FN_CAP_CHAIN_MAX + 16];

	verdict_of(e, v, sizeof(v));
	switch (e->kind) {
	case FN_TRACE_RULE:
		text = fnctl_rule_text(rules, e->chain, e->handle);
		fprintf(out, "  %s chain %s rule handle %" PRIu64 "%s%s (verdict %s)\n",
			hook_name(e->hook), e->chain, e->handle, text ? ": " : "",
			text ? text : "", v);
		break;
	case FN_TRACE_CHAIN_END:
		fprintf(out, "  %s chain %s end (verdict continue)\n", hook_name(e->hook),
			e->chain);
		break;
	case FN_TRACE_POLICY:
		fprintf(out, "  %s chain %s policy %s\n", hook_name(e->hook), e->chain, v);
		break;
	default:
		fprintf(out, "  %s conntrack table full (verdict drop)\n", hook_name(e->hook));
		break;
	}
}

static void print_trace(FILE *out, const struct fn_cap_rec *r, const uint8_t *data,
			const struct fn_cap_trace_ev *ev, const struct fnctl_rule_text *rules)
{
	char when[32], what[160], who[FN_CAP_CHAIN_MAX + 64];

	time_of(r, when, sizeof(when));
	summary(data, r->cap_len, r->orig_len, what, sizeof(what));
	decided(r, who, sizeof(who));
	fprintf(out, "%s trace q%u %s %s\n", when, r->queue, r->dir == FN_CAP_IN ? "in" : "out",
		what);
	for (unsigned i = 0; i < r->n_events; i++)
		print_event(out, &ev[i], rules);
	if (r->lost)
		fprintf(out, "  (%u more events not kept)\n", r->lost);
	fprintf(out, "  verdict %s (%s)\n", verdict_name(r->verdict), who);
}

struct session {
	const struct fnctl_args *a;
	const struct fnctl_rule_text *rules; /* trace: rule text, NULL: handles only */
	struct fn_cap_geometry g;
	void *map;
	uint64_t tail[FN_CAP_MAX_QUEUES];
	unsigned long captured;
	FILE *out;
	uint8_t *data;             /* one record's bytes, copied out */
	struct fn_cap_trace_ev ev[FN_CAP_TRACE_EVENTS]; /* a trace record's, copied out */
};

/* Everything the rings hold now, up to the count. 0, or -EBADMSG for a ring
 * the application broke. */
static int drain(struct session *s)
{
	for (unsigned q = 0; q < s->g.n_queues; q++) {
		struct fn_cap_ring *ring = fn_cap_ring_at(s->map, &s->g, q);
		int64_t n = fn_cap_available(ring, &s->g, s->tail[q]);

		if (n < 0)
			return -EBADMSG;
		for (; n > 0; n--) {
			struct fn_cap_rec r;
			const struct fn_cap_rec *slot = fn_cap_slot(ring, &s->g, s->tail[q]);
			char comment[256];

			if (s->a->packets && s->captured == s->a->packets)
				return 0;
			memcpy(&r, slot, sizeof(r));
			if (!fn_cap_rec_valid(&r, &s->g) || r.queue != q)
				return -EBADMSG;
			memcpy(s->data, (const uint8_t *)slot + fn_cap_data_off(&s->g), r.cap_len);
			memcpy(s->ev, slot + 1, r.n_events * sizeof(s->ev[0]));
			for (unsigned i = 0; i < r.n_events; i++)
				if (!fn_cap_trace_ev_valid(&s->ev[i]))
					return -EBADMSG;
			s->tail[q]++;
			fn_cap_release(ring, s->tail[q]);
			s->captured++;
			if (r.kind == FN_CAP_MODE_TRACE) {
				print_trace(s->out, &r, s->data, s->ev, s->rules);
				continue;
			}
			if (s->a->write == NULL) {
				print_line(s->out, &r, s->data);
				continue;
			}
			comment_of(&r, comment, sizeof(comment));
			if (fnctl_pcapng_packet(s->out, r.queue, r.ts_ns, s->data, r.cap_len,
						r.orig_len, comment) < 0)
				return -EIO;
		}
	}
	return 0;
}

static int start_output(struct session *s, const char *app)
{
	if (s->a->write == NULL || strcmp(s->a->write, "-") == 0)
		s->out = stdout;
	else
		s->out = fopen(s->a->write, "we");
	if (s->out == NULL)
		return -errno;
	if (s->a->write == NULL) {
		setvbuf(stdout, NULL, _IOLBF, 0);
		return 0;
	}
	if (fnctl_pcapng_section(s->out, "fragnetctl capture") < 0)
		return -EIO;
	for (unsigned q = 0; q < s->g.n_queues; q++) {
		char name[FN_CTL_NAME_MAX + 16];

		snprintf(name, sizeof(name), "%s:q%u", app, q);
		if (fnctl_pcapng_interface(s->out, FNCTL_LINKTYPE_IPV4, s->g.snaplen, name) < 0)
			return -EIO;
	}
	return 0;
}

/* The daemon's answer: the rings (0, *memfd set) or why not (exit status). */
static int answer(int sock, void *buf, struct fn_ctl_capture *cap, int *memfd)
{
	struct pollfd p = { .fd = sock, .events = POLLIN };
	ssize_t n;
	int type;

	*memfd = -1;
	if (poll(&p, 1, REPLY_TIMEOUT_MS) <= 0) {
		fprintf(stderr, "fragnetctl: fragnetd: no reply\n");
		return FNCTL_EXIT_UNREACHABLE;
	}
	n = fn_ctl_recv(sock, buf, memfd);
	type = n > 0 ? fn_ctl_check(buf, (size_t)n) : -EBADMSG;
	if (type == FN_CTL_CAPTURE && *memfd >= 0) {
		memcpy(cap, fn_ctl_payload(buf), sizeof(*cap));
		return 0;
	}
	if (*memfd >= 0)
		close(*memfd);
	if (type == FN_CTL_REPLY) {
		fprintf(stderr, "fragnetctl: %s\n",
			((const struct fn_ctl_reply *)fn_ctl_payload(buf))->msg);
		return FNCTL_EXIT_REFUSED;
	}
	if (type == FN_CTL_ERROR)
		fprintf(stderr, "fragnetctl: fragnetd refused: %s\n",
			((const struct fn_ctl_error *)fn_ctl_payload(buf))->msg);
	else
		fprintf(stderr, "fragnetctl: fragnetd: %s\n",
			n == 0 ? "closed the connection" : "malformed reply");
	return FNCTL_EXIT_UNREACHABLE;
}

/* Until the count, a signal, or fragnetd ending it: the exit status. */
static int run(int sock, struct session *s, void *buf)
{
	struct pollfd p = { .fd = sock, .events = POLLIN };

	while (!interrupted && !(s->a->packets && s->captured == s->a->packets)) {
		int rc = drain(s);

		if (rc == -EBADMSG) {
			fprintf(stderr, "fragnetctl: the application wrote nonsense into its "
				"capture ring: stopped\n");
			return FNCTL_EXIT_UNREACHABLE;
		}
		if (rc < 0) {
			fprintf(stderr, "fragnetctl: %s: %s\n", s->a->write, strerror(-rc));
			return FNCTL_EXIT_USAGE;
		}
		if (s->a->packets && s->captured == s->a->packets)
			break;
		if (poll(&p, 1, POLL_MS) > 0) {
			ssize_t n = fn_ctl_recv(sock, buf, NULL);
			int type = n > 0 ? fn_ctl_check(buf, (size_t)n) : -EBADMSG;

			drain(s);  /* what came before the end */
			if (type == FN_CTL_ERROR)
				fprintf(stderr, "fragnetctl: %s\n",
					((const struct fn_ctl_error *)fn_ctl_payload(buf))->msg);
			else
				fprintf(stderr, "fragnetctl: fragnetd ended the capture\n");
			return FNCTL_EXIT_UNREACHABLE;
		}
	}
	return FNCTL_EXIT_OK;
}

int fnctl_capture(int sock, const struct fnctl_args *a, const char *ruleset)
{
	static unsigned char buf[FN_CTL_MAX_MSG] __attribute__((aligned(8)));
	struct sigaction sa = { .sa_handler = on_signal };
	struct fn_ctl_capture_req req = {
		.queue = a->queue, .snaplen = a->snaplen, .ring_bytes = a->ring_bytes,
		.mode = a->trace ? FN_CAP_MODE_TRACE : FN_CAP_MODE_CAPTURE,
	};
	struct session s = { .a = a, .map = MAP_FAILED };
	struct fnctl_rule_text *rules = NULL;
	struct fn_ctl_capture cap;
	struct stat st;
	uint64_t dropped = 0;
	int memfd = -1, rc;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGPIPE, &sa, NULL);
	snprintf(req.name, sizeof(req.name), "%s", a->app);
	snprintf(req.filter, sizeof(req.filter), "%s", a->filter);
	if (fn_ctl_send_msg(sock, FN_CTL_CAPTURE_REQ, 1, &req, sizeof(req), -1) < 0) {
		fprintf(stderr, "fragnetctl: fragnetd closed the connection\n");
		rc = FNCTL_EXIT_UNREACHABLE;
		goto out;
	}
	rc = answer(sock, buf, &cap, &memfd);
	if (rc)
		goto out;
	rc = FNCTL_EXIT_UNREACHABLE;
	if (cap.mode != req.mode ||
	    fn_cap_geometry_of(cap.n_queues, cap.n_slots, cap.snaplen, cap.mode, &s.g) < 0 ||
	    fstat(memfd, &st) < 0 || (uint64_t)st.st_size != s.g.total + cap.filter_len) {
		fprintf(stderr, "fragnetctl: fragnetd sent rings that do not add up\n");
		goto out;
	}
	/* the application maps them too: without the seal it could shrink them
	 * under us, and our next read would be a SIGBUS */
	if ((fcntl(memfd, F_GET_SEALS) & F_SEAL_SHRINK) == 0) {
		fprintf(stderr, "fragnetctl: fragnetd sent rings whose size is not sealed\n");
		goto out;
	}
	s.map = mmap(NULL, s.g.total, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	s.data = malloc(s.g.snaplen);
	if (s.map == MAP_FAILED || s.data == NULL) {
		fprintf(stderr, "fragnetctl: cannot map the capture rings: %s\n", strerror(errno));
		goto out;
	}
	if (a->trace)
		s.rules = rules = fnctl_rule_text_new(ruleset, cap.name, cap.pid);
	rc = start_output(&s, cap.name);
	if (rc < 0) {
		fprintf(stderr, "fragnetctl: %s: %s\n", a->write, strerror(-rc));
		rc = FNCTL_EXIT_USAGE;
		goto out;
	}
	fprintf(stderr, "fragnetctl: %s %s[%u], %s, %u bytes a packet%s%s%s\n",
		a->trace ? "tracing" : "capturing", cap.name, cap.pid,
		a->queue == FN_CTL_CAPTURE_ALL ? "every queue" : "one queue", cap.snaplen,
		a->filter[0] ? ", filter: " : "", a->filter,
		a->trace && !rules ? " (no rule text: handles only)" : "");
	rc = run(sock, &s, buf);
	for (unsigned q = 0; q < s.g.n_queues; q++)
		dropped += __atomic_load_n(&fn_cap_ring_at(s.map, &s.g, q)->dropped,
					   __ATOMIC_RELAXED);
	fprintf(stderr, "%lu packets %s, %" PRIu64 " dropped by the ring\n", s.captured,
		a->trace ? "traced" : "captured", dropped);
out:
	if (s.out && fflush(s.out) != 0 && rc == FNCTL_EXIT_OK)
		rc = FNCTL_EXIT_USAGE;
	if (s.out && s.out != stdout)
		fclose(s.out);
	if (s.map != MAP_FAILED)
		munmap(s.map, s.g.total);
	free(s.data);
	fnctl_rule_text_free(rules);
	if (memfd >= 0)
		close(memfd);
	close(sock);               /* fragnetd tells the application to stop */
	return rc;
}
