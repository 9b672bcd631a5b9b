/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A program of the 0.1 days: compiled against 0.1/fragnet.h (the public
 * header of release 0.1, commit a1dec0c, kept unchanged) and linked as it
 * was then, run against today's library (test_app_0_1.sh). It calls every
 * 0.1 function with 0.1's struct sizes and checks what 0.1 promised,
 * fragnet_queue_stats() with the drop counters inside the struct above all.
 *
 * Its port is DPDK's net_null, whose frames are all zeros: each one is
 * received and dropped as not ours (FRAGNET_DROP_ETH_DST).
 *
 *   app_0_1 SOCKET    (a fragnetd socket path where no daemon listens)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <fragnet.h>

static unsigned passed, failed;

#define CHECK(cond) do { \
	if (cond) { \
		passed++; \
	} else { \
		failed++; \
		printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond); \
	} \
} while (0)

/* "ok" for a part of the program in which no CHECK failed. */
static void part_done(unsigned failed_before, const char *what)
{
	if (failed == failed_before)
		printf("ok   %s\n", what);
}

static void on_dgram(struct fragnet_queue *q, const struct fragnet_dgram *d, void *arg)
{
	(void)q, (void)d, (void)arg;
}

static void *stop_later(void *arg)
{
	usleep(200 * 1000);
	fragnet_stop(arg);
	return NULL;
}

/* The 0.1 struct with room after it, to see that nothing is written beyond. */
struct stats_in_box {
	struct fragnet_queue_stats st;
	unsigned char after[64];
};

static void check_stats(struct fragnet *fn)
{
	unsigned failed_before = failed;
	struct stats_in_box box;
	uint64_t other = 0;
	char what[128];

	memset(&box, 0xa5, sizeof(box));
	box.st.sz = sizeof(box.st);
	CHECK(fragnet_queue_stats(fn, 0, &box.st) == 0);
	CHECK(box.st.sz == sizeof(box.st));
	CHECK(box.st.rx_packets > 0);
	CHECK(box.st.rx_bytes >= 60 * box.st.rx_packets);
	CHECK(box.st.drops[FRAGNET_DROP_ETH_DST] == box.st.rx_packets);
	/* the one send without a route (check_queue_api) */
	CHECK(box.st.drops[FRAGNET_DROP_NO_ROUTE] == 1);
	CHECK(box.st.rx_datagrams == 0 && box.st.tx_datagrams == 1);
	for (unsigned r = 0; r < FRAGNET_DROP_MAX; r++)
		if (r != FRAGNET_DROP_ETH_DST && r != FRAGNET_DROP_NO_ROUTE)
			other += box.st.drops[r];
	CHECK(other == 0);
	CHECK(box.st.filter_generation == 0);
	CHECK(box.st.unfiltered == 1);
	for (unsigned i = 0; i < sizeof(box.after); i++)
		if (box.after[i] != 0xa5) {
			CHECK(!"fragnet_queue_stats wrote past the 0.1 struct");
			break;
		}
	snprintf(what, sizeof(what), "fragnet_queue_stats, 0.1 layout (sz %zu): rx %lu, "
		 "eth_dst drops %lu", sizeof(box.st), box.st.rx_packets,
		 box.st.drops[FRAGNET_DROP_ETH_DST]);

	/* What 0.1 refused, it still refuses. */
	box.st.sz = sizeof(box.st) - 1;
	CHECK(fragnet_queue_stats(fn, 0, &box.st) == -EINVAL);
	box.st.sz = sizeof(box.st);
	CHECK(fragnet_queue_stats(fn, 1, &box.st) == -ERANGE);
	CHECK(fragnet_queue_stats(fn, 0, NULL) == -EINVAL);
	part_done(failed_before, what);
}

static void check_queue_api(struct fragnet *fn, struct fragnet_queue *q)
{
	struct fragnet_buf *b;
	uint8_t mac[6] = { 0 }, zero[6] = { 0 };
	unsigned failed_before = failed;
	void *data;
	int port;

	CHECK(fragnet_queue_count(fn) == 1);
	CHECK(fragnet_queue_id(q) == 0);
	errno = 0;
	CHECK(fragnet_queue(fn, 1) == NULL && errno == ERANGE);
	fragnet_mac(fn, mac);
	CHECK(memcmp(mac, zero, sizeof(mac)) != 0);

	CHECK(fragnet_udp_bind(fn, htons(7), on_dgram, NULL) == 0);
	CHECK(fragnet_udp_bind(fn, htons(7), on_dgram, NULL) == -EADDRINUSE);
	CHECK(fragnet_udp_unbind(fn, htons(7)) == 0);
	CHECK(fragnet_udp_unbind(fn, htons(7)) == -ENOENT);
	port = fragnet_udp_bind_ephemeral(q, htonl(0x0a630002), htons(7), on_dgram, NULL);
	CHECK(port > 0);
	CHECK(fragnet_udp_unbind(fn, (uint16_t)port) == 0);

	CHECK(fragnet_udp_send(q, htons(7), htonl(0x0b000001), htons(7), "x", 1) ==
	      -EHOSTUNREACH);
	CHECK(fragnet_udp_send(q, htons(7), htonl(0x0a630002), htons(7), "x",
			       FRAGNET_MAX_DGRAM + 1) == -EMSGSIZE);
	CHECK(fragnet_buf_room(q) > 1000);
	b = fragnet_buf_alloc(q, 100, &data);
	CHECK(b != NULL && data != NULL);
	if (b)
		fragnet_buf_free(b);
	CHECK(fragnet_flush(q) >= 0);
	part_done(failed_before, "queues, ports, sends, buffers");
}

/* The reasons of 0.1 by their 0.1 values: reasons keep their numbers. */
static void check_drop_names(void)
{
	static const char *const names[FRAGNET_DROP_MAX] = {
		[FRAGNET_DROP_ETH_DST] = "eth_dst",
		[FRAGNET_DROP_ETH_TYPE] = "eth_type",
		[FRAGNET_DROP_ETH_SHORT] = "eth_short",
		[FRAGNET_DROP_ARP_MALFORMED] = "arp_malformed",
		[FRAGNET_DROP_ARP_NOT_OURS] = "arp_not_ours",
		[FRAGNET_DROP_ARP_UNRESOLVED] = "arp_unresolved",
		[FRAGNET_DROP_IP_MALFORMED] = "ip_malformed",
		[FRAGNET_DROP_IP_CSUM] = "ip_csum",
		[FRAGNET_DROP_IP_NOT_OURS] = "ip_not_ours",
		[FRAGNET_DROP_IP_PROTO] = "ip_proto",
		[FRAGNET_DROP_FRAG_MALFORMED] = "frag_malformed",
		[FRAGNET_DROP_FRAG_DUPLICATE] = "frag_duplicate",
		[FRAGNET_DROP_FRAG_TIMEOUT] = "frag_timeout",
		[FRAGNET_DROP_FRAG_NOMEM] = "frag_nomem",
		[FRAGNET_DROP_FRAG_DISABLED] = "frag_disabled",
		[FRAGNET_DROP_UDP_MALFORMED] = "udp_malformed",
		[FRAGNET_DROP_UDP_CSUM] = "udp_csum",
		[FRAGNET_DROP_UDP_NO_PORT] = "udp_no_port",
		[FRAGNET_DROP_ICMP_MALFORMED] = "icmp_malformed",
		[FRAGNET_DROP_ICMP_UNHANDLED] = "icmp_unhandled",
		[FRAGNET_DROP_FILTER] = "filter",
		[FRAGNET_DROP_NO_MBUF] = "no_mbuf",
		[FRAGNET_DROP_TX_FULL] = "tx_full",
		[FRAGNET_DROP_HANDOFF] = "handoff",
		[FRAGNET_DROP_NO_ROUTE] = "no_route",
	};
	unsigned failed_before = failed, same = 0;

	for (unsigned r = 0; r < FRAGNET_DROP_MAX; r++) {
		const char *name = fragnet_drop_name(r);

		if (name && strcmp(name, names[r]) == 0)
			same++;
		else
			printf("FAIL reason %u: 0.1 called it %s, now %s\n", r, names[r],
			       name ? name : "(none)");
	}
	CHECK(same == FRAGNET_DROP_MAX);
	part_done(failed_before, "the drop reasons of 0.1 keep their numbers and names");
}

int main(int argc, char **argv)
{
	const char *ports[] = { "net_null0", NULL };
	struct fragnet_config cfg = {
		.sz = sizeof(cfg),
		.app_name = "abi_0_1",
		.ports = ports,
		.eal_args = "--no-huge -m 256 --no-shconf --no-telemetry --log-level=lib.eal:error",
		.ipv4_addr = htonl(0x0a630001),   /* 10.99.0.1/24 */
		.prefix_len = 24,
		.flags = FRAGNET_F_UNFILTERED | FRAGNET_F_NO_SIGNALS,
		.daemon_socket = argc > 1 ? argv[1] : NULL,
	};
	struct fragnet_queue *q;
	unsigned failed_before;
	struct fragnet *fn;
	pthread_t stopper;
	int rx = 0;

	check_drop_names();
	fn = fragnet_open(&cfg);
	if (fn == NULL) {
		printf("FAIL fragnet_open (0.1 config, sz %zu): %s\n", sizeof(cfg), strerror(errno));
		printf("%u passed, %u failed\n", passed, failed + 1);
		return 1;
	}
	printf("ok   fragnet_open with the 0.1 config (sz %zu)\n", sizeof(cfg));
	q = fragnet_queue(fn, 0);
	CHECK(q != NULL);
	if (q) {
		check_queue_api(fn, q);
		for (int i = 0; i < 10; i++)
			rx += fragnet_poll(q);
		CHECK(rx > 0);
		check_stats(fn);
	}
	/* fragnet_run polls queue 0 on this thread until fragnet_stop(). */
	failed_before = failed;
	CHECK(pthread_create(&stopper, NULL, stop_later, fn) == 0);
	CHECK(fragnet_run(fn) == 0);
	pthread_join(stopper, NULL);
	part_done(failed_before, "fragnet_run until fragnet_stop");
	fragnet_close(fn);
	printf("%u passed, %u failed\n", passed, failed);
	return failed ? 1 : 0;
}
