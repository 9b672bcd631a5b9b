/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The stateful objects by slot: what a counter, quota or limit op does,
 * shared with objref maps (expr_objref.c), which pick the slot per packet.
 */
#ifndef FN_NFT_EXPR_OBJECT_H
#define FN_NFT_EXPR_OBJECT_H

#include "nft.h"

void fn_counter_slot_eval(struct fn_nft_ctx *c, uint32_t slot);
void fn_quota_slot_eval(struct fn_nft_ctx *c, uint32_t slot);
void fn_limit_slot_eval(struct fn_nft_ctx *c, uint32_t slot);

#endif /* FN_NFT_EXPR_OBJECT_H */
