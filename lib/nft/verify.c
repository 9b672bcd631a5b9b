/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The image verifier: everything the interpreter relies on is checked here,
 * once, so a corrupt or hostile image is refused instead of run. Op-specific
 * checks live with each op (the verify callback of its registry entry); this
 * file checks the container and the jump graph.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dynset.h"
#include "nft.h"

int fn_verify_fail(struct fn_verify *v, const char *fmt, ...)
{
	char msg[192];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (v->err && v->errlen) {
		if (v->rule != FN_IMG_NONE)
			snprintf(v->err, v->errlen, "image: chain %u rule %u op %u: %s",
				 v->chain, v->rule, v->op_index, msg);
		else
			snprintf(v->err, v->errlen, "image: %s", msg);
	}
	return -EBADMSG;
}

int fn_verify_load(struct fn_verify *v, unsigned reg, unsigned len)
{
	unsigned words = (len + 3) / 4, r;

	if (len == 0 || reg >= FN_NREGS || reg + words > FN_NREGS)
		return fn_verify_fail(v, "register %u length %u out of range", reg, len);
	for (r = reg; r < reg + words; r++)
		if (!(v->reg_init & (1u << r)))
			return fn_verify_fail(v, "register %u read before written", r);
	return 0;
}

int fn_verify_store(struct fn_verify *v, unsigned reg, unsigned len)
{
	unsigned words = (len + 3) / 4, r;

	if (len == 0 || reg >= FN_NREGS || reg + words > FN_NREGS)
		return fn_verify_fail(v, "register %u length %u out of range", reg, len);
	for (r = reg; r < reg + words; r++)
		v->reg_init |= 1u << r;
	return 0;
}

int fn_verify_data(struct fn_verify *v, const struct fn_op *op, size_t fixed,
		   unsigned len, unsigned count)
{
	size_t need = fixed + (size_t)count * fn_img_round4(len);

	if (len == 0 || len > FN_REGS_BYTES)
		return fn_verify_fail(v, "data length %u", len);
	const uint8_t *data = (const uint8_t *)op + fixed;
	unsigned i, k;

	if ((size_t)op->size * 4 != (need + 3) / 4 * 4)
		return fn_verify_fail(v, "op size %u for %u data bytes", op->size, len);
	/* padding is zero, as in the kernel's nft_data: it can reach registers */
	for (i = 0; i < count; i++)
		for (k = len; k < fn_img_round4(len); k++)
			if (data[i * fn_img_round4(len) + k])
				return fn_verify_fail(v, "data padding not zero");
	return 0;
}

static int add_edge(struct fn_verify *v, uint32_t to)
{
	if (v->n_edges == v->cap_edges) {
		size_t cap = v->cap_edges ? v->cap_edges * 2 : 64;
		void *n = realloc(v->edges, cap * sizeof(*v->edges));

		if (!n)
			return -ENOMEM;
		v->edges = n;
		v->cap_edges = cap;
	}
	v->edges[v->n_edges][0] = v->chain;
	v->edges[v->n_edges][1] = to;
	v->n_edges++;
	return 0;
}

int fn_verify_vdata(struct fn_verify *v, const struct fn_img_vdata *vd)
{
	const struct fn_nft_prog *p = v->prog;

	switch (vd->code) {
	case FN_V_ACCEPT:
	case FN_V_DROP:
	case FN_V_CONTINUE:
	case FN_V_BREAK:
	case FN_V_RETURN:
		return 0;
	case FN_V_JUMP:
	case FN_V_GOTO:
		if (vd->chain >= p->hdr->n_chains ||
		    p->chains[vd->chain].hook != FN_CHAIN_REGULAR)
			return fn_verify_fail(v, "jump to chain %u, not a regular chain",
					      vd->chain);
		return v->chain == FN_IMG_NONE ? 0 : add_edge(v, vd->chain);
	default:
		return fn_verify_fail(v, "verdict code %d", vd->code);
	}
}

/* Called by the lookup check, after check_sets() validated the elements. */
int fn_verify_vmap_edges(struct fn_verify *v, uint32_t set)
{
	const struct fn_img_set *s = &v->prog->sets[set];
	uint32_t j, total = s->n_elems + (s->catchall != FN_IMG_NONE);
	int err;

	for (j = 0; j < total; j++) {
		const uint8_t *e = v->prog->set_data + s->elems + (size_t)j * s->elem_size;
		struct fn_img_vdata vd;
		uint32_t flags;

		memcpy(&flags, e, 4);
		if (flags & FN_ELEM_F_END)
			continue;
		memcpy(&vd, e + s->elem_size - sizeof(vd), sizeof(vd));
		if ((err = fn_verify_vdata(v, &vd)))
			return err;
	}
	return 0;
}

/* A section: inside the image, after the header, 8-byte aligned, and an
 * exact multiple of the element size. */
static int check_section(struct fn_verify *v, const struct fn_img_section *s,
			 size_t elem, uint32_t count, const char *what)
{
	const struct fn_img_header *h = v->prog->hdr;

	if (s->off % 8 || s->off < h->header_len || s->off > h->image_len ||
	    s->len > h->image_len - s->off)
		return fn_verify_fail(v, "%s section out of bounds", what);
	if (elem && (uint64_t)elem * count != s->len)
		return fn_verify_fail(v, "%s section holds %u bytes, expected %u x %zu",
				      what, s->len, count, elem);
	return 0;
}

static int check_string(struct fn_verify *v, uint32_t off, const char *what)
{
	if (off >= v->prog->hdr->strings.len)
		return fn_verify_fail(v, "%s name out of bounds", what);
	return 0;
}

static int check_header(struct fn_verify *v, const void *image, size_t len)
{
	const struct fn_img_header *h = image;
	struct fn_nft_prog *p = (struct fn_nft_prog *)v->prog;
	int err;

	if (len < sizeof(*h) || ((uintptr_t)image % 8))
		return fn_verify_fail(v, "too short or misaligned (%zu bytes)", len);
	if (h->magic != FN_IMG_MAGIC)
		return fn_verify_fail(v, "bad magic");
	if (h->version != FN_IMG_VERSION)
		return fn_verify_fail(v, "version %u, this library reads %u",
				      h->version, FN_IMG_VERSION);
	if (h->header_len != sizeof(*h) || h->image_len != len)
		return fn_verify_fail(v, "header or image length mismatch");
	if (h->flags & ~FN_IMG_F_CONNTRACK)
		return fn_verify_fail(v, "unknown flags 0x%x", h->flags);
	if (h->family != FN_FAMILY_INET && h->family != FN_FAMILY_IPV4)
		return fn_verify_fail(v, "family %u", h->family);
	p->hdr = h;
	if ((err = check_section(v, &h->chains, sizeof(struct fn_img_chain), h->n_chains, "chains")) ||
	    (err = check_section(v, &h->rules, sizeof(struct fn_img_rule), h->n_rules, "rules")) ||
	    (err = check_section(v, &h->code, 0, 0, "code")) ||
	    (err = check_section(v, &h->sets, sizeof(struct fn_img_set), h->n_sets, "sets")) ||
	    (err = check_section(v, &h->set_data, 0, 0, "set data")) ||
	    (err = check_section(v, &h->counters, sizeof(struct fn_img_counter), h->n_counters, "counters")) ||
	    (err = check_section(v, &h->limits, sizeof(struct fn_img_limit), h->n_limits, "limits")) ||
	    (err = check_section(v, &h->quotas, sizeof(struct fn_img_quota), h->n_quotas, "quotas")) ||
	    (err = check_section(v, &h->logs, sizeof(struct fn_img_log), h->n_logs, "logs")) ||
	    (err = check_section(v, &h->objects, sizeof(struct fn_img_object), h->n_objects, "objects")) ||
	    (err = check_section(v, &h->strings, 0, 0, "strings")) ||
	    (err = check_section(v, &h->classify, 0, 0, "classify")))
		return err;
	if (h->code.len % 4)
		return fn_verify_fail(v, "code length not a multiple of 4");
	if (h->strings.len == 0 || ((const char *)image)[h->strings.off + h->strings.len - 1])
		return fn_verify_fail(v, "strings not NUL-terminated");
	if (h->n_chains > 0xffff)
		return fn_verify_fail(v, "too many chains");

	p->base = image;
	p->len = len;
	p->chains = (const void *)(p->base + h->chains.off);
	p->rules = (const void *)(p->base + h->rules.off);
	p->code = p->base + h->code.off;
	p->sets = (const void *)(p->base + h->sets.off);
	p->set_data = p->base + h->set_data.off;
	p->counters = (const void *)(p->base + h->counters.off);
	p->limits = (const void *)(p->base + h->limits.off);
	p->quotas = (const void *)(p->base + h->quotas.off);
	p->logs = (const void *)(p->base + h->logs.off);
	p->objects = (const void *)(p->base + h->objects.off);
	p->strings = (const char *)p->base + h->strings.off;
	p->classify = p->base + h->classify.off;
	return check_string(v, h->table_name, "table");
}

static int check_chains(struct fn_verify *v)
{
	const struct fn_nft_prog *p = v->prog;
	const struct fn_img_header *h = p->hdr;
	uint32_t i, based = 0;
	int hook, err;

	for (hook = 0; hook < FN_HOOK_MAX; hook++) {
		uint32_t first = h->hook_first[hook], n = h->hook_count[hook];

		if (first + n > h->n_chains)
			return fn_verify_fail(v, "hook %d chains out of range", hook);
		for (i = first; i < first + n; i++) {
			if (p->chains[i].hook != hook)
				return fn_verify_fail(v, "chain %u is not on hook %d", i, hook);
			if (i > first && p->chains[i - 1].priority > p->chains[i].priority)
				return fn_verify_fail(v, "hook %d chains not in priority order", hook);
		}
		based += n;
	}
	for (i = 0; i < h->n_chains; i++) {
		const struct fn_img_chain *c = &p->chains[i];

		if ((err = check_string(v, c->name, "chain")))
			return err;
		if (c->hook != FN_CHAIN_REGULAR && c->hook >= FN_HOOK_MAX)
			return fn_verify_fail(v, "chain %u hook %u", i, c->hook);
		if (c->hook != FN_CHAIN_REGULAR && c->policy != FN_POLICY_ACCEPT &&
		    c->policy != FN_POLICY_DROP)
			return fn_verify_fail(v, "chain %u policy %u", i, c->policy);
		if (c->hook != FN_CHAIN_REGULAR && i >= based)
			return fn_verify_fail(v, "base chain %u listed under no hook", i);
		if (c->first_rule > h->n_rules || c->n_rules > h->n_rules - c->first_rule)
			return fn_verify_fail(v, "chain %u rules out of range", i);
	}
	return 0;
}

/* A dynamic set is an empty hash set, not a map, with a bounded table; the
 * others leave the dynamic fields zero. */
static int check_dynamic(struct fn_verify *v, uint32_t i, const struct fn_img_set *s)
{
	if (s->pad2)
		return fn_verify_fail(v, "set %u padding", i);
	if (!(s->flags & FN_SET_F_DYNAMIC)) {
		if (s->size || s->timeout_ms)
			return fn_verify_fail(v, "set %u: size or timeout of a static set", i);
		return 0;
	}
	if (s->kind != FN_SET_HASH || (s->flags & FN_SET_F_MAP) || s->n_elems ||
	    s->catchall != FN_IMG_NONE)
		return fn_verify_fail(v, "dynamic set %u: not an empty hash set", i);
	if (s->size == 0 || s->size > FN_DYN_MAX_SIZE)
		return fn_verify_fail(v, "dynamic set %u size %u", i, s->size);
	if (s->timeout_ms > FN_DYN_MAX_TIMEOUT_MS)
		return fn_verify_fail(v, "dynamic set %u timeout", i);
	return 0;
}

/* How many slots objects of type `type` have. */
static uint32_t objects_of(const struct fn_nft_prog *p, uint8_t type)
{
	switch (type) {
	case FN_OBJ_COUNTER: return p->hdr->n_counters;
	case FN_OBJ_QUOTA: return p->hdr->n_quotas;
	case FN_OBJ_LIMIT: return p->hdr->n_limits;
	default: return 0;
	}
}

/* An object map is a static set of u32 slots of one object type; the
 * others have no object type. */
static int check_objmap(struct fn_verify *v, uint32_t i, const struct fn_img_set *s)
{
	if (s->pad[0] || s->pad[1])
		return fn_verify_fail(v, "set %u padding", i);
	if (!(s->flags & FN_SET_F_OBJMAP))
		return s->obj_type ? fn_verify_fail(v, "set %u: object type of a plain set", i) : 0;
	if (s->flags & (FN_SET_F_MAP | FN_SET_F_DYNAMIC) || s->data_len != 4 ||
	    (s->obj_type != FN_OBJ_COUNTER && s->obj_type != FN_OBJ_QUOTA &&
	     s->obj_type != FN_OBJ_LIMIT))
		return fn_verify_fail(v, "object map %u: flags 0x%x type %u data %u", i,
				      s->flags, s->obj_type, s->data_len);
	return 0;
}

static int check_sets(struct fn_verify *v)
{
	const struct fn_nft_prog *p = v->prog;
	uint32_t i, j;
	int err;

	for (i = 0; i < p->hdr->n_sets; i++) {
		const struct fn_img_set *s = &p->sets[i];
		uint32_t total = s->n_elems + (s->catchall != FN_IMG_NONE);
		uint32_t ksz = fn_img_round4(s->key_len);
		uint64_t bytes;

		if ((err = check_string(v, s->name, "set")))
			return err;
		if (s->kind < FN_SET_HASH || s->kind > FN_SET_RANGES)
			return fn_verify_fail(v, "set %u kind %u", i, s->kind);
		if (s->key_len == 0 || s->key_len > FN_REGS_BYTES)
			return fn_verify_fail(v, "set %u key length %u", i, s->key_len);
		if (s->flags & ~(FN_SET_F_MAP | FN_SET_F_VMAP | FN_SET_F_DYNAMIC |
				 FN_SET_F_OBJMAP) ||
		    ((s->flags & FN_SET_F_VMAP) && !(s->flags & FN_SET_F_MAP)))
			return fn_verify_fail(v, "set %u flags 0x%x", i, s->flags);
		if ((err = check_dynamic(v, i, s)) || (err = check_objmap(v, i, s)))
			return err;
		if (!(s->flags & (FN_SET_F_MAP | FN_SET_F_OBJMAP)) != !s->data_len ||
		    s->data_len > FN_REGS_BYTES ||
		    ((s->flags & FN_SET_F_VMAP) && s->data_len != sizeof(struct fn_img_vdata)))
			return fn_verify_fail(v, "set %u data length %u", i, s->data_len);
		if (s->elem_size != fn_img_set_elem_size(s->kind, s->key_len, s->data_len))
			return fn_verify_fail(v, "set %u element size %u", i, s->elem_size);
		if (s->catchall != FN_IMG_NONE && s->catchall != s->n_elems)
			return fn_verify_fail(v, "set %u catch-all index", i);
		if (s->kind == FN_SET_RANGES) {
			uint32_t sum = 0;

			if (s->n_fields == 0 || s->n_fields > FN_SET_MAX_FIELDS)
				return fn_verify_fail(v, "set %u fields %u", i, s->n_fields);
			for (j = 0; j < s->n_fields; j++) {
				if (s->field_len[j] == 0)
					return fn_verify_fail(v, "set %u field %u empty", i, j);
				sum += fn_img_round4(s->field_len[j]);
			}
			if (sum != ksz)
				return fn_verify_fail(v, "set %u fields do not add up to key", i);
		}
		bytes = (uint64_t)total * s->elem_size;
		if (s->elems % 4 || s->elems > p->hdr->set_data.len ||
		    bytes > p->hdr->set_data.len - s->elems)
			return fn_verify_fail(v, "set %u elements out of bounds", i);

		for (j = 0; j < total; j++) {
			const uint8_t *e = p->set_data + s->elems + (size_t)j * s->elem_size;
			uint32_t flags;

			memcpy(&flags, e, 4);
			/* an interval's end carries no data; the catch-all
			 * (index n_elems) always does, and is used whatever
			 * its flags say: it must be checked like any element */
			if (flags & ~(uint32_t)FN_ELEM_F_END ||
			    ((flags & FN_ELEM_F_END) && (s->kind != FN_SET_INTERVAL ||
							 j == s->n_elems)))
				return fn_verify_fail(v, "set %u element %u flags 0x%x", i, j, flags);
			if (s->kind == FN_SET_INTERVAL && j > 0 && j < s->n_elems &&
			    memcmp(e - s->elem_size + 4, e + 4, s->key_len) >= 0)
				return fn_verify_fail(v, "set %u intervals not sorted", i);
			if (s->kind == FN_SET_RANGES && j < s->n_elems) {
				/* every field: key <= key_end */
				uint32_t f, off = 4;

				for (f = 0; f < s->n_fields; f++) {
					if (memcmp(e + off, e + 4 + ksz + (off - 4),
						   s->field_len[f]) > 0)
						return fn_verify_fail(v, "set %u element %u range inverted", i, j);
					off += fn_img_round4(s->field_len[f]);
				}
			}
			if ((s->flags & FN_SET_F_OBJMAP) && !(flags & FN_ELEM_F_END)) {
				uint32_t slot;

				memcpy(&slot, e + s->elem_size - 4, 4);
				if (slot >= objects_of(p, s->obj_type))
					return fn_verify_fail(v, "set %u element %u: object slot %u",
							      i, j, slot);
			}
			if ((s->flags & FN_SET_F_VMAP) && !(flags & FN_ELEM_F_END)) {
				struct fn_img_vdata vd;

				memcpy(&vd, e + s->elem_size - sizeof(vd), sizeof(vd));
				if ((err = fn_verify_vdata(v, &vd)))
					return err;
			}
		}
		if (s->kind == FN_SET_HASH) {
			const uint32_t *bk;

			if (s->n_buckets == 0 || (s->n_buckets & (s->n_buckets - 1)) ||
			    s->n_buckets > (1u << 28) || s->buckets % 4 ||
			    s->buckets > p->hdr->set_data.len ||
			    ((uint64_t)s->n_buckets + 1) * 4 > p->hdr->set_data.len - s->buckets)
				return fn_verify_fail(v, "set %u buckets out of bounds", i);
			bk = (const uint32_t *)(p->set_data + s->buckets);
			if (bk[0] != 0 || bk[s->n_buckets] != s->n_elems)
				return fn_verify_fail(v, "set %u buckets do not cover the elements", i);
			for (j = 0; j < s->n_buckets; j++) {
				uint32_t k;

				if (bk[j] > bk[j + 1])
					return fn_verify_fail(v, "set %u buckets not ordered", i);
				for (k = bk[j]; k < bk[j + 1]; k++) {
					const uint32_t *key = (const uint32_t *)(p->set_data +
						s->elems + (size_t)k * s->elem_size + 4);

					if ((fn_img_hash(key, s->key_len) & (s->n_buckets - 1)) != j)
						return fn_verify_fail(v, "set %u element %u in the wrong bucket", i, k);
				}
			}
		}
	}
	return 0;
}

static int check_slots(struct fn_verify *v)
{
	const struct fn_nft_prog *p = v->prog;
	uint32_t i;
	int err;

	for (i = 0; i < p->hdr->n_counters; i++) {
		const struct fn_img_counter *c = &p->counters[i];

		if (c->chain != FN_IMG_NONE && c->chain >= p->hdr->n_chains)
			return fn_verify_fail(v, "counter %u chain", i);
	}
	for (i = 0; i < p->hdr->n_limits; i++) {
		const struct fn_img_limit *l = &p->limits[i];

		if (l->rate == 0 || l->nsecs == 0 || l->bytes > 1 || l->invert > 1 ||
		    (!l->bytes && l->cost == 0) || l->tokens_max > INT64_MAX / 2)
			return fn_verify_fail(v, "limit %u parameters", i);
	}
	for (i = 0; i < p->hdr->n_quotas; i++)
		if (p->quotas[i].invert > 1)
			return fn_verify_fail(v, "quota %u flags", i);
	for (i = 0; i < p->hdr->n_logs; i++)
		if ((err = check_string(v, p->logs[i].prefix, "log prefix")))
			return err;
	for (i = 0; i < p->hdr->n_objects; i++) {
		const struct fn_img_object *o = &p->objects[i];
		uint32_t max = o->type == FN_OBJ_COUNTER ? p->hdr->n_counters :
			       o->type == FN_OBJ_QUOTA ? p->hdr->n_quotas :
			       o->type == FN_OBJ_LIMIT ? p->hdr->n_limits : 0;

		if ((err = check_string(v, o->name, "object")))
			return err;
		if (o->slot >= max)
			return fn_verify_fail(v, "object %u type %u slot %u", i, o->type, o->slot);
	}
	return 0;
}

static int check_rules(struct fn_verify *v)
{
	const struct fn_nft_prog *p = v->prog;
	uint32_t c, r;
	int err;

	for (c = 0; c < p->hdr->n_chains; c++) {
		const struct fn_img_chain *ch = &p->chains[c];

		v->chain = c;
		for (r = ch->first_rule; r < ch->first_rule + ch->n_rules; r++) {
			const struct fn_img_rule *rule = &p->rules[r];
			uint32_t off = 0;

			v->rule = r;
			v->op_index = 0;
			v->reg_init = 0;
			if (rule->code_off % 4 || rule->code_off > p->hdr->code.len ||
			    rule->code_len > p->hdr->code.len - rule->code_off)
				return fn_verify_fail(v, "code out of bounds");
			while (off < rule->code_len) {
				const struct fn_op *op = (const void *)(p->code + rule->code_off + off);
				const struct fn_nft_op_type *t;

				if (rule->code_len - off < 4)
					return fn_verify_fail(v, "truncated op");
				if (op->type == FN_OP_INVALID || op->type >= FN_OP_MAX)
					return fn_verify_fail(v, "unknown op type %u", op->type);
				t = fn_nft_op_types[op->type];
				if (op->size < t->min_size ||
				    (uint32_t)op->size * 4 > rule->code_len - off)
					return fn_verify_fail(v, "%s op size %u", t->name, op->size);
				if ((err = t->verify(v, op)))
					return err;
				if (op->type == FN_OP_REJECT)
					v->has_reject[c] = 1;
				off += op->size * 4u;
				v->op_index++;
			}
		}
	}
	v->rule = FN_IMG_NONE;
	return 0;
}

/*
 * The jump graph must be acyclic and no chain may sit 16 or more jumps below
 * a base chain (the kernel's checks, which also bound our jump stack). The
 * walk is Kahn's topological order, so it is linear in chains + edges; each
 * chain learns its depth and the hooks it can run from on the way.
 */
static int check_graph(struct fn_verify *v)
{
	const struct fn_nft_prog *p = v->prog;
	uint32_t n = p->hdr->n_chains, c, *indeg, *start, *adj, *queue, *hooks;
	uint32_t head = 0, tail = 0;
	uint8_t *level;
	size_t e;
	int err = 0;

	indeg = calloc(n + 1, sizeof(*indeg));
	start = calloc(n + 2, sizeof(*start));
	adj = calloc(v->n_edges + 1, sizeof(*adj));
	queue = calloc(n + 1, sizeof(*queue));
	hooks = calloc(n + 1, sizeof(*hooks));
	level = calloc(n + 1, 1);
	if (!indeg || !start || !adj || !queue || !hooks || !level) {
		err = -ENOMEM;
		goto out;
	}
	for (e = 0; e < v->n_edges; e++) {
		start[v->edges[e][0] + 1]++;
		indeg[v->edges[e][1]]++;
	}
	for (c = 0; c < n; c++)
		start[c + 1] += start[c];
	for (e = 0; e < v->n_edges; e++)
		adj[start[v->edges[e][0]]++] = v->edges[e][1];
	for (c = n; c > 0; c--)       /* start[] was advanced: shift back */
		start[c] = start[c - 1];
	start[0] = 0;

	for (c = 0; c < n; c++) {
		if (p->chains[c].hook != FN_CHAIN_REGULAR)
			hooks[c] = 1u << p->chains[c].hook;
		if (indeg[c] == 0)
			queue[tail++] = c;
	}
	while (head < tail) {
		uint32_t from = queue[head++], i;

		for (i = start[from]; i < start[from + 1]; i++) {
			uint32_t to = adj[i];

			hooks[to] |= hooks[from];
			/* depth counts from base chains only, as the kernel's
			 * chain validation does */
			if (hooks[from] && level[from] + 1 > level[to])
				level[to] = level[from] + 1;
			if (level[to] >= FN_JUMP_STACK) {
				err = fn_verify_fail(v, "chain %u is %u jumps deep (limit %d)",
						     to, level[to], FN_JUMP_STACK - 1);
				goto out;
			}
			if (--indeg[to] == 0)
				queue[tail++] = to;
		}
	}
	if (tail != n) {
		err = fn_verify_fail(v, "jump loop between chains");
		goto out;
	}
	/* reject only where the kernel allows it: prerouting, input, forward
	 * and output, never postrouting */
	for (c = 0; c < n; c++)
		if (v->has_reject[c] && (hooks[c] & (1u << FN_HOOK_POSTROUTING))) {
			err = fn_verify_fail(v, "reject in chain %u, reachable from postrouting", c);
			goto out;
		}
out:
	free(indeg);
	free(start);
	free(adj);
	free(queue);
	free(hooks);
	free(level);
	return err;
}

/* Programs that use conntrack run every hook; note where it looks up. */
static void finish_prog(struct fn_nft_prog *p, bool conntrack)
{
	int hook;

	p->conntrack = conntrack;
	p->hooks = 0;
	for (hook = 0; hook < FN_HOOK_MAX; hook++) {
		uint16_t i, first = p->hdr->hook_first[hook], n = p->hdr->hook_count[hook];

		if (n && hook != FN_HOOK_FORWARD)
			p->hooks |= 1u << hook;
		/* conntrack runs at priority -200 (NF_IP_PRI_CONNTRACK); it
		 * registers after the table's chains, so it goes before chains
		 * of equal priority */
		for (i = 0; i < n && p->chains[first + i].priority < -200; i++)
			;
		p->ct_chain[hook] = i;
	}
	if (conntrack)
		p->hooks |= (1u << FN_HOOK_PREROUTING) | (1u << FN_HOOK_INPUT) |
			    (1u << FN_HOOK_OUTPUT) | (1u << FN_HOOK_POSTROUTING);
}

int fn_nft_verify(const void *image, size_t len, struct fn_nft_prog *prog,
		  char *err, size_t errlen)
{
	struct fn_verify v = {
		.prog = prog, .err = err, .errlen = errlen,
		.chain = FN_IMG_NONE, .rule = FN_IMG_NONE,
	};
	size_t n;
	int ret;

	memset(prog, 0, sizeof(*prog));
	if (err && errlen)
		err[0] = 0;
	if ((ret = check_header(&v, image, len)))
		return ret;
	n = prog->hdr->n_chains;
	v.has_reject = calloc(n + 1, 1);
	if (!v.has_reject) {
		ret = -ENOMEM;
		goto out;
	}
	/* sets before rules: a lookup of a verdict map adds the jumps of its
	 * (already checked) elements to the graph */
	if ((ret = check_chains(&v)) || (ret = check_slots(&v)) ||
	    (ret = check_sets(&v)) || (ret = check_rules(&v)))
		goto out;
	ret = check_graph(&v);
out:
	if (!ret)
		finish_prog(prog, prog->hdr->flags & FN_IMG_F_CONNTRACK);
	free(v.edges);
	free(v.has_reject);
	if (ret)
		memset(prog, 0, sizeof(*prog));
	return ret == -ENOMEM ? -ENOMEM : ret ? -EBADMSG : 0;
}
