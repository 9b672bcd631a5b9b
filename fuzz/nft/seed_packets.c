/* SPDX-License-Identifier: BSD-3-Clause */
/* The packets of the nft fuzzers (seed_packets.h). */
#include <arpa/inet.h>
#include <string.h>

#include "packets.h"
#include "seed_packets.h"

size_t fn_fuzz_packet(unsigned i, uint8_t *buf)
{
	static const uint8_t magic[12] = "TFRN\0\066TFRNTF";
	/* TCP header with doff 6 (one option word), then "TF" */
	static const uint8_t tcp[26] = { 0, 99, 0, 53, 0, 0, 0, 1, 0, 0, 0, 0, 0x60, 0x02,
					 0x20, 0, 0, 0, 0, 0, 2, 4, 5, 0xb4, 'T', 'F' };
	/* GRE version 0 with checksum and key, then "TFRN" */
	static const uint8_t gre[16] = { 0xa0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0, 7,
					 'T', 'F', 'R', 'N' };
	const struct tp_ip ip = { .id = 0x1234 };
	const uint32_t src = htonl(0x0a000007), dst = htonl(0xc0a80101); /* 10.0.0.7, 192.168.1.1 */

	memset(buf, 0, 128);
	switch (i % FN_FUZZ_PACKETS) {
	case 0: /* UDP to port 53 */
		return tp_udp(buf, src, dst, 99, 53, NULL, 12, &ip);
	case 1: /* UDP to port 150 (verdict map range) */
		return tp_udp(buf, src, dst, 99, 150, NULL, 12, &ip);
	case 2: /* ICMP echo request */
		return tp_icmp(buf, src, dst, 8, 0, 1, 0, NULL, 12);
	case 3: /* ICMP port unreachable quoting a UDP header */
		tp_ipv4(buf + TP_HDR + 8, src, dst, 17, 8, &ip);
		return tp_icmp(buf, dst, src, 3, 3, 0, 0, NULL, TP_HDR + 8);
	case 4: /* a later fragment: 20 bytes at offset 128 */
		tp_ipv4(buf, src, dst, 17, 20, &(struct tp_ip){ .id = 0x1234, .frag = 16 });
		return TP_HDR + 20;
	case 5: /* UDP whose payload (@ih) starts with the sample's magic */
		return tp_udp(buf, src, dst, 99, 53, magic, sizeof(magic), &ip);
	case 6: /* TCP with an option: @ih after 24 bytes */
		memcpy(buf + TP_HDR, tcp, sizeof(tcp));
		return tp_ipv4(buf, src, dst, 6, sizeof(tcp), &ip) + sizeof(tcp);
	case 7: /* GRE with checksum and key: @ih after 12 bytes */
		memcpy(buf + TP_HDR, gre, sizeof(gre));
		return tp_ipv4(buf, src, dst, 47, sizeof(gre), &ip) + sizeof(gre);
	case 8: /* IP in IP: @ih at the transport header */
		tp_ipv4(buf + TP_HDR, src, dst, 17, 0, &ip);
		return tp_ipv4(buf, src, dst, 4, TP_HDR, &ip) + TP_HDR;
	default: /* header only */
		return tp_ipv4(buf, src, dst, 17, 0, &ip);
	}
}
