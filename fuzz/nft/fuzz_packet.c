/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target: the interpreter on arbitrary packets. Byte 0 picks the
 * sample image, the hook path and packet flags; the rest is the packet from
 * the IPv4 header on (whatever it claims).
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "seed_packets.h"
#include "samples.h"
#include "nft/eval.h"

static struct fn_nft_state *states[FN_SAMPLES];
static uint64_t now = 1000;

static uint64_t clock_ns(void *arg)
{
	return (*(uint64_t *)arg += 7919) * 1000u;
}

static struct fn_nft_state *sample(unsigned i)
{
	if (!states[i]) {
		size_t len;
		void *img = fn_sample_image(i, &len);

		if (!img || !(states[i] = fn_nft_state_new(img, len)))
			abort();
		free(img);
		fn_nft_state_set_clock(states[i], clock_ns, clock_ns, &now);
	}
	return states[i];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t buf[4096], eth[14];
	struct fn_pkt pkt = { 0 };
	struct fn_nft_state *s;
	uint8_t ctl;

	if (size < 1 || size - 1 > sizeof(buf))
		return 0;
	ctl = data[0];
	s = sample(ctl & 1);
	memcpy(buf, data + 1, size - 1);
	pkt.l3 = buf;
	pkt.l3_len = (uint32_t)(size - 1);
	pkt.l2 = (ctl & 2) ? eth : NULL;
	pkt.flags = (ctl >> 2) & 3;
	pkt.mark = ctl;
	if (ctl & 0x10) {
		pkt.iif = 1;
		pkt.iifname = "eth0";
		if (fn_nft_eval(s, FN_HOOK_PREROUTING, &pkt, NULL) == FN_ACCEPT)
			fn_nft_eval(s, FN_HOOK_INPUT, &pkt, NULL);
	} else {
		pkt.oif = 1;
		pkt.oifname = "eth0";
		if (fn_nft_eval(s, FN_HOOK_OUTPUT, &pkt, NULL) == FN_ACCEPT)
			fn_nft_eval(s, FN_HOOK_POSTROUTING, &pkt, NULL);
	}
	return 0;
}

void fn_fuzz_seeds(void (*emit)(const uint8_t *data, size_t size))
{
	uint8_t seed[129];
	unsigned i, ctl;

	for (i = 0; i < FN_FUZZ_PACKETS; i++)
		for (ctl = 0; ctl < 0x20; ctl += 3) {
			size_t len = fn_fuzz_packet(i, seed + 1);

			seed[0] = (uint8_t)ctl;
			emit(seed, len + 1);
		}
}
