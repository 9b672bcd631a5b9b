/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Kernel enforcement: fragnetd's XDP program on every interface an
 * application is configured on (app.NAME.interface/address), the AF_XDP
 * sockets applications hand over, and each application's rules in the
 * kernel.
 *
 * For every published generation each configured application gets a rules
 * program generated from its image (xdp/split.h, codegen.h, load.h). It
 * replaces the one the kernel runs (one atomic swap in the steering
 * program's fn_rules) once every connected process of that application has
 * applied the generation, so no packet reaches an application tagged with
 * rules it does not hold; then the processes hear KERNEL_GEN. A process that
 * does not apply within apply_timeout_ms is not waited for: its packets of
 * the new generation are dropped (and counted) until it does.
 *
 * Applications send each queue's AF_XDP socket unbound (FN_CTL_XSK): the
 * daemon binds it to the queue and interface the configuration grants and
 * puts it in the XSKMAP. The program, its maps and the rules programs are
 * pinned (xdp_pin_dir) and outlive the daemon; a restarted daemon adopts
 * them, numbers its generations above what the kernel runs, and waits for
 * the applications to come back before it swaps.
 */
#ifndef FND_XDP_H
#define FND_XDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nft/nft.h"

struct fnd_apps;
struct fnd_config;
struct fnd_loop;
struct fnd_peers;
struct fnd_ruleset;
struct fnd_xdp;

/*
 * Attach (or adopt) the program on every configured interface. *last_gen:
 * the highest generation a rules program found in the kernel was made
 * from (0: none), to number new generations above. NULL + errno with the
 * reason in err. With no application configured there is nothing to do:
 * returns an object that does nothing.
 */
struct fnd_xdp *fnd_xdp_new(struct fnd_loop *l, const struct fnd_config *cfg,
			    uint64_t *last_gen, char *err, size_t errlen);
/* Take sockets from ps, follow what rs publishes and who applies it. 0 or -errno. */
int fnd_xdp_start(struct fnd_xdp *x, struct fnd_peers *ps, struct fnd_apps *as,
		  struct fnd_ruleset *rs);
/* Close our handles: what is in the kernel stays there, enforcing. */
void fnd_xdp_free(struct fnd_xdp *x);

/* For fragnetctl. */
struct fnd_xdp_info {
	const char *ifname, *mode;     /* "native", "skb" */
	uint32_t prog_id, rules_id;    /* steering program, the application's rules program */
	uint64_t generation;           /* the rules the kernel runs for it (0: none) */
	uint64_t pending;              /* built, waiting for the application (0: none) */
	uint64_t queues;               /* bit q: its socket owns rx queue q */
};
/* false when app is not kernel-enforced. */
bool fnd_xdp_app_info(struct fnd_xdp *x, const char *app, struct fnd_xdp_info *info);

/* Every rule of app's prerouting and input chains (and the chains they
 * reach) in generation gen, with where it runs: why NULL in the kernel,
 * else why in-process only. Nothing when gen is not one of the kernel
 * programs the daemon holds. */
typedef void fnd_xdp_place_fn(void *arg, const char *chain, uint64_t handle, const char *why);
void fnd_xdp_places(struct fnd_xdp *x, const char *app, uint64_t gen, fnd_xdp_place_fn *fn,
		    void *arg);

/* The kernel's rule counters of app, live for the generation it runs and
 * final for the ones it replaced (the last FND_XDP_FINAL_GENS). */
typedef void fnd_xdp_counter_fn(void *arg, uint64_t generation, const char *chain,
				uint64_t handle, const char *object, uint64_t packets,
				uint64_t bytes, bool final);
void fnd_xdp_counters(struct fnd_xdp *x, const char *app, fnd_xdp_counter_fn *fn, void *arg);
#define FND_XDP_FINAL_GENS 32

#endif /* FND_XDP_H */
