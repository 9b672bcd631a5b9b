/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * stack/csum.h against a reference written here the plain way: RFC 1071's
 * loop over big-endian byte pairs, and RFC 1624's update in the 32-bit
 * arithmetic of the kernel's csum_add()/csum_sub()/csum_fold(), whose 0 and
 * 0xffff the interpreter must reproduce. Random buffers of every length
 * 0..2048 at every alignment 0..7, the pseudo-header, random incremental
 * updates on random (not necessarily valid) checksum fields, and the fold
 * of random 64-bit sums; the 20-byte IPv4 header variant on random headers.
 * The random bytes come from a fixed seed, so a failure repeats.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "stack/csum.h"

#define MAX_LEN 2048
#define UPDATES 200000

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	/* xorshift64 */
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* What fill() writes: zeros (a sum of 0), ones (a carry out of every
 * word), or from RANDOM up, random bytes. */
enum { ZEROS, ONES, RANDOM };

static void fill(uint8_t *p, size_t len, unsigned kind)
{
	if (kind < RANDOM) {
		memset(p, kind == ONES ? 0xff : 0, len);
		return;
	}
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)rnd();
}

/* ---- the reference ---- */

/* 32-bit one's complement addition: the kernel's csum_add(). */
static uint32_t ref_add(uint32_t a, uint32_t b)
{
	uint32_t r = a + b;

	return r + (r < b);
}

/* Big-endian 16-bit words, an odd last byte as the high byte (RFC 1071). */
static uint32_t ref_sum(const uint8_t *p, size_t len, uint32_t sum)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum = ref_add(sum, (uint32_t)(p[i] << 8 | p[i + 1]));
	if (len & 1)
		sum = ref_add(sum, (uint32_t)p[len - 1] << 8);
	return sum;
}

/* Folded, not complemented. */
static uint16_t ref_fold(uint32_t sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* nft_csum_replace(): csum_fold(csum_add(csum_sub(~csum_unfold(check),
 * from), to)), 0 written as 0xffff. */
static uint16_t ref_replace(uint16_t check, uint32_t from, uint32_t to)
{
	uint16_t c = (uint16_t)~ref_fold(ref_add(ref_add(~(uint32_t)check, ~from), to));

	return c ? c : 0xffff;
}

/* nft_payload_l4csum_update() for CHECKSUM_PARTIAL:
 * ~csum_fold(csum_add(csum_sub(csum_unfold(field), from), to)). */
static uint16_t ref_replace_partial(uint16_t field, uint32_t from, uint32_t to)
{
	return ref_fold(ref_add(ref_add(field, ~from), to));
}

/* ---- memory order <-> the reference's numbers ---- */

static uint16_t be_of(uint16_t mem)
{
	uint8_t b[2];

	fn_csum_store(b, mem);
	return (uint16_t)(b[0] << 8 | b[1]);
}

static uint16_t mem_of(uint16_t be)
{
	const uint8_t b[2] = { (uint8_t)(be >> 8), (uint8_t)be };

	return fn_csum_load(b);
}

/* ---- the tests ---- */

/* Sum, fold, checksum and verify of every length at every alignment, on
 * zeros, ones and random bytes. */
static void test_every_length_and_alignment(void **state)
{
	static uint8_t buf[MAX_LEN + 8 + 2], copy[MAX_LEN + 8 + 2];

	(void)state;
	for (unsigned kind = ZEROS; kind <= RANDOM; kind++) {
		for (size_t len = 0; len <= MAX_LEN; len++) {
			for (size_t align = 0; align < 8; align++) {
				uint8_t *p = buf + align;
				uint16_t want, check;

				fill(p, len, kind);
				want = ref_fold(ref_sum(p, len, 0));
				check = (uint16_t)~want;
				assert_int_equal(be_of(fn_csum_fold(fn_csum_add(0, p, len))), want);
				assert_int_equal(be_of(fn_csum(p, len)), check);
				assert_int_equal(be_of(fn_csum_finish(fn_csum_add(0, p, len))), check);
				assert_int_equal(be_of(fn_csum_finish_udp(fn_csum_add(0, p, len))),
						 check ? check : 0xffff);
				/* a running sum: an even first piece, then the rest */
				if (len) {
					size_t cut = (size_t)(rnd() % (len + 1)) & ~(size_t)1;

					assert_int_equal(be_of(fn_csum_fold(
						fn_csum_add(fn_csum_add(0, p, cut), p + cut, len - cut))),
						want);
				}
				/* with its checksum appended (an even length), the data
				 * verifies; one flipped bit does not */
				if (len % 2 == 0) {
					memcpy(copy, p, len);
					fn_csum_store(copy + len, fn_csum(copy, len));
					assert_true(fn_csum_ok(copy, len + 2));
					copy[rnd() % (len + 2)] ^= (uint8_t)(1u << rnd() % 8);
					assert_false(fn_csum_ok(copy, len + 2));
				}
			}
		}
	}
}

/* The pseudo-header against the reference over its 12 bytes, and a length
 * above 16 bits counted in full (csum_tcpudp_nofold). */
static void test_pseudo_header(void **state)
{
	uint8_t ip[20], ph[12];

	(void)state;
	for (int i = 0; i < 100000; i++) {
		uint64_t start = rnd() % 4 ? rnd() >> 24 : 0;
		uint8_t proto = (uint8_t)rnd();
		uint32_t len = (uint32_t)(i % 2 ? rnd() % 65536 : rnd());
		uint32_t want;

		fill(ip, sizeof(ip), RANDOM);
		memcpy(ph, ip + 12, 8);
		ph[8] = 0;
		ph[9] = proto;
		ph[10] = (uint8_t)(len >> 8);
		ph[11] = (uint8_t)len;
		want = ref_add(ref_sum(ph, sizeof(ph), 0), len >> 16);
		want = ref_add(want, be_of(fn_csum_fold(start)));
		assert_int_equal(be_of(fn_csum_fold(fn_csum_add_pseudo(start, ip, proto, len))),
				 ref_fold(want));
	}
}

/* The pseudo-header summed with the segment after the header's addresses
 * in one run: the same fold as fn_csum_add_pseudo() of fn_csum_add() over
 * the segment, for every segment length 8..MAX_LEN at every alignment, on
 * zeros, ones and random bytes, with bytes after the segment that must not
 * count. */
static void test_pseudo_seg(void **state)
{
	static uint8_t buf[20 + MAX_LEN + 8 + 8];

	(void)state;
	for (unsigned kind = ZEROS; kind <= RANDOM; kind++) {
		for (uint32_t len = 8; len <= MAX_LEN; len++) {
			for (size_t align = 0; align < 8; align++) {
				uint8_t *ip = buf + align;
				uint8_t proto = (uint8_t)rnd();
				uint64_t start = rnd() % 4 ? rnd() >> 24 : 0;

				fill(ip, 20 + len, kind);
				fill(ip + 20 + len, 8, RANDOM);
				assert_int_equal(
					fn_csum_fold(fn_csum_add_pseudo_seg(start, ip, proto, len)),
					fn_csum_fold(fn_csum_add_pseudo(fn_csum_add(start, ip + 20, len),
									ip, proto, len)));
			}
		}
	}
}

/* One random update: a span at an even offset of a random buffer replaced,
 * the field fixed up incrementally. Against the kernel's formulas on any
 * field value, and for a valid checksum against a full recomputation. */
static void update_once(uint8_t *buf, size_t len, uint16_t check_be)
{
	uint8_t to[64];
	size_t off = (size_t)(rnd() % (len / 2)) * 2;
	size_t n = 1 + (size_t)(rnd() % (len - off < sizeof(to) ? len - off : sizeof(to)));
	uint64_t from_sum, to_sum;
	uint32_t from_ref, to_ref;
	uint16_t got, want;

	fill(to, n, (unsigned)(rnd() % 4));   /* half of them random */
	from_sum = fn_csum_add(0, buf + off, n);
	to_sum = fn_csum_add(0, to, n);
	from_ref = ref_sum(buf + off, n, 0);
	to_ref = ref_sum(to, n, 0);

	got = fn_csum_replace(mem_of(check_be), from_sum, to_sum);
	assert_int_equal(be_of(got), ref_replace(check_be, from_ref, to_ref));
	got = fn_csum_replace_partial(mem_of(check_be), from_sum, to_sum);
	assert_int_equal(be_of(got), ref_replace_partial(check_be, from_ref, to_ref));

	/* a valid checksum stays valid: it is the full one (0 as 0xffff) */
	got = fn_csum_replace(fn_csum(buf, len), from_sum, to_sum);
	memcpy(buf + off, to, n);
	want = fn_csum(buf, len);
	assert_int_equal(got, want ? want : 0xffff);
}

static void test_incremental_updates(void **state)
{
	static const uint16_t edges[] = { 0x0000, 0xffff, 0x0001, 0xfffe };
	uint8_t buf[256];

	(void)state;
	for (int i = 0; i < UPDATES; i++) {
		size_t len = 2 + (size_t)(rnd() % (sizeof(buf) - 1));
		uint16_t check = rnd() % 2 ? edges[rnd() % 4] : (uint16_t)rnd();

		fill(buf, len, (unsigned)(rnd() % 8));   /* most random */
		update_once(buf, len, check);
	}
}

/* The 20-byte IPv4 header variant against the reference on random
 * headers (zeros and ones among them): the checksum, and verification of
 * the header with it stored, and with one bit flipped, at every alignment. */
static void test_ipv4_hdr(void **state)
{
	uint8_t buf[20 + 8];

	(void)state;
	for (unsigned i = 0; i < 200000; i++) {
		uint8_t *h = buf + i % 8;
		uint16_t want;

		fill(h, 20, i < 16 ? i % 2 : (unsigned)(rnd() % 8));
		assert_int_equal(be_of(fn_csum_ipv4_hdr_fold(h)), ref_fold(ref_sum(h, 20, 0)));
		h[10] = h[11] = 0;
		want = (uint16_t)~ref_fold(ref_sum(h, 20, 0));
		assert_int_equal(be_of(fn_csum_ipv4_hdr(h)), want);
		assert_int_equal(fn_csum_ipv4_hdr(h), fn_csum(h, 20));
		fn_csum_store(h + 10, fn_csum_ipv4_hdr(h));
		assert_true(fn_csum_ipv4_hdr_ok(h));
		assert_int_equal(fn_csum_ipv4_hdr_ok(h), fn_csum_ok(h, 20));
		h[rnd() % 20] ^= (uint8_t)(1u << rnd() % 8);
		assert_false(fn_csum_ipv4_hdr_ok(h));
		assert_int_equal(fn_csum_ipv4_hdr_ok(h), fn_csum_ok(h, 20));
	}
}

/* 64-bit sums folded against folding 16 bits at a time: every value a
 * running sum can hold, edge values and random ones; 0 only for 0. */
static void test_fold(void **state)
{
	static const uint64_t edges[] = {
		0, 1, 0xffff, 0x10000, 0xffffffff, 0x100000000ull, 0xffff0000ffff0000ull,
		0x00000000fffffffeull, 0xfffffffe00000001ull, 0x7fffffffffffffffull,
		0x8000000000000000ull, UINT64_MAX,
	};

	(void)state;
	for (unsigned i = 0; i < 2000000; i++) {
		uint64_t sum = i < sizeof(edges) / sizeof(edges[0]) ? edges[i] :
			       rnd() >> (i % 64), ref = sum;

		while (ref >> 16)
			ref = (ref & 0xffff) + (ref >> 16);
		assert_int_equal(fn_csum_fold(sum), ref);
		assert_true((fn_csum_fold(sum) == 0) == (sum == 0));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_length_and_alignment),
		cmocka_unit_test(test_pseudo_header),
		cmocka_unit_test(test_pseudo_seg),
		cmocka_unit_test(test_incremental_updates),
		cmocka_unit_test(test_fold),
		cmocka_unit_test(test_ipv4_hdr),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
