/* SPDX-License-Identifier: BSD-3-Clause */
#include <assert.h>
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include <rte_malloc.h>
#include <rte_random.h>
#include <rte_spinlock.h>

#include "neigh.h"

/* The word: the MAC in the low 48 bits, then what the entry is. */
#define W_MAC ((1ull << 48) - 1)
#define W_VALID (1ull << 48)            /* a MAC is known */
#define W_KIND_SHIFT 49                 /* enum kind, 2 bits */
#define W_PROBES_SHIFT 51               /* probes unanswered, 2 bits */
#define W_PROBE_ONE (1ull << W_PROBES_SHIFT)

_Static_assert(FN_NEIGH_PROBES < 4, "probes counted in 2 bits");

/* Who may push an entry out (see neigh.h). */
enum kind { UNSOLICITED, SOLICITED, STATIC };

#define KEY_ADDR(k) ((uint32_t)(k))
#define KEY_GEN(k) ((k) >> 32)

struct neigh_bucket {
	uint64_t key[FN_NEIGH_WAYS];        /* address | generation << 32; address 0: free */
	uint64_t word[FN_NEIGH_WAYS];
	uint64_t confirmed[FN_NEIGH_WAYS];  /* ticks; being resolved: the last request */
	uint64_t next_probe[FN_NEIGH_WAYS]; /* ticks; 0: not being probed */
} __rte_cache_aligned;

struct fn_neigh_table {
	uint64_t gen;                       /* bumped after every change; first:
					     * fn_neigh_gen() reads it there */
	rte_spinlock_t lock;
	uint32_t seed;                      /* strangers cannot aim at one bucket */
	uint64_t hz, reachable, unused, incomplete;   /* ticks */
	struct neigh_bucket b[FN_NEIGH_BUCKETS];
};

static inline enum kind kind_of(uint64_t w)
{
	return (enum kind)(w >> W_KIND_SHIFT & 3);
}

static inline enum kind stronger(enum kind a, enum kind b)
{
	return a > b ? a : b;
}

static inline unsigned probes_of(uint64_t w)
{
	return w >> W_PROBES_SHIFT & 3;
}

static inline uint64_t word_of(uint64_t mac, enum kind kind)
{
	return mac | W_VALID | (uint64_t)kind << W_KIND_SHIFT;
}

/* Ticks since t, never negative (another queue's clock may run ahead). */
static inline uint64_t age(uint64_t now, uint64_t t)
{
	return (int64_t)(now - t) > 0 ? now - t : 0;
}

unsigned fn_neigh_bucket(const struct fn_neigh_table *t, uint32_t addr)
{
	uint32_t h = (addr ^ t->seed) * 2654435761u;

	return (uint64_t)h * FN_NEIGH_BUCKETS >> 32;
}

static inline struct neigh_bucket *bucket_of(const struct fn_neigh_table *t, uint32_t addr)
{
	return (struct neigh_bucket *)&t->b[fn_neigh_bucket(t, addr)];
}

struct fn_neigh_table *fn_neigh_create(int socket, uint64_t hz)
{
	struct fn_neigh_table *t;

	t = rte_zmalloc_socket("fn_neigh", sizeof(*t), RTE_CACHE_LINE_SIZE, socket);
	if (t == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	rte_spinlock_init(&t->lock);
	t->seed = (uint32_t)rte_rand();
	t->hz = hz;
	t->reachable = FN_NEIGH_REACHABLE_S * hz;
	t->unused = FN_NEIGH_UNUSED_S * hz;
	t->incomplete = FN_NEIGH_INCOMPLETE_S * hz;
	return t;
}

void fn_neigh_free(struct fn_neigh_table *t)
{
	rte_free(t);
}

/* Read way i of b if it holds addr: its word and confirmation time as one
 * pair. The key, read again, says the way did not go to another address in
 * between (its generation changes when it does). */
static bool read_way(const struct neigh_bucket *b, unsigned i, uint32_t addr,
		     uint64_t *w, uint64_t *c)
{
	for (;;) {
		uint64_t k = __atomic_load_n(&b->key[i], __ATOMIC_ACQUIRE);

		if (KEY_ADDR(k) != addr)
			return false;
		*w = __atomic_load_n(&b->word[i], __ATOMIC_ACQUIRE);
		*c = __atomic_load_n(&b->confirmed[i], __ATOMIC_RELAXED);
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (__atomic_load_n(&b->key[i], __ATOMIC_RELAXED) == k)
			return true;
	}
}

static bool read_entry(const struct fn_neigh_table *t, uint32_t addr, uint64_t *w, uint64_t *c)
{
	const struct neigh_bucket *b = bucket_of(t, addr);

	for (unsigned i = 0; i < FN_NEIGH_WAYS; i++)
		if (read_way(b, i, addr, w, c))
			return true;
	return false;
}

static_assert(offsetof(struct fn_neigh_table, gen) == 0, "fn_neigh_gen() reads it first");

enum fn_neigh_state fn_neigh_get_until(const struct fn_neigh_table *t, uint32_t addr,
				       uint64_t now, struct rte_ether_addr *mac,
				       uint64_t *until)
{
	uint64_t w, c;

	if (!read_entry(t, addr, &w, &c) || !(w & W_VALID))
		return FN_NEIGH_NONE;
	memcpy(mac->addr_bytes, &w, RTE_ETHER_ADDR_LEN);
	if (kind_of(w) == STATIC) {
		*until = now + FN_NEIGH_FOREVER;
		return FN_NEIGH_REACHABLE;
	}
	*until = c + t->reachable;
	if ((int64_t)(now - c) < (int64_t)t->reachable)
		return FN_NEIGH_REACHABLE;
	return FN_NEIGH_STALE;
}

enum fn_neigh_state fn_neigh_get(const struct fn_neigh_table *t, uint32_t addr,
				 uint64_t now, struct rte_ether_addr *mac)
{
	uint64_t until;

	return fn_neigh_get_until(t, addr, now, mac, &until);
}

/* The rest runs under the lock: plain reads, atomic stores for the readers. */

/* Unlock, telling the readers' caches that entries may have changed: after
 * the changes, so that a cache filled before them sees a new generation. */
static inline void unlock_changed(struct fn_neigh_table *t)
{
	__atomic_store_n(&t->gen, t->gen + 1, __ATOMIC_RELEASE);
	rte_spinlock_unlock(&t->lock);
}

static int find_way(const struct neigh_bucket *b, uint32_t addr)
{
	for (unsigned i = 0; i < FN_NEIGH_WAYS; i++)
		if (KEY_ADDR(b->key[i]) == addr)
			return i;
	return -1;
}

static inline void store(uint64_t *p, uint64_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELAXED);
}

/* A new word for way i: what the readers see last (after confirmed). */
static inline void publish(struct neigh_bucket *b, unsigned i, uint64_t w)
{
	__atomic_store_n(&b->word[i], w, __ATOMIC_RELEASE);
}

/* Give way i to addr (0: free it). A reader of the old address sees its
 * entry, or nothing; never the new one, whose key differs. */
static void assign(struct neigh_bucket *b, unsigned i, uint32_t addr, uint64_t w,
		   uint64_t confirmed)
{
	uint64_t gen = KEY_GEN(b->key[i]) + 1;

	store(&b->word[i], 0);
	__atomic_store_n(&b->key[i], addr | gen << 32, __ATOMIC_RELEASE);
	store(&b->confirmed[i], confirmed);
	store(&b->next_probe[i], 0);
	publish(b, i, w);
}

/*
 * The way a new entry takes in b: a free one (or a resolution nobody
 * retried), else the oldest unsolicited entry, else, for a solicited
 * newcomer, the oldest solicited entry nobody has used for a while. An
 * unsolicited newcomer takes no free way once unsolicited entries hold their
 * share of the bucket. -1: none; *evicted: a live entry goes.
 */
static int make_room(const struct fn_neigh_table *t, const struct neigh_bucket *b,
		     bool solicited, uint64_t now, bool *evicted)
{
	int free_way = -1, unsol = -1, unused = -1;
	uint64_t unsol_age = 0, unused_age = 0;
	unsigned n_unsol = 0;

	for (unsigned i = 0; i < FN_NEIGH_WAYS; i++) {
		uint64_t w = b->word[i], a = age(now, b->confirmed[i]);

		if (KEY_ADDR(b->key[i]) == 0 || (!(w & W_VALID) && a > t->incomplete)) {
			free_way = i;
		} else if (!(w & W_VALID)) {
			continue;   /* being resolved */
		} else if (kind_of(w) == UNSOLICITED) {
			n_unsol++;
			if (unsol < 0 || a > unsol_age) {
				unsol = i;
				unsol_age = a;
			}
		} else if (kind_of(w) == SOLICITED && a > t->reachable + t->unused &&
			   (unused < 0 || a > unused_age)) {
			unused = i;
			unused_age = a;
		}
	}
	*evicted = false;
	if (free_way >= 0 && (solicited || n_unsol < FN_NEIGH_UNSOLICITED))
		return free_way;
	*evicted = true;
	if (unsol >= 0)
		return unsol;
	if (solicited && unused >= 0)
		return unused;
	*evicted = false;
	return -1;
}

/* Nothing for fn_neigh_update() to change, judged without the lock: the
 * common case of every datagram and every ARP packet on the LAN. */
static bool settled(const struct fn_neigh_table *t, uint32_t addr, uint64_t mac,
		    unsigned flags, uint64_t now, int *rc)
{
	uint64_t w, c;

	*rc = 0;
	if (flags & FN_NEIGH_F_STATIC)
		return false;
	if (!read_entry(t, addr, &w, &c)) {
		*rc = -ENOENT;
		return !(flags & FN_NEIGH_F_CREATE);
	}
	if (kind_of(w) == STATIC)
		return true;
	if (!(w & W_VALID) || ((flags & FN_NEIGH_F_SOLICITED) && kind_of(w) == UNSOLICITED))
		return false;
	if ((w & W_MAC) != mac)
		return !(flags & FN_NEIGH_F_OVERRIDE);
	/* the same MAC: only a confirmation changes something, and one a
	 * second is plenty */
	return !(flags & FN_NEIGH_F_CONFIRM) || age(now, c) < t->hz;
}

int fn_neigh_update(struct fn_neigh_table *t, uint32_t addr,
		    const struct rte_ether_addr *mac, unsigned flags, uint64_t now)
{
	struct neigh_bucket *b = bucket_of(t, addr);
	uint64_t m = 0, w, stale = now - t->reachable;
	enum kind kind, want;
	bool evicted;
	int i, rc;

	if (addr == 0)
		return -EINVAL;
	memcpy(&m, mac->addr_bytes, RTE_ETHER_ADDR_LEN);
	if (settled(t, addr, m, flags, now, &rc))
		return rc;
	want = flags & FN_NEIGH_F_STATIC ? STATIC :
	       flags & FN_NEIGH_F_SOLICITED ? SOLICITED : UNSOLICITED;

	rte_spinlock_lock(&t->lock);
	rc = 0;
	i = find_way(b, addr);
	if (i < 0) {
		if (!(flags & (FN_NEIGH_F_CREATE | FN_NEIGH_F_STATIC))) {
			rc = -ENOENT;
		} else if ((i = make_room(t, b, want != UNSOLICITED, now, &evicted)) < 0) {
			rc = -ENOSPC;
		} else {
			assign(b, i, addr, word_of(m, want),
			       flags & (FN_NEIGH_F_CONFIRM | FN_NEIGH_F_STATIC) ? now : stale);
			rc = evicted;
		}
		goto out;
	}
	w = b->word[i];
	kind = stronger(kind_of(w), want);
	if (kind_of(w) == STATIC && want != STATIC)
		goto out;
	if (!(w & W_VALID)) {
		/* being resolved: any word from its host answers us */
		kind = stronger(kind, SOLICITED);
	} else if ((w & W_MAC) != m) {
		if (!(flags & (FN_NEIGH_F_OVERRIDE | FN_NEIGH_F_STATIC)))
			goto out;   /* a datagram never replaces what ARP said */
	} else if (!(flags & FN_NEIGH_F_CONFIRM)) {
		if (kind != kind_of(w))
			publish(b, i, (w & ~(3ull << W_KIND_SHIFT)) |
				      (uint64_t)kind << W_KIND_SHIFT);
		goto out;
	} else if (b->next_probe[i] != 0) {
		/* it answered our probe: one we asked for */
		kind = stronger(kind, SOLICITED);
	}
	/* a new MAC, or a confirmation: probes start over */
	store(&b->confirmed[i], flags & (FN_NEIGH_F_CONFIRM | FN_NEIGH_F_STATIC) ? now : stale);
	store(&b->next_probe[i], 0);
	publish(b, i, word_of(m, kind));
out:
	unlock_changed(t);
	return rc;
}

int fn_neigh_resolving(struct fn_neigh_table *t, uint32_t addr, uint64_t now)
{
	struct neigh_bucket *b = bucket_of(t, addr);
	bool evicted;
	int i, rc = 0;

	if (addr == 0)
		return -EINVAL;
	rte_spinlock_lock(&t->lock);
	i = find_way(b, addr);
	if (i >= 0) {
		if (!(b->word[i] & W_VALID))
			store(&b->confirmed[i], now);   /* still being resolved */
	} else if ((i = make_room(t, b, true, now, &evicted)) < 0) {
		rc = -ENOSPC;
	} else {
		assign(b, i, addr, (uint64_t)SOLICITED << W_KIND_SHIFT, now);
		rc = evicted;
	}
	unlock_changed(t);
	return rc;
}

int fn_neigh_probe(struct fn_neigh_table *t, uint32_t addr, uint64_t now)
{
	struct neigh_bucket *b = bucket_of(t, addr);
	uint64_t w;
	int i, rc;

	/* Probed less than a second ago (by any queue): nothing to decide. */
	for (i = 0; i < FN_NEIGH_WAYS; i++) {
		if (KEY_ADDR(__atomic_load_n(&b->key[i], __ATOMIC_ACQUIRE)) != addr)
			continue;
		if ((int64_t)(__atomic_load_n(&b->next_probe[i], __ATOMIC_RELAXED) - now) > 0)
			return 0;
		break;
	}
	rte_spinlock_lock(&t->lock);
	i = find_way(b, addr);
	w = i >= 0 ? b->word[i] : 0;
	if (!(w & W_VALID)) {
		rc = -ENOENT;
	} else if (kind_of(w) == STATIC || age(now, b->confirmed[i]) < t->reachable ||
		   (int64_t)(b->next_probe[i] - now) > 0) {
		rc = 0;   /* confirmed, or probed, meanwhile */
	} else if (probes_of(w) == FN_NEIGH_PROBES) {
		assign(b, i, 0, 0, 0);   /* it does not answer: forget it */
		rc = -ENOENT;
	} else {
		store(&b->next_probe[i], now + t->hz);
		publish(b, i, w + W_PROBE_ONE);
		rc = 1;
	}
	unlock_changed(t);
	return rc;
}
