/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The RESP scanner of the UDP clients (redis/client/resp_scan.c) on
 * arbitrary bytes: what a client runs on every datagram a server (or anyone
 * who can reach the client's port) sends, and redis-cli --pipe on its input.
 * Besides memory safety under ASan, scanning the bytes as they arrive, a
 * prefix at a time, must give the answer scanning them whole gives.
 */
#include <stdint.h>
#include <stdlib.h>

#include "resp_scan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	struct resp_scan whole, part;
	enum resp_kind kind;
	long long len, got = 0, req;
	size_t n, step;

	resp_scan_init(&whole);
	len = resp_scan_reply(&whole, buf, size);
	if (len > (long long)size)
		abort();
	/* The same bytes in pieces of 1 to 16 bytes, as datagrams would bring
	 * them, until the first answer. */
	resp_scan_init(&part);
	step = size ? (size_t)(data[0] % 16) + 1 : 1;
	for (n = 0; n < size && got == 0;) {
		n = n + step < size ? n + step : size;
		got = resp_scan_reply(&part, buf, n);
	}
	if (got != len)
		abort();

	req = resp_scan_request(buf, size, &kind);
	if (req > (long long)size || (req > 0 && (kind < RESP_WRITE || kind > RESP_SESSION_SETNAME)))
		abort();
	return 0;
}
