/* SPDX-License-Identifier: BSD-3-Clause */
/* Packet capture into fragnetd's rings (capture.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_ip.h>

#include "capture.h"
#include "log.h"
#include "ctl/proto.h"
#include "filter/generation.h"
#include "nft/eval.h"
#include "nft/image.h"
#include "nft/trace.h"

/* What a consumer checks trace events against is what the lcore writes. */
_Static_assert(FN_CAP_TRACE_HOOKS == FN_HOOK_MAX, "hooks");
_Static_assert(FN_CAP_TRACE_KINDS == FN_TRACE_KIND_MAX, "trace kinds");
_Static_assert(FN_CAP_TRACE_VERDICT_MIN == FN_V_RETURN, "verdicts");
_Static_assert(FN_CAP_TRACE_VERDICT_MAX == FN_V_ACCEPT, "verdicts");
_Static_assert(FN_CAP_TRACE_REJECT_MAX == FN_REJECT_LAST, "rejects");
_Static_assert(FN_CAP_TRACE_EVENTS >= 2 * FN_TRACE_MAX_EVENTS, "two hooks a direction");

/*
 * A trace's packet in flight in one direction: whether the filter chose it,
 * and the events of its hook runs so far. Each direction has its own, since
 * an input drop may send a reject (an output run) before the in record is
 * written.
 */
enum pending_state {
	TRACE_NONE = 0,            /* no hook has run on the packet yet */
	TRACE_ON,                  /* the filter accepted it: hooks are traced */
	TRACE_SKIP,                /* the filter refused it */
};

struct pending {
	uint8_t state;             /* enum pending_state */
	uint8_t n;
	uint16_t lost;
	struct fn_cap_trace_ev ev[FN_CAP_TRACE_EVENTS];
};

struct fn_cap_tracing {
	struct pending dir[2];     /* enum fn_cap_dir */
	struct fn_trace run;       /* one hook run's events */
};

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

/* The filter over the captured bytes, as the input hook would see them. */
static bool filter_accepts(struct fn_cap_queue *c, uint32_t cap, uint16_t qid)
{
	const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)c->scratch;
	struct fn_pkt pkt = { .l3 = c->scratch, .l3_len = cap, .pkttype = FN_PKT_HOST,
			      .cpu = qid };

	if (cap >= sizeof(*ip)) {
		pkt.fragoff = (rte_be_to_cpu_16(ip->fragment_offset) &
			       RTE_IPV4_HDR_OFFSET_MASK) * 8;
		pkt.l4_off = pkt.fragoff ? 0 : rte_ipv4_hdr_len(ip);
		pkt.l4proto = ip->next_proto_id;
	}
	return fn_nft_eval(c->filter, FN_HOOK_INPUT, &pkt, NULL) == FN_ACCEPT;
}

/* Whether the trace follows this packet (the filter accepts its first
 * snaplen bytes, or there is no filter). */
static bool trace_chooses(struct fn_cap_queue *c, const uint8_t *l3, uint32_t len, uint16_t qid)
{
	uint32_t cap = RTE_MIN(len, c->prod.g.snaplen);

	if (c->filter == NULL)
		return true;
	memcpy(c->scratch, l3, cap);
	return filter_accepts(c, cap, qid);
}

/* Add one hook run's events to the packet's, chains named as the
 * generation that ran names them. */
static void trace_add(struct fn_filter_queue *fq, struct pending *p, const struct fn_trace *t)
{
	uint32_t lost = p->lost + t->lost;

	for (uint32_t i = 0; i < t->n; i++) {
		const struct fn_trace_ev *e = &t->ev[i];
		struct fn_cap_trace_ev *o;

		if (p->n == FN_CAP_TRACE_EVENTS) {
			lost++;
			continue;
		}
		o = &p->ev[p->n++];
		memset(o, 0, sizeof(*o));
		o->handle = e->handle;
		o->verdict = (int8_t)e->verdict;
		o->hook = e->hook;
		o->kind = e->kind;
		o->reject = e->reject;
		strncpy(o->chain, fn_filter_chain_name(fq, e->chain), sizeof(o->chain) - 1);
		if (e->target != FN_IMG_NONE)
			strncpy(o->target, fn_filter_chain_name(fq, e->target),
				sizeof(o->target) - 1);
	}
	p->lost = (uint16_t)RTE_MIN(lost, (uint32_t)UINT16_MAX);
}

/* fn_filter_queue.tracer while a trace runs: the filter chooses the packet
 * at the first hook run of its direction (prerouting and output always
 * start a packet: a fragment that prerouting accepted never reached the
 * end of its direction), and a chosen one runs traced. */
static enum fn_verdict trace_hook(struct fn_filter_queue *fq, enum fn_hook hook,
				  struct fn_pkt *pkt)
{
	struct fn_queue *q = container_of(fq, struct fn_queue, filter);
	struct fn_cap_queue *c = __atomic_load_n(&q->cap, __ATOMIC_ACQUIRE);
	enum fn_cap_dir dir = hook <= FN_HOOK_INPUT ? FN_CAP_IN : FN_CAP_OUT;
	struct fn_cap_tracing *tr;
	struct pending *p;
	enum fn_verdict v;

	if (c == NULL || c->tracing == NULL)    /* stopping */
		return fn_filter_run_traced(fq, hook, pkt, NULL);
	tr = c->tracing;
	p = &tr->dir[dir];
	if (hook == FN_HOOK_PREROUTING || hook == FN_HOOK_OUTPUT || p->state == TRACE_NONE) {
		p->state = trace_chooses(c, pkt->l3, pkt->l3_len, q->qid) ? TRACE_ON : TRACE_SKIP;
		p->n = 0;
		p->lost = 0;
	}
	if (p->state != TRACE_ON)
		return fn_filter_run_traced(fq, hook, pkt, NULL);
	v = fn_filter_run_traced(fq, hook, pkt, &tr->run);
	trace_add(fq, p, &tr->run);
	return v;
}

/* The header of a record of this packet. */
static void rec_header(struct fn_queue *q, struct fn_cap_queue *c, struct fn_cap_rec *r,
		       enum fn_cap_dir dir, uint32_t len, uint32_t cap, enum fn_verdict v,
		       uint32_t hooks)
{
	const struct fn_nft_decision *d = &q->filter.last;
	uint64_t ticks = rte_get_tsc_cycles() - c->tsc0;

	r->ts_ns = c->ns0 + ticks / c->hz * 1000000000ull +
		   ticks % c->hz * 1000000000ull / c->hz;
	r->orig_len = len;
	r->cap_len = (uint16_t)cap;
	r->queue = q->qid;
	r->dir = (uint8_t)dir;
	r->verdict = (uint8_t)v;
	r->hook = deciding_hook(hooks);
	r->kind = (uint8_t)c->prod.g.mode;
	r->n_events = 0;
	r->lost = 0;
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
}

/* The end of a direction in a trace: the record of a chosen packet. */
static void trace_record(struct fn_queue *q, struct fn_cap_queue *c, enum fn_cap_dir dir,
			 const uint8_t *l3, uint32_t len, enum fn_verdict v, uint32_t hooks)
{
	struct pending *p = &c->tracing->dir[dir];
	uint32_t cap = RTE_MIN(len, c->prod.g.snaplen);
	struct fn_cap_rec *r;
	bool chosen = p->state == TRACE_ON;

	p->state = TRACE_NONE;
	if (!chosen || (r = fn_cap_reserve(&c->prod)) == NULL)
		return;
	rec_header(q, c, r, dir, len, cap, v, hooks);
	r->n_events = p->n;
	r->lost = p->lost;
	memcpy((uint8_t *)r + sizeof(*r), p->ev, p->n * sizeof(p->ev[0]));
	memcpy((uint8_t *)r + fn_cap_data_off(&c->prod.g), l3, cap);
	fn_cap_commit(&c->prod);
}

void fn_capture_record(struct fn_queue *q, struct fn_cap_queue *c, enum fn_cap_dir dir,
		       const uint8_t *l3, uint32_t len, enum fn_verdict v, uint32_t hooks)
{
	uint32_t cap = RTE_MIN(len, c->prod.g.snaplen);
	struct fn_cap_rec *r;

	if (c->tracing) {
		trace_record(q, c, dir, l3, len, v, hooks);
		return;
	}
	if (c->filter) {
		memcpy(c->scratch, l3, cap);
		if (!filter_accepts(c, cap, q->qid))
			return;
		l3 = c->scratch;
	}
	r = fn_cap_reserve(&c->prod);
	if (r == NULL)
		return;
	rec_header(q, c, r, dir, len, cap, v, hooks);
	memcpy((uint8_t *)r + fn_cap_data_off(&c->prod.g), l3, cap);
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
	for (unsigned i = 0; i < FN_MAX_QUEUES; i++) {
		fn_nft_state_free(c->q[i].filter);
		free(c->q[i].scratch);
		free(c->q[i].tracing);
	}
	munmap(c->map, c->len);
	free(c);
}

/* Each queue's own filter state (the interpreter's state is per thread). */
static int load_filter(struct fn_capture *c, unsigned n_queues, uint32_t len)
{
	const uint8_t *image = (const uint8_t *)c->map + c->g.total;

	for (unsigned i = 0; i < n_queues; i++) {
		/* copied before it is verified: fragnetctl maps it too */
		c->q[i].filter = fn_nft_state_new(image, len);
		c->q[i].scratch = malloc(c->g.snaplen);
		if (c->q[i].filter == NULL || c->q[i].scratch == NULL)
			return c->q[i].filter ? -ENOMEM : -errno;
	}
	return 0;
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
		     uint32_t queue, uint32_t filter_len)
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
	    (uint64_t)st.st_size != g->total + filter_len || filter_len > FN_CTL_FILTER_IMAGE_MAX)
		goto out;
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	c->g = *g;
	c->len = g->total + filter_len;
	c->map = mmap(NULL, c->len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (c->map == MAP_FAILED) {
		rc = -errno;
		free(c);
		goto out;
	}
	if (filter_len && (rc = load_filter(c, fn->n_queues, filter_len)) < 0) {
		unmap(c);
		goto out;
	}
	for (unsigned i = 0; i < fn->n_queues; i++) {
		struct fn_cap_queue *cq = &c->q[i];

		cq->prod = (struct fn_cap_producer){ .ring = fn_cap_ring_at(c->map, g, i), .g = *g };
		cq->hz = rte_get_tsc_hz();
		cq->tsc0 = rte_get_tsc_cycles();
		cq->ns0 = realtime_ns();
		if (g->mode == FN_CAP_MODE_TRACE &&
		    (cq->tracing = calloc(1, sizeof(*cq->tracing))) == NULL) {
			rc = -ENOMEM;
			unmap(c);
			goto out;
		}
	}
	fn->capture = c;
	for (unsigned i = 0; i < fn->n_queues; i++) {
		if (queue != UINT32_MAX && queue != i)
			continue;
		__atomic_store_n(&fn->queues[i]->cap, &c->q[i], __ATOMIC_RELEASE);
		if (g->mode == FN_CAP_MODE_TRACE)
			__atomic_store_n(&fn->queues[i]->filter.tracer, trace_hook,
					 __ATOMIC_RELEASE);
	}
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
	for (unsigned i = 0; i < fn->n_queues; i++) {
		__atomic_store_n(&fn->queues[i]->filter.tracer, NULL, __ATOMIC_RELEASE);
		__atomic_store_n(&fn->queues[i]->cap, NULL, __ATOMIC_RELEASE);
	}
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
