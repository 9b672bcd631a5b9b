/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fragnet-eval: run the packets of a capture through a ruleset offline, with
 * the same compiler and interpreter the dataplane uses, and say per packet
 * which hook decided what and by which rule. See usage() for the manual.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture.h"
#include "compiler.h"
#include "reasm.h"
#include "filter/filter.h"
#include "nft/eval.h"
#include "nft/image.h"
#include "stack/csum.h"

static const char *const verdict_names[] = {
	[FN_ACCEPT] = "accept",
	[FN_DROP] = "drop",
	[FN_REJECT_PORT_UNREACH] = "reject-port-unreachable",
	[FN_REJECT_ADMIN_PROHIB] = "reject-admin-prohibited",
	[FN_REJECT_NET_UNREACH] = "reject-net-unreachable",
	[FN_REJECT_HOST_UNREACH] = "reject-host-unreachable",
	[FN_REJECT_PROT_UNREACH] = "reject-prot-unreachable",
	[FN_REJECT_NET_PROHIB] = "reject-net-prohibited",
	[FN_REJECT_HOST_PROHIB] = "reject-host-prohibited",
};

static const char *const hook_names[] = {
	[FN_HOOK_PREROUTING] = "prerouting", [FN_HOOK_INPUT] = "input",
	[FN_HOOK_FORWARD] = "forward", [FN_HOOK_OUTPUT] = "output",
	[FN_HOOK_POSTROUTING] = "postrouting",
};

static void usage(FILE *f)
{
	fprintf(f,
"NAME\n"
"    fragnet-eval - run a captured packet trace through an nftables ruleset offline\n"
"\n"
"SYNOPSIS\n"
"    fragnet-eval [-a APP] [-o] [-j] [-i IFNAME] [--ifindex N] [--cpu N]\n"
"                 [--netns NAME] [--now] RULESET CAPTURE\n"
"\n"
"DESCRIPTION\n"
"    Compiles RULESET (nft syntax, as for `nft -f`) with the rules compiler of\n"
"    fragnetd, selects the table of application APP the way the dataplane does\n"
"    (inet APP, else ip APP, else inet fragnet), and runs every IPv4 packet of\n"
"    CAPTURE through it with the libfragnet interpreter. CAPTURE is a pcap or\n"
"    pcapng file as written by tcpdump -w or tshark -w (Ethernet, Linux cooked\n"
"    v1/v2, raw IP or loopback link types). Use it to test a ruleset on real\n"
"    traffic before deploying it.\n"
"\n"
"    Packets go through the hooks of the input path (prerouting, then input)\n"
"    or, with -o, of the output path (output, then postrouting); a drop or\n"
"    reject ends the path. As in the kernel, a packet with an invalid IPv4\n"
"    header never reaches the filter, link padding is trimmed, fragments meet\n"
"    prerouting one by one and input as the reassembled datagram (when the\n"
"    ruleset uses conntrack, both hooks see the reassembled datagram). On the\n"
"    output path, fragments are reassembled first: the application sent the\n"
"    whole datagram, and fragmentation happens after postrouting.\n"
"    Rewrites (payload set, meta mark set) carry over to the next hook.\n"
"    Stateful expressions (limit, quota, ct, meta time) run on the capture's\n"
"    own timestamps, so a replay decides the same way every time.\n"
"\n"
"OPTIONS\n"
"    -a, --app APP     application whose table is used (default: fragnet)\n"
"    -o, --output      treat packets as sent by the application (output path)\n"
"    -j, --json        print JSON instead of text\n"
"    -i, --ifname NAME interface name for meta iifname/oifname (default: none)\n"
"        --ifindex N   interface index for meta iif/oif (default: 1)\n"
"        --cpu N       value of meta cpu (default: 0)\n"
"        --netns NAME  compile inside this existing network namespace, whose\n"
"                      interfaces resolve names in `meta iif \"NAME\"` rules\n"
"                      (default: a private throwaway namespace)\n"
"        --now         use the current clock instead of capture timestamps\n"
"    -h, --help        this text\n"
"\n"
"OUTPUT\n"
"    Text: one line per hook a packet went through:\n"
"        PACKET HOOK VERDICT CHAIN HANDLE\n"
"    where HANDLE is the rule handle of the deciding rule (as `nft -a list\n"
"    ruleset` shows it) and 0 when the chain policy decided; CHAIN is - when\n"
"    the table has no base chain on that hook. Packets that are not IPv4 or\n"
"    never reach the filter get one line saying why. JSON (-j): an object\n"
"    with \"packets\", each with \"packet\", \"time\", \"length\", \"hooks\" (a list\n"
"    of {\"hook\", \"verdict\", \"chain\", \"handle\"}), the final \"verdict\", or\n"
"    \"skipped\" with the reason.\n"
"\n"
"EXIT STATUS\n"
"    0 on success; 1 if the ruleset does not compile or the capture cannot\n"
"    be read; 2 on bad usage.\n"
"\n"
"EXAMPLES\n"
"    tcpdump -i eth0 -w in.pcap udp\n"
"    fragnet-eval -a myapp rules.nft in.pcap\n"
"    tshark -i eth0 -w out.pcapng; fragnet-eval -o -j rules.nft out.pcapng\n");
}

struct opts {
	const char *app, *netns, *ifname, *ruleset, *capture;
	bool output, json, now;
	uint32_t ifindex;
	uint16_t cpu;
};

/* Capture time as the interpreter's clocks while a packet is evaluated. */
struct replay_clock {
	uint64_t ts_ns;
};

static uint64_t replay_mono(void *arg) { return ((struct replay_clock *)arg)->ts_ns; }
static uint64_t replay_real(void *arg) { return ((struct replay_clock *)arg)->ts_ns; }

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	char chunk[4096];
	size_t n;
	while (m && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		fwrite(chunk, 1, n, m);
	fclose(f);
	if (m)
		fclose(m);
	return buf;
}

/* ip_rcv_core(): what the kernel drops before any hook. Returns the
 * datagram length (padding trimmed) or 0. */
static uint32_t ipv4_valid(const uint8_t *p, uint32_t caplen)
{
	if (caplen < 20 || (p[0] >> 4) != 4)
		return 0;
	uint32_t hl = (p[0] & 0xfu) * 4u, tot = (uint32_t)(p[2] << 8 | p[3]);
	if (hl < 20 || caplen < hl || tot < hl || tot > caplen)
		return 0;
	return fn_csum_ok(p, hl) ? tot : 0;
}

static bool is_fragment(const uint8_t *p)
{
	return ((p[6] << 8 | p[7]) & 0x3fff) != 0;
}

static uint16_t transport_offset(const uint8_t *l3, uint32_t len)
{
	static const uint8_t min_hdr[256] = { [1] = 8, [6] = 20, [17] = 8 };
	unsigned hl = (l3[0] & 0xfu) * 4u;

	if (((l3[6] << 8 | l3[7]) & 0x1fff) || len < hl + min_hdr[l3[9]])
		return 0;
	return (uint16_t)hl;
}

struct printer {
	const struct opts *o;
	bool first_packet;
};

static void json_str(const char *s)
{
	if (!s) {
		fputs("null", stdout);
		return;
	}
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			putchar('\\');
		putchar(*s);
	}
	putchar('"');
}

static void packet_begin(struct printer *pr, unsigned long no, uint64_t ts, uint32_t len)
{
	if (!pr->o->json)
		return;
	printf("%s\n    {\"packet\": %lu, \"time\": %llu.%09llu, \"length\": %u", pr->first_packet ? "" : ",",
	       no, (unsigned long long)(ts / 1000000000ull), (unsigned long long)(ts % 1000000000ull),
	       len);
	pr->first_packet = false;
}

static void packet_skip(struct printer *pr, unsigned long no, const char *why)
{
	if (pr->o->json) {
		printf(", \"skipped\": ");
		json_str(why);
		printf("}");
	} else {
		printf("%lu - skipped - %s\n", no, why);
	}
}

/* Run the hooks of one datagram; returns the final verdict. */
static enum fn_verdict run_path(struct fn_nft_state *st, const struct opts *o,
				unsigned long no, struct fn_pkt *pkt, const enum fn_hook *hooks,
				int n_hooks, bool json)
{
	enum fn_verdict v = FN_ACCEPT;

	for (int i = 0; i < n_hooks && v == FN_ACCEPT; i++) {
		struct fn_nft_result res = {0};
		pkt->l4_off = transport_offset(pkt->l3, pkt->l3_len);
		v = fn_nft_eval(st, hooks[i], pkt, &res);
		if (json) {
			printf("%s{\"hook\": \"%s\", \"verdict\": \"%s\", \"chain\": ", i ? ", " : "",
			       hook_names[hooks[i]], verdict_names[v]);
			json_str(res.chain);
			printf(", \"handle\": %llu}", (unsigned long long)res.rule_handle);
		} else {
			printf("%lu %s %s %s %llu\n", no, hook_names[hooks[i]], verdict_names[v],
			       res.chain ? res.chain : "-", (unsigned long long)res.rule_handle);
		}
	}
	(void)o;
	return v;
}

static int parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{"app", required_argument, NULL, 'a'}, {"output", no_argument, NULL, 'o'},
		{"json", no_argument, NULL, 'j'}, {"ifname", required_argument, NULL, 'i'},
		{"ifindex", required_argument, NULL, 'I'}, {"cpu", required_argument, NULL, 'c'},
		{"netns", required_argument, NULL, 'n'}, {"now", no_argument, NULL, 'N'},
		{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0},
	};
	int c;

	*o = (struct opts){.app = "fragnet", .ifindex = 1};
	while ((c = getopt_long(argc, argv, "a:oji:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'a': o->app = optarg; break;
		case 'o': o->output = true; break;
		case 'j': o->json = true; break;
		case 'i': o->ifname = optarg; break;
		case 'I': o->ifindex = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'c': o->cpu = (uint16_t)strtoul(optarg, NULL, 0); break;
		case 'n': o->netns = optarg; break;
		case 'N': o->now = true; break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); return -1;
		}
	}
	if (argc - optind != 2) {
		fprintf(stderr, "fragnet-eval: need RULESET and CAPTURE (see --help)\n");
		return -1;
	}
	o->ruleset = argv[optind];
	o->capture = argv[optind + 1];
	return 0;
}

static struct fn_nft_state *load_rules(const struct opts *o, bool *conntrack)
{
	char err[1024] = "";
	char *text = read_file(o->ruleset);
	if (!text) {
		fprintf(stderr, "fragnet-eval: %s: %s\n", o->ruleset, strerror(errno));
		return NULL;
	}
	struct fn_compiler *c = fn_compiler_new(o->netns, err, sizeof(err));
	if (!c) {
		fprintf(stderr, "fragnet-eval: compiler: %s\n", err);
		free(text);
		return NULL;
	}
	void *image = NULL;
	size_t len = 0;
	int rc = fn_compile_text(c, text, o->app, &image, &len, err, sizeof(err));
	fn_compiler_free(c);
	free(text);
	if (rc < 0) {
		fprintf(stderr, "fragnet-eval: %s: %s\n", o->ruleset, err);
		return NULL;
	}
	const struct fn_img_header *h = image;
	*conntrack = len >= sizeof(*h) && (h->flags & FN_IMG_F_CONNTRACK);
	struct fn_nft_state *st = fn_nft_state_new(image, len);
	if (!st)
		fprintf(stderr, "fragnet-eval: the compiled image was refused: %s\n", strerror(errno));
	free(image);
	return st;
}

int main(int argc, char **argv)
{
	static uint8_t whole[65536], buf[65536];
	struct opts o;
	char err[512] = "";
	bool conntrack = false;

	if (parse_args(argc, argv, &o) < 0)
		return 2;
	struct fn_nft_state *st = load_rules(&o, &conntrack);
	if (!st)
		return 1;
	struct fn_capture *cap = fn_capture_open(o.capture, err, sizeof(err));
	if (!cap) {
		fprintf(stderr, "fragnet-eval: %s: %s\n", o.capture, err);
		fn_nft_state_free(st);
		return 1;
	}
	struct replay_clock clock = {0};
	if (!o.now)
		fn_nft_state_set_clock(st, replay_mono, replay_real, &clock);
	struct fn_reasm *pre_defrag = fn_reasm_new(), *local_defrag = fn_reasm_new();
	struct printer pr = {.o = &o, .first_packet = true};
	char name[16] = {0};
	if (o.ifname)
		strncpy(name, o.ifname, sizeof(name) - 1);
	if (o.json) {
		printf("{\"ruleset\": ");
		json_str(o.ruleset);
		printf(", \"app\": ");
		json_str(o.app);
		printf(", \"path\": \"%s\", \"packets\": [", o.output ? "output" : "input");
	}

	struct fn_captured f;
	unsigned long no = 0;
	int rc;
	while ((rc = fn_capture_next(cap, &f, err, sizeof(err))) == 1) {
		no++;
		clock.ts_ns = f.ts_ns;
		packet_begin(&pr, no, f.ts_ns, f.orig_len);
		if (!f.ipv4) {
			packet_skip(&pr, no, "not IPv4");
			continue;
		}
		uint32_t len = ipv4_valid(f.l3, f.l3_caplen);
		if (!len) {
			packet_skip(&pr, no, f.l3_caplen < f.orig_len ? "truncated by the capture"
								       : "invalid IPv4 header");
			continue;
		}
		/* The packet is copied so the filter may rewrite it; the link
		 * header sits right before it, as in an mbuf. */
		memcpy(buf, f.l2, 14);
		memcpy(buf + 14, f.l3, len);
		struct fn_pkt pkt = {
			.l2 = f.has_l2 && !o.output ? buf : NULL,
			.l3 = buf + 14, .l3_len = len, .l4proto = f.l3[9],
			.pkttype = o.output ? FN_PKT_HOST : f.pkttype,
			.cpu = o.cpu,
		};
		if (o.output) {
			pkt.oif = o.ifindex;
			pkt.oifname = o.ifname ? name : NULL;
		} else {
			pkt.iif = o.ifindex;
			pkt.iifname = o.ifname ? name : NULL;
		}
		if (o.json)
			printf(", \"hooks\": [");
		enum fn_verdict v;
		static const enum fn_hook in_hooks[] = {FN_HOOK_PREROUTING, FN_HOOK_INPUT};
		static const enum fn_hook out_hooks[] = {FN_HOOK_OUTPUT, FN_HOOK_POSTROUTING};
		const enum fn_hook *hooks = o.output ? out_hooks : in_hooks;
		/* Fragments: with conntrack the kernel reassembles before the first
		 * hook; without, only before input (the output path of a
		 * capture has no second reassembly point). */
		bool pending = false;
		if (is_fragment(pkt.l3) && (conntrack || o.output)) {
			uint32_t n = fn_reasm_add(conntrack ? pre_defrag : local_defrag, pkt.l3,
						  pkt.l3_len, whole + 14);
			pending = n == 0;
			if (n) {
				memcpy(whole, buf, 14);
				pkt.l2 = pkt.l2 ? whole : NULL;
				pkt.l3 = whole + 14;
				pkt.l3_len = n;
			}
		}
		if (pending) {
			v = FN_ACCEPT;
		} else if (!o.output && is_fragment(pkt.l3)) {
			v = run_path(st, &o, no, &pkt, hooks, 1, o.json);
			if (v == FN_ACCEPT) {
				uint32_t n = fn_reasm_add(local_defrag, pkt.l3, pkt.l3_len, whole + 14);
				if (n) {
					memcpy(whole, buf, 14);
					struct fn_pkt d = pkt;
					d.l2 = pkt.l2 ? whole : NULL;
					d.l3 = whole + 14;
					d.l3_len = n;
					d.ct = 0;
					if (o.json)
						printf(", ");
					v = run_path(st, &o, no, &d, hooks + 1, 1, o.json);
				}
			}
		} else {
			v = run_path(st, &o, no, &pkt, hooks, 2, o.json);
		}
		if (o.json)
			printf("], \"verdict\": \"%s\"%s}", verdict_names[v],
			       pending ? ", \"reassembly\": \"waiting for more fragments\"" : "");
		else if (pending)
			printf("%lu - waiting - fragment held for reassembly\n", no);
	}
	if (o.json)
		printf("\n]}\n");
	if (rc < 0)
		fprintf(stderr, "fragnet-eval: %s: %s\n", o.capture, err);
	fn_reasm_free(pre_defrag);
	fn_reasm_free(local_defrag);
	fn_capture_close(cap);
	fn_nft_state_free(st);
	return rc < 0 ? 1 : 0;
}
