/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * `fragnetctl list ruleset`: for each application, the nft listing of its
 * table in the generation it applies, with its own counters in place of the
 * kernel's; then the tables nobody applies. JSON has the current ruleset's
 * text and each application's live counters instead.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "report_cmd.h"

#define TEXT "# fragnetd generation {generation} (nftables generation {nft_generation}): " \
	"counters are each application's own, summed over its lcores\n{apps}{unused}"
#define APP "\n# {name}[{pid}]: generation {generation}, {queues} lcore(s){note}\n"
#define LISTED APP "{listing}"
#define MISSING APP "# (its generation has no table {table})\n"
#define NO_TABLE "\n# {name}[{pid}]: no table inet {name}, ip {name} or inet fragnet: " \
	"{no_table}\n"
#define UNUSED "\n# not applied by any application\n{listing}"

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

/* The k-th live counter of a rule in the kernel's part (kernel-enforced
 * applications), or NULL. */
static const struct fnd_counter *find_kcounter(const struct fnd_app_report *a, uint64_t gen,
					       const char *chain, uint64_t handle, unsigned k)
{
	for (size_t i = 0; a && i < a->n_kcounters; i++) {
		const struct fnd_counter *c = &a->kcounters[i];

		if (c->generation != gen || c->final || !c->chain || strcmp(c->chain, chain) ||
		    c->handle != handle)
			continue;
		if (k-- == 0)
			return c;
	}
	return NULL;
}

static const struct fnd_place *find_place(const struct fnd_app_report *a, const char *chain,
					  uint64_t handle)
{
	for (size_t i = 0; a && i < a->n_places; i++)
		if (a->places[i].handle == handle && strcmp(a->places[i].chain, chain) == 0)
			return &a->places[i];
	return NULL;
}

/* "packets N bytes N" at p replaced by the counter plus what the kernel
 * counted for it (or "?" without the application's). */
static const char *put_counter(struct fnd_buf *b, const char *p, const struct fnd_counter *c,
			       const struct fnd_counter *kc)
{
	unsigned long long pk, by;
	int n = 0;

	if (sscanf(p, "packets %llu bytes %llu%n", &pk, &by, &n) != 2 || n == 0)
		return NULL;
	if (c)
		fnd_buf_printf(b, "packets %" PRIu64 " bytes %" PRIu64,
			       c->packets + (kc ? kc->packets : 0), c->bytes + (kc ? kc->bytes : 0));
	else
		fnd_buf_printf(b, "packets ? bytes ?");
	return p + n;
}

/* After a kernel-enforced application's rule: where it runs, and the
 * kernel's share of its (first) counter. */
static void put_place(struct fnd_buf *b, const struct fnd_place *pl, const struct fnd_counter *kc)
{
	if (!pl)
		return;
	if (pl->why) {
		fnd_buf_printf(b, " # in-process: %s", pl->why);
		return;
	}
	fnd_buf_printf(b, " # kernel");
	if (kc)
		fnd_buf_printf(b, " (packets %" PRIu64 " bytes %" PRIu64 " of them)",
			       kc->packets, kc->bytes);
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
				find_counter(a, gen, NULL, 0, object, 0) : NULL, NULL);

			object[0] = '\0';
			if (rest)
				q = rest;
		} else if (handle && a) {
			/* a rule: each "counter packets N bytes N" in order */
			for (const char *c = q; (c = strstr(c, "counter packets ")) && c < line_end; ) {
				const char *rest;

				fnd_buf_add(b, q, (size_t)(c - q) + 8);
				rest = put_counter(b, c + 8, find_counter(a, gen, chain, handle,
									  NULL, k),
						   find_kcounter(a, gen, chain, handle, k));
				k++;
				q = rest ? rest : c + 8;
				c = q;
			}
		}
		fnd_buf_add(b, q, (size_t)(line_end - q));
		if (handle && a && a->kernel)
			put_place(b, find_place(a, chain, handle),
				  find_kcounter(a, gen, chain, handle, 0));
		if (eol)
			fnd_buf_add(b, "\n", 1);
		p = eol ? eol + 1 : end;
	}
}

/* Its table, from its generation's text, with its counters in it. */
static void app_listing(struct fnd_field *list, const struct fnd_app_report *a)
{
	struct fnd_field *app, *counters;
	struct fnd_buf text = { 0 };
	const char *block = NULL;
	size_t len = 0;

	if (a->table[0] && a->ruleset)
		block = table_block(a->ruleset, a->table, &len);
	if (a->table[0] == '\0')
		app = fnd_field_object(list, NULL, NO_TABLE);
	else
		app = fnd_field_object(list, NULL, block ? LISTED : MISSING);
	fnd_report_app(app, a);
	fnd_field_str(app, "table", a->table);
	if (a->table[0] == '\0')
		fnd_field_str(app, "no_table", a->refused_input ? "every input packet dropped" :
			      "nothing filtered (app.NAME.unfiltered)");
	counters = fnd_field_list(app, "counters", NULL);
	for (size_t i = 0; i < a->n_counters; i++) {
		const struct fnd_counter *c = &a->counters[i];
		struct fnd_field *row;

		if (c->final)
			continue; /* list counters shows those */
		row = fnd_field_object(counters, NULL, NULL);
		fnd_field_u64(row, "generation", c->generation);
		fnd_report_counter(row, c);
	}
	if (a->kernel) {
		struct fnd_field *rules = fnd_field_list(app, "rules", NULL);
		struct fnd_field *kcounters = fnd_field_list(app, "kernel_counters", NULL);

		for (size_t i = 0; i < a->n_places; i++) {
			struct fnd_field *row = fnd_field_object(rules, NULL, NULL);

			fnd_field_name(row, "chain", a->places[i].chain);
			fnd_field_u64(row, "handle", a->places[i].handle);
			fnd_field_str(row, "enforced", a->places[i].why ? "in-process" : "kernel");
			if (a->places[i].why)
				fnd_field_str(row, "why", a->places[i].why);
		}
		for (size_t i = 0; i < a->n_kcounters; i++) {
			const struct fnd_counter *c = &a->kcounters[i];
			struct fnd_field *row;

			if (c->final)
				continue;
			row = fnd_field_object(kcounters, NULL, NULL);
			fnd_field_u64(row, "generation", c->generation);
			fnd_report_counter(row, c);
		}
	}
	fnd_field_textf(app, "note", "%s", !a->answered ? ", no answer: counters unknown" :
			a->kernel ? ", rules enforced in the kernel where marked" : "");
	if (block == NULL)
		return;
	substitute(block, len, a, fnd_app_report_generation(a), &text);
	fnd_field_textf(app, "listing", "%s", text.s ? text.s : "");
	if (text.failed && app)
		app->doc->failed = true;
	fnd_buf_free(&text);
}

static bool applied(const struct fnd_query *q, const char *table)
{
	for (size_t i = 0; i < q->n_apps; i++)
		if (strcmp(q->apps[i].table, table) == 0)
			return true;
	return false;
}

/* The tables of the current generation no application applies. */
static void unused_tables(struct fnd_field *list, const struct fnd_query *q)
{
	for (const char *p = q->ruleset; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		char table[300], family[16], name[256];
		struct fnd_buf text = { 0 };
		const char *block;
		size_t len;

		if (sscanf(p, "table %15s %255s {", family, name) != 2)
			continue;
		snprintf(table, sizeof(table), "%s %s", family, name);
		block = table_block(q->ruleset, table, &len);
		if (block == NULL || applied(q, table))
			continue;
		substitute(block, len, NULL, 0, &text);
		fnd_field_textf(fnd_field_object(list, NULL, UNUSED), "listing", "%s",
				text.s ? text.s : "");
		if (text.failed && list)
			list->doc->failed = true;
		fnd_buf_free(&text);
	}
}

struct fnd_doc *fnd_report_ruleset(const struct fnd_query *q)
{
	struct fnd_doc *doc = fnd_doc_new(TEXT);
	struct fnd_field *root = fnd_doc_root(doc), *apps, *unused;

	fnd_field_u64(root, "generation", q->generation);
	fnd_field_u64(root, "nft_generation", q->nft_generation);
	fnd_field_str(root, "ruleset", q->ruleset);
	apps = fnd_field_list(root, "apps", NULL);
	for (size_t i = 0; i < q->n_apps; i++)
		app_listing(apps, &q->apps[i]);
	unused = fnd_field_list(root, "unused", NULL);
	fnd_field_mark(unused, FND_FIELD_TEXT_ONLY);
	unused_tables(unused, q);
	return doc;
}
