/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * kshim: the part of include/fragnet.h that the Redis fork uses, implemented
 * on one kernel UDP socket. A development aid, not a test target: it lets the
 * transport (reply boundaries, flow life, AOF ordering) be exercised on
 * loopback while the DPDK stack is elsewhere. Build:
 *   cc -O2 -shared -fPIC -Iinclude tests/redis/kshim.c -o libfragnet-kshim.so
 * and run redis/build.sh with FRAGNET_LIBS pointing at it. Sends are queued
 * and leave at fragnet_flush()/the end of fragnet_poll(), as in the library.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fragnet.h"

#define BURST 32
#define TXQ 4096

struct fragnet_queue {
	struct fragnet *fn;
};

struct fragnet_buf {
	size_t len;
	char data[FRAGNET_MAX_DGRAM];
};

struct txent {
	struct sockaddr_in to;
	struct iovec iov;
	char *data;
};

struct fragnet {
	int fd;
	uint32_t addr;
	uint16_t port;
	fragnet_recv_fn cb;
	void *arg;
	struct fragnet_queue q;
	struct txent tx[TXQ];
	unsigned ntx;
	struct fragnet_queue_stats st;
};

static char rxbuf[BURST][65536];

struct fragnet *fragnet_open(const struct fragnet_config *cfg)
{
	struct fragnet *fn = calloc(1, sizeof(*fn));
	int sz = 8 << 20;

	if (!fn) return NULL;
	fn->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fn->fd < 0) { free(fn); return NULL; }
	setsockopt(fn->fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	setsockopt(fn->fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	fn->addr = cfg->ipv4_addr;
	fn->q.fn = fn;
	fn->st.unfiltered = 1;
	return fn;
}

void fragnet_close(struct fragnet *fn) { if (fn) { close(fn->fd); free(fn); } }
unsigned fragnet_queue_count(const struct fragnet *fn) { (void)fn; return 1; }
struct fragnet_queue *fragnet_queue(struct fragnet *fn, unsigned qid)
{
	if (qid) { errno = ERANGE; return NULL; }
	return &fn->q;
}
unsigned fragnet_queue_id(const struct fragnet_queue *q) { (void)q; return 0; }

int fragnet_udp_bind(struct fragnet *fn, uint16_t port, fragnet_recv_fn cb, void *arg)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = port, .sin_addr.s_addr = fn->addr };
	if (!port || !cb) return -EINVAL;
	if (bind(fn->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) return -errno;
	fn->port = port;
	fn->cb = cb;
	fn->arg = arg;
	return 0;
}

int fragnet_flush(struct fragnet_queue *q)
{
	struct fragnet *fn = q->fn;
	struct mmsghdr msg[64];
	unsigned i = 0, sent = 0;

	while (i < fn->ntx) {
		unsigned n = fn->ntx - i > 64 ? 64 : fn->ntx - i;
		for (unsigned j = 0; j < n; j++) {
			memset(&msg[j], 0, sizeof(msg[j]));
			msg[j].msg_hdr.msg_name = &fn->tx[i + j].to;
			msg[j].msg_hdr.msg_namelen = sizeof(fn->tx[i + j].to);
			msg[j].msg_hdr.msg_iov = &fn->tx[i + j].iov;
			msg[j].msg_hdr.msg_iovlen = 1;
		}
		int r = sendmmsg(fn->fd, msg, n, 0);
		if (r <= 0) { /* kernel buffer full: drop the rest of this batch, as a device would */
			fn->st.drops[FRAGNET_DROP_TX_FULL] += n;
			r = n;
		} else {
			sent += r;
		}
		i += r;
	}
	for (i = 0; i < fn->ntx; i++) free(fn->tx[i].data);
	fn->st.tx_datagrams += sent;
	fn->ntx = 0;
	return sent;
}

int fragnet_udp_send(struct fragnet_queue *q, uint16_t src_port, uint32_t dst_addr,
		     uint16_t dst_port, const void *data, size_t len)
{
	struct fragnet *fn = q->fn;
	(void)src_port;
	if (len > FRAGNET_MAX_DGRAM) return -EMSGSIZE;
	if (fn->ntx == TXQ) fragnet_flush(q);
	struct txent *t = &fn->tx[fn->ntx];
	t->data = malloc(len ? len : 1);
	if (!t->data) return -ENOBUFS;
	memcpy(t->data, data, len);
	t->to = (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = dst_port,
				      .sin_addr.s_addr = dst_addr };
	t->iov = (struct iovec){ t->data, len };
	fn->ntx++;
	return 0;
}

struct fragnet_buf *fragnet_buf_alloc(struct fragnet_queue *q, size_t len, void **data)
{
	(void)q;
	if (len > FRAGNET_MAX_DGRAM) { errno = EMSGSIZE; return NULL; }
	struct fragnet_buf *b = malloc(sizeof(*b));
	if (!b) { errno = ENOBUFS; return NULL; }
	b->len = len;
	*data = b->data;
	return b;
}
size_t fragnet_buf_room(const struct fragnet_queue *q) { (void)q; return 1472; }
void fragnet_buf_free(struct fragnet_buf *b) { free(b); }
int fragnet_udp_send_buf(struct fragnet_queue *q, struct fragnet_buf *b, uint16_t src_port,
			 uint32_t dst_addr, uint16_t dst_port)
{
	int r = fragnet_udp_send(q, src_port, dst_addr, dst_port, b->data, b->len);
	free(b);
	return r;
}

int fragnet_poll(struct fragnet_queue *q)
{
	struct fragnet *fn = q->fn;
	struct mmsghdr msg[BURST];
	struct sockaddr_in from[BURST];
	struct iovec iov[BURST];

	for (int i = 0; i < BURST; i++) {
		memset(&msg[i], 0, sizeof(msg[i]));
		iov[i] = (struct iovec){ rxbuf[i], sizeof(rxbuf[i]) };
		msg[i].msg_hdr.msg_iov = &iov[i];
		msg[i].msg_hdr.msg_iovlen = 1;
		msg[i].msg_hdr.msg_name = &from[i];
		msg[i].msg_hdr.msg_namelen = sizeof(from[i]);
	}
	int n = recvmmsg(fn->fd, msg, BURST, MSG_DONTWAIT, NULL);
	if (n < 0) n = 0;
	for (int i = 0; i < n; i++) {
		struct fragnet_dgram d = {
			.src_addr = from[i].sin_addr.s_addr, .dst_addr = fn->addr,
			.src_port = from[i].sin_port, .dst_port = fn->port,
			.data = rxbuf[i], .len = msg[i].msg_len,
		};
		fn->st.rx_datagrams++;
		if (fn->cb) fn->cb(q, &d, fn->arg);
	}
	fragnet_flush(q);
	return n;
}

int fragnet_queue_stats(const struct fragnet *fn, unsigned qid, struct fragnet_queue_stats *st)
{
	if (qid) return -ERANGE;
	if (!st || st->sz < sizeof(*st)) return -EINVAL;
	*st = fn->st;
	return 0;
}
