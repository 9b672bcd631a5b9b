/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The rules compiler on real nft text: loaded by libnftables into private
 * network namespaces (needs root), dumped, lowered and run. Every refused
 * construct is tested with its message.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compiler.h"
#include "nft_test.h"
#include "nft/nft.h"

static struct fn_compiler *cc;
static char err[1024];

static int setup(void **state)
{
	(void)state;
	cc = fn_compiler_new(NULL, err, sizeof(err));
	if (!cc) {
		fprintf(stderr, "compiler: %s (these tests need root)\n", err);
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	fn_compiler_free(cc);
	return 0;
}

static struct fn_nft_state *load_app(const char *text, const char *app)
{
	struct fn_nft_state *s;
	size_t len;
	void *img;

	if (fn_compile_text(cc, text, app, &img, &len, err, sizeof(err)))
		fail_msg("compile failed: %s", err);
	s = t_state(fn_nft_state_new(img, len));
	free(img);
	assert_non_null(s);
	return s;
}

static struct fn_nft_state *load(const char *text)
{
	return load_app(text, NULL);
}

/* Compile must fail with -ret and a message containing each of the given
 * fragments. */
static void refused(const char *text, int ret, const char *what, const char *where)
{
	size_t len;
	void *img = NULL;
	int r = fn_compile_text(cc, text, NULL, &img, &len, err, sizeof(err));

	if (r != ret)
		fail_msg("expected %d, got %d (%s) for: %s", ret, r, err, text);
	assert_null(img);
	if (!strstr(err, what))
		fail_msg("message \"%s\" lacks \"%s\"", err, what);
	if (where && !strstr(err, where))
		fail_msg("message \"%s\" lacks \"%s\"", err, where);
}

static enum fn_verdict in_udp(struct fn_nft_state *s, uint32_t src, uint16_t dport,
			      struct fn_nft_result *r)
{
	struct tpkt t;

	t_udp(&t, src, IP4(10, 0, 0, 1), 4000, dport, 8);
	t.pkt.iif = 2;
	t.pkt.iifname = "eth0";
	if (fn_nft_eval(s, FN_HOOK_PREROUTING, &t.pkt, r) != FN_ACCEPT)
		return r->verdict;
	return fn_nft_eval(s, FN_HOOK_INPUT, &t.pkt, r);
}

static void test_basic(void **state)
{
	struct fn_nft_state *s = load(
		"table inet fragnet {\n"
		"  chain input { type filter hook input priority 0; policy drop;\n"
		"    udp dport 53 counter accept\n"
		"    ip saddr 192.168.0.0/16 udp dport 5000-5010 accept\n"
		"  }\n"
		"}\n");
	struct fn_nft_result r;

	(void)state;
	assert_int_equal(in_udp(s, IP4(1, 2, 3, 4), 53, &r), FN_ACCEPT);
	assert_true(r.rule_handle > 0);
	assert_string_equal(r.chain, "input");
	assert_int_equal(t_rule_packets(s, r.rule_handle), 1);
	assert_int_equal(in_udp(s, IP4(1, 2, 3, 4), 54, &r), FN_DROP);
	assert_int_equal(r.rule_handle, 0);
	assert_int_equal(in_udp(s, IP4(192, 168, 9, 9), 5005, &r), FN_ACCEPT);
	assert_int_equal(in_udp(s, IP4(192, 169, 9, 9), 5005, &r), FN_DROP);
	assert_int_equal(in_udp(s, IP4(192, 168, 9, 9), 5011, &r), FN_DROP);
	t_free(s);
}

/* payload+cmp and meta+cmp pairs are fused when the register dies. */
static void test_fused_forms(void **state)
{
	struct fn_nft_prog prog;
	size_t len, i;
	unsigned fused = 0, plain = 0;
	void *img;

	(void)state;
	assert_int_equal(fn_compile_text(cc,
		"table ip fragnet { chain input { type filter hook input priority 0;\n"
		"  ip saddr 1.2.3.4 udp dport 53 drop\n"
		"  meta mark 7 accept\n"
		"}; }\n", NULL, &img, &len, err, sizeof(err)), 0);
	t_own(img, free);
	assert_int_equal(fn_nft_verify(img, len, &prog, err, sizeof(err)), 0);
	for (i = 0; i < prog.hdr->code.len;) {
		const struct fn_op *op = (const void *)(prog.code + i);

		fused += op->type == FN_OP_PAYLOAD_CMP || op->type == FN_OP_META_CMP;
		plain += op->type == FN_OP_PAYLOAD || op->type == FN_OP_META ||
			 op->type == FN_OP_CMP;
		i += op->size * 4u;
	}
	/* ip saddr, ip protocol, udp dport, meta mark */
	assert_int_equal(fused, 4);
	assert_int_equal(plain, 0);
}

static void test_table_choice(void **state)
{
	static const char *text =
		"table inet fragnet { chain i { type filter hook input priority 0; udp dport 1 drop; }; }\n"
		"table inet redis { chain i { type filter hook input priority 0; udp dport 2 drop; }; }\n"
		"table ip memcache { chain i { type filter hook input priority 0; udp dport 3 drop; }; }\n"
		"table ip6 other { chain i { type filter hook input priority 0; drop; }; }\n";
	static const struct { const char *app; uint16_t port; } cases[] = {
		{ "redis", 2 }, { "memcache", 3 }, { "other", 1 }, { NULL, 1 },
	};
	struct fn_nft_result r;
	unsigned i;

	(void)state;
	for (i = 0; i < 4; i++) {
		struct fn_nft_state *s = load_app(text, cases[i].app);
		uint16_t p;

		for (p = 1; p <= 3; p++)
			assert_int_equal(in_udp(s, IP4(1, 1, 1, 1), p, &r),
					 p == cases[i].port ? FN_DROP : FN_ACCEPT);
		t_free(s);
	}
	/* no table for the application: nothing to filter */
	{
		struct fn_nft_state *s = load("table ip6 x { chain i { type filter hook input priority 0; drop; }; }");

		assert_int_equal(in_udp(s, IP4(1, 1, 1, 1), 9, &r), FN_ACCEPT);
		t_free(s);
	}
	/* a dormant table filters nothing */
	{
		struct fn_nft_state *s = load("table inet fragnet { flags dormant; "
			"chain i { type filter hook input priority 0; drop; }; }");

		assert_int_equal(in_udp(s, IP4(1, 1, 1, 1), 9, &r), FN_ACCEPT);
		t_free(s);
	}
}

static void test_sets_and_maps(void **state)
{
	struct fn_nft_state *s = load(
		"table inet fragnet {\n"
		"  set nets { type ipv4_addr; flags interval;\n"
		"    elements = { 10.0.0.0/8, 172.16.0.0-172.16.0.9, 172.16.0.10-172.16.0.20 }; }\n"
		"  set pairs { type ipv4_addr . inet_service; elements = { 1.2.3.4 . 53, 1.2.3.5 . 54 }; }\n"
		"  set ranges { type ipv4_addr . inet_service; flags interval;\n"
		"    elements = { 5.5.5.0/24 . 100-200 }; }\n"
		"  map marks { type inet_service : mark; elements = { 80 : 3, 81 : 4 }; }\n"
		"  chain sub { udp dport 7 drop; }\n"
		"  chain input { type filter hook input priority 0; policy accept;\n"
		"    ip saddr @nets udp dport 1 drop\n"
		"    ip saddr . udp dport @pairs drop\n"
		"    ip saddr . udp dport @ranges drop\n"
		"    meta mark set udp dport map @marks\n"
		"    meta mark 4 drop\n"
		"    udp dport vmap { 2 : drop, 3 : accept, 7 : jump sub, 1000-2000 : drop }\n"
		"    ip saddr != { 9.9.9.9, 8.8.8.8 } udp dport 9 drop\n"
		"  }\n"
		"}\n");
	struct fn_nft_result r;

	(void)state;
	assert_int_equal(in_udp(s, IP4(10, 1, 1, 1), 1, &r), FN_DROP);
	assert_int_equal(in_udp(s, IP4(11, 0, 0, 0), 1, &r), FN_ACCEPT);
	assert_int_equal(in_udp(s, IP4(172, 16, 0, 10), 1, &r), FN_DROP);   /* adjacent */
	assert_int_equal(in_udp(s, IP4(172, 16, 0, 20), 1, &r), FN_DROP);
	assert_int_equal(in_udp(s, IP4(172, 16, 0, 21), 1, &r), FN_ACCEPT);
	assert_int_equal(in_udp(s, IP4(1, 2, 3, 4), 53, &r), FN_DROP);
	assert_int_equal(in_udp(s, IP4(1, 2, 3, 4), 54, &r), FN_ACCEPT);
	assert_int_equal(in_udp(s, IP4(5, 5, 5, 77), 150, &r), FN_DROP);
	assert_int_equal(in_udp(s, IP4(5, 5, 5, 77), 201, &r), FN_ACCEPT);
	assert_int_equal(in_udp(s, IP4(5, 5, 6, 77), 150, &r), FN_ACCEPT);
	assert_int_equal(in_udp(s, IP4(1, 1, 1, 1), 81, &r), FN_DROP);      /* mark 4 */
	assert_int_equal(in_udp(s, IP4(1, 1, 1, 1), 80, &r), FN_ACCEPT);
	assert_int_equal(in_udp(s, IP4(1, 1, 1, 1), 2, &r), FN_DROP);
	assert_int_equal(in_udp(s, IP4(1, 1, 1, 1), 7, &r), FN_DROP);
	assert_string_equal(r.chain, "sub");
	assert_int_equal(in_udp(s, IP4(1, 1, 1, 1), 1500, &r), FN_DROP);
	assert_int_equal(in_udp(s, IP4(1, 1, 1, 1), 2001, &r), FN_ACCEPT);
	assert_int_equal(in_udp(s, IP4(1, 1, 1, 1), 9, &r), FN_DROP);
	assert_int_equal(in_udp(s, IP4(9, 9, 9, 9), 9, &r), FN_ACCEPT);
	t_free(s);
}

/* Chains of equal priority: the later one runs first (kernel hook order). */
/* A big hash set: the kernel resizes it after the commit, and a dump taken
 * meanwhile can repeat or skip elements; the compiler must still lower
 * exactly the set that was loaded. */
static void test_big_set_dumped_whole(void **state)
{
	enum { N = 100000 };
	size_t cap = 256 + (size_t)N * 16, o = 0;
	char *text = t_own(malloc(cap), free);
	struct fn_nft_state *s;
	struct fn_nft_result r;

	(void)state;
	assert_non_null(text);
	o += snprintf(text + o, cap - o, "table inet fragnet {\n set deny { type ipv4_addr\n elements = { ");
	for (unsigned i = 1; i <= N; i++)
		o += snprintf(text + o, cap - o, "%s10.%u.%u.%u", i > 1 ? ", " : "",
			      i >> 16 & 255, i >> 8 & 255, i & 255);
	snprintf(text + o, cap - o, " }\n }\n chain input { type filter hook input priority 0\n"
		 " ip saddr @deny drop\n }\n}\n");
	s = load(text);
	t_free(text);
	/* every element is there (a sample across the whole range) ... */
	for (unsigned i = 1; i <= N; i += 97)
		assert_int_equal(in_udp(s, IP4(10, i >> 16 & 255, i >> 8 & 255, i & 255), 53, &r),
				 FN_DROP);
	assert_int_equal(in_udp(s, IP4(10, N >> 16 & 255, N >> 8 & 255, N & 255), 53, &r), FN_DROP);
	/* ... and nothing else */
	assert_int_equal(in_udp(s, IP4(10, 2, 0, 0), 53, &r), FN_ACCEPT);
	assert_int_equal(in_udp(s, IP4(10, 0, 0, 0), 53, &r), FN_ACCEPT);
	t_free(s);
}

static void test_equal_priority(void **state)
{
	struct fn_nft_state *s = load(
		"table inet fragnet {\n"
		"  chain a { type filter hook input priority 0; udp dport 9 counter; }\n"
		"  chain b { type filter hook input priority 0; udp dport 9 counter drop; }\n"
		"}\n");
	struct fn_nft_result r;

	(void)state;
	assert_int_equal(in_udp(s, IP4(1, 1, 1, 1), 9, &r), FN_DROP);
	assert_string_equal(r.chain, "b");
	assert_int_equal(t_rule_packets(s, r.rule_handle), 1);
	t_free(s);
}

struct named {
	uint64_t packets;
};

static void named_cb(void *arg, const char *name, uint64_t packets, uint64_t bytes)
{
	(void)bytes;
	if (!strcmp(name, "hits"))
		((struct named *)arg)->packets = packets;
}

static void test_stateful(void **state)
{
	struct fn_nft_state *s = load(
		"table inet fragnet {\n"
		"  counter hits { packets 10 bytes 1000 }\n"
		"  quota q { until 80 bytes }\n"
		"  chain input { type filter hook input priority 0; policy drop;\n"
		"    udp dport 1 counter packets 5 bytes 500 accept\n"
		"    udp dport 2 counter name hits accept\n"
		"    udp dport 3 quota name q accept\n"
		"    udp dport 4 limit rate 1/minute burst 2 packets accept\n"
		"    udp dport 5 log prefix \"five \" accept\n"
		"  }\n"
		"}\n");
	struct fn_nft_result r;
	struct named n = { 0 };

	(void)state;
	assert_int_equal(in_udp(s, IP4(1, 1, 1, 1), 1, &r), FN_ACCEPT);
	assert_int_equal(t_rule_packets(s, r.rule_handle), 6);
	in_udp(s, IP4(1, 1, 1, 1), 2, &r);
	fn_nft_named_counters(s, named_cb, &n);
	assert_int_equal(n.packets, 11);
	/* 36-byte packets: 36, 72 within 80; 108 over */
	assert_int_equal(in_udp(s, IP4(1, 1, 1, 1), 3, &r), FN_ACCEPT);
	assert_int_equal(in_udp(s, IP4(1, 1, 1, 1), 3, &r), FN_ACCEPT);
	assert_int_equal(in_udp(s, IP4(1, 1, 1, 1), 3, &r), FN_DROP);
	assert_int_equal(in_udp(s, IP4(1, 1, 1, 1), 4, &r), FN_ACCEPT);
	assert_int_equal(in_udp(s, IP4(1, 1, 1, 1), 4, &r), FN_ACCEPT);
	assert_int_equal(in_udp(s, IP4(1, 1, 1, 1), 4, &r), FN_DROP);
	assert_int_equal(in_udp(s, IP4(1, 1, 1, 1), 5, &r), FN_ACCEPT);
	t_free(s);
}

/* Object maps choose the named quota or limit per packet (a key the map
 * lacks ends the rule); @ih reads the UDP payload, as a match and a key. */
static void test_object_maps_and_inner(void **state)
{
	struct fn_nft_state *s = load(
		"table inet fragnet {\n"
		"  quota q1 { until 80 bytes }\n"
		"  quota q2 { until 40 bytes }\n"
		"  limit l1 { rate 1/minute burst 1 packets }\n"
		"  chain input { type filter hook input priority 0; policy drop;\n"
		"    udp dport { 1, 2 } quota name udp dport map { 1 : \"q1\", 2 : \"q2\" } accept\n"
		"    udp dport 3 limit name ip saddr map { 1.1.1.0/24 : \"l1\" } accept\n"
		"    udp dport 4 @ih,0,16 0x0108 accept\n"
		"    udp dport 5 @ih,0,16 { 0x0109, 0x0108 } accept\n"
		"    udp dport 6 @ih,0,16 0x0109 accept\n"
		"  }\n"
		"}\n");
	struct fn_nft_result r;

	(void)state;
	/* 36-byte packets: q1 holds two, q2 one */
	assert_int_equal(in_udp(s, IP4(1, 1, 1, 1), 1, &r), FN_ACCEPT);
	assert_int_equal(in_udp(s, IP4(1, 1, 1, 1), 2, &r), FN_ACCEPT);
	assert_int_equal(in_udp(s, IP4(1, 1, 1, 1), 2, &r), FN_DROP);
	assert_int_equal(in_udp(s, IP4(1, 1, 1, 1), 1, &r), FN_ACCEPT);
	assert_int_equal(in_udp(s, IP4(1, 1, 1, 1), 1, &r), FN_DROP);
	/* l1 for 1.1.1.0/24: one packet; 2.2.2.2 has no object */
	assert_int_equal(in_udp(s, IP4(1, 1, 1, 9), 3, &r), FN_ACCEPT);
	assert_int_equal(in_udp(s, IP4(1, 1, 1, 1), 3, &r), FN_DROP);
	assert_int_equal(in_udp(s, IP4(2, 2, 2, 2), 3, &r), FN_DROP);
	/* the payload starts 1, 8 */
	assert_int_equal(in_udp(s, IP4(1, 1, 1, 1), 4, &r), FN_ACCEPT);
	assert_int_equal(in_udp(s, IP4(1, 1, 1, 1), 5, &r), FN_ACCEPT);
	assert_int_equal(in_udp(s, IP4(1, 1, 1, 1), 6, &r), FN_DROP);
	t_free(s);
}

/* Meters and add/update compile to dynset ops: a limit per source, a set
 * filled from the packet path, its size enforced and counted. */
static void test_dynamic_sets(void **state)
{
	struct fn_nft_state *s = load(
		"table inet fragnet {\n"
		"  set seen { type ipv4_addr; size 2; flags dynamic; }\n"
		"  chain input { type filter hook input priority 0; policy drop;\n"
		"    udp dport 1 meter m { ip saddr limit rate 1/minute burst 2 packets } accept\n"
		"    udp dport 2 add @seen { ip saddr } accept\n"
		"    udp dport 3 ip saddr @seen accept\n"
		"  }\n"
		"}\n");
	struct fn_nft_result r;

	(void)state;
	/* two per source, then drop; another source has its own bucket */
	assert_int_equal(in_udp(s, IP4(1, 1, 1, 1), 1, &r), FN_ACCEPT);
	assert_int_equal(in_udp(s, IP4(1, 1, 1, 1), 1, &r), FN_ACCEPT);
	assert_int_equal(in_udp(s, IP4(1, 1, 1, 1), 1, &r), FN_DROP);
	assert_int_equal(in_udp(s, IP4(1, 1, 1, 2), 1, &r), FN_ACCEPT);
	/* two sources fit in seen, the third is refused and counted */
	assert_int_equal(in_udp(s, IP4(1, 1, 1, 3), 3, &r), FN_DROP);
	assert_int_equal(in_udp(s, IP4(1, 1, 1, 3), 2, &r), FN_ACCEPT);
	assert_int_equal(in_udp(s, IP4(1, 1, 1, 4), 2, &r), FN_ACCEPT);
	assert_int_equal(in_udp(s, IP4(1, 1, 1, 5), 2, &r), FN_DROP);
	assert_int_equal(fn_nft_set_full(s), 1);
	assert_int_equal(in_udp(s, IP4(1, 1, 1, 3), 3, &r), FN_ACCEPT);
	assert_int_equal(in_udp(s, IP4(1, 1, 1, 5), 3, &r), FN_DROP);
	t_free(s);
}

static enum fn_verdict from_port(struct fn_nft_state *s, uint32_t src, uint16_t sport,
				 uint16_t dport)
{
	struct fn_nft_result r;
	struct tpkt t;

	t_udp(&t, src, IP4(10, 0, 0, 1), sport, dport, 8);
	t.pkt.iif = 2;
	t.pkt.iifname = "eth0";
	if (fn_nft_eval(s, FN_HOOK_PREROUTING, &t.pkt, &r) != FN_ACCEPT)
		return r.verdict;
	return fn_nft_eval(s, FN_HOOK_INPUT, &t.pkt, &r);
}

/* ct count in set elements: each source its own list of connections. A
 * flow dropped before conntrack confirmed it leaves its list at the next
 * walk of that source's list. */
static void test_dynamic_ct_count(void **state)
{
	struct fn_nft_state *s = load(
		"table inet fragnet {\n"
		"  set per_src { type ipv4_addr; flags dynamic; }\n"
		"  chain input { type filter hook input priority 0; policy accept;\n"
		"    udp dport 53 add @per_src { ip saddr ct count over 2 } drop\n"
		"    udp dport 54 meter m size 8 { ip saddr ct count 1 } accept\n"
		"    udp dport 54 drop\n"
		"  }\n"
		"}\n");

	(void)state;
	assert_int_equal(from_port(s, IP4(1, 1, 1, 1), 1, 53), FN_ACCEPT);
	assert_int_equal(from_port(s, IP4(1, 1, 1, 1), 2, 53), FN_ACCEPT);
	assert_int_equal(from_port(s, IP4(1, 1, 1, 1), 1, 53), FN_ACCEPT);
	assert_int_equal(from_port(s, IP4(1, 1, 1, 1), 3, 53), FN_DROP);
	assert_int_equal(from_port(s, IP4(1, 1, 1, 2), 3, 53), FN_ACCEPT);
	/* 3 left, 4 came: still three */
	assert_int_equal(from_port(s, IP4(1, 1, 1, 1), 4, 53), FN_DROP);
	/* the meter: one connection per source */
	assert_int_equal(from_port(s, IP4(1, 1, 1, 1), 7, 54), FN_ACCEPT);
	assert_int_equal(from_port(s, IP4(1, 1, 1, 1), 8, 54), FN_DROP);
	assert_int_equal(from_port(s, IP4(1, 1, 1, 3), 8, 54), FN_ACCEPT);
	assert_int_equal(fn_nft_connlimit_full(s), 0);
	t_free(s);
}

static void test_conntrack(void **state)
{
	struct fn_nft_state *s = load(
		"table inet fragnet {\n"
		"  chain input { type filter hook input priority 0; policy drop;\n"
		"    ct state established,related accept\n"
		"    ct state new udp dport 53 accept\n"
		"  }\n"
		"  chain output { type filter hook output priority 0; policy drop;\n"
		"    ct state new,established accept\n"
		"  }\n"
		"}\n");
	struct fn_nft_result r;
	struct tpkt t;

	(void)state;
	assert_int_equal(in_udp(s, IP4(1, 1, 1, 1), 54, &r), FN_DROP);
	assert_int_equal(in_udp(s, IP4(1, 1, 1, 1), 53, &r), FN_ACCEPT);
	t_udp(&t, IP4(10, 0, 0, 1), IP4(1, 1, 1, 1), 53, 4000, 8);
	assert_int_equal(fn_nft_eval(s, FN_HOOK_OUTPUT, &t.pkt, &r), FN_ACCEPT);
	fn_nft_eval(s, FN_HOOK_POSTROUTING, &t.pkt, &r);
	/* a reply from a port we never asked: still new, dropped */
	assert_int_equal(in_udp(s, IP4(1, 1, 1, 1), 54, &r), FN_DROP);
	/* our flow to 1.1.1.1:4000 from 53: its replies are established */
	{
		struct tpkt back;

		t_udp(&back, IP4(1, 1, 1, 1), IP4(10, 0, 0, 1), 4000, 53, 8);
		fn_nft_eval(s, FN_HOOK_PREROUTING, &back.pkt, &r);
		assert_int_equal(fn_nft_eval(s, FN_HOOK_INPUT, &back.pkt, &r), FN_ACCEPT);
	}
	t_free(s);
}

static void test_reject_and_rewrite(void **state)
{
	struct fn_nft_state *s = load(
		"table inet fragnet {\n"
		"  chain input { type filter hook input priority 0;\n"
		"    udp dport 1 reject\n"
		"    udp dport 2 reject with icmp type admin-prohibited\n"
		"    udp dport 3 reject with icmpx type host-unreachable\n"
		"    udp dport 4 reject with icmp type net-prohibited\n"
		"    udp dport 5 reject with icmp type host-prohibited\n"
		"  }\n"
		"  chain output { type filter hook output priority 0;\n"
		"    udp sport 53 udp sport set 5353\n"
		"    meta mark set 0x10\n"
		"  }\n"
		"}\n");
	struct fn_nft_result r;
	struct tpkt t;

	(void)state;
	assert_int_equal(in_udp(s, IP4(1, 1, 1, 1), 1, &r), FN_REJECT_PORT_UNREACH);
	assert_int_equal(in_udp(s, IP4(1, 1, 1, 1), 2, &r), FN_REJECT_ADMIN_PROHIB);
	assert_int_equal(in_udp(s, IP4(1, 1, 1, 1), 3, &r), FN_REJECT_HOST_UNREACH);
	assert_int_equal(in_udp(s, IP4(1, 1, 1, 1), 4, &r), FN_REJECT_NET_PROHIB);
	assert_int_equal(in_udp(s, IP4(1, 1, 1, 1), 5, &r), FN_REJECT_HOST_PROHIB);
	t_udp(&t, IP4(10, 0, 0, 1), IP4(1, 1, 1, 1), 53, 4000, 8);
	assert_int_equal(fn_nft_eval(s, FN_HOOK_OUTPUT, &t.pkt, &r), FN_ACCEPT);
	assert_int_equal(t.buf[20] << 8 | t.buf[21], 5353);
	assert_true(t_csums_ok(&t));
	assert_int_equal(t.pkt.mark, 0x10);
	t_free(s);
}

#define TBL "table inet fragnet { chain input { type filter hook input priority 0; "
#define WHERE "table inet fragnet, chain input, rule handle "

static void test_refusals(void **state)
{
	(void)state;
	refused(TBL "numgen random mod 2 0 drop; }; }", -EOPNOTSUPP, "numgen", WHERE);
	refused(TBL "jhash ip saddr mod 2 0 drop; }; }", -EOPNOTSUPP, "(hash): hash expressions", WHERE);
	refused(TBL "meta random 5 drop; }; }", -EOPNOTSUPP, "meta random", WHERE);
	refused(TBL "fib daddr type local accept; }; }", -EOPNOTSUPP, "(fib): fib lookups", WHERE);
	refused(TBL "tcp dport 1 reject with tcp reset; }; }", -EOPNOTSUPP, "tcp reset", WHERE);
	refused(TBL "tcp option maxseg size 1400 drop; }; }", -EOPNOTSUPP, "(exthdr)", WHERE);
	refused(TBL "ct zone 1 drop; }; }", -EOPNOTSUPP, "(ct): ct zone is not supported (one zone", WHERE);
	refused(TBL "ct helper \"ftp\" drop; }; }", -EOPNOTSUPP, "(ct): ct helper is not supported", WHERE);
	refused(TBL "ct event set new; }; }", -EOPNOTSUPP, "(ct): ct event set is not supported", WHERE);
	refused("table inet fragnet { set s { typeof ip saddr; flags dynamic; }; "
		"chain input { type filter hook input priority 0; "
		"add @s { ip saddr limit rate 1/second ct count over 2 } drop; }; }", -EOPNOTSUPP,
		"only one limit or one ct count", WHERE);
	refused(TBL "meta priority set 1; }; }", -EOPNOTSUPP, "setting meta key", WHERE);
	refused("table inet fragnet { chain output { type filter hook output priority 0; "
		"meta skuid 0 drop; }; }", -EOPNOTSUPP, "meta skuid", "chain output, rule handle");
	refused("table inet fragnet { set d { type ipv4_addr; flags dynamic; }\n"
		"chain input { type filter hook input priority 0; delete @d { ip saddr }; }; }",
		-EOPNOTSUPP, "(dynset): delete @set from the packet path", WHERE);
	refused("table inet fragnet { set d { type ipv4_addr; flags dynamic; }\n"
		"chain input { type filter hook input priority 0; "
		"update @d { ip saddr counter }; }; }",
		-EOPNOTSUPP, "per-element counter in add/update @set", WHERE);
	refused("table inet fragnet { set d { type ipv4_addr; flags dynamic; "
		"elements = { 1.2.3.4 }; }\n"
		"chain input { type filter hook input priority 0; add @d { ip saddr }; }; }",
		-EOPNOTSUPP, "set d: elements in a dynamic set", WHERE);
	refused("table inet fragnet { set d { type ipv4_addr; flags dynamic; size 2000000; }\n"
		"chain input { type filter hook input priority 0; add @d { ip saddr }; }; }",
		-EOPNOTSUPP, "set d: size 2000000", WHERE);
	refused("table inet fragnet { set t { type ipv4_addr; timeout 1m; }\n"
		"chain input { type filter hook input priority 0; ip saddr @t drop; }; }",
		-EOPNOTSUPP, "set t: timeouts are only supported in dynamic sets", WHERE);
	refused("table inet fragnet { set c { type ipv4_addr; counter; elements = { 1.2.3.4 }; }\n"
		"chain input { type filter hook input priority 0; ip saddr @c drop; }; }",
		-EOPNOTSUPP, "set c: per-element expressions", WHERE);
	refused("table inet fragnet { ct helper ftp { type \"ftp\" protocol tcp; }\n"
		"chain input { type filter hook input priority 0; "
		"ct helper set tcp dport map { 21 : \"ftp\" }; }; }",
		-EOPNOTSUPP, "maps of objects of type 3 are not supported", WHERE);
	refused(TBL "@ih,0,8 set 1; }; }", -EOPNOTSUPP, "rewriting @ih", WHERE);
	refused(TBL "udp dport 1 reject with icmp frag-needed; }; }", -EOPNOTSUPP,
		"reject with ICMP code 4", WHERE);
	refused("table inet fragnet { ct helper ftp { type \"ftp\" protocol tcp; }\n"
		"chain input { type filter hook input priority 0; ct helper set \"ftp\"; }; }",
		-EOPNOTSUPP, "object ftp of type 3", WHERE);
	refused("table inet fragnet { chain p { type nat hook prerouting priority 0; }; }",
		-EOPNOTSUPP, "chain type nat", "table inet fragnet, chain p");
	refused("table inet fragnet { chain p { type filter hook ingress device lo priority 0; }; }",
		-EOPNOTSUPP, "ingress", "table inet fragnet, chain p");
	refused("table inet fragnet { chain r { type filter hook prerouting priority -300; notrack; }; }",
		-EOPNOTSUPP, "(notrack)", "table inet fragnet, chain r, rule handle");
}

/* A refused or unparsable ruleset leaves the previous one in place. */
static void test_failure_changes_nothing(void **state)
{
	struct fn_nft_result r;
	struct fn_nft_state *s = load(TBL "udp dport 53 drop; }; }");
	size_t len;
	void *img;

	(void)state;
	t_free(s);
	refused(TBL "meta random 5 drop; }; }", -EOPNOTSUPP, "meta random", NULL);
	refused(TBL "udp dport 53 frobnicate; }; }", -EINVAL, "nft: ", "syntax error");
	assert_int_equal(fn_compile_current(cc, NULL, &img, &len, err, sizeof(err)), 0);
	s = t_state(fn_nft_state_new(img, len));
	free(img);
	assert_non_null(s);
	assert_int_equal(in_udp(s, IP4(1, 1, 1, 1), 53, &r), FN_DROP);
	assert_int_equal(in_udp(s, IP4(1, 1, 1, 1), 54, &r), FN_ACCEPT);
	t_free(s);
}

/* A named namespace: what stock nft puts there is what we compile. The
 * fixture makes the namespace and removes it by name, whatever happens. */
static char netns[32];

static int netns_setup(void **state)
{
	char cmd[64];

	snprintf(netns, sizeof(netns), "fnbct%d", (int)getpid());
	snprintf(cmd, sizeof(cmd), "ip netns add %s", netns);
	return system(cmd) == 0 ? t_setup(state) : -1;
}

static int netns_teardown(void **state)
{
	int rc = t_teardown(state);   /* the compiler lets go of it first */
	char cmd[64];

	snprintf(cmd, sizeof(cmd), "ip netns del %s", netns);
	if (system(cmd) != 0)
		rc = -1;
	return rc;
}

static void compiler_free(void *c)
{
	fn_compiler_free(c);
}

static void test_named_namespace(void **state)
{
	struct fn_compiler *named;
	struct fn_nft_result r;
	struct fn_nft_state *s;
	size_t len;
	void *img;
	char cmd[512];

	(void)state;
	named = t_own(fn_compiler_new(netns, err, sizeof(err)), compiler_free);
	if (!named)
		fail_msg("named namespace: %s", err);
	snprintf(cmd, sizeof(cmd), "ip netns exec %s nft 'add table ip fragnet; "
		 "add chain ip fragnet in { type filter hook input priority 0; }; "
		 "add rule ip fragnet in udp dport 77 drop'", netns);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(fn_compile_current(named, NULL, &img, &len, err, sizeof(err)), 0);
	s = t_state(fn_nft_state_new(img, len));
	free(img);
	assert_non_null(s);
	assert_int_equal(in_udp(s, IP4(1, 1, 1, 1), 77, &r), FN_DROP);
	assert_int_equal(in_udp(s, IP4(1, 1, 1, 1), 78, &r), FN_ACCEPT);
	assert_null(fn_compiler_new("fnb-does-not-exist", err, sizeof(err)));
	assert_int_equal(errno, ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		T_TEST(test_basic),
		T_TEST(test_fused_forms),
		T_TEST(test_table_choice),
		T_TEST(test_sets_and_maps),
		T_TEST(test_big_set_dumped_whole),
		T_TEST(test_equal_priority),
		T_TEST(test_stateful),
		T_TEST(test_dynamic_sets),
		T_TEST(test_object_maps_and_inner),
		T_TEST(test_dynamic_ct_count),
		T_TEST(test_conntrack),
		T_TEST(test_reject_and_rewrite),
		T_TEST(test_refusals),
		T_TEST(test_failure_changes_nothing),
		cmocka_unit_test_setup_teardown(test_named_namespace, netns_setup, netns_teardown),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
