/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The growth rules of the public API (fragnet.h, "Binary compatibility"),
 * as a program built against an older or a newer header meets them: structs
 * with sz smaller or larger than the library's, room for fewer or more drop
 * reasons than it counts, a config that sets options it does not have.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "unit.h"

#define FILL 0xa5

/* A struct of sz bytes (at most 256) in a box that shows any write beyond it. */
struct box {
	union {
		struct fragnet_queue_stats st;
		unsigned char bytes[256];
	};
	unsigned char after[64];
};

static void fill_box(struct box *b, size_t sz)
{
	memset(b, FILL, sizeof(*b));
	b->st.sz = sz;
}

static bool all_fill(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != FILL)
			return false;
	return true;
}

static bool all_zero(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != 0)
			return false;
	return true;
}

/* Queue 1 of the test's two-queue stack (H_TEST2) with known counters. */
static struct fragnet *stack_with_counters(void **state)
{
	struct fragnet *fn = h_fn(state);
	struct fn_queue *q = fn->queues[1];

	q->stats.rx_packets = 11;
	q->stats.rx_bytes = 12;
	q->stats.tx_packets = 13;
	q->stats.tx_bytes = 14;
	q->stats.rx_datagrams = 15;
	q->stats.tx_datagrams = 16;
	q->filter.generation = 17;
	for (unsigned r = 0; r < FN_DROP_COUNT; r++)
		q->stats.drops[r] = 100 + r;
	fn->unfiltered = true;
	return fn;
}

static void test_stats_same_header(void **state)
{
	struct fragnet *fn = stack_with_counters(state);
	struct fragnet_queue_stats st = { .sz = sizeof(st) };

	assert_int_equal(fragnet_queue_stats(fn, 1, &st), 0);
	assert_int_equal(st.sz, sizeof(st));
	assert_int_equal(st.rx_packets, 11);
	assert_int_equal(st.rx_bytes, 12);
	assert_int_equal(st.tx_packets, 13);
	assert_int_equal(st.tx_bytes, 14);
	assert_int_equal(st.rx_datagrams, 15);
	assert_int_equal(st.tx_datagrams, 16);
	assert_int_equal(st.filter_generation, 17);
	assert_int_equal(st.unfiltered, 1);
	assert_int_equal(fragnet_queue_stats(fn, 0, &st), 0);
	assert_int_equal(st.rx_packets, 0);
}

/* An older header's struct ends earlier: only its own bytes are written. */
static void test_stats_older_header(void **state)
{
	const size_t sizes[] = {
		offsetof(struct fragnet_queue_stats, rx_bytes),           /* rx_packets only */
		offsetof(struct fragnet_queue_stats, filter_generation),
		offsetof(struct fragnet_queue_stats, unfiltered),
	};
	struct fragnet *fn = stack_with_counters(state);
	struct box b;

	for (unsigned i = 0; i < RTE_DIM(sizes); i++) {
		fill_box(&b, sizes[i]);
		assert_int_equal(fragnet_queue_stats(fn, 1, &b.st), 0);
		assert_int_equal(b.st.sz, sizes[i]);
		assert_int_equal(b.st.rx_packets, 11);
		assert_true(all_fill(b.bytes + sizes[i], sizeof(b) - sizes[i]));
	}
}

/* A newer header's struct is longer: what this library lacks reads 0. */
static void test_stats_newer_header(void **state)
{
	const size_t ours = sizeof(struct fragnet_queue_stats), theirs = ours + 40;
	struct fragnet *fn = stack_with_counters(state);
	struct box b;

	fill_box(&b, theirs);
	assert_int_equal(fragnet_queue_stats(fn, 1, &b.st), 0);
	assert_int_equal(b.st.sz, theirs);
	assert_int_equal(b.st.tx_datagrams, 16);
	assert_int_equal(b.st.unfiltered, 1);
	assert_true(all_zero(b.bytes + ours, theirs - ours));
	assert_true(all_fill(b.bytes + theirs, sizeof(b) - theirs));
}

static void test_stats_refused(void **state)
{
	struct fragnet *fn = stack_with_counters(state);
	struct fragnet_queue_stats st = { .sz = sizeof(st) };
	struct box b;

	fill_box(&b, offsetof(struct fragnet_queue_stats, rx_packets) + 7);
	assert_int_equal(fragnet_queue_stats(fn, 1, &b.st), -EINVAL);
	assert_true(all_fill(b.bytes + sizeof(size_t), sizeof(b) - sizeof(size_t)));
	assert_int_equal(fragnet_queue_stats(fn, 1, NULL), -EINVAL);
	assert_int_equal(fragnet_queue_stats(fn, 2, &st), -ERANGE);
}

static void test_drops(void **state)
{
	const unsigned n = fragnet_drop_count();
	struct fragnet *fn = stack_with_counters(state);
	uint64_t out[FN_DROP_COUNT + 8];

	assert_int_equal(n, FN_DROP_COUNT);
	assert_int_equal(fragnet_queue_drops(fn, 1, NULL, 0), n);
	assert_int_equal(fragnet_queue_drops(fn, 1, NULL, 1), -EINVAL);
	assert_int_equal(fragnet_queue_drops(fn, 2, out, n), -ERANGE);

	/* Room for all of them. */
	memset(out, FILL, sizeof(out));
	assert_int_equal(fragnet_queue_drops(fn, 1, out, n), n);
	for (unsigned r = 0; r < n; r++)
		assert_int_equal(out[r], 100 + r);
	assert_true(all_fill((unsigned char *)&out[n], sizeof(out) - n * sizeof(out[0])));

	/* An older program knows fewer reasons: it gets those, and the count. */
	memset(out, FILL, sizeof(out));
	assert_int_equal(fragnet_queue_drops(fn, 1, out, 3), n);
	assert_int_equal(out[2], 102);
	assert_true(all_fill((unsigned char *)&out[3], sizeof(out) - 3 * sizeof(out[0])));

	/* A newer program has room for reasons this library lacks: zeros. */
	memset(out, FILL, sizeof(out));
	assert_int_equal(fragnet_queue_drops(fn, 1, out, RTE_DIM(out)), n);
	assert_int_equal(out[n - 1], 100 + n - 1);
	assert_true(all_zero((unsigned char *)&out[n], sizeof(out) - n * sizeof(out[0])));
}

static void test_drop_names(void **state)
{
	const unsigned n = fragnet_drop_count();

	(void)state;
	for (unsigned r = 0; r < n; r++) {
		assert_non_null(fragnet_drop_name(r));
		for (unsigned s = 0; s < r; s++)
			assert_string_not_equal(fragnet_drop_name(r), fragnet_drop_name(s));
	}
	assert_null(fragnet_drop_name(n));
	assert_string_equal(fragnet_drop_name(FRAGNET_DROP_NO_ROUTE), "no_route");
}

/* A config from a newer header: accepted while what we lack is unset. */
static void test_config_newer_header(void **state)
{
	struct {
		struct fragnet_config cfg;
		uint64_t newer_option;
	} big = { .cfg.sz = sizeof(big) };

	(void)state;
	/* Past the sz checks, it fails for having no ports. */
	errno = 0;
	assert_null(fragnet_open(&big.cfg));
	assert_int_equal(errno, EINVAL);
	big.newer_option = 1;
	errno = 0;
	assert_null(fragnet_open(&big.cfg));
	assert_int_equal(errno, E2BIG);
}

static void test_version(void **state)
{
	char v[32];

	(void)state;
	snprintf(v, sizeof(v), "%d.%d.%d", FRAGNET_VERSION_MAJOR, FRAGNET_VERSION_MINOR,
		 FRAGNET_VERSION_PATCH);
	assert_string_equal(v, PROJECT_VERSION);
	assert_int_equal(fragnet_version(), FRAGNET_VERSION);
	assert_true(FRAGNET_VERSION >= FRAGNET_VERSION_NUM(0, 2, 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		H_TEST2(test_stats_same_header),
		H_TEST2(test_stats_older_header),
		H_TEST2(test_stats_newer_header),
		H_TEST2(test_stats_refused),
		H_TEST2(test_drops),
		cmocka_unit_test(test_drop_names),
		cmocka_unit_test(test_config_newer_header),
		cmocka_unit_test(test_version),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
