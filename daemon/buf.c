/* SPDX-License-Identifier: BSD-3-Clause */
/* Growable text buffer (buf.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

static bool reserve(struct fnd_buf *b, size_t more)
{
	size_t cap;
	char *s;

	if (b->failed)
		return false;
	if (b->len + more + 1 <= b->cap)
		return true;
	cap = b->cap ? b->cap : 256;
	while (cap < b->len + more + 1)
		cap *= 2;
	s = realloc(b->s, cap);
	if (s == NULL) {
		b->failed = true;
		return false;
	}
	b->s = s;
	b->cap = cap;
	return true;
}

void fnd_buf_add(struct fnd_buf *b, const char *s, size_t n)
{
	if (!reserve(b, n))
		return;
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

void fnd_buf_printf(struct fnd_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !reserve(b, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void fnd_buf_json_str(struct fnd_buf *b, const char *s, size_t n)
{
	fnd_buf_add(b, "\"", 1);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\')
			fnd_buf_printf(b, "\\%c", c);
		else if (c == '\n')
			fnd_buf_add(b, "\\n", 2);
		else if (c == '\t')
			fnd_buf_add(b, "\\t", 2);
		else if (c < 0x20 || c == 0x7f)
			fnd_buf_printf(b, "\\u%04x", c);
		else
			fnd_buf_add(b, (const char *)&c, 1);
	}
	fnd_buf_add(b, "\"", 1);
}

void fnd_buf_free(struct fnd_buf *b)
{
	free(b->s);
	memset(b, 0, sizeof(*b));
}
