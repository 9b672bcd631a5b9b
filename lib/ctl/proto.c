/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The fragnetd control protocol (proto.h): the one parser of control
 * messages, used on both ends, and the SCM_RIGHTS plumbing. The daemon runs
 * fn_ctl_check() on bytes from any local process it accepted, so it trusts
 * nothing: every length is checked against what was received before a field
 * is read (fuzz/daemon/ exercises it).
 */
#include <errno.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "capture_ring.h"
#include "proto.h"

/* Payload size of each fixed-size type; 0 = variable (checked below). */
static const size_t fixed_size[FN_CTL_TYPE_END] = {
	[FN_CTL_HELLO] = sizeof(struct fn_ctl_hello),
	[FN_CTL_IMAGE] = sizeof(struct fn_ctl_image),
	[FN_CTL_APPLIED] = sizeof(struct fn_ctl_applied),
	[FN_CTL_STATS_REQ] = 0,
	[FN_CTL_STATS_QUEUE] = sizeof(struct fn_ctl_queue_stats),
	[FN_CTL_STATS_END] = sizeof(struct fn_ctl_stats_end),
	[FN_CTL_ERROR] = sizeof(struct fn_ctl_error),
	[FN_CTL_REQUEST] = sizeof(struct fn_ctl_request),
	[FN_CTL_REPLY] = sizeof(struct fn_ctl_reply),
	[FN_CTL_XSK] = sizeof(struct fn_ctl_xsk),
	[FN_CTL_XSK_BOUND] = sizeof(struct fn_ctl_xsk_bound),
	[FN_CTL_KERNEL_GEN] = sizeof(struct fn_ctl_kernel_gen),
	[FN_CTL_CAPTURE_REQ] = sizeof(struct fn_ctl_capture_req),
	[FN_CTL_CAPTURE] = sizeof(struct fn_ctl_capture),
	[FN_CTL_CAPTURE_STOP] = sizeof(struct fn_ctl_capture_stop),
};

static const char *const type_names[FN_CTL_TYPE_END] = {
	[FN_CTL_HELLO] = "hello",
	[FN_CTL_IMAGE] = "image",
	[FN_CTL_APPLIED] = "applied",
	[FN_CTL_STATS_REQ] = "stats-request",
	[FN_CTL_STATS_QUEUE] = "stats-queue",
	[FN_CTL_STATS_COUNTERS] = "stats-counters",
	[FN_CTL_STATS_END] = "stats-end",
	[FN_CTL_ERROR] = "error",
	[FN_CTL_REQUEST] = "request",
	[FN_CTL_DATA] = "data",
	[FN_CTL_REPLY] = "reply",
	[FN_CTL_XSK] = "xsk",
	[FN_CTL_XSK_BOUND] = "xsk-bound",
	[FN_CTL_KERNEL_GEN] = "kernel-generation",
	[FN_CTL_CAPTURE_REQ] = "capture-request",
	[FN_CTL_CAPTURE] = "capture",
	[FN_CTL_CAPTURE_STOP] = "capture-stop",
};

const char *fn_ctl_type_name(unsigned type)
{
	if (type >= FN_CTL_TYPE_END || type_names[type] == NULL)
		return "unknown";
	return type_names[type];
}

static int terminated(const char *s, size_t n)
{
	return memchr(s, '\0', n) != NULL;
}

static size_t pad8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

size_t fn_ctl_counter_size(size_t chain_len, size_t object_len)
{
	return sizeof(struct fn_ctl_counter) + pad8(chain_len + object_len);
}

/* Every record inside the payload, with names of sane length. */
static int check_counters(const char *p, size_t len)
{
	const struct fn_ctl_counters_head *h = (const void *)p;
	size_t pos = sizeof(*h);

	if (len < sizeof(*h))
		return -EBADMSG;
	for (uint32_t i = 0; i < h->n; i++) {
		const struct fn_ctl_counter *c = (const void *)(p + pos);

		if (len - pos < sizeof(*c))
			return -EBADMSG;
		if (c->chain_len >= FN_CTL_NFT_NAME_MAX || c->object_len >= FN_CTL_NFT_NAME_MAX)
			return -EBADMSG;
		/* a rule counter names its chain, an object counter itself */
		if ((c->chain_len == 0) == (c->object_len == 0))
			return -EBADMSG;
		if (c->flags & ~FN_CTL_COUNTER_F_FINAL)
			return -EBADMSG;
		if (len - pos < fn_ctl_counter_size(c->chain_len, c->object_len))
			return -EBADMSG;
		pos += fn_ctl_counter_size(c->chain_len, c->object_len);
	}
	return pos == len ? 0 : -EBADMSG;
}

int fn_ctl_check(const void *msg, size_t len)
{
	const struct fn_ctl_hdr *h = msg;
	const char *p = fn_ctl_payload(msg);
	size_t plen;

	if (len < sizeof(*h) || len > FN_CTL_MAX_MSG || h->len != len)
		return -EBADMSG;
	if (h->magic != FN_CTL_MAGIC || h->version != FN_CTL_VERSION)
		return -EBADMSG;
	if (h->type == 0 || h->type >= FN_CTL_TYPE_END)
		return -EBADMSG;
	plen = len - sizeof(*h);
	switch (h->type) {
	case FN_CTL_STATS_COUNTERS:
		if (check_counters(p, plen) < 0)
			return -EBADMSG;
		return h->type;
	case FN_CTL_DATA:
		return plen > 0 ? h->type : -EBADMSG;
	default:
		break;
	}
	if (plen != fixed_size[h->type])
		return -EBADMSG;
	switch (h->type) {
	case FN_CTL_HELLO: {
		const struct fn_ctl_hello *m = (const void *)p;

		if (!terminated(m->name, sizeof(m->name)) || m->name[0] == '\0' ||
		    m->n_queues == 0 || m->n_queues > FN_CTL_MAX_QUEUES)
			return -EBADMSG;
		break;
	}
	case FN_CTL_IMAGE: {
		const struct fn_ctl_image *m = (const void *)p;

		if (m->generation == 0 || m->len == 0 || m->len > FN_CTL_TEXT_MAX)
			return -EBADMSG;
		break;
	}
	case FN_CTL_APPLIED:
		if (!terminated(((const struct fn_ctl_applied *)p)->msg, FN_CTL_MSG_MAX))
			return -EBADMSG;
		break;
	case FN_CTL_STATS_QUEUE: {
		const struct fn_ctl_queue_stats *m = (const void *)p;

		if (m->qid >= FN_CTL_MAX_QUEUES || m->n_drops > FN_CTL_MAX_DROPS)
			return -EBADMSG;
		for (uint32_t i = 0; i < m->n_drops; i++)
			if (!terminated(m->drops[i].name, FN_CTL_DROP_NAME_MAX) ||
			    m->drops[i].name[0] == '\0')
				return -EBADMSG;
		break;
	}
	case FN_CTL_STATS_END: {
		const struct fn_ctl_stats_end *m = (const void *)p;

		if (m->n_queues == 0 || m->n_queues > FN_CTL_MAX_QUEUES || m->unfiltered > 1)
			return -EBADMSG;
		break;
	}
	case FN_CTL_ERROR:
		if (!terminated(((const struct fn_ctl_error *)p)->msg, FN_CTL_MSG_MAX))
			return -EBADMSG;
		break;
	case FN_CTL_REQUEST: {
		const struct fn_ctl_request *m = (const void *)p;

		if (m->command == 0 || m->command >= FN_CTL_CMD_END ||
		    (m->flags & ~(FN_CTL_F_JSON | FN_CTL_F_PROMETHEUS)) ||
		    m->text_len > FN_CTL_TEXT_MAX ||
		    !terminated(m->source, sizeof(m->source)))
			return -EBADMSG;
		break;
	}
	case FN_CTL_REPLY: {
		const struct fn_ctl_reply *m = (const void *)p;

		if (m->out_len > FN_CTL_TEXT_MAX || !terminated(m->msg, FN_CTL_MSG_MAX))
			return -EBADMSG;
		break;
	}
	case FN_CTL_XSK: {
		const struct fn_ctl_xsk *m = (const void *)p;

		if (m->queue >= FN_CTL_MAX_QUEUES || !terminated(m->ifname, sizeof(m->ifname)) ||
		    m->ifname[0] == '\0')
			return -EBADMSG;
		break;
	}
	case FN_CTL_CAPTURE_REQ: {
		const struct fn_ctl_capture_req *m = (const void *)p;
		struct fn_cap_geometry g;

		if (!terminated(m->name, sizeof(m->name)) || m->name[0] == '\0' ||
		    !terminated(m->filter, sizeof(m->filter)) ||
		    (m->queue >= FN_CTL_MAX_QUEUES && m->queue != FN_CTL_CAPTURE_ALL) ||
		    m->mode > FN_CAP_MODE_TRACE ||
		    fn_cap_geometry(1, m->ring_bytes, m->snaplen, m->mode, &g) < 0)
			return -EBADMSG;
		break;
	}
	case FN_CTL_CAPTURE: {
		const struct fn_ctl_capture *m = (const void *)p;
		struct fn_cap_geometry g;

		if (!terminated(m->name, sizeof(m->name)) ||
		    m->filter_len > FN_CTL_FILTER_IMAGE_MAX || m->filter_len % 8 ||
		    (m->queue >= m->n_queues && m->queue != FN_CTL_CAPTURE_ALL) ||
		    fn_cap_geometry_of(m->n_queues, m->n_slots, m->snaplen, m->mode, &g) < 0)
			return -EBADMSG;
		break;
	}
	case FN_CTL_XSK_BOUND: {
		const struct fn_ctl_xsk_bound *m = (const void *)p;

		if (m->queue >= FN_CTL_MAX_QUEUES || m->status > 0 ||
		    !terminated(m->msg, FN_CTL_MSG_MAX))
			return -EBADMSG;
		break;
	}
	case FN_CTL_KERNEL_GEN: {
		const struct fn_ctl_kernel_gen *m = (const void *)p;

		if (m->generation == 0 || m->previous >= m->generation)
			return -EBADMSG;
		break;
	}
	default:
		break;
	}
	return h->type;
}

int fn_ctl_counters_next(const void *msg, size_t *pos, struct fn_ctl_counter_view *v)
{
	const char *p = fn_ctl_payload(msg);
	size_t plen = fn_ctl_payload_len(msg);

	if (*pos == 0)
		*pos = sizeof(struct fn_ctl_counters_head);
	if (*pos >= plen)
		return 0;
	v->c = (const void *)(p + *pos);
	v->chain = (const char *)(v->c + 1);
	v->object = v->chain + v->c->chain_len;
	*pos += fn_ctl_counter_size(v->c->chain_len, v->c->object_len);
	return 1;
}

void fn_ctl_counter_put(void *buf, size_t *pos, const struct fn_ctl_counter *c,
			const char *chain, const char *object)
{
	char *p = (char *)buf + *pos;
	size_t size = fn_ctl_counter_size(c->chain_len, c->object_len);

	memset(p, 0, size);
	memcpy(p, c, sizeof(*c));
	memcpy(p + sizeof(*c), chain, c->chain_len);
	memcpy(p + sizeof(*c) + c->chain_len, object, c->object_len);
	*pos += size;
}

size_t fn_ctl_build(void *buf, uint16_t type, uint32_t seq, const void *payload, size_t len)
{
	struct fn_ctl_hdr *h = buf;

	h->magic = FN_CTL_MAGIC;
	h->version = FN_CTL_VERSION;
	h->type = type;
	h->len = (uint32_t)(sizeof(*h) + len);
	h->seq = seq;
	if (len)
		memcpy(h + 1, payload, len);
	return sizeof(*h) + len;
}

static int send_iov(int sock, struct iovec *iov, int n_iov, size_t len, int fd)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = (size_t)n_iov };
	ssize_t n;

	if (fd >= 0) {
		struct cmsghdr *c;

		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.buf;
		mh.msg_controllen = sizeof(ctl.buf);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	do
		n = sendmsg(sock, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

int fn_ctl_send(int sock, const void *msg, size_t len, int fd)
{
	struct iovec iov = { .iov_base = (void *)msg, .iov_len = len };

	return send_iov(sock, &iov, 1, len, fd);
}

int fn_ctl_send_msg(int sock, uint16_t type, uint32_t seq, const void *payload,
		    size_t len, int fd)
{
	struct fn_ctl_hdr h;
	struct iovec iov[2] = {
		{ .iov_base = &h, .iov_len = sizeof(h) },
		{ .iov_base = (void *)payload, .iov_len = len },
	};

	if (len > FN_CTL_MAX_MSG - sizeof(h))
		return -EMSGSIZE;
	fn_ctl_build(&h, type, seq, NULL, 0);
	h.len = (uint32_t)(sizeof(h) + len);
	return send_iov(sock, iov, len ? 2 : 1, sizeof(h) + len, fd);
}

/* Close every fd of the control data except the first, which goes to *keep
 * (or is closed too when keep is NULL). */
static void take_fds(struct msghdr *mh, int *keep)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		size_t n;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < n; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (keep && *keep < 0)
				*keep = fd;
			else
				close(fd);
		}
	}
}

ssize_t fn_ctl_recv(int sock, void *buf, int *fd)
{
	union {
		char buf[CMSG_SPACE(4 * sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { .iov_base = buf, .iov_len = FN_CTL_MAX_MSG };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf),
	};
	ssize_t n;

	if (fd)
		*fd = -1;
	do
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	take_fds(&mh, fd);
	/* an empty datagram may still carry descriptors: nobody takes them */
	if (n == 0 || (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) {
		if (fd && *fd >= 0) {
			close(*fd);
			*fd = -1;
		}
		return n == 0 ? 0 : -EMSGSIZE;
	}
	return n;
}

int fn_ctl_trusted_server(int sock, uid_t *uid)
{
	struct ucred uc;
	socklen_t len = sizeof(uc);
	const char *user = getenv("FRAGNETD_USER");
	struct passwd pw, *found = NULL;
	char buf[1024];

	if (getsockopt(sock, SOL_SOCKET, SO_PEERCRED, &uc, &len) < 0)
		return -errno;
	*uid = uc.uid;
	if (uc.uid == 0 || uc.uid == geteuid())
		return 0;
	if (getpwnam_r(user && *user ? user : "fragnetd", &pw, buf, sizeof(buf), &found) == 0 &&
	    found && found->pw_uid == uc.uid)
		return 0;
	return -EACCES;
}
