/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The rules compiler: nft text in, a verified rules image (lib/nft/image.h)
 * out. The text is loaded by the real nft front end (libnftables) into a
 * network namespace, so the kernel itself parses and checks it; the result
 * is dumped back over netlink (libmnl + libnftnl) and lowered. Nothing
 * touches the host's traffic or ruleset.
 *
 * An expression, attribute or set feature the interpreter cannot reproduce
 * exactly is refused with a message naming the table, chain, rule handle and
 * expression; it is never ignored.
 *
 * Needs CAP_NET_ADMIN and CAP_SYS_ADMIN (root) for the namespace. A struct
 * fn_compiler is used by one thread at a time.
 */
#ifndef FN_COMPILER_H
#define FN_COMPILER_H

#include <stdbool.h>
#include <stddef.h>

struct fn_compiler;

/*
 * netns: NULL = a private anonymous network namespace (created and owned by
 * this object), or the name of a namespace under /run/netns to use.
 * NULL + errno (EPERM without privileges, ENOENT for a missing namespace,
 * ENOMEM), with a message in err.
 */
struct fn_compiler *fn_compiler_new(const char *netns, char *err, size_t errlen);
void fn_compiler_free(struct fn_compiler *c);

/* The compiler's namespace (owned by it), for others that load rules into
 * the same one, such as libnftables in fragnetd's scratch checks. */
int fn_compiler_netns_fd(const struct fn_compiler *c);

/*
 * Replace the namespace's ruleset with `text` atomically (like `nft -f` with
 * a leading `flush ruleset`), dump it and lower the table of application
 * `app` (table "inet APP" or "ip APP", else "inet fragnet"; NULL app =
 * "fragnet"). No such table: an image without chains (nothing filtered).
 * On success image and len hold a malloc'd image. On failure: -errno, a
 * message in err naming table/chain/handle/expression, and the previous
 * ruleset stays:
 *  -EINVAL      nft refused the text (its message is in err)
 *  -EOPNOTSUPP  the ruleset uses something the interpreter cannot reproduce
 *  -E2BIG       the image would not fit the format's limits
 *  -EAGAIN      the ruleset kept changing while it was dumped
 *  -ENOMEM, or a netlink/namespace errno
 */
int fn_compile_text(struct fn_compiler *c, const char *text, const char *app,
		    void **image, size_t *len, char *err, size_t errlen);

/* Classify ops (lib/nft/image.h) in front of runs of simple rules: on by
 * default; off leaves every rule to run in turn (benchmarks compare). */
void fn_compiler_classify(struct fn_compiler *c, bool on);

/* Dump what is in the namespace now (rules added by stock nft) and lower it.
 * Same results as fn_compile_text(), and nothing is changed on failure. */
int fn_compile_current(struct fn_compiler *c, const char *app, void **image,
		       size_t *len, char *err, size_t errlen);

#endif /* FN_COMPILER_H */
