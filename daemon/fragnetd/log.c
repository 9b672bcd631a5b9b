/* SPDX-License-Identifier: BSD-3-Clause */
/* One line per event (log.h). */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "log.h"

static bool journal;

void fnd_log_init(void)
{
	/* systemd sets JOURNAL_STREAM when stderr is connected to the journal */
	journal = getenv("JOURNAL_STREAM") != NULL;
}

void fnd_log(int priority, const char *fmt, ...)
{
	char line[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* one write per line, so lines from a crash-restart never interleave */
	if (journal)
		fprintf(stderr, "<%d>fragnetd: %s\n", priority, line);
	else
		fprintf(stderr, "fragnetd: %s\n", line);
	fflush(stderr);
}
