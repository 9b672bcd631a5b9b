/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The neighbour table: IPv4 address -> MAC, one per process, shared by all
 * queues. ARP lands on whichever queue the device picks, but every queue
 * transmits, so readers never wait: an entry's MAC and state live in one
 * 64-bit word stored atomically, beside a 64-bit key (the address, and a
 * generation that changes whenever the slot goes to another address) that a
 * reader checks again after reading the word. Writers (rare) serialise on a
 * spinlock.
 *
 * Entries age as in the kernel: reachable for FN_NEIGH_REACHABLE_S after the
 * host last confirmed its address, then stale: still used, but the sender
 * probes the host (fn_neigh_probe()); FN_NEIGH_PROBES unanswered probes and
 * the entry is forgotten, to be resolved again.
 *
 * Strangers cannot take the table: it is FN_NEIGH_BUCKETS buckets of
 * FN_NEIGH_WAYS entries, a keyed hash picks the bucket, and
 *  - entries nobody asked for (unsolicited: the sender of an ARP request, the
 *    source of a datagram) hold at most FN_NEIGH_UNSOLICITED ways of a
 *    bucket and push out only each other, oldest first;
 *  - entries we asked for (solicited: resolutions we started, hosts that
 *    answered our probes, the gateway) push out unsolicited ones, or stale
 *    ones nobody used for FN_NEIGH_UNUSED_S; strangers never push them out;
 *  - static entries stay.
 */
#ifndef FN_NEIGH_H
#define FN_NEIGH_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_ether.h>

#include "runtime/stats.h"

#define FN_NEIGH_BUCKETS 128
#define FN_NEIGH_WAYS 8
#define FN_NEIGH_UNSOLICITED (FN_NEIGH_WAYS / 2)   /* per bucket */

#define FN_NEIGH_REACHABLE_S 30   /* since the host last confirmed (Linux's base) */
#define FN_NEIGH_UNUSED_S 60      /* stale and unprobed this long: nobody uses it */
#define FN_NEIGH_PROBES 3         /* unanswered, one a second, before it goes */
#define FN_NEIGH_INCOMPLETE_S 2   /* a resolution nobody retried for this long is over */

/* fn_neigh_update() flags: what the caller saw (Linux's NEIGH_UPDATE_F_*). */
#define FN_NEIGH_F_CREATE 0x1u    /* may create an entry: unsolicited, unless... */
#define FN_NEIGH_F_SOLICITED 0x2u /* ...we asked for it (the gateway) */
#define FN_NEIGH_F_OVERRIDE 0x4u  /* may replace the MAC recorded */
#define FN_NEIGH_F_CONFIRM 0x8u   /* the host itself just showed this MAC: reachable */
#define FN_NEIGH_F_STATIC 0x10u   /* configuration: permanent, replaced only by static */

enum fn_neigh_state {
	FN_NEIGH_NONE,       /* no MAC known (absent, or being resolved) */
	FN_NEIGH_REACHABLE,
	FN_NEIGH_STALE,      /* use it, and have it confirmed */
};

struct fn_neigh_table;

/* hz: ticks per second of the `now` the callers pass (TSC). NULL + ENOMEM. */
struct fn_neigh_table *fn_neigh_create(int socket, uint64_t hz);
void fn_neigh_free(struct fn_neigh_table *t);

/* The MAC of addr and whether it is reachable or stale. Lock-free; any thread. */
enum fn_neigh_state fn_neigh_get(const struct fn_neigh_table *t, uint32_t addr,
				 uint64_t now, struct rte_ether_addr *mac);

/*
 * For a cache of entries (a queue's last next hop): the table's generation,
 * which changes after every change of any entry, and fn_neigh_get() that
 * also tells until when (ticks) a reachable entry stays reachable unless it
 * changes (a static one: FN_NEIGH_FOREVER from now). A copy taken after
 * reading generation g stays true while the generation is g and until has
 * not passed. Lock-free.
 */
#define FN_NEIGH_FOREVER (UINT64_MAX >> 2)
static inline uint64_t fn_neigh_gen(const struct fn_neigh_table *t)
{
	/* the table's first member: a load on every send, not a call */
	return __atomic_load_n((const uint64_t *)t, __ATOMIC_ACQUIRE);
}
enum fn_neigh_state fn_neigh_get_until(const struct fn_neigh_table *t, uint32_t addr,
				       uint64_t now, struct rte_ether_addr *mac,
				       uint64_t *until);

/* true and *mac filled when addr has a MAC, reachable or stale. Lock-free. */
static inline bool fn_neigh_lookup(const struct fn_neigh_table *t, uint32_t addr,
				   struct rte_ether_addr *mac)
{
	return fn_neigh_get(t, addr, 0, mac) != FN_NEIGH_NONE;
}

/*
 * Record what addr's owner told us (FN_NEIGH_F_*). A MAC is replaced only
 * with FN_NEIGH_F_OVERRIDE; an entry being resolved takes any MAC of its
 * host and becomes solicited. Returns
 *  0        recorded, or nothing to change
 *  1        recorded, and another entry was pushed out to make room
 *  -ENOENT  addr is unknown and the flags do not create
 *  -ENOSPC  no room that this entry may take (not recorded)
 *  -EINVAL  addr 0
 */
int fn_neigh_update(struct fn_neigh_table *t, uint32_t addr,
		    const struct rte_ether_addr *mac, unsigned flags, uint64_t now);

/* We are resolving addr (again): a solicited entry without a MAC, which ARP
 * from addr fills. Returns as fn_neigh_update(). */
int fn_neigh_resolving(struct fn_neigh_table *t, uint32_t addr, uint64_t now);

/*
 * A stale entry is being used. 1: probe the host now (one probe a second,
 * whichever queue sends); 0: keep using it; -ENOENT: it was forgotten (after
 * FN_NEIGH_PROBES unanswered probes, or meanwhile): resolve it again.
 */
int fn_neigh_probe(struct fn_neigh_table *t, uint32_t addr, uint64_t now);

/* The bucket addr falls in (tests: entries that compete for room). */
unsigned fn_neigh_bucket(const struct fn_neigh_table *t, uint32_t addr);

/* Count an update's outcome in a queue's drops. */
static inline void fn_neigh_count(struct fn_stats *st, int rc)
{
	if (rc == 1)
		FN_DROP(st, NEIGH_EVICTED);
	else if (rc < 0)
		FN_DROP(st, NEIGH_REFUSED);
}

#endif /* FN_NEIGH_H */
