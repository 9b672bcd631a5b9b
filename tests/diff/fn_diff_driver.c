/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The interpreter side of the kernel differential test: compiles a ruleset
 * with the rules compiler, then evaluates packets handed to it line by line
 * on stdin and answers on stdout. The harness (diff_corpus.py) decides which
 * bytes each hook sees; this program only runs the interpreter on them.
 *
 *   fn-diff-driver [--netns NAME] [--app APP] [--xdp] RULESET
 *
 * Protocol (one line each way; "-" stands for none):
 *   > eval HOOK CPU PKTTYPE MARK CT IIF IIFNAME OIF OIFNAME L2HEX L3HEX
 *   < ok VERDICT CHAIN HANDLE MARK CT L3HEX   (the packet after the hook)
 *   > counters
 *   < counter CHAIN HANDLE PACKETS BYTES ...  (rule counters)
 *   < named NAME PACKETS BYTES ...            (named counter objects)
 *   < end
 *   > evalk HOOK ... (as eval)
 *   < ok VERDICT CHAIN HANDLE MARK CT L3HEX   (what a kernel with the
 *                                             payload fast path bug does)
 *   < honest VERDICT CHAIN HANDLE MARK CT L3HEX  (what the interpreter does)
 *   < delta CHAIN HANDLE PACKETS BYTES ...    (what the first counted beyond
 *   < dnamed NAME PACKETS BYTES ...            the second, where they differ)
 *   < end
 * CT is fn_pkt.ct, which the filter needs back at input (postrouting) for
 * the packet it saw at prerouting (output).
 *   > xdp L2HEX L3HEX                        (with --xdp)
 *   < xdp RETVAL HOOK CHAIN RULE              (what the kernel part did)
 * With --xdp the ruleset's kernel part (xdp/: the generated XDP program, test
 * epilogue) is loaded too. An xdp line runs a frame the steering program
 * would hand to the application through it, as kernel enforcement does:
 * the eval lines of that frame's prerouting and input hooks that follow are
 * answered from what the kernel part decided and by resuming the
 * interpreter where it stopped (tests/xdp/xdp_harness.h), and the counters
 * are the sum of both parts.
 * evalk is asked instead of eval for non-first fragments when the kernel has
 * the bug (harness/quirk.py). It runs the hook with the ops rewritten by
 * fast_path_quirk.c for this packet's IPv4 header length, on the
 * interpreter's state, which then carries on from what the kernel did (as
 * the harness carries on along the kernel's path); the interpreter's own
 * answer comes from a fork of the state taken before.
 * On start it prints "ready", or "error MESSAGE" and exits 1.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "compiler.h"
#include "fast_path_quirk.h"
#include "packets.h"
#include "filter/filter.h"
#include "nft/eval.h"
#include "xdp_harness.h"

#define MAX_FRAME (65536 + 64)

static const char *const verdict_names[] = {
	[FN_ACCEPT] = "accept",
	[FN_DROP] = "drop",
	[FN_REJECT_PORT_UNREACH] = "reject-port-unreach",
	[FN_REJECT_ADMIN_PROHIB] = "reject-admin-prohib",
	[FN_REJECT_NET_UNREACH] = "reject-net-unreach",
	[FN_REJECT_HOST_UNREACH] = "reject-host-unreach",
	[FN_REJECT_PROT_UNREACH] = "reject-prot-unreach",
	[FN_REJECT_NET_PROHIB] = "reject-net-prohib",
	[FN_REJECT_HOST_PROHIB] = "reject-host-prohib",
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

/* A rule or named counter as fn_nft_counters() lists it. */
struct count {
	char name[64];          /* chain, or the object's name */
	uint64_t handle;        /* UINT64_MAX: a named counter */
	uint64_t packets, bytes;
};

struct counts {
	struct count *c;
	size_t n, cap;
};

static void add_count(struct counts *cs, const char *name, uint64_t handle,
		      uint64_t packets, uint64_t bytes)
{
	if (cs->n == cs->cap) {
		size_t cap = cs->cap ? cs->cap * 2 : 64;
		struct count *n = realloc(cs->c, cap * sizeof(*n));

		if (!n)
			abort();
		cs->c = n;
		cs->cap = cap;
	}
	snprintf(cs->c[cs->n].name, sizeof(cs->c[cs->n].name), "%s", name);
	cs->c[cs->n].handle = handle;
	cs->c[cs->n].packets = packets;
	cs->c[cs->n].bytes = bytes;
	cs->n++;
}

static void collect_counter(void *arg, const char *chain, uint64_t handle,
			    uint64_t packets, uint64_t bytes)
{
	add_count(arg, chain, handle, packets, bytes);
}

static void collect_named(void *arg, const char *name, uint64_t packets, uint64_t bytes)
{
	add_count(arg, name, UINT64_MAX, packets, bytes);
}

static void collect(struct fn_nft_state *st, struct counts *cs)
{
	cs->n = 0;
	fn_nft_counters(st, collect_counter, cs);
	fn_nft_named_counters(st, collect_named, cs);
}

/* One hook evaluation, as parsed from an eval line. */
struct eval_req {
	int hook;
	struct fn_pkt pkt;
	char iifname[16], oifname[16];
};

static uint8_t frame[MAX_FRAME];

/* Parse an eval line into req (its packet in the static frame). */
static int parse_eval(char *args, struct eval_req *req)
{
	char hook_s[16], iifname_s[32], oifname_s[32];
	static char l2_s[2 * MAX_FRAME + 2], l3_s[2 * MAX_FRAME + 2];
	unsigned cpu, pkttype, mark, ct, iif, oif;

	memset(req, 0, sizeof(*req));
	if (sscanf(args, "%15s %u %u %u %u %u %31s %u %31s %131073s %131073s", hook_s, &cpu,
		   &pkttype, &mark, &ct, &iif, iifname_s, &oif, oifname_s, l2_s, l3_s) != 11)
		return -EINVAL;
	req->hook = hook_by_name(hook_s);
	long l2_len = hex_decode(l2_s, frame, sizeof(frame));
	if (req->hook < 0 || l2_len < 0)
		return -EINVAL;
	long l3_len = hex_decode(l3_s, frame + l2_len, sizeof(frame) - (size_t)l2_len);
	if (l3_len < 20)
		return -EINVAL;
	if (strcmp(iifname_s, "-") != 0)
		memcpy(req->iifname, iifname_s, strnlen(iifname_s, sizeof(req->iifname) - 1));
	if (strcmp(oifname_s, "-") != 0)
		memcpy(req->oifname, oifname_s, strnlen(oifname_s, sizeof(req->oifname) - 1));

	/* Link and network headers are contiguous, as in an mbuf, so a link
	 * payload load past the Ethernet header reads the IP header. */
	req->pkt = tp_view(frame + l2_len, (uint32_t)l3_len);
	req->pkt.l2 = l2_len ? frame : NULL;
	req->pkt.pkttype = (uint8_t)pkttype;
	req->pkt.mark = mark;
	req->pkt.iif = iif;
	req->pkt.oif = oif;
	req->pkt.iifname = strcmp(iifname_s, "-") ? req->iifname : NULL;
	req->pkt.oifname = strcmp(oifname_s, "-") ? req->oifname : NULL;
	req->pkt.cpu = (uint16_t)cpu;
	req->pkt.ct = ct;
	return 0;
}

/* The kernel part's outcome on the frame of the last xdp line, while the
 * hooks it covers are still to be answered. */
static struct {
	struct xh *x;
	struct xh_kernel k;
	int next_hook;            /* the hook expected next, -1: none pending */
} xdp = { .next_hook = -1 };

/* The hook's result: through the kernel part when it judged this frame. */
static enum fn_verdict hook_result(struct fn_nft_state *st, struct eval_req *req,
				   struct fn_nft_result *res)
{
	int pending = xdp.next_hook;

	xdp.next_hook = -1;
	if (pending < 0 || pending != req->hook)
		return fn_nft_eval(st, (enum fn_hook)req->hook, &req->pkt, res);
	if (!xh_hook(xdp.x, st, &xdp.k, (enum fn_hook)req->hook, &req->pkt, res)) {
		/* the kernel dropped the frame before this hook: the harness
		 * asks only for hooks the kernel's own path runs */
		fprintf(stderr, "fn-diff-driver: %s asked after the kernel part dropped\n",
			hook_names[req->hook]);
		exit(1);
	}
	if (req->hook == FN_HOOK_PREROUTING && res->verdict == FN_ACCEPT)
		xdp.next_hook = FN_HOOK_INPUT;
	return res->verdict;
}

/* Run the hook and answer, to f, with the verdict and the packet. */
static void run_eval(FILE *f, const char *tag, struct fn_nft_state *st, struct eval_req *req)
{
	struct fn_pkt *pkt = &req->pkt;
	struct fn_nft_result res = {0};
	enum fn_verdict v = hook_result(st, req, &res);

	fprintf(f, "%s %s %s %llu %u %u ", tag,
		v < sizeof(verdict_names) / sizeof(*verdict_names) &&
		verdict_names[v] ? verdict_names[v] : "unknown",
		res.chain && *res.chain ? res.chain : "-", (unsigned long long)res.rule_handle,
		pkt->mark, pkt->ct);
	for (uint32_t i = 0; i < pkt->l3_len; i++)
		fprintf(f, "%02x", pkt->l3[i]);
	fprintf(f, "\n");
}

/* One "eval" line. */
static int do_eval(struct fn_nft_state *st, char *args)
{
	struct eval_req req;

	if (parse_eval(args, &req) < 0)
		return -EINVAL;
	run_eval(stdout, "ok", st, &req);
	return 0;
}

/* One "xdp" line: the frame through the kernel part, answered with what it
 * did; the eval lines of its hooks follow. */
static int do_xdp(struct fn_nft_state *st, char *args)
{
	static char l2_s[64], l3_s[2 * MAX_FRAME + 2];
	long l2_len, l3_len;
	int rc;

	if (!xdp.x || sscanf(args, "%63s %131073s", l2_s, l3_s) != 2)
		return -EINVAL;
	l2_len = hex_decode(l2_s, frame, sizeof(frame));
	if (l2_len != 14)
		return -EINVAL;
	l3_len = hex_decode(l3_s, frame + l2_len, sizeof(frame) - (size_t)l2_len);
	if (l3_len < 20)
		return -EINVAL;
	rc = xh_kernel(xdp.x, st, frame, (size_t)(l2_len + l3_len), &xdp.k);
	if (rc < 0) {
		printf("error the kernel part: %s\n", strerror(-rc));
		return 0;
	}
	xdp.next_hook = FN_HOOK_PREROUTING;
	printf("xdp %s %u %u %u\n", xdp.k.retval == XDP_DROP ? "drop" : "pass", xdp.k.meta.hook,
	       xdp.k.meta.chain, xdp.k.meta.rule);
	return 0;
}

/*
 * The interpreter's own answer for req, from a fork of st (so st is left as
 * it was): its "honest" line into *line, its counters after into *cs.
 * 0, or -1 if the child could not be run.
 */
static int honest_in_child(struct fn_nft_state *st, struct eval_req *req,
			   char **line, struct counts *cs)
{
	int fds[2], status;
	pid_t pid;

	fflush(stdout);
	if (pipe(fds) < 0)
		return -1;
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (pid == 0) {
		FILE *f = fdopen(fds[1], "w");
		struct counts after = {0};

		close(fds[0]);
		run_eval(f, "honest", st, req);
		collect(st, &after);
		fprintf(f, "%zu\n", after.n);
		fwrite(after.c, sizeof(*after.c), after.n, f);
		fclose(f);
		_exit(0);
	}
	close(fds[1]);
	FILE *f = fdopen(fds[0], "r");
	size_t cap = 0, n = 0;
	int ok = f && getline(line, &cap, f) > 0 && fscanf(f, "%zu\n", &n) == 1;

	cs->n = 0;
	for (size_t i = 0; ok && i < n; i++) {
		struct count c;

		ok = fread(&c, sizeof(c), 1, f) == 1;
		if (ok)
			add_count(cs, c.name, c.handle, c.packets, c.bytes);
	}
	if (f)
		fclose(f);
	else
		close(fds[0]);
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status))
		ok = 0;
	return ok ? 0 : -1;
}

/* One "evalk" line (see the protocol at the top). */
static int do_evalk(struct fn_nft_state *st, const void *image, size_t len, char *args)
{
	static struct counts honest, kernel;
	struct eval_req req;
	char *honest_line = NULL;
	void *quirky;
	int rc;

	if (parse_eval(args, &req) < 0)
		return -EINVAL;
	if (fn_quirk_fast_payload_image(image, len, (req.pkt.l3[0] & 0xf) * 4u, &quirky) < 0) {
		printf("error the fast path cannot be modelled for this packet\n");
		return 0;
	}
	/* the child rewrites only its own copy of the packet */
	if (honest_in_child(st, &req, &honest_line, &honest) < 0) {
		free(quirky);
		free(honest_line);
		printf("error could not run the interpreter's own answer\n");
		return 0;
	}
	rc = fn_nft_state_replace_code(st, quirky, len);
	free(quirky);
	if (rc < 0) {
		free(honest_line);
		printf("error the rewritten image: %s\n", strerror(-rc));
		return 0;
	}
	run_eval(stdout, "ok", st, &req);
	collect(st, &kernel);
	rc = fn_nft_state_replace_code(st, image, len);
	fputs(honest_line, stdout);
	free(honest_line);
	if (rc < 0) {
		printf("error restoring the image: %s\n", strerror(-rc));
		exit(1);
	}
	/* both lists come in image order from the same image */
	for (size_t i = 0; i < kernel.n && i < honest.n; i++) {
		const struct count *k = &kernel.c[i], *h = &honest.c[i];

		if (k->packets == h->packets && k->bytes == h->bytes)
			continue;
		if (k->handle == UINT64_MAX)
			printf("dnamed %s %lld %lld\n", k->name,
			       (long long)(k->packets - h->packets), (long long)(k->bytes - h->bytes));
		else
			printf("delta %s %llu %lld %lld\n", k->name, (unsigned long long)k->handle,
			       (long long)(k->packets - h->packets), (long long)(k->bytes - h->bytes));
	}
	printf("end\n");
	return 0;
}

int main(int argc, char **argv)
{
	const char *netns = NULL, *app = "fragnet", *path = NULL;
	char err[4096] = "";
	int with_xdp = 0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--netns") == 0 && i + 1 < argc)
			netns = argv[++i];
		else if (strcmp(argv[i], "--app") == 0 && i + 1 < argc)
			app = argv[++i];
		else if (strcmp(argv[i], "--xdp") == 0)
			with_xdp = 1;
		else
			path = argv[i];
	}
	if (!path) {
		fprintf(stderr, "usage: fn-diff-driver [--netns NAME] [--app APP] [--xdp] RULESET\n");
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
	if (with_xdp && !(xdp.x = xh_new(image, len, err, sizeof(err)))) {
		size_t n = strlen(err);

		for (char *p = err; *p; p++)
			if (*p == '\n')
				*p = ' ';
		printf("error the kernel part: %s\n", n > 1000 ? err + n - 1000 : err);
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
		} else if (strncmp(line, "xdp ", 4) == 0) {
			if (do_xdp(st, line + 4) < 0)
				printf("error bad xdp line\n");
		} else if (strncmp(line, "evalk ", 6) == 0) {
			if (do_evalk(st, image, len, line + 6) < 0)
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
	xh_free(xdp.x);
	fn_nft_state_free(st);
	free(image);
	return 0;
}
