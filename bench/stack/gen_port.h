/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the DPDK load generators (fn-gen, fnr-gen) share: their one port, a
 * vdev (memif, af_xdp) brought up with one queue each way, the addresses
 * they take on the command line, and how they stop (a signal, or a fatal
 * error). Header-only, like cpu_usage.h: each generator is one file.
 */
#ifndef FN_BENCH_GEN_PORT_H
#define FN_BENCH_GEN_PORT_H

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_ether.h>

#define GEN_PORT_DESC 1024

/* Set by SIGINT/SIGTERM (gen_on_signal): the generator stops at its next
 * burst and still prints what it measured. */
static volatile bool gen_quit;

static inline void gen_on_signal(int sig)
{
	(void)sig;
	gen_quit = true;
}

/* A fatal error: its message, prefixed with the generator's name; exit 2. */
static inline void gen_die(const char *msg)
{
	fprintf(stderr, "%s: %s\n", program_invocation_short_name, msg);
	exit(2);
}

/* The single port given with --vdev, started; 0 when its link is up.
 * -1: not exactly one port, or it cannot be configured; -2: the link did
 * not come up in 10 s (memif: the peer never connected), or gen_quit was set. */
static inline int gen_port_up(struct rte_mempool *pool, uint16_t *port_out)
{
	struct rte_eth_conf conf = { 0 };
	struct rte_eth_link link;
	uint16_t port = 0, nrx = GEN_PORT_DESC, ntx = GEN_PORT_DESC;

	if (rte_eth_dev_count_avail() != 1)
		return -1;
	if (rte_eth_dev_configure(port, 1, 1, &conf) < 0 ||
	    rte_eth_dev_adjust_nb_rx_tx_desc(port, &nrx, &ntx) < 0 ||
	    rte_eth_rx_queue_setup(port, 0, nrx, rte_socket_id(), NULL, pool) < 0 ||
	    rte_eth_tx_queue_setup(port, 0, ntx, rte_socket_id(), NULL) < 0 ||
	    rte_eth_dev_start(port) < 0)
		return -1;
	*port_out = port;
	/* memif: the link comes up when the peer has connected; af_xdp: at once. */
	for (int i = 0; i < 100 && !gen_quit; i++) {
		if (rte_eth_link_get_nowait(port, &link) == 0 && link.link_status)
			return 0;
		rte_delay_ms(100);
	}
	return -2;
}

/* The end of a run: with linger, keep the port open but no longer polled
 * until told to exit. memif unmaps its shared rings from the interrupt
 * thread when the peer goes away, under the feet of an lcore still in a
 * burst (seen as a SIGSEGV in eth_memif_tx of the server), so the server
 * is stopped first while the generator waits here. */
static inline void gen_port_down(uint16_t port, bool linger)
{
	fflush(stdout);
	while (linger && !gen_quit)
		sleep(1);
	rte_eth_dev_stop(port);
	rte_eth_dev_close(port);
	rte_eal_cleanup();
}

/* An IPv4 address in network order, 0 if s is not one. */
static inline uint32_t gen_parse_ip(const char *s)
{
	struct in_addr a;

	return inet_pton(AF_INET, s, &a) == 1 ? a.s_addr : 0;
}

#endif /* FN_BENCH_GEN_PORT_H */
