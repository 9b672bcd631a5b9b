/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A growable text buffer for command output, with JSON string escaping. Out
 * of memory is sticky: later appends do nothing and `failed` says so once.
 */
#ifndef FND_BUF_H
#define FND_BUF_H

#include <stdbool.h>
#include <stddef.h>

struct fnd_buf {
	char *s;           /* NUL-terminated, or NULL while empty */
	size_t len, cap;
	bool failed;
};

void fnd_buf_printf(struct fnd_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void fnd_buf_add(struct fnd_buf *b, const char *s, size_t n);
/* s as a JSON string literal, quotes included; n bytes (no NUL needed). */
void fnd_buf_json_str(struct fnd_buf *b, const char *s, size_t n);
void fnd_buf_free(struct fnd_buf *b);

#endif /* FND_BUF_H */
