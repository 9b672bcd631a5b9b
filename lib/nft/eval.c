/* SPDX-License-Identifier: BSD-3-Clause */
/* The standalone interpreter API of eval.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "connlimit.h"
#include "conntrack.h"
#include "eval.h"
#include "nft.h"
#include "trace.h"

struct fn_nft_state {
	void *image;
	struct fn_nft_prog prog;
	struct fn_nft_env env;
	struct fn_nft_shared *shared;
	struct fn_ct_table *ct;
	struct fn_nft_qstate *qs;
};

int fn_nft_image_check(const void *image, size_t len, char *err, size_t errlen)
{
	struct fn_nft_prog prog;
	void *copy;
	int ret;

	/* the verifier wants the alignment a mapping gives */
	copy = aligned_alloc(8, (len + 7) & ~(size_t)7);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, image, len);
	ret = fn_nft_verify(copy, len, &prog, err, errlen);
	free(copy);
	return ret;
}

struct fn_nft_state *fn_nft_state_new(const void *image, size_t len)
{
	struct fn_nft_state *s = calloc(1, sizeof(*s));
	int ret = -ENOMEM;

	if (!s)
		goto fail;
	s->image = aligned_alloc(8, (len + 7) & ~(size_t)7);
	if (!s->image)
		goto fail;
	memcpy(s->image, image, len);
	ret = fn_nft_verify(s->image, len, &s->prog, NULL, 0);
	if (ret)
		goto fail;
	ret = -ENOMEM;
	fn_nft_env_default(&s->env);
	s->shared = fn_nft_shared_new(&s->prog, &s->env);
	if (!s->shared)
		goto fail;
	if (s->prog.conntrack && !(s->ct = fn_ct_table_new(FN_CT_DEFAULT_CAPACITY)))
		goto fail;
	s->qs = fn_nft_qstate_new(&s->prog, s->shared, &s->env, s->ct);
	if (!s->qs)
		goto fail;
	return s;
fail:
	fn_nft_state_free(s);
	errno = -ret;
	return NULL;
}

int fn_nft_state_replace_code(struct fn_nft_state *s, const void *image, size_t len)
{
	const struct fn_img_section *code = &s->prog.hdr->code;
	const uint8_t *p = image;
	int ret;

	if (len != s->prog.len)
		return -EINVAL;
	ret = fn_nft_image_check(image, len, NULL, 0);
	if (ret)
		return ret;
	/* the header holds the section offsets: the code lands where the
	 * verified program already points */
	if (memcmp(p, s->image, code->off) ||
	    memcmp(p + code->off + code->len, (uint8_t *)s->image + code->off + code->len,
		   len - code->off - code->len))
		return -EINVAL;
	memcpy((uint8_t *)s->image + code->off, p + code->off, code->len);
	return 0;
}

void fn_nft_state_free(struct fn_nft_state *s)
{
	if (!s)
		return;
	fn_nft_qstate_free(s->qs);
	fn_ct_table_free(s->ct);
	fn_nft_shared_free(s->shared);
	free(s->image);
	free(s);
}

static enum fn_verdict result(const struct fn_nft_state *s, const struct fn_nft_decision *d,
			      struct fn_nft_result *res)
{
	if (res) {
		res->verdict = d->verdict;
		res->rule_handle = d->rule_handle;
		res->chain = fn_nft_chain_name(s, d->chain);
	}
	return d->verdict;
}

const char *fn_nft_chain_name(const struct fn_nft_state *s, uint32_t chain)
{
	if (chain >= s->prog.hdr->n_chains)
		return NULL;
	return fn_nft_str(&s->prog, s->prog.chains[chain].name);
}

enum fn_verdict fn_nft_eval(struct fn_nft_state *s, enum fn_hook hook,
			    struct fn_pkt *pkt, struct fn_nft_result *res)
{
	struct fn_nft_decision d = { FN_ACCEPT, 0, FN_IMG_NONE };

	if ((unsigned)hook < FN_HOOK_MAX && (s->prog.hooks & (1u << hook)))
		fn_nft_run(s->qs, hook, pkt, &d);
	return result(s, &d, res);
}

enum fn_verdict fn_nft_eval_traced(struct fn_nft_state *s, enum fn_hook hook,
				   struct fn_pkt *pkt, struct fn_nft_result *res,
				   struct fn_trace *t)
{
	struct fn_nft_decision d = { FN_ACCEPT, 0, FN_IMG_NONE };

	t->n = 0;
	t->lost = 0;
	if ((unsigned)hook < FN_HOOK_MAX && (s->prog.hooks & (1u << hook)))
		fn_nft_run_traced(s->qs, hook, pkt, &d, t);
	return result(s, &d, res);
}

enum fn_verdict fn_nft_eval_from(struct fn_nft_state *s, enum fn_hook hook,
				 struct fn_pkt *pkt, uint32_t chain, uint32_t rule,
				 struct fn_nft_result *res)
{
	struct fn_nft_decision d = { FN_DROP, 0, FN_IMG_NONE };

	if (fn_nft_resume_valid(&s->prog, hook, chain, rule))
		fn_nft_run_from(s->qs, hook, pkt, chain, rule, &d);
	return result(s, &d, res);
}

int fn_nft_counter_add(struct fn_nft_state *s, uint32_t slot, uint64_t packets,
		       uint64_t bytes)
{
	if (slot >= s->prog.hdr->n_counters)
		return -EINVAL;
	s->qs->counters[slot].packets += packets;
	s->qs->counters[slot].bytes += bytes;
	return 0;
}

/* Rule counters in image order; a rule with several counter expressions is
 * reported by its first. */
void fn_nft_counters(struct fn_nft_state *s,
		     void (*cb)(void *arg, const char *chain, uint64_t handle,
				uint64_t packets, uint64_t bytes), void *arg)
{
	const struct fn_nft_prog *p = &s->prog;
	uint32_t i;
	uint64_t last_handle = 0;
	uint32_t last_chain = FN_IMG_NONE;

	for (i = 0; i < p->hdr->n_counters; i++) {
		const struct fn_img_counter *c = &p->counters[i];

		if (c->chain == FN_IMG_NONE)
			continue;
		if (c->chain == last_chain && c->rule_handle == last_handle)
			continue;
		last_chain = c->chain;
		last_handle = c->rule_handle;
		cb(arg, fn_nft_str(p, p->chains[c->chain].name), c->rule_handle,
		   c->packets + s->qs->counters[i].packets,
		   c->bytes + s->qs->counters[i].bytes);
	}
}

void fn_nft_named_counters(struct fn_nft_state *s,
			   void (*cb)(void *arg, const char *name,
				      uint64_t packets, uint64_t bytes), void *arg)
{
	const struct fn_nft_prog *p = &s->prog;
	uint32_t i;

	for (i = 0; i < p->hdr->n_objects; i++) {
		const struct fn_img_object *o = &p->objects[i];

		if (o->type != FN_OBJ_COUNTER)
			continue;
		cb(arg, fn_nft_str(p, o->name),
		   p->counters[o->slot].packets + s->qs->counters[o->slot].packets,
		   p->counters[o->slot].bytes + s->qs->counters[o->slot].bytes);
	}
}

void fn_nft_state_set_clock(struct fn_nft_state *s, uint64_t (*mono_ns)(void *),
			    uint64_t (*real_ns)(void *), void *arg)
{
	uint32_t i;
	int64_t now;

	s->env.mono_ns = mono_ns;
	s->env.real_ns = real_ns;
	s->env.clock_arg = arg;
	/* limit buckets start full at the new clock's now */
	now = (int64_t)mono_ns(arg);
	for (i = 0; i < s->prog.hdr->n_limits; i++)
		atomic_store(&s->shared->limit_empty[i],
			     now - (int64_t)s->prog.limits[i].tokens_max);
}

void fn_nft_state_set_log(struct fn_nft_state *s,
			  void (*log)(void *arg, int level, const char *line),
			  void *arg)
{
	s->env.log = log;
	s->env.log_arg = arg;
}

void fn_nft_log_stats(const struct fn_nft_state *s, uint64_t *lines,
		      uint64_t *suppressed)
{
	*lines = s->qs->log_lines;
	*suppressed = s->qs->log_suppressed;
}

uint64_t fn_nft_set_full(const struct fn_nft_state *s)
{
	return s->qs->set_full;
}

uint64_t fn_nft_connlimit_full(const struct fn_nft_state *s)
{
	return s->qs->cl->full;
}

unsigned fn_nft_ct_count(const struct fn_nft_state *s)
{
	return s->ct ? fn_ct_count(s->ct) : 0;
}

uint64_t fn_nft_ct_examined(const struct fn_nft_state *s)
{
	return s->ct ? fn_ct_examined(s->ct) : 0;
}
