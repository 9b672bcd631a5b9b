/* SPDX-License-Identifier: BSD-3-Clause */
/* The lookup op's eval, called by the interpreter's hot dispatch and by the
 * registry entry in expr_lookup.c. */
#ifndef FN_NFT_EXPR_LOOKUP_H
#define FN_NFT_EXPR_LOOKUP_H

#include "nft.h"

/* lookup: set membership, map data or a verdict map's verdict. */
void fn_lookup_eval(struct fn_nft_ctx *c, const struct fn_op *op);

#endif /* FN_NFT_EXPR_LOOKUP_H */
