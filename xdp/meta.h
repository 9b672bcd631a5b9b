/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What fragnetd's XDP program tells the application about a packet it hands
 * over: written in front of the packet (bpf_xdp_adjust_meta), read by the
 * library's AF_XDP port. The kernel part judges a packet's prerouting and
 * input hooks up to the first rule it cannot run exactly; the application
 * resumes from there, with the same generation of rules. Shared by the BPF
 * programs (xdp/), their compiler and libfragnet: plain C, no DPDK, no libbpf.
 */
#ifndef FN_XDP_META_H
#define FN_XDP_META_H

#include <linux/types.h>

#define FN_XDP_META_MAGIC 0x4d584e46u   /* "FNXM" read as a little-endian u32 */
#define FN_XDP_RESUME_START 0xff        /* nothing judged: run everything in-process */
#define FN_XDP_RESUME_DONE 0xfe         /* prerouting and input fully judged: skip both */

struct fn_xdp_meta {
	__u32 magic;
	__u8 hook;         /* FN_HOOK_PREROUTING or FN_HOOK_INPUT to resume at, or FN_XDP_RESUME_* */
	__u8 chain;        /* base chain index within the hook (0 .. hook_count - 1) */
	__u16 pad;
	__u32 rule;        /* global rule index to resume at, in that base chain */
	__u32 pad2;
	__u64 generation;  /* fragnetd's number of the rules the kernel used */
};

#define FN_XDP_META_LEN 24

_Static_assert(sizeof(struct fn_xdp_meta) == FN_XDP_META_LEN, "fn_xdp_meta is 24 bytes");

#endif /* FN_XDP_META_H */
