/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Private to lib/nft/: a verified program (an image with its sections
 * resolved), the mutable state the interpreter updates, the per-packet
 * context, and the registry of op types.
 *
 * Layering: verify.c turns image bytes into a struct fn_nft_prog; state.c
 * allocates what a program needs per queue (counters, dynamic sets, log
 * budget) and per
 * generation across queues (limit buckets, quotas); interp.c runs a hook;
 * expr_*.c implement one family of ops each; conntrack.c is the per-queue
 * flow table, which outlives generations. None of it needs DPDK.
 */
#ifndef FN_NFT_H
#define FN_NFT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "image.h"
#include "packet.h"

#define FN_LIKELY(x) __builtin_expect(!!(x), 1)
#define FN_UNLIKELY(x) __builtin_expect(!!(x), 0)

struct fn_ct_table;
struct fn_connlimit;
struct fn_dyn_table;

/* A verified image. Pointers into the image, computed once. */
struct fn_nft_prog {
	const uint8_t *base;
	size_t len;
	const struct fn_img_header *hdr;
	const struct fn_img_chain *chains;
	const struct fn_img_rule *rules;
	const uint8_t *code;
	const struct fn_img_set *sets;
	const uint8_t *set_data;
	const struct fn_img_counter *counters;
	const struct fn_img_limit *limits;
	const struct fn_img_quota *quotas;
	const struct fn_img_log *logs;
	const struct fn_img_object *objects;
	const char *strings;
	const uint8_t *classify;
	/* Hooks a queue must run: those with base chains, and all four when
	 * the program uses conntrack (it updates and confirms flows there). */
	uint32_t hooks;
	/* Per hook, the first base chain (counted from hook_first) that runs
	 * after conntrack has looked the packet up (priority >= -200). */
	uint16_t ct_chain[FN_HOOK_MAX];
	bool conntrack;
};

/*
 * Check everything about an image once: header, section bounds and
 * alignment, strings, chains and hooks, every op (size, registers read only
 * after this rule wrote them, lengths, indexes), sets (layout, ordering,
 * hash placement), the jump graph (targets, no loops, depth < 16) and where
 * each op may run. Fills *prog on success. Returns 0 or -EBADMSG with a
 * reason in err.
 */
int fn_nft_verify(const void *image, size_t len, struct fn_nft_prog *prog,
		  char *err, size_t errlen);

/*
 * The counters of `next` that continue counters of `prev`, the program it
 * replaces (carry.c): from[i] is the slot of prev that counter i of next
 * continues, or FN_IMG_NONE when it starts afresh. A rule's counters
 * continue when prev has the rule (same table, chain and handle) with the
 * same expressions; a named counter when prev has one of the same name;
 * either only when the image starts it at the same value as prev's.
 * prev may be NULL. from has next's n_counters entries. Returns how many
 * continue.
 */
uint32_t fn_nft_carry_map(const struct fn_nft_prog *prev, const struct fn_nft_prog *next,
			  uint32_t *from);

static inline const char *fn_nft_str(const struct fn_nft_prog *p, uint32_t off)
{
	return p->strings + off;
}

/* Time and logging, supplied by whoever runs the interpreter. */
struct fn_nft_env {
	uint64_t (*mono_ns)(void *arg);   /* limits, conntrack, log budget */
	uint64_t (*real_ns)(void *arg);   /* meta time/day/hour */
	void *clock_arg;
	int tz_minuteswest;               /* the kernel's sys_tz, for meta day */
	/* A log line (without newline); NULL: only counted. */
	void (*log)(void *arg, int level, const char *line);
	void *log_arg;
};

/* The default env: CLOCK_MONOTONIC/CLOCK_REALTIME, the host's sys_tz. */
void fn_nft_env_default(struct fn_nft_env *env);

/* Per-generation state shared by every queue: the kernel keeps one limit
 * bucket and one quota per expression, and so do we (see expr_limit.c). */
struct fn_nft_shared {
	_Atomic int64_t *limit_empty;     /* per limit: when its bucket was empty */
	_Atomic uint64_t *quota_used;     /* per quota: bytes consumed */
};

struct fn_nft_counter {
	uint64_t packets, bytes;
};

/* Per-queue state for one generation. Written only by its queue. */
struct fn_nft_qstate {
	const struct fn_nft_prog *prog;
	struct fn_nft_shared *shared;
	const struct fn_nft_env *env;
	struct fn_ct_table *ct;           /* the queue's flows (NULL: none) */
	struct fn_nft_counter *counters;
	/* per set: the queue's table of a dynamic set (dynset.h), unused for
	 * the others */
	struct fn_dyn_table *dyn;
	uint64_t set_full;                /* elements a full dynamic set refused */
	struct fn_connlimit *cl;          /* ct count lists (connlimit.h) */
	/* log: when the next line is due (rate limit of this queue) */
	uint64_t log_tat;
	uint64_t log_lines, log_suppressed;
};

struct fn_nft_shared *fn_nft_shared_new(const struct fn_nft_prog *prog,
					const struct fn_nft_env *env);
void fn_nft_shared_free(struct fn_nft_shared *sh);
/* NULL + errno ENOMEM. ct may be NULL when !prog->conntrack. */
struct fn_nft_qstate *fn_nft_qstate_new(const struct fn_nft_prog *prog,
					struct fn_nft_shared *sh,
					const struct fn_nft_env *env,
					struct fn_ct_table *ct);
void fn_nft_qstate_free(struct fn_nft_qstate *qs);

/* A flow's tuple in one direction. Ports as host-order numbers; ICMP
 * keeps its id in sport and type << 8 | code in dport. */
struct fn_ct_tuple {
	uint32_t src, dst;    /* network order */
	uint16_t sport, dport;
	uint8_t proto;
	uint8_t pad[3];
};

/* What a flow carries for the ct expressions, confirmed or pending. */
struct fn_ct_flow {
	uint32_t mark;
	uint32_t id;          /* ct id: a keyed hash, fixed for the flow's life */
	uint32_t labels[4];   /* ct label bits 0..127 */
	uint64_t packets[2], bytes[2]; /* per direction: accounting is always on */
};

/* What conntrack knows about the packet at this point of the hook. */
struct fn_ct_view {
	uint32_t state;       /* NFT ct state bit: invalid 1, established 2,
			       * related 4, new 8 */
	uint32_t status;      /* IPS_* bits of the flow */
	struct fn_ct_flow *flow;
	const struct fn_ct_tuple *tuple; /* original direction */
	uint64_t expires;     /* monotonic ns; 0 while not confirmed */
	uint8_t dir;          /* 0 original, 1 reply */
	uint8_t proto;        /* the flow's l4 protocol */
	bool tracked;         /* a flow is attached (not invalid) */
};

/* Not an image verdict: a classify op's "go on at rule + skip" (never
 * seen outside the rule loop). */
#define FN_V_SKIP (-100)

/* Per-packet context of one hook run. */
struct fn_nft_ctx {
	uint32_t reg[FN_NREGS];
	int32_t vcode;        /* verdict of the current op/rule (enum fn_img_verdict) */
	uint32_t vchain;
	uint32_t skip;        /* FN_V_SKIP: rules to skip from the current one */
	uint8_t reject;       /* enum fn_verdict when a reject op decided */
	uint8_t hook;
	uint8_t tprot;        /* IPv4 protocol */
	bool l4proto;         /* header valid, tprot known (fragments too) */
	bool l4;              /* transport header readable: not a later fragment */
	uint16_t thoff;       /* transport header offset from l3 */
	/* Where network (1), transport (2) and inner (3) payload loads read,
	 * and how many bytes they may: one bound and one pointer per base, set
	 * once per hook run. The transport length is 0 without a readable
	 * transport header (non-first fragment, a header that does not parse).
	 * The inner base is found on its first load in the hook, as the
	 * kernel does (fn_payload_find_inner()); its length stays 0 where the
	 * kernel has no inner offset or it lies past the end. */
	const uint8_t *base_ptr[4];
	uint32_t base_len[4];
	bool inner_ready;     /* base 3 is found */
	bool ct_after;        /* conntrack's hook has run (or is not in this hook) */
	bool ct_ready;        /* ct below is computed */
	struct fn_nft_qstate *qs;
	const struct fn_nft_prog *prog;
	struct fn_pkt *pkt;
	struct fn_ct_view ct;
};

/* Run every base chain of `hook` on pkt. Never fails: malformed packets
 * make matches fail (BREAK), as in the kernel. */
enum fn_verdict fn_nft_run(struct fn_nft_qstate *qs, enum fn_hook hook,
			   struct fn_pkt *pkt, struct fn_nft_decision *d);

/* fn_nft_run(), noting in t (trace.h, filled from t->n on) each rule the
 * packet matched, each chain end and policy. Same verdicts and state
 * effects; only this instance carries the tracing. */
struct fn_trace;
enum fn_verdict fn_nft_run_traced(struct fn_nft_qstate *qs, enum fn_hook hook,
				  struct fn_pkt *pkt, struct fn_nft_decision *d,
				  struct fn_trace *t);

/*
 * Resume where the kernel part (xdp/) stopped: run base chain `chain`
 * (counted from hook_first) from global rule `rule` with an empty jump stack,
 * then the later base chains of the hook. rule == first_rule + n_rules of
 * that chain means only its policy is left. Rules before the resume point are
 * not evaluated, so nothing is counted twice. The caller checks the point
 * with fn_nft_resume_valid().
 */
enum fn_verdict fn_nft_run_from(struct fn_nft_qstate *qs, enum fn_hook hook,
				struct fn_pkt *pkt, uint32_t chain, uint32_t rule,
				struct fn_nft_decision *d);

static inline bool fn_nft_resume_valid(const struct fn_nft_prog *p, unsigned hook,
				       uint32_t chain, uint32_t rule)
{
	const struct fn_img_chain *c;

	if (hook >= FN_HOOK_MAX || chain >= p->hdr->hook_count[hook])
		return false;
	c = &p->chains[p->hdr->hook_first[hook] + chain];
	return rule >= c->first_rule && rule - c->first_rule <= c->n_rules;
}

/*
 * The op registry: one entry per op type, defined by the expr_*.c file of
 * its family. interp.c dispatches the hot ops inline, to the same evals
 * (static inline in the family's expr_*.h).
 */
struct fn_verify;
struct fn_nft_op_type {
	const char *name;
	uint8_t min_size;      /* in words */
	void (*eval)(struct fn_nft_ctx *c, const struct fn_op *op);
	/* Check one op of a rule; 0 or -EBADMSG (through fn_verify_fail). */
	int (*verify)(struct fn_verify *v, const struct fn_op *op);
};

extern const struct fn_nft_op_type *const fn_nft_op_types[FN_OP_MAX];

/* Verifier services for the op checks. */
struct fn_verify {
	const struct fn_nft_prog *prog;
	uint32_t chain;        /* chain being checked */
	uint32_t rule;         /* rule being checked (global index) */
	uint32_t reg_init;     /* bit r: register r written earlier in the rule */
	uint32_t op_index;
	uint32_t (*edges)[2];  /* jump/goto edges: from chain, to chain */
	size_t n_edges, cap_edges;
	uint8_t *has_reject;   /* per chain: holds a reject op */
	char *err;
	size_t errlen;
};

int fn_verify_fail(struct fn_verify *v, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* A read of len bytes from register reg: in bounds and written earlier. */
int fn_verify_load(struct fn_verify *v, unsigned reg, unsigned len);
/* A write of len bytes to register reg: in bounds; marks it written. */
int fn_verify_store(struct fn_verify *v, unsigned reg, unsigned len);
/* A data operand of len bytes stored in words after fixed_size bytes of op. */
int fn_verify_data(struct fn_verify *v, const struct fn_op *op, size_t fixed,
		   unsigned len, unsigned count);
/* A verdict (immediate or map element): code valid, chain a regular chain;
 * records the edge from the chain being checked for the graph check. */
int fn_verify_vdata(struct fn_verify *v, const struct fn_img_vdata *vd);
/* A lookup of verdict map `set` from the chain being checked: its jumps. */
int fn_verify_vmap_edges(struct fn_verify *v, uint32_t set);

/* Register access. */
static inline uint8_t *fn_reg8(struct fn_nft_ctx *c, unsigned reg)
{
	return (uint8_t *)&c->reg[reg];
}

/* The kernel's nft_reg_store8/16: the whole word is cleared first. */
static inline void fn_reg_store8(uint32_t *d, uint8_t v)
{
	*d = 0;
	*(uint8_t *)d = v;
}

static inline void fn_reg_store16(uint32_t *d, uint16_t v)
{
	*d = 0;
	*(uint16_t *)d = v;
}

/* Per-queue log budget: at most this many lines per second and queue; the
 * rest are counted as suppressed. */
#define FN_NFT_LOG_PER_SEC 10

#endif /* FN_NFT_H */
