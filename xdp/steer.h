/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The steering program's maps, shared by xdp/steer.bpf.c and fragnetd (which
 * creates, pins and fills them). One program per served interface:
 *
 *   fn_apps    IPv4 address (network order) -> struct fn_steer_app
 *   fn_owner   rx queue -> application slot + 1 that owns it (0: nobody)
 *   fn_xsks    rx queue -> the owner's AF_XDP socket bound to that queue
 *   fn_rules   application slot -> its rules program (tail call)
 *   fn_stats   per-CPU counters, enum fn_steer_stat
 *   fn_config  the interface's MAC (struct fn_steer_config)
 *   fn_gens    application slot -> fragnetd's generation of its rules program
 *   fn_names   application slot -> the application it serves (struct fn_steer_name)
 *
 * An application has a dedicated IPv4 address on the interface: ARP for it,
 * and every IPv4 packet to it, go to the application; everything else
 * (the kernel's own addresses, broadcasts, other protocols) is XDP_PASS.
 */
#ifndef FN_XDP_STEER_H
#define FN_XDP_STEER_H

#include <linux/types.h>

#define FN_STEER_MAX_APPS 64      /* slots in fn_rules */
#define FN_STEER_MAX_QUEUES 64    /* rx queues of one interface */

/* fn_steer_app.flags */
#define FN_STEER_F_FRAG_DROP 0x1u /* drop fragments here instead of handing them
				   * to the application unjudged */

struct fn_steer_app {
	__u32 slot;               /* index in fn_rules */
	__u32 flags;              /* FN_STEER_F_* */
};

/* fn_names[slot], for fragnetd only: a restarted daemon gives a slot's
 * queues (and the sockets on them) only to the application that had them. */
#define FN_STEER_NAME_MAX 64
struct fn_steer_name {
	char name[FN_STEER_NAME_MAX]; /* "" : none */
};

/* fn_config[0] */
struct fn_steer_config {
	__u8 mac[6];              /* the interface's: frames to other unicast MACs are not ours */
	__u16 pad;
};

enum fn_steer_stat {
	FN_STEER_PASS,            /* not for an application: to the kernel */
	FN_STEER_ARP,             /* ARP for an application: handed over */
	FN_STEER_FRAGMENT,        /* a fragment: handed over unjudged */
	FN_STEER_FRAG_DROPPED,    /* a fragment dropped (FN_STEER_F_FRAG_DROP) */
	FN_STEER_RULES,           /* judged by the application's rules program */
	FN_STEER_NO_RULES,        /* dropped: the application has no rules program */
	FN_STEER_MALFORMED,       /* dropped: the stack would drop it before any hook */
	FN_STEER_WRONG_QUEUE,     /* dropped: the queue belongs to no or another application */
	FN_STEER_NO_SOCKET,       /* dropped: no AF_XDP socket on the queue */
	FN_STEER_STAT_MAX
};

#endif /* FN_XDP_STEER_H */
