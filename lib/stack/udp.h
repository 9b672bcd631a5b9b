/* SPDX-License-Identifier: BSD-3-Clause */
/* UDP: port bindings, receive demux to callbacks, datagram building. */
#ifndef FN_UDP_H
#define FN_UDP_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_mbuf.h>
#include <rte_spinlock.h>

#include "fragnet.h"

struct fn_queue;

/* Read by every queue, written under the table's lock: readers never block
 * and never see a callback paired with another binding's argument. */
struct fn_udp_binding {
	uint32_t seq;            /* odd while being written */
	uint16_t port;           /* 0 = free */
	fragnet_recv_fn cb;
	void *arg;
};

struct fn_udp_table {
	rte_spinlock_t lock;     /* writers only */
	uint64_t gen;            /* bumped by every bind and unbind, after it:
				  * a queue's last lookup (rx_fast.c) holds
				  * while it has not changed */
	uint8_t slot[65536];     /* port (network order) -> binding index + 1 */
	struct fn_udp_binding b[FRAGNET_MAX_PORTS];
};

struct fn_udp_table *fn_udp_table_create(int socket);
void fn_udp_table_free(struct fn_udp_table *t);
int fn_udp_bind(struct fn_udp_table *t, uint16_t port, fragnet_recv_fn cb, void *arg);
int fn_udp_unbind(struct fn_udp_table *t, uint16_t port);
bool fn_udp_is_bound(const struct fn_udp_table *t, uint16_t port);

/* The callback bound to port (network order): false when none. Inline for
 * the receive paths. */
static inline bool fn_udp_lookup(const struct fn_udp_table *t, uint16_t port,
				 fragnet_recv_fn *cb, void **arg)
{
	unsigned i = __atomic_load_n(&t->slot[port], __ATOMIC_ACQUIRE);
	const struct fn_udp_binding *b;
	uint32_t seq;
	uint16_t bport;

	if (i == 0)
		return false;
	b = &t->b[i - 1];
	do {
		seq = __atomic_load_n(&b->seq, __ATOMIC_ACQUIRE);
		bport = b->port;
		*cb = b->cb;
		*arg = b->arg;
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
	} while ((seq & 1) || seq != __atomic_load_n(&b->seq, __ATOMIC_RELAXED));
	return bport == port;
}

/* A whole datagram (l3, len) addressed to us with protocol UDP. frame: the
 * received mbuf whose data starts at l3, or NULL (a reassembled datagram).
 * l4_csum_ok: the device verified the UDP checksum. */
void fn_udp_input(struct fn_queue *q, struct rte_mbuf *frame, uint8_t *l3, uint32_t len,
		  uint8_t pkttype, bool l4_csum_ok);

/* Send len bytes from data. Data that is the payload of the datagram being
 * delivered (its callback echoes or relays it) goes out in the frame it
 * came in, without a copy: see udp.c. The body is the exported
 * fragnet_udp_send() itself (udp.c), so that an application's send is one
 * call, not a call and a jump. */
static inline int fn_udp_send(struct fn_queue *q, uint16_t sport, uint32_t dst, uint16_t dport,
			      const void *data, size_t len)
{
	return fragnet_udp_send((struct fragnet_queue *)q, sport, dst, dport, data, len);
}
/* Send the payload held in m (data at the payload, headroom for headers). Takes m. */
int fn_udp_send_mbuf(struct fn_queue *q, struct rte_mbuf *m, uint16_t sport,
		     uint32_t dst, uint16_t dport);

#endif /* FN_UDP_H */
