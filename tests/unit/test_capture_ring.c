/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/ctl/capture_ring.c: the geometry and its bounds, records in and out
 * in order across the wrap, a full ring that drops and counts instead of
 * waiting, and each side surviving what a hostile other side writes into
 * the shared memory; trace rings and their records.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ctl/capture_ring.h"

static void geometry_default(void **state)
{
	struct fn_cap_geometry g, again;

	(void)state;
	for (uint32_t q = 1; q <= 16; q++) {
		assert_int_equal(fn_cap_geometry(q, FN_CAP_RING_BYTES_DEFAULT,
						 FN_CAP_SNAPLEN_DEFAULT, FN_CAP_MODE_CAPTURE, &g), 0);
		assert_true(g.total <= FN_CAP_RING_BYTES_DEFAULT);
		/* a power of two, and the largest that fits */
		assert_int_equal(g.n_slots & (g.n_slots - 1), 0);
		assert_true(sizeof(struct fn_cap_ring) + 2ull * g.n_slots * g.slot_size >
			    FN_CAP_RING_BYTES_DEFAULT / q);
		assert_true(g.slot_size >= sizeof(struct fn_cap_rec) + FN_CAP_SNAPLEN_DEFAULT);
		assert_int_equal(g.slot_size % 8, 0);
		assert_int_equal(fn_cap_geometry_check(&g), 0);
		/* what a message carries gives the same */
		assert_int_equal(fn_cap_geometry_of(q, g.n_slots, g.snaplen, FN_CAP_MODE_CAPTURE, &again), 0);
		assert_memory_equal(&g, &again, sizeof(g));
	}
}

static void geometry_bounds(void **state)
{
	const uint32_t CAP = FN_CAP_MODE_CAPTURE;
	struct fn_cap_geometry g;

	(void)state;
	assert_int_equal(fn_cap_geometry(0, 1 << 20, 256, CAP, &g), -EINVAL);
	assert_int_equal(fn_cap_geometry(FN_CAP_MAX_QUEUES + 1, 1 << 20, 256, CAP, &g), -EINVAL);
	assert_int_equal(fn_cap_geometry(1, 1 << 20, 0, CAP, &g), -EINVAL);
	assert_int_equal(fn_cap_geometry(1, 1 << 20, FN_CAP_SNAPLEN_MAX + 1, CAP, &g), -EINVAL);
	assert_int_equal(fn_cap_geometry(1, FN_CAP_RING_BYTES_MIN - 1, 64, CAP, &g), -EINVAL);
	assert_int_equal(fn_cap_geometry(1, FN_CAP_RING_BYTES_MAX + 1, 64, CAP, &g), -EINVAL);
	/* too little for two slots a queue */
	assert_int_equal(fn_cap_geometry(16, FN_CAP_RING_BYTES_MIN, 1000, CAP, &g), -EINVAL);
	assert_int_equal(fn_cap_geometry(1, FN_CAP_RING_BYTES_MAX, FN_CAP_SNAPLEN_MAX, CAP, &g), 0);
	assert_true(g.total <= FN_CAP_RING_BYTES_MAX);
	/* from the wire: slots not a power of two, too many, too few */
	assert_int_equal(fn_cap_geometry_of(1, 3, 64, CAP, &g), -EINVAL);
	assert_int_equal(fn_cap_geometry_of(1, 1, 64, CAP, &g), -EINVAL);
	assert_int_equal(fn_cap_geometry_of(1, 1u << 31, 64, CAP, &g), -EINVAL);
	assert_int_equal(fn_cap_geometry_of(2, 1u << 20, 64, CAP, &g), -EINVAL);
	assert_int_equal(fn_cap_geometry_of(1, 8, 0, CAP, &g), -EINVAL);
	assert_int_equal(fn_cap_geometry_of(0, 8, 64, CAP, &g), -EINVAL);
}

struct rings {
	struct fn_cap_geometry g;
	void *mem;
	struct fn_cap_producer p;
};

static void rings_new(struct rings *r, uint32_t ring_bytes, uint32_t snaplen)
{
	assert_int_equal(fn_cap_geometry(1, ring_bytes, snaplen, FN_CAP_MODE_CAPTURE, &r->g), 0);
	r->mem = calloc(1, r->g.total);
	assert_non_null(r->mem);
	r->p = (struct fn_cap_producer){ .ring = fn_cap_ring_at(r->mem, &r->g, 0), .g = r->g };
}

static bool produce(struct rings *r, uint32_t seq)
{
	struct fn_cap_rec *rec = fn_cap_reserve(&r->p);

	if (rec == NULL)
		return false;
	memset(rec, 0, sizeof(*rec));
	rec->orig_len = 100;
	rec->cap_len = 4;
	rec->rule_handle = seq;
	memcpy(rec + 1, &seq, 4);
	fn_cap_commit(&r->p);
	return true;
}

/* Consume everything: the sequence numbers must follow on from *next. */
static void consume(struct rings *r, uint64_t *tail, uint32_t *next)
{
	int64_t n = fn_cap_available(r->p.ring, &r->g, *tail);

	assert_true(n >= 0);
	for (; n > 0; n--) {
		const struct fn_cap_rec *rec = fn_cap_slot(r->p.ring, &r->g, *tail);
		uint32_t seq;

		assert_true(fn_cap_rec_valid(rec, &r->g));
		memcpy(&seq, rec + 1, 4);
		assert_int_equal(seq, *next);
		assert_int_equal(rec->rule_handle, *next);
		(*next)++;
		fn_cap_release(r->p.ring, ++*tail);
	}
}

static void in_order_across_the_wrap(void **state)
{
	struct rings r;
	uint64_t tail = 0;
	uint32_t seq = 0, next = 0;

	(void)state;
	rings_new(&r, FN_CAP_RING_BYTES_MIN, 64);
	/* odd batches, so the wrap falls everywhere */
	for (unsigned round = 0; round < 50; round++) {
		for (unsigned i = 0; i < round % 7 + 1; i++)
			assert_true(produce(&r, seq++));
		consume(&r, &tail, &next);
	}
	assert_int_equal(next, seq);
	assert_true(seq > 3 * r.g.n_slots);
	assert_int_equal(r.p.ring->dropped, 0);
	free(r.mem);
}

static void full_ring_drops_and_counts(void **state)
{
	struct rings r;
	uint64_t tail = 0;
	uint32_t seq = 0, next = 0;

	(void)state;
	rings_new(&r, FN_CAP_RING_BYTES_MIN, 64);
	for (unsigned i = 0; i < r.g.n_slots; i++)
		assert_true(produce(&r, seq++));
	/* nobody reads: every further record is refused and counted */
	for (unsigned i = 0; i < 10; i++)
		assert_false(produce(&r, 9999));
	assert_int_equal(r.p.ring->dropped, 10);
	assert_int_equal(r.p.dropped, 10);
	/* what was in stays intact, and room comes back */
	consume(&r, &tail, &next);
	assert_int_equal(next, r.g.n_slots);
	assert_true(produce(&r, seq++));
	consume(&r, &tail, &next);
	assert_int_equal(next, seq);
	free(r.mem);
}

static void hostile_consumer(void **state)
{
	struct rings r;

	(void)state;
	rings_new(&r, FN_CAP_RING_BYTES_MIN, 64);
	assert_true(produce(&r, 0));
	/* a tail ahead of the head (by one, or by far): the ring counts as
	 * full; whatever the tail, slots are indexed modulo the ring, so the
	 * producer never writes outside it */
	r.p.ring->tail = 1000;
	assert_false(produce(&r, 1));
	r.p.ring->tail = 2;
	assert_false(produce(&r, 2));
	/* a head overwritten by the consumer is not the producer's head */
	r.p.ring->tail = 1;
	r.p.ring->head = 12345;
	assert_true(produce(&r, 3));
	assert_int_equal(r.p.ring->head, 2);
	free(r.mem);
}

static void hostile_producer(void **state)
{
	struct rings r;
	struct fn_cap_rec rec = { .orig_len = 10, .cap_len = 10 };

	(void)state;
	rings_new(&r, FN_CAP_RING_BYTES_MIN, 64);
	/* a head more than a ring ahead of what was read */
	r.p.ring->head = r.g.n_slots + 1;
	assert_int_equal(fn_cap_available(r.p.ring, &r.g, 0), -EBADMSG);
	r.p.ring->head = 5;
	assert_int_equal(fn_cap_available(r.p.ring, &r.g, 6), -EBADMSG);
	assert_int_equal(fn_cap_available(r.p.ring, &r.g, 5), 0);
	/* records the consumer must not believe */
	assert_true(fn_cap_rec_valid(&rec, &r.g));
	rec.cap_len = 65;
	rec.orig_len = 100;
	assert_false(fn_cap_rec_valid(&rec, &r.g));    /* beyond snaplen */
	rec.cap_len = 11;
	rec.orig_len = 10;
	assert_false(fn_cap_rec_valid(&rec, &r.g));    /* more than the packet */
	rec.cap_len = 10;
	rec.queue = 1;
	assert_false(fn_cap_rec_valid(&rec, &r.g));    /* no such queue */
	rec.queue = 0;
	rec.dir = 2;
	assert_false(fn_cap_rec_valid(&rec, &r.g));
	rec.dir = FN_CAP_OUT;
	memset(rec.chain, 'x', sizeof(rec.chain));
	assert_false(fn_cap_rec_valid(&rec, &r.g));    /* chain not terminated */
	free(r.mem);
}

static void geometry_trace(void **state)
{
	struct fn_cap_geometry g, again, packets;

	(void)state;
	assert_int_equal(fn_cap_geometry(2, FN_CAP_RING_BYTES_DEFAULT, FN_CAP_SNAPLEN_DEFAULT,
					 FN_CAP_MODE_TRACE, &g), 0);
	assert_int_equal(fn_cap_geometry(2, FN_CAP_RING_BYTES_DEFAULT, FN_CAP_SNAPLEN_DEFAULT,
					 FN_CAP_MODE_CAPTURE, &packets), 0);
	/* room for the events between header and packet */
	assert_int_equal(fn_cap_data_off(&g), sizeof(struct fn_cap_rec) +
			 FN_CAP_TRACE_EVENTS * sizeof(struct fn_cap_trace_ev));
	assert_int_equal(fn_cap_data_off(&packets), sizeof(struct fn_cap_rec));
	assert_true(g.slot_size >= fn_cap_data_off(&g) + FN_CAP_SNAPLEN_DEFAULT);
	assert_true(g.n_slots < packets.n_slots);
	assert_true(g.total <= FN_CAP_RING_BYTES_DEFAULT);
	assert_int_equal(fn_cap_geometry_of(2, g.n_slots, g.snaplen, FN_CAP_MODE_TRACE, &again), 0);
	assert_memory_equal(&g, &again, sizeof(g));
	/* a mode that does not exist, or a slot size of the other mode */
	assert_int_equal(fn_cap_geometry(2, 1 << 20, 256, 2, &g), -EINVAL);
	assert_int_equal(fn_cap_geometry_of(2, 8, 256, 2, &g), -EINVAL);
	assert_int_equal(fn_cap_geometry_of(2, 8, 256, FN_CAP_MODE_TRACE, &g), 0);
	g.slot_size = packets.slot_size;
	assert_int_equal(fn_cap_geometry_check(&g), -EINVAL);
}

/* The records and events a trace consumer must not believe. */
static void hostile_trace_records(void **state)
{
	struct fn_cap_geometry g, packets;
	struct fn_cap_rec rec = { .orig_len = 10, .cap_len = 10, .kind = FN_CAP_MODE_TRACE,
				  .n_events = 3, .lost = 7 };
	struct fn_cap_trace_ev ev = { .handle = 4, .verdict = -3, .hook = 1, .kind = 0,
				      .chain = "input", .target = "c1" };

	(void)state;
	assert_int_equal(fn_cap_geometry(1, 1 << 20, 64, FN_CAP_MODE_TRACE, &g), 0);
	assert_int_equal(fn_cap_geometry(1, 1 << 20, 64, FN_CAP_MODE_CAPTURE, &packets), 0);
	assert_true(fn_cap_rec_valid(&rec, &g));
	assert_false(fn_cap_rec_valid(&rec, &packets));  /* a trace in a capture ring */
	rec.n_events = FN_CAP_TRACE_EVENTS;
	assert_true(fn_cap_rec_valid(&rec, &g));
	rec.n_events = FN_CAP_TRACE_EVENTS + 1;
	assert_false(fn_cap_rec_valid(&rec, &g));        /* more than a slot holds */
	rec.n_events = 0;
	rec.kind = FN_CAP_MODE_CAPTURE;
	assert_false(fn_cap_rec_valid(&rec, &g));        /* a packet in a trace ring */
	assert_false(fn_cap_rec_valid(&rec, &packets));  /* a packet with a lost count */
	rec.lost = 0;
	assert_true(fn_cap_rec_valid(&rec, &packets));
	rec.n_events = 1;
	assert_false(fn_cap_rec_valid(&rec, &packets));  /* a packet with events */
	rec.n_events = 0;
	rec.kind = 7;
	assert_false(fn_cap_rec_valid(&rec, &packets));

	assert_true(fn_cap_trace_ev_valid(&ev));
	ev.hook = FN_CAP_TRACE_HOOKS;
	assert_false(fn_cap_trace_ev_valid(&ev));
	ev.hook = 4;
	ev.kind = FN_CAP_TRACE_KINDS;
	assert_false(fn_cap_trace_ev_valid(&ev));
	ev.kind = 2;
	ev.verdict = FN_CAP_TRACE_VERDICT_MIN - 1;
	assert_false(fn_cap_trace_ev_valid(&ev));
	ev.verdict = FN_CAP_TRACE_VERDICT_MAX + 1;
	assert_false(fn_cap_trace_ev_valid(&ev));
	ev.verdict = 0;
	ev.reject = FN_CAP_TRACE_REJECT_MAX + 1;
	assert_false(fn_cap_trace_ev_valid(&ev));
	ev.reject = FN_CAP_TRACE_REJECT_MAX;
	assert_true(fn_cap_trace_ev_valid(&ev));
	memset(ev.chain, 'x', sizeof(ev.chain));
	assert_false(fn_cap_trace_ev_valid(&ev));        /* chain not terminated */
	ev.chain[0] = '\0';
	memset(ev.target, 'x', sizeof(ev.target));
	assert_false(fn_cap_trace_ev_valid(&ev));        /* target not terminated */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(geometry_default),
		cmocka_unit_test(geometry_bounds),
		cmocka_unit_test(in_order_across_the_wrap),
		cmocka_unit_test(full_ring_drops_and_counts),
		cmocka_unit_test(hostile_consumer),
		cmocka_unit_test(hostile_producer),
		cmocka_unit_test(geometry_trace),
		cmocka_unit_test(hostile_trace_records),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
