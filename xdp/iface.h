/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fragnetd's XDP program on one interface (the steering program of
 * steer.bpf.c) and its maps, seen from user space.
 *
 * The maps are pinned under PIN_DIR/IFNAME/ so that they, and the program
 * attached to the interface, outlive the daemon: a daemon killed with -9
 * leaves the kernel enforcing the last rules, and the next one adopts what it
 * finds instead of attaching again. The program is attached with libxdp
 * (through its dispatcher where the kernel allows one, so that other XDP
 * programs coexist; alone otherwise).
 *
 * Only fragnetd calls this (CAP_NET_ADMIN, CAP_BPF): applications never touch
 * BPF. Functions return 0 or -errno, with a message in err where given.
 */
#ifndef FN_XDP_IFACE_H
#define FN_XDP_IFACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "steer.h"

enum fn_xdp_mode {
	FN_XDP_MODE_AUTO = 0,     /* native when the driver has it, else generic */
	FN_XDP_MODE_NATIVE,
	FN_XDP_MODE_SKB,          /* generic XDP: any driver, slower */
};

struct fn_xdp_iface;

/*
 * Open the program on ifname: adopt it when our program is already attached
 * there (its pinned maps with it), else load, pin and attach. *adopted says
 * which. mac is the interface's address (the program takes frames to it and
 * to broadcast only).
 */
int fn_xdp_iface_open(const char *ifname, const char *pin_dir, enum fn_xdp_mode mode,
		      struct fn_xdp_iface **out, bool *adopted, char *err, size_t errlen);
/* Close our handles; the program and its pinned maps stay in the kernel. */
void fn_xdp_iface_close(struct fn_xdp_iface *x);
/* Detach the program and remove the pins: the interface is the kernel's
 * again. Closes x. */
int fn_xdp_iface_remove(struct fn_xdp_iface *x);

int fn_xdp_iface_ifindex(const struct fn_xdp_iface *x);
/* The attached program's id and mode ("native", "skb"), for fragnetctl. */
uint32_t fn_xdp_iface_prog_id(const struct fn_xdp_iface *x);
const char *fn_xdp_iface_mode_name(const struct fn_xdp_iface *x);

/* Steer addr (network order) to application slot (flags FN_STEER_F_*), or
 * stop steering it. */
int fn_xdp_iface_set_app(struct fn_xdp_iface *x, uint32_t addr, uint32_t slot, uint32_t flags);
int fn_xdp_iface_del_app(struct fn_xdp_iface *x, uint32_t addr);
/* Every steered address: *addr 0 starts, then the previous one; 0 with the
 * next address and its slot, -ENOENT after the last. */
int fn_xdp_iface_next_app(struct fn_xdp_iface *x, uint32_t *addr, uint32_t *slot);
/* The slot of addr, or -ENOENT. */
int fn_xdp_iface_app_slot(struct fn_xdp_iface *x, uint32_t addr, uint32_t *slot);

/*
 * Queue q belongs to slot from now on, with this AF_XDP socket. The socket
 * arrives unbound (its UMEM and rings set up by the application): we bind it
 * to queue q of this interface ourselves, so where it is bound is known, not
 * claimed (this kernel has no xdp_diag to ask). bind_flags: XDP_COPY,
 * XDP_ZEROCOPY, XDP_USE_NEED_WAKEUP. Closing the caller's fd afterwards is
 * right: the socket lives as long as the application's, and leaves the
 * XSKMAP by itself when the application closes it.
 *  -ENOTSOCK not an AF_XDP socket; -EBUSY already bound; bind's errno
 */
int fn_xdp_iface_set_queue(struct fn_xdp_iface *x, uint32_t q, uint32_t slot, int xsk_fd,
			   uint16_t bind_flags);
/* Queue q belongs to nobody. */
int fn_xdp_iface_clear_queue(struct fn_xdp_iface *x, uint32_t q);
/* The slot owning queue q, or -ENOENT. */
int fn_xdp_iface_queue_owner(struct fn_xdp_iface *x, uint32_t q, uint32_t *slot);

/* The rules program of slot (an XDP program loaded with expected attach
 * type BPF_XDP): one atomic swap, every packet sees the old or the new one.
 * prog_fd -1 removes it (the slot's traffic is then dropped). */
int fn_xdp_iface_set_rules(struct fn_xdp_iface *x, uint32_t slot, int prog_fd);
/* The id of slot's rules program (0: none). */
uint32_t fn_xdp_iface_rules_id(struct fn_xdp_iface *x, uint32_t slot);
/* fragnetd's generation of slot's rules program, kept beside it in a pinned
 * map so that a restarted daemon knows what the kernel runs (0: none). */
int fn_xdp_iface_set_rules_gen(struct fn_xdp_iface *x, uint32_t slot, uint64_t generation);
uint64_t fn_xdp_iface_rules_gen(struct fn_xdp_iface *x, uint32_t slot);
/* The application slot serves (fn_names), kept beside it so that a
 * restarted daemon gives a slot's queues and their sockets only to the
 * application that had them. */
int fn_xdp_iface_set_slot_name(struct fn_xdp_iface *x, uint32_t slot, const char *name);
bool fn_xdp_iface_slot_is(struct fn_xdp_iface *x, uint32_t slot, const char *name);
/* Take from slot all an application had: its queues (and the sockets on
 * them), its rules program and generation, its name. */
int fn_xdp_iface_release_slot(struct fn_xdp_iface *x, uint32_t slot);
/* The XSKMAP, which a rules program's epilogue redirects into. */
int fn_xdp_iface_xsks_fd(const struct fn_xdp_iface *x);

/* The steering counters summed over CPUs, FN_STEER_STAT_MAX of them. */
int fn_xdp_iface_stats(struct fn_xdp_iface *x, uint64_t out[FN_STEER_STAT_MAX]);
const char *fn_xdp_steer_stat_name(unsigned stat);

#endif /* FN_XDP_IFACE_H */
