/* SPDX-License-Identifier: BSD-3-Clause */
/* Final counters of replaced generations (final_counters.h). */
#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "final_counters.h"

struct counter {
	const char *chain, *object;    /* into the record's names, or NULL */
	uint64_t handle, packets, bytes;
};

struct record {
	struct record *next;           /* history, oldest first */
	uint64_t local, daemon;        /* lib/filter's and fragnetd's numbers */
	uint64_t epoch;                /* the connection it was installed on */
	uint32_t n, filled;            /* counters; filled by the retire callback */
	atomic_bool complete;          /* every counter filled: the control
					* thread owns the record again */
	struct counter c[];            /* then the names */
};

/*
 * One slot per generation with a record that is not released yet, at
 * lib/filter's number modulo FN_FINAL_SLOTS. The retire callback reads
 * `generation` and only on a match the record:
 * a slot is emptied or reused only when its record is complete, that is
 * after the last callback of that generation, and a callback for another
 * generation (one that got no slot) never looks further.
 */
struct slot {
	_Atomic uint64_t generation;   /* the record's local number; 0: empty */
	struct record *rec;            /* set before generation, read after */
};

struct fn_final_counters {
	struct slot slot[FN_FINAL_SLOTS];
	struct record *history;        /* complete, oldest first */
	unsigned kept;
	size_t kept_counters;
	uint64_t epoch, dropped;
};

struct fn_final_counters *fn_final_counters_new(void)
{
	struct fn_final_counters *f = calloc(1, sizeof(*f));

	if (f == NULL)
		errno = ENOMEM;
	return f;
}

static void forget_history(struct fn_final_counters *f)
{
	while (f->history) {
		struct record *r = f->history;

		f->history = r->next;
		free(r);
	}
	f->kept = 0;
	f->kept_counters = 0;
}

void fn_final_counters_free(struct fn_final_counters *f)
{
	if (f == NULL)
		return;
	forget_history(f);
	for (unsigned i = 0; i < FN_FINAL_SLOTS; i++)
		if (atomic_load(&f->slot[i].generation))
			free(f->slot[i].rec);
	free(f);
}

void fn_final_counters_on_retire(void *arg, uint64_t generation, const char *chain,
				 uint64_t handle, const char *object, uint64_t packets,
				 uint64_t bytes)
{
	struct fn_final_counters *f = arg;
	struct slot *s = &f->slot[generation % FN_FINAL_SLOTS];
	struct record *r;
	struct counter *c;

	/* same counters in the same order as when the record was prepared:
	 * the names and handles are in it already */
	(void)chain;
	(void)handle;
	(void)object;
	if (atomic_load_explicit(&s->generation, memory_order_acquire) != generation)
		return; /* no record: counted as dropped when it was installed */
	r = s->rec;
	if (r->filled == r->n)
		return; /* a bounds guard only: lib/filter reports once, as prepared */
	c = &r->c[r->filled++];
	c->packets = packets;
	c->bytes = bytes;
	if (r->filled == r->n)
		atomic_store_explicit(&r->complete, true, memory_order_release);
}

/* Into the history, in generation order, then keep it within bounds. */
static void keep(struct fn_final_counters *f, struct record *r)
{
	struct record **pp = &f->history;

	while (*pp && (*pp)->local < r->local)
		pp = &(*pp)->next;
	r->next = *pp;
	*pp = r;
	f->kept++;
	f->kept_counters += r->n;
	while (f->kept > FN_FINAL_GENS || f->kept_counters > FN_FINAL_COUNTERS) {
		struct record *old = f->history;

		f->history = old->next;
		f->kept--;
		f->kept_counters -= old->n;
		f->dropped++;
		free(old);
	}
}

/* Move complete records out of their slots; returns how many of this
 * connection's generations other than `current` are not complete yet. */
static unsigned collect(struct fn_final_counters *f, uint64_t current)
{
	unsigned pending = 0;

	for (unsigned i = 0; i < FN_FINAL_SLOTS; i++) {
		struct slot *s = &f->slot[i];
		uint64_t gen = atomic_load(&s->generation);
		struct record *r = s->rec;

		if (gen == 0)
			continue;
		if (!atomic_load_explicit(&r->complete, memory_order_acquire)) {
			pending += r->epoch == f->epoch && gen != current;
			continue;
		}
		atomic_store(&s->generation, 0);
		if (r->epoch == f->epoch)
			keep(f, r);
		else
			free(r);
	}
	return pending;
}

/* fn_filter_counters() twice: first the sizes, then the copy. */
struct prepare {
	struct record *rec;            /* NULL while sizing */
	uint32_t n;
	size_t names;
	char *name_at;
};

static const char *copy_name(struct prepare *p, const char *s)
{
	char *at = p->name_at;
	size_t len;

	if (s == NULL)
		return NULL;
	len = strlen(s) + 1;
	memcpy(at, s, len);
	p->name_at += len;
	return at;
}

static void prepare_counter(void *arg, uint64_t generation, const char *chain,
			    uint64_t handle, const char *object, uint64_t packets,
			    uint64_t bytes)
{
	struct prepare *p = arg;
	struct counter *c;

	(void)generation;
	(void)packets;
	(void)bytes;
	if (p->rec == NULL) {
		p->n++;
		p->names += (chain ? strlen(chain) + 1 : 0) + (object ? strlen(object) + 1 : 0);
		return;
	}
	if (p->n == p->rec->n)
		return;
	c = &p->rec->c[p->n++];
	c->chain = copy_name(p, chain);
	c->object = copy_name(p, object);
	c->handle = handle;
}

void fn_final_counters_track(struct fn_final_counters *f, struct fn_filter *rules,
			     uint64_t local, uint64_t daemon)
{
	struct slot *s = &f->slot[local % FN_FINAL_SLOTS];
	struct prepare p = { 0 };
	struct record *r;

	/* only the control thread installs: the current generation is `local` */
	fn_filter_counters(rules, prepare_counter, &p);
	if (p.n == 0)
		return;
	collect(f, local); /* frees the slots of generations released since */
	if (atomic_load(&s->generation) != 0) {
		f->dropped++; /* FN_FINAL_SLOTS generations wait for a stuck queue */
		return;
	}
	r = calloc(1, sizeof(*r) + p.n * sizeof(r->c[0]) + p.names);
	if (r == NULL) {
		f->dropped++;
		return;
	}
	r->local = local;
	r->daemon = daemon;
	r->epoch = f->epoch;
	r->n = p.n;
	p.rec = r;
	p.n = 0;
	p.name_at = (char *)&r->c[r->n];
	fn_filter_counters(rules, prepare_counter, &p);
	s->rec = r;
	atomic_store_explicit(&s->generation, local, memory_order_release);
}

void fn_final_counters_reset(struct fn_final_counters *f)
{
	forget_history(f);
	f->dropped = 0;
	f->epoch++;
}

void fn_final_counters_report(struct fn_final_counters *f, uint64_t current,
			      fn_filter_counter_cb cb, void *arg, struct fn_final_state *st)
{
	st->pending = collect(f, current);
	for (const struct record *r = f->history; r; r = r->next)
		for (uint32_t i = 0; i < r->n; i++)
			cb(arg, r->daemon, r->c[i].chain, r->c[i].handle, r->c[i].object,
			   r->c[i].packets, r->c[i].bytes);
	st->kept = f->kept;
	st->dropped = f->dropped;
}
