/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libfragnet: a per-core UDP/IPv4 dataplane on DPDK.
 *
 * One polling lcore per receive queue; each queue owns a private stack and a
 * private copy of the filter state, so a packet never leaves the core it
 * arrived on. This is the only installed header.
 *
 * Conventions:
 *  - Functions return 0 (or a count) on success and a negative errno value on
 *    failure; constructors return NULL and set errno.
 *  - Addresses and ports are in network byte order everywhere.
 *  - A struct fragnet_queue is single-threaded: only the lcore that runs it
 *    (fragnet_run) or the one thread that calls fragnet_poll() on it may use
 *    it, including the send functions.
 */
#ifndef FRAGNET_H
#define FRAGNET_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define FRAGNET_VERSION_MAJOR 0
#define FRAGNET_VERSION_MINOR 1

struct fragnet;
struct fragnet_queue;
struct fragnet_buf;

/* What a queue does when it finds nothing to do. */
enum fragnet_idle {
	FRAGNET_IDLE_ADAPTIVE = 0, /* spin, then sleep up to 1 ms when idle */
	FRAGNET_IDLE_BUSY = 1,     /* never sleep: lowest latency, one core per queue */
};

/* fragnet_config.flags */
#define FRAGNET_F_UNFILTERED 0x1u  /* run without rules when no daemon answers */
#define FRAGNET_F_NO_SIGNALS 0x2u  /* fragnet_run() installs no SIGINT/SIGTERM handler */

/* A static neighbour (used by builds without ARP, and to pin entries). */
struct fragnet_neighbour {
	uint32_t addr;   /* IPv4, network order */
	uint8_t mac[6];
};

/*
 * Configuration. Zero-initialise, set sz = sizeof(struct fragnet_config),
 * then fill in what you need: every field added later is optional, and a
 * caller built against an older header passes a smaller sz.
 */
struct fragnet_config {
	size_t sz;
	/* Application name: selects its rules (table "inet NAME", else "inet fragnet"). */
	const char *app_name;
	/*
	 * Ports, NULL-terminated: a PCI address ("0000:03:00.0") or a DPDK vdev
	 * string ("net_af_xdp0,iface=veth0,start_queue=0,queue_count=1").
	 * One multi-queue port gives n_queues queues; several single-queue ports
	 * are grouped as the queues of one logical interface (queue i = port i).
	 */
	const char *const *ports;
	/* Receive/transmit queue pairs (0: one per port, or 1 for a single port). */
	unsigned n_queues;
	/* CPU list for the polling lcores, as for EAL -l ("0-1"); NULL: 0..n_queues-1. */
	const char *lcores;
	/* Extra EAL arguments, space separated (e.g. "--no-huge -m 512"). */
	const char *eal_args;
	/* Our address and prefix length, gateway (0: none). */
	uint32_t ipv4_addr;
	uint8_t prefix_len;
	uint32_t gateway;
	/* IP MTU (0: the port's MTU, at most 1500). */
	uint16_t mtu;
	enum fragnet_idle idle;
	unsigned flags;          /* FRAGNET_F_* */
	/* fragnetd socket (NULL: FRAGNET_DEFAULT_SOCKET). */
	const char *daemon_socket;
	/* Load rules from a compiled image file instead of the daemon (tests). */
	const char *rules_image;
	/* Static neighbours, n_neighbours entries. */
	const struct fragnet_neighbour *neighbours;
	unsigned n_neighbours;
};

#define FRAGNET_DEFAULT_SOCKET "/run/fragnet/fragnetd.sock"

/*
 * Start the runtime: initialise DPDK on first use, open and configure the
 * ports, create one stack per queue, connect to fragnetd and take its rules.
 * Returns NULL and sets errno:
 *  EINVAL  bad or inconsistent configuration (the log says which field)
 *  ENODEV  a port could not be probed or configured
 *  ENOMEM  no memory for mbufs or per-queue state
 *  ENOTCONN no daemon answered and FRAGNET_F_UNFILTERED was not given
 *  EACCES  the daemon refused this process
 *  EBADMSG the rules image failed verification
 *  EBUSY   another struct fragnet is open in this process
 */
struct fragnet *fragnet_open(const struct fragnet_config *cfg);

/* Stop (if running), close the ports and restore the kernel interface state. */
void fragnet_close(struct fragnet *fn);

unsigned fragnet_queue_count(const struct fragnet *fn);

/* Queue qid, or NULL (errno ERANGE) when qid >= fragnet_queue_count(). */
struct fragnet_queue *fragnet_queue(struct fragnet *fn, unsigned qid);
unsigned fragnet_queue_id(const struct fragnet_queue *q);

/* A received datagram. data is contiguous and valid only during the callback. */
struct fragnet_dgram {
	uint32_t src_addr;
	uint32_t dst_addr;
	uint16_t src_port;
	uint16_t dst_port;
	const void *data;
	size_t len;
};

/* Runs on the lcore of the queue that received the datagram. */
typedef void (*fragnet_recv_fn)(struct fragnet_queue *q,
				const struct fragnet_dgram *d, void *arg);

/*
 * Deliver datagrams for UDP port `port` (network order) on every queue to cb.
 * Bind before fragnet_run()/fragnet_poll(), or from a callback of any queue.
 *  EINVAL  port 0 or cb NULL
 *  EADDRINUSE port already bound
 *  ENOSPC  too many bound ports (FRAGNET_MAX_PORTS)
 */
int fragnet_udp_bind(struct fragnet *fn, uint16_t port, fragnet_recv_fn cb, void *arg);
#define FRAGNET_MAX_PORTS 64

/* EINVAL: port 0; ENOENT: not bound. */
int fragnet_udp_unbind(struct fragnet *fn, uint16_t port);

/*
 * Bind an ephemeral source port for a flow this queue starts to dst:dport,
 * chosen so that the device's RSS brings replies back to this queue when the
 * device's hash is known (otherwise any free port). Returns the port (network
 * order, > 0) or:
 *  EADDRNOTAVAIL no suitable port is free
 *  ENOSPC  too many bound ports (FRAGNET_MAX_PORTS)
 *  EINVAL  cb NULL
 */
int fragnet_udp_bind_ephemeral(struct fragnet_queue *q, uint32_t dst_addr,
			       uint16_t dst_port, fragnet_recv_fn cb, void *arg);

/*
 * Send a datagram from src_port to dst_addr:dst_port, copying data. Datagrams
 * larger than the MTU are fragmented. Queued: leaves at the end of the
 * current poll iteration or at fragnet_flush(). Returns 0 or:
 *  EMSGSIZE len > FRAGNET_MAX_DGRAM
 *  ENOBUFS no mbufs
 *  EHOSTUNREACH no route (off-link without a gateway)
 *  EPERM   the output filter dropped it
 * A datagram waiting for ARP resolution counts as sent; if resolution fails
 * it is dropped and counted (FRAGNET_DROP_ARP_UNRESOLVED).
 */
int fragnet_udp_send(struct fragnet_queue *q, uint16_t src_port, uint32_t dst_addr,
		     uint16_t dst_port, const void *data, size_t len);
#define FRAGNET_MAX_DGRAM 65507

/*
 * Zero-copy send: allocate a buffer from the queue's pool, write up to
 * fragnet_buf_room() bytes at *data, then hand it to fragnet_udp_send_buf(),
 * which always consumes it (also on error). Unsent buffers go back with
 * fragnet_buf_free(). NULL + errno ENOBUFS when the pool is empty, EMSGSIZE
 * when len exceeds the room of one buffer.
 */
struct fragnet_buf *fragnet_buf_alloc(struct fragnet_queue *q, size_t len, void **data);
size_t fragnet_buf_room(const struct fragnet_queue *q);
void fragnet_buf_free(struct fragnet_buf *b);
int fragnet_udp_send_buf(struct fragnet_queue *q, struct fragnet_buf *b, uint16_t src_port,
			 uint32_t dst_addr, uint16_t dst_port);

/*
 * Run every queue on its own lcore until fragnet_stop() or, unless
 * FRAGNET_F_NO_SIGNALS, SIGINT/SIGTERM. The calling thread polls queue 0.
 * Returns 0, or EALREADY when already running, ENOTSUP when lcores are missing.
 */
int fragnet_run(struct fragnet *fn);
/* Ask fragnet_run() to return; safe from any thread and from signal handlers. */
void fragnet_stop(struct fragnet *fn);

/*
 * One non-blocking iteration on queue q, for applications with their own
 * event loop: receive a burst, run callbacks, service timers (ARP, reassembly)
 * and flush transmit. Returns the number of packets received (>= 0).
 */
int fragnet_poll(struct fragnet_queue *q);
/* Transmit what is queued on q now. Returns packets handed to the device. */
int fragnet_flush(struct fragnet_queue *q);

/* Why a packet was dropped; each reason has its own counter. */
enum fragnet_drop {
	FRAGNET_DROP_ETH_DST,        /* not our MAC, not broadcast */
	FRAGNET_DROP_ETH_TYPE,       /* ethertype we do not speak */
	FRAGNET_DROP_ETH_SHORT,
	FRAGNET_DROP_ARP_MALFORMED,
	FRAGNET_DROP_ARP_NOT_OURS,   /* well formed, for another address */
	FRAGNET_DROP_ARP_UNRESOLVED, /* waited for a neighbour that never answered */
	FRAGNET_DROP_IP_MALFORMED,   /* version, header length, total length */
	FRAGNET_DROP_IP_CSUM,
	FRAGNET_DROP_IP_NOT_OURS,
	FRAGNET_DROP_IP_PROTO,       /* not UDP/ICMP */
	FRAGNET_DROP_FRAG_MALFORMED, /* bad offset/length, or overlapping another */
	FRAGNET_DROP_FRAG_DUPLICATE,
	FRAGNET_DROP_FRAG_TIMEOUT,
	FRAGNET_DROP_FRAG_NOMEM,
	FRAGNET_DROP_FRAG_DISABLED,  /* fragment, but built without reassembly */
	FRAGNET_DROP_UDP_MALFORMED,
	FRAGNET_DROP_UDP_CSUM,
	FRAGNET_DROP_UDP_NO_PORT,
	FRAGNET_DROP_ICMP_MALFORMED,
	FRAGNET_DROP_ICMP_UNHANDLED, /* type we do not answer */
	FRAGNET_DROP_FILTER,         /* a rule dropped it */
	FRAGNET_DROP_NO_MBUF,
	FRAGNET_DROP_TX_FULL,        /* device did not take it */
	FRAGNET_DROP_HANDOFF,        /* ring to the owning queue was full */
	FRAGNET_DROP_NO_ROUTE,
	FRAGNET_DROP_MAX
};

/* Printable name of a drop reason ("ip_csum"), or NULL. */
const char *fragnet_drop_name(unsigned reason);

struct fragnet_queue_stats {
	size_t sz;               /* set to sizeof(struct fragnet_queue_stats) */
	uint64_t rx_packets, rx_bytes;
	uint64_t tx_packets, tx_bytes;
	uint64_t rx_datagrams, tx_datagrams; /* UDP, after reassembly / before fragmentation */
	uint64_t drops[FRAGNET_DROP_MAX];
	uint64_t filter_generation;   /* rules generation this queue applies */
	uint32_t unfiltered;          /* 1 when running without rules */
};

/*
 * Counters of queue qid, read from any thread (values are per-lcore and
 * updated without atomics: a read may be one burst behind).
 *  ERANGE qid out of range; EINVAL st NULL or st->sz too small
 */
int fragnet_queue_stats(const struct fragnet *fn, unsigned qid, struct fragnet_queue_stats *st);

/* Our MAC address (6 bytes). */
void fragnet_mac(const struct fragnet *fn, uint8_t mac[6]);

#ifdef __cplusplus
}
#endif
#endif /* FRAGNET_H */
