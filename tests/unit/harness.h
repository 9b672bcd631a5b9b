/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A stack without a device, for unit tests: a struct fragnet with real
 * tables, a real mbuf pool and real queues, whose transmitted frames stay in
 * q->tx for the test to read instead of going to a port. Frames are fed with
 * fn_eth_input() as the poll loop would. Shared by the unit tests and the
 * fuzzers, so it aborts (rather than asserting through CMocka) when its own
 * setup fails; leaks are counted by h_release(), which the CMocka fixtures
 * below turn into a failed test.
 */
#ifndef TEST_HARNESS_H
#define TEST_HARNESS_H

#include <stddef.h>
#include <stdint.h>

#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_udp.h>

#include "packets.h"
#include "runtime/runtime.h"

#define H_ADDR RTE_BE32(RTE_IPV4(10, 0, 0, 1))
#define H_PEER RTE_BE32(RTE_IPV4(10, 0, 0, 2))
#define H_FAR RTE_BE32(RTE_IPV4(192, 0, 2, 9))
#define H_GW RTE_BE32(RTE_IPV4(10, 0, 0, 254))
extern const struct rte_ether_addr h_mac, h_peer_mac;

/* Initialise DPDK once (no hugepages, no devices). */
void h_eal(void);

struct fragnet *h_new(unsigned n_queues);
/* The peer's own stack (H_PEER, h_peer_mac), to parse what we send. */
struct fragnet *h_new_peer(void);
/* Let `fn` reach the other harness's host without ARP. */
void h_knows(struct fragnet *fn, uint32_t addr, const struct rte_ether_addr *mac);
/* Feed every frame queued on `from` into `to` (queue 0). Returns frames moved. */
unsigned h_deliver(struct fn_queue *from, struct fn_queue *to);
/* Free the stack (NULL is fine); returns how many of its mbufs were still
 * out of the pool, i.e. leaked. */
unsigned h_release(struct fragnet *fn);

/*
 * Test fixtures (unit.h names them for CMocka): setup puts a struct h_fix
 * in *state; teardown frees its stacks, also after an assert failed
 * half-way, and fails (-1, with a message) when mbufs were leaked.
 */
struct h_fix {
	struct fragnet *fn;     /* ours: one queue (h_setup) or two (h_setup2) */
	struct fragnet *peer;   /* h_setup_peer: the peer's stack too */
};
int h_setup(void **state);
int h_setup2(void **state);
int h_setup_peer(void **state);
int h_teardown(void **state);

/* Frame builders; every one returns an mbuf from fn->pool holding a whole
 * Ethernet frame from the peer to us. */
struct rte_mbuf *h_udp_frame(struct fragnet *fn, uint16_t sport, uint16_t dport,
			     const void *payload, size_t len);
struct rte_mbuf *h_frame(struct fragnet *fn, const void *bytes, size_t len);
/* Raw IPv4 datagram (header + payload, as tests/support/packets.h builds
 * them) wrapped in Ethernet to us. */
struct rte_mbuf *h_ip_frame(struct fragnet *fn, const void *l3, size_t len);

/* Queued frames on q, and taking one out (caller frees). */
unsigned h_tx_count(struct fn_queue *q);
struct rte_mbuf *h_tx_take(struct fn_queue *q, unsigned i);
void h_tx_clear(struct fn_queue *q);

/* Sum of all drop counters, and one of them. */
uint64_t h_drops(const struct fn_queue *q);

/* Recorded callback deliveries. */
struct h_rx {
	unsigned n;
	struct fragnet_dgram last;
	uint8_t data[70000];
	unsigned queue;
};
void h_record(struct fragnet_queue *q, const struct fragnet_dgram *d, void *arg);

#endif /* TEST_HARNESS_H */
