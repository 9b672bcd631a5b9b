/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ICMP: echo replies, and destination-unreachable errors (closed UDP port,
 * unknown protocol, filter rejects), rate-limited per queue. Built only with
 * -Dicmp=true; without it errors are simply not sent.
 */
#ifndef FN_ICMP_H
#define FN_ICMP_H

#include <stdint.h>

#include "fn_build_config.h"
#include "filter/filter.h"

struct fn_queue;

#define FN_ICMP_ECHO_REPLY 0
#define FN_ICMP_DEST_UNREACH 3
#define FN_ICMP_ECHO_REQUEST 8
#define FN_ICMP_NET_UNREACH 0
#define FN_ICMP_HOST_UNREACH 1
#define FN_ICMP_PROT_UNREACH 2
#define FN_ICMP_PORT_UNREACH 3
#define FN_ICMP_NET_PROHIB 9
#define FN_ICMP_HOST_PROHIB 10
#define FN_ICMP_ADMIN_PROHIB 13

#define FN_ICMP_RATE 1000   /* errors per second per queue (Linux: icmp_msgs_per_sec) */
#define FN_ICMP_BURST 50

#if FN_WITH_ICMP
/* A whole datagram (l3, len) addressed to us with protocol ICMP. */
void fn_icmp_input(struct fn_queue *q, uint8_t *l3, uint32_t len, uint8_t pkttype);
/* Answer the datagram at l3 with an ICMP error, unless RFC 1122 forbids it
 * (errors about errors, broadcasts, non-first fragments) or the rate limit. */
void fn_icmp_error(struct fn_queue *q, const uint8_t *l3, uint32_t len,
		   uint8_t type, uint8_t code);
#else
static inline void fn_icmp_error(struct fn_queue *q, const uint8_t *l3, uint32_t len,
				 uint8_t type, uint8_t code)
{
	(void)q; (void)l3; (void)len; (void)type; (void)code;
}
#endif

/* The error a reject verdict asks for. */
static inline void fn_icmp_reject(struct fn_queue *q, const uint8_t *l3, uint32_t len,
				  enum fn_verdict v)
{
	static const uint8_t code[] = {
		[FN_REJECT_PORT_UNREACH] = FN_ICMP_PORT_UNREACH,
		[FN_REJECT_ADMIN_PROHIB] = FN_ICMP_ADMIN_PROHIB,
		[FN_REJECT_NET_UNREACH] = FN_ICMP_NET_UNREACH,
		[FN_REJECT_HOST_UNREACH] = FN_ICMP_HOST_UNREACH,
		[FN_REJECT_PROT_UNREACH] = FN_ICMP_PROT_UNREACH,
		[FN_REJECT_NET_PROHIB] = FN_ICMP_NET_PROHIB,
		[FN_REJECT_HOST_PROHIB] = FN_ICMP_HOST_PROHIB,
	};

	if (v >= FN_REJECT_FIRST && v <= FN_REJECT_LAST)
		fn_icmp_error(q, l3, len, FN_ICMP_DEST_UNREACH, code[v]);
}

#endif /* FN_ICMP_H */
