/* SPDX-License-Identifier: BSD-3-Clause */
/* Helpers for the interpreter tests: packets with their fn_pkt view, images
 * built op by op (tests/support/images.h) and loaded, a clock the tests move
 * by hand. */
#ifndef FN_NFT_TEST_H
#define FN_NFT_TEST_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "images.h"
#include "filter/filter.h"
#include "nft/eval.h"
#include "nft/image.h"

#define IP4(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))

/* A packet in a buffer, with its fn_pkt view. */
struct tpkt {
	uint8_t buf[2048];
	struct fn_pkt pkt;
};

/* IPv4 + UDP with valid checksums; addresses in host order; the payload
 * bytes are i * 7 + 1. */
void t_udp(struct tpkt *t, uint32_t src, uint32_t dst, uint16_t sport,
	   uint16_t dport, size_t payload);
/* IPv4 + ICMP (type, code, id, seq) with valid checksums. */
void t_icmp(struct tpkt *t, uint32_t src, uint32_t dst, uint8_t type, uint8_t code,
	    uint16_t id, uint16_t seq);
/* Recompute the IPv4 header checksum after editing the header. */
void t_ip_csum(struct tpkt *t);
/* true when the IPv4 header and UDP checksums verify. */
int t_csums_ok(const struct tpkt *t);

/*
 * What a test allocates is owned by the test (T_TEST(f) runs f between
 * t_setup() and t_teardown()): t_teardown() frees whatever is still owned,
 * also when an assert failed half-way, so a failing test leaks nothing.
 * t_builder(), t_image(), t_load() and t_state() hand out owned objects;
 * t_own() makes anything owned; t_free() frees one now; t_disown() hands
 * one to a new owner (an image to fn_filter_install()).
 */
#define T_TEST(f) cmocka_unit_test_setup_teardown(f, t_setup, t_teardown)
int t_setup(void **state);
int t_teardown(void **state);
/* p (NULL: nothing) is freed by release(p) unless freed before; returns p. */
void *t_own(void *p, void (*release)(void *));
void t_free(void *p);
void *t_disown(void *p);

struct fn_imgb *t_builder(void);
/* Finish (the builder is consumed) and load: fails the test on error. */
struct fn_nft_state *t_load(struct fn_imgb *b);
/* Finish only: the image, malloc'd. */
void *t_image(struct fn_imgb *b, size_t *len);
/* Own a state made otherwise (fn_nft_state_new(), NULL included). */
struct fn_nft_state *t_state(struct fn_nft_state *s);

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
