/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A command's output described once, as a tree of typed fields, and printed
 * from that one description either as text for people (doc_text.c) or as
 * JSON for programs (doc_json.c). Escaping, and what is shown of names that
 * come from applications, is decided there and nowhere else.
 *
 * A field has a key (its member name in JSON; NULL in a list), a kind and a
 * value. JSON shows every field but those marked text-only, in the order
 * added. Text shows what the templates say: an object's template is copied
 * with each {key} replaced by the text of that field, looked up in the
 * object, then in the objects around it (so a row of a nested list can show
 * its group's fields); {key:W} pads it to W columns, right-aligned, or
 * left-aligned when W is negative, as printf's %Ws does; {'literal':W} pads
 * a literal the same way (column headings). A list shows its head (a
 * template too) when it has members, then each member; an object without a
 * template shows its fields as "key=value key=value"; a scalar its value.
 *
 * Allocation failures are remembered: adding to a NULL field does nothing,
 * and the renderers then return -ENOMEM. So a report is built without
 * checking every call.
 */
#ifndef FND_DOC_H
#define FND_DOC_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"

enum fnd_field_kind {
	FND_FIELD_OBJECT,
	FND_FIELD_LIST,
	FND_FIELD_U64,
	FND_FIELD_INT,
	FND_FIELD_BOOL,
	FND_FIELD_STR,             /* the daemon's own text: shown as it is */
	FND_FIELD_NAME,            /* a name an application sent: see below */
};

/*
 * What a NAME shows of bytes it should not hold: text replaces every byte
 * that is not a printable non-space ASCII character with '?', so a name is
 * one word on one line; JSON escapes quotes, backslashes and control
 * characters, and replaces bytes above 0x7f with '?', so the output is
 * always valid UTF-8.
 */

#define FND_FIELD_TEXT_ONLY 0x1u   /* left out of JSON */
#define FND_FIELD_UNKNOWN 0x2u     /* not reported: "-" in text; JSON keeps the value */

struct fnd_field {
	struct fnd_doc *doc;
	struct fnd_field *parent, *next;
	struct fnd_field *first, *last; /* members of an object or a list */
	enum fnd_field_kind kind;
	unsigned flags;            /* FND_FIELD_* */
	const char *key;           /* NULL in a list */
	const char *text;          /* an object's template, a list's head; NULL: none */
	union {
		uint64_t u;
		int64_t i;
		bool b;
		const char *s;
	} v;
	char mem[];                /* key and string, copied */
};

struct fnd_doc {
	struct fnd_field *root;
	bool failed;               /* something was not added: out of memory */
};

/* Templates and heads are not copied: they are string literals. */

/* A document whose root object has the text template text. NULL + errno. */
struct fnd_doc *fnd_doc_new(const char *text);
void fnd_doc_free(struct fnd_doc *doc);
struct fnd_field *fnd_doc_root(struct fnd_doc *doc);

/* Containers: the new field, or NULL (parent NULL, or out of memory). */
struct fnd_field *fnd_field_object(struct fnd_field *parent, const char *key,
				   const char *text);
struct fnd_field *fnd_field_list(struct fnd_field *parent, const char *key,
				 const char *head);

/* Scalars: the new field, or NULL. */
struct fnd_field *fnd_field_u64(struct fnd_field *parent, const char *key, uint64_t v);
struct fnd_field *fnd_field_int(struct fnd_field *parent, const char *key, int64_t v);
struct fnd_field *fnd_field_bool(struct fnd_field *parent, const char *key, bool v);
struct fnd_field *fnd_field_str(struct fnd_field *parent, const char *key, const char *s);
struct fnd_field *fnd_field_name(struct fnd_field *parent, const char *key, const char *s);
/* A text-only string, formatted from the daemon's own values. */
struct fnd_field *fnd_field_textf(struct fnd_field *parent, const char *key,
				  const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Add FND_FIELD_* flags to f (NULL: nothing). */
void fnd_field_mark(struct fnd_field *f, unsigned flags);

/* Append a number or boolean field's value to out, as text and JSON both
 * write it (true/false, decimal); other kinds: nothing. */
void fnd_field_scalar(const struct fnd_field *f, struct fnd_buf *out);

/* Append the document to out. 0, or -ENOMEM (also for a failure while it
 * was built). */
int fnd_doc_text(const struct fnd_doc *doc, struct fnd_buf *out);
int fnd_doc_json(const struct fnd_doc *doc, struct fnd_buf *out);

#endif /* FND_DOC_H */
