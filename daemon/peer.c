/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Connections: credentials at accept, one message at a time in, a queue out.
 *
 * Every peer is checked with SO_PEERCRED (and SO_PEERGROUPS) when it
 * connects; one that is neither an allowed application nor an administrator
 * gets an error and is closed. After that a peer is untrusted input: every
 * message goes through fn_ctl_check(), a message that fails it, or one its
 * role may not send, closes that peer and nothing else. Output is queued and
 * sent as the peer reads, so a slow or stuck peer never blocks the daemon;
 * one that lets FND_PEER_OUT_MAX bytes pile up is dropped.
 *
 * Peers are closed in two steps: fnd_peer_close() detaches the peer at once
 * (no more input or output), the main loop frees it after the event it was
 * handling, so lists being walked stay valid.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fragnetd.h"
#include "generation.h"
#include "log.h"

#define MAX_GROUPS 64

static void describe(const struct fnd_peer *p, char *s, size_t len)
{
	if (p->registered)
		snprintf(s, len, "application %s[%d] (uid %u)", p->name, (int)p->pid,
			 (unsigned)p->uid);
	else
		snprintf(s, len, "peer pid %d uid %u", (int)p->pid, (unsigned)p->uid);
}

/* A message from a peer, made safe to log: printable ASCII, one line. */
static void sanitize(const char *in, char *out, size_t len)
{
	size_t i;

	for (i = 0; in[i] && i + 1 < len; i++)
		out[i] = isprint((unsigned char)in[i]) ? in[i] : '?';
	out[i] = '\0';
}

struct fnd_peer *fnd_peer_find(struct fnd *d, uint64_t id)
{
	for (struct fnd_peer *p = d->peers; p; p = p->next)
		if (p->id == id && p->fd >= 0)
			return p;
	return NULL;
}

static void epoll_mod(struct fnd *d, struct fnd_peer *p, bool out)
{
	struct epoll_event ev = {
		.events = EPOLLIN | (out ? EPOLLOUT : 0),
		.data.ptr = p,
	};

	if (p->polling_out != out && epoll_ctl(d->epfd, EPOLL_CTL_MOD, p->fd, &ev) == 0)
		p->polling_out = out;
}

static void out_free(struct fnd_out *o)
{
	if (o->fd >= 0)
		close(o->fd);
	free(o);
}

void fnd_peer_close(struct fnd *d, struct fnd_peer *p)
{
	char who[128];

	if (p->fd < 0)
		return;
	describe(p, who, sizeof(who));
	if (p->registered)
		fnd_log(LOG_INFO, "%s disconnected (applied generation %" PRIu64 ")", who,
			p->applied_gen);
	epoll_ctl(d->epfd, EPOLL_CTL_DEL, p->fd, NULL);
	close(p->fd);
	p->fd = -1; /* freed by fnd_peer_sweep() */
	for (struct fnd_out *o = p->out_head, *next; o; o = next) {
		next = o->next;
		out_free(o);
	}
	p->out_head = p->out_tail = NULL;
	p->out_bytes = 0;
	fnd_query_peer_gone(d, p->id);
}

/* Free the peers closed during the last event. */
void fnd_peer_sweep(struct fnd *d)
{
	struct fnd_peer **pp = &d->peers, *p;
	bool apps_gone = false;

	while ((p = *pp) != NULL) {
		if (p->fd >= 0) {
			pp = &p->next;
			continue;
		}
		apps_gone |= p->registered;
		*pp = p->next;
		free(p->text);
		free(p);
	}
	if (apps_gone) {
		fnd_peer_check_waits(d);
		fnd_ruleset_prune(d);
	}
}

void fnd_peer_output(struct fnd *d, struct fnd_peer *p)
{
	while (p->fd >= 0 && p->out_head) {
		struct fnd_out *o = p->out_head;
		int rc = fn_ctl_send(p->fd, o->msg, o->len, o->fd);

		if (rc == -EAGAIN) {
			epoll_mod(d, p, true);
			return;
		}
		if (rc < 0) {
			fnd_peer_close(d, p);
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
	epoll_mod(d, p, false);
	if (p->closing)
		fnd_peer_close(d, p);
}

int fnd_peer_send(struct fnd *d, struct fnd_peer *p, uint16_t type, uint32_t seq,
		  const void *payload, size_t len, int fd)
{
	struct fnd_out *o;
	char who[128];

	if (p->fd < 0)
		return -ENOTCONN;
	if (len > FN_CTL_MAX_MSG - sizeof(struct fn_ctl_hdr))
		return -EMSGSIZE;
	if (p->out_bytes + len > FND_PEER_OUT_MAX) {
		describe(p, who, sizeof(who));
		fnd_log(LOG_WARNING, "%s is not reading its messages: dropped", who);
		fnd_peer_close(d, p);
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
	if (!p->polling_out)
		fnd_peer_output(d, p);
	return 0;
}

void fnd_peer_send_image(struct fnd *d, struct fnd_peer *p, struct fnd_generation *g)
{
	struct fnd_image *im = fnd_generation_image(g, p->name);
	struct fn_ctl_image m = { .generation = g->number, .len = im->len };
	int fd = fnd_image_memfd(im, g->number);
	char who[128];

	describe(p, who, sizeof(who));
	if (fd < 0) {
		fnd_log(LOG_ERR, "generation %" PRIu64 " for %s: cannot make its memfd: %s",
			g->number, who, strerror(-fd));
		return;
	}
	if (fnd_peer_send(d, p, FN_CTL_IMAGE, 0, &m, sizeof(m), fd) == 0) {
		p->sent_gen = g->number;
		fnd_log(LOG_INFO, "generation %" PRIu64 " sent to %s (table %s, %zu bytes)",
			g->number, who, im->table[0] ? im->table : "none", im->len);
	}
}

void fnd_peer_reply(struct fnd *d, struct fnd_peer *p, uint32_t seq, int status,
		    const char *msg, const char *text, size_t text_len)
{
	struct fn_ctl_reply r = { .status = status, .out_len = (uint32_t)text_len };

	if (text_len > FN_CTL_TEXT_MAX) {
		r.status = -EFBIG;
		r.out_len = 0;
		text_len = 0;
		msg = "the output is too large to send";
	}
	snprintf(r.msg, sizeof(r.msg), "%s", msg ? msg : "");
	if (fnd_peer_send(d, p, FN_CTL_REPLY, seq, &r, sizeof(r), -1) < 0)
		return;
	for (size_t off = 0; off < text_len; off += FN_CTL_DATA_MAX) {
		size_t n = text_len - off < FN_CTL_DATA_MAX ? text_len - off : FN_CTL_DATA_MAX;

		if (fnd_peer_send(d, p, FN_CTL_DATA, seq, text + off, n, -1) < 0)
			return;
	}
}

/* Refuse and close, as politely as a non-blocking socket allows. */
static void refuse(struct fnd *d, struct fnd_peer *p, int status, const char *why)
{
	struct fn_ctl_error e = { .status = status };
	char who[128];

	describe(p, who, sizeof(who));
	fnd_log(LOG_WARNING, "%s refused: %s", who, why);
	snprintf(e.msg, sizeof(e.msg), "%s", why);
	fnd_peer_send(d, p, FN_CTL_ERROR, 0, &e, sizeof(e), -1);
	p->closing = true;
	fnd_peer_output(d, p);
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

static unsigned roles_of(const struct fnd *d, int fd, const struct ucred *uc)
{
	gid_t groups[MAX_GROUPS];
	socklen_t glen = sizeof(groups);
	unsigned roles = 0;
	int n = 0;

	if (uc->uid == 0)
		return FND_ROLE_APP | FND_ROLE_ADMIN;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &glen) == 0)
		n = (int)(glen / sizeof(gid_t));
	if (fnd_idlist_has(&d->cfg.admin_users, uc->uid) ||
	    in_groups(&d->cfg.admin_groups, uc->gid, groups, n))
		roles |= FND_ROLE_ADMIN | FND_ROLE_APP;
	if (fnd_idlist_has(&d->cfg.app_users, uc->uid) ||
	    in_groups(&d->cfg.app_groups, uc->gid, groups, n))
		roles |= FND_ROLE_APP;
	return roles;
}

void fnd_peer_accept(struct fnd *d)
{
	for (;;) {
		struct ucred uc;
		socklen_t len = sizeof(uc);
		struct epoll_event ev = { .events = EPOLLIN };
		struct fnd_peer *p;
		int fd = accept4(d->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
				fnd_log(LOG_ERR, "accept: %s", strerror(errno));
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			return;
		}
		p = calloc(1, sizeof(*p));
		if (p == NULL || getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) < 0) {
			fnd_log(LOG_ERR, "new connection: %s", p ? strerror(errno) : "out of memory");
			free(p);
			close(fd);
			continue;
		}
		p->id = ++d->last_peer_id;
		p->fd = fd;
		p->pid = uc.pid;
		p->uid = uc.uid;
		p->gid = uc.gid;
		p->roles = roles_of(d, fd, &uc);
		ev.data.ptr = p;
		if (epoll_ctl(d->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
			fnd_log(LOG_ERR, "epoll: %s", strerror(errno));
			free(p);
			close(fd);
			continue;
		}
		p->next = d->peers;
		d->peers = p;
		if (p->roles == 0) {
			char why[160];

			snprintf(why, sizeof(why), "uid %u gid %u is not allowed (not in app_users, "
				 "app_groups, admin_users or admin_groups)", (unsigned)uc.uid,
				 (unsigned)uc.gid);
			refuse(d, p, -EACCES, why);
		}
	}
}

static bool good_name(const char *s)
{
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-' && *s != '.')
			return false;
	return true;
}

static void on_hello(struct fnd *d, struct fnd_peer *p, const struct fn_ctl_hello *m)
{
	char who[128];

	if (!good_name(m->name)) {
		refuse(d, p, -EINVAL, "application names are letters, digits, '_', '-' and '.'");
		return;
	}
	snprintf(p->name, sizeof(p->name), "%s", m->name);
	p->n_queues = m->n_queues;
	p->registered = true;
	describe(p, who, sizeof(who));
	fnd_log(LOG_INFO, "%s registered with %u queue(s)", who, p->n_queues);
	fnd_peer_send_image(d, p, d->current);
}

static void on_applied(struct fnd *d, struct fnd_peer *p, const struct fn_ctl_applied *m)
{
	char who[128], msg[FN_CTL_MSG_MAX];

	describe(p, who, sizeof(who));
	if (m->generation == 0 || m->generation > d->last_number) {
		fnd_log(LOG_WARNING, "%s reports generation %" PRIu64 ", which was never sent",
			who, m->generation);
		return;
	}
	if (m->status == 0) {
		if (m->generation > p->applied_gen)
			p->applied_gen = m->generation;
		fnd_log(LOG_INFO, "%s applied generation %" PRIu64, who, m->generation);
	} else {
		p->refused_gen = m->generation;
		sanitize(m->msg, msg, sizeof(msg));
		fnd_log(LOG_ERR, "%s could not apply generation %" PRIu64 " (%s); it keeps "
			"generation %" PRIu64, who, m->generation, msg, p->applied_gen);
	}
	fnd_peer_check_waits(d);
	fnd_ruleset_prune(d);
}

/* A load/check request whose text is complete. */
static void run_request(struct fnd *d, struct fnd_peer *p)
{
	char err[FN_CTL_MSG_MAX], who[128];
	const char *source = p->req.source[0] ? p->req.source : "(fragnetctl)";
	bool check = p->req.command == FN_CTL_CMD_CHECK;
	uint64_t gen;
	int rc;

	describe(p, who, sizeof(who));
	err[0] = '\0';
	rc = fnd_ruleset_load(d, p->text, p->text_len, source, check, &gen, err, sizeof(err));
	p->in_request = false;
	free(p->text);
	p->text = NULL;
	if (rc < 0) {
		fnd_log(LOG_WARNING, "%s %s %s: refused, nothing changed: %s", who,
			check ? "check" : "load", source, err);
		fnd_peer_reply(d, p, p->req_seq, rc, err, NULL, 0);
		return;
	}
	if (check) {
		snprintf(err, sizeof(err), "%s: the ruleset loads and every table lowers", source);
		fnd_peer_reply(d, p, p->req_seq, 0, err, NULL, 0);
		return;
	}
	fnd_log(LOG_INFO, "%s loaded %s as generation %" PRIu64, who, source, gen);
	p->wait_gen = gen;
	p->wait_deadline = fnd_now_ms() + d->cfg.apply_timeout_ms;
	fnd_peer_check_waits(d);
	fnd_timer_arm(d);
}

static void on_request(struct fnd *d, struct fnd_peer *p, uint32_t seq,
		       const struct fn_ctl_request *m)
{
	p->req = *m;
	p->req_seq = seq;
	if (m->command != FN_CTL_CMD_LOAD && m->command != FN_CTL_CMD_CHECK) {
		fnd_query_start(d, p, seq, m);
		return;
	}
	if (m->text_len == 0) {
		fnd_peer_reply(d, p, seq, -EINVAL, "the rules text is empty", NULL, 0);
		return;
	}
	p->text = malloc(m->text_len + 1);
	if (p->text == NULL) {
		fnd_peer_reply(d, p, seq, -ENOMEM, "out of memory", NULL, 0);
		return;
	}
	p->text_len = 0;
	p->in_request = true;
}

static void on_data(struct fnd *d, struct fnd_peer *p, const void *data, size_t len)
{
	memcpy(p->text + p->text_len, data, len);
	p->text_len += len;
	p->text[p->text_len] = '\0';
	if (p->text_len == p->req.text_len)
		run_request(d, p);
}

/* What each role may send, and when. Returns false for a protocol error. */
static bool allowed(const struct fnd_peer *p, int type, size_t len)
{
	switch (type) {
	case FN_CTL_HELLO:
		return (p->roles & FND_ROLE_APP) && !p->registered && !p->in_request;
	case FN_CTL_APPLIED:
	case FN_CTL_STATS_QUEUE:
	case FN_CTL_STATS_COUNTERS:
	case FN_CTL_STATS_END:
		return p->registered;
	case FN_CTL_REQUEST:
		return (p->roles & FND_ROLE_ADMIN) && !p->registered && !p->in_request &&
		       p->wait_gen == 0;
	case FN_CTL_DATA:
		return p->in_request && len <= p->req.text_len - p->text_len;
	default:
		return false;
	}
}

static void on_message(struct fnd *d, struct fnd_peer *p, const void *msg, size_t n)
{
	int type = fn_ctl_check(msg, n);
	const struct fn_ctl_hdr *h = msg;
	const void *payload = fn_ctl_payload(msg);
	char who[128];

	if (type == FN_CTL_REQUEST && !(p->roles & FND_ROLE_ADMIN)) {
		char why[160];

		snprintf(why, sizeof(why), "uid %u may not run fragnetctl commands (not in "
			 "admin_users or admin_groups)", (unsigned)p->uid);
		refuse(d, p, -EACCES, why);
		return;
	}
	if (type < 0 || !allowed(p, type, n - sizeof(*h))) {
		describe(p, who, sizeof(who));
		if (type < 0)
			fnd_log(LOG_WARNING, "%s sent a malformed message (%zu bytes): closed", who, n);
		else
			fnd_log(LOG_WARNING, "%s sent a %s message out of turn: closed", who,
				fn_ctl_type_name((unsigned)type));
		fnd_peer_close(d, p);
		return;
	}
	switch (type) {
	case FN_CTL_HELLO:
		on_hello(d, p, payload);
		break;
	case FN_CTL_APPLIED:
		on_applied(d, p, payload);
		break;
	case FN_CTL_STATS_QUEUE:
	case FN_CTL_STATS_COUNTERS:
	case FN_CTL_STATS_END:
		fnd_query_input(d, p, msg, type);
		break;
	case FN_CTL_REQUEST:
		on_request(d, p, h->seq, payload);
		break;
	case FN_CTL_DATA:
		on_data(d, p, payload, fn_ctl_payload_len(msg));
		break;
	default:
		break;
	}
}

void fnd_peer_input(struct fnd *d, struct fnd_peer *p)
{
	static unsigned char buf[FN_CTL_MAX_MSG] __attribute__((aligned(8)));

	/* a bounded number per wakeup, so one chatty peer cannot starve others */
	for (int i = 0; i < 64 && p->fd >= 0 && !p->closing; i++) {
		char who[128];
		ssize_t n = fn_ctl_recv(p->fd, buf, NULL); /* no peer may pass us fds */

		if (n == -EAGAIN)
			return;
		if (n <= 0) {
			if (n < 0 && n != -ECONNRESET) {
				describe(p, who, sizeof(who));
				fnd_log(LOG_WARNING, "%s: %s: closed", who, n == -EMSGSIZE ?
					"message too large" : strerror((int)-n));
			}
			fnd_peer_close(d, p);
			return;
		}
		on_message(d, p, buf, (size_t)n);
	}
}

/* A load is answered once every registered application applied (or
 * refused) its generation, or at its deadline. */
void fnd_peer_check_waits(struct fnd *d)
{
	int64_t now = fnd_now_ms();

	for (struct fnd_peer *c = d->peers; c; c = c->next) {
		unsigned total = 0, applied = 0, refused = 0;
		char msg[FN_CTL_MSG_MAX], late[512] = "", bad[512] = "";
		size_t nl = 0, nb = 0;

		if (c->fd < 0 || c->wait_gen == 0)
			continue;
		for (struct fnd_peer *a = d->peers; a; a = a->next) {
			char entry[96];

			if (a->fd < 0 || !a->registered)
				continue;
			total++;
			snprintf(entry, sizeof(entry), "%s[%d]", a->name, (int)a->pid);
			if (a->applied_gen >= c->wait_gen) {
				applied++;
			} else if (a->refused_gen == c->wait_gen) {
				refused++;
				if (nb < sizeof(bad))
					nb += (size_t)snprintf(bad + nb, sizeof(bad) - nb, "%s%s",
							       nb ? ", " : "", entry);
			} else if (nl < sizeof(late)) {
				nl += (size_t)snprintf(late + nl, sizeof(late) - nl, "%s%s",
						       nl ? ", " : "", entry);
			}
		}
		if (applied + refused < total && now < c->wait_deadline)
			continue;
		snprintf(msg, sizeof(msg), "generation %" PRIu64 " loaded: applied by %u of %u "
			 "application(s)%s%s%s%s", c->wait_gen, applied, total,
			 refused ? "; refused by " : "", bad,
			 applied + refused < total ? "; no answer yet from " : "", late);
		fnd_peer_reply(d, c, c->req_seq, applied == total ? 0 : -EREMOTEIO, msg, NULL, 0);
		c->wait_gen = 0;
	}
}

int64_t fnd_peer_next_deadline(struct fnd *d)
{
	int64_t next = 0;

	for (struct fnd_peer *p = d->peers; p; p = p->next)
		if (p->fd >= 0 && p->wait_gen && (next == 0 || p->wait_deadline < next))
			next = p->wait_deadline;
	return next;
}
