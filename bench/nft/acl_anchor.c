/* SPDX-License-Identifier: BSD-3-Clause */
/* The rte_acl anchor of the filter benchmark (acl_anchor.h). */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_acl.h>
#include <rte_eal.h>
#include <rte_errno.h>

#include "acl_anchor.h"

/* The IPv4 5-tuple layout of DPDK's ACL guide. Offsets are from the IPv4
 * header; rte_acl reads 4 bytes per input index, so the two ports share
 * one. The protocol comes first: the first field must be one byte. */
enum { F_PROTO, F_SRC, F_DST, F_SPORT, F_DPORT, F_COUNT };

static const struct rte_acl_field_def fields[F_COUNT] = {
	{ .type = RTE_ACL_FIELD_TYPE_BITMASK, .size = 1, .field_index = F_PROTO,
	  .input_index = 0, .offset = 9 },
	{ .type = RTE_ACL_FIELD_TYPE_MASK, .size = 4, .field_index = F_SRC,
	  .input_index = 1, .offset = 12 },
	{ .type = RTE_ACL_FIELD_TYPE_MASK, .size = 4, .field_index = F_DST,
	  .input_index = 2, .offset = 16 },
	{ .type = RTE_ACL_FIELD_TYPE_RANGE, .size = 2, .field_index = F_SPORT,
	  .input_index = 3, .offset = 20 },
	{ .type = RTE_ACL_FIELD_TYPE_RANGE, .size = 2, .field_index = F_DPORT,
	  .input_index = 3, .offset = 22 },
};

RTE_ACL_RULE_DEF(acl_5tuple, F_COUNT);

struct acl_anchor {
	struct rte_acl_ctx *ctx;
};

int acl_anchor_eal_init(void)
{
	/* No hugepages and no shared files (--in-memory refuses --no-huge's
	 * legacy memory mode), so that several runs can share the prefix; the
	 * main lcore on CPU 0, where bench_pin_cpu0() runs the timings. */
	char *argv[] = { "fn-bench-nft", "--no-huge", "--no-pci", "--no-shconf",
			 "--no-telemetry", "-m", "1024", "-l", "0", "--log-level=*:error",
			 "--file-prefix=fn-bench-nft", NULL };
	static int done;

	if (done)
		return 0;
	if (rte_eal_init((int)(sizeof(argv) / sizeof(argv[0])) - 1, argv) < 0)
		return -rte_errno;
	/* EAL made its runtime directory but, without shared files, put
	 * nothing in it: leave no trace */
	rmdir(rte_eal_get_runtime_dir());
	done = 1;
	return 0;
}

static int rule_of(const struct bench_rule *b, unsigned n, struct acl_5tuple *r)
{
	bool ports = b->sport_lo != 0 || b->sport_hi != 0xffff || b->dport_lo != 0 ||
		     b->dport_hi != 0xffff;

	if (ports && !b->proto)
		return -EINVAL;
	/* higher priority wins: the earlier nft rule */
	r->data = (struct rte_acl_rule_data){ .category_mask = 1,
		.priority = (int32_t)(n - b->rule), .userdata = b->rule + 1 };
	r->field[F_PROTO].value.u8 = b->proto;
	r->field[F_PROTO].mask_range.u8 = b->proto ? 0xff : 0;
	r->field[F_SRC].value.u32 = b->saddr;
	r->field[F_SRC].mask_range.u32 = b->saddr_len;
	r->field[F_DST].value.u32 = b->daddr;
	r->field[F_DST].mask_range.u32 = b->daddr_len;
	r->field[F_SPORT].value.u16 = b->sport_lo;
	r->field[F_SPORT].mask_range.u16 = b->sport_hi;
	r->field[F_DPORT].value.u16 = b->dport_lo;
	r->field[F_DPORT].mask_range.u16 = b->dport_hi;
	return 0;
}

struct acl_anchor *acl_anchor_new(const struct bench_rule *b, unsigned n)
{
	static unsigned serial;     /* context names must be unique */
	char name[RTE_ACL_NAMESIZE];
	struct rte_acl_param p = { .name = name, .socket_id = SOCKET_ID_ANY,
				   .rule_size = RTE_ACL_RULE_SZ(F_COUNT), .max_rule_num = n };
	struct rte_acl_config cfg = { .num_categories = 1, .num_fields = F_COUNT };
	struct acl_anchor *a = NULL;
	struct acl_5tuple *r = NULL;
	int err = EINVAL;

	if (n == 0)
		goto fail;
	err = ENOMEM;
	a = calloc(1, sizeof(*a));
	r = calloc(n, sizeof(*r));
	if (!a || !r)
		goto fail;
	err = EINVAL;
	for (unsigned i = 0; i < n; i++)
		if (rule_of(&b[i], b[n - 1].rule + 1, &r[i]) < 0)
			goto fail;
	snprintf(name, sizeof(name), "fn-bench-%u", serial++);
	a->ctx = rte_acl_create(&p);
	if (!a->ctx) {
		err = rte_errno;
		goto fail;
	}
	memcpy(cfg.defs, fields, sizeof(fields));
	err = -rte_acl_add_rules(a->ctx, (const struct rte_acl_rule *)r, n);
	if (err == 0)
		err = -rte_acl_build(a->ctx, &cfg);
	if (err)
		goto fail;
	free(r);
	return a;
fail:
	if (a)
		rte_acl_free(a->ctx);
	free(a);
	free(r);
	errno = err;
	return NULL;
}

void acl_anchor_free(struct acl_anchor *a)
{
	if (a) {
		rte_acl_free(a->ctx);
		free(a);
	}
}

int acl_anchor_set_alg(struct acl_anchor *a, enum acl_alg alg)
{
	return rte_acl_set_ctx_classify(a->ctx, alg == ACL_AVX2 ? RTE_ACL_CLASSIFY_AVX2
								: RTE_ACL_CLASSIFY_SCALAR);
}

void acl_anchor_classify(const struct acl_anchor *a, const uint8_t **dgram, uint32_t *res,
			 unsigned n)
{
	rte_acl_classify(a->ctx, dgram, res, n, 1);
}
