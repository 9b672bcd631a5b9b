/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The exactness check of the kernel part: every frame goes through the
 * interpreter alone (the reference) and through the XDP program followed by
 * the interpreter resumed from its metadata (xdp_harness.h), and both must
 * give the same verdict, deciding chain and rule per hook, the same packet
 * and mark out, and in the end the same counters.
 */
#ifndef FN_XDP_TEST_H
#define FN_XDP_TEST_H

#include "xdp_harness.h"
#include "../nft/nft_test.h"

#define T_MAC_HOST 0
#define T_MAC_BROADCAST 1
#define T_MAC_MULTICAST 2

struct tframe {
	uint8_t b[2048];
	size_t len;          /* the frame: Ethernet, datagram, any trailer */
	uint8_t pkttype;     /* enum fn_pkttype, from the destination MAC */
};

/* An Ethernet frame around datagram t (T_MAC_*), with `trailer` bytes of
 * link padding after it. */
void t_frame(struct tframe *f, const struct tpkt *t, int mac, size_t trailer);

struct tenv {
	struct fn_nft_state *ref, *comb;
	struct xh *x;
	struct tclock clock;
	const char *what;    /* printed on a mismatch */
	void *image;         /* a copy, dumped on a mismatch */
	size_t len;
	/* what the kernel part did with the frames so far */
	unsigned n_drop, n_done, n_resumed, n_start;
};

/* Load image into a reference state, a combined state and the XDP program;
 * fails the test if the program is refused. */
void t_env_open(struct tenv *e, const void *image, size_t len);
void t_env_close(struct tenv *e);

/* One frame through both; fails the test on any difference. The kernel
 * part's outcome in *k (may be NULL). Returns the final verdict. */
enum fn_verdict t_check(struct tenv *e, const struct tframe *f, struct xh_kernel *k);

/* Rule and named counters of both, equal or the test fails. */
void t_check_counters(struct tenv *e);

/* Image building shorthands for the ops nft_test.h has none for. */
void t_meta_cmp(struct fn_imgb *b, uint8_t key, uint8_t op, const void *data, uint8_t len);
void t_range(struct fn_imgb *b, uint8_t sreg, uint8_t op, const void *from, const void *to,
	     uint8_t len);
void t_bitwise(struct fn_imgb *b, uint8_t sreg, uint8_t dreg, uint8_t len, const void *mask,
	       const void *xor);
void t_shift(struct fn_imgb *b, uint8_t sreg, uint8_t dreg, uint8_t len, uint8_t op,
	     uint8_t shift);
void t_byteorder(struct fn_imgb *b, uint8_t sreg, uint8_t dreg, uint8_t op, uint8_t size);
/* An op holding only a slot (limit, quota, log). */
void t_slot_op(struct fn_imgb *b, uint8_t type, uint32_t slot);
void t_reject(struct fn_imgb *b, uint8_t verdict);
void t_meta_set(struct fn_imgb *b, uint8_t key, uint8_t sreg);
void t_payload_set(struct fn_imgb *b, uint8_t base, uint8_t off, uint8_t len, uint8_t sreg);
void t_ct(struct fn_imgb *b, uint8_t key, uint8_t dreg);

void t_be16(uint8_t *p, uint16_t v);
void t_be32(uint8_t *p, uint32_t v);

#endif /* FN_XDP_TEST_H */
