/* SPDX-License-Identifier: BSD-3-Clause */
/* The shared neighbour table: precedence of what we are told, ageing and
 * probing, who may push whom out of a bucket, and lock-free reads racing a
 * writer, also while slots change hands. */
#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>

#include "unit.h"
#include "stack/neigh.h"

#define LEARNED (FN_NEIGH_F_CREATE | FN_NEIGH_F_CONFIRM)
#define REQUEST (FN_NEIGH_F_CREATE | FN_NEIGH_F_CONFIRM | FN_NEIGH_F_OVERRIDE)
#define REPLY (FN_NEIGH_F_CONFIRM | FN_NEIGH_F_OVERRIDE)
#define HEARD FN_NEIGH_F_OVERRIDE

static const struct rte_ether_addr mac_a = { .addr_bytes = { 2, 0xa, 0xa, 0xa, 0xa, 0xa } };
static const struct rte_ether_addr mac_b = { .addr_bytes = { 2, 0xb, 0xb, 0xb, 0xb, 0xb } };

static uint64_t hz;

/* Each test gets a fresh table in *state. */
static int setup(void **state)
{
	h_eal();
	hz = rte_get_tsc_hz();
	*state = fn_neigh_create(SOCKET_ID_ANY, hz);
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	fn_neigh_free(*state);
	return 0;
}

/* A MAC that names its address, so a reader can tell whose it got. */
static struct rte_ether_addr mac_of(uint32_t addr)
{
	struct rte_ether_addr m = { .addr_bytes = { 2, 0x42 } };

	memcpy(&m.addr_bytes[2], &addr, 4);
	return m;
}

static bool has(const struct fn_neigh_table *t, uint32_t addr, const struct rte_ether_addr *want)
{
	struct rte_ether_addr m;

	return fn_neigh_lookup(t, addr, &m) && rte_is_same_ether_addr(&m, want);
}

/* n addresses (10.x.y.z) that fall in one bucket of t: they compete for room. */
static void bucket_mates(const struct fn_neigh_table *t, uint32_t *out, unsigned n)
{
	unsigned bucket = fn_neigh_bucket(t, rte_cpu_to_be_32(RTE_IPV4(10, 0, 0, 1)));

	for (uint32_t i = 1; n > 0; i++) {
		uint32_t a = rte_cpu_to_be_32(RTE_IPV4(10, 0, 0, 0) + i);

		if (fn_neigh_bucket(t, a) == bucket) {
			*out++ = a;
			n--;
		}
	}
}

static void test_precedence(void **state)
{
	struct fn_neigh_table *t = *state;
	uint64_t now = rte_get_tsc_cycles();
	struct rte_ether_addr m;

	assert_false(fn_neigh_lookup(t, H_PEER, &m));
	assert_int_equal(fn_neigh_update(t, 0, &mac_a, REQUEST, now), -EINVAL);

	/* A datagram fills an empty entry only. */
	assert_int_equal(fn_neigh_update(t, H_PEER, &mac_a, LEARNED, now), 0);
	assert_int_equal(fn_neigh_update(t, H_PEER, &mac_b, LEARNED, now), 0);
	assert_true(has(t, H_PEER, &mac_a));
	/* ARP replaces it. */
	assert_int_equal(fn_neigh_update(t, H_PEER, &mac_b, REQUEST, now), 0);
	assert_true(has(t, H_PEER, &mac_b));
	/* Static beats everything. */
	assert_int_equal(fn_neigh_update(t, H_GW, &mac_a, FN_NEIGH_F_STATIC, now), 0);
	assert_int_equal(fn_neigh_update(t, H_GW, &mac_b, REQUEST, now), 0);
	assert_true(has(t, H_GW, &mac_a));
	/* A reply or an announcement nobody asked for creates nothing. */
	assert_int_equal(fn_neigh_update(t, H_FAR, &mac_a, REPLY, now), -ENOENT);
	assert_int_equal(fn_neigh_update(t, H_FAR, &mac_a, HEARD, now), -ENOENT);
	assert_false(fn_neigh_lookup(t, H_FAR, &m));
	/* What we are resolving has no MAC until any ARP from it. */
	assert_int_equal(fn_neigh_resolving(t, H_FAR, now), 0);
	assert_false(fn_neigh_lookup(t, H_FAR, &m));
	assert_int_equal(fn_neigh_update(t, H_FAR, &mac_a, REPLY, now), 0);
	assert_true(has(t, H_FAR, &mac_a));
}

static void test_ageing_and_probes(void **state)
{
	struct fn_neigh_table *t = *state;
	uint64_t t0 = rte_get_tsc_cycles(), now;
	struct rte_ether_addr m;

	assert_int_equal(fn_neigh_update(t, H_PEER, &mac_a, REQUEST, t0), 0);
	assert_int_equal(fn_neigh_update(t, H_GW, &mac_b, FN_NEIGH_F_STATIC, t0), 0);
	assert_int_equal(fn_neigh_get(t, H_PEER, t0 + 29 * hz, &m), FN_NEIGH_REACHABLE);
	now = t0 + 31 * hz;
	assert_int_equal(fn_neigh_get(t, H_PEER, now, &m), FN_NEIGH_STALE);
	assert_true(rte_is_same_ether_addr(&m, &mac_a));   /* stale is still used */
	assert_int_equal(fn_neigh_get(t, H_GW, t0 + 1000 * hz, &m), FN_NEIGH_REACHABLE);
	/* A datagram from the MAC we hold confirms it. */
	assert_int_equal(fn_neigh_update(t, H_PEER, &mac_a, LEARNED, now), 0);
	assert_int_equal(fn_neigh_get(t, H_PEER, now, &m), FN_NEIGH_REACHABLE);

	/* Stale again: one probe a second, three, then it is forgotten. */
	now += 31 * hz;
	assert_int_equal(fn_neigh_probe(t, H_PEER, now), 1);
	assert_int_equal(fn_neigh_probe(t, H_PEER, now), 0);
	assert_int_equal(fn_neigh_probe(t, H_PEER, now + hz / 2), 0);
	assert_int_equal(fn_neigh_probe(t, H_PEER, now + hz), 1);
	assert_int_equal(fn_neigh_probe(t, H_PEER, now + 2 * hz), 1);
	assert_int_equal(fn_neigh_probe(t, H_PEER, now + 3 * hz), -ENOENT);
	assert_int_equal(fn_neigh_get(t, H_PEER, now + 3 * hz, &m), FN_NEIGH_NONE);
	assert_int_equal(fn_neigh_probe(t, H_PEER, now + 4 * hz), -ENOENT);

	/* An answer stops the probes; a static entry is never probed. */
	assert_int_equal(fn_neigh_update(t, H_PEER, &mac_a, REQUEST, now), 0);
	now += 31 * hz;
	assert_int_equal(fn_neigh_probe(t, H_PEER, now), 1);
	assert_int_equal(fn_neigh_update(t, H_PEER, &mac_a, REPLY, now), 0);
	assert_int_equal(fn_neigh_get(t, H_PEER, now, &m), FN_NEIGH_REACHABLE);
	assert_int_equal(fn_neigh_probe(t, H_PEER, now + 2 * hz), 0);
	assert_int_equal(fn_neigh_probe(t, H_GW, now), 0);
	/* A new MAC heard (not addressed to us) is used, but stale: checked. */
	assert_int_equal(fn_neigh_update(t, H_PEER, &mac_b, HEARD, now), 0);
	assert_int_equal(fn_neigh_get(t, H_PEER, now, &m), FN_NEIGH_STALE);
	assert_true(rte_is_same_ether_addr(&m, &mac_b));
}

/*
 * One bucket, the rules of who pushes whom out: strangers hold half of it
 * and push out only each other, oldest first; what we asked for pushes them
 * out and is never pushed out by them; a resolution nobody retries ends; an
 * entry we asked for but stopped using goes when we need the room.
 */
static void test_bucket_shares(void **state)
{
	struct fn_neigh_table *t = *state;
	uint64_t now = rte_get_tsc_cycles();
	struct rte_ether_addr m;
	uint32_t a[32];
	unsigned i;

	bucket_mates(t, a, RTE_DIM(a));
	for (i = 0; i < 10; i++)
		assert_int_equal(fn_neigh_update(t, a[i], &mac_a, LEARNED, now + i), i >= 4);
	for (i = 0; i < 10; i++)
		assert_int_equal(fn_neigh_lookup(t, a[i], &m), i >= 6);

	/* Four resolutions take the free half, four more push strangers out. */
	for (i = 10; i < 18; i++)
		assert_int_equal(fn_neigh_resolving(t, a[i], now), i >= 14);
	assert_int_equal(fn_neigh_update(t, a[18], &mac_a, LEARNED, now), -ENOSPC);
	assert_int_equal(fn_neigh_resolving(t, a[19], now), -ENOSPC);
	/* Resolutions nobody retried for 2 s are over: their room is free. */
	now += 3 * hz;
	assert_int_equal(fn_neigh_resolving(t, a[19], now), 0);
	assert_int_equal(fn_neigh_update(t, a[19], &mac_b, REPLY, now), 0);
	assert_int_equal(fn_neigh_update(t, a[20], &mac_a, LEARNED, now), 0);

	/* Seven more we asked for: the stranger goes, then the bucket is ours. */
	for (i = 21; i < 28; i++) {
		assert_int_equal(fn_neigh_resolving(t, a[i], now + hz), i == 27);
		assert_int_equal(fn_neigh_update(t, a[i], &mac_b, REPLY, now + hz), 0);
	}
	assert_false(fn_neigh_lookup(t, a[20], &m));
	for (i = 29; i < 32; i++)   /* strangers: no room */
		assert_int_equal(fn_neigh_update(t, a[i], &mac_a, REQUEST, now + hz), -ENOSPC);
	/* a[19], unused for 30 + 60 s, goes for a new resolution; not before. */
	assert_int_equal(fn_neigh_resolving(t, a[28], now + 89 * hz), -ENOSPC);
	assert_int_equal(fn_neigh_resolving(t, a[28], now + 91 * hz), 1);
	assert_false(fn_neigh_lookup(t, a[19], &m));
	for (i = 21; i < 28; i++)
		assert_true(has(t, a[i], &mac_b));
}

/* A stranger that answers our probe is one we talk to: it stays. One that
 * sends replies nobody asked for does not earn that. */
static void test_probe_answer_protects(void **state)
{
	struct fn_neigh_table *t = *state;
	uint64_t now = rte_get_tsc_cycles();
	uint32_t a[16];

	bucket_mates(t, a, RTE_DIM(a));
	assert_int_equal(fn_neigh_update(t, a[0], &mac_a, REQUEST, now), 0);
	assert_int_equal(fn_neigh_update(t, a[1], &mac_a, REQUEST, now), 0);
	now += 31 * hz;
	assert_int_equal(fn_neigh_probe(t, a[0], now), 1);
	assert_int_equal(fn_neigh_update(t, a[0], &mac_a, REPLY, now), 0);
	assert_int_equal(fn_neigh_update(t, a[1], &mac_a, REPLY, now), 0);
	for (unsigned i = 2; i < RTE_DIM(a); i++)
		fn_neigh_update(t, a[i], &mac_b, REQUEST, now + i);
	assert_true(has(t, a[0], &mac_a));
	assert_false(has(t, a[1], &mac_a));
}

/* Strangers everywhere: half of the whole table at most, and what we asked
 * for survives them all. */
static void test_flood(void **state)
{
	struct fn_neigh_table *t = *state;
	uint64_t now = rte_get_tsc_cycles();
	unsigned found = 0;

	/* ours: 64 resolved hosts, on average half a way per bucket */
	for (uint32_t i = 0; i < 64; i++) {
		uint32_t a = rte_cpu_to_be_32(RTE_IPV4(192, 168, 0, i + 1));
		struct rte_ether_addr m = mac_of(a);

		assert_true(fn_neigh_resolving(t, a, now) >= 0);
		assert_int_equal(fn_neigh_update(t, a, &m, REPLY, now), 0);
	}
	for (uint32_t i = 0; i < 16384; i++) {
		uint32_t a = rte_cpu_to_be_32(RTE_IPV4(10, 0, 0, 0) + i);
		struct rte_ether_addr m = mac_of(a);
		int rc = fn_neigh_update(t, a, &m, REQUEST, now + i);

		assert_true(rc == 0 || rc == 1);
	}
	for (uint32_t i = 0; i < 16384; i++) {
		uint32_t a = rte_cpu_to_be_32(RTE_IPV4(10, 0, 0, 0) + i);
		struct rte_ether_addr m = mac_of(a);

		found += has(t, a, &m);
	}
	assert_true(found <= FN_NEIGH_BUCKETS * FN_NEIGH_UNSOLICITED);
	assert_true(found >= FN_NEIGH_BUCKETS * FN_NEIGH_UNSOLICITED - 64);
	for (uint32_t i = 0; i < 64; i++) {
		uint32_t a = rte_cpu_to_be_32(RTE_IPV4(192, 168, 0, i + 1));
		struct rte_ether_addr m = mac_of(a);

		assert_true(has(t, a, &m));
	}
}

struct race {
	struct fn_neigh_table *t;
	uint32_t addr;           /* the reader looks it up; the writer moves it */
	bool own_mac;            /* its MAC is mac_of(addr), else mac_a or mac_b */
	volatile bool stop;
	unsigned long wrong, reads;
};

/* Every MAC read must be one the address had. */
static void *reader(void *arg)
{
	struct race *r = arg;
	struct rte_ether_addr m;

	while (!r->stop) {
		uint32_t a = __atomic_load_n(&r->addr, __ATOMIC_RELAXED);
		struct rte_ether_addr own = mac_of(a);

		if (!fn_neigh_lookup(r->t, a, &m))
			continue;
		__atomic_store_n(&r->reads, r->reads + 1, __ATOMIC_RELAXED);
		if (r->own_mac ? !rte_is_same_ether_addr(&m, &own)
			       : !rte_is_same_ether_addr(&m, &mac_a) &&
				 !rte_is_same_ether_addr(&m, &mac_b))
			r->wrong++;
	}
	return NULL;
}

static void start_reader(struct race *r, pthread_t *th)
{
	pthread_attr_t attr;
	cpu_set_t cpus;

	/* EAL pinned this thread, the writer, to one CPU; the reader runs on
	 * the others (left to itself the scheduler keeps it on the writer's
	 * CPU of a busy machine, where the two never overlap), or on the same
	 * one when there is no other. */
	CPU_ZERO(&cpus);
	for (long c = 0; c < sysconf(_SC_NPROCESSORS_ONLN) && c < CPU_SETSIZE; c++)
		if (c != sched_getcpu())
			CPU_SET(c, &cpus);
	if (CPU_COUNT(&cpus) == 0)
		CPU_SET(sched_getcpu(), &cpus);
	pthread_attr_init(&attr);
	pthread_attr_setaffinity_np(&attr, sizeof(cpus), &cpus);
	assert_int_equal(pthread_create(th, &attr, reader, r), 0);
	pthread_attr_destroy(&attr);
}

/* Keep writing until the reader has overlapped many writes: on a busy
 * machine the reader thread may not run until the writer is done. */
static bool keep_writing(struct race *r, unsigned i)
{
	return i < 200000 || __atomic_load_n(&r->reads, __ATOMIC_RELAXED) < 100000;
}

static void test_lock_free_reads(void **state)
{
	struct race r = { .t = *state, .addr = H_PEER };
	uint64_t now = rte_get_tsc_cycles();
	pthread_t th;

	start_reader(&r, &th);
	for (unsigned i = 0; keep_writing(&r, i); i++)
		fn_neigh_update(r.t, H_PEER, i & 1 ? &mac_a : &mac_b, REQUEST, now);
	r.stop = true;
	pthread_join(th, NULL);
	assert_true(r.reads >= 100000);
	assert_int_equal(r.wrong, 0);
}

/*
 * Sixteen strangers take turns in one bucket's four unsolicited ways, so
 * every write gives the oldest one's slot to another address. The reader
 * keeps looking up the one about to lose its slot: it gets that address's
 * MAC or nothing, never the newcomer's.
 */
static void test_reads_while_slots_change_hands(void **state)
{
	struct race r = { .t = *state, .own_mac = true };
	uint64_t now = rte_get_tsc_cycles();
	uint32_t addrs[16];
	pthread_t th;

	bucket_mates(r.t, addrs, RTE_DIM(addrs));
	r.addr = addrs[0];
	start_reader(&r, &th);
	for (unsigned i = 0; keep_writing(&r, i); i++) {
		uint32_t a = addrs[i % RTE_DIM(addrs)];
		struct rte_ether_addr m = mac_of(a);

		/* from the fifth write on, this one pushes out addrs[i - 4] */
		__atomic_store_n(&r.addr, addrs[(i + 12) % RTE_DIM(addrs)], __ATOMIC_RELAXED);
		assert_int_equal(fn_neigh_update(r.t, a, &m, REQUEST, now + i), i >= 4);
	}
	r.stop = true;
	pthread_join(th, NULL);
	assert_true(r.reads >= 100000);
	assert_int_equal(r.wrong, 0);
}

/* The table is freed whatever happens. */
#define NEIGH_TEST(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		NEIGH_TEST(test_precedence),
		NEIGH_TEST(test_ageing_and_probes),
		NEIGH_TEST(test_bucket_shares),
		NEIGH_TEST(test_probe_answer_protects),
		NEIGH_TEST(test_flood),
		NEIGH_TEST(test_lock_free_reads),
		NEIGH_TEST(test_reads_while_slots_change_hands),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
