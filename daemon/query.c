/* SPDX-License-Identifier: BSD-3-Clause */
/* Stats queries (query.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "fragnetd.h"
#include "log.h"
#include "query.h"
#include "report.h"

static void app_free(struct fnd_app_report *a)
{
	for (size_t i = 0; i < a->n_counters; i++) {
		free(a->counters[i].chain);
		free(a->counters[i].object);
	}
	free(a->counters);
	free(a->queues);
	free(a->have_queue);
}

static void query_free(struct fnd_query *q)
{
	for (size_t i = 0; i < q->n_apps; i++)
		app_free(&q->apps[i]);
	free(q->apps);
	free(q);
}

static void unlink_query(struct fnd *d, struct fnd_query *q)
{
	for (struct fnd_query **pp = &d->queries; *pp; pp = &(*pp)->next)
		if (*pp == q) {
			*pp = q->next;
			return;
		}
}

void fnd_query_free_all(struct fnd *d)
{
	while (d->queries) {
		struct fnd_query *q = d->queries;

		d->queries = q->next;
		query_free(q);
	}
}

void fnd_query_start(struct fnd *d, struct fnd_peer *ctl, uint32_t seq,
		     const struct fn_ctl_request *req)
{
	struct fnd_query *q = calloc(1, sizeof(*q));
	size_t n = 0;

	if (q == NULL) {
		fnd_peer_reply(d, ctl, seq, -ENOMEM, "out of memory", NULL, 0);
		return;
	}
	for (struct fnd_peer *p = d->peers; p; p = p->next)
		n += p->fd >= 0 && p->registered;
	q->apps = calloc(n ? n : 1, sizeof(*q->apps));
	if (q->apps == NULL) {
		free(q);
		fnd_peer_reply(d, ctl, seq, -ENOMEM, "out of memory", NULL, 0);
		return;
	}
	q->seq = ++d->last_seq;
	q->ctl_peer = ctl->id;
	q->ctl_seq = seq;
	q->command = req->command;
	q->flags = req->flags;
	q->deadline = fnd_now_ms() + d->cfg.stats_timeout_ms;
	q->next = d->queries;
	d->queries = q;
	for (struct fnd_peer *p = d->peers; p; p = p->next) {
		struct fnd_app_report *a;

		if (p->fd < 0 || !p->registered)
			continue;
		a = &q->apps[q->n_apps++];
		a->peer_id = p->id;
		memcpy(a->name, p->name, sizeof(a->name));
		a->pid = p->pid;
		a->uid = p->uid;
		a->n_queues = p->n_queues;
		a->sent_gen = p->sent_gen;
		a->applied_gen = p->applied_gen;
		a->refused_gen = p->refused_gen;
		a->queues = calloc(p->n_queues, sizeof(*a->queues));
		a->have_queue = calloc(p->n_queues, sizeof(*a->have_queue));
		if (a->queues == NULL || a->have_queue == NULL)
			continue; /* reported as not answering */
		if (fnd_peer_send(d, p, FN_CTL_STATS_REQ, q->seq, NULL, 0, -1) == 0) {
			a->asked = true;
			q->pending++;
		}
	}
	fnd_timer_arm(d);
}

static struct fnd_app_report *find_app(struct fnd *d, uint32_t seq, uint64_t peer_id)
{
	for (struct fnd_query *q = d->queries; q; q = q->next) {
		if (q->seq != seq)
			continue;
		for (size_t i = 0; i < q->n_apps; i++)
			if (q->apps[i].peer_id == peer_id)
				return &q->apps[i];
	}
	return NULL;
}

static struct fnd_query *query_of(struct fnd *d, uint32_t seq)
{
	for (struct fnd_query *q = d->queries; q; q = q->next)
		if (q->seq == seq)
			return q;
	return NULL;
}

static char *name_dup(const char *s, size_t n)
{
	return n ? strndup(s, n) : NULL;
}

static void add_counters(struct fnd_app_report *a, const void *msg)
{
	struct fn_ctl_counter_view v;
	size_t pos = 0;

	while (fn_ctl_counters_next(msg, &pos, &v) && a->n_counters < FND_QUERY_MAX_COUNTERS) {
		struct fnd_counter *c;

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
	}
}

void fnd_query_input(struct fnd *d, struct fnd_peer *app, const void *msg, int type)
{
	const struct fn_ctl_hdr *h = msg;
	struct fnd_app_report *a = find_app(d, h->seq, app->id);
	const void *payload = fn_ctl_payload(msg);

	if (a == NULL || !a->asked || a->answered)
		return; /* unasked, or late for a query already answered */
	switch (type) {
	case FN_CTL_STATS_QUEUE: {
		const struct fn_ctl_queue_stats *s = payload;

		if (s->qid < a->n_queues) {
			a->queues[s->qid] = *s;
			a->have_queue[s->qid] = true;
		}
		break;
	}
	case FN_CTL_STATS_COUNTERS:
		add_counters(a, msg);
		break;
	case FN_CTL_STATS_END:
		a->end = *(const struct fn_ctl_stats_end *)payload;
		a->answered = true;
		query_of(d, h->seq)->pending--;
		break;
	default:
		break;
	}
}

void fnd_query_peer_gone(struct fnd *d, uint64_t peer_id)
{
	for (struct fnd_query *q = d->queries; q; q = q->next) {
		if (q->ctl_peer == peer_id)
			q->deadline = 0; /* nobody to answer: dropped by fnd_query_run() */
		for (size_t i = 0; i < q->n_apps; i++) {
			struct fnd_app_report *a = &q->apps[i];

			if (a->peer_id == peer_id && a->asked && !a->answered) {
				a->peer_id = 0; /* gone: shown as not answering */
				q->pending--;
			}
		}
	}
}

void fnd_query_run(struct fnd *d)
{
	int64_t now = fnd_now_ms();
	struct fnd_query *q, *next;

	for (q = d->queries; q; q = next) {
		struct fnd_peer *ctl;
		struct fnd_buf out = { 0 };
		int rc;

		next = q->next;
		if (q->pending > 0 && now < q->deadline)
			continue;
		unlink_query(d, q);
		ctl = fnd_peer_find(d, q->ctl_peer);
		if (ctl != NULL) {
			rc = fnd_report(d, q, &out);
			if (rc < 0)
				fnd_peer_reply(d, ctl, q->ctl_seq, rc, "out of memory", NULL, 0);
			else
				fnd_peer_reply(d, ctl, q->ctl_seq, 0, "", out.s, out.len);
		}
		fnd_buf_free(&out);
		query_free(q);
	}
}

int64_t fnd_query_next_deadline(struct fnd *d)
{
	int64_t next = 0;

	for (struct fnd_query *q = d->queries; q; q = q->next)
		if (next == 0 || q->deadline < next)
			next = q->deadline;
	return next;
}
