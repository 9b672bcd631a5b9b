/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Reading the per-queue counters: the internal copy (fn_stats_read), the
 * public calls over it, with the 0.1 layout of fragnet_queue_stats kept for
 * programs linked against 0.1, and the names of the drop reasons, as printed
 * by tools and used in JSON keys.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include <rte_common.h>

#include "export.h"
#include "fragnet.h"
#include "runtime.h"
#include "stats.h"

static const char *const drop_names[] = {
	[FRAGNET_DROP_ETH_DST] = "eth_dst",
	[FRAGNET_DROP_ETH_TYPE] = "eth_type",
	[FRAGNET_DROP_ETH_SHORT] = "eth_short",
	[FRAGNET_DROP_ARP_MALFORMED] = "arp_malformed",
	[FRAGNET_DROP_ARP_NOT_OURS] = "arp_not_ours",
	[FRAGNET_DROP_ARP_UNRESOLVED] = "arp_unresolved",
	[FRAGNET_DROP_IP_MALFORMED] = "ip_malformed",
	[FRAGNET_DROP_IP_CSUM] = "ip_csum",
	[FRAGNET_DROP_IP_NOT_OURS] = "ip_not_ours",
	[FRAGNET_DROP_IP_PROTO] = "ip_proto",
	[FRAGNET_DROP_FRAG_MALFORMED] = "frag_malformed",
	[FRAGNET_DROP_FRAG_DUPLICATE] = "frag_duplicate",
	[FRAGNET_DROP_FRAG_TIMEOUT] = "frag_timeout",
	[FRAGNET_DROP_FRAG_NOMEM] = "frag_nomem",
	[FRAGNET_DROP_FRAG_DISABLED] = "frag_disabled",
	[FRAGNET_DROP_UDP_MALFORMED] = "udp_malformed",
	[FRAGNET_DROP_UDP_CSUM] = "udp_csum",
	[FRAGNET_DROP_UDP_NO_PORT] = "udp_no_port",
	[FRAGNET_DROP_ICMP_MALFORMED] = "icmp_malformed",
	[FRAGNET_DROP_ICMP_UNHANDLED] = "icmp_unhandled",
	[FRAGNET_DROP_FILTER] = "filter",
	[FRAGNET_DROP_NO_MBUF] = "no_mbuf",
	[FRAGNET_DROP_TX_FULL] = "tx_full",
	[FRAGNET_DROP_HANDOFF] = "handoff",
	[FRAGNET_DROP_NO_ROUTE] = "no_route",
	[FRAGNET_DROP_IP_SRC] = "ip_src",
	[FRAGNET_DROP_NEIGH_REFUSED] = "neigh_refused",
	[FRAGNET_DROP_NEIGH_EVICTED] = "neigh_evicted",
	[FRAGNET_DROP_FRAG_QUOTA] = "frag_quota",
};
_Static_assert(RTE_DIM(drop_names) == FN_DROP_COUNT,
	       "a drop reason without a name, or FN_DROP_COUNT not following the enum");

FN_EXPORT unsigned fragnet_drop_count(void)
{
	return FN_DROP_COUNT;
}

FN_EXPORT const char *fragnet_drop_name(unsigned reason)
{
	return reason < FN_DROP_COUNT ? drop_names[reason] : NULL;
}

void fn_stats_read(const struct fn_stats *live, struct fn_stats *copy)
{
#define LOAD(field) __atomic_load_n(&live->field, __ATOMIC_RELAXED)
	copy->rx_packets = LOAD(rx_packets);
	copy->rx_bytes = LOAD(rx_bytes);
	copy->tx_packets = LOAD(tx_packets);
	copy->tx_bytes = LOAD(tx_bytes);
	copy->rx_datagrams = LOAD(rx_datagrams);
	copy->tx_datagrams = LOAD(tx_datagrams);
	copy->link_down = LOAD(link_down);
	copy->busy_cycles = LOAD(busy_cycles);
	for (unsigned r = 0; r < FN_DROP_COUNT; r++)
		copy->drops[r] = LOAD(drops[r]);
#undef LOAD
}

/* Queue qid's counters, and its public stats (everything but drops). */
static int read_queue(const struct fragnet *fn, unsigned qid, struct fn_stats *s,
		      struct fragnet_queue_stats *st)
{
	const struct fn_queue *q;

	if (qid >= fn->n_queues)
		return -ERANGE;
	q = fn->queues[qid];
	fn_stats_read(&q->stats, s);
	memset(st, 0, sizeof(*st));   /* padding too: it is copied out */
	st->sz = sizeof(*st);
	st->rx_packets = s->rx_packets;
	st->rx_bytes = s->rx_bytes;
	st->tx_packets = s->tx_packets;
	st->tx_bytes = s->tx_bytes;
	st->rx_datagrams = s->rx_datagrams;
	st->tx_datagrams = s->tx_datagrams;
	st->filter_generation = __atomic_load_n(&q->filter.generation, __ATOMIC_RELAXED);
	st->unfiltered = fn->unfiltered;
	st->link_down = s->link_down;
	st->busy_ns = fn_cycles_to_ns(s->busy_cycles, q->clk.hz);
	return 0;
}

/* fragnet_queue_stats since 0.2: copy what both sides know, zero the rest. */
int fragnet_queue_stats_v0_2(const struct fragnet *fn, unsigned qid,
			     struct fragnet_queue_stats *st);
FN_SYMVER(fragnet_queue_stats_v0_2, "fragnet_queue_stats@@FRAGNET_0.2");
FN_EXPORT int fragnet_queue_stats_v0_2(const struct fragnet *fn, unsigned qid,
				       struct fragnet_queue_stats *st)
{
	const size_t head = offsetof(struct fragnet_queue_stats, rx_packets);
	struct fragnet_queue_stats ours;
	struct fn_stats s;
	int rc;

	if (st == NULL || st->sz < head + sizeof(st->rx_packets))
		return -EINVAL;
	rc = read_queue(fn, qid, &s, &ours);
	if (rc < 0)
		return rc;
	memcpy((char *)st + head, (char *)&ours + head, RTE_MIN(st->sz, sizeof(ours)) - head);
	if (st->sz > sizeof(ours))
		memset((char *)st + sizeof(ours), 0, st->sz - sizeof(ours));
	return 0;
}

FN_EXPORT int fragnet_queue_drops(const struct fragnet *fn, unsigned qid, uint64_t *out,
				  unsigned n)
{
	struct fn_stats s;

	if (out == NULL && n > 0)
		return -EINVAL;
	if (qid >= fn->n_queues)
		return -ERANGE;
	fn_stats_read(&fn->queues[qid]->stats, &s);
	for (unsigned r = 0; r < n; r++)
		out[r] = r < FN_DROP_COUNT ? s.drops[r] : 0;
	return FN_DROP_COUNT;
}

/*
 * fragnet_queue_stats as 0.1 had it, for programs linked against 0.1: the
 * drop counters inside the struct, as many as 0.1 had reasons, and a struct
 * smaller than this refused.
 */
#define V0_1_DROPS (FRAGNET_DROP_NO_ROUTE + 1)

struct fragnet_queue_stats_v0_1 {
	size_t sz;
	uint64_t rx_packets, rx_bytes;
	uint64_t tx_packets, tx_bytes;
	uint64_t rx_datagrams, tx_datagrams;
	uint64_t drops[V0_1_DROPS];
	uint64_t filter_generation;
	uint32_t unfiltered;
};

int fragnet_queue_stats_v0_1(const struct fragnet *fn, unsigned qid,
			     struct fragnet_queue_stats_v0_1 *st);
FN_SYMVER(fragnet_queue_stats_v0_1, "fragnet_queue_stats@FRAGNET_0.1");
FN_EXPORT int fragnet_queue_stats_v0_1(const struct fragnet *fn, unsigned qid,
				       struct fragnet_queue_stats_v0_1 *st)
{
	struct fragnet_queue_stats ours;
	struct fn_stats s;
	int rc;

	if (st == NULL || st->sz < sizeof(*st))
		return -EINVAL;
	rc = read_queue(fn, qid, &s, &ours);
	if (rc < 0)
		return rc;
	st->rx_packets = ours.rx_packets;
	st->rx_bytes = ours.rx_bytes;
	st->tx_packets = ours.tx_packets;
	st->tx_bytes = ours.tx_bytes;
	st->rx_datagrams = ours.rx_datagrams;
	st->tx_datagrams = ours.tx_datagrams;
	memcpy(st->drops, s.drops, sizeof(st->drops));
	st->filter_generation = ours.filter_generation;
	st->unfiltered = ours.unfiltered;
	return 0;
}
