/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The filter benchmark's cases: one ruleset and one packet per case, the
 * same for the interpreter and for kernel nftables. Every ruleset is one
 * input chain in table inet fragnet; the packet is UDP 127.0.0.1:40000 ->
 * 127.0.0.1:5000 (the kernel side sends it over loopback).
 */
#ifndef FN_BENCH_NFT_CASES_H
#define FN_BENCH_NFT_CASES_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define BENCH_SPORT 40000
#define BENCH_DPORT 5000

struct bench_case {
	const char *name;
	const char *what;      /* for the table */
	int kind;              /* enum bench_kind */
	unsigned n;            /* rules, or set elements */
	int match;             /* the packet matches (the last rule / the set) */
	int linear;            /* compiled without classify ops: every rule in turn */
};

/* BENCH_METER: `meter m size N { ip saddr limit rate over 1e9/second }`,
 * which never matches: the lookup of the packet's own element and its
 * bucket. BENCH_DYNSET_ADD: `add @d { ip saddr }` into a dynamic set of
 * size N, the element there after the first packet. BENCH_OBJMAP: `counter
 * name ip saddr map @om drop`, N elements naming two counters: the lookup of
 * BENCH_SET, then the named counter it picks. */
enum bench_kind { BENCH_SADDR, BENCH_DPORT_RULES, BENCH_SET, BENCH_METER, BENCH_DYNSET_ADD,
		  BENCH_OBJMAP };

extern const struct bench_case bench_cases[];
extern const size_t bench_n_cases;

/*
 * One 5-tuple match of a rule: what both a case's nft ruleset text and its
 * rte_acl rules (acl_anchor.h) are made from, so the two cannot drift apart.
 * Addresses and ports in host order.
 */
struct bench_rule {
	uint32_t saddr, daddr;
	uint8_t saddr_len, daddr_len;   /* prefix lengths; 0: any address */
	uint8_t proto;                  /* 0: any; IPPROTO_UDP or IPPROTO_TCP, which
					 * restricted ports need */
	uint16_t sport_lo, sport_hi;    /* 0-65535: any port */
	uint16_t dport_lo, dport_hi;
	unsigned rule;                  /* its nft rule (the elements of a set share one) */
};

const struct bench_case *bench_case_find(const char *name);
/* The matches of case c in rule order (malloc'd, *n of them): one per rule,
 * or one per set element. NULL and *n = 0 for a case with none (meter,
 * dynamic set: their state is no 5-tuple match). */
struct bench_rule *bench_rules(const struct bench_case *c, unsigned *n);
/* r as the match part of an nft rule ("ip saddr 10.0.0.1 udp dport 5000"),
 * nothing for a match of anything. */
void bench_rule_print(FILE *f, const struct bench_rule *r);
/* The ruleset text of a case (malloc'd). */
char *bench_ruleset(const struct bench_case *c);
/* The IPv4/UDP datagram of a case into buf (at least 64 bytes); its length. */
uint32_t bench_packet(uint8_t *buf);

#endif
