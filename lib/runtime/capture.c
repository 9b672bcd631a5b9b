/* SPDX-License-Identifier: BSD-3-Clause */
/* Packet capture into fragnetd's rings (capture.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <rte_cycles.h>

#include "capture.h"
#include "log.h"
#include "filter/generation.h"

/* A capture of this process: its mapping and each queue's producer. */
struct fn_capture {
	struct fn_capture *next;       /* stopped, waiting to be unmapped */
	uint64_t token;                /* ... once this grace period is over */
	void *map;
	size_t len;
	struct fn_cap_geometry g;
	struct fn_cap_queue q[FN_MAX_QUEUES];
};

/* The last hook in `hooks`: within one direction the later hook decides. */
static uint8_t deciding_hook(uint32_t hooks)
{
	return hooks ? (uint8_t)(31 - __builtin_clz(hooks)) : FN_CAP_NO_HOOK;
}

void fn_capture_record(struct fn_queue *q, struct fn_cap_queue *c, enum fn_cap_dir dir,
		       const uint8_t *l3, uint32_t len, enum fn_verdict v, uint32_t hooks)
{
	struct fn_cap_rec *r = fn_cap_reserve(&c->prod);
	const struct fn_nft_decision *d = &q->filter.last;
	uint32_t cap = RTE_MIN(len, c->prod.g.snaplen);
	uint64_t ticks;

	if (r == NULL)
		return;
	ticks = rte_get_tsc_cycles() - c->tsc0;
	r->ts_ns = c->ns0 + ticks / c->hz * 1000000000ull +
		   ticks % c->hz * 1000000000ull / c->hz;
	r->orig_len = len;
	r->cap_len = (uint16_t)cap;
	r->queue = q->qid;
	r->dir = (uint8_t)dir;
	r->verdict = (uint8_t)v;
	r->hook = deciding_hook(hooks);
	r->generation = q->filter.generation;
	if (r->hook == FN_CAP_NO_HOOK) {
		r->rule_handle = 0;
		r->chain[0] = '\0';
	} else {
		r->rule_handle = d->rule_handle;
		strncpy(r->chain, fn_filter_chain_name(&q->filter, d->chain),
			sizeof(r->chain) - 1);
		r->chain[sizeof(r->chain) - 1] = '\0';
	}
	memcpy(r + 1, l3, cap);
	fn_cap_commit(&c->prod);
}

static uint64_t realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void unmap(struct fn_capture *c)
{
	munmap(c->map, c->len);
	free(c);
}

/* Unmap the stopped captures no lcore can still write to. */
static void reclaim(struct fragnet *fn)
{
	struct fn_capture **pp = &fn->capture_stopped;

	while (*pp) {
		struct fn_capture *c = *pp;

		if (fn_filter_sync_done(fn->filter, c->token)) {
			*pp = c->next;
			unmap(c);
		} else {
			pp = &c->next;
		}
	}
}

int fn_capture_start(struct fragnet *fn, int fd, const struct fn_cap_geometry *g,
		     uint32_t queue)
{
	struct fn_capture *c = NULL;
	struct stat st;
	int rc = -EINVAL;

	if (fn->filter == NULL) {
		rc = -ENOTSUP;
		goto out;
	}
	reclaim(fn);
	if (fn->capture) {
		rc = -EBUSY;
		goto out;
	}
	if (fn_cap_geometry_check(g) < 0 || g->n_queues != fn->n_queues ||
	    (queue != UINT32_MAX && queue >= fn->n_queues) || fstat(fd, &st) < 0 ||
	    (uint64_t)st.st_size != g->total)
		goto out;
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	c->g = *g;
	c->len = g->total;
	c->map = mmap(NULL, c->len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (c->map == MAP_FAILED) {
		rc = -errno;
		free(c);
		goto out;
	}
	for (unsigned i = 0; i < fn->n_queues; i++) {
		struct fn_cap_queue *cq = &c->q[i];

		cq->prod = (struct fn_cap_producer){ .ring = fn_cap_ring_at(c->map, g, i), .g = *g };
		cq->hz = rte_get_tsc_hz();
		cq->tsc0 = rte_get_tsc_cycles();
		cq->ns0 = realtime_ns();
	}
	fn->capture = c;
	for (unsigned i = 0; i < fn->n_queues; i++)
		if (queue == UINT32_MAX || queue == i)
			__atomic_store_n(&fn->queues[i]->cap, &c->q[i], __ATOMIC_RELEASE);
	rc = 0;
out:
	close(fd);
	return rc;
}

void fn_capture_stop(struct fragnet *fn)
{
	struct fn_capture *c = fn->capture;

	if (c == NULL)
		return;
	for (unsigned i = 0; i < fn->n_queues; i++)
		__atomic_store_n(&fn->queues[i]->cap, NULL, __ATOMIC_RELEASE);
	fn->capture = NULL;
	c->token = fn_filter_sync_start(fn->filter);
	c->next = fn->capture_stopped;
	fn->capture_stopped = c;
	reclaim(fn);
}

void fn_capture_free_all(struct fragnet *fn)
{
	fn_capture_stop(fn);
	while (fn->capture_stopped) {
		struct fn_capture *c = fn->capture_stopped;

		fn->capture_stopped = c->next;
		unmap(c);
	}
}

uint64_t fn_capture_dropped(const struct fragnet *fn, unsigned queue)
{
	const struct fn_capture *c = fn->capture;

	if (c == NULL || queue >= fn->n_queues)
		return 0;
	return __atomic_load_n(&c->q[queue].prod.dropped, __ATOMIC_RELAXED);
}
