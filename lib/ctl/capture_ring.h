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
 * A trace (`fragnetctl trace`) uses the same rings, with larger slots: each
 * record is a trace record, the rules the packet went through on the hooks
 * of its direction (FN_CAP_TRACE_EVENTS events, of which n_events are used)
 * between the header and the packet.
 *
 *   memfd: ring 0 | ring 1 | ... ; ring: struct fn_cap_ring, then n_slots slots
 *   slot:  struct fn_cap_rec [struct fn_cap_trace_ev[FN_CAP_TRACE_EVENTS]] packet
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
#define FN_CAP_TRACE_EVENTS 64               /* a trace record's events: two hooks
					      * of FN_TRACE_MAX_EVENTS (nft/trace.h) */

/* What a capture records: every judged packet, or for each packet that
 * matches the filter, the rules it went through. */
enum fn_cap_mode {
	FN_CAP_MODE_CAPTURE = 0,
	FN_CAP_MODE_TRACE = 1,
};

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
	uint8_t kind;              /* enum fn_cap_mode: a packet, or a trace */
	uint8_t n_events;          /* trace: events that follow, at most
				    * FN_CAP_TRACE_EVENTS; 0 for a packet */
	uint8_t pad;
	uint16_t lost;             /* trace: events that did not fit (saturating) */
	char chain[FN_CAP_CHAIN_MAX]; /* the chain that decided, "" when none */
};

#define FN_CAP_NO_HOOK 0xff

/* One event of a trace record: nft/trace.h's struct fn_trace_ev with the
 * chains named. */
struct fn_cap_trace_ev {
	uint64_t handle;           /* the rule's, 0 for other kinds */
	int8_t verdict;            /* enum fn_img_verdict */
	uint8_t hook;              /* enum fn_hook */
	uint8_t kind;              /* enum fn_trace_kind */
	uint8_t reject;            /* a reject's enum fn_verdict, else 0 */
	uint8_t pad[4];
	char chain[FN_CAP_CHAIN_MAX];  /* "" for a conntrack drop */
	char target[FN_CAP_CHAIN_MAX]; /* jump/goto: the chain entered, else "" */
};

/* The bounds a consumer checks an event against, those of nft/packet.h,
 * image.h and trace.h (the lcore side asserts they agree). */
#define FN_CAP_TRACE_HOOKS 5       /* FN_HOOK_MAX */
#define FN_CAP_TRACE_KINDS 4       /* FN_TRACE_KIND_MAX */
#define FN_CAP_TRACE_VERDICT_MIN (-5) /* FN_V_RETURN */
#define FN_CAP_TRACE_VERDICT_MAX 1 /* FN_V_ACCEPT */
#define FN_CAP_TRACE_REJECT_MAX 8  /* FN_REJECT_LAST */

/* Where everything is, from fragnetd's numbers. */
struct fn_cap_geometry {
	uint32_t n_queues;
	uint32_t n_slots;          /* per ring, a power of two */
	uint32_t slot_size;        /* header and snaplen, 8-byte aligned */
	uint32_t snaplen;
	uint32_t mode;             /* enum fn_cap_mode */
	size_t ring_size;          /* struct fn_cap_ring and its slots */
	size_t total;              /* the memfd's size */
};

/*
 * The geometry for n_queues rings in about ring_bytes in all, of records of
 * `mode`. 0, or -EINVAL when the numbers are out of range (or leave fewer
 * than 2 slots a ring).
 */
int fn_cap_geometry(uint32_t n_queues, uint32_t ring_bytes, uint32_t snaplen,
		    enum fn_cap_mode mode, struct fn_cap_geometry *g);

/* Check a geometry (the same rules). 0 or -EINVAL. */
int fn_cap_geometry_check(const struct fn_cap_geometry *g);
/* The geometry of rings of n_slots each, as a message gives them: filled in
 * and checked. 0 or -EINVAL. */
int fn_cap_geometry_of(uint32_t n_queues, uint32_t n_slots, uint32_t snaplen,
		       uint32_t mode, struct fn_cap_geometry *g);

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

/* Where a slot's packet bytes start; a trace record's events start right
 * after its header (sizeof(struct fn_cap_rec)). */
static inline size_t fn_cap_data_off(const struct fn_cap_geometry *g)
{
	return sizeof(struct fn_cap_rec) +
	       (g->mode == FN_CAP_MODE_TRACE ? FN_CAP_TRACE_EVENTS * sizeof(struct fn_cap_trace_ev) : 0);
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
/* Whether a record's header, copied from a slot, is one the consumer may
 * use (its kind the ring's, its counts in bounds). */
bool fn_cap_rec_valid(const struct fn_cap_rec *rec, const struct fn_cap_geometry *g);
/* Whether a trace event, copied from a slot, is one the consumer may use. */
bool fn_cap_trace_ev_valid(const struct fn_cap_trace_ev *ev);

#endif /* FN_CTL_CAPTURE_RING_H */
