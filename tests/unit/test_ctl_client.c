/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/ctl/client.c against a fake fragnetd on a temporary unix socket: the
 * first image before open returns, APPLIED for each image, images that
 * cannot be mapped or verified leaving the last generation in place, a
 * stats request answered in full, a daemon that goes away and comes back,
 * a daemon that refuses, and no daemon at all (with and without the
 * unfiltered fallback). Of what the stats say, only the link losses are
 * checked (they are copied by hand, field by field, like the others, and
 * the memif test reads them from a real daemon); the rest is the message
 * flow. The daemon's side returns errors rather than
 * asserting, as it also runs on a thread while open() blocks.
 */
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "unit.h"
#include "images.h"
#include "ctl/client.h"
#include "ctl/proto.h"
#include "filter/generation.h"

#define WAIT_MS 5000            /* longer than any step takes */
#define DROP_PORT 9

/* Our stack and its rules, the client, and the daemon's end. */
struct fixture {
	struct h_fix h;         /* first: h_teardown() frees the whole fixture */
	struct fn_filter *rules;
	struct fn_ctl_client *client;
	char path[64];
	int listener, conn;     /* the daemon's socket and its connection */
	uint64_t generation;    /* what the daemon sends with the next image */
	struct fn_ctl_hello hello;
	unsigned char buf[FN_CTL_MAX_MSG] __attribute__((aligned(8)));
};

/* The daemon listens at x->path. */
static int listen_at(struct fixture *x)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	unlink(x->path);
	x->listener = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (x->listener < 0)
		return -1;
	strcpy(sa.sun_path, x->path);
	if (bind(x->listener, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(x->listener, 4) < 0)
		return -1;
	return 0;
}

static int setup(void **state)
{
	struct fixture *x = calloc(1, sizeof(*x));

	assert_non_null(x);
	*state = x;
	x->conn = x->listener = -1;
	x->generation = 7;
	x->h.fn = h_new(2);
	x->h.fn->app_name = (char *)"ctltest";
	x->rules = fn_filter_create(2);
	assert_non_null(x->rules);
	for (unsigned q = 0; q < 2; q++)
		fn_filter_queue_attach(x->rules, &x->h.fn->queues[q]->filter, q);
	snprintf(x->path, sizeof(x->path), "/tmp/fn-ctl-client-%d.sock", (int)getpid());
	x->h.fn->cfg.daemon_socket = x->path;
	return listen_at(x);
}

static int teardown(void **state)
{
	struct fixture *x = *state;

	/* client.h's order: stop, then the rules release their images into
	 * the client, then the client goes */
	fn_ctl_client_stop(x->client);
	fn_filter_destroy(x->rules);
	fn_ctl_client_free(x->client);
	if (x->conn >= 0)
		close(x->conn);
	if (x->listener >= 0)
		close(x->listener);
	unlink(x->path);
	return h_teardown(state);
}

static bool readable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, WAIT_MS) == 1;
}

/* The daemon takes the next connection: 0 or -1. */
static int accept_client(struct fixture *x)
{
	if (!readable(x->listener))
		return -1;
	if (x->conn >= 0)
		close(x->conn);
	x->conn = accept4(x->listener, NULL, NULL, SOCK_CLOEXEC);
	return x->conn >= 0 ? 0 : -1;
}

/* The next message from the client: its type (checked by fn_ctl_check),
 * or < 0 (none in time, closed, malformed). */
static int receive(struct fixture *x)
{
	ssize_t n;

	if (!readable(x->conn))
		return -ETIMEDOUT;
	n = fn_ctl_recv(x->conn, x->buf, NULL);
	return n > 0 ? fn_ctl_check(x->buf, (size_t)n) : -ECONNRESET;
}

static const void *payload(struct fixture *x)
{
	return fn_ctl_payload(x->buf);
}

/* An image dropping UDP port 9 in a memfd: sealed as fragnetd seals it,
 * or not, or sealed with its magic spoilt. */
enum image_kind { SEALED, UNSEALED, CORRUPT };

static int image_fd(enum image_kind kind, size_t *len)
{
	struct fn_imgb *b = fn_imgb_new();
	void *img;
	int fd;

	if (b == NULL)
		return -1;
	fn_imgb_table(b, "ctltest", FN_FAMILY_INET, 1);
	fn_imgb_chain(b, "in", FN_HOOK_INPUT, 0, FN_POLICY_ACCEPT);
	t_port_rule(b, 0, 1, DROP_PORT, FN_V_DROP);
	img = t_finish(b, len);
	if (img == NULL)
		return -1;
	if (kind == CORRUPT)
		((struct fn_img_header *)img)->magic ^= 1;
	fd = memfd_create("fn-ctl-client-test", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd >= 0 && (write(fd, img, *len) != (ssize_t)*len ||
			(kind != UNSEALED && fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_SHRINK |
						    F_SEAL_GROW | F_SEAL_SEAL) < 0))) {
		close(fd);
		fd = -1;
	}
	free(img);
	return fd;
}

/* The daemon sends an image of `kind` as its next generation: 0 or < 0. */
static int send_image(struct fixture *x, enum image_kind kind)
{
	struct fn_ctl_image im = { .generation = x->generation++ };
	size_t len;
	int fd = image_fd(kind, &len), rc;

	if (fd < 0)
		return -1;
	im.len = len;
	rc = fn_ctl_send_msg(x->conn, FN_CTL_IMAGE, 0, &im, sizeof(im), fd);
	close(fd);
	return rc;
}

/* What fragnetd does with a new connection: HELLO in, the first image out,
 * or an ERROR refusing it. 0 or < 0. */
static int welcome(struct fixture *x, enum image_kind kind, bool refuse)
{
	struct fn_ctl_error e = { .status = -EACCES, .msg = "uid 4242 is not allowed" };

	if (accept_client(x) < 0 || receive(x) != FN_CTL_HELLO)
		return -1;
	memcpy(&x->hello, payload(x), sizeof(x->hello));
	if (refuse)
		return fn_ctl_send_msg(x->conn, FN_CTL_ERROR, 0, &e, sizeof(e), -1);
	return send_image(x, kind);
}

/* fn_ctl_client_start(), with the daemon welcoming it from a thread
 * (start returns only once the first image arrived). */
struct start {
	struct fixture *x;
	enum image_kind kind;
	bool refuse;
	int rc;
};

static void *welcome_thread(void *arg)
{
	struct start *st = arg;

	st->rc = welcome(st->x, st->kind, st->refuse);
	return NULL;
}

static int start(struct fixture *x, enum image_kind kind, bool refuse, bool fallback)
{
	struct start st = { x, kind, refuse, 0 };
	pthread_t th;
	int rc;

	assert_int_equal(pthread_create(&th, NULL, welcome_thread, &st), 0);
	rc = fn_ctl_client_start(x->h.fn, x->rules, fallback, &x->client);
	pthread_join(th, NULL);
	assert_int_equal(st.rc, 0);
	return rc;
}

/* APPLIED for `generation`, with `status`; its message when refused. */
static const char *applied(struct fixture *x, uint64_t generation, int status)
{
	const struct fn_ctl_applied *ap;

	assert_int_equal(receive(x), FN_CTL_APPLIED);
	ap = payload(x);
	assert_int_equal(ap->generation, generation);
	assert_int_equal(ap->status, status);
	return ap->msg;
}

/* Port 9 on queue q after its next burst: FN_DROP once the rules apply. */
static enum fn_verdict port9(struct fixture *x, unsigned q)
{
	struct fn_filter_queue *fq = &x->h.fn->queues[q]->filter;
	uint8_t buf[64];
	struct fn_pkt pkt = tp_view(buf, (uint32_t)tp_udp(buf, H_PEER, H_ADDR, 4000, DROP_PORT,
							  "x", 1, NULL));

	fn_filter_burst_begin(fq);
	return fn_filter_hook(fq, FN_HOOK_INPUT, &pkt);
}

/* open() with a daemon that answers: registered, first image applied. */
static void start_with_daemon(struct fixture *x)
{
	assert_int_equal(start(x, SEALED, false, false), 0);
	assert_non_null(x->client);
	assert_string_equal(x->hello.name, "ctltest");
	assert_int_equal(x->hello.n_queues, 2);
	applied(x, 7, 0);
}

static void test_images_applied(void **state)
{
	struct fixture *x = *state;

	start_with_daemon(x);
	assert_int_equal(fn_filter_generation(x->rules), 1);
	assert_false(x->h.fn->unfiltered);
	assert_int_equal(port9(x, 0), FN_DROP);
	/* every commit: a new generation, applied and acknowledged */
	assert_int_equal(send_image(x, SEALED), 0);
	applied(x, 8, 0);
	assert_int_equal(fn_filter_generation(x->rules), 2);
	assert_int_equal(port9(x, 1), FN_DROP);
}

static void test_bad_images_change_nothing(void **state)
{
	struct fixture *x = *state;

	start_with_daemon(x);
	assert_int_equal(send_image(x, UNSEALED), 0);
	assert_non_null(strstr(applied(x, 8, -EPERM), "cannot map the image"));
	assert_int_equal(send_image(x, CORRUPT), 0);
	assert_non_null(strstr(applied(x, 9, -EBADMSG), "failed verification"));
	assert_int_equal(fn_filter_generation(x->rules), 1);
	assert_int_equal(port9(x, 0), FN_DROP);   /* generation 7 still filters */
	/* and the connection is still good */
	assert_int_equal(send_image(x, SEALED), 0);
	applied(x, 10, 0);
	assert_int_equal(fn_filter_generation(x->rules), 2);
}

/* STATS_REQ: queue and counter records, then STATS_END, all with its seq. */
static void test_stats_answered(void **state)
{
	struct fixture *x = *state;
	int type, before_end = 0;

	start_with_daemon(x);
	assert_int_equal(port9(x, 0), FN_DROP);     /* something to count */
	x->h.fn->queues[1]->stats.link_down = 3;
	/* 3 s of busy polls, in the queue's own clock */
	x->h.fn->queues[1]->stats.busy_cycles = x->h.fn->queues[1]->clk.hz * 3;
	assert_int_equal(fn_ctl_send_msg(x->conn, FN_CTL_STATS_REQ, 42, NULL, 0, -1), 0);
	while ((type = receive(x)) != FN_CTL_STATS_END) {
		const struct fn_ctl_queue_stats *q = fn_ctl_payload(x->buf);

		if (type != FN_CTL_STATS_QUEUE && type != FN_CTL_STATS_COUNTERS)
			fail_msg("message type %d in a stats answer", type);
		assert_int_equal(((const struct fn_ctl_hdr *)x->buf)->seq, 42);
		if (type == FN_CTL_STATS_QUEUE) {
			assert_int_equal(q->link_down, q->qid == 1 ? 3 : 0);
			assert_int_equal(q->busy_ns, q->qid == 1 ? 3000000000u : 0);
		}
		before_end++;
	}
	assert_int_equal(((const struct fn_ctl_hdr *)x->buf)->seq, 42);
	assert_true(before_end > 0);
	/* the connection carries on */
	assert_int_equal(send_image(x, SEALED), 0);
	applied(x, 8, 0);
}

/* The daemon goes away: the rules stay, the client comes back to the next
 * daemon (which numbers its generations anew) and applies its image. */
static void test_daemon_gone_and_back(void **state)
{
	struct fixture *x = *state;

	start_with_daemon(x);
	close(x->conn);
	x->conn = -1;
	assert_int_equal(port9(x, 0), FN_DROP);
	x->generation = 1;
	assert_int_equal(welcome(x, SEALED, false), 0);   /* within the first back-off */
	assert_string_equal(x->hello.name, "ctltest");
	applied(x, 1, 0);
	assert_int_equal(fn_filter_generation(x->rules), 2);
	/* a message the client cannot take: it hangs up and comes back */
	assert_int_equal(fn_ctl_send_msg(x->conn, FN_CTL_IMAGE, 0,
					 &(struct fn_ctl_image){ .generation = 2, .len = 8 },
					 sizeof(struct fn_ctl_image), -1), 0);  /* no memfd */
	assert_int_equal(welcome(x, SEALED, false), 0);
	applied(x, 2, 0);
	assert_int_equal(fn_filter_generation(x->rules), 3);
}

/* A refusal, and a first image that does not verify: open fails, no client. */
static void test_refused_at_start(void **state)
{
	struct fixture *x = *state;

	assert_int_equal(start(x, SEALED, true, true), -EACCES);
	assert_null(x->client);
	assert_int_equal(start(x, CORRUPT, false, false), -EBADMSG);
	assert_null(x->client);
	assert_int_equal(fn_filter_generation(x->rules), 0);
}

/* A server at the daemon's path run by another uid (a local user who got
 * there first) is not fragnetd: refused before anything is sent to it, also
 * with the unfiltered fallback. The listener's credentials are those of
 * whoever called listen(): here uid 65534 (nobody), by seteuid. */
static void test_impostor_daemon(void **state)
{
	struct fixture *x = *state;

	close(x->listener);
	x->listener = -1;
	unlink(x->path);   /* root's, in sticky /tmp */
	assert_int_equal(seteuid(65534), 0);
	assert_int_equal(listen_at(x), 0);
	assert_int_equal(seteuid(0), 0);
	assert_int_equal(fn_ctl_client_start(x->h.fn, x->rules, true, &x->client), -EACCES);
	assert_null(x->client);
	assert_false(x->h.fn->unfiltered);
	assert_int_equal(accept_client(x), 0);
	assert_int_equal(receive(x), -ECONNRESET);   /* closed without a HELLO */
	assert_int_equal(fn_filter_generation(x->rules), 0);
}

/* Nobody listening: an error, or with the fallback a client that runs
 * unfiltered until a daemon appears. */
static void test_no_daemon(void **state)
{
	struct fixture *x = *state;

	close(x->listener);
	x->listener = -1;
	unlink(x->path);
	assert_int_equal(fn_ctl_client_start(x->h.fn, x->rules, false, &x->client), -ENOTCONN);
	assert_null(x->client);
	assert_int_equal(fn_ctl_client_start(x->h.fn, x->rules, true, &x->client), -ENOTCONN);
	assert_non_null(x->client);
	assert_true(x->h.fn->unfiltered);
	assert_int_equal(port9(x, 0), FN_ACCEPT);    /* no rules */

	assert_int_equal(listen_at(x), 0);
	assert_int_equal(welcome(x, SEALED, false), 0);
	applied(x, 7, 0);
	assert_false(x->h.fn->unfiltered);
	assert_int_equal(port9(x, 0), FN_DROP);
}

/* Each test with a fresh stack, rules and daemon socket. */
#define CLIENT_TEST(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		CLIENT_TEST(test_images_applied),
		CLIENT_TEST(test_bad_images_change_nothing),
		CLIENT_TEST(test_stats_answered),
		CLIENT_TEST(test_daemon_gone_and_back),
		CLIENT_TEST(test_refused_at_start),
		CLIENT_TEST(test_impostor_daemon),
		CLIENT_TEST(test_no_daemon),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
