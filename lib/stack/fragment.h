/* SPDX-License-Identifier: BSD-3-Clause */
/* IPv4 fragmentation on transmit (RFC 791). */
#ifndef FN_FRAGMENT_H
#define FN_FRAGMENT_H

#include <errno.h>
#include <stdint.h>

#include "fn_build_config.h"

struct fn_queue;

#if FN_WITH_FRAG
/*
 * Split the datagram at l3 (len bytes, header without options) into
 * MTU-sized fragments and send them to nexthop. All or nothing: the mbufs are
 * allocated before any fragment leaves. 0, or -ENOBUFS.
 */
int fn_ipv4_fragment(struct fn_queue *q, const uint8_t *l3, uint32_t len, uint32_t nexthop);
#else
static inline int fn_ipv4_fragment(struct fn_queue *q, const uint8_t *l3, uint32_t len,
				   uint32_t nexthop)
{
	(void)q; (void)l3; (void)len; (void)nexthop;
	return -EMSGSIZE;
}
#endif

#endif /* FN_FRAGMENT_H */
