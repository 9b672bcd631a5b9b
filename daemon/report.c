/* SPDX-License-Identifier: BSD-3-Clause */
/* Command output (report.h): the fields the commands share, and the choice
 * of command and form. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "report.h"
#include "report_cmd.h"

const char *fnd_report_state(const struct fnd_app_report *a)
{
	if (!a->answered)
		return "no-answer";
	/* without rules, or by configuration without a table (app.NAME.unfiltered) */
	if (a->end.unfiltered || (a->table && a->table[0] == '\0' && !a->refused_input))
		return "UNFILTERED";
	if (a->refused_gen > a->applied_gen)
		return "refused";
	if (a->sent_gen > a->end.generation)
		return "applying";
	return "filtered";
}

void fnd_report_app(struct fnd_field *obj, const struct fnd_app_report *a)
{
	fnd_field_name(obj, "name", a->name);
	fnd_field_int(obj, "pid", a->pid);
	fnd_field_u64(obj, "uid", a->uid);
	fnd_field_u64(obj, "queues", a->n_queues);
	fnd_field_bool(obj, "answered", a->answered);
	fnd_field_str(obj, "state", fnd_report_state(a));
	fnd_field_u64(obj, "generation", fnd_app_report_generation(a));
	fnd_field_u64(obj, "generation_sent", a->sent_gen);
	fnd_field_u64(obj, "generation_refused", a->refused_gen);
	fnd_field_bool(obj, "unfiltered",
		       a->answered && strcmp(fnd_report_state(a), "UNFILTERED") == 0);
}

void fnd_report_kernel(struct fnd_field *obj, const struct fnd_app_report *a)
{
	struct fnd_field *k;
	char queues[64 * 3 + 1] = "";
	size_t n = 0;

	if (!a->kernel) {
		fnd_field_mark(fnd_field_textf(obj, "kernel", "%s", ""), FND_FIELD_TEXT_ONLY);
		return;
	}
	for (unsigned q = 0; q < 64; q++)
		if (a->xdp.queues & (1ull << q))
			n += (size_t)snprintf(queues + n, sizeof(queues) - n, "%s%u", n ? "," : "", q);
	k = fnd_field_object(obj, "kernel",
			     "  kernel: {ifname} {mode} mode, XDP program {program_id}, rules program "
			     "{rules_program_id}, generation {generation}{pending_note}, rx queues "
			     "{rx_queues}\n");
	fnd_field_str(k, "ifname", a->xdp.ifname);
	fnd_field_str(k, "mode", a->xdp.mode);
	fnd_field_u64(k, "program_id", a->xdp.prog_id);
	fnd_field_u64(k, "rules_program_id", a->xdp.rules_id);
	fnd_field_u64(k, "generation", a->xdp.generation);
	fnd_field_u64(k, "pending", a->xdp.pending);
	fnd_field_str(k, "rx_queues", n ? queues : "none");
	if (a->xdp.pending)
		fnd_field_textf(k, "pending_note", " (%" PRIu64 " waiting for the application)",
				a->xdp.pending);
	else
		fnd_field_textf(k, "pending_note", "%s", "");
}

void fnd_report_totals(struct fnd_field *obj, const struct fnd_app_report *a)
{
	uint64_t t[7] = { 0 };
	static const char *const keys[7] = {
		"rx_packets", "rx_bytes", "tx_packets", "tx_bytes", "rx_datagrams",
		"tx_datagrams", "drops",
	};

	for (unsigned q = 0; q < a->n_queues; q++) {
		const struct fn_ctl_queue_stats *s = &a->queues[q];

		if (!a->have_queue[q])
			continue;
		t[0] += s->rx_packets;
		t[1] += s->rx_bytes;
		t[2] += s->tx_packets;
		t[3] += s->tx_bytes;
		t[4] += s->rx_datagrams;
		t[5] += s->tx_datagrams;
		t[6] += s->drops_total;
	}
	for (unsigned i = 0; i < 7; i++) {
		struct fnd_field *f = fnd_field_u64(obj, keys[i], t[i]);

		if (!a->answered)
			fnd_field_mark(f, FND_FIELD_UNKNOWN);
	}
}

void fnd_report_counter(struct fnd_field *obj, const struct fnd_counter *c)
{
	if (c->chain) {
		fnd_field_name(obj, "chain", c->chain);
		fnd_field_u64(obj, "handle", c->handle);
	} else {
		fnd_field_name(obj, "object", c->object);
	}
	fnd_field_u64(obj, "packets", c->packets);
	fnd_field_u64(obj, "bytes", c->bytes);
}

int fnd_report(const struct fnd_query *q, struct fnd_buf *out)
{
	struct fnd_doc *doc;
	int rc;

	if (q->flags & FN_CTL_F_PROMETHEUS)
		return fnd_report_metrics(q, out); /* every query has its numbers */
	switch (q->command) {
	case FN_CTL_CMD_APPS:
		doc = fnd_report_apps(q);
		break;
	case FN_CTL_CMD_STATS:
		doc = fnd_report_stats(q);
		break;
	case FN_CTL_CMD_LIST_RULESET:
		doc = fnd_report_ruleset(q);
		break;
	case FN_CTL_CMD_LIST_COUNTERS:
		doc = fnd_report_counters(q);
		break;
	default:
		return -EINVAL;
	}
	if (doc == NULL)
		return -ENOMEM;
	rc = q->flags & FN_CTL_F_JSON ? fnd_doc_json(doc, out) : fnd_doc_text(doc, out);
	fnd_doc_free(doc);
	return rc;
}
