/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The ruleset: the compile namespace, and what is published from it.
 *
 * A new ruleset (the configured file at start and on SIGHUP, or text from
 * `fragnetctl load`) is first loaded and lowered in a scratch namespace; only
 * when every table lowers is it loaded into the compile namespace, snapshot
 * again and published. So a bad ruleset changes nothing anywhere: not the
 * namespace, not the applications. `fragnetctl check` stops after the
 * scratch namespace.
 *
 * Edits made with stock nft in the compile namespace arrive as nftables
 * notifications; shortly after the last one the namespace is read again and
 * published the same way. When such an edit does not lower, the namespace
 * now holds rules the applications do not have: the previous generation
 * stays published, and the log says so, once per burst of edits.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compiler.h"
#include "config.h"
#include "event.h"
#include "generation.h"
#include "log.h"
#include "netns.h"
#include "nftns.h"
#include "notify.h"
#include "ruleset.h"
#include "screen.h"
#include "ctl/proto.h"

/* Notifications come in bursts (one per object, NEWGEN per commit): wait
 * this long after the last one before reading the namespace. */
#define SETTLE_MS 30

#define MAX_SUBSCRIBERS 4

struct subscriber {
	fnd_publish_fn *fn;
	void *arg;
};

struct fnd_ruleset {
	const struct fnd_config *cfg;
	struct fnd_loop *loop;
	int ns_fd;
	bool ns_created;
	struct fn_compiler *compiler;
	struct fnd_nft *nft;
	struct fnd_notify *notify;
	struct fnd_timer resync;   /* read the namespace again after nft edits */

	struct fnd_generation *current;  /* what applications get now */
	struct fnd_generation *older;    /* earlier ones still held */
	uint64_t last_number;
	struct subscriber subscribers[MAX_SUBSCRIBERS];
	unsigned n_subscribers;
};

/* An older generation stays while an application holds it (it was sent it,
 * or applies it): its text is what `list ruleset` shows that application's
 * counters on. */
static void prune(struct fnd_ruleset *rs)
{
	struct fnd_generation **pp = &rs->older, *g;

	while ((g = *pp) != NULL) {
		if (g->users) {
			pp = &g->next;
		} else {
			*pp = g->next;
			fnd_generation_free(g);
		}
	}
}

/* Publish g (taking it), unless it changes nothing for the applications. */
static uint64_t publish(struct fnd_ruleset *rs, struct fnd_generation *g, const char *source)
{
	char tables[512] = "";
	size_t n = 0;

	if (rs->current && fnd_generation_same(rs->current, g)) {
		/* same rules for everyone: keep the number, refresh the text */
		char *text = rs->current->text;

		rs->current->text = g->text;
		g->text = text;
		rs->current->nft_gen = g->nft_gen;
		fnd_generation_free(g);
		fnd_log(LOG_INFO, "%s: nothing changes for applications; generation %" PRIu64
			" stays", source, rs->current->number);
		return rs->current->number;
	}
	g->number = ++rs->last_number;
	if (rs->current) {
		rs->current->next = rs->older;
		rs->older = rs->current;
		/* memfds are for sending: the old ones will not be sent again */
		for (size_t i = 0; i < rs->older->n_images; i++)
			if (rs->older->images[i].memfd >= 0) {
				close(rs->older->images[i].memfd);
				rs->older->images[i].memfd = -1;
			}
		if (rs->older->fallback.memfd >= 0) {
			close(rs->older->fallback.memfd);
			rs->older->fallback.memfd = -1;
		}
		if (rs->older->open.memfd >= 0) {
			close(rs->older->open.memfd);
			rs->older->open.memfd = -1;
		}
	}
	rs->current = g;
	for (size_t i = 0; i < g->n_images && n < sizeof(tables) - 1; i++)
		n += (size_t)snprintf(tables + n, sizeof(tables) - n, "%s%s", n ? ", " : "",
				      g->images[i].table);
	fnd_log(LOG_NOTICE, "generation %" PRIu64 " published (%s, nftables generation %" PRIu64
		"): tables %s, other applications get %s", g->number, source, g->nft_gen,
		n ? tables : "none", fnd_image_table_name(&g->fallback));
	for (unsigned i = 0; i < rs->n_subscribers; i++)
		rs->subscribers[i].fn(g, rs->subscribers[i].arg);
	prune(rs);
	return g->number;
}

/* Load text (or the files at path) into a scratch namespace and lower it
 * there. 0 when every table lowers. The namespace is the compiler's own,
 * anonymous one: nothing under /run/netns, which fragnetd running as its
 * own user cannot write. */
static int check_in_scratch(struct fnd_ruleset *rs, const char *text, size_t len,
			    const char *source, const char *path, char *err, size_t errlen)
{
	struct fnd_generation *g = NULL;
	struct fn_compiler *c;
	struct fnd_nft *nft;
	int rc;

	c = fn_compiler_new(NULL, err, errlen);
	if (c == NULL)
		return -errno;
	nft = fnd_nft_new(fn_compiler_netns_fd(c));
	if (nft == NULL) {
		rc = -errno;
		snprintf(err, errlen, "libnftables: %s", strerror(errno));
		goto out;
	}
	rc = path ? fnd_nft_replace_path(nft, path, err, errlen) :
		    fnd_nft_replace_text(nft, text, len, source, err, errlen);
	if (rc == 0)
		rc = fnd_generation_build(c, nft, &g, err, errlen);
out:
	fnd_generation_free(g);
	fnd_nft_free(nft);
	fn_compiler_free(c);
	return rc;
}

/* Put the text of the current generation back after a failed apply. */
static void restore(struct fnd_ruleset *rs)
{
	char err[512];

	if (rs->current && fnd_nft_replace_text(rs->nft, rs->current->text,
					       strlen(rs->current->text), "(previous ruleset)",
					       err, sizeof(err)) < 0)
		fnd_log(LOG_ERR, "restoring generation %" PRIu64 " in namespace %s failed: %s",
			rs->current->number, rs->cfg->netns, err);
}

/* Checked already: load into the compile namespace, snapshot, publish. */
static int apply(struct fnd_ruleset *rs, const char *text, size_t len, const char *source,
		 const char *path, uint64_t *number, char *err, size_t errlen)
{
	struct fnd_generation *g;
	int rc;

	rc = path ? fnd_nft_replace_path(rs->nft, path, err, errlen) :
		    fnd_nft_replace_text(rs->nft, text, len, source, err, errlen);
	if (rc == 0) {
		rc = fnd_generation_build(rs->compiler, rs->nft, &g, err, errlen);
		if (rc < 0)
			restore(rs); /* e.g. an administrator's nft edit in between */
	}
	if (rc < 0)
		return rc;
	*number = publish(rs, g, source);
	return 0;
}

int fnd_ruleset_load(struct fnd_ruleset *rs, const char *text, size_t len, const char *source,
		     bool check_only, uint64_t *number, char *err, size_t errlen)
{
	int rc = fnd_screen_rules_text(text, len, err, errlen);

	*number = 0;
	if (rc == 0)
		rc = check_in_scratch(rs, text, len, source, NULL, err, errlen);
	if (rc == 0 && !check_only)
		rc = apply(rs, text, len, source, NULL, number, err, errlen);
	return rc;
}

static int load_path(struct fnd_ruleset *rs, const char *path, char *err, size_t errlen)
{
	char source[512];
	uint64_t number;
	int rc;

	snprintf(source, sizeof(source), "rules %s", path);
	rc = check_in_scratch(rs, NULL, 0, NULL, path, err, errlen);
	if (rc == 0)
		rc = apply(rs, NULL, 0, source, path, &number, err, errlen);
	return rc;
}

void fnd_ruleset_reload_config(struct fnd_ruleset *rs)
{
	char err[FN_CTL_MSG_MAX];

	if (rs->cfg->rules == NULL) {
		fnd_log(LOG_INFO, "SIGHUP: no rules file configured, nothing to reload");
		return;
	}
	if (load_path(rs, rs->cfg->rules, err, sizeof(err)) < 0)
		fnd_log(LOG_ERR, "SIGHUP: %s not loaded, generation %" PRIu64 " stays: %s",
			rs->cfg->rules, rs->current->number, err);
}

/* nftables told of a commit: read the namespace once the burst settled. */
static void on_notify(int fd, unsigned events, void *arg)
{
	struct fnd_ruleset *rs = arg;
	uint32_t genid;
	int rc = fnd_notify_read(rs->notify, &genid);

	if (rc < 0) {
		fnd_log(LOG_ERR, "nftables notifications: %s", strerror(-rc));
		return;
	}
	/* our own commits were read right after them */
	if (rc == 0 || (genid != 0 && rs->current && genid == rs->current->nft_gen))
		return;
	fnd_timer_arm(&rs->resync, fnd_now_ms() + SETTLE_MS);
}

static void on_resync(struct fnd_timer *t, void *arg)
{
	struct fnd_ruleset *rs = arg;
	struct fnd_generation *g;
	char err[FN_CTL_MSG_MAX], source[160];
	int rc;

	rc = fnd_generation_build(rs->compiler, rs->nft, &g, err, sizeof(err));
	if (rc < 0) {
		/* the namespace has rules we cannot give out: say so, change nothing */
		fnd_log(LOG_ERR, "nft edit in namespace %s not published, generation %" PRIu64
			" stays: %s", rs->cfg->netns, rs->current->number, err);
		return;
	}
	snprintf(source, sizeof(source), "nft in namespace %s", rs->cfg->netns);
	publish(rs, g, source);
}

static int start(struct fnd_ruleset *rs, char *err, size_t errlen)
{
	struct fnd_generation *g;
	int rc;

	rc = fnd_netns_create(rs->cfg->netns, &rs->ns_created, err, errlen);
	if (rc < 0)
		return rc;
	rs->ns_fd = fnd_netns_open(rs->cfg->netns);
	if (rs->ns_fd < 0) {
		rc = rs->ns_fd;
		snprintf(err, errlen, "namespace %s: %s", rs->cfg->netns, strerror(-rc));
		return rc;
	}
	rs->compiler = fn_compiler_new(rs->cfg->netns, err, errlen);
	if (rs->compiler == NULL)
		return -errno;
	rs->nft = fnd_nft_new(rs->ns_fd);
	rs->notify = fnd_notify_open(rs->ns_fd);
	if (rs->nft == NULL || rs->notify == NULL) {
		rc = -errno;
		snprintf(err, errlen, "%s in namespace %s: %s", rs->nft ? "nftables notifications" :
			 "libnftables", rs->cfg->netns, strerror(errno));
		return rc;
	}
	rc = fnd_event_add(rs->loop, fnd_notify_fd(rs->notify), FND_EV_IN, on_notify, rs);
	if (rc < 0) {
		snprintf(err, errlen, "epoll: %s", strerror(-rc));
		return rc;
	}
	if (rs->cfg->rules)
		return load_path(rs, rs->cfg->rules, err, errlen);
	/* no rules file: what the namespace holds (kept from an earlier run) */
	rc = fnd_generation_build(rs->compiler, rs->nft, &g, err, errlen);
	if (rc < 0)
		return rc;
	publish(rs, g, "namespace as found");
	return 0;
}

struct fnd_ruleset *fnd_ruleset_new(struct fnd_loop *l, const struct fnd_config *cfg,
				    uint64_t after, char *err, size_t errlen)
{
	struct fnd_ruleset *rs = calloc(1, sizeof(*rs));
	int rc;

	if (rs == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	rs->cfg = cfg;
	rs->last_number = after;
	rs->loop = l;
	rs->ns_fd = -1;
	fnd_timer_init(&rs->resync, l, on_resync, rs);
	rc = start(rs, err, errlen);
	if (rc < 0) {
		fnd_ruleset_free(rs);
		errno = -rc;
		return NULL;
	}
	return rs;
}

void fnd_ruleset_free(struct fnd_ruleset *rs)
{
	struct fnd_generation *g, *next;

	if (rs == NULL)
		return;
	fnd_timer_disarm(&rs->resync);
	if (rs->notify) {
		fnd_event_del(rs->loop, fnd_notify_fd(rs->notify));
		fnd_notify_close(rs->notify);
	}
	fnd_nft_free(rs->nft);
	fn_compiler_free(rs->compiler);
	if (rs->ns_fd >= 0)
		close(rs->ns_fd);
	/* a namespace we made goes with us; one we found stays */
	if (rs->ns_created && fnd_netns_delete(rs->cfg->netns) < 0)
		fnd_log(LOG_WARNING, "cannot remove namespace %s", rs->cfg->netns);
	fnd_generation_free(rs->current);
	for (g = rs->older; g; g = next) {
		next = g->next;
		fnd_generation_free(g);
	}
	free(rs);
}

bool fnd_ruleset_ns_created(const struct fnd_ruleset *rs)
{
	return rs->ns_created;
}

int fnd_ruleset_subscribe(struct fnd_ruleset *rs, fnd_publish_fn *fn, void *arg)
{
	if (rs->n_subscribers == MAX_SUBSCRIBERS)
		return -ENOSPC;
	rs->subscribers[rs->n_subscribers++] = (struct subscriber){ fn, arg };
	return 0;
}

struct fnd_generation *fnd_ruleset_current(struct fnd_ruleset *rs)
{
	return rs->current;
}

struct fnd_generation *fnd_ruleset_find(struct fnd_ruleset *rs, uint64_t number)
{
	if (rs->current && rs->current->number == number)
		return rs->current;
	for (struct fnd_generation *g = rs->older; g; g = g->next)
		if (g->number == number)
			return g;
	return NULL;
}

void fnd_ruleset_hold(struct fnd_ruleset *rs, uint64_t number)
{
	struct fnd_generation *g = fnd_ruleset_find(rs, number);

	if (g)
		g->users++;
}

void fnd_ruleset_release(struct fnd_ruleset *rs, uint64_t number)
{
	struct fnd_generation *g = fnd_ruleset_find(rs, number);

	if (g && g->users > 0 && --g->users == 0 && g != rs->current)
		prune(rs);
}
