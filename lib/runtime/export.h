/* SPDX-License-Identifier: BSD-3-Clause */
/* The library builds with -fvisibility=hidden: public functions say so here,
 * and fragnet.map versions them. */
#ifndef FN_EXPORT_H
#define FN_EXPORT_H
#define FN_EXPORT __attribute__((visibility("default")))

/*
 * A public function whose contract changed keeps its old implementation for
 * programs linked against the release that had it: each implementation is
 * bound to the public name at its release's node, the current one as the
 * default ("name@@FRAGNET_0.2"), older ones not ("name@FRAGNET_0.1"), and
 * fragnet.map lists the name under every one of those nodes. Programs linked
 * against the static library for tests get the default.
 */
#ifdef __has_attribute
#if __has_attribute(__symver__)
/* GCC's attribute: the binding survives link-time optimization, which
 * splits and renames what a top-level .symver directive names (a build
 * with -flto, as Ubuntu's and Fedora's packaging flags have, failed). */
#define FN_SYMVER(impl, versioned_name) \
	extern __typeof__(impl) impl __attribute__((__symver__(versioned_name)))
#endif
#endif
#ifndef FN_SYMVER   /* clang: the directive */
#define FN_SYMVER(impl, versioned_name) __asm__(".symver " #impl ", " versioned_name)
#endif
#endif
