/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Applications: peers that registered (HELLO) under a name. Each gets the
 * image the current generation has for its name, again on every
 * publication, and reports what installing it gave (APPLIED), in the order
 * they were sent; a report of a generation it was not sent (or one it
 * answered already) gets it disconnected. The generations an application
 * was sent or applies are held in the ruleset while it is connected.
 *
 * A name the configuration binds to users or groups (app.NAME.users,
 * app.NAME.groups; config.h) is refused to every other uid but root.
 */
#ifndef FND_APP_H
#define FND_APP_H

#include <stdint.h>

/* Generations sent and not answered yet, kept per application. */
#define FND_APP_UNANSWERED 64

struct fnd_apps;
struct fnd_config;
struct fnd_peer;
struct fnd_peers;
struct fnd_ruleset;

struct fnd_app {
	struct fnd_app *next;
	struct fnd_peer *peer;     /* its name is peer->name */
	unsigned n_queues;
	uint64_t sent_gen;         /* last generation sent */
	uint64_t applied_gen;      /* last generation it reported applied */
	uint64_t refused_gen;      /* last generation it could not apply */
	uint64_t unanswered[FND_APP_UNANSWERED]; /* sent, oldest first */
	unsigned n_unanswered;
};

/* Registrations and reports refused, for the stats report. */
struct fnd_app_stats {
	uint64_t refused_names;    /* a name bound to other users */
	uint64_t applied_unsent;   /* APPLIED for a generation never sent */
};

typedef void fnd_apps_fn(void *arg);

/* Take HELLO and APPLIED from ps, hand out what rs publishes, bind names
 * as cfg says. NULL + errno. */
struct fnd_apps *fnd_apps_new(struct fnd_peers *ps, struct fnd_ruleset *rs,
			       const struct fnd_config *cfg);
void fnd_apps_stats(const struct fnd_apps *as, struct fnd_app_stats *out);
void fnd_apps_free(struct fnd_apps *as);

/* The connected applications, newest first: for (a = first(as); a; a = next(a)). */
struct fnd_app *fnd_apps_first(struct fnd_apps *as);
struct fnd_app *fnd_apps_next(struct fnd_app *a);

/* Call fn whenever an application applies or refuses a generation, or
 * leaves. 0 or -ENOSPC. */
int fnd_apps_watch(struct fnd_apps *as, fnd_apps_fn *fn, void *arg);

#endif /* FND_APP_H */
