/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Test-only steering for xsk ports (fragnetd's real program comes later):
 * IPv4 to one address, and ARP whose target is that address, goes to the
 * AF_XDP socket of the receiving queue; everything else to the kernel, so
 * the kernel's own addresses on the interface keep working.
 *
 * Datagrams to config.meta_port (UDP, unfragmented) whose payload starts
 * with 'M' carry an fn_xdp_meta whose generation is their source port; the
 * others carry none. A test sends both kinds in one flow, so that they land
 * on one queue and take turns in its UMEM frames.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "xdp/meta.h"

/* Set by the loader: key 0. */
struct xsk_redirect_config {
	__be32 addr;
	__be16 meta_port;   /* 0: no metadata */
	__u16 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xsk_redirect_config);
} config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u32);
} xsks SEC(".maps");

struct arp_ipv4 {
	__be16 htype, ptype;
	__u8 hlen, plen;
	__be16 op;
	__u8 sha[ETH_ALEN];
	__be32 spa;
	__u8 tha[ETH_ALEN];
	__be32 tpa;
} __attribute__((packed));

static __always_inline int add_meta(struct xdp_md *ctx, __u16 generation)
{
	struct fn_xdp_meta *meta;

	if (bpf_xdp_adjust_meta(ctx, -(int)sizeof(*meta)) != 0)
		return -1;
	meta = (void *)(long)ctx->data_meta;
	if ((void *)(meta + 1) > (void *)(long)ctx->data)
		return -1;
	meta->magic = FN_XDP_META_MAGIC;
	meta->hook = FN_XDP_RESUME_DONE;
	meta->chain = 1;
	meta->pad = 0;
	meta->rule = 7;
	meta->pad2 = 0;
	meta->generation = generation;
	return 0;
}

SEC("xdp")
int xsk_redirect(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct xsk_redirect_config *cfg;
	struct ethhdr *eth = data;
	struct arp_ipv4 *arp;
	struct udphdr *udp;
	struct iphdr *ip;
	__u32 key = 0;

	cfg = bpf_map_lookup_elem(&config, &key);
	if (cfg == NULL || (void *)(eth + 1) > end)
		return XDP_PASS;
	if (eth->h_proto == bpf_htons(ETH_P_ARP)) {
		arp = (void *)(eth + 1);
		if ((void *)(arp + 1) > end || arp->tpa != cfg->addr)
			return XDP_PASS;
		goto redirect;
	}
	if (eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > end || ip->daddr != cfg->addr)
		return XDP_PASS;
	udp = (void *)(ip + 1);
	if (cfg->meta_port && ip->protocol == IPPROTO_UDP && ip->ihl == 5 &&
	    !(ip->frag_off & bpf_htons(0x3fff)) && (void *)(udp + 1) + 1 <= end &&
	    udp->dest == cfg->meta_port && *(__u8 *)(udp + 1) == 'M' &&
	    add_meta(ctx, bpf_ntohs(udp->source)) != 0)
		return XDP_DROP;
redirect:
	return bpf_redirect_map(&xsks, ctx->rx_queue_index, XDP_PASS);
}

char _license[] SEC("license") = "Dual BSD/GPL";
