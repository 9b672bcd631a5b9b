/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The interpreter side of the kernel differential test: compiles a ruleset
 * with the rules compiler, then evaluates packets handed to it line by line
 * on stdin and answers on stdout. The harness (diff_corpus.py) decides which
 * bytes each hook sees; this program only runs the interpreter on them.
 *
 *   fn-diff-driver [--netns NAME] [--app APP] RULESET
 *
 * Protocol (one line each way; "-" stands for none):
 *   > eval HOOK CPU PKTTYPE MARK CT IIF IIFNAME OIF OIFNAME L2HEX L3HEX
 *   < ok VERDICT CHAIN HANDLE MARK CT L3HEX   (the packet after the hook)
 *   > counters
 *   < counter CHAIN HANDLE PACKETS BYTES ...  (rule counters)
 *   < named NAME PACKETS BYTES ...            (named counter objects)
 *   < end
 * CT is fn_pkt.ct, which the filter needs back at input (postrouting) for
 * the packet it saw at prerouting (output).
 * On start it prints "ready", or "error MESSAGE" and exits 1.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compiler.h"
#include "filter.h"
#include "nft/eval.h"

#define MAX_FRAME (65536 + 64)

static const char *const verdict_names[] = {
	[FN_ACCEPT] = "accept",
	[FN_DROP] = "drop",
	[FN_REJECT_PORT_UNREACH] = "reject-port-unreach",
	[FN_REJECT_ADMIN_PROHIB] = "reject-admin-prohib",
	[FN_REJECT_NET_UNREACH] = "reject-net-unreach",
	[FN_REJECT_HOST_UNREACH] = "reject-host-unreach",
	[FN_REJECT_PROT_UNREACH] = "reject-prot-unreach",
};

static const char *const hook_names[] = {
	[FN_HOOK_PREROUTING] = "prerouting",
	[FN_HOOK_INPUT] = "input",
	[FN_HOOK_FORWARD] = "forward",
	[FN_HOOK_OUTPUT] = "output",
	[FN_HOOK_POSTROUTING] = "postrouting",
};

static int hook_by_name(const char *s)
{
	for (int h = 0; h < FN_HOOK_MAX; h++)
		if (strcmp(s, hook_names[h]) == 0)
			return h;
	return -1;
}

static long hex_decode(const char *hex, uint8_t *out, size_t cap)
{
	size_t n = strlen(hex);

	if (strcmp(hex, "-") == 0)
		return 0;
	if (n % 2 || n / 2 > cap)
		return -1;
	for (size_t i = 0; i < n / 2; i++) {
		unsigned v;
		if (sscanf(hex + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (uint8_t)v;
	}
	return (long)(n / 2);
}

static void hex_print(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		printf("%02x", p[i]);
}

/* Smallest header of each transport we know: shorter means "no transport
 * header" (fn_pkt.l4_off = 0), as lib/filter.h defines it. */
static unsigned l4_min(uint8_t proto)
{
	switch (proto) {
	case 6: return 20;   /* TCP */
	case 17: return 8;   /* UDP */
	case 1: return 8;    /* ICMP */
	default: return 0;
	}
}

static uint16_t transport_offset(const uint8_t *l3, uint32_t len)
{
	unsigned ihl = (l3[0] & 0xf) * 4u;
	unsigned frag = ((unsigned)l3[6] << 8 | l3[7]) & 0x1fff;

	if (frag || len < ihl + l4_min(l3[9]))
		return 0;
	return (uint16_t)ihl;
}

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t cap = 0, len = 0;

	if (!f)
		return NULL;
	for (;;) {
		if (len + 4096 + 1 > cap) {
			cap = cap ? cap * 2 : 8192;
			char *n = realloc(buf, cap);
			if (!n) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = n;
		}
		size_t got = fread(buf + len, 1, 4096, f);
		len += got;
		if (got < 4096)
			break;
	}
	fclose(f);
	buf[len] = '\0';
	return buf;
}

static void print_counter(void *arg, const char *chain, uint64_t handle,
			  uint64_t packets, uint64_t bytes)
{
	(void)arg;
	printf("counter %s %llu %llu %llu\n", chain, (unsigned long long)handle,
	       (unsigned long long)packets, (unsigned long long)bytes);
}

static void print_named(void *arg, const char *name, uint64_t packets, uint64_t bytes)
{
	(void)arg;
	printf("named %s %llu %llu\n", name, (unsigned long long)packets,
	       (unsigned long long)bytes);
}

/* One "eval" line: run the hook, answer with the verdict and the packet. */
static int do_eval(struct fn_nft_state *st, char *args)
{
	static uint8_t frame[MAX_FRAME];
	char hook_s[16], iifname_s[32], oifname_s[32];
	static char l2_s[2 * MAX_FRAME + 2], l3_s[2 * MAX_FRAME + 2];
	unsigned cpu, pkttype, mark, ct, iif, oif;
	char iifname[16] = {0}, oifname[16] = {0};

	if (sscanf(args, "%15s %u %u %u %u %u %31s %u %31s %131073s %131073s", hook_s, &cpu,
		   &pkttype, &mark, &ct, &iif, iifname_s, &oif, oifname_s, l2_s, l3_s) != 11)
		return -EINVAL;
	int hook = hook_by_name(hook_s);
	long l2_len = hex_decode(l2_s, frame, sizeof(frame));
	if (hook < 0 || l2_len < 0)
		return -EINVAL;
	long l3_len = hex_decode(l3_s, frame + l2_len, sizeof(frame) - (size_t)l2_len);
	if (l3_len < 20)
		return -EINVAL;
	if (strcmp(iifname_s, "-") != 0)
		memcpy(iifname, iifname_s, strnlen(iifname_s, sizeof(iifname) - 1));
	if (strcmp(oifname_s, "-") != 0)
		memcpy(oifname, oifname_s, strnlen(oifname_s, sizeof(oifname) - 1));

	/* Link and network headers are contiguous, as in an mbuf, so a link
	 * payload load past the Ethernet header reads the IP header. */
	uint8_t *l3 = frame + l2_len;
	struct fn_pkt pkt = {
		.l2 = l2_len ? frame : NULL,
		.l3 = l3,
		.l3_len = (uint32_t)l3_len,
		.l4_off = transport_offset(l3, (uint32_t)l3_len),
		.l4proto = l3[9],
		.pkttype = (uint8_t)pkttype,
		.mark = mark,
		.iif = iif,
		.oif = oif,
		.iifname = strcmp(iifname_s, "-") ? iifname : NULL,
		.oifname = strcmp(oifname_s, "-") ? oifname : NULL,
		.cpu = (uint16_t)cpu,
		.ct = ct,
	};
	struct fn_nft_result res = {0};
	enum fn_verdict v = fn_nft_eval(st, (enum fn_hook)hook, &pkt, &res);

	printf("ok %s %s %llu %u %u ", v < sizeof(verdict_names) / sizeof(*verdict_names) &&
	       verdict_names[v] ? verdict_names[v] : "unknown",
	       res.chain && *res.chain ? res.chain : "-", (unsigned long long)res.rule_handle,
	       pkt.mark, pkt.ct);
	hex_print(pkt.l3, pkt.l3_len);
	printf("\n");
	return 0;
}

int main(int argc, char **argv)
{
	const char *netns = NULL, *app = "fragnet", *path = NULL;
	char err[512] = "";

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--netns") == 0 && i + 1 < argc)
			netns = argv[++i];
		else if (strcmp(argv[i], "--app") == 0 && i + 1 < argc)
			app = argv[++i];
		else
			path = argv[i];
	}
	if (!path) {
		fprintf(stderr, "usage: fn-diff-driver [--netns NAME] [--app APP] RULESET\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOFBF, 1 << 16);
	char *text = read_file(path);
	if (!text) {
		printf("error %s: %s\n", path, strerror(errno));
		return 1;
	}
	struct fn_compiler *c = fn_compiler_new(netns, err, sizeof(err));
	if (!c) {
		printf("error compiler: %s\n", err);
		return 1;
	}
	void *image = NULL;
	size_t len = 0;
	int rc = fn_compile_text(c, text, app, &image, &len, err, sizeof(err));
	fn_compiler_free(c);
	free(text);
	if (rc < 0) {
		for (char *p = err; *p; p++)
			if (*p == '\n')
				*p = ' ';
		printf("error compile: %s\n", err);
		return 1;
	}
	struct fn_nft_state *st = fn_nft_state_new(image, len);
	if (!st) {
		printf("error image refused by the verifier: %s\n", strerror(errno));
		return 1;
	}
	printf("ready\n");
	fflush(stdout);

	char *line = NULL;
	size_t cap = 0;
	while (getline(&line, &cap, stdin) > 0) {
		line[strcspn(line, "\n")] = '\0';
		if (strncmp(line, "eval ", 5) == 0) {
			if (do_eval(st, line + 5) < 0)
				printf("error bad eval line\n");
		} else if (strcmp(line, "counters") == 0) {
			fn_nft_counters(st, print_counter, NULL);
			fn_nft_named_counters(st, print_named, NULL);
			printf("end\n");
		} else if (strcmp(line, "quit") == 0) {
			break;
		} else {
			printf("error unknown command\n");
		}
		fflush(stdout);
	}
	free(line);
	fn_nft_state_free(st);
	free(image);
	return 0;
}
