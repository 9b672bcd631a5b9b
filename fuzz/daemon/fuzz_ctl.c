/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control protocol parser (lib/ctl/proto.c) on arbitrary bytes: what
 * fragnetd runs on every message from any local process it accepted, and
 * what the library and fragnetctl run on the daemon's replies. Every field
 * a checked message promises is then read, so an unchecked length or an
 * unterminated string shows up under ASan.
 */
#include <stdint.h>
#include <string.h>

#include "ctl/proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile size_t sink;

static void touch(const char *s)
{
	sink += strlen(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* received messages land in aligned buffers of FN_CTL_MAX_MSG bytes */
	static unsigned char buf[FN_CTL_MAX_MSG] __attribute__((aligned(8)));
	const void *p;
	int type;

	if (size > sizeof(buf))
		return 0;
	memcpy(buf, data, size);
	type = fn_ctl_check(buf, size);
	if (type < 0)
		return 0;
	p = fn_ctl_payload(buf);
	sink += fn_ctl_payload_len(buf);
	switch (type) {
	case FN_CTL_HELLO:
		touch(((const struct fn_ctl_hello *)p)->name);
		break;
	case FN_CTL_APPLIED:
		touch(((const struct fn_ctl_applied *)p)->msg);
		break;
	case FN_CTL_ERROR:
		touch(((const struct fn_ctl_error *)p)->msg);
		break;
	case FN_CTL_REQUEST:
		touch(((const struct fn_ctl_request *)p)->source);
		break;
	case FN_CTL_REPLY:
		touch(((const struct fn_ctl_reply *)p)->msg);
		break;
	case FN_CTL_STATS_QUEUE: {
		const struct fn_ctl_queue_stats *q = p;

		for (uint32_t i = 0; i < q->n_drops; i++)
			touch(q->drops[i].name);
		break;
	}
	case FN_CTL_STATS_COUNTERS: {
		struct fn_ctl_counter_view v;
		size_t pos = 0;

		while (fn_ctl_counters_next(buf, &pos, &v)) {
			sink += v.c->packets + (size_t)memchr(v.chain, 0, v.c->chain_len) +
				(size_t)memchr(v.object, 0, v.c->object_len);
		}
		break;
	}
	default:
		break;
	}
	return 0;
}
