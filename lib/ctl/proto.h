/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The fragnetd control protocol, private to this tree: spoken by the library
 * (lib/ctl/client.c), the daemon (daemon/) and fragnetctl (tools/).
 *
 * Transport: an AF_UNIX SOCK_SEQPACKET socket, so each message arrives whole
 * or not at all and a rules image travels beside it as an SCM_RIGHTS fd.
 * Every message is a struct fn_ctl_hdr followed by the payload of its type;
 * nothing is larger than FN_CTL_MAX_MSG. Bulk text (rules files, command
 * output) is announced with its total length and follows in FN_CTL_DATA
 * chunks, so no single message has to hold it.
 *
 * Conversations:
 *
 *   application                          fragnetd
 *   HELLO(name, queues)           ->
 *                                 <-     IMAGE(generation) + sealed memfd
 *                                        (or ERROR, and the socket closes)
 *   APPLIED(generation, status)   ->
 *                                 <-     IMAGE ...           on every commit
 *                                 <-     STATS_REQ(seq)
 *   STATS_QUEUE x queues, STATS_COUNTERS x chunks, STATS_END (all with seq) ->
 *   (the counters of the generation applied, and the final counters of the
 *   last generations it replaced on this connection)
 *
 *   fragnetctl capture/trace             fragnetd                 application
 *   CAPTURE_REQ(name, queue, sizes, mode) ->
 *                                        CAPTURE + rings memfd  ->
 *                                 <-     CAPTURE + the same memfd (or REPLY: why not)
 *   (reads the rings until done, then closes; or fragnetd closes when the
 *   application leaves)
 *                                        CAPTURE_STOP           ->  (on that close)
 *
 *   fragnetctl                           fragnetd
 *   REQUEST(command, text_len)    ->
 *   DATA x chunks (text_len bytes, load and check only) ->
 *                                 <-     REPLY(status, message, out_len)
 *                                 <-     DATA x chunks (out_len bytes)
 *
 * Integers are in host byte order: both ends run on one host. Every string
 * field is NUL-terminated inside its array; fn_ctl_check() enforces that and
 * every length below before anyone reads a payload.
 */
#ifndef FN_CTL_PROTO_H
#define FN_CTL_PROTO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define FN_CTL_MAGIC 0x54434e46u   /* "FNCT" read as a little-endian u32 */
#define FN_CTL_VERSION 8           /* 4: capture, link_down in queue stats;
				    * 6: a capture's mode (trace);
				    * 7: ct_count_full in the stats end;
				    * 8: busy_ns in queue stats */
#define FN_CTL_MAX_MSG 65536u
#define FN_CTL_NAME_MAX 64         /* application names, NUL included */
#define FN_CTL_MSG_MAX 1024        /* error and status messages */
#define FN_CTL_TEXT_MAX (16u << 20) /* a rules file or a command's output */
#define FN_CTL_DROP_NAME_MAX 24
#define FN_CTL_MAX_DROPS 32        /* drop reasons reported per queue */
#define FN_CTL_MAX_QUEUES 128
#define FN_CTL_FILTER_MAX 1024     /* a capture filter's text, NUL included */

struct fn_ctl_hdr {
	uint32_t magic;
	uint16_t version;
	uint16_t type;             /* enum fn_ctl_type */
	uint32_t len;              /* the whole message, this header included */
	uint32_t seq;              /* replies carry the seq of their request */
};

enum fn_ctl_type {
	FN_CTL_HELLO = 1,          /* app -> daemon: register */
	FN_CTL_IMAGE,              /* daemon -> app: a generation, memfd attached */
	FN_CTL_APPLIED,            /* app -> daemon: what installing it gave */
	FN_CTL_STATS_REQ,          /* daemon -> app: report your counters */
	FN_CTL_STATS_QUEUE,        /* app -> daemon: one queue */
	FN_CTL_STATS_COUNTERS,     /* app -> daemon: a chunk of rule counters */
	FN_CTL_STATS_END,          /* app -> daemon: end of one stats reply */
	FN_CTL_ERROR,              /* daemon -> peer: refused, then closed */
	FN_CTL_REQUEST,            /* fragnetctl -> daemon: a command */
	FN_CTL_DATA,               /* text chunk, either direction */
	FN_CTL_REPLY,              /* daemon -> fragnetctl: result of a command */
	FN_CTL_XSK,                /* app -> daemon: an unbound AF_XDP socket, fd attached */
	FN_CTL_XSK_BOUND,          /* daemon -> app: bound to its queue and steered, or why not */
	FN_CTL_KERNEL_GEN,         /* daemon -> app: the kernel part judges with this generation */
	FN_CTL_CAPTURE_REQ,        /* fragnetctl -> daemon: capture an application */
	FN_CTL_CAPTURE,            /* daemon -> app and fragnetctl: the rings, memfd attached */
	FN_CTL_CAPTURE_STOP,       /* daemon -> app: stop writing to them */
	FN_CTL_TYPE_END
};

struct fn_ctl_hello {
	uint32_t n_queues;
	uint32_t pad;
	char name[FN_CTL_NAME_MAX];
};

struct fn_ctl_image {
	uint64_t generation;       /* the daemon's generation number */
	uint64_t len;              /* image bytes in the memfd */
};

struct fn_ctl_applied {
	uint64_t generation;       /* as in FN_CTL_IMAGE */
	int32_t status;            /* 0 or -errno from installing it */
	uint32_t pad;
	char msg[FN_CTL_MSG_MAX];  /* why, when status < 0 */
};

struct fn_ctl_drop {
	char name[FN_CTL_DROP_NAME_MAX];
	uint64_t count;
};

struct fn_ctl_queue_stats {
	uint32_t qid;
	uint32_t n_drops;          /* entries of drops[] used: nonzero reasons */
	uint64_t rx_packets, rx_bytes, tx_packets, tx_bytes;
	uint64_t rx_datagrams, tx_datagrams;
	uint64_t drops_total;      /* every reason, also those not listed */
	uint64_t filter_generation; /* the library's own install counter */
	uint64_t link_down;        /* times the queue's port lost its link */
	uint64_t busy_ns;          /* fragnet_queue_stats' busy_ns */
	struct fn_ctl_drop drops[FN_CTL_MAX_DROPS];
};

/*
 * FN_CTL_STATS_COUNTERS: a struct fn_ctl_counters_head, then n records, each
 * a struct fn_ctl_counter followed by chain_len bytes of chain name and
 * object_len bytes of object name (no NULs), padded with zeros to 8 bytes.
 * A rule counter has a chain and a handle; a named counter object has an
 * object name, no chain and handle 0. A record with FN_CTL_COUNTER_F_FINAL
 * is a replaced generation's count once no lcore could add to it; without,
 * the live count of the generation applied.
 */
struct fn_ctl_counters_head {
	uint32_t n;
	uint32_t pad;
};

struct fn_ctl_counter {
	uint64_t generation;       /* the daemon's generation they belong to */
	uint64_t handle;
	uint64_t packets, bytes;
	uint16_t chain_len, object_len;
	uint32_t flags;            /* FN_CTL_COUNTER_F_* */
};

#define FN_CTL_COUNTER_F_FINAL 0x1u

#define FN_CTL_NFT_NAME_MAX 256    /* NFT_NAME_MAXLEN, NUL included */

struct fn_ctl_stats_end {
	uint64_t generation;       /* daemon generation applied (0: none) */
	uint32_t n_queues;
	uint32_t unfiltered;       /* 1: running without rules */
	uint32_t n_counters;       /* records sent in STATS_COUNTERS */
	uint32_t final_gens;       /* replaced generations with final records */
	uint64_t log_lines, log_suppressed;
	uint32_t pending_gens;     /* replaced, not released yet: no records */
	uint32_t pad;
	uint64_t dropped_gens;     /* installed on this connection, finals not kept */
	uint64_t set_full;         /* new elements full dynamic sets refused */
	uint64_t ct_count_full;    /* packets dropped on an empty ct count pool */
};

struct fn_ctl_error {
	int32_t status;            /* -errno */
	uint32_t pad;
	char msg[FN_CTL_MSG_MAX];
};

enum fn_ctl_command {
	FN_CTL_CMD_LOAD = 1,       /* replace the ruleset with the text */
	FN_CTL_CMD_CHECK,          /* validate the text only */
	FN_CTL_CMD_LIST_RULESET,   /* nft text with the applications' counters */
	FN_CTL_CMD_APPS,           /* registered applications */
	FN_CTL_CMD_STATS,          /* per-queue counters of every application */
	FN_CTL_CMD_LIST_COUNTERS,  /* counters per generation, and their totals */
	FN_CTL_CMD_END
};

#define FN_CTL_F_JSON 0x1u
#define FN_CTL_F_PROMETHEUS 0x2u   /* a query's numbers as Prometheus metrics */

struct fn_ctl_request {
	uint32_t command;          /* enum fn_ctl_command */
	uint32_t flags;            /* FN_CTL_F_* */
	uint32_t text_len;         /* bytes of DATA that follow (load, check) */
	uint32_t pad;
	char source[FN_CTL_NFT_NAME_MAX]; /* file name, for error messages */
};

struct fn_ctl_reply {
	int32_t status;            /* 0 or -errno */
	uint32_t out_len;          /* bytes of DATA that follow */
	char msg[FN_CTL_MSG_MAX];  /* one line: what happened, or why not */
};

/*
 * Kernel enforcement (fragnetd's XDP program). An application with AF_XDP
 * ports sends each queue's socket with its UMEM and rings set up but not
 * bound; the daemon binds it to the queue its configuration grants, inserts
 * it into the interface's XSKMAP and answers. From then on the kernel judges
 * the queue's packets first, and tags each with the generation it used;
 * KERNEL_GEN says when that changes, so the application knows which older
 * generations packets may still carry.
 */
struct fn_ctl_xsk {
	uint32_t queue;            /* the application's queue index */
	uint32_t kernel_queue;     /* the interface's receive queue */
	char ifname[16];           /* IF_NAMESIZE */
};

struct fn_ctl_xsk_bound {
	uint32_t queue;
	int32_t status;            /* 0 or -errno */
	uint32_t bind_flags;       /* XDP_COPY, XDP_ZEROCOPY, XDP_USE_NEED_WAKEUP */
	uint32_t pad;
	char msg[FN_CTL_MSG_MAX];  /* why, when status < 0 */
};

struct fn_ctl_kernel_gen {
	uint64_t generation;       /* the daemon's number the kernel uses now */
	uint64_t previous;         /* the one it used before (0: none) */
};

/*
 * Capture (ctl/capture_ring.h). fragnetctl asks; fragnetd checks it is an
 * administrator, creates the rings' memfd and hands it to the application
 * (the only one registered under that name) and to fragnetctl. When
 * fragnetctl's connection closes, for whatever reason, the application is
 * told to stop: a capture never outlives the one reading it. A filter is
 * compiled by fragnetd (the chain `type filter hook input; policy drop;
 * FILTER accept` of a table of its own, in a scratch namespace) and its
 * image follows the rings in the memfd; the application verifies it like
 * any image and keeps a packet when the image accepts it.
 */
struct fn_ctl_capture_req {
	char name[FN_CTL_NAME_MAX];
	uint32_t queue;            /* one queue, or FN_CTL_CAPTURE_ALL */
	uint32_t snaplen;          /* bytes kept of each packet */
	uint32_t ring_bytes;       /* all rings together */
	uint32_t mode;             /* enum fn_cap_mode: packets, or traces of the
				    * packets the filter matches */
	char filter[FN_CTL_FILTER_MAX]; /* nft match expressions, "" for all */
};

#define FN_CTL_CAPTURE_ALL UINT32_MAX
#define FN_CTL_FILTER_IMAGE_MAX (1u << 20)

struct fn_ctl_capture {
	uint64_t id;               /* fragnetd's number for it */
	uint32_t queue;            /* as asked */
	uint32_t n_queues;         /* rings: one per application queue */
	uint32_t n_slots;          /* per ring */
	uint32_t snaplen;
	uint32_t pid;              /* the application's */
	uint32_t filter_len;       /* bytes of filter image after the rings, 0: none */
	uint32_t mode;             /* enum fn_cap_mode, as asked: the rings' layout */
	char name[FN_CTL_NAME_MAX];
};

struct fn_ctl_capture_stop {
	uint64_t id;
};

/* Payload bytes of a DATA chunk at most. */
#define FN_CTL_DATA_MAX (FN_CTL_MAX_MSG - sizeof(struct fn_ctl_hdr))

/*
 * Check a received message of len bytes: header, type, exact payload size
 * of fixed-size types, strings terminated, counter records well formed.
 * Returns the type (> 0) or -EBADMSG. Afterwards fn_ctl_payload() may be
 * cast to the type's struct.
 */
int fn_ctl_check(const void *msg, size_t len);

static inline const void *fn_ctl_payload(const void *msg)
{
	return (const char *)msg + sizeof(struct fn_ctl_hdr);
}

static inline size_t fn_ctl_payload_len(const void *msg)
{
	return ((const struct fn_ctl_hdr *)msg)->len - sizeof(struct fn_ctl_hdr);
}

/* One record of a checked FN_CTL_STATS_COUNTERS message. Names are not
 * NUL-terminated: use the lengths. */
struct fn_ctl_counter_view {
	const struct fn_ctl_counter *c;
	const char *chain, *object;
};

/* Walk the records: *pos starts at 0. Returns 1 with *v filled, 0 at the end. */
int fn_ctl_counters_next(const void *msg, size_t *pos, struct fn_ctl_counter_view *v);

/* Bytes a counter record with these names takes. */
size_t fn_ctl_counter_size(size_t chain_len, size_t object_len);
/* Append a record at buf + *pos (the caller checked it fits). */
void fn_ctl_counter_put(void *buf, size_t *pos, const struct fn_ctl_counter *c,
			const char *chain, const char *object);

/*
 * Build a message in buf (at least sizeof(hdr) + len): header, then len
 * bytes of payload. Returns the message length.
 */
size_t fn_ctl_build(void *buf, uint16_t type, uint32_t seq, const void *payload, size_t len);

/* Send one message, with fd attached when fd >= 0. 0 or -errno (-EAGAIN on a
 * full non-blocking socket). */
int fn_ctl_send(int sock, const void *msg, size_t len, int fd);
/* Build and send. */
int fn_ctl_send_msg(int sock, uint16_t type, uint32_t seq, const void *payload,
		    size_t len, int fd);

/*
 * Receive one message into buf (FN_CTL_MAX_MSG bytes). Returns its length,
 * 0 when the peer closed, or -errno: -EAGAIN, -EMSGSIZE for a message or
 * control data that did not fit. An attached fd goes to *fd when fd is not
 * NULL (else -1); unwanted or surplus fds are closed here.
 */
ssize_t fn_ctl_recv(int sock, void *buf, int *fd);

/* Text form of a message type ("hello"), for logs. */
const char *fn_ctl_type_name(unsigned type);

/*
 * Whether the server on the connected socket sock is fragnetd and not a
 * local user who got to the socket path first: its SO_PEERCRED uid is root,
 * ours, or the account fragnetd runs as (the user named by $FRAGNETD_USER,
 * default "fragnetd", when it exists: the package's unit runs it so; only
 * root creates such an account, and an attacker cannot set our
 * environment). 0 when trusted, -EACCES (the server's uid in *uid) when
 * not, -errno when the socket cannot tell.
 */
int fn_ctl_trusted_server(int sock, uid_t *uid);

#endif /* FN_CTL_PROTO_H */
