/* SPDX-License-Identifier: BSD-3-Clause */
/* Maps, fds and bpf_prog_load() for the rules program (load.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "load.h"
#include "nft/set.h"

/* An interval set's key as a number: key_len <= 4 bytes, big endian. */
static uint32_t key_num(const uint8_t *k, unsigned len)
{
	uint32_t v = 0;

	for (unsigned i = 0; i < len; i++)
		v = v << 8 | k[i];
	return v;
}

/*
 * The range of interval element j (kernel rbtree semantics, set.c): from
 * its key to just before the next boundary, or to the largest key. false
 * for an interval end (a gap).
 */
static bool elem_range(const struct fn_nft_prog *p, const struct fn_img_set *s, uint32_t j,
		       uint64_t *lo, uint64_t *hi)
{
	const uint8_t *e = fn_set_elem(p, s, j);
	uint32_t flags;

	memcpy(&flags, e, 4);
	if (flags & FN_ELEM_F_END)
		return false;
	*lo = key_num(e + 4, s->key_len);
	*hi = j + 1 < s->n_elems ? key_num(fn_set_elem(p, s, j + 1) + 4, s->key_len) - 1ull :
		(1ull << (8 * s->key_len)) - 1;
	return true;
}

/* The largest prefix block starting at lo and ending by hi: its host bits. */
static unsigned block_bits(uint64_t lo, uint64_t hi, unsigned bits)
{
	unsigned k = 0;

	while (k < bits && !(lo & (1ull << k)) && lo + (2ull << k) - 1 <= hi)
		k++;
	return k;
}

static uint32_t prefix_count(const struct fn_nft_prog *p, const struct fn_img_set *s)
{
	uint32_t n = 0;
	uint64_t lo, hi;

	for (uint32_t j = 0; j < s->n_elems; j++) {
		if (!elem_range(p, s, j, &lo, &hi))
			continue;
		while (lo <= hi) {
			lo += 1ull << block_bits(lo, hi, 8 * s->key_len);
			n++;
		}
	}
	return n;
}

/* A set element's value: map data zero padded, a verdict's case, or 0. */
static void elem_value(const struct fn_img_set *s, const struct fn_xdp_map_desc *m,
		       const uint8_t *e, uint8_t *value)
{
	memset(value, 0, m->value_size);
	if (s->flags & FN_SET_F_VMAP) {
		uint32_t c = fn_xdp_vmap_case(m, fn_set_elem_data(s, e));

		memcpy(value, &c, 4);
	} else if (s->flags & FN_SET_F_MAP) {
		memcpy(value, fn_set_elem_data(s, e), s->data_len);
	}
}

static int fill_hash(int fd, const struct fn_nft_prog *p, const struct fn_img_set *s,
		     const struct fn_xdp_map_desc *m, uint8_t *value)
{
	for (uint32_t j = 0; j < s->n_elems; j++) {
		const uint8_t *e = fn_set_elem(p, s, j);

		elem_value(s, m, e, value);
		if (bpf_map_update_elem(fd, e + 4, value, BPF_NOEXIST))
			return -errno;
	}
	return 0;
}

static int fill_lpm(int fd, const struct fn_nft_prog *p, const struct fn_img_set *s,
		    const struct fn_xdp_map_desc *m, uint8_t *value)
{
	unsigned bits = 8 * s->key_len;
	uint8_t key[8];
	uint64_t lo, hi;

	for (uint32_t j = 0; j < s->n_elems; j++) {
		if (!elem_range(p, s, j, &lo, &hi))
			continue;
		elem_value(s, m, fn_set_elem(p, s, j), value);
		while (lo <= hi) {
			unsigned k = block_bits(lo, hi, bits);
			uint32_t plen = bits - k;

			memcpy(key, &plen, 4);
			for (unsigned i = 0; i < s->key_len; i++)
				key[4 + i] = (uint8_t)(lo >> (8 * (s->key_len - 1 - i)));
			if (bpf_map_update_elem(fd, key, value, BPF_NOEXIST))
				return -errno;
			lo += 1ull << k;
		}
	}
	return 0;
}

static int set_map(const struct fn_nft_prog *p, const struct fn_xdp_map_desc *m)
{
	const struct fn_img_set *s = &p->sets[m->set];
	LIBBPF_OPTS(bpf_map_create_opts, opts);
	uint32_t entries;
	uint8_t *value;
	char name[16];
	int fd, err;

	if (m->type == BPF_MAP_TYPE_LPM_TRIE) {
		opts.map_flags = BPF_F_NO_PREALLOC;
		entries = prefix_count(p, s);
	} else {
		entries = s->n_elems;
	}
	snprintf(name, sizeof(name), "fn_set_%u", m->set);
	fd = bpf_map_create(m->type, name, m->key_size, m->value_size,
			    entries ? entries : 1, &opts);
	if (fd < 0)
		return -errno;
	value = calloc(1, m->value_size);
	if (!value) {
		close(fd);
		return -ENOMEM;
	}
	err = m->type == BPF_MAP_TYPE_LPM_TRIE ? fill_lpm(fd, p, s, m, value) :
		fill_hash(fd, p, s, m, value);
	free(value);
	if (err) {
		close(fd);
		return err;
	}
	return fd;
}

/* "fn_rules_" + the application's name, in the characters the kernel takes */
static void prog_name(const char *app, char name[16])
{
	size_t i, n = strlen("fn_rules_");

	memcpy(name, "fn_rules_", n);
	for (i = 0; app && app[i] && n < 15; i++)
		name[n++] = (app[i] >= 'a' && app[i] <= 'z') || (app[i] >= 'A' && app[i] <= 'Z') ||
			    (app[i] >= '0' && app[i] <= '9') ? app[i] : '_';
	name[n] = '\0';
}

static int load_prog(const struct fn_xdp_code *code, const int *fds, const char *app,
		     char *log, size_t loglen)
{
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = BPF_XDP);
	struct bpf_insn *insns = malloc(code->n_insns * sizeof(*insns));
	char name[16];
	int fd;

	if (!insns)
		return -ENOMEM;
	memcpy(insns, code->insns, code->n_insns * sizeof(*insns));
	for (uint32_t i = 0; i + 1 < code->n_insns; i++)
		if (insns[i].code == (BPF_LD | BPF_DW | BPF_IMM)) {
			if (insns[i].src_reg == BPF_PSEUDO_MAP_FD)
				insns[i].imm = fds[insns[i].imm];
			i++;      /* the second half */
		}
	prog_name(app, name);
	fd = bpf_prog_load(BPF_PROG_TYPE_XDP, name, "BSD", insns, code->n_insns, &opts);
	if (fd < 0 && log && loglen > 1) {
		/* again, to say why (the log costs time on large programs) */
		opts.log_buf = log;
		opts.log_size = (uint32_t)loglen;
		opts.log_level = 1;
		log[0] = '\0';
		fd = bpf_prog_load(BPF_PROG_TYPE_XDP, name, "BSD", insns, code->n_insns, &opts);
	}
	if (fd < 0)
		fd = -errno;
	free(insns);
	return fd;
}

int fn_xdp_load(const struct fn_nft_prog *p, const struct fn_xdp_code *code, int xsks_fd,
		const char *app, struct fn_xdp_rules *out, char *log, size_t loglen)
{
	struct fn_xdp_rules r = { .prog_fd = -1, .counters_fd = -1 };
	int *fds = NULL, ret;

	if (code->test_epilogue != (xsks_fd < 0))
		return -EINVAL;
	r.n_slots = code->n_slots;
	r.n_pages = code->n_pages;
	r.set_fds = malloc((code->n_maps + 1) * sizeof(*r.set_fds));
	fds = malloc((code->n_maps + 1) * sizeof(*fds));
	if (!r.set_fds || !fds) {
		ret = -ENOMEM;
		goto fail;
	}
	r.counters_fd = bpf_map_create(BPF_MAP_TYPE_PERCPU_ARRAY, "fn_counters", 4,
				       code->maps[FN_XDP_MAP_COUNTERS].value_size, r.n_pages,
				       NULL);
	if (r.counters_fd < 0) {
		ret = -errno;
		goto fail;
	}
	fds[FN_XDP_MAP_COUNTERS] = r.counters_fd;
	fds[FN_XDP_MAP_XSKS] = xsks_fd;
	for (uint32_t i = FN_XDP_MAP_SETS; i < code->n_maps; i++) {
		int fd = set_map(p, &code->maps[i]);

		if (fd < 0) {
			ret = fd;
			goto fail;
		}
		fds[i] = r.set_fds[r.n_set_fds++] = fd;
	}
	ret = load_prog(code, fds, app, log, loglen);
	if (ret < 0)
		goto fail;
	r.prog_fd = ret;
	free(fds);
	*out = r;
	return 0;
fail:
	free(fds);
	fn_xdp_rules_close(&r);
	return ret;
}

void fn_xdp_rules_close(struct fn_xdp_rules *r)
{
	if (r->prog_fd >= 0)
		close(r->prog_fd);
	if (r->counters_fd >= 0)
		close(r->counters_fd);
	for (uint32_t i = 0; i < r->n_set_fds; i++)
		close(r->set_fds[i]);
	free(r->set_fds);
	r->set_fds = NULL;
	r->n_set_fds = 0;
	r->prog_fd = r->counters_fd = -1;
}

/* A page holds FN_XDP_PAGE_SLOTS counters per CPU; a lookup returns every
 * CPU's copy, one after the other. */
int fn_xdp_read_counters(const struct fn_xdp_rules *r, uint32_t first, uint32_t n,
			 struct fn_nft_counter *out)
{
	int cpus = libbpf_num_possible_cpus(), ret = 0;
	struct fn_nft_counter *v;
	uint32_t page = UINT32_MAX;

	if (first > r->n_slots || n > r->n_slots - first)
		return -EINVAL;
	if (cpus < 0)
		return cpus;
	v = calloc((size_t)cpus * FN_XDP_PAGE_SLOTS, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (uint32_t i = 0; i < n; i++) {
		uint32_t k = first + i, at = k % FN_XDP_PAGE_SLOTS;

		if (k / FN_XDP_PAGE_SLOTS != page) {
			page = k / FN_XDP_PAGE_SLOTS;
			if (bpf_map_lookup_elem(r->counters_fd, &page, v)) {
				ret = -errno;
				break;
			}
		}
		out[i] = (struct fn_nft_counter){ 0, 0 };
		for (int c = 0; c < cpus; c++) {
			out[i].packets += v[(size_t)c * FN_XDP_PAGE_SLOTS + at].packets;
			out[i].bytes += v[(size_t)c * FN_XDP_PAGE_SLOTS + at].bytes;
		}
	}
	free(v);
	return ret;
}
