/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The library's side of fragnetd: register this application, install every
 * generation of rules the daemon sends, answer its stats requests, and
 * outlive it.
 *
 * fragnet_open() connects and installs the first generation before any queue
 * runs. From then on a control thread (a DPDK control thread, never an
 * lcore) owns the connection: a new image is mapped read-only and handed to
 * fn_filter_install(), which switches the queues at their next burst; when
 * the daemon goes away the last generation keeps filtering and the thread
 * reconnects with back-off, taking whatever generation it is sent then.
 * Old images are unmapped by this thread once lib/nft has released them, so
 * no lcore ever makes that system call.
 *
 * The socket is cfg->daemon_socket, else $FRAGNET_DAEMON_SOCKET, else
 * FRAGNET_DEFAULT_SOCKET.
 */
#ifndef FN_CTL_CLIENT_H
#define FN_CTL_CLIENT_H

#include <stdbool.h>

struct fragnet;
struct fn_filter;
struct fn_ctl_client;

/*
 * Connect, register as fn->app_name and install the first generation into
 * rules, then start the control thread. With `fallback` (the application
 * runs unfiltered when no daemon answers) a missing daemon is not final:
 * the thread is started anyway and keeps trying; the first generation it
 * installs ends the unfiltered mode (fn->unfiltered).
 * From then on rules report each replaced generation's final counters to
 * the client (fn_filter_on_retire()), which keeps the last ones for its
 * stats answers (final_counters.h).
 * Returns 0 with *out set, or:
 *  -ENOTCONN no daemon answered (with fallback, *out is set all the same)
 *  -EACCES   the daemon refused this process, or the socket's server runs
 *            as neither root nor our euid (either reason is logged)
 *  -EBADMSG  the image failed verification
 *  -ENOMEM, or the errno of creating the thread (after the first generation
 *            was installed: *out is set, stopped, and freed like any other)
 */
int fn_ctl_client_start(struct fragnet *fn, struct fn_filter *rules, bool fallback,
			  struct fn_ctl_client **out);

/* Stop the thread and close the connection; installs stop here. NULL is fine. */
void fn_ctl_client_stop(struct fn_ctl_client *c);

/* Free the client, after fn_filter_destroy() has released every image. */
void fn_ctl_client_free(struct fn_ctl_client *c);

#endif /* FN_CTL_CLIENT_H */
