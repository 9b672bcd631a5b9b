/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * AF_XDP queues of our own ("xsk:IFACE:QUEUE" ports): one socket bound to one
 * kernel queue, in copy mode, created without loading any XDP program and
 * without any bpf() call (the interface's program, fragnetd's, owns the
 * XSKMAP and inserts the socket). Frames are copied between the socket's
 * UMEM and the library's mbufs; what the XDP program wrote in front of a
 * frame (xdp/meta.h) is kept in an mbuf dynamic field.
 *
 * UMEM: FN_XSK_FRAMES frames of FN_XSK_FRAME_SIZE bytes per queue (2 MiB),
 * half lent to the kernel for receiving, half for transmitting. It is pinned
 * and counted against RLIMIT_MEMLOCK of the user (all of the user's
 * processes together) unless the process has CAP_IPC_LOCK: two queues take
 * 4 MiB of the usual 8 MiB default.
 */
#ifndef FN_XSK_H
#define FN_XSK_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <rte_ether.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>

#include "stats.h"
#include "xdp/meta.h"

#define FN_XSK_PREFIX "xsk:"
#define FN_XSK_FRAMES 1024
#define FN_XSK_FRAME_SIZE 2048
#define FN_XSK_RX_FRAMES (FN_XSK_FRAMES / 2)
#define FN_XSK_TX_FRAMES (FN_XSK_FRAMES - FN_XSK_RX_FRAMES)
/* The kernel puts a received frame this far into its UMEM frame (copy
 * mode: XDP_PACKET_HEADROOM), the XDP metadata just before it. */
#define FN_XSK_RX_OFFSET 256
/* The largest Ethernet frame (without FCS) one UMEM frame receives. */
#define FN_XSK_MAX_FRAME (FN_XSK_FRAME_SIZE - FN_XSK_RX_OFFSET)

struct fn_xsk;
struct rte_mempool;

/* What the XDP program judged of a received frame (xdp/meta.h, checked):
 * hook FN_XDP_RESUME_START when the frame came without valid metadata. */
struct fn_xsk_meta {
	uint64_t generation;
	uint32_t rule;
	uint8_t hook;
	uint8_t chain;
};

extern int fn_xsk_meta_offset;

/* The metadata of a frame received on an xsk queue (only those carry it). */
static inline struct fn_xsk_meta *fn_xsk_meta(struct rte_mbuf *m)
{
	return RTE_MBUF_DYNFIELD(m, fn_xsk_meta_offset, struct fn_xsk_meta *);
}

/* Register the metadata field (idempotent). 0 or -errno. */
int fn_xsk_meta_register(void);

/*
 * Copy the metadata in front of a received frame (data, in the UMEM) into
 * m's field. The kernel copies metadata only when the program wrote some,
 * and the rx descriptor does not say whether it did: what precedes the frame
 * may be left from an earlier frame. So the port wipes the magic of every
 * frame it gives back to the kernel (xsk.c), and a frame without metadata
 * of its own finds none.
 */
static inline void fn_xsk_meta_take(struct rte_mbuf *m, const uint8_t *data)
{
	const struct fn_xdp_meta *in = (const struct fn_xdp_meta *)(data - FN_XDP_META_LEN);
	struct fn_xsk_meta *out = fn_xsk_meta(m);

	if (likely(in->magic == FN_XDP_META_MAGIC))
		*out = (struct fn_xsk_meta){
			.generation = in->generation,
			.rule = in->rule,
			.hook = in->hook,
			.chain = in->chain,
		};
	else
		*out = (struct fn_xsk_meta){ .hook = FN_XDP_RESUME_START };
}

static inline bool fn_is_xsk_port(const char *spec)
{
	return strncmp(spec, FN_XSK_PREFIX, strlen(FN_XSK_PREFIX)) == 0;
}

/* "xsk:IFACE:QUEUE" -> ifname, queue. 0 or -EINVAL. */
int fn_xsk_parse(const char *spec, char ifname[IF_NAMESIZE], uint32_t *queue);

/* The kernel interface's MAC, MTU and index (unprivileged ioctls). 0 or
 * -errno (-ENODEV: no such interface, -EPROTONOSUPPORT: not Ethernet). */
int fn_xsk_iface(const char *ifname, struct rte_ether_addr *mac, uint16_t *mtu,
		 uint32_t *ifindex);

/*
 * A socket bound to queue `queue` of ifname, receiving into mbufs of pool
 * (whose data room must hold FN_XSK_MAX_FRAME). NULL + errno: EPERM (no
 * CAP_NET_RAW), ENOBUFS (UMEM above RLIMIT_MEMLOCK), EINVAL (no such queue),
 * EBUSY (the queue has a socket already), ENOMEM, or the kernel's error.
 */
struct fn_xsk *fn_xsk_open(const char *ifname, uint32_t queue, struct rte_mempool *pool,
			   int socket_id);
void fn_xsk_close(struct fn_xsk *x);

int fn_xsk_fd(const struct fn_xsk *x);

/* Up to n received frames as mbufs, with their metadata. Frames for which
 * the pool has no mbufs go back to the kernel, counted (NO_MBUF). */
uint16_t fn_xsk_rx_burst(struct fn_xsk *x, struct rte_mbuf **pkts, uint16_t n,
			 struct fn_stats *st);

/* Copy up to n frames into free transmit frames and have the kernel send
 * them. Returns how many it took (and freed); the rest stay the caller's.
 * A frame larger than a UMEM frame is taken, dropped and counted (TX_FULL). */
uint16_t fn_xsk_tx_burst(struct fn_xsk *x, struct rte_mbuf **pkts, uint16_t n,
			 struct fn_stats *st);

#endif /* FN_XSK_H */
