/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libfragnet: a per-core UDP/IPv4 dataplane on DPDK.
 *
 * One polling lcore per receive queue; each queue owns a private stack and a
 * private copy of the filter state, so a packet never leaves the core it
 * arrived on. This is the header applications include (it brings in the
 * generated fragnet_version.h, installed beside it).
 *
 * Conventions:
 *  - Functions return 0 (or a count) on success and a negative errno value on
 *    failure; constructors return NULL and set errno.
 *  - Addresses and ports are in network byte order everywhere.
 *  - A struct fragnet_queue is single-threaded: only the lcore that runs it
 *    (fragnet_run) or the one thread that calls fragnet_poll() on it may use
 *    it, including the send functions.
 *
 * Binary compatibility (libfragnet.so.0):
 *  - A program built against an older header keeps working with a newer
 *    library. Every symbol carries the version node of the release that
 *    introduced it (FRAGNET_0.1, FRAGNET_0.2, ...); a function whose
 *    contract changes gets a new node and its old implementation stays
 *    under the old one for programs linked before.
 *  - A struct the caller allocates starts with size_t sz, set to its sizeof.
 *    Fields are only ever added at the end. The library reads (or fills)
 *    only the first sz bytes, so the sz of any released header is accepted;
 *    fields beyond what the library knows are zeroed on output and must be
 *    zero on input (E2BIG otherwise).
 *  - No array in the API has a length fixed by this header: where a number
 *    of things can grow (drop reasons), the caller asks the library how many
 *    there are and says how many it has room for.
 *  - Enum values, flag bits and the layout of the other structs below are
 *    fixed once released; each constant says whether it is ABI.
 */
#ifndef FRAGNET_H
#define FRAGNET_H

#include <stddef.h>
#include <stdint.h>

#include "fragnet_version.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * FRAGNET_VERSION_MAJOR, _MINOR and _PATCH (fragnet_version.h) are those of
 * the header the program was built with; FRAGNET_VERSION packs them as
 * fragnet_version() does for the library it runs with.
 */
#define FRAGNET_VERSION_NUM(major, minor, patch) (((major) << 16) | ((minor) << 8) | (patch))
#define FRAGNET_VERSION FRAGNET_VERSION_NUM(FRAGNET_VERSION_MAJOR, FRAGNET_VERSION_MINOR, \
					    FRAGNET_VERSION_PATCH)

/*
 * The version of the library running, as FRAGNET_VERSION_NUM(). A program
 * that needs a newer library than the one it finds can tell from this, e.g.
 * to know whether a field of fragnet_queue_stats is filled or just zero.
 */
unsigned fragnet_version(void);

struct fragnet;
struct fragnet_queue;
struct fragnet_buf;

/* What a queue does when it finds nothing to do. Values are ABI. */
enum fragnet_idle {
	FRAGNET_IDLE_ADAPTIVE = 0, /* spin, then sleep up to 1 ms when idle */
	FRAGNET_IDLE_BUSY = 1,     /* never sleep: lowest latency, one core per queue */
	FRAGNET_IDLE_SLEEP = 2,    /* no spin: sleep from the first empty poll (least
				    * CPU, for cores shared with other work) */
};

/* fragnet_config.flags. Bits are ABI; unknown bits are refused (EINVAL). */
#define FRAGNET_F_UNFILTERED 0x1u  /* run without rules when no daemon answers */
#define FRAGNET_F_NO_SIGNALS 0x2u  /* fragnet_run() installs no SIGINT/SIGTERM handler */
#define FRAGNET_F_BROADCAST 0x4u   /* fragnet_udp_send() may send to broadcast addresses */

/*
 * A static neighbour (used by builds without ARP, and to pin entries).
 * Passed as an array, so its layout is fixed (ABI): more per-neighbour data
 * would come as a new struct and a new fragnet_config field.
 */
struct fragnet_neighbour {
	uint32_t addr;   /* IPv4, network order */
	uint8_t mac[6];
};

/*
 * Configuration. Zero-initialise, set sz = sizeof(struct fragnet_config),
 * then fill in what you need: every field added later is optional, and a
 * caller built against an older header passes a smaller sz. Fields are only
 * added at the end.
 */
struct fragnet_config {
	size_t sz;
	/* Application name: selects its rules (table "inet NAME", else "inet fragnet"). */
	const char *app_name;
	/*
	 * Ports, NULL-terminated: a PCI address ("0000:03:00.0"), a DPDK vdev
	 * string ("net_af_xdp0,iface=veth0,start_queue=0,queue_count=1"), or
	 * "xsk:IFACE:QUEUE", an AF_XDP socket of the library's own bound to
	 * kernel queue QUEUE of interface IFACE ("xsk:eth1:0"): copy mode, no
	 * XDP program loaded (the interface's program, fragnetd's, steers our
	 * traffic to it), MAC and MTU of the kernel interface; it needs
	 * CAP_NET_RAW and 2 MiB of RLIMIT_MEMLOCK per queue, not root
	 * (docs/hardware.md, "xsk ports: applications without root").
	 * One multi-queue port gives n_queues queues; several single-queue ports
	 * are grouped as the queues of one logical interface (queue i = port i).
	 * xsk ports are one per queue, all on one interface, never mixed with
	 * DPDK ports.
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
	/*
	 * New fields go here, starting at or beyond the current sizeof (not in
	 * the tail padding after n_neighbours), so that an older library sees
	 * the larger sz and refuses options it does not have.
	 */
};

/* Where fragnetd listens unless daemon_socket says otherwise. A NULL
 * daemon_socket means the library's own default, whatever this says. */
#define FRAGNET_DEFAULT_SOCKET "/run/fragnet/fragnetd.sock"

/*
 * Start the runtime: initialise DPDK on first use, open and configure the
 * ports, create one stack per queue, connect to fragnetd and take its rules.
 * Returns NULL and sets errno:
 *  EINVAL  bad or inconsistent configuration (the log says which field),
 *          or cfg->sz smaller than the fields every release had (up to
 *          flags), or an xsk port names a queue the interface does not have
 *  E2BIG   cfg->sz is larger than this library's struct and fields it does
 *          not know are set: the program needs a newer library
 *  ENODEV  a port could not be probed or configured (no such interface)
 *  ENOMEM  no memory for mbufs or per-queue state
 *  ENOTCONN no daemon answered and FRAGNET_F_UNFILTERED was not given
 *  EACCES  the daemon refused this process, or whoever listens at the
 *          daemon's socket is neither root nor this process's euid
 *  EBADMSG the rules image failed verification
 *  EBUSY   another struct fragnet is open in this process, or an xsk
 *          port's queue has an AF_XDP socket already
 *  EPERM   an xsk port's socket was refused: no CAP_NET_RAW
 *  ENOBUFS an xsk port's UMEM does not fit in RLIMIT_MEMLOCK
 */
struct fragnet *fragnet_open(const struct fragnet_config *cfg);

/* Stop (if running), close the ports and restore the kernel interface state. */
void fragnet_close(struct fragnet *fn);

unsigned fragnet_queue_count(const struct fragnet *fn);

/* Queue qid, or NULL (errno ERANGE) when qid >= fragnet_queue_count(). */
struct fragnet_queue *fragnet_queue(struct fragnet *fn, unsigned qid);
unsigned fragnet_queue_id(const struct fragnet_queue *q);

/*
 * A received datagram. data is contiguous and valid only during the callback.
 * Only the library makes these, so fields may be added at the end.
 */
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
/* Not ABI: the limit of the library this header came with. Later libraries
 * may allow more, never fewer; nothing in the API is sized by it. */
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
 *  EACCES  dst_addr is a broadcast address (255.255.255.255 or our subnet's)
 *          and the configuration did not set FRAGNET_F_BROADCAST
 * A datagram waiting for ARP resolution counts as sent; if resolution fails
 * it is dropped and counted (FRAGNET_DROP_ARP_UNRESOLVED).
 * From a receive callback, a send of exactly the datagram's payload (d->data,
 * d->len: an echo, a relay) goes out in the frame it came in, without a copy;
 * d->data stays readable until the callback returns either way.
 */
int fragnet_udp_send(struct fragnet_queue *q, uint16_t src_port, uint32_t dst_addr,
		     uint16_t dst_port, const void *data, size_t len);
/* ABI: fixed by IPv4 (65535 - 20 byte IP header - 8 byte UDP header). */
#define FRAGNET_MAX_DGRAM 65507

/*
 * Zero-copy send: allocate a buffer from the queue's pool, write up to
 * fragnet_buf_room() bytes at *data, then hand it to fragnet_udp_send_buf(),
 * which always consumes it (also on error) and fails as fragnet_udp_send(). Unsent buffers go back with
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

/*
 * Why a packet was dropped; each reason has its own counter. Values are ABI
 * and new reasons are appended, so a library may count more reasons than the
 * header a program was built with knows: fragnet_drop_count() says how many.
 */
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
	FRAGNET_DROP_IP_SRC,         /* a source no host sends from: broadcast,
				      * multicast, loopback, 0.0.0.0/8, ours */
	FRAGNET_DROP_NEIGH_REFUSED,  /* a neighbour not recorded: off-link sender,
				      * no room, or a reply nobody asked for */
	FRAGNET_DROP_NEIGH_EVICTED,  /* a neighbour forgotten to make room */
	FRAGNET_DROP_FRAG_QUOTA,     /* a source over its share of reassembly */
	/* New reasons go here (and FN_DROP_COUNT in lib/runtime/stats.h follows). */
};

/* How many drop reasons this library counts: reasons 0 .. count-1. */
unsigned fragnet_drop_count(void);

/* Printable name of a drop reason ("ip_csum"), or NULL when
 * reason >= fragnet_drop_count(). Names are stable. */
const char *fragnet_drop_name(unsigned reason);

/*
 * Counters of a queue. Zero-initialise and set sz = sizeof(struct
 * fragnet_queue_stats). Drop counters, whose number grows, are read with
 * fragnet_queue_drops().
 */
struct fragnet_queue_stats {
	size_t sz;
	uint64_t rx_packets, rx_bytes;
	uint64_t tx_packets, tx_bytes;
	uint64_t rx_datagrams, tx_datagrams; /* UDP, after reassembly / before fragmentation */
	uint64_t filter_generation;   /* rules generation this queue applies */
	uint32_t unfiltered;          /* 1 when running without rules */
	uint64_t link_down;           /* times the queue's port lost its link and
				       * was set aside until it came back (a
				       * memif port whose peer left) */
	uint64_t busy_ns;             /* time in polls that received packets,
				       * each from its start to the next poll's;
				       * against wall time, the share of its
				       * lcore the queue's traffic takes (spin
				       * and sleep not counted) */
	/* New fields go here. */
};

/*
 * Counters of queue qid, read from any thread (values are per-lcore and
 * updated without atomics: a read may be one burst behind). Fills the first
 * st->sz bytes after sz itself: a program built against an older header gets
 * the fields it knows, one built against a newer header gets zero in the
 * fields this library does not have. st->sz is left as it was.
 *  ERANGE qid out of range
 *  EINVAL st NULL, or st->sz too small to hold even rx_packets
 */
int fragnet_queue_stats(const struct fragnet *fn, unsigned qid, struct fragnet_queue_stats *st);

/*
 * Drop counters of queue qid: out[r] is the count of reason r, for r < n.
 * Returns fragnet_drop_count(), which may exceed n (the reasons beyond n are
 * not copied; call again with room for all) or fall short of it (out[r] for
 * reasons this library does not have are zeroed). out may be NULL when n is
 * 0, to ask for the count alone.
 *  ERANGE qid out of range
 *  EINVAL out NULL and n > 0
 */
int fragnet_queue_drops(const struct fragnet *fn, unsigned qid, uint64_t *out, unsigned n);

/* Our MAC address (6 bytes). */
void fragnet_mac(const struct fragnet *fn, uint8_t mac[6]);

#ifdef __cplusplus
}
#endif
#endif /* FRAGNET_H */
