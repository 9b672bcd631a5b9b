/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target: the image verifier. Any byte string is either refused by
 * fn_nft_image_check() or loads and runs packets through every hook without
 * misbehaving (ASan/UBSan in the libFuzzer build).
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "packets.h"
#include "seed_packets.h"
#include "samples.h"
#include "nft/eval.h"

static uint64_t clock_ns(void *arg)
{
	return ++*(uint64_t *)arg * 1000000u;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fn_nft_state *s;
	uint64_t now = 1000;
	uint8_t buf[128], eth[14] = { 0 };
	char err[256];
	unsigned i;

	if (fn_nft_image_check(data, size, err, sizeof(err)))
		return 0;
	s = fn_nft_state_new(data, size);
	if (!s)
		abort(); /* accepted by the check, refused by the loader */
	fn_nft_state_set_clock(s, clock_ns, clock_ns, &now);
	for (i = 0; i < FN_FUZZ_PACKETS; i++) {
		/* a fresh copy per path: rules may rewrite it */
		struct fn_pkt in = tp_view(buf, (uint32_t)fn_fuzz_packet(i, buf)), out;

		in.iif = 1;
		in.iifname = "eth0";
		in.l2 = eth;
		if (fn_nft_eval(s, FN_HOOK_PREROUTING, &in, NULL) == FN_ACCEPT)
			fn_nft_eval(s, FN_HOOK_INPUT, &in, NULL);
		out = tp_view(buf, (uint32_t)fn_fuzz_packet(i, buf));
		out.oif = 1;
		out.oifname = "eth0";
		if (fn_nft_eval(s, FN_HOOK_OUTPUT, &out, NULL) == FN_ACCEPT)
			fn_nft_eval(s, FN_HOOK_POSTROUTING, &out, NULL);
	}
	fn_nft_state_free(s);
	return 0;
}

void fn_fuzz_seeds(void (*emit)(const uint8_t *data, size_t size))
{
	unsigned i;

	for (i = 0; i < FN_SAMPLES; i++) {
		size_t len;
		void *img = fn_sample_image(i, &len);

		if (!img)
			abort();
		emit(img, len);
		free(img);
	}
}
