/* SPDX-License-Identifier: BSD-3-Clause */
/* Captures through libpcap: pcap_open_offline() reads both pcap and pcapng. */
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture.h"
#include "filter/filter.h"

/* Link types as numbered in capture files (LINKTYPE_*); DLT values differ
 * for some of them, but pcap_datalink() returns the DLT. */
#ifndef DLT_LINUX_SLL2
#define DLT_LINUX_SLL2 276
#endif
#ifndef DLT_IPV4
#define DLT_IPV4 228
#endif

struct fn_capture {
	pcap_t *p;
	int dlt;
};

struct fn_capture *fn_capture_open(const char *path, char *err, size_t errlen)
{
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	struct fn_capture *c = calloc(1, sizeof(*c));

	if (!c) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, ebuf);
	if (!c->p) {
		snprintf(err, errlen, "%s", ebuf);
		free(c);
		return NULL;
	}
	c->dlt = pcap_datalink(c->p);
	switch (c->dlt) {
	case DLT_EN10MB: case DLT_LINUX_SLL: case DLT_LINUX_SLL2: case DLT_RAW:
	case DLT_IPV4: case DLT_NULL: case DLT_LOOP:
		return c;
	}
	snprintf(err, errlen, "unsupported link type %s (%d)",
		 pcap_datalink_val_to_name(c->dlt) ? pcap_datalink_val_to_name(c->dlt) : "?", c->dlt);
	pcap_close(c->p);
	free(c);
	return NULL;
}

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* Ethernet: the kernel's eth_type_trans() picks the packet type from the
 * destination; a capture has no "our address", so unicast counts as host. */
static uint32_t parse_ether(const uint8_t *d, uint32_t n, struct fn_captured *f)
{
	if (n < 14)
		return 0;
	uint32_t off = 12;
	uint16_t type = be16(d + off);
	if (type == 0x8100 || type == 0x88a8) {
		if (n < 18)
			return 0;
		off += 4;
		type = be16(d + off);
	}
	f->ipv4 = type == 0x0800;
	f->has_l2 = true;
	memcpy(f->l2, d, 12);
	f->l2[12] = 0x08;
	f->l2[13] = 0x00;
	if (memcmp(d, "\xff\xff\xff\xff\xff\xff", 6) == 0)
		f->pkttype = FN_PKT_BROADCAST;
	else if (d[0] & 1)
		f->pkttype = FN_PKT_MULTICAST;
	else
		f->pkttype = FN_PKT_HOST;
	return off + 2;
}

int fn_capture_next(struct fn_capture *c, struct fn_captured *f, char *err, size_t errlen)
{
	struct pcap_pkthdr *h;
	const uint8_t *d;
	int rc = pcap_next_ex(c->p, &h, &d);

	if (rc == PCAP_ERROR_BREAK)
		return 0;
	if (rc != 1) {
		snprintf(err, errlen, "%s", pcap_geterr(c->p));
		return -1;
	}
	memset(f, 0, sizeof(*f));
	f->ts_ns = (uint64_t)h->ts.tv_sec * 1000000000ull + (uint64_t)h->ts.tv_usec;
	f->orig_len = h->len;
	f->pkttype = FN_PKT_HOST;
	uint32_t n = h->caplen, off = 0;
	switch (c->dlt) {
	case DLT_EN10MB:
		off = parse_ether(d, n, f);
		break;
	case DLT_LINUX_SLL: /* pkttype(2) hatype(2) halen(2) addr(8) protocol(2) */
		if (n >= 16) {
			f->pkttype = (uint8_t)be16(d);
			f->ipv4 = be16(d + 14) == 0x0800;
			off = 16;
		}
		break;
	case DLT_LINUX_SLL2: /* protocol(2) rsv(2) ifindex(4) hatype(2) pkttype(1) ... */
		if (n >= 20) {
			f->pkttype = d[10];
			f->ipv4 = be16(d) == 0x0800;
			off = 20;
		}
		break;
	case DLT_RAW: case DLT_IPV4:
		f->ipv4 = n > 0 && (d[0] >> 4) == 4;
		break;
	case DLT_NULL: case DLT_LOOP: /* 4-byte address family, AF_INET = 2 */
		if (n >= 4) {
			f->ipv4 = d[0] == 2 || d[3] == 2;
			off = 4;
		}
		break;
	}
	if (off > n)
		off = n;
	f->l3 = d + off;
	f->l3_caplen = n - off;
	return 1;
}

void fn_capture_close(struct fn_capture *c)
{
	if (!c)
		return;
	pcap_close(c->p);
	free(c);
}
