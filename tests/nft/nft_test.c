/* SPDX-License-Identifier: BSD-3-Clause */
/* The interpreter tests' packets, loading and counters (nft_test.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "nft_test.h"
#include "packets.h"

static void view(struct tpkt *t, size_t len)
{
	t->pkt = tp_view(t->buf, (uint32_t)len);
}

void t_udp(struct tpkt *t, uint32_t src, uint32_t dst, uint16_t sport,
	   uint16_t dport, size_t payload)
{
	uint8_t *data = t->buf + TP_HDR + 8;

	memset(t->buf, 0, sizeof(t->buf));
	for (size_t i = 0; i < payload; i++)
		data[i] = (uint8_t)(i * 7 + 1);
	view(t, tp_udp(t->buf, htonl(src), htonl(dst), sport, dport, NULL, payload,
		       &(struct tp_ip){ .id = 0x1234 }));
}

void t_icmp(struct tpkt *t, uint32_t src, uint32_t dst, uint8_t type, uint8_t code,
	    uint16_t id, uint16_t seq)
{
	memset(t->buf, 0, sizeof(t->buf));
	view(t, tp_icmp(t->buf, htonl(src), htonl(dst), type, code, id, seq, NULL, 8));
}

void t_ip_csum(struct tpkt *t)
{
	tp_ipv4_fix(t->buf);
}

int t_csums_ok(const struct tpkt *t)
{
	return tp_checksums_ok(t->buf, t->pkt.l3_len);
}

/* What the running test owns, freed last-in first-out at teardown. */
static struct owned {
	void *p;
	void (*release)(void *);
} *owned;
static size_t n_owned, cap_owned;

int t_setup(void **state)
{
	(void)state;
	return n_owned == 0 ? 0 : -1;
}

int t_teardown(void **state)
{
	(void)state;
	while (n_owned > 0) {
		struct owned *o = &owned[--n_owned];

		o->release(o->p);
	}
	free(owned);
	owned = NULL;
	cap_owned = 0;
	return 0;
}

void *t_own(void *p, void (*release)(void *))
{
	if (p == NULL)
		return NULL;
	if (n_owned == cap_owned) {
		size_t cap = cap_owned ? 2 * cap_owned : 32;
		struct owned *o = realloc(owned, cap * sizeof(*o));

		if (o == NULL)
			fail_msg("out of memory");
		owned = o;
		cap_owned = cap;
	}
	owned[n_owned++] = (struct owned){ p, release };
	return p;
}

/* Forget p; its release function, or NULL if it was not owned. */
static void (*forget(void *p))(void *)
{
	for (size_t i = n_owned; i-- > 0;) {
		void (*release)(void *) = owned[i].release;

		if (owned[i].p != p)
			continue;
		memmove(&owned[i], &owned[i + 1], (n_owned - i - 1) * sizeof(*owned));
		n_owned--;
		return release;
	}
	return NULL;
}

void t_free(void *p)
{
	void (*release)(void *) = forget(p);

	if (p && release == NULL)
		fail_msg("t_free(%p): not owned by the test", p);
	if (p)
		release(p);
}

void *t_disown(void *p)
{
	forget(p);
	return p;
}

static void builder_free(void *b)
{
	fn_imgb_free(b);
}

static void state_free(void *s)
{
	fn_nft_state_free(s);
}

struct fn_imgb *t_builder(void)
{
	struct fn_imgb *b = t_own(fn_imgb_new(), builder_free);

	assert_non_null(b);
	return b;
}

struct fn_nft_state *t_state(struct fn_nft_state *s)
{
	return t_own(s, state_free);
}

void *t_image(struct fn_imgb *b, size_t *len)
{
	void *img = t_finish(t_disown(b), len);

	if (img == NULL)
		fail_msg("image not built: %s", strerror(errno));
	return t_own(img, free);
}

struct fn_nft_state *t_load(struct fn_imgb *b)
{
	char err[256];
	size_t len;
	void *img = t_image(b, &len);
	struct fn_nft_state *s;

	if (fn_nft_image_check(img, len, err, sizeof(err)))
		fail_msg("image refused: %s", err);
	s = t_state(fn_nft_state_new(img, len));
	assert_non_null(s);
	t_free(img);
	return s;
}

uint64_t t_mono(void *arg)
{
	return ((struct tclock *)arg)->mono;
}

uint64_t t_real(void *arg)
{
	return ((struct tclock *)arg)->real;
}

enum fn_verdict t_run(struct fn_nft_state *s, enum fn_hook hook, struct tpkt *t,
		      uint64_t *handle)
{
	struct fn_nft_result r;

	fn_nft_eval(s, hook, &t->pkt, &r);
	if (handle)
		*handle = r.rule_handle;
	return r.verdict;
}

struct find {
	uint64_t handle, packets;
};

static void find_cb(void *arg, const char *chain, uint64_t handle, uint64_t packets,
		    uint64_t bytes)
{
	struct find *f = arg;

	(void)chain;
	(void)bytes;
	if (handle == f->handle)
		f->packets = packets;
}

uint64_t t_rule_packets(struct fn_nft_state *s, uint64_t handle)
{
	struct find f = { handle, 0 };

	fn_nft_counters(s, find_cb, &f);
	return f.packets;
}
