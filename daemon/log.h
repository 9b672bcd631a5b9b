/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fragnetd's log: one line per event on stderr. Under systemd (stderr is the
 * journal) each line carries its syslog priority as a "<N>" prefix.
 */
#ifndef FND_LOG_H
#define FND_LOG_H

#include <stdbool.h>
#include <stdint.h>
#include <syslog.h>

void fnd_log_init(void);
void fnd_log(int priority, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * A budget for lines an outsider can make us write (a connection flood, a
 * peer refused over and over): at most `burst` lines per `interval_ms`; the
 * rest are counted, and the first line of the next interval says how many
 * were left out. Zero-initialised fields are fine; set burst and interval_ms.
 */
struct fnd_log_limit {
	unsigned burst;
	unsigned interval_ms;
	int64_t window_start;      /* ms, monotonic */
	unsigned in_window;
	uint64_t suppressed;       /* since the last line written */
};

#define FND_LOG_LIMIT(b, ms) ((struct fnd_log_limit){ .burst = (b), .interval_ms = (ms) })

/* fnd_log() within l's budget: true when the line was written. */
bool fnd_log_limited(struct fnd_log_limit *l, int priority, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif /* FND_LOG_H */
