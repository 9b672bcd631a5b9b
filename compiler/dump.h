/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * One table of a namespace's ruleset, read over netlink as the kernel holds
 * it: chains, rules, sets with their elements and named objects, all from
 * one nftables generation (dumped again when a commit lands in between).
 */
#ifndef FN_COMPILER_DUMP_H
#define FN_COMPILER_DUMP_H

#include <stddef.h>
#include <stdint.h>

struct mnl_socket;
struct nftnl_table;
struct nftnl_chain;
struct nftnl_rule;
struct nftnl_set;
struct nftnl_obj;

struct fn_dump {
	uint32_t genid;
	struct nftnl_table *table;     /* NULL: the namespace has no such table */
	struct nftnl_chain **chains;
	size_t n_chains;
	struct nftnl_rule **rules;     /* in chain order, as the kernel lists them */
	size_t n_rules;
	struct nftnl_set **sets;       /* elements included */
	size_t n_sets;
	struct nftnl_obj **objs;
	size_t n_objs;
};

/* A netlink socket bound in the current thread's namespace. */
#define FN_NL_BUF (1 << 16)
struct fn_nl {
	struct mnl_socket *sock;
	uint32_t portid;
	uint32_t seq;
	char *buf;             /* FN_NL_BUF bytes for replies */
};

int fn_nl_open(struct fn_nl *nl);
void fn_nl_close(struct fn_nl *nl);

/*
 * Dump the table that filters application `app` ("inet APP", "ip APP",
 * else "inet fragnet"). 0, or -errno with a message in err (-EAGAIN: the
 * ruleset kept changing).
 */
int fn_dump_table(struct fn_nl *nl, const char *app, struct fn_dump *d,
		  char *err, size_t errlen);
void fn_dump_free(struct fn_dump *d);

#endif /* FN_COMPILER_DUMP_H */
