/* SPDX-License-Identifier: BSD-3-Clause */
/* The shared neighbour table: precedence of sources, capacity, and lock-free
 * reads racing a writer. */
#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"
#include "stack/neigh.h"

static const struct rte_ether_addr mac_a = { .addr_bytes = { 2, 0xa, 0xa, 0xa, 0xa, 0xa } };
static const struct rte_ether_addr mac_b = { .addr_bytes = { 2, 0xb, 0xb, 0xb, 0xb, 0xb } };

/* Each test gets a fresh table in *state. */
static int setup(void **state)
{
	h_eal();
	*state = fn_neigh_create(SOCKET_ID_ANY);
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	fn_neigh_free(*state);
	return 0;
}

static void test_precedence(void **state)
{
	struct fn_neigh_table *t = *state;
	struct rte_ether_addr m;

	assert_false(fn_neigh_lookup(t, H_PEER, &m));
	assert_int_equal(fn_neigh_update(t, 0, &mac_a, FN_NEIGH_ARP), -EINVAL);

	/* Learned fills an empty slot only. */
	assert_int_equal(fn_neigh_update(t, H_PEER, &mac_a, FN_NEIGH_LEARNED), 0);
	assert_int_equal(fn_neigh_update(t, H_PEER, &mac_b, FN_NEIGH_LEARNED), 0);
	assert_true(fn_neigh_lookup(t, H_PEER, &m));
	assert_true(rte_is_same_ether_addr(&m, &mac_a));
	/* ARP overrides it. */
	assert_int_equal(fn_neigh_update(t, H_PEER, &mac_b, FN_NEIGH_ARP), 0);
	assert_true(fn_neigh_lookup(t, H_PEER, &m));
	assert_true(rte_is_same_ether_addr(&m, &mac_b));
	/* Static beats everything. */
	assert_int_equal(fn_neigh_update(t, H_GW, &mac_a, FN_NEIGH_STATIC), 0);
	assert_int_equal(fn_neigh_update(t, H_GW, &mac_b, FN_NEIGH_ARP), 0);
	assert_true(fn_neigh_lookup(t, H_GW, &m));
	assert_true(rte_is_same_ether_addr(&m, &mac_a));
}

static void test_capacity(void **state)
{
	struct fn_neigh_table *t = *state;
	struct rte_ether_addr m;
	unsigned ok = 0;

	for (uint32_t i = 1; i <= 2000; i++)
		if (fn_neigh_update(t, rte_cpu_to_be_32(0x0a000000 + i), &mac_a, FN_NEIGH_ARP) == 0)
			ok++;
	assert_int_equal(ok, 768);   /* three quarters of 1024 slots */
	assert_int_equal(fn_neigh_update(t, rte_cpu_to_be_32(0x0b000001), &mac_a, FN_NEIGH_ARP),
			 -ENOSPC);
	/* Every recorded entry is still found, every refused one is not. */
	for (uint32_t i = 1; i <= 2000; i++)
		assert_int_equal(fn_neigh_lookup(t, rte_cpu_to_be_32(0x0a000000 + i), &m), i <= 768);
}

struct race {
	struct fn_neigh_table *t;
	volatile bool stop;
	unsigned long torn, reads;
};

static void *reader(void *arg)
{
	struct race *r = arg;
	struct rte_ether_addr m;

	while (!r->stop) {
		if (!fn_neigh_lookup(r->t, H_PEER, &m))
			continue;
		__atomic_store_n(&r->reads, r->reads + 1, __ATOMIC_RELAXED);
		if (!rte_is_same_ether_addr(&m, &mac_a) && !rte_is_same_ether_addr(&m, &mac_b))
			r->torn++;
	}
	return NULL;
}

static void test_lock_free_reads(void **state)
{
	struct race r = { .t = *state };
	pthread_attr_t attr;
	pthread_t th;
	cpu_set_t cpus;

	/* EAL pinned this thread to one CPU; let the reader run on any, so that
	 * on a multi-core machine it reads while the writer writes. */
	CPU_ZERO(&cpus);
	for (long c = 0; c < sysconf(_SC_NPROCESSORS_ONLN) && c < CPU_SETSIZE; c++)
		CPU_SET(c, &cpus);
	pthread_attr_init(&attr);
	pthread_attr_setaffinity_np(&attr, sizeof(cpus), &cpus);
	assert_int_equal(pthread_create(&th, &attr, reader, &r), 0);
	pthread_attr_destroy(&attr);
	/* Keep writing until the reader has overlapped many updates: on a busy
	 * machine the reader thread may not run until the writer is done. */
	for (unsigned i = 0; i < 200000 || __atomic_load_n(&r.reads, __ATOMIC_RELAXED) < 100000; i++)
		fn_neigh_update(r.t, H_PEER, i & 1 ? &mac_a : &mac_b, FN_NEIGH_ARP);
	r.stop = true;
	pthread_join(th, NULL);
	assert_true(r.reads >= 100000);
	assert_int_equal(r.torn, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_precedence, setup, teardown),
		cmocka_unit_test_setup_teardown(test_capacity, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lock_free_reads, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
