/* SPDX-License-Identifier: BSD-3-Clause */
/* A small table of datagrams being reassembled; the oldest is evicted when
 * it fills up (captures are finite, no timers needed). */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "reasm.h"
#include "stack/csum.h"

#define REASM_SLOTS 32
#define MAX_DGRAM 65535u
#define UNITS (MAX_DGRAM / 8 + 1)

struct slot {
	bool used;
	uint64_t age;
	uint8_t key[11];        /* saddr, daddr, id, protocol */
	uint8_t hdr[60];        /* header of the first fragment */
	uint32_t hdr_len;       /* 0 until the first fragment arrived */
	uint32_t total;         /* payload length, known once the last arrived */
	uint8_t have[UNITS / 8 + 1];
	uint8_t data[MAX_DGRAM];
};

struct fn_reasm {
	struct slot slot[REASM_SLOTS];
	uint64_t clock;
};

struct fn_reasm *fn_reasm_new(void)
{
	return calloc(1, sizeof(struct fn_reasm));
}

void fn_reasm_free(struct fn_reasm *r)
{
	free(r);
}

static bool has(const struct slot *s, uint32_t u) { return s->have[u / 8] & (1u << (u % 8)); }
static void set(struct slot *s, uint32_t u) { s->have[u / 8] |= (uint8_t)(1u << (u % 8)); }

static struct slot *find(struct fn_reasm *r, const uint8_t key[11])
{
	struct slot *free_slot = NULL, *oldest = &r->slot[0];

	for (int i = 0; i < REASM_SLOTS; i++) {
		struct slot *s = &r->slot[i];
		if (s->used && memcmp(s->key, key, 11) == 0)
			return s;
		if (!s->used && !free_slot)
			free_slot = s;
		if (s->used && s->age < oldest->age)
			oldest = s;
	}
	struct slot *s = free_slot ? free_slot : oldest;
	memset(s, 0, sizeof(*s));
	s->used = true;
	s->age = ++r->clock;
	memcpy(s->key, key, 11);
	return s;
}

uint32_t fn_reasm_add(struct fn_reasm *r, const uint8_t *p, uint32_t len, uint8_t *out)
{
	uint8_t key[11];
	uint32_t hl = (p[0] & 0xfu) * 4u;
	uint16_t frag = (uint16_t)(p[6] << 8 | p[7]);
	uint32_t off = (frag & 0x1fffu) * 8u, plen = len - hl, end = off + plen;
	bool last = !(frag & 0x2000);

	memcpy(key, p + 12, 8);
	memcpy(key + 8, p + 4, 2);
	key[10] = p[9];
	struct slot *s = find(r, key);
	if (end > MAX_DGRAM - hl || plen == 0 || (!last && plen % 8) ||
	    (last && s->total && s->total != end)) {
		s->used = false;
		return 0;
	}
	uint32_t covered = 0, units = (plen + 7) / 8;
	for (uint32_t u = 0; u < units; u++)
		covered += has(s, off / 8 + u);
	if (covered == units)
		return 0;               /* duplicate */
	if (covered) {
		s->used = false;        /* overlap: the kernel drops it all */
		return 0;
	}
	for (uint32_t u = 0; u < units; u++)
		set(s, off / 8 + u);
	memcpy(s->data + off, p + hl, plen);
	if (off == 0) {
		memcpy(s->hdr, p, hl);
		s->hdr_len = hl;
	}
	if (last)
		s->total = end;
	if (!s->total || !s->hdr_len)
		return 0;
	for (uint32_t u = 0; u < (s->total + 7) / 8; u++)
		if (!has(s, u))
			return 0;
	uint32_t n = s->hdr_len + s->total;
	memcpy(out, s->hdr, s->hdr_len);
	memcpy(out + s->hdr_len, s->data, s->total);
	out[2] = (uint8_t)(n >> 8);
	out[3] = (uint8_t)n;
	out[6] = out[7] = 0;
	out[10] = out[11] = 0;
	fn_csum_store(out + 10, fn_csum(out, s->hdr_len));
	s->used = false;
	return n;
}
