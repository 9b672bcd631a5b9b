/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The kernel's payload fast path on non-first fragments, as an image
 * rewrite, so that the differential test can predict what a kernel with
 * that bug counts and decides (harness/quirk.py says when it applies).
 *
 * nft_payload_select_ops() sends a load of 1, 2 or 4 bytes at an offset
 * aligned to its length, from the network or transport header, to
 * nft_payload_fast_eval(), which nft_do_chain() runs inline. For the
 * transport header it reads skb->data + thoff + offset without looking at
 * the fragment offset (kernels up to at least 6.18; the slow path,
 * nft_payload_eval(), BREAKs on a non-first fragment). On such a fragment,
 * thoff is the IPv4 header length, so the load reads the fragment's own
 * data as if it were the transport header.
 *
 * The interpreter keeps the correct semantics; this lives only in the test.
 */
#ifndef FN_DIFF_FAST_PATH_QUIRK_H
#define FN_DIFF_FAST_PATH_QUIRK_H

#include <stddef.h>

/*
 * A copy of image (malloc'ed, in *out) in which every transport load the
 * kernel would take through its fast path reads the network header at
 * ihl + offset instead: what the kernel reads on a non-first fragment whose
 * IPv4 header is ihl bytes. Returns how many loads were rewritten (0: the
 * ruleset has none, the copy is unchanged), or -1 when one cannot be
 * expressed (an offset past 255) or memory ran out.
 */
int fn_quirk_fast_payload_image(const void *image, size_t len, unsigned ihl, void **out);

#endif /* FN_DIFF_FAST_PATH_QUIRK_H */
