/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Filter benchmark: per-packet cost of the same rulesets and packet in the
 * interpreter (fn_nft_eval on the input hook) and in kernel nftables (input
 * hook, loopback UDP). run.sh drives it and prints the table.
 *
 *   fn-bench-nft interp CASE [--image-out FILE]   ns/packet, rules minus baseline
 *   fn-bench-nft image FILE PACKETS               eval PACKETS times (callgrind)
 *   fn-bench-nft kernel CASE NS_RULES NS_BASE     ns/packet, in two namespaces
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

#include "cases.h"
#include "measure.h"
#include "compiler.h"
#include "filter/filter.h"
#include "nft/eval.h"
#include "packets.h"

#define REPEATS 7
#define BATCH 64

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
	if (c && strcmp(argv[1], "ruleset") == 0) {
		char *t = bench_ruleset(c);
		fputs(t, stdout);
		free(t);
		return 0;
	}
	fprintf(stderr, "usage: fn-bench-nft list | interp CASE [--image-out FILE] | "
		"image FILE PACKETS | kernel CASE NS_RULES NS_BASE | ruleset CASE\n");
	return 2;
}
