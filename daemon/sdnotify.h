/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * systemd's readiness protocol by hand (no libsystemd): one datagram of
 * "KEY=value" lines to the socket in $NOTIFY_SOCKET, when there is one.
 */
#ifndef FND_SDNOTIFY_H
#define FND_SDNOTIFY_H

/* 0, or -errno; no $NOTIFY_SOCKET is not an error. */
int fnd_sd_notify(const char *state);

#endif /* FND_SDNOTIFY_H */
