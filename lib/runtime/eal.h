/* SPDX-License-Identifier: BSD-3-Clause */
/* Bringing up DPDK's EAL once per process, from our configuration. */
#ifndef FN_EAL_H
#define FN_EAL_H

#include <stdbool.h>

#include "fragnet.h"

/* 0, or -errno. A second call (or an application that initialised the EAL
 * itself) is fine: the running EAL is used as it is. */
int fn_eal_init(const struct fragnet_config *cfg, unsigned n_queues);

/* True when the string names a PCI device ("0000:03:00.0" or "03:00.0"). */
bool fn_is_pci_address(const char *s);

#endif /* FN_EAL_H */
