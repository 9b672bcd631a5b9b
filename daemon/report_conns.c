/* SPDX-License-Identifier: BSD-3-Clause */
/* The daemon's connections in `fragnetctl stats`: what local users hold
 * open, and what the caps and the registration deadline refused. */
#include "report_cmd.h"

#define CONNS "connections: {open} open (max {max}, {max_per_uid} per uid), {accepted} " \
	"accepted; refused: {refused_not_allowed} not allowed, {refused_max} over " \
	"max_connections, {refused_max_per_uid} over max_connections_per_uid, " \
	"{refused_names} for a name bound to others, {applied_unsent} for reporting a " \
	"generation never sent; {register_timeouts} closed silent, {refusals_unread} closed " \
	"with their refusal unread, {read_pauses} read pause(s) for answers left unread, " \
	"{accept_pauses} accept pause(s) out of fds\n"

void fnd_report_conns(struct fnd_field *root, const struct fnd_query *q)
{
	struct fnd_field *c = fnd_field_object(root, "connections", CONNS);
	const struct fnd_conn_stats *s = &q->conns;

	fnd_field_u64(c, "open", s->open);
	fnd_field_u64(c, "max", s->max);
	fnd_field_u64(c, "max_per_uid", s->max_per_uid);
	fnd_field_u64(c, "accepted", s->accepted);
	fnd_field_u64(c, "refused_not_allowed", s->refused_not_allowed);
	fnd_field_u64(c, "refused_max", s->refused_max);
	fnd_field_u64(c, "refused_max_per_uid", s->refused_max_per_uid);
	fnd_field_u64(c, "refused_names", q->app_stats.refused_names);
	fnd_field_u64(c, "applied_unsent", q->app_stats.applied_unsent);
	fnd_field_u64(c, "register_timeouts", s->register_timeouts);
	fnd_field_u64(c, "refusals_unread", s->refusals_unread);
	fnd_field_u64(c, "read_pauses", s->read_pauses);
	fnd_field_u64(c, "accept_pauses", s->accept_pauses);
}
