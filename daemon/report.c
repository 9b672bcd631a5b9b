/* SPDX-License-Identifier: BSD-3-Clause */
/* Command output (report.h). */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "query.h"
#include "report.h"

/* ------------------------------------------------------------ helpers */

static void json_name(struct fnd_buf *b, const char *s)
{
	fnd_buf_json_str(b, s, strlen(s));
}

/* Drop reason names come from applications: print only what a name is. */
static void safe_word(char *out, size_t len, const char *in)
{
	size_t i;

	for (i = 0; in[i] && i + 1 < len; i++)
		out[i] = isalnum((unsigned char)in[i]) || in[i] == '_' ? in[i] : '?';
	out[i] = '\0';
}

/* "chain":..,"handle":N or "object":.., then "packets":N,"bytes":N */
static void counter_json(const struct fnd_counter *c, struct fnd_buf *b)
{
	if (c->chain) {
		fnd_buf_printf(b, "\"chain\":");
		json_name(b, c->chain);
		fnd_buf_printf(b, ",\"handle\":%" PRIu64, c->handle);
	} else {
		fnd_buf_printf(b, "\"object\":");
		json_name(b, c->object);
	}
	fnd_buf_printf(b, ",\"packets\":%" PRIu64 ",\"bytes\":%" PRIu64, c->packets, c->bytes);
}

struct totals {
	uint64_t rx_packets, rx_bytes, tx_packets, tx_bytes, rx_dgrams, tx_dgrams, drops;
};

static void sum_queues(const struct fnd_app_report *a, struct totals *t)
{
	memset(t, 0, sizeof(*t));
	for (unsigned q = 0; q < a->n_queues; q++) {
		const struct fn_ctl_queue_stats *s = &a->queues[q];

		if (!a->have_queue[q])
			continue;
		t->rx_packets += s->rx_packets;
		t->rx_bytes += s->rx_bytes;
		t->tx_packets += s->tx_packets;
		t->tx_bytes += s->tx_bytes;
		t->rx_dgrams += s->rx_datagrams;
		t->tx_dgrams += s->tx_datagrams;
		t->drops += s->drops_total;
	}
}

static const char *app_state(const struct fnd_app_report *a)
{
	if (!a->answered)
		return "no-answer";
	if (a->end.unfiltered)
		return "UNFILTERED";
	if (a->refused_gen > a->applied_gen)
		return "refused";
	if (a->sent_gen > a->end.generation)
		return "applying";
	return "filtered";
}

/* ------------------------------------------------------------ apps */

static void apps_text(const struct fnd_query *q, struct fnd_buf *b)
{
	fnd_buf_printf(b, "generation %" PRIu64 " published (nftables generation %" PRIu64
		       "), %zu application(s)\n", q->generation, q->nft_generation,
		       q->n_apps);
	if (q->n_apps == 0)
		return;
	fnd_buf_printf(b, "%-16s %8s %6s %6s %10s %12s %12s %10s  %s\n", "NAME", "PID", "UID",
		       "QUEUES", "GENERATION", "RX", "TX", "DROPS", "STATE");
	for (size_t i = 0; i < q->n_apps; i++) {
		const struct fnd_app_report *a = &q->apps[i];
		struct totals t;

		sum_queues(a, &t);
		fnd_buf_printf(b, "%-16s %8d %6u %6u %10" PRIu64, a->name, (int)a->pid,
			       (unsigned)a->uid, a->n_queues, fnd_app_report_generation(a));
		if (a->answered)
			fnd_buf_printf(b, " %12" PRIu64 " %12" PRIu64 " %10" PRIu64, t.rx_packets,
				       t.tx_packets, t.drops);
		else
			fnd_buf_printf(b, " %12s %12s %10s", "-", "-", "-");
		fnd_buf_printf(b, "  %s\n", app_state(a));
	}
}

static void app_json_head(const struct fnd_app_report *a, struct fnd_buf *b)
{
	fnd_buf_printf(b, "{\"name\":");
	json_name(b, a->name);
	fnd_buf_printf(b, ",\"pid\":%d,\"uid\":%u,\"queues\":%u,\"answered\":%s,"
		       "\"state\":\"%s\",\"generation\":%" PRIu64 ",\"generation_sent\":%" PRIu64
		       ",\"generation_refused\":%" PRIu64 ",\"unfiltered\":%s",
		       (int)a->pid, (unsigned)a->uid, a->n_queues, a->answered ? "true" : "false",
		       app_state(a), fnd_app_report_generation(a), a->sent_gen, a->refused_gen,
		       a->answered && a->end.unfiltered ? "true" : "false");
}

static void totals_json(const struct totals *t, struct fnd_buf *b)
{
	fnd_buf_printf(b, "\"rx_packets\":%" PRIu64 ",\"rx_bytes\":%" PRIu64 ",\"tx_packets\":%"
		       PRIu64 ",\"tx_bytes\":%" PRIu64 ",\"rx_datagrams\":%" PRIu64
		       ",\"tx_datagrams\":%" PRIu64 ",\"drops\":%" PRIu64, t->rx_packets,
		       t->rx_bytes, t->tx_packets, t->tx_bytes, t->rx_dgrams, t->tx_dgrams,
		       t->drops);
}

static void apps_json(const struct fnd_query *q, struct fnd_buf *b)
{
	fnd_buf_printf(b, "{\"generation\":%" PRIu64 ",\"nft_generation\":%" PRIu64 ",\"apps\":[",
		       q->generation, q->nft_generation);
	for (size_t i = 0; i < q->n_apps; i++) {
		const struct fnd_app_report *a = &q->apps[i];
		struct totals t;

		sum_queues(a, &t);
		fnd_buf_printf(b, "%s", i ? "," : "");
		app_json_head(a, b);
		fnd_buf_printf(b, ",");
		totals_json(&t, b);
		fnd_buf_printf(b, "}");
	}
	fnd_buf_printf(b, "]}\n");
}

/* ------------------------------------------------------------ stats */

static void drops_text(const struct fn_ctl_queue_stats *s, struct fnd_buf *b)
{
	for (uint32_t i = 0; i < s->n_drops; i++) {
		char name[FN_CTL_DROP_NAME_MAX];

		safe_word(name, sizeof(name), s->drops[i].name);
		fnd_buf_printf(b, " %s=%" PRIu64, name, s->drops[i].count);
	}
}

static void stats_text(const struct fnd_query *q, struct fnd_buf *b)
{
	fnd_buf_printf(b, "generation %" PRIu64 ", %zu application(s)\n", q->generation,
		       q->n_apps);
	for (size_t i = 0; i < q->n_apps; i++) {
		const struct fnd_app_report *a = &q->apps[i];
		struct totals t;

		fnd_buf_printf(b, "\n%s[%d] uid %u: generation %" PRIu64 ", %s", a->name,
			       (int)a->pid, (unsigned)a->uid, fnd_app_report_generation(a), app_state(a));
		if (!a->answered) {
			fnd_buf_printf(b, " (no answer within %u ms)\n", q->timeout_ms);
			continue;
		}
		fnd_buf_printf(b, ", rule log lines %" PRIu64 " (%" PRIu64 " suppressed)\n",
			       a->end.log_lines, a->end.log_suppressed);
		fnd_buf_printf(b, "  %-6s %12s %14s %12s %14s %10s %10s %9s  %s\n", "QUEUE",
			       "RX_PKTS", "RX_BYTES", "TX_PKTS", "TX_BYTES", "DGRAMS_IN",
			       "DGRAMS_OUT", "DROPS", "BY REASON");
		for (unsigned qi = 0; qi < a->n_queues; qi++) {
			const struct fn_ctl_queue_stats *s = &a->queues[qi];

			if (!a->have_queue[qi])
				continue;
			fnd_buf_printf(b, "  %-6u %12" PRIu64 " %14" PRIu64 " %12" PRIu64 " %14"
				       PRIu64 " %10" PRIu64 " %10" PRIu64 " %9" PRIu64 " ", qi,
				       s->rx_packets, s->rx_bytes, s->tx_packets, s->tx_bytes,
				       s->rx_datagrams, s->tx_datagrams, s->drops_total);
			drops_text(s, b);
			fnd_buf_printf(b, "\n");
		}
		sum_queues(a, &t);
		fnd_buf_printf(b, "  %-6s %12" PRIu64 " %14" PRIu64 " %12" PRIu64 " %14" PRIu64
			       " %10" PRIu64 " %10" PRIu64 " %9" PRIu64 "\n", "total",
			       t.rx_packets, t.rx_bytes, t.tx_packets, t.tx_bytes, t.rx_dgrams,
			       t.tx_dgrams, t.drops);
	}
}

static void stats_json(const struct fnd_query *q, struct fnd_buf *b)
{
	fnd_buf_printf(b, "{\"generation\":%" PRIu64 ",\"apps\":[", q->generation);
	for (size_t i = 0; i < q->n_apps; i++) {
		const struct fnd_app_report *a = &q->apps[i];
		struct totals t;
		bool first = true;

		sum_queues(a, &t);
		fnd_buf_printf(b, "%s", i ? "," : "");
		app_json_head(a, b);
		fnd_buf_printf(b, ",\"log_lines\":%" PRIu64 ",\"log_suppressed\":%" PRIu64
			       ",\"total\":{", a->end.log_lines, a->end.log_suppressed);
		totals_json(&t, b);
		fnd_buf_printf(b, "},\"queue_stats\":[");
		for (unsigned qi = 0; qi < a->n_queues; qi++) {
			const struct fn_ctl_queue_stats *s = &a->queues[qi];

			if (!a->have_queue[qi])
				continue;
			fnd_buf_printf(b, "%s{\"queue\":%u,\"rx_packets\":%" PRIu64 ",\"rx_bytes\":%"
				       PRIu64 ",\"tx_packets\":%" PRIu64 ",\"tx_bytes\":%" PRIu64
				       ",\"rx_datagrams\":%" PRIu64 ",\"tx_datagrams\":%" PRIu64
				       ",\"drops\":%" PRIu64 ",\"filter_generation\":%" PRIu64
				       ",\"drops_by_reason\":{", first ? "" : ",", qi, s->rx_packets,
				       s->rx_bytes, s->tx_packets, s->tx_bytes, s->rx_datagrams,
				       s->tx_datagrams, s->drops_total, s->filter_generation);
			for (uint32_t r = 0; r < s->n_drops; r++) {
				char name[FN_CTL_DROP_NAME_MAX];

				safe_word(name, sizeof(name), s->drops[r].name);
				fnd_buf_printf(b, "%s\"%s\":%" PRIu64, r ? "," : "", name,
					       s->drops[r].count);
			}
			fnd_buf_printf(b, "}}");
			first = false;
		}
		fnd_buf_printf(b, "]}");
	}
	fnd_buf_printf(b, "]}\n");
}

/* ------------------------------------------------------------ list ruleset */

/* The block "table FAMILY NAME { ... }" of an nft listing, or NULL. */
static const char *table_block(const char *text, const char *table, size_t *len)
{
	size_t n = strlen(table);

	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		const char *end;

		if (strncmp(p, "table ", 6) != 0 || strncmp(p + 6, table, n) != 0 ||
		    strncmp(p + 6 + n, " {", 2) != 0)
			continue;
		end = strstr(p, "\n}");
		end = end ? end + 2 : p + strlen(p);
		if (*end == '\n')
			end++;
		*len = (size_t)(end - p);
		return p;
	}
	return NULL;
}

/* The k-th live counter of a rule (or of a named object) in the app's report. */
static const struct fnd_counter *find_counter(const struct fnd_app_report *a, uint64_t gen,
					      const char *chain, uint64_t handle,
					      const char *object, unsigned k)
{
	for (size_t i = 0; i < a->n_counters; i++) {
		const struct fnd_counter *c = &a->counters[i];

		if (c->generation != gen || c->final)
			continue;
		if (object ? c->object == NULL || strcmp(c->object, object) != 0 :
			     c->chain == NULL || strcmp(c->chain, chain) != 0 ||
			     c->handle != handle)
			continue;
		if (k-- == 0)
			return c;
	}
	return NULL;
}

/* "packets N bytes N" at p replaced by the counter (or "?" without one). */
static const char *put_counter(struct fnd_buf *b, const char *p, const struct fnd_counter *c)
{
	unsigned long long pk, by;
	int n = 0;

	if (sscanf(p, "packets %llu bytes %llu%n", &pk, &by, &n) != 2 || n == 0)
		return NULL;
	if (c)
		fnd_buf_printf(b, "packets %" PRIu64 " bytes %" PRIu64, c->packets, c->bytes);
	else
		fnd_buf_printf(b, "packets ? bytes ?");
	return p + n;
}

static uint64_t line_handle(const char *line, size_t len)
{
	const char *h = NULL;
	unsigned long long v;

	for (const char *p = line; p + 9 <= line + len; p++)
		if (memcmp(p, "# handle ", 9) == 0)
			h = p;
	return h && sscanf(h + 9, "%llu", &v) == 1 ? v : 0;
}

/* Copy a table block with the application's counters in it. */
static void substitute(const char *block, size_t len, const struct fnd_app_report *a,
		       uint64_t gen, struct fnd_buf *b)
{
	char chain[FN_CTL_NFT_NAME_MAX] = "", object[FN_CTL_NFT_NAME_MAX] = "";
	const char *p = block, *end = block + len;

	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *q = p, *line_end = eol ? eol : end;
		uint64_t handle = line_handle(p, (size_t)(line_end - p));
		unsigned k = 0;
		char name[FN_CTL_NFT_NAME_MAX];

		while (*q == '\t' || *q == ' ')
			q++;
		if (sscanf(q, "chain %255s {", name) == 1)
			snprintf(chain, sizeof(chain), "%s", name);
		if (sscanf(q, "counter %255s {", name) == 1)
			snprintf(object, sizeof(object), "%s", name);
		fnd_buf_add(b, p, (size_t)(q - p));
		if (object[0] && strncmp(q, "packets ", 8) == 0) {
			/* the body of a named counter object */
			const char *rest = put_counter(b, q, a ?
				find_counter(a, gen, NULL, 0, object, 0) : NULL);

			object[0] = '\0';
			if (rest)
				q = rest;
		} else if (handle && a) {
			/* a rule: each "counter packets N bytes N" in order */
			for (const char *c = q; (c = strstr(c, "counter packets ")) && c < line_end; ) {
				const char *rest;

				fnd_buf_add(b, q, (size_t)(c - q) + 8);
				rest = put_counter(b, c + 8, find_counter(a, gen, chain, handle,
									  NULL, k++));
				q = rest ? rest : c + 8;
				c = q;
			}
		}
		fnd_buf_add(b, q, (size_t)(line_end - q));
		if (eol)
			fnd_buf_add(b, "\n", 1);
		p = eol ? eol + 1 : end;
	}
}

static void ruleset_text(const struct fnd_query *q, struct fnd_buf *b)
{
	const char *text = q->ruleset;

	fnd_buf_printf(b, "# fragnetd generation %" PRIu64 " (nftables generation %" PRIu64
		       "): counters are each application's own, summed over its lcores\n",
		       q->generation, q->nft_generation);
	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		char table[300], family[16], name[256];
		const char *block;
		size_t len;
		unsigned users = 0;

		if (sscanf(p, "table %15s %255s {", family, name) != 2)
			continue;
		snprintf(table, sizeof(table), "%s %s", family, name);
		block = table_block(text, table, &len);
		if (block == NULL)
			continue;
		for (size_t i = 0; i < q->n_apps; i++) {
			const struct fnd_app_report *a = &q->apps[i];
			uint64_t gen = fnd_app_report_generation(a);
			const char *ablock;
			size_t alen;

			if (strcmp(a->table, table) != 0)
				continue;
			users++;
			fnd_buf_printf(b, "\n# %s[%d]: generation %" PRIu64 ", %u lcore(s)%s\n",
				       a->name, (int)a->pid, gen, a->n_queues,
				       a->answered ? "" : ", no answer: counters unknown");
			ablock = a->ruleset ? table_block(a->ruleset, table, &alen) : NULL;
			if (ablock == NULL) {
				fnd_buf_printf(b, "# (its generation has no table %s)\n", table);
				continue;
			}
			substitute(ablock, alen, a, gen, b);
		}
		if (users == 0) {
			fnd_buf_printf(b, "\n# not applied by any application\n");
			substitute(block, len, NULL, 0, b);
		}
	}
	for (size_t i = 0; i < q->n_apps; i++)
		if (q->apps[i].table[0] == '\0')
			fnd_buf_printf(b, "\n# %s[%d]: no table inet %s, ip %s or inet fragnet: "
				       "nothing filtered\n", q->apps[i].name, (int)q->apps[i].pid,
				       q->apps[i].name, q->apps[i].name);
}

static void ruleset_json(const struct fnd_query *q, struct fnd_buf *b)
{
	fnd_buf_printf(b, "{\"generation\":%" PRIu64 ",\"nft_generation\":%" PRIu64
		       ",\"ruleset\":", q->generation, q->nft_generation);
	json_name(b, q->ruleset);
	fnd_buf_printf(b, ",\"apps\":[");
	for (size_t i = 0; i < q->n_apps; i++) {
		const struct fnd_app_report *a = &q->apps[i];

		fnd_buf_printf(b, "%s", i ? "," : "");
		app_json_head(a, b);
		fnd_buf_printf(b, ",\"table\":");
		json_name(b, a->table);
		fnd_buf_printf(b, ",\"counters\":[");
		for (size_t c = 0, n = 0; c < a->n_counters; c++) {
			const struct fnd_counter *k = &a->counters[c];

			if (k->final)
				continue; /* list counters shows those */
			fnd_buf_printf(b, "%s{\"generation\":%" PRIu64 ",", n++ ? "," : "",
				       k->generation);
			counter_json(k, b);
			fnd_buf_printf(b, "}");
		}
		fnd_buf_printf(b, "]}");
	}
	fnd_buf_printf(b, "]}\n");
}

/* ------------------------------------------------------------ list counters */

/*
 * Every counter an application reported: its generation's live ones and the
 * final ones of the generations it replaced. A counter is the k-th counter
 * of rule (chain, handle) or of a named object, as nft identifies it; its
 * total adds it up over the generations it is in.
 */
struct row {
	const struct fnd_counter *c;
	size_t idx;                /* order the application reported it in */
	unsigned k;                /* k-th of its rule in its generation */
};

static int key_cmp(const struct fnd_counter *x, const struct fnd_counter *y)
{
	int r;

	if ((x->chain == NULL) != (y->chain == NULL))
		return x->chain ? -1 : 1;       /* rules before objects */
	if (x->chain == NULL)
		return strcmp(x->object, y->object);
	r = strcmp(x->chain, y->chain);
	if (r)
		return r;
	return x->handle < y->handle ? -1 : x->handle > y->handle;
}

static int cmp_u64(uint64_t x, uint64_t y)
{
	return x < y ? -1 : x > y;
}

/* generation, counter, then the order reported: to number the k-th */
static int by_gen_key(const void *p, const void *q)
{
	const struct row *x = p, *y = q;
	int r = cmp_u64(x->c->generation, y->c->generation);

	if (r == 0)
		r = key_cmp(x->c, y->c);
	return r ? r : cmp_u64(x->idx, y->idx);
}

/* newest generation first, each in the order reported */
static int by_listing(const void *p, const void *q)
{
	const struct row *x = p, *y = q;
	int r = cmp_u64(y->c->generation, x->c->generation);

	return r ? r : cmp_u64(x->idx, y->idx);
}

/* counter, then generation: to add up */
static int by_key_gen(const void *p, const void *q)
{
	const struct row *x = p, *y = q;
	int r = key_cmp(x->c, y->c);

	if (r == 0)
		r = x->k < y->k ? -1 : x->k > y->k;
	return r ? r : cmp_u64(x->c->generation, y->c->generation);
}

static bool same_counter(const struct row *x, const struct row *y)
{
	return key_cmp(x->c, y->c) == 0 && x->k == y->k;
}

/* The rows of an application, with k set; NULL when it has none (or no memory). */
static struct row *app_rows(const struct fnd_app_report *a)
{
	struct row *rows;

	if (a->n_counters == 0)
		return NULL;
	rows = calloc(a->n_counters, sizeof(*rows));
	if (rows == NULL)
		return NULL;
	for (size_t i = 0; i < a->n_counters; i++) {
		rows[i].c = &a->counters[i];
		rows[i].idx = i;
	}
	qsort(rows, a->n_counters, sizeof(*rows), by_gen_key);
	for (size_t i = 1; i < a->n_counters; i++)
		if (rows[i].c->generation == rows[i - 1].c->generation &&
		    key_cmp(rows[i].c, rows[i - 1].c) == 0)
			rows[i].k = rows[i - 1].k + 1;
	return rows;
}

/* Chain and object names come from applications: printable, one word. */
static void safe_name(char *out, size_t len, const char *in)
{
	size_t i;

	for (i = 0; in[i] && i + 1 < len; i++)
		out[i] = isgraph((unsigned char)in[i]) ? in[i] : '?';
	out[i] = '\0';
}

static void counter_label(const struct row *r, char *out, size_t len)
{
	char name[FN_CTL_NFT_NAME_MAX];
	int n;

	safe_name(name, sizeof(name), r->c->chain ? r->c->chain : r->c->object);
	if (r->c->chain)
		n = snprintf(out, len, "chain %s handle %" PRIu64, name, r->c->handle);
	else
		n = snprintf(out, len, "counter %s", name);
	if (r->k && n > 0 && (size_t)n < len)
		snprintf(out + n, len - (size_t)n, " (its counter #%u)", r->k + 1);
}

static void history_head_text(const struct fnd_app_report *a, struct fnd_buf *b)
{
	fnd_buf_printf(b, "\n# %s[%d]: generation %" PRIu64, a->name, (int)a->pid,
		       fnd_app_report_generation(a));
	if (!a->answered) {
		fnd_buf_printf(b, ", no answer: counters unknown\n");
		return;
	}
	fnd_buf_printf(b, " live; final counters of %u replaced generation(s), %u pending, %"
		       PRIu64 " not kept\n", a->end.final_gens, a->end.pending_gens,
		       a->end.dropped_gens);
}

static void counters_text(const struct fnd_query *q, struct fnd_buf *b)
{
	fnd_buf_printf(b, "# fragnetd generation %" PRIu64 ": counters by generation, summed "
		       "over each application's lcores; \"final\" is a replaced generation's "
		       "count once no lcore could add to it\n", q->generation);
	for (size_t i = 0; i < q->n_apps; i++) {
		const struct fnd_app_report *a = &q->apps[i];
		struct row *rows = app_rows(a);
		size_t n = a->n_counters;
		char label[FN_CTL_NFT_NAME_MAX + 64], state[24];

		history_head_text(a, b);
		if (rows == NULL) {
			b->failed |= n > 0;
			continue;
		}
		fnd_buf_printf(b, "%12s  %-8s %14s %16s  %s\n", "GENERATION", "STATE", "PACKETS",
			       "BYTES", "COUNTER");
		qsort(rows, n, sizeof(*rows), by_listing);
		for (size_t r = 0; r < n; r++) {
			counter_label(&rows[r], label, sizeof(label));
			fnd_buf_printf(b, "%12" PRIu64 "  %-8s %14" PRIu64 " %16" PRIu64 "  %s\n",
				       rows[r].c->generation, rows[r].c->final ? "final" : "live",
				       rows[r].c->packets, rows[r].c->bytes, label);
		}
		qsort(rows, n, sizeof(*rows), by_key_gen);
		for (size_t r = 0, end; r < n; r = end) {
			uint64_t packets = 0, bytes = 0;
			unsigned gens = 0;

			for (end = r; end < n && same_counter(&rows[end], &rows[r]); end++) {
				packets += rows[end].c->packets;
				bytes += rows[end].c->bytes;
				gens++;
			}
			counter_label(&rows[r], label, sizeof(label));
			snprintf(state, sizeof(state), "%u gen%s", gens, gens == 1 ? "" : "s");
			fnd_buf_printf(b, "%12s  %-8s %14" PRIu64 " %16" PRIu64 "  %s\n", "total",
				       state, packets, bytes, label);
		}
		free(rows);
	}
}

static void counters_json(const struct fnd_query *q, struct fnd_buf *b)
{
	fnd_buf_printf(b, "{\"generation\":%" PRIu64 ",\"apps\":[", q->generation);
	for (size_t i = 0; i < q->n_apps; i++) {
		const struct fnd_app_report *a = &q->apps[i];
		struct row *rows = app_rows(a);
		size_t n = rows ? a->n_counters : 0;

		b->failed |= rows == NULL && a->n_counters > 0;
		fnd_buf_printf(b, "%s", i ? "," : "");
		app_json_head(a, b);
		fnd_buf_printf(b, ",\"final_generations\":%u,\"pending_generations\":%u,"
			       "\"dropped_generations\":%" PRIu64 ",\"generations\":[",
			       a->end.final_gens, a->end.pending_gens, a->end.dropped_gens);
		if (n)
			qsort(rows, n, sizeof(*rows), by_listing);
		for (size_t r = 0; r < n; r++) {
			bool first = r == 0 || rows[r].c->generation != rows[r - 1].c->generation;

			if (first)
				fnd_buf_printf(b, "%s{\"generation\":%" PRIu64 ",\"state\":\"%s\","
					       "\"counters\":[", r ? "]}," : "",
					       rows[r].c->generation,
					       rows[r].c->final ? "final" : "live");
			fnd_buf_printf(b, "%s{", first ? "" : ",");
			counter_json(rows[r].c, b);
			fnd_buf_printf(b, "}");
		}
		fnd_buf_printf(b, "%s],\"totals\":[", n ? "]}" : "");
		if (n)
			qsort(rows, n, sizeof(*rows), by_key_gen);
		for (size_t r = 0, end; r < n; r = end) {
			struct fnd_counter sum = *rows[r].c;
			unsigned gens = 0;

			sum.packets = sum.bytes = 0;
			for (end = r; end < n && same_counter(&rows[end], &rows[r]); end++) {
				sum.packets += rows[end].c->packets;
				sum.bytes += rows[end].c->bytes;
				gens++;
			}
			fnd_buf_printf(b, "%s{", r ? "," : "");
			counter_json(&sum, b);
			if (rows[r].k)
				fnd_buf_printf(b, ",\"counter\":%u", rows[r].k + 1);
			fnd_buf_printf(b, ",\"generations\":%u}", gens);
		}
		fnd_buf_printf(b, "]}");
		free(rows);
	}
	fnd_buf_printf(b, "]}\n");
}

int fnd_report(const struct fnd_query *q, struct fnd_buf *out)
{
	bool json = q->flags & FN_CTL_F_JSON;

	switch (q->command) {
	case FN_CTL_CMD_APPS:
		(json ? apps_json : apps_text)(q, out);
		break;
	case FN_CTL_CMD_STATS:
		(json ? stats_json : stats_text)(q, out);
		break;
	case FN_CTL_CMD_LIST_RULESET:
		(json ? ruleset_json : ruleset_text)(q, out);
		break;
	case FN_CTL_CMD_LIST_COUNTERS:
		(json ? counters_json : counters_text)(q, out);
		break;
	default:
		return -EINVAL;
	}
	return out->failed ? -ENOMEM : 0;
}
