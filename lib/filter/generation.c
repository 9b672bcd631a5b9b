/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The glue behind filter.h and generation.h: generations of rules shared by the queues.
 *
 * A generation is a verified image plus its state (per-queue counters, the
 * shared limit buckets and quotas). Installing one publishes a pointer; each
 * queue picks it up at its next burst, so a burst sees one whole generation.
 * The old generation is retired with a DPDK QSBR token and released once
 * every online queue has reported a quiescent state (at its next burst
 * start) — checked without blocking, by the installer and by the queues.
 * Just before it is freed its counters are final, and go to whoever asked
 * for them (fn_filter_on_retire).
 * A counter of a rule the new generation keeps unchanged goes on from where
 * the old one is (fn_nft_carry_map): read live, it adds what the
 * generations it replaced have counted so far; when they are released,
 * their counts are folded into it, and their own final report shows zero
 * for it. So generations are released in the order they were installed.
 * Conntrack tables belong to the queues, not to generations: flows survive
 * rule changes, as in the kernel.
 *
 * With kernel enforcement (fragnetd's XDP program judges packets first and
 * tags each with the generation it used), a replaced generation is not
 * retired at once but held: packets the kernel judged with it may still be
 * on their way (in the socket's ring), and the application must finish
 * judging them with the same rules. fragnetd says when the kernel moves to a
 * new generation (fn_filter_kernel_gen()); what it used before that stays
 * held until the next such move, then retires as usual. A packet tagged with
 * a generation that is neither current nor held is dropped and counted.
 *
 * lib/nft/ itself knows nothing of DPDK; the QSBR here is what ties it to
 * the lcores.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_rcu_qsbr.h>

#include "filter.h"
#include "generation.h"
#include "nft/trace.h"
#include "nft/connlimit.h"
#include "nft/conntrack.h"
#include "nft/nft.h"
#include "runtime/log.h"

struct gen {
	uint64_t number;
	uint64_t tag;                  /* fragnetd's number (0: none) */
	struct fn_nft_prog prog;
	struct fn_nft_shared *shared;
	struct fn_nft_qstate **qs;     /* per queue */
	void (*release)(void *arg);
	void *arg;
	uint64_t token;                /* QSBR token taken when retired */
	struct gen *next;              /* retired list */
	/* Per counter: the slot of prev it continues (FN_IMG_NONE: none),
	 * what released generations counted before it, and whether succ
	 * continues it. */
	uint32_t *from;
	struct fn_nft_counter *carried;
	uint8_t *moved;
	struct gen *prev;              /* the one it replaced, until released */
	struct gen *succ;              /* the one that replaced it */
};

struct rules_queue {
	struct fn_filter *rules;
	struct fn_filter_queue *fq;
	struct gen *gen;               /* generation this queue applies */
	struct fn_nft_qstate *qs;
	struct fn_ct_table *ct;        /* created with the first ct ruleset */
	uint64_t epoch;                /* of the held set this queue last saw */
	uint64_t unknown_gen;          /* packets tagged with no generation we hold */
	unsigned qid;
	bool online;
};

struct fn_filter {
	unsigned n_queues;
	struct rte_rcu_qsbr *qsbr;
	_Atomic(struct gen *) current;
	pthread_mutex_t lock;          /* install, retire, release, readers */
	struct gen *retired;
	atomic_bool has_retired;
	uint64_t numbers;
	/* Kernel enforcement: generations the kernel may have tagged packets
	 * with, besides the current one; the epoch moves whenever they change. */
	bool hold;
	_Atomic(struct gen *) held[FN_FILTER_HELD];
	_Atomic uint64_t held_epoch;
	uint64_t kernel_gen;           /* what fragnetd said the kernel uses */
	uint64_t held_overflow;        /* held generations retired early */
	fn_filter_counter_cb on_retire; /* final counters, and its argument */
	void *on_retire_arg;
	struct fn_nft_env env;
	struct rules_queue q[];
};

/* Log expression lines go to the library log (syslog level -> rte level). */
static void log_line(void *arg, int level, const char *line)
{
	(void)arg;
	rte_log((uint32_t)(level < 0 ? 0 : level > 7 ? 7 : level) + 1, fn_logtype,
		"fragnet: nft: %s\n", line);
}

struct fn_filter *fn_filter_create(unsigned n_queues)
{
	struct fn_filter *r;
	size_t qsz;

	if (n_queues == 0 || n_queues > RTE_MAX_LCORE) {
		errno = EINVAL;
		return NULL;
	}
	r = calloc(1, sizeof(*r) + n_queues * sizeof(r->q[0]));
	if (!r)
		goto nomem;
	qsz = rte_rcu_qsbr_get_memsize(n_queues);
	r->qsbr = aligned_alloc(RTE_CACHE_LINE_SIZE, RTE_ALIGN_CEIL(qsz, RTE_CACHE_LINE_SIZE));
	if (!r->qsbr || rte_rcu_qsbr_init(r->qsbr, n_queues) != 0)
		goto nomem;
	r->n_queues = n_queues;
	pthread_mutex_init(&r->lock, NULL);
	fn_nft_env_default(&r->env);
	r->env.log = log_line;
	return r;
nomem:
	if (r)
		free(r->qsbr);
	free(r);
	errno = ENOMEM;
	return NULL;
}

static void gen_free(struct fn_filter *r, struct gen *g)
{
	unsigned i;

	if (!g)
		return;
	if (g->qs)
		for (i = 0; i < r->n_queues; i++)
			fn_nft_qstate_free(g->qs[i]);
	free(g->qs);
	free(g->from);
	free(g->carried);
	free(g->moved);
	fn_nft_shared_free(g->shared);
	if (g->release)
		g->release(g->arg);
	free(g);
}

/* What counter i of g has counted: over the queues, folded in from released
 * generations, and what the unreleased ones it continues counted so far. */
static struct fn_nft_counter counted(const struct fn_filter *r, const struct gen *g, uint32_t i)
{
	struct fn_nft_counter n = g->carried[i];

	/* plain reads of counters the lcores write: each aligned 64-bit
	 * value is read whole, possibly one burst behind (never behind once
	 * the generation is released) */
	for (unsigned qi = 0; qi < r->n_queues; qi++) {
		n.packets += g->qs[qi]->counters[i].packets;
		n.bytes += g->qs[qi]->counters[i].bytes;
	}
	if (g->prev && g->from[i] != FN_IMG_NONE) {
		struct fn_nft_counter before = counted(r, g->prev, g->from[i]);

		n.packets += before.packets;
		n.bytes += before.bytes;
	}
	return n;
}

/* Each counter of g (plus the value the image starts it at), in slot order;
 * for g's final report, zero for those its successor goes on with. */
static void report_counters(struct fn_filter *r, const struct gen *g, bool final,
			    fn_filter_counter_cb cb, void *arg)
{
	const struct fn_nft_prog *p = &g->prog;
	uint32_t i;

	for (i = 0; i < p->hdr->n_counters; i++) {
		const struct fn_img_counter *c = &p->counters[i];
		struct fn_nft_counter n = { 0 };
		uint64_t packets = 0, bytes = 0;
		const char *name = NULL;
		uint32_t o;

		if (!(final && g->moved[i])) {
			n = counted(r, g, i);
			packets = c->packets + n.packets;
			bytes = c->bytes + n.bytes;
		}
		if (c->chain == FN_IMG_NONE) {
			for (o = 0; o < p->hdr->n_objects; o++)
				if (p->objects[o].type == FN_OBJ_COUNTER && p->objects[o].slot == i)
					name = fn_nft_str(p, p->objects[o].name);
			cb(arg, g->number, NULL, 0, name, packets, bytes);
		} else {
			cb(arg, g->number, fn_nft_str(p, p->chains[c->chain].name),
			   c->rule_handle, NULL, packets, bytes);
		}
	}
}

/* Free an installed generation no queue can use any more (nor any
 * generation before it): its counters are final, so they are reported
 * first, while the image is still there, and the counters its successor
 * continues take them over. */
static void gen_retire(struct fn_filter *r, struct gen *g)
{
	struct gen *s = g->succ;

	if (r->on_retire)
		report_counters(r, g, true, r->on_retire, r->on_retire_arg);
	if (s) {
		for (uint32_t j = 0; j < s->prog.hdr->n_counters; j++) {
			struct fn_nft_counter n;

			if (s->from[j] == FN_IMG_NONE)
				continue;
			n = counted(r, g, s->from[j]);
			s->carried[j].packets += n.packets;
			s->carried[j].bytes += n.bytes;
		}
		s->prev = NULL;
	}
	gen_free(r, g);
}

/* The retired generation that may be released first: one whose
 * predecessors are all released, and (with check) no queue can still use. */
static struct gen **next_release(struct fn_filter *r, bool check)
{
	struct gen **pp, *g;

	for (pp = &r->retired; (g = *pp); pp = &g->next)
		if (g->prev == NULL && (!check || rte_rcu_qsbr_check(r->qsbr, g->token, false) == 1))
			return pp;
	return NULL;
}

void fn_filter_destroy(struct fn_filter *r)
{
	struct gen *g, **pp;
	unsigned i;

	if (!r)
		return;
	/* no queue runs any more: every generation is final, released in
	 * the order they were installed */
	for (i = 0; i <= FN_FILTER_HELD; i++) {
		g = atomic_load(i < FN_FILTER_HELD ? &r->held[i] : &r->current);
		if (g) {
			g->next = r->retired;
			r->retired = g;
		}
	}
	while ((pp = next_release(r, false))) {
		g = *pp;
		*pp = g->next;
		gen_retire(r, g);
	}
	for (i = 0; i < r->n_queues; i++) {
		fn_ct_table_free(r->q[i].ct);
		if (r->q[i].fq)
			r->q[i].fq->priv = NULL;
	}
	pthread_mutex_destroy(&r->lock);
	free(r->qsbr);
	free(r);
}

void fn_filter_queue_attach(struct fn_filter *r, struct fn_filter_queue *fq, unsigned qid)
{
	struct rules_queue *q = &r->q[qid];

	q->rules = r;
	q->fq = fq;
	q->qid = qid;
	fq->priv = q;
	fq->qid = (uint16_t)qid;
	fq->hooks = 0;
	fq->defrag_first = false;
	fq->generation = 0;
	rte_rcu_qsbr_thread_register(r->qsbr, qid);
}

/* Release retired generations no queue can still use. */
static void reclaim_locked(struct fn_filter *r)
{
	struct gen **pp, *g;

	while ((pp = next_release(r, true))) {
		g = *pp;
		*pp = g->next;
		gen_retire(r, g);
	}
	atomic_store(&r->has_retired, r->retired != NULL);
}

static struct gen *gen_new(struct fn_filter *r, const void *image, size_t len,
			   const struct gen *old, int *err)
{
	char msg[256];
	struct gen *g = calloc(1, sizeof(*g));
	uint32_t n;
	unsigned i;

	*err = -ENOMEM;
	if (!g)
		return NULL;
	*err = fn_nft_verify(image, len, &g->prog, msg, sizeof(msg));
	if (*err) {
		if (*err == -EBADMSG)
			FN_LOG(ERR, "rules image refused: %s\n", msg);
		free(g);
		return NULL;
	}
	if (g->prog.conntrack && !FN_WITH_CONNTRACK) {
		FN_LOG(ERR, "rules image uses ct, but this build has no conntrack\n");
		*err = -EOPNOTSUPP;
		free(g);
		return NULL;
	}
	*err = -ENOMEM;
	n = g->prog.hdr->n_counters;
	g->from = calloc(n + 1, sizeof(*g->from));
	g->carried = calloc(n + 1, sizeof(*g->carried));
	g->moved = calloc(n + 1, sizeof(*g->moved));
	g->shared = fn_nft_shared_new(&g->prog, &r->env);
	g->qs = calloc(r->n_queues, sizeof(*g->qs));
	if (!g->from || !g->carried || !g->moved || !g->shared || !g->qs)
		goto fail;
	fn_nft_carry_map(old ? &old->prog : NULL, &g->prog, g->from);
	for (i = 0; i < r->n_queues; i++) {
		/* only installers create tables, under the lock */
		if (g->prog.conntrack && !r->q[i].ct &&
		    !(r->q[i].ct = fn_ct_table_new(FN_CT_DEFAULT_CAPACITY)))
			goto fail;
		g->qs[i] = fn_nft_qstate_new(&g->prog, g->shared, &r->env,
					     g->prog.conntrack ? r->q[i].ct : NULL);
		if (!g->qs[i])
			goto fail;
	}
	*err = 0;
	return g;
fail:
	gen_free(r, g);
	return NULL;
}

/* Retire g: no queue may pick it up any more; freed after a grace period. */
static void retire_locked(struct fn_filter *r, struct gen *g)
{
	g->token = rte_rcu_qsbr_start(r->qsbr);
	g->next = r->retired;
	r->retired = g;
}

/* Keep g for packets the kernel tagged with it; the oldest held generation
 * makes room when all slots are taken (its late packets are then dropped). */
static void hold_locked(struct fn_filter *r, struct gen *g)
{
	unsigned i, oldest = 0;

	for (i = 0; i < FN_FILTER_HELD; i++) {
		struct gen *h = atomic_load(&r->held[i]);

		if (!h)
			break;
		if (h->tag < atomic_load(&r->held[oldest])->tag)
			oldest = i;
	}
	if (i == FN_FILTER_HELD) {
		i = oldest;
		retire_locked(r, atomic_load(&r->held[i]));
		r->held_overflow++;
		FN_LOG(WARNING, "more than %d generations held for the kernel: dropping the oldest\n",
		       FN_FILTER_HELD);
	}
	atomic_store(&r->held[i], g);
	atomic_fetch_add(&r->held_epoch, 1);
}

int fn_filter_install(struct fn_filter *r, const void *image, size_t len, uint64_t tag,
		      void (*release)(void *arg), void *arg)
{
	struct gen *g, *old;
	int err;

	pthread_mutex_lock(&r->lock);
	old = atomic_load(&r->current);
	g = gen_new(r, image, len, old, &err);
	if (!g) {
		pthread_mutex_unlock(&r->lock);
		return err;
	}
	g->release = release;
	g->arg = arg;
	g->tag = tag;
	g->number = ++r->numbers;
	if (old) {
		g->prev = old;
		old->succ = g;
		for (uint32_t j = 0; j < g->prog.hdr->n_counters; j++)
			if (g->from[j] != FN_IMG_NONE)
				old->moved[g->from[j]] = 1;
	}
	atomic_store(&r->current, g);
	if (old && r->hold && old->tag)
		hold_locked(r, old);
	else if (old)
		retire_locked(r, old);
	reclaim_locked(r);
	pthread_mutex_unlock(&r->lock);
	FN_LOG(INFO, "rules generation %" PRIu64 " installed (table %s, %u rules)\n",
	       g->number, fn_nft_str(&g->prog, g->prog.hdr->table_name),
	       g->prog.hdr->n_rules);
	return 0;
}

int fn_filter_load_file(struct fn_filter *r, const char *path)
{
	struct stat st;
	void *buf = NULL;
	size_t done = 0;
	ssize_t n;
	int fd, err;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		err = -errno;
		goto out;
	}
	if (st.st_size <= 0 || st.st_size > (1 << 30)) {
		err = -EBADMSG;
		goto out;
	}
	buf = aligned_alloc(8, ((size_t)st.st_size + 7) & ~(size_t)7);
	if (!buf) {
		err = -ENOMEM;
		goto out;
	}
	while (done < (size_t)st.st_size) {
		n = read(fd, (char *)buf + done, (size_t)st.st_size - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			err = n < 0 ? -errno : -EIO;
			goto out;
		}
		done += (size_t)n;
	}
	err = fn_filter_install(r, buf, done, 0, free, buf);
	if (!err)
		buf = NULL; /* owned by the generation now */
out:
	free(buf);
	close(fd);
	return err;
}

void fn_filter_burst_begin(struct fn_filter_queue *fq)
{
	struct rules_queue *q = fq->priv;
	struct fn_filter *r;
	struct gen *g;

	if (FN_UNLIKELY(!q))
		return;
	r = q->rules;
	if (FN_UNLIKELY(!q->online)) {
		rte_rcu_qsbr_thread_online(r->qsbr, q->qid);
		q->online = true;
	}
	/* nothing from the previous burst is held past this point */
	rte_rcu_qsbr_quiescent(r->qsbr, q->qid);
	g = atomic_load_explicit(&r->current, memory_order_acquire);
	if (FN_UNLIKELY(g != q->gen ||
			atomic_load_explicit(&r->held_epoch, memory_order_acquire) != q->epoch)) {
		q->gen = g;
		q->qs = g ? g->qs[q->qid] : NULL;
		q->epoch = atomic_load_explicit(&r->held_epoch, memory_order_acquire);
		fq->hooks = g ? g->prog.hooks : 0;
		/* a held generation's packets must reach its hooks too */
		for (unsigned i = 0; i < FN_FILTER_HELD; i++) {
			struct gen *h = atomic_load_explicit(&r->held[i], memory_order_acquire);

			if (h)
				fq->hooks |= h->prog.hooks;
		}
		fq->defrag_first = g && g->prog.conntrack;
		fq->generation = g ? g->number : 0;
	}
	if (FN_UNLIKELY(atomic_load_explicit(&r->has_retired, memory_order_relaxed)) &&
	    pthread_mutex_trylock(&r->lock) == 0) {
		reclaim_locked(r);
		pthread_mutex_unlock(&r->lock);
	}
}

void fn_filter_queue_offline(struct fn_filter_queue *fq)
{
	struct rules_queue *q = fq->priv;

	if (!q || !q->online)
		return;
	rte_rcu_qsbr_thread_offline(q->rules->qsbr, q->qid);
	q->online = false;
}

/* The generation the kernel judged pkt with: current, held, or none. */
static const struct gen *tagged(struct rules_queue *q, uint64_t tag)
{
	struct fn_filter *r = q->rules;

	if (FN_LIKELY(q->gen && q->gen->tag == tag))
		return q->gen;
	for (unsigned i = 0; i < FN_FILTER_HELD; i++) {
		struct gen *h = atomic_load_explicit(&r->held[i], memory_order_acquire);

		if (h && h->tag == tag)
			return h;
	}
	return NULL;
}

/* Finish judging a packet the kernel part judged up to a point, with the
 * generation it used: nothing before that point runs again here. */
static enum fn_verdict resume(struct rules_queue *q, enum fn_hook hook, struct fn_pkt *pkt,
			      struct fn_nft_decision *d)
{
	const struct fn_kernel_judged *k = pkt->kernel;
	const struct gen *g = tagged(q, k->generation);

	/* what the kernel part decided is not known here */
	*d = (struct fn_nft_decision){ .verdict = FN_ACCEPT, .chain = FN_IMG_NONE };
	if (FN_UNLIKELY(!g)) {
		q->unknown_gen++;
		d->verdict = FN_DROP;
		return FN_DROP;
	}
	if (hook != FN_HOOK_PREROUTING && hook != FN_HOOK_INPUT)
		return fn_nft_run(g->qs[q->qid], hook, pkt, d);
	if (k->done || (k->hook == FN_HOOK_INPUT && hook == FN_HOOK_PREROUTING))
		return FN_ACCEPT;           /* the kernel judged all of this hook */
	if (k->hook != hook)
		return fn_nft_run(g->qs[q->qid], hook, pkt, d);
	if (FN_UNLIKELY(!fn_nft_resume_valid(&g->prog, hook, k->chain, k->rule))) {
		q->unknown_gen++;
		d->verdict = FN_DROP;
		return FN_DROP;
	}
	return fn_nft_run_from(g->qs[q->qid], hook, pkt, k->chain, k->rule, d);
}

/* One hook run, traced into t unless t is NULL (a constant NULL in
 * fn_filter_run(), where the traced call folds away). */
static inline __attribute__((always_inline)) enum fn_verdict
run(struct fn_filter_queue *fq, enum fn_hook hook, struct fn_pkt *pkt, struct fn_trace *t)
{
	struct rules_queue *q = fq->priv;

	if (FN_UNLIKELY(pkt->kernel != NULL))
		return resume(q, hook, pkt, &fq->last);
	if (FN_UNLIKELY(!q->qs)) {
		/* only a held generation has this hook */
		fq->last = (struct fn_nft_decision){ .verdict = FN_ACCEPT, .chain = FN_IMG_NONE };
		return FN_ACCEPT;
	}
	if (t)
		return fn_nft_run_traced(q->qs, hook, pkt, &fq->last, t);
	return fn_nft_run(q->qs, hook, pkt, &fq->last);
}

enum fn_verdict fn_filter_run(struct fn_filter_queue *fq, enum fn_hook hook,
			      struct fn_pkt *pkt)
{
	enum fn_verdict (*tracer)(struct fn_filter_queue *, enum fn_hook, struct fn_pkt *) =
		__atomic_load_n(&fq->tracer, __ATOMIC_RELAXED);

	if (FN_UNLIKELY(tracer != NULL))
		return tracer(fq, hook, pkt);
	return run(fq, hook, pkt, NULL);
}

enum fn_verdict fn_filter_run_traced(struct fn_filter_queue *fq, enum fn_hook hook,
				     struct fn_pkt *pkt, struct fn_trace *t)
{
	if (t) {
		t->n = 0;
		t->lost = 0;
	}
	return run(fq, hook, pkt, t);
}

const char *fn_filter_chain_name(const struct fn_filter_queue *fq, uint32_t chain)
{
	const struct rules_queue *q = fq->priv;

	if (!q || !q->gen || chain >= q->gen->prog.hdr->n_chains)
		return "";
	return q->gen->prog.strings + q->gen->prog.chains[chain].name;
}

void fn_filter_hold(struct fn_filter *r)
{
	pthread_mutex_lock(&r->lock);
	r->hold = true;
	pthread_mutex_unlock(&r->lock);
}

void fn_filter_kernel_gen(struct fn_filter *r, uint64_t generation)
{
	pthread_mutex_lock(&r->lock);
	for (unsigned i = 0; i < FN_FILTER_HELD; i++) {
		struct gen *h = atomic_load(&r->held[i]);

		/* what the kernel used before its previous move is long gone
		 * from every ring */
		if (h && h->tag < r->kernel_gen) {
			atomic_store(&r->held[i], NULL);
			retire_locked(r, h);
			atomic_fetch_add(&r->held_epoch, 1);
		}
	}
	if (generation > r->kernel_gen)
		r->kernel_gen = generation;
	reclaim_locked(r);
	pthread_mutex_unlock(&r->lock);
}

void fn_filter_held_stats(struct fn_filter *r, unsigned *held, uint64_t *unknown_gen)
{
	*held = 0;
	*unknown_gen = 0;
	pthread_mutex_lock(&r->lock);
	for (unsigned i = 0; i < FN_FILTER_HELD; i++)
		*held += atomic_load(&r->held[i]) != NULL;
	for (unsigned i = 0; i < r->n_queues; i++)
		*unknown_gen += r->q[i].unknown_gen;
	pthread_mutex_unlock(&r->lock);
}

uint64_t fn_filter_sync_start(struct fn_filter *r)
{
	return rte_rcu_qsbr_start(r->qsbr);
}

bool fn_filter_sync_done(struct fn_filter *r, uint64_t token)
{
	return rte_rcu_qsbr_check(r->qsbr, token, false) == 1;
}

uint64_t fn_filter_generation(struct fn_filter *r)
{
	struct gen *g;
	uint64_t n;

	pthread_mutex_lock(&r->lock);
	g = atomic_load(&r->current);
	n = g ? g->number : 0;
	pthread_mutex_unlock(&r->lock);
	return n;
}

int fn_filter_counters(struct fn_filter *r, fn_filter_counter_cb cb, void *arg)
{
	struct gen *g;

	pthread_mutex_lock(&r->lock);
	g = atomic_load(&r->current);
	if (g)
		report_counters(r, g, false, cb, arg);
	pthread_mutex_unlock(&r->lock);
	return g ? 0 : -ENOENT;
}

void fn_filter_on_retire(struct fn_filter *r, fn_filter_counter_cb cb, void *arg)
{
	pthread_mutex_lock(&r->lock);
	r->on_retire = cb;
	r->on_retire_arg = arg;
	pthread_mutex_unlock(&r->lock);
}

static uint64_t set_full_of(const struct fn_nft_qstate *q)
{
	return q->set_full;
}

static uint64_t ct_count_full_of(const struct fn_nft_qstate *q)
{
	return q->cl->full;
}

/* A drop count of the current generation summed over its queues (each
 * queue's count is its lcore's; a torn read is off by packets in flight). */
static uint64_t sum_over_queues(struct fn_filter *r,
				uint64_t (*count)(const struct fn_nft_qstate *q))
{
	uint64_t n = 0;
	struct gen *g;
	unsigned qi;

	pthread_mutex_lock(&r->lock);
	g = atomic_load(&r->current);
	for (qi = 0; g && qi < r->n_queues; qi++)
		n += count(g->qs[qi]);
	pthread_mutex_unlock(&r->lock);
	return n;
}

uint64_t fn_filter_set_full(struct fn_filter *r)
{
	return sum_over_queues(r, set_full_of);
}

uint64_t fn_filter_ct_count_full(struct fn_filter *r)
{
	return sum_over_queues(r, ct_count_full_of);
}

void fn_filter_log_stats(struct fn_filter *r, uint64_t *lines, uint64_t *suppressed)
{
	struct gen *g;
	unsigned qi;

	*lines = *suppressed = 0;
	pthread_mutex_lock(&r->lock);
	g = atomic_load(&r->current);
	for (qi = 0; g && qi < r->n_queues; qi++) {
		*lines += g->qs[qi]->log_lines;
		*suppressed += g->qs[qi]->log_suppressed;
	}
	pthread_mutex_unlock(&r->lock);
}
