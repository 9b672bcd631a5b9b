/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The final counters of the generations this application has replaced,
 * kept for fragnetd's stats requests (`fragnetctl list counters`): with the
 * current generation's live counters they account for every packet the
 * rules judged across reloads.
 *
 * lib/filter reports a generation's final counters (fn_filter_on_retire()) on
 * whichever thread releases it, often an lcore in its packet loop. So the
 * control thread prepares each generation's record when it installs it
 * (names, handles, room for the numbers) and publishes it in a slot; the
 * retire callback only finds the slot, stores the numbers and marks the
 * record complete: no lock, no allocation, no system call. The control
 * thread later moves complete records into the history, which keeps the
 * last FN_FINAL_GENS generations (FN_FINAL_COUNTERS counters at most in
 * all) and drops the oldest.
 *
 * Only generations with counters have a record. Everything but
 * fn_final_counters_on_retire() is for the control thread.
 */
#ifndef FN_FINAL_COUNTERS_H
#define FN_FINAL_COUNTERS_H

#include <stdint.h>

#include "generation.h"

#define FN_FINAL_GENS 32
#define FN_FINAL_COUNTERS 32768
/* Generations with a record that may wait to be released at once (normally
 * two: the current one, and the one it replaced for a millisecond). */
#define FN_FINAL_SLOTS 64

struct fn_final_counters;

/* NULL + errno (ENOMEM). */
struct fn_final_counters *fn_final_counters_new(void);
/* Only once the rules that report into it are destroyed. NULL is fine. */
void fn_final_counters_free(struct fn_final_counters *f);

/* The fn_filter_on_retire() callback; arg is the struct fn_final_counters. */
void fn_final_counters_on_retire(void *arg, uint64_t generation, const char *chain,
				 uint64_t handle, const char *object, uint64_t packets,
				 uint64_t bytes);

/*
 * Prepare the record of the generation just installed into rules, before
 * another install can replace it: lib/filter's number `local`, fragnetd's
 * `daemon`. A generation whose record cannot be made (no memory, or
 * every slot still waits for a generation to be released) counts as
 * dropped.
 */
void fn_final_counters_track(struct fn_final_counters *f, struct fn_filter *rules,
			     uint64_t local, uint64_t daemon);

/* A new connection: fragnetd numbers its generations afresh, so the
 * history, and whatever generations installed so far will still report,
 * belong to the last one and are dropped without counting. */
void fn_final_counters_reset(struct fn_final_counters *f);

struct fn_final_state {
	unsigned kept;        /* generations reported below */
	unsigned pending;     /* replaced, but not released yet: their counts
			       * are neither live nor final */
	uint64_t dropped;     /* installed since the reset, final counts not
			       * kept: the oldest beyond the bounds, and those
			       * that got no record */
};

/*
 * Move complete records into the history, then report it: every counter of
 * each kept generation, oldest first, with fragnetd's generation number.
 * `current` is lib/filter's current generation (its record is live, not
 * pending).
 */
void fn_final_counters_report(struct fn_final_counters *f, uint64_t current,
			      fn_filter_counter_cb cb, void *arg, struct fn_final_state *st);

#endif /* FN_FINAL_COUNTERS_H */
