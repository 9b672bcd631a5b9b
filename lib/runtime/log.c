/* SPDX-License-Identifier: BSD-3-Clause */
#include "log.h"

/* Registered at load time so that EAL's --log-level=lib.fragnet:debug applies. */
RTE_LOG_REGISTER_DEFAULT(fn_logtype, INFO);
