/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A pcapng writer, as much of the format as fragnetctl capture needs
 * (https://www.ietf.org/archive/id/draft-ietf-opsawg-pcapng-02.html): one
 * section header, one interface description per queue (a name and
 * nanosecond timestamps), and enhanced packet blocks with a comment.
 * Each function writes one whole block: 0, or -errno (-EIO when the stream
 * failed, -EINVAL for what the format cannot hold).
 */
#ifndef FNCTL_PCAPNG_H
#define FNCTL_PCAPNG_H

#include <stdint.h>
#include <stdio.h>

#define FNCTL_LINKTYPE_IPV4 228    /* raw IPv4, from the header on */

/* The section header; appl names the program that wrote it. */
int fnctl_pcapng_section(FILE *f, const char *appl);
/* The next interface (its id is how many came before it). */
int fnctl_pcapng_interface(FILE *f, uint16_t linktype, uint32_t snaplen, const char *name);
/* A packet of interface ifid at ts_ns (ns since the epoch): cap_len bytes
 * of data, orig_len on the wire, comment (or NULL). */
int fnctl_pcapng_packet(FILE *f, uint32_t ifid, uint64_t ts_ns, const void *data,
			uint32_t cap_len, uint32_t orig_len, const char *comment);

#endif /* FNCTL_PCAPNG_H */
