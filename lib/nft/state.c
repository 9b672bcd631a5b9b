/* SPDX-License-Identifier: BSD-3-Clause */
/* Mutable state of a program: shared per generation, and per queue. */
#include <errno.h>
#include <stdlib.h>
#include <sys/time.h>
#include <time.h>

#include "connlimit.h"
#include "dynset.h"
#include "limit.h"
#include "nft.h"

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t mono_ns(void *arg)
{
	(void)arg;
	return clock_ns(CLOCK_MONOTONIC);
}

static uint64_t real_ns(void *arg)
{
	(void)arg;
	return clock_ns(CLOCK_REALTIME);
}

void fn_nft_env_default(struct fn_nft_env *env)
{
	struct timezone tz = { 0 };
	struct timeval tv;

	env->mono_ns = mono_ns;
	env->real_ns = real_ns;
	env->clock_arg = NULL;
	/* gettimeofday() reports the kernel's sys_tz, which meta day uses */
	env->tz_minuteswest = gettimeofday(&tv, &tz) == 0 ? tz.tz_minuteswest : 0;
	env->log = NULL;
	env->log_arg = NULL;
}

struct fn_nft_shared *fn_nft_shared_new(const struct fn_nft_prog *prog,
					const struct fn_nft_env *env)
{
	const struct fn_img_header *h = prog->hdr;
	struct fn_nft_shared *sh = calloc(1, sizeof(*sh));
	int64_t now = (int64_t)env->mono_ns(env->clock_arg);
	uint32_t i;

	if (!sh)
		goto fail;
	sh->limit_empty = calloc(h->n_limits + 1, sizeof(*sh->limit_empty));
	sh->quota_used = calloc(h->n_quotas + 1, sizeof(*sh->quota_used));
	if (!sh->limit_empty || !sh->quota_used)
		goto fail;
	/* a limit starts with a full bucket, a quota with what the ruleset
	 * says was already consumed */
	for (i = 0; i < h->n_limits; i++)
		atomic_init(&sh->limit_empty[i], fn_limit_full(&prog->limits[i], now));
	for (i = 0; i < h->n_quotas; i++)
		atomic_init(&sh->quota_used[i], prog->quotas[i].consumed);
	return sh;
fail:
	fn_nft_shared_free(sh);
	errno = ENOMEM;
	return NULL;
}

void fn_nft_shared_free(struct fn_nft_shared *sh)
{
	if (!sh)
		return;
	free(sh->limit_empty);
	free(sh->quota_used);
	free(sh);
}

struct fn_nft_qstate *fn_nft_qstate_new(const struct fn_nft_prog *prog,
					struct fn_nft_shared *sh,
					const struct fn_nft_env *env,
					struct fn_ct_table *ct)
{
	struct fn_nft_qstate *qs = calloc(1, sizeof(*qs));
	uint32_t i;

	if (!qs)
		goto fail;
	qs->prog = prog;
	/* counters start at zero in every queue: readers add the image's
	 * initial values once */
	qs->counters = calloc(prog->hdr->n_counters + 1, sizeof(*qs->counters));
	qs->dyn = calloc(prog->hdr->n_sets + 1, sizeof(*qs->dyn));
	qs->cl = calloc(1, sizeof(*qs->cl));
	if (!qs->counters || !qs->dyn || !qs->cl || fn_cl_init(qs->cl, prog))
		goto fail;
	for (i = 0; i < prog->hdr->n_sets; i++) {
		const struct fn_img_set *s = &prog->sets[i];

		if ((s->flags & FN_SET_F_DYNAMIC) &&
		    fn_dyn_init(&qs->dyn[i], s->size, s->key_len))
			goto fail;
	}
	qs->shared = sh;
	qs->env = env;
	qs->ct = ct;
	return qs;
fail:
	fn_nft_qstate_free(qs);
	errno = ENOMEM;
	return NULL;
}

void fn_nft_qstate_free(struct fn_nft_qstate *qs)
{
	uint32_t i;

	if (!qs)
		return;
	if (qs->dyn)
		for (i = 0; i < qs->prog->hdr->n_sets; i++)
			fn_dyn_fini(&qs->dyn[i]);
	free(qs->dyn);
	if (qs->cl)
		fn_cl_fini(qs->cl);
	free(qs->cl);
	free(qs->counters);
	free(qs);
}
