/* SPDX-License-Identifier: BSD-3-Clause */
/* Lowering a dumped table (dump.h) to a rules image (lib/nft/image.h). */
#ifndef FN_COMPILER_LOWER_H
#define FN_COMPILER_LOWER_H

#include <stddef.h>

#include <stdbool.h>

#include "dump.h"

/* 0 with a malloc'd image, or -errno (-EOPNOTSUPP for constructs the
 * interpreter cannot reproduce) with a message naming the table, chain,
 * rule handle and expression. The image has passed the library's
 * verifier. classify: put classify ops in front of runs of simple rules
 * (image.h), else every rule runs in turn. */
int fn_lower(const struct fn_dump *d, bool classify, void **image, size_t *len,
	     char *err, size_t errlen);

#endif /* FN_COMPILER_LOWER_H */
