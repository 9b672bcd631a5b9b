/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * One client of the Redis fork over UDP, on a plain kernel socket: what the
 * client library (redis_udp.c) and redis-cli --udp (cli_udp.c) share.
 *
 * The fork's wire rules (redis/README.md): one flow (our address and port)
 * is one Redis client; the RESP stream of a flow is the concatenation of its
 * datagrams, both ways; replies longer than the server's udp-max-datagram
 * span several datagrams. Nothing numbers the datagrams, so this side keeps
 * the stream safe by construction:
 *
 *  - A request datagram holds whole commands (one command may exceed the
 *    datagram size and is then one IP-fragmented datagram): a lost datagram
 *    never leaves half a command on the server.
 *  - One datagram is in flight at a time: the next leaves when every reply to
 *    the previous one has arrived, so the network cannot reorder commands.
 *  - When a reply does not come within the timeout the flow is abandoned:
 *    its socket is closed (late replies die in the kernel) and the next
 *    datagram goes out on a new socket, a new flow, once that flow is
 *    validated (the UDPCOOKIE handshake, when the server has it) and has
 *    been given the session again (AUTH, HELLO, SELECT, CLIENT SETNAME).
 *    Unanswered commands that only read are sent again on the new flow; a
 *    write is never sent twice: the caller learns that it may or may not
 *    have been applied (UDP_FLOW_ERR_UNKNOWN).
 */
#ifndef UDP_FLOW_H
#define UDP_FLOW_H

#include <stddef.h>
#include <sys/socket.h>

#include "resp_scan.h"

/* Errors (udp_flow.err). The library's REDIS_UDP_ERR_* have the same values. */
enum {
	UDP_FLOW_ERR_IO = 1,        /* socket error (errno in the message) */
	UDP_FLOW_ERR_UNKNOWN = 2,   /* a write got no reply: applied or not, unknown */
	UDP_FLOW_ERR_TIMEOUT = 3,   /* reads unanswered after every retry, or a new
				     * flow's session unanswered (nothing sent) */
	UDP_FLOW_ERR_PROTOCOL = 4,  /* the server's bytes are not RESP, or a request is not */
	UDP_FLOW_ERR_TOO_BIG = 5,   /* one command larger than a UDP datagram */
	UDP_FLOW_ERR_OOM = 6,
	UDP_FLOW_ERR_SESSION = 7,   /* a new flow refused the session (AUTH, SELECT...) */
	UDP_FLOW_ERR_ABORTED = 8,   /* the transaction was lost with its flow: nothing
				     * of it ran; refused until EXEC or DISCARD */
};

/* Largest UDP payload over IPv4. */
#define UDP_FLOW_MAX_PAYLOAD 65507
/* Most bytes of replies held at once (those to one request datagram): what
 * a hostile server, or anyone who can send to the flow, can make a client
 * hold. A reply stream past it ends the flow with a protocol error. */
#define UDP_FLOW_MAX_REPLY (64u << 20)

struct udp_flow_opts {
	int timeout_ms;         /* silence before a flow is given up (default 1000) */
	int retries;            /* new flows tried for unanswered reads (default 3) */
	size_t max_datagram;    /* request datagram size when several commands are
				 * packed (default 1472: an Ethernet MTU) */
};

struct udp_flow {
	int fd;                         /* -1: no flow yet, or abandoned */
	struct sockaddr_storage peer;
	socklen_t peer_len;
	struct udp_flow_opts o;

	/* The datagram in flight: whole commands, cmd_end[i] where command i
	 * ends, kind[i] what it is; answered: replies counted so far. */
	char *req;
	size_t req_len, req_cap;
	size_t *cmd_end;
	unsigned char *kind;
	size_t ncmds, cmds_cap, answered;
	int tries;                      /* new flows opened for this datagram */
	int in_multi;                   /* MULTI sent, EXEC/DISCARD not yet */
	int multi_lost;                 /* ... and then the flow was abandoned */

	/* Received bytes: rx[0..ready) complete replies for the caller,
	 * rx[ready..rx_len) the reply still arriving. */
	char *rx;
	size_t rx_len, rx_cap, ready;
	struct resp_scan scan;

	/* The session requests a new flow is given, by kind. */
	char *session[RESP_SESSION_KINDS];
	size_t session_len[RESP_SESSION_KINDS];

	/* Counters, for tests and tools: flows opened, and new flows tried to
	 * send unanswered reads again. */
	unsigned long long flows, retransmits;
	int err;
	char errstr[128];               /* the size of hiredis's */
};

/* Resolve host:port (no traffic yet). 0, or -1 with f->err set. */
int udp_flow_init(struct udp_flow *f, const char *host, int port,
		  const struct udp_flow_opts *opts);
void udp_flow_free(struct udp_flow *f);

/* Bytes of whole commands at buf that make the next datagram: as many as fit
 * o.max_datagram, at least one command. 0 when buf holds no complete
 * command; -1 (err set) when it is not RESP or a command is too big. */
long long udp_flow_pack(struct udp_flow *f, const char *buf, size_t len);

/* Commands sent and not answered yet. */
size_t udp_flow_unanswered(const struct udp_flow *f);

/* Send buf[0..len) (whole commands, from udp_flow_pack) as one datagram.
 * Nothing may be unanswered. 0, or -1 with f->err set. */
int udp_flow_send(struct udp_flow *f, const char *buf, size_t len);

/* Wait until a new complete reply is ready (f->ready grows). With nothing
 * unanswered it waits for unsolicited replies (pub/sub) without a timeout.
 * 0, or -1 with f->err set: the flow is then abandoned, unanswered
 * commands forgotten, and the next send starts a new flow. */
int udp_flow_wait(struct udp_flow *f);

/* Hand n <= f->ready bytes of complete replies to the caller. */
void udp_flow_consume(struct udp_flow *f, size_t n);

/* Forget the flow (its socket); the next send opens a new one. */
void udp_flow_abandon(struct udp_flow *f);

#endif
