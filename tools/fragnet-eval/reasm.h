/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IPv4 reassembly for the offline evaluator, with the kernel's rules that
 * matter to a filter: the datagram keeps the first fragment's header (frag
 * field cleared, length and checksum rewritten), an exact duplicate is
 * ignored, any other overlap discards the whole datagram.
 */
#ifndef FN_EVAL_REASM_H
#define FN_EVAL_REASM_H

#include <stdint.h>

struct fn_reasm;

struct fn_reasm *fn_reasm_new(void);
void fn_reasm_free(struct fn_reasm *r);

/*
 * Add one fragment (a whole IPv4 datagram, header checked). Returns the
 * length of the completed datagram copied to out (65535 bytes), or 0 while
 * it is incomplete or when the fragment was discarded.
 */
uint32_t fn_reasm_add(struct fn_reasm *r, const uint8_t *frag, uint32_t len, uint8_t *out);

#endif /* FN_EVAL_REASM_H */
