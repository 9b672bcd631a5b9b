/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Test helper: load xsk_redirect.bpf.o, attach it to an interface through a
 * BPF link (detached when the process exits, so the interface is left as
 * found) and insert AF_XDP sockets into its XSKMAP. Root only: this is
 * fragnetd's job in the real system, never the application's.
 */
#ifndef FN_TEST_XSK_PROG_H
#define FN_TEST_XSK_PROG_H

#include <stdbool.h>
#include <stdint.h>

struct bpf_object;

struct xsk_prog {
	struct bpf_object *obj;
	int link_fd;        /* the attachment: closing it detaches */
	int xsks_fd;
	unsigned ifindex;
};

/* addr and meta_port in network order; skb: generic XDP, else native.
 * 0 or -errno (a message on stderr). */
int xsk_prog_attach(struct xsk_prog *p, const char *obj_path, const char *ifname,
		    uint32_t addr, uint16_t meta_port, bool skb);
/* Bind the AF_XDP socket fd (as the library leaves it: unbound, for
 * fragnetd) to kernel queue `queue`, and steer that queue to it, as
 * fragnetd would. 0 or -errno. */
int xsk_prog_insert(struct xsk_prog *p, uint32_t queue, int fd);
void xsk_prog_detach(struct xsk_prog *p);

#endif /* FN_TEST_XSK_PROG_H */
