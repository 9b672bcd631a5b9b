/* SPDX-License-Identifier: BSD-3-Clause */
/* The capture rings' geometry and the consumer's checks (capture_ring.h). */
#include <errno.h>
#include <string.h>

#include "capture_ring.h"

static uint32_t slot_size_of(uint32_t snaplen, uint32_t mode)
{
	struct fn_cap_geometry g = { .mode = mode };

	return (uint32_t)((fn_cap_data_off(&g) + snaplen + 7) & ~(size_t)7);
}

int fn_cap_geometry(uint32_t n_queues, uint32_t ring_bytes, uint32_t snaplen,
		    enum fn_cap_mode mode, struct fn_cap_geometry *g)
{
	uint32_t slots = 1, per_ring;

	if (n_queues == 0 || n_queues > FN_CAP_MAX_QUEUES || snaplen == 0 ||
	    (mode != FN_CAP_MODE_CAPTURE && mode != FN_CAP_MODE_TRACE) ||
	    snaplen > FN_CAP_SNAPLEN_MAX || ring_bytes < FN_CAP_RING_BYTES_MIN ||
	    ring_bytes > FN_CAP_RING_BYTES_MAX)
		return -EINVAL;
	memset(g, 0, sizeof(*g));
	g->n_queues = n_queues;
	g->snaplen = snaplen;
	g->mode = mode;
	g->slot_size = slot_size_of(snaplen, mode);
	per_ring = ring_bytes / n_queues;
	if (per_ring < sizeof(struct fn_cap_ring))
		return -EINVAL;
	per_ring -= sizeof(struct fn_cap_ring);
	while ((uint64_t)slots * 2 * g->slot_size <= per_ring)
		slots *= 2;
	if ((uint64_t)slots * g->slot_size > per_ring || slots < 2)
		return -EINVAL;
	g->n_slots = slots;
	g->ring_size = sizeof(struct fn_cap_ring) + (size_t)slots * g->slot_size;
	g->total = g->ring_size * n_queues;
	return 0;
}

int fn_cap_geometry_check(const struct fn_cap_geometry *g)
{
	if (g->n_queues == 0 || g->n_queues > FN_CAP_MAX_QUEUES || g->snaplen == 0 ||
	    g->snaplen > FN_CAP_SNAPLEN_MAX || g->mode > FN_CAP_MODE_TRACE ||
	    g->slot_size != slot_size_of(g->snaplen, g->mode) ||
	    g->n_slots < 2 || (g->n_slots & (g->n_slots - 1)) ||
	    (uint64_t)g->n_slots * g->slot_size > FN_CAP_RING_BYTES_MAX ||
	    g->ring_size != sizeof(struct fn_cap_ring) + (size_t)g->n_slots * g->slot_size ||
	    g->total != g->ring_size * g->n_queues || g->total > FN_CAP_RING_BYTES_MAX)
		return -EINVAL;
	return 0;
}

int fn_cap_geometry_of(uint32_t n_queues, uint32_t n_slots, uint32_t snaplen,
		       uint32_t mode, struct fn_cap_geometry *g)
{
	memset(g, 0, sizeof(*g));
	if (n_slots > FN_CAP_RING_BYTES_MAX || snaplen > FN_CAP_SNAPLEN_MAX ||
	    mode > FN_CAP_MODE_TRACE)
		return -EINVAL;
	g->n_queues = n_queues;
	g->n_slots = n_slots;
	g->snaplen = snaplen;
	g->mode = mode;
	g->slot_size = slot_size_of(snaplen, mode);
	g->ring_size = sizeof(struct fn_cap_ring) + (size_t)n_slots * g->slot_size;
	g->total = g->ring_size * n_queues;
	return fn_cap_geometry_check(g);
}

int64_t fn_cap_available(const struct fn_cap_ring *r, const struct fn_cap_geometry *g,
			 uint64_t tail)
{
	uint64_t head = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);

	if (head - tail > g->n_slots)
		return -EBADMSG;
	return (int64_t)(head - tail);
}

bool fn_cap_rec_valid(const struct fn_cap_rec *rec, const struct fn_cap_geometry *g)
{
	bool counts = rec->kind == FN_CAP_MODE_TRACE ?
		      rec->n_events <= FN_CAP_TRACE_EVENTS :
		      rec->n_events == 0 && rec->lost == 0;

	return rec->cap_len <= g->snaplen && rec->cap_len <= rec->orig_len &&
	       rec->queue < g->n_queues && rec->dir <= FN_CAP_OUT &&
	       rec->kind == g->mode && counts &&
	       memchr(rec->chain, '\0', sizeof(rec->chain)) != NULL;
}

bool fn_cap_trace_ev_valid(const struct fn_cap_trace_ev *ev)
{
	return ev->hook < FN_CAP_TRACE_HOOKS && ev->kind < FN_CAP_TRACE_KINDS &&
	       ev->verdict >= FN_CAP_TRACE_VERDICT_MIN &&
	       ev->verdict <= FN_CAP_TRACE_VERDICT_MAX &&
	       ev->reject <= FN_CAP_TRACE_REJECT_MAX &&
	       memchr(ev->chain, '\0', sizeof(ev->chain)) != NULL &&
	       memchr(ev->target, '\0', sizeof(ev->target)) != NULL;
}
