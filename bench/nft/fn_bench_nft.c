/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Filter benchmark: per-packet cost of the same rulesets and packet in the
 * interpreter (fn_nft_eval on the input hook) and in kernel nftables (input
 * hook, loopback UDP). run.sh drives it and prints the table.
 *
 *   fn-bench-nft interp CASE [--image-out FILE]   ns/packet, rules minus baseline
 *   fn-bench-nft image FILE PACKETS               eval PACKETS times (callgrind)
 *   fn-bench-nft kernel CASE NS_RULES NS_BASE     ns/packet, in two namespaces
 *   fn-bench-nft acl CASE                         rte_acl ns/packet: AVX2 and scalar
 *   fn-bench-nft acl-count CASE avx2|scalar PACKETS  classify PACKETS (callgrind)
 *   fn-bench-nft acl-check RULES PACKETS SEED     rte_acl agrees with the interpreter
 *   fn-bench-nft list                             case names and descriptions
 *
 * Both sides report the cost of the rules: time with the ruleset minus time
 * with the same table holding an empty input chain whose policy gives the
 * packet the same fate (accept when no rule matches, drop when the last rule
 * or the set matches). Runs with and without the rules alternate, and each
 * side's median is taken, so that drift on a shared machine cancels out.
 * The kernel side times sendmmsg() of 64-packet batches over loopback, the
 * ruleset in one namespace and the baseline in another; the receive path,
 * input hook included, runs inside that call (softirq on the sending CPU);
 * the receiver is drained untimed.
 *
 * The rte_acl side (acl_anchor.h) has no hook around it: it reports the
 * whole rte_acl_classify() call per packet, in bursts of ACL_BURST copies of
 * the case's datagram (its vector methods need bursts: the AVX2 one takes 16
 * packets at a time), after checking that it picks the same first rule as
 * the interpreter.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <nftables/libnftables.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "acl_anchor.h"
#include "cases.h"
#include "measure.h"
#include "compiler.h"
#include "filter/filter.h"
#include "nft/eval.h"
#include "packets.h"

#define REPEATS 7
#define BATCH 64
#define ACL_BURST 64

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static char *baseline_ruleset(int drop)
{
	char *t = NULL;
	if (asprintf(&t, "table inet fragnet {\n\tchain input {\n\t\ttype filter hook input "
		     "priority 0; policy %s;\n\t}\n}\n", drop ? "drop" : "accept") < 0)
		return NULL;
	return t;
}

/* ---- interpreter side ---- */

static void *compile(const char *text, bool linear, size_t *len)
{
	char err[1024] = "";
	void *image = NULL;
	struct fn_compiler *c = fn_compiler_new(NULL, err, sizeof(err));

	if (c)
		fn_compiler_classify(c, !linear);
	if (!c || fn_compile_text(c, text, "fragnet", &image, len, err, sizeof(err)) < 0) {
		fprintf(stderr, "fn-bench-nft: compile: %s\n", err);
		exit(1);
	}
	fn_compiler_free(c);
	return image;
}

static struct fn_nft_state *state_of(const char *text, bool linear, void **image_out,
				      size_t *len_out)
{
	size_t len;
	void *image = compile(text, linear, &len);
	struct fn_nft_state *s = fn_nft_state_new(image, len);

	if (!s) {
		fprintf(stderr, "fn-bench-nft: image refused: %s\n", strerror(errno));
		exit(1);
	}
	if (image_out) {
		*image_out = image;
		*len_out = len;
	} else {
		free(image);
	}
	return s;
}

/* One datagram through the input hook, as the loop below does. */
static enum fn_verdict eval_one(struct fn_nft_state *s, uint8_t *dgram, uint32_t len,
				struct fn_nft_result *res)
{
	static const char ifname[16] = "lo";
	struct fn_pkt pkt = tp_view(dgram, len);

	pkt.pkttype = FN_PKT_HOST;
	pkt.iif = 1;
	pkt.iifname = ifname;
	return fn_nft_eval(s, FN_HOOK_INPUT, &pkt, res);
}

/* Run `iters` packets through the input hook; returns the last verdict so
 * the loop cannot be optimised away. */
static enum fn_verdict eval_loop(struct fn_nft_state *s, uint64_t iters)
{
	static uint8_t frame[128];
	uint32_t len = bench_packet(frame);
	enum fn_verdict v = FN_ACCEPT;
	static const char ifname[16] = "lo";

	for (uint64_t i = 0; i < iters; i++) {
		struct fn_pkt pkt = tp_view(frame, len);

		pkt.pkttype = FN_PKT_HOST;
		pkt.iif = 1;
		pkt.iifname = ifname;
		v = fn_nft_eval(s, FN_HOOK_INPUT, &pkt, NULL);
	}
	return v;
}

static double interp_run(struct fn_nft_state *s, uint64_t iters)
{
	uint64_t t0 = now_ns();

	eval_loop(s, iters);
	return (double)(now_ns() - t0) / (double)iters;
}

/* Median ns/packet of the ruleset and of the baseline, runs alternating. */
static void interp_ns(struct fn_nft_state *s, struct fn_nft_state *b, double *rules,
		      double *base)
{
	double r[REPEATS], e[REPEATS];
	uint64_t iters = 200000000ull / ((uint64_t)interp_run(s, 1000) + 1) + 1000;

	for (int i = 0; i < REPEATS; i++) {
		r[i] = interp_run(s, iters);      /* about 0.2 s per run */
		e[i] = interp_run(b, iters);
	}
	*rules = bench_median(r, REPEATS);
	*base = bench_median(e, REPEATS);
}

static int cmd_interp(const struct bench_case *c, const char *image_out)
{
	char *text = bench_ruleset(c), *base = baseline_ruleset(c->match);
	void *image = NULL;
	size_t len = 0;
	struct fn_nft_state *s = state_of(text, c->linear, image_out ? &image : NULL, &len);
	struct fn_nft_state *b = state_of(base, false, NULL, NULL);

	double total, empty;
	bench_pin_cpu0();
	interp_ns(s, b, &total, &empty);
	printf("%.1f %.1f\n", total - empty, total);
	if (image_out) {
		FILE *f = fopen(image_out, "wb");
		if (!f || fwrite(image, 1, len, f) != len) {
			perror(image_out);
			return 1;
		}
		fclose(f);
	}
	fn_nft_state_free(s);
	fn_nft_state_free(b);
	free(image);
	free(text);
	free(base);
	return 0;
}

static int cmd_image(const char *path, uint64_t packets)
{
	FILE *f = fopen(path, "rb");
	static uint8_t buf[64 << 20];
	size_t len;

	if (!f) {
		perror(path);
		return 1;
	}
	len = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	struct fn_nft_state *s = fn_nft_state_new(buf, len);
	if (!s) {
		fprintf(stderr, "fn-bench-nft: image refused: %s\n", strerror(errno));
		return 1;
	}
	printf("%d\n", (int)eval_loop(s, packets));
	fn_nft_state_free(s);
	return 0;
}

/* ---- rte_acl side ---- */

static void acl_start(void)
{
	int err = acl_anchor_eal_init();

	if (err < 0) {
		fprintf(stderr, "fn-bench-nft: DPDK EAL: %s\n", strerror(-err));
		exit(1);
	}
}

static struct acl_anchor *acl_of(const struct bench_rule *r, unsigned n)
{
	struct acl_anchor *a = acl_anchor_new(r, n);

	if (!a) {
		fprintf(stderr, "fn-bench-nft: rte_acl context of %u rules: %s\n", n, strerror(errno));
		exit(1);
	}
	return a;
}

static void acl_use(struct acl_anchor *a, enum acl_alg alg)
{
	if (acl_anchor_set_alg(a, alg) < 0) {
		fprintf(stderr, "fn-bench-nft: rte_acl has no %s method here\n",
			alg == ACL_AVX2 ? "AVX2" : "scalar");
		exit(1);
	}
}

/* The case's rules for rte_acl; exits 3 (run.sh leaves the columns blank)
 * for a case that has none. */
static struct bench_rule *acl_rules(const struct bench_case *c, unsigned *n)
{
	struct bench_rule *r = bench_rules(c, n);

	if (!r) {
		fprintf(stderr, "fn-bench-nft: %s: rte_acl holds no state (meter, dynamic set)\n",
			c->name);
		exit(3);
	}
	return r;
}

/* ACL_BURST copies of the case's datagram. */
static const uint8_t **acl_burst(void)
{
	static uint8_t frames[ACL_BURST][128];
	static const uint8_t *burst[ACL_BURST];

	for (int i = 0; i < ACL_BURST; i++) {
		bench_packet(frames[i]);
		burst[i] = frames[i];
	}
	return burst;
}

static volatile uint32_t acl_sink;

static double acl_run(const struct acl_anchor *a, const uint8_t **burst, uint64_t bursts)
{
	uint32_t res[ACL_BURST], sum = 0;
	uint64_t t0 = now_ns();

	for (uint64_t i = 0; i < bursts; i++) {
		acl_anchor_classify(a, burst, res, ACL_BURST);
		sum += res[0];
	}
	acl_sink = sum;
	return (double)(now_ns() - t0) / (double)(bursts * ACL_BURST);
}

static void acl_mismatch(const char *what, const char *alg, uint32_t acl, uint32_t interp)
{
	fprintf(stderr, "fn-bench-nft: %s: rte_acl (%s) says first rule %d, the interpreter %d "
		"(-1: none)\n", what, alg, (int)acl - 1, (int)interp - 1);
	exit(1);
}

/* Check that the interpreter and both rte_acl methods decide the case's
 * packet by the same rule: the last one when the case matches, else none
 * (every rule of a case drops; the policy accepts). Then time both methods,
 * runs alternating, and print their medians. */
static int cmd_acl(const struct bench_case *c)
{
	unsigned n;
	struct bench_rule *r = acl_rules(c, &n);
	char *text = bench_ruleset(c);
	struct fn_nft_state *s = state_of(text, c->linear, NULL, NULL);
	uint32_t expect = c->match ? r[n - 1].rule + 1 : 0, res[ACL_BURST];
	struct fn_nft_result ir;
	uint8_t frame[128];
	uint32_t len = bench_packet(frame);
	enum fn_verdict v = eval_one(s, frame, len, &ir);

	if ((v == FN_DROP) != c->match || (ir.rule_handle != 0) != c->match) {
		fprintf(stderr, "fn-bench-nft: %s: the interpreter %s the packet by %s\n", c->name,
			v == FN_DROP ? "drops" : "accepts", ir.rule_handle ? "a rule" : "the policy");
		exit(1);
	}
	acl_start();
	struct acl_anchor *a = acl_of(r, n);
	const uint8_t **burst = acl_burst();
	for (enum acl_alg alg = ACL_SCALAR; alg <= ACL_AVX2; alg++) {
		acl_use(a, alg);
		acl_anchor_classify(a, burst, res, ACL_BURST);
		for (int i = 0; i < ACL_BURST; i++)
			if (res[i] != expect)
				acl_mismatch(c->name, alg == ACL_AVX2 ? "AVX2" : "scalar", res[i],
					     expect);
	}

	double avx2[REPEATS], scalar[REPEATS];
	bench_pin_cpu0();
	uint64_t bursts = 200000000ull / ((uint64_t)(acl_run(a, burst, 100) * ACL_BURST) + 1) + 100;
	for (int i = 0; i < REPEATS; i++) {
		acl_use(a, ACL_AVX2);
		avx2[i] = acl_run(a, burst, bursts);   /* about 0.2 s per run */
		acl_use(a, ACL_SCALAR);
		scalar[i] = acl_run(a, burst, bursts);
	}
	printf("%.1f %.1f\n", bench_median(avx2, REPEATS), bench_median(scalar, REPEATS));
	acl_anchor_free(a);
	fn_nft_state_free(s);
	free(text);
	free(r);
	return 0;
}

/* Classify `packets` copies of the case's datagram in bursts: callgrind
 * counts rte_acl_classify. */
static int cmd_acl_count(const struct bench_case *c, const char *alg, uint64_t packets)
{
	unsigned n;
	struct bench_rule *r = acl_rules(c, &n);
	uint32_t res[ACL_BURST], sum = 0;

	acl_start();
	struct acl_anchor *a = acl_of(r, n);
	const uint8_t **burst = acl_burst();
	acl_use(a, strcmp(alg, "avx2") == 0 ? ACL_AVX2 : ACL_SCALAR);
	for (uint64_t i = 0; i < packets; i += ACL_BURST) {
		acl_anchor_classify(a, burst, res, ACL_BURST);
		sum += res[0];
	}
	printf("%u\n", sum);
	acl_anchor_free(a);
	free(r);
	return 0;
}

/* ---- acl-check: random rules and packets ---- */

static uint64_t rng;

static uint32_t rnd(uint32_t below)
{
	rng ^= rng << 13;           /* xorshift64 */
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng % below);
}

/* Small pools, so that rules overlap and packets match them often. */
static uint32_t rnd_saddr(void)
{
	return 10u << 24 | rnd(3) << 16 | rnd(3) << 8 | rnd(4);
}

static uint32_t rnd_daddr(void)
{
	return 192u << 24 | 168u << 16 | rnd(3) << 8 | rnd(4);
}

static uint8_t rnd_prefix(void)
{
	static const uint8_t lens[] = { 0, 16, 24, 30, 32, 32, 32, 32, 32, 32 };

	return lens[rnd(sizeof(lens))];
}

static uint32_t masked(uint32_t a, uint8_t len)
{
	return len ? a & ~0u << (32 - len) : 0;
}

static void rnd_ports(uint16_t base, uint16_t *lo, uint16_t *hi)
{
	switch (rnd(3)) {
	case 0:
		*lo = 0, *hi = 0xffff;
		return;
	case 1:
		*lo = *hi = (uint16_t)(base + rnd(8));
		return;
	default:
		*lo = (uint16_t)(base + rnd(8));
		*hi = (uint16_t)(*lo + rnd(4));
	}
}

static void rnd_rule(struct bench_rule *r, unsigned i)
{
	*r = (struct bench_rule){ .rule = i };
	r->saddr_len = rnd_prefix();
	r->daddr_len = rnd_prefix();
	if (!r->saddr_len && !r->daddr_len)   /* else the policy would hardly ever decide */
		r->saddr_len = 32;
	r->saddr = masked(rnd_saddr(), r->saddr_len);
	r->daddr = masked(rnd_daddr(), r->daddr_len);
	r->proto = (uint8_t[]){ 0, IPPROTO_UDP, IPPROTO_UDP, IPPROTO_TCP }[rnd(4)];
	rnd_ports(1000, &r->sport_lo, &r->sport_hi);
	rnd_ports(5000, &r->dport_lo, &r->dport_hi);
	if (!r->proto)
		r->sport_lo = r->dport_lo = 0, r->sport_hi = r->dport_hi = 0xffff;
}

/* A UDP or TCP datagram from the pools; its length. */
static uint32_t rnd_packet(uint8_t *b)
{
	uint32_t src = htonl(rnd_saddr()), dst = htonl(rnd_daddr());
	uint16_t sport = (uint16_t)(1000 + rnd(12)), dport = (uint16_t)(5000 + rnd(12));

	if (rnd(2))
		return (uint32_t)tp_udp(b, src, dst, sport, dport, NULL, 8, NULL);
	tp_ipv4(b, src, dst, IPPROTO_TCP, 20, NULL);
	memset(b + 20, 0, 20);
	b[20] = (uint8_t)(sport >> 8), b[21] = (uint8_t)sport;
	b[22] = (uint8_t)(dport >> 8), b[23] = (uint8_t)dport;
	b[32] = 5 << 4;             /* data offset: no options */
	b[33] = 0x10;               /* ACK */
	return 40;
}

struct handles {
	uint64_t h[4096];
	unsigned n;
};

static void add_handle(void *arg, const char *chain, uint64_t handle, uint64_t packets,
		       uint64_t bytes)
{
	struct handles *hs = arg;

	if (hs->n < sizeof(hs->h) / sizeof(hs->h[0]))
		hs->h[hs->n++] = handle;
}

/* 1 + the index of the rule with that handle, 0 for the policy. */
static uint32_t rule_of_handle(const struct handles *hs, uint64_t handle)
{
	for (unsigned i = 0; i < hs->n; i++)
		if (hs->h[i] == handle)
			return i + 1;
	return 0;
}

/* RULES random 5-tuple rules (each with a counter, which names its handle
 * in image order), compiled with classify ops, against PACKETS random
 * datagrams in bursts of random sizes (so every vector path of rte_acl
 * runs): the interpreter's deciding rule and rte_acl's answer must agree. */
static int cmd_acl_check(unsigned nrules, unsigned npackets, uint64_t seed)
{
	struct bench_rule *r = calloc(nrules, sizeof(*r));
	char *text = NULL;
	size_t tlen = 0;
	FILE *f = open_memstream(&text, &tlen);
	static struct handles hs;

	if (!r || !f || nrules == 0 || nrules > sizeof(hs.h) / sizeof(hs.h[0])) {
		fprintf(stderr, "fn-bench-nft: acl-check: 1 to 4096 rules\n");
		return 2;
	}
	rng = seed * 2654435761u + 1;
	fprintf(f, "table inet fragnet {\n\tchain input {\n\t\ttype filter hook input "
		"priority 0; policy accept;\n");
	for (unsigned i = 0; i < nrules; i++) {
		rnd_rule(&r[i], i);
		fprintf(f, "\t\t");
		bench_rule_print(f, &r[i]);
		fprintf(f, " counter drop\n");
	}
	fprintf(f, "\t}\n}\n");
	fclose(f);
	struct fn_nft_state *s = state_of(text, false, NULL, NULL);
	fn_nft_counters(s, add_handle, &hs);
	if (hs.n != nrules) {
		fprintf(stderr, "fn-bench-nft: acl-check: %u rule counters for %u rules\n", hs.n,
			nrules);
		return 1;
	}
	acl_start();
	struct acl_anchor *a = acl_of(r, nrules);

	static uint8_t frames[ACL_BURST][128];
	const uint8_t *burst[ACL_BURST];
	uint32_t want[ACL_BURST], res[ACL_BURST];
	unsigned matched = 0, rules_seen = 0;
	static bool seen[4096];
	for (unsigned done = 0; done < npackets;) {
		unsigned k = 1 + rnd(ACL_BURST);

		if (k > npackets - done)
			k = npackets - done;
		for (unsigned i = 0; i < k; i++) {
			struct fn_nft_result ir;
			uint32_t len = rnd_packet(frames[i]);

			eval_one(s, frames[i], len, &ir);
			want[i] = rule_of_handle(&hs, ir.rule_handle);
			matched += want[i] != 0;
			if (want[i] && !seen[want[i] - 1])
				seen[want[i] - 1] = true, rules_seen++;
			burst[i] = frames[i];
		}
		for (enum acl_alg alg = ACL_SCALAR; alg <= ACL_AVX2; alg++) {
			acl_use(a, alg);
			acl_anchor_classify(a, burst, res, k);
			for (unsigned i = 0; i < k; i++)
				if (res[i] != want[i]) {
					char what[64];
					snprintf(what, sizeof(what), "packet %u (seed %llu)",
						 done + i, (unsigned long long)seed);
					acl_mismatch(what, alg == ACL_AVX2 ? "AVX2" : "scalar",
						     res[i], want[i]);
				}
		}
		done += k;
	}
	printf("acl-check: %u rules, %u packets (%u decided by one of %u rules, the rest by the "
	       "policy): rte_acl (scalar, AVX2) and the interpreter agree\n", nrules, npackets,
	       matched, rules_seen);
	acl_anchor_free(a);
	fn_nft_state_free(s);
	free(text);
	free(r);
	return 0;
}

/* ---- kernel side ---- */

static void enter_netns(const char *name)
{
	char path[256];
	snprintf(path, sizeof(path), "/run/netns/%s", name);
	int fd = open(path, O_RDONLY);
	if (fd < 0 || setns(fd, CLONE_NEWNET) < 0) {
		perror(path);
		exit(1);
	}
	close(fd);
}

static void nft_load(const char *text)
{
	struct nft_ctx *ctx = nft_ctx_new(NFT_CTX_DEFAULT);
	char *cmd = NULL;

	if (!ctx || asprintf(&cmd, "flush ruleset\n%s", text) < 0 ||
	    nft_run_cmd_from_buffer(ctx, cmd) != 0) {
		fprintf(stderr, "fn-bench-nft: nft could not load the ruleset\n");
		exit(1);
	}
	free(cmd);
	nft_ctx_free(ctx);
}

struct loopback {
	int tx, rx;
};

static struct loopback loopback_open(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	struct loopback l;
	int big = 4 << 20;

	l.rx = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	l.tx = socket(AF_INET, SOCK_DGRAM, 0);
	setsockopt(l.rx, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	a.sin_port = htons(BENCH_DPORT);
	if (bind(l.rx, (struct sockaddr *)&a, sizeof(a)) < 0)
		goto fail;
	a.sin_port = htons(BENCH_SPORT);
	if (bind(l.tx, (struct sockaddr *)&a, sizeof(a)) < 0)
		goto fail;
	a.sin_port = htons(BENCH_DPORT);
	if (connect(l.tx, (struct sockaddr *)&a, sizeof(a)) < 0)
		goto fail;
	return l;
fail:
	perror("fn-bench-nft: loopback sockets (is lo up?)");
	exit(1);
}

static double kernel_run(struct loopback *l, unsigned packets)
{
	static char payload[32], sink[BATCH][64];
	struct mmsghdr tx[BATCH], rx[BATCH];
	struct iovec tiov = {payload, sizeof(payload)}, riov[BATCH];
	uint64_t spent = 0;

	memset(tx, 0, sizeof(tx));
	memset(rx, 0, sizeof(rx));
	for (int i = 0; i < BATCH; i++) {
		tx[i].msg_hdr.msg_iov = &tiov;
		tx[i].msg_hdr.msg_iovlen = 1;
		riov[i] = (struct iovec){sink[i], sizeof(sink[i])};
		rx[i].msg_hdr.msg_iov = &riov[i];
		rx[i].msg_hdr.msg_iovlen = 1;
	}
	for (unsigned sent = 0; sent < packets; sent += BATCH) {
		uint64_t t0 = now_ns();
		if (sendmmsg(l->tx, tx, BATCH, 0) != BATCH) {
			perror("sendmmsg");
			exit(1);
		}
		spent += now_ns() - t0;
		while (recvmmsg(l->rx, rx, BATCH, MSG_DONTWAIT, NULL) > 0)
			;
	}
	return (double)spent / packets;
}

/* Load `text` into namespace ns and open the loopback pair there (sockets
 * keep their namespace once created). */
static struct loopback kernel_setup(const char *ns, const char *text)
{
	enter_netns(ns);
	nft_load(text);
	return loopback_open();
}

static int cmd_kernel(const struct bench_case *c, const char *ns_rules, const char *ns_base)
{
	char *text = bench_ruleset(c), *base = baseline_ruleset(c->match);
	struct loopback lr = kernel_setup(ns_rules, text);
	struct loopback lb = kernel_setup(ns_base, base);
	double r[REPEATS], e[REPEATS];

	bench_pin_cpu0();
	kernel_run(&lr, 20000);                 /* warm up */
	kernel_run(&lb, 20000);
	for (int i = 0; i < REPEATS; i++) {
		r[i] = kernel_run(&lr, 200000);
		e[i] = kernel_run(&lb, 200000);
	}
	double total = bench_median(r, REPEATS);
	printf("%.1f %.1f\n", total - bench_median(e, REPEATS), total);
	close(lr.tx);
	close(lr.rx);
	close(lb.tx);
	close(lb.rx);
	free(text);
	free(base);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "list") == 0) {
		for (size_t i = 0; i < bench_n_cases; i++)
			printf("%s\t%s\n", bench_cases[i].name, bench_cases[i].what);
		return 0;
	}
	if (argc == 4 && strcmp(argv[1], "image") == 0)
		return cmd_image(argv[2], strtoull(argv[3], NULL, 0));
	const struct bench_case *c = argc >= 3 ? bench_case_find(argv[2]) : NULL;
	if (c && strcmp(argv[1], "interp") == 0)
		return cmd_interp(c, argc == 5 && strcmp(argv[3], "--image-out") == 0 ? argv[4] : NULL);
	if (c && argc == 5 && strcmp(argv[1], "kernel") == 0)
		return cmd_kernel(c, argv[3], argv[4]);
	if (c && argc == 3 && strcmp(argv[1], "acl") == 0)
		return cmd_acl(c);
	if (c && argc == 5 && strcmp(argv[1], "acl-count") == 0)
		return cmd_acl_count(c, argv[3], strtoull(argv[4], NULL, 0));
	if (argc == 5 && strcmp(argv[1], "acl-check") == 0)
		return cmd_acl_check((unsigned)strtoul(argv[2], NULL, 0),
				     (unsigned)strtoul(argv[3], NULL, 0), strtoull(argv[4], NULL, 0));
	if (c && strcmp(argv[1], "ruleset") == 0) {
		char *t = bench_ruleset(c);
		fputs(t, stdout);
		free(t);
		return 0;
	}
	fprintf(stderr, "usage: fn-bench-nft list | interp CASE [--image-out FILE] | "
		"image FILE PACKETS | kernel CASE NS_RULES NS_BASE | ruleset CASE | acl CASE | "
		"acl-count CASE avx2|scalar PACKETS | acl-check RULES PACKETS SEED\n");
	return 2;
}
