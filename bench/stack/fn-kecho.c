/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fn-kecho: the Linux kernel's answer to fragnet-echo, for the side-by-side
 * benchmark. One thread, one UDP socket: recvmmsg a batch, sendmmsg it back
 * to the senders. Blocking receive (MSG_WAITFORONE) as a kernel server would
 * run; --busy spins with MSG_DONTWAIT instead, like a polling lcore.
 *
 *   fn-kecho [--addr A] [--port 7] [--batch 64] [--busy]
 *
 * Runs until SIGINT/SIGTERM, then prints "echoed=N send_errors=N".
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_BATCH 256
#define MAX_DGRAM 2048

static volatile sig_atomic_t quit;

static void on_signal(int sig)
{
	(void)sig;
	quit = 1;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "addr", required_argument, NULL, 'a' },
		{ "port", required_argument, NULL, 'p' },
		{ "batch", required_argument, NULL, 'b' },
		{ "busy", no_argument, NULL, 'B' },
		{ 0 }
	};
	static uint8_t bufs[MAX_BATCH][MAX_DGRAM];
	struct mmsghdr msgs[MAX_BATCH];
	struct sockaddr_in peers[MAX_BATCH], me = { .sin_family = AF_INET };
	struct iovec iov[MAX_BATCH];
	struct sigaction sa = { .sa_handler = on_signal };  /* no SA_RESTART: EINTR ends recvmmsg */
	unsigned batch = 64, port = 7;
	unsigned long echoed = 0, send_errors = 0;
	bool busy = false;
	int fd, c, one = 1, rcvbuf = 4 << 20;

	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'a':
			if (inet_pton(AF_INET, optarg, &me.sin_addr) != 1) {
				fprintf(stderr, "fn-kecho: bad address %s\n", optarg);
				return 2;
			}
			break;
		case 'p': port = atoi(optarg); break;
		case 'b': batch = atoi(optarg); break;
		case 'B': busy = true; break;
		default:
			fprintf(stderr, "usage: fn-kecho [--addr A] [--port P] [--batch N] [--busy]\n");
			return 2;
		}
	}
	if (batch == 0 || batch > MAX_BATCH || port == 0 || port > 65535) {
		fprintf(stderr, "fn-kecho: bad --batch or --port\n");
		return 2;
	}
	me.sin_port = htons(port);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&me, sizeof(me)) < 0) {
		perror("fn-kecho: socket");
		return 1;
	}
	/* A deeper queue than the default: bursts of the load tool's window
	 * must not be dropped at the socket (we measure throughput, not drops). */
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	printf("fn-kecho: echoing on UDP port %u\n", port);
	fflush(stdout);

	while (!quit) {
		int n, done = 0;

		for (unsigned i = 0; i < batch; i++) {
			iov[i] = (struct iovec){ .iov_base = bufs[i], .iov_len = MAX_DGRAM };
			msgs[i].msg_hdr = (struct msghdr){
				.msg_name = &peers[i], .msg_namelen = sizeof(peers[i]),
				.msg_iov = &iov[i], .msg_iovlen = 1,
			};
		}
		n = recvmmsg(fd, msgs, batch, busy ? MSG_DONTWAIT : MSG_WAITFORONE, NULL);
		if (n <= 0) {
			if (n < 0 && errno != EAGAIN && errno != EINTR) {
				perror("fn-kecho: recvmmsg");
				return 1;
			}
			continue;
		}
		/* Same buffers, same addresses: each message goes back to its sender. */
		for (int i = 0; i < n; i++)
			iov[i].iov_len = msgs[i].msg_len;
		while (done < n) {
			int k = sendmmsg(fd, msgs + done, n - done, 0);

			if (k < 0) {
				if (errno == EINTR && !quit)
					continue;
				send_errors += n - done;   /* e.g. ENOBUFS: drop the rest */
				break;
			}
			done += k;
		}
		echoed += done;
	}
	printf("echoed=%lu send_errors=%lu\n", echoed, send_errors);
	close(fd);
	return 0;
}
