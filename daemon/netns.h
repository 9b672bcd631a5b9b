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

/* Entering and leaving: fn_netns_enter()/fn_netns_leave() (compiler). */

/* An fd for /run/netns/NAME, or -errno. */
int fnd_netns_open(const char *name);

#endif /* FND_NETNS_H */
