/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Building classify ops (image.h) for an image's rules: finds the runs of
 * simple rules in each chain and puts in front of each run an op that jumps
 * to the first rule that can match. Used by the builder at finish.
 */
#ifndef FN_NFT_CLASSIFY_H
#define FN_NFT_CLASSIFY_H

#include <stddef.h>
#include <stdint.h>

#include "image.h"

/*
 * rules[] (of chains[]) point into code[0, code_len). On success *new_code
 * (malloc'd) holds every rule's ops, with a classify op first in each run,
 * rules[] are updated to point into it and *tables (malloc'd, possibly
 * NULL with *tables_len 0) is the classify section. 0 or -ENOMEM/-E2BIG.
 */
int fn_classify_build(const struct fn_img_chain *chains, uint32_t n_chains,
		      struct fn_img_rule *rules, uint32_t n_rules,
		      const uint8_t *code, size_t code_len,
		      uint8_t **new_code, size_t *new_code_len,
		      uint8_t **tables, size_t *tables_len);

#endif /* FN_NFT_CLASSIFY_H */
