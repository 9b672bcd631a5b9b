/* SPDX-License-Identifier: BSD-3-Clause */
/* A few packets of each shape, for running fuzzed images and as seeds. */
#ifndef FN_FUZZ_SEED_PACKETS_H
#define FN_FUZZ_SEED_PACKETS_H

#include <stddef.h>
#include <stdint.h>

#define FN_FUZZ_PACKETS 10

/* Packet i (IPv4 datagram bytes) into buf (>= 128 bytes); returns length. */
size_t fn_fuzz_packet(unsigned i, uint8_t *buf);

#endif /* FN_FUZZ_SEED_PACKETS_H */
