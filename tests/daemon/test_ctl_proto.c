/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/ctl/proto.c: every message type built and checked back, each length
 * and string rule of fn_ctl_check() broken once, counter records round trip,
 * and fds over a real socketpair (the one expected kept, surplus closed).
 */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "ctl/capture_ring.h"
#include "ctl/proto.h"

static unsigned char buf[FN_CTL_MAX_MSG] __attribute__((aligned(8)));

static size_t build(uint16_t type, const void *payload, size_t len)
{
	return fn_ctl_build(buf, type, 7, payload, len);
}

static void every_type_round_trips(void **state)
{
	struct fn_ctl_hello hello = { .n_queues = 2, .name = "echo" };
	struct fn_ctl_image image = { .generation = 3, .len = 400 };
	struct fn_ctl_applied applied = { .generation = 3 };
	struct fn_ctl_queue_stats qs = { .qid = 1, .n_drops = 1,
					 .drops = { { .name = "filter", .count = 2 } } };
	struct fn_ctl_stats_end end = { .generation = 3, .n_queues = 2 };
	struct fn_ctl_error error = { .status = -EACCES, .msg = "no" };
	struct fn_ctl_request req = { .command = FN_CTL_CMD_LOAD, .text_len = 10 };
	struct fn_ctl_reply reply = { .status = 0, .out_len = 5 };
	struct { uint16_t type; const void *p; size_t len; } cases[] = {
		{ FN_CTL_HELLO, &hello, sizeof(hello) },
		{ FN_CTL_IMAGE, &image, sizeof(image) },
		{ FN_CTL_APPLIED, &applied, sizeof(applied) },
		{ FN_CTL_STATS_REQ, NULL, 0 },
		{ FN_CTL_STATS_QUEUE, &qs, sizeof(qs) },
		{ FN_CTL_STATS_END, &end, sizeof(end) },
		{ FN_CTL_ERROR, &error, sizeof(error) },
		{ FN_CTL_REQUEST, &req, sizeof(req) },
		{ FN_CTL_DATA, "text", 4 },
		{ FN_CTL_REPLY, &reply, sizeof(reply) },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n = build(cases[i].type, cases[i].p, cases[i].len);

		assert_int_equal(fn_ctl_check(buf, n), cases[i].type);
		assert_int_equal(fn_ctl_payload_len(buf), cases[i].len);
		/* one byte more or less than the type's size */
		if (cases[i].type != FN_CTL_DATA) {
			((struct fn_ctl_hdr *)buf)->len = (uint32_t)(n - 1);
			assert_int_equal(fn_ctl_check(buf, n - 1), -EBADMSG);
		}
		((struct fn_ctl_hdr *)buf)->len = (uint32_t)(n + 1);
		assert_int_equal(fn_ctl_check(buf, n + 1), cases[i].type == FN_CTL_DATA ?
				 FN_CTL_DATA : -EBADMSG);
	}
}

static void header_rules(void **state)
{
	struct fn_ctl_hdr *h = (struct fn_ctl_hdr *)buf;
	size_t n;

	(void)state;
	n = build(FN_CTL_STATS_REQ, NULL, 0);
	assert_int_equal(fn_ctl_check(buf, n - 1), -EBADMSG);     /* shorter than a header */
	assert_int_equal(fn_ctl_check(buf, n + 4), -EBADMSG);     /* len says less */
	h->magic ^= 1;
	assert_int_equal(fn_ctl_check(buf, n), -EBADMSG);
	h->magic ^= 1;
	h->version = FN_CTL_VERSION + 1;
	assert_int_equal(fn_ctl_check(buf, n), -EBADMSG);
	h->version = FN_CTL_VERSION;
	h->type = 0;
	assert_int_equal(fn_ctl_check(buf, n), -EBADMSG);
	h->type = FN_CTL_TYPE_END;
	assert_int_equal(fn_ctl_check(buf, n), -EBADMSG);
	n = build(FN_CTL_DATA, "", 0);
	assert_int_equal(fn_ctl_check(buf, n), -EBADMSG);         /* empty DATA */
	assert_int_equal(fn_ctl_check(buf, FN_CTL_MAX_MSG + 1), -EBADMSG);
}

static void field_rules(void **state)
{
	struct fn_ctl_hello hello = { .n_queues = 1 };
	struct fn_ctl_request req = { .command = FN_CTL_CMD_APPS };
	struct fn_ctl_queue_stats qs = { .qid = 0, .n_drops = 1 };
	struct fn_ctl_stats_end end = { .n_queues = 1, .unfiltered = 2 };
	struct fn_ctl_image image = { .generation = 0, .len = 1 };

	(void)state;
	memset(hello.name, 'a', sizeof(hello.name));        /* not terminated */
	assert_int_equal(fn_ctl_check(buf, build(FN_CTL_HELLO, &hello, sizeof(hello))), -EBADMSG);
	hello.name[0] = '\0';                               /* empty */
	assert_int_equal(fn_ctl_check(buf, build(FN_CTL_HELLO, &hello, sizeof(hello))), -EBADMSG);
	strcpy(hello.name, "x");
	hello.n_queues = FN_CTL_MAX_QUEUES + 1;
	assert_int_equal(fn_ctl_check(buf, build(FN_CTL_HELLO, &hello, sizeof(hello))), -EBADMSG);
	req.flags = 0x80;
	assert_int_equal(fn_ctl_check(buf, build(FN_CTL_REQUEST, &req, sizeof(req))), -EBADMSG);
	req.flags = FN_CTL_F_PROMETHEUS;                    /* a known flag */
	assert_int_equal(fn_ctl_check(buf, build(FN_CTL_REQUEST, &req, sizeof(req))),
			 FN_CTL_REQUEST);
	req.flags = 0;
	req.command = FN_CTL_CMD_END;
	assert_int_equal(fn_ctl_check(buf, build(FN_CTL_REQUEST, &req, sizeof(req))), -EBADMSG);
	req.command = FN_CTL_CMD_LOAD;
	req.text_len = FN_CTL_TEXT_MAX + 1;
	assert_int_equal(fn_ctl_check(buf, build(FN_CTL_REQUEST, &req, sizeof(req))), -EBADMSG);
	/* a drop entry without a name */
	assert_int_equal(fn_ctl_check(buf, build(FN_CTL_STATS_QUEUE, &qs, sizeof(qs))), -EBADMSG);
	qs.n_drops = FN_CTL_MAX_DROPS + 1;
	assert_int_equal(fn_ctl_check(buf, build(FN_CTL_STATS_QUEUE, &qs, sizeof(qs))), -EBADMSG);
	assert_int_equal(fn_ctl_check(buf, build(FN_CTL_STATS_END, &end, sizeof(end))), -EBADMSG);
	assert_int_equal(fn_ctl_check(buf, build(FN_CTL_IMAGE, &image, sizeof(image))), -EBADMSG);
}

/* A capture's mode: packets or trace, nothing else; the rings of a trace
 * are checked with a trace's slot size. */
static void capture_modes(void **state)
{
	struct fn_ctl_capture_req req = { .name = "echo", .queue = FN_CTL_CAPTURE_ALL,
					   .snaplen = 256, .ring_bytes = 1 << 20 };
	struct fn_ctl_capture cap = { .queue = FN_CTL_CAPTURE_ALL, .n_queues = 2,
				      .n_slots = 8, .snaplen = 256, .name = "echo" };

	(void)state;
	assert_int_equal(fn_ctl_check(buf, build(FN_CTL_CAPTURE_REQ, &req, sizeof(req))),
			 FN_CTL_CAPTURE_REQ);
	req.mode = FN_CAP_MODE_TRACE;
	assert_int_equal(fn_ctl_check(buf, build(FN_CTL_CAPTURE_REQ, &req, sizeof(req))),
			 FN_CTL_CAPTURE_REQ);
	/* a trace's records are larger: 4 KiB is not two of them */
	req.ring_bytes = FN_CAP_RING_BYTES_MIN;
	assert_int_equal(fn_ctl_check(buf, build(FN_CTL_CAPTURE_REQ, &req, sizeof(req))),
			 -EBADMSG);
	req.ring_bytes = 1 << 20;
	req.mode = 2;
	assert_int_equal(fn_ctl_check(buf, build(FN_CTL_CAPTURE_REQ, &req, sizeof(req))),
			 -EBADMSG);
	req.mode = UINT32_MAX;
	assert_int_equal(fn_ctl_check(buf, build(FN_CTL_CAPTURE_REQ, &req, sizeof(req))),
			 -EBADMSG);
	for (uint32_t mode = 0; mode <= FN_CAP_MODE_TRACE; mode++) {
		cap.mode = mode;
		assert_int_equal(fn_ctl_check(buf, build(FN_CTL_CAPTURE, &cap, sizeof(cap))),
				 FN_CTL_CAPTURE);
	}
	cap.mode = 2;
	assert_int_equal(fn_ctl_check(buf, build(FN_CTL_CAPTURE, &cap, sizeof(cap))), -EBADMSG);
}

static void counters_round_trip(void **state)
{
	static unsigned char payload[4096] __attribute__((aligned(8)));
	struct fn_ctl_counters_head *head = (void *)payload;
	struct fn_ctl_counter a = { .generation = 3, .handle = 4, .packets = 5, .bytes = 6,
				    .chain_len = 5 };
	struct fn_ctl_counter b = { .generation = 2, .packets = 7, .object_len = 9,
				    .flags = FN_CTL_COUNTER_F_FINAL };
	struct fn_ctl_counter_view v;
	size_t pos = sizeof(*head), it = 0, n;

	(void)state;
	memset(payload, 0, sizeof(payload));
	fn_ctl_counter_put(payload, &pos, &a, "input", "");
	fn_ctl_counter_put(payload, &pos, &b, "", "my_counter");
	head->n = 2;
	n = build(FN_CTL_STATS_COUNTERS, payload, pos);
	assert_int_equal(fn_ctl_check(buf, n), FN_CTL_STATS_COUNTERS);
	assert_int_equal(fn_ctl_counters_next(buf, &it, &v), 1);
	assert_int_equal(v.c->handle, 4);
	assert_int_equal(v.c->flags, 0);
	assert_memory_equal(v.chain, "input", 5);
	assert_int_equal(fn_ctl_counters_next(buf, &it, &v), 1);
	assert_int_equal(v.c->packets, 7);
	assert_int_equal(v.c->flags, FN_CTL_COUNTER_F_FINAL);
	assert_memory_equal(v.object, "my_count", 8);
	assert_int_equal(fn_ctl_counters_next(buf, &it, &v), 0);

	head->n = 3;                                 /* one more than there is */
	assert_int_equal(fn_ctl_check(buf, build(FN_CTL_STATS_COUNTERS, payload, pos)), -EBADMSG);
	head->n = 1;                                 /* one less: bytes left over */
	assert_int_equal(fn_ctl_check(buf, build(FN_CTL_STATS_COUNTERS, payload, pos)), -EBADMSG);
	head->n = 2;
	((struct fn_ctl_counter *)(head + 1))->object_len = 1; /* both names */
	assert_int_equal(fn_ctl_check(buf, build(FN_CTL_STATS_COUNTERS, payload, pos)), -EBADMSG);
	((struct fn_ctl_counter *)(head + 1))->object_len = 0;
	((struct fn_ctl_counter *)(head + 1))->chain_len = 0;  /* neither */
	assert_int_equal(fn_ctl_check(buf, build(FN_CTL_STATS_COUNTERS, payload, pos)), -EBADMSG);
	((struct fn_ctl_counter *)(head + 1))->chain_len = 4000; /* past the end */
	assert_int_equal(fn_ctl_check(buf, build(FN_CTL_STATS_COUNTERS, payload, pos)), -EBADMSG);
	((struct fn_ctl_counter *)(head + 1))->chain_len = 5;
	assert_int_equal(fn_ctl_check(buf, build(FN_CTL_STATS_COUNTERS, payload, pos)),
			 FN_CTL_STATS_COUNTERS);
	((struct fn_ctl_counter *)(head + 1))->flags = 0x2;      /* an unknown flag */
	assert_int_equal(fn_ctl_check(buf, build(FN_CTL_STATS_COUNTERS, payload, pos)), -EBADMSG);
}

static bool fd_open(int fd)
{
	return fcntl(fd, F_GETFD) >= 0;
}

static unsigned open_fds(void)
{
	unsigned n = 0;

	for (int fd = 0; fd < 1024; fd++)
		n += fd_open(fd);
	return n;
}

static void fds_over_a_socket(void **state)
{
	struct fn_ctl_image image = { .generation = 1, .len = 1 };
	int sv[2], p[2], fd;
	unsigned before;
	ssize_t n;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	assert_int_equal(pipe(p), 0);
	assert_int_equal(fn_ctl_send_msg(sv[0], FN_CTL_IMAGE, 1, &image, sizeof(image), p[0]), 0);
	n = fn_ctl_recv(sv[1], buf, &fd);
	assert_int_equal(fn_ctl_check(buf, (size_t)n), FN_CTL_IMAGE);
	assert_true(fd >= 0 && fd_open(fd));
	assert_int_equal(fcntl(fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
	close(fd);

	/* a receiver that wants no fd gets none left open */
	assert_int_equal(fn_ctl_send_msg(sv[0], FN_CTL_STATS_REQ, 2, NULL, 0, p[1]), 0);
	before = open_fds();
	n = fn_ctl_recv(sv[1], buf, NULL);
	assert_int_equal(fn_ctl_check(buf, (size_t)n), FN_CTL_STATS_REQ);
	assert_int_equal(open_fds(), before);

	/* a message larger than the buffer is refused whole */
	{
		static unsigned char big[FN_CTL_MAX_MSG + 16];

		assert_int_equal(send(sv[0], big, sizeof(big), 0), (ssize_t)sizeof(big));
		assert_int_equal(fn_ctl_recv(sv[1], buf, NULL), -EMSGSIZE);
	}
	close(sv[0]);
	assert_int_equal(fn_ctl_recv(sv[1], buf, NULL), 0); /* closed */
	close(sv[1]);
	close(p[0]);
	close(p[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_type_round_trips),
		cmocka_unit_test(header_rules),
		cmocka_unit_test(field_rules),
		cmocka_unit_test(capture_modes),
		cmocka_unit_test(counters_round_trip),
		cmocka_unit_test(fds_over_a_socket),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
