/* SPDX-License-Identifier: BSD-3-Clause */
/* The library builds with -fvisibility=hidden: public functions say so here,
 * and fragnet.map versions them. */
#ifndef FN_EXPORT_H
#define FN_EXPORT_H
#define FN_EXPORT __attribute__((visibility("default")))
#endif
