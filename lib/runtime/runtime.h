/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The two objects everything else hangs off: the process-wide struct fragnet
 * (one logical interface, its ports, shared tables) and the per-queue struct
 * fn_queue (one per lcore: the whole stack state that packets touch).
 */
#ifndef FN_RUNTIME_H
#define FN_RUNTIME_H

#include <net/if.h>
#include <stdalign.h>
#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_ether.h>
#include <rte_mbuf.h>

#include "fn_build_config.h"
#include "fragnet.h"
#include "peer_gone.h"
#include "stats.h"
#include "filter/filter.h"

#define FN_MAX_QUEUES 16        /* X540: 16 RSS queues */
#define FN_BURST 32
#define FN_TX_PENDING 512       /* queued until the end of the iteration */
#define FN_ARP_WAIT 64          /* packets parked for ARP, per queue */
#define FN_ARP_REQUESTS 16      /* neighbours being resolved, per queue */
#define FN_DGRAM_BUF (FRAGNET_MAX_DGRAM + 64) /* one whole IPv4 datagram */
#define FN_IP_ID_BUCKETS 1024   /* IPv4 ID counters per queue, by destination */

struct fn_neigh_table;
struct fn_reasm;
struct fn_udp_table;
struct fn_ctl_client;
struct fn_capture;
struct fn_cap_queue;
struct fn_xsk;
struct rte_ring;
struct rte_udp_hdr;

/* How flows map to queues on this port, when we know it. */
struct fn_rss {
	bool known;             /* device hashes with Toeplitz and the key below */
	alignas(4) uint8_t key[40]; /* as programmed into the device; read as words */
	uint16_t reta_size;
	uint16_t reta[512];     /* hash bucket -> queue */
};

/* The logical interface: one multi-queue port, one port per queue, or one
 * AF_XDP socket of ours per queue. */
struct fn_port {
	uint16_t ids[FN_MAX_QUEUES];    /* DPDK port of queue i */
	uint16_t queue_of[FN_MAX_QUEUES]; /* device (or kernel) queue of queue i */
	unsigned n_ports;               /* distinct DPDK ports */
	bool is_xsk;                    /* xsk ports: no DPDK port, ids[] unused */
	struct fn_xsk *xsk[FN_MAX_QUEUES]; /* AF_XDP socket of queue i (xsk.h) */
	struct rte_ether_addr mac;
	uint16_t mtu;                   /* IP MTU */
	bool tx_csum;                   /* device fills IPv4 and UDP checksums */
	bool rx_csum;                   /* device checks them (flags in the mbuf) */
	char ifname[IF_NAMESIZE];       /* kernel interface behind xsk/af_xdp/af_packet */
	uint32_t ifindex;               /* its index, or 1 */
	int saved_promisc;              /* kernel IFF_PROMISC at open, -1 unknown */
	struct fn_rss rss;
};

struct fn_queue;

struct fragnet {
	struct fragnet_config cfg;      /* a copy; the strings below are ours */
	char *app_name;
	unsigned n_queues;
	uint32_t addr, netmask, gateway; /* network order */
	uint32_t bcast;                 /* fn_subnet_bcast(addr, netmask) */
	struct fn_port port;
	struct rte_mempool *pool;
	struct fn_queue *queues[FN_MAX_QUEUES];
	struct fn_udp_table *udp;
	struct fn_neigh_table *neigh;
	struct fn_filter *filter;
	struct fn_ctl_client *ctl;  /* fragnetd connection (ctl/client.h) */
	struct fn_capture *capture; /* running (capture.h), control thread only */
	struct fn_capture *capture_stopped; /* waiting for the lcores to let go */
	volatile bool stop;
	bool running;
	bool unfiltered;
};

/* Ticks since start; refreshed once per burst. */
struct fn_clock {
	uint64_t now;
	uint64_t hz;
};

/* A neighbour we are resolving, and the packets waiting for it. */
struct fn_arp_request {
	uint32_t addr;
	uint8_t tries;
	uint64_t next_try;
};

struct fn_arp_wait {
	struct rte_mbuf *pkts[FN_ARP_WAIT];  /* ethernet header room reserved */
	uint32_t nexthop[FN_ARP_WAIT];
	unsigned n;
	struct fn_arp_request req[FN_ARP_REQUESTS];
	unsigned n_req;
};

/* The neighbour a queue sent to last, as the table had it (fn_ipv4_xmit()). */
struct fn_nexthop_cache {
	uint32_t addr;
	struct rte_ether_hdr eth;       /* to it: its MAC, ours, IPv4; an
					 * in-frame reply copies it whole */
	uint64_t gen;                   /* the table's generation when read */
	uint64_t until;                 /* reachable until then (ticks) */
	uint32_t dst;                   /* a destination routed to it, neither
					 * ours, 0 nor a broadcast (addresses
					 * and routes are fixed from the start):
					 * another send there needs no route
					 * check; our address when none */
};

/* The port a queue delivered to last, as the UDP table had it (rx_fast.c). */
struct fn_udp_cache {
	uint16_t port;                  /* network order */
	uint64_t gen;                   /* the table's generation when read */
	fragnet_recv_fn cb;
	void *arg;
};

/* The datagram whose callback runs, while it runs, when its frame may carry
 * a send of its payload (fn_udp_send()). */
struct fn_rx_frame {
	struct rte_mbuf *m;             /* NULL: none, or already sent */
	struct rte_udp_hdr *udp;        /* in m, right after a 20-byte IPv4 header,
					 * m's data, which follows the Ethernet
					 * header the frame came with */
	bool csum_verified;             /* its UDP checksum was checked here */
};

struct fn_token_bucket {
	uint64_t tokens;                /* in ticks */
	uint64_t last;
};

struct fn_queue {
	/* Read for every packet. */
	struct fragnet *fn;
	uint16_t qid;
	uint16_t port_id, port_queue;
	struct fn_xsk *xsk;             /* an AF_XDP queue of ours, else NULL */
	uint32_t addr;                  /* copy of fn->addr, network order */
	union {
		struct rte_ether_addr mac;
		uint64_t mac_word;      /* the MAC in its first 6 bytes: a
					 * frame's compared in one load */
	};
	struct rte_mempool *pool;
	struct fn_clock clk;
	struct fn_filter_queue filter;
	struct fn_cap_queue *cap;       /* a capture's ring, NULL when off */
	unsigned n_tx;
	struct rte_mbuf *tx[FN_TX_PENDING];
	unsigned n_done;
	struct rte_mbuf *done[FN_BURST];  /* received, consumed: freed in bulk */
	uint32_t learned_src;             /* last source checked for learning, */
	uint64_t learned_until;           /* not checked again before then */
	struct fn_nexthop_cache nexthop;
	struct fn_udp_cache last_port;
	struct fn_rx_frame rx;
	struct fn_stats stats;

	/* Colder. */
	uint32_t ip_id_key;             /* IPv4 IDs: see fn_ipv4_header() */
	uint32_t ip_id_last_dst;        /* the last destination, and */
	uint16_t *ip_id_last;           /* its counter in ip_id[] */
	uint16_t ip_id_step;            /* fn->n_queues, what a counter steps by */
	uint16_t ip_id[FN_IP_ID_BUCKETS];
	struct fn_arp_wait arp;
	struct fn_token_bucket icmp_bucket;
	struct fn_reasm *reasm;
	struct rte_ring *handoff;       /* reassembled datagrams owned by us */
	uint64_t next_timer;
	unsigned idle_polls;
	bool polled_packets;            /* the last poll received some */
	bool announce;                  /* gratuitous ARP pending (queue 0) */
	bool peer_may_leave;            /* a memif port: peer_gone.h */
	struct fn_tx_count tx_count;    /* its transmit guard's */
	bool link_down;                 /* such a port's, as last seen */

	/* A reassembled datagram being delivered; a datagram being built for
	 * fragmentation. Separate so that a callback may echo what it got. */
	uint8_t rx_l2[RTE_ETHER_HDR_LEN];   /* its first fragment's Ethernet header */
	uint8_t rx_dgram[FN_DGRAM_BUF] __rte_cache_aligned;
	uint8_t tx_dgram[FN_DGRAM_BUF] __rte_cache_aligned;
};

static inline void fn_rx_done_flush(struct fn_queue *q)
{
	rte_pktmbuf_free_bulk(q->done, q->n_done);
	q->n_done = 0;
}

/* A received frame the stack is finished with; freed in bulk at the end of
 * the burst, which costs a fraction of one free per frame. A frame that
 * also went out (an echo's reply in the request's frame, fn_udp_send())
 * is held by the transmit queue too: our reference goes at once, a
 * decrement, which costs less than its share of the bulk free. */
static inline void fn_rx_done(struct fn_queue *q, struct rte_mbuf *m)
{
	uint16_t refs = rte_mbuf_refcnt_read(m);

	if (refs > 1) {
		/* Not an atomic decrement: the other reference is the
		 * transmit queue's, and whatever frees it (our flush, the
		 * PMD inside it) runs on this lcore too. A frame never
		 * leaves its queue's lcore while held (fragnet.h: a queue is
		 * single-threaded), so no other thread changes its count. */
		rte_mbuf_refcnt_set(m, refs - 1);
		return;
	}
	if (unlikely(q->n_done == FN_BURST))
		fn_rx_done_flush(q);
	q->done[q->n_done++] = m;
}

void fn_tx_full(struct fn_queue *q, struct rte_mbuf *m);
int fn_tx_flush(struct fn_queue *q);

/* Queue the frame for transmission at the end of this iteration. Inline:
 * every packet sent comes here; a full queue is the rare case. */
static inline void fn_tx(struct fn_queue *q, struct rte_mbuf *m)
{
	if (unlikely(q->n_tx == FN_TX_PENDING)) {
		fn_tx_full(q, m);
		return;
	}
	q->tx[q->n_tx++] = m;
}

static inline struct rte_mbuf *fn_alloc(struct fn_queue *q)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(q->pool);

	if (unlikely(m == NULL))
		FN_DROP(&q->stats, NO_MBUF);
	return m;
}

static inline bool fn_on_link(const struct fragnet *fn, uint32_t addr)
{
	return ((addr ^ fn->addr) & fn->netmask) == 0;
}

/* The directed broadcast of the subnet of addr, kept in fn->bcast; a /32
 * has none, nor has a /31, whose two addresses are both hosts (RFC 3021):
 * limited broadcast stands in. */
static inline uint32_t fn_subnet_bcast(uint32_t addr, uint32_t netmask)
{
	if (netmask == UINT32_MAX || netmask == rte_cpu_to_be_32(~1u))
		return UINT32_MAX;
	return addr | ~netmask;
}

/* Limited broadcast, or the directed broadcast of our subnet. Asked of
 * every datagram's source and destination: two compares. */
static inline bool fn_is_broadcast(const struct fragnet *fn, uint32_t addr)
{
	return addr == UINT32_MAX || addr == fn->bcast;
}

#endif /* FN_RUNTIME_H */
