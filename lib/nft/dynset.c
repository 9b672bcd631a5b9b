/* SPDX-License-Identifier: BSD-3-Clause */
/* The per-queue table of a dynamic set: see dynset.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "dynset.h"
#include "image.h"

static struct fn_dyn_elem *elem(const struct fn_dyn_table *t, uint32_t i)
{
	return (struct fn_dyn_elem *)(t->elems + (size_t)i * t->stride);
}

static uint32_t bucket_of(const struct fn_dyn_table *t, const uint32_t *key)
{
	return fn_img_hash_seed(t->seed, key, t->key_len) & t->mask;
}

int fn_dyn_init(struct fn_dyn_table *t, uint32_t size, uint32_t key_len)
{
	uint32_t n_buckets = 1, i;

	memset(t, 0, sizeof(*t));
	if (size == 0 || size > FN_DYN_MAX_SIZE || key_len == 0 || key_len > FN_REGS_BYTES)
		return -EINVAL;
	while (n_buckets < size)
		n_buckets <<= 1;
	t->size = size;
	t->key_len = key_len;
	t->stride = (uint32_t)((sizeof(struct fn_dyn_elem) + fn_img_round4(key_len) + 7) & ~7u);
	t->mask = n_buckets - 1;
	t->bucket = malloc((size_t)n_buckets * sizeof(*t->bucket));
	t->elems = calloc(size, t->stride);
	if (!t->bucket || !t->elems) {
		fn_dyn_fini(t);
		return -ENOMEM;
	}
	/* unpredictable chains; a failed read still leaves a working table */
	if (getrandom(&t->seed, sizeof(t->seed), GRND_NONBLOCK) != sizeof(t->seed))
		t->seed = (uint64_t)(uintptr_t)t ^ FN_IMG_HASH_SEED;
	memset(t->bucket, 0xff, (size_t)n_buckets * sizeof(*t->bucket));
	for (i = 0; i < size; i++)
		elem(t, i)->next = i + 1 < size ? i + 1 : FN_IMG_NONE;
	t->free = 0;
	return 0;
}

void fn_dyn_fini(struct fn_dyn_table *t)
{
	free(t->bucket);
	free(t->elems);
	t->bucket = NULL;
	t->elems = NULL;
}

struct fn_dyn_elem *fn_dyn_find(const struct fn_dyn_table *t, const uint32_t *key)
{
	uint32_t i;

	for (i = t->bucket[bucket_of(t, key)]; i != FN_IMG_NONE; i = elem(t, i)->next) {
		struct fn_dyn_elem *e = elem(t, i);

		if (!memcmp(e->key, key, t->key_len))
			return e;
	}
	return NULL;
}

void fn_dyn_sweep(struct fn_dyn_table *t, uint64_t now, fn_dyn_leaves_fn leaves, void *arg)
{
	uint32_t b, *link;

	for (b = 0; b <= t->mask; b++) {
		for (link = &t->bucket[b]; *link != FN_IMG_NONE;) {
			uint32_t i = *link;
			struct fn_dyn_elem *e = elem(t, i);

			if (!leaves(e, fn_dyn_expired(e, now), arg)) {
				link = &e->next;
				continue;
			}
			*link = e->next;
			e->next = t->free;
			t->free = i;
			t->used--;
		}
	}
}

struct fn_dyn_elem *fn_dyn_insert(struct fn_dyn_table *t, const uint32_t *key,
				  uint64_t now, fn_dyn_leaves_fn leaves, void *arg)
{
	struct fn_dyn_elem *e;
	uint32_t i, b;

	if (t->free == FN_IMG_NONE && now >= t->next_sweep) {
		fn_dyn_sweep(t, now, leaves, arg);
		t->next_sweep = now + FN_DYN_SWEEP_NS;
	}
	if (t->free == FN_IMG_NONE)
		return NULL;
	i = t->free;
	e = elem(t, i);
	t->free = e->next;
	t->used++;
	memset(e, 0, t->stride);
	memcpy(e->key, key, t->key_len);
	b = bucket_of(t, key);
	e->next = t->bucket[b];
	t->bucket[b] = i;
	return e;
}
