/* SPDX-License-Identifier: BSD-3-Clause */
/* Stats queries (query.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "buf.h"
#include "config.h"
#include "generation.h"
#include "peer.h"
#include "query.h"
#include "report.h"
#include "ruleset.h"

struct fnd_queries {
	struct fnd_loop *loop;
	struct fnd_xdp *xdp;
	struct fnd_peers *peers;
	struct fnd_apps *apps;
	struct fnd_ruleset *ruleset;
	const struct fnd_config *cfg;
	struct fnd_query *list;
	uint32_t last_seq;
};

static void app_free(struct fnd_app_report *a)
{
	for (size_t i = 0; i < a->n_counters; i++) {
		free(a->counters[i].chain);
		free(a->counters[i].object);
	}
	free(a->counters);
	for (size_t i = 0; i < a->n_kcounters; i++) {
		free(a->kcounters[i].chain);
		free(a->kcounters[i].object);
	}
	free(a->kcounters);
	for (size_t i = 0; i < a->n_places; i++) {
		free(a->places[i].chain);
		free(a->places[i].why);
	}
	free(a->places);
	free(a->queues);
	free(a->have_queue);
}

static void query_free(struct fnd_query *q)
{
	fnd_timer_disarm(&q->timer);
	for (size_t i = 0; i < q->n_apps; i++)
		app_free(&q->apps[i]);
	free(q->apps);
	free(q);
}

static void unlink_query(struct fnd_queries *qs, struct fnd_query *q)
{
	for (struct fnd_query **pp = &qs->list; *pp; pp = &(*pp)->next)
		if (*pp == q) {
			*pp = q->next;
			return;
		}
}

static void add_kcounter(void *arg, uint64_t generation, const char *chain, uint64_t handle,
			 const char *object, uint64_t packets, uint64_t bytes, bool final)
{
	struct fnd_app_report *a = arg;
	struct fnd_counter *c;

	if (a->n_kcounters >= FND_QUERY_MAX_COUNTERS)
		return;            /* the daemon's own programs: never that many */
	c = realloc(a->kcounters, (a->n_kcounters + 1) * sizeof(*c));
	if (!c)
		return;
	a->kcounters = c;
	c = &c[a->n_kcounters++];
	*c = (struct fnd_counter){ .generation = generation, .handle = handle,
				   .packets = packets, .bytes = bytes, .final = final,
				   .chain = chain ? strdup(chain) : NULL,
				   .object = object ? strdup(object) : NULL };
}

static void add_place(void *arg, const char *chain, uint64_t handle, const char *why)
{
	struct fnd_app_report *a = arg;
	struct fnd_place *p = realloc(a->places, (a->n_places + 1) * sizeof(*p));

	if (!p)
		return;
	a->places = p;
	p[a->n_places++] = (struct fnd_place){ .chain = strdup(chain), .handle = handle,
					       .why = why ? strdup(why) : NULL };
}

/* What the report shows beyond the answers: the generations in question,
 * and for kernel-enforced applications what the kernel does. */
static void resolve(struct fnd_queries *qs, struct fnd_query *q)
{
	struct fnd_generation *cur = fnd_ruleset_current(qs->ruleset);

	q->generation = cur->number;
	q->nft_generation = cur->nft_gen;
	q->ruleset = cur->text;
	fnd_peers_stats(qs->peers, &q->conns);
	fnd_apps_stats(qs->apps, &q->app_stats);
	for (size_t i = 0; i < q->n_apps; i++) {
		struct fnd_app_report *a = &q->apps[i];
		struct fnd_generation *g = fnd_ruleset_find(qs->ruleset,
							    fnd_app_report_generation(a));

		struct fnd_image *im = fnd_generation_image(cur, a->name,
							    fnd_config_app_unfiltered(qs->cfg,
										      a->name));

		a->table = im->table;
		a->refused_input = im->refuse;
		a->ruleset = g ? g->text : NULL;
		a->kernel = fnd_xdp_app_info(qs->xdp, a->name, &a->xdp);
		if (a->kernel) {
			fnd_xdp_counters(qs->xdp, a->name, add_kcounter, a);
			fnd_xdp_places(qs->xdp, a->name, fnd_app_report_generation(a), add_place, a);
		}
	}
}

/* Complete, out of time, or nobody left to tell. */
static void answer(struct fnd_timer *t, void *arg)
{
	struct fnd_query *q = arg;
	struct fnd_queries *qs = q->set;
	struct fnd_peer *ctl = fnd_peer_find(qs->peers, q->ctl_peer);
	struct fnd_buf out = { 0 };
	int rc;

	unlink_query(qs, q);
	if (ctl != NULL) {
		resolve(qs, q);
		rc = fnd_report(q, &out);
		if (rc < 0)
			fnd_peer_reply(ctl, q->ctl_seq, rc, "out of memory", NULL, 0);
		else
			fnd_peer_reply(ctl, q->ctl_seq, 0, "", out.s, out.len);
	}
	fnd_buf_free(&out);
	query_free(q);
}

static void answered(struct fnd_query *q)
{
	if (--q->pending == 0)
		fnd_timer_arm(&q->timer, 0); /* once the events at hand are handled */
}

void fnd_query_start(struct fnd_queries *qs, struct fnd_peer *ctl, uint32_t seq,
		     const struct fn_ctl_request *req)
{
	struct fnd_query *q = calloc(1, sizeof(*q));
	size_t n = 0;

	if (q == NULL) {
		fnd_peer_reply(ctl, seq, -ENOMEM, "out of memory", NULL, 0);
		return;
	}
	for (struct fnd_app *a = fnd_apps_first(qs->apps); a; a = fnd_apps_next(a))
		n++;
	q->apps = calloc(n ? n : 1, sizeof(*q->apps));
	if (q->apps == NULL) {
		free(q);
		fnd_peer_reply(ctl, seq, -ENOMEM, "out of memory", NULL, 0);
		return;
	}
	q->set = qs;
	q->seq = ++qs->last_seq;
	q->ctl_peer = ctl->id;
	q->ctl_seq = seq;
	q->command = req->command;
	q->flags = req->flags;
	q->timeout_ms = qs->cfg->stats_timeout_ms;
	q->counter_share = FND_QUERY_MAX_COUNTERS / (n ? n : 1);
	q->name_share = FND_QUERY_MAX_NAME_BYTES / (n ? n : 1);
	fnd_timer_init(&q->timer, qs->loop, answer, q);
	q->next = qs->list;
	qs->list = q;
	for (struct fnd_app *app = fnd_apps_first(qs->apps); app; app = fnd_apps_next(app)) {
		struct fnd_app_report *a = &q->apps[q->n_apps++];
		struct fnd_peer *p = app->peer;

		a->peer_id = p->id;
		memcpy(a->name, p->name, sizeof(a->name));
		a->pid = p->pid;
		a->uid = p->uid;
		a->n_queues = app->n_queues;
		a->sent_gen = app->sent_gen;
		a->applied_gen = app->applied_gen;
		a->refused_gen = app->refused_gen;
		a->queues = calloc(app->n_queues, sizeof(*a->queues));
		a->have_queue = calloc(app->n_queues, sizeof(*a->have_queue));
		if (a->queues == NULL || a->have_queue == NULL)
			continue; /* reported as not answering */
		if (fnd_peer_send(p, FN_CTL_STATS_REQ, q->seq, NULL, 0, -1) == 0) {
			a->asked = true;
			q->pending++;
		}
	}
	fnd_timer_arm(&q->timer, q->pending ? fnd_now_ms() + q->timeout_ms : 0);
}

static struct fnd_query *query_of(struct fnd_queries *qs, uint32_t seq)
{
	for (struct fnd_query *q = qs->list; q; q = q->next)
		if (q->seq == seq)
			return q;
	return NULL;
}

static struct fnd_app_report *app_of(struct fnd_query *q, uint64_t peer_id)
{
	for (size_t i = 0; q && i < q->n_apps; i++)
		if (q->apps[i].peer_id == peer_id)
			return &q->apps[i];
	return NULL;
}

static char *name_dup(const char *s, size_t n)
{
	return n ? strndup(s, n) : NULL;
}

static void add_counters(const struct fnd_query *q, struct fnd_app_report *a,
			 const void *msg)
{
	struct fn_ctl_counter_view v;
	size_t pos = 0;

	while (fn_ctl_counters_next(msg, &pos, &v)) {
		size_t names = (size_t)v.c->chain_len + v.c->object_len;
		struct fnd_counter *c;

		if (a->n_counters >= q->counter_share || a->name_bytes + names > q->name_share) {
			a->counters_dropped++;
			continue;
		}
		if (a->n_counters == a->cap) {
			size_t cap = a->cap ? 2 * a->cap : 64;
			void *p = realloc(a->counters, cap * sizeof(*a->counters));

			if (p == NULL)
				return;
			a->counters = p;
			a->cap = cap;
		}
		c = &a->counters[a->n_counters];
		c->generation = v.c->generation;
		c->handle = v.c->handle;
		c->packets = v.c->packets;
		c->bytes = v.c->bytes;
		c->final = v.c->flags & FN_CTL_COUNTER_F_FINAL;
		c->chain = name_dup(v.chain, v.c->chain_len);
		c->object = name_dup(v.object, v.c->object_len);
		if ((v.c->chain_len && c->chain == NULL) || (v.c->object_len && c->object == NULL)) {
			free(c->chain);
			free(c->object);
			return;
		}
		a->n_counters++;
		a->name_bytes += names;
	}
}

/* STATS_QUEUE, STATS_COUNTERS, STATS_END: an application's answer. */
static int on_stats(struct fnd_peer *p, const void *msg, size_t len, void *arg)
{
	const struct fn_ctl_hdr *h = msg;
	struct fnd_query *q = query_of(arg, h->seq);
	struct fnd_app_report *a = app_of(q, p->id);
	const void *payload = fn_ctl_payload(msg);

	if (p->app == NULL)
		return -EPROTO;
	if (a == NULL || !a->asked || a->answered)
		return 0; /* unasked, or late for a query already answered */
	switch (h->type) {
	case FN_CTL_STATS_QUEUE: {
		const struct fn_ctl_queue_stats *s = payload;

		if (s->qid < a->n_queues) {
			a->queues[s->qid] = *s;
			a->have_queue[s->qid] = true;
		}
		break;
	}
	case FN_CTL_STATS_COUNTERS:
		add_counters(q, a, msg);
		break;
	default: /* FN_CTL_STATS_END */
		a->end = *(const struct fn_ctl_stats_end *)payload;
		a->answered = true;
		answered(q);
		break;
	}
	return 0;
}

static void on_close(struct fnd_peer *p, void *arg)
{
	struct fnd_queries *qs = arg;

	for (struct fnd_query *q = qs->list; q; q = q->next) {
		struct fnd_app_report *a = app_of(q, p->id);

		if (q->ctl_peer == p->id)
			fnd_timer_arm(&q->timer, 0); /* nobody to answer: dropped */
		if (a && a->asked && !a->answered) {
			a->peer_id = 0; /* gone: shown as not answering */
			answered(q);
		}
	}
}

struct fnd_queries *fnd_queries_new(struct fnd_loop *l, struct fnd_peers *ps,
				    struct fnd_apps *as, struct fnd_ruleset *rs,
				    struct fnd_xdp *xdp, const struct fnd_config *cfg)
{
	struct fnd_queries *qs = calloc(1, sizeof(*qs));
	int rc;

	if (qs == NULL)
		return NULL;
	qs->loop = l;
	qs->peers = ps;
	qs->apps = as;
	qs->ruleset = rs;
	qs->xdp = xdp;
	qs->cfg = cfg;
	if ((rc = fnd_peers_handle(ps, FN_CTL_STATS_QUEUE, on_stats, qs)) < 0 ||
	    (rc = fnd_peers_handle(ps, FN_CTL_STATS_COUNTERS, on_stats, qs)) < 0 ||
	    (rc = fnd_peers_handle(ps, FN_CTL_STATS_END, on_stats, qs)) < 0 ||
	    (rc = fnd_peers_on_close(ps, on_close, qs)) < 0) {
		free(qs);
		errno = -rc;
		return NULL;
	}
	return qs;
}

void fnd_queries_free(struct fnd_queries *qs)
{
	if (qs == NULL)
		return;
	while (qs->list) {
		struct fnd_query *q = qs->list;

		qs->list = q->next;
		query_free(q);
	}
	free(qs);
}
