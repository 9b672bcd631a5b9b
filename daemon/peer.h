/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Connections: credentials at accept, one message at a time in, a queue out.
 *
 * Every peer is checked with SO_PEERCRED (and SO_PEERGROUPS) when it
 * connects; one that is neither an allowed application nor an administrator,
 * or one over max_connections (everyone's) or max_connections_per_uid
 * (its uid's; root has none), gets an error and is closed. One that has
 * neither registered nor sent a request within register_timeout_ms is
 * closed. Out of fds, the daemon stops accepting for a moment instead of
 * spinning on a socket that stays readable; what peers can make it log is
 * rate-limited (log.h). After that a peer is untrusted input: every
 * message goes through fn_ctl_check(), then to the handler another module
 * registered for its type (fnd_peers_handle); a message that fails the
 * check, has no handler, or that its handler finds out of turn closes that
 * peer and nothing else. Output is queued and sent as the peer reads, so a
 * slow or stuck peer never blocks the daemon; while a peer leaves 256 KiB
 * of it unread, its own messages wait in its socket (a peer that asks and
 * never reads cannot make the daemon hold its answers), and one that lets
 * FND_PEER_OUT_MAX bytes pile up is dropped. A refused peer is sent why
 * and closed once it has read it, or after a second whatever it does.
 *
 * Peers are closed in two steps: fnd_peer_close() detaches the peer at once
 * (no more input or output); after the events at hand, the modules watching
 * (fnd_peers_on_close) are told, then it is freed. So a peer met while
 * walking any list stays valid until the walk is over.
 *
 * A module with state of its own per peer (app.c, command.c) hangs it on a
 * pointer below, and frees it when told the peer is gone.
 */
#ifndef FND_PEER_H
#define FND_PEER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ctl/proto.h"

#define FND_ROLE_APP 0x1u      /* may register and receive rules */
#define FND_ROLE_ADMIN 0x2u    /* may run fragnetctl commands */

/* Most bytes queued for one peer before it counts as stuck and is dropped:
 * the longest reply (a command's output) and some. Requests wait unread
 * long before that (peer.c), so only what the daemon sends unasked
 * (rules, stats requests) to a peer that never reads can reach it. */
#define FND_PEER_OUT_MAX (FN_CTL_TEXT_MAX + (1u << 20))

struct fnd_config;
struct fnd_loop;
struct fnd_out;
struct fnd_peers;

struct fnd_peer {
	struct fnd_peer *next;
	struct fnd_peers *set;
	uint64_t id;               /* never reused, unlike fds */
	int fd;                    /* -1 once closed */
	pid_t pid;
	uid_t uid;
	gid_t gid;
	unsigned roles;            /* FND_ROLE_* */
	int64_t register_by;       /* ms: closed unless a message is taken by then; 0 once one is */
	int64_t close_by;          /* ms: refused, closed by then whether it read why or not */
	char name[FN_CTL_NAME_MAX]; /* an application's, once registered; "" before */

	/* kept by other modules; peer.c never looks inside */
	struct fnd_app *app;       /* app.c: a registered application */
	struct fnd_request *req;   /* command.c: a load or check under way */
	struct fnd_capture *capture; /* capture.c: either end of a capture */

	/* peer.c's own */
	bool closing;              /* close once the output is flushed */
	bool polling_out;          /* waiting for the socket to take more */
	bool reading;              /* waiting for input: not closing, not too far behind */
	struct fnd_out *out_head, *out_tail;
	size_t out_bytes;
};

/* A checked message (header included) of type registered: 0, or -EPROTO when
 * it is out of turn for p (p is then closed). */
typedef int fnd_msg_fn(struct fnd_peer *p, const void *msg, size_t len, void *arg);
typedef void fnd_peer_fn(struct fnd_peer *p, void *arg);

/* Connections, for the stats report. */
struct fnd_conn_stats {
	unsigned open;             /* now */
	unsigned max, max_per_uid; /* the configured caps */
	uint64_t accepted;
	uint64_t refused_not_allowed; /* credentials in no role */
	uint64_t refused_max, refused_max_per_uid;
	uint64_t register_timeouts; /* closed for saying nothing in time */
	uint64_t refusals_unread;  /* refused, and closed before reading why */
	uint64_t read_pauses;      /* a peer's messages left waiting: its answers unread */
	uint64_t accept_pauses;    /* out of fds: accepting paused */
};
/* The same for a message type that carries a file descriptor: fd (or -1
 * when none came) is the handler's to close, whatever it returns. */
typedef int fnd_msg_fd_fn(struct fnd_peer *p, const void *msg, size_t len, int fd, void *arg);

/* Serve the connections listen_fd accepts (it listens already; the caller
 * closes it after fnd_peers_free()). NULL + errno. */
struct fnd_peers *fnd_peers_new(struct fnd_loop *l, const struct fnd_config *cfg,
				int listen_fd);
/* Close every peer, tell the watchers, free. First at shutdown: every module
 * watching must still be there. */
void fnd_peers_free(struct fnd_peers *ps);

/* The handler of a message type, one per type. 0 or -EEXIST/-EINVAL. */
int fnd_peers_handle(struct fnd_peers *ps, unsigned type, fnd_msg_fn *fn, void *arg);
/* The handler of a message type that comes with a descriptor (SCM_RIGHTS);
 * every other type's descriptors are closed on arrival. */
int fnd_peers_handle_fd(struct fnd_peers *ps, unsigned type, fnd_msg_fd_fn *fn, void *arg);
/* Call fn for every peer that goes, before it is freed. 0 or -ENOSPC. */
int fnd_peers_on_close(struct fnd_peers *ps, fnd_peer_fn *fn, void *arg);

/* An open peer by id, or NULL. */
struct fnd_peer *fnd_peer_find(struct fnd_peers *ps, uint64_t id);

/* Queue a message (and an fd, dup'ed) for p; a peer that falls too far
 * behind is closed. 0 or -errno. */
int fnd_peer_send(struct fnd_peer *p, uint16_t type, uint32_t seq, const void *payload,
		  size_t len, int fd);
/* Reply to a fragnetctl request: status line, then text in DATA chunks. */
void fnd_peer_reply(struct fnd_peer *p, uint32_t seq, int status, const char *msg,
		    const char *text, size_t text_len);
/* Refuse with an ERROR and close, as politely as a non-blocking socket allows. */
void fnd_peer_refuse(struct fnd_peer *p, int status, const char *why);
void fnd_peer_close(struct fnd_peer *p);

/* p's supplementary groups (SO_PEERGROUPS), at most max: how many. */
#define FND_PEER_MAX_GROUPS 64
int fnd_peer_groups(const struct fnd_peer *p, gid_t *groups, int max);

void fnd_peers_stats(const struct fnd_peers *ps, struct fnd_conn_stats *out);

/* "application NAME[PID] (uid UID)" or "peer pid PID uid UID", for logs. */
void fnd_peer_describe(const struct fnd_peer *p, char *s, size_t len);

#endif /* FND_PEER_H */
