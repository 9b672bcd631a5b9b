/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fragnetctl's commands (REQUEST, then DATA for the rules text): `load` and
 * `check` go to the ruleset; a load is answered once every application
 * applied (or refused) the new generation, or after apply_timeout_ms. The
 * other commands are stats queries (query.h).
 */
#ifndef FND_COMMAND_H
#define FND_COMMAND_H

struct fnd_apps;
struct fnd_commands;
struct fnd_loop;
struct fnd_peers;
struct fnd_queries;
struct fnd_ruleset;

/* Take REQUEST and DATA from ps. NULL + errno. */
struct fnd_commands *fnd_commands_new(struct fnd_loop *l, struct fnd_peers *ps,
				      struct fnd_apps *as, struct fnd_ruleset *rs,
				      struct fnd_queries *qs, unsigned apply_timeout_ms);
void fnd_commands_free(struct fnd_commands *cs);

#endif /* FND_COMMAND_H */
