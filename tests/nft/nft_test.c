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

void *t_image(struct fn_imgb *b, size_t *len)
{
	void *img = t_finish(b, len);

	if (img == NULL)
		fail_msg("image not built: %s", strerror(errno));
	return img;
}

struct fn_nft_state *t_load(struct fn_imgb *b)
{
	char err[256];
	size_t len;
	void *img = t_image(b, &len);
	struct fn_nft_state *s;

	if (fn_nft_image_check(img, len, err, sizeof(err)))
		fail_msg("image refused: %s", err);
	s = fn_nft_state_new(img, len);
	assert_non_null(s);
	free(img);
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
