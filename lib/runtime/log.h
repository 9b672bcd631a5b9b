/* SPDX-License-Identifier: BSD-3-Clause */
/* Logging: one DPDK log type for the library ("lib.fragnet"). */
#ifndef FN_LOG_H
#define FN_LOG_H

#include <rte_log.h>

extern int fn_logtype;

#define FN_LOG(level, ...) \
	rte_log(RTE_LOG_##level, fn_logtype, "fragnet: " __VA_ARGS__)

#endif /* FN_LOG_H */
