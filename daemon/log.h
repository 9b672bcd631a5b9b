/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fragnetd's log: one line per event on stderr. Under systemd (stderr is the
 * journal) each line carries its syslog priority as a "<N>" prefix.
 */
#ifndef FND_LOG_H
#define FND_LOG_H

#include <syslog.h>

void fnd_log_init(void);
void fnd_log(int priority, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif /* FND_LOG_H */
