/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Stats queries: `fragnetctl list ruleset`, `list counters`, `apps` and
 * `stats` need numbers that only the applications have (per-queue counters,
 * per-rule counters summed over their lcores, the final counters of the
 * generations they replaced). A query asks every registered application
 * at once and is answered when all have replied or its time
 * (stats_timeout_ms) is up; an application that does not answer is shown
 * as such, never waited for. The answer is made by report.c from a
 * finished struct fnd_query alone.
 */
#ifndef FND_QUERY_H
#define FND_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "app.h"
#include "event.h"
#include "peer.h"
#include "xdp.h"
#include "ctl/proto.h"

/*
 * What the applications' answers to one query may hold, split evenly among
 * the applications asked: a registered peer can send any counters it likes,
 * and each one costs a row in the report (twice: by generation and total),
 * so this bounds what it makes the daemon hold and keeps the report under
 * FN_CTL_TEXT_MAX, whatever the others send. What is over an application's
 * share is dropped and counted (counters_dropped), and the report says so.
 */
#define FND_QUERY_MAX_COUNTERS 32768u
#define FND_QUERY_MAX_NAME_BYTES (1u << 20)

struct fnd_config;
struct fnd_queries;
struct fnd_ruleset;

struct fnd_counter {
	uint64_t generation, handle, packets, bytes;
	char *chain;               /* NULL for a named counter object */
	char *object;              /* NULL for a rule counter */
	bool final;                /* a replaced generation's final count */
};

/* Where a rule runs for a kernel-enforced application (xdp.h). */
struct fnd_place {
	char *chain;
	uint64_t handle;
	char *why;                 /* NULL: in the kernel; else why in-process only */
};

/* What one application answered (or did not). */
struct fnd_app_report {
	uint64_t peer_id;
	char name[FN_CTL_NAME_MAX];
	pid_t pid;
	uid_t uid;
	unsigned n_queues;
	uint64_t sent_gen, applied_gen, refused_gen;
	bool asked;                /* a request went out: an answer is expected */
	bool answered;
	struct fn_ctl_queue_stats *queues; /* n_queues, by qid */
	bool *have_queue;
	struct fnd_counter *counters;
	size_t n_counters, cap;
	size_t name_bytes;         /* of the counters' chain and object names */
	uint64_t counters_dropped; /* over its share of the query's budget */
	struct fn_ctl_stats_end end;
	/* set when the query is answered */
	const char *table;         /* its table in the current generation; "": none */
	bool refused_input;        /* none, and so every input packet dropped */
	const char *ruleset;       /* nft text of its generation; NULL: not kept */
	/* kernel enforcement (xdp.h), set when the query is answered */
	bool kernel;
	struct fnd_xdp_info xdp;
	struct fnd_counter *kcounters; /* the kernel's: live, and final of replaced generations */
	size_t n_kcounters;
	struct fnd_place *places;  /* the rules of its generation */
	size_t n_places;
};

struct fnd_query {
	struct fnd_query *next;
	struct fnd_queries *set;
	uint32_t seq;              /* of the STATS_REQ sent to applications */
	uint64_t ctl_peer;         /* who asked */
	uint32_t ctl_seq;
	unsigned command;          /* enum fn_ctl_command */
	unsigned flags;            /* FN_CTL_F_* */
	unsigned timeout_ms;       /* how long applications had */
	struct fnd_timer timer;    /* answers: at the deadline, or once complete */
	size_t pending;            /* applications yet to answer */
	struct fnd_app_report *apps;
	size_t n_apps;
	size_t counter_share, name_share; /* each application's part of the budget */
	/* the current generation, set when the query is answered */
	uint64_t generation, nft_generation;
	const char *ruleset;       /* its nft text */
	/* the daemon's own, set when the query is answered */
	struct fnd_conn_stats conns;
	struct fnd_app_stats app_stats;
};

/* The generation whose counters the application reported. */
static inline uint64_t fnd_app_report_generation(const struct fnd_app_report *a)
{
	return a->answered ? a->end.generation : a->applied_gen;
}

/* Take the applications' STATS_* messages from ps; wait for them
 * cfg->stats_timeout_ms. NULL + errno. */
struct fnd_queries *fnd_queries_new(struct fnd_loop *l, struct fnd_peers *ps,
				    struct fnd_apps *as, struct fnd_ruleset *rs,
				    struct fnd_xdp *xdp, const struct fnd_config *cfg);
/* Drops the queries not answered yet. */
void fnd_queries_free(struct fnd_queries *qs);

/* Ask every application for what request req of peer ctl needs; ctl gets
 * the report (or an error) as the reply to seq. */
void fnd_query_start(struct fnd_queries *qs, struct fnd_peer *ctl, uint32_t seq,
		     const struct fn_ctl_request *req);

#endif /* FND_QUERY_H */
