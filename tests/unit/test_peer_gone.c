/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/runtime/peer_gone.c on a net_null port whose bursts are replaced by
 * ones that fault half-way, as memif's do when its peer leaves: with the
 * link down the burst is abandoned, the frames it had taken whole are
 * accounted for, none is freed twice or lost; with the link up the fault is
 * not ours and the process dies of it as before.
 *
 * Not CMocka: its runner installs its own SIGSEGV handler around each test,
 * which would replace the guard under test.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "runtime/peer_gone.h"

#define POOL 63
#define TAKEN 2        /* frames a faulting burst handles before the fault */

static int failed;
static volatile uint8_t *gone;   /* a page with no access: the unmapped rings */
static struct rte_mempool *pool;
static struct fn_tx_count count;

#define CHECK(cond, ...) do { \
	if (cond) { \
		printf("ok   " __VA_ARGS__); \
	} else { \
		printf("FAIL " __VA_ARGS__); \
		failed++; \
	} \
	printf("\n"); \
} while (0)

static uint16_t rx_then_fault(void *q, struct rte_mbuf **bufs, uint16_t n)
{
	(void)q;
	for (uint16_t i = 0; i < TAKEN && i < n; i++)
		bufs[i] = rte_pktmbuf_alloc(pool);
	return gone[0];
}

/* Touches nothing else: the child that runs it shares the EAL's memory. */
static uint16_t fault_only(void *q, struct rte_mbuf **bufs, uint16_t n)
{
	(void)q;
	(void)bufs;
	(void)n;
	return gone[0];
}

static uint16_t tx_then_fault(void *q, struct rte_mbuf **bufs, uint16_t n)
{
	(void)q;
	for (uint16_t i = 0; i < TAKEN && i < n; i++)
		rte_pktmbuf_free(bufs[i]);
	return gone[0];
}

static uint16_t tx_all(void *q, struct rte_mbuf **bufs, uint16_t n)
{
	(void)q;
	rte_pktmbuf_free_bulk(bufs, n);
	return n;
}

/* A faulting transmit burst from a thread that is no EAL lcore: the
 * stand-in pool has no cache for it, so its frees reach count_put(). */
struct off_lcore {
	uint16_t port, sent;
	bool fault;
	struct rte_mbuf *pkts[5];
};

static void *tx_off_lcore(void *arg)
{
	struct off_lcore *o = arg;

	o->sent = fn_peer_gone_tx(&count, o->port, 0, o->pkts, 5, &o->fault);
	return NULL;
}

static uint16_t port_setup(void)
{
	struct rte_eth_conf conf = { 0 };
	uint16_t port;

	if (rte_eth_dev_get_port_by_name("net_null0", &port) < 0 ||
	    rte_eth_dev_configure(port, 1, 1, &conf) < 0 ||
	    rte_eth_rx_queue_setup(port, 0, 64, SOCKET_ID_ANY, NULL, pool) < 0 ||
	    rte_eth_tx_queue_setup(port, 0, 64, SOCKET_ID_ANY, NULL) < 0 ||
	    rte_eth_dev_start(port) < 0) {
		fprintf(stderr, "cannot set up net_null0\n");
		exit(1);
	}
	return port;
}

int main(void)
{
	char *argv[] = { "test", "--no-huge", "-m", "128", "--no-pci", "--no-shconf",
			 "--no-telemetry", "--log-level=lib.eal:error", "-l", "0",
			 "--vdev", "net_null0", NULL };
	struct rte_mbuf *pkts[8] = { 0 };
	bool fault = false;
	uint16_t port, n;
	pid_t pid;
	int status;

	if (rte_eal_init(RTE_DIM(argv) - 1, argv) < 0)
		return 1;
	gone = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	pool = rte_pktmbuf_pool_create("t", POOL, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	if (gone == MAP_FAILED || pool == NULL || fn_peer_gone_init() < 0 ||
	    fn_tx_count_init(&count, pool, "t_count") < 0)
		return 1;
	port = port_setup();
	CHECK(fn_peer_gone_port(port) == false, "net_null is not a port whose peer can leave");
	rte_eth_fp_ops[port].rx_pkt_burst = fault_only;

	/* The link up: a fault in a burst is not the peer leaving. */
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		fn_peer_gone_rx(port, 0, pkts, 8, &fault);
		_exit(0);
	}
	waitpid(pid, &status, 0);
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV,
	      "link up: a fault in a burst kills the process as before (status %#x)", status);

	/* net_null has no link down of its own: a stopped port's is down (and
	 * its bursts are reset) */
	{
		struct rte_eth_link link = { 0 };

		rte_eth_dev_stop(port);
		rte_eth_fp_ops[port].rx_pkt_burst = rx_then_fault;
		rte_eth_fp_ops[port].tx_pkt_burst = tx_then_fault;
		rte_eth_link_get_nowait(port, &link);
		CHECK(link.link_status == RTE_ETH_LINK_DOWN, "the port's link is down");
	}
	n = fn_peer_gone_rx(port, 0, pkts, 8, &fault);
	CHECK(fault && n == TAKEN, "link down: a receive burst that faults is abandoned, "
	      "returning the %u frames it had received whole (%u)", TAKEN, n);
	rte_pktmbuf_free_bulk(pkts, n);

	fault = false;
	for (unsigned i = 0; i < 5; i++)
		pkts[i] = rte_pktmbuf_alloc(pool);
	n = fn_peer_gone_tx(&count, port, 0, pkts, 5, &fault);
	CHECK(fault && n == TAKEN, "link down: a transmit burst that faults counts the %u frames "
	      "it took as sent (%u)", TAKEN, n);
	CHECK(rte_mempool_in_use_count(pool) == 5 - TAKEN &&
	      rte_mbuf_refcnt_read(pkts[TAKEN]) == 1 && rte_mbuf_refcnt_read(pkts[4]) == 1 &&
	      pkts[TAKEN]->pool == pool && pkts[4]->pool == pool,
	      "... it freed those, and the others are the caller's as before (%u in use)",
	      rte_mempool_in_use_count(pool));
	rte_eth_fp_ops[port].tx_pkt_burst = tx_all;
	fault = false;
	n = fn_peer_gone_tx(&count, port, 0, pkts + TAKEN, 5 - TAKEN, &fault);
	CHECK(!fault && n == 5 - TAKEN && rte_mempool_in_use_count(pool) == 0,
	      "a burst that does not fault: all sent, every buffer back in the pool");

	/* A frame held elsewhere too (a count of two) cannot be followed by
	 * the stand-in pool: the burst takes a reference on each frame. The
	 * held one comes after others, which had been given the stand-in
	 * already and must point home again before they are freed. */
	rte_eth_fp_ops[port].tx_pkt_burst = tx_then_fault;
	fault = false;
	for (unsigned i = 0; i < 5; i++)
		pkts[i] = rte_pktmbuf_alloc(pool);
	rte_mbuf_refcnt_update(pkts[3], 1);
	n = fn_peer_gone_tx(&count, port, 0, pkts, 5, &fault);
	CHECK(fault && n == TAKEN && rte_mempool_in_use_count(pool) == 5 - TAKEN &&
	      rte_mbuf_refcnt_read(pkts[3]) == 2 && rte_mbuf_refcnt_read(pkts[TAKEN]) == 1 &&
	      pkts[TAKEN]->pool == pool,
	      "a frame with two references: the %u taken are counted by their references, "
	      "the held one keeps its other (%u, %u in use)", TAKEN, n,
	      rte_mempool_in_use_count(pool));
	rte_pktmbuf_free(pkts[3]);
	rte_pktmbuf_free_bulk(pkts + TAKEN, 5 - TAKEN);
	CHECK(rte_mempool_in_use_count(pool) == 0, "... and nothing is lost or freed twice");

	{
		struct off_lcore o = { .port = port };
		pthread_t t;

		for (unsigned i = 0; i < 5; i++)
			o.pkts[i] = rte_pktmbuf_alloc(pool);
		if (pthread_create(&t, NULL, tx_off_lcore, &o) == 0)
			pthread_join(t, NULL);
		CHECK(o.fault && o.sent == TAKEN && rte_mempool_in_use_count(pool) == 5 - TAKEN &&
		      o.pkts[TAKEN]->pool == pool,
		      "the same from a thread with no lcore (no cache): %u taken, %u in use",
		      o.sent, rte_mempool_in_use_count(pool));
		rte_pktmbuf_free_bulk(o.pkts + TAKEN, 5 - TAKEN);
	}
	fn_tx_count_fini(&count);

	/* With no stand-in (fn_tx_count_init() failed) the burst takes a
	 * reference per frame, with the same outcome. */
	fault = false;
	for (unsigned i = 0; i < 5; i++)
		pkts[i] = rte_pktmbuf_alloc(pool);
	n = fn_peer_gone_tx(&count, port, 0, pkts, 5, &fault);
	CHECK(fault && n == TAKEN && rte_mempool_in_use_count(pool) == 5 - TAKEN &&
	      rte_mbuf_refcnt_read(pkts[TAKEN]) == 1,
	      "no stand-in pool: a reference per frame, %u taken, %u in use", n,
	      rte_mempool_in_use_count(pool));
	rte_pktmbuf_free_bulk(pkts + TAKEN, 5 - TAKEN);

	rte_eth_dev_close(port);
	rte_mempool_free(pool);
	printf("%s\n", failed ? "FAILED" : "all passed");
	return failed != 0;
}
