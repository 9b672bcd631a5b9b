/* SPDX-License-Identifier: BSD-3-Clause */
/* The event loop (event.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "event.h"

#define BATCH 32

struct slot {
	unsigned mask;             /* 0: no fd registered here */
	fnd_event_fn *fn;
	void *arg;
};

struct fnd_loop {
	int epfd, timer_fd;
	struct slot *slots;        /* by fd */
	size_t n_slots;
	struct fnd_timer *timers;  /* armed ones, in no order */
	int64_t timer_fd_at;       /* deadline the timerfd waits for; 0: none */
	bool stop;
};

int64_t fnd_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct fnd_loop *fnd_loop_new(void)
{
	struct fnd_loop *l = calloc(1, sizeof(*l));
	struct epoll_event ev = { .events = EPOLLIN };
	int err;

	if (l == NULL)
		return NULL;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	l->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	ev.data.fd = l->timer_fd;
	if (l->epfd < 0 || l->timer_fd < 0 ||
	    epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->timer_fd, &ev) < 0) {
		err = errno;
		fnd_loop_free(l);
		errno = err;
		return NULL;
	}
	return l;
}

void fnd_loop_free(struct fnd_loop *l)
{
	if (l == NULL)
		return;
	if (l->epfd >= 0)
		close(l->epfd);
	if (l->timer_fd >= 0)
		close(l->timer_fd);
	free(l->slots);
	free(l);
}

static uint32_t epoll_events(unsigned mask)
{
	return (mask & FND_EV_IN ? EPOLLIN : 0) | (mask & FND_EV_OUT ? EPOLLOUT : 0);
}

static struct slot *slot_of(struct fnd_loop *l, int fd)
{
	return fd >= 0 && (size_t)fd < l->n_slots && l->slots[fd].mask ? &l->slots[fd] : NULL;
}

int fnd_event_add(struct fnd_loop *l, int fd, unsigned mask, fnd_event_fn *fn, void *arg)
{
	struct epoll_event ev = { .events = epoll_events(mask), .data.fd = fd };

	if (fd < 0 || mask == 0)
		return -EINVAL;
	if (slot_of(l, fd))
		return -EEXIST;
	if ((size_t)fd >= l->n_slots) {
		size_t n = l->n_slots ? l->n_slots : 64;
		struct slot *s;

		while (n <= (size_t)fd)
			n *= 2;
		s = realloc(l->slots, n * sizeof(*s));
		if (s == NULL)
			return -ENOMEM;
		memset(s + l->n_slots, 0, (n - l->n_slots) * sizeof(*s));
		l->slots = s;
		l->n_slots = n;
	}
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return -errno;
	l->slots[fd] = (struct slot){ .mask = mask, .fn = fn, .arg = arg };
	return 0;
}

int fnd_event_mask(struct fnd_loop *l, int fd, unsigned mask)
{
	struct epoll_event ev = { .events = epoll_events(mask), .data.fd = fd };
	struct slot *s = slot_of(l, fd);

	if (s == NULL || mask == 0)
		return s ? -EINVAL : -ENOENT;
	if (s->mask == mask)
		return 0;
	if (epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev) < 0)
		return -errno;
	s->mask = mask;
	return 0;
}

void fnd_event_del(struct fnd_loop *l, int fd)
{
	struct slot *s = slot_of(l, fd);

	if (s == NULL)
		return;
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
	memset(s, 0, sizeof(*s));
}

void fnd_timer_init(struct fnd_timer *t, struct fnd_loop *l, fnd_timer_fn *fn, void *arg)
{
	memset(t, 0, sizeof(*t));
	t->loop = l;
	t->fn = fn;
	t->arg = arg;
}

void fnd_timer_disarm(struct fnd_timer *t)
{
	if (!t->armed)
		return;
	if (t->prev)
		t->prev->next = t->next;
	else
		t->loop->timers = t->next;
	if (t->next)
		t->next->prev = t->prev;
	t->prev = t->next = NULL;
	t->armed = false;
}

void fnd_timer_arm(struct fnd_timer *t, int64_t deadline)
{
	fnd_timer_disarm(t);
	t->deadline = deadline;
	t->armed = true;
	t->next = t->loop->timers;
	if (t->next)
		t->next->prev = t;
	t->loop->timers = t;
}

/* Every timer that is due, including those the callbacks arm in the past. */
static void run_timers(struct fnd_loop *l)
{
	for (;;) {
		int64_t now = fnd_now_ms();
		struct fnd_timer *t = l->timers;

		while (t && t->deadline > now)
			t = t->next;
		if (t == NULL)
			return;
		fnd_timer_disarm(t);
		t->fn(t, t->arg);
	}
}

/* The timerfd waits for the earliest deadline; set only when that changes. */
static void set_timer_fd(struct fnd_loop *l)
{
	struct itimerspec its = { { 0, 0 }, { 0, 0 } };
	int64_t next = 0;

	for (struct fnd_timer *t = l->timers; t; t = t->next)
		if (t == l->timers || t->deadline < next)
			next = t->deadline;
	if (l->timers && next < 1)
		next = 1; /* zero would disarm; any time past fires at once */
	if (next == l->timer_fd_at)
		return;
	its.it_value.tv_sec = next / 1000;
	its.it_value.tv_nsec = (next % 1000) * 1000000;
	if (timerfd_settime(l->timer_fd, TFD_TIMER_ABSTIME, &its, NULL) == 0)
		l->timer_fd_at = next;
}

static void dispatch(struct fnd_loop *l, const struct epoll_event *ev)
{
	struct slot *s;
	unsigned events;
	uint64_t n;

	if (ev->data.fd == l->timer_fd) {
		if (read(l->timer_fd, &n, sizeof(n)) < 0) {
			/* EAGAIN: set again in between, nothing expired */
		}
		l->timer_fd_at = 0; /* expired: whatever is next must be set anew */
		return;
	}
	s = slot_of(l, ev->data.fd);
	if (s == NULL)
		return; /* deleted by an earlier callback of this batch */
	events = (ev->events & EPOLLIN ? FND_EV_IN : 0) | (ev->events & EPOLLOUT ? FND_EV_OUT : 0);
	if (ev->events & (EPOLLHUP | EPOLLERR))
		events |= s->mask; /* whoever reads or writes next learns what happened */
	events &= s->mask;
	if (events)
		s->fn(ev->data.fd, events, s->arg);
}

int fnd_loop_run(struct fnd_loop *l)
{
	struct epoll_event ev[BATCH];

	l->stop = false;
	while (!l->stop) {
		int n;

		set_timer_fd(l);
		n = epoll_wait(l->epfd, ev, BATCH, -1);
		if (n < 0 && errno != EINTR)
			return -errno;
		for (int i = 0; i < n; i++)
			dispatch(l, &ev[i]);
		run_timers(l);
	}
	return 0;
}

void fnd_loop_stop(struct fnd_loop *l)
{
	l->stop = true;
}
