/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Tracing one hook run: the rules a packet matched on its way through the
 * chains, in order, in the spirit of the kernel's nft_trace (nft monitor
 * trace). fn_nft_run_traced() (nft.h) fills a struct fn_trace; fn_nft_run()
 * has no trace code at all (the traced run is a separate instance of the
 * same loop, with tracing folded in at compile time).
 */
#ifndef FN_NFT_TRACE_H
#define FN_NFT_TRACE_H

#include <stdint.h>

/* Events kept per hook run; further ones are only counted (lost). */
#define FN_TRACE_MAX_EVENTS 32

enum fn_trace_kind {
	FN_TRACE_RULE = 0,     /* a rule matched; verdict says what it did
				* (FN_V_CONTINUE: no verdict, the next rule) */
	FN_TRACE_CHAIN_END,    /* the end of a chain: back to its caller, or,
				* in a base chain, its policy next */
	FN_TRACE_POLICY,       /* a base chain's policy; verdict FN_V_ACCEPT or
				* FN_V_DROP */
	FN_TRACE_CT_FULL,      /* conntrack's table was full: dropped, no rule */
	FN_TRACE_KIND_MAX
};

struct fn_trace_ev {
	uint64_t handle;       /* rule handle, 0 for other kinds */
	uint32_t chain;        /* chain index in the image; FN_IMG_NONE for
				* FN_TRACE_CT_FULL */
	uint32_t target;       /* jump/goto: the chain entered, else FN_IMG_NONE */
	int32_t verdict;       /* enum fn_img_verdict */
	uint8_t hook;          /* enum fn_hook */
	uint8_t kind;          /* enum fn_trace_kind */
	uint8_t reject;        /* a reject rule's enum fn_verdict, else 0 */
	uint8_t pad;
};

struct fn_trace {
	uint32_t n;            /* events in ev */
	uint32_t lost;         /* events past FN_TRACE_MAX_EVENTS */
	struct fn_trace_ev ev[FN_TRACE_MAX_EVENTS];
};

#endif /* FN_NFT_TRACE_H */
