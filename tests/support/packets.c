/* SPDX-License-Identifier: BSD-3-Clause */
/* IPv4 datagrams with valid checksums (packets.h). */
#include <string.h>

#include "packets.h"
#include "stack/csum.h"

#define PROTO_ICMP 1
#define PROTO_TCP 6
#define PROTO_UDP 17

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static size_t header_len(const uint8_t *ip)
{
	return (ip[0] & 0xfu) * 4u;
}

size_t tp_ipv4(uint8_t *buf, uint32_t src, uint32_t dst, uint8_t proto, size_t payload,
	       const struct tp_ip *opt)
{
	static const struct tp_ip none;

	if (opt == NULL)
		opt = &none;
	memset(buf, 0, TP_HDR);
	buf[0] = 0x45;
	put16(buf + 2, (uint16_t)(TP_HDR + payload));
	put16(buf + 4, opt->id);
	put16(buf + 6, opt->frag);
	buf[8] = opt->ttl ? opt->ttl : 64;
	buf[9] = proto;
	memcpy(buf + 12, &src, 4);
	memcpy(buf + 16, &dst, 4);
	tp_ipv4_fix(buf);
	return TP_HDR;
}

void tp_ipv4_fix(uint8_t *ip)
{
	ip[10] = ip[11] = 0;
	fn_csum_store(ip + 10, fn_csum(ip, header_len(ip)));
}

/* The sum of the len transport bytes at l4 and their pseudo header. */
static uint64_t l4_sum(const uint8_t *ip, const uint8_t *l4, size_t len)
{
	return fn_csum_add_pseudo(fn_csum_add(0, l4, len), ip, ip[9], (uint32_t)len);
}

size_t tp_udp(uint8_t *buf, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport,
	      const void *payload, size_t len, const struct tp_ip *opt)
{
	uint8_t *u = buf + TP_HDR;

	if (payload)
		memmove(u + 8, payload, len);
	tp_ipv4(buf, src, dst, PROTO_UDP, 8 + len, opt);
	put16(u, sport);
	put16(u + 2, dport);
	put16(u + 4, (uint16_t)(8 + len));
	u[6] = u[7] = 0;
	fn_csum_store(u + 6, fn_csum_finish_udp(l4_sum(buf, u, 8 + len)));
	return TP_HDR + 8 + len;
}

size_t tp_icmp(uint8_t *buf, uint32_t src, uint32_t dst, uint8_t type, uint8_t code,
	       uint16_t id, uint16_t seq, const void *data, size_t len)
{
	uint8_t *m = buf + TP_HDR;

	if (data)
		memmove(m + 8, data, len);
	tp_ipv4(buf, src, dst, PROTO_ICMP, 8 + len, NULL);
	m[0] = type;
	m[1] = code;
	m[2] = m[3] = 0;
	put16(m + 4, id);
	put16(m + 6, seq);
	fn_csum_store(m + 2, fn_csum(m, 8 + len));
	return TP_HDR + 8 + len;
}

size_t tp_fragment(uint8_t *out, const uint8_t *dgram, size_t off, size_t len, bool more)
{
	memcpy(out, dgram, TP_HDR);
	memcpy(out + TP_HDR, dgram + TP_HDR + off, len);
	put16(out + 2, (uint16_t)(TP_HDR + len));
	put16(out + 6, (uint16_t)((more ? TP_MF : 0) | off / 8));
	tp_ipv4_fix(out);
	return TP_HDR + len;
}

bool tp_checksums_ok(const uint8_t *ip, size_t len)
{
	size_t ihl = header_len(ip);
	const uint8_t *l4 = ip + ihl;

	if (len < ihl || !fn_csum_ok(ip, ihl))
		return false;
	if (ip[9] == PROTO_UDP)
		return len >= ihl + 8 &&
		       ((l4[6] == 0 && l4[7] == 0) || fn_csum_sum_ok(l4_sum(ip, l4, len - ihl)));
	if (ip[9] == PROTO_ICMP)
		return fn_csum_ok(l4, len - ihl);
	return true;
}

struct fn_pkt tp_view(uint8_t *l3, uint32_t len)
{
	struct fn_pkt p = { .l3 = l3, .l3_len = len };
	size_t ihl, need;
	uint16_t frag;

	if (len < TP_HDR)
		return p;
	ihl = header_len(l3);
	frag = get16(l3 + 6) & 0x1fff;
	p.l4proto = l3[9];
	p.fragoff = (uint16_t)(frag * 8);
	switch (p.l4proto) {
	case PROTO_TCP: need = 20; break;
	case PROTO_UDP:
	case PROTO_ICMP: need = 8; break;
	default: need = 0; break;
	}
	if (frag == 0 && ihl >= TP_HDR && len >= ihl + need)
		p.l4_off = (uint16_t)ihl;
	return p;
}
