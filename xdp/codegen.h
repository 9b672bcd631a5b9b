/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The kernel part of one application's rules: a verified image and its
 * split compiled to eBPF instructions for an XDP program (no clang at run
 * time), with the maps it needs described for load.c.
 *
 * The program judges a frame the steering program (steer.bpf.c) already
 * validated as the stack does (Ethernet + IPv4, header length, total length
 * within the frame, checksum, not a fragment); it trims link padding after
 * the datagram off the frame (the stack would ignore it). It runs the
 * prerouting then
 * input base chains up to their boundaries exactly as lib/nft/interp.c
 * would: registers on the eBPF stack, payload loads bounded by the IPv4 total
 * length (BREAK beyond), regular chains inlined at every jump, goto and
 * verdict map case. A drop is XDP_DROP. Anything else ends by writing the
 * resume point in front of the frame (meta.h) and redirecting it to the
 * application's AF_XDP socket (or XDP_TX in the test epilogue).
 *
 * Maps: FN_XDP_MAP_COUNTERS is a per-CPU array of pages of
 * FN_XDP_PAGE_SLOTS counters (struct fn_nft_counter): kernel slot k is
 * counter k % FN_XDP_PAGE_SLOTS of page k / FN_XDP_PAGE_SLOTS. The program
 * looks its pages up once per packet and counts with plain loads and stores
 * (a lookup per counter would cost a helper call each, and the verifier's
 * inlining of thousands of them takes seconds). Kernel slots are numbered
 * in order of first use: the image's counter slots the kernel part counts
 * (slot_image), and one slot per decision, a rule or policy that accepted
 * or dropped in a base chain, so that fragnetctl can tell what the kernel
 * decided and tests can check it.
 * FN_XDP_MAP_XSKS is the application's XSKMAP (made by the caller). Then one
 * map per set the code looks up: a hash map of the key, or an LPM trie of
 * the interval set's ranges cut into prefixes; values are map data, a
 * verdict map element's case index, or nothing (4 zero bytes).
 */
#ifndef FN_XDP_CODEGEN_H
#define FN_XDP_CODEGEN_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/bpf.h>

#include "split.h"

#define FN_XDP_PAGE_SLOTS 1024u   /* 16 KiB per CPU and page */
#define FN_XDP_MAX_PAGES 16u      /* far more than FN_XDP_PROG_BUDGET can count */

enum {
	FN_XDP_MAP_COUNTERS = 0,
	FN_XDP_MAP_XSKS = 1,
	FN_XDP_MAP_SETS = 2,  /* the first set map */
};

struct fn_xdp_map_desc {
	uint32_t type;           /* BPF_MAP_TYPE_* */
	uint32_t key_size, value_size;
	uint32_t set;            /* image set, FN_IMG_NONE for the others */
	/* verdict maps: an element's value is the index of its verdict here */
	struct fn_img_vdata *cases;
	uint32_t n_cases;
};

/* What a decision slot counts: a verdict given in a base chain. */
struct fn_xdp_decision {
	uint32_t base;           /* base chain, global index */
	uint32_t rule;           /* the deciding rule (global index), or
				  * FN_IMG_NONE for the base chain's policy */
	uint32_t rule_chain;     /* the chain holding that rule (base for a policy) */
	int32_t verdict;         /* FN_V_ACCEPT or FN_V_DROP */
	uint8_t hook;
	uint32_t slot;           /* kernel slot counting it */
};

struct fn_xdp_code {
	struct bpf_insn *insns;  /* map references: ld_imm64 with src_reg
				  * BPF_PSEUDO_MAP_FD and imm = the map's index */
	uint32_t n_insns;
	struct fn_xdp_map_desc *maps;
	uint32_t n_maps;
	/* per kernel slot: the image counter slot it counts, or FN_IMG_NONE
	 * for a decision's */
	uint32_t *slot_image;
	uint32_t n_slots, n_pages;
	struct fn_xdp_decision *decisions;
	uint32_t n_decisions;
	bool test_epilogue;
};

struct fn_xdp_cg_opts {
	/* End accepted frames with XDP_TX instead of the redirect, for
	 * BPF_PROG_TEST_RUN; everything else is the same. */
	bool test_epilogue;
	uint64_t generation;     /* written into every meta */
};

/* 0, or -ENOMEM, -E2BIG (a jump out of reach: the split's budgets were not
 * kept), -EINVAL (an op the split did not allow). */
int fn_xdp_codegen(const struct fn_nft_prog *p, const struct fn_xdp_split *s,
		   const struct fn_xdp_cg_opts *o, struct fn_xdp_code **out);
void fn_xdp_code_free(struct fn_xdp_code *c);

/* Instructions of rule `rule`'s own code, with one jump standing for each
 * chain it would inline (for the split's budgets). */
uint32_t fn_xdp_rule_insns(const struct fn_nft_prog *p, uint32_t rule);

/* The distinct verdicts of verdict map `set` (elements and catch-all), in
 * element order: *cases is malloc'd. 0 or -ENOMEM. */
int fn_xdp_vmap_cases(const struct fn_nft_prog *p, uint32_t set,
		      struct fn_img_vdata **cases, uint32_t *n);

/* The case index of verdict `vdata` (a struct fn_img_vdata) in map m. */
uint32_t fn_xdp_vmap_case(const struct fn_xdp_map_desc *m, const void *vdata);

#endif /* FN_XDP_CODEGEN_H */
