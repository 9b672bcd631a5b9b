/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The filter.h glue: generations switched at bursts, old images released
 * after every online queue passed a quiescent point, counters summed over
 * queues, final counters reported once per generation (also from lcores,
 * also at destroy), the limit bucket shared by lcores and dynamic sets kept
 * per lcore. No EAL needed.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "nft_test.h"
#include "filter/generation.h"

static int released;

static void release(void *arg)
{
	released++;
	free(arg);
}

static void filter_destroy(void *r)
{
	fn_filter_destroy(r);
}

/* Rules for `queues` queues, destroyed at teardown unless t_free()d before. */
static struct fn_filter *rules(unsigned queues)
{
	struct fn_filter *r = t_own(fn_filter_create(queues), filter_destroy);

	assert_non_null(r);
	return r;
}

/* Install an image of the test's: from now on the rules free it. */
static int install(struct fn_filter *r, void *img, size_t len)
{
	return fn_filter_install(r, t_disown(img), len, 0, release, img);
}

/* ip table: input policy drop; rule 1 counts and accepts port `port`;
 * optionally a limit in front. */
static void *image(uint16_t port, int limit_rate, size_t *len)
{
	struct fn_imgb *b = t_builder();
	uint8_t be[2] = { (uint8_t)(port >> 8), (uint8_t)port };

	fn_imgb_table(b, "app", FN_FAMILY_IPV4, 0);
	fn_imgb_chain(b, "in", FN_HOOK_INPUT, 0, FN_POLICY_DROP);
	fn_imgb_rule(b, 0, 1);
	t_payload_cmp(b, FN_PAYLOAD_TRANSPORT, 2, 2, FN_CMP_EQ, be);
	if (limit_rate) {
		struct fn_img_limit lim;

		assert_int_equal(fn_img_limit_init(&lim, (uint64_t)limit_rate, 1, 20, 0, 0), 0);
		t_slot(b, FN_OP_LIMIT, fn_imgb_limit(b, &lim));
	}
	t_counter(b, 0, 1);
	t_verdict(b, FN_V_ACCEPT, 0);
	return t_image(b, len);
}

static enum fn_verdict hook(struct fn_filter_queue *fq, uint16_t port)
{
	struct tpkt t;

	t_udp(&t, IP4(1, 1, 1, 1), IP4(2, 2, 2, 2), 7, port, 0);
	return fn_filter_hook(fq, FN_HOOK_INPUT, &t.pkt);
}

struct sum {
	uint64_t packets, generation;
	int calls;
};

static void sum_cb(void *arg, uint64_t generation, const char *chain, uint64_t handle,
		   const char *object, uint64_t packets, uint64_t bytes)
{
	struct sum *s = arg;

	(void)bytes;
	assert_string_equal(chain, "in");
	assert_int_equal(handle, 1);
	assert_null(object);
	s->packets += packets;
	s->generation = generation;
	s->calls++;
}

static void test_generations(void **state)
{
	struct fn_filter_queue q0 = { 0 }, q1 = { 0 };
	struct fn_filter *r = rules(2);
	struct sum sum = { 0 };
	size_t len;
	void *img;

	(void)state;
	released = 0;
	fn_filter_queue_attach(r, &q0, 0);
	fn_filter_queue_attach(r, &q1, 1);
	fn_filter_burst_begin(&q0);
	assert_int_equal(q0.hooks, 0);
	assert_int_equal(fn_filter_generation(r), 0);
	assert_int_equal(fn_filter_counters(r, sum_cb, &sum), -ENOENT);
	assert_int_equal(hook(&q0, 99), FN_ACCEPT); /* no rules: nothing runs */

	img = image(53, 0, &len);
	assert_int_equal(install(r, img, len), 0);
	assert_int_equal(fn_filter_generation(r), 1);
	assert_int_equal(q0.generation, 0);          /* not before its next burst */
	fn_filter_burst_begin(&q0);
	fn_filter_burst_begin(&q1);
	assert_int_equal(q0.generation, 1);
	assert_int_equal(q0.hooks, 1u << FN_HOOK_INPUT);
	assert_false(q0.defrag_first);
	assert_int_equal(hook(&q0, 53), FN_ACCEPT);
	assert_int_equal(hook(&q0, 54), FN_DROP);
	assert_int_equal(hook(&q1, 53), FN_ACCEPT);
	assert_int_equal(hook(&q1, 53), FN_ACCEPT);
	assert_int_equal(fn_filter_counters(r, sum_cb, &sum), 0);
	assert_int_equal(sum.calls, 1);
	assert_int_equal(sum.packets, 3);            /* summed over the queues */
	assert_int_equal(sum.generation, 1);

	/* generation 2: generation 1 stays until both queues moved on */
	img = image(54, 0, &len);
	assert_int_equal(install(r, img, len), 0);
	fn_filter_burst_begin(&q0);
	assert_int_equal(q0.generation, 2);
	assert_int_equal(hook(&q0, 54), FN_ACCEPT);
	assert_int_equal(q1.generation, 1);
	assert_int_equal(hook(&q1, 54), FN_DROP);    /* q1 still on generation 1 */
	assert_int_equal(released, 0);
	fn_filter_burst_begin(&q1);
	assert_int_equal(q1.generation, 2);
	fn_filter_burst_begin(&q0);                  /* reclaims */
	assert_int_equal(released, 1);

	/* an offline queue holds nothing back */
	fn_filter_queue_offline(&q1);
	img = image(55, 0, &len);
	assert_int_equal(install(r, img, len), 0);
	fn_filter_burst_begin(&q0);
	fn_filter_burst_begin(&q0);
	assert_int_equal(released, 2);
	fn_filter_burst_begin(&q1);                  /* back online, newest rules */
	assert_int_equal(q1.generation, 3);

	/* a bad image changes nothing */
	img = image(56, 0, &len);
	((uint32_t *)img)[0] ^= 1;
	assert_int_equal(fn_filter_install(r, img, len, 0, release, img), -EBADMSG);
	t_free(img);
	assert_int_equal(fn_filter_generation(r), 3);
	fn_filter_burst_begin(&q0);
	assert_int_equal(hook(&q0, 55), FN_ACCEPT);

	t_free(r);
	assert_int_equal(released, 3);
	assert_null(q0.priv);
}

static void test_load_file(void **state)
{
	struct fn_filter_queue q0 = { 0 };
	struct fn_filter *r = rules(1);
	char path[] = "/tmp/fn_filter_XXXXXX";
	size_t len;
	void *img = image(53, 0, &len);
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, img, len), (ssize_t)len);
	close(fd);
	t_free(img);
	fn_filter_queue_attach(r, &q0, 0);
	assert_int_equal(fn_filter_load_file(r, path), 0);
	fn_filter_burst_begin(&q0);
	assert_int_equal(hook(&q0, 53), FN_ACCEPT);
	assert_int_equal(hook(&q0, 80), FN_DROP);
	unlink(path);
	assert_int_equal(fn_filter_load_file(r, path), -ENOENT);
	assert_int_equal(fn_filter_generation(r), 1);
	t_free(r);
}

struct worker {
	struct fn_filter_queue q;
	atomic_bool *go;
	uint64_t passed, sent;
	double start, end;    /* when it first and last hit the rule */
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* What fn_filter_on_retire reported, by generation. */
#define MAX_GENS 64

struct finals {
	uint64_t packets[MAX_GENS], bytes[MAX_GENS];
	int reports[MAX_GENS];
	int released_at[MAX_GENS];     /* images released when it reported */
	atomic_int n;                  /* reports so far */
	pthread_t main;
	int off_main;                  /* reports made on another thread */
};

static void final_cb(void *arg, uint64_t generation, const char *chain, uint64_t handle,
		     const char *object, uint64_t packets, uint64_t bytes)
{
	struct finals *f = arg;

	/* the names still point into an image that has not been released */
	assert_string_equal(chain, "in");
	assert_int_equal(handle, 1);
	assert_null(object);
	assert_true(generation > 0 && generation < MAX_GENS);
	f->packets[generation] = packets;
	f->bytes[generation] = bytes;
	f->reports[generation]++;
	f->released_at[generation] = released;
	f->off_main += !pthread_equal(pthread_self(), f->main);
	atomic_fetch_add(&f->n, 1);
}

static void hits(struct fn_filter_queue *fq, int n)
{
	while (n-- > 0)
		assert_int_equal(hook(fq, 53), FN_ACCEPT);
}

/* A generation reports once, when the last queue that could count into it
 * moved on, with what every queue counted; the current one and one still
 * waiting report at destroy. */
static void test_retire_counters(void **state)
{
	struct fn_filter_queue q0 = { 0 }, q1 = { 0 };
	struct fn_filter *r = rules(2);
	struct finals f = { .main = pthread_self() };
	struct tpkt t;
	size_t len;
	void *img;
	int g;

	(void)state;
	t_udp(&t, IP4(1, 1, 1, 1), IP4(2, 2, 2, 2), 7, 53, 0);
	released = 0;
	fn_filter_queue_attach(r, &q0, 0);
	fn_filter_queue_attach(r, &q1, 1);
	fn_filter_on_retire(r, final_cb, &f);
	img = image(53, 0, &len);
	assert_int_equal(install(r, img, len), 0);
	fn_filter_burst_begin(&q0);
	fn_filter_burst_begin(&q1);
	hits(&q0, 2);
	hits(&q1, 1);

	/* generation 2: q0 moves, q1 still counts into generation 1 */
	img = image(53, 0, &len);
	assert_int_equal(install(r, img, len), 0);
	fn_filter_burst_begin(&q0);
	hits(&q0, 1);
	hits(&q1, 2);
	assert_int_equal(atomic_load(&f.n), 0);
	fn_filter_burst_begin(&q1);                  /* q1 moves: 1 is released */
	assert_int_equal(atomic_load(&f.n), 1);
	assert_int_equal(f.packets[1], 5);
	assert_int_equal(f.bytes[1], 5 * t.pkt.l3_len);
	assert_int_equal(f.released_at[1], 0);       /* before its release(arg) */
	assert_int_equal(released, 1);

	/* generation 3 with q1 offline: q0 alone releases 2 */
	hits(&q1, 3);
	fn_filter_queue_offline(&q1);
	img = image(53, 0, &len);
	assert_int_equal(install(r, img, len), 0);
	assert_int_equal(atomic_load(&f.n), 1);      /* q0 has not passed yet */
	fn_filter_burst_begin(&q0);
	assert_int_equal(atomic_load(&f.n), 2);
	assert_int_equal(f.packets[2], 4);
	hits(&q0, 6);

	/* generation 4 is installed while 3 waits for q0: destroy reports both */
	img = image(53, 0, &len);
	assert_int_equal(install(r, img, len), 0);
	assert_int_equal(atomic_load(&f.n), 2);
	t_free(r);
	assert_int_equal(atomic_load(&f.n), 4);
	assert_int_equal(f.packets[3], 6);
	assert_int_equal(f.packets[4], 0);
	for (g = 1; g <= 4; g++) {
		assert_int_equal(f.reports[g], 1);
		assert_int_equal(f.released_at[g], g - 1);
	}
	assert_int_equal(released, 4);
	assert_int_equal(f.off_main, 0);
}

struct counting_worker {
	struct fn_filter_queue q;
	atomic_bool *stop;
	atomic_int *online;
	uint64_t judged[MAX_GENS];     /* packets accepted, by the generation of their burst */
};

static void *count_by_generation(void *arg)
{
	struct counting_worker *w = arg;

	fn_filter_burst_begin(&w->q);
	atomic_fetch_add(w->online, 1);
	while (!atomic_load(w->stop)) {
		unsigned i;

		for (i = 0; i < 32; i++)
			if (hook(&w->q, 53) == FN_ACCEPT)
				w->judged[w->q.generation]++;
		fn_filter_burst_begin(&w->q);
	}
	fn_filter_queue_offline(&w->q);
	return NULL;
}

/* Two lcores filter without a pause while generations are replaced under
 * them: every generation reports once, and its final counter is exactly
 * what the lcores judged with it: no packet lost, none counted twice. The
 * lcores themselves release most generations. */
static void test_retire_under_load(void **state)
{
	enum { GENS = 40 };
	struct fn_filter *r = rules(2);
	struct counting_worker w[2] = { 0 };
	struct finals f = { .main = pthread_self() };
	atomic_bool stop = false;
	atomic_int online = 0;
	pthread_t th[2];
	uint64_t total = 0;
	size_t len;
	void *img;
	int i, g;

	(void)state;
	released = 0;
	fn_filter_on_retire(r, final_cb, &f);
	img = image(53, 0, &len);
	assert_int_equal(install(r, img, len), 0);
	for (i = 0; i < 2; i++) {
		w[i].stop = &stop;
		w[i].online = &online;
		fn_filter_queue_attach(r, &w[i].q, (unsigned)i);
		assert_int_equal(pthread_create(&th[i], NULL, count_by_generation, &w[i]), 0);
	}
	/* a queue that is not online yet holds nothing back: wait for both */
	while (atomic_load(&online) < 2)
		sched_yield();
	for (g = 2; g <= GENS; g++) {
		double deadline = now_s() + 10;

		img = image(53, 0, &len);
		assert_int_equal(install(r, img, len), 0);
		/* the previous one goes once both lcores started a burst */
		while (atomic_load(&f.n) < g - 1)
			if (now_s() > deadline)
				fail_msg("generation %d not released in 10 s", g - 1);
	}
	atomic_store(&stop, true);
	for (i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	assert_int_equal(w[0].judged[0] + w[1].judged[0], 0);
	t_free(r);
	assert_int_equal(atomic_load(&f.n), GENS);
	for (g = 1; g <= GENS; g++) {
		assert_int_equal(f.reports[g], 1);
		if (f.packets[g] != w[0].judged[g] + w[1].judged[g])
			fail_msg("generation %d: final counter %lu, judged %lu", g,
				 (unsigned long)f.packets[g],
				 (unsigned long)(w[0].judged[g] + w[1].judged[g]));
		total += f.packets[g];
	}
	assert_true(total > 0);
	assert_int_equal(released, GENS);
	/* the installer may win the odd race, the lcores release the rest */
	if (f.off_main < GENS / 2)
		fail_msg("only %d of %d generations released by an lcore", f.off_main, GENS);
}

static void *hammer(void *arg)
{
	struct worker *w = arg;
	while (!atomic_load(w->go))
		;
	w->start = now_s();
	/* long enough for the rate to show, and far more packets than it
	 * allows even on a loaded machine */
	while (now_s() - w->start < 0.3 || w->sent < 20000) {
		unsigned i;

		fn_filter_burst_begin(&w->q);
		for (i = 0; i < 32; i++) {
			w->passed += hook(&w->q, 53) == FN_ACCEPT;
			w->sent++;
		}
	}
	w->end = now_s();
	return NULL;
}

/* Two lcores hitting `limit rate 200/second burst 20` pass 200/s together,
 * not each: one bucket for the application. */
static void test_limit_shared_by_lcores(void **state)
{
	struct fn_filter *r = rules(2);
	struct worker w[2] = { 0 };
	pthread_t th[2];
	atomic_bool go = false;
	uint64_t total;
	double secs;
	size_t len;
	void *img = image(53, 200, &len);
	int i;

	(void)state;
	assert_int_equal(fn_filter_install(r, t_disown(img), len, 0, free, img), 0);
	for (i = 0; i < 2; i++) {
		w[i].go = &go;
		fn_filter_queue_attach(r, &w[i].q, (unsigned)i);
		assert_int_equal(pthread_create(&th[i], NULL, hammer, &w[i]), 0);
	}
	atomic_store(&go, true);
	for (i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	total = w[0].passed + w[1].passed;
	/* The bucket refills over the whole span either thread was at it:
	 * from the earlier start to the later end (threads start apart on a
	 * loaded machine). */
	secs = (w[0].end > w[1].end ? w[0].end : w[1].end) -
	       (w[0].start < w[1].start ? w[0].start : w[1].start);
	/* at most the burst plus the rate over that span (a little slack for
	 * clock reads), not that per lcore; at least the burst */
	if ((double)total > 20 + 200 * secs + 10 || total < 20)
		fail_msg("%lu of %lu passed in %.3f s", (unsigned long)total,
			 (unsigned long)(w[0].sent + w[1].sent), secs);
	t_free(r);
}

static enum fn_verdict from(struct fn_filter_queue *fq, uint32_t src)
{
	struct tpkt t;

	t_udp(&t, src, IP4(2, 2, 2, 2), 7, 53, 0);
	return fn_filter_hook(fq, FN_HOOK_INPUT, &t.pkt);
}

/* `add @seen { ip saddr } accept` with size 1, policy drop: each queue
 * fills its own table; the refusals of both are summed for the stats. */
static void test_dynamic_set_per_lcore(void **state)
{
	struct fn_filter_queue q0 = { 0 }, q1 = { 0 };
	struct fn_filter *r = rules(2);
	struct fn_imgb *b = t_builder();
	uint32_t set;
	size_t len;
	void *img;

	(void)state;
	fn_imgb_table(b, "app", FN_FAMILY_IPV4, 0);
	fn_imgb_chain(b, "in", FN_HOOK_INPUT, 0, FN_POLICY_DROP);
	set = fn_imgb_set(b, "seen", FN_SET_HASH, 0, 4, 0, 0, NULL);
	fn_imgb_set_dynamic(b, set, 1, 0);
	fn_imgb_rule(b, 0, 1);
	t_payload(b, FN_PAYLOAD_NETWORK, 12, 4, 0);
	t_dynset(b, 0, FN_DYNSET_ADD, set, FN_IMG_NONE, 0);
	t_verdict(b, FN_V_ACCEPT, 0);
	img = t_image(b, &len);
	assert_int_equal(install(r, img, len), 0);
	fn_filter_queue_attach(r, &q0, 0);
	fn_filter_queue_attach(r, &q1, 1);
	fn_filter_burst_begin(&q0);
	fn_filter_burst_begin(&q1);
	assert_int_equal(from(&q0, IP4(1, 1, 1, 1)), FN_ACCEPT);
	assert_int_equal(from(&q0, IP4(1, 1, 1, 2)), FN_DROP);
	assert_int_equal(from(&q1, IP4(1, 1, 1, 2)), FN_ACCEPT);
	assert_int_equal(from(&q1, IP4(1, 1, 1, 1)), FN_DROP);
	assert_int_equal(from(&q1, IP4(1, 1, 1, 2)), FN_ACCEPT);
	assert_int_equal(fn_filter_set_full(r), 2);
	t_free(r);
}

/* A packet the kernel part judged with generation `gen` up to rule `rule`
 * of the input chain (FN_XDP_RESUME_DONE: all of it). */
static enum fn_verdict judged(struct fn_filter_queue *fq, uint16_t port, uint64_t gen,
			      bool done, uint32_t rule)
{
	struct fn_kernel_judged k = { .generation = gen, .hook = FN_HOOK_INPUT, .chain = 0,
				      .rule = rule, .done = done };
	struct tpkt t;

	t_udp(&t, IP4(1, 1, 1, 1), IP4(2, 2, 2, 2), 7, port, 0);
	t.pkt.kernel = &k;
	return fn_filter_hook(fq, FN_HOOK_INPUT, &t.pkt);
}

/* Kernel enforcement: packets carry the generation the kernel judged them
 * with; a replaced one stays held until fragnetd says the kernel moved on
 * twice; the rules the kernel ran are not run again. */
static void test_held_generations(void **state)
{
	struct fn_filter_queue q = { 0 };
	struct fn_filter *r = rules(1);
	struct sum sum = { 0 };
	uint64_t unknown;
	unsigned held;
	size_t len;
	void *img;

	(void)state;
	released = 0;
	fn_filter_queue_attach(r, &q, 0);
	fn_filter_hold(r);
	img = image(53, 0, &len);                     /* fragnetd's generation 5 */
	assert_int_equal(fn_filter_install(r, t_disown(img), len, 5, release, img), 0);
	fn_filter_kernel_gen(r, 5);
	fn_filter_burst_begin(&q);
	assert_int_equal(judged(&q, 53, 5, false, 0), FN_ACCEPT);
	assert_int_equal(judged(&q, 54, 5, false, 0), FN_DROP);

	img = image(54, 0, &len);                     /* generation 6 */
	assert_int_equal(fn_filter_install(r, t_disown(img), len, 6, release, img), 0);
	fn_filter_burst_begin(&q);
	fn_filter_burst_begin(&q);
	assert_int_equal(released, 0);                /* 5 is held, not released */
	fn_filter_held_stats(r, &held, &unknown);
	assert_int_equal(held, 1);
	/* each packet by the rules the kernel began with */
	assert_int_equal(judged(&q, 53, 5, false, 0), FN_ACCEPT);
	assert_int_equal(judged(&q, 54, 5, false, 0), FN_DROP);
	assert_int_equal(judged(&q, 54, 6, false, 0), FN_ACCEPT);
	assert_int_equal(judged(&q, 53, 6, false, 0), FN_DROP);
	assert_int_equal(hook(&q, 54), FN_ACCEPT);   /* untagged: the current rules */
	/* a generation never held: dropped and counted */
	assert_int_equal(judged(&q, 53, 4, false, 0), FN_DROP);
	fn_filter_held_stats(r, &held, &unknown);
	assert_int_equal(unknown, 1);

	/* The kernel judged the rule itself (resume past it: only the policy
	 * is left) or all of the hook: nothing runs or counts here. */
	assert_int_equal(judged(&q, 54, 6, false, 1), FN_DROP);   /* policy drop */
	assert_int_equal(judged(&q, 99, 6, true, 0), FN_ACCEPT);
	assert_int_equal(fn_filter_counters(r, sum_cb, &sum), 0);
	assert_int_equal(sum.packets, 2);           /* 54/6 once, plus the untagged one */

	/* The kernel moves to 6: 5 stays for packets still in the ring; at the
	 * next move it goes. */
	fn_filter_kernel_gen(r, 6);
	fn_filter_burst_begin(&q);
	assert_int_equal(judged(&q, 53, 5, false, 0), FN_ACCEPT);
	img = image(55, 0, &len);                     /* generation 7 */
	assert_int_equal(fn_filter_install(r, t_disown(img), len, 7, release, img), 0);
	fn_filter_kernel_gen(r, 7);
	fn_filter_burst_begin(&q);
	fn_filter_burst_begin(&q);
	assert_int_equal(released, 1);                /* 5 */
	assert_int_equal(judged(&q, 53, 5, false, 0), FN_DROP);
	assert_int_equal(judged(&q, 54, 6, false, 0), FN_ACCEPT); /* 6 still held */
	assert_int_equal(judged(&q, 55, 7, false, 0), FN_ACCEPT);
	/* a resume point outside the chain is no resume point */
	assert_int_equal(judged(&q, 55, 7, false, 99), FN_DROP);
	t_free(r);
	assert_int_equal(released, 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		T_TEST(test_generations),
		T_TEST(test_load_file),
		T_TEST(test_held_generations),
		T_TEST(test_retire_counters),
		T_TEST(test_retire_under_load),
		T_TEST(test_limit_shared_by_lcores),
		T_TEST(test_dynamic_set_per_lcore),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
