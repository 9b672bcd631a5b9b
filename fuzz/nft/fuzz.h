/* SPDX-License-Identifier: BSD-3-Clause */
/* What each fuzz target provides to the libFuzzer driver or to replay.c. */
#ifndef FN_NFT_FUZZ_H
#define FN_NFT_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* The built-in seed corpus: emit(seed) once per seed. */
void fn_fuzz_seeds(void (*emit)(const uint8_t *data, size_t size));

#endif /* FN_NFT_FUZZ_H */
