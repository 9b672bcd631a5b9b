/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The output of `fragnetctl list ruleset`, `list counters`, `apps` and
 * `stats`, as text for people or JSON (-j) for programs, made from a
 * finished query: each command describes its output once (report_*.c, as a
 * doc.h tree) and doc.h prints it either way. `stats -f prometheus` is the
 * query's numbers as Prometheus metrics, from a table of their own
 * (report_metrics.c).
 *
 * `list ruleset` is the nft listing of the generation each application
 * applies, with the counters replaced by that application's own, summed
 * over its lcores: the kernel's counters in the compile namespace never see
 * a packet. `list counters` adds the final counters of the generations each
 * application replaced, per generation and in total.
 */
#ifndef FND_REPORT_H
#define FND_REPORT_H

#include "buf.h"

struct fnd_query;

/* Append q's report to out. 0, -EINVAL for a command that is no query, or
 * -ENOMEM. */
int fnd_report(const struct fnd_query *q, struct fnd_buf *out);

#endif /* FND_REPORT_H */
