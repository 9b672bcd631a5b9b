/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Per-queue connection tracking for the ct expressions: UDP, ICMP (echo,
 * timestamp, info, address mask; errors are "related" to the flow they
 * quote) and, for other protocols, the kernel's generic tracker.
 *
 * It reproduces the kernel's observable behaviour:
 *  - conntrack looks a packet up at priority -200 of prerouting (received)
 *    and output (sent): chains before that see no flow (state invalid);
 *  - what conntrack decided for a packet travels in fn_pkt.ct to input or
 *    postrouting, which read it back (the kernel's skb->_nfct): a packet
 *    invalid at prerouting is invalid at input, even on a known flow;
 *  - a new flow is only inserted ("confirmed") when the packet leaves the
 *    last hook (input or postrouting) accepted; until then it is pending;
 *  - state new until a reply has been seen, then established; replies and
 *    later packets are established; ICMP errors about a flow are related;
 *  - timeouts as the kernel's defaults: UDP 30 s, 120 s once it has been a
 *    stream for 2 s (then it is assured); ICMP 30 s; other protocols 600 s;
 *  - a full table makes room as the kernel's early drop does: a new flow
 *    pushes out an expired or unassured flow chained near its own bucket,
 *    or is dropped; assured flows stay;
 *  - accounting always on (the kernel's nf_conntrack_acct=1): packets and
 *    IP bytes per direction, counted in conntrack's hook for each packet
 *    the tracker accepts (not invalid ones, not related ICMP errors);
 *  - UDP/ICMP length checks, and checksum checks at prerouting (unless the
 *    NIC verified it: FN_PKT_F_L4_CSUM_OK), make a packet invalid; such a
 *    packet changes nothing in its flow.
 *
 * A flow stays on one queue because RSS sends both directions there (the
 * stack chooses source ports so that it does); the table needs no locks.
 * It does not depend on the rules generation: flows survive rule changes.
 */
#ifndef FN_NFT_CONNTRACK_H
#define FN_NFT_CONNTRACK_H

#include <stdbool.h>
#include <stdint.h>

#include "nft.h"

#define FN_CT_DEFAULT_CAPACITY 65536

/* IPS_* status bits we maintain. */
#define FN_IPS_SEEN_REPLY 0x2u
#define FN_IPS_ASSURED 0x4u
#define FN_IPS_CONFIRMED 0x8u

/* NFT ct state bits. */
#define FN_CT_STATE_INVALID 0x1u
#define FN_CT_STATE_ESTABLISHED 0x2u
#define FN_CT_STATE_RELATED 0x4u
#define FN_CT_STATE_NEW 0x8u

/* NULL + errno ENOMEM, or EINVAL for a capacity of 0 or over 2^27.
 * capacity: most flows at once. When full, a new flow takes the place of an
 * expired or unassured flow near its bucket, or is dropped when there is
 * none (the kernel's early drop). */
struct fn_ct_table *fn_ct_table_new(unsigned capacity);
void fn_ct_table_free(struct fn_ct_table *t);
unsigned fn_ct_count(const struct fn_ct_table *t);
/* Entries looked at so far by lookups, sweeps and evictions: the table's
 * work, which tests bound per packet. */
uint64_t fn_ct_examined(const struct fn_ct_table *t);

/* Conntrack's own hook step (prerouting/output): look up, update, or start
 * a pending flow. false: the packet must be dropped (table full of flows
 * that may not be pushed out). */
bool fn_ct_in(struct fn_nft_ctx *c);
/* End of input/postrouting, packet accepted: insert its pending flow. */
void fn_ct_confirm(struct fn_nft_ctx *c);
/* The packet's flow for ct expressions (looked up on first use). */
const struct fn_ct_view *fn_ct_get(struct fn_nft_ctx *c);
/* A flow's tuple in direction dir (0 original, 1 reply) from its original
 * tuple, as the kernel keeps both (without NAT, one is the other inverted). */
void fn_ct_tuple_dir(const struct fn_ct_tuple *orig, unsigned dir, struct fn_ct_tuple *out);
/* ct count: whether conntrack has a live flow with tuple k (either
 * direction), as nf_conntrack_find_get(). */
bool fn_ct_alive(struct fn_nft_ctx *c, const struct fn_ct_tuple *k);
/* The packet's own tuple, for a packet without a flow (the kernel's
 * nf_ct_get_tuplepr()); false when it has none (no ports to read). */
bool fn_ct_packet_tuple(const struct fn_nft_ctx *c, struct fn_ct_tuple *k);
/* Forget expired flows, looking at up to `budget` slots. */
void fn_ct_gc(struct fn_ct_table *t, uint64_t now, unsigned budget);

#endif /* FN_NFT_CONNTRACK_H */
