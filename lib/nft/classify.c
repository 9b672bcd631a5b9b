/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Finding runs of simple rules and laying out their classify tables
 * (classify.h). A rule is simple when its ops are only compares of payload
 * fields of at most 4 bytes (a plain, prefix or range compare, each an
 * interval of field values), meta compares, then an optional counter and
 * an optional verdict: nothing with an effect runs before the rule is known
 * to match, so a rule that cannot match may be skipped without a trace.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "classify.h"

/* One compare: field (base, offset) of `len` bytes lies in [lo, hi]. */
struct cons {
	uint8_t base, offset, len;
	uint32_t lo, hi;
};

struct simple {
	unsigned n;
	struct cons c[FN_CLASSIFY_MAX_FIELDS];
	bool never;        /* some compare can hold for no value */
};

static uint32_t be_value(const uint32_t *data, unsigned len)
{
	const uint8_t *b = (const void *)data;
	uint32_t v = 0;
	unsigned i;

	for (i = 0; i < len; i++)
		v = v << 8 | b[i];
	return v;
}

static uint32_t max_of(unsigned len)
{
	return (uint32_t)((1ull << (8 * len)) - 1);
}

/* The values of a len-byte field for which `op d` holds; false if not an
 * interval (NEQ). An empty set sets s->never. */
static bool cmp_interval(struct simple *s, unsigned op, uint32_t d, unsigned len,
			 uint32_t *lo, uint32_t *hi)
{
	*lo = 0;
	*hi = max_of(len);
	switch (op) {
	case FN_CMP_EQ: *lo = *hi = d; return true;
	case FN_CMP_LT: if (d == 0) s->never = true; else *hi = d - 1; return true;
	case FN_CMP_LTE: *hi = d; return true;
	case FN_CMP_GT: if (d == *hi) s->never = true; else *lo = d + 1; return true;
	case FN_CMP_GTE: *lo = d; return true;
	default: return false;
	}
}

static bool add_cons(struct simple *s, unsigned base, unsigned offset, unsigned len,
		     uint32_t lo, uint32_t hi)
{
	if ((base != FN_PAYLOAD_NETWORK && base != FN_PAYLOAD_TRANSPORT) ||
	    len == 0 || len > 4 || s->n == FN_CLASSIFY_MAX_FIELDS)
		return false;
	if (lo > hi)
		s->never = true;
	s->c[s->n++] = (struct cons){ .base = (uint8_t)base, .offset = (uint8_t)offset,
				      .len = (uint8_t)len, .lo = lo, .hi = hi };
	return true;
}

/* Whether the prefix mask of len bytes is leading ones (then *ones is the
 * value of its zero bits). */
static bool prefix_mask(const uint32_t *mask, unsigned len, uint32_t *ones)
{
	uint32_t m = be_value(mask, len), inv = ~m & max_of(len);

	*ones = inv;
	return (inv & (inv + 1)) == 0;
}

static bool zero_words(const uint32_t *d, unsigned len)
{
	return be_value(d, len) == 0;
}

/* Whether op holds `count` data operands of len bytes after `fixed` bytes
 * (the builder does not judge ops; the verifier runs after this). */
static bool holds(const struct fn_op *op, size_t fixed, unsigned len, unsigned count)
{
	return len >= 1 && len <= 4 && (size_t)op->size * 4 >= fixed + 4u * count;
}

/* Parse rule code into its compares; false if the rule is not simple. */
static bool parse_rule(const uint8_t *p, uint32_t len, struct simple *s)
{
	const uint8_t *end = p + len;
	bool counted = false;

	memset(s, 0, sizeof(*s));
	while (p < end) {
		const struct fn_op *op = (const void *)p;
		const uint8_t *next;
		uint32_t lo, hi;

		if (op->size == 0 || (size_t)(end - p) < op->size * 4u)
			return false;
		next = p + op->size * 4u;
		if (op->type == FN_OP_VERDICT)
			return next == end && s->n > 0;
		if (counted)
			return false;
		switch (op->type) {
		case FN_OP_PAYLOAD_CMP: {
			const struct fn_op_payload_cmp *o = (const void *)op;

			if (!holds(op, sizeof(*o), o->len, 1) ||
			    !cmp_interval(s, o->op, be_value(o->data, o->len), o->len, &lo, &hi) ||
			    !add_cons(s, o->base, o->offset, o->len, lo, hi))
				return false;
			break;
		}
		case FN_OP_PAYLOAD: {
			/* a load, then the one op that reads it */
			const struct fn_op_payload *o = (const void *)op;
			const struct fn_op *u = (const void *)next;
			unsigned reg = o->dreg;

			if (o->len == 0 || o->len > 4 || (size_t)(end - next) < 8 ||
			    u->size == 0 || (size_t)(end - next) < u->size * 4u)
				return false;
			if (u->type == FN_OP_BITWISE) {
				const struct fn_op_bitwise *b = (const void *)u;
				const struct fn_op_cmp *cm;
				uint32_t ones, d;

				if (b->sreg != reg || b->len != o->len ||
				    !holds(u, sizeof(*b), b->len, 2) ||
				    !prefix_mask(b->data, b->len, &ones) ||
				    !zero_words(b->data + 1, b->len))
					return false;
				reg = b->dreg;
				next += u->size * 4u;
				u = (const void *)next;
				if ((size_t)(end - next) < 8 || u->size == 0 ||
				    (size_t)(end - next) < u->size * 4u || u->type != FN_OP_CMP)
					return false;
				cm = (const void *)u;
				if (cm->sreg != reg || cm->op != FN_CMP_EQ || cm->len != o->len ||
				    !holds(u, sizeof(*cm), cm->len, 1))
					return false;
				d = be_value(cm->data, cm->len);
				if (d & ones)
					s->never = true;
				if (!add_cons(s, o->base, o->offset, o->len, d, d | ones))
					return false;
			} else if (u->type == FN_OP_CMP) {
				const struct fn_op_cmp *cm = (const void *)u;

				if (cm->sreg != reg || cm->len != o->len ||
				    !holds(u, sizeof(*cm), cm->len, 1) ||
				    !cmp_interval(s, cm->op, be_value(cm->data, cm->len), cm->len,
						  &lo, &hi) ||
				    !add_cons(s, o->base, o->offset, o->len, lo, hi))
					return false;
			} else if (u->type == FN_OP_RANGE) {
				const struct fn_op_range *r = (const void *)u;

				if (r->sreg != reg || r->len != o->len || r->op != FN_CMP_EQ ||
				    !holds(u, sizeof(*r), r->len, 2) ||
				    !add_cons(s, o->base, o->offset, o->len, be_value(r->data, r->len),
					      be_value(r->data + 1, r->len)))
					return false;
			} else {
				return false;
			}
			next += u->size * 4u;
			break;
		}
		case FN_OP_META_CMP:
			break;
		case FN_OP_COUNTER:
			counted = true;
			break;
		default:
			return false;
		}
		p = next;
	}
	return s->n > 0; /* no verdict: a match goes on to the next rule */
}

struct field {
	uint8_t base, offset, len;
};

struct run {
	uint32_t first, n;
	unsigned n_fields;
	struct field f[FN_CLASSIFY_MAX_FIELDS];
};

/* The field of c in run, added if new and there is room; -1 if not. */
static int field_of(struct run *run, const struct cons *c, bool add)
{
	unsigned i;

	for (i = 0; i < run->n_fields; i++)
		if (run->f[i].base == c->base && run->f[i].offset == c->offset) {
			if (add && c->len > run->f[i].len)
				run->f[i].len = c->len;
			return (int)i;
		}
	if (!add || run->n_fields == FN_CLASSIFY_MAX_FIELDS)
		return -1;
	run->f[run->n_fields] = (struct field){ c->base, c->offset, c->len };
	return (int)run->n_fields++;
}

/* Whether rule s fits run (its fields too), adding them if so. */
static bool run_takes(struct run *run, const struct simple *s)
{
	struct run t = *run;
	unsigned i;

	if (run->n == FN_CLASSIFY_MAX_RULES)
		return false;
	for (i = 0; i < s->n; i++)
		if (field_of(&t, &s->c[i], true) < 0)
			return false;
	*run = t;
	run->n++;
	return true;
}

struct grow {
	uint8_t *p;
	size_t len, cap;
};

static uint32_t *grow_words(struct grow *g, size_t words)
{
	size_t n = words * 4;

	if (g->len + n > g->cap) {
		size_t cap = g->cap ? g->cap : 4096;
		uint8_t *np;

		while (cap < g->len + n)
			cap *= 2;
		np = realloc(g->p, cap);
		if (!np)
			return NULL;
		g->p = np;
		g->cap = cap;
	}
	memset(g->p + g->len, 0, n);
	g->len += n;
	return (uint32_t *)(g->p + g->len - n);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Rule k's interval on field f of the run: [*lo, *hi], all values when it
 * has no compare there. False: the rule can match no value. */
static bool rule_interval(const struct run *run, const struct simple *s, unsigned f,
			  uint32_t *lo, uint32_t *hi)
{
	const struct field *fd = &run->f[f];
	unsigned i;

	*lo = 0;
	*hi = max_of(fd->len);
	if (s->never)
		return false;
	for (i = 0; i < s->n; i++) {
		const struct cons *c = &s->c[i];
		unsigned shift = 8 * (fd->len - c->len);
		uint32_t clo, chi;

		if (c->base != fd->base || c->offset != fd->offset)
			continue;
		/* a shorter compare constrains the leading bytes of the field */
		clo = (uint32_t)((uint64_t)c->lo << shift);
		chi = (uint32_t)(((uint64_t)c->hi << shift) | ((1ull << shift) - 1));
		if (clo > *lo)
			*lo = clo;
		if (chi < *hi)
			*hi = chi;
	}
	return *lo <= *hi;
}

/* Append run's table to tables; its offset in *off. */
static int lay_table(const struct run *run, const struct simple *rs, struct grow *tables,
		     uint32_t *off)
{
	uint32_t words = (run->n + 31) / 32, *cuts = malloc(sizeof(uint32_t) * 2 * run->n);
	struct fn_img_classify *t;
	unsigned f;

	if (!cuts)
		return -ENOMEM;
	*off = (uint32_t)tables->len;
	if (!grow_words(tables, sizeof(*t) / 4))
		goto nomem;
	for (f = 0; f < run->n_fields; f++) {
		uint32_t n = 0, k, i, lo, hi, *w;
		uint32_t max = max_of(run->f[f].len);

		for (k = 0; k < run->n; k++) {
			if (!rule_interval(run, &rs[k], f, &lo, &hi))
				continue;
			if (lo > 0)
				cuts[n++] = lo;
			if (hi < max)
				cuts[n++] = hi + 1;
		}
		qsort(cuts, n, sizeof(*cuts), cmp_u32);
		for (i = 0, k = 0; i < n; i++)
			if (k == 0 || cuts[i] != cuts[k - 1])
				cuts[k++] = cuts[i];
		n = k;
		w = grow_words(tables, n + (size_t)(n + 1) * (1 + words));
		if (!w)
			goto nomem;
		memcpy(w, cuts, n * sizeof(*cuts));
		for (i = 0; i <= n; i++) {
			uint32_t start = i ? cuts[i - 1] : 0, *first = &w[n + i];
			uint32_t *map = w + 2 * n + 1 + (size_t)i * words;

			*first = words;
			for (k = 0; k < run->n; k++)
				if (rule_interval(run, &rs[k], f, &lo, &hi) &&
				    lo <= start && start <= hi) {
					map[k / 32] |= 1u << (k % 32);
					if (*first > k / 32)
						*first = k / 32;
				}
		}
		t = (void *)(tables->p + *off);
		t->field[f] = (struct fn_img_classify_field){
			.base = run->f[f].base, .offset = run->f[f].offset,
			.len = run->f[f].len, .n_cuts = n };
	}
	t = (void *)(tables->p + *off);
	t->n_rules = (uint16_t)run->n;
	t->n_fields = (uint8_t)run->n_fields;
	t->words = (uint8_t)words;
	free(cuts);
	return 0;
nomem:
	free(cuts);
	return -ENOMEM;
}

int fn_classify_build(const struct fn_img_chain *chains, uint32_t n_chains,
		      struct fn_img_rule *rules, uint32_t n_rules,
		      const uint8_t *code, size_t code_len,
		      uint8_t **new_code, size_t *new_code_len,
		      uint8_t **tables_out, size_t *tables_len)
{
	struct grow out = { 0 }, tables = { 0 };
	struct simple *rs = calloc(n_rules + 1, sizeof(*rs));
	uint32_t *table_of = malloc(sizeof(uint32_t) * (n_rules + 1));
	bool *simple = calloc(n_rules + 1, 1);
	uint32_t c, r;
	int err = -ENOMEM;

	if (!rs || !table_of || !simple)
		goto out;
	for (r = 0; r < n_rules; r++) {
		table_of[r] = FN_IMG_NONE;
		simple[r] = rules[r].code_off <= code_len &&
			    rules[r].code_len <= code_len - rules[r].code_off &&
			    parse_rule(code + rules[r].code_off, rules[r].code_len, &rs[r]);
	}
	for (c = 0; c < n_chains; c++) {
		uint32_t end = chains[c].first_rule + chains[c].n_rules;

		for (r = chains[c].first_rule; r < end && end <= n_rules;) {
			struct run run = { .first = r };

			while (r < end && simple[r] && run_takes(&run, &rs[r]))
				r++;
			if (run.n >= FN_CLASSIFY_MIN_RULES &&
			    (err = lay_table(&run, rs + run.first, &tables, &table_of[run.first])))
				goto out;
			if (run.n == 0)
				r++;
		}
	}
	for (r = 0; r < n_rules; r++) {
		uint32_t *w;
		size_t at = out.len;

		if (table_of[r] != FN_IMG_NONE) {
			struct fn_op_classify op = { .h = { FN_OP_CLASSIFY, sizeof(op) / 4 },
						     .table = table_of[r] };

			if (!(w = grow_words(&out, sizeof(op) / 4)))
				goto nomem;
			memcpy(w, &op, sizeof(op));
		}
		if (rules[r].code_len) {
			if (!(w = grow_words(&out, rules[r].code_len / 4)))
				goto nomem;
			memcpy(w, code + rules[r].code_off, rules[r].code_len);
		}
		if (out.len > UINT32_MAX || tables.len > UINT32_MAX) {
			err = -E2BIG;
			goto out;
		}
		rules[r].code_off = (uint32_t)at;
		rules[r].code_len = (uint32_t)(out.len - at);
	}
	*new_code = out.p;
	*new_code_len = out.len;
	*tables_out = tables.p;
	*tables_len = tables.len;
	out.p = tables.p = NULL;
	err = 0;
	goto out;
nomem:
	err = -ENOMEM;
out:
	free(out.p);
	free(tables.p);
	free(rs);
	free(table_of);
	free(simple);
	return err;
}
