/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fragnetd's event loop: one epoll fd for file events, one timerfd for timer
 * events, one thread. A module registers its own fds and timers and is
 * called back; nothing else in the daemon sleeps or polls.
 *
 * File events are kept by fd (as Redis's ae.c does): an fd deleted while its
 * event is still in the batch epoll returned is simply not called, so a
 * callback may close any fd, its own included. A new fd given the same
 * number in the same batch may see one spurious wakeup: every fd is
 * non-blocking and its reader copes with EAGAIN.
 *
 * Timers are embedded in whatever they time (a query, a waiting request) and
 * fire once at an absolute deadline on the monotonic clock, in ms; the
 * callback may arm it again. They run after the file events of each
 * wakeup, so a timer armed at a deadline already past (0 included) runs
 * once the file events at hand are handled: the way to defer work until no
 * caller is left on the stack. A handful are armed at any time: they are
 * kept in a plain list.
 */
#ifndef FND_EVENT_H
#define FND_EVENT_H

#include <stdbool.h>
#include <stdint.h>

#define FND_EV_IN 0x1u         /* readable; also hang-up and error, which a read reports */
#define FND_EV_OUT 0x2u        /* writable */

struct fnd_loop;
struct fnd_timer;

typedef void fnd_event_fn(int fd, unsigned events, void *arg);
typedef void fnd_timer_fn(struct fnd_timer *t, void *arg);

struct fnd_timer {
	struct fnd_loop *loop;
	fnd_timer_fn *fn;
	void *arg;
	int64_t deadline;          /* ms, monotonic */
	bool armed;
	struct fnd_timer *prev, *next; /* in the loop's armed list */
};

/* Milliseconds on the monotonic clock (the timers' time). */
int64_t fnd_now_ms(void);

/* NULL + errno. */
struct fnd_loop *fnd_loop_new(void);
/* Every timer must be disarmed and every fd deleted (or closed) by then. */
void fnd_loop_free(struct fnd_loop *l);
/* Dispatch until fnd_loop_stop(). 0, or -errno when epoll fails. */
int fnd_loop_run(struct fnd_loop *l);
/* Return from fnd_loop_run() after the current wakeup. */
void fnd_loop_stop(struct fnd_loop *l);

/* Call fn(fd, events, arg) for the FND_EV_* in mask. 0 or -errno (-EEXIST
 * when fd is registered already). */
int fnd_event_add(struct fnd_loop *l, int fd, unsigned mask, fnd_event_fn *fn, void *arg);
/* Change what a registered fd waits for. 0 or -errno. */
int fnd_event_mask(struct fnd_loop *l, int fd, unsigned mask);
/* Before closing fd. Nothing for an fd not registered. */
void fnd_event_del(struct fnd_loop *l, int fd);

/* Disarmed until fnd_timer_arm(). */
void fnd_timer_init(struct fnd_timer *t, struct fnd_loop *l, fnd_timer_fn *fn, void *arg);
/* Fire once at deadline (ms, fnd_now_ms() time), armed or not before. */
void fnd_timer_arm(struct fnd_timer *t, int64_t deadline);
void fnd_timer_disarm(struct fnd_timer *t);

#endif /* FND_EVENT_H */
