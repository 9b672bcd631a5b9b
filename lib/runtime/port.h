/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Ports: probing the devices named in the configuration (DPDK ports, or
 * AF_XDP sockets of our own: xsk.h), grouping them into one logical
 * interface, configuring queues, RSS and offloads, and putting everything
 * back as found on close.
 */
#ifndef FN_PORT_H
#define FN_PORT_H

#include <stdint.h>

struct fragnet;
struct fragnet_config;
struct fn_port;

/* Probe the ports and decide the queue count (fn->n_queues). 0 or -errno. */
int fn_port_probe(struct fragnet *fn);
/* Configure queues on fn->pool, start, program RSS. 0 or -errno. */
int fn_port_start(struct fragnet *fn);
/* Data room the mbufs need for these ports (af_packet framesz). */
uint16_t fn_port_data_room(const struct fragnet_config *cfg);
/* Stop and detach every port; restore the kernel interface flags. */
void fn_port_close(struct fragnet *fn);
/* NUMA socket for queue qid's memory (SOCKET_ID_ANY when unknown). */
int fn_port_socket(const struct fn_port *port, unsigned qid);

/* An AF_XDP socket of ours, for fragnetd to insert into its XSKMAP. */
struct fn_xsk_socket {
	unsigned qid;        /* our queue */
	int fd;              /* stays ours: send a duplicate (SCM_RIGHTS) */
	uint32_t ifindex;    /* kernel interface and queue it is bound to */
	uint32_t queue;
};

/* The AF_XDP sockets of fn's queues, at most max into out: returns how many
 * (0 when the ports are not xsk ports). Valid from fn_port_start() to
 * fn_port_close(). */
unsigned fn_port_xsk_sockets(const struct fragnet *fn, struct fn_xsk_socket *out,
			     unsigned max);

#define FN_RX_DESC 1024
#define FN_TX_DESC 1024
#define FN_MIN_MTU 576   /* RFC 791: every host takes 576-byte datagrams */

#endif /* FN_PORT_H */
