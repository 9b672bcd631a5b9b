/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fragnetd's state, shared by its modules: the compile namespace and the
 * generations published from it (ruleset.c), the connected peers (peer.c),
 * the stats queries fragnetctl is waiting on (query.c) and their output
 * (report.c). One thread, one epoll loop (main.c): nothing here is locked.
 */
#ifndef FND_FRAGNETD_H
#define FND_FRAGNETD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"
#include "ctl/proto.h"

struct fn_compiler;
struct fnd_generation;
struct fnd_notify;
struct fnd_nft;
struct fnd_query;

#define FND_ROLE_APP 0x1u      /* may register and receive rules */
#define FND_ROLE_ADMIN 0x2u    /* may run fragnetctl commands */

/* Most bytes queued for one peer before it counts as stuck and is dropped. */
#define FND_PEER_OUT_MAX (64u << 20)

struct fnd_out {
	struct fnd_out *next;
	size_t len;
	int fd;                    /* passed with the message, then closed */
	unsigned char msg[] __attribute__((aligned(8)));
};

struct fnd_peer {
	struct fnd_peer *next;
	uint64_t id;               /* never reused, unlike fds */
	int fd;
	pid_t pid;
	uid_t uid;
	gid_t gid;
	unsigned roles;            /* FND_ROLE_* */
	bool closing;              /* drop once the output is flushed */
	bool polling_out;          /* EPOLLOUT armed */

	/* An application, after HELLO. */
	bool registered;
	char name[FN_CTL_NAME_MAX];
	unsigned n_queues;
	uint64_t sent_gen;         /* last generation sent */
	uint64_t applied_gen;      /* last generation it reported applied */
	uint64_t refused_gen;      /* last generation it could not apply */

	/* fragnetctl: a request being received, or a load waiting for apps. */
	bool in_request;
	struct fn_ctl_request req;
	uint32_t req_seq;
	char *text;
	size_t text_len;
	uint64_t wait_gen;         /* reply once every app applied this */
	int64_t wait_deadline;     /* ms, monotonic */

	struct fnd_out *out_head, *out_tail;
	size_t out_bytes;
};

struct fnd {
	struct fnd_config cfg;
	int epfd, listen_fd, signal_fd, timer_fd;
	int ns_fd;
	bool ns_created;
	struct fn_compiler *compiler;
	struct fnd_nft *nft;
	struct fnd_notify *notify;

	struct fnd_generation *current;  /* what applications get now */
	struct fnd_generation *older;    /* earlier ones some application applies */
	uint64_t last_number;
	int64_t resync_at;               /* ms: read the namespace again (0: no) */

	struct fnd_peer *peers;
	uint64_t last_peer_id;
	struct fnd_query *queries;
	uint32_t last_seq;
	bool stop;
};

int64_t fnd_now_ms(void);
/* Re-arm the timer for the earliest deadline of anything above. */
void fnd_timer_arm(struct fnd *d);

/* ruleset.c */
int fnd_ruleset_start(struct fnd *d, char *err, size_t errlen);
void fnd_ruleset_stop(struct fnd *d);
int fnd_ruleset_load(struct fnd *d, const char *text, size_t len, const char *source,
		     bool check_only, uint64_t *generation, char *err, size_t errlen);
void fnd_ruleset_reload_config(struct fnd *d);
void fnd_ruleset_on_notify(struct fnd *d);
void fnd_ruleset_on_timer(struct fnd *d);
void fnd_ruleset_prune(struct fnd *d);
struct fnd_generation *fnd_ruleset_find(struct fnd *d, uint64_t number);

/* peer.c */
void fnd_peer_accept(struct fnd *d);
void fnd_peer_input(struct fnd *d, struct fnd_peer *p);
void fnd_peer_output(struct fnd *d, struct fnd_peer *p);
void fnd_peer_close(struct fnd *d, struct fnd_peer *p);
/* Free the peers closed since the last call. */
void fnd_peer_sweep(struct fnd *d);
struct fnd_peer *fnd_peer_find(struct fnd *d, uint64_t id);
/* Queue a message (and an fd, dup'ed) for p; a peer that falls too far
 * behind is closed. 0 or -errno. */
int fnd_peer_send(struct fnd *d, struct fnd_peer *p, uint16_t type, uint32_t seq,
		  const void *payload, size_t len, int fd);
/* Send generation g's image for p's name. */
void fnd_peer_send_image(struct fnd *d, struct fnd_peer *p, struct fnd_generation *g);
/* Reply to a fragnetctl request: status line, then text in DATA chunks. */
void fnd_peer_reply(struct fnd *d, struct fnd_peer *p, uint32_t seq, int status,
		    const char *msg, const char *text, size_t text_len);
/* Answer loads waiting for applications, when they all applied or time is up. */
void fnd_peer_check_waits(struct fnd *d);
int64_t fnd_peer_next_deadline(struct fnd *d);

/* query.c (see query.h) */
void fnd_query_start(struct fnd *d, struct fnd_peer *ctl, uint32_t seq,
		     const struct fn_ctl_request *req);
void fnd_query_input(struct fnd *d, struct fnd_peer *app, const void *msg, int type);
void fnd_query_peer_gone(struct fnd *d, uint64_t peer_id);
/* Answer the queries that are complete or out of time. */
void fnd_query_run(struct fnd *d);
int64_t fnd_query_next_deadline(struct fnd *d);
void fnd_query_free_all(struct fnd *d);

#endif /* FND_FRAGNETD_H */
