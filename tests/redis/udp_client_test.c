/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The client library (redis/client/redis_udp.h) against the fork:
 *
 *	udp_client_test HOST PORT
 *
 * run by test_clients.py in the client namespace. Between steps it prints
 * "pause NAME" and waits for a line on stdin, while the driver changes the
 * namespace's nft rules (drop the next reply, drop all replies, drop all
 * requests, allow). One line per check, "ok ..." or "FAIL ...", then the
 * counts; exit status 1 when a check failed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "redis_udp.h"

static int passed, failed;

static void check(int cond, const char *what, const redisUdpContext *c)
{
	if (cond) {
		passed++;
		printf("ok   %s\n", what);
	} else {
		failed++;
		printf("FAIL %s (err %d: %s)\n", what, c->err, c->errstr);
	}
	fflush(stdout);
}

static void pause_for(const char *name)
{
	char line[64];

	printf("pause %s\n", name);
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin))
		exit(2);
}

static int is_str(const redisReply *r, const char *s)
{
	return r && (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS) &&
	       r->len == strlen(s) && memcmp(r->str, s, r->len) == 0;
}

static int is_int(const redisReply *r, long long v)
{
	return r && r->type == REDIS_REPLY_INTEGER && r->integer == v;
}

static void basics(redisUdpContext *c)
{
	static char big[5000], huge[70000];
	redisReply *r;
	int i, ok;

	r = redisUdpCommand(c, "PING");
	check(is_str(r, "PONG"), "PING", c);
	freeReplyObject(r);
	r = redisUdpCommand(c, "SET %s %s", "k1", "v1");
	check(is_str(r, "OK"), "SET k1 v1", c);
	freeReplyObject(r);
	r = redisUdpCommand(c, "GET %s", "k1");
	check(is_str(r, "v1"), "GET k1", c);
	freeReplyObject(r);
	r = redisUdpCommand(c, "MGET %s %s", "k1", "nokey");
	check(r && r->type == REDIS_REPLY_ARRAY && r->elements == 2 && is_str(r->element[0], "v1") &&
	      r->element[1]->type == REDIS_REPLY_NIL, "MGET k1 nokey", c);
	freeReplyObject(r);
	r = redisUdpCommand(c, "INCR %s", "k1");
	check(r && r->type == REDIS_REPLY_ERROR && c->err == 0,
	      "an error reply is a reply, not a context error", c);
	freeReplyObject(r);

	memset(big, 'b', sizeof(big) - 1);
	r = redisUdpCommand(c, "SET %s %s", "big", big);
	freeReplyObject(r);
	r = redisUdpCommand(c, "GET %s", "big");
	check(is_str(r, big), "GET of 5000 bytes (a reply over several datagrams)", c);
	freeReplyObject(r);

	/* 300 INCRs: several request datagrams, one in flight at a time (the
	 * driver counts the datagrams). */
	freeReplyObject(redisUdpCommand(c, "DEL %s", "ctr"));
	pause_for("count-requests");
	for (i = 0; i < 300; i++)
		redisUdpAppendCommand(c, "INCR %s", "ctr");
	for (i = 1, ok = 1; i <= 300; i++) {
		ok &= redisUdpGetReply(c, &r) == REDIS_OK && is_int(r, i);
		freeReplyObject(r);
	}
	check(ok, "pipeline of 300 INCRs answered in order", c);
	pause_for("allow");
	check(redisUdpGetReply(c, &r) == REDIS_ERR && c->err == REDIS_UDP_ERR_USAGE,
	      "GetReply with nothing pending is a usage error", c);

	r = redisUdpCommand(c, "SET %s %b", "huge", huge, sizeof(huge));
	check(!r && c->err == REDIS_UDP_ERR_TOO_BIG, "a 70000-byte command is refused", c);
	check(redisUdpFlows(c) == 1 && redisUdpRetransmits(c) == 0,
	      "all of it on one flow, nothing sent twice", c);
}

static void losses(redisUdpContext *c)
{
	unsigned long long flows, rtx;
	char sval[201];         /* longer than any handshake reply: the driver
				 * drops the first reply over 150 bytes */
	redisReply *r;

	memset(sval, '3', sizeof(sval) - 1);
	sval[sizeof(sval) - 1] = '\0';

	/* The session: a new flow must select db 3 again. */
	r = redisUdpCommand(c, "SELECT 3");
	check(is_str(r, "OK"), "SELECT 3", c);
	freeReplyObject(r);
	freeReplyObject(redisUdpCommand(c, "SET %s %s", "sk", sval));

	pause_for("drop-first-reply");
	flows = redisUdpFlows(c);
	rtx = redisUdpRetransmits(c);
	r = redisUdpCommand(c, "GET %s", "sk");
	check(is_str(r, sval), "GET whose first reply is dropped: answered from db 3", c);
	check(redisUdpRetransmits(c) == rtx + 1 && redisUdpFlows(c) == flows + 1,
	      "sent once more, on one new flow", c);
	freeReplyObject(r);
	pause_for("allow");

	pause_for("drop-replies");
	rtx = redisUdpRetransmits(c);
	r = redisUdpCommand(c, "INCR %s", "lost1");
	check(!r && c->err == REDIS_UDP_ERR_UNKNOWN && strstr(c->errstr, "may or may not"),
	      "INCR without a reply: REDIS_UDP_ERR_UNKNOWN", c);
	check(redisUdpRetransmits(c) == rtx, "the write was not sent again", c);
	r = redisUdpCommand(c, "GET %s", "sk");
	check(!r && c->err == REDIS_UDP_ERR_TIMEOUT, "GET without replies: REDIS_UDP_ERR_TIMEOUT", c);
	check(redisUdpRetransmits(c) == rtx + 3, "3 new flows tried for the read", c);
	pause_for("allow");
	r = redisUdpCommand(c, "GET %s", "sk");
	check(is_str(r, sval), "the context works again (new flow, db 3)", c);
	freeReplyObject(r);

	pause_for("drop-requests");
	r = redisUdpCommand(c, "SET %s %s", "lost2", "x");
	check(!r && c->err == REDIS_UDP_ERR_UNKNOWN, "SET never delivered: REDIS_UDP_ERR_UNKNOWN", c);
	pause_for("allow");

	/* A transaction whose flow is lost before EXEC never ran. */
	r = redisUdpCommand(c, "MULTI");
	check(is_str(r, "OK"), "MULTI", c);
	freeReplyObject(r);
	pause_for("drop-replies");
	r = redisUdpCommand(c, "SET %s %s", "inmulti", "x");
	check(!r && c->err == REDIS_UDP_ERR_UNKNOWN, "SET inside MULTI without a reply", c);
	pause_for("allow");
	r = redisUdpCommand(c, "INCR %s", "aftermulti");
	check(!r && c->err == REDIS_UDP_ERR_ABORTED, "then commands fail: REDIS_UDP_ERR_ABORTED", c);
	r = redisUdpCommand(c, "EXEC");
	check(!r && c->err == REDIS_UDP_ERR_ABORTED, "EXEC too, and it ends the transaction", c);
	r = redisUdpCommand(c, "GET %s", "inmulti");
	check(r && r->type == REDIS_REPLY_NIL, "nothing of the transaction ran", c);
	freeReplyObject(r);
}

int main(int argc, char **argv)
{
	/* 1 s: a loaded machine must not look like a lost reply (the checks
	 * count new flows exactly) */
	struct redisUdpOptions o = { .sz = sizeof(o), .timeout_ms = 1000, .retries = 3 };
	redisUdpContext *c;

	if (argc != 3) {
		fprintf(stderr, "usage: udp_client_test HOST PORT\n");
		return 2;
	}
	c = redisUdpConnect(argv[1], atoi(argv[2]), &o);
	if (!c || c->err) {
		fprintf(stderr, "redisUdpConnect: %s\n", c ? c->errstr : "out of memory");
		return 1;
	}
	basics(c);
	losses(c);
	redisUdpFree(c);
	printf("%d passed, %d failed\n", passed, failed);
	return failed || !passed;
}
