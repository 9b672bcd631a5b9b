/* SPDX-License-Identifier: BSD-3-Clause */
/* A document as text (doc.h): templates filled in with the fields. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "doc.h"

static void text_of(const struct fnd_field *f, struct fnd_buf *b);

/* The field key in scope or the objects around it. */
static const struct fnd_field *lookup(const struct fnd_field *scope, const char *key,
				      size_t len)
{
	for (; scope; scope = scope->parent) {
		if (scope->kind != FND_FIELD_OBJECT)
			continue;
		for (const struct fnd_field *c = scope->first; c; c = c->next)
			if (c->key && strncmp(c->key, key, len) == 0 && c->key[len] == '\0')
				return c;
	}
	return NULL;
}

static void spaces(struct fnd_buf *b, size_t n)
{
	for (; n > 0; n--)
		fnd_buf_add(b, " ", 1);
}

/* s padded to |width| columns, right-aligned when width > 0. */
static void pad(struct fnd_buf *b, const char *s, size_t n, long width)
{
	size_t w = (size_t)(width < 0 ? -width : width);
	size_t fill = n < w ? w - n : 0;

	if (width > 0)
		spaces(b, fill);
	fnd_buf_add(b, s, n);
	if (width < 0)
		spaces(b, fill);
}

/* One {...} of a template, from after '{' to its '}'. */
static void fill(const char *p, const char *end, const struct fnd_field *scope,
		 struct fnd_buf *b)
{
	const char *name = p, *name_end, *colon;
	const struct fnd_field *f;
	struct fnd_buf cell = { 0 };
	long width = 0;

	if (*p == '\'') {
		name = p + 1;
		name_end = memchr(name, '\'', (size_t)(end - name));
		if (name_end == NULL)
			name_end = end;
		colon = memchr(name_end, ':', (size_t)(end - name_end));
	} else {
		colon = memchr(p, ':', (size_t)(end - p));
		name_end = colon ? colon : end;
	}
	if (colon)
		width = strtol(colon + 1, NULL, 10);
	if (*p == '\'') {
		pad(b, name, (size_t)(name_end - name), width);
		return;
	}
	f = lookup(scope, name, (size_t)(name_end - name));
	if (f == NULL)
		return;
	if (width == 0) {
		text_of(f, b);
		return;
	}
	text_of(f, &cell);
	b->failed |= cell.failed;
	pad(b, cell.s ? cell.s : "", cell.len, width);
	fnd_buf_free(&cell);
}

static void expand(const char *t, const struct fnd_field *scope, struct fnd_buf *b)
{
	while (*t) {
		const char *open = strchr(t, '{'), *close;

		if (open == NULL) {
			fnd_buf_add(b, t, strlen(t));
			return;
		}
		close = strchr(open, '}');
		if (close == NULL)
			close = open + strlen(open);
		fnd_buf_add(b, t, (size_t)(open - t));
		fill(open + 1, close, scope, b);
		t = *close ? close + 1 : close;
	}
}

static void name_text(const char *s, struct fnd_buf *b)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		char c = *p > ' ' && *p < 0x7f ? (char)*p : '?';

		fnd_buf_add(b, &c, 1);
	}
}

static void text_of(const struct fnd_field *f, struct fnd_buf *b)
{
	if (f->flags & FND_FIELD_UNKNOWN) {
		fnd_buf_add(b, "-", 1);
		return;
	}
	switch (f->kind) {
	case FND_FIELD_OBJECT:
		if (f->text) {
			expand(f->text, f, b);
			break;
		}
		for (const struct fnd_field *c = f->first; c; c = c->next) {
			fnd_buf_printf(b, "%s%s=", c == f->first ? "" : " ", c->key);
			text_of(c, b);
		}
		break;
	case FND_FIELD_LIST:
		if (f->first && f->text)
			expand(f->text, f, b);
		for (const struct fnd_field *c = f->first; c; c = c->next)
			text_of(c, b);
		break;
	case FND_FIELD_U64:
	case FND_FIELD_INT:
	case FND_FIELD_BOOL:
		fnd_field_scalar(f, b);
		break;
	case FND_FIELD_STR:
		fnd_buf_add(b, f->v.s, strlen(f->v.s));
		break;
	case FND_FIELD_NAME:
		name_text(f->v.s, b);
		break;
	}
}

int fnd_doc_text(const struct fnd_doc *doc, struct fnd_buf *out)
{
	text_of(doc->root, out);
	return doc->failed || out->failed ? -ENOMEM : 0;
}
