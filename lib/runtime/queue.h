/* SPDX-License-Identifier: BSD-3-Clause */
/* A queue's life: creation, one poll iteration, the polling loop, transmit. */
#ifndef FN_QUEUE_H
#define FN_QUEUE_H

#include "port.h"
#include "runtime.h"

/* mbufs a queue holds at most besides fragments in reassembly: its
 * descriptors, a transmit batch, datagrams waiting for ARP. */
#define FN_QUEUE_MBUFS (FN_RX_DESC + FN_TX_DESC + FN_TX_PENDING + FN_ARP_WAIT)
/* mbufs beyond the queues' own, for the lcores' mempool caches. */
#define FN_POOL_SLACK 1023

/* The mbuf pool n_queues queues need: their own, and FN_REASM_MBUFS each
 * for reassembly in builds that have it. */
unsigned fn_queue_pool_size(unsigned n_queues);

/* Queue qid's state, allocated on NUMA socket `socket`; NULL + errno. */
struct fn_queue *fn_queue_create(struct fragnet *fn, unsigned qid, int socket);
void fn_queue_free(struct fn_queue *q);

/* Receive a burst, process it, run due timers, flush. Returns packets received. */
int fn_queue_poll(struct fn_queue *q);

/* Poll until fn->stop, following the configured idle policy. */
void fn_queue_loop(struct fn_queue *q);

#endif /* FN_QUEUE_H */
