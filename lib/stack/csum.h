/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The Internet checksum (RFC 1071): the one implementation, used by the
 * stack, the nft interpreter (conntrack's checks, payload set's fixups), the
 * tools, the benchmarks and the tests. Header-only and free of DPDK, so that
 * lib/nft can use it.
 *
 * A sum is a one's complement sum kept in a uint64_t, added 8 bytes a step
 * with the end-around carries counted on the side, folded to 16 bits at the
 * end: twice as fast as DPDK's 16-bit loop on the echo path, where every
 * datagram is summed twice (verify, then fill). A one's complement sum does
 * not care about byte order, so words are loaded in host order and a folded
 * result is in memory order: store it with fn_csum_store(), and read a
 * checksum field with fn_csum_load() to use it in a sum.
 *
 * A sum is 0 only when every byte summed was 0, as in the kernel's
 * arithmetic; the results below keep that distinction where the kernel's
 * do, so they tell 0 from 0xffff as it does.
 */
#ifndef FN_CSUM_H
#define FN_CSUM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/*
 * Add len bytes at p to a running sum (which must stay below 2^63). The
 * first byte is the high-order byte of a network-order word, so pieces add
 * up to the sum of the whole only when every piece but the last has an
 * even length.
 */
static inline uint64_t fn_csum_add(uint64_t sum, const void *p, size_t len)
{
	const uint8_t *b = p;
	uint64_t acc = 0, carry = 0, w;
	uint32_t w4;
	uint16_t h;

	/* 8 bytes a step; the end-around carry is counted, not propagated,
	 * so the loop stays short for the small datagrams that dominate. */
	for (; len >= 8; len -= 8, b += 8) {
		memcpy(&w, b, 8);
		acc += w;
		carry += acc < w;
	}
	sum += (acc & 0xffffffff) + (acc >> 32) + carry;
	if (len >= 4) {
		memcpy(&w4, b, 4);
		sum += w4;
		b += 4;
		len -= 4;
	}
	if (len >= 2) {
		memcpy(&h, b, 2);
		sum += h;
		b += 2;
		len -= 2;
	}
	if (len) {
		h = 0;
		memcpy(&h, b, 1);   /* the odd byte is the high-order byte of a
				     * network-order word: first in memory */
		sum += h;
	}
	return sum;
}

/*
 * Add the IPv4 pseudo-header of a transport segment of len bytes (RFC 768,
 * RFC 793): the addresses of the IPv4 header at ip, the protocol and len.
 * len counts in full, as in the kernel's csum_tcpudp_nofold().
 */
static inline uint64_t fn_csum_add_pseudo(uint64_t sum, const void *ip, uint8_t proto,
					  uint32_t len)
{
	uint32_t addr[2];

	memcpy(addr, (const uint8_t *)ip + 12, 8);
	sum += (uint64_t)addr[0] + addr[1];
	/* the number proto + len in network order, as a host-order sum sees
	 * it: on a little-endian host a byte swap, which in one's complement
	 * arithmetic is a multiplication by 256 */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return sum + ((uint64_t)proto + len) * 256;
#else
	return sum + proto + len;
#endif
}

/*
 * The sum of an IPv4 pseudo-header and its transport segment of len bytes
 * (len >= 8) when the segment follows the IPv4 header's addresses, as it
 * does after a 20-byte header: the addresses and the segment are one run of
 * 8 + len bytes, summed in one loop, then the protocol and length. The
 * loop's tail, fewer than 8 bytes, is the end of one 8-byte load of the last
 * 8 bytes shifted clear of the bytes already summed: no 4-, 2- and 1-byte
 * tests and no read outside the run. The same sum as fn_csum_add_pseudo()
 * of fn_csum_add() over the segment (tests/unit/test_csum.c).
 */
static inline uint64_t fn_csum_add_pseudo_seg(uint64_t sum, const void *ip, uint8_t proto,
					      uint32_t len)
{
	const uint8_t *b = (const uint8_t *)ip + 12, *end = b + 8 + len;
	unsigned rem = (8 + len) & 7;
	uint64_t acc = 0, carry = 0, w;

	for (; b + 8 <= end; b += 8) {
		memcpy(&w, b, 8);
		acc += w;
		carry += acc < w;
	}
	/* the last rem bytes: in a host-order load they are the high-order
	 * bytes on a little-endian host, the low-order ones on a big-endian
	 * one; moved to where a load of them alone puts them (the two shifts
	 * make rem == 0 a shift by 64, which clears) */
	memcpy(&w, end - 8, 8);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	w = w >> 1 >> (63 - 8 * rem);
#else
	w = w << 1 << (63 - 8 * rem);
#endif
	acc += w;
	carry += acc < w;
	sum += (acc & 0xffffffff) + (acc >> 32) + carry;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return sum + ((uint64_t)proto + len) * 256;
#else
	return sum + proto + len;
#endif
}

/*
 * Fold to 16 bits (not complemented). 0 only for a sum of 0. Each halving
 * adds a word to itself rotated by half its width: the upper half of that
 * is the sum of both halves with its end-around carry, the carry out of the
 * lower half being exactly that carry (a rotate, an add, a shift, twice,
 * instead of two masked adds each).
 */
static inline uint16_t fn_csum_fold(uint64_t sum)
{
	uint32_t s = (uint32_t)((sum + (sum >> 32 | sum << 32)) >> 32);

	return (uint16_t)((s + (s >> 16 | s << 16)) >> 16);
}

/* The checksum to store: the complement of the folded sum. */
static inline uint16_t fn_csum_finish(uint64_t sum)
{
	return (uint16_t)~fn_csum_fold(sum);
}

/* The same for UDP, where a field of 0 means "no checksum": a computed 0
 * goes out as 0xffff (RFC 768). */
static inline uint16_t fn_csum_finish_udp(uint64_t sum)
{
	uint16_t c = fn_csum_finish(sum);

	return c ? c : 0xffff;
}

/* The checksum of len bytes at p. */
static inline uint16_t fn_csum(const void *p, size_t len)
{
	return fn_csum_finish(fn_csum_add(0, p, len));
}

/*
 * The folded sum of a 20-byte IPv4 header (no options), for the header
 * check on receive and the checksum on transmit: its five 32-bit words
 * added in 64 bits, where they cannot carry out, with no loop and no tail
 * (fn_csum_add() on 20 bytes runs its loop twice, then its tail tests).
 */
static inline uint16_t fn_csum_ipv4_hdr_fold(const void *hdr)
{
	const uint8_t *b = hdr;
	uint64_t w0, w1;
	uint32_t w2;

	memcpy(&w0, b, 8);
	memcpy(&w1, b + 8, 8);
	memcpy(&w2, b + 16, 4);
	return fn_csum_fold((w0 & 0xffffffff) + (w0 >> 32) + (w1 & 0xffffffff) +
			    (w1 >> 32) + w2);
}

/* The checksum of a 20-byte IPv4 header whose checksum field is 0. */
static inline uint16_t fn_csum_ipv4_hdr(const void *hdr)
{
	return (uint16_t)~fn_csum_ipv4_hdr_fold(hdr);
}

/* True when a 20-byte IPv4 header, its checksum field included, verifies. */
static inline bool fn_csum_ipv4_hdr_ok(const void *hdr)
{
	return fn_csum_ipv4_hdr_fold(hdr) == 0xffff;
}

/* True when a sum over data that includes its checksum field verifies. */
static inline bool fn_csum_sum_ok(uint64_t sum)
{
	return fn_csum_fold(sum) == 0xffff;
}

/* True when len bytes at p, their checksum field included, verify. */
static inline bool fn_csum_ok(const void *p, size_t len)
{
	return fn_csum_sum_ok(fn_csum_add(0, p, len));
}

/*
 * A field that holds a folded sum, not complemented (a transport checksum
 * left to the NIC holds the pseudo-header's: the kernel's
 * CHECKSUM_PARTIAL), after bytes that summed to `from` were replaced by
 * bytes that sum to `to`. -from is added as the 32-bit complement of its
 * fold, as the kernel's csum_sub() does: never 0, so the result is never 0
 * either, as the kernel's.
 */
static inline uint16_t fn_csum_replace_partial(uint16_t field, uint64_t from, uint64_t to)
{
	return fn_csum_fold(field + (uint64_t)(uint32_t)~(uint32_t)fn_csum_fold(from) + to);
}

/*
 * A checksum field after bytes that summed to `from` were replaced by bytes
 * that sum to `to`: RFC 1624's incremental update, ~(~check + ~from + to).
 * A result of 0 is written as 0xffff, as the kernel's nft_csum_replace()
 * does for every checksum it fixes (UDP reads 0 as "no checksum").
 */
static inline uint16_t fn_csum_replace(uint16_t check, uint64_t from, uint64_t to)
{
	uint16_t c = (uint16_t)~fn_csum_replace_partial((uint16_t)~check, from, to);

	return c ? c : 0xffff;
}

/* A checksum field, in memory order (see above). */
static inline uint16_t fn_csum_load(const void *field)
{
	uint16_t c;

	memcpy(&c, field, 2);
	return c;
}

static inline void fn_csum_store(void *field, uint16_t c)
{
	memcpy(field, &c, 2);
}

#endif /* FN_CSUM_H */
