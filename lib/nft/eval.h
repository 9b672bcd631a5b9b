/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Running an image outside the dataplane: tests, the offline evaluator
 * (fragnet-eval), the filter benchmark. No DPDK. One struct fn_nft_state is
 * one queue's worth of state (counters, conntrack, log budget) plus its own
 * limits and quotas; it is single-threaded.
 */
#ifndef FN_NFT_EVAL_H
#define FN_NFT_EVAL_H

#include <stddef.h>
#include <stdint.h>

#include "packet.h"

struct fn_nft_state;

/* Verify and load an image (copied: the caller may free it). NULL + errno:
 *  EBADMSG the image failed verification (fn_nft_image_check() says why)
 *  ENOMEM */
struct fn_nft_state *fn_nft_state_new(const void *image, size_t len);
void fn_nft_state_free(struct fn_nft_state *s);

/* 0, or -EBADMSG with the verifier's reason in err. */
int fn_nft_image_check(const void *image, size_t len, char *err, size_t errlen);

struct fn_nft_result {
	enum fn_verdict verdict;
	uint64_t rule_handle;   /* rule whose verdict decided; 0 = a chain policy
				 * (or no base chain on the hook) */
	const char *chain;      /* chain where it was decided; NULL when no
				 * chain ran */
};

/*
 * Run the base chains of `hook` on pkt (see filter.h for struct fn_pkt; the
 * filter may rewrite the packet and pkt->mark, and keeps pkt->ct between
 * prerouting and input, output and postrouting of one packet). res may be
 * NULL. When several base chains accept, the last one is reported.
 */
enum fn_verdict fn_nft_eval(struct fn_nft_state *s, enum fn_hook hook,
			    struct fn_pkt *pkt, struct fn_nft_result *res);

/*
 * fn_nft_eval(), and the rules the packet matched on the way, into t
 * (trace.h: emptied first, at most FN_TRACE_MAX_EVENTS events, the rest
 * counted as lost). Verdicts and state effects are those of fn_nft_eval().
 */
struct fn_trace;
enum fn_verdict fn_nft_eval_traced(struct fn_nft_state *s, enum fn_hook hook,
				   struct fn_pkt *pkt, struct fn_nft_result *res,
				   struct fn_trace *t);
/* The name of chain `chain` (an index, as trace events give it), or NULL
 * when the image has no such chain. */
const char *fn_nft_chain_name(const struct fn_nft_state *s, uint32_t chain);

/*
 * Resume a hook where the kernel part stopped (xdp/meta.h): base chain
 * `chain` (0 .. hook_count - 1) of `hook` from global rule `rule`, with an
 * empty jump stack, then the later base chains; the rules before are not
 * evaluated. The caller runs the next hook as usual afterwards. An invalid
 * point (no such base chain, or a rule outside it) is FN_DROP, decided by no
 * chain.
 */
enum fn_verdict fn_nft_eval_from(struct fn_nft_state *s, enum fn_hook hook,
				 struct fn_pkt *pkt, uint32_t chain, uint32_t rule,
				 struct fn_nft_result *res);

/* Add counts taken elsewhere (the kernel part's counters) to counter slot
 * `slot` (image order), so the listings below report the sum. -EINVAL for a
 * slot the image does not have. */
int fn_nft_counter_add(struct fn_nft_state *s, uint32_t slot, uint64_t packets,
		       uint64_t bytes);

/* Per-rule counter expressions, with the ruleset's initial values: cb once
 * per rule that has a counter, in image order. */
void fn_nft_counters(struct fn_nft_state *s,
		     void (*cb)(void *arg, const char *chain, uint64_t handle,
				uint64_t packets, uint64_t bytes), void *arg);

/* Named counter objects: cb once per object. */
void fn_nft_named_counters(struct fn_nft_state *s,
			   void (*cb)(void *arg, const char *name,
				      uint64_t packets, uint64_t bytes), void *arg);

/* Replace the clocks (limits, conntrack timeouts, meta time): for tests and
 * for replaying captures at their own timestamps. Both return ns. */
void fn_nft_state_set_clock(struct fn_nft_state *s, uint64_t (*mono_ns)(void *),
			    uint64_t (*real_ns)(void *), void *arg);
/* Where log lines go (default: nowhere, only counted). */
void fn_nft_state_set_log(struct fn_nft_state *s,
			  void (*log)(void *arg, int level, const char *line),
			  void *arg);
/* Log lines written and suppressed by the rate limit. */
void fn_nft_log_stats(const struct fn_nft_state *s, uint64_t *lines,
		      uint64_t *suppressed);
/* New elements refused because their dynamic set was full (the add or
 * update then did not match). */
uint64_t fn_nft_set_full(const struct fn_nft_state *s);
/* Packets dropped because the ct count lists had no room left. */
uint64_t fn_nft_connlimit_full(const struct fn_nft_state *s);
/* Flows in the conntrack table. */
unsigned fn_nft_ct_count(const struct fn_nft_state *s);
/* Flow entries conntrack has looked at so far (fn_ct_examined()). */
uint64_t fn_nft_ct_examined(const struct fn_nft_state *s);

/*
 * Run later packets with the ops of another image of the same ruleset: one
 * whose bytes outside the code section are those of the loaded image (the
 * same chains, rules, sets, counters and objects), so all state carries on.
 * For tests that put one packet through other semantics (tests/diff).
 * 0, or:
 *  -EBADMSG the image failed verification
 *  -EINVAL  its layout differs from the loaded image's
 *  -ENOMEM
 */
int fn_nft_state_replace_code(struct fn_nft_state *s, const void *image, size_t len);

#endif /* FN_NFT_EVAL_H */
