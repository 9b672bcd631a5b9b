/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Captures (`fragnetctl capture APP`): an administrator's CAPTURE_REQ gets a
 * memfd of rings (ctl/capture_ring.h), bounded by the request's checked
 * size, which goes to the application registered under that name and back
 * to fragnetctl. One capture per application at a time. When fragnetctl's
 * connection closes (done, interrupted or killed) the application is told
 * to stop; when the application leaves, fragnetctl's connection is closed
 * with an error saying so. A filter is compiled here, in a scratch
 * namespace, as load and check do (it blocks the loop as long).
 */
#ifndef FND_CAPTURE_H
#define FND_CAPTURE_H

struct fnd_apps;
struct fnd_captures;
struct fnd_peers;

/* Take CAPTURE_REQ from ps. NULL + errno. */
struct fnd_captures *fnd_captures_new(struct fnd_peers *ps, struct fnd_apps *as);
void fnd_captures_free(struct fnd_captures *cs);

#endif /* FND_CAPTURE_H */
