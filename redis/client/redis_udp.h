/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A small client of the Redis fork over UDP (RESP over UDP), on plain
 * kernel sockets, with the hiredis reply API: replies are hiredis's
 * redisReply objects, freed with freeReplyObject().
 *
 *	redisUdpContext *c = redisUdpConnect("10.0.0.1", 6380, NULL);
 *	redisReply *r = redisUdpCommand(c, "SET %s %s", "k", "v");
 *	if (!r)                         // c->err, c->errstr say why
 *		...;
 *	freeReplyObject(r);
 *	redisUdpFree(c);
 *
 * What UDP means for writes: at most once. A reply means the command was
 * applied. No reply within the timeout means unknown: the request or the
 * reply was lost, and the library cannot tell which, so a write is never
 * sent again and fails with REDIS_UDP_ERR_UNKNOWN. Use idempotent writes
 * (SET rather than INCR) and send them again yourself, or read the value
 * back. Commands that only read (GET, MGET, EXISTS, TTL, PING, INFO...) are
 * sent again by the library on a new flow, up to `retries` times.
 *
 * A context is one flow (one local port, one Redis client on the server)
 * until a reply is missing; then the next request goes out on a new flow,
 * which is first validated (the fork's UDPCOOKIE handshake, when it has it)
 * and given the session again (the last successful AUTH, HELLO, SELECT and
 * CLIENT SETNAME). A transaction cannot move: when its flow is
 * lost before EXEC, nothing of it ran, and commands fail with
 * REDIS_UDP_ERR_ABORTED until the EXEC or DISCARD that ends it.
 *
 * The reader is hiredis 0.14's: RESP2 only (no HELLO 3). Pub/sub and
 * blocking commands longer than the timeout are not supported.
 */
#ifndef REDIS_UDP_H
#define REDIS_UDP_H

#include <stddef.h>

#include <hiredis/hiredis.h>

#ifdef __cplusplus
extern "C" {
#endif

/* redisUdpContext.err */
#define REDIS_UDP_ERR_IO 1          /* socket error */
#define REDIS_UDP_ERR_UNKNOWN 2     /* a write got no reply: applied or not, unknown */
#define REDIS_UDP_ERR_TIMEOUT 3     /* a read got no reply after every retry, or a new
                                     * flow's session got none (the command was not sent) */
#define REDIS_UDP_ERR_PROTOCOL 4    /* bytes that are not RESP */
#define REDIS_UDP_ERR_TOO_BIG 5     /* a command larger than one UDP datagram */
#define REDIS_UDP_ERR_OOM 6
#define REDIS_UDP_ERR_SESSION 7     /* a new flow refused AUTH/HELLO/SELECT/SETNAME */
#define REDIS_UDP_ERR_ABORTED 8     /* the transaction was lost with its flow: nothing ran */
#define REDIS_UDP_ERR_USAGE 9       /* e.g. redisUdpGetReply with nothing pending */

struct redisUdpOptions {
	size_t sz;              /* sizeof(struct redisUdpOptions): the struct may grow */
	int timeout_ms;         /* silence before a reply counts as lost (default 1000) */
	int retries;            /* new flows tried for an unanswered read (default 3) */
	size_t max_datagram;    /* request datagram when pipelining (default 1472) */
};

typedef struct redisUdpContext {
	int err;                /* REDIS_UDP_ERR_*, 0 after a success */
	char errstr[160];
	struct redisUdpPriv *priv;
} redisUdpContext;

/* No traffic yet: the host is resolved, the first command opens the flow.
 * NULL only without memory; otherwise check c->err (a bad host). */
redisUdpContext *redisUdpConnect(const char *host, int port, const struct redisUdpOptions *opts);
void redisUdpFree(redisUdpContext *c);

/* One command, its reply (NULL on error: c->err, c->errstr). A context
 * stays usable after an error. */
redisReply *redisUdpCommand(redisUdpContext *c, const char *format, ...);
redisReply *redisUdpCommandArgv(redisUdpContext *c, int argc, const char **argv,
				const size_t *argvlen);

/*
 * Pipelining: append commands, then take their replies in order. They leave
 * packed into datagrams of max_datagram bytes, one datagram in flight at a
 * time. REDIS_OK or REDIS_ERR. After an error the rest of the pipeline is
 * dropped, unsent: the error message says how many commands that was.
 */
int redisUdpAppendCommand(redisUdpContext *c, const char *format, ...);
int redisUdpAppendCommandArgv(redisUdpContext *c, int argc, const char **argv,
			      const size_t *argvlen);
int redisUdpGetReply(redisUdpContext *c, redisReply **reply);

/* Flows opened so far, and new flows tried to send unanswered reads again
 * (for tests and tools). */
unsigned long long redisUdpFlows(const redisUdpContext *c);
unsigned long long redisUdpRetransmits(const redisUdpContext *c);

#ifdef __cplusplus
}
#endif

#endif
