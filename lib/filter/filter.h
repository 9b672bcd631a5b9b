/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The seam between the stack and the rules: the four hook points, as the
 * queues see them.
 *
 * The stack calls fn_filter_hook() at prerouting, input, output and
 * postrouting with the packet view of nft/packet.h. Everything behind it
 * (the current generation, per-queue counters, limit buckets, conntrack)
 * lives in lib/filter/ and lib/nft/ and is reached only through here; the
 * control side (installing generations, reading counters) is generation.h.
 */
#ifndef FN_FILTER_H
#define FN_FILTER_H

#include <stdbool.h>
#include <stdint.h>

#include "fn_build_config.h"
#include "nft/packet.h"

/*
 * Per-queue filter state, embedded in each queue. Owned by lib/filter/: the stack
 * only passes it to the hooks. `hooks` has bit (1 << hook) set when the
 * current generation has base chains on that hook, so an empty hook costs one
 * load and a branch.
 */
struct fn_filter_queue {
	uint32_t hooks;
	bool defrag_first;    /* prerouting sees reassembled datagrams (the kernel
			       * defragments before prerouting once conntrack is
			       * in use) */
	uint16_t qid;
	uint64_t generation;  /* generation this queue applies (0: none) */
	void *priv;           /* interpreter state for this queue */
	/* What decided at the last hook run here: the interpreter writes it
	 * anyway, and a capture (runtime/capture.h) reads it. */
	struct fn_nft_decision last;
	/* While a trace runs on this queue (runtime/capture.h), every hook
	 * run goes through it instead: it decides whether the packet is
	 * traced and calls fn_filter_run_traced(). NULL otherwise. */
	enum fn_verdict (*tracer)(struct fn_filter_queue *fq, enum fn_hook hook,
				  struct fn_pkt *pkt);
};

/* The process-wide rules (generation.h). */
struct fn_filter;

#if FN_WITH_FILTER
/* Bind queue qid's state to the process rules; before the queue first runs. */
void fn_filter_queue_attach(struct fn_filter *r, struct fn_filter_queue *fq, unsigned qid);
/* Called by the stack at the start of every burst: switches to a newly
 * installed generation and reports that this queue holds no old pointer. */
void fn_filter_burst_begin(struct fn_filter_queue *fq);
/* Called by the stack when a queue stops polling for a while (before an
 * idle sleep, when fragnet_run() returns): old generations are no longer
 * held back by it. Its next fn_filter_burst_begin() brings it back. */
void fn_filter_queue_offline(struct fn_filter_queue *fq);
#else
static inline void fn_filter_burst_begin(struct fn_filter_queue *fq) { (void)fq; }
static inline void fn_filter_queue_offline(struct fn_filter_queue *fq) { (void)fq; }
#endif

#if FN_WITH_FILTER
/* The name of chain index `chain` of the generation this queue applies, ""
 * for none: what fn_filter_queue.last names. */
const char *fn_filter_chain_name(const struct fn_filter_queue *fq, uint32_t chain);

/* Run the base chains of `hook` of this queue's current generation. */
enum fn_verdict fn_filter_run(struct fn_filter_queue *fq, enum fn_hook hook,
			      struct fn_pkt *pkt);

/* The same, noting the rules the packet matched in t (nft/trace.h, emptied
 * first) unless t is NULL. A packet the kernel part judged in part runs
 * untraced (what it judged is not known here): t stays empty. */
struct fn_trace;
enum fn_verdict fn_filter_run_traced(struct fn_filter_queue *fq, enum fn_hook hook,
				     struct fn_pkt *pkt, struct fn_trace *t);

static inline enum fn_verdict
fn_filter_hook(struct fn_filter_queue *fq, enum fn_hook hook, struct fn_pkt *pkt)
{
	if (!(fq->hooks & (1u << hook)))
		return FN_ACCEPT;
	return fn_filter_run(fq, hook, pkt);
}
#else
static inline enum fn_verdict
fn_filter_hook(struct fn_filter_queue *fq, enum fn_hook hook, struct fn_pkt *pkt)
{
	(void)fq; (void)hook; (void)pkt;
	return FN_ACCEPT;
}
#endif

#endif /* FN_FILTER_H */
