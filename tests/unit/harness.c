/* SPDX-License-Identifier: BSD-3-Clause */
/* The device-less stack and its fixtures (harness.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_malloc.h>

#include "harness.h"
#include "runtime/queue.h"
#include "stack/eth.h"
#include "stack/neigh.h"
#include "stack/udp.h"

/* Setup failures are the harness's own bugs: stop loudly. */
#define MUST(cond) do { \
	if (!(cond)) { \
		fprintf(stderr, "%s:%d: harness: %s\n", __FILE__, __LINE__, #cond); \
		abort(); \
	} \
} while (0)

const struct rte_ether_addr h_mac = { .addr_bytes = { 0x02, 0, 0, 0, 0, 1 } };
const struct rte_ether_addr h_peer_mac = { .addr_bytes = { 0x02, 0, 0, 0, 0, 2 } };

void h_eal(void)
{
	static bool up;
	char *argv[] = { "test", "--no-huge", "-m", "256", "--no-pci", "--no-shconf",
			 "--no-telemetry", "--log-level=lib.eal:error", "-l", "0", NULL };

	if (up)
		return;
	if (rte_eal_init(RTE_DIM(argv) - 1, argv) < 0 && rte_errno != EALREADY) {
		fprintf(stderr, "EAL init failed: %s\n", rte_strerror(rte_errno));
		exit(1);
	}
	up = true;
}

static struct fragnet *new_stack(unsigned n_queues, uint32_t addr,
				 const struct rte_ether_addr *mac)
{
	static unsigned instance;
	struct fragnet *fn = calloc(1, sizeof(*fn));
	char name[32];

	h_eal();
	fn->n_queues = n_queues;
	fn->addr = addr;
	fn->netmask = RTE_BE32(0xffffff00);
	fn->bcast = fn_subnet_bcast(addr, fn->netmask);
	fn->gateway = H_GW;
	fn->port.mac = *mac;
	fn->port.mtu = 1500;
	fn->port.ifindex = 1;
	strcpy(fn->port.ifname, "fntest0");
	fn->port.n_ports = 0;   /* no device: frames stay in q->tx */
	fn->cfg.idle = FRAGNET_IDLE_ADAPTIVE;
	snprintf(name, sizeof(name), "h_pool_%u", instance++);
	fn->pool = rte_pktmbuf_pool_create(name, 8191, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
					   SOCKET_ID_ANY);
	fn->neigh = fn_neigh_create(SOCKET_ID_ANY, rte_get_tsc_hz());
	fn->udp = fn_udp_table_create(SOCKET_ID_ANY);
	MUST(fn->pool && fn->neigh && fn->udp);
	for (unsigned i = 0; i < n_queues; i++) {
		fn->port.ids[i] = RTE_MAX_ETHPORTS - 1;   /* never a real port */
		fn->queues[i] = fn_queue_create(fn, i, SOCKET_ID_ANY);
		MUST(fn->queues[i]);
		fn->queues[i]->announce = false;
	}
	return fn;
}

struct fragnet *h_new(unsigned n_queues)
{
	return new_stack(n_queues, H_ADDR, &h_mac);
}

struct fragnet *h_new_peer(void)
{
	return new_stack(1, H_PEER, &h_peer_mac);
}

void h_knows(struct fragnet *fn, uint32_t addr, const struct rte_ether_addr *mac)
{
	MUST(fn_neigh_update(fn->neigh, addr, mac, FN_NEIGH_F_STATIC, 0) >= 0);
}

unsigned h_deliver(struct fn_queue *from, struct fn_queue *to)
{
	unsigned n = 0;

	while (h_tx_count(from) > 0) {
		fn_eth_input(to, h_tx_take(from, 0));
		n++;
	}
	fn_rx_done_flush(to);   /* the frames belong to the sender's pool */
	return n;
}

unsigned h_release(struct fragnet *fn)
{
	unsigned leaked;

	if (fn == NULL)
		return 0;
	for (unsigned i = 0; i < fn->n_queues; i++) {
		h_tx_clear(fn->queues[i]);
		fn_queue_free(fn->queues[i]);
	}
	fn_udp_table_free(fn->udp);
	fn_neigh_free(fn->neigh);
	leaked = (unsigned)rte_mempool_in_use_count(fn->pool);
	rte_mempool_free(fn->pool);
	free(fn);
	return leaked;
}

static int setup(void **state, unsigned n_queues, bool peer)
{
	struct h_fix *x = calloc(1, sizeof(*x));

	MUST(x);
	x->fn = h_new(n_queues);
	if (peer)
		x->peer = h_new_peer();
	*state = x;
	return 0;
}

int h_setup(void **state)
{
	return setup(state, 1, false);
}

int h_setup2(void **state)
{
	return setup(state, 2, false);
}

int h_setup_peer(void **state)
{
	return setup(state, 1, true);
}

int h_teardown(void **state)
{
	struct h_fix *x = *state;
	unsigned leaked = h_release(x->fn) + h_release(x->peer);

	free(x);
	if (leaked) {
		fprintf(stderr, "harness: %u mbufs not returned to the pool\n", leaked);
		return -1;
	}
	return 0;
}

struct rte_mbuf *h_frame(struct fragnet *fn, const void *bytes, size_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(fn->pool);

	MUST(m && len <= rte_pktmbuf_tailroom(m));
	memcpy(rte_pktmbuf_append(m, len), bytes, len);
	return m;
}

struct rte_mbuf *h_ip_frame(struct fragnet *fn, const void *l3, size_t len)
{
	uint8_t buf[2048];
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)buf;

	MUST(len + sizeof(*eth) <= sizeof(buf));
	eth->dst_addr = h_mac;
	eth->src_addr = h_peer_mac;
	eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV4);
	memcpy(eth + 1, l3, len);
	return h_frame(fn, buf, sizeof(*eth) + len);
}

struct rte_mbuf *h_udp_frame(struct fragnet *fn, uint16_t sport, uint16_t dport,
			     const void *payload, size_t len)
{
	uint8_t buf[2048];
	size_t n = tp_udp(buf, H_PEER, H_ADDR, sport, dport, payload, len, NULL);

	return h_ip_frame(fn, buf, n);
}

unsigned h_tx_count(struct fn_queue *q)
{
	return q->n_tx;
}

struct rte_mbuf *h_tx_take(struct fn_queue *q, unsigned i)
{
	struct rte_mbuf *m;

	MUST(i < q->n_tx);
	m = q->tx[i];
	memmove(&q->tx[i], &q->tx[i + 1], (q->n_tx - i - 1) * sizeof(q->tx[0]));
	q->n_tx--;
	return m;
}

void h_tx_clear(struct fn_queue *q)
{
	fn_rx_done_flush(q);   /* what the poll loop does after each burst */
	rte_pktmbuf_free_bulk(q->tx, q->n_tx);
	q->n_tx = 0;
}

uint64_t h_drops(const struct fn_queue *q)
{
	uint64_t n = 0;

	for (unsigned i = 0; i < FN_DROP_COUNT; i++)
		n += q->stats.drops[i];
	return n;
}

void h_record(struct fragnet_queue *q, const struct fragnet_dgram *d, void *arg)
{
	struct h_rx *rx = arg;

	rx->n++;
	rx->last = *d;
	MUST(d->len <= sizeof(rx->data));
	memcpy(rx->data, d->data, d->len);
	rx->last.data = rx->data;
	rx->queue = ((struct fn_queue *)q)->qid;
}
