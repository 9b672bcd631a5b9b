/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Kernel enforcement under test: an image's XDP rules program (test
 * epilogue) run on a frame with BPF_PROG_TEST_RUN, then the interpreter
 * resumed from the metadata the program wrote, and per hook the result the
 * two give together. Shared by tests/xdp and the differential driver
 * (tests/diff), so that both check the same composition.
 *
 * The deciding rule of what the kernel part decided comes from its decision
 * slots (codegen.h): the counters it moved on this frame. Its counts of the
 * image's counter slots are added to the interpreter state given, so that
 * state's listings are the sum of both parts, as fragnetctl reports them.
 */
#ifndef FN_XDP_HARNESS_H
#define FN_XDP_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/bpf.h>

#include "nft/eval.h"
#include "nft/nft.h"
#include "xdp/meta.h"

struct xh;

/* Verify, split, generate (test epilogue) and load. NULL + errno, with a
 * message (the verifier's log for a refused program) in err. */
struct xh *xh_new(const void *image, size_t len, char *err, size_t errlen);
void xh_free(struct xh *x);

/* The XDP program and how its rules split. */
const struct fn_xdp_code *xh_code(const struct xh *x);
const struct fn_xdp_split *xh_split(const struct xh *x);

/* What the kernel part did with one frame. */
struct xh_kernel {
	uint32_t retval;                 /* XDP_TX (handed over) or XDP_DROP */
	struct fn_xdp_meta meta;         /* when XDP_TX */
	/* per hook (prerouting, input): the last decision on this frame, or
	 * -1 (decision index into the code) */
	int last[2];
};

/* Run frame (len bytes, Ethernet first) through the program; add the
 * counts it took to s. 0 or -errno (-EPROTO: the program's output breaks
 * its own rules: no or bad meta, two decisions in one base chain). */
int xh_kernel(struct xh *x, struct fn_nft_state *s, const uint8_t *frame, size_t len,
	      struct xh_kernel *k);

/*
 * The result of `hook` (prerouting or input) for the frame k was made from:
 * from the kernel part's decisions, or by resuming s where it stopped, or by
 * running the hook in s. pkt is the packet as that hook sees it. false when
 * the hook does not run for this frame (the kernel dropped before it).
 */
bool xh_hook(struct xh *x, struct fn_nft_state *s, const struct xh_kernel *k,
	     enum fn_hook hook, struct fn_pkt *pkt, struct fn_nft_result *res);

#endif /* FN_XDP_HARNESS_H */
