/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The text of an application's rules by chain and handle, read from
 * `fragnetctl list ruleset` (fragnetd's listing, nft -a style): what
 * `fragnetctl trace` prints beside each handle.
 */
#ifndef FNCTL_RULE_TEXT_H
#define FNCTL_RULE_TEXT_H

#include <stddef.h>
#include <stdint.h>

struct fnctl_rule_text;

/*
 * The rules of the section of `listing` for application `app` with pid
 * `pid` ("# APP[PID]: ..." up to the next section), or NULL when the
 * listing has no such section (or out of memory): callers then print
 * handles only. The listing is copied.
 */
struct fnctl_rule_text *fnctl_rule_text_new(const char *listing, const char *app,
					    unsigned pid);
void fnctl_rule_text_free(struct fnctl_rule_text *rt);

/* The rule's text without its handle comment and with its counter's
 * numbers left out, or NULL when unknown (rt may be NULL). */
const char *fnctl_rule_text(const struct fnctl_rule_text *rt, const char *chain,
			    uint64_t handle);

#endif /* FNCTL_RULE_TEXT_H */
