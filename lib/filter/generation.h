/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Generations of rules, the control side of lib/filter/: the current
 * generation (a verified, read-only image), the per-queue states, and the
 * deferred release of old generations (an old image is released only after
 * every queue has started a new burst). Installs and reads are safe from any
 * thread, concurrently with the queues; the queues' side is filter.h.
 */
#ifndef FN_FILTER_GENERATION_H
#define FN_FILTER_GENERATION_H

#include <stddef.h>
#include <stdint.h>

#include "filter.h"

/* NULL + errno (ENOMEM). */
struct fn_filter *fn_filter_create(unsigned n_queues);
void fn_filter_destroy(struct fn_filter *r);
/*
 * Verify an image and make it the current generation. Queues switch at their
 * next burst. release(arg) runs once no queue can still use the image (from
 * whichever thread notices). tag is fragnetd's number for it (0: none), which
 * packets judged by the kernel part carry. On error the previous generation
 * stays active:
 *  -EBADMSG the image failed verification
 *  -ENOMEM
 */
int fn_filter_install(struct fn_filter *r, const void *image, size_t len, uint64_t tag,
		      void (*release)(void *arg), void *arg);
/* Install an image read from a file (tests, and rules without a daemon). */
int fn_filter_load_file(struct fn_filter *r, const char *path);

/*
 * Kernel enforcement (fragnetd's XDP program judges packets first, tagged
 * with its generation). fn_filter_hold(): from now on a replaced generation
 * is held for packets tagged with it instead of retired. fn_filter_kernel_gen():
 * fragnetd says the kernel now uses `generation`; held generations older
 * than what it used before that are retired. At most FN_FILTER_HELD are held
 * (more: the oldest goes early, counted in the log).
 */
#define FN_FILTER_HELD 8
void fn_filter_hold(struct fn_filter *r);
void fn_filter_kernel_gen(struct fn_filter *r, uint64_t generation);
/* Generations held now, and packets dropped because they carried a
 * generation that was neither current nor held. */
void fn_filter_held_stats(struct fn_filter *r, unsigned *held, uint64_t *unknown_gen);

/* The current generation number (0: no rules installed). Numbers start at 1
 * and grow by one per successful install. */
uint64_t fn_filter_generation(struct fn_filter *r);

/* A grace period for memory the lcores read outside the rules (a capture's
 * rings): fn_filter_sync_start() takes a token after the memory was
 * unpublished; fn_filter_sync_done() says, without waiting, whether every
 * queue has since passed a burst boundary or gone offline. */
uint64_t fn_filter_sync_start(struct fn_filter *r);
bool fn_filter_sync_done(struct fn_filter *r, uint64_t token);

/*
 * A counter of the current generation, summed over all queues (plus the
 * initial value the ruleset carried). Rule counters have chain and handle
 * set and object NULL; named counter objects have chain NULL, handle 0 and
 * their name in object. A rule with several counter expressions is reported
 * once per expression.
 */
typedef void (*fn_filter_counter_cb)(void *arg, uint64_t generation,
				    const char *chain, uint64_t handle,
				    const char *object, uint64_t packets,
				    uint64_t bytes);
/* 0, or -ENOENT when no generation is installed. cb runs under the rules
 * lock: it must not call back into fn_filter_*. */
int fn_filter_counters(struct fn_filter *r, fn_filter_counter_cb cb, void *arg);

/*
 * Have every installed generation report its final counters to cb: once no
 * queue can count into it any more, just before it is freed. It reports
 * exactly once, the same counters in the same order as fn_filter_counters()
 * gave for it: a replaced generation when it is released (every online
 * queue passed a quiescent point since), the current one and any still
 * waiting in fn_filter_destroy(). Generations released earlier reported to
 * the cb set then (none: NULL).
 *
 * cb runs on whichever thread releases the generation: the installer, the
 * caller of fn_filter_destroy(), or an lcore at the start of a burst
 * (fn_filter_burst_begin()), in the middle of its packet loop. So it must be
 * short and must not block, sleep, take locks, allocate or make system
 * calls: hand the numbers to a control thread. It runs under the rules lock
 * and must not call fn_filter_*. chain and object point into the image: they
 * are valid until the generation's release(arg), which runs after cb.
 */
void fn_filter_on_retire(struct fn_filter *r, fn_filter_counter_cb cb, void *arg);

/* Log lines written and suppressed by the per-queue rate limit, summed over
 * the queues, for the current generation. */
void fn_filter_log_stats(struct fn_filter *r, uint64_t *lines, uint64_t *suppressed);
/* New elements refused because their dynamic set was full, summed over the
 * queues, for the current generation. */
uint64_t fn_filter_set_full(struct fn_filter *r);
/* Packets dropped because the queue's pool of ct count connections was
 * empty (connlimit.h), summed over the queues, for the current generation. */
uint64_t fn_filter_ct_count_full(struct fn_filter *r);

#endif /* FN_FILTER_GENERATION_H */
