/* SPDX-License-Identifier: BSD-3-Clause */
/* xsk ports without a socket: the port string, and the XDP metadata taken
 * from in front of a received frame (a valid one, a bad magic). Metadata
 * left from an earlier frame is the port's business: fn-xsk-meta checks it
 * on real sockets (tests/integration). */
#include <string.h>

#include "unit.h"
#include "runtime/xsk.h"

static void test_parse(void **state)
{
	static const char *const bad[] = {
		"xsk:", "xsk:veth0", "xsk:veth0:", "xsk::0", "xsk:veth0:-1", "xsk:veth0:1x",
		"xsk:veth0: 1", "xsk:a:b:0", "xsk:veth0:4294967296", "net_af_xdp0,iface=veth0",
		"xsk:abcdefghijklmnop:0",   /* 16 characters: one too many */
	};
	char ifname[IF_NAMESIZE];
	uint32_t queue;

	(void)state;
	assert_int_equal(fn_xsk_parse("xsk:veth0:1", ifname, &queue), 0);
	assert_string_equal(ifname, "veth0");
	assert_int_equal(queue, 1);
	assert_int_equal(fn_xsk_parse("xsk:abcdefghijklmno:4294967295", ifname, &queue), 0);
	assert_string_equal(ifname, "abcdefghijklmno");
	assert_int_equal(queue, UINT32_MAX);
	for (unsigned i = 0; i < RTE_DIM(bad); i++) {
		print_message("%s\n", bad[i]);
		assert_int_equal(fn_xsk_parse(bad[i], ifname, &queue), -EINVAL);
	}
	assert_true(fn_is_xsk_port("xsk:veth0:0"));
	assert_false(fn_is_xsk_port("0000:03:00.0"));
}

static void test_meta(void **state)
{
	struct fragnet *fn = ((struct h_fix *)*state)->fn;
	uint8_t frame[FN_XSK_FRAME_SIZE] __rte_aligned(8) = { 0 };
	uint8_t *data = frame + FN_XSK_RX_OFFSET;
	struct fn_xdp_meta in = {
		.magic = FN_XDP_META_MAGIC, .hook = 1, .chain = 2, .rule = 1234,
		.generation = 0x1122334455667788ull,
	};
	struct rte_mbuf *m = rte_pktmbuf_alloc(fn->pool);
	const struct fn_xsk_meta *out;

	assert_int_equal(fn_xsk_meta_register(), 0);
	assert_int_equal(fn_xsk_meta_register(), 0);   /* again: the same field */
	out = fn_xsk_meta(m);

	memcpy(data - sizeof(in), &in, sizeof(in));
	fn_xsk_meta_take(m, data);
	assert_int_equal(out->hook, 1);
	assert_int_equal(out->chain, 2);
	assert_int_equal(out->rule, 1234);
	assert_true(out->generation == 0x1122334455667788ull);

	/* A bad magic is no metadata: nothing judged, nothing kept. */
	in.magic ^= 1;
	memcpy(data - sizeof(in), &in, sizeof(in));
	fn_xsk_meta_take(m, data);
	assert_int_equal(out->hook, FN_XDP_RESUME_START);
	assert_int_equal(out->chain, 0);
	assert_int_equal(out->rule, 0);
	assert_true(out->generation == 0);

	rte_pktmbuf_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		H_TEST(test_meta),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
