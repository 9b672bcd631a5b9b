/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <string.h>

#include <rte_malloc.h>
#include <rte_spinlock.h>

#include "neigh.h"

#define NEIGH_SLOTS 1024                 /* power of two */
#define NEIGH_MAX (NEIGH_SLOTS * 3 / 4)  /* keep probe chains short */

#define W_VALID (1ull << 48)
#define W_SRC_SHIFT 49

struct neigh_entry {
	uint32_t addr;   /* 0 = free; set once, after word, never cleared */
	uint64_t word;   /* MAC in the low 48 bits, W_VALID, source above */
};

struct fn_neigh_table {
	rte_spinlock_t lock;
	unsigned used;
	struct neigh_entry e[NEIGH_SLOTS];
};

static inline unsigned slot_of(uint32_t addr)
{
	return (addr * 2654435761u) >> 22 & (NEIGH_SLOTS - 1);
}

static uint64_t pack(const struct rte_ether_addr *mac, enum fn_neigh_source src)
{
	uint64_t w = 0;

	memcpy(&w, mac->addr_bytes, RTE_ETHER_ADDR_LEN);
	return w | W_VALID | (uint64_t)src << W_SRC_SHIFT;
}

struct fn_neigh_table *fn_neigh_create(int socket)
{
	struct fn_neigh_table *t;

	t = rte_zmalloc_socket("fn_neigh", sizeof(*t), RTE_CACHE_LINE_SIZE, socket);
	if (t == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	rte_spinlock_init(&t->lock);
	return t;
}

void fn_neigh_free(struct fn_neigh_table *t)
{
	rte_free(t);
}

bool fn_neigh_lookup(const struct fn_neigh_table *t, uint32_t addr,
		     struct rte_ether_addr *mac)
{
	unsigned i = slot_of(addr);

	for (unsigned n = 0; n < NEIGH_SLOTS; n++, i = (i + 1) & (NEIGH_SLOTS - 1)) {
		uint32_t a = __atomic_load_n(&t->e[i].addr, __ATOMIC_ACQUIRE);

		if (a == 0)
			return false;
		if (a == addr) {
			uint64_t w = __atomic_load_n(&t->e[i].word, __ATOMIC_RELAXED);

			memcpy(mac->addr_bytes, &w, RTE_ETHER_ADDR_LEN);
			return true;
		}
	}
	return false;
}

int fn_neigh_update(struct fn_neigh_table *t, uint32_t addr,
		    const struct rte_ether_addr *mac, enum fn_neigh_source src)
{
	unsigned i = slot_of(addr);
	int rc = -ENOSPC;

	if (addr == 0)
		return -EINVAL;
	rte_spinlock_lock(&t->lock);
	for (unsigned n = 0; n < NEIGH_SLOTS; n++, i = (i + 1) & (NEIGH_SLOTS - 1)) {
		struct neigh_entry *e = &t->e[i];

		if (e->addr == addr) {
			enum fn_neigh_source old = e->word >> W_SRC_SHIFT;

			if (src > FN_NEIGH_LEARNED && old != FN_NEIGH_STATIC)
				__atomic_store_n(&e->word, pack(mac, src), __ATOMIC_RELAXED);
			rc = 0;
			break;
		}
		if (e->addr == 0) {
			if (t->used >= NEIGH_MAX)
				break;
			e->word = pack(mac, src);
			__atomic_store_n(&e->addr, addr, __ATOMIC_RELEASE);
			t->used++;
			rc = 0;
			break;
		}
	}
	rte_spinlock_unlock(&t->lock);
	return rc;
}
