/* SPDX-License-Identifier: BSD-3-Clause */
/* One client of the Redis fork over UDP (see udp_flow.h). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE     /* getaddrinfo, SOCK_CLOEXEC under Redis's -std=c11 */
#endif
#include "udp_flow.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Room for any datagram: recv() never truncates. */
#define RECV_ROOM 65536
/* Ask for a receive buffer that holds a burst of reply datagrams. */
#define RCVBUF_BYTES (4 << 20)

static int fail(struct udp_flow *f, int err, const char *fmt, ...)
{
	va_list ap;

	f->err = err;
	va_start(ap, fmt);
	vsnprintf(f->errstr, sizeof(f->errstr), fmt, ap);
	va_end(ap);
	return -1;
}

static int reserve(char **buf, size_t *cap, size_t need)
{
	size_t n = *cap ? *cap : 4096;
	char *p;

	if (need <= *cap)
		return 0;
	while (n < need)
		n *= 2;
	p = realloc(*buf, n);
	if (!p)
		return -1;
	*buf = p;
	*cap = n;
	return 0;
}

int udp_flow_init(struct udp_flow *f, const char *host, int port,
		  const struct udp_flow_opts *opts)
{
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM }, *ai;
	char service[16];
	int rc;

	memset(f, 0, sizeof(*f));
	f->fd = -1;
	resp_scan_init(&f->scan);
	f->o.timeout_ms = opts && opts->timeout_ms > 0 ? opts->timeout_ms : 1000;
	f->o.retries = opts && opts->retries >= 0 ? opts->retries : 3;
	f->o.max_datagram = opts && opts->max_datagram ? opts->max_datagram : 1472;
	if (f->o.max_datagram > UDP_FLOW_MAX_PAYLOAD)
		f->o.max_datagram = UDP_FLOW_MAX_PAYLOAD;
	snprintf(service, sizeof(service), "%d", port);
	rc = getaddrinfo(host, service, &hints, &ai);
	if (rc != 0)
		return fail(f, UDP_FLOW_ERR_IO, "%s:%d: %s", host, port, gai_strerror(rc));
	memcpy(&f->peer, ai->ai_addr, ai->ai_addrlen);
	f->peer_len = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
}

void udp_flow_free(struct udp_flow *f)
{
	int i;

	if (f->fd >= 0)
		close(f->fd);
	free(f->req);
	free(f->cmd_end);
	free(f->kind);
	free(f->rx);
	for (i = 0; i < RESP_SESSION_KINDS; i++)
		free(f->session[i]);
	memset(f, 0, sizeof(*f));
	f->fd = -1;
}

/* Wait up to timeout_ms (-1: forever) for one datagram on fd and append it
 * to buf. 1: got one, 0: timeout, -1: socket error (errno). */
static int recv_one(int fd, char **buf, size_t *len, size_t *cap, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	ssize_t n;
	int rc;

	for (;;) {
		rc = poll(&p, 1, timeout_ms);
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc <= 0)
			return rc;
		if (reserve(buf, cap, *len + RECV_ROOM) < 0) {
			errno = ENOMEM;
			return -1;
		}
		n = recv(fd, *buf + *len, RECV_ROOM, 0);
		if (n > 0) {
			*len += (size_t)n;
			return 1;
		}
		/* An ICMP error for an earlier datagram, or an empty datagram:
		 * no reply, keep waiting for one. */
		if (n == 0 || errno == ECONNREFUSED || errno == EINTR)
			continue;
		return -1;
	}
}

/* Send req (n commands) alone in one datagram on the new flow and wait for
 * its n replies, which *rx then holds (*rx_len bytes; the caller frees it).
 * what: the request, for messages. */
static int exchange(struct udp_flow *f, const char *req, size_t len, int n,
		    char **rx, size_t *rx_len, const char *what)
{
	size_t cap = 0, off = 0;

	*rx = NULL;
	*rx_len = 0;
	if (send(f->fd, req, len, 0) < 0)
		return fail(f, UDP_FLOW_ERR_IO, "send: %s", strerror(errno));
	while (n > 0) {
		int got = recv_one(f->fd, rx, rx_len, &cap, f->o.timeout_ms);

		if (got <= 0)
			return fail(f, got < 0 ? UDP_FLOW_ERR_IO : UDP_FLOW_ERR_TIMEOUT,
				    "new flow: no reply to %s%s%s", what, got < 0 ? ": " : "",
				    got < 0 ? strerror(errno) : "");
		while (n > 0) {
			struct resp_scan s;
			long long l;

			resp_scan_init(&s);
			l = resp_scan_reply(&s, *rx + off, *rx_len - off);
			if (l < 0)
				return fail(f, UDP_FLOW_ERR_PROTOCOL, "new flow: reply to %s is not RESP",
					    what);
			if (l == 0)
				break;
			off += (size_t)l;
			n--;
		}
	}
	return 0;
}

/* The error reply at rx, as a message. */
static int refused(struct udp_flow *f, const char *what, const char *rx, size_t len)
{
	const char *cr = memchr(rx, '\r', len);

	return fail(f, UDP_FLOW_ERR_SESSION, "new flow: %s refused: %.*s", what,
		    (int)(cr ? cr - rx - 1 : 0), rx + 1);
}

/*
 * Address validation (redis/README.md): until the server has seen that we
 * receive at our address and port, it sends a flow at most 3x the bytes it
 * got, and frees it after 2 s of silence. UDPCOOKIE asks for a cookie that
 * only our address receives; echoing it validates the flow. A server
 * without validation answers "unknown command": nothing to do then.
 */
static int flow_validate(struct udp_flow *f)
{
	static const char ask[] = "*1\r\n$9\r\nUDPCOOKIE\r\n";
	char echo[64], *rx;
	size_t len;
	int rc;

	if (exchange(f, ask, sizeof(ask) - 1, 1, &rx, &len, "UDPCOOKIE") < 0) {
		free(rx);
		return -1;
	}
	if (rx[0] == '-' && memmem(rx, len, "unknown command", 15)) {
		free(rx);
		return 0;
	}
	if (rx[0] != '+' || len != 27) {
		rc = rx[0] == '-' ? refused(f, "UDPCOOKIE", rx, len) :
		     fail(f, UDP_FLOW_ERR_PROTOCOL, "new flow: UDPCOOKIE answered no cookie");
		free(rx);
		return rc;
	}
	snprintf(echo, sizeof(echo), "*2\r\n$9\r\nUDPCOOKIE\r\n$24\r\n%.24s\r\n", rx + 1);
	free(rx);
	if (exchange(f, echo, strlen(echo), 1, &rx, &len, "the UDP cookie") < 0) {
		free(rx);
		return -1;
	}
	rc = len == 5 && memcmp(rx, "+OK\r\n", 5) == 0 ? 0 : refused(f, "the UDP cookie", rx, len);
	free(rx);
	return rc;
}

/* Give a new flow what the old one had: the session requests, in one
 * datagram, all answered without an error. */
static int flow_session(struct udp_flow *f)
{
	char *buf = NULL, *rx = NULL;
	size_t len = 0, cap = 0, rx_len, off = 0;
	int i, n = 0, rc = -1;

	for (i = 0; i < RESP_SESSION_KINDS; i++) {
		if (!f->session[i])
			continue;
		if (reserve(&buf, &cap, len + f->session_len[i]) < 0) {
			free(buf);
			return fail(f, UDP_FLOW_ERR_OOM, "out of memory");
		}
		memcpy(buf + len, f->session[i], f->session_len[i]);
		len += f->session_len[i];
		n++;
	}
	if (n == 0)
		return 0;
	if (exchange(f, buf, len, n, &rx, &rx_len, "the session (AUTH, SELECT...)") < 0)
		goto out;
	for (; n > 0; n--) {
		struct resp_scan s;

		if (rx[off] == '-') {
			refused(f, "the session", rx + off, rx_len - off);
			goto out;
		}
		resp_scan_init(&s);
		off += (size_t)resp_scan_reply(&s, rx + off, rx_len - off);
	}
	rc = 0;
out:
	free(buf);
	free(rx);
	return rc;
}

/* A new socket, a new flow, with the session given again. On failure the
 * socket is closed again and f->err says why. */
static int flow_open(struct udp_flow *f)
{
	int rcvbuf = RCVBUF_BYTES;

	f->fd = socket(f->peer.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (f->fd < 0)
		return fail(f, UDP_FLOW_ERR_IO, "socket: %s", strerror(errno));
	setsockopt(f->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (connect(f->fd, (struct sockaddr *)&f->peer, f->peer_len) < 0)
		fail(f, UDP_FLOW_ERR_IO, "connect: %s", strerror(errno));
	else if (f->flows++, flow_validate(f) == 0 && flow_session(f) == 0)
		return 0;
	close(f->fd);
	f->fd = -1;
	return -1;
}

void udp_flow_abandon(struct udp_flow *f)
{
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
	f->req_len = f->ncmds = f->answered = 0;
	f->rx_len = f->ready;
	resp_scan_init(&f->scan);
	if (f->in_multi)
		f->multi_lost = 1;
	f->in_multi = 0;
}

size_t udp_flow_unanswered(const struct udp_flow *f)
{
	return f->ncmds - f->answered;
}

long long udp_flow_pack(struct udp_flow *f, const char *buf, size_t len)
{
	size_t off = 0;

	while (off < len) {
		enum resp_kind k;
		long long l = resp_scan_request(buf + off, len - off, &k);

		if (l < 0)
			return fail(f, UDP_FLOW_ERR_PROTOCOL, "request is not a RESP multibulk command");
		if (l == 0)
			break;
		if (l > UDP_FLOW_MAX_PAYLOAD)
			return fail(f, UDP_FLOW_ERR_TOO_BIG,
				    "command of %lld bytes: more than one UDP datagram (%d)",
				    l, UDP_FLOW_MAX_PAYLOAD);
		if (off > 0 && off + (size_t)l > f->o.max_datagram)
			break;
		off += (size_t)l;
	}
	return (long long)off;
}

/* Note the commands of a datagram about to leave: where each ends and what
 * it is. Nothing inside a transaction is ever sent twice. */
static int note_commands(struct udp_flow *f, const char *buf, size_t len)
{
	size_t off = 0;

	f->ncmds = f->answered = 0;
	if (f->multi_lost) {
		/* Refused unsent, up to the EXEC or DISCARD that ends it. */
		while (off < len) {
			enum resp_kind k;
			long long l = resp_scan_request(buf + off, len - off, &k);

			if (l <= 0)
				break;
			if (k == RESP_EXEC)
				f->multi_lost = 0;
			off += (size_t)l;
		}
		return fail(f, UDP_FLOW_ERR_ABORTED,
			    "the transaction was lost with its flow: nothing of it ran%s",
			    f->multi_lost ? " (send EXEC or DISCARD)" : "");
	}
	while (off < len) {
		enum resp_kind k;
		long long l = resp_scan_request(buf + off, len - off, &k);

		if (l <= 0)
			return fail(f, UDP_FLOW_ERR_PROTOCOL, "request is not a RESP multibulk command");
		if (f->ncmds == f->cmds_cap) {
			size_t n = f->cmds_cap ? 2 * f->cmds_cap : 16;
			size_t *e = realloc(f->cmd_end, n * sizeof(*e));
			unsigned char *kd;

			if (e)
				f->cmd_end = e;
			kd = e ? realloc(f->kind, n) : NULL;
			if (!kd)
				return fail(f, UDP_FLOW_ERR_OOM, "out of memory");
			f->kind = kd;
			f->cmds_cap = n;
		}
		if (k == RESP_MULTI)
			f->in_multi = 1;
		else if (k == RESP_EXEC)
			f->in_multi = 0;
		else if (f->in_multi)
			k = RESP_WRITE;
		off += (size_t)l;
		f->cmd_end[f->ncmds] = off;
		f->kind[f->ncmds++] = (unsigned char)k;
	}
	return 0;
}

static size_t cmd_start(const struct udp_flow *f, size_t i)
{
	return i ? f->cmd_end[i - 1] : 0;
}

/* Every unanswered command may be sent again. */
static int unanswered_idempotent(const struct udp_flow *f)
{
	size_t i;

	for (i = f->answered; i < f->ncmds; i++)
		if (f->kind[i] == RESP_WRITE || f->kind[i] == RESP_MULTI || f->kind[i] == RESP_EXEC)
			return 0;
	return 1;
}

/* The unanswered commands again, on a new flow; a new flow whose handshake
 * (validation, session) gets no reply uses up a try too. */
static int retransmit(struct udp_flow *f)
{
	size_t start = cmd_start(f, f->answered);

	do {
		if (f->fd >= 0)
			close(f->fd);
		f->fd = -1;
		f->rx_len = f->ready;       /* a partial reply will come again whole */
		resp_scan_init(&f->scan);
		if (f->tries >= f->o.retries)
			return fail(f, UDP_FLOW_ERR_TIMEOUT, "no reply after %d tries of %d ms",
				    f->tries + 1, f->o.timeout_ms);
		f->tries++;
		f->retransmits++;
	} while (flow_open(f) < 0 && f->err == UDP_FLOW_ERR_TIMEOUT);
	if (f->fd < 0)
		return -1;
	if (send(f->fd, f->req + start, f->req_len - start, 0) < 0)
		return fail(f, UDP_FLOW_ERR_IO, "send: %s", strerror(errno));
	return 0;
}

int udp_flow_send(struct udp_flow *f, const char *buf, size_t len)
{
	f->err = 0;
	if (udp_flow_unanswered(f))
		return fail(f, UDP_FLOW_ERR_PROTOCOL, "a datagram is still in flight");
	if (note_commands(f, buf, len) < 0) {
		f->ncmds = 0;
		return -1;
	}
	if (reserve(&f->req, &f->req_cap, len) < 0) {
		f->ncmds = 0;
		return fail(f, UDP_FLOW_ERR_OOM, "out of memory");
	}
	memcpy(f->req, buf, len);
	f->req_len = len;
	f->tries = 0;
	if (f->fd < 0 && flow_open(f) < 0) {
		/* The new flow's handshake got no reply: nothing was sent yet,
		 * so reads try further flows, and writes fail unsent. */
		if (f->err == UDP_FLOW_ERR_TIMEOUT && unanswered_idempotent(f) && retransmit(f) == 0)
			return 0;
		udp_flow_abandon(f);
		return -1;
	}
	if (send(f->fd, f->req, f->req_len, 0) < 0) {
		fail(f, UDP_FLOW_ERR_IO, "send: %s", strerror(errno));
		udp_flow_abandon(f);
		return -1;
	}
	return 0;
}

/* A reply to command f->answered is complete at rx[off..off+len). */
static void reply_done(struct udp_flow *f, size_t off, size_t len)
{
	size_t i = f->answered;
	unsigned k;

	if (i >= f->ncmds)
		return;     /* pub/sub message: not an answer */
	f->answered++;
	k = f->kind[i];
	if (k < RESP_SESSION_FIRST || f->rx[off] == '-' || len == 0)
		return;
	k -= RESP_SESSION_FIRST;
	free(f->session[k]);
	f->session_len[k] = f->cmd_end[i] - cmd_start(f, i);
	f->session[k] = malloc(f->session_len[k]);
	if (f->session[k])
		memcpy(f->session[k], f->req + cmd_start(f, i), f->session_len[k]);
}

int udp_flow_wait(struct udp_flow *f)
{
	size_t before = f->ready;

	f->err = 0;
	if (f->fd < 0)
		return fail(f, UDP_FLOW_ERR_IO, "nothing was sent on this flow");
	for (;;) {
		int timeout = udp_flow_unanswered(f) ? f->o.timeout_ms : -1;
		int got = recv_one(f->fd, &f->rx, &f->rx_len, &f->rx_cap, timeout);

		if (got < 0) {
			fail(f, UDP_FLOW_ERR_IO, "recv: %s", strerror(errno));
			udp_flow_abandon(f);
			return -1;
		}
		if (got > 0 && f->rx_len - f->ready > UDP_FLOW_MAX_REPLY) {
			fail(f, UDP_FLOW_ERR_PROTOCOL, "reply larger than %u bytes",
			     UDP_FLOW_MAX_REPLY);
			udp_flow_abandon(f);
			return -1;
		}
		if (got > 0) {
			for (;;) {
				long long l = resp_scan_reply(&f->scan, f->rx + f->ready,
							      f->rx_len - f->ready);
				if (l < 0) {
					fail(f, UDP_FLOW_ERR_PROTOCOL, "reply is not RESP");
					udp_flow_abandon(f);
					return -1;
				}
				if (l == 0)
					break;
				reply_done(f, f->ready, (size_t)l);
				f->ready += (size_t)l;
			}
			if (f->ready > before)
				return 0;
			continue;
		}
		/* Silence for timeout_ms. */
		if (!unanswered_idempotent(f)) {
			fail(f, UDP_FLOW_ERR_UNKNOWN,
			     "no reply: the write may or may not have been applied");
			udp_flow_abandon(f);
			return -1;
		}
		if (retransmit(f) < 0) {
			udp_flow_abandon(f);
			return -1;
		}
	}
}

void udp_flow_consume(struct udp_flow *f, size_t n)
{
	if (n > f->ready)
		n = f->ready;
	memmove(f->rx, f->rx + n, f->rx_len - n);
	f->rx_len -= n;
	f->ready -= n;
}
