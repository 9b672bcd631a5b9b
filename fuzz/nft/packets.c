/* SPDX-License-Identifier: BSD-3-Clause */
#include <string.h>

#include "packets.h"
#include "stack/csum.h"

size_t fn_fuzz_packet(unsigned i, uint8_t *buf)
{
	static const uint8_t ip[20] = { 0x45, 0, 0, 0, 0x12, 0x34, 0, 0, 64, 17, 0, 0,
					10, 0, 0, 7, 192, 168, 1, 1 };
	size_t len = 40;

	memset(buf, 0, 128);
	memcpy(buf, ip, 20);
	switch (i % FN_FUZZ_PACKETS) {
	case 0: /* UDP to port 53 */
		buf[21] = 99; buf[23] = 53; buf[25] = 20;
		break;
	case 1: /* UDP to port 150 (verdict map range) */
		buf[21] = 99; buf[23] = 150; buf[25] = 20;
		break;
	case 2: /* ICMP echo request */
		buf[9] = 1; buf[20] = 8; buf[25] = 1;
		fn_csum_store(buf + 22, fn_csum(buf + 20, 20));
		break;
	case 3: /* ICMP port unreachable quoting a UDP header */
		buf[9] = 1; buf[20] = 3; buf[21] = 3;
		memcpy(buf + 28, ip, 20);
		buf[28 + 9] = 17;
		len = 20 + 8 + 28;
		fn_csum_store(buf + 22, fn_csum(buf + 20, len - 20));
		break;
	case 4: /* a later fragment */
		buf[6] = 0x00; buf[7] = 0x10;
		break;
	default: /* header only */
		len = 20;
		break;
	}
	buf[2] = (uint8_t)(len >> 8);
	buf[3] = (uint8_t)len;
	fn_csum_store(buf + 10, fn_csum(buf, 20));
	return len;
}
