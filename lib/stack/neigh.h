/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The neighbour table: IPv4 address -> MAC, one per process, shared by all
 * queues. ARP lands on whichever queue the device picks, but every queue
 * transmits, so readers must never wait: an entry's MAC and state live in one
 * 64-bit word that is stored atomically, and entries are never removed, so a
 * lookup is a few plain loads. Writers (rare) serialise on a spinlock.
 */
#ifndef FN_NEIGH_H
#define FN_NEIGH_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_ether.h>

struct fn_neigh_table;

/* Where an entry came from; decides what may overwrite it. */
enum fn_neigh_source {
	FN_NEIGH_LEARNED,  /* source MAC of a datagram from an on-link host:
			    * only fills an empty slot */
	FN_NEIGH_ARP,      /* ARP request for us, or a reply: overwrites learned */
	FN_NEIGH_STATIC,   /* configuration: never overwritten */
};

struct fn_neigh_table *fn_neigh_create(int socket);
void fn_neigh_free(struct fn_neigh_table *t);

/* true and *mac filled when addr is known. Lock-free; any thread. */
bool fn_neigh_lookup(const struct fn_neigh_table *t, uint32_t addr,
		     struct rte_ether_addr *mac);

/* Returns 0, or -ENOSPC when the table is full (the entry is not recorded). */
int fn_neigh_update(struct fn_neigh_table *t, uint32_t addr,
		    const struct rte_ether_addr *mac, enum fn_neigh_source src);

#endif /* FN_NEIGH_H */
