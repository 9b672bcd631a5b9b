/* SPDX-License-Identifier: BSD-3-Clause */
/* Snapshots of the compile namespace (generation.h). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "compiler.h"
#include "generation.h"
#include "nftns.h"
#include "nft/builder.h"
#include "nft/image.h"
#include "nft/packet.h"

#define SNAPSHOT_ATTEMPTS 5

#define SEALS (F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL)

/* Table "FAMILY NAME" lines of `nft list ruleset` output. */
struct tables {
	struct { char family[8]; char name[256]; } *t;
	size_t n;
};

static int list_tables(const char *text, struct tables *out)
{
	const char *p = text;

	memset(out, 0, sizeof(*out));
	while (p && *p) {
		char family[8], name[256];

		if (sscanf(p, "table %7s %255s {", family, name) == 2 &&
		    (strcmp(family, "ip") == 0 || strcmp(family, "inet") == 0)) {
			void *t = realloc(out->t, (out->n + 1) * sizeof(*out->t));

			if (t == NULL)
				return -ENOMEM;
			out->t = t;
			strcpy(out->t[out->n].family, family);
			strcpy(out->t[out->n].name, name);
			out->n++;
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return 0;
}

static bool has_table(const struct tables *t, const char *family, const char *name)
{
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->t[i].family, family) == 0 && strcmp(t->t[i].name, name) == 0)
			return true;
	return false;
}

static uint64_t source_gen(const struct fnd_image *im)
{
	return ((const struct fn_img_header *)im->bytes)->source_gen;
}

static void image_clear(struct fnd_image *im)
{
	free(im->key);
	free(im->table);
	free(im->bytes);
	if (im->memfd >= 0)
		close(im->memfd);
	memset(im, 0, sizeof(*im));
	im->memfd = -1;
}

void fnd_generation_free(struct fnd_generation *g)
{
	if (g == NULL)
		return;
	for (size_t i = 0; i < g->n_images; i++)
		image_clear(&g->images[i]);
	image_clear(&g->fallback);
	image_clear(&g->open);
	free(g->images);
	free(g->text);
	free(g);
}

/* The line of text starting with `prefix` at or after `from`, or NULL. */
static const char *find_line(const char *from, const char *end, const char *prefix)
{
	size_t n = strlen(prefix);

	for (const char *p = from; p && p < end; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		const char *q = p;

		while (*q == '\t' || *q == ' ')
			q++;
		if (strncmp(q, prefix, n) == 0)
			return p;
	}
	return NULL;
}

/*
 * The compiler names "table inet echo, chain input, rule handle 3": add the
 * rule as nft lists it, which is what an administrator recognises.
 */
static void append_rule_text(const char *text, char *err, size_t errlen)
{
	char table[300], chain[300], line[320];
	const char *t, *c, *r, *end, *eol;
	unsigned long handle;
	size_t len = strlen(err);

	t = strstr(err, "table ");
	if (text == NULL || t == NULL ||
	    sscanf(t, "table %299[^,], chain %299[^,], rule handle %lu", table, chain,
		   &handle) != 3)
		return;
	snprintf(line, sizeof(line), "table %s {", table);
	t = find_line(text, text + strlen(text), line);
	if (t == NULL)
		return;
	end = strstr(t, "\n}");
	end = end ? end : t + strlen(t);
	snprintf(line, sizeof(line), "chain %s {", chain);
	c = find_line(t, end, line);
	if (c == NULL)
		return;
	snprintf(line, sizeof(line), "# handle %lu", handle);
	for (r = strchr(c, '\n'); r && r < end; r = strchr(r + 1, '\n')) {
		const char *start = r + 1, *h;

		eol = strchr(start, '\n');
		eol = eol ? eol : start + strlen(start);
		h = strstr(start, line);
		if (h == NULL || h > eol || (size_t)(eol - h) != strlen(line))
			continue;
		while (*start == '\t' || *start == ' ')
			start++;
		while (h > start && h[-1] == ' ')
			h--;
		if (len + 16 < errlen)
			snprintf(err + len, errlen - len, "\n  rule: %.*s", (int)(h - start), start);
		return;
	}
}

static int lower(struct fn_compiler *c, const char *name, struct fnd_image *im,
		 const char *text, char *err, size_t errlen)
{
	int rc = fn_compile_current(c, name, &im->bytes, &im->len, err, errlen);

	if (rc < 0)
		append_rule_text(text, err, errlen);
	return rc;
}

/* The image of "no table": nothing to run, nothing filtered (drop_input
 * false), or one input chain whose policy drops every packet. */
static int no_table_image(struct fnd_image *im, uint64_t nft_gen, bool drop_input)
{
	struct fn_imgb *b = fn_imgb_new();
	int rc;

	if (b == NULL)
		return -ENOMEM;
	fn_imgb_table(b, "fragnet", FN_FAMILY_INET, nft_gen);
	if (drop_input)
		fn_imgb_chain(b, "input", FN_HOOK_INPUT, 0, FN_POLICY_DROP);
	rc = fn_imgb_finish(b, &im->bytes, &im->len);
	fn_imgb_free(b);
	im->refuse = drop_input;
	return rc;
}

static int snapshot(struct fn_compiler *c, struct fnd_nft *nft, struct fnd_generation *g,
		    char *err, size_t errlen)
{
	struct tables t;
	char *again = NULL;
	size_t n = 0;
	int rc;

	rc = fnd_nft_list(nft, &g->text, err, errlen);
	if (rc < 0)
		return rc;
	rc = list_tables(g->text, &t);
	if (rc < 0)
		goto nomem;
	g->images = calloc(t.n ? t.n : 1, sizeof(*g->images));
	if (g->images == NULL)
		goto nomem;
	for (size_t i = 0; i < t.n; i++) {
		const char *name = t.t[i].name;
		struct fnd_image *im;
		bool dup = false;

		for (size_t j = 0; j < n; j++)
			dup |= strcmp(g->images[j].key, name) == 0;
		if (dup)
			continue; /* ip NAME next to inet NAME: never chosen */
		im = &g->images[n++];
		im->memfd = -1;
		im->key = strdup(name);
		if (asprintf(&im->table, "%s %s", has_table(&t, "inet", name) ? "inet" : "ip",
			     name) < 0)
			im->table = NULL;
		if (im->key == NULL || im->table == NULL)
			goto nomem;
		g->n_images = n;
		rc = lower(c, name, im, g->text, err, errlen);
		if (rc < 0)
			goto out;
	}
	g->fallback.memfd = g->open.memfd = -1;
	for (size_t i = 0; i < n && has_table(&t, "inet", "fragnet"); i++) {
		if (strcmp(g->images[i].key, "fragnet") != 0)
			continue;
		g->fallback.bytes = malloc(g->images[i].len);
		if (g->fallback.bytes == NULL)
			goto nomem;
		memcpy(g->fallback.bytes, g->images[i].bytes, g->images[i].len);
		g->fallback.len = g->images[i].len;
		g->fallback.table = strdup("inet fragnet");
	}
	if (g->fallback.bytes == NULL) {
		/* No table for them: every input packet dropped, or nothing
		 * filtered for those the configuration says may run so. Without
		 * tables the compiler's own image of "no table" carries the
		 * nftables generation; otherwise make one like it. */
		if (n == 0)
			rc = lower(c, "fragnet", &g->open, g->text, err, errlen);
		else if ((rc = no_table_image(&g->open, source_gen(&g->images[0]), false)) < 0)
			goto nomem;
		if (rc < 0)
			goto out;
		if (no_table_image(&g->fallback, source_gen(&g->open), true) < 0)
			goto nomem;
		g->fallback.table = strdup("");
		g->open.table = strdup("");
		if (g->open.table == NULL)
			goto nomem;
	}
	if (g->fallback.table == NULL)
		goto nomem;
	g->nft_gen = source_gen(&g->fallback);
	for (size_t i = 0; i < n; i++)
		if (source_gen(&g->images[i]) != g->nft_gen)
			rc = -EAGAIN;
	/* the text must be what was lowered: list again, compare */
	if (rc == 0 && fnd_nft_list(nft, &again, err, errlen) == 0 && strcmp(again, g->text) != 0)
		rc = -EAGAIN;
	if (rc == -EAGAIN)
		snprintf(err, errlen, "the ruleset kept changing while it was read");
	goto out;
nomem:
	rc = -ENOMEM;
	snprintf(err, errlen, "out of memory");
out:
	free(again);
	free(t.t);
	return rc;
}

int fnd_generation_build(struct fn_compiler *c, struct fnd_nft *nft,
			 struct fnd_generation **out, char *err, size_t errlen)
{
	int rc = -EAGAIN;

	*out = NULL;
	for (int attempt = 0; attempt < SNAPSHOT_ATTEMPTS && rc == -EAGAIN; attempt++) {
		struct fnd_generation *g = calloc(1, sizeof(*g));

		if (g == NULL) {
			snprintf(err, errlen, "out of memory");
			return -ENOMEM;
		}
		g->fallback.memfd = g->open.memfd = -1;
		rc = snapshot(c, nft, g, err, errlen);
		if (rc == 0) {
			*out = g;
			return 0;
		}
		fnd_generation_free(g);
	}
	return rc;
}

struct fnd_image *fnd_generation_image(struct fnd_generation *g, const char *app,
				       bool unfiltered)
{
	for (size_t i = 0; i < g->n_images; i++)
		if (strcmp(g->images[i].key, app) == 0)
			return &g->images[i];
	return unfiltered && g->open.bytes ? &g->open : &g->fallback;
}

const char *fnd_image_table_name(const struct fnd_image *im)
{
	if (im->table[0])
		return im->table;
	return im->refuse ? "none: input dropped" : "none: unfiltered (app.NAME.unfiltered)";
}

/* Equal bytes, except the nftables generation they were lowered from. */
static bool same_image(const struct fnd_image *a, const struct fnd_image *b)
{
	size_t at = offsetof(struct fn_img_header, source_gen);
	size_t after = at + sizeof(uint64_t);

	return a->len == b->len && a->len >= after &&
	       strcmp(a->table, b->table) == 0 &&
	       memcmp(a->bytes, b->bytes, at) == 0 &&
	       memcmp((const char *)a->bytes + after, (const char *)b->bytes + after,
		      a->len - after) == 0;
}

bool fnd_generation_same(const struct fnd_generation *a, const struct fnd_generation *b)
{
	if (a->n_images != b->n_images || !same_image(&a->fallback, &b->fallback) ||
	    (a->open.bytes != NULL) != (b->open.bytes != NULL) ||
	    (a->open.bytes && !same_image(&a->open, &b->open)))
		return false;
	for (size_t i = 0; i < a->n_images; i++)
		if (strcmp(a->images[i].key, b->images[i].key) != 0 ||
		    !same_image(&a->images[i], &b->images[i]))
			return false;
	return true;
}

int fnd_image_memfd(struct fnd_image *im, uint64_t generation)
{
	char name[64];
	size_t done = 0;
	int fd, rc;

	if (im->memfd >= 0)
		return im->memfd;
	snprintf(name, sizeof(name), "fragnet-rules-%" PRIu64, generation);
	fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return -errno;
	/* write(), never mmap(): no writable mapping exists to outlive the seal */
	while (done < im->len) {
		ssize_t w = write(fd, (const char *)im->bytes + done, im->len - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			rc = w < 0 ? -errno : -EIO;
			close(fd);
			return rc;
		}
		done += (size_t)w;
	}
	if (fcntl(fd, F_ADD_SEALS, SEALS) < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	im->memfd = fd;
	return fd;
}
