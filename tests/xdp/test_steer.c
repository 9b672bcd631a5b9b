/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The steering program (xdp/steer.bpf.c) and its user side (xdp/iface.c) on
 * a veth of a private network namespace: attach and adopt, then frames run
 * through the attached program with BPF_PROG_TEST_RUN, checking the action,
 * the metadata handed to the application and the steering counters. Root.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <bpf/bpf.h>
#include <linux/if_xdp.h>

#ifndef AF_XDP
#define AF_XDP 44
#endif

#include "iface.h"
#include "meta.h"
#include "stack/csum.h"

#define APP_ADDR "10.77.0.1"
#define HOST_ADDR "10.77.0.2"

struct fixture {
	char pin_dir[64];
	struct fn_xdp_iface *x;
	int steer_fd;
	int rules_fd;          /* a stub rules program: XDP_TX */
	int xsk;               /* an AF_XDP socket as an application hands it over: unbound */
	void *umem_area;
	uint8_t mac[6];
};

static int sh(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

static int stub_rules(void)
{
	struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = XDP_TX },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	LIBBPF_OPTS(bpf_prog_load_opts, o, .expected_attach_type = BPF_XDP);

	return bpf_prog_load(BPF_PROG_TYPE_XDP, "fn_rules_stub", "GPL", insns, 2, &o);
}

#define UMEM_LEN (256 * 2048)

/* UMEM and rings, no bind: what an application sends fragnetd. */
static int unbound_xsk(void *area)
{
	struct xdp_umem_reg mr = { .addr = (uintptr_t)area, .len = UMEM_LEN, .chunk_size = 2048 };
	int fd = socket(AF_XDP, SOCK_RAW | SOCK_CLOEXEC, 0), n = 64;

	assert_true(fd >= 0);
	assert_int_equal(setsockopt(fd, SOL_XDP, XDP_UMEM_REG, &mr, sizeof(mr)), 0);
	assert_int_equal(setsockopt(fd, SOL_XDP, XDP_UMEM_FILL_RING, &n, sizeof(n)), 0);
	assert_int_equal(setsockopt(fd, SOL_XDP, XDP_UMEM_COMPLETION_RING, &n, sizeof(n)), 0);
	assert_int_equal(setsockopt(fd, SOL_XDP, XDP_RX_RING, &n, sizeof(n)), 0);
	return fd;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	bool adopted = true;
	char err[256];
	int rc;

	assert_non_null(f);
	assert_int_equal(unshare(CLONE_NEWNET), 0);
	assert_int_equal(sh("ip link add fnst0 numtxqueues 2 numrxqueues 2 type veth peer name fnst1 "
			    "numtxqueues 2 numrxqueues 2 && ip link set fnst0 address 02:00:00:00:00:01 && "
			    "ip link set fnst0 up && ip link set fnst1 up"), 0);
	memcpy(f->mac, (const uint8_t[]){ 2, 0, 0, 0, 0, 1 }, 6);
	snprintf(f->pin_dir, sizeof(f->pin_dir), "/sys/fs/bpf/fragnet-test-%d", (int)getpid());
	rc = fn_xdp_iface_open("fnst0", f->pin_dir, FN_XDP_MODE_SKB, &f->x, &adopted, err, sizeof(err));
	if (rc)
		fail_msg("open: %s", err);
	assert_false(adopted);
	f->steer_fd = bpf_prog_get_fd_by_id(fn_xdp_iface_prog_id(f->x));
	assert_true(f->steer_fd >= 0);
	f->rules_fd = stub_rules();
	assert_true(f->rules_fd >= 0);
	assert_int_equal(posix_memalign(&f->umem_area, 4096, UMEM_LEN), 0);
	f->xsk = unbound_xsk(f->umem_area);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	close(f->xsk);
	free(f->umem_area);
	close(f->rules_fd);
	close(f->steer_fd);
	assert_int_equal(fn_xdp_iface_remove(f->x), 0);
	assert_int_equal(rmdir(f->pin_dir), 0);   /* empty: the pins are gone */
	free(f);
	return 0;
}

/* An Ethernet frame: IPv4/UDP from HOST_ADDR to dst, or ARP asking for dst. */
static size_t frame(const struct fixture *f, uint8_t *buf, const char *dst, bool arp,
		    uint16_t frag, bool bad_csum)
{
	static const uint8_t peer[6] = { 0x02, 0, 0, 0, 0, 0x02 };
	uint32_t d = inet_addr(dst), s = inet_addr(HOST_ADDR);
	uint8_t *l3 = buf + 14;

	memset(buf, 0, 128);
	if (arp)
		memset(buf, 0xff, 6);
	else
		memcpy(buf, f->mac, 6);
	memcpy(buf + 6, peer, 6);
	if (arp) {
		static const uint8_t h[8] = { 0, 1, 8, 0, 6, 4, 0, 1 };

		buf[12] = 0x08, buf[13] = 0x06;
		memcpy(l3, h, 8);
		memcpy(l3 + 8, peer, 6);
		memcpy(l3 + 14, &s, 4);
		memcpy(l3 + 24, &d, 4);
		return 14 + 28;
	}
	buf[12] = 0x08, buf[13] = 0x00;
	l3[0] = 0x45;
	l3[3] = 28 + 4;          /* total length: header, UDP header, 4 bytes */
	l3[6] = (uint8_t)(frag >> 8), l3[7] = (uint8_t)frag;
	l3[8] = 64, l3[9] = 17;
	memcpy(l3 + 12, &s, 4);
	memcpy(l3 + 16, &d, 4);
	{
		uint16_t c = fn_csum(l3, 20);

		if (bad_csum)
			c ^= 1;
		memcpy(l3 + 10, &c, 2);
	}
	l3[20] = 0x30, l3[21] = 0x39, l3[22] = 0x1b, l3[23] = 0x58;   /* 12345 -> 7000 */
	l3[25] = 12;
	return 14 + 32;
}

/* Run one frame; the action, and the metadata if the program wrote any. */
static int run(struct fixture *f, const uint8_t *pkt, size_t len, struct fn_xdp_meta *meta)
{
	uint8_t out[256 + 64];
	struct xdp_md ctx_in = { .data_end = (uint32_t)len,
				 .ingress_ifindex = (uint32_t)fn_xdp_iface_ifindex(f->x),
				 .rx_queue_index = 0 };
	struct xdp_md ctx_out = { 0 };
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt, .data_size_in = (uint32_t)len,
		    .data_out = out, .data_size_out = sizeof(out),
		    .ctx_in = &ctx_in, .ctx_size_in = sizeof(ctx_in),
		    .ctx_out = &ctx_out, .ctx_size_out = sizeof(ctx_out));

	assert_int_equal(bpf_prog_test_run_opts(f->steer_fd, &o), 0);
	memset(meta, 0, sizeof(*meta));
	if (ctx_out.data_meta < ctx_out.data && ctx_out.data - ctx_out.data_meta == sizeof(*meta))
		memcpy(meta, out, sizeof(*meta));
	return (int)o.retval;
}

static uint64_t stat(struct fixture *f, unsigned s)
{
	uint64_t v[FN_STEER_STAT_MAX];

	assert_int_equal(fn_xdp_iface_stats(f->x, v), 0);
	return v[s];
}

static void test_steering(void **state)
{
	struct fixture *f = *state;
	struct fn_xdp_meta m;
	uint8_t pkt[128];
	size_t len;
	uint32_t slot;

	/* No application yet: everything is the kernel's. */
	len = frame(f, pkt, APP_ADDR, false, 0, false);
	assert_int_equal(run(f, pkt, len, &m), XDP_PASS);

	assert_int_equal(fn_xdp_iface_set_app(f->x, inet_addr(APP_ADDR), 3, 0), 0);
	assert_int_equal(fn_xdp_iface_app_slot(f->x, inet_addr(APP_ADDR), &slot), 0);
	assert_int_equal(slot, 3);

	/* The queue belongs to nobody yet: dropped, not leaked to the kernel. */
	assert_int_equal(run(f, pkt, len, &m), XDP_DROP);
	assert_int_equal(stat(f, FN_STEER_WRONG_QUEUE), 1);

	/* Not an AF_XDP socket; then the real one, bound by us to queue 0. */
	assert_int_equal(fn_xdp_iface_set_queue(f->x, 0, 3, 0, XDP_COPY), -ENOTSOCK);
	assert_int_equal(fn_xdp_iface_set_queue(f->x, 0, 3, f->xsk, XDP_COPY), 0);
	/* Bound once and for all: nobody rebinds it elsewhere. */
	assert_int_equal(fn_xdp_iface_set_queue(f->x, 1, 3, f->xsk, XDP_COPY), -EBUSY);
	assert_int_equal(fn_xdp_iface_queue_owner(f->x, 1, &slot), -ENOENT);
	/* No rules program: fail closed. */
	assert_int_equal(run(f, pkt, len, &m), XDP_DROP);
	assert_int_equal(stat(f, FN_STEER_NO_RULES), 1);

	/* With one, the rules decide (the stub says XDP_TX). */
	assert_int_equal(fn_xdp_iface_set_rules(f->x, 3, f->rules_fd), 0);
	assert_int_not_equal(fn_xdp_iface_rules_id(f->x, 3), 0);
	assert_int_equal(run(f, pkt, len, &m), XDP_TX);
	assert_int_equal(stat(f, FN_STEER_RULES), 2);

	/* The kernel's own address, and broadcast IPv4, stay the kernel's. */
	len = frame(f, pkt, HOST_ADDR, false, 0, false);
	assert_int_equal(run(f, pkt, len, &m), XDP_PASS);

	/* A bad header checksum: the stack would drop it, so do we. */
	len = frame(f, pkt, APP_ADDR, false, 0, true);
	assert_int_equal(run(f, pkt, len, &m), XDP_DROP);
	assert_int_equal(stat(f, FN_STEER_MALFORMED), 1);

	/* Sources no host sends from, as the stack has them: 0/8 and the
	 * application's own address (multicast and loopback too). */
	{
		static const char *const martians[] = { "0.1.2.3", APP_ADDR, "127.0.0.1",
							"224.0.0.1", "255.255.255.255" };

		for (unsigned i = 0; i < sizeof(martians) / sizeof(martians[0]); i++) {
			uint32_t src = inet_addr(martians[i]);
			uint16_t c;

			len = frame(f, pkt, APP_ADDR, false, 0, false);
			memcpy(pkt + 14 + 12, &src, 4);
			memset(pkt + 14 + 10, 0, 2);
			c = fn_csum(pkt + 14, 20);
			memcpy(pkt + 14 + 10, &c, 2);
			assert_int_equal(run(f, pkt, len, &m), XDP_DROP);
			assert_int_equal(stat(f, FN_STEER_MALFORMED), 2 + i);
		}
	}

	/* ARP for the application: handed over with nothing judged; ARP for
	 * the host: the kernel's. */
	len = frame(f, pkt, APP_ADDR, true, 0, false);
	assert_int_equal(run(f, pkt, len, &m), XDP_REDIRECT);
	assert_int_equal(m.magic, FN_XDP_META_MAGIC);
	assert_int_equal(m.hook, FN_XDP_RESUME_START);
	len = frame(f, pkt, HOST_ADDR, true, 0, false);
	assert_int_equal(run(f, pkt, len, &m), XDP_PASS);

	/* A fragment: handed over unjudged; or dropped when configured. */
	len = frame(f, pkt, APP_ADDR, false, 0x2000, false);
	assert_int_equal(run(f, pkt, len, &m), XDP_REDIRECT);
	assert_int_equal(m.hook, FN_XDP_RESUME_START);
	assert_int_equal(stat(f, FN_STEER_FRAGMENT), 1);
	assert_int_equal(fn_xdp_iface_set_app(f->x, inet_addr(APP_ADDR), 3, FN_STEER_F_FRAG_DROP), 0);
	assert_int_equal(run(f, pkt, len, &m), XDP_DROP);
	assert_int_equal(stat(f, FN_STEER_FRAG_DROPPED), 1);

	/* Rules removed: dropped again. */
	assert_int_equal(fn_xdp_iface_set_app(f->x, inet_addr(APP_ADDR), 3, 0), 0);
	len = frame(f, pkt, APP_ADDR, false, 0, false);
	assert_int_equal(fn_xdp_iface_set_rules(f->x, 3, -1), 0);
	assert_int_equal(run(f, pkt, len, &m), XDP_DROP);

	/* Another application's queue: its socket must not get our packets. */
	assert_int_equal(fn_xdp_iface_set_rules(f->x, 5, f->rules_fd), 0);
	assert_int_equal(fn_xdp_iface_set_app(f->x, inet_addr(APP_ADDR), 5, 0), 0);
	assert_int_equal(run(f, pkt, len, &m), XDP_DROP);
	assert_int_equal(stat(f, FN_STEER_WRONG_QUEUE), 2);
	assert_int_equal(fn_xdp_iface_clear_queue(f->x, 0), 0);
	assert_int_equal(fn_xdp_iface_queue_owner(f->x, 0, &slot), -ENOENT);
}

/* A slot given up loses all it held: its queues and the socket on them,
 * its rules and their generation, the name of the application it served. */
static void test_release_slot(void **state)
{
	struct fixture *f = *state;
	uint32_t slot;

	assert_int_equal(fn_xdp_iface_set_app(f->x, inet_addr(APP_ADDR), 3, 0), 0);
	assert_int_equal(fn_xdp_iface_set_slot_name(f->x, 3, "echo"), 0);
	assert_int_equal(fn_xdp_iface_set_queue(f->x, 0, 3, f->xsk, XDP_COPY), 0);
	assert_int_equal(fn_xdp_iface_set_rules(f->x, 3, f->rules_fd), 0);
	assert_int_equal(fn_xdp_iface_set_rules_gen(f->x, 3, 9), 0);
	assert_true(fn_xdp_iface_slot_is(f->x, 3, "echo"));
	assert_false(fn_xdp_iface_slot_is(f->x, 3, "other"));
	assert_false(fn_xdp_iface_slot_is(f->x, 4, "echo"));
	assert_int_equal(fn_xdp_iface_set_slot_name(f->x, 3, "a-name-of-sixty-four-bytes-"
						    "is-one-too-long-for-the-map-xxxxxxxxx"),
			 -ENAMETOOLONG);

	assert_int_equal(fn_xdp_iface_release_slot(f->x, 3), 0);
	assert_int_equal(fn_xdp_iface_queue_owner(f->x, 0, &slot), -ENOENT);
	assert_int_equal(fn_xdp_iface_rules_id(f->x, 3), 0);
	assert_int_equal(fn_xdp_iface_rules_gen(f->x, 3), 0);
	assert_false(fn_xdp_iface_slot_is(f->x, 3, "echo"));
	assert_int_equal(fn_xdp_iface_del_app(f->x, inet_addr(APP_ADDR)), 0);
}

/* A second open finds the program attached and its pinned maps: adopted,
 * same program, same state. */
static void test_adopt(void **state)
{
	struct fixture *f = *state;
	struct fn_xdp_iface *again;
	bool adopted = false;
	uint32_t slot;
	char err[256];

	assert_int_equal(fn_xdp_iface_set_app(f->x, inet_addr(APP_ADDR), 7, 0), 0);
	assert_int_equal(fn_xdp_iface_set_rules(f->x, 7, f->rules_fd), 0);
	if (fn_xdp_iface_open("fnst0", f->pin_dir, FN_XDP_MODE_SKB, &again, &adopted, err,
			      sizeof(err)))
		fail_msg("reopen: %s", err);
	assert_true(adopted);
	assert_int_equal(fn_xdp_iface_prog_id(again), fn_xdp_iface_prog_id(f->x));
	assert_string_equal(fn_xdp_iface_mode_name(again), "skb");
	assert_int_equal(fn_xdp_iface_app_slot(again, inet_addr(APP_ADDR), &slot), 0);
	assert_int_equal(slot, 7);
	assert_int_equal(fn_xdp_iface_rules_id(again, 7), fn_xdp_iface_rules_id(f->x, 7));
	fn_xdp_iface_close(again);
	/* closing our handles detaches nothing */
	assert_int_not_equal(fn_xdp_iface_rules_id(f->x, 7), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_steering, setup, teardown),
		cmocka_unit_test_setup_teardown(test_release_slot, setup, teardown),
		cmocka_unit_test_setup_teardown(test_adopt, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
