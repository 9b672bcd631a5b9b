/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IPv4 reassembly, per queue. Fragments of a datagram are kept as a list of
 * mbufs sorted by offset; memory held is bounded per queue and a datagram
 * that does not complete within FN_REASM_TIMEOUT_S is dropped. Like Linux, an
 * exact duplicate fragment is ignored while an overlapping one discards the
 * whole datagram (overlaps are how filters get evaded).
 *
 * One source may hold at most 1/FN_REASM_SHARE of the datagrams in progress
 * and of the memory; beyond that it pushes out its own oldest datagrams
 * (counted as frag_quota), so a host sending first fragments that never
 * complete cannot push out the datagrams of others.
 */
#ifndef FN_REASM_H
#define FN_REASM_H

#include <stdint.h>

#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>

struct fn_queue;
struct fragnet;
struct fn_reasm;

#define FN_REASM_TIMEOUT_S 30          /* Linux ipfrag_time */
#define FN_REASM_MEM (4u << 20)        /* most bytes of mbufs held (ipfrag_high_thresh) */
#define FN_REASM_MBUFS 1024            /* kept for reassembly in the pool, per queue */
#define FN_REASM_DATAGRAMS 64          /* in progress at once, per queue */
#define FN_REASM_FRAGMENTS 128         /* per datagram: 64 KB in 552-byte pieces */
#define FN_REASM_SHARE 4               /* a source holds 1/4 of datagrams and memory */

/*
 * What a fragment brought besides its bytes: the meta mark prerouting gave
 * it, and whether it came to us alone or as a broadcast (at the link or
 * the IP layer). The reassembled datagram keeps its first fragment's, as
 * the kernel's reassembled skb keeps the head's; they travel on the mbuf
 * because a datagram may be handed to another queue. A dynamic mbuf field,
 * registered by fn_reasm_create.
 */
struct fn_frag_meta {
	uint32_t mark;
	uint8_t pkttype;           /* FN_PKT_* */
	/* a reassembled datagram's (on its first mbuf) */
	uint8_t from;              /* the queue that reassembled it */
	uint32_t mem;              /* bytes of mbufs it holds */
};

extern int fn_reasm_meta_offset;

static inline struct fn_frag_meta *fn_reasm_meta(struct rte_mbuf *m)
{
	return RTE_MBUF_DYNFIELD(m, fn_reasm_meta_offset, struct fn_frag_meta *);
}

/*
 * A reassembled datagram whose flow another queue owns waits in that
 * queue's handoff ring; what it holds still counts against the reassembly
 * memory of the queue that completed it until the owner takes it, so a
 * queue that does not poll (a slow callback, an application's own pace)
 * cannot make reassembly hold more of the pool than its bound.
 * fn_reasm_hand_off() before the enqueue, fn_reasm_taken() by the owner
 * when it dequeues (or by the sender when the enqueue fails).
 */
void fn_reasm_hand_off(struct fn_queue *q, struct rte_mbuf *chain);
void fn_reasm_taken(struct fragnet *fn, struct rte_mbuf *chain);

/* mem_limit: bytes of mbufs (buf_len) held at most, all sources together.
 * NULL + errno. */
struct fn_reasm *fn_reasm_create(int socket, uint32_t mem_limit, uint64_t timeout_ticks);
void fn_reasm_free(struct fn_reasm *r);

/*
 * Add a fragment (m->data at its IPv4 header, validated, trimmed to its total
 * length). Takes m. Returns the completed datagram as a segment chain (first
 * segment from the IPv4 header, the others payload only), or NULL.
 */
struct rte_mbuf *fn_reasm_add(struct fn_queue *q, struct rte_mbuf *m);

/* Drop datagrams that timed out (counted per fragment). */
void fn_reasm_expire(struct fn_queue *q);

/* Bytes of mbufs held, handed-off datagrams not yet taken included, and
 * datagrams in progress (tests, stats). */
uint32_t fn_reasm_mem(const struct fn_reasm *r);
unsigned fn_reasm_pending(const struct fn_reasm *r);

#endif /* FN_REASM_H */
