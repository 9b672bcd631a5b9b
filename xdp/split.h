/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The split of an application's rules between the kernel (the generated XDP
 * rules program, codegen.c) and the in-process interpreter: which rules the
 * kernel can run exactly, and where it stops in each base chain of
 * prerouting and input (the boundary). The in-process side resumes there
 * (meta.h, fn_nft_run_from()).
 *
 * A rule is offloadable when every op is one the kernel part reproduces
 * exactly (stateless matches, verdicts, lookups in hash sets and short
 * interval sets, counters, a few meta keys), every chain it can jump or go
 * to is offloadable in all its rules, and its code with those chains inlined
 * fits FN_XDP_RULE_BUDGET instructions. A base chain's boundary is its first
 * rule that is not offloadable, or earlier where conntrack's hook or the
 * program budget says so.
 */
#ifndef FN_XDP_SPLIT_H
#define FN_XDP_SPLIT_H

#include <stdint.h>

#include "nft/nft.h"

/* Instructions one rule may take with every chain it reaches inlined: keeps
 * every conditional jump of the rule within half the 16-bit offsets of
 * eBPF (the other half is for the verifier's inlining of helper calls). */
#define FN_XDP_RULE_BUDGET 8192u
/* Instructions of the whole rules program: far below the verifier's limits
 * (1M instructions, 1M processed). */
#define FN_XDP_PROG_BUDGET 65536u

struct fn_xdp_split {
	const struct fn_nft_prog *prog;
	/* Per rule (global index): NULL when offloadable, else why not, for
	 * fragnetctl ("limit: stateful", "too large", ...). */
	const char **why;
	/* Per chain: for the base chains of prerouting and input, the global
	 * index of the first rule the kernel does not run (first_rule +
	 * n_rules: it runs them all and the policy); FN_IMG_NONE for the other
	 * chains. */
	uint32_t *boundary;
	/* Per chain: why the boundary is earlier than the first rule that is
	 * not offloadable (conntrack, the program budget), or NULL. */
	const char **stop_why;
	/* Per chain: 1 when the kernel runs some of this base chain, if only
	 * its policy (an empty chain); 0 when it stops at its start or never
	 * gets there. */
	uint8_t *enters;
	/* Per chain: its code with the chains it reaches inlined, in
	 * instructions (offloadable chains). */
	uint32_t *insns;
};

/* 0, or -ENOMEM. */
int fn_xdp_split(const struct fn_nft_prog *p, struct fn_xdp_split *s);
void fn_xdp_split_free(struct fn_xdp_split *s);

/* true when the kernel runs base chain `chain`'s rule `rule` (both global). */
static inline bool fn_xdp_split_in_kernel(const struct fn_xdp_split *s,
					  uint32_t chain, uint32_t rule)
{
	return s->boundary[chain] != FN_IMG_NONE && rule < s->boundary[chain];
}

#endif /* FN_XDP_SPLIT_H */
