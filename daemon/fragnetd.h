/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fragnetd: its configuration and its modules, as main.c starts them. One
 * thread, one event loop (event.h): nothing is locked.
 *
 * Who calls whom (an arrow is a call into the other module's header;
 * nothing calls back up except through the hooks named):
 *
 *   main ─────> every module below: new in this order, free in reverse
 *               (peers first); the ruleset again on SIGHUP
 *   command ──> ruleset (load, check), query (start), app (who applied), peer
 *   query ────> app (who is registered), ruleset (generations), report, peer
 *   app ──────> ruleset (current generation; hold/release), peer
 *   report ───> doc (its output described once, as a tree; text and JSON from it;
 *               Prometheus metrics from their own table, report_metrics.c)
 *   ruleset ──> generation, nftns, netns, notify, screen
 *   peer ─────> ctl/proto
 *   besides, wherever needed: event (fds, timers), log
 *
 *   hooks: peer hands each message type to the module that registered it
 *   (app: HELLO, APPLIED; query: STATS_*; command: REQUEST, DATA; xdp: XSK) and tells
 *   them when a peer is gone; ruleset tells app of each publication; app
 *   tells command and xdp when applications apply, refuse or leave; ruleset
 *   tells xdp of each publication too.
 *
 * A new module takes what it needs as arguments of its constructor, registers
 * its own fds and timers (event.h), message types and peer hook (peer.h),
 * keeps per-peer state on a pointer in struct fnd_peer, and gets a field
 * below.
 */
#ifndef FND_FRAGNETD_H
#define FND_FRAGNETD_H

#include "config.h"

struct fnd_apps;
struct fnd_captures;
struct fnd_commands;
struct fnd_loop;
struct fnd_peers;
struct fnd_queries;
struct fnd_ruleset;
struct fnd_xdp;

struct fnd {
	struct fnd_config cfg;
	struct fnd_loop *loop;
	int signal_fd, listen_fd;
	struct fnd_ruleset *ruleset;
	struct fnd_peers *peers;
	struct fnd_apps *apps;
	struct fnd_queries *queries;
	struct fnd_commands *commands;
	struct fnd_captures *captures;
	struct fnd_xdp *xdp;
};

#endif /* FND_FRAGNETD_H */
