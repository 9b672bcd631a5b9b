/* SPDX-License-Identifier: BSD-3-Clause */
/* Building a document (doc.h); doc_text.c and doc_json.c print it. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "doc.h"

/* A field with its key and string copied behind it, added to parent. */
static struct fnd_field *add(struct fnd_field *parent, enum fnd_field_kind kind,
			     const char *key, const char *s, size_t slen)
{
	size_t klen = key ? strlen(key) + 1 : 0;
	struct fnd_field *f;

	if (parent == NULL)
		return NULL;
	f = calloc(1, sizeof(*f) + klen + (s ? slen + 1 : 0));
	if (f == NULL) {
		parent->doc->failed = true;
		return NULL;
	}
	f->doc = parent->doc;
	f->parent = parent;
	f->kind = kind;
	if (key)
		f->key = memcpy(f->mem, key, klen);
	if (s) {
		memcpy(f->mem + klen, s, slen);
		f->mem[klen + slen] = '\0';
		f->v.s = f->mem + klen;
	}
	if (parent->last)
		parent->last->next = f;
	else
		parent->first = f;
	parent->last = f;
	return f;
}

struct fnd_doc *fnd_doc_new(const char *text)
{
	struct fnd_doc *doc = calloc(1, sizeof(*doc));

	if (doc == NULL)
		return NULL;
	doc->root = calloc(1, sizeof(*doc->root));
	if (doc->root == NULL) {
		free(doc);
		return NULL;
	}
	doc->root->doc = doc;
	doc->root->kind = FND_FIELD_OBJECT;
	doc->root->text = text;
	return doc;
}

static void field_free(struct fnd_field *f)
{
	for (struct fnd_field *c = f->first, *next; c; c = next) {
		next = c->next;
		field_free(c);
	}
	free(f);
}

void fnd_doc_free(struct fnd_doc *doc)
{
	if (doc == NULL)
		return;
	field_free(doc->root);
	free(doc);
}

struct fnd_field *fnd_doc_root(struct fnd_doc *doc)
{
	return doc ? doc->root : NULL;
}

struct fnd_field *fnd_field_object(struct fnd_field *parent, const char *key,
				   const char *text)
{
	struct fnd_field *f = add(parent, FND_FIELD_OBJECT, key, NULL, 0);

	if (f)
		f->text = text;
	return f;
}

struct fnd_field *fnd_field_list(struct fnd_field *parent, const char *key,
				 const char *head)
{
	struct fnd_field *f = add(parent, FND_FIELD_LIST, key, NULL, 0);

	if (f)
		f->text = head;
	return f;
}

struct fnd_field *fnd_field_u64(struct fnd_field *parent, const char *key, uint64_t v)
{
	struct fnd_field *f = add(parent, FND_FIELD_U64, key, NULL, 0);

	if (f)
		f->v.u = v;
	return f;
}

struct fnd_field *fnd_field_int(struct fnd_field *parent, const char *key, int64_t v)
{
	struct fnd_field *f = add(parent, FND_FIELD_INT, key, NULL, 0);

	if (f)
		f->v.i = v;
	return f;
}

struct fnd_field *fnd_field_bool(struct fnd_field *parent, const char *key, bool v)
{
	struct fnd_field *f = add(parent, FND_FIELD_BOOL, key, NULL, 0);

	if (f)
		f->v.b = v;
	return f;
}

void fnd_field_scalar(const struct fnd_field *f, struct fnd_buf *out)
{
	switch (f->kind) {
	case FND_FIELD_U64:
		fnd_buf_printf(out, "%" PRIu64, f->v.u);
		break;
	case FND_FIELD_INT:
		fnd_buf_printf(out, "%" PRId64, f->v.i);
		break;
	case FND_FIELD_BOOL:
		fnd_buf_printf(out, "%s", f->v.b ? "true" : "false");
		break;
	default:
		break;
	}
}

struct fnd_field *fnd_field_str(struct fnd_field *parent, const char *key, const char *s)
{
	return add(parent, FND_FIELD_STR, key, s, strlen(s));
}

struct fnd_field *fnd_field_name(struct fnd_field *parent, const char *key, const char *s)
{
	return add(parent, FND_FIELD_NAME, key, s, strlen(s));
}

struct fnd_field *fnd_field_textf(struct fnd_field *parent, const char *key,
				  const char *fmt, ...)
{
	struct fnd_field *f;
	va_list ap;
	char *s;
	int n;

	if (parent == NULL)
		return NULL;
	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0) {
		parent->doc->failed = true;
		return NULL;
	}
	f = add(parent, FND_FIELD_STR, key, s, (size_t)n);
	free(s);
	fnd_field_mark(f, FND_FIELD_TEXT_ONLY);
	return f;
}

void fnd_field_mark(struct fnd_field *f, unsigned flags)
{
	if (f)
		f->flags |= flags;
}
