/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the commands' reports (report_apps.c, report_stats.c,
 * report_ruleset.c, report_counters.c) share: each describes a finished
 * query as a document (doc.h), with the same fields for the same things.
 */
#ifndef FND_REPORT_CMD_H
#define FND_REPORT_CMD_H

#include "doc.h"
#include "query.h"

/* One per command: the document, or NULL when out of memory. */
struct fnd_doc *fnd_report_apps(const struct fnd_query *q);
struct fnd_doc *fnd_report_stats(const struct fnd_query *q);
struct fnd_doc *fnd_report_ruleset(const struct fnd_query *q);
struct fnd_doc *fnd_report_counters(const struct fnd_query *q);

/* Every query's numbers as Prometheus metrics (report_metrics.c), appended
 * to out: 0 or -ENOMEM. */
int fnd_report_metrics(const struct fnd_query *q, struct fnd_buf *out);

/* "filtered", "UNFILTERED" (running without rules, or configured to when
 * no table is for it), "refused", "applying" or "no-answer". */
const char *fnd_report_state(const struct fnd_app_report *a);
/* An application's name, pid, uid, queues, answered, state, generation,
 * generation_sent, generation_refused and unfiltered. */
void fnd_report_app(struct fnd_field *obj, const struct fnd_app_report *a);
/* Its kernel enforcement, as object "kernel" (text: a line of its own; an
 * empty text-only field for an application that has none). */
void fnd_report_kernel(struct fnd_field *obj, const struct fnd_app_report *a);
/* Its queues added up: rx_packets, rx_bytes, tx_packets, tx_bytes,
 * rx_datagrams, tx_datagrams, drops (unknown without an answer). */
void fnd_report_totals(struct fnd_field *obj, const struct fnd_app_report *a);
/* The daemon's connection counts and refusals, as object "connections"
 * (text: one line). */
void fnd_report_conns(struct fnd_field *root, const struct fnd_query *q);
/* chain and handle, or object; then packets and bytes. */
void fnd_report_counter(struct fnd_field *obj, const struct fnd_counter *c);

#endif /* FND_REPORT_CMD_H */
