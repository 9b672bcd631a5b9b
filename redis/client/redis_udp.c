/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The client library (see redis_udp.h): hiredis formats the commands and
 * parses the replies; udp_flow.c moves them and decides what is sent again.
 * Only complete replies ever reach the hiredis reader, so a flow can be
 * abandoned at any point without leaving it half a reply.
 */
#include "redis_udp.h"
#include "udp_flow.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(REDIS_UDP_ERR_UNKNOWN == UDP_FLOW_ERR_UNKNOWN &&
	       REDIS_UDP_ERR_ABORTED == UDP_FLOW_ERR_ABORTED &&
	       REDIS_UDP_ERR_SESSION == UDP_FLOW_ERR_SESSION &&
	       REDIS_UDP_ERR_IO == UDP_FLOW_ERR_IO && REDIS_UDP_ERR_OOM == UDP_FLOW_ERR_OOM,
	       "the library's error codes are the flow's");

struct redisUdpPriv {
	struct udp_flow flow;
	redisReader *reader;
	char *out;              /* appended commands; out[0..sent) have left */
	size_t out_len, out_cap, sent;
	size_t pending;         /* replies the caller has yet to take */
};

static int set_err(redisUdpContext *c, int err, const char *fmt, ...)
{
	va_list ap;

	c->err = err;
	va_start(ap, fmt);
	vsnprintf(c->errstr, sizeof(c->errstr), fmt, ap);
	va_end(ap);
	return REDIS_ERR;
}

redisUdpContext *redisUdpConnect(const char *host, int port, const struct redisUdpOptions *opts)
{
	struct udp_flow_opts fo = { .retries = -1 };
	redisUdpContext *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->priv = calloc(1, sizeof(*c->priv));
	if (c->priv)
		c->priv->reader = redisReaderCreate();
	if (!c->priv || !c->priv->reader) {
		redisUdpFree(c);
		return NULL;
	}
	/* Fields past an older caller's sz keep their defaults. */
	if (opts && opts->sz >= offsetof(struct redisUdpOptions, timeout_ms) + sizeof(int))
		fo.timeout_ms = opts->timeout_ms;
	if (opts && opts->sz >= offsetof(struct redisUdpOptions, retries) + sizeof(int))
		fo.retries = opts->retries;
	if (opts && opts->sz >= offsetof(struct redisUdpOptions, max_datagram) + sizeof(size_t))
		fo.max_datagram = opts->max_datagram;
	if (udp_flow_init(&c->priv->flow, host, port, &fo) < 0)
		set_err(c, c->priv->flow.err, "%s", c->priv->flow.errstr);
	return c;
}

void redisUdpFree(redisUdpContext *c)
{
	if (!c)
		return;
	if (c->priv) {
		udp_flow_free(&c->priv->flow);
		if (c->priv->reader)
			redisReaderFree(c->priv->reader);
		free(c->priv->out);
		free(c->priv);
	}
	free(c);
}

static int append(redisUdpContext *c, char *cmd, int len)
{
	struct redisUdpPriv *p = c->priv;

	if (len < 0 || !cmd)
		return set_err(c, REDIS_UDP_ERR_OOM, "cannot format the command");
	if (p->out_len + (size_t)len > p->out_cap) {
		size_t n = p->out_cap ? p->out_cap : 1024;
		char *o;

		while (n < p->out_len + (size_t)len)
			n *= 2;
		o = realloc(p->out, n);
		if (!o) {
			free(cmd);
			return set_err(c, REDIS_UDP_ERR_OOM, "out of memory");
		}
		p->out = o;
		p->out_cap = n;
	}
	memcpy(p->out + p->out_len, cmd, (size_t)len);
	p->out_len += (size_t)len;
	p->pending++;
	free(cmd);
	return REDIS_OK;
}

int redisUdpAppendCommandArgv(redisUdpContext *c, int argc, const char **argv,
			      const size_t *argvlen)
{
	char *cmd = NULL;
	int len = redisFormatCommandArgv(&cmd, argc, argv, argvlen);

	return append(c, cmd, len);
}

static int vappend(redisUdpContext *c, const char *format, va_list ap)
{
	char *cmd = NULL;
	int len = redisvFormatCommand(&cmd, format, ap);

	return append(c, cmd, len);
}

int redisUdpAppendCommand(redisUdpContext *c, const char *format, ...)
{
	va_list ap;
	int rc;

	va_start(ap, format);
	rc = vappend(c, format, ap);
	va_end(ap);
	return rc;
}

/* An error ends the pipeline: what was not sent is dropped and said so. */
static int drop_pipeline(redisUdpContext *c, int err, const char *msg)
{
	struct redisUdpPriv *p = c->priv;
	size_t unsent = 0, off = p->sent;

	while (off < p->out_len) {
		enum resp_kind k;
		long long l = resp_scan_request(p->out + off, p->out_len - off, &k);

		if (l <= 0)
			break;
		off += (size_t)l;
		unsent++;
	}
	p->out_len = p->sent = p->pending = 0;
	if (unsent)
		return set_err(c, err, "%s (%zu later command%s of the pipeline not sent)",
			       msg, unsent, unsent > 1 ? "s" : "");
	return set_err(c, err, "%s", msg);
}

static int flow_failed(redisUdpContext *c)
{
	return drop_pipeline(c, c->priv->flow.err, c->priv->flow.errstr);
}

int redisUdpGetReply(redisUdpContext *c, redisReply **reply)
{
	struct redisUdpPriv *p = c->priv;
	struct udp_flow *f = &p->flow;
	void *r = NULL;

	*reply = NULL;
	if (f->peer_len == 0)
		return flow_failed(c);  /* redisUdpConnect's error */
	c->err = 0;
	c->errstr[0] = '\0';
	if (p->pending == 0)
		return set_err(c, REDIS_UDP_ERR_USAGE, "no command is waiting for its reply");
	for (;;) {
		if (redisReaderGetReply(p->reader, &r) != REDIS_OK) {
			char msg[160];

			snprintf(msg, sizeof(msg), "reply: %s", p->reader->errstr);
			redisReaderFree(p->reader);
			p->reader = redisReaderCreate();
			udp_flow_abandon(f);
			return drop_pipeline(c, REDIS_UDP_ERR_PROTOCOL, msg);
		}
		if (r) {
			p->pending--;
			if (p->pending == 0)
				p->out_len = p->sent = 0;
			*reply = r;
			return REDIS_OK;
		}
		if (f->ready) {
			/* Complete replies only: the reader is never left mid-reply. */
			redisReaderFeed(p->reader, f->rx, f->ready);
			udp_flow_consume(f, f->ready);
			continue;
		}
		if (udp_flow_unanswered(f) == 0) {
			long long n = udp_flow_pack(f, p->out + p->sent, p->out_len - p->sent);

			if (n <= 0)
				return n < 0 ? flow_failed(c) :
				       drop_pipeline(c, REDIS_UDP_ERR_USAGE, "no complete command to send");
			if (udp_flow_send(f, p->out + p->sent, (size_t)n) < 0) {
				/* An aborted transaction refuses the datagram unsent. */
				p->sent += (size_t)n;
				return flow_failed(c);
			}
			p->sent += (size_t)n;
		}
		if (udp_flow_wait(f) < 0)
			return flow_failed(c);
	}
}

redisReply *redisUdpCommandArgv(redisUdpContext *c, int argc, const char **argv,
				const size_t *argvlen)
{
	redisReply *r;

	if (c->priv->pending)
		return set_err(c, REDIS_UDP_ERR_USAGE, "replies of a pipeline are still pending"), NULL;
	if (redisUdpAppendCommandArgv(c, argc, argv, argvlen) != REDIS_OK)
		return NULL;
	return redisUdpGetReply(c, &r) == REDIS_OK ? r : NULL;
}

redisReply *redisUdpCommand(redisUdpContext *c, const char *format, ...)
{
	redisReply *r;
	va_list ap;
	int rc;

	if (c->priv->pending)
		return set_err(c, REDIS_UDP_ERR_USAGE, "replies of a pipeline are still pending"), NULL;
	va_start(ap, format);
	rc = vappend(c, format, ap);
	va_end(ap);
	if (rc != REDIS_OK)
		return NULL;
	return redisUdpGetReply(c, &r) == REDIS_OK ? r : NULL;
}

unsigned long long redisUdpFlows(const redisUdpContext *c)
{
	return c->priv->flow.flows;
}

unsigned long long redisUdpRetransmits(const redisUdpContext *c)
{
	return c->priv->flow.retransmits;
}
