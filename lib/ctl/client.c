/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The connection to fragnetd and the control thread behind it (see
 * client.h for the life cycle).
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <rte_lcore.h>

#include "client.h"
#include "proto.h"
#include "filter/filter.h"
#include "filter/final_counters.h"
#include "filter/generation.h"
#include "filter/image_map.h"
#include "runtime/capture.h"
#include "runtime/log.h"
#include "runtime/port.h"
#include "runtime/runtime.h"
#include "runtime/stats.h"

#define HELLO_TIMEOUT_MS 5000   /* how long open() waits for a first image */
#define SEND_TIMEOUT_S 2        /* a daemon that stops reading is gone */
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000
#define GEN_MAP 16              /* local -> daemon generation numbers kept */

struct fn_ctl_client {
	struct fragnet *fn;
	struct fn_filter *rules;
	char *path;
	int sock;                   /* -1 while disconnected */
	int wake;                   /* eventfd: stop, or images to unmap */
	pthread_t thread;
	bool started;
	atomic_bool stop;
	bool fallback;              /* unfiltered until the first generation */
	uint64_t generation;        /* daemon generation installed (0: none) */
	unsigned images;            /* images received on this connection */
	int install_rc;             /* what installing the last one gave */
	/* Which daemon generation each local install number is, for stats. */
	struct gen_pair { uint64_t local, daemon; } gens[GEN_MAP];
	unsigned n_gens;
	struct fn_final_counters *finals; /* of the generations replaced */
	/* AF_XDP queues (xsk ports): their sockets, which fragnetd binds and
	 * steers to; the kernel judges their packets first. */
	struct fn_xsk_socket xsks[FN_MAX_QUEUES];
	unsigned n_xsks;
	bool xsk_bound[FN_MAX_QUEUES];
	unsigned xsk_waiting;        /* sent, no answer yet */
	bool skip_filter;            /* FRAGNET_TEST_SKIP_FILTER: see start */
	int xsk_rc;                  /* the first refusal */
	uint64_t capture_id;         /* fragnetd's number of a running capture */
	_Atomic(struct fn_image_map *) released; /* released by lib/nft, to unmap */
	unsigned char buf[FN_CTL_MAX_MSG] __attribute__((aligned(8)));
};

static const char *socket_path(const struct fragnet_config *cfg)
{
	const char *env = getenv("FRAGNET_DAEMON_SOCKET");

	if (cfg->daemon_socket && *cfg->daemon_socket)
		return cfg->daemon_socket;
	if (env && *env)
		return env;
	return FRAGNET_DEFAULT_SOCKET;
}

/* lib/nft calls this from whichever thread notices the image is unused, an
 * lcore included: only queue it and wake the control thread. */
static void release_image(void *arg)
{
	struct fn_image_map *m = arg;
	struct fn_ctl_client *c = m->owner;
	uint64_t one = 1;

	m->next = atomic_load(&c->released);
	while (!atomic_compare_exchange_weak(&c->released, &m->next, m))
		;
	if (write(c->wake, &one, sizeof(one)) < 0) {
		/* the counter is far from overflowing: nothing to do */
	}
}

static void unmap_released(struct fn_ctl_client *c)
{
	struct fn_image_map *m = atomic_exchange(&c->released, NULL), *next;

	for (; m; m = next) {
		next = m->next;
		fn_image_unmap(m);
	}
}

static void disconnect(struct fn_ctl_client *c)
{
	if (c->sock >= 0)
		close(c->sock);
	c->sock = -1;
	/* nobody reads the rings any more */
	fn_capture_stop(c->fn);
	c->capture_id = 0;
}

static int send_msg(struct fn_ctl_client *c, uint16_t type, uint32_t seq,
		    const void *payload, size_t len)
{
	return fn_ctl_send_msg(c->sock, type, seq, payload, len, -1);
}

/* Map, verify and install one generation, and tell the daemon how it went. */
static int install_image(struct fn_ctl_client *c, const struct fn_ctl_image *im, int fd)
{
	struct fn_ctl_applied ap = { .generation = im->generation };
	struct fn_image_map *m;
	int rc;

	m = fn_image_map(fd, im->len, im->generation);
	if (m == NULL) {
		rc = -errno;
		snprintf(ap.msg, sizeof(ap.msg), "cannot map the image: %s", strerror(-rc));
	} else if (c->skip_filter) {
		/* a test's hostile application: says it applied, applies nothing */
		fn_image_unmap(m);
		rc = 0;
	} else {
		m->owner = c;
		rc = fn_filter_install(c->rules, m->addr, m->len, im->generation, release_image, m);
		if (rc < 0) {
			fn_image_unmap(m);
			snprintf(ap.msg, sizeof(ap.msg), "%s",
				 rc == -EBADMSG ? "the image failed verification" : strerror(-rc));
		}
	}
	ap.status = rc;
	if (rc < 0) {
		FN_LOG(ERR, "fragnetd generation %" PRIu64 " not applied (%s); "
		       "fragnetd generation %" PRIu64 " stays\n", im->generation, ap.msg,
		       c->generation);
	} else {
		struct gen_pair *g = &c->gens[c->n_gens++ % GEN_MAP];

		/* only this thread installs: the current one is ours */
		g->local = fn_filter_generation(c->rules);
		g->daemon = im->generation;
		c->generation = im->generation;
		fn_final_counters_track(c->finals, c->rules, g->local, g->daemon);
		if (c->fallback && c->fn->unfiltered) {
			FN_LOG(WARNING, "fragnetd answered: %s is filtered from now on\n",
			       c->fn->app_name);
			__atomic_store_n(&c->fn->unfiltered, false, __ATOMIC_RELAXED);
		}
	}
	c->images++;
	c->install_rc = rc;
	send_msg(c, FN_CTL_APPLIED, 0, &ap, sizeof(ap));
	return rc;
}

static uint64_t daemon_generation(const struct fn_ctl_client *c, uint64_t local)
{
	unsigned n = c->n_gens < GEN_MAP ? c->n_gens : GEN_MAP;

	for (unsigned i = 0; i < n; i++)
		if (c->gens[i].local == local)
			return c->gens[i].daemon;
	return 0;
}

/* Counters are collected as protocol records (the live ones under the
 * rules lock) and sent after. */
struct counter_list {
	unsigned char *rec;
	size_t len, cap, n;
	const struct fn_ctl_client *client;
	bool nomem;
};

static void add_counter(struct counter_list *l, uint64_t generation, uint32_t flags,
			const char *chain, uint64_t handle, const char *object,
			uint64_t packets, uint64_t bytes)
{
	struct fn_ctl_counter rec = {
		.generation = generation,
		.handle = handle,
		.packets = packets,
		.bytes = bytes,
		.chain_len = (uint16_t)(chain ? strnlen(chain, FN_CTL_NFT_NAME_MAX - 1) : 0),
		.object_len = (uint16_t)(object ? strnlen(object, FN_CTL_NFT_NAME_MAX - 1) : 0),
		.flags = flags,
	};
	size_t size = fn_ctl_counter_size(rec.chain_len, rec.object_len);

	if ((rec.chain_len == 0) == (rec.object_len == 0) || l->nomem)
		return; /* neither a rule's nor an object's: nothing to name it by */
	if (l->len + size > l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 4096;
		void *p = realloc(l->rec, cap);

		if (p == NULL) {
			l->nomem = true;
			return;
		}
		l->rec = p;
		l->cap = cap;
	}
	fn_ctl_counter_put(l->rec, &l->len, &rec, chain, object);
	l->n++;
}

/* The current generation's, numbered by lib/nft. */
static void collect_live(void *arg, uint64_t generation, const char *chain, uint64_t handle,
			 const char *object, uint64_t packets, uint64_t bytes)
{
	struct counter_list *l = arg;

	add_counter(l, daemon_generation(l->client, generation), 0, chain, handle, object,
		    packets, bytes);
}

/* A replaced generation's, numbered by the daemon already. */
static void collect_final(void *arg, uint64_t generation, const char *chain,
			  uint64_t handle, const char *object, uint64_t packets, uint64_t bytes)
{
	add_counter(arg, generation, FN_CTL_COUNTER_F_FINAL, chain, handle, object, packets,
		    bytes);
}

static int send_queue_stats(struct fn_ctl_client *c, uint32_t seq)
{
	for (unsigned q = 0; q < c->fn->n_queues; q++) {
		const struct fn_queue *fq = c->fn->queues[q];
		struct fn_ctl_queue_stats m = { .qid = q };
		struct fn_stats st;
		int rc;

		fn_stats_read(&fq->stats, &st);
		m.rx_packets = st.rx_packets;
		m.rx_bytes = st.rx_bytes;
		m.tx_packets = st.tx_packets;
		m.tx_bytes = st.tx_bytes;
		m.rx_datagrams = st.rx_datagrams;
		m.tx_datagrams = st.tx_datagrams;
		m.filter_generation = __atomic_load_n(&fq->filter.generation, __ATOMIC_RELAXED);
		m.link_down = st.link_down;
		m.busy_ns = fn_cycles_to_ns(st.busy_cycles, fq->clk.hz);
		for (unsigned r = 0; r < FN_DROP_COUNT; r++) {
			if (st.drops[r] == 0)
				continue;
			m.drops_total += st.drops[r];
			if (m.n_drops < FN_CTL_MAX_DROPS) {
				snprintf(m.drops[m.n_drops].name, FN_CTL_DROP_NAME_MAX, "%s",
					 fragnet_drop_name(r));
				m.drops[m.n_drops++].count = st.drops[r];
			}
		}
		/* not a packet drop: a record the capture's ring had no room for */
		if (fn_capture_dropped(c->fn, q) && m.n_drops < FN_CTL_MAX_DROPS) {
			snprintf(m.drops[m.n_drops].name, FN_CTL_DROP_NAME_MAX, "capture_ring_full");
			m.drops[m.n_drops++].count = fn_capture_dropped(c->fn, q);
		}
		rc = send_msg(c, FN_CTL_STATS_QUEUE, seq, &m, sizeof(m));
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* Counter records in as many STATS_COUNTERS messages as they need. */
static int send_counters(struct fn_ctl_client *c, uint32_t seq, const struct counter_list *l)
{
	struct fn_ctl_hdr *h = (struct fn_ctl_hdr *)c->buf;
	struct fn_ctl_counters_head *head = (void *)(h + 1);
	size_t room = FN_CTL_MAX_MSG - sizeof(*h) - sizeof(*head);
	size_t pos = 0;

	while (pos < l->len) {
		size_t used = 0;
		int rc;

		head->n = 0;
		head->pad = 0;
		while (pos + used < l->len) {
			const struct fn_ctl_counter *r = (const void *)(l->rec + pos + used);
			size_t size = fn_ctl_counter_size(r->chain_len, r->object_len);

			if (used + size > room)
				break;
			used += size;
			head->n++;
		}
		memcpy(head + 1, l->rec + pos, used);
		fn_ctl_build(c->buf, FN_CTL_STATS_COUNTERS, seq, NULL, 0);
		h->len = (uint32_t)(sizeof(*h) + sizeof(*head) + used);
		rc = fn_ctl_send(c->sock, c->buf, h->len, -1);
		if (rc < 0)
			return rc;
		pos += used;
	}
	return 0;
}

static int answer_stats(struct fn_ctl_client *c, uint32_t seq)
{
	struct counter_list l = { .client = c };
	struct fn_ctl_stats_end end = {
		.generation = c->generation,
		.n_queues = c->fn->n_queues,
		.unfiltered = c->fn->unfiltered,
	};
	struct fn_final_state fin;
	int rc;

	if (c->generation)
		fn_filter_counters(c->rules, collect_live, &l);
	fn_final_counters_report(c->finals, fn_filter_generation(c->rules), collect_final, &l,
				 &fin);
	end.final_gens = fin.kept;
	end.pending_gens = fin.pending;
	end.dropped_gens = fin.dropped;
	fn_filter_log_stats(c->rules, &end.log_lines, &end.log_suppressed);
	end.set_full = fn_filter_set_full(c->rules);
	end.ct_count_full = fn_filter_ct_count_full(c->rules);
	rc = send_queue_stats(c, seq);
	if (rc == 0)
		rc = send_counters(c, seq, &l);
	end.n_counters = (uint32_t)l.n;
	if (rc == 0)
		rc = send_msg(c, FN_CTL_STATS_END, seq, &end, sizeof(end));
	free(l.rec);
	return rc;
}

static void xsk_bound(struct fn_ctl_client *c, const struct fn_ctl_xsk_bound *m);

/* fragnetd hands us the rings of a capture fragnetctl asked for. A refusal
 * is only logged: fragnetctl sees no records and fragnetd's log says why. */
static void start_capture(struct fn_ctl_client *c, const struct fn_ctl_capture *m, int fd)
{
	struct fn_cap_geometry g;
	int rc = -EPROTO;

	if (fd >= 0 && fn_cap_geometry_of(m->n_queues, m->n_slots, m->snaplen, m->mode, &g) == 0)
		rc = fn_capture_start(c->fn, fd, &g, m->queue, m->filter_len);
	else if (fd >= 0)
		close(fd);
	if (rc < 0) {
		FN_LOG(ERR, "capture %" PRIu64 " refused: %s\n", m->id, strerror(-rc));
		return;
	}
	c->capture_id = m->id;
	FN_LOG(INFO, "capture %" PRIu64 " started (%u slots of %u bytes a queue)\n", m->id,
	       g.n_slots, g.slot_size);
}

/*
 * One message from the daemon. Returns 0 to go on, or -errno to drop the
 * connection: -EACCES when the daemon refused us, -EBADMSG when an image
 * failed verification (only fatal during open), -EPROTO for nonsense.
 */
static int handle_message(struct fn_ctl_client *c, ssize_t n, int fd)
{
	int type = fn_ctl_check(c->buf, (size_t)n);
	const void *p = fn_ctl_payload(c->buf);

	if (type != FN_CTL_IMAGE && type != FN_CTL_CAPTURE && fd >= 0) {
		close(fd);
		fd = -1;
	}
	switch (type) {
	case FN_CTL_XSK_BOUND:
		xsk_bound(c, p);
		return 0;
	case FN_CTL_KERNEL_GEN: {
		const struct fn_ctl_kernel_gen *k = p;

		fn_filter_kernel_gen(c->rules, k->generation);
		FN_LOG(DEBUG, "the kernel judges with fragnetd generation %" PRIu64 "\n",
		       k->generation);
		return 0;
	}
	case FN_CTL_IMAGE:
		if (fd < 0) {
			FN_LOG(ERR, "fragnetd sent an image without its memfd\n");
			return -EPROTO;
		}
		install_image(c, p, fd); /* a refused image leaves the last one */
		return 0;
	case FN_CTL_STATS_REQ:
		return answer_stats(c, ((const struct fn_ctl_hdr *)c->buf)->seq);
	case FN_CTL_CAPTURE:
		start_capture(c, p, fd);
		return 0;
	case FN_CTL_CAPTURE_STOP:
		if (c->capture_id == ((const struct fn_ctl_capture_stop *)p)->id) {
			fn_capture_stop(c->fn);
			FN_LOG(INFO, "capture %" PRIu64 " stopped\n", c->capture_id);
			c->capture_id = 0;
		}
		return 0;
	case FN_CTL_ERROR: {
		const struct fn_ctl_error *e = p;

		FN_LOG(ERR, "fragnetd refused %s: %s\n", c->fn->app_name, e->msg);
		return e->status < 0 && e->status > -4096 ? e->status : -EACCES;
	}
	default:
		FN_LOG(ERR, "fragnetd: unexpected or malformed %s message (%zd bytes)\n",
		       type > 0 ? fn_ctl_type_name((unsigned)type) : "control", n);
		return -EPROTO;
	}
}

/* fragnetd's answer for one AF_XDP socket. */
static void xsk_bound(struct fn_ctl_client *c, const struct fn_ctl_xsk_bound *m)
{
	for (unsigned i = 0; i < c->n_xsks; i++) {
		const struct fn_xsk_socket *x = &c->xsks[i];

		if (x->qid != m->queue || c->xsk_bound[i])
			continue;
		if (c->xsk_waiting)
			c->xsk_waiting--;
		if (m->status == 0) {
			c->xsk_bound[i] = true;
			FN_LOG(INFO, "queue %u: fragnetd bound its AF_XDP socket to %s queue %u\n",
			       x->qid, c->fn->port.ifname, x->queue);
		} else {
			if (c->xsk_rc == 0)
				c->xsk_rc = m->status;
			FN_LOG(ERR, "queue %u: fragnetd refused its AF_XDP socket: %s\n", x->qid,
			       m->msg[0] ? m->msg : strerror(-m->status));
		}
		return;
	}
}

/* Hand fragnetd the AF_XDP sockets it has not bound yet (a daemon that
 * restarted adopted the ones it bound before, with its maps). */
static int send_xsks(struct fn_ctl_client *c)
{
	c->xsk_rc = 0;
	c->xsk_waiting = 0;
	for (unsigned i = 0; i < c->n_xsks; i++) {
		const struct fn_xsk_socket *x = &c->xsks[i];
		struct fn_ctl_xsk m = { .queue = x->qid, .kernel_queue = x->queue };
		int rc;

		if (c->xsk_bound[i])
			continue;
		snprintf(m.ifname, sizeof(m.ifname), "%s", c->fn->port.ifname);
		rc = fn_ctl_send_msg(c->sock, FN_CTL_XSK, 0, &m, sizeof(m), x->fd);
		if (rc < 0)
			return rc;
		c->xsk_waiting++;
	}
	return 0;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Wait until the socket is readable (0), stop is asked (1) or timeout_ms
 * passes (-ETIMEDOUT; -1 waits forever). Released images are unmapped
 * while waiting.
 */
static int wait_ready(struct fn_ctl_client *c, int timeout_ms)
{
	int64_t deadline = now_ms() + timeout_ms;

	for (;;) {
		struct pollfd p[2] = {
			{ .fd = c->wake, .events = POLLIN },
			{ .fd = c->sock, .events = POLLIN },
		};
		int left = timeout_ms < 0 ? -1 : (int)(deadline - now_ms());
		int n;

		if (timeout_ms >= 0 && left <= 0)
			return -ETIMEDOUT;
		n = poll(p, c->sock >= 0 ? 2 : 1, left);
		if (n < 0 && errno != EINTR)
			return -errno;
		if (n > 0 && p[0].revents) {
			uint64_t v;

			if (read(c->wake, &v, sizeof(v)) < 0) {
				/* EAGAIN: nothing new */
			}
			unmap_released(c);
			if (atomic_load(&c->stop))
				return 1;
			continue;
		}
		if (n > 0 && p[1].revents)
			return 0;
	}
}

static int receive(struct fn_ctl_client *c)
{
	int fd;
	ssize_t n = fn_ctl_recv(c->sock, c->buf, &fd);

	if (n == 0 || n == -ECONNRESET)
		return -ENOTCONN;
	if (n < 0)
		return (int)n;
	return handle_message(c, n, fd);
}

/* One message while attaching: -ENOTCONN when fragnetd is silent for
 * HELLO_TIMEOUT_MS, -ECANCELED when the library is stopping. */
static int receive_during_hello(struct fn_ctl_client *c)
{
	int rc = wait_ready(c, HELLO_TIMEOUT_MS);

	if (rc == -ETIMEDOUT)
		return -ENOTCONN;
	if (rc == 1)
		return -ECANCELED;
	if (rc)
		return rc;
	return receive(c);
}

/*
 * Whoever listens at the socket path hands us the rules we filter with: it
 * must be root (fragnetd) or ourselves (a test's daemon), never another
 * local user who got to the path first.
 */
static int check_daemon(struct fn_ctl_client *c)
{
	uid_t uid;
	int rc = fn_ctl_trusted_server(c->sock, &uid);

	if (rc == -EACCES)
		FN_LOG(ERR, "the server at %s runs as uid %u, neither root, uid %u nor fragnetd's "
		       "account ($FRAGNETD_USER, default fragnetd): not fragnetd, refused\n",
		       c->path, (unsigned)uid, (unsigned)geteuid());
	return rc;
}

/*
 * Connect and register, then wait for the first image (or a refusal).
 * 0 once a generation is installed; -ENOTCONN when nobody answers.
 */
static int attach(struct fn_ctl_client *c)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = SEND_TIMEOUT_S };
	struct fn_ctl_hello hello = { .n_queues = c->fn->n_queues };
	int rc;

	if (strlen(c->path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, c->path);
	snprintf(hello.name, sizeof(hello.name), "%s", c->fn->app_name);
	c->sock = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (c->sock < 0)
		return -errno;
	setsockopt(c->sock, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(c->sock, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		rc = errno == EACCES ? -EACCES : -ENOTCONN;
		goto fail;
	}
	rc = check_daemon(c);
	if (rc < 0)
		goto fail;
	/* maybe another daemon: it numbers its generations from 1 */
	fn_final_counters_reset(c->finals);
	rc = send_msg(c, FN_CTL_HELLO, 0, &hello, sizeof(hello));
	if (rc < 0) {
		rc = -ENOTCONN;
		goto fail;
	}
	/* Attached once the first image arrived (or refused when an error did). */
	c->images = 0;
	while (c->images == 0)
		if ((rc = receive_during_hello(c)) < 0)
			goto fail;
	/* A bad first image is fatal only when there are no rules at all: an
	 * image we cannot map (not sealed) is as unusable as one that fails
	 * verification. */
	if (c->install_rc < 0 && c->generation == 0) {
		rc = c->install_rc == -ENOMEM ? -ENOMEM : -EBADMSG;
		goto fail;
	}
	/* Then the sockets: without fragnetd binding them nothing arrives. */
	rc = send_xsks(c);
	if (rc < 0) {
		rc = -ENOTCONN;
		goto fail;
	}
	while (c->xsk_waiting)
		if ((rc = receive_during_hello(c)) < 0)
			goto fail;
	if (c->xsk_rc < 0) {
		rc = c->xsk_rc == -EPERM || c->xsk_rc == -EBUSY ? -EACCES : c->xsk_rc;
		goto fail;
	}
	return 0;
fail:
	disconnect(c);
	return rc;
}

static void *control_main(void *arg)
{
	struct fn_ctl_client *c = arg;
	unsigned backoff = BACKOFF_MIN_MS;
	bool logged = c->sock < 0; /* open() already said the daemon is missing */

	while (!atomic_load(&c->stop)) {
		int rc;

		if (c->sock < 0) {
			/* the last attempt failed: wait first, then try again */
			if (wait_ready(c, (int)backoff) == 1)
				break;
			rc = attach(c);
			if (rc == 0) {
				FN_LOG(INFO, "reconnected to fragnetd at %s: fragnetd generation %"
				       PRIu64 "\n", c->path, c->generation);
				backoff = BACKOFF_MIN_MS;
				logged = false;
				continue;
			}
			if (rc == -ECANCELED)
				break;
			if (!logged) {
				FN_LOG(WARNING, "fragnetd at %s: %s; %s; retrying\n", c->path,
				       strerror(-rc), c->generation ?
				       "the last rules keep filtering" : "still unfiltered");
				logged = true;
			}
			backoff = rc == -EACCES || 2 * backoff > BACKOFF_MAX_MS ?
				  BACKOFF_MAX_MS : 2 * backoff;
			continue;
		}
		rc = wait_ready(c, -1);
		if (rc == 1)
			break;
		if (rc == 0)
			rc = receive(c);
		if (rc < 0 && rc != -EAGAIN) {
			FN_LOG(WARNING, "lost fragnetd (%s); fragnetd generation %" PRIu64
			       " keeps filtering; reconnecting\n", rc == -ENOTCONN ?
			       "it closed the connection" : strerror(-rc), c->generation);
			disconnect(c);
			logged = true;
			backoff = BACKOFF_MIN_MS;
		}
	}
	disconnect(c);
	return NULL;
}

int fn_ctl_client_start(struct fragnet *fn, struct fn_filter *rules, bool fallback,
			  struct fn_ctl_client **out)
{
	struct fn_ctl_client *c = calloc(1, sizeof(*c));
	int rc, err;

	*out = NULL;
	if (c == NULL)
		return -ENOMEM;
	c->fn = fn;
	c->rules = rules;
	c->sock = -1;
	c->fallback = fallback;
	c->path = strdup(socket_path(&fn->cfg));
	c->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	c->finals = fn_final_counters_new();
	if (c->path == NULL || c->wake < 0 || c->finals == NULL) {
		rc = -ENOMEM;
		goto fail;
	}
	fn_filter_on_retire(rules, fn_final_counters_on_retire, c->finals);
	/* Tests of kernel enforcement play a hostile application: one that
	 * tells fragnetd it applied every generation and filters nothing.
	 * Any application can do that to its own process; what it must not
	 * get is what the kernel part drops. */
	c->skip_filter = getenv("FRAGNET_TEST_SKIP_FILTER") != NULL;
	if (c->skip_filter)
		FN_LOG(WARNING, "*** FRAGNET_TEST_SKIP_FILTER: %s filters nothing in-process "
		       "(test only) ***\n", fn->app_name);
	c->n_xsks = fn_port_xsk_sockets(fn, c->xsks, FN_MAX_QUEUES);
	if (c->n_xsks)
		fn_filter_hold(rules);   /* packets carry the kernel's generation */
	rc = attach(c);
	if (rc == 0) {
		FN_LOG(INFO, "%s registered with fragnetd at %s: fragnetd generation %" PRIu64 "\n",
		       fn->app_name, c->path, c->generation);
	} else if (rc == -ENOTCONN && fallback) {
		/* before the thread exists: it is the one that clears it */
		fn->unfiltered = true;
		FN_LOG(WARNING, "*** %s runs UNFILTERED: fragnetd is not answering at %s; "
		       "its rules apply as soon as it does ***\n", fn->app_name, c->path);
	} else {
		if (rc == -ENOTCONN)
			FN_LOG(ERR, "fragnetd is not answering at %s\n", c->path);
		goto fail;
	}
	c->started = true;
	err = rte_ctrl_thread_create(&c->thread, "fn-rules", NULL, control_main, c);
	if (err != 0) {
		c->started = false;
		rc = err < 0 ? err : -err;
		goto fail;
	}
	*out = c;
	return rc;   /* 0, or -ENOTCONN running unfiltered until a daemon answers */
fail:
	fn_ctl_client_stop(c);
	if (c->generation != 0) {
		/* lib/nft holds images that are released into c, and reports
		 * into c->finals: c must outlive the rules */
		*out = c;
		return rc;
	}
	fn_filter_on_retire(rules, NULL, NULL);
	fn_ctl_client_free(c);
	return rc;
}

void fn_ctl_client_stop(struct fn_ctl_client *c)
{
	uint64_t one = 1;

	if (c == NULL)
		return;
	atomic_store(&c->stop, true);
	if (c->started) {
		if (write(c->wake, &one, sizeof(one)) < 0) {
			/* the thread also checks stop on every wakeup */
		}
		pthread_join(c->thread, NULL);
		c->started = false;
	}
	disconnect(c);
}

void fn_ctl_client_free(struct fn_ctl_client *c)
{
	if (c == NULL)
		return;
	unmap_released(c);
	fn_final_counters_free(c->finals);
	if (c->wake >= 0)
		close(c->wake);
	free(c->path);
	free(c);
}
