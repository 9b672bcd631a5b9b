/* SPDX-License-Identifier: BSD-3-Clause */
/* `fragnetctl stats`: every queue of every application, drops by reason.
 * Link losses have no total: the queues of one port each count its loss. */
#include <ctype.h>

#include "report_cmd.h"

#define TEXT "generation {generation}, {n_apps} application(s)\n{connections}{apps}"
#define APP "\n{name}[{pid}] uid {uid}: generation {generation}, {state}"
#define HEAD "  {'QUEUE':-6} {'RX_PKTS':12} {'RX_BYTES':14} {'TX_PKTS':12} {'TX_BYTES':14} " \
	"{'DGRAMS_IN':10} {'DGRAMS_OUT':10} {'DROPS':9} {'LINK_DOWN':9} {'BUSY_S':10}  BY REASON\n"
#define ANSWERED APP ", rule log lines {log_lines} ({log_suppressed} suppressed), " \
	"dynamic set full {set_full}, ct count full {ct_count_full}\n" \
	HEAD "{queue_stats}{total}"
#define SILENT APP " (no answer within {timeout_ms} ms)\n"
#define COLUMNS(first) "  " first " {rx_packets:12} {rx_bytes:14} {tx_packets:12} " \
	"{tx_bytes:14} {rx_datagrams:10} {tx_datagrams:10} {drops:9}"
#define QUEUE COLUMNS("{queue:-6}") " {link_down:9} {busy:10}  {drops_by_reason}\n"
#define TOTAL COLUMNS("{'total':-6}") "\n"

/* Drop reason names come from applications, and are keys: only what a name is. */
static void safe_word(char *out, size_t len, const char *in)
{
	size_t i;

	for (i = 0; in[i] && i + 1 < len; i++)
		out[i] = isalnum((unsigned char)in[i]) || in[i] == '_' ? in[i] : '?';
	out[i] = '\0';
}

static void queue(struct fnd_field *list, unsigned qi, const struct fn_ctl_queue_stats *s)
{
	struct fnd_field *row = fnd_field_object(list, NULL, QUEUE), *drops;

	fnd_field_u64(row, "queue", qi);
	fnd_field_u64(row, "rx_packets", s->rx_packets);
	fnd_field_u64(row, "rx_bytes", s->rx_bytes);
	fnd_field_u64(row, "tx_packets", s->tx_packets);
	fnd_field_u64(row, "tx_bytes", s->tx_bytes);
	fnd_field_u64(row, "rx_datagrams", s->rx_datagrams);
	fnd_field_u64(row, "tx_datagrams", s->tx_datagrams);
	fnd_field_u64(row, "drops", s->drops_total);
	fnd_field_u64(row, "filter_generation", s->filter_generation);
	fnd_field_u64(row, "link_down", s->link_down);
	fnd_field_u64(row, "busy_ns", s->busy_ns);
	fnd_field_textf(row, "busy", "%.3f", s->busy_ns / 1e9);
	drops = fnd_field_object(row, "drops_by_reason", NULL);
	for (uint32_t r = 0; r < s->n_drops; r++) {
		char name[FN_CTL_DROP_NAME_MAX];

		safe_word(name, sizeof(name), s->drops[r].name);
		fnd_field_u64(drops, name, s->drops[r].count);
	}
}

struct fnd_doc *fnd_report_stats(const struct fnd_query *q)
{
	struct fnd_doc *doc = fnd_doc_new(TEXT);
	struct fnd_field *root = fnd_doc_root(doc), *apps;

	fnd_field_u64(root, "generation", q->generation);
	fnd_field_textf(root, "n_apps", "%zu", q->n_apps);
	fnd_report_conns(root, q);
	apps = fnd_field_list(root, "apps", NULL);
	for (size_t i = 0; i < q->n_apps; i++) {
		const struct fnd_app_report *a = &q->apps[i];
		const char *text = a->answered ? ANSWERED : SILENT;
		struct fnd_field *app = fnd_field_object(apps, NULL, text);
		struct fnd_field *queues;

		fnd_report_app(app, a);
		fnd_field_textf(app, "timeout_ms", "%u", q->timeout_ms);
		fnd_field_u64(app, "log_lines", a->end.log_lines);
		fnd_field_u64(app, "log_suppressed", a->end.log_suppressed);
		fnd_field_u64(app, "set_full", a->end.set_full);
		fnd_field_u64(app, "ct_count_full", a->end.ct_count_full);
		fnd_report_totals(fnd_field_object(app, "total", TOTAL), a);
		queues = fnd_field_list(app, "queue_stats", NULL);
		for (unsigned qi = 0; qi < a->n_queues; qi++)
			if (a->have_queue[qi])
				queue(queues, qi, &a->queues[qi]);
	}
	return doc;
}
