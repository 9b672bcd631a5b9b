/* SPDX-License-Identifier: BSD-3-Clause */
/* The kernel part then the interpreter, on one frame (xdp_harness.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>

#include "xdp/codegen.h"
#include "xdp/load.h"
#include "xdp/split.h"
#include "xdp_harness.h"

struct xh {
	void *image;
	struct fn_nft_prog prog;
	struct fn_xdp_split split;
	struct fn_xdp_code *code;
	struct fn_xdp_rules rules;
	bool loaded;
	uint32_t n_slots;
	struct fn_nft_counter *seen, *now;   /* per slot: last read, this read */
	uint8_t *out;
	size_t out_cap;
};

void xh_free(struct xh *x)
{
	if (!x)
		return;
	if (x->loaded)
		fn_xdp_rules_close(&x->rules);
	fn_xdp_code_free(x->code);
	fn_xdp_split_free(&x->split);
	free(x->image);
	free(x->seen);
	free(x->now);
	free(x->out);
	free(x);
}

struct xh *xh_new(const void *image, size_t len, char *err, size_t errlen)
{
	struct fn_xdp_cg_opts o = { .test_epilogue = true, .generation = 1 };
	struct xh *x = calloc(1, sizeof(*x));
	int ret = -ENOMEM;

	if (!x || !(x->image = aligned_alloc(8, (len + 7) & ~(size_t)7)))
		goto fail;
	memcpy(x->image, image, len);
	if ((ret = fn_nft_verify(x->image, len, &x->prog, err, errlen)))
		goto fail;
	if ((ret = fn_xdp_split(&x->prog, &x->split))) {
		snprintf(err, errlen, "split: %s", strerror(-ret));
		goto fail;
	}
	if ((ret = fn_xdp_codegen(&x->prog, &x->split, &o, &x->code))) {
		snprintf(err, errlen, "codegen: %s", strerror(-ret));
		goto fail;
	}
	if ((ret = fn_xdp_load(&x->prog, x->code, -1, "test", &x->rules, err, errlen))) {
		if (!err[0])
			snprintf(err, errlen, "load: %s", strerror(-ret));
		goto fail;
	}
	x->loaded = true;
	x->n_slots = x->rules.n_slots;
	x->seen = calloc(x->n_slots + 1, sizeof(*x->seen));
	x->now = calloc(x->n_slots + 1, sizeof(*x->now));
	if (!x->seen || !x->now) {
		ret = -ENOMEM;
		goto fail;
	}
	return x;
fail:
	xh_free(x);
	errno = -ret;
	return NULL;
}

const struct fn_xdp_code *xh_code(const struct xh *x)
{
	return x->code;
}

const struct fn_xdp_split *xh_split(const struct xh *x)
{
	return &x->split;
}

static int hook_index(unsigned hook)
{
	return hook == FN_HOOK_PREROUTING ? 0 : 1;
}

/* Which decision slots moved on this frame: at most one per base chain,
 * the last one of each hook kept. */
static int decisions(struct xh *x, struct xh_kernel *k)
{
	const struct fn_xdp_code *c = x->code;
	uint32_t prev_base = FN_IMG_NONE;

	k->last[0] = k->last[1] = -1;
	for (uint32_t i = 0; i < c->n_decisions; i++) {
		const struct fn_xdp_decision *d = &c->decisions[i];
		uint64_t n = x->now[d->slot].packets - x->seen[d->slot].packets;
		int h = hook_index(d->hook);

		if (n == 0)
			continue;
		if (n != 1 || d->base == prev_base)
			return -EPROTO;
		if (k->last[h] < 0 || c->decisions[k->last[h]].base < d->base)
			k->last[h] = (int)i;
		prev_base = d->base;
	}
	return 0;
}

int xh_kernel(struct xh *x, struct fn_nft_state *s, const uint8_t *frame, size_t len,
	      struct xh_kernel *k)
{
	LIBBPF_OPTS(bpf_test_run_opts, t);
	const struct fn_xdp_decision *last;
	int ret;

	if (x->out_cap < len + 64) {
		uint8_t *o = realloc(x->out, len + 64);

		if (!o)
			return -ENOMEM;
		x->out = o;
		x->out_cap = len + 64;
	}
	t.data_in = frame;
	t.data_size_in = (uint32_t)len;
	t.data_out = x->out;
	t.data_size_out = (uint32_t)x->out_cap;
	t.repeat = 1;
	if (bpf_prog_test_run_opts(x->rules.prog_fd, &t))
		return -errno;
	memset(k, 0, sizeof(*k));
	k->retval = t.retval;
	if (t.retval == XDP_TX) {
		/* the meta, then the frame as it came, without link padding */
		size_t dgram = 14 + (size_t)(frame[16] << 8 | frame[17]);

		if (dgram > len)
			dgram = len;
		if (t.data_size_out != dgram + sizeof(k->meta) ||
		    memcmp(x->out + sizeof(k->meta), frame, dgram))
			return -EPROTO;
		memcpy(&k->meta, x->out, sizeof(k->meta));
		if (k->meta.magic != FN_XDP_META_MAGIC || k->meta.generation != 1 ||
		    k->meta.pad || k->meta.pad2)
			return -EPROTO;
		if (k->meta.hook != FN_XDP_RESUME_START && k->meta.hook != FN_XDP_RESUME_DONE &&
		    !fn_nft_resume_valid(&x->prog, k->meta.hook, k->meta.chain, k->meta.rule))
			return -EPROTO;
	} else if (t.retval != XDP_DROP) {
		return -EPROTO;
	}
	if ((ret = fn_xdp_read_counters(&x->rules, 0, x->n_slots, x->now)))
		return ret;
	for (uint32_t i = 0; i < x->n_slots; i++) {
		uint64_t p = x->now[i].packets - x->seen[i].packets;
		uint64_t b = x->now[i].bytes - x->seen[i].bytes;
		uint32_t image = x->code->slot_image[i];

		if (image != FN_IMG_NONE && (p || b) &&
		    (ret = fn_nft_counter_add(s, image, p, b)))
			return ret;
	}
	ret = decisions(x, k);
	memcpy(x->seen, x->now, x->n_slots * sizeof(*x->seen));
	if (ret)
		return ret;
	/* a drop is the last decision, in the last hook that decided */
	if (k->retval == XDP_DROP) {
		int h = k->last[1] >= 0 ? 1 : 0;

		if (k->last[h] < 0)
			return -EPROTO;
		last = &x->code->decisions[k->last[h]];
		if (last->verdict != FN_V_DROP)
			return -EPROTO;
	}
	return 0;
}

static void from_decision(const struct xh *x, int i, struct fn_nft_result *res)
{
	const struct fn_xdp_decision *d;

	res->verdict = FN_ACCEPT;
	res->rule_handle = 0;
	res->chain = NULL;       /* no base chain on the hook */
	if (i < 0)
		return;
	d = &x->code->decisions[i];
	res->verdict = d->verdict == FN_V_ACCEPT ? FN_ACCEPT : FN_DROP;
	res->rule_handle = d->rule == FN_IMG_NONE ? 0 : x->prog.rules[d->rule].handle;
	res->chain = fn_nft_str(&x->prog, x->prog.chains[d->rule_chain].name);
}

bool xh_hook(struct xh *x, struct fn_nft_state *s, const struct xh_kernel *k,
	     enum fn_hook hook, struct fn_pkt *pkt, struct fn_nft_result *res)
{
	int h = hook_index(hook);

	if (k->retval == XDP_DROP) {
		int dh = k->last[1] >= 0 ? 1 : 0;

		if (h > dh)
			return false;
		from_decision(x, k->last[h], res);
		return true;
	}
	switch (k->meta.hook) {
	case FN_XDP_RESUME_START:
		fn_nft_eval(s, hook, pkt, res);
		break;
	case FN_XDP_RESUME_DONE:
		from_decision(x, k->last[h], res);
		break;
	default:
		if (hook_index(k->meta.hook) > h)
			from_decision(x, k->last[h], res);
		else if (k->meta.hook == hook)
			fn_nft_eval_from(s, hook, pkt, k->meta.chain, k->meta.rule, res);
		else
			fn_nft_eval(s, hook, pkt, res);
		break;
	}
	return true;
}
