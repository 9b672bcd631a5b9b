/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Loading the kernel part of one application's rules: create and fill the
 * maps codegen.c described, patch their fds into the instructions, load the
 * XDP program, and read its counters back. Used by fragnetd, the tests and
 * the benchmark. Needs CAP_BPF (root here: unprivileged bpf() is off).
 */
#ifndef FN_XDP_LOAD_H
#define FN_XDP_LOAD_H

#include <stddef.h>
#include <stdint.h>

#include "codegen.h"

struct fn_xdp_rules {
	int prog_fd;
	int counters_fd;         /* per-CPU array of struct fn_nft_counter */
	int *set_fds;            /* code->maps[FN_XDP_MAP_SETS + i] */
	uint32_t n_set_fds;
	uint32_t n_slots;        /* kernel counter slots (codegen.h) */
	uint32_t n_pages;
};

/*
 * Load `code` (made from p) as an XDP program named "fn_rules_<app>"
 * (shortened to the kernel's 15 characters), with expected_attach_type
 * BPF_XDP so a steering program can tail call it. xsks_fd is the
 * application's XSKMAP, or -1 for code with the test epilogue. On a refused
 * program the verifier's log (its end) goes to log when given.
 * 0, or -errno with nothing left open:
 *  -EINVAL   xsks_fd does not fit the code's epilogue
 *  -ENOMEM
 *  or what bpf() said (-EACCES: the verifier refused the program, -EPERM).
 */
int fn_xdp_load(const struct fn_nft_prog *p, const struct fn_xdp_code *code, int xsks_fd,
		const char *app, struct fn_xdp_rules *out, char *log, size_t loglen);
void fn_xdp_rules_close(struct fn_xdp_rules *r);

/* Kernel counter slots [first, first + n), summed over CPUs: code->slot_image
 * and code->decisions say what each counts. 0, -EINVAL (beyond n_slots),
 * -ENOMEM, or what bpf() said. */
int fn_xdp_read_counters(const struct fn_xdp_rules *r, uint32_t first, uint32_t n,
			 struct fn_nft_counter *out);

#endif /* FN_XDP_LOAD_H */
