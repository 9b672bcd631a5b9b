/* SPDX-License-Identifier: BSD-3-Clause */
/* A document as JSON (doc.h): one line, every field but the text-only ones. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "doc.h"

/* A name from an application: bytes above 0x7f become '?' (valid UTF-8). */
static void json_name(const char *s, struct fnd_buf *b)
{
	size_t n = strlen(s);
	char *ascii = malloc(n + 1);

	if (ascii == NULL) {
		b->failed = true;
		return;
	}
	for (size_t i = 0; i < n; i++)
		ascii[i] = (unsigned char)s[i] < 0x80 ? s[i] : '?';
	fnd_buf_json_str(b, ascii, n);
	free(ascii);
}

static void json_of(const struct fnd_field *f, struct fnd_buf *b)
{
	bool first = true;

	switch (f->kind) {
	case FND_FIELD_OBJECT:
	case FND_FIELD_LIST:
		fnd_buf_add(b, f->kind == FND_FIELD_OBJECT ? "{" : "[", 1);
		for (const struct fnd_field *c = f->first; c; c = c->next) {
			if (c->flags & FND_FIELD_TEXT_ONLY)
				continue;
			if (!first)
				fnd_buf_add(b, ",", 1);
			first = false;
			if (f->kind == FND_FIELD_OBJECT) {
				fnd_buf_json_str(b, c->key, strlen(c->key));
				fnd_buf_add(b, ":", 1);
			}
			json_of(c, b);
		}
		fnd_buf_add(b, f->kind == FND_FIELD_OBJECT ? "}" : "]", 1);
		break;
	case FND_FIELD_U64:
	case FND_FIELD_INT:
	case FND_FIELD_BOOL:
		fnd_field_scalar(f, b);
		break;
	case FND_FIELD_STR:
		fnd_buf_json_str(b, f->v.s, strlen(f->v.s));
		break;
	case FND_FIELD_NAME:
		json_name(f->v.s, b);
		break;
	}
}

int fnd_doc_json(const struct fnd_doc *doc, struct fnd_buf *out)
{
	json_of(doc->root, out);
	fnd_buf_add(out, "\n", 1);
	return doc->failed || out->failed ? -ENOMEM : 0;
}
