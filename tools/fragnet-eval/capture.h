/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Reading IPv4 packets out of a tcpdump/tshark capture (pcap or pcapng,
 * through libpcap): Ethernet (with one VLAN tag), Linux cooked v1/v2, raw IP
 * and BSD loopback link types.
 */
#ifndef FN_EVAL_CAPTURE_H
#define FN_EVAL_CAPTURE_H

#include <stdbool.h>
#include <stdint.h>

struct fn_capture;

/* One captured frame, reduced to what the filter sees. */
struct fn_captured {
	uint64_t ts_ns;        /* capture timestamp, ns since the epoch */
	uint32_t orig_len;     /* length on the wire */
	bool ipv4;             /* false: not an IPv4 packet (skipped) */
	bool has_l2;           /* an Ethernet header is available */
	uint8_t l2[14];        /* Ethernet header (VLAN tag removed) */
	uint8_t pkttype;       /* enum fn_pkttype, from the link header */
	const uint8_t *l3;     /* the IPv4 bytes as captured */
	uint32_t l3_caplen;
};

/* NULL with a message in err. */
struct fn_capture *fn_capture_open(const char *path, char *err, size_t errlen);
/* 1: *f filled (valid until the next call); 0: end; -1: read error (err). */
int fn_capture_next(struct fn_capture *c, struct fn_captured *f, char *err, size_t errlen);
void fn_capture_close(struct fn_capture *c);

#endif /* FN_EVAL_CAPTURE_H */
