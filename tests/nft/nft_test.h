/* SPDX-License-Identifier: BSD-3-Clause */
/* Helpers for the interpreter tests: packets, images built op by op, a
 * clock the tests move by hand. */
#ifndef FN_NFT_TEST_H
#define FN_NFT_TEST_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "filter/filter.h"
#include "nft/builder.h"
#include "nft/eval.h"
#include "nft/image.h"

#define IP4(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))

/* A packet in a buffer, with its fn_pkt view. */
struct tpkt {
	uint8_t buf[2048];
	struct fn_pkt pkt;
};

/* IPv4 + UDP with valid checksums; addresses in host order. */
void t_udp(struct tpkt *t, uint32_t src, uint32_t dst, uint16_t sport,
	   uint16_t dport, size_t payload);
/* IPv4 + ICMP (type, code, id, seq) with valid checksums. */
void t_icmp(struct tpkt *t, uint32_t src, uint32_t dst, uint8_t type, uint8_t code,
	    uint16_t id, uint16_t seq);
/* Recompute the IPv4 header checksum after editing the header. */
void t_ip_csum(struct tpkt *t);
/* true when the IPv4 header and UDP checksums verify. */
int t_csums_ok(const struct tpkt *t);

/* Image building shorthands: each appends one op to the current rule. */
void t_payload(struct fn_imgb *b, uint8_t base, uint8_t off, uint8_t len, uint8_t dreg);
void t_cmp(struct fn_imgb *b, uint8_t sreg, uint8_t op, const void *data, uint8_t len);
void t_cmp32(struct fn_imgb *b, uint8_t sreg, uint8_t op, uint32_t host_value);
void t_payload_cmp(struct fn_imgb *b, uint8_t base, uint8_t off, uint8_t len,
		   uint8_t op, const void *data);
void t_meta(struct fn_imgb *b, uint8_t key, uint8_t dreg);
void t_imm(struct fn_imgb *b, uint8_t dreg, const void *data, uint8_t len);
void t_verdict(struct fn_imgb *b, int32_t code, uint32_t chain);
void t_counter(struct fn_imgb *b, uint32_t chain, uint64_t handle);
void t_lookup(struct fn_imgb *b, uint8_t sreg, uint8_t dreg, uint32_t set, int invert);

/* Finish and load: fails the test on error. */
struct fn_nft_state *t_load(struct fn_imgb *b);
/* Finish only. */
void *t_image(struct fn_imgb *b, size_t *len);

/* A manual clock for limits, conntrack and time. */
struct tclock {
	uint64_t mono, real;
};
uint64_t t_mono(void *arg);
uint64_t t_real(void *arg);

/* Run one hook, return the verdict and handle. */
enum fn_verdict t_run(struct fn_nft_state *s, enum fn_hook hook, struct tpkt *t,
		      uint64_t *handle);

/* Sum of a rule's counter (packets) as fn_nft_counters reports it. */
uint64_t t_rule_packets(struct fn_nft_state *s, uint64_t handle);

#endif /* FN_NFT_TEST_H */
