/* SPDX-License-Identifier: GPL-2.0-only OR BSD-3-Clause */
/*
 * fragnetd's XDP program for one interface: it hands the applications'
 * traffic to their AF_XDP sockets and leaves everything else to the kernel.
 *
 * A packet is an application's when it is ARP asking for (or answering to)
 * the application's IPv4 address, or IPv4 to that address. Such a packet is
 * checked exactly as the library's stack checks it before any hook (so that
 * the rules judge the same packets in both places); what the stack would
 * drop is dropped here. A fragment is handed over unjudged (the library
 * judges the reassembled datagram), or dropped when the application says
 * so. Everything else goes through the application's rules program, a tail
 * call into fn_rules: the rules are enforced here, before the application
 * can see the packet, and the program hands the packet over with where the
 * application must resume (xdp/meta.h). No rules program: dropped.
 *
 * Every handed-over packet carries a struct fn_xdp_meta, also ARP and
 * fragments (hook FN_XDP_RESUME_START): the bytes in front of a frame would
 * otherwise be whatever an earlier packet left in that memory.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "meta.h"
#include "steer.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, FN_STEER_MAX_APPS);
	__type(key, __u32);
	__type(value, struct fn_steer_app);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} fn_apps SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, FN_STEER_MAX_QUEUES);
	__type(key, __u32);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} fn_owner SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, FN_STEER_MAX_QUEUES);
	__type(key, __u32);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} fn_xsks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, FN_STEER_MAX_APPS);
	__type(key, __u32);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} fn_rules SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, FN_STEER_STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} fn_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fn_steer_config);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} fn_config SEC(".maps");

/* For fragnetd only: the generation of each slot's rules program, so that a
 * restarted daemon numbers its generations above what the kernel runs. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, FN_STEER_MAX_APPS);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} fn_gens SEC(".maps");

/* For fragnetd only: the application each slot serves. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, FN_STEER_MAX_APPS);
	__type(key, __u32);
	__type(value, struct fn_steer_name);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} fn_names SEC(".maps");

struct arp_ipv4 {
	__be16 htype, ptype;
	__u8 hlen, plen;
	__be16 op;
	__u8 sha[6];
	__be32 spa;
	__u8 tha[6];
	__be32 tpa;
} __attribute__((packed));

static __always_inline int count(__u32 stat, int action)
{
	__u64 *n = bpf_map_lookup_elem(&fn_stats, &stat);

	if (n)
		*n += 1;      /* per CPU: no atomics needed */
	return action;
}

/* The queue must be the application's, or its socket there is another's. */
static __always_inline int owns_queue(struct xdp_md *ctx, __u32 slot)
{
	__u32 q = ctx->rx_queue_index;
	__u32 *owner = bpf_map_lookup_elem(&fn_owner, &q);

	return owner && *owner == slot + 1;
}

/* Hand a packet over with nothing judged. */
static __always_inline int hand_over_unjudged(struct xdp_md *ctx, __u32 stat)
{
	struct fn_xdp_meta *m;
	void *data;
	int ret;

	if (bpf_xdp_adjust_meta(ctx, -(int)sizeof(*m)))
		return count(FN_STEER_MALFORMED, XDP_DROP);
	m = (void *)(long)ctx->data_meta;
	data = (void *)(long)ctx->data;
	if ((void *)(m + 1) > data)
		return count(FN_STEER_MALFORMED, XDP_DROP);
	m->magic = FN_XDP_META_MAGIC;
	m->hook = FN_XDP_RESUME_START;
	m->chain = 0;
	m->pad = 0;
	m->rule = 0;
	m->pad2 = 0;
	m->generation = 0;
	ret = bpf_redirect_map(&fn_xsks, ctx->rx_queue_index, XDP_DROP);
	if (ret != XDP_REDIRECT)
		return count(FN_STEER_NO_SOCKET, XDP_DROP);
	return count(stat, ret);
}

static __always_inline int arp(struct xdp_md *ctx, void *l3, void *end)
{
	struct arp_ipv4 *a = l3;
	struct fn_steer_app *app;
	__u32 tpa;

	if ((void *)(a + 1) > end || a->htype != bpf_htons(1) ||
	    a->ptype != bpf_htons(ETH_P_IP) || a->hlen != 6 || a->plen != 4)
		return count(FN_STEER_PASS, XDP_PASS);
	tpa = a->tpa;
	app = bpf_map_lookup_elem(&fn_apps, &tpa);
	if (!app)
		return count(FN_STEER_PASS, XDP_PASS);
	if (!owns_queue(ctx, app->slot))
		return count(FN_STEER_WRONG_QUEUE, XDP_DROP);
	return hand_over_unjudged(ctx, FN_STEER_ARP);
}

/* The IPv4 header checksum over ihl bytes (20..60, a multiple of 4): sizes
 * the verifier can see, so each is a constant. */
#define CSUM_CASE(n)							\
	case n:								\
		if ((void *)ip + n > end)				\
			return 0;					\
		sum = bpf_csum_diff(0, 0, (__be32 *)ip, n, 0);		\
		break

static __always_inline int header_csum_ok(struct iphdr *ip, __u32 ihl, void *end)
{
	__u64 sum;

	switch (ihl) {
	CSUM_CASE(20); CSUM_CASE(24); CSUM_CASE(28); CSUM_CASE(32);
	CSUM_CASE(36); CSUM_CASE(40); CSUM_CASE(44); CSUM_CASE(48);
	CSUM_CASE(52); CSUM_CASE(56); CSUM_CASE(60);
	default:
		return 0;
	}
	sum = (sum & 0xffff) + ((sum >> 16) & 0xffff) + (sum >> 32);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return sum == 0xffff;
}

static __always_inline int ipv4(struct xdp_md *ctx, void *l3, void *end)
{
	struct iphdr *ip = l3;
	struct fn_steer_app *app;
	__u32 daddr, ihl, total, len, first;

	if ((void *)(ip + 1) > end)
		return count(FN_STEER_PASS, XDP_PASS);
	daddr = ip->daddr;
	app = bpf_map_lookup_elem(&fn_apps, &daddr);
	if (!app)
		return count(FN_STEER_PASS, XDP_PASS);

	/* From here on the packet is the application's: the kernel has no
	 * such address. Check it as lib/stack/ipv4.c does. */
	len = (__u32)(end - l3);
	ihl = ip->ihl * 4;
	total = bpf_ntohs(ip->tot_len);
	if (ip->version != 4 || ihl < sizeof(*ip) || ihl > total || total > len ||
	    !header_csum_ok(ip, ihl, end))
		return count(FN_STEER_MALFORMED, XDP_DROP);
	/* Sources no host sends from, as fn_ipv4_martian_source(): multicast,
	 * broadcast and class E, loopback, 0/8, the application's own
	 * address (its subnet's broadcast only the stack knows). */
	first = bpf_ntohl(ip->saddr) >> 24;
	if (first >= 224 || first == 127 || first == 0 || ip->saddr == daddr)
		return count(FN_STEER_MALFORMED, XDP_DROP);
	if (!owns_queue(ctx, app->slot))
		return count(FN_STEER_WRONG_QUEUE, XDP_DROP);
	if (ip->frag_off & bpf_htons(0x3fff)) {   /* MF or an offset */
		if (app->flags & FN_STEER_F_FRAG_DROP)
			return count(FN_STEER_FRAG_DROPPED, XDP_DROP);
		return hand_over_unjudged(ctx, FN_STEER_FRAGMENT);
	}
	count(FN_STEER_RULES, 0);
	bpf_tail_call(ctx, &fn_rules, app->slot);
	return count(FN_STEER_NO_RULES, XDP_DROP);
}

SEC("xdp")
int fn_steer(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct fn_steer_config *cfg;
	__u32 zero = 0;
	int broadcast;

	if ((void *)(eth + 1) > end)
		return count(FN_STEER_PASS, XDP_PASS);
	broadcast = (eth->h_dest[0] & eth->h_dest[1] & eth->h_dest[2] &
		     eth->h_dest[3] & eth->h_dest[4] & eth->h_dest[5]) == 0xff;
	if (!broadcast) {
		/* The stack takes our unicast MAC and broadcast only. */
		cfg = bpf_map_lookup_elem(&fn_config, &zero);
		if (!cfg || eth->h_dest[0] != cfg->mac[0] || eth->h_dest[1] != cfg->mac[1] ||
		    eth->h_dest[2] != cfg->mac[2] || eth->h_dest[3] != cfg->mac[3] ||
		    eth->h_dest[4] != cfg->mac[4] || eth->h_dest[5] != cfg->mac[5])
			return count(FN_STEER_PASS, XDP_PASS);
	}
	if (eth->h_proto == bpf_htons(ETH_P_ARP))
		return arp(ctx, eth + 1, end);
	if (eth->h_proto == bpf_htons(ETH_P_IP))
		return ipv4(ctx, eth + 1, end);
	return count(FN_STEER_PASS, XDP_PASS);
}

char _license[] SEC("license") = "Dual BSD/GPL";
