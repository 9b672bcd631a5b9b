/* SPDX-License-Identifier: BSD-3-Clause */
/* Ethernet: receive demux on ethertype, and framing on transmit. */
#ifndef FN_ETH_H
#define FN_ETH_H

#include <stdint.h>

#include <rte_ether.h>
#include <rte_mbuf.h>

struct fn_queue;

/* Consume one received frame (m->data at the Ethernet header): the fast
 * path for the common unicast UDP datagram (rx_fast.c), which hands any
 * other frame to the careful path below. The poll loop calls this one. */
void fn_eth_input(struct fn_queue *q, struct rte_mbuf *m);

/* The same for any frame, every check in its protocol's module (eth.c,
 * ipv4.c, udp.c): the outcome fn_eth_input() must reproduce. */
void fn_eth_input_careful(struct fn_queue *q, struct rte_mbuf *m);

/* Prepend an Ethernet header to m (data at the L3 header) and queue it. */
void fn_eth_output(struct fn_queue *q, struct rte_mbuf *m,
		   const struct rte_ether_addr *dst, uint16_t ether_type);

#endif /* FN_ETH_H */
