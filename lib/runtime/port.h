/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Ports: probing the devices named in the configuration, grouping them into
 * one logical interface, configuring queues, RSS and offloads, and putting
 * everything back as found on close.
 */
#ifndef FN_PORT_H
#define FN_PORT_H

#include <stdint.h>

struct fragnet;
struct fragnet_config;

/* Probe the ports and decide the queue count (fn->n_queues). 0 or -errno. */
int fn_port_probe(struct fragnet *fn);
/* Configure queues on fn->pool, start, program RSS. 0 or -errno. */
int fn_port_start(struct fragnet *fn);
/* Data room the mbufs need for these ports (af_packet framesz). */
uint16_t fn_port_data_room(const struct fragnet_config *cfg);
/* Stop and detach every port; restore the kernel interface flags. */
void fn_port_close(struct fragnet *fn);

#define FN_RX_DESC 1024
#define FN_TX_DESC 1024
#define FN_MIN_MTU 576   /* RFC 791: every host takes 576-byte datagrams */

#endif /* FN_PORT_H */
