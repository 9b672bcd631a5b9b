/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The netlink dump (see dump.h). Recipe: GETGEN with NLM_F_ACK (its reply
 * has no DONE), then GETTABLE, GETCHAIN, GETSET, GETSETELEM per set,
 * GETRULE and GETOBJ as dumps; GETGEN again. A changed generation, or a dump
 * interrupted by a commit (NLM_F_DUMP_INTR, EINTR from libmnl), starts over.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/gen.h>
#include <libnftnl/object.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include "dump.h"

#define MAX_ATTEMPTS 20

int fn_nl_open(struct fn_nl *nl)
{
	nl->buf = malloc(FN_NL_BUF);
	if (!nl->buf)
		return -ENOMEM;
	nl->sock = mnl_socket_open(NETLINK_NETFILTER);
	if (!nl->sock) {
		int err = -errno;

		free(nl->buf);
		nl->buf = NULL;
		return err;
	}
	if (mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) < 0) {
		int err = -errno;

		mnl_socket_close(nl->sock);
		nl->sock = NULL;
		free(nl->buf);
		nl->buf = NULL;
		return err;
	}
	nl->portid = mnl_socket_get_portid(nl->sock);
	nl->seq = (uint32_t)time(NULL);
	return 0;
}

void fn_nl_close(struct fn_nl *nl)
{
	if (nl->sock)
		mnl_socket_close(nl->sock);
	nl->sock = NULL;
	free(nl->buf);
	nl->buf = NULL;
}

/* Send one request and run cb on every reply message until done. */
static int talk(struct fn_nl *nl, struct nlmsghdr *req, mnl_cb_t cb, void *data)
{
	uint32_t seq = req->nlmsg_seq;
	ssize_t n;
	int ret;

	if (mnl_socket_sendto(nl->sock, req, req->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		n = mnl_socket_recvfrom(nl->sock, nl->buf, FN_NL_BUF);
		if (n < 0)
			return -errno;
		ret = mnl_cb_run(nl->buf, (size_t)n, seq, nl->portid, cb, data);
		if (ret < 0)
			return -errno;
		if (ret == MNL_CB_STOP)
			return 0;
	}
}

struct collect {
	void **items;
	size_t n, cap;
	int err;
	void *(*alloc)(void);
	int (*parse)(const struct nlmsghdr *nlh, void *obj);
	void (*release)(void *obj);
};

static int collect_cb(const struct nlmsghdr *nlh, void *data)
{
	struct collect *c = data;
	void *obj;

	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 16;
		void **items = realloc(c->items, cap * sizeof(*items));

		if (!items) {
			c->err = -ENOMEM;
			return MNL_CB_ERROR;
		}
		c->items = items;
		c->cap = cap;
	}
	obj = c->alloc();
	if (!obj) {
		c->err = -ENOMEM;
		return MNL_CB_ERROR;
	}
	if (c->parse(nlh, obj) < 0) {
		c->release(obj);
		c->err = -EINVAL;
		return MNL_CB_ERROR;
	}
	c->items[c->n++] = obj;
	return MNL_CB_OK;
}

static void collect_free(struct collect *c)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		c->release(c->items[i]);
	free(c->items);
	c->items = NULL;
	c->n = c->cap = 0;
}

/* Typed adapters, so one collector serves every object kind. */
#define ADAPT(kind)                                                             \
	static void *kind##_alloc(void) { return nftnl_##kind##_alloc(); }      \
	static int kind##_parse(const struct nlmsghdr *nlh, void *o)            \
	{ return nftnl_##kind##_nlmsg_parse(nlh, o); }                           \
	static void kind##_release(void *o) { nftnl_##kind##_free(o); }
ADAPT(table)
ADAPT(chain)
ADAPT(rule)
ADAPT(set)
ADAPT(obj)
#undef ADAPT

static int run_dump(struct fn_nl *nl, struct nlmsghdr *req, struct collect *c)
{
	int ret = talk(nl, req, collect_cb, c);

	if (ret < 0 && c->err)
		ret = c->err;
	return ret;
}

/* libnftnl parsers return 0/-1; libmnl callbacks must say "go on". */
static int gen_cb(const struct nlmsghdr *nlh, void *gen)
{
	return nftnl_gen_nlmsg_parse(nlh, gen) < 0 ? MNL_CB_ERROR : MNL_CB_OK;
}

static int elems_cb(const struct nlmsghdr *nlh, void *set)
{
	return nftnl_set_elems_nlmsg_parse(nlh, set) < 0 ? MNL_CB_ERROR : MNL_CB_OK;
}

/* One element's identity: its key, interval end and flags, as dumped. */
struct elem_id {
	uint8_t bytes[2 * NFT_DATA_VALUE_MAXLEN + 4];
};

static int cmp_elem_id(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct elem_id));
}

/*
 * A set element dump is consistent when no element shows twice. The kernel
 * walks a hash set afresh for every netlink message of the dump, and while
 * the table is still being resized after a big load (it grows in a worker,
 * after the commit) the walk can hand out an element twice, or skip one: the
 * dump carries no NLM_F_DUMP_INTR for it. Duplicates are the visible sign;
 * the caller dumps again until two dumps in a row are clean and agree.
 * Returns the element count, or -EINTR for an inconsistent dump, -ENOMEM.
 */
static long elems_consistent(struct nftnl_set *s)
{
	struct nftnl_set_elems_iter *it = nftnl_set_elems_iter_create(s);
	struct nftnl_set_elem *e;
	struct elem_id *ids = NULL;
	size_t n = 0, cap = 0;
	long ret;

	if (!it)
		return -ENOMEM;
	while ((e = nftnl_set_elems_iter_next(it))) {
		struct elem_id *id;
		uint32_t len = 0, flags = 0;
		const void *p;

		if (n == cap) {
			struct elem_id *grown = realloc(ids, (cap = cap ? 2 * cap : 256) * sizeof(*ids));

			if (!grown) {
				free(ids);
				nftnl_set_elems_iter_destroy(it);
				return -ENOMEM;
			}
			ids = grown;
		}
		id = &ids[n++];
		memset(id, 0, sizeof(*id));
		if ((p = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &len)))
			memcpy(id->bytes, p, len < NFT_DATA_VALUE_MAXLEN ? len : NFT_DATA_VALUE_MAXLEN);
		if ((p = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY_END, &len)))
			memcpy(id->bytes + NFT_DATA_VALUE_MAXLEN, p,
			       len < NFT_DATA_VALUE_MAXLEN ? len : NFT_DATA_VALUE_MAXLEN);
		if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_FLAGS))
			flags = nftnl_set_elem_get_u32(e, NFTNL_SET_ELEM_FLAGS);
		memcpy(id->bytes + 2 * NFT_DATA_VALUE_MAXLEN, &flags, 4);
	}
	nftnl_set_elems_iter_destroy(it);
	qsort(ids, n, sizeof(*ids), cmp_elem_id);
	ret = (long)n;
	for (size_t i = 1; i < n; i++)
		if (!memcmp(&ids[i - 1], &ids[i], sizeof(*ids)))
			ret = -EINTR;
	free(ids);
	return ret;
}

/* An empty set naming the same set as s: what a trial dump parses into. */
static struct nftnl_set *same_set(const struct nftnl_set *s)
{
	struct nftnl_set *t = nftnl_set_alloc();

	if (!t)
		return NULL;
	nftnl_set_set_str(t, NFTNL_SET_TABLE, nftnl_set_get_str(s, NFTNL_SET_TABLE));
	nftnl_set_set_str(t, NFTNL_SET_NAME, nftnl_set_get_str(s, NFTNL_SET_NAME));
	nftnl_set_set_u32(t, NFTNL_SET_FAMILY, nftnl_set_get_u32(s, NFTNL_SET_FAMILY));
	return t;
}

/* Dump the elements of set s into it, until two dumps in a row are clean
 * and have the same number of elements (see elems_consistent). */
static int dump_elems(struct fn_nl *nl, struct nftnl_set *s, int family)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	long last = -1;

	for (int attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
		struct nftnl_set *copy = same_set(s);
		struct nlmsghdr *nlh;
		long n;
		int ret;

		if (!copy)
			return -ENOMEM;
		nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSETELEM, (uint16_t)family,
					    NLM_F_DUMP, ++nl->seq);
		nftnl_set_elems_nlmsg_build_payload(nlh, copy);
		ret = talk(nl, nlh, elems_cb, copy);
		n = ret ? ret : elems_consistent(copy);
		if (n == -EINTR || (n >= 0 && n != last)) {
			last = n;
			nftnl_set_free(copy);
			if (n == -EINTR)
				nanosleep(&(struct timespec){ .tv_nsec = 10 * 1000 * 1000 }, NULL);
			continue;
		}
		nftnl_set_free(copy);
		if (n < 0)
			return (int)n;
		/* a clean dump that agrees with the previous one: keep it */
		nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSETELEM, (uint16_t)family,
					    NLM_F_DUMP, ++nl->seq);
		nftnl_set_elems_nlmsg_build_payload(nlh, s);
		ret = talk(nl, nlh, elems_cb, s);
		if (ret)
			return ret;
		return elems_consistent(s) == n ? 0 : -EINTR;
	}
	return -EINTR;
}

static int get_genid(struct fn_nl *nl, uint32_t *genid)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nftnl_gen *gen = nftnl_gen_alloc();
	struct nlmsghdr *nlh;
	int ret;

	if (!gen)
		return -ENOMEM;
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETGEN, AF_UNSPEC, NLM_F_ACK, ++nl->seq);
	ret = talk(nl, nlh, gen_cb, gen);
	if (ret == 0)
		*genid = nftnl_gen_get_u32(gen, NFTNL_GEN_ID);
	nftnl_gen_free(gen);
	return ret;
}

/* Pick the table: inet APP, ip APP, else inet fragnet. */
static struct nftnl_table *choose_table(struct collect *tables, const char *app)
{
	const struct { int family; const char *name; } order[] = {
		{ NFPROTO_INET, app }, { NFPROTO_IPV4, app }, { NFPROTO_INET, "fragnet" },
	};
	size_t i, k;

	for (k = 0; k < sizeof(order) / sizeof(order[0]); k++)
		for (i = 0; i < tables->n; i++) {
			struct nftnl_table *t = tables->items[i];

			if ((int)nftnl_table_get_u32(t, NFTNL_TABLE_FAMILY) == order[k].family &&
			    !strcmp(nftnl_table_get_str(t, NFTNL_TABLE_NAME), order[k].name))
				return t;
		}
	return NULL;
}

static int dump_once(struct fn_nl *nl, const char *app, struct fn_dump *d,
		     char *err, size_t errlen)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct collect tables = { .alloc = table_alloc, .parse = table_parse, .release = table_release };
	struct collect chains = { .alloc = chain_alloc, .parse = chain_parse, .release = chain_release };
	struct collect rules = { .alloc = rule_alloc, .parse = rule_parse, .release = rule_release };
	struct collect sets = { .alloc = set_alloc, .parse = set_parse, .release = set_release };
	struct collect objs = { .alloc = obj_alloc, .parse = obj_parse, .release = obj_release };
	struct nlmsghdr *nlh;
	const char *tname;
	size_t i, keep;
	int family, ret;

	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETTABLE, NFPROTO_UNSPEC, NLM_F_DUMP, ++nl->seq);
	if ((ret = run_dump(nl, nlh, &tables)))
		goto fail;
	d->table = choose_table(&tables, app ? app : "fragnet");
	if (!d->table)
		goto done;
	/* keep the chosen table, drop the others */
	for (i = 0; i < tables.n; i++)
		if (tables.items[i] != d->table)
			nftnl_table_free(tables.items[i]);
	free(tables.items);
	tables.items = NULL;
	tables.n = 0;
	tname = nftnl_table_get_str(d->table, NFTNL_TABLE_NAME);
	family = (int)nftnl_table_get_u32(d->table, NFTNL_TABLE_FAMILY);

	{
		struct nftnl_chain *f = nftnl_chain_alloc();

		if (!f) {
			ret = -ENOMEM;
			goto fail;
		}
		nftnl_chain_set_str(f, NFTNL_CHAIN_TABLE, tname);
		nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETCHAIN, (uint16_t)family, NLM_F_DUMP, ++nl->seq);
		nftnl_chain_nlmsg_build_payload(nlh, f);
		nftnl_chain_free(f);
		if ((ret = run_dump(nl, nlh, &chains)))
			goto fail;
	}
	{
		struct nftnl_set *f = nftnl_set_alloc();

		if (!f) {
			ret = -ENOMEM;
			goto fail;
		}
		nftnl_set_set_str(f, NFTNL_SET_TABLE, tname);
		nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSET, (uint16_t)family, NLM_F_DUMP, ++nl->seq);
		nftnl_set_nlmsg_build_payload(nlh, f);
		nftnl_set_free(f);
		if ((ret = run_dump(nl, nlh, &sets)))
			goto fail;
	}
	{
		struct nftnl_rule *f = nftnl_rule_alloc();

		if (!f) {
			ret = -ENOMEM;
			goto fail;
		}
		nftnl_rule_set_str(f, NFTNL_RULE_TABLE, tname);
		nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETRULE, (uint16_t)family, NLM_F_DUMP, ++nl->seq);
		nftnl_rule_nlmsg_build_payload(nlh, f);
		nftnl_rule_free(f);
		if ((ret = run_dump(nl, nlh, &rules)))
			goto fail;
	}
	{
		struct nftnl_obj *f = nftnl_obj_alloc();

		if (!f) {
			ret = -ENOMEM;
			goto fail;
		}
		nftnl_obj_set_str(f, NFTNL_OBJ_TABLE, tname);
		nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETOBJ, (uint16_t)family, NLM_F_DUMP, ++nl->seq);
		nftnl_obj_nlmsg_build_payload(nlh, f);
		nftnl_obj_free(f);
		if ((ret = run_dump(nl, nlh, &objs)))
			goto fail;
	}

	/* the kernel may answer for every table of the family: keep ours */
#define KEEP_TABLE(col, kind, attr, fam_attr)                                   \
	for (i = keep = 0; i < col.n; i++) {                                    \
		struct nftnl_##kind *o = col.items[i];                          \
		if (!strcmp(nftnl_##kind##_get_str(o, attr), tname) &&           \
		    (int)nftnl_##kind##_get_u32(o, fam_attr) == family)          \
			col.items[keep++] = o;                                  \
		else                                                            \
			nftnl_##kind##_free(o);                                 \
	}                                                                       \
	col.n = keep;
	KEEP_TABLE(chains, chain, NFTNL_CHAIN_TABLE, NFTNL_CHAIN_FAMILY)
	KEEP_TABLE(rules, rule, NFTNL_RULE_TABLE, NFTNL_RULE_FAMILY)
	KEEP_TABLE(sets, set, NFTNL_SET_TABLE, NFTNL_SET_FAMILY)
	KEEP_TABLE(objs, obj, NFTNL_OBJ_TABLE, NFTNL_OBJ_FAMILY)
#undef KEEP_TABLE

	for (i = 0; i < sets.n; i++) {
		ret = dump_elems(nl, sets.items[i], family);
		if (ret)
			goto fail;
	}
done:
	d->chains = (struct nftnl_chain **)chains.items;
	d->n_chains = chains.n;
	d->rules = (struct nftnl_rule **)rules.items;
	d->n_rules = rules.n;
	d->sets = (struct nftnl_set **)sets.items;
	d->n_sets = sets.n;
	d->objs = (struct nftnl_obj **)objs.items;
	d->n_objs = objs.n;
	collect_free(&tables);
	return 0;
fail:
	if (ret != -EINTR)
		snprintf(err, errlen, "netlink dump failed: %s", strerror(-ret));
	if (d->table && !tables.items)
		nftnl_table_free(d->table); /* already out of the list */
	d->table = NULL;
	collect_free(&tables);
	collect_free(&chains);
	collect_free(&rules);
	collect_free(&sets);
	collect_free(&objs);
	return ret;
}

int fn_dump_table(struct fn_nl *nl, const char *app, struct fn_dump *d,
		  char *err, size_t errlen)
{
	uint32_t before, after;
	int attempt, ret;

	for (attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
		memset(d, 0, sizeof(*d));
		if ((ret = get_genid(nl, &before))) {
			snprintf(err, errlen, "netlink GETGEN failed: %s", strerror(-ret));
			return ret;
		}
		ret = dump_once(nl, app, d, err, errlen);
		if (ret == -EINTR)
			continue; /* a commit interrupted the dump */
		if (ret)
			return ret;
		if ((ret = get_genid(nl, &after))) {
			fn_dump_free(d);
			snprintf(err, errlen, "netlink GETGEN failed: %s", strerror(-ret));
			return ret;
		}
		if (before == after) {
			d->genid = after;
			return 0;
		}
		fn_dump_free(d);
	}
	snprintf(err, errlen, "the ruleset kept changing during %d dumps", MAX_ATTEMPTS);
	return -EAGAIN;
}

void fn_dump_free(struct fn_dump *d)
{
	size_t i;

	for (i = 0; i < d->n_chains; i++)
		nftnl_chain_free(d->chains[i]);
	for (i = 0; i < d->n_rules; i++)
		nftnl_rule_free(d->rules[i]);
	for (i = 0; i < d->n_sets; i++)
		nftnl_set_free(d->sets[i]);
	for (i = 0; i < d->n_objs; i++)
		nftnl_obj_free(d->objs[i]);
	free(d->chains);
	free(d->rules);
	free(d->sets);
	free(d->objs);
	if (d->table)
		nftnl_table_free(d->table);
	memset(d, 0, sizeof(*d));
}
