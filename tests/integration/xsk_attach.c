/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fn-xsk-attach: steer an address to another process's xsk ports, as
 * fragnetd will. Attaches xsk_redirect.bpf.o to IFACE, takes the target's
 * AF_XDP sockets with pidfd_getfd() (root) and inserts each for its queue;
 * prints "attached", then holds the program until SIGTERM/SIGINT.
 *
 *   fn-xsk-attach OBJ IFACE ADDR native|skb PID FD:QUEUE...
 */
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <unistd.h>

#include "xsk_prog.h"

static void on_signal(int sig)
{
	(void)sig;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct xsk_prog prog;
	struct in_addr addr;
	sigset_t set, old;
	int pidfd;

	if (argc < 7 || inet_pton(AF_INET, argv[3], &addr) != 1 ||
	    (strcmp(argv[4], "native") != 0 && strcmp(argv[4], "skb") != 0)) {
		fprintf(stderr, "usage: fn-xsk-attach OBJ IFACE ADDR native|skb PID FD:QUEUE...\n");
		return 2;
	}
	/* Signals wait until we are attached and sigsuspend()s. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, &old);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	pidfd = pidfd_open(atoi(argv[5]), 0);
	if (pidfd < 0) {
		perror("fn-xsk-attach: pidfd_open");
		return 1;
	}
	if (xsk_prog_attach(&prog, argv[1], argv[2], addr.s_addr, 0,
			    strcmp(argv[4], "skb") == 0) < 0)
		return 1;
	for (int i = 6; i < argc; i++) {
		unsigned target, queue;
		int fd;

		if (sscanf(argv[i], "%u:%u", &target, &queue) != 2) {
			fprintf(stderr, "fn-xsk-attach: %s is not FD:QUEUE\n", argv[i]);
			goto fail;
		}
		fd = pidfd_getfd(pidfd, target, 0);
		if (fd < 0) {
			fprintf(stderr, "fn-xsk-attach: pidfd_getfd %u: %s\n", target,
				strerror(errno));
			goto fail;
		}
		if (xsk_prog_insert(&prog, queue, fd) < 0)
			goto fail;
		close(fd);   /* the map holds the socket */
	}
	printf("attached\n");
	fflush(stdout);
	sigsuspend(&old);
	xsk_prog_detach(&prog);
	return 0;
fail:
	xsk_prog_detach(&prog);
	return 1;
}
