/* SPDX-License-Identifier: BSD-3-Clause */
/* One line per event (log.h). */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

static bool journal;

void fnd_log_init(void)
{
	/* systemd sets JOURNAL_STREAM when stderr is connected to the journal */
	journal = getenv("JOURNAL_STREAM") != NULL;
}

/* Only marks under the line above: nft's caret lines. */
static bool is_marker(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '^' && s[i] != '~')
			return false;
	return true;
}

/* Messages quoted from nft span lines: one log line per event, so join
 * them with " | " and leave out the caret lines. */
static void flatten(const char *in, char *out, size_t len)
{
	size_t o = 0;

	while (*in && o + 1 < len) {
		const char *eol = strchr(in, '\n');
		size_t n = eol ? (size_t)(eol - in) : strlen(in);

		if (!is_marker(in, n)) {
			const char *s = in;

			while (o && (*s == ' ' || *s == '\t') && s < in + n)
				s++;
			if (o && o + 3 < len) {
				memcpy(out + o, " | ", 3);
				o += 3;
			}
			for (; s < in + n && o + 1 < len; s++)
				out[o++] = *s;
		}
		in += n + (eol != NULL);
	}
	out[o] = '\0';
}

void fnd_log(int priority, const char *fmt, ...)
{
	char raw[2048], line[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	flatten(raw, line, sizeof(line));
	/* one write per line, so lines from a crash-restart never interleave */
	if (journal)
		fprintf(stderr, "<%d>fragnetd: %s\n", priority, line);
	else
		fprintf(stderr, "fragnetd: %s\n", line);
	fflush(stderr);
}
