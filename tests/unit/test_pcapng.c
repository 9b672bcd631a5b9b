/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tools/fragnetctl/pcapng.c: the blocks read back field by field as the
 * format defines them (lengths at both ends, 32-bit padding, options ending
 * in opt_endofopt), at every data and comment length around the padding,
 * and what the format cannot hold refused.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "pcapng.h"

static uint8_t *buf;
static size_t buf_len;

static uint32_t u32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static uint16_t u16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return v;
}

/* One block at *pos: its type, body and options; checks the framing. */
struct blk {
	uint32_t type;
	const uint8_t *body;       /* after type and length */
	size_t len;                /* total */
};

static struct blk next_block(size_t *pos)
{
	struct blk b;

	assert_true(buf_len - *pos >= 12);
	b.type = u32(buf + *pos);
	b.len = u32(buf + *pos + 4);
	assert_int_equal(b.len % 4, 0);
	assert_true(b.len >= 12 && b.len <= buf_len - *pos);
	assert_int_equal(u32(buf + *pos + b.len - 4), b.len);   /* trailing length */
	b.body = buf + *pos + 8;
	*pos += b.len;
	return b;
}

/* The value of option code in options [p, end), NULL when absent; checks
 * that they end with opt_endofopt right before the trailing length. */
static const uint8_t *find_option(const uint8_t *p, const uint8_t *end, uint16_t code,
				  uint16_t *len)
{
	const uint8_t *found = NULL;

	for (;;) {
		uint16_t c, l;

		assert_true(end - p >= 4);
		c = u16(p);
		l = u16(p + 2);
		if (c == 0) {
			assert_int_equal(l, 0);
			assert_ptr_equal(p + 4, end);
			return found;
		}
		if (c == code) {
			found = p + 4;
			*len = l;
		}
		p += 4 + ((l + 3u) & ~3u);
	}
}

static FILE *open_buf(void)
{
	free(buf);
	buf = NULL;
	buf_len = 0;
	FILE *f = open_memstream((char **)&buf, &buf_len);

	assert_non_null(f);
	return f;
}

static void section_and_interfaces(void **state)
{
	FILE *f = open_buf();
	size_t pos = 0;
	struct blk b;
	const uint8_t *v;
	uint16_t len;

	(void)state;
	assert_int_equal(fnctl_pcapng_section(f, "fragnetctl capture"), 0);
	assert_int_equal(fnctl_pcapng_interface(f, FNCTL_LINKTYPE_IPV4, 256, "echo:q0"), 0);
	assert_int_equal(fnctl_pcapng_interface(f, FNCTL_LINKTYPE_IPV4, 256, "echo:q1"), 0);
	fclose(f);

	b = next_block(&pos);
	assert_int_equal(b.type, 0x0a0d0d0a);
	assert_int_equal(u32(b.body), 0x1a2b3c4d);
	assert_int_equal(u16(b.body + 4), 1);
	assert_int_equal(u16(b.body + 6), 0);
	v = find_option(b.body + 16, buf + pos - 4, 4, &len);
	assert_non_null(v);
	assert_int_equal(len, strlen("fragnetctl capture"));
	assert_memory_equal(v, "fragnetctl capture", len);
	for (unsigned q = 0; q < 2; q++) {
		char name[16];

		b = next_block(&pos);
		assert_int_equal(b.type, 1);
		assert_int_equal(u16(b.body), 228);
		assert_int_equal(u32(b.body + 4), 256);
		snprintf(name, sizeof(name), "echo:q%u", q);
		v = find_option(b.body + 8, buf + pos - 4, 2, &len);
		assert_non_null(v);
		assert_int_equal(len, strlen(name));
		assert_memory_equal(v, name, len);
		v = find_option(b.body + 8, buf + pos - 4, 9, &len);
		assert_non_null(v);
		assert_int_equal(len, 1);
		assert_int_equal(v[0], 9);
	}
	assert_int_equal(pos, buf_len);
}

static void packets_at_every_padding(void **state)
{
	uint8_t data[64];

	(void)state;
	for (unsigned i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7 + 1);
	for (uint32_t cap = 0; cap <= 9; cap++) {
		for (unsigned clen = 0; clen <= 5; clen++) {
			char comment[8] = "abcdefg";
			FILE *f = open_buf();
			uint64_t ts = 0x123456789abcdef0ull + cap;
			size_t pos = 0;
			struct blk b;
			const uint8_t *v;
			uint16_t len;

			comment[clen] = '\0';
			assert_int_equal(fnctl_pcapng_packet(f, 3, ts, data, cap, 1500,
							     clen ? comment : NULL), 0);
			fclose(f);
			b = next_block(&pos);
			assert_int_equal(pos, buf_len);
			assert_int_equal(b.type, 6);
			assert_int_equal(u32(b.body), 3);
			assert_int_equal(u32(b.body + 4), (uint32_t)(ts >> 32));
			assert_int_equal(u32(b.body + 8), (uint32_t)ts);
			assert_int_equal(u32(b.body + 12), cap);
			assert_int_equal(u32(b.body + 16), 1500);
			if (cap)
				assert_memory_equal(b.body + 20, data, cap);
			v = find_option(b.body + 20 + ((cap + 3) & ~3u), buf + pos - 4, 1, &len);
			if (clen == 0) {
				assert_null(v);
			} else {
				assert_non_null(v);
				assert_int_equal(len, clen);
				assert_memory_equal(v, comment, clen);
			}
		}
	}
}

static void refused(void **state)
{
	FILE *f = open_buf();
	uint8_t data[4] = { 0 };

	(void)state;
	/* more captured than the packet had */
	assert_int_equal(fnctl_pcapng_packet(f, 0, 0, data, 4, 3, NULL), -EINVAL);
	fclose(f);
	assert_int_equal(buf_len, 0);
	/* a stream that fails */
	f = fopen("/dev/full", "w");
	assert_non_null(f);
	setvbuf(f, NULL, _IONBF, 0);
	assert_int_equal(fnctl_pcapng_packet(f, 0, 0, data, 4, 4, "x"), -EIO);
	fclose(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(section_and_interfaces),
		cmocka_unit_test(packets_at_every_padding),
		cmocka_unit_test(refused),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	free(buf);
	return rc;
}
