/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * daemon/event.c: file events (added, changed, deleted from a callback of
 * the same batch, hang-ups) and timers (order, a deadline already past
 * running after the file events at hand, re-armed from their callback,
 * disarmed).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "event.h"

/* What happened, in order: one letter per call. */
static char trace[64];

static void note(char c)
{
	size_t n = strlen(trace);

	assert_true(n + 1 < sizeof(trace));
	trace[n] = c;
}

static struct fnd_loop *loop;
static struct fnd_timer stopper;

static void stop(struct fnd_timer *t, void *arg)
{
	note('S');
	fnd_loop_stop(loop);
}

static int setup(void **state)
{
	memset(trace, 0, sizeof(trace));
	loop = fnd_loop_new();
	assert_non_null(loop);
	fnd_timer_init(&stopper, loop, stop, NULL);
	return 0;
}

static int teardown(void **state)
{
	fnd_timer_disarm(&stopper);
	fnd_loop_free(loop);
	return 0;
}

/* ---------------------------------------------------------------- file events */

struct pipe_end {
	int fd, other;             /* other: an fd this callback deletes, or -1 */
	char name;
};

static void on_read(int fd, unsigned events, void *arg)
{
	struct pipe_end *e = arg;
	char c;

	assert_int_equal(fd, e->fd);
	assert_int_equal(events, FND_EV_IN);
	note(e->name);
	if (read(fd, &c, 1) == 0)
		fnd_event_del(loop, fd); /* hung up */
	if (e->other >= 0)
		fnd_event_del(loop, e->other);
	fnd_timer_arm(&stopper, 0);
}

static void readable(void **state)
{
	int p[2];
	struct pipe_end e;

	assert_int_equal(pipe(p), 0);
	e = (struct pipe_end){ p[0], -1, 'r' };
	assert_int_equal(fnd_event_add(loop, p[0], FND_EV_IN, on_read, &e), 0);
	assert_int_equal(fnd_event_add(loop, p[0], FND_EV_IN, on_read, &e), -EEXIST);
	assert_int_equal(write(p[1], "x", 1), 1);
	assert_int_equal(fnd_loop_run(loop), 0);
	assert_string_equal(trace, "rS");
	/* the write end closed: a hang-up, which the reader learns by reading */
	close(p[1]);
	assert_int_equal(fnd_loop_run(loop), 0);
	assert_string_equal(trace, "rSrS");
	fnd_event_del(loop, p[0]);
	close(p[0]);
}

/* Two fds ready in one wakeup; whichever is called first deletes the other,
 * which is then not called although epoll returned it. */
static void deleted_in_batch(void **state)
{
	int a[2], b[2];
	struct pipe_end ea, eb;

	assert_int_equal(pipe(a), 0);
	assert_int_equal(pipe(b), 0);
	ea = (struct pipe_end){ a[0], b[0], 'a' };
	eb = (struct pipe_end){ b[0], a[0], 'b' };
	assert_int_equal(fnd_event_add(loop, a[0], FND_EV_IN, on_read, &ea), 0);
	assert_int_equal(fnd_event_add(loop, b[0], FND_EV_IN, on_read, &eb), 0);
	assert_int_equal(write(a[1], "x", 1), 1);
	assert_int_equal(write(b[1], "x", 1), 1);
	assert_int_equal(fnd_loop_run(loop), 0);
	assert_true(strcmp(trace, "aS") == 0 || strcmp(trace, "bS") == 0);
	fnd_event_del(loop, a[0]);
	fnd_event_del(loop, b[0]);
	for (int i = 0; i < 2; i++) {
		close(a[i]);
		close(b[i]);
	}
}

static void on_writable(int fd, unsigned events, void *arg)
{
	note(events == FND_EV_OUT ? 'w' : '?');
	fnd_loop_stop(loop);
}

static void mask(void **state)
{
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	assert_int_equal(fnd_event_add(loop, sv[0], FND_EV_IN, on_writable, NULL), 0);
	assert_int_equal(fnd_event_mask(loop, sv[0], FND_EV_IN | FND_EV_OUT), 0);
	assert_int_equal(fnd_event_mask(loop, sv[1], FND_EV_IN), -ENOENT);
	assert_int_equal(fnd_loop_run(loop), 0);
	assert_string_equal(trace, "w");
	fnd_event_del(loop, sv[0]);
	close(sv[0]);
	close(sv[1]);
}

/* ---------------------------------------------------------------- timers */

static void mark(struct fnd_timer *t, void *arg)
{
	note(*(const char *)arg);
}

static void in_order(void **state)
{
	struct fnd_timer t[3];
	int64_t start = fnd_now_ms();

	fnd_timer_init(&t[0], loop, mark, "1");
	fnd_timer_init(&t[1], loop, mark, "2");
	fnd_timer_init(&t[2], loop, mark, "3");
	fnd_timer_arm(&t[2], start + 30);
	fnd_timer_arm(&t[0], start + 10);
	fnd_timer_arm(&t[1], start + 20);
	fnd_timer_arm(&stopper, start + 40);
	assert_int_equal(fnd_loop_run(loop), 0);
	assert_string_equal(trace, "123S");
	assert_true(fnd_now_ms() - start >= 40);
	for (int i = 0; i < 3; i++)
		assert_false(t[i].armed);
}

static void disarmed(void **state)
{
	struct fnd_timer t, later;

	fnd_timer_init(&t, loop, mark, "x");
	fnd_timer_init(&later, loop, mark, "L");
	fnd_timer_arm(&t, fnd_now_ms() + 5);
	fnd_timer_arm(&later, fnd_now_ms() + 1000);
	fnd_timer_arm(&later, fnd_now_ms() + 10); /* re-armed: once, at the new time */
	fnd_timer_disarm(&t);
	fnd_timer_arm(&stopper, fnd_now_ms() + 20);
	assert_int_equal(fnd_loop_run(loop), 0);
	assert_string_equal(trace, "LS");
}

static struct fnd_timer deferred;

static void on_ready(int fd, unsigned events, void *arg)
{
	char c;

	assert_int_equal(read(fd, &c, 1), 1);
	note('f');
	fnd_timer_arm(&deferred, 0); /* after this wakeup's file events */
	fnd_timer_arm(&stopper, 0);
}

static void past_deadline(void **state)
{
	int p[2];

	assert_int_equal(pipe(p), 0);
	fnd_timer_init(&deferred, loop, mark, "d");
	assert_int_equal(fnd_event_add(loop, p[0], FND_EV_IN, on_ready, NULL), 0);
	assert_int_equal(write(p[1], "x", 1), 1);
	assert_int_equal(fnd_loop_run(loop), 0);
	assert_true(strcmp(trace, "fdS") == 0 || strcmp(trace, "fSd") == 0);
	fnd_event_del(loop, p[0]);
	close(p[0]);
	close(p[1]);
}

static int rounds;

static void again(struct fnd_timer *t, void *arg)
{
	note('a');
	if (++rounds < 3)
		fnd_timer_arm(t, fnd_now_ms() + 2);
	else
		fnd_loop_stop(loop);
}

static void rearmed_by_callback(void **state)
{
	struct fnd_timer t;

	rounds = 0;
	fnd_timer_init(&t, loop, again, NULL);
	fnd_timer_arm(&t, 0);
	assert_int_equal(fnd_loop_run(loop), 0);
	assert_string_equal(trace, "aaa");
	assert_false(t.armed);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(readable, setup, teardown),
		cmocka_unit_test_setup_teardown(deleted_in_batch, setup, teardown),
		cmocka_unit_test_setup_teardown(mask, setup, teardown),
		cmocka_unit_test_setup_teardown(in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(disarmed, setup, teardown),
		cmocka_unit_test_setup_teardown(past_deadline, setup, teardown),
		cmocka_unit_test_setup_teardown(rearmed_by_callback, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
