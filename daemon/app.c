/* SPDX-License-Identifier: BSD-3-Clause */
/* Applications (app.h). */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "config.h"
#include "generation.h"
#include "log.h"
#include "peer.h"
#include "ruleset.h"

#define MAX_WATCHERS 4

struct watcher {
	fnd_apps_fn *fn;
	void *arg;
};

struct fnd_apps {
	struct fnd_peers *peers;
	struct fnd_ruleset *ruleset;
	const struct fnd_config *cfg;
	struct fnd_app_stats stats;
	struct fnd_app *list;
	struct watcher watchers[MAX_WATCHERS];
	unsigned n_watchers;
};

static void changed(struct fnd_apps *as)
{
	for (unsigned i = 0; i < as->n_watchers; i++)
		as->watchers[i].fn(as->watchers[i].arg);
}

/* A message from a peer, made safe to log: printable ASCII, one line. */
static void sanitize(const char *in, char *out, size_t len)
{
	size_t i;

	for (i = 0; in[i] && i + 1 < len; i++)
		out[i] = isprint((unsigned char)in[i]) ? in[i] : '?';
	out[i] = '\0';
}

static bool good_name(const char *s)
{
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-' && *s != '.')
			return false;
	return true;
}

/* g was sent to a: remember it until a answers, the oldest going when full. */
static void sent(struct fnd_app *a, uint64_t generation)
{
	if (a->n_unanswered == FND_APP_UNANSWERED) {
		memmove(a->unanswered, a->unanswered + 1,
			(FND_APP_UNANSWERED - 1) * sizeof(a->unanswered[0]));
		a->n_unanswered--;
	}
	a->unanswered[a->n_unanswered++] = generation;
}

/* Answers come in the order images went: take g and every older one. */
static bool answer_to_sent(struct fnd_app *a, uint64_t generation)
{
	for (unsigned i = 0; i < a->n_unanswered; i++)
		if (a->unanswered[i] == generation) {
			a->n_unanswered -= i + 1;
			memmove(a->unanswered, a->unanswered + i + 1,
				a->n_unanswered * sizeof(a->unanswered[0]));
			return true;
		}
	return false;
}

/* Send generation g's image for a's name. */
static void send_image(struct fnd_apps *as, struct fnd_app *a, struct fnd_generation *g)
{
	struct fnd_image *im = fnd_generation_image(g, a->peer->name,
						    fnd_config_app_unfiltered(as->cfg, a->peer->name));
	struct fn_ctl_image m = { .generation = g->number, .len = im->len };
	int fd = fnd_image_memfd(im, g->number);
	char who[128];

	fnd_peer_describe(a->peer, who, sizeof(who));
	if (fd < 0) {
		fnd_log(LOG_ERR, "generation %" PRIu64 " for %s: cannot make its memfd: %s",
			g->number, who, strerror(-fd));
		return;
	}
	if (fnd_peer_send(a->peer, FN_CTL_IMAGE, 0, &m, sizeof(m), fd) == 0) {
		fnd_ruleset_hold(as->ruleset, g->number);
		fnd_ruleset_release(as->ruleset, a->sent_gen);
		a->sent_gen = g->number;
		sent(a, g->number);
		fnd_log(LOG_INFO, "generation %" PRIu64 " sent to %s (table %s, %zu bytes)",
			g->number, who, fnd_image_table_name(im), im->len);
	}
}

static void on_publish(struct fnd_generation *g, void *arg)
{
	struct fnd_apps *as = arg;

	for (struct fnd_app *a = fnd_apps_first(as); a; a = fnd_apps_next(a))
		send_image(as, a, g);
}

static int on_hello(struct fnd_peer *p, const void *msg, size_t len, void *arg)
{
	const struct fn_ctl_hello *m = fn_ctl_payload(msg);
	struct fnd_apps *as = arg;
	gid_t groups[FND_PEER_MAX_GROUPS];
	struct fnd_app *a;
	const char *no;
	char who[128];

	if (!(p->roles & FND_ROLE_APP) || p->app || p->req)
		return -EPROTO;
	if (!good_name(m->name)) {
		fnd_peer_refuse(p, -EINVAL, "application names are letters, digits, '_', '-' "
				"and '.'");
		return 0;
	}
	no = fnd_config_app_refuses(as->cfg, m->name, p->uid, p->gid, groups,
				    fnd_peer_groups(p, groups, FND_PEER_MAX_GROUPS));
	if (no) {
		char why[FN_CTL_MSG_MAX];

		as->stats.refused_names++;
		snprintf(why, sizeof(why), "uid %u may not register as %s: %s", (unsigned)p->uid,
			 m->name, no);
		fnd_peer_refuse(p, -EACCES, why);
		return 0;
	}
	a = calloc(1, sizeof(*a));
	if (a == NULL) {
		fnd_peer_refuse(p, -ENOMEM, "out of memory");
		return 0;
	}
	snprintf(p->name, sizeof(p->name), "%s", m->name);
	p->app = a;
	a->peer = p;
	a->n_queues = m->n_queues;
	a->next = as->list;
	as->list = a;
	fnd_peer_describe(p, who, sizeof(who));
	fnd_log(LOG_INFO, "%s registered with %u queue(s)", who, a->n_queues);
	send_image(as, a, fnd_ruleset_current(as->ruleset));
	return 0;
}

static int on_applied(struct fnd_peer *p, const void *msg, size_t len, void *arg)
{
	const struct fn_ctl_applied *m = fn_ctl_payload(msg);
	struct fnd_apps *as = arg;
	struct fnd_app *a = p->app;
	char who[128], text[FN_CTL_MSG_MAX];

	if (a == NULL)
		return -EPROTO;
	fnd_peer_describe(p, who, sizeof(who));
	if (!answer_to_sent(a, m->generation)) {
		/* a report of rules it was never given is not to be believed */
		as->stats.applied_unsent++;
		snprintf(text, sizeof(text), "generation %" PRIu64 " was never sent to it, or "
			 "was answered already", m->generation);
		fnd_peer_refuse(p, -EPROTO, text);
		return 0;
	}
	if (m->status == 0) {
		if (m->generation > a->applied_gen) {
			fnd_ruleset_hold(as->ruleset, m->generation);
			fnd_ruleset_release(as->ruleset, a->applied_gen);
			a->applied_gen = m->generation;
		}
		fnd_log(LOG_INFO, "%s applied generation %" PRIu64, who, m->generation);
	} else {
		a->refused_gen = m->generation;
		sanitize(m->msg, text, sizeof(text));
		fnd_log(LOG_ERR, "%s could not apply generation %" PRIu64 " (%s); it keeps "
			"generation %" PRIu64, who, m->generation, text, a->applied_gen);
	}
	changed(as);
	return 0;
}

static void on_close(struct fnd_peer *p, void *arg)
{
	struct fnd_apps *as = arg;
	struct fnd_app *a = p->app;
	char who[128];

	if (a == NULL)
		return;
	fnd_peer_describe(p, who, sizeof(who));
	fnd_log(LOG_INFO, "%s disconnected (applied generation %" PRIu64 ")", who,
		a->applied_gen);
	for (struct fnd_app **pp = &as->list; *pp; pp = &(*pp)->next)
		if (*pp == a) {
			*pp = a->next;
			break;
		}
	fnd_ruleset_release(as->ruleset, a->sent_gen);
	fnd_ruleset_release(as->ruleset, a->applied_gen);
	p->app = NULL;
	free(a);
	changed(as);
}

struct fnd_apps *fnd_apps_new(struct fnd_peers *ps, struct fnd_ruleset *rs,
			       const struct fnd_config *cfg)
{
	struct fnd_apps *as = calloc(1, sizeof(*as));
	int rc;

	if (as == NULL)
		return NULL;
	as->cfg = cfg;
	as->peers = ps;
	as->ruleset = rs;
	if ((rc = fnd_peers_handle(ps, FN_CTL_HELLO, on_hello, as)) < 0 ||
	    (rc = fnd_peers_handle(ps, FN_CTL_APPLIED, on_applied, as)) < 0 ||
	    (rc = fnd_peers_on_close(ps, on_close, as)) < 0 ||
	    (rc = fnd_ruleset_subscribe(rs, on_publish, as)) < 0) {
		free(as);
		errno = -rc;
		return NULL;
	}
	return as;
}

void fnd_apps_free(struct fnd_apps *as)
{
	free(as); /* the applications went with their peers */
}

static struct fnd_app *open_from(struct fnd_app *a)
{
	while (a && a->peer->fd < 0)
		a = a->next; /* closed, gone after the events at hand */
	return a;
}

struct fnd_app *fnd_apps_first(struct fnd_apps *as)
{
	return open_from(as->list);
}

struct fnd_app *fnd_apps_next(struct fnd_app *a)
{
	return open_from(a->next);
}

int fnd_apps_watch(struct fnd_apps *as, fnd_apps_fn *fn, void *arg)
{
	if (as->n_watchers == MAX_WATCHERS)
		return -ENOSPC;
	as->watchers[as->n_watchers++] = (struct watcher){ fn, arg };
	return 0;
}

void fnd_apps_stats(const struct fnd_apps *as, struct fnd_app_stats *out)
{
	*out = as->stats;
}
