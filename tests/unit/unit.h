/* SPDX-License-Identifier: BSD-3-Clause */
/* What every unit test includes: CMocka, the device-less stack harness and
 * its fixtures. */
#ifndef TEST_UNIT_H
#define TEST_UNIT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "harness.h"

/* A test on a fresh stack of one queue, of two, or of one and the peer's;
 * h_fn() is ours, h_peer() the peer's. */
#define H_TEST(f) cmocka_unit_test_setup_teardown(f, h_setup, h_teardown)
#define H_TEST2(f) cmocka_unit_test_setup_teardown(f, h_setup2, h_teardown)
#define H_TEST_PEER(f) cmocka_unit_test_setup_teardown(f, h_setup_peer, h_teardown)

static inline struct fragnet *h_fn(void **state)
{
	return ((struct h_fix *)*state)->fn;
}

static inline struct fragnet *h_peer(void **state)
{
	return ((struct h_fix *)*state)->peer;
}

#endif /* TEST_UNIT_H */
