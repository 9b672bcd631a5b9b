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
 * stays published, and the log says so once.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compiler.h"
#include "fragnetd.h"
#include "generation.h"
#include "log.h"
#include "netns.h"
#include "nftns.h"
#include "notify.h"
#include "screen.h"

/* Notifications come in bursts (one per object, NEWGEN per commit): wait
 * this long after the last one before reading the namespace. */
#define SETTLE_MS 30

static void scratch_name(const struct fnd *d, char *name, size_t len)
{
	snprintf(name, len, "%s.check", d->cfg.netns);
}

/* Publish g (taking it), unless it changes nothing for the applications. */
static uint64_t publish(struct fnd *d, struct fnd_generation *g, const char *source)
{
	char tables[512] = "";
	size_t n = 0;
	unsigned apps = 0;

	if (d->current && fnd_generation_same(d->current, g)) {
		/* same rules for everyone: keep the number, refresh the text */
		char *text = d->current->text;

		d->current->text = g->text;
		g->text = text;
		d->current->nft_gen = g->nft_gen;
		fnd_generation_free(g);
		fnd_log(LOG_INFO, "%s: nothing changes for applications; generation %" PRIu64
			" stays", source, d->current->number);
		return d->current->number;
	}
	g->number = ++d->last_number;
	if (d->current) {
		d->current->next = d->older;
		d->older = d->current;
		/* memfds are for sending: the old ones will not be sent again */
		for (size_t i = 0; i < d->older->n_images; i++)
			if (d->older->images[i].memfd >= 0) {
				close(d->older->images[i].memfd);
				d->older->images[i].memfd = -1;
			}
		if (d->older->fallback.memfd >= 0) {
			close(d->older->fallback.memfd);
			d->older->fallback.memfd = -1;
		}
	}
	d->current = g;
	for (size_t i = 0; i < g->n_images && n < sizeof(tables) - 1; i++)
		n += (size_t)snprintf(tables + n, sizeof(tables) - n, "%s%s", n ? ", " : "",
				      g->images[i].table);
	for (struct fnd_peer *p = d->peers; p; p = p->next)
		apps += p->fd >= 0 && p->registered;
	fnd_log(LOG_NOTICE, "generation %" PRIu64 " published (%s, nftables generation %" PRIu64
		"): tables %s, other applications get %s; sending to %u application(s)",
		g->number, source, g->nft_gen, n ? tables : "none",
		g->fallback.table[0] ? g->fallback.table : "no rules", apps);
	for (struct fnd_peer *p = d->peers; p; p = p->next)
		if (p->fd >= 0 && p->registered)
			fnd_peer_send_image(d, p, g);
	fnd_ruleset_prune(d);
	return g->number;
}

/* Load text (or the files at path) into a scratch namespace and lower it
 * there. 0 when every table lowers. */
static int check_in_scratch(struct fnd *d, const char *text, size_t len, const char *source,
			    const char *path, char *err, size_t errlen)
{
	struct fnd_generation *g = NULL;
	struct fn_compiler *c = NULL;
	struct fnd_nft *nft = NULL;
	char name[128];
	bool created;
	int fd, rc;

	scratch_name(d, name, sizeof(name));
	fnd_netns_delete(name); /* a leftover from a crash */
	rc = fnd_netns_create(name, &created, err, errlen);
	if (rc < 0)
		return rc;
	fd = fnd_netns_open(name);
	if (fd < 0) {
		rc = fd;
		snprintf(err, errlen, "scratch namespace %s: %s", name, strerror(-rc));
		goto out;
	}
	nft = fnd_nft_new(fd);
	c = fn_compiler_new(name, err, errlen);
	if (nft == NULL || c == NULL) {
		rc = -errno;
		if (nft == NULL)
			snprintf(err, errlen, "libnftables: %s", strerror(errno));
		goto out;
	}
	rc = path ? fnd_nft_replace_path(nft, path, err, errlen) :
		    fnd_nft_replace_text(nft, text, len, source, err, errlen);
	if (rc == 0)
		rc = fnd_generation_build(c, nft, &g, err, errlen);
out:
	fnd_generation_free(g);
	fn_compiler_free(c);
	fnd_nft_free(nft);
	if (fd >= 0)
		close(fd);
	fnd_netns_delete(name);
	return rc;
}

/* Put the text of the current generation back after a failed apply. */
static void restore(struct fnd *d)
{
	char err[512];

	if (d->current && fnd_nft_replace_text(d->nft, d->current->text,
					       strlen(d->current->text), "(previous ruleset)",
					       err, sizeof(err)) < 0)
		fnd_log(LOG_ERR, "restoring generation %" PRIu64 " in namespace %s failed: %s",
			d->current->number, d->cfg.netns, err);
}

/* Checked already: load into the compile namespace, snapshot, publish. */
static int apply(struct fnd *d, const char *text, size_t len, const char *source,
		 const char *path, uint64_t *number, char *err, size_t errlen)
{
	struct fnd_generation *g;
	int rc;

	rc = path ? fnd_nft_replace_path(d->nft, path, err, errlen) :
		    fnd_nft_replace_text(d->nft, text, len, source, err, errlen);
	if (rc == 0) {
		rc = fnd_generation_build(d->compiler, d->nft, &g, err, errlen);
		if (rc < 0)
			restore(d); /* e.g. an administrator's nft edit in between */
	}
	if (rc < 0)
		return rc;
	*number = publish(d, g, source);
	return 0;
}

int fnd_ruleset_load(struct fnd *d, const char *text, size_t len, const char *source,
		     bool check_only, uint64_t *number, char *err, size_t errlen)
{
	int rc = fnd_screen_rules_text(text, len, err, errlen);

	*number = 0;
	if (rc == 0)
		rc = check_in_scratch(d, text, len, source, NULL, err, errlen);
	if (rc == 0 && !check_only)
		rc = apply(d, text, len, source, NULL, number, err, errlen);
	return rc;
}

static int load_path(struct fnd *d, const char *path, char *err, size_t errlen)
{
	char source[512];
	uint64_t number;
	int rc;

	snprintf(source, sizeof(source), "rules %s", path);
	rc = check_in_scratch(d, NULL, 0, NULL, path, err, errlen);
	if (rc == 0)
		rc = apply(d, NULL, 0, source, path, &number, err, errlen);
	return rc;
}

void fnd_ruleset_reload_config(struct fnd *d)
{
	char err[FN_CTL_MSG_MAX];

	if (d->cfg.rules == NULL) {
		fnd_log(LOG_INFO, "SIGHUP: no rules file configured, nothing to reload");
		return;
	}
	if (load_path(d, d->cfg.rules, err, sizeof(err)) < 0)
		fnd_log(LOG_ERR, "SIGHUP: %s not loaded, generation %" PRIu64 " stays: %s",
			d->cfg.rules, d->current->number, err);
}

int fnd_ruleset_start(struct fnd *d, char *err, size_t errlen)
{
	struct fnd_generation *g;
	char scratch[128];
	int rc;

	scratch_name(d, scratch, sizeof(scratch));
	fnd_netns_delete(scratch);
	rc = fnd_netns_create(d->cfg.netns, &d->ns_created, err, errlen);
	if (rc < 0)
		return rc;
	d->ns_fd = fnd_netns_open(d->cfg.netns);
	if (d->ns_fd < 0) {
		rc = d->ns_fd;
		snprintf(err, errlen, "namespace %s: %s", d->cfg.netns, strerror(-rc));
		return rc;
	}
	d->compiler = fn_compiler_new(d->cfg.netns, err, errlen);
	if (d->compiler == NULL)
		return -errno;
	d->nft = fnd_nft_new(d->ns_fd);
	d->notify = fnd_notify_open(d->ns_fd);
	if (d->nft == NULL || d->notify == NULL) {
		rc = -errno;
		snprintf(err, errlen, "%s in namespace %s: %s", d->nft ? "nftables notifications" :
			 "libnftables", d->cfg.netns, strerror(errno));
		return rc;
	}
	if (d->cfg.rules)
		return load_path(d, d->cfg.rules, err, errlen);
	/* no rules file: what the namespace holds (kept from an earlier run) */
	rc = fnd_generation_build(d->compiler, d->nft, &g, err, errlen);
	if (rc < 0)
		return rc;
	publish(d, g, "namespace as found");
	return 0;
}

void fnd_ruleset_stop(struct fnd *d)
{
	struct fnd_generation *g, *next;

	fnd_notify_close(d->notify);
	fnd_nft_free(d->nft);
	fn_compiler_free(d->compiler);
	if (d->ns_fd >= 0)
		close(d->ns_fd);
	/* a namespace we made goes with us; one we found stays */
	if (d->ns_created && fnd_netns_delete(d->cfg.netns) < 0)
		fnd_log(LOG_WARNING, "cannot remove namespace %s", d->cfg.netns);
	fnd_generation_free(d->current);
	for (g = d->older; g; g = next) {
		next = g->next;
		fnd_generation_free(g);
	}
	d->current = d->older = NULL;
}

void fnd_ruleset_on_notify(struct fnd *d)
{
	uint32_t genid;
	int rc = fnd_notify_read(d->notify, &genid);

	if (rc < 0) {
		fnd_log(LOG_ERR, "nftables notifications: %s", strerror(-rc));
		return;
	}
	/* our own commits were read right after them */
	if (rc == 0 || (genid != 0 && d->current && genid == d->current->nft_gen))
		return;
	d->resync_at = fnd_now_ms() + SETTLE_MS;
	fnd_timer_arm(d);
}

void fnd_ruleset_on_timer(struct fnd *d)
{
	struct fnd_generation *g;
	char err[FN_CTL_MSG_MAX], source[160];
	int rc;

	if (d->resync_at == 0 || fnd_now_ms() < d->resync_at)
		return;
	d->resync_at = 0;
	rc = fnd_generation_build(d->compiler, d->nft, &g, err, sizeof(err));
	if (rc < 0) {
		/* the namespace has rules we cannot give out: say so, change nothing */
		fnd_log(LOG_ERR, "nft edit in namespace %s not published, generation %" PRIu64
			" stays: %s", d->cfg.netns, d->current->number, err);
		return;
	}
	snprintf(source, sizeof(source), "nft in namespace %s", d->cfg.netns);
	publish(d, g, source);
}

struct fnd_generation *fnd_ruleset_find(struct fnd *d, uint64_t number)
{
	if (d->current && d->current->number == number)
		return d->current;
	for (struct fnd_generation *g = d->older; g; g = g->next)
		if (g->number == number)
			return g;
	return NULL;
}

/* Keep an old generation while some application applies it or may still:
 * its text is what `list ruleset` shows that application's counters on. */
void fnd_ruleset_prune(struct fnd *d)
{
	struct fnd_generation **pp = &d->older, *g;

	while ((g = *pp) != NULL) {
		bool used = false;

		for (struct fnd_peer *p = d->peers; p && !used; p = p->next)
			used = p->registered && (p->applied_gen == g->number ||
						 p->sent_gen == g->number);
		if (used) {
			pp = &g->next;
		} else {
			*pp = g->next;
			fnd_generation_free(g);
		}
	}
}
