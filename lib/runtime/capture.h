/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Packet capture for `fragnetctl capture`: each queue copies the packets it
 * judged, with the verdict and the rule that gave it, into its ring of the
 * capture memfd fragnetd handed over (ctl/capture_ring.h).
 *
 * Off, a packet costs one load and one predictable branch (q->cap is NULL).
 * On, a record costs a copy of at most snaplen bytes (and, with a filter,
 * running its image over that copy: the filter sees the captured bytes and
 * cannot change the packet), and a full ring drops the record (counted),
 * never the packet, and never waits.
 *
 * A trace (the rings' mode FN_CAP_MODE_TRACE) records no packets: it hooks
 * the queue's rule runs (fn_filter_queue.tracer), runs the filter on the
 * packet at the first hook run of its direction, and for a packet the
 * filter accepts runs the hooks with the traced interpreter; at the end of
 * the direction (fn_capture()) it writes one trace record, the events and
 * the final verdict. Packets the filter refuses take the normal path. Off,
 * a hook run costs one load and one predictable branch more (the tracer is
 * NULL), where rules run anyway.
 *
 * The control thread starts and stops captures (fn_capture_start/stop); the
 * lcores only read q->cap and the tracer. A capture's memory is unmapped only after every
 * queue has passed a burst boundary without it (the rules' QSBR).
 */
#ifndef FN_RUNTIME_CAPTURE_H
#define FN_RUNTIME_CAPTURE_H

#include <stdbool.h>
#include <stdint.h>

#include "runtime.h"
#include "ctl/capture_ring.h"

/* One queue's side of a capture. */
struct fn_nft_state;
struct fn_cap_tracing;

struct fn_cap_queue {
	struct fn_cap_producer prod;
	uint64_t tsc0, ns0, hz;    /* tsc0 ticks was ns0 ns of CLOCK_REALTIME */
	struct fn_nft_state *filter; /* keep what it accepts; NULL: everything */
	uint8_t *scratch;          /* snaplen bytes: what the filter looks at */
	struct fn_cap_tracing *tracing; /* a trace's packets in flight, NULL:
				    * a capture of packets */
};

#if FN_WITH_FILTER
static inline bool fn_capture_on(struct fn_queue *q)
{
	return __atomic_load_n(&q->cap, __ATOMIC_ACQUIRE) != NULL;
}

void fn_capture_record(struct fn_queue *q, struct fn_cap_queue *c, enum fn_cap_dir dir,
		       const uint8_t *l3, uint32_t len, enum fn_verdict v, uint32_t hooks);

/*
 * A packet at the end of its hooks in one direction: verdict v, `hooks` the
 * hooks that ran (the last of them decided; 0: none did).
 */
static inline void fn_capture(struct fn_queue *q, enum fn_cap_dir dir, const uint8_t *l3,
			      uint32_t len, enum fn_verdict v, uint32_t hooks)
{
	struct fn_cap_queue *c = __atomic_load_n(&q->cap, __ATOMIC_ACQUIRE);

	if (likely(c == NULL))
		return;
	fn_capture_record(q, c, dir, l3, len, v, hooks);
}

/*
 * Start capturing into memfd fd (taken over: closed here) laid out as g
 * says, then filter_len bytes of filter image (0: none), on queue `queue`
 * or all (UINT32_MAX). 0 or -errno: -EBUSY when a capture runs, -EINVAL
 * for a geometry that does not fit this process or the memfd, -EBADMSG for
 * a filter image that fails verification, -ENOMEM.
 */
int fn_capture_start(struct fragnet *fn, int fd, const struct fn_cap_geometry *g,
		     uint32_t queue, uint32_t filter_len);
/* Stop and unmap, once no lcore can be writing. Nothing when none runs. */
void fn_capture_stop(struct fragnet *fn);
/* At close, the lcores stopped: stop and unmap everything. */
void fn_capture_free_all(struct fragnet *fn);
/* Records queue's ring of the running capture refused (0: none runs). */
uint64_t fn_capture_dropped(const struct fragnet *fn, unsigned queue);
#else
static inline bool fn_capture_on(struct fn_queue *q)
{
	(void)q;
	return false;
}

static inline void fn_capture(struct fn_queue *q, enum fn_cap_dir dir, const uint8_t *l3,
			      uint32_t len, enum fn_verdict v, uint32_t hooks)
{
	(void)q; (void)dir; (void)l3; (void)len; (void)v; (void)hooks;
}
#endif

#endif /* FN_RUNTIME_CAPTURE_H */
