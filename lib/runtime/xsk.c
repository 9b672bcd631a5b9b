/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * AF_XDP queues in copy mode. We create the socket, register its UMEM and
 * set up its four rings (libxdp's xsk helpers for the UMEM and the ring
 * accessors), but do not bind it: fragnetd binds it to the queue its
 * configuration grants us and puts it in its XSKMAP (fragnetd is what
 * knows, rather than believes, where a socket in its map is bound). Creating
 * the socket needs CAP_NET_RAW, the UMEM needs RLIMIT_MEMLOCK room, and
 * nothing here calls bpf().
 *
 * The UMEM's first FN_XSK_RX_FRAMES frames belong to receive: each is in the
 * fill ring, in the kernel's hands, in the rx ring or, during a burst, in
 * ours; both rings are that size. So the fill ring always has room for what
 * we give back, and the rx ring is never full when the kernel has a frame
 * to put in it, provided we release rx descriptors before we refill their
 * frames. That matters beyond a lost frame: a frame the kernel cannot queue
 * goes back to its free list with the metadata it was given, and the next
 * frame received into it, with no metadata of its own, would carry it.
 * The others belong to transmit: each is free (x->free_tx), in the tx ring
 * or in the completion ring, and both rings are that size, so neither can
 * overflow.
 */
#include <assert.h>
#include <errno.h>
#include <net/if_arp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/if_xdp.h>
#include <xdp/xsk.h>

#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_memcpy.h>

#include "log.h"
#include "xsk.h"

#define UMEM_SIZE ((size_t)FN_XSK_FRAMES * FN_XSK_FRAME_SIZE)

static_assert(sizeof(struct fn_xdp_meta) == FN_XDP_META_LEN, "xdp/meta.h: 24 bytes");
static_assert(FN_XDP_META_LEN <= FN_XSK_RX_OFFSET, "metadata fits in front of a frame");
/* Copy mode transmits inside sendto(), a batch of 32 frames per call
 * (EAGAIN: more to do): enough calls to empty a full tx ring. */
#define MAX_KICKS (FN_XSK_TX_FRAMES / 32 + 1)
#define RX_BATCH 64     /* frames taken from the rx ring at once, at most */

struct fn_xsk {
	struct xsk_ring_cons rx;
	struct xsk_ring_prod fill;
	struct xsk_ring_prod tx;
	struct xsk_ring_cons comp;
	uint8_t *area;
	struct rte_mempool *pool;
	int fd;
	unsigned n_free_tx;
	uint64_t free_tx[FN_XSK_TX_FRAMES];   /* UMEM offsets of free frames */
	struct xsk_umem *umem;          /* its fd is the socket's */
	void *rx_map, *tx_map;          /* the rx and tx rings, mapped */
	size_t rx_map_len, tx_map_len;
	char ifname[IF_NAMESIZE];
	uint32_t queue;
};

int fn_xsk_meta_offset = -1;

int fn_xsk_meta_register(void)
{
	static const struct rte_mbuf_dynfield desc = {
		.name = "fragnet_xdp_meta",
		.size = sizeof(struct fn_xsk_meta),
		.align = __alignof__(struct fn_xsk_meta),
	};
	int off = rte_mbuf_dynfield_register(&desc);

	if (off < 0)
		return -rte_errno;
	fn_xsk_meta_offset = off;
	return 0;
}

int fn_xsk_parse(const char *spec, char ifname[IF_NAMESIZE], uint32_t *queue)
{
	const char *name = spec + strlen(FN_XSK_PREFIX);
	/* ':' is not allowed in interface names: the first one ends it */
	const char *colon = strchr(name, ':');
	unsigned long q;
	char *end;

	if (!fn_is_xsk_port(spec) || colon == NULL || colon == name ||
	    colon - name >= IF_NAMESIZE || colon[1] < '0' || colon[1] > '9')
		return -EINVAL;
	errno = 0;
	q = strtoul(colon + 1, &end, 10);
	if (*end != '\0' || errno != 0 || q > UINT32_MAX)
		return -EINVAL;
	snprintf(ifname, IF_NAMESIZE, "%.*s", (int)(colon - name), name);
	*queue = q;
	return 0;
}

int fn_xsk_iface(const char *ifname, struct rte_ether_addr *mac, uint16_t *mtu,
		 uint32_t *ifindex)
{
	struct ifreq ifr = { 0 };
	int fd, rc = 0;

	*ifindex = if_nametoindex(ifname);
	if (*ifindex == 0)
		return -ENODEV;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0) {
		rc = -errno;
		goto out;
	}
	if (ifr.ifr_hwaddr.sa_family != ARPHRD_ETHER) {
		rc = -EPROTONOSUPPORT;
		goto out;
	}
	memcpy(mac->addr_bytes, ifr.ifr_hwaddr.sa_data, RTE_ETHER_ADDR_LEN);
	if (ioctl(fd, SIOCGIFMTU, &ifr) < 0) {
		rc = -errno;
		goto out;
	}
	*mtu = ifr.ifr_mtu > UINT16_MAX ? UINT16_MAX : ifr.ifr_mtu;
out:
	close(fd);
	return rc;
}

static void explain(const char *what, const char *ifname, uint32_t queue, int err)
{
	struct rlimit rl = { 0 };

	switch (err) {
	case EPERM:
	case EACCES:
		FN_LOG(ERR, "%s:%u: %s: %s (AF_XDP sockets need CAP_NET_RAW)\n", ifname,
		       queue, what, strerror(err));
		break;
	case ENOBUFS:
	case ENOMEM:
		getrlimit(RLIMIT_MEMLOCK, &rl);
		FN_LOG(ERR, "%s:%u: %s: %s (each queue's UMEM pins %zu KiB, counted against "
		       "RLIMIT_MEMLOCK, %llu KiB for all processes of uid %u together, "
		       "unless the process has CAP_IPC_LOCK)\n",
		       ifname, queue, what, strerror(err), UMEM_SIZE / 1024,
		       (unsigned long long)rl.rlim_cur / 1024, (unsigned)getuid());
		break;
	case EBUSY:
		FN_LOG(ERR, "%s:%u: %s: the queue has an AF_XDP socket already\n", ifname,
		       queue, what);
		break;
	default:
		FN_LOG(ERR, "%s:%u: %s: %s\n", ifname, queue, what, strerror(err));
	}
}

/* One ring of the socket, mapped: the producer, consumer and flags words
 * and the descriptors, where the kernel says they are. */
static void *map_ring(int fd, uint32_t size, const struct xdp_ring_offset *off,
		      uint64_t pgoff, size_t desc_size, size_t *len)
{
	void *map;

	*len = off->desc + size * desc_size;
	map = mmap(NULL, *len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd,
		   (off_t)pgoff);
	return map == MAP_FAILED ? NULL : map;
}

/* The rx and tx rings (libxdp's xsk_socket__create() would also bind). */
static int map_rings(struct fn_xsk *x)
{
	struct xdp_mmap_offsets off;
	socklen_t len = sizeof(off);
	uint8_t *m;

	/* the sizes must be set before the offsets are asked for */
	if (setsockopt(x->fd, SOL_XDP, XDP_RX_RING, &(int){ FN_XSK_RX_FRAMES }, sizeof(int)) < 0 ||
	    setsockopt(x->fd, SOL_XDP, XDP_TX_RING, &(int){ FN_XSK_TX_FRAMES }, sizeof(int)) < 0 ||
	    getsockopt(x->fd, SOL_XDP, XDP_MMAP_OFFSETS, &off, &len) < 0)
		return -errno;
	m = x->rx_map = map_ring(x->fd, FN_XSK_RX_FRAMES, &off.rx, XDP_PGOFF_RX_RING,
				 sizeof(struct xdp_desc), &x->rx_map_len);
	if (!m)
		return -errno;
	x->rx = (struct xsk_ring_cons){
		.mask = FN_XSK_RX_FRAMES - 1, .size = FN_XSK_RX_FRAMES,
		.producer = (void *)(m + off.rx.producer), .consumer = (void *)(m + off.rx.consumer),
		.ring = m + off.rx.desc, .flags = (void *)(m + off.rx.flags),
	};
	x->rx.cached_prod = *x->rx.producer;
	x->rx.cached_cons = *x->rx.consumer;
	m = x->tx_map = map_ring(x->fd, FN_XSK_TX_FRAMES, &off.tx, XDP_PGOFF_TX_RING,
				 sizeof(struct xdp_desc), &x->tx_map_len);
	if (!m)
		return -errno;
	x->tx = (struct xsk_ring_prod){
		.mask = FN_XSK_TX_FRAMES - 1, .size = FN_XSK_TX_FRAMES,
		.producer = (void *)(m + off.tx.producer), .consumer = (void *)(m + off.tx.consumer),
		.ring = m + off.tx.desc, .flags = (void *)(m + off.tx.flags),
	};
	x->tx.cached_prod = *x->tx.producer;
	x->tx.cached_cons = *x->tx.consumer + FN_XSK_TX_FRAMES;
	return 0;
}

struct fn_xsk *fn_xsk_open(const char *ifname, uint32_t queue, struct rte_mempool *pool,
			   int socket_id)
{
	const struct xsk_umem_config ucfg = {
		.fill_size = FN_XSK_RX_FRAMES,
		.comp_size = FN_XSK_TX_FRAMES,
		.frame_size = FN_XSK_FRAME_SIZE,
	};
	struct fn_xsk *x;
	uint32_t idx;
	int rc;

	if (rte_pktmbuf_data_room_size(pool) < RTE_PKTMBUF_HEADROOM + FN_XSK_MAX_FRAME) {
		FN_LOG(ERR, "%s:%u: mbufs smaller than a UMEM frame\n", ifname, queue);
		errno = EINVAL;
		return NULL;
	}
	rc = fn_xsk_meta_register();
	if (rc < 0) {
		FN_LOG(ERR, "cannot register the mbuf field for XDP metadata: %s\n",
		       strerror(-rc));
		errno = -rc;
		return NULL;
	}
	x = rte_zmalloc_socket("fn_xsk", sizeof(*x), RTE_CACHE_LINE_SIZE, socket_id);
	if (x == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	x->pool = pool;
	x->fd = -1;
	x->queue = queue;
	snprintf(x->ifname, sizeof(x->ifname), "%s", ifname);
	x->area = mmap(NULL, UMEM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0);
	if (x->area == MAP_FAILED) {
		x->area = NULL;
		rc = -errno;
		goto fail;
	}
	rc = xsk_umem__create(&x->umem, x->area, UMEM_SIZE, &x->fill, &x->comp, &ucfg);
	if (rc < 0) {
		x->umem = NULL;
		explain("cannot register the UMEM", ifname, queue, -rc);
		goto fail;
	}
	x->fd = xsk_umem__fd(x->umem);
	rc = map_rings(x);
	if (rc < 0) {
		explain("cannot set up the AF_XDP rings", ifname, queue, -rc);
		goto fail;
	}

	/* Lend every receive frame to the kernel; keep the transmit ones. */
	if (xsk_ring_prod__reserve(&x->fill, FN_XSK_RX_FRAMES, &idx) != FN_XSK_RX_FRAMES) {
		rc = -EIO;
		goto fail;
	}
	for (unsigned i = 0; i < FN_XSK_RX_FRAMES; i++)
		*xsk_ring_prod__fill_addr(&x->fill, idx + i) = (uint64_t)i * FN_XSK_FRAME_SIZE;
	xsk_ring_prod__submit(&x->fill, FN_XSK_RX_FRAMES);
	for (unsigned i = 0; i < FN_XSK_TX_FRAMES; i++)
		x->free_tx[i] = (uint64_t)(FN_XSK_RX_FRAMES + i) * FN_XSK_FRAME_SIZE;
	x->n_free_tx = FN_XSK_TX_FRAMES;
	/* Whoever binds the socket and inserts it into the interface's XSKMAP
	 * (fragnetd, or a test without it) may need this where the kernel has
	 * no xdp_diag (CONFIG_XDP_SOCKETS_DIAG). */
	FN_LOG(INFO, "%s queue %u: AF_XDP socket fd %d, %zu KiB UMEM, to be bound by fragnetd\n",
	       ifname, queue, x->fd, UMEM_SIZE / 1024);
	return x;
fail:
	fn_xsk_close(x);
	errno = -rc;
	return NULL;
}

void fn_xsk_close(struct fn_xsk *x)
{
	if (x == NULL)
		return;
	if (x->fd >= 0) {
		struct xdp_statistics s;
		socklen_t len = sizeof(s);

		/* The kernel's drops are not in our counters: say them. */
		if (getsockopt(x->fd, SOL_XDP, XDP_STATISTICS, &s, &len) == 0 &&
		    (s.rx_dropped || s.rx_ring_full || s.rx_fill_ring_empty_descs ||
		     s.tx_invalid_descs))
			FN_LOG(NOTICE, "%s:%u: the kernel dropped %llu received frames (no "
			       "free UMEM frame %llu times), %llu on a full rx ring; %llu "
			       "invalid tx descriptors\n", x->ifname, x->queue,
			       (unsigned long long)s.rx_dropped,
			       (unsigned long long)s.rx_fill_ring_empty_descs,
			       (unsigned long long)s.rx_ring_full,
			       (unsigned long long)s.tx_invalid_descs);
	}
	if (x->rx_map)
		munmap(x->rx_map, x->rx_map_len);
	if (x->tx_map)
		munmap(x->tx_map, x->tx_map_len);
	if (x->umem != NULL)
		xsk_umem__delete(x->umem);
	if (x->area != NULL)
		munmap(x->area, UMEM_SIZE);
	rte_free(x);
}

int fn_xsk_fd(const struct fn_xsk *x)
{
	return x->fd;
}

/* Have the kernel transmit what the tx ring holds (copy mode sends inside
 * the system call). A call that gets nowhere (device busy, completion ring
 * full) ends the attempt: the next burst or poll tries again. */
static void kick_tx(struct fn_xsk *x)
{
	uint32_t free = xsk_prod_nb_free(&x->tx, FN_XSK_TX_FRAMES);

	for (unsigned i = 0; i < MAX_KICKS && free < FN_XSK_TX_FRAMES; i++) {
		uint32_t before = free;

		if (sendto(x->fd, NULL, 0, MSG_DONTWAIT, NULL, 0) < 0 &&
		    errno != EAGAIN && errno != EBUSY && errno != ENOBUFS)
			return;
		free = xsk_prod_nb_free(&x->tx, FN_XSK_TX_FRAMES);
		if (free == before)
			return;
	}
}

/* Frames the kernel has sent become free again. */
static void reap_tx(struct fn_xsk *x)
{
	uint32_t idx, n = xsk_ring_cons__peek(&x->comp, FN_XSK_TX_FRAMES, &idx);

	for (uint32_t i = 0; i < n; i++)
		x->free_tx[x->n_free_tx++] = *xsk_ring_cons__comp_addr(&x->comp, idx + i);
	if (n)
		xsk_ring_cons__release(&x->comp, n);
}

/* Give the UMEM frames of rx descriptors [idx, idx + n) back to the kernel,
 * with the metadata magic in front of each frame wiped (fn_xsk_meta_take()):
 * release the descriptors first (see the file comment), then the frames. */
static void refill(struct fn_xsk *x, uint32_t idx, uint32_t n)
{
	uint64_t frames[RX_BATCH];
	uint32_t fidx = 0;

	for (uint32_t i = 0; i < n; i++) {
		uint64_t addr = xsk_ring_cons__rx_desc(&x->rx, idx + i)->addr;
		struct fn_xdp_meta *meta = (struct fn_xdp_meta *)(x->area + addr -
								   FN_XDP_META_LEN);

		meta->magic = 0;
		frames[i] = addr & ~(uint64_t)(FN_XSK_FRAME_SIZE - 1);
	}
	xsk_ring_cons__release(&x->rx, n);
	xsk_ring_prod__reserve(&x->fill, n, &fidx);   /* room: see the file comment */
	for (uint32_t i = 0; i < n; i++)
		*xsk_ring_prod__fill_addr(&x->fill, fidx + i) = frames[i];
	xsk_ring_prod__submit(&x->fill, n);
}

uint16_t fn_xsk_rx_burst(struct fn_xsk *x, struct rte_mbuf **pkts, uint16_t n,
			 struct fn_stats *st)
{
	uint32_t idx, got;

	/* Transmit bookkeeping rides on the poll: completions, and frames a
	 * busy kernel left in the tx ring. */
	reap_tx(x);
	if (unlikely(x->n_free_tx < FN_XSK_TX_FRAMES) && xsk_ring_prod__needs_wakeup(&x->tx))
		kick_tx(x);

	got = xsk_ring_cons__peek(&x->rx, RTE_MIN(n, (uint16_t)RX_BATCH), &idx);
	if (got == 0) {
		if (xsk_ring_prod__needs_wakeup(&x->fill))
			recvfrom(x->fd, NULL, 0, MSG_DONTWAIT, NULL, NULL);
		return 0;
	}
	if (unlikely(rte_pktmbuf_alloc_bulk(x->pool, pkts, got) != 0)) {
		st->drops[FRAGNET_DROP_NO_MBUF] += got;
		refill(x, idx, got);
		return 0;
	}
	for (uint32_t i = 0; i < got; i++) {
		const struct xdp_desc *d = xsk_ring_cons__rx_desc(&x->rx, idx + i);
		uint8_t *data = x->area + d->addr;
		struct rte_mbuf *m = pkts[i];

		/* d->len <= FN_XSK_MAX_FRAME, which fits (checked at open) */
		rte_memcpy(rte_pktmbuf_mtod(m, void *), data, d->len);
		m->data_len = m->pkt_len = d->len;
		fn_xsk_meta_take(m, data);
	}
	refill(x, idx, got);
	return got;
}

uint16_t fn_xsk_tx_burst(struct fn_xsk *x, struct rte_mbuf **pkts, uint16_t n,
			 struct fn_stats *st)
{
	uint32_t idx, k = 0;

	reap_tx(x);
	n = RTE_MIN(n, x->n_free_tx);
	if (n == 0 || xsk_ring_prod__reserve(&x->tx, n, &idx) != n)   /* room: file comment */
		return 0;
	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		struct xdp_desc *d;
		uint8_t *frame;
		const void *p;

		if (unlikely(m->pkt_len > FN_XSK_FRAME_SIZE)) {
			FN_DROP(st, TX_FULL);
			continue;
		}
		d = xsk_ring_prod__tx_desc(&x->tx, idx + k++);
		d->addr = x->free_tx[--x->n_free_tx];
		d->len = m->pkt_len;
		d->options = 0;
		frame = x->area + d->addr;
		p = rte_pktmbuf_read(m, 0, m->pkt_len, frame);
		if (p != frame)
			rte_memcpy(frame, p, m->pkt_len);
	}
	/* Slots reserved for frames that were dropped go back unused. */
	x->tx.cached_prod -= n - k;
	xsk_ring_prod__submit(&x->tx, k);
	rte_pktmbuf_free_bulk(pkts, n);
	if (xsk_ring_prod__needs_wakeup(&x->tx))
		kick_tx(x);
	return n;
}
