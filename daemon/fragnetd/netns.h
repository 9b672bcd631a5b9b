/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Named network namespaces, made the way `ip netns add` makes them (a bind
 * mount of the namespace on /run/netns/NAME, that directory a shared mount),
 * so that an administrator can `ip netns exec NAME nft ...` in the one the
 * daemon compiles in.
 */
#ifndef FND_NETNS_H
#define FND_NETNS_H

#include <stdbool.h>
#include <stddef.h>

#define FND_NETNS_DIR "/run/netns"

/* Create /run/netns/NAME, or adopt it when it already is a namespace
 * (*created says which). 0 or -errno with the reason in err. */
int fnd_netns_create(const char *name, bool *created, char *err, size_t errlen);

/* Unmount and remove /run/netns/NAME. 0 or -errno. */
int fnd_netns_delete(const char *name);

/* Move the calling thread into the namespace at ns_fd; *home remembers
 * where it was for fnd_netns_leave(). 0 or -errno. */
int fnd_netns_enter(int ns_fd, int *home);
int fnd_netns_leave(int home);

/* An fd for /run/netns/NAME, or -errno. */
int fnd_netns_open(const char *name);

#endif /* FND_NETNS_H */
