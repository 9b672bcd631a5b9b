/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IPv4 datagrams for tests, fuzzers and benchmarks: UDP, ICMP, fragments
 * of either, with the checksums of the library's own lib/stack/csum.h, and
 * the interpreter's view (lib/nft/packet.h) of what was built. No DPDK.
 *
 * Addresses are in network byte order (as stored in a header); ports, ids
 * and the fragment field in host order. Builders write into the caller's
 * buffer and return the bytes written: the whole datagram.
 */
#ifndef TEST_SUPPORT_PACKETS_H
#define TEST_SUPPORT_PACKETS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nft/packet.h"

#define TP_HDR 20               /* IPv4 header without options */
#define TP_DF 0x4000            /* fragment field: don't fragment */
#define TP_MF 0x2000            /* fragment field: more fragments */

/* What an IPv4 header carries besides addresses, protocol and length. */
struct tp_ip {
	uint16_t id;
	uint16_t frag;          /* TP_DF | TP_MF | offset / 8 */
	uint8_t ttl;            /* 0: 64 */
};

/* A 20-byte IPv4 header for `payload` bytes after it; returns TP_HDR.
 * opt may be NULL (id 0, no fragment bits, ttl 64). */
size_t tp_ipv4(uint8_t *buf, uint32_t src, uint32_t dst, uint8_t proto, size_t payload,
	       const struct tp_ip *opt);
/* Recompute the header checksum (any header length) after editing it. */
void tp_ipv4_fix(uint8_t *ip);

/* UDP from sport to dport with `len` bytes of payload (NULL: the bytes
 * already at buf + 28), header and UDP checksums filled in. */
size_t tp_udp(uint8_t *buf, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport,
	      const void *payload, size_t len, const struct tp_ip *opt);
/* ICMP type/code with id and seq (the echo layout) and `len` bytes of data
 * (NULL: already at buf + 28). */
size_t tp_icmp(uint8_t *buf, uint32_t src, uint32_t dst, uint8_t type, uint8_t code,
	       uint16_t id, uint16_t seq, const void *data, size_t len);

/* The fragment of datagram `dgram` (20-byte header) holding payload bytes
 * [off, off + len): its header with total length, offset (off is a multiple
 * of 8) and MF set from `more`, checksum fixed. */
size_t tp_fragment(uint8_t *out, const uint8_t *dgram, size_t off, size_t len, bool more);

/* The header checksum, and the UDP (unless zero: none) or ICMP checksum of
 * an unfragmented datagram, verify. */
bool tp_checksums_ok(const uint8_t *ip, size_t len);

/*
 * The interpreter's view of the datagram or fragment at l3 (len bytes, its
 * total length): no transport header on a non-first fragment, nor when the
 * datagram is too short for the header of its transport (TCP, UDP, ICMP).
 * Other fields are zero.
 */
struct fn_pkt tp_view(uint8_t *l3, uint32_t len);

#endif /* TEST_SUPPORT_PACKETS_H */
