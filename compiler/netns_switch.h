/* SPDX-License-Identifier: BSD-3-Clause */
/* Stepping the calling thread into a network namespace and back: how the
 * compiler and fragnetd talk to nftables inside their namespaces. */
#ifndef FN_NETNS_SWITCH_H
#define FN_NETNS_SWITCH_H

/* Enter the namespace of ns_fd; *home remembers where the thread was, for
 * fn_netns_leave(). 0 or -errno (the thread stays where it was). */
int fn_netns_enter(int ns_fd, int *home);
/* Go back to home and close it. 0 or -errno. */
int fn_netns_leave(int home);

#endif /* FN_NETNS_SWITCH_H */
