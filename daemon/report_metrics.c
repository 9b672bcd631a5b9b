/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * `fragnetctl stats --format prometheus`: the numbers of a stats query in
 * the Prometheus text exposition format (version 0.0.4), for
 * node_exporter's textfile collector. Every metric is one row of the table
 * below, which docs/metrics.md documents row by row; a family is always
 * announced (# HELP, # TYPE), with no samples when nothing has it.
 *
 * Series are told apart by labels: app and pid (several processes may
 * register one name, one per queue), queue, reason; a rule by the table,
 * chain and handle nft gives it (and nth for a rule's second counter on).
 * Counters of the generation each application applies: a new generation
 * restarts those of rules it recreates, which rate() takes as a reset.
 */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report_cmd.h"

enum scope {
	DAEMON,        /* fragnetd itself */
	APP,           /* per application process: app, pid */
	APP_ANSWERED,  /* the same, only known from an answer */
	QUEUE,         /* per queue: app, pid, queue */
	QUEUE_NS,      /* the same, a count of nanoseconds shown as seconds */
	REASON,        /* per queue and drop reason: app, pid, queue, reason */
	RULE,          /* per rule counter in the application: app, pid, table, chain, handle */
	OBJECT,        /* per named counter: app, pid, table, object */
	XDP_RULE,      /* per rule counter in the kernel: app, table, chain, handle */
};

struct metric {
	const char *name;
	const char *type;          /* "counter" or "gauge" */
	const char *help;
	enum scope scope;
	/* QUEUE, QUEUE_NS: the uint64_t of struct fn_ctl_queue_stats; RULE, OBJECT,
	 * XDP_RULE: of struct fnd_counter; DAEMON, APP: see value() */
	size_t off;
};

enum {
	V_GENERATION, V_NFT_GENERATION, V_APPS, V_CONN_OPEN, V_CONN_ACCEPTED,
	V_APP_INFO, V_APP_GENERATION, V_APP_QUEUES, V_APP_UNFILTERED, V_APP_ANSWERED,
	V_LOG_LINES, V_LOG_SUPPRESSED, V_CT_COUNT_FULL,
};

#define QS(f) offsetof(struct fn_ctl_queue_stats, f)
#define CT(f) offsetof(struct fnd_counter, f)

static const struct metric metrics[] = {
	{ "fragnetd_generation", "gauge",
	  "Number of the ruleset generation fragnetd publishes now.", DAEMON, V_GENERATION },
	{ "fragnetd_nft_generation", "gauge",
	  "nftables generation of fragnetd's namespace it was read from.", DAEMON,
	  V_NFT_GENERATION },
	{ "fragnetd_applications", "gauge",
	  "Applications registered (asked by this query).", DAEMON, V_APPS },
	{ "fragnetd_connections", "gauge",
	  "Connections to fragnetd's socket open now (applications and fragnetctl).", DAEMON,
	  V_CONN_OPEN },
	{ "fragnetd_connections_accepted_total", "counter",
	  "Connections fragnetd accepted since it started.", DAEMON, V_CONN_ACCEPTED },
	{ "fragnet_app_info", "gauge",
	  "1 per registered application process; uid and state (filtered, applying, refused, "
	  "UNFILTERED, no-answer) as labels.", APP, V_APP_INFO },
	{ "fragnet_app_answered", "gauge",
	  "1 if the application answered this query in time, else 0.", APP, V_APP_ANSWERED },
	{ "fragnet_app_generation", "gauge",
	  "Ruleset generation the application applies.", APP, V_APP_GENERATION },
	{ "fragnet_app_queues", "gauge", "Queues the application runs.", APP, V_APP_QUEUES },
	{ "fragnet_app_unfiltered", "gauge",
	  "1 if the application runs without rules (FRAGNET_F_UNFILTERED).", APP_ANSWERED,
	  V_APP_UNFILTERED },
	{ "fragnet_app_rule_log_lines_total", "counter",
	  "Lines the application's log rules wrote.", APP_ANSWERED, V_LOG_LINES },
	{ "fragnet_app_rule_log_suppressed_total", "counter",
	  "Log rule lines the application's log rate limit suppressed.", APP_ANSWERED,
	  V_LOG_SUPPRESSED },
	{ "fragnet_app_ct_count_full_total", "counter",
	  "Packets dropped because the pool of ct count connections of a queue was empty.",
	  APP_ANSWERED, V_CT_COUNT_FULL },
	{ "fragnet_queue_rx_packets_total", "counter",
	  "Packets the queue received.", QUEUE, QS(rx_packets) },
	{ "fragnet_queue_rx_bytes_total", "counter",
	  "Bytes the queue received.", QUEUE, QS(rx_bytes) },
	{ "fragnet_queue_tx_packets_total", "counter",
	  "Packets the queue sent.", QUEUE, QS(tx_packets) },
	{ "fragnet_queue_tx_bytes_total", "counter",
	  "Bytes the queue sent.", QUEUE, QS(tx_bytes) },
	{ "fragnet_queue_rx_datagrams_total", "counter",
	  "UDP datagrams the queue delivered to the application.", QUEUE, QS(rx_datagrams) },
	{ "fragnet_queue_tx_datagrams_total", "counter",
	  "UDP datagrams the application sent from the queue.", QUEUE, QS(tx_datagrams) },
	{ "fragnet_queue_drops_total", "counter",
	  "Packets the queue dropped, every reason.", QUEUE, QS(drops_total) },
	{ "fragnet_queue_filter_installs_total", "counter",
	  "Rule generations the queue installed.", QUEUE, QS(filter_generation) },
	{ "fragnet_queue_link_down_total", "counter",
	  "Times the queue's port lost its link (a memif port whose peer left).", QUEUE,
	  QS(link_down) },
	{ "fragnet_queue_busy_seconds_total", "counter",
	  "Time the queue's lcore spent in polls that received packets (each to the next "
	  "poll's start): its busy share against wall time.", QUEUE_NS, QS(busy_ns) },
	{ "fragnet_queue_drops_by_reason_total", "counter",
	  "Packets the queue dropped, by reason (the reasons that are not zero).", REASON, 0 },
	{ "fragnet_rule_packets_total", "counter",
	  "Packets a rule's counter counted in the application, over its lcores.", RULE,
	  CT(packets) },
	{ "fragnet_rule_bytes_total", "counter",
	  "Bytes a rule's counter counted in the application, over its lcores.", RULE,
	  CT(bytes) },
	{ "fragnet_counter_packets_total", "counter",
	  "Packets a named counter object counted in the application.", OBJECT, CT(packets) },
	{ "fragnet_counter_bytes_total", "counter",
	  "Bytes a named counter object counted in the application.", OBJECT, CT(bytes) },
	{ "fragnet_xdp_rule_packets_total", "counter",
	  "Packets a rule's counter counted in fragnetd's XDP program (kernel enforcement).",
	  XDP_RULE, CT(packets) },
	{ "fragnet_xdp_rule_bytes_total", "counter",
	  "Bytes a rule's counter counted in fragnetd's XDP program (kernel enforcement).",
	  XDP_RULE, CT(bytes) },
};

static uint64_t value(const struct fnd_query *q, const struct fnd_app_report *a, size_t v)
{
	switch (v) {
	case V_GENERATION: return q->generation;
	case V_NFT_GENERATION: return q->nft_generation;
	case V_APPS: return q->n_apps;
	case V_CONN_OPEN: return q->conns.open;
	case V_CONN_ACCEPTED: return q->conns.accepted;
	case V_APP_INFO: return 1;
	case V_APP_GENERATION: return fnd_app_report_generation(a);
	case V_APP_QUEUES: return a->n_queues;
	case V_APP_UNFILTERED: return a->end.unfiltered != 0;
	case V_APP_ANSWERED: return a->answered;
	case V_LOG_LINES: return a->end.log_lines;
	case V_LOG_SUPPRESSED: return a->end.log_suppressed;
	case V_CT_COUNT_FULL: return a->end.ct_count_full;
	}
	return 0;
}

/* ,key="value": quotes, backslashes and newlines escaped as the format
 * says; bytes outside printable ASCII (names come from applications)
 * become '?', so the output is always valid UTF-8. */
static void label(struct fnd_buf *b, const char *key, const char *v)
{
	fnd_buf_printf(b, ",%s=\"", key);
	for (const char *p = v; *p; p++) {
		if (*p == '"' || *p == '\\')
			fnd_buf_printf(b, "\\%c", *p);
		else if (*p == '\n')
			fnd_buf_add(b, "\\n", 2);
		else
			fnd_buf_add(b, *p >= 0x20 && *p < 0x7f ? p : "?", 1);
	}
	fnd_buf_add(b, "\"", 1);
}

static void label_u64(struct fnd_buf *b, const char *key, uint64_t v)
{
	char s[24];

	snprintf(s, sizeof(s), "%" PRIu64, v);
	label(b, key, s);
}

/* name{app="..",pid=".." ...; the caller adds its labels, then sample(). */
static void start(struct fnd_buf *b, const struct metric *m, const struct fnd_app_report *a)
{
	size_t at;

	fnd_buf_printf(b, "%s", m->name);
	at = b->len;
	label(b, "app", a->name);
	if (!b->failed)
		b->s[at] = '{';    /* the first label's comma */
	if (m->scope != XDP_RULE)
		label_u64(b, "pid", (uint64_t)a->pid);
}

static void sample(struct fnd_buf *b, uint64_t v)
{
	fnd_buf_printf(b, "} %" PRIu64 "\n", v);
}

/* Nanoseconds as seconds, every digit exact (a double would round). */
static void sample_ns(struct fnd_buf *b, uint64_t ns)
{
	fnd_buf_printf(b, "} %" PRIu64 ".%09" PRIu64 "\n", ns / 1000000000u, ns % 1000000000u);
}

static uint64_t field(const void *base, size_t off)
{
	uint64_t v;

	memcpy(&v, (const char *)base + off, sizeof(v));
	return v;
}

static void queues(struct fnd_buf *b, const struct metric *m, const struct fnd_app_report *a)
{
	for (unsigned qi = 0; qi < a->n_queues; qi++) {
		const struct fn_ctl_queue_stats *s = &a->queues[qi];

		if (!a->have_queue[qi])
			continue;
		for (uint32_t r = 0; r < (m->scope == REASON ? s->n_drops : 1); r++) {
			start(b, m, a);
			label_u64(b, "queue", qi);
			if (m->scope == REASON)
				label(b, "reason", s->drops[r].name);
			if (m->scope == REASON)
				sample(b, s->drops[r].count);
			else if (m->scope == QUEUE_NS)
				sample_ns(b, field(s, m->off));
			else
				sample(b, field(s, m->off));
		}
	}
}

static bool same_rule(const struct fnd_counter *c, const struct fnd_counter *d)
{
	return c->handle == d->handle && strcmp(c->chain, d->chain) == 0;
}

/* Rule counters by chain, handle, then the order reported (the array's):
 * the k-th counter of a rule gets nth="k+1" from its second on, as `list
 * counters` numbers them. */
static int by_rule(const void *x, const void *y)
{
	const struct fnd_counter *c = *(const struct fnd_counter *const *)x;
	const struct fnd_counter *d = *(const struct fnd_counter *const *)y;
	int r = strcmp(c->chain, d->chain);

	if (r == 0)
		r = c->handle < d->handle ? -1 : c->handle > d->handle;
	return r ? r : c < d ? -1 : c > d;
}

/* The live counters (of the generation applied; final ones are of replaced
 * generations) of rules, or of named objects. */
static void counters(struct fnd_buf *b, const struct metric *m, const struct fnd_app_report *a,
		     const struct fnd_counter *cs, size_t n)
{
	const struct fnd_counter **live = calloc(n ? n : 1, sizeof(*live));
	size_t nl = 0;
	unsigned k = 0;

	if (live == NULL) {
		b->failed = true;
		return;
	}
	for (size_t i = 0; i < n; i++)
		if (!cs[i].final && (cs[i].chain != NULL) == (m->scope != OBJECT))
			live[nl++] = &cs[i];
	if (m->scope != OBJECT)
		qsort(live, nl, sizeof(*live), by_rule);
	for (size_t i = 0; i < nl; i++) {
		const struct fnd_counter *c = live[i];

		start(b, m, a);
		label(b, "table", a->table ? a->table : "");
		if (m->scope == OBJECT) {
			label(b, "object", c->object);
		} else {
			k = i && same_rule(live[i - 1], c) ? k + 1 : 0;
			label(b, "chain", c->chain);
			label_u64(b, "handle", c->handle);
			if (k)
				label_u64(b, "nth", k + 1);
		}
		sample(b, field(c, m->off));
	}
	free(live);
}

/* The kernel's counters belong to the application's name, not to one of
 * its processes: once per name. */
static bool first_of_name(const struct fnd_query *q, size_t i)
{
	for (size_t j = 0; j < i; j++)
		if (strcmp(q->apps[j].name, q->apps[i].name) == 0)
			return false;
	return true;
}

static void family(struct fnd_buf *b, const struct fnd_query *q, const struct metric *m)
{
	fnd_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", m->name, m->help, m->name, m->type);
	if (m->scope == DAEMON) {
		fnd_buf_printf(b, "%s %" PRIu64 "\n", m->name, value(q, NULL, m->off));
		return;
	}
	for (size_t i = 0; i < q->n_apps; i++) {
		const struct fnd_app_report *a = &q->apps[i];

		switch (m->scope) {
		case APP:
		case APP_ANSWERED:
			if (m->scope == APP_ANSWERED && !a->answered)
				break;
			start(b, m, a);
			if (m->off == V_APP_INFO) {
				label_u64(b, "uid", a->uid);
				label(b, "state", fnd_report_state(a));
			}
			sample(b, value(q, a, m->off));
			break;
		case QUEUE:
		case QUEUE_NS:
		case REASON:
			queues(b, m, a);
			break;
		case RULE:
		case OBJECT:
			counters(b, m, a, a->counters, a->n_counters);
			break;
		case XDP_RULE:
			if (a->kernel && first_of_name(q, i))
				counters(b, m, a, a->kcounters, a->n_kcounters);
			break;
		case DAEMON:
			break;
		}
	}
}

int fnd_report_metrics(const struct fnd_query *q, struct fnd_buf *out)
{
	for (size_t i = 0; i < sizeof(metrics) / sizeof(metrics[0]); i++)
		family(out, q, &metrics[i]);
	return out->failed ? -ENOMEM : 0;
}
