/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The lowering on synthetic dumps (no kernel involved): every expression,
 * attribute and set feature the interpreter cannot reproduce is refused with
 * a message naming table, chain, rule handle and expression — including
 * those this kernel could not even load (no module).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include "lower.h"
#include "nft_test.h"

struct fake {
	struct fn_dump d;
	struct nftnl_chain *chains[2];
	struct nftnl_rule *rules[1];
	struct nftnl_set *sets[1];
	struct nftnl_rule *rule;
};

static void fake_free(void *p)
{
	struct fake *f = p;

	nftnl_table_free(f->d.table);
	nftnl_chain_free(f->chains[0]);
	nftnl_chain_free(f->chains[1]);
	nftnl_rule_free(f->rule);
	if (f->sets[0])
		nftnl_set_free(f->sets[0]);
	free(f);
}

/* A dump of one table, a base chain of `type` on `hook` plus a regular
 * chain, and one empty rule (handle 7); owned by the test. */
static struct fake *fake_new(const char *type, uint32_t hook)
{
	struct fake *f = t_own(calloc(1, sizeof(*f)), fake_free);

	assert_non_null(f);
	f->d.table = nftnl_table_alloc();
	nftnl_table_set_str(f->d.table, NFTNL_TABLE_NAME, "fragnet");
	nftnl_table_set_u32(f->d.table, NFTNL_TABLE_FAMILY, NFPROTO_INET);
	f->chains[0] = nftnl_chain_alloc();
	nftnl_chain_set_str(f->chains[0], NFTNL_CHAIN_NAME, "input");
	nftnl_chain_set_str(f->chains[0], NFTNL_CHAIN_TABLE, "fragnet");
	nftnl_chain_set_u32(f->chains[0], NFTNL_CHAIN_HOOKNUM, hook);
	nftnl_chain_set_s32(f->chains[0], NFTNL_CHAIN_PRIO, 0);
	nftnl_chain_set_str(f->chains[0], NFTNL_CHAIN_TYPE, type);
	nftnl_chain_set_u32(f->chains[0], NFTNL_CHAIN_POLICY, NF_ACCEPT);
	nftnl_chain_set_u64(f->chains[0], NFTNL_CHAIN_HANDLE, 1);
	f->chains[1] = nftnl_chain_alloc();
	nftnl_chain_set_str(f->chains[1], NFTNL_CHAIN_NAME, "sub");
	nftnl_chain_set_str(f->chains[1], NFTNL_CHAIN_TABLE, "fragnet");
	nftnl_chain_set_u64(f->chains[1], NFTNL_CHAIN_HANDLE, 2);
	f->d.chains = f->chains;
	f->d.n_chains = 2;
	f->rule = nftnl_rule_alloc();
	nftnl_rule_set_str(f->rule, NFTNL_RULE_TABLE, "fragnet");
	nftnl_rule_set_str(f->rule, NFTNL_RULE_CHAIN, "input");
	nftnl_rule_set_u64(f->rule, NFTNL_RULE_HANDLE, 7);
	f->rules[0] = f->rule;
	f->d.rules = f->rules;
	f->d.n_rules = 1;
	return f;
}

static struct nftnl_expr *add(struct fake *f, const char *name)
{
	struct nftnl_expr *e = nftnl_expr_alloc(name);

	assert_non_null(e);
	nftnl_rule_add_expr(f->rule, e);
	return e;
}

/* Lowering must fail with ret and a message with `what`; `where` prefix. */
static void expect(struct fake *f, int ret, const char *where, const char *what)
{
	char err[512];
	size_t len;
	void *img = NULL;
	int r = fn_lower(&f->d, true, &img, &len, err, sizeof(err));

	if (r != ret)
		fail_msg("expected %d got %d: %s", ret, r, err);
	assert_null(img);
	if (!strstr(err, where) || !strstr(err, what))
		fail_msg("message \"%s\" lacks \"%s\" / \"%s\"", err, where, what);
	t_free(f);
}

#define AT(n, name) "table inet fragnet, chain input, rule handle 7, expression " #n " (" name ")"

static void test_refused_expression_types(void **state)
{
	static const struct { const char *name, *why; } cases[] = {
		{ "nat", "NAT" }, { "masq", "masquerade" }, { "redir", "redirect" },
		{ "tproxy", "tproxy" }, { "queue", "queue to userspace" },
		{ "notrack", "notrack" }, { "fib", "fib lookups" },
		{ "rt", "routing expressions" }, { "numgen", "numgen" },
		{ "hash", "hash expressions" }, { "socket", "socket expressions" },
		{ "osf", "OS fingerprinting" }, { "exthdr", "extension header" },
		{ "fwd", "fwd" }, { "dup", "dup" },
		{ "flow_offload", "flow offload" }, { "synproxy", "synproxy" },
		{ "tunnel", "tunnel" }, { "xfrm", "IPsec" }, { "match", "iptables matches" },
		{ "target", "iptables targets" }, { "last", "last is not supported" },
	};
	unsigned i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fake *f;
		char where[128];

		f = fake_new("filter", NF_INET_LOCAL_IN);
		add(f, "counter");
		add(f, cases[i].name);
		snprintf(where, sizeof(where), AT(2, "%s"), cases[i].name);
		expect(f, -EOPNOTSUPP, where, cases[i].why);
	}
}

static void test_refused_attributes(void **state)
{
	struct nftnl_expr *e;
	struct fake *f;

	(void)state;
	f = fake_new("filter", NF_INET_LOCAL_IN);
	e = add(f, "payload");
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, 4);   /* tunnel header */
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, 2);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
	expect(f, -EOPNOTSUPP, AT(1, "payload"), "payload base 4");

	f = fake_new("filter", NF_INET_LOCAL_IN);
	e = add(f, "immediate");
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_1);
	nftnl_expr_set(e, NFTNL_EXPR_IMM_DATA, "\x01\x02", 2);
	e = add(f, "payload");
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, NFT_PAYLOAD_LL_HEADER);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, 2);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_SREG, NFT_REG_1);
	expect(f, -EOPNOTSUPP, AT(2, "payload"), "link-layer header");

	f = fake_new("filter", NF_INET_LOCAL_IN);
	e = add(f, "meta");
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, NFT_META_L4PROTO);
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, 5); /* overlaps the verdict */
	expect(f, -EOPNOTSUPP, AT(1, "meta"), "register 5");

	f = fake_new("filter", NF_INET_LOCAL_IN);
	e = add(f, "connlimit");
	nftnl_expr_set_u32(e, NFTNL_EXPR_CONNLIMIT_COUNT, 2);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CONNLIMIT_FLAGS, 2);
	expect(f, -EOPNOTSUPP, AT(1, "connlimit"), "ct count flags 0x2");

	f = fake_new("filter", NF_INET_LOCAL_IN);
	e = add(f, "meta");
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, NFT_META_CGROUP);
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, NFT_REG_1);
	expect(f, -EOPNOTSUPP, AT(1, "meta"), "meta cgroup");

	f = fake_new("filter", NF_INET_LOCAL_IN);
	e = add(f, "meta");
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, NFT_META_L4PROTO);
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, NFT_REG_1);
	e = add(f, "byteorder");
	nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_DREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_OP, NFT_BYTEORDER_HTON);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_LEN, 8);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_SIZE, 4);
	expect(f, -EOPNOTSUPP, AT(2, "byteorder"), "byteorder of 8 bytes in 4-byte units");

	f = fake_new("filter", NF_INET_LOCAL_IN);
	e = add(f, "meta");
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, NFT_META_MARK);
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, NFT_REG_1);
	e = add(f, "bitwise");
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, 4);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_OP, NFT_BITWISE_LSHIFT);
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_DATA, "\0\0\0\0", 4);
	expect(f, -EOPNOTSUPP, AT(2, "bitwise"), "shift by 0");

	f = fake_new("filter", NF_INET_LOCAL_IN);
	e = add(f, "immediate");
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, NF_QUEUE);
	expect(f, -EOPNOTSUPP, AT(1, "immediate"), "queue verdicts");

	f = fake_new("filter", NF_INET_LOCAL_IN);
	e = add(f, "immediate");
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, (uint32_t)NFT_JUMP);
	nftnl_expr_set_str(e, NFTNL_EXPR_IMM_CHAIN, "input");
	expect(f, -EOPNOTSUPP, AT(1, "immediate"), "jump to base chain input");

	f = fake_new("filter", NF_INET_LOCAL_IN);
	e = add(f, "reject");
	nftnl_expr_set_u32(e, NFTNL_EXPR_REJECT_TYPE, NFT_REJECT_ICMP_UNREACH);
	nftnl_expr_set_u8(e, NFTNL_EXPR_REJECT_CODE, 4);
	expect(f, -EOPNOTSUPP, AT(1, "reject"), "ICMP code 4");

	f = fake_new("filter", NF_INET_LOCAL_IN);
	e = add(f, "objref");
	nftnl_expr_set_u32(e, NFTNL_EXPR_OBJREF_IMM_TYPE, NFT_OBJECT_COUNTER);
	nftnl_expr_set_str(e, NFTNL_EXPR_OBJREF_SET_NAME, "m");
	expect(f, -EINVAL, AT(1, "objref"), "unknown set m");

	f = fake_new("filter", NF_INET_LOCAL_IN);
	e = add(f, "limit");
	nftnl_expr_set_u64(e, NFTNL_EXPR_LIMIT_RATE, 1);
	nftnl_expr_set_u64(e, NFTNL_EXPR_LIMIT_UNIT, 1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LIMIT_FLAGS, 2);
	expect(f, -EOPNOTSUPP, AT(1, "limit"), "limit type 0 flags 0x2");
}

static void test_refused_chains(void **state)
{
	struct fake *f;

	(void)state;
	f = fake_new("route", NF_INET_LOCAL_OUT);
	expect(f, -EOPNOTSUPP, "table inet fragnet, chain input", "chain type route");
	f = fake_new("filter", 5 /* NF_INET_INGRESS */);
	expect(f, -EOPNOTSUPP, "table inet fragnet, chain input", "ingress");
	f = fake_new("filter", NF_INET_LOCAL_IN);
	nftnl_rule_set_u32(f->rule, NFTNL_RULE_COMPAT_PROTO, 17);
	expect(f, -EOPNOTSUPP, "rule handle 7", "iptables-nft compat");
}

/* A set whose elements carry timeouts or expressions is refused where a
 * rule uses it. */
static void test_refused_sets(void **state)
{
	int which;

	(void)state;
	for (which = 0; which < 3; which++) {
		struct nftnl_set_elem *el;
		struct nftnl_expr *e;
		struct fake *f;

		f = fake_new("filter", NF_INET_LOCAL_IN);
		f->sets[0] = nftnl_set_alloc();
		nftnl_set_set_str(f->sets[0], NFTNL_SET_NAME, "s");
		nftnl_set_set_u32(f->sets[0], NFTNL_SET_KEY_LEN, 4);
		nftnl_set_set_u32(f->sets[0], NFTNL_SET_FLAGS,
				  which == 0 ? NFT_SET_TIMEOUT : which == 1 ? NFT_SET_OBJECT : 0);
		el = nftnl_set_elem_alloc();
		nftnl_set_elem_set(el, NFTNL_SET_ELEM_KEY, "\1\2\3\4", 4);
		if (which == 2)
			nftnl_set_elem_set_u64(el, NFTNL_SET_ELEM_EXPIRATION, 1000);
		nftnl_set_elem_add(f->sets[0], el);
		f->d.sets = f->sets;
		f->d.n_sets = 1;
		e = add(f, "payload");
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, NFT_PAYLOAD_NETWORK_HEADER);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, 12);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, 4);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
		e = add(f, "lookup");
		nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, "s");
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1);
		expect(f, -EOPNOTSUPP, AT(2, "lookup"),
		       which == 0 ? "set s: timeouts are only supported in dynamic sets" :
		       which == 1 ? "set s: maps of objects of type 0 are not supported" :
		       "set s: elements with timeouts");
	}
}

/* What does lower, from a synthetic dump: a rule that counts, after
 * `meta nfproto P` unless P is 0; the image size. */
static size_t lower_nfproto_rule(int nfproto, struct fn_nft_state **s)
{
	struct nftnl_expr *e;
	struct fake *f;
	char err[256];
	uint8_t p = (uint8_t)nfproto;
	size_t len;
	void *img;

	f = fake_new("filter", NF_INET_LOCAL_IN);
	if (nfproto) {
		e = add(f, "meta");
		nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, NFT_META_NFPROTO);
		nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, NFT_REG_1);
		e = add(f, "cmp");
		nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, NFT_CMP_EQ);
		nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, &p, 1);
	}
	add(f, "counter");
	assert_int_equal(fn_lower(&f->d, true, &img, &len, err, sizeof(err)), 0);
	t_free(f);
	*s = t_state(fn_nft_state_new(img, len));
	free(img);
	assert_non_null(*s);
	return len;
}

/* A counting rule runs. `meta nfproto ipv4` (before every IPv4 match in an
 * inet table) always holds in this IPv4 stack: it lowers to nothing. ipv6
 * is kept, and never matches. */
static void test_lowers_synthetic(void **state)
{
	struct fn_nft_state *none, *v4, *v6;
	size_t len_none = lower_nfproto_rule(0, &none);
	size_t len_v4 = lower_nfproto_rule(NFPROTO_IPV4, &v4);
	size_t len_v6 = lower_nfproto_rule(NFPROTO_IPV6, &v6);
	struct tpkt t;

	(void)state;
	assert_int_equal(len_v4, len_none);
	assert_true(len_v6 > len_none);
	t_udp(&t, IP4(1, 1, 1, 1), IP4(2, 2, 2, 2), 1, 2, 0);
	assert_int_equal(t_run(none, FN_HOOK_INPUT, &t, NULL), FN_ACCEPT);
	assert_int_equal(t_run(v4, FN_HOOK_INPUT, &t, NULL), FN_ACCEPT);
	assert_int_equal(t_run(v6, FN_HOOK_INPUT, &t, NULL), FN_ACCEPT);
	assert_int_equal(t_rule_packets(none, 7), 1);
	assert_int_equal(t_rule_packets(v4, 7), 1);
	assert_int_equal(t_rule_packets(v6, 7), 0);
}

/* A dynamic set the kernel reports without a size (made by a tool other
 * than nft) gets nft's default bound, not an unbounded table. */
static void test_dynamic_set_default_size(void **state)
{
	const struct fn_img_header *h;
	const struct fn_img_set *set;
	struct nftnl_expr *e;
	struct fake *f;
	char err[256];
	size_t len;
	void *img;

	(void)state;
	f = fake_new("filter", NF_INET_LOCAL_IN);
	f->sets[0] = nftnl_set_alloc();
	nftnl_set_set_str(f->sets[0], NFTNL_SET_NAME, "d");
	nftnl_set_set_u32(f->sets[0], NFTNL_SET_KEY_LEN, 4);
	nftnl_set_set_u32(f->sets[0], NFTNL_SET_FLAGS, NFT_SET_EVAL | NFT_SET_TIMEOUT);
	nftnl_set_set_u64(f->sets[0], NFTNL_SET_TIMEOUT, 30000);
	f->d.sets = f->sets;
	f->d.n_sets = 1;
	e = add(f, "payload");
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, NFT_PAYLOAD_NETWORK_HEADER);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, 12);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, 4);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
	e = add(f, "dynset");
	nftnl_expr_set_str(e, NFTNL_EXPR_DYNSET_SET_NAME, "d");
	nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_SREG_KEY, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_OP, NFT_DYNSET_OP_UPDATE);
	if (fn_lower(&f->d, true, &img, &len, err, sizeof(err)))
		fail_msg("%s", err);
	t_own(img, free);
	h = img;
	assert_int_equal(h->n_sets, 1);
	set = (const struct fn_img_set *)((const uint8_t *)img + h->sets.off);
	assert_true(set->flags & FN_SET_F_DYNAMIC);
	assert_int_equal(set->size, 65535);
	assert_int_equal(set->timeout_ms, 30000);
	t_free(img);
	t_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		T_TEST(test_refused_expression_types),
		T_TEST(test_refused_attributes),
		T_TEST(test_refused_chains),
		T_TEST(test_refused_sets),
		T_TEST(test_lowers_synthetic),
		T_TEST(test_dynamic_set_default_size),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
