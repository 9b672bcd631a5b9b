/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Lowering sets and maps on first reference. The kernel's backends become:
 * exact-match sets -> hash; single-field interval sets (rbtree, dumped as
 * sorted boundaries with interval-end flags) -> interval; concatenated
 * interval sets (pipapo, dumped as key..key_end) -> ranges.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libnftnl/set.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include "lower_int.h"
#include "nft/dynset.h"

struct boundary {
	uint8_t key[FN_REGS_BYTES];
	uint32_t flags;
	uint8_t data[FN_REGS_BYTES];
};

static int cmp_boundary(const void *a, const void *b, void *klen)
{
	const struct boundary *x = a, *y = b;
	int d = memcmp(x->key, y->key, *(const uint32_t *)klen);

	if (d)
		return d;
	/* a start and an end at the same key: the start comes first, it
	 * decides (adjacent intervals) */
	return (int)(x->flags & FN_ELEM_F_END) - (int)(y->flags & FN_ELEM_F_END);
}

/* Map, verdict-map or object-map data of an element, in image layout. */
static int elem_data(struct lower *l, struct nftnl_set *s, struct nftnl_set_elem *e,
		     bool vmap, uint32_t obj_type, uint32_t data_len, uint8_t *out)
{
	uint32_t len;
	const void *p;

	if (vmap) {
		struct fn_img_vdata vd;
		const char *chain = nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_CHAIN) ?
				    nftnl_set_elem_get_str(e, NFTNL_SET_ELEM_CHAIN) : NULL;
		int ret = fn_lower_verdict(l, (int32_t)nftnl_set_elem_get_u32(e, NFTNL_SET_ELEM_VERDICT),
					   chain, &vd);

		if (ret)
			return ret;
		memcpy(out, &vd, sizeof(vd));
		return 0;
	}
	if (obj_type) {
		/* an object map: the named object's slot */
		const char *name = nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_OBJREF) ?
				   nftnl_set_elem_get_str(e, NFTNL_SET_ELEM_OBJREF) : NULL;
		uint32_t slot;
		int ret = name ? fn_lower_obj_slot(l, obj_type, name, &slot) :
			  fn_lower_fail(l, -EINVAL, "set %s: element without an object",
					nftnl_set_get_str(s, NFTNL_SET_NAME));

		if (ret)
			return ret;
		memcpy(out, &slot, sizeof(slot));
		return 0;
	}
	p = nftnl_set_elem_get(e, NFTNL_SET_ELEM_DATA, &len);
	if (!p || len != data_len)
		return fn_lower_fail(l, -EINVAL, "set %s: element data of %u bytes, expected %u",
				     nftnl_set_get_str(s, NFTNL_SET_NAME), len, data_len);
	memcpy(out, p, len);
	return 0;
}

struct set_walk {
	struct lower *l;
	struct nftnl_set *s;
	const char *name;
	uint32_t idx, key_len, data_len;
	uint32_t obj_type;       /* NFT_OBJECT_* of an object map, else 0 */
	uint8_t kind;
	bool map, vmap, ranges;
	bool has_data;           /* map, verdict map or object map */
	struct boundary *bnd;
	size_t n_bnd, cap;
};

static int has_key_end(struct nftnl_set_elem *e, void *arg)
{
	struct set_walk *w = arg;

	if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_KEY_END))
		w->ranges = true;
	return 0;
}

static int add_boundary(struct set_walk *w, const void *key, uint32_t flags,
			const uint8_t *data)
{
	struct boundary *b;

	if (w->n_bnd == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 64;

		b = realloc(w->bnd, cap * sizeof(*b));
		if (!b)
			return -ENOMEM;
		w->bnd = b;
		w->cap = cap;
	}
	b = &w->bnd[w->n_bnd++];
	memset(b, 0, sizeof(*b));
	memcpy(b->key, key, w->key_len);
	b->flags = flags;
	memcpy(b->data, data, sizeof(b->data));
	return 0;
}

static int lower_elem(struct nftnl_set_elem *e, void *arg)
{
	struct set_walk *w = arg;
	struct lower *l = w->l;
	uint32_t eflags = nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_FLAGS) ?
			  nftnl_set_elem_get_u32(e, NFTNL_SET_ELEM_FLAGS) : 0;
	uint8_t data[FN_REGS_BYTES] = { 0 };
	const void *key, *key_end;
	uint32_t klen = 0, kelen = 0;
	int ret;

	if ((nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_TIMEOUT) &&
	     nftnl_set_elem_get_u64(e, NFTNL_SET_ELEM_TIMEOUT)) ||
	    nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_EXPIRATION))
		return fn_lower_fail(l, -EOPNOTSUPP, "set %s: elements with timeouts "
				     "are not supported", w->name);
	if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_EXPR) ||
	    nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_EXPRESSIONS))
		return fn_lower_fail(l, -EOPNOTSUPP, "set %s: per-element expressions "
				     "(counters) are not supported", w->name);
	if (eflags & ~(NFT_SET_ELEM_INTERVAL_END | NFT_SET_ELEM_CATCHALL))
		return fn_lower_fail(l, -EOPNOTSUPP, "set %s: element flags 0x%x", w->name, eflags);
	if (w->has_data && !(eflags & NFT_SET_ELEM_INTERVAL_END) &&
	    (ret = elem_data(l, w->s, e, w->vmap, w->obj_type, w->data_len, data)))
		return ret;
	if (eflags & NFT_SET_ELEM_CATCHALL) {
		fn_imgb_catchall(l->b, w->idx, w->has_data ? data : NULL);
		return 0;
	}
	key = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &klen);
	if (!key || klen != w->key_len)
		return fn_lower_fail(l, -EINVAL, "set %s: key of %u bytes, expected %u",
				     w->name, klen, w->key_len);
	switch (w->kind) {
	case FN_SET_RANGES:
		/* a single value in a pipapo set has no key end */
		key_end = key;
		if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_KEY_END)) {
			key_end = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY_END, &kelen);
			if (!key_end || kelen != w->key_len)
				return fn_lower_fail(l, -EINVAL, "set %s: key end of %u bytes",
						     w->name, kelen);
		}
		fn_imgb_elem(l->b, w->idx, key, key_end, 0, w->has_data ? data : NULL);
		return 0;
	case FN_SET_INTERVAL:
		return add_boundary(w, key, (eflags & NFT_SET_ELEM_INTERVAL_END) ?
				    FN_ELEM_F_END : 0, data);
	default:
		fn_imgb_elem(l->b, w->idx, key, NULL, 0, w->has_data ? data : NULL);
		return 0;
	}
}

static int count_elem(struct nftnl_set_elem *e, void *arg)
{
	(void)e;
	(*(uint32_t *)arg)++;
	return 0;
}

/*
 * A set filled from the packet path (flags dynamic): an empty table of
 * `size` elements in every queue. Elements already in the kernel's set are
 * refused rather than dropped: the interpreter's set starts empty.
 */
static int lower_dynamic(struct lower *l, struct nftnl_set *s, uint32_t *idx)
{
	const char *name = nftnl_set_get_str(s, NFTNL_SET_NAME);
	uint32_t flags = nftnl_set_get_u32(s, NFTNL_SET_FLAGS);
	uint32_t key_len = nftnl_set_get_u32(s, NFTNL_SET_KEY_LEN), n = 0;
	/* nft gives every dynamic set a size; 65535 is its default */
	uint32_t size = nftnl_set_is_set(s, NFTNL_SET_DESC_SIZE) &&
			nftnl_set_get_u32(s, NFTNL_SET_DESC_SIZE) ?
			nftnl_set_get_u32(s, NFTNL_SET_DESC_SIZE) : FN_DYN_DEFAULT_SIZE;
	uint64_t timeout = nftnl_set_is_set(s, NFTNL_SET_TIMEOUT) ?
			   nftnl_set_get_u64(s, NFTNL_SET_TIMEOUT) : 0;

	if (flags & (NFT_SET_MAP | NFT_SET_OBJECT | NFT_SET_INTERVAL))
		return fn_lower_fail(l, -EOPNOTSUPP, "set %s: dynamic maps and interval sets "
				     "are not supported", name);
	if (flags & NFT_SET_EXPR || nftnl_set_is_set(s, NFTNL_SET_EXPR) ||
	    nftnl_set_is_set(s, NFTNL_SET_EXPRESSIONS))
		return fn_lower_fail(l, -EOPNOTSUPP, "set %s: per-element expressions in the set "
				     "declaration are not supported (put the limit in the "
				     "add/update statement)", name);
	if (key_len == 0 || key_len > FN_REGS_BYTES)
		return fn_lower_fail(l, -EINVAL, "set %s: key %u bytes", name, key_len);
	if (size > FN_DYN_MAX_SIZE)
		return fn_lower_fail(l, -EOPNOTSUPP, "set %s: size %u, at most %u for a dynamic "
				     "set (allocated in every queue)", name, size, FN_DYN_MAX_SIZE);
	if (timeout > FN_DYN_MAX_TIMEOUT_MS)
		return fn_lower_fail(l, -EOPNOTSUPP, "set %s: timeout of %llu ms is too long",
				     name, (unsigned long long)timeout);
	nftnl_set_elem_foreach(s, count_elem, &n);
	if (n)
		return fn_lower_fail(l, -EOPNOTSUPP, "set %s: elements in a dynamic set are not "
				     "supported (it starts empty in every queue)", name);
	*idx = fn_imgb_set(l->b, name, FN_SET_HASH, 0, (uint8_t)key_len, 0, 0, NULL);
	fn_imgb_set_dynamic(l->b, *idx, size, timeout);
	return 0;
}

static int lower_set(struct lower *l, struct nftnl_set *s, uint32_t *idx)
{
	const char *name = nftnl_set_get_str(s, NFTNL_SET_NAME);
	uint32_t flags = nftnl_set_get_u32(s, NFTNL_SET_FLAGS);
	uint8_t fields[FN_SET_MAX_FIELDS] = { 0 }, n_fields = 0;
	struct set_walk w = { .l = l, .s = s, .name = name };
	size_t i;
	int ret;

	w.key_len = nftnl_set_get_u32(s, NFTNL_SET_KEY_LEN);
	w.obj_type = flags & NFT_SET_OBJECT ? nftnl_set_get_u32(s, NFTNL_SET_OBJ_TYPE) : 0;
	w.map = (flags & NFT_SET_MAP) && !w.obj_type;
	w.vmap = w.map && nftnl_set_get_u32(s, NFTNL_SET_DATA_TYPE) == NFT_DATA_VERDICT;
	w.data_len = w.map ? (w.vmap ? sizeof(struct fn_img_vdata) :
			      nftnl_set_get_u32(s, NFTNL_SET_DATA_LEN)) :
		     w.obj_type ? sizeof(uint32_t) : 0;
	w.has_data = w.data_len != 0;

	if (flags & NFT_SET_EVAL)
		return lower_dynamic(l, s, idx);
	if (flags & NFT_SET_TIMEOUT || nftnl_set_is_set(s, NFTNL_SET_TIMEOUT))
		return fn_lower_fail(l, -EOPNOTSUPP, "set %s: timeouts are only supported in "
				     "dynamic sets (filled by add/update @set)", name);
	if ((flags & NFT_SET_OBJECT) && w.obj_type != NFT_OBJECT_COUNTER &&
	    w.obj_type != NFT_OBJECT_QUOTA && w.obj_type != NFT_OBJECT_LIMIT)
		return fn_lower_fail(l, -EOPNOTSUPP, "set %s: maps of objects of type %u are not "
				     "supported (counter, quota and limit only)", name, w.obj_type);
	if (flags & NFT_SET_EXPR || nftnl_set_is_set(s, NFTNL_SET_EXPR) ||
	    nftnl_set_is_set(s, NFTNL_SET_EXPRESSIONS))
		return fn_lower_fail(l, -EOPNOTSUPP, "set %s: per-element expressions "
				     "(counters) are not supported", name);
	if (w.key_len == 0 || w.key_len > FN_REGS_BYTES || w.data_len > FN_REGS_BYTES)
		return fn_lower_fail(l, -EINVAL, "set %s: key %u data %u bytes", name,
				     w.key_len, w.data_len);
	if (nftnl_set_is_set(s, NFTNL_SET_DESC_CONCAT)) {
		uint32_t n;
		const uint8_t *f = nftnl_set_get_data(s, NFTNL_SET_DESC_CONCAT, &n);

		if (n > FN_SET_MAX_FIELDS)
			return fn_lower_fail(l, -EOPNOTSUPP, "set %s: %u fields", name, n);
		memcpy(fields, f, n);
		n_fields = (uint8_t)n;
	}

	/* which backend the kernel used shows in the elements */
	nftnl_set_elem_foreach(s, has_key_end, &w);
	if (!(flags & NFT_SET_INTERVAL))
		w.kind = FN_SET_HASH;
	else if (w.ranges || n_fields > 1)
		w.kind = FN_SET_RANGES;
	else
		w.kind = FN_SET_INTERVAL;
	if (w.kind == FN_SET_RANGES && n_fields == 0) {
		fields[0] = (uint8_t)w.key_len;
		n_fields = 1;
	}
	w.idx = *idx = fn_imgb_set(l->b, name, w.kind,
				   (w.map ? FN_SET_F_MAP : 0) | (w.vmap ? FN_SET_F_VMAP : 0),
				   (uint8_t)w.key_len, (uint8_t)w.data_len,
				   w.kind == FN_SET_RANGES ? n_fields : 0, fields);
	if (w.obj_type)
		fn_imgb_set_objects(l->b, w.idx, (uint8_t)w.obj_type);

	ret = nftnl_set_elem_foreach(s, lower_elem, &w);
	if (!ret && w.kind == FN_SET_INTERVAL) {
		/* one boundary per key: where a start and an end meet, the
		 * start wins (the key begins the next interval) */
		qsort_r(w.bnd, w.n_bnd, sizeof(*w.bnd), cmp_boundary, &w.key_len);
		for (i = 0; i < w.n_bnd; i++) {
			const struct boundary *b = &w.bnd[i];

			if (i > 0 && !memcmp(w.bnd[i - 1].key, b->key, w.key_len))
				continue;
			fn_imgb_elem(l->b, w.idx, b->key, NULL, b->flags,
				     (w.has_data && !(b->flags & FN_ELEM_F_END)) ? b->data : NULL);
		}
	}
	free(w.bnd);
	return ret;
}

int fn_lower_set_ref(struct lower *l, const char *name, uint32_t *idx)
{
	size_t i;
	int ret;

	for (i = 0; i < l->d->n_sets; i++) {
		if (strcmp(nftnl_set_get_str(l->d->sets[i], NFTNL_SET_NAME), name))
			continue;
		if (l->set_idx[i] == FN_IMG_NONE) {
			if ((ret = lower_set(l, l->d->sets[i], &l->set_idx[i])))
				return ret;
		}
		*idx = l->set_idx[i];
		return 0;
	}
	return fn_lower_fail(l, -EINVAL, "unknown set %s", name);
}
