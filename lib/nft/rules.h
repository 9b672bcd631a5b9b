/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Reading a struct fn_rules (lib/filter.h) from the control side: what the
 * daemon connection (issue C) reports to fragnetctl. Safe from any thread,
 * concurrently with the queues and with installs.
 */
#ifndef FN_NFT_RULES_H
#define FN_NFT_RULES_H

#include <stdint.h>

#include "filter.h"

/* The current generation number (0: no rules installed). Numbers start at 1
 * and grow by one per successful install. */
uint64_t fn_rules_generation(struct fn_rules *r);

/*
 * A counter of the current generation, summed over all queues (plus the
 * initial value the ruleset carried). Rule counters have chain and handle
 * set and object NULL; named counter objects have chain NULL, handle 0 and
 * their name in object. A rule with several counter expressions is reported
 * once per expression.
 */
typedef void (*fn_rules_counter_cb)(void *arg, uint64_t generation,
				    const char *chain, uint64_t handle,
				    const char *object, uint64_t packets,
				    uint64_t bytes);
/* 0, or -ENOENT when no generation is installed. cb runs under the rules
 * lock: it must not call back into fn_rules_*. */
int fn_rules_counters(struct fn_rules *r, fn_rules_counter_cb cb, void *arg);

/*
 * Have every installed generation report its final counters to cb: once no
 * queue can count into it any more, just before it is freed. It reports
 * exactly once, the same counters in the same order as fn_rules_counters()
 * gave for it: a replaced generation when it is released (every online
 * queue passed a quiescent point since), the current one and any still
 * waiting in fn_rules_destroy(). Generations released earlier reported to
 * the cb set then (none: NULL).
 *
 * cb runs on whichever thread releases the generation: the installer, the
 * caller of fn_rules_destroy(), or an lcore at the start of a burst
 * (fn_filter_burst_begin()), in the middle of its packet loop. So it must be
 * short and must not block, sleep, take locks, allocate or make system
 * calls: hand the numbers to a control thread. It runs under the rules lock
 * and must not call fn_rules_*. chain and object point into the image: they
 * are valid until the generation's release(arg), which runs after cb.
 */
void fn_rules_on_retire(struct fn_rules *r, fn_rules_counter_cb cb, void *arg);

/* Log lines written and suppressed by the per-queue rate limit, summed over
 * the queues, for the current generation. */
void fn_rules_log_stats(struct fn_rules *r, uint64_t *lines, uint64_t *suppressed);

#endif /* FN_NFT_RULES_H */
