/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The seam between the stack and the nftables interpreter: the four hook
 * points, and the view of a packet the interpreter gets at each of them.
 *
 * The stack calls fn_filter_hook() at prerouting, input, output and
 * postrouting. Everything behind it (rules image, per-queue counters, limit
 * buckets, conntrack) lives in lib/nft/ and is reached only through here.
 */
#ifndef FN_FILTER_H
#define FN_FILTER_H

#include <stdbool.h>
#include <stdint.h>

#include "fn_build_config.h"

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
};

/*
 * Per-queue filter state, embedded in each queue. Owned by lib/nft/: the stack
 * only passes it to the hooks. `hooks` has bit (1 << hook) set when the
 * current generation has base chains on that hook, so an empty hook costs one
 * load and a branch.
 */
struct fn_filter_queue {
	uint32_t hooks;
	bool defrag_first;    /* prerouting sees reassembled datagrams (the kernel
			       * defragments before prerouting once conntrack is
			       * in use) */
	uint16_t qid;
	uint64_t generation;  /* generation this queue applies (0: none) */
	void *priv;           /* interpreter state for this queue */
};

/*
 * Process-wide rules: the current generation (a verified, read-only image),
 * the per-queue states, and the deferred release of old generations (an old
 * image is released only after every queue has started a new burst).
 */
struct fn_rules;

#if FN_WITH_FILTER
/* NULL + errno (ENOMEM). */
struct fn_rules *fn_rules_create(unsigned n_queues);
void fn_rules_destroy(struct fn_rules *r);
/* Bind queue qid's state to the process rules; before the queue first runs. */
void fn_rules_queue_attach(struct fn_rules *r, struct fn_filter_queue *fq, unsigned qid);
/*
 * Verify an image and make it the current generation. Queues switch at their
 * next burst. release(arg) runs once no queue can still use the image (from
 * whichever thread notices). On error the previous generation stays active:
 *  -EBADMSG the image failed verification
 *  -ENOMEM
 */
int fn_rules_install(struct fn_rules *r, const void *image, size_t len,
		     void (*release)(void *arg), void *arg);
/* Install an image read from a file (tests, and before a daemon is wired up). */
int fn_rules_load_file(struct fn_rules *r, const char *path);
/* Called by the stack at the start of every burst: switches to a newly
 * installed generation and reports that this queue holds no old pointer. */
void fn_filter_burst_begin(struct fn_filter_queue *fq);
/* Called by the stack when a queue stops polling for a while (before an
 * idle sleep, when fragnet_run() returns): old generations are no longer
 * held back by it. Its next fn_filter_burst_begin() brings it back. */
void fn_filter_queue_offline(struct fn_filter_queue *fq);
#else
static inline void fn_filter_burst_begin(struct fn_filter_queue *fq) { (void)fq; }
static inline void fn_filter_queue_offline(struct fn_filter_queue *fq) { (void)fq; }
#endif

#if FN_WITH_FILTER
/* Run the base chains of `hook` of this queue's current generation. */
enum fn_verdict fn_filter_run(struct fn_filter_queue *fq, enum fn_hook hook,
			      struct fn_pkt *pkt);

static inline enum fn_verdict
fn_filter_hook(struct fn_filter_queue *fq, enum fn_hook hook, struct fn_pkt *pkt)
{
	if (!(fq->hooks & (1u << hook)))
		return FN_ACCEPT;
	return fn_filter_run(fq, hook, pkt);
}
#else
static inline enum fn_verdict
fn_filter_hook(struct fn_filter_queue *fq, enum fn_hook hook, struct fn_pkt *pkt)
{
	(void)fq; (void)hook; (void)pkt;
	return FN_ACCEPT;
}
#endif

#endif /* FN_FILTER_H */
