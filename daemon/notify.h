/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nftables change notifications from the compile namespace (netlink group
 * NFNLGRP_NFTABLES). Every committed transaction ends with exactly one
 * NFT_MSG_NEWGEN carrying the new generation id: that is when to look again,
 * whoever made the change (fragnetd itself, or `nft` run by an administrator).
 */
#ifndef FND_NOTIFY_H
#define FND_NOTIFY_H

#include <stdbool.h>
#include <stdint.h>

struct fnd_notify;

/* Subscribe inside the namespace at ns_fd. NULL + errno. */
struct fnd_notify *fnd_notify_open(int ns_fd);
void fnd_notify_close(struct fnd_notify *n);
int fnd_notify_fd(const struct fnd_notify *n);

/*
 * Read what is pending (non-blocking). Returns 1 when a commit was seen
 * (*genid: the newest generation id, 0 when notifications were lost and the
 * namespace must be read again regardless), 0 when nothing relevant came,
 * or -errno.
 */
int fnd_notify_read(struct fnd_notify *n, uint32_t *genid);

#endif /* FND_NOTIFY_H */
