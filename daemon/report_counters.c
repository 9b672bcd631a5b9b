/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * `fragnetctl list counters`: per application, every counter of the
 * generation it applies and the final counters of those it replaced, newest
 * generation first, then each counter's total over them.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "report_cmd.h"

#define TEXT "# fragnetd generation {generation}: counters by generation, summed over each " \
	"application's lcores; \"final\" is a replaced generation's count once no lcore " \
	"could add to it\n{apps}"
#define ANSWERED "\n# {name}[{pid}]: generation {generation} live; final counters of " \
	"{final_generations} replaced generation(s), {pending_generations} pending, " \
	"{dropped_generations} not kept{over_share}\n{generations}{totals}"
#define SILENT "\n# {name}[{pid}]: generation {generation}, no answer: counters unknown\n" \
	"{generations}{totals}"
#define HEAD "{'GENERATION':12}  {'STATE':-8} {'PACKETS':14} {'BYTES':16}  COUNTER\n"
/* a row of a generation shows its group's generation and state */
#define IN_GEN "{generation:12}  {state:-8} {packets:14} {bytes:16}  "
#define TOTAL "{'total':12}  {gens:-8} {packets:14} {bytes:16}  "
#define RULE "chain {chain} handle {handle}{nth}\n"
#define OBJECT "counter {object}{nth}\n"

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

/* A counter row: its fields, and " (its counter #k)" for the k-th of a rule. */
static struct fnd_field *counter_row(struct fnd_field *list, const struct row *r,
				     const struct fnd_counter *c, bool total)
{
	static const char *const tmpl[2][2] = {
		{ IN_GEN RULE, IN_GEN OBJECT }, { TOTAL RULE, TOTAL OBJECT },
	};
	struct fnd_field *row = fnd_field_object(list, NULL, tmpl[total][c->chain == NULL]);

	fnd_report_counter(row, c);
	if (r->k)
		fnd_field_textf(row, "nth", " (its counter #%u)", r->k + 1);
	return row;
}

/* Newest generation first; in each, the counters in the order reported. */
static void by_generation(struct fnd_field *list, struct row *rows, size_t n)
{
	struct fnd_field *counters = NULL;

	qsort(rows, n, sizeof(*rows), by_listing);
	for (size_t r = 0; r < n; r++) {
		if (r == 0 || rows[r].c->generation != rows[r - 1].c->generation) {
			struct fnd_field *g = fnd_field_object(list, NULL, "{counters}");

			fnd_field_u64(g, "generation", rows[r].c->generation);
			fnd_field_str(g, "state", rows[r].c->final ? "final" : "live");
			counters = fnd_field_list(g, "counters", NULL);
		}
		counter_row(counters, &rows[r], rows[r].c, false);
	}
}

/* Each counter added up over the generations it is in. */
static void totals(struct fnd_field *list, struct row *rows, size_t n)
{
	qsort(rows, n, sizeof(*rows), by_key_gen);
	for (size_t r = 0, end; r < n; r = end) {
		struct fnd_counter sum = *rows[r].c;
		struct fnd_field *row;
		unsigned gens = 0;

		sum.packets = sum.bytes = 0;
		for (end = r; end < n && same_counter(&rows[end], &rows[r]); end++) {
			sum.packets += rows[end].c->packets;
			sum.bytes += rows[end].c->bytes;
			gens++;
		}
		row = counter_row(list, &rows[r], &sum, true);
		if (rows[r].k)
			fnd_field_u64(row, "counter", rows[r].k + 1);
		fnd_field_u64(row, "generations", gens);
		fnd_field_textf(row, "gens", "%u gen%s", gens, gens == 1 ? "" : "s");
	}
}

struct fnd_doc *fnd_report_counters(const struct fnd_query *q)
{
	struct fnd_doc *doc = fnd_doc_new(TEXT);
	struct fnd_field *root = fnd_doc_root(doc), *apps;

	fnd_field_u64(root, "generation", q->generation);
	apps = fnd_field_list(root, "apps", NULL);
	for (size_t i = 0; i < q->n_apps; i++) {
		const struct fnd_app_report *a = &q->apps[i];
		const char *text = a->answered ? ANSWERED : SILENT;
		struct fnd_field *app = fnd_field_object(apps, NULL, text);
		struct row *rows = app_rows(a);
		struct fnd_field *gens, *sums;

		if (rows == NULL && a->n_counters > 0 && doc)
			doc->failed = true;
		fnd_report_app(app, a);
		fnd_field_u64(app, "final_generations", a->end.final_gens);
		fnd_field_u64(app, "pending_generations", a->end.pending_gens);
		fnd_field_u64(app, "dropped_generations", a->end.dropped_gens);
		fnd_field_u64(app, "counters_dropped", a->counters_dropped);
		if (a->counters_dropped)
			fnd_field_textf(app, "over_share", "; %" PRIu64 " counter(s) not shown: over "
					"its share of a query (fragnetd.md)", a->counters_dropped);
		else
			fnd_field_textf(app, "over_share", "%s", "");
		gens = fnd_field_list(app, "generations", HEAD);
		sums = fnd_field_list(app, "totals", NULL);
		if (rows) {
			by_generation(gens, rows, a->n_counters);
			totals(sums, rows, a->n_counters);
		}
		free(rows);
	}
	return doc;
}
