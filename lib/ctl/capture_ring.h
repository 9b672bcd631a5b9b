/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The capture rings: what `fragnetctl capture` reads and an application's
 * lcores write, in one shared memfd that fragnetd creates and hands to both
 * (proto.h, FN_CTL_CAPTURE).
 *
 * One ring per queue, each a single-producer single-consumer ring of
 * fixed-size slots: the queue's lcore is the only producer, fragnetctl the
 * only consumer. The producer never waits and makes no system call: when the
 * ring is full it drops the record and counts it (dropped). A slot is a
 * struct fn_cap_rec and up to snaplen bytes of the packet from its IPv4
 * header on.
 *
 * Neither side trusts the other: the geometry comes from fragnetd's message,
 * never from the shared memory; the producer keeps its own head and treats
 * a tail it cannot make sense of as a full ring; the consumer checks every
 * record (fn_cap_rec_valid()) and the head it reads.
 *
 *   memfd: ring 0 | ring 1 | ... ; ring: struct fn_cap_ring, then n_slots slots
 */
#ifndef FN_CTL_CAPTURE_RING_H
#define FN_CTL_CAPTURE_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FN_CAP_RING_BYTES_DEFAULT (4u << 20)  /* all queues together */
#define FN_CAP_RING_BYTES_MIN 4096u
#define FN_CAP_RING_BYTES_MAX (64u << 20)
#define FN_CAP_SNAPLEN_DEFAULT 256u
#define FN_CAP_SNAPLEN_MAX 65535u
#define FN_CAP_CHAIN_MAX 32                  /* chain name kept, NUL included */
#define FN_CAP_MAX_QUEUES 128

/* Indices of the ring's three words, each on its own cache line. */
struct fn_cap_ring {
	uint64_t head;             /* records written (producer) */
	uint8_t pad0[56];
	uint64_t tail;             /* records read (consumer) */
	uint8_t pad1[56];
	uint64_t dropped;          /* records the full ring refused (producer) */
	uint8_t pad2[56];
};

enum fn_cap_dir {
	FN_CAP_IN = 0,             /* received: as the input hooks left it */
	FN_CAP_OUT = 1,            /* sent: as the output hooks left it */
};

/* One record: its header, then cap_len bytes of the packet. */
struct fn_cap_rec {
	uint64_t ts_ns;            /* CLOCK_REALTIME, ns */
	uint64_t rule_handle;      /* the rule whose verdict decided, 0: none (a
				    * chain policy, or no rule on the way) */
	uint64_t generation;       /* the library's generation that judged */
	uint32_t orig_len;         /* the IPv4 datagram's length */
	uint16_t cap_len;          /* bytes of it that follow */
	uint16_t queue;
	uint8_t dir;               /* enum fn_cap_dir */
	uint8_t verdict;           /* enum fn_verdict (nft/packet.h) */
	uint8_t hook;              /* enum fn_hook that decided, FN_CAP_NO_HOOK: none */
	uint8_t pad[5];
	char chain[FN_CAP_CHAIN_MAX]; /* the chain that decided, "" when none */
};

#define FN_CAP_NO_HOOK 0xff

/* Where everything is, from fragnetd's numbers. */
struct fn_cap_geometry {
	uint32_t n_queues;
	uint32_t n_slots;          /* per ring, a power of two */
	uint32_t slot_size;        /* header and snaplen, 8-byte aligned */
	uint32_t snaplen;
	size_t ring_size;          /* struct fn_cap_ring and its slots */
	size_t total;              /* the memfd's size */
};

/*
 * The geometry for n_queues rings in about ring_bytes in all. 0, or -EINVAL
 * when the numbers are out of range (or leave fewer than 2 slots a ring).
 */
int fn_cap_geometry(uint32_t n_queues, uint32_t ring_bytes, uint32_t snaplen,
		    struct fn_cap_geometry *g);

/* Check a geometry (the same rules). 0 or -EINVAL. */
int fn_cap_geometry_check(const struct fn_cap_geometry *g);
/* The geometry of rings of n_slots each, as a message gives them: filled in
 * and checked. 0 or -EINVAL. */
int fn_cap_geometry_of(uint32_t n_queues, uint32_t n_slots, uint32_t snaplen,
		       struct fn_cap_geometry *g);

static inline struct fn_cap_ring *fn_cap_ring_at(void *base, const struct fn_cap_geometry *g,
						 unsigned queue)
{
	return (struct fn_cap_ring *)((uint8_t *)base + (size_t)queue * g->ring_size);
}

static inline struct fn_cap_rec *fn_cap_slot(struct fn_cap_ring *r,
					      const struct fn_cap_geometry *g, uint64_t index)
{
	return (struct fn_cap_rec *)((uint8_t *)(r + 1) +
				     (size_t)(index & (g->n_slots - 1)) * g->slot_size);
}

/* The producer's side of one ring: its own head, never read back. */
struct fn_cap_producer {
	struct fn_cap_ring *ring;
	struct fn_cap_geometry g;
	uint64_t head;
	uint64_t dropped;
};

/*
 * A slot to fill, or NULL when the ring is full (the drop is counted).
 * Then fill it and fn_cap_commit(). No waiting, no system call.
 */
static inline struct fn_cap_rec *fn_cap_reserve(struct fn_cap_producer *p)
{
	uint64_t tail = __atomic_load_n(&p->ring->tail, __ATOMIC_ACQUIRE);

	/* a consumer's tail beyond our head wraps to a huge count: full */
	if (p->head - tail >= p->g.n_slots) {
		uint64_t dropped = p->dropped + 1;

		__atomic_store_n(&p->dropped, dropped, __ATOMIC_RELAXED);
		__atomic_store_n(&p->ring->dropped, dropped, __ATOMIC_RELAXED);
		return NULL;
	}
	return fn_cap_slot(p->ring, &p->g, p->head);
}

static inline void fn_cap_commit(struct fn_cap_producer *p)
{
	__atomic_store_n(&p->ring->head, ++p->head, __ATOMIC_RELEASE);
}

/*
 * The consumer: records available in ring r from *tail on (at most
 * n_slots), or -EBADMSG when the producer's head makes no sense.
 */
int64_t fn_cap_available(const struct fn_cap_ring *r, const struct fn_cap_geometry *g,
			 uint64_t tail);
/* Give back the slots before tail. */
static inline void fn_cap_release(struct fn_cap_ring *r, uint64_t tail)
{
	__atomic_store_n(&r->tail, tail, __ATOMIC_RELEASE);
}
/* Whether a record read from a slot is one the consumer may use. */
bool fn_cap_rec_valid(const struct fn_cap_rec *rec, const struct fn_cap_geometry *g);

#endif /* FN_CTL_CAPTURE_RING_H */
