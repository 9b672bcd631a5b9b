/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Scanning RESP without building objects, for clients of the Redis fork over
 * UDP: where a reply ends (to count the replies of a datagram and to know
 * when one is complete), where a request ends, and what a request is (safe
 * to send again or not). No allocation; plain C, shared by the client
 * library (redis/client/) and redis-cli (copied into the Redis tree).
 */
#ifndef RESP_SCAN_H
#define RESP_SCAN_H

#include <stddef.h>

/* Aggregates nested deeper than this are refused (hiredis 0.14's reader
 * stops at 7 levels too). */
#define RESP_SCAN_MAX_DEPTH 8

/* Resumable scan of one reply (RESP2 and RESP3 types). */
struct resp_scan {
	size_t off;                        /* bytes of the reply accepted so far */
	int depth;                         /* -1: nothing started */
	long long left[RESP_SCAN_MAX_DEPTH + 1];
};

void resp_scan_init(struct resp_scan *s);

/*
 * Continue scanning the reply that starts at buf[0]; buf holds len bytes
 * (more than last time, same prefix). Returns the reply's length when it is
 * complete (and resets s), 0 when more bytes are needed, -1 when the bytes
 * are not RESP. Each byte is examined once over all calls.
 */
long long resp_scan_reply(struct resp_scan *s, const char *buf, size_t len);

/* What a request is, for retransmission. */
enum resp_kind {
	RESP_WRITE,         /* anything not known to be safe: never sent twice */
	RESP_READ,          /* idempotent, no side effect: may be sent again */
	RESP_MULTI,         /* opens a transaction */
	RESP_EXEC,          /* EXEC or DISCARD: closes it */
	/* Idempotent and part of the connection's state, which a new flow
	 * must be given again (in this order). */
	RESP_SESSION_AUTH,
	RESP_SESSION_HELLO,
	RESP_SESSION_SELECT,
	RESP_SESSION_SETNAME,
};
#define RESP_SESSION_FIRST RESP_SESSION_AUTH
#define RESP_SESSION_KINDS (RESP_SESSION_SETNAME - RESP_SESSION_FIRST + 1)

/*
 * The complete multibulk request (*N\r\n$L\r\n...) at buf: returns its
 * length, 0 when more bytes are needed, -1 when it is not a multibulk
 * request (inline commands are not accepted). *kind: what it is.
 */
long long resp_scan_request(const char *buf, size_t len, enum resp_kind *kind);

/* The kind of a command from its first two arguments (arg1 may be NULL). */
enum resp_kind resp_command_kind(const char *name, size_t name_len,
				 const char *arg1, size_t arg1_len);

#endif
