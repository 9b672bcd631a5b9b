/* SPDX-License-Identifier: BSD-3-Clause */
/* Set search over the verified layouts of image.h. */
#include <string.h>

#include "set.h"

static const uint8_t *find_hash(const struct fn_nft_prog *p, const struct fn_img_set *s,
				const uint32_t *key)
{
	const uint32_t *bk = (const uint32_t *)(p->set_data + s->buckets);
	uint32_t b = fn_img_hash(key, s->key_len) & (s->n_buckets - 1), i;

	for (i = bk[b]; i < bk[b + 1]; i++) {
		const uint8_t *e = fn_set_elem(p, s, i);

		if (!memcmp(e + 4, key, s->key_len))
			return e;
	}
	return NULL;
}

/* The kernel's rbtree: the greatest boundary <= key decides; an interval
 * end there means key falls in a gap. */
static const uint8_t *find_interval(const struct fn_nft_prog *p,
				    const struct fn_img_set *s, const uint32_t *key)
{
	uint32_t lo = 0, hi = s->n_elems, flags;
	const uint8_t *e;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (memcmp(fn_set_elem(p, s, mid) + 4, key, s->key_len) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return NULL;
	e = fn_set_elem(p, s, lo - 1);
	memcpy(&flags, e, 4);
	return (flags & FN_ELEM_F_END) ? NULL : e;
}

/* The kernel's pipapo: every field within the element's [key, key_end]. */
static const uint8_t *find_ranges(const struct fn_nft_prog *p,
				  const struct fn_img_set *s, const uint32_t *key)
{
	const uint8_t *k = (const uint8_t *)key;
	uint32_t ksz = fn_img_round4(s->key_len), i, f, off;

	for (i = 0; i < s->n_elems; i++) {
		const uint8_t *e = fn_set_elem(p, s, i), *lo = e + 4, *hi = e + 4 + ksz;

		for (f = 0, off = 0; f < s->n_fields; f++) {
			unsigned n = s->field_len[f];

			if (memcmp(k + off, lo + off, n) < 0 || memcmp(k + off, hi + off, n) > 0)
				break;
			off += fn_img_round4(n);
		}
		if (f == s->n_fields)
			return e;
	}
	return NULL;
}

const uint8_t *fn_set_find(const struct fn_nft_prog *p, const struct fn_img_set *s,
			   const uint32_t *key)
{
	switch (s->kind) {
	case FN_SET_HASH:
		return find_hash(p, s, key);
	case FN_SET_INTERVAL:
		return find_interval(p, s, key);
	default:
		return find_ranges(p, s, key);
	}
}
