/* SPDX-License-Identifier: BSD-3-Clause */
/* nftables notifications (notify.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include "netns.h"
#include "netns_switch.h"
#include "notify.h"

struct fnd_notify {
	struct mnl_socket *sock;
	char buf[1 << 16];         /* larger than any netlink message */
};

struct fnd_notify *fnd_notify_open(int ns_fd)
{
	struct fnd_notify *n = calloc(1, sizeof(*n));
	int home, rc, group = NFNLGRP_NFTABLES, err = 0;

	if (n == NULL)
		return NULL;
	rc = fn_netns_enter(ns_fd, &home);
	if (rc < 0) {
		free(n);
		errno = -rc;
		return NULL;
	}
	n->sock = mnl_socket_open2(NETLINK_NETFILTER, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (n->sock == NULL ||
	    mnl_socket_bind(n->sock, 0, MNL_SOCKET_AUTOPID) < 0 ||
	    mnl_socket_setsockopt(n->sock, NETLINK_ADD_MEMBERSHIP, &group, sizeof(group)) < 0)
		err = errno;
	rc = fn_netns_leave(home);
	if (err || rc < 0) {
		if (n->sock)
			mnl_socket_close(n->sock);
		free(n);
		errno = err ? err : -rc;
		return NULL;
	}
	return n;
}

void fnd_notify_close(struct fnd_notify *n)
{
	if (n == NULL)
		return;
	mnl_socket_close(n->sock);
	free(n);
}

int fnd_notify_fd(const struct fnd_notify *n)
{
	return mnl_socket_get_fd(n->sock);
}

static int gen_attr(const struct nlattr *a, void *data)
{
	uint32_t *genid = data;

	if (mnl_attr_get_type(a) == NFTA_GEN_ID && mnl_attr_validate(a, MNL_TYPE_U32) == 0)
		*genid = ntohl(mnl_attr_get_u32(a));
	return MNL_CB_OK;
}

int fnd_notify_read(struct fnd_notify *n, uint32_t *genid)
{
	int seen = 0;

	*genid = 0;
	for (;;) {
		ssize_t len = mnl_socket_recvfrom(n->sock, n->buf, sizeof(n->buf));
		const struct nlmsghdr *nlh;
		int left;

		if (len < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return seen;
			if (errno == ENOBUFS) {
				/* we missed some: whatever happened, read it all */
				*genid = 0;
				seen = 1;
				continue;
			}
			if (errno == EINTR)
				continue;
			return -errno;
		}
		left = (int)len;
		for (nlh = (const struct nlmsghdr *)n->buf; mnl_nlmsg_ok(nlh, left);
		     nlh = mnl_nlmsg_next(nlh, &left)) {
			uint32_t id = 0;

			if (NFNL_SUBSYS_ID(nlh->nlmsg_type) != NFNL_SUBSYS_NFTABLES ||
			    NFNL_MSG_TYPE(nlh->nlmsg_type) != NFT_MSG_NEWGEN)
				continue;
			mnl_attr_parse(nlh, sizeof(struct nfgenmsg), gen_attr, &id);
			if (seen && *genid == 0 && id)
				continue; /* after lost messages, keep "read it all" */
			*genid = id;
			seen = 1;
		}
	}
}
