/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * log: a line per packet in the kernel's nf_log format, to the library log,
 * rate limited per queue (FN_NFT_LOG_PER_SEC lines a second, the same as a
 * burst); lines over budget are counted, not written. log never changes a
 * verdict.
 */
#include <stdio.h>

#include "nft.h"

#define LOG_INTERVAL (1000000000ull / FN_NFT_LOG_PER_SEC)

static void format_line(const struct fn_nft_ctx *c, const char *prefix,
			char *buf, size_t len)
{
	const struct fn_pkt *pkt = c->pkt;
	const uint8_t *ip = pkt->l3, *l4 = ip + c->thoff;
	int n;

	n = snprintf(buf, len, "%s%sIN=%s OUT=%s", prefix, *prefix ? " " : "",
		     pkt->iif && pkt->iifname ? pkt->iifname : "",
		     pkt->oif && pkt->oifname ? pkt->oifname : "");
	if (n < 0 || (size_t)n >= len || !c->l4proto)
		return;
	n += snprintf(buf + n, len - n,
		      " SRC=%u.%u.%u.%u DST=%u.%u.%u.%u LEN=%u TTL=%u ID=%u PROTO=%u",
		      ip[12], ip[13], ip[14], ip[15], ip[16], ip[17], ip[18], ip[19],
		      pkt->l3_len, ip[8], (unsigned)(ip[4] << 8 | ip[5]), c->tprot);
	if ((size_t)n >= len || !c->l4)
		return;
	if (c->tprot == 17 && pkt->l3_len >= c->thoff + 8u)
		snprintf(buf + n, len - n, " SPT=%u DPT=%u LEN=%u",
			 (unsigned)(l4[0] << 8 | l4[1]), (unsigned)(l4[2] << 8 | l4[3]),
			 (unsigned)(l4[4] << 8 | l4[5]));
	else if (c->tprot == 1 && pkt->l3_len >= c->thoff + 2u)
		snprintf(buf + n, len - n, " TYPE=%u CODE=%u", l4[0], l4[1]);
}

static void log_eval(struct fn_nft_ctx *c, const struct fn_op *op)
{
	const struct fn_op_slot *o = (const void *)op;
	const struct fn_img_log *l = &c->prog->logs[o->slot];
	struct fn_nft_qstate *qs = c->qs;
	const struct fn_nft_env *env = qs->env;
	uint64_t now = env->mono_ns(env->clock_arg);
	char line[256];

	/* GCRA: the theoretical time of the next line may run at most one
	 * second (the burst) ahead of now */
	if (qs->log_tat < now)
		qs->log_tat = now;
	if (qs->log_tat - now >= FN_NFT_LOG_PER_SEC * LOG_INTERVAL) {
		qs->log_suppressed++;
		return;
	}
	qs->log_tat += LOG_INTERVAL;
	qs->log_lines++;
	if (env->log) {
		format_line(c, fn_nft_str(c->prog, l->prefix), line, sizeof(line));
		env->log(env->log_arg, (int)l->level, line);
	}
}

static int log_verify(struct fn_verify *v, const struct fn_op *op)
{
	const struct fn_op_slot *o = (const void *)op;

	if (op->size * 4u != sizeof(*o))
		return fn_verify_fail(v, "log op size");
	if (o->slot >= v->prog->hdr->n_logs)
		return fn_verify_fail(v, "log slot %u", o->slot);
	return 0;
}

const struct fn_nft_op_type fn_op_log = {
	.name = "log", .min_size = 2,
	.eval = log_eval, .verify = log_verify,
};
