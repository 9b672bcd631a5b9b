/* SPDX-License-Identifier: BSD-3-Clause */
/* Captures between fragnetctl and an application (capture.h). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "app.h"
#include "capture.h"
#include "log.h"
#include "peer.h"
#include "compiler.h"
#include "ctl/capture_ring.h"

struct fnd_capture {
	uint64_t id;
	struct fnd_peer *ctl;      /* fragnetctl */
	struct fnd_peer *app;
};

struct fnd_captures {
	struct fnd_apps *apps;
	uint64_t next_id;
};

static void capture_free(struct fnd_capture *c)
{
	if (c->ctl)
		c->ctl->capture = NULL;
	if (c->app)
		c->app->capture = NULL;
	free(c);
}

/* The one application registered as name, or NULL with why in err. */
static struct fnd_app *find_app(struct fnd_captures *cs, const char *name, char *err,
				size_t errlen)
{
	struct fnd_app *found = NULL;
	unsigned n = 0;

	for (struct fnd_app *a = fnd_apps_first(cs->apps); a; a = fnd_apps_next(a))
		if (strcmp(a->peer->name, name) == 0) {
			found = a;
			n++;
		}
	if (n == 0)
		snprintf(err, errlen, "no application named '%s' is registered", name);
	else if (n > 1)
		snprintf(err, errlen, "%u processes are registered as '%s': capture needs one", n,
			 name);
	return n == 1 ? found : NULL;
}

/*
 * The filter as an image: the match expressions in a chain of a table of
 * our own, compiled in a scratch namespace like any ruleset (so an
 * expression the interpreter cannot reproduce is refused with its name).
 * 0 with a malloc'd image, or -errno with the reason in err.
 */
static int compile_filter(const char *filter, void **image, size_t *len, char *err,
			  size_t errlen)
{
	static const char fmt[] = "table inet fncapture {\n"
		"\tchain filter {\n"
		"\t\ttype filter hook input priority 0; policy drop;\n"
		"\t\t%s accept\n"
		"\t}\n"
		"}\n";
	char text[FN_CTL_FILTER_MAX + sizeof(fmt)], why[FN_CTL_MSG_MAX - 32];
	struct fn_compiler *c;
	int rc;

	if (strpbrk(filter, "{};\n#")) {
		snprintf(err, errlen, "capture filter: only match expressions (no { } ; # or "
			 "newlines)");
		return -EINVAL;
	}
	snprintf(text, sizeof(text), fmt, filter);
	c = fn_compiler_new(NULL, why, sizeof(why));
	if (c == NULL) {
		snprintf(err, errlen, "capture filter: %s", why);
		return -errno;
	}
	rc = fn_compile_text(c, text, "fncapture", image, len, why, sizeof(why));
	fn_compiler_free(c);
	if (rc < 0)
		snprintf(err, errlen, "capture filter: %s", why);
	else if (*len > FN_CTL_FILTER_IMAGE_MAX) {
		free(*image);
		snprintf(err, errlen, "capture filter: its image is too large");
		rc = -E2BIG;
	}
	return rc;
}

/*
 * The memfd: the rings as g says, then the filter image (len bytes, padded
 * to 8 in *padded). -errno on failure. Its size is sealed: the application
 * writes the rings, but could otherwise truncate them under fragnetctl,
 * whose next read of the mapping would then be a SIGBUS.
 */
static int rings_memfd(const struct fn_cap_geometry *g, const void *image, size_t len,
		       uint32_t *padded)
{
	int fd = memfd_create("fragnet-capture", MFD_CLOEXEC | MFD_ALLOW_SEALING), rc;

	*padded = (uint32_t)((len + 7) & ~(size_t)7);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)(g->total + *padded)) < 0 ||
	    (len && pwrite(fd, image, len, (off_t)g->total) != (ssize_t)len) ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0) {
		rc = -errno;
		close(fd);
		return rc ? rc : -EIO;
	}
	return fd;
}

static int on_capture_req(struct fnd_peer *p, const void *msg, size_t len, void *arg)
{
	const struct fn_ctl_hdr *h = msg;
	const struct fn_ctl_capture_req *m = fn_ctl_payload(msg);
	struct fnd_captures *cs = arg;
	struct fn_ctl_capture out = { .queue = m->queue, .snaplen = m->snaplen,
				      .mode = m->mode };
	struct fn_cap_geometry g;
	struct fnd_capture *c;
	struct fnd_app *a;
	char err[FN_CTL_MSG_MAX], who[128];
	void *image = NULL;
	size_t image_len = 0;
	int fd, rc;

	(void)len;
	if (!(p->roles & FND_ROLE_ADMIN)) {
		snprintf(err, sizeof(err), "uid %u may not run fragnetctl commands (not in "
			 "admin_users or admin_groups)", (unsigned)p->uid);
		fnd_peer_refuse(p, -EACCES, err);
		return 0;
	}
	if (p->app || p->req || p->capture)
		return -EPROTO;
	a = find_app(cs, m->name, err, sizeof(err));
	if (a == NULL) {
		fnd_peer_reply(p, h->seq, -ENOENT, err, NULL, 0);
		return 0;
	}
	if (a->peer->capture) {
		snprintf(err, sizeof(err), "%s[%d] is being captured already", a->peer->name,
			 (int)a->peer->pid);
		fnd_peer_reply(p, h->seq, -EBUSY, err, NULL, 0);
		return 0;
	}
	if (m->queue != FN_CTL_CAPTURE_ALL && m->queue >= a->n_queues) {
		snprintf(err, sizeof(err), "%s has %u queue(s): no queue %u", m->name,
			 a->n_queues, m->queue);
		fnd_peer_reply(p, h->seq, -EINVAL, err, NULL, 0);
		return 0;
	}
	if (fn_cap_geometry(a->n_queues, m->ring_bytes, m->snaplen, m->mode, &g) < 0) {
		snprintf(err, sizeof(err), "%u bytes of ring do not hold two records of %u bytes "
			 "for each of %u queues", m->ring_bytes, m->snaplen, a->n_queues);
		fnd_peer_reply(p, h->seq, -EINVAL, err, NULL, 0);
		return 0;
	}
	if (m->filter[0] &&
	    (rc = compile_filter(m->filter, &image, &image_len, err, sizeof(err))) < 0) {
		fnd_peer_reply(p, h->seq, rc == -ENOMEM ? rc : -EINVAL, err, NULL, 0);
		return 0;
	}
	c = calloc(1, sizeof(*c));
	fd = c ? rings_memfd(&g, image, image_len, &out.filter_len) : -ENOMEM;
	free(image);
	if (fd < 0) {
		free(c);
		snprintf(err, sizeof(err), "cannot make the capture rings: %s", strerror(-fd));
		fnd_peer_reply(p, h->seq, fd, err, NULL, 0);
		return 0;
	}
	c->id = ++cs->next_id;
	c->ctl = p;
	c->app = a->peer;
	out.id = c->id;
	out.n_queues = g.n_queues;
	out.n_slots = g.n_slots;
	out.pid = (uint32_t)a->peer->pid;
	snprintf(out.name, sizeof(out.name), "%s", a->peer->name);
	rc = fnd_peer_send(a->peer, FN_CTL_CAPTURE, 0, &out, sizeof(out), fd);
	if (rc == 0)
		rc = fnd_peer_send(p, FN_CTL_CAPTURE, h->seq, &out, sizeof(out), fd);
	close(fd);
	if (rc < 0) {
		free(c);
		return 0;          /* a peer that fell behind was closed */
	}
	p->capture = a->peer->capture = c;
	fnd_peer_describe(p, who, sizeof(who));
	fnd_log(LOG_INFO, "%s %s %s[%d] (capture %" PRIu64 ", queue %s, %zu bytes of "
		"rings, snaplen %u, filter '%s')", who,
		m->mode == FN_CAP_MODE_TRACE ? "traces" : "captures", a->peer->name,
		(int)a->peer->pid, c->id,
		m->queue == FN_CTL_CAPTURE_ALL ? "all" : "one", g.total, g.snaplen, m->filter);
	return 0;
}

/* Either end went: the other is told, and the capture is over. */
static void on_close(struct fnd_peer *p, void *arg)
{
	struct fnd_capture *c = p->capture;
	struct fn_ctl_capture_stop stop;
	char why[160];

	(void)arg;
	if (c == NULL)
		return;
	if (p == c->ctl && c->app && c->app->fd >= 0) {
		stop.id = c->id;
		fnd_peer_send(c->app, FN_CTL_CAPTURE_STOP, 0, &stop, sizeof(stop), -1);
		fnd_log(LOG_INFO, "capture %" PRIu64 " of %s[%d] over: fragnetctl left", c->id,
			c->app->name, (int)c->app->pid);
	} else if (p == c->app && c->ctl && c->ctl->fd >= 0) {
		snprintf(why, sizeof(why), "%s[%d] left: capture over", p->name, (int)p->pid);
		fnd_peer_refuse(c->ctl, -ECONNRESET, why);
	}
	capture_free(c);
}

struct fnd_captures *fnd_captures_new(struct fnd_peers *ps, struct fnd_apps *as)
{
	struct fnd_captures *cs = calloc(1, sizeof(*cs));
	int rc;

	if (cs == NULL)
		return NULL;
	cs->apps = as;
	if ((rc = fnd_peers_handle(ps, FN_CTL_CAPTURE_REQ, on_capture_req, cs)) < 0 ||
	    (rc = fnd_peers_on_close(ps, on_close, cs)) < 0) {
		free(cs);
		errno = -rc;
		return NULL;
	}
	return cs;
}

void fnd_captures_free(struct fnd_captures *cs)
{
	free(cs); /* the captures went with their peers */
}
