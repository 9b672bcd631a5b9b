/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>

#include <rte_byteorder.h>
#include <rte_errno.h>
#include <rte_ip.h>
#include <rte_malloc.h>

#include "reasm.h"
#include "runtime/runtime.h"

/* Where a held fragment's payload sits in the datagram, kept in the mbuf. */
#define FRAG_OFF(m) ((m)->hash.fdir.lo)
#define FRAG_LEN(m) ((m)->hash.fdir.hi)

struct datagram {
	uint32_t src, dst;
	uint16_t id;
	uint8_t proto;
	uint8_t used;
	uint16_t n;              /* fragments held */
	uint32_t total;          /* payload length, known once the last arrived */
	uint32_t have;           /* payload bytes held */
	uint32_t mem;
	uint64_t expires;
	struct rte_mbuf *head;   /* sorted by FRAG_OFF, linked through ->next */
};

struct fn_reasm {
	uint32_t mem, mem_limit, src_mem_limit;
	uint32_t handed;         /* of datagrams handed off, not yet taken: the
				  * owners take them, so atomic */
	uint64_t timeout;
	unsigned pending;
	struct datagram d[FN_REASM_DATAGRAMS];
};

int fn_reasm_meta_offset = -1;

struct fn_reasm *fn_reasm_create(int socket, uint32_t mem_limit, uint64_t timeout_ticks)
{
	static const struct rte_mbuf_dynfield meta = {
		.name = "fragnet_frag_meta",
		.size = sizeof(struct fn_frag_meta),
		.align = __alignof__(struct fn_frag_meta),
	};
	struct fn_reasm *r;
	int off = rte_mbuf_dynfield_register(&meta);   /* the same offset every time */

	if (off < 0) {
		errno = rte_errno;
		return NULL;
	}
	fn_reasm_meta_offset = off;
	r = rte_zmalloc_socket("fn_reasm", sizeof(*r), RTE_CACHE_LINE_SIZE, socket);
	if (r == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	r->mem_limit = mem_limit;
	r->src_mem_limit = mem_limit / FN_REASM_SHARE;
	r->timeout = timeout_ticks;
	return r;
}

static void release(struct fn_reasm *r, struct datagram *d)
{
	struct rte_mbuf *m = d->head, *next;

	for (; m != NULL; m = next) {
		next = m->next;
		m->next = NULL;
		m->nb_segs = 1;
		m->pkt_len = m->data_len;
		rte_pktmbuf_free(m);
	}
	r->mem -= d->mem;
	r->pending--;
	d->used = 0;
	d->head = NULL;
}

/* What it holds: the fragments of datagrams in progress, and the
 * datagrams handed off that their owners have not taken yet. */
static uint32_t held(const struct fn_reasm *r)
{
	return r->mem + __atomic_load_n(&r->handed, __ATOMIC_RELAXED);
}

/* Drop a whole datagram, counting each fragment under `reason`. */
static void discard(struct fn_queue *q, struct datagram *d, unsigned reason)
{
	q->stats.drops[reason] += d->n;
	release(q->reasm, d);
}

void fn_reasm_free(struct fn_reasm *r)
{
	if (r == NULL)
		return;
	for (unsigned i = 0; i < FN_REASM_DATAGRAMS; i++)
		if (r->d[i].used)
			release(r, &r->d[i]);
	rte_free(r);
}

uint32_t fn_reasm_mem(const struct fn_reasm *r)
{
	return held(r);
}

unsigned fn_reasm_pending(const struct fn_reasm *r)
{
	return r->pending;
}

static struct datagram *oldest(struct fn_reasm *r, const struct datagram *except)
{
	struct datagram *o = NULL;

	for (unsigned i = 0; i < FN_REASM_DATAGRAMS; i++) {
		struct datagram *d = &r->d[i];

		if (d->used && d != except && (o == NULL || d->expires < o->expires))
			o = d;
	}
	return o;
}

/* Bytes held for datagrams from src, and the oldest of them but `except`. */
static uint32_t held_by(struct fn_reasm *r, uint32_t src, const struct datagram *except,
			struct datagram **oldest_own)
{
	uint32_t mem = 0;

	*oldest_own = NULL;
	for (unsigned i = 0; i < FN_REASM_DATAGRAMS; i++) {
		struct datagram *d = &r->d[i];

		if (!d->used || d->src != src)
			continue;
		mem += d->mem;
		if (d != except && (*oldest_own == NULL || d->expires < (*oldest_own)->expires))
			*oldest_own = d;
	}
	return mem;
}

/* The datagram of this fragment, or a new one: in a free slot, else in its
 * source's oldest when the source holds its share, else in the oldest. */
static struct datagram *find_or_add(struct fn_queue *q, const struct rte_ipv4_hdr *ip)
{
	struct fn_reasm *r = q->reasm;
	struct datagram *free_slot = NULL, *oldest_own = NULL;
	unsigned own = 0;

	for (unsigned i = 0; i < FN_REASM_DATAGRAMS; i++) {
		struct datagram *d = &r->d[i];

		if (!d->used) {
			if (free_slot == NULL)
				free_slot = d;
			continue;
		}
		if (d->src != ip->src_addr)
			continue;
		if (d->id == ip->packet_id && d->dst == ip->dst_addr &&
		    d->proto == ip->next_proto_id)
			return d;
		own++;
		if (oldest_own == NULL || d->expires < oldest_own->expires)
			oldest_own = d;
	}
	if (own >= FN_REASM_DATAGRAMS / FN_REASM_SHARE) {
		free_slot = oldest_own;
		discard(q, free_slot, FRAGNET_DROP_FRAG_QUOTA);
	} else if (free_slot == NULL) {
		free_slot = oldest(r, NULL);
		discard(q, free_slot, FRAGNET_DROP_FRAG_NOMEM);
	}
	*free_slot = (struct datagram){
		.src = ip->src_addr, .dst = ip->dst_addr, .id = ip->packet_id,
		.proto = ip->next_proto_id, .used = 1,
		.expires = q->clk.now + r->timeout,
	};
	r->pending++;
	return free_slot;
}

void fn_reasm_hand_off(struct fn_queue *q, struct rte_mbuf *chain)
{
	struct fn_frag_meta *meta = fn_reasm_meta(chain);

	meta->from = (uint8_t)q->qid;
	__atomic_fetch_add(&q->reasm->handed, meta->mem, __ATOMIC_RELAXED);
}

void fn_reasm_taken(struct fragnet *fn, struct rte_mbuf *chain)
{
	const struct fn_frag_meta *meta = fn_reasm_meta(chain);

	__atomic_fetch_sub(&fn->queues[meta->from]->reasm->handed, meta->mem,
			   __ATOMIC_RELAXED);
}

/* Turn the sorted list into one segment chain for delivery. */
static struct rte_mbuf *chain_up(struct fn_reasm *r, struct datagram *d)
{
	struct rte_mbuf *head = d->head, *m;
	const struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(head, const struct rte_ipv4_hdr *);

	fn_reasm_meta(head)->mem = d->mem;
	head->pkt_len = rte_ipv4_hdr_len(ip) + FRAG_LEN(head);
	head->nb_segs = d->n;
	for (m = head->next; m != NULL; m = m->next) {
		rte_pktmbuf_adj(m, m->data_len - FRAG_LEN(m));   /* its IPv4 header */
		head->pkt_len += m->data_len;
	}
	r->mem -= d->mem;
	r->pending--;
	d->used = 0;
	d->head = NULL;
	return head;
}

struct rte_mbuf *fn_reasm_add(struct fn_queue *q, struct rte_mbuf *m)
{
	struct fn_reasm *r = q->reasm;
	const struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(m, const struct rte_ipv4_hdr *);
	uint16_t frag = rte_be_to_cpu_16(ip->fragment_offset);
	uint32_t ihl = rte_ipv4_hdr_len(ip);
	uint32_t off = (frag & RTE_IPV4_HDR_OFFSET_MASK) * 8;
	uint32_t len = m->data_len - ihl;
	uint32_t end = off + len;
	bool last = !(frag & RTE_IPV4_HDR_MF_FLAG);
	struct rte_mbuf **link;
	struct datagram *d;

	/* Every fragment but the last carries a multiple of 8 bytes, and the
	 * whole must fit in one IPv4 datagram. */
	if (len == 0 || (!last && (len & 7)) || ihl + end > UINT16_MAX) {
		FN_DROP(&q->stats, FRAG_MALFORMED);
		rte_pktmbuf_free(m);
		return NULL;
	}
	d = find_or_add(q, ip);
	if ((last && d->total && d->total != end) || (d->total && end > d->total) ||
	    (last && d->head && end < FRAG_OFF(rte_pktmbuf_lastseg(d->head)) +
				  FRAG_LEN(rte_pktmbuf_lastseg(d->head))))
		goto overlap;   /* contradicts what we know of the datagram's end */

	/* Find the place in offset order; refuse overlaps. */
	for (link = &d->head; *link != NULL; link = &(*link)->next) {
		struct rte_mbuf *cur = *link;

		if (FRAG_OFF(cur) == off && FRAG_LEN(cur) == len) {
			FN_DROP(&q->stats, FRAG_DUPLICATE);
			rte_pktmbuf_free(m);
			return NULL;
		}
		if (FRAG_OFF(cur) >= end)
			break;
		if (FRAG_OFF(cur) + FRAG_LEN(cur) > off)
			goto overlap;
	}
	if (d->n == FN_REASM_FRAGMENTS)
		goto nomem;

	FRAG_OFF(m) = off;
	FRAG_LEN(m) = len;
	m->next = *link;
	*link = m;
	d->n++;
	d->have += len;
	d->mem += m->buf_len;
	r->mem += m->buf_len;
	if (last)
		d->total = end;

	/* A source over its share of memory pays with its own oldest
	 * datagrams, or with this one when it alone is too much. */
	while (r->mem > r->src_mem_limit) {
		struct datagram *own;

		if (held_by(r, d->src, d, &own) <= r->src_mem_limit)
			break;
		if (own == NULL) {
			discard(q, d, FRAGNET_DROP_FRAG_QUOTA);
			return NULL;
		}
		discard(q, own, FRAGNET_DROP_FRAG_QUOTA);
	}
	/* Over the memory bound: the oldest datagrams go first. */
	while (held(r) > r->mem_limit) {
		struct datagram *o = oldest(r, d);

		if (o == NULL)
			goto nomem_held;
		discard(q, o, FRAGNET_DROP_FRAG_NOMEM);
	}

	/* No overlaps, so all bytes present means complete. Each fragment fit
	 * in 64 KiB with its own header; the whole must with the first's, or
	 * its total length would wrap (Linux: "oversized"). */
	if (d->total && d->have == d->total && FRAG_OFF(d->head) == 0) {
		const struct rte_ipv4_hdr *first = rte_pktmbuf_mtod(d->head,
								     const struct rte_ipv4_hdr *);

		if (rte_ipv4_hdr_len(first) + d->total > UINT16_MAX) {
			discard(q, d, FRAGNET_DROP_FRAG_MALFORMED);
			return NULL;
		}
		return chain_up(r, d);
	}
	return NULL;

overlap:
	FN_DROP(&q->stats, FRAG_MALFORMED);
	rte_pktmbuf_free(m);
	discard(q, d, FRAGNET_DROP_FRAG_MALFORMED);
	return NULL;
nomem:
	FN_DROP(&q->stats, FRAG_NOMEM);
	rte_pktmbuf_free(m);
nomem_held:
	discard(q, d, FRAGNET_DROP_FRAG_NOMEM);
	return NULL;
}

void fn_reasm_expire(struct fn_queue *q)
{
	struct fn_reasm *r = q->reasm;

	if (r->pending == 0)
		return;
	for (unsigned i = 0; i < FN_REASM_DATAGRAMS; i++) {
		struct datagram *d = &r->d[i];

		if (d->used && q->clk.now >= d->expires)
			discard(q, d, FRAGNET_DROP_FRAG_TIMEOUT);
	}
}
