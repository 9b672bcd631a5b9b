/* SPDX-License-Identifier: BSD-3-Clause */
/* One line per event (log.h). */
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

static void write_line(int priority, const char *raw)
{
	char line[2048];

	flatten(raw, line, sizeof(line));
	/* one write per line, so lines from a crash-restart never interleave */
	if (journal)
		fprintf(stderr, "<%d>fragnetd: %s\n", priority, line);
	else
		fprintf(stderr, "fragnetd: %s\n", line);
	fflush(stderr);
}

void fnd_log(int priority, const char *fmt, ...)
{
	char raw[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	write_line(priority, raw);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool fnd_log_limited(struct fnd_log_limit *l, int priority, const char *fmt, ...)
{
	int64_t now = now_ms();
	char raw[2048];
	size_t n;
	va_list ap;

	if (l->in_window == 0 || now - l->window_start >= l->interval_ms) {
		l->window_start = now;
		l->in_window = 0;
	}
	if (l->in_window >= l->burst) {
		l->suppressed++;
		return false;
	}
	l->in_window++;
	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	n = strlen(raw);
	if (l->suppressed && n < sizeof(raw))
		snprintf(raw + n, sizeof(raw) - n, " (%" PRIu64 " similar line(s) left out before "
			 "this one)", l->suppressed);
	l->suppressed = 0;
	write_line(priority, raw);
	return true;
}
