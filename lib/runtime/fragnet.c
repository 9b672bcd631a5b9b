/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The public API: opening and closing the runtime, running it, and the thin
 * wrappers that hand application calls to the stack modules.
 */
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "capture.h"
#include "eal.h"
#include "export.h"
#include "log.h"
#include "port.h"
#include "queue.h"
#include "runtime.h"
#include "ctl/client.h"
#include "filter/generation.h"
#include "stack/neigh.h"
#include "stack/rss.h"
#include "stack/udp.h"

/* A struct fragnet_buf is an mbuf whose data is the UDP payload. */
#define BUF_MBUF(b) ((struct rte_mbuf *)(b))
#define MBUF_BUF(m) ((struct fragnet_buf *)(m))

/* One open runtime per process: DPDK's EAL is per process too. */
static struct fragnet *open_instance;
static struct fragnet *volatile signalled;

/* The oldest config layout we accept: everything up to and including flags. */
#define CONFIG_MIN_SZ (offsetof(struct fragnet_config, flags) + sizeof(unsigned))

/* A config from a newer header: fine while the fields we lack are unset. */
static bool tail_is_zero(const struct fragnet_config *cfg)
{
	const unsigned char *p = (const unsigned char *)cfg;

	for (size_t i = sizeof(*cfg); i < cfg->sz; i++)
		if (p[i] != 0)
			return false;
	return true;
}

static int check_config(const struct fragnet_config *cfg)
{
	if (cfg == NULL || cfg->sz < CONFIG_MIN_SZ) {
		FN_LOG(ERR, "config: sz must be sizeof(struct fragnet_config)\n");
		return -EINVAL;
	}
	if (!tail_is_zero(cfg)) {
		FN_LOG(ERR, "config: sz %zu sets options that libfragnet %d.%d.%d (sz %zu) "
		       "does not have\n", cfg->sz, FRAGNET_VERSION_MAJOR, FRAGNET_VERSION_MINOR,
		       FRAGNET_VERSION_PATCH, sizeof(*cfg));
		return -E2BIG;
	}
	if (cfg->ports == NULL || cfg->ports[0] == NULL) {
		FN_LOG(ERR, "config: no ports\n");
		return -EINVAL;
	}
	if (cfg->ipv4_addr == 0 || cfg->prefix_len == 0 || cfg->prefix_len > 32) {
		FN_LOG(ERR, "config: ipv4_addr and prefix_len (1-32) are required\n");
		return -EINVAL;
	}
	if (cfg->idle != FRAGNET_IDLE_ADAPTIVE && cfg->idle != FRAGNET_IDLE_BUSY &&
	    cfg->idle != FRAGNET_IDLE_SLEEP) {
		FN_LOG(ERR, "config: unknown idle policy %d\n", cfg->idle);
		return -EINVAL;
	}
	if (cfg->flags & ~(FRAGNET_F_UNFILTERED | FRAGNET_F_NO_SIGNALS | FRAGNET_F_BROADCAST)) {
		FN_LOG(ERR, "config: unknown flags 0x%x\n", cfg->flags);
		return -EINVAL;
	}
	return 0;
}

static void teardown(struct fragnet *fn)
{
#if FN_WITH_FILTER
	fn_ctl_client_stop(fn->ctl); /* it reads the queues */
	fn_capture_free_all(fn);
#endif
	for (unsigned i = 0; i < FN_MAX_QUEUES; i++) {
		if (fn->queues[i] == NULL)
			continue;
		fn_queue_free(fn->queues[i]);
		fn->queues[i] = NULL;
	}
	fn_port_close(fn);
#if FN_WITH_FILTER
	if (fn->filter)
		fn_filter_destroy(fn->filter);
	fn_ctl_client_free(fn->ctl); /* after the images are released */
#endif
	rte_mempool_free(fn->pool);
	fn_udp_table_free(fn->udp);
	fn_neigh_free(fn->neigh);
	free(fn->app_name);
	free(fn);
}

/* Rules: from an image file (tests), from fragnetd, or none when asked. */
static int attach_rules(struct fragnet *fn)
{
	const struct fragnet_config *cfg = &fn->cfg;

#if FN_WITH_FILTER
	fn->filter = fn_filter_create(fn->n_queues);
	if (fn->filter == NULL)
		return -ENOMEM;
	for (unsigned i = 0; i < fn->n_queues; i++)
		fn_filter_queue_attach(fn->filter, &fn->queues[i]->filter, i);
	if (cfg->rules_image) {
		int rc = fn_filter_load_file(fn->filter, cfg->rules_image);

		if (rc < 0) {
			FN_LOG(ERR, "rules image %s: %s\n", cfg->rules_image, strerror(-rc));
			return rc;
		}
		return 0;
	}
	/* fragnetd: the first generation now, the next ones from its thread */
	int rc = fn_ctl_client_start(fn, fn->filter, cfg->flags & FRAGNET_F_UNFILTERED,
				       &fn->ctl);

	/* on other errors a client that is set is freed by teardown() */
	if (rc == 0 || (rc == -ENOTCONN && fn->ctl != NULL))
		return 0;
	if (rc != -ENOTCONN)
		return rc;
#else
	if (cfg->rules_image) {
		FN_LOG(ERR, "this build has no filter (-Dfilter=false): cannot load %s\n",
		       cfg->rules_image);
		return -ENOTSUP;
	}
#endif
	if (!(cfg->flags & FRAGNET_F_UNFILTERED)) {
		FN_LOG(ERR, "no rules: fragnetd is not reachable and FRAGNET_F_UNFILTERED "
		       "was not given\n");
		return -ENOTCONN;
	}
	FN_LOG(WARNING, "*** %s runs UNFILTERED: no rules apply to its traffic ***\n",
	       fn->app_name);
	fn->unfiltered = true;
	return 0;
}

FN_EXPORT struct fragnet *fragnet_open(const struct fragnet_config *user_cfg)
{
	struct fragnet *fn;
	unsigned n_ports = 0;
	int rc;

	rc = check_config(user_cfg);
	if (rc < 0)
		goto fail;
	if (open_instance != NULL) {
		rc = -EBUSY;
		goto fail;
	}
	fn = calloc(1, sizeof(*fn));
	if (fn == NULL) {
		rc = -ENOMEM;
		goto fail;
	}
	memcpy(&fn->cfg, user_cfg, RTE_MIN(user_cfg->sz, sizeof(fn->cfg)));
	fn->cfg.sz = sizeof(fn->cfg);
	fn->app_name = strdup(fn->cfg.app_name ? fn->cfg.app_name : "fragnet");
	fn->cfg.app_name = fn->app_name;
	fn->addr = fn->cfg.ipv4_addr;
	fn->netmask = rte_cpu_to_be_32(~0u << (32 - fn->cfg.prefix_len));
	fn->bcast = fn_subnet_bcast(fn->addr, fn->netmask);
	fn->gateway = fn->cfg.gateway;
	if (fn->app_name == NULL) {
		free(fn);
		rc = -ENOMEM;
		goto fail;
	}
	for (const char *const *p = fn->cfg.ports; *p; p++)
		n_ports++;

	rc = fn_eal_init(&fn->cfg, n_ports > 1 ? n_ports : RTE_MAX(fn->cfg.n_queues, 1u));
	if (rc < 0)
		goto free;
	fn->neigh = fn_neigh_create(SOCKET_ID_ANY, rte_get_tsc_hz());
	fn->udp = fn_udp_table_create(SOCKET_ID_ANY);
	if (fn->neigh == NULL || fn->udp == NULL) {
		rc = -ENOMEM;
		goto free;
	}
	rc = fn_port_probe(fn);
	if (rc < 0)
		goto free;
	{
		static unsigned instance;
		char name[RTE_MEMPOOL_NAMESIZE];

		snprintf(name, sizeof(name), "fn_pool_%u", instance++);
		fn->pool = rte_pktmbuf_pool_create(name, fn_queue_pool_size(fn->n_queues), 256, 0,
						   RTE_PKTMBUF_HEADROOM +
						   fn_port_data_room(&fn->cfg),
						   fn_port_socket(&fn->port, 0));
		if (fn->pool == NULL) {
			FN_LOG(ERR, "cannot allocate %u mbufs\n", fn_queue_pool_size(fn->n_queues));
			rc = -ENOMEM;
			goto free;
		}
	}
	rc = fn_port_start(fn);
	if (rc < 0)
		goto free;
	for (unsigned i = 0; i < fn->n_queues; i++) {
		fn->queues[i] = fn_queue_create(fn, i, fn_port_socket(&fn->port, i));
		if (fn->queues[i] == NULL) {
			rc = -ENOMEM;
			goto free;
		}
	}
	rc = attach_rules(fn);
	if (rc < 0)
		goto free;
	for (unsigned i = 0; i < fn->cfg.n_neighbours && fn->cfg.neighbours; i++) {
		const struct fragnet_neighbour *nb = &fn->cfg.neighbours[i];

		if (fn_neigh_update(fn->neigh, nb->addr, (const struct rte_ether_addr *)nb->mac,
				    FN_NEIGH_F_STATIC, rte_get_tsc_cycles()) < 0)
			FN_LOG(WARNING, "static neighbour %u: no room, ignored\n", i);
	}
	/* Neither the caller's arrays nor their strings are ours to keep. */
	fn->cfg.ports = NULL;
	fn->cfg.neighbours = NULL;
	fn->cfg.lcores = fn->cfg.eal_args = fn->cfg.daemon_socket = fn->cfg.rules_image = NULL;

	FN_LOG(INFO, "%s: %u queue(s) on %s, MTU %u, RSS %s\n", fn->app_name, fn->n_queues,
	       fn->port.ifname, fn->port.mtu, fn->port.rss.known ? "known" : "device's own");
	open_instance = fn;
	return fn;
free:
	teardown(fn);
fail:
	errno = -rc;
	return NULL;
}

FN_EXPORT unsigned fragnet_version(void)
{
	return FRAGNET_VERSION;
}

FN_EXPORT void fragnet_close(struct fragnet *fn)
{
	if (fn == NULL)
		return;
	fragnet_stop(fn);
	if (signalled == fn)
		signalled = NULL;
	teardown(fn);
	open_instance = NULL;
}

FN_EXPORT unsigned fragnet_queue_count(const struct fragnet *fn)
{
	return fn->n_queues;
}

FN_EXPORT struct fragnet_queue *fragnet_queue(struct fragnet *fn, unsigned qid)
{
	if (qid >= fn->n_queues) {
		errno = ERANGE;
		return NULL;
	}
	return (struct fragnet_queue *)fn->queues[qid];
}

FN_EXPORT unsigned fragnet_queue_id(const struct fragnet_queue *q)
{
	return ((const struct fn_queue *)q)->qid;
}

FN_EXPORT int fragnet_udp_bind(struct fragnet *fn, uint16_t port, fragnet_recv_fn cb, void *arg)
{
	return fn_udp_bind(fn->udp, port, cb, arg);
}

FN_EXPORT int fragnet_udp_unbind(struct fragnet *fn, uint16_t port)
{
	return fn_udp_unbind(fn->udp, port);
}

FN_EXPORT int fragnet_udp_bind_ephemeral(struct fragnet_queue *q, uint32_t dst_addr,
					 uint16_t dst_port, fragnet_recv_fn cb, void *arg)
{
	if (cb == NULL)
		return -EINVAL;
	return fn_rss_bind_ephemeral((struct fn_queue *)q, dst_addr, dst_port, cb, arg);
}

/* fragnet_udp_send(): lib/stack/udp.c */

FN_EXPORT size_t fragnet_buf_room(const struct fragnet_queue *q)
{
	const struct fn_queue *fq = (const struct fn_queue *)q;

	return rte_pktmbuf_data_room_size(fq->pool) - RTE_PKTMBUF_HEADROOM;
}

FN_EXPORT struct fragnet_buf *fragnet_buf_alloc(struct fragnet_queue *q, size_t len, void **data)
{
	struct fn_queue *fq = (struct fn_queue *)q;
	struct rte_mbuf *m;

	if (len > fragnet_buf_room(q)) {
		errno = EMSGSIZE;
		return NULL;
	}
	m = rte_pktmbuf_alloc(fq->pool);
	if (m == NULL) {
		errno = ENOBUFS;
		return NULL;
	}
	*data = rte_pktmbuf_append(m, len);
	return MBUF_BUF(m);
}

FN_EXPORT void fragnet_buf_free(struct fragnet_buf *b)
{
	rte_pktmbuf_free(BUF_MBUF(b));
}

FN_EXPORT int fragnet_udp_send_buf(struct fragnet_queue *q, struct fragnet_buf *b,
				   uint16_t src_port, uint32_t dst_addr, uint16_t dst_port)
{
	return fn_udp_send_mbuf((struct fn_queue *)q, BUF_MBUF(b), src_port, dst_addr, dst_port);
}

FN_EXPORT int fragnet_poll(struct fragnet_queue *q)
{
	return fn_queue_poll((struct fn_queue *)q);
}

FN_EXPORT int fragnet_flush(struct fragnet_queue *q)
{
	return fn_tx_flush((struct fn_queue *)q);
}

static int worker_main(void *arg)
{
	fn_queue_loop(arg);
	return 0;
}

static void on_signal(int sig)
{
	struct fragnet *fn = signalled;

	(void)sig;
	if (fn != NULL)
		fragnet_stop(fn);
}

FN_EXPORT int fragnet_run(struct fragnet *fn)
{
	struct sigaction sa = { .sa_handler = on_signal }, old_int, old_term;
	bool handle_signals = !(fn->cfg.flags & FRAGNET_F_NO_SIGNALS);
	unsigned qid = 1, lcore;

	if (fn->running)
		return -EALREADY;
	if (rte_lcore_count() < fn->n_queues || rte_lcore_id() != rte_get_main_lcore()) {
		FN_LOG(ERR, "fragnet_run needs %u lcores (has %u) and the main lcore's thread\n",
		       fn->n_queues, rte_lcore_count());
		return -ENOTSUP;
	}
	fn->running = true;
	__atomic_store_n(&fn->stop, false, __ATOMIC_RELAXED);
	if (handle_signals) {
		signalled = fn;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGINT, &sa, &old_int);
		sigaction(SIGTERM, &sa, &old_term);
	}
	RTE_LCORE_FOREACH_WORKER(lcore) {
		if (qid == fn->n_queues)
			break;
		rte_eal_remote_launch(worker_main, fn->queues[qid++], lcore);
	}
	fn_queue_loop(fn->queues[0]);
	rte_eal_mp_wait_lcore();
	if (handle_signals) {
		sigaction(SIGINT, &old_int, NULL);
		sigaction(SIGTERM, &old_term, NULL);
		signalled = NULL;
	}
	fn->running = false;
	return 0;
}

FN_EXPORT void fragnet_stop(struct fragnet *fn)
{
	__atomic_store_n(&fn->stop, true, __ATOMIC_RELAXED);
}

FN_EXPORT void fragnet_mac(const struct fragnet *fn, uint8_t mac[6])
{
	memcpy(mac, fn->port.mac.addr_bytes, RTE_ETHER_ADDR_LEN);
}
