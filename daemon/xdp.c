/* SPDX-License-Identifier: BSD-3-Clause */
/* Kernel enforcement: interfaces, sockets and rules programs (xdp.h). */
#include <errno.h>
#include <inttypes.h>
#include <linux/if_xdp.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "app.h"
#include "codegen.h"
#include "config.h"
#include "event.h"
#include "generation.h"
#include "iface.h"
#include "load.h"
#include "log.h"
#include "peer.h"
#include "ruleset.h"
#include "split.h"
#include "xdp.h"

/* How long a restarted daemon waits for an application to come back before
 * its adopted rules program is replaced anyway. */
#define ADOPT_GRACE_MS 10000
/* A replaced rules program may still be running on another CPU for a
 * moment; its counters are final after this. */
#define SETTLE_MS 50

/* One application's rules as a kernel program. */
struct kprog {
	uint64_t generation;
	struct fn_nft_prog prog;       /* points into the held generation's image */
	struct fn_xdp_split split;
	struct fn_xdp_rules rules;
	uint32_t *slot_image;          /* per kernel counter slot: the image's slot */
	uint32_t n_slots;
	struct kprog *next;            /* replaced, settling */
	/* Per image counter: the slot of prev it continues (FN_IMG_NONE:
	 * none, fn_nft_carry_map), what settled programs counted before it,
	 * and whether succ continues it. */
	uint32_t *from;
	struct fn_nft_counter *carried;
	uint8_t *moved;
	struct kprog *prev;            /* the program it replaced, until settled */
	struct kprog *succ;            /* the program that replaced it */
};

struct final {
	uint64_t generation, handle, packets, bytes;
	char *chain, *object;
};

struct xif {
	char ifname[IF_NAMESIZE];
	struct fn_xdp_iface *x;
};

struct xapp {
	struct fnd_xdp *owner;
	const struct fnd_app_config *cfg;
	struct xif *xif;
	uint32_t slot;
	struct kprog *active;          /* in the kernel now (NULL: none of ours) */
	uint64_t active_gen;           /* its generation, also for an adopted one */
	uint64_t prev_gen;             /* what the kernel ran before */
	struct kprog *pending;         /* built, waiting for the processes */
	struct fnd_timer timer;        /* give up waiting for them */
	struct kprog *settling;        /* replaced, counters not final yet */
	struct fnd_timer settle;
	struct final *finals;          /* final counters of replaced programs */
	size_t n_finals;
	uint64_t queues;               /* rx queues bound for it */
	bool adopted;                  /* its program is an earlier daemon's, and none of
					* its processes has been back since */
};

struct fnd_xdp {
	const struct fnd_config *cfg;
	struct fnd_loop *loop;
	struct fnd_peers *peers;
	struct fnd_apps *apps;
	struct fnd_ruleset *rs;
	struct xif ifs[FND_MAX_APPS];
	size_t n_ifs;
	struct xapp xa[FND_MAX_APPS];
	size_t n_xa;
	struct fnd_log_limit log_app;  /* what applications can make us log */
};

static struct xapp *xapp_of(struct fnd_xdp *x, const char *name)
{
	for (size_t i = 0; x && i < x->n_xa; i++)
		if (strcmp(x->xa[i].cfg->name, name) == 0)
			return &x->xa[i];
	return NULL;
}

/* libbpf and libxdp talk to stderr by default: into our log instead, without
 * their debug chatter. */
static int lib_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char line[512];
	size_t n;

	if (level == LIBBPF_DEBUG)
		return 0;
	vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line);
	if (n && line[n - 1] == '\n')
		line[n - 1] = '\0';
	fnd_log(level == LIBBPF_WARN ? LOG_WARNING : LOG_INFO, "bpf: %s", line);
	return 0;
}

static int xdp_print(enum libxdp_print_level level, const char *fmt, va_list ap)
{
	return lib_print(level == LIBXDP_WARN ? LIBBPF_WARN :
			 level == LIBXDP_INFO ? LIBBPF_INFO : LIBBPF_DEBUG, fmt, ap);
}

static struct xif *open_iface(struct fnd_xdp *x, const char *ifname, char *err, size_t errlen)
{
	static const enum fn_xdp_mode modes[] = {
		[FND_XDP_AUTO] = FN_XDP_MODE_AUTO,
		[FND_XDP_NATIVE] = FN_XDP_MODE_NATIVE,
		[FND_XDP_SKB] = FN_XDP_MODE_SKB,
	};
	struct xif *f;
	bool adopted;
	int rc;

	for (size_t i = 0; i < x->n_ifs; i++)
		if (strcmp(x->ifs[i].ifname, ifname) == 0)
			return &x->ifs[i];
	f = &x->ifs[x->n_ifs];
	snprintf(f->ifname, sizeof(f->ifname), "%s", ifname);
	rc = fn_xdp_iface_open(ifname, x->cfg->xdp_pin_dir, modes[x->cfg->xdp_mode], &f->x,
			       &adopted, err, errlen);
	if (rc < 0) {
		errno = -rc;
		return NULL;
	}
	x->n_ifs++;
	fnd_log(LOG_NOTICE, "XDP on %s: program %" PRIu32 " %s (%s mode)", ifname,
		fn_xdp_iface_prog_id(f->x), adopted ? "adopted" : "attached",
		fn_xdp_iface_mode_name(f->x));
	return f;
}

/*
 * Give every configured application a slot on its interface: the one its
 * address had, if the program was adopted and that slot served the same
 * application; else a free one. A slot no longer configured, or now
 * another application's, loses all it held: its queues and the sockets on
 * them, its rules. So a process of an application removed or moved while
 * fragnetd was down never gets another application's traffic.
 */
static int assign_slots(struct fnd_xdp *x, char *err, size_t errlen)
{
	for (size_t i = 0; i < x->n_ifs; i++) {
		struct fn_xdp_iface *xif = x->ifs[i].x;
		uint32_t addr = 0, slot;

		while (fn_xdp_iface_next_app(xif, &addr, &slot) == 0) {
			bool wanted = false;

			for (size_t a = 0; a < x->n_xa; a++)
				wanted |= x->xa[a].xif == &x->ifs[i] && x->xa[a].cfg->addr == addr &&
					  fn_xdp_iface_slot_is(xif, slot, x->xa[a].cfg->name);
			if (!wanted) {
				fn_xdp_iface_del_app(xif, addr);
				fn_xdp_iface_release_slot(xif, slot);
				addr = 0;   /* the walk starts over after a delete */
			}
		}
	}
	for (size_t a = 0; a < x->n_xa; a++) {
		struct xapp *xa = &x->xa[a];
		uint64_t used = 0;
		int rc;

		if (fn_xdp_iface_app_slot(xa->xif->x, xa->cfg->addr, &xa->slot) < 0) {
			uint32_t addr = 0, slot;

			while (fn_xdp_iface_next_app(xa->xif->x, &addr, &slot) == 0)
				used |= 1ull << slot;
			xa->slot = (uint32_t)__builtin_ctzll(~used);
			/* whatever an earlier daemon left there goes */
			fn_xdp_iface_release_slot(xa->xif->x, xa->slot);
		}
		rc = fn_xdp_iface_set_app(xa->xif->x, xa->cfg->addr, xa->slot,
					  xa->cfg->frag_drop ? FN_STEER_F_FRAG_DROP : 0);
		if (rc == 0)
			rc = fn_xdp_iface_set_slot_name(xa->xif->x, xa->slot, xa->cfg->name);
		if (rc < 0) {
			snprintf(err, errlen, "steering %s to %s: %s", xa->cfg->name,
				 xa->xif->ifname, strerror(-rc));
			return rc;
		}
		xa->active_gen = fn_xdp_iface_rules_gen(xa->xif->x, xa->slot);
		for (uint32_t q = 0; q < FN_STEER_MAX_QUEUES; q++) {
			uint32_t owner;

			if (fn_xdp_iface_queue_owner(xa->xif->x, q, &owner) == 0 && owner == xa->slot)
				xa->queues |= 1ull << q;
		}
	}
	return 0;
}

struct fnd_xdp *fnd_xdp_new(struct fnd_loop *l, const struct fnd_config *cfg,
			    uint64_t *last_gen, char *err, size_t errlen)
{
	struct fnd_xdp *x = calloc(1, sizeof(*x));
	int rc = 0;

	*last_gen = 0;
	if (!x) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	x->cfg = cfg;
	x->log_app = FND_LOG_LIMIT(10, 1000);
	x->loop = l;
	for (size_t i = 0; i < cfg->n_apps; i++) {
		struct xapp *xa = &x->xa[x->n_xa];

		if (!cfg->apps[i].ifname)
			continue; /* app.NAME.* keys other than kernel enforcement */
		if (x->n_xa == 0) {
			libbpf_set_print(lib_print);
			libxdp_set_print(xdp_print);
		}
		xa->owner = x;
		xa->cfg = &cfg->apps[i];
		xa->xif = open_iface(x, cfg->apps[i].ifname, err, errlen);
		if (!xa->xif) {
			rc = -errno;
			goto fail;
		}
		x->n_xa++;
	}
	rc = assign_slots(x, err, errlen);
	if (rc < 0)
		goto fail;
	for (size_t a = 0; a < x->n_xa; a++) {
		if (x->xa[a].active_gen > *last_gen)
			*last_gen = x->xa[a].active_gen;
		x->xa[a].adopted = x->xa[a].active_gen != 0;
	}
	return x;
fail:
	fnd_xdp_free(x);
	errno = -rc;
	return NULL;
}

static void kprog_free(struct fnd_xdp *x, struct kprog *k)
{
	if (!k)
		return;
	fn_xdp_rules_close(&k->rules);
	fn_xdp_split_free(&k->split);
	free(k->slot_image);
	free(k->from);
	free(k->carried);
	free(k->moved);
	fnd_ruleset_release(x->rs, k->generation);
	free(k);
}

/* Generate, verify and load the rules program of generation g for xa. */
static struct kprog *build(struct xapp *xa, struct fnd_generation *g)
{
	struct fnd_xdp *x = xa->owner;
	struct fnd_image *im = fnd_generation_image(g, xa->cfg->name, xa->cfg->unfiltered);
	struct fn_xdp_cg_opts o = { .generation = g->number };
	struct kprog *k = calloc(1, sizeof(*k));
	struct fn_xdp_code *code = NULL;
	char msg[1024] = "";
	int rc;

	if (!k)
		return NULL;
	k->generation = g->number;
	k->rules.prog_fd = k->rules.counters_fd = -1;
	fnd_ruleset_hold(x->rs, g->number);   /* k->prog points into its image */
	rc = fn_nft_verify(im->bytes, im->len, &k->prog, msg, sizeof(msg));
	if (rc == 0)
		rc = fn_xdp_split(&k->prog, &k->split);
	if (rc == 0)
		rc = fn_xdp_codegen(&k->prog, &k->split, &o, &code);
	if (rc == 0)
		rc = fn_xdp_load(&k->prog, code, fn_xdp_iface_xsks_fd(xa->xif->x), xa->cfg->name,
				 &k->rules, msg, sizeof(msg));
	if (rc == 0) {
		uint32_t n = k->prog.hdr->n_counters + 1;

		k->n_slots = code->n_slots;
		k->slot_image = malloc((code->n_slots + 1) * sizeof(*k->slot_image));
		k->from = calloc(n, sizeof(*k->from));
		k->carried = calloc(n, sizeof(*k->carried));
		k->moved = calloc(n, sizeof(*k->moved));
		if (k->slot_image && k->from && k->carried && k->moved) {
			memcpy(k->slot_image, code->slot_image, code->n_slots * sizeof(*k->slot_image));
			fn_nft_carry_map(NULL, &k->prog, k->from);  /* none until it replaces one */
		} else
			rc = -ENOMEM;
	}
	fn_xdp_code_free(code);
	if (rc < 0) {
		fnd_log(LOG_ERR, "generation %" PRIu64 " for %s: the kernel part failed (%s%s%s); "
			"the kernel keeps generation %" PRIu64, g->number, xa->cfg->name,
			strerror(-rc), msg[0] ? ": " : "", msg, xa->active_gen);
		kprog_free(x, k);
		return NULL;
	}
	return k;
}

/* The kernel's counts per image counter slot (n_counters of them). NULL when
 * they cannot be read. */
static struct fn_nft_counter *kernel_counts(const struct kprog *k)
{
	uint32_t n = k->prog.hdr->n_counters;
	struct fn_nft_counter *c = calloc(n + 1, sizeof(*c));
	struct fn_nft_counter *slots = calloc(k->n_slots + 1, sizeof(*slots));

	if (!c || !slots || fn_xdp_read_counters(&k->rules, 0, k->n_slots, slots) < 0) {
		free(c);
		free(slots);
		return NULL;
	}
	for (uint32_t i = 0; i < k->n_slots; i++)
		if (k->slot_image[i] != FN_IMG_NONE && k->slot_image[i] < n) {
			c[k->slot_image[i]].packets += slots[i].packets;
			c[k->slot_image[i]].bytes += slots[i].bytes;
		}
	free(slots);
	return c;
}

/* What each counter of k has counted: in the kernel, carried from settled
 * programs, and what the unsettled ones it continues counted so far. NULL
 * when the kernel's counts cannot be read. */
static struct fn_nft_counter *counted(const struct kprog *k)
{
	struct fn_nft_counter *c = kernel_counts(k), *before = NULL;

	if (c && k->prev && !(before = counted(k->prev))) {
		free(c);
		return NULL;
	}
	for (uint32_t i = 0; c && i < k->prog.hdr->n_counters; i++) {
		c[i].packets += k->carried[i].packets;
		c[i].bytes += k->carried[i].bytes;
		if (before && k->from[i] != FN_IMG_NONE) {
			c[i].packets += before[k->from[i]].packets;
			c[i].bytes += before[k->from[i]].bytes;
		}
	}
	free(before);
	return c;
}

/* The settling program replaced first: the one whose predecessor settled. */
static struct kprog **oldest_settling(struct xapp *xa)
{
	struct kprog **pp;

	for (pp = &xa->settling; *pp; pp = &(*pp)->next)
		if ((*pp)->prev == NULL)
			return pp;
	return NULL;
}

/* The final counters of a replaced program, once no CPU can still run it;
 * the counters its successor continues go on there (and are zero here). */
static void on_settled(struct fnd_timer *t, void *arg)
{
	struct xapp *xa = arg;
	struct fnd_xdp *x = xa->owner;
	struct kprog **pp, *k;

	(void)t;
	while ((pp = oldest_settling(xa))) {
		const struct fn_nft_prog *p;
		struct fn_nft_counter *c;

		k = *pp;
		*pp = k->next;
		p = &k->prog;
		c = counted(k);
		if (c && k->succ) {
			for (uint32_t j = 0; j < k->succ->prog.hdr->n_counters; j++)
				if (k->succ->from[j] != FN_IMG_NONE) {
					k->succ->carried[j].packets += c[k->succ->from[j]].packets;
					k->succ->carried[j].bytes += c[k->succ->from[j]].bytes;
				}
		}
		if (k->succ)
			k->succ->prev = NULL;
		if (c) {
			for (uint32_t i = 0; i < p->hdr->n_counters; i++) {
				const struct fn_img_counter *ic = &p->counters[i];
				struct final *f;

				if (xa->n_finals == FND_XDP_FINAL_GENS * 64) {
					free(xa->finals[0].chain);
					free(xa->finals[0].object);
					memmove(xa->finals, xa->finals + 1,
						(xa->n_finals - 1) * sizeof(*f));
					xa->n_finals--;
				}
				f = realloc(xa->finals, (xa->n_finals + 1) * sizeof(*f));
				if (!f)
					break;
				xa->finals = f;
				f = &xa->finals[xa->n_finals++];
				f->generation = k->generation;
				f->handle = ic->rule_handle;
				f->packets = k->moved[i] ? 0 : c[i].packets;
				f->bytes = k->moved[i] ? 0 : c[i].bytes;
				f->chain = ic->chain == FN_IMG_NONE ? NULL :
					   strdup(fn_nft_str(p, p->chains[ic->chain].name));
				f->object = NULL;
				for (uint32_t o = 0; ic->chain == FN_IMG_NONE && o < p->hdr->n_objects; o++)
					if (p->objects[o].type == FN_OBJ_COUNTER && p->objects[o].slot == i)
						f->object = strdup(fn_nft_str(p, p->objects[o].name));
			}
		}
		free(c);
		kprog_free(x, k);
	}
}

static void tell_kernel_gen(struct xapp *xa)
{
	struct fn_ctl_kernel_gen m = { .generation = xa->active_gen, .previous = xa->prev_gen };

	for (struct fnd_app *a = fnd_apps_first(xa->owner->apps); a; a = fnd_apps_next(a))
		if (strcmp(a->peer->name, xa->cfg->name) == 0)
			fnd_peer_send(a->peer, FN_CTL_KERNEL_GEN, 0, &m, sizeof(m), -1);
}

/* Put the pending program in the kernel: one atomic slot update. */
static void swap(struct xapp *xa)
{
	struct kprog *k = xa->pending;
	int rc = fn_xdp_iface_set_rules(xa->xif->x, xa->slot, k->rules.prog_fd);

	xa->pending = NULL;
	fnd_timer_disarm(&xa->timer);
	if (rc < 0) {
		fnd_log(LOG_ERR, "generation %" PRIu64 " for %s: cannot install the rules program: "
			"%s; the kernel keeps generation %" PRIu64, k->generation, xa->cfg->name,
			strerror(-rc), xa->active_gen);
		kprog_free(xa->owner, k);
		return;
	}
	fn_xdp_iface_set_rules_gen(xa->xif->x, xa->slot, k->generation);
	xa->prev_gen = xa->active_gen;
	xa->active_gen = k->generation;
	if (xa->active) {
		/* the kernel's counters of unchanged rules go on */
		fn_nft_carry_map(&xa->active->prog, &k->prog, k->from);
		for (uint32_t j = 0; j < k->prog.hdr->n_counters; j++)
			if (k->from[j] != FN_IMG_NONE)
				xa->active->moved[k->from[j]] = 1;
		k->prev = xa->active;
		xa->active->succ = k;
		xa->active->next = xa->settling;
		xa->settling = xa->active;
		fnd_timer_arm(&xa->settle, fnd_now_ms() + SETTLE_MS);
	}
	xa->active = k;
	fnd_log(LOG_INFO, "%s: the kernel enforces generation %" PRIu64 " (rules program %" PRIu32 ")",
		xa->cfg->name, k->generation, fn_xdp_iface_rules_id(xa->xif->x, xa->slot));
	tell_kernel_gen(xa);
}

/* Swap when every connected process of the application applied the
 * pending generation (or none is connected and none is expected back). */
static void try_swap(struct xapp *xa, bool timed_out)
{
	unsigned connected = 0, behind = 0;

	if (!xa->pending)
		return;
	for (struct fnd_app *a = fnd_apps_first(xa->owner->apps); a; a = fnd_apps_next(a)) {
		if (strcmp(a->peer->name, xa->cfg->name))
			continue;
		connected++;
		behind += a->applied_gen < xa->pending->generation;
	}
	if (connected || timed_out)
		xa->adopted = false;   /* back, or waited for: from now on like any other */
	if (connected == 0 && xa->adopted && !timed_out)
		return;   /* a restarted daemon: let the application come back first */
	if (behind && !timed_out)
		return;
	if (behind)
		fnd_log(LOG_WARNING, "%s: %u process(es) did not apply generation %" PRIu64
			" in time; the kernel moves to it anyway", xa->cfg->name, behind,
			xa->pending->generation);
	swap(xa);
}

static void on_timeout(struct fnd_timer *t, void *arg)
{
	(void)t;
	try_swap(arg, true);
}

static void on_publish(struct fnd_generation *g, void *arg)
{
	struct fnd_xdp *x = arg;

	for (size_t i = 0; i < x->n_xa; i++) {
		struct xapp *xa = &x->xa[i];
		struct kprog *k = build(xa, g);

		if (!k)
			continue;
		/* The time to apply counts from the first generation still
		 * pending: publishing more often than that must not keep the
		 * kernel on old rules for a process that never applies. */
		if (!xa->pending)
			fnd_timer_arm(&xa->timer, fnd_now_ms() +
				      (xa->adopted ? ADOPT_GRACE_MS :
				       (int64_t)x->cfg->apply_timeout_ms));
		kprog_free(x, xa->pending);
		xa->pending = k;
		try_swap(xa, false);
	}
}

/* An application applied, refused or left. */
static void on_apps_changed(void *arg)
{
	struct fnd_xdp *x = arg;

	for (size_t i = 0; i < x->n_xa; i++)
		try_swap(&x->xa[i], false);
}

static void reply(struct fnd_peer *p, uint32_t queue, int status, uint32_t flags, const char *why)
{
	struct fn_ctl_xsk_bound m = { .queue = queue, .status = status, .bind_flags = flags };

	snprintf(m.msg, sizeof(m.msg), "%s", why ? why : "");
	fnd_peer_send(p, FN_CTL_XSK_BOUND, 0, &m, sizeof(m), -1);
}

/* Is another application's process still using its queue q? */
static bool queue_in_use(struct fnd_xdp *x, struct xapp *me, uint32_t q)
{
	uint32_t owner;

	if (fn_xdp_iface_queue_owner(me->xif->x, q, &owner) < 0 || owner == me->slot)
		return false;
	for (size_t i = 0; i < x->n_xa; i++) {
		struct xapp *o = &x->xa[i];

		if (o->xif != me->xif || o->slot != owner)
			continue;
		for (struct fnd_app *a = fnd_apps_first(x->apps); a; a = fnd_apps_next(a))
			if (strcmp(a->peer->name, o->cfg->name) == 0)
				return true;
	}
	return false;
}

static int on_xsk(struct fnd_peer *p, const void *msg, size_t len, int fd, void *arg)
{
	const struct fn_ctl_xsk *m = (const void *)((const char *)msg + sizeof(struct fn_ctl_hdr));
	struct fnd_xdp *x = arg;
	struct xapp *xa;
	char who[128], why[256];
	uint16_t flags = XDP_USE_NEED_WAKEUP;
	int rc;

	(void)len;
	if (!p->app) {
		if (fd >= 0)
			close(fd);
		return -EPROTO;   /* register first */
	}
	fnd_peer_describe(p, who, sizeof(who));
	xa = xapp_of(x, p->name);
	if (!xa) {
		rc = -EPERM;
		snprintf(why, sizeof(why), "no kernel enforcement is configured for %s "
			 "(app.%s.interface and .address)", p->name, p->name);
	} else if (strcmp(m->ifname, xa->xif->ifname)) {
		rc = -EPERM;
		snprintf(why, sizeof(why), "%s is served on %s, not %s", p->name,
			 xa->xif->ifname, m->ifname);
	} else if (m->kernel_queue >= FN_STEER_MAX_QUEUES) {
		rc = -ERANGE;
		snprintf(why, sizeof(why), "queue %u: at most %d queues", m->kernel_queue,
			 FN_STEER_MAX_QUEUES);
	} else if (fd < 0) {
		rc = -EBADF;
		snprintf(why, sizeof(why), "no socket came with the message");
	} else if (queue_in_use(x, xa, m->kernel_queue)) {
		rc = -EBUSY;
		snprintf(why, sizeof(why), "queue %u of %s belongs to another application",
			 m->kernel_queue, xa->xif->ifname);
	} else {
		rc = fn_xdp_iface_set_queue(xa->xif->x, m->kernel_queue, xa->slot, fd, flags);
		snprintf(why, sizeof(why), "%s queue %u: %s", xa->xif->ifname, m->kernel_queue,
			 rc == -ENOTSOCK ? "not an AF_XDP socket" :
			 rc == -EBUSY ? "the socket is bound already, or another AF_XDP socket "
			 "holds the queue (any process with CAP_NET_RAW can bind one)" :
			 strerror(-rc));
	}
	if (fd >= 0)
		close(fd);    /* the socket lives with the application's own fd */
	if (rc < 0) {
		fnd_log_limited(&x->log_app, LOG_WARNING, "%s: AF_XDP socket for queue %u "
				"refused: %s", who, m->queue, why);
		reply(p, m->queue, rc, 0, why);
		return 0;
	}
	xa->queues |= 1ull << m->kernel_queue;
	fnd_log_limited(&x->log_app, LOG_INFO, "%s: AF_XDP socket bound to %s queue %u", who,
			xa->xif->ifname, m->kernel_queue);
	reply(p, m->queue, 0, flags, NULL);
	if (xa->active_gen) {
		struct fn_ctl_kernel_gen k = { .generation = xa->active_gen, .previous = xa->prev_gen };

		fnd_peer_send(p, FN_CTL_KERNEL_GEN, 0, &k, sizeof(k), -1);
	}
	return 0;
}

int fnd_xdp_start(struct fnd_xdp *x, struct fnd_peers *ps, struct fnd_apps *as,
		  struct fnd_ruleset *rs)
{
	int rc;

	x->peers = ps;
	x->apps = as;
	x->rs = rs;
	for (size_t i = 0; i < x->n_xa; i++) {
		fnd_timer_init(&x->xa[i].timer, x->loop, on_timeout, &x->xa[i]);
		fnd_timer_init(&x->xa[i].settle, x->loop, on_settled, &x->xa[i]);
	}
	if ((rc = fnd_peers_handle_fd(ps, FN_CTL_XSK, on_xsk, x)) < 0 ||
	    (rc = fnd_apps_watch(as, on_apps_changed, x)) < 0 ||
	    (rc = fnd_ruleset_subscribe(rs, on_publish, x)) < 0)
		return rc;
	if (x->n_xa)
		on_publish(fnd_ruleset_current(rs), x);
	return 0;
}

void fnd_xdp_free(struct fnd_xdp *x)
{
	if (!x)
		return;
	for (size_t i = 0; i < x->n_xa; i++) {
		struct xapp *xa = &x->xa[i];

		if (x->rs) {
			fnd_timer_disarm(&xa->timer);
			fnd_timer_disarm(&xa->settle);
			on_settled(&xa->settle, xa);
			kprog_free(x, xa->pending);
			kprog_free(x, xa->active);  /* closing our fds: the kernel keeps it */
		}
		for (size_t f = 0; f < xa->n_finals; f++) {
			free(xa->finals[f].chain);
			free(xa->finals[f].object);
		}
		free(xa->finals);
	}
	for (size_t i = 0; i < x->n_ifs; i++)
		fn_xdp_iface_close(x->ifs[i].x);
	free(x);
}

bool fnd_xdp_app_info(struct fnd_xdp *x, const char *app, struct fnd_xdp_info *info)
{
	struct xapp *xa = xapp_of(x, app);

	if (!xa)
		return false;
	info->ifname = xa->xif->ifname;
	info->mode = fn_xdp_iface_mode_name(xa->xif->x);
	info->prog_id = fn_xdp_iface_prog_id(xa->xif->x);
	info->rules_id = fn_xdp_iface_rules_id(xa->xif->x, xa->slot);
	info->generation = xa->active_gen;
	info->pending = xa->pending ? xa->pending->generation : 0;
	info->queues = xa->queues;
	return true;
}

static struct kprog *kprog_of(struct xapp *xa, uint64_t gen)
{
	if (xa->active && xa->active->generation == gen)
		return xa->active;
	if (xa->pending && xa->pending->generation == gen)
		return xa->pending;
	for (struct kprog *k = xa->settling; k; k = k->next)
		if (k->generation == gen)
			return k;
	return NULL;
}

/* Why rule r (global index) of chain c runs in-process only, or NULL. */
static const char *why_not(const struct kprog *k, uint32_t c, uint32_t r)
{
	const struct fn_img_chain *ch = &k->prog.chains[c];

	if (ch->hook == FN_CHAIN_REGULAR)   /* in the kernel when reached from there */
		return k->split.why[r];
	if (ch->hook != FN_HOOK_PREROUTING && ch->hook != FN_HOOK_INPUT)
		return "output hooks run in-process";
	if (fn_xdp_split_in_kernel(&k->split, c, r))
		return NULL;
	if (k->split.why[r])
		return k->split.why[r];
	return k->split.stop_why[c] ? k->split.stop_why[c] :
	       "after a rule the kernel cannot run";
}

void fnd_xdp_places(struct fnd_xdp *x, const char *app, uint64_t gen, fnd_xdp_place_fn *fn,
		    void *arg)
{
	struct xapp *xa = xapp_of(x, app);
	struct kprog *k = xa ? kprog_of(xa, gen) : NULL;
	const struct fn_nft_prog *p;

	if (!k)
		return;
	p = &k->prog;
	for (uint32_t c = 0; c < p->hdr->n_chains; c++) {
		const struct fn_img_chain *ch = &p->chains[c];

		for (uint32_t r = ch->first_rule; r < ch->first_rule + ch->n_rules; r++)
			fn(arg, fn_nft_str(p, ch->name), p->rules[r].handle, why_not(k, c, r));
	}
}

void fnd_xdp_counters(struct fnd_xdp *x, const char *app, fnd_xdp_counter_fn *fn, void *arg)
{
	struct xapp *xa = xapp_of(x, app);
	const struct fn_nft_prog *p;
	struct fn_nft_counter *c;

	if (!xa)
		return;
	for (size_t i = 0; i < xa->n_finals; i++) {
		const struct final *f = &xa->finals[i];

		fn(arg, f->generation, f->chain, f->handle, f->object, f->packets, f->bytes, true);
	}
	if (!xa->active)
		return;
	p = &xa->active->prog;
	c = counted(xa->active);
	if (c) {
		for (uint32_t i = 0; i < p->hdr->n_counters; i++) {
			const struct fn_img_counter *ic = &p->counters[i];
			const char *object = NULL;

			for (uint32_t o = 0; ic->chain == FN_IMG_NONE && o < p->hdr->n_objects; o++)
				if (p->objects[o].type == FN_OBJ_COUNTER && p->objects[o].slot == i)
					object = fn_nft_str(p, p->objects[o].name);
			fn(arg, xa->active->generation,
			   ic->chain == FN_IMG_NONE ? NULL : fn_nft_str(p, p->chains[ic->chain].name),
			   ic->rule_handle, object, c[i].packets, c[i].bytes, false);
		}
	}
	free(c);
}
