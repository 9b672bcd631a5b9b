/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/filter/final_counters.c over the real lib/filter glue (no EAL needed): a
 * replaced generation's counters show once it is released, not before;
 * the history keeps the last FN_FINAL_GENS and counts the rest; a reset
 * drops what belongs to the last connection; generations beyond the slots
 * are counted, not misfiled; and with lcores filtering through reloads
 * while the control thread collects, finals plus the live counters add up
 * to exactly what was judged. Those tests name the table afresh in every
 * generation, so no counter carries over; the last ones check what does:
 * the counters of rules a reload leaves unchanged, and named counters.
 */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "nft_test.h"
#include "filter/final_counters.h"
#include "filter/generation.h"

#define DAEMON(local) ((local) + 1000) /* fragnetd's numbers differ from lib/filter's */

/* Table "app<n>", chain "in": rule 1 counts and accepts UDP port 53, rule 2
 * counts and drops port 54. */
static void *image(size_t *len, unsigned n)
{
	struct fn_imgb *b = t_builder();
	char table[16];

	snprintf(table, sizeof(table), "app%u", n);
	fn_imgb_table(b, table, FN_FAMILY_IPV4, 0);
	fn_imgb_chain(b, "in", FN_HOOK_INPUT, 0, FN_POLICY_ACCEPT);
	t_port_rule(b, 0, 1, 53, FN_V_ACCEPT);
	t_port_rule(b, 0, 2, 54, FN_V_DROP);
	return t_image(b, len);
}

static void hits(struct fn_filter_queue *fq, uint16_t port, int n)
{
	struct tpkt t;

	t_udp(&t, IP4(1, 1, 1, 1), IP4(2, 2, 2, 2), 7, port, 0);
	while (n-- > 0)
		fn_filter_hook(fq, FN_HOOK_INPUT, &t.pkt);
}

struct fixture {
	struct fn_filter *rules;
	struct fn_final_counters *f;
	struct fn_filter_queue q[2];
	uint64_t local;
};

static int setup(void **state)
{
	struct fixture *x = calloc(1, sizeof(*x));

	assert_non_null(x);
	*state = x;
	x->rules = fn_filter_create(2);
	x->f = fn_final_counters_new();
	assert_non_null(x->rules);
	assert_non_null(x->f);
	fn_filter_queue_attach(x->rules, &x->q[0], 0);
	fn_filter_queue_attach(x->rules, &x->q[1], 1);
	fn_filter_on_retire(x->rules, fn_final_counters_on_retire, x->f);
	fn_final_counters_reset(x->f); /* as on connecting */
	return t_setup(state);
}

/* Also after an assert failed half-way: destroying the rules frees every
 * image they hold. */
static int teardown(void **state)
{
	struct fixture *x = *state;

	fn_filter_destroy(x->rules);
	fn_final_counters_free(x->f);
	free(x);
	return t_teardown(state);
}

/* What the control thread does with each image. */
static void install(struct fixture *x)
{
	size_t len;
	void *img = image(&len, (unsigned)x->local + 1);

	assert_int_equal(fn_filter_install(x->rules, t_disown(img), len, 0, free, img), 0);
	x->local = fn_filter_generation(x->rules);
	fn_final_counters_track(x->f, x->rules, x->local, DAEMON(x->local));
}

static void bursts(struct fixture *x)
{
	fn_filter_burst_begin(&x->q[0]);
	fn_filter_burst_begin(&x->q[1]);
}

/* A report, by fragnetd generation: packets of rules 1 and 2. */
#define MAX_GENS 128

struct seen {
	uint64_t p[MAX_GENS][3];
	int records;
	uint64_t first, last;          /* daemon generations, in report order */
	bool ordered;
};

static void seen_cb(void *arg, uint64_t generation, const char *chain, uint64_t handle,
		    const char *object, uint64_t packets, uint64_t bytes)
{
	struct seen *s = arg;

	(void)bytes;
	assert_string_equal(chain, "in");
	assert_null(object);
	assert_true(handle == 1 || handle == 2);
	assert_true(generation > DAEMON(0) && generation < DAEMON(MAX_GENS));
	if (s->records++ == 0)
		s->first = generation;
	s->ordered &= generation >= s->last;
	s->last = generation;
	s->p[generation - DAEMON(0)][handle] = packets;
}

static struct fn_final_state report(struct fixture *x, struct seen *s)
{
	struct fn_final_state st;

	memset(s, 0, sizeof(*s));
	s->ordered = true;
	fn_final_counters_report(x->f, x->local, seen_cb, s, &st);
	return st;
}

static void test_final_once_released(void **state)
{
	struct fixture *x = *state;
	struct fn_final_state st;
	struct seen s;

	install(x);
	bursts(x);
	hits(&x->q[0], 53, 3);
	hits(&x->q[1], 54, 2);
	st = report(x, &s);
	assert_int_equal(st.kept + st.pending + st.dropped, 0); /* the live one is not final */
	assert_int_equal(s.records, 0);

	install(x);
	hits(&x->q[1], 53, 4);                 /* still generation 1 on q1 */
	st = report(x, &s);
	assert_int_equal(st.pending, 1);       /* replaced, not released */
	assert_int_equal(st.kept, 0);
	bursts(x);                             /* q1 releases it */
	hits(&x->q[0], 53, 1);                 /* generation 2 */
	st = report(x, &s);
	assert_int_equal(st.pending, 0);
	assert_int_equal(st.kept, 1);
	assert_int_equal(st.dropped, 0);
	assert_int_equal(s.records, 2);
	assert_int_equal(s.p[1][1], 7);
	assert_int_equal(s.p[1][2], 2);
	st = report(x, &s);                    /* kept: reported again */
	assert_int_equal(st.kept, 1);
	assert_int_equal(s.p[1][1], 7);
}

static void test_history_bound(void **state)
{
	enum { GENS = FN_FINAL_GENS + 8 };
	struct fixture *x = *state;
	struct fn_final_state st;
	struct seen s;
	int g;

	for (g = 1; g <= GENS; g++) {
		install(x);
		bursts(x);
		hits(&x->q[g % 2], 53, g);
	}
	st = report(x, &s);
	assert_int_equal(st.kept, FN_FINAL_GENS);
	assert_int_equal(st.dropped, GENS - 1 - FN_FINAL_GENS);
	assert_int_equal(st.pending, 0);
	assert_true(s.ordered);
	assert_int_equal(s.first, DAEMON(GENS - FN_FINAL_GENS));
	assert_int_equal(s.last, DAEMON(GENS - 1));
	for (g = GENS - FN_FINAL_GENS; g < GENS; g++)
		assert_int_equal(s.p[g][1], g);
}

/* A new connection: the old history, and generations installed before it
 * that are released after, are gone; new ones count again. */
static void test_reset(void **state)
{
	struct fixture *x = *state;
	struct fn_final_state st;
	struct seen s;

	install(x);
	bursts(x);
	install(x);
	bursts(x);
	hits(&x->q[0], 53, 5);
	st = report(x, &s);
	assert_int_equal(st.kept, 1);
	fn_final_counters_reset(x->f);
	st = report(x, &s);
	assert_int_equal(st.kept + st.pending + st.dropped, 0);
	install(x);                            /* the new daemon's first */
	st = report(x, &s);
	assert_int_equal(st.pending, 0);       /* 2 belongs to the old connection */
	bursts(x);
	install(x);
	bursts(x);
	st = report(x, &s);
	assert_int_equal(st.kept, 1);          /* 3 only */
	assert_int_equal(s.first, DAEMON(3));
	assert_int_equal(s.p[2][1], 0);
}

/* A queue that stays online without a burst holds every generation back:
 * past FN_FINAL_SLOTS of them the next ones get no record and are counted,
 * and their reports do not land in another generation's record. */
static void test_slots_exhausted(void **state)
{
	enum { GENS = FN_FINAL_SLOTS + 6 };
	struct fixture *x = *state;
	struct fn_final_state st;
	struct seen s;
	int g;

	for (g = 1; g <= GENS; g++) {
		install(x);
		fn_filter_burst_begin(&x->q[0]); /* q1 is stuck in its first burst */
		hits(&x->q[0], 53, g);
		if (g == 1)
			fn_filter_burst_begin(&x->q[1]);
	}
	st = report(x, &s);
	assert_int_equal(st.pending, FN_FINAL_SLOTS);
	assert_int_equal(st.dropped, GENS - FN_FINAL_SLOTS);
	assert_int_equal(st.kept, 0);
	fn_filter_burst_begin(&x->q[1]);      /* everything but the current goes */
	st = report(x, &s);
	assert_int_equal(st.pending, 0);
	assert_int_equal(st.kept, FN_FINAL_GENS);
	assert_int_equal(st.dropped, GENS - FN_FINAL_GENS); /* the live one's will be */
	for (g = FN_FINAL_SLOTS - FN_FINAL_GENS + 1; g <= FN_FINAL_SLOTS; g++)
		assert_int_equal(s.p[g][1], g);
}

struct lcore {
	struct fn_filter_queue *q;
	atomic_bool *stop;
	atomic_int *online;
	uint64_t judged[MAX_GENS];     /* port 53 packets, by their burst's generation */
};

static void *filter(void *arg)
{
	struct lcore *l = arg;

	fn_filter_burst_begin(l->q);
	atomic_fetch_add(l->online, 1);
	while (!atomic_load(l->stop)) {
		hits(l->q, 53, 16);
		l->judged[l->q->generation] += 16;
		fn_filter_burst_begin(l->q);
	}
	fn_filter_queue_offline(l->q);
	return NULL;
}

static void live_cb(void *arg, uint64_t generation, const char *chain, uint64_t handle,
		    const char *object, uint64_t packets, uint64_t bytes)
{
	(void)generation;
	(void)chain;
	(void)object;
	(void)bytes;
	if (handle == 1)
		*(uint64_t *)arg = packets;
}

/* The control thread installs, tracks and collects while two lcores
 * filter and release: each replaced generation's final count is exactly
 * what the lcores judged with it, and with the live one nothing is
 * missing. */
static void test_lcores_and_control_thread(void **state)
{
	enum { GENS = 30 };
	struct fixture *x = *state;
	struct lcore l[2] = { 0 };
	atomic_bool stop = false;
	atomic_int online = 0;
	pthread_t th[2];
	struct fn_final_state st;
	struct seen s;
	uint64_t live = 0, total = 0;
	int i, g;

	install(x);
	for (i = 0; i < 2; i++) {
		l[i].q = &x->q[i];
		l[i].stop = &stop;
		l[i].online = &online;
		assert_int_equal(pthread_create(&th[i], NULL, filter, &l[i]), 0);
	}
	while (atomic_load(&online) < 2)
		sched_yield();
	for (g = 2; g <= GENS; g++) {
		install(x);
		report(x, &s);
		sched_yield();
	}
	atomic_store(&stop, true);
	for (i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	/* the lcores may have gone offline before releasing the last one
	 * replaced: a burst does, as a sleeping queue's next one would */
	fn_filter_burst_begin(&x->q[0]);
	fn_filter_queue_offline(&x->q[0]);
	st = report(x, &s);
	assert_int_equal(st.pending, 0);
	assert_int_equal(st.dropped, 0);
	assert_int_equal(st.kept, GENS - 1);
	for (g = 1; g < GENS; g++) {
		if (s.p[g][1] != l[0].judged[g] + l[1].judged[g])
			fail_msg("generation %d: final %lu, judged %lu", g,
				 (unsigned long)s.p[g][1],
				 (unsigned long)(l[0].judged[g] + l[1].judged[g]));
		total += s.p[g][1];
	}
	assert_int_equal(fn_filter_counters(x->rules, live_cb, &live), 0);
	assert_int_equal(live, l[0].judged[GENS] + l[1].judged[GENS]);
	assert_true(total > 0);
}

/*
 * Carrying counters over: generation A is rule 1 (port 53), rule 2 (port
 * 54) and rule 3 (port 56) counting into the named counter "hits"; B adds
 * rule 4 (port 57) in front, so every slot moves, keeps rules 1 and 3 and
 * replaces rule 2 (same handle, port 55).
 */
static void *carry_image(size_t *len, bool b_gen)
{
	struct fn_imgb *b = t_builder();
	uint32_t hits;

	fn_imgb_table(b, "app", FN_FAMILY_IPV4, 0);
	fn_imgb_chain(b, "in", FN_HOOK_INPUT, 0, FN_POLICY_ACCEPT);
	if (b_gen)
		t_port_rule(b, 0, 4, 57, FN_V_ACCEPT);
	t_port_rule(b, 0, 1, 53, FN_V_ACCEPT);
	t_port_rule(b, 0, 2, b_gen ? 55 : 54, FN_V_DROP);
	hits = fn_imgb_counter(b, FN_IMG_NONE, 0, 0, 0);
	fn_imgb_object(b, "hits", FN_OBJ_COUNTER, hits);
	fn_imgb_rule(b, 0, 3);
	t_payload_cmp(b, FN_PAYLOAD_TRANSPORT, 2, 2, FN_CMP_EQ, (const uint8_t[]){ 0, 56 });
	t_slot(b, FN_OP_COUNTER, hits);
	t_verdict(b, FN_V_ACCEPT, 0);
	return t_image(b, len);
}

static void carry_install(struct fixture *x, bool b_gen)
{
	size_t len;
	void *img = carry_image(&len, b_gen);

	assert_int_equal(fn_filter_install(x->rules, t_disown(img), len, 0, free, img), 0);
	x->local = fn_filter_generation(x->rules);
	fn_final_counters_track(x->f, x->rules, x->local, DAEMON(x->local));
}

/* Packets by rule handle (1..4), the named counter at [0]. */
struct by_key {
	uint64_t p[5];
};

static void by_key_cb(void *arg, uint64_t generation, const char *chain, uint64_t handle,
		      const char *object, uint64_t packets, uint64_t bytes)
{
	struct by_key *k = arg;
	unsigned i = object ? 0 : (unsigned)handle;

	(void)generation;
	(void)chain;
	(void)bytes;
	assert_true(i < 5);
	assert_true(object == NULL || strcmp(object, "hits") == 0);
	k->p[i] += packets;
}

static struct by_key live_by_key(struct fixture *x)
{
	struct by_key k = { 0 };

	assert_int_equal(fn_filter_counters(x->rules, by_key_cb, &k), 0);
	return k;
}

static void test_unchanged_rules_carry(void **state)
{
	struct fixture *x = *state;
	struct fn_final_state st;
	struct by_key live, final = { 0 };

	carry_install(x, false);
	bursts(x);
	hits(&x->q[0], 53, 3);
	hits(&x->q[1], 54, 2);
	hits(&x->q[0], 56, 4);

	carry_install(x, true);
	hits(&x->q[1], 53, 1);                 /* q1 still judges with A */
	live = live_by_key(x);                 /* B, and what A counted so far */
	assert_int_equal(live.p[1], 4);
	assert_int_equal(live.p[2], 0);        /* replaced: starts afresh */
	assert_int_equal(live.p[0], 4);
	assert_int_equal(live.p[4], 0);

	bursts(x);                             /* A is released */
	hits(&x->q[0], 53, 5);
	hits(&x->q[1], 56, 1);
	hits(&x->q[1], 55, 6);
	live = live_by_key(x);
	assert_int_equal(live.p[1], 9);
	assert_int_equal(live.p[0], 5);
	assert_int_equal(live.p[2], 6);

	/* A's final counts: only what did not go on in B, so that finals and
	 * live add up to what was judged, counted once */
	fn_final_counters_report(x->f, x->local, by_key_cb, &final, &st);
	assert_int_equal(st.kept, 1);
	assert_int_equal(final.p[1], 0);
	assert_int_equal(final.p[0], 0);
	assert_int_equal(final.p[2], 2);
	assert_int_equal(final.p[1] + live.p[1], 3 + 1 + 5);
	assert_int_equal(final.p[2] + live.p[2], 2 + 6);
}

/* A table recreated under another name, or rules whose content changed,
 * count afresh; so does a rule that comes back after a generation without
 * it (as in nftables, where it is a new rule). */
static void test_changed_rules_restart(void **state)
{
	struct fixture *x = *state;
	struct by_key live;
	size_t len;
	void *img;

	carry_install(x, false);
	bursts(x);
	hits(&x->q[0], 53, 3);
	img = image(&len, 7);                  /* table app7: nothing carries */
	assert_int_equal(fn_filter_install(x->rules, t_disown(img), len, 0, free, img), 0);
	bursts(x);
	live = live_by_key(x);
	assert_int_equal(live.p[1], 0);
	carry_install(x, false);               /* back to "app": new rules again */
	bursts(x);
	live = live_by_key(x);
	assert_int_equal(live.p[1], 0);
	assert_int_equal(live.p[0], 0);
}

/* Each test with fresh rules and final counters. */
#define FINALS_TEST(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		FINALS_TEST(test_final_once_released),
		FINALS_TEST(test_history_bound),
		FINALS_TEST(test_reset),
		FINALS_TEST(test_slots_exhausted),
		FINALS_TEST(test_lcores_and_control_thread),
		FINALS_TEST(test_unchanged_rules_carry),
		FINALS_TEST(test_changed_rules_restart),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
