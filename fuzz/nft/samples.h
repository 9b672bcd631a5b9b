/* SPDX-License-Identifier: BSD-3-Clause */
/* Valid images that use every op type: seeds for the fuzzers, and the
 * subject of the verifier's mutation test. */
#ifndef FN_NFT_SAMPLES_H
#define FN_NFT_SAMPLES_H

#include <stddef.h>

#define FN_SAMPLES 4

/* A malloc'd image; its length in *len. NULL on allocation failure. */
void *fn_sample_image(unsigned which, size_t *len);

#endif /* FN_NFT_SAMPLES_H */
