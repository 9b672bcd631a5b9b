/* SPDX-License-Identifier: BSD-3-Clause */
/* The image builder: growable sections, laid out once at finish. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "builder.h"
#include "classify.h"

struct buf {
	uint8_t *p;
	size_t len, cap;
};

struct bset {
	struct fn_img_set s;
	char *name;
	struct buf elems;          /* unsorted elements, elem_size each */
	uint8_t *catchall;         /* one element, or NULL */
};

struct fn_imgb {
	int err;
	struct fn_img_header h;
	char *table;
	struct buf chains, rules, code, counters, limits, quotas, logs, objects;
	struct buf strings;
	struct bset *sets;
	uint32_t n_sets, cap_sets;
	const char *failed_set;    /* name of the set layout_set() refused */
	uint32_t cur_chain;        /* chain of the current rule, FN_IMG_NONE */
	size_t op_off;             /* offset of the last op in code */
	bool in_rule;
	bool classify;             /* add classify ops at finish */
};

/* n more zeroed bytes at the end of x. NULL with b->err set on failure, but
 * also, without an error, for n == 0 on a buffer never grown. */
static void *buf_grow(struct fn_imgb *b, struct buf *x, size_t n)
{
	void *p;

	if (b->err || (n == 0 && x->p == NULL))
		return NULL;
	if (x->len + n > x->cap) {
		size_t cap = x->cap ? x->cap * 2 : 256;
		uint8_t *np;

		while (cap < x->len + n)
			cap *= 2;
		np = realloc(x->p, cap);
		if (!np) {
			b->err = -ENOMEM;
			return NULL;
		}
		x->p = np;
		x->cap = cap;
	}
	p = x->p + x->len;
	memset(p, 0, n);
	x->len += n;
	return p;
}

static void fail(struct fn_imgb *b, int err)
{
	if (!b->err)
		b->err = err;
}

struct fn_imgb *fn_imgb_new(void)
{
	struct fn_imgb *b = calloc(1, sizeof(*b));

	if (!b) {
		errno = ENOMEM;
		return NULL;
	}
	b->cur_chain = FN_IMG_NONE;
	/* offset 0 is the empty string */
	if (!buf_grow(b, &b->strings, 1)) {
		free(b);
		errno = ENOMEM;
		return NULL;
	}
	return b;
}

void fn_imgb_free(struct fn_imgb *b)
{
	uint32_t i;

	if (!b)
		return;
	for (i = 0; i < b->n_sets; i++) {
		free(b->sets[i].name);
		free(b->sets[i].elems.p);
		free(b->sets[i].catchall);
	}
	free(b->sets);
	free(b->table);
	free(b->chains.p);
	free(b->rules.p);
	free(b->code.p);
	free(b->counters.p);
	free(b->limits.p);
	free(b->quotas.p);
	free(b->logs.p);
	free(b->objects.p);
	free(b->strings.p);
	free(b);
}

/* Strings are deduplicated: names repeat (chains in counters, log prefixes). */
static uint32_t add_string(struct fn_imgb *b, const char *s)
{
	size_t n = strlen(s) + 1, off = 0;
	char *p;

	if (n == 1)
		return 0;
	while (off < b->strings.len) {
		const char *cur = (const char *)b->strings.p + off;
		size_t l = strlen(cur) + 1;

		if (l == n && !memcmp(cur, s, n))
			return (uint32_t)off;
		off += l;
	}
	off = b->strings.len;
	p = buf_grow(b, &b->strings, n);
	if (!p)
		return 0;
	memcpy(p, s, n);
	return (uint32_t)off;
}

void fn_imgb_table(struct fn_imgb *b, const char *name, uint32_t family,
		   uint64_t source_gen)
{
	if (b->err)
		return;
	free(b->table);
	b->table = strdup(name);
	if (!b->table)
		fail(b, -ENOMEM);
	b->h.family = family;
	b->h.source_gen = source_gen;
}

void fn_imgb_set_flags(struct fn_imgb *b, uint32_t flags)
{
	b->h.flags |= flags;
}

uint32_t fn_imgb_chain(struct fn_imgb *b, const char *name, uint8_t hook,
		       int32_t priority, uint8_t policy)
{
	uint32_t idx = b->h.n_chains;
	struct fn_img_chain *c;
	uint32_t name_off = add_string(b, name);

	c = buf_grow(b, &b->chains, sizeof(*c));
	if (!c)
		return idx;
	c->name = name_off;
	c->hook = hook;
	c->priority = priority;
	c->policy = policy;
	c->first_rule = 0;
	c->n_rules = 0;
	b->h.n_chains++;
	return idx;
}

uint32_t fn_imgb_n_chains(const struct fn_imgb *b)
{
	return b->h.n_chains;
}

void fn_imgb_rule(struct fn_imgb *b, uint32_t chain, uint64_t handle)
{
	struct fn_img_rule *r;
	struct fn_img_chain *c;

	if (b->err)
		return;
	if (chain >= b->h.n_chains ||
	    (b->cur_chain != FN_IMG_NONE && chain < b->cur_chain)) {
		fail(b, -EINVAL);
		return;
	}
	r = buf_grow(b, &b->rules, sizeof(*r));
	if (!r)
		return;
	c = (struct fn_img_chain *)b->chains.p + chain;
	if (c->n_rules == 0)
		c->first_rule = b->h.n_rules;
	c->n_rules++;
	r->handle = handle;
	r->code_off = (uint32_t)b->code.len;
	r->code_len = 0;
	b->h.n_rules++;
	b->cur_chain = chain;
	b->in_rule = true;
}

void fn_imgb_words(uint32_t *dst, const void *src, size_t len)
{
	memset(dst, 0, fn_img_round4((uint32_t)len));
	memcpy(dst, src, len);
}

void *fn_imgb_op(struct fn_imgb *b, enum fn_op_type type, size_t size)
{
	struct fn_img_rule *r;
	struct fn_op *op;
	size_t words = (size + 3) / 4;

	if (b->err)
		return NULL;
	if (!b->in_rule || words > 255 || words == 0) {
		fail(b, -EINVAL);
		return NULL;
	}
	op = buf_grow(b, &b->code, words * 4);
	if (!op)
		return NULL;
	op->type = (uint8_t)type;
	op->size = (uint8_t)words;
	r = (struct fn_img_rule *)b->rules.p + (b->h.n_rules - 1);
	r->code_len += (uint32_t)(words * 4);
	return op;
}

uint32_t fn_imgb_set(struct fn_imgb *b, const char *name, uint8_t kind,
		     uint8_t flags, uint8_t key_len, uint8_t data_len,
		     uint8_t n_fields, const uint8_t *field_len)
{
	struct bset *s;
	uint32_t idx = b->n_sets;

	if (b->err)
		return idx;
	if (n_fields > FN_SET_MAX_FIELDS) {
		fail(b, -EINVAL);
		return idx;
	}
	if (b->n_sets == b->cap_sets) {
		uint32_t cap = b->cap_sets ? b->cap_sets * 2 : 8;
		struct bset *n = realloc(b->sets, cap * sizeof(*n));

		if (!n) {
			fail(b, -ENOMEM);
			return idx;
		}
		b->sets = n;
		b->cap_sets = cap;
	}
	s = &b->sets[b->n_sets];
	memset(s, 0, sizeof(*s));
	s->name = strdup(name);
	if (!s->name) {
		fail(b, -ENOMEM);
		return idx;
	}
	s->s.kind = kind;
	s->s.flags = flags;
	s->s.key_len = key_len;
	s->s.data_len = data_len;
	s->s.n_fields = n_fields;
	if (n_fields)
		memcpy(s->s.field_len, field_len, n_fields);
	s->s.elem_size = fn_img_set_elem_size(kind, key_len, data_len);
	s->s.catchall = FN_IMG_NONE;
	b->n_sets++;
	return idx;
}

void fn_imgb_set_dynamic(struct fn_imgb *b, uint32_t set, uint32_t size,
			 uint64_t timeout_ms)
{
	if (b->err)
		return;
	if (set >= b->n_sets) {
		fail(b, -EINVAL);
		return;
	}
	b->sets[set].s.flags |= FN_SET_F_DYNAMIC;
	b->sets[set].s.size = size;
	b->sets[set].s.timeout_ms = timeout_ms;
}

void fn_imgb_set_objects(struct fn_imgb *b, uint32_t set, uint8_t obj_type)
{
	if (b->err)
		return;
	if (set >= b->n_sets) {
		fail(b, -EINVAL);
		return;
	}
	b->sets[set].s.flags |= FN_SET_F_OBJMAP;
	b->sets[set].s.obj_type = obj_type;
}

static void fill_elem(const struct fn_img_set *s, uint8_t *e, const void *key,
		      const void *key_end, uint32_t flags, const void *data)
{
	uint32_t k = fn_img_round4(s->key_len);

	memcpy(e, &flags, 4);
	if (key)
		memcpy(e + 4, key, s->key_len);
	if (s->kind == FN_SET_RANGES && key_end)
		memcpy(e + 4 + k, key_end, s->key_len);
	if (data && s->data_len)
		memcpy(e + s->elem_size - fn_img_round4(s->data_len), data,
		       s->data_len);
}

void fn_imgb_elem(struct fn_imgb *b, uint32_t set, const void *key,
		  const void *key_end, uint32_t flags, const void *data)
{
	struct bset *s;
	uint8_t *e;

	if (b->err)
		return;
	if (set >= b->n_sets) {
		fail(b, -EINVAL);
		return;
	}
	s = &b->sets[set];
	if ((s->s.kind == FN_SET_RANGES) != (key_end != NULL) ||
	    (s->s.data_len && !data && !(flags & FN_ELEM_F_END))) {
		fail(b, -EINVAL);
		return;
	}
	e = buf_grow(b, &s->elems, s->s.elem_size);
	if (!e)
		return;
	fill_elem(&s->s, e, key, key_end, flags, data);
	s->s.n_elems++;
}

void fn_imgb_catchall(struct fn_imgb *b, uint32_t set, const void *data)
{
	struct bset *s;

	if (b->err)
		return;
	if (set >= b->n_sets || b->sets[set].catchall) {
		fail(b, -EINVAL);
		return;
	}
	s = &b->sets[set];
	s->catchall = calloc(1, s->s.elem_size);
	if (!s->catchall) {
		fail(b, -ENOMEM);
		return;
	}
	fill_elem(&s->s, s->catchall, NULL, NULL, 0, data);
}

uint32_t fn_imgb_counter(struct fn_imgb *b, uint32_t chain, uint64_t rule_handle,
			 uint64_t packets, uint64_t bytes)
{
	struct fn_img_counter *c = buf_grow(b, &b->counters, sizeof(*c));
	uint32_t idx = b->h.n_counters;

	if (!c)
		return idx;
	c->chain = chain;
	c->rule_handle = rule_handle;
	c->packets = packets;
	c->bytes = bytes;
	b->h.n_counters++;
	return idx;
}

uint32_t fn_imgb_limit(struct fn_imgb *b, const struct fn_img_limit *l)
{
	struct fn_img_limit *p = buf_grow(b, &b->limits, sizeof(*p));
	uint32_t idx = b->h.n_limits;

	if (!p)
		return idx;
	*p = *l;
	b->h.n_limits++;
	return idx;
}

uint32_t fn_imgb_quota(struct fn_imgb *b, const struct fn_img_quota *q)
{
	struct fn_img_quota *p = buf_grow(b, &b->quotas, sizeof(*p));
	uint32_t idx = b->h.n_quotas;

	if (!p)
		return idx;
	*p = *q;
	b->h.n_quotas++;
	return idx;
}

uint32_t fn_imgb_log(struct fn_imgb *b, const char *prefix, uint32_t level)
{
	uint32_t off = add_string(b, prefix), idx = b->h.n_logs;
	struct fn_img_log *p = buf_grow(b, &b->logs, sizeof(*p));

	if (!p)
		return idx;
	p->prefix = off;
	p->level = level;
	b->h.n_logs++;
	return idx;
}

void fn_imgb_object(struct fn_imgb *b, const char *name, uint32_t type,
		    uint32_t slot)
{
	uint32_t off = add_string(b, name);
	struct fn_img_object *o = buf_grow(b, &b->objects, sizeof(*o));

	if (!o)
		return;
	o->name = off;
	o->type = type;
	o->slot = slot;
	b->h.n_objects++;
}

const char *fn_imgb_failed_set(const struct fn_imgb *b)
{
	return b->failed_set;
}

int fn_img_limit_init(struct fn_img_limit *l, uint64_t rate, uint64_t unit_secs,
		      uint32_t burst, int bytes, int invert)
{
	uint64_t nsecs, with_burst, tmp;

	memset(l, 0, sizeof(*l));
	if (rate == 0)
		return -EINVAL;
	if (__builtin_mul_overflow(unit_secs, 1000000000ull, &nsecs))
		return -EOVERFLOW;
	if (!bytes && burst == 0)
		burst = 5; /* the kernel's NFT_LIMIT_PKT_BURST_DEFAULT */
	if (__builtin_add_overflow(rate, (uint64_t)burst, &with_burst))
		return -EOVERFLOW;
	l->nsecs = nsecs;
	l->rate = rate;
	l->bytes = !!bytes;
	l->invert = !!invert;
	if (!bytes) {
		l->cost = nsecs / rate;
		if (__builtin_mul_overflow(l->cost, (uint64_t)burst, &l->tokens_max))
			return -EOVERFLOW;
	} else {
		if (__builtin_mul_overflow(nsecs, with_burst, &tmp))
			return -EOVERFLOW;
		l->tokens_max = tmp / rate;
	}
	return 0;
}

/* Sorting elements needs the set's key length: qsort_r passes it. */
static int cmp_key(const void *a, const void *b, void *arg)
{
	const struct fn_img_set *s = arg;

	return memcmp((const uint8_t *)a + 4, (const uint8_t *)b + 4, s->key_len);
}

static int cmp_bucket(const void *a, const void *b, void *arg)
{
	const struct fn_img_set *s = arg;
	uint32_t mask = s->n_buckets - 1;
	uint32_t ha = fn_img_hash((const uint32_t *)((const uint8_t *)a + 4), s->key_len) & mask;
	uint32_t hb = fn_img_hash((const uint32_t *)((const uint8_t *)b + 4), s->key_len) & mask;

	if (ha != hb)
		return ha < hb ? -1 : 1;
	return memcmp((const uint8_t *)a + 4, (const uint8_t *)b + 4, s->key_len);
}

/* Append set i's element array (and buckets) to set_data. */
static void layout_set(struct fn_imgb *b, struct bset *bs, struct buf *data)
{
	struct fn_img_set *s = &bs->s;
	uint32_t i, n = s->n_elems, total = n + (bs->catchall ? 1 : 0);
	uint8_t *e;

	if (s->kind == FN_SET_HASH) {
		s->n_buckets = 1;
		while (s->n_buckets < n)
			s->n_buckets <<= 1;
		if (n)   /* an empty (dynamic) set has no element buffer at all */
			qsort_r(bs->elems.p, n, s->elem_size, cmp_bucket, s);
	} else if (s->kind == FN_SET_INTERVAL && n) {
		qsort_r(bs->elems.p, n, s->elem_size, cmp_key, s);
	}
	if (s->kind != FN_SET_RANGES) {
		for (i = 1; i < n; i++) {
			if (!memcmp(bs->elems.p + (i - 1) * s->elem_size + 4,
				    bs->elems.p + i * s->elem_size + 4, s->key_len)) {
				fail(b, -EEXIST);
				b->failed_set = bs->name;
				return;
			}
		}
	}
	s->elems = (uint32_t)data->len;
	/* an empty set grows nothing, and buf_grow() may then return NULL
	 * without an error: only b->err says it failed, and the buckets of
	 * an empty hash set must still be written */
	e = buf_grow(b, data, (size_t)total * s->elem_size);
	if (b->err)
		return;
	if (n)
		memcpy(e, bs->elems.p, (size_t)n * s->elem_size);
	if (bs->catchall) {
		memcpy(e + (size_t)n * s->elem_size, bs->catchall, s->elem_size);
		s->catchall = n;
	}
	if (s->kind == FN_SET_HASH) {
		uint32_t *bk, mask = s->n_buckets - 1, bucket = 0;

		s->buckets = (uint32_t)data->len;
		bk = buf_grow(b, data, (s->n_buckets + 1) * sizeof(uint32_t));
		if (!bk)
			return;
		/* CSR: bk[x] = first element whose bucket >= x */
		for (i = 0; i < n; i++) {
			const uint32_t *key = (const uint32_t *)(data->p + s->elems +
						(size_t)i * s->elem_size + 4);
			uint32_t h = fn_img_hash(key, s->key_len) & mask;

			while (bucket <= h)
				bk[bucket++] = i;
		}
		while (bucket <= s->n_buckets)
			bk[bucket++] = n;
	}
}

static int place(struct fn_imgb *b, size_t *off, struct fn_img_section *sec,
		 const struct buf *x)
{
	*off = (*off + 7) & ~(size_t)7;
	if (*off + x->len > UINT32_MAX)
		return -E2BIG;
	sec->off = (uint32_t)*off;
	sec->len = (uint32_t)x->len;
	*off += x->len;
	return 0;
}

void fn_imgb_classify(struct fn_imgb *b, bool on)
{
	b->classify = on;
}

/* Replace the code with one that has classify ops, and fill classify. */
static int add_classify(struct fn_imgb *b, struct buf *classify)
{
	uint8_t *code, *tables;
	size_t code_len, tables_len;
	int err;

	err = fn_classify_build((const struct fn_img_chain *)b->chains.p, b->h.n_chains,
				(struct fn_img_rule *)b->rules.p, b->h.n_rules,
				b->code.p, b->code.len, &code, &code_len, &tables, &tables_len);
	if (err)
		return err;
	free(b->code.p);
	b->code = (struct buf){ code, code_len, code_len };
	*classify = (struct buf){ tables, tables_len, tables_len };
	return 0;
}

int fn_imgb_finish(struct fn_imgb *b, void **image, size_t *len)
{
	struct buf sets = { 0 }, set_data = { 0 }, classify = { 0 };
	struct fn_img_header *h;
	struct fn_img_chain *ch;
	size_t off;
	uint8_t *img;
	uint32_t i;
	int hook, err;

	*image = NULL;
	*len = 0;
	if (b->err)
		return b->err;

	/* hooks: base chains first, grouped by hook, ascending priority */
	ch = (struct fn_img_chain *)b->chains.p;
	for (hook = 0; hook < 5; hook++)
		b->h.hook_first[hook] = 0;
	for (i = 0; i < b->h.n_chains; i++) {
		if (ch[i].hook == FN_CHAIN_REGULAR)
			continue;
		if (ch[i].hook >= 5)
			return b->err = -EINVAL;
		if (i > 0 && (ch[i - 1].hook == FN_CHAIN_REGULAR ||
			      ch[i - 1].hook > ch[i].hook ||
			      (ch[i - 1].hook == ch[i].hook &&
			       ch[i - 1].priority > ch[i].priority)))
			return b->err = -EINVAL;
		if (b->h.hook_count[ch[i].hook]++ == 0)
			b->h.hook_first[ch[i].hook] = (uint16_t)i;
	}

	b->h.table_name = add_string(b, b->table ? b->table : "");
	for (i = 0; i < b->n_sets; i++) {
		b->sets[i].s.name = add_string(b, b->sets[i].name);
		layout_set(b, &b->sets[i], &set_data);
		if (!buf_grow(b, &sets, sizeof(struct fn_img_set)))
			break;
		memcpy(sets.p + i * sizeof(struct fn_img_set), &b->sets[i].s,
		       sizeof(struct fn_img_set));
	}
	b->h.n_sets = b->n_sets;
	if (b->err) {
		err = b->err;
		goto out;
	}

	if (b->classify && (err = add_classify(b, &classify)))
		goto out;
	off = sizeof(struct fn_img_header);
	if ((err = place(b, &off, &b->h.chains, &b->chains)) ||
	    (err = place(b, &off, &b->h.rules, &b->rules)) ||
	    (err = place(b, &off, &b->h.code, &b->code)) ||
	    (err = place(b, &off, &b->h.sets, &sets)) ||
	    (err = place(b, &off, &b->h.set_data, &set_data)) ||
	    (err = place(b, &off, &b->h.counters, &b->counters)) ||
	    (err = place(b, &off, &b->h.limits, &b->limits)) ||
	    (err = place(b, &off, &b->h.quotas, &b->quotas)) ||
	    (err = place(b, &off, &b->h.logs, &b->logs)) ||
	    (err = place(b, &off, &b->h.objects, &b->objects)) ||
	    (err = place(b, &off, &b->h.strings, &b->strings)) ||
	    (err = place(b, &off, &b->h.classify, &classify)))
		goto out;
	off = (off + 7) & ~(size_t)7;

	img = calloc(1, off);
	if (!img) {
		err = -ENOMEM;
		goto out;
	}
	h = (struct fn_img_header *)img;
	*h = b->h;
	h->magic = FN_IMG_MAGIC;
	h->version = FN_IMG_VERSION;
	h->header_len = sizeof(*h);
	h->image_len = (uint32_t)off;
#define COPY(sec, x) if ((x).len) memcpy(img + h->sec.off, (x).p, (x).len)
	COPY(chains, b->chains);
	COPY(rules, b->rules);
	COPY(code, b->code);
	COPY(sets, sets);
	COPY(set_data, set_data);
	COPY(counters, b->counters);
	COPY(limits, b->limits);
	COPY(quotas, b->quotas);
	COPY(logs, b->logs);
	COPY(objects, b->objects);
	COPY(strings, b->strings);
	COPY(classify, classify);
#undef COPY
	*image = img;
	*len = off;
	err = 0;
out:
	free(sets.p);
	free(set_data.p);
	free(classify.p);
	return err;
}
