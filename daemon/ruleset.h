/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The ruleset: the compile namespace, and the generations published from it
 * (see ruleset.c for how a ruleset gets there). Whoever hands generations
 * out subscribes to publications, and holds the generations it gave or that
 * are in use, so that older ones are kept exactly as long as needed.
 */
#ifndef FND_RULESET_H
#define FND_RULESET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct fnd_config;
struct fnd_generation;
struct fnd_loop;
struct fnd_ruleset;

typedef void fnd_publish_fn(struct fnd_generation *g, void *arg);

/* Create (or adopt) the namespace, load the configured rules (or adopt what
 * the namespace holds) and publish generation after + 1 (numbers go on
 * from what the kernel may still enforce from an earlier daemon); then
 * follow nft edits in the namespace. NULL + errno with the reason in err. */
struct fnd_ruleset *fnd_ruleset_new(struct fnd_loop *l, const struct fnd_config *cfg,
				    uint64_t after, char *err, size_t errlen);
/* Removes the namespace if fnd_ruleset_new() created it. */
void fnd_ruleset_free(struct fnd_ruleset *rs);
bool fnd_ruleset_ns_created(const struct fnd_ruleset *rs);

/* Call fn with every generation published from now on. 0 or -ENOSPC. */
int fnd_ruleset_subscribe(struct fnd_ruleset *rs, fnd_publish_fn *fn, void *arg);

/* Check text, and unless check_only publish it (*generation: its number).
 * 0, or -errno with the reason in err; nothing changed then. */
int fnd_ruleset_load(struct fnd_ruleset *rs, const char *text, size_t len, const char *source,
		     bool check_only, uint64_t *generation, char *err, size_t errlen);
/* Load the configured rules file again (SIGHUP); failures are logged. */
void fnd_ruleset_reload_config(struct fnd_ruleset *rs);

/* What applications get now; never NULL once fnd_ruleset_new() returned. */
struct fnd_generation *fnd_ruleset_current(struct fnd_ruleset *rs);
/* The current or a kept older generation, or NULL. */
struct fnd_generation *fnd_ruleset_find(struct fnd_ruleset *rs, uint64_t number);

/* Keep generation number (if still there) until as many releases. */
void fnd_ruleset_hold(struct fnd_ruleset *rs, uint64_t number);
void fnd_ruleset_release(struct fnd_ruleset *rs, uint64_t number);

#endif /* FND_RULESET_H */
