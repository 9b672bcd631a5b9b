/* SPDX-License-Identifier: BSD-3-Clause */
/* What every unit test includes: CMocka and the device-less stack harness. */
#ifndef TEST_UNIT_H
#define TEST_UNIT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "harness.h"

#endif /* TEST_UNIT_H */
