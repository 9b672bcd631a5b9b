/* SPDX-License-Identifier: BSD-3-Clause */
/* fragnetctl's commands (command.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "command.h"
#include "event.h"
#include "log.h"
#include "peer.h"
#include "query.h"
#include "ruleset.h"

/* A load or check of one peer (peer->req), from its REQUEST to its reply. */
struct fnd_request {
	struct fnd_request *next;  /* in the list of loads waiting for applications */
	struct fnd_peer *peer;
	struct fn_ctl_request req;
	uint32_t seq;
	char *text;                /* the rules, while they are being received */
	size_t text_len;
	uint64_t wait_gen;         /* reply once every application applied this */
	struct fnd_timer deadline; /* ... or at the latest then */
};

struct fnd_commands {
	struct fnd_loop *loop;
	struct fnd_apps *apps;
	struct fnd_ruleset *ruleset;
	struct fnd_queries *queries;
	unsigned apply_timeout_ms;
	struct fnd_request *waiting;
};

static void request_free(struct fnd_commands *cs, struct fnd_request *r)
{
	for (struct fnd_request **pp = &cs->waiting; *pp; pp = &(*pp)->next)
		if (*pp == r) {
			*pp = r->next;
			break;
		}
	fnd_timer_disarm(&r->deadline);
	r->peer->req = NULL;
	free(r->text);
	free(r);
}

/* Answer the loads every application applied (or refused), or out of time. */
static void check_waits(struct fnd_commands *cs)
{
	int64_t now = fnd_now_ms();

	for (struct fnd_request *r = cs->waiting, *next; r; r = next) {
		unsigned total = 0, applied = 0, refused = 0;
		char msg[FN_CTL_MSG_MAX], late[512] = "", bad[512] = "";
		size_t nl = 0, nb = 0;

		next = r->next;
		for (struct fnd_app *a = fnd_apps_first(cs->apps); a; a = fnd_apps_next(a)) {
			char entry[96];

			total++;
			snprintf(entry, sizeof(entry), "%s[%d]", a->peer->name, (int)a->peer->pid);
			if (a->applied_gen >= r->wait_gen) {
				applied++;
			} else if (a->refused_gen == r->wait_gen) {
				refused++;
				if (nb < sizeof(bad))
					nb += (size_t)snprintf(bad + nb, sizeof(bad) - nb, "%s%s",
							       nb ? ", " : "", entry);
			} else if (nl < sizeof(late)) {
				nl += (size_t)snprintf(late + nl, sizeof(late) - nl, "%s%s",
						       nl ? ", " : "", entry);
			}
		}
		if (applied + refused < total && now < r->deadline.deadline)
			continue;
		snprintf(msg, sizeof(msg), "generation %" PRIu64 " loaded: applied by %u of %u "
			 "application(s)%s%s%s%s", r->wait_gen, applied, total,
			 refused ? "; refused by " : "", bad,
			 applied + refused < total ? "; no answer yet from " : "", late);
		fnd_peer_reply(r->peer, r->seq, applied == total ? 0 : -EREMOTEIO, msg, NULL, 0);
		request_free(cs, r);
	}
}

static void on_apps_changed(void *arg)
{
	check_waits(arg);
}

static void on_deadline(struct fnd_timer *t, void *arg)
{
	check_waits(arg);
}

/* A load or check whose text is complete. */
static void run(struct fnd_commands *cs, struct fnd_request *r)
{
	struct fnd_peer *p = r->peer;
	char err[FN_CTL_MSG_MAX], who[128];
	const char *source = r->req.source[0] ? r->req.source : "(fragnetctl)";
	bool check = r->req.command == FN_CTL_CMD_CHECK;
	uint64_t gen;
	int rc;

	fnd_peer_describe(p, who, sizeof(who));
	err[0] = '\0';
	rc = fnd_ruleset_load(cs->ruleset, r->text, r->text_len, source, check, &gen, err,
			      sizeof(err));
	free(r->text);
	r->text = NULL;
	if (rc < 0) {
		fnd_log(LOG_WARNING, "%s %s %s: refused, nothing changed: %s", who,
			check ? "check" : "load", source, err);
		fnd_peer_reply(p, r->seq, rc, err, NULL, 0);
		request_free(cs, r);
		return;
	}
	if (check) {
		snprintf(err, sizeof(err), "%s: the ruleset loads and every table lowers", source);
		fnd_peer_reply(p, r->seq, 0, err, NULL, 0);
		request_free(cs, r);
		return;
	}
	fnd_log(LOG_INFO, "%s loaded %s as generation %" PRIu64, who, source, gen);
	r->wait_gen = gen;
	fnd_timer_arm(&r->deadline, fnd_now_ms() + cs->apply_timeout_ms);
	r->next = cs->waiting;
	cs->waiting = r;
	check_waits(cs);
}

static int on_request(struct fnd_peer *p, const void *msg, size_t len, void *arg)
{
	const struct fn_ctl_hdr *h = msg;
	const struct fn_ctl_request *m = fn_ctl_payload(msg);
	struct fnd_commands *cs = arg;
	struct fnd_request *r;

	if (!(p->roles & FND_ROLE_ADMIN)) {
		char why[160];

		snprintf(why, sizeof(why), "uid %u may not run fragnetctl commands (not in "
			 "admin_users or admin_groups)", (unsigned)p->uid);
		fnd_peer_refuse(p, -EACCES, why);
		return 0;
	}
	if (p->app || p->req)
		return -EPROTO;
	if (m->command != FN_CTL_CMD_LOAD && m->command != FN_CTL_CMD_CHECK) {
		fnd_query_start(cs->queries, p, h->seq, m);
		return 0;
	}
	if (m->text_len == 0) {
		fnd_peer_reply(p, h->seq, -EINVAL, "the rules text is empty", NULL, 0);
		return 0;
	}
	r = calloc(1, sizeof(*r));
	if (r)
		r->text = malloc(m->text_len + 1);
	if (r == NULL || r->text == NULL) {
		free(r);
		fnd_peer_reply(p, h->seq, -ENOMEM, "out of memory", NULL, 0);
		return 0;
	}
	r->peer = p;
	r->req = *m;
	r->seq = h->seq;
	fnd_timer_init(&r->deadline, cs->loop, on_deadline, cs);
	p->req = r;
	return 0;
}

static int on_data(struct fnd_peer *p, const void *msg, size_t len, void *arg)
{
	struct fnd_request *r = p->req;
	size_t n = fn_ctl_payload_len(msg);

	if (r == NULL || r->text == NULL || n > r->req.text_len - r->text_len)
		return -EPROTO;
	memcpy(r->text + r->text_len, fn_ctl_payload(msg), n);
	r->text_len += n;
	r->text[r->text_len] = '\0';
	if (r->text_len == r->req.text_len)
		run(arg, r);
	return 0;
}

static void on_close(struct fnd_peer *p, void *arg)
{
	if (p->req)
		request_free(arg, p->req);
}

struct fnd_commands *fnd_commands_new(struct fnd_loop *l, struct fnd_peers *ps,
				      struct fnd_apps *as, struct fnd_ruleset *rs,
				      struct fnd_queries *qs, unsigned apply_timeout_ms)
{
	struct fnd_commands *cs = calloc(1, sizeof(*cs));
	int rc;

	if (cs == NULL)
		return NULL;
	cs->loop = l;
	cs->apps = as;
	cs->ruleset = rs;
	cs->queries = qs;
	cs->apply_timeout_ms = apply_timeout_ms;
	if ((rc = fnd_peers_handle(ps, FN_CTL_REQUEST, on_request, cs)) < 0 ||
	    (rc = fnd_peers_handle(ps, FN_CTL_DATA, on_data, cs)) < 0 ||
	    (rc = fnd_peers_on_close(ps, on_close, cs)) < 0 ||
	    (rc = fnd_apps_watch(as, on_apps_changed, cs)) < 0) {
		free(cs);
		errno = -rc;
		return NULL;
	}
	return cs;
}

void fnd_commands_free(struct fnd_commands *cs)
{
	free(cs); /* the requests went with their peers */
}
