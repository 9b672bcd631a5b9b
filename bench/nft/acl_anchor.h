/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * DPDK's rte_acl as a second anchor for the filter benchmark, beside kernel
 * nftables: the same rules (struct bench_rule) in an rte_acl context over
 * the IPv4 5-tuple (protocol, source and destination address, source and
 * destination port), classifying the same datagrams. A rule's nft order
 * becomes its priority, so rte_acl answers the first nft rule that matches,
 * as the interpreter does.
 */
#ifndef BENCH_ACL_ANCHOR_H
#define BENCH_ACL_ANCHOR_H

#include <stdint.h>

#include "cases.h"

/* The classify methods compared. */
enum acl_alg { ACL_SCALAR, ACL_AVX2 };

struct acl_anchor;

/* Start DPDK's EAL once, without hugepages, PCI or files (rte_acl allocates
 * from its heap). 0, or -errno (EAL's). */
int acl_anchor_eal_init(void);

/* An rte_acl context holding rules r[0..n), built. NULL + errno:
 *  EINVAL  n is 0, or a rule has ports but no protocol
 *  ENOMEM
 *  others: rte_acl_add_rules()/rte_acl_build()'s. */
struct acl_anchor *acl_anchor_new(const struct bench_rule *r, unsigned n);
void acl_anchor_free(struct acl_anchor *a);

/* Classify with `alg` from now on. 0, or -ENOTSUP when this CPU or DPDK
 * build lacks it. */
int acl_anchor_set_alg(struct acl_anchor *a, enum acl_alg alg);

/* Classify n datagrams, each from its IPv4 header (20 bytes, no options:
 * the ports are read at offset 20): res[i] = 1 + the first nft rule
 * (bench_rule.rule) matching dgram[i], or 0 when none does. One
 * rte_acl_classify() call. */
void acl_anchor_classify(const struct acl_anchor *a, const uint8_t **dgram, uint32_t *res,
			 unsigned n);

#endif /* BENCH_ACL_ANCHOR_H */
