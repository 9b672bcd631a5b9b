/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A packet as the interpreter sees it, the hooks it is judged at and what a
 * hook can decide: the interface between any packet source (the stack in
 * lib/stack/, the offline evaluator, tests) and lib/nft/.
 */
#ifndef FN_NFT_PACKET_H
#define FN_NFT_PACKET_H

#include <stdbool.h>
#include <stdint.h>

/* Netfilter hook numbers (NF_INET_*), so image chains carry them unchanged. */
enum fn_hook {
	FN_HOOK_PREROUTING = 0,
	FN_HOOK_INPUT = 1,
	FN_HOOK_FORWARD = 2, /* never called: we do not forward */
	FN_HOOK_OUTPUT = 3,
	FN_HOOK_POSTROUTING = 4,
	FN_HOOK_MAX
};

/* Packet types, as the kernel's PACKET_* (meta pkttype). */
enum fn_pkttype {
	FN_PKT_HOST = 0,
	FN_PKT_BROADCAST = 1,
	FN_PKT_MULTICAST = 2,
	FN_PKT_OTHERHOST = 3,
	FN_PKT_OUTGOING = 4,
};

/*
 * A packet as the filter sees it. l3 points at the IPv4 header and the whole
 * datagram (or fragment) is contiguous through l3_len, which equals the IPv4
 * total length. The filter may rewrite bytes in place (payload set, with the
 * checksums fixed up) and meta mark.
 */
struct fn_pkt {
	uint8_t *l2;          /* Ethernet header, NULL where none exists yet (output) */
	uint8_t *l3;
	uint32_t l3_len;
	uint16_t l4_off;      /* transport header offset from l3 (the IPv4 header
			       * length); 0 = no transport header (non-first
			       * fragment) */
	uint16_t fragoff;     /* fragment offset in bytes (meta l4proto still
			       * works on non-first fragments, payload th does not) */
	uint8_t l4proto;      /* IPPROTO_* from the IPv4 header */
	uint8_t pkttype;      /* enum fn_pkttype */
	uint32_t mark;        /* meta mark, in and out */
	uint32_t iif, oif;    /* interface index (ours is 1 per logical port), 0 = none */
	const char *iifname;  /* NUL padded to 16 bytes, or NULL */
	const char *oifname;
	uint16_t cpu;         /* queue id, for meta cpu */
	uint8_t flags;        /* FN_PKT_F_* */
	uint32_t ct;          /* what conntrack attached to the packet, as the
			       * kernel's skb->_nfct (its flow and state, or
			       * invalid): 0 for a new packet; the filter sets
			       * it at prerouting/output and needs it back at
			       * input/postrouting for the same packet */
	/* What the kernel part of the rules (fragnetd's XDP program) already
	 * judged of a received packet, and with which generation: see
	 * struct fn_kernel_judged. Zero: nothing. */
	const struct fn_kernel_judged *kernel;
};

/*
 * Where the kernel part stopped (xdp/meta.h, as the library's AF_XDP port
 * read it): `hook` FN_HOOK_PREROUTING or FN_HOOK_INPUT, the base chain index
 * within it and the global rule index to resume at; or done, both hooks
 * judged. `generation` is fragnetd's number of the rules it used: the
 * application must resume with the same ones.
 */
struct fn_kernel_judged {
	uint64_t generation;
	uint32_t rule;
	uint8_t hook;
	uint8_t chain;
	bool done;
};

/* fn_pkt.flags */
#define FN_PKT_F_L4_CSUM_OK 0x1   /* the UDP/ICMP checksum was verified (by
				   * the NIC): conntrack need not check it */
#define FN_PKT_F_CSUM_PARTIAL 0x2 /* the UDP checksum field holds only the
				   * pseudo-header sum (transmit offload), as
				   * the kernel's CHECKSUM_PARTIAL */

/* What a hook decided. */
enum fn_verdict {
	FN_ACCEPT = 0,
	FN_DROP,
	FN_REJECT_PORT_UNREACH,  /* drop and answer ICMP port unreachable */
	FN_REJECT_ADMIN_PROHIB,  /* drop and answer ICMP admin prohibited */
	FN_REJECT_NET_UNREACH,
	FN_REJECT_HOST_UNREACH,
	FN_REJECT_PROT_UNREACH,
	FN_REJECT_NET_PROHIB,    /* ICMP code 9, network administratively prohibited */
	FN_REJECT_HOST_PROHIB,   /* ICMP code 10, host administratively prohibited */
};
#define FN_REJECT_FIRST FN_REJECT_PORT_UNREACH
#define FN_REJECT_LAST FN_REJECT_HOST_PROHIB

/* The result of running one hook, and who gave it. */
struct fn_nft_decision {
	enum fn_verdict verdict;
	uint64_t rule_handle;  /* deciding rule, 0 = a chain policy */
	uint32_t chain;        /* chain index where it was decided */
};

#endif /* FN_NFT_PACKET_H */
