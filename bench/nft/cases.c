/* SPDX-License-Identifier: BSD-3-Clause */
/* Rulesets and packet of the filter benchmark (see cases.h). */
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cases.h"
#include "packets.h"

const struct bench_case bench_cases[] = {
	{"saddr-1-none", "1 x ip saddr, no match", BENCH_SADDR, 1, 0, 0},
	{"saddr-10-none", "10 x ip saddr, no match", BENCH_SADDR, 10, 0, 0},
	{"saddr-100-none", "100 x ip saddr, no match", BENCH_SADDR, 100, 0, 0},
	{"saddr-1000-none", "1000 x ip saddr, no match", BENCH_SADDR, 1000, 0, 0},
	{"saddr-1-last", "1 x ip saddr, last matches", BENCH_SADDR, 1, 1, 0},
	{"saddr-10-last", "10 x ip saddr, last matches", BENCH_SADDR, 10, 1, 0},
	{"saddr-100-last", "100 x ip saddr, last matches", BENCH_SADDR, 100, 1, 0},
	{"saddr-1000-last", "1000 x ip saddr, last matches", BENCH_SADDR, 1000, 1, 0},
	{"saddr-1000-last-linear", "1000 x ip saddr, last, no classify", BENCH_SADDR, 1000, 1, 1},
	{"dport-1-none", "1 x udp dport, no match", BENCH_DPORT_RULES, 1, 0, 0},
	{"dport-10-none", "10 x udp dport, no match", BENCH_DPORT_RULES, 10, 0, 0},
	{"dport-100-none", "100 x udp dport, no match", BENCH_DPORT_RULES, 100, 0, 0},
	{"dport-1000-none", "1000 x udp dport, no match", BENCH_DPORT_RULES, 1000, 0, 0},
	{"dport-1-last", "1 x udp dport, last matches", BENCH_DPORT_RULES, 1, 1, 0},
	{"dport-10-last", "10 x udp dport, last matches", BENCH_DPORT_RULES, 10, 1, 0},
	{"dport-100-last", "100 x udp dport, last matches", BENCH_DPORT_RULES, 100, 1, 0},
	{"dport-1000-last", "1000 x udp dport, last matches", BENCH_DPORT_RULES, 1000, 1, 0},
	{"dport-1000-last-linear", "1000 x udp dport, last, no classify", BENCH_DPORT_RULES, 1000, 1, 1},
	{"set-10-miss", "set of 10 saddr, miss", BENCH_SET, 10, 0, 0},
	{"set-1k-miss", "set of 1k saddr, miss", BENCH_SET, 1000, 0, 0},
	{"set-10k-miss", "set of 10k saddr, miss", BENCH_SET, 10000, 0, 0},
	{"set-100k-miss", "set of 100k saddr, miss", BENCH_SET, 100000, 0, 0},
	{"set-10-hit", "set of 10 saddr, hit", BENCH_SET, 10, 1, 0},
	{"set-1k-hit", "set of 1k saddr, hit", BENCH_SET, 1000, 1, 0},
	{"set-10k-hit", "set of 10k saddr, hit", BENCH_SET, 10000, 1, 0},
	{"set-100k-hit", "set of 100k saddr, hit", BENCH_SET, 100000, 1, 0},
	{"objmap-1k-miss", "counter name saddr map of 1k, miss", BENCH_OBJMAP, 1000, 0, 0},
	{"objmap-1k-hit", "counter name saddr map of 1k, hit", BENCH_OBJMAP, 1000, 1, 0},
	{"meter-64k", "meter { saddr limit }, size 64k", BENCH_METER, 65535, 0, 0},
	{"add-64k", "add @dyn { saddr }, size 64k", BENCH_DYNSET_ADD, 65535, 0, 0},
};
const size_t bench_n_cases = sizeof(bench_cases) / sizeof(bench_cases[0]);

const struct bench_case *bench_case_find(const char *name)
{
	for (size_t i = 0; i < bench_n_cases; i++)
		if (strcmp(bench_cases[i].name, name) == 0)
			return &bench_cases[i];
	return NULL;
}

/* Distinct 10.x.y.z addresses, never the packet's 127.0.0.1; the last one
 * is the packet's when the case matches. */
static uint32_t case_saddr(const struct bench_case *c, unsigned i)
{
	if (c->match && i == c->n - 1)
		return INADDR_LOOPBACK;
	return 10u << 24 | ((i + 1) & 0xffffff);
}

struct bench_rule *bench_rules(const struct bench_case *c, unsigned *n)
{
	struct bench_rule *r;

	*n = 0;
	if (c->kind == BENCH_METER || c->kind == BENCH_DYNSET_ADD)
		return NULL;
	r = calloc(c->n, sizeof(*r));
	if (!r)
		return NULL;
	for (unsigned i = 0; i < c->n; i++) {
		r[i] = (struct bench_rule){ .sport_hi = 0xffff, .dport_hi = 0xffff, .rule = i };
		if (c->kind == BENCH_DPORT_RULES) {
			r[i].proto = IPPROTO_UDP;
			r[i].dport_lo = r[i].dport_hi =
				(uint16_t)(c->match && i == c->n - 1 ? BENCH_DPORT : 10000 + i);
		} else {
			r[i].saddr = case_saddr(c, i);
			r[i].saddr_len = 32;
		}
		if (c->kind == BENCH_SET || c->kind == BENCH_OBJMAP)
			r[i].rule = 0;
	}
	*n = c->n;
	return r;
}

static void print_addr(FILE *f, uint32_t a)
{
	fprintf(f, "%u.%u.%u.%u", a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xff);
}

static void print_prefix(FILE *f, const char *sep, const char *what, uint32_t a, uint8_t len)
{
	fprintf(f, "%s%s ", sep, what);
	print_addr(f, a);
	if (len < 32)
		fprintf(f, "/%u", len);
}

static void print_ports(FILE *f, const char *sep, const char *what, uint16_t lo, uint16_t hi)
{
	fprintf(f, "%s%s %u", sep, what, lo);
	if (hi != lo)
		fprintf(f, "-%u", hi);
}

void bench_rule_print(FILE *f, const struct bench_rule *r)
{
	const char *l4 = r->proto == IPPROTO_TCP ? "tcp" : "udp", *sep = "";
	bool sport = r->sport_lo != 0 || r->sport_hi != 0xffff;
	bool dport = r->dport_lo != 0 || r->dport_hi != 0xffff;
	char what[16];

	if (r->saddr_len) {
		print_prefix(f, sep, "ip saddr", r->saddr, r->saddr_len);
		sep = " ";
	}
	if (r->daddr_len) {
		print_prefix(f, sep, "ip daddr", r->daddr, r->daddr_len);
		sep = " ";
	}
	if (r->proto && !sport && !dport) {
		fprintf(f, "%smeta l4proto %s", sep, l4);
		sep = " ";
	}
	if (sport) {
		snprintf(what, sizeof(what), "%s sport", l4);
		print_ports(f, sep, what, r->sport_lo, r->sport_hi);
		sep = " ";
	}
	if (dport) {
		snprintf(what, sizeof(what), "%s dport", l4);
		print_ports(f, sep, what, r->dport_lo, r->dport_hi);
	}
}

char *bench_ruleset(const struct bench_case *c)
{
	char *text = NULL;
	size_t len = 0;
	unsigned n;
	struct bench_rule *r = bench_rules(c, &n);
	FILE *f = open_memstream(&text, &len);

	if (!f) {
		free(r);
		return NULL;
	}
	fprintf(f, "table inet fragnet {\n");
	if (c->kind == BENCH_SET || c->kind == BENCH_OBJMAP) {
		bool objmap = c->kind == BENCH_OBJMAP;

		if (objmap)
			fprintf(f, "\tcounter c0 { }\n\tcounter c1 { }\n"
				"\tmap om {\n\t\ttype ipv4_addr : counter\n\t\telements = { ");
		else
			fprintf(f, "\tset s {\n\t\ttype ipv4_addr\n\t\telements = { ");
		for (unsigned i = 0; i < n; i++) {
			fprintf(f, "%s", i ? ", " : "");
			print_addr(f, r[i].saddr);
			if (objmap)
				fprintf(f, " : \"c%u\"", i % 2);
		}
		fprintf(f, " }\n\t}\n");
	} else if (c->kind == BENCH_DYNSET_ADD) {
		fprintf(f, "\tset d {\n\t\ttype ipv4_addr\n\t\tsize %u\n\t\tflags dynamic\n\t}\n",
			c->n);
	}
	fprintf(f, "\tchain input {\n\t\ttype filter hook input priority 0; policy accept;\n");
	if (c->kind == BENCH_SET) {
		fprintf(f, "\t\tip saddr @s drop\n");
	} else if (c->kind == BENCH_OBJMAP) {
		fprintf(f, "\t\tcounter name ip saddr map @om drop\n");
	} else if (c->kind == BENCH_METER) {
		fprintf(f, "\t\tmeter m size %u { ip saddr limit rate over 1000000000/second } drop\n",
			c->n);
	} else if (c->kind == BENCH_DYNSET_ADD) {
		fprintf(f, "\t\tadd @d { ip saddr }\n");
	} else {
		for (unsigned i = 0; i < n; i++) {
			fprintf(f, "\t\t");
			bench_rule_print(f, &r[i]);
			fprintf(f, " drop\n");
		}
	}
	fprintf(f, "\t}\n}\n");
	fclose(f);
	free(r);
	return text;
}

uint32_t bench_packet(uint8_t *b)
{
	/* DF, as the kernel sends it */
	return (uint32_t)tp_udp(b, htonl(INADDR_LOOPBACK), htonl(INADDR_LOOPBACK), BENCH_SPORT,
				BENCH_DPORT, NULL, 32, &(struct tp_ip){ .id = 1, .frag = TP_DF });
}
