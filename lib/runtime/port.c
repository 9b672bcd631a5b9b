/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A logical interface is either one multi-queue port (a NIC with RSS, an
 * af_packet vdev with qpairs=N) or several single-queue ports on the same
 * kernel interface (af_xdp on a veth, which exposes no combined channels:
 * one vdev per queue). Queue i is always (ids[i], queue_of[i]).
 *
 * Or the queues are AF_XDP sockets of our own (xsk.h), one "xsk:IFACE:QUEUE"
 * port each, all on one kernel interface: then no DPDK device exists, the
 * MAC and MTU are the kernel interface's, and queue i is kernel queue
 * queue_of[i], served by xsk[i].
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include <rte_bus.h>
#include <rte_dev.h>
#include <rte_ethdev.h>

#include "eal.h"
#include "log.h"
#include "port.h"
#include "runtime.h"
#include "xsk.h"
#include "stack/rss.h"

/* RSS over UDP/IPv4 flows, and addresses only for fragments (what the
 * X540 does: see docs/hardware.md). Masked by what the device offers. */
#define WANT_RSS (RTE_ETH_RSS_NONFRAG_IPV4_UDP | RTE_ETH_RSS_IPV4 | RTE_ETH_RSS_FRAG_IPV4)

/* "net_af_xdp0,iface=veth0,..." -> device name "net_af_xdp0". */
static void device_name(const char *spec, char *name, size_t len)
{
	size_t n = strcspn(spec, ",");

	snprintf(name, len, "%.*s", (int)RTE_MIN(n, len - 1), spec);
}

/* The kernel interface behind an af_xdp/af_packet/tap vdev ("iface=X"). */
static void kernel_iface(const char *spec, char *ifname)
{
	const char *p = strstr(spec, "iface=");
	size_t n;

	if (p == NULL)
		return;
	p += strlen("iface=");
	n = strcspn(p, ",");
	snprintf(ifname, IF_NAMESIZE, "%.*s", (int)RTE_MIN(n, (size_t)IF_NAMESIZE - 1), p);
}

/*
 * Data room an mbuf needs for this configuration. af_packet copies each
 * kernel frame into one mbuf, and its fanout asks the kernel to reassemble
 * IP fragments first (PACKET_FANOUT_FLAG_DEFRAG), so with framesz=N a whole
 * datagram of up to N bytes arrives in one frame: the mbufs must hold it.
 */
uint16_t fn_port_data_room(const struct fragnet_config *cfg)
{
	unsigned room = RTE_MBUF_DEFAULT_DATAROOM;

	for (const char *const *p = cfg->ports; *p; p++) {
		const char *f = strstr(*p, "framesz=");

		if (strncmp(*p, "net_af_packet", strlen("net_af_packet")) == 0 && f != NULL)
			room = RTE_MAX(room, (unsigned)atoi(f + strlen("framesz=")));
	}
	return RTE_MIN(room, (unsigned)UINT16_MAX - RTE_PKTMBUF_HEADROOM);
}

static int iface_flags(const char *ifname, short *flags, bool set)
{
	struct ifreq ifr = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), rc;

	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (set)
		ifr.ifr_flags = *flags;
	rc = ioctl(fd, set ? SIOCSIFFLAGS : SIOCGIFFLAGS, &ifr);
	if (rc == 0)
		*flags = ifr.ifr_flags;
	close(fd);
	return rc < 0 ? -errno : 0;
}

/* libbpf and libxdp narrate every af_xdp setup on stderr (unknown ELF
 * sections, no bpffs, dispatcher fallbacks). The PMD reports real failures
 * itself, so their chatter goes to our log at debug level. */
static int bpf_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	return rte_vlog(RTE_LOG_DEBUG, fn_logtype, fmt, ap);
}

static int xdp_log(enum libxdp_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	return rte_vlog(RTE_LOG_DEBUG, fn_logtype, fmt, ap);
}

static int probe_one(const char *spec, uint16_t *port_id)
{
	char name[RTE_DEV_NAME_MAX_LEN];
	int rc;

	device_name(spec, name, sizeof(name));
	if (rte_eth_dev_get_port_by_name(name, port_id) == 0)
		return 0;   /* PCI ports are probed by the EAL */
	rc = rte_dev_probe(spec);
	if (rc < 0) {
		FN_LOG(ERR, "cannot probe port \"%s\": %s\n", spec, strerror(-rc));
		return -ENODEV;
	}
	if (rte_eth_dev_get_port_by_name(name, port_id) != 0) {
		FN_LOG(ERR, "port \"%s\" probed but no ethdev named %s\n", spec, name);
		return -ENODEV;
	}
	return 0;
}

/* Every port is "xsk:IFACE:QUEUE", on one interface, each queue once. */
static int probe_xsk(struct fragnet *fn, unsigned n)
{
	struct fn_port *port = &fn->port;
	const struct fragnet_config *cfg = &fn->cfg;
	char ifname[IF_NAMESIZE];
	uint16_t mtu;
	uint32_t queue;
	int rc;

	for (unsigned i = 0; i < n; i++) {
		if (fn_xsk_parse(cfg->ports[i], ifname, &queue) < 0 || queue > UINT16_MAX) {
			FN_LOG(ERR, "port \"%s\": not xsk:IFACE:QUEUE\n", cfg->ports[i]);
			return -EINVAL;
		}
		if (i == 0)
			memcpy(port->ifname, ifname, sizeof(ifname));
		if (strcmp(ifname, port->ifname) != 0) {
			FN_LOG(ERR, "xsk ports grouped as one interface must be on one kernel "
			       "interface (%s, %s)\n", port->ifname, ifname);
			return -EINVAL;
		}
		for (unsigned j = 0; j < i; j++) {
			if (port->queue_of[j] == queue) {
				FN_LOG(ERR, "port \"%s\" named twice\n", cfg->ports[i]);
				return -EINVAL;
			}
		}
		port->queue_of[i] = queue;
	}
	if (cfg->n_queues && cfg->n_queues != n) {
		FN_LOG(ERR, "%u xsk ports but n_queues = %u\n", n, cfg->n_queues);
		return -EINVAL;
	}
	rc = fn_xsk_iface(port->ifname, &port->mac, &mtu, &port->ifindex);
	if (rc < 0) {
		FN_LOG(ERR, "interface %s: %s\n", port->ifname, strerror(-rc));
		return rc == -EPROTONOSUPPORT ? -EINVAL : -ENODEV;
	}
	/* what one UMEM frame receives */
	port->mtu = RTE_MIN(mtu, (uint16_t)(FN_XSK_MAX_FRAME - RTE_ETHER_HDR_LEN));
	port->is_xsk = true;
	fn->n_queues = n;
	return 0;
}

int fn_port_probe(struct fragnet *fn)
{
	struct fn_port *port = &fn->port;
	const struct fragnet_config *cfg = &fn->cfg;
	unsigned n = 0, n_xsk = 0;
	int rc;

	port->saved_promisc = -1;
	for (const char *const *p = cfg->ports; *p; p++) {
		n++;
		n_xsk += fn_is_xsk_port(*p);
	}
	if (n > FN_MAX_QUEUES) {
		FN_LOG(ERR, "at most %d ports per interface\n", FN_MAX_QUEUES);
		return -EINVAL;
	}
	if (n_xsk == n)
		return probe_xsk(fn, n);
	if (n_xsk > 0) {
		FN_LOG(ERR, "xsk ports and DPDK ports cannot make one interface\n");
		return -EINVAL;
	}

	libbpf_set_print(bpf_log);
	libxdp_set_print(xdp_log);
	n = 0;
	for (const char *const *p = cfg->ports; *p; p++, n++) {
		rc = probe_one(*p, &port->ids[n]);
		if (rc < 0)
			return rc;
		port->n_ports = n + 1;   /* so that close undoes a partial open */
		if (port->ifname[0] == '\0')
			kernel_iface(*p, port->ifname);
	}
	if (n == 1) {
		fn->n_queues = cfg->n_queues ? cfg->n_queues : 1;
		if (fn->n_queues > FN_MAX_QUEUES) {
			FN_LOG(ERR, "n_queues %u: at most %d\n", fn->n_queues, FN_MAX_QUEUES);
			return -EINVAL;
		}
		for (unsigned i = 0; i < fn->n_queues; i++) {
			port->ids[i] = port->ids[0];
			port->queue_of[i] = i;
		}
	} else {
		if (cfg->n_queues && cfg->n_queues != n) {
			FN_LOG(ERR, "%u single-queue ports but n_queues = %u\n", n, cfg->n_queues);
			return -EINVAL;
		}
		fn->n_queues = n;
	}

	rte_eth_macaddr_get(port->ids[0], &port->mac);
	for (unsigned i = 1; i < port->n_ports; i++) {
		struct rte_ether_addr mac;

		rte_eth_macaddr_get(port->ids[i], &mac);
		if (!rte_is_same_ether_addr(&mac, &port->mac)) {
			FN_LOG(ERR, "ports grouped as one interface must share a MAC "
			       "(queues of one NIC)\n");
			return -EINVAL;
		}
	}
	if (port->ifname[0]) {
		short flags;

		port->ifindex = if_nametoindex(port->ifname);
		if (iface_flags(port->ifname, &flags, false) == 0)
			port->saved_promisc = !!(flags & IFF_PROMISC);
	} else {
		snprintf(port->ifname, sizeof(port->ifname), "fn%u", port->ids[0]);
	}
	if (port->ifindex == 0)
		port->ifindex = 1;
	return 0;
}

/* Configure one DPDK port with nq queue pairs. */
static int configure(struct fragnet *fn, uint16_t id, uint16_t nq)
{
	struct fn_port *port = &fn->port;
	struct rte_eth_conf conf = { 0 };
	struct rte_eth_dev_info info;
	uint16_t nb_rxd = FN_RX_DESC, nb_txd = FN_TX_DESC, mtu = 0;
	uint64_t rx_csum = RTE_ETH_RX_OFFLOAD_IPV4_CKSUM | RTE_ETH_RX_OFFLOAD_UDP_CKSUM;
	uint64_t tx_csum = RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_UDP_CKSUM;
	int rc;

	rc = rte_eth_dev_info_get(id, &info);
	if (rc < 0)
		return rc;
	if (nq > info.max_rx_queues || nq > info.max_tx_queues) {
		FN_LOG(ERR, "port %u supports %u/%u queues, %u asked\n", id,
		       info.max_rx_queues, info.max_tx_queues, nq);
		return -EINVAL;
	}
	if (nq > 1 && (info.flow_type_rss_offloads & WANT_RSS)) {
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_key = (uint8_t *)fn_rss_default_key;
		conf.rx_adv_conf.rss_conf.rss_key_len = sizeof(fn_rss_default_key);
		conf.rx_adv_conf.rss_conf.rss_hf = info.flow_type_rss_offloads & WANT_RSS;
	}
	if ((info.rx_offload_capa & rx_csum) == rx_csum) {
		conf.rxmode.offloads |= rx_csum;
		port->rx_csum = true;
	}
	if ((info.tx_offload_capa & tx_csum) == tx_csum) {
		conf.txmode.offloads |= tx_csum;
		port->tx_csum = true;
	}
	rc = rte_eth_dev_configure(id, nq, nq, &conf);
	if (rc < 0)
		return rc;
	rc = rte_eth_dev_adjust_nb_rx_tx_desc(id, &nb_rxd, &nb_txd);
	if (rc < 0)
		return rc;
	for (uint16_t q = 0; q < nq; q++) {
		rc = rte_eth_rx_queue_setup(id, q, nb_rxd, rte_eth_dev_socket_id(id), NULL, fn->pool);
		if (rc < 0)
			return rc;
		rc = rte_eth_tx_queue_setup(id, q, nb_txd, rte_eth_dev_socket_id(id), NULL);
		if (rc < 0)
			return rc;
	}
	rc = rte_eth_dev_start(id);
	if (rc < 0)
		return rc;

	if (conf.rxmode.mq_mode == RTE_ETH_MQ_RX_RSS && info.reta_size) {
		struct rte_eth_rss_reta_entry64 reta[512 / RTE_ETH_RETA_GROUP_SIZE] = { 0 };
		uint16_t size = RTE_MIN(info.reta_size, (uint16_t)512);

		fn_rss_set(&port->rss, fn_rss_default_key, size, nq);
		for (uint16_t i = 0; i < size; i++) {
			reta[i / RTE_ETH_RETA_GROUP_SIZE].mask |= 1ull << (i % RTE_ETH_RETA_GROUP_SIZE);
			reta[i / RTE_ETH_RETA_GROUP_SIZE].reta[i % RTE_ETH_RETA_GROUP_SIZE] =
				port->rss.reta[i];
		}
		if (rte_eth_dev_rss_reta_update(id, reta, size) < 0) {
			FN_LOG(WARNING, "port %u: RETA not programmable; reassembled datagrams "
			       "stay on the queue that completed them\n", id);
			port->rss.known = false;
		}
	}

	if (rte_eth_dev_get_mtu(id, &mtu) < 0 || mtu == 0)
		mtu = RTE_ETHER_MTU;
	if (port->mtu == 0 || mtu < port->mtu)
		port->mtu = mtu;
	return 0;
}

static void wait_link(uint16_t id)
{
	struct rte_eth_link link;

	for (int i = 0; i < 30; i++) {
		if (rte_eth_link_get_nowait(id, &link) == 0 && link.link_status)
			return;
		usleep(100 * 1000);
	}
	FN_LOG(WARNING, "port %u: link still down, continuing\n", id);
}

/* One AF_XDP socket per queue. No offloads: the stack checks and fills
 * checksums itself (rx_csum, tx_csum stay false). */
static int start_xsk(struct fragnet *fn)
{
	struct fn_port *port = &fn->port;

	for (unsigned i = 0; i < fn->n_queues; i++) {
		port->xsk[i] = fn_xsk_open(port->ifname, port->queue_of[i], fn->pool,
					   fn_port_socket(port, i));
		if (port->xsk[i] == NULL)
			return -errno;
	}
	return 0;
}

int fn_port_start(struct fragnet *fn)
{
	struct fn_port *port = &fn->port;
	uint16_t per_port = port->n_ports == 1 ? fn->n_queues : 1;
	uint16_t want = fn->cfg.mtu, limit;
	int rc;

	if (port->is_xsk) {
		rc = start_xsk(fn);
		if (rc < 0)
			return rc;
	}
	for (unsigned i = 0; i < port->n_ports; i++) {
		rc = configure(fn, port->ids[i], per_port);
		if (rc < 0) {
			FN_LOG(ERR, "port %u: configuration failed: %s\n", port->ids[i],
			       strerror(-rc));
			return -ENODEV;
		}
	}
	/* The IP MTU: what was asked, never more than the device or one mbuf
	 * carries (we do not receive scattered frames); 1500 by default. */
	limit = RTE_MIN(port->mtu, (uint16_t)(rte_pktmbuf_data_room_size(fn->pool) -
					      RTE_PKTMBUF_HEADROOM - RTE_ETHER_HDR_LEN));
	if (want > limit || (want && want < FN_MIN_MTU)) {
		FN_LOG(ERR, "mtu %u: the port carries %u to %u\n", want, FN_MIN_MTU, limit);
		return -EINVAL;
	}
	port->mtu = want ? want : RTE_MIN(limit, (uint16_t)RTE_ETHER_MTU);
	for (unsigned i = 0; i < port->n_ports; i++)
		wait_link(port->ids[i]);
	return 0;
}

int fn_port_socket(const struct fn_port *port, unsigned qid)
{
	return port->is_xsk ? SOCKET_ID_ANY : rte_eth_dev_socket_id(port->ids[qid]);
}

unsigned fn_port_xsk_sockets(const struct fragnet *fn, struct fn_xsk_socket *out,
			     unsigned max)
{
	const struct fn_port *port = &fn->port;
	unsigned n = 0;

	for (unsigned i = 0; i < fn->n_queues && n < max; i++) {
		if (port->xsk[i] == NULL)
			continue;
		out[n++] = (struct fn_xsk_socket){
			.qid = i,
			.fd = fn_xsk_fd(port->xsk[i]),
			.ifindex = port->ifindex,
			.queue = port->queue_of[i],
		};
	}
	return n;
}

void fn_port_close(struct fragnet *fn)
{
	struct fn_port *port = &fn->port;

	for (unsigned i = 0; i < FN_MAX_QUEUES; i++) {
		fn_xsk_close(port->xsk[i]);
		port->xsk[i] = NULL;
	}

	for (unsigned i = 0; i < port->n_ports; i++) {
		struct rte_eth_dev_info info;
		struct rte_device *dev = NULL;
		uint16_t id = port->ids[i];

		if (rte_eth_dev_info_get(id, &info) == 0)
			dev = info.device;
		rte_eth_dev_stop(id);
		rte_eth_dev_close(id);
		if (dev != NULL)
			rte_dev_remove(dev);
	}
	/* af_xdp may leave the kernel interface promiscuous. */
	if (port->saved_promisc == 0) {
		short flags;

		if (iface_flags(port->ifname, &flags, false) == 0 && (flags & IFF_PROMISC)) {
			flags &= ~IFF_PROMISC;
			iface_flags(port->ifname, &flags, true);
		}
	}
	port->n_ports = 0;
}
