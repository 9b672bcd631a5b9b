/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the kernel part of an application's rules (the XDP rules program,
 * xdp/codegen.c) writes in front of every frame it hands to the application:
 * where the in-process interpreter resumes. Shared by the generated program,
 * the library and the tests; needs neither DPDK nor libbpf.
 *
 * The kernel runs the prerouting then input base chains up to their
 * boundaries (xdp/split.c). The application runs base chain `chain` of
 * `hook` from global rule `rule` with an empty jump stack, then the later
 * base chains of that hook, then (after prerouting) the input hook as usual.
 * Nothing before the resume point is evaluated again in-process.
 */
#ifndef FN_XDP_META_H
#define FN_XDP_META_H

#include <stdint.h>

#define FN_XDP_META_MAGIC 0x4d584e46u        /* "FNXM" little-endian */
#define FN_XDP_RESUME_START 0xff   /* nothing judged: run everything in-process */
#define FN_XDP_RESUME_DONE  0xfe   /* prerouting and input fully judged: skip both */

struct fn_xdp_meta {
	uint32_t magic;
	uint8_t  hook;        /* FN_HOOK_PREROUTING or FN_HOOK_INPUT where to resume, or a RESUME_* value */
	uint8_t  chain;       /* base chain index within the hook (0 .. hook_count-1) */
	uint16_t pad;
	uint32_t rule;        /* global rule index (into prog->rules) to resume at, in that base chain */
	uint32_t pad2;
	uint64_t generation;  /* fragnetd's generation number of the image the kernel used */
};                        /* 24 bytes */

_Static_assert(sizeof(struct fn_xdp_meta) == 24, "fn_xdp_meta is 24 bytes");

#endif /* FN_XDP_META_H */
