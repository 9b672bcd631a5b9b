/* SPDX-License-Identifier: BSD-3-Clause */
/* Connections (peer.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "config.h"
#include "event.h"
#include "log.h"
#include "peer.h"

#define MAX_WATCHERS 8
#define ACCEPT_PAUSE_MS 100       /* out of fds: how long to leave the backlog alone */
/* Output queued for a peer above which its further messages wait in its
 * socket: one that asks and never reads the answers cannot make us hold
 * more than this (plus one batch of answers). */
#define READ_PAUSE_BYTES (256u << 10)
#define CLOSE_GRACE_MS 1000       /* a refused peer's time to read why */

struct fnd_out {
	struct fnd_out *next;
	size_t len;
	int fd;                    /* passed with the message, then closed */
	unsigned char msg[] __attribute__((aligned(8)));
};

struct handler {
	fnd_msg_fn *fn;
	fnd_msg_fd_fn *fd_fn;      /* instead of fn: the type carries an fd */
	void *arg;
};

struct watcher {
	fnd_peer_fn *fn;
	void *arg;
};

struct fnd_peers {
	struct fnd_loop *loop;
	const struct fnd_config *cfg;
	int listen_fd;
	struct fnd_peer *list;
	uint64_t last_id;
	struct fnd_timer sweep;    /* frees the peers closed meanwhile */
	struct fnd_timer deadline; /* closes peers that did not say who they are in time */
	struct fnd_timer resume;   /* accepting again after running out of fds */
	struct fnd_conn_stats stats;
	/* Lines peers can make us write: each kind has its own budget. */
	struct fnd_log_limit log_peer, log_accept;
	struct handler handlers[FN_CTL_TYPE_END];
	struct watcher watchers[MAX_WATCHERS];
	unsigned n_watchers;
};

void fnd_peer_describe(const struct fnd_peer *p, char *s, size_t len)
{
	if (p->name[0])
		snprintf(s, len, "application %s[%d] (uid %u)", p->name, (int)p->pid,
			 (unsigned)p->uid);
	else
		snprintf(s, len, "peer pid %d uid %u", (int)p->pid, (unsigned)p->uid);
}

struct fnd_peer *fnd_peer_find(struct fnd_peers *ps, uint64_t id)
{
	for (struct fnd_peer *p = ps->list; p; p = p->next)
		if (p->id == id && p->fd >= 0)
			return p;
	return NULL;
}

/*
 * Wait for output room when out, for input unless p is closing or has
 * READ_PAUSE_BYTES of output unread. Input is off only while output is on
 * (closing or paused means the socket was full), so a hang-up still wakes
 * us (event.c reports it as what the fd waits for) and is met by a send.
 */
static void watch(struct fnd_peer *p, bool out)
{
	bool in = !p->closing && p->out_bytes <= READ_PAUSE_BYTES;

	if ((p->polling_out != out || p->reading != in) &&
	    fnd_event_mask(p->set->loop, p->fd,
			   (in ? FND_EV_IN : 0) | (out ? FND_EV_OUT : 0)) == 0) {
		if (p->reading && !in && !p->closing)
			p->set->stats.read_pauses++;
		p->polling_out = out;
		p->reading = in;
	}
}

/* Run on_deadline() by when at the latest. */
static void arm_deadline(struct fnd_peers *ps, int64_t when)
{
	if (!ps->deadline.armed || ps->deadline.deadline > when)
		fnd_timer_arm(&ps->deadline, when);
}

static void out_free(struct fnd_out *o)
{
	if (o->fd >= 0)
		close(o->fd);
	free(o);
}

void fnd_peer_close(struct fnd_peer *p)
{
	if (p->fd < 0)
		return;
	fnd_event_del(p->set->loop, p->fd);
	close(p->fd);
	p->fd = -1;
	p->set->stats.open--;
	for (struct fnd_out *o = p->out_head, *next; o; o = next) {
		next = o->next;
		out_free(o);
	}
	p->out_head = p->out_tail = NULL;
	p->out_bytes = 0;
	fnd_timer_arm(&p->set->sweep, 0);
}

/* Tell the watchers about the peers closed since the last sweep, and free them. */
static void sweep(struct fnd_timer *t, void *arg)
{
	struct fnd_peers *ps = arg;
	struct fnd_peer **pp = &ps->list, *p;

	while ((p = *pp) != NULL) {
		if (p->fd >= 0) {
			pp = &p->next;
			continue;
		}
		*pp = p->next;
		for (unsigned i = 0; i < ps->n_watchers; i++)
			ps->watchers[i].fn(p, ps->watchers[i].arg);
		free(p);
	}
}

static void output(struct fnd_peer *p)
{
	while (p->fd >= 0 && p->out_head) {
		struct fnd_out *o = p->out_head;
		int rc = fn_ctl_send(p->fd, o->msg, o->len, o->fd);

		if (rc == -EAGAIN) {
			watch(p, true);
			return;
		}
		if (rc < 0) {
			fnd_peer_close(p);
			return;
		}
		p->out_head = o->next;
		if (p->out_head == NULL)
			p->out_tail = NULL;
		p->out_bytes -= o->len;
		out_free(o);
	}
	if (p->fd < 0)
		return;
	watch(p, false);
	if (p->closing)
		fnd_peer_close(p);
}

int fnd_peer_send(struct fnd_peer *p, uint16_t type, uint32_t seq, const void *payload,
		  size_t len, int fd)
{
	struct fnd_out *o;
	char who[128];

	if (p->fd < 0)
		return -ENOTCONN;
	if (len > FN_CTL_MAX_MSG - sizeof(struct fn_ctl_hdr))
		return -EMSGSIZE;
	if (p->out_bytes + len > FND_PEER_OUT_MAX) {
		fnd_peer_describe(p, who, sizeof(who));
		fnd_log_limited(&p->set->log_peer, LOG_WARNING,
				"%s is not reading its messages: dropped", who);
		fnd_peer_close(p);
		return -ENOBUFS;
	}
	o = malloc(sizeof(*o) + sizeof(struct fn_ctl_hdr) + len);
	if (o == NULL)
		return -ENOMEM;
	o->next = NULL;
	o->fd = fd >= 0 ? dup(fd) : -1;
	if (fd >= 0 && o->fd < 0) {
		free(o);
		return -errno;
	}
	o->len = fn_ctl_build(o->msg, type, seq, payload, len);
	if (p->out_tail)
		p->out_tail->next = o;
	else
		p->out_head = o;
	p->out_tail = o;
	p->out_bytes += o->len;
	if (p->polling_out)
		watch(p, true);    /* perhaps past READ_PAUSE_BYTES now */
	else
		output(p);
	return 0;
}

void fnd_peer_reply(struct fnd_peer *p, uint32_t seq, int status, const char *msg,
		    const char *text, size_t text_len)
{
	struct fn_ctl_reply r = { .status = status, .out_len = (uint32_t)text_len };

	if (text_len > FN_CTL_TEXT_MAX) {
		r.status = -EFBIG;
		r.out_len = 0;
		text_len = 0;
		msg = "the output is too large to send";
	}
	snprintf(r.msg, sizeof(r.msg), "%s", msg ? msg : "");
	if (fnd_peer_send(p, FN_CTL_REPLY, seq, &r, sizeof(r), -1) < 0)
		return;
	for (size_t off = 0; off < text_len; off += FN_CTL_DATA_MAX) {
		size_t n = text_len - off < FN_CTL_DATA_MAX ? text_len - off : FN_CTL_DATA_MAX;

		if (fnd_peer_send(p, FN_CTL_DATA, seq, text + off, n, -1) < 0)
			return;
	}
}

void fnd_peer_refuse(struct fnd_peer *p, int status, const char *why)
{
	struct fn_ctl_error e = { .status = status };
	char who[128];

	fnd_peer_describe(p, who, sizeof(who));
	fnd_log_limited(&p->set->log_peer, LOG_WARNING, "%s refused: %s", who, why);
	snprintf(e.msg, sizeof(e.msg), "%s", why);
	fnd_peer_send(p, FN_CTL_ERROR, 0, &e, sizeof(e), -1);
	if (p->fd < 0)
		return;
	p->closing = true;
	p->register_by = 0;
	p->close_by = fnd_now_ms() + CLOSE_GRACE_MS;
	arm_deadline(p->set, p->close_by);
	output(p);
}

static bool in_groups(const struct fnd_idlist *l, gid_t gid, const gid_t *groups, int n)
{
	if (fnd_idlist_has(l, gid))
		return true;
	for (int i = 0; i < n; i++)
		if (fnd_idlist_has(l, groups[i]))
			return true;
	return false;
}

int fnd_peer_groups(const struct fnd_peer *p, gid_t *groups, int max)
{
	socklen_t glen = (socklen_t)((size_t)max * sizeof(gid_t));

	if (p->fd < 0 || getsockopt(p->fd, SOL_SOCKET, SO_PEERGROUPS, groups, &glen) < 0)
		return 0;
	return (int)(glen / sizeof(gid_t));
}

static unsigned roles_of(const struct fnd_config *cfg, const struct fnd_peer *p)
{
	gid_t groups[FND_PEER_MAX_GROUPS];
	unsigned roles = 0;
	int n;

	if (p->uid == 0)
		return FND_ROLE_APP | FND_ROLE_ADMIN;
	n = fnd_peer_groups(p, groups, FND_PEER_MAX_GROUPS);
	if (fnd_idlist_has(&cfg->admin_users, p->uid) ||
	    in_groups(&cfg->admin_groups, p->gid, groups, n))
		roles |= FND_ROLE_ADMIN | FND_ROLE_APP;
	if (fnd_idlist_has(&cfg->app_users, p->uid) ||
	    in_groups(&cfg->app_groups, p->gid, groups, n))
		roles |= FND_ROLE_APP;
	return roles;
}

static void on_message(struct fnd_peers *ps, struct fnd_peer *p, const void *msg, size_t n,
		       int fd)
{
	int type = fn_ctl_check(msg, n);
	const struct handler *h = type > 0 ? &ps->handlers[type] : NULL;
	char who[128];

	if (h && h->fd_fn) {
		if (h->fd_fn(p, msg, n, fd, h->arg) == 0)
			goto taken;
	} else {
		if (fd >= 0)
			close(fd);   /* only types that carry one may pass us fds */
		if (h && h->fn && h->fn(p, msg, n, h->arg) == 0)
			goto taken;
	}
	fnd_peer_describe(p, who, sizeof(who));
	if (type < 0)
		fnd_log_limited(&ps->log_peer, LOG_WARNING,
				"%s sent a malformed message (%zu bytes): closed", who, n);
	else
		fnd_log_limited(&ps->log_peer, LOG_WARNING, "%s sent a %s message out of turn: "
				"closed", who, fn_ctl_type_name((unsigned)type));
	fnd_peer_close(p);
	return;
taken:
	p->register_by = 0; /* it said in time who it is (HELLO) or what it wants */
}

static void input(struct fnd_peer *p)
{
	static unsigned char buf[FN_CTL_MAX_MSG] __attribute__((aligned(8)));

	/* a bounded number per wakeup, so one chatty peer cannot starve others */
	for (int i = 0; i < 64 && p->fd >= 0 && p->reading && !p->closing; i++) {
		char who[128];
		int fd = -1;
		ssize_t n = fn_ctl_recv(p->fd, buf, &fd);

		if (n == -EAGAIN)
			return;
		if (n <= 0) {
			if (n < 0 && n != -ECONNRESET) {
				fnd_peer_describe(p, who, sizeof(who));
				fnd_log_limited(&p->set->log_peer, LOG_WARNING, "%s: %s: closed", who,
						n == -EMSGSIZE ? "message too large" :
						strerror((int)-n));
			}
			fnd_peer_close(p);
			return;
		}
		on_message(p->set, p, buf, (size_t)n, fd);
	}
}

static void on_peer(int fd, unsigned events, void *arg)
{
	struct fnd_peer *p = arg;

	if (events & FND_EV_OUT)
		output(p);
	if (p->fd >= 0 && (events & FND_EV_IN))
		input(p);
}

static unsigned open_by_uid(const struct fnd_peers *ps, uid_t uid)
{
	unsigned n = 0;

	for (const struct fnd_peer *p = ps->list; p; p = p->next)
		n += p->fd >= 0 && p->uid == uid;
	return n;
}

/* Why a new peer may not stay, or NULL: its credentials, then the caps. */
static const char *refusal(struct fnd_peers *ps, const struct fnd_peer *p, int *status,
			   char *why, size_t len)
{
	const struct fnd_config *cfg = ps->cfg;

	*status = -EACCES;
	if (p->roles == 0) {
		ps->stats.refused_not_allowed++;
		snprintf(why, len, "uid %u gid %u is not allowed (not in app_users, app_groups, "
			 "admin_users or admin_groups)", (unsigned)p->uid, (unsigned)p->gid);
		return why;
	}
	*status = -EUSERS;
	if (ps->stats.open > cfg->max_connections) {
		ps->stats.refused_max++;
		snprintf(why, len, "too many connections (max_connections %u)",
			 cfg->max_connections);
		return why;
	}
	if (p->uid != 0 && open_by_uid(ps, p->uid) > cfg->max_connections_per_uid) {
		ps->stats.refused_max_per_uid++;
		snprintf(why, len, "too many connections from uid %u (max_connections_per_uid %u)",
			 (unsigned)p->uid, cfg->max_connections_per_uid);
		return why;
	}
	return NULL;
}

/*
 * Close the peers whose time is up: those that did not register or ask
 * anything in time, and refused ones that did not read why in
 * CLOSE_GRACE_MS (their socket full, the rest of the ERROR never sent).
 */
static void on_deadline(struct fnd_timer *t, void *arg)
{
	struct fnd_peers *ps = arg;
	int64_t now = fnd_now_ms(), next = 0;

	for (struct fnd_peer *p = ps->list; p; p = p->next) {
		int64_t due = p->close_by ? p->close_by : p->register_by;
		char who[128];

		if (p->fd < 0 || due == 0)
			continue;
		if (due > now) {
			if (next == 0 || due < next)
				next = due;
			continue;
		}
		fnd_peer_describe(p, who, sizeof(who));
		if (p->close_by) {
			ps->stats.refusals_unread++;
			fnd_log_limited(&ps->log_peer, LOG_WARNING, "%s did not read its refusal "
					"within %d ms: closed", who, CLOSE_GRACE_MS);
		} else {
			ps->stats.register_timeouts++;
			fnd_log_limited(&ps->log_peer, LOG_WARNING, "%s neither registered nor sent a "
					"request within %u ms: closed", who,
					ps->cfg->register_timeout_ms);
		}
		fnd_peer_close(p);
	}
	if (next)
		fnd_timer_arm(t, next);
}

static void on_listen(int listen_fd, unsigned events, void *arg);

static void resume_accepting(struct fnd_timer *t, void *arg)
{
	struct fnd_peers *ps = arg;
	int rc = fnd_event_add(ps->loop, ps->listen_fd, FND_EV_IN, on_listen, ps);

	if (rc < 0) {
		fnd_log_limited(&ps->log_accept, LOG_ERR, "epoll: %s: not accepting for %d ms",
				strerror(-rc), ACCEPT_PAUSE_MS);
		fnd_timer_arm(t, fnd_now_ms() + ACCEPT_PAUSE_MS);
	}
}

/*
 * Out of fds (or memory): the connection stays in the backlog and the
 * listening socket stays readable, so polling it would spin. Leave it out
 * of the poll set for a while; the registration deadline frees fds taken by
 * peers that only hold connections.
 */
static void pause_accepting(struct fnd_peers *ps, int err)
{
	ps->stats.accept_pauses++;
	fnd_log_limited(&ps->log_accept, LOG_ERR, "accept: %s with %u connection(s) open: not "
			"accepting for %d ms", strerror(err), ps->stats.open, ACCEPT_PAUSE_MS);
	fnd_event_del(ps->loop, ps->listen_fd);
	fnd_timer_arm(&ps->resume, fnd_now_ms() + ACCEPT_PAUSE_MS);
}

static void on_listen(int listen_fd, unsigned events, void *arg)
{
	struct fnd_peers *ps = arg;

	/* a bounded number per wakeup, so a flood cannot starve the peers */
	for (int i = 0; i < 64; i++) {
		struct ucred uc;
		socklen_t len = sizeof(uc);
		struct fnd_peer *p;
		int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		const char *no;
		char why[160];
		int rc, status;

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
				pause_accepting(ps, errno);
			else if (errno != EAGAIN)
				fnd_log_limited(&ps->log_accept, LOG_ERR, "accept: %s", strerror(errno));
			return;
		}
		p = calloc(1, sizeof(*p));
		if (p == NULL || getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) < 0) {
			fnd_log_limited(&ps->log_accept, LOG_ERR, "new connection: %s",
					p ? strerror(errno) : "out of memory");
			free(p);
			close(fd);
			continue;
		}
		p->set = ps;
		p->id = ++ps->last_id;
		p->fd = fd;
		p->pid = uc.pid;
		p->uid = uc.uid;
		p->gid = uc.gid;
		p->roles = roles_of(ps->cfg, p);
		p->reading = true;
		rc = fnd_event_add(ps->loop, fd, FND_EV_IN, on_peer, p);
		if (rc < 0) {
			fnd_log_limited(&ps->log_accept, LOG_ERR, "epoll: %s", strerror(-rc));
			free(p);
			close(fd);
			continue;
		}
		p->next = ps->list;
		ps->list = p;
		ps->stats.open++;
		ps->stats.accepted++;
		no = refusal(ps, p, &status, why, sizeof(why));
		if (no) {
			fnd_peer_refuse(p, status, no);
			continue;
		}
		p->register_by = fnd_now_ms() + ps->cfg->register_timeout_ms;
		arm_deadline(ps, p->register_by);
	}
}

struct fnd_peers *fnd_peers_new(struct fnd_loop *l, const struct fnd_config *cfg,
				int listen_fd)
{
	struct fnd_peers *ps = calloc(1, sizeof(*ps));
	int rc;

	if (ps == NULL)
		return NULL;
	ps->loop = l;
	ps->cfg = cfg;
	ps->listen_fd = listen_fd;
	fnd_timer_init(&ps->sweep, l, sweep, ps);
	fnd_timer_init(&ps->deadline, l, on_deadline, ps);
	fnd_timer_init(&ps->resume, l, resume_accepting, ps);
	ps->log_peer = FND_LOG_LIMIT(10, 1000);
	ps->log_accept = FND_LOG_LIMIT(2, 1000);
	ps->stats.max = cfg->max_connections;
	ps->stats.max_per_uid = cfg->max_connections_per_uid;
	rc = fnd_event_add(l, listen_fd, FND_EV_IN, on_listen, ps);
	if (rc < 0) {
		free(ps);
		errno = -rc;
		return NULL;
	}
	return ps;
}

void fnd_peers_free(struct fnd_peers *ps)
{
	if (ps == NULL)
		return;
	for (struct fnd_peer *p = ps->list; p; p = p->next)
		fnd_peer_close(p);
	sweep(&ps->sweep, ps);
	fnd_timer_disarm(&ps->sweep);
	fnd_timer_disarm(&ps->deadline);
	fnd_timer_disarm(&ps->resume);
	fnd_event_del(ps->loop, ps->listen_fd);
	free(ps);
}

int fnd_peers_handle(struct fnd_peers *ps, unsigned type, fnd_msg_fn *fn, void *arg)
{
	if (type == 0 || type >= FN_CTL_TYPE_END)
		return -EINVAL;
	if (ps->handlers[type].fn || ps->handlers[type].fd_fn)
		return -EEXIST;
	ps->handlers[type] = (struct handler){ .fn = fn, .arg = arg };
	return 0;
}

int fnd_peers_handle_fd(struct fnd_peers *ps, unsigned type, fnd_msg_fd_fn *fn, void *arg)
{
	if (type == 0 || type >= FN_CTL_TYPE_END)
		return -EINVAL;
	if (ps->handlers[type].fn || ps->handlers[type].fd_fn)
		return -EEXIST;
	ps->handlers[type] = (struct handler){ .fd_fn = fn, .arg = arg };
	return 0;
}

int fnd_peers_on_close(struct fnd_peers *ps, fnd_peer_fn *fn, void *arg)
{
	if (ps->n_watchers == MAX_WATCHERS)
		return -ENOSPC;
	ps->watchers[ps->n_watchers++] = (struct watcher){ fn, arg };
	return 0;
}

void fnd_peers_stats(const struct fnd_peers *ps, struct fnd_conn_stats *out)
{
	*out = ps->stats;
}
