/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The classify op (image.h): which rule of a run of simple rules is the
 * first that can match, found by one binary search per field and an AND of
 * bitmaps instead of evaluating the rules before it one by one.
 */
#include "nft.h"

static const struct fn_img_classify *table_at(const struct fn_nft_prog *p, uint32_t off)
{
	return (const void *)(p->classify + off);
}

/* The index of the map field f selects for value v: the number of cuts
 * <= v. */
static uint32_t field_map(const struct fn_img_classify_field *f, const uint32_t *cuts,
			  uint32_t v)
{
	uint32_t lo = 0, hi = f->n_cuts;

	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;

		if (cuts[mid] <= v)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* A field's u32s in the table: cuts, first words, maps. */
static size_t field_words(const struct fn_img_classify_field *f, uint32_t words)
{
	return f->n_cuts + (size_t)(f->n_cuts + 1) * (1 + words);
}

static void classify_eval(struct fn_nft_ctx *c, const struct fn_op *op)
{
	const struct fn_op_classify *o = (const void *)op;
	const struct fn_img_classify *t = table_at(c->prog, o->table);
	const uint32_t *maps[FN_CLASSIFY_MAX_FIELDS];
	const uint32_t *data = t->data;
	uint32_t f, w = 0, k;

	for (f = 0; f < t->n_fields; f++) {
		const struct fn_img_classify_field *fd = &t->field[f];
		const uint8_t *p = c->base_ptr[fd->base] + fd->offset;
		uint32_t v = 0;

		if (fd->offset + fd->len > c->base_len[fd->base])
			return; /* the rules decide, linearly */
		for (k = 0; k < fd->len; k++)
			v = v << 8 | p[k];
		k = field_map(fd, data, v);
		if (data[fd->n_cuts + k] > w)
			w = data[fd->n_cuts + k]; /* words before are zero */
		maps[f] = data + 2 * fd->n_cuts + 1 + (size_t)k * t->words;
		data += field_words(fd, t->words);
	}
	for (; w < t->words; w++) {
		uint32_t bits = maps[0][w];

		for (f = 1; f < t->n_fields && bits; f++)
			bits &= maps[f][w];
		if (bits) {
			k = w * 32 + (uint32_t)__builtin_ctz(bits);
			break;
		}
	}
	if (w == t->words)
		k = t->n_rules;
	if (k > 0) {
		c->vcode = FN_V_SKIP;
		c->skip = k;
	}
}

/* Everything the eval relies on: the table inside the section, its fields
 * readable, cuts sorted and in range, no bit past the run, and the run
 * inside the chain, starting at this op. */
static int classify_verify(struct fn_verify *v, const struct fn_op *op)
{
	const struct fn_op_classify *o = (const void *)op;
	const struct fn_nft_prog *p = v->prog;
	const struct fn_img_chain *ch = &p->chains[v->chain];
	uint32_t len = p->hdr->classify.len, f, i;
	const struct fn_img_classify *t;
	const uint32_t *data;
	uint64_t need;

	if (op->size != sizeof(*o) / 4 || o->pad[0] || o->pad[1])
		return fn_verify_fail(v, "classify op size %u", op->size);
	if (v->op_index != 0)
		return fn_verify_fail(v, "classify op not first in its rule");
	if (o->table % 4 || o->table > len || len - o->table < sizeof(*t))
		return fn_verify_fail(v, "classify table %u out of bounds", o->table);
	t = table_at(p, o->table);
	if (t->n_rules < FN_CLASSIFY_MIN_RULES || t->n_rules > FN_CLASSIFY_MAX_RULES ||
	    t->n_rules > ch->first_rule + ch->n_rules - v->rule)
		return fn_verify_fail(v, "classify run of %u rules", t->n_rules);
	if (t->n_fields < 1 || t->n_fields > FN_CLASSIFY_MAX_FIELDS ||
	    t->words != (t->n_rules + 31) / 32)
		return fn_verify_fail(v, "classify fields %u words %u", t->n_fields, t->words);
	need = sizeof(*t);
	for (f = 0; f < FN_CLASSIFY_MAX_FIELDS; f++) {
		const struct fn_img_classify_field *fd = &t->field[f];

		if (f >= t->n_fields) {
			if (fd->base || fd->offset || fd->len || fd->pad || fd->n_cuts)
				return fn_verify_fail(v, "classify unused field %u not zero", f);
			continue;
		}
		if ((fd->base != FN_PAYLOAD_NETWORK && fd->base != FN_PAYLOAD_TRANSPORT) ||
		    fd->len < 1 || fd->len > 4 || fd->pad ||
		    fd->n_cuts > 2u * t->n_rules)
			return fn_verify_fail(v, "classify field %u", f);
		need += 4 * (uint64_t)field_words(fd, t->words);
	}
	if (need > len - o->table)
		return fn_verify_fail(v, "classify table %u longer than its section", o->table);
	data = t->data;
	for (f = 0; f < t->n_fields; f++) {
		const struct fn_img_classify_field *fd = &t->field[f];
		uint64_t top = 1ull << (8 * fd->len);
		uint32_t last = (t->n_rules % 32) ? ~0u << (t->n_rules % 32) : 0;

		for (i = 0; i < fd->n_cuts; i++)
			if (data[i] >= top || (i > 0 && data[i] <= data[i - 1]))
				return fn_verify_fail(v, "classify field %u cuts not sorted", f);
		for (i = 0; i <= fd->n_cuts; i++) {
			const uint32_t *map = data + 2 * fd->n_cuts + 1 + (size_t)i * t->words;
			uint32_t first = 0;

			while (first < t->words && map[first] == 0)
				first++;
			if (data[fd->n_cuts + i] != first)
				return fn_verify_fail(v, "classify field %u map %u: first word", f, i);
			if (map[t->words - 1] & last)
				return fn_verify_fail(v, "classify field %u: bit past the run", f);
		}
		data += field_words(fd, t->words);
	}
	return 0;
}

const struct fn_nft_op_type fn_op_classify = {
	.name = "classify",
	.min_size = sizeof(struct fn_op_classify) / 4,
	.eval = classify_eval,
	.verify = classify_verify,
};
