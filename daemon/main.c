/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fragnetd: the trusted rules daemon. Compiles nft rules in a network
 * namespace of its own and hands every application its table as a sealed,
 * read-only memfd, again on every change (see ruleset.c, peer.c).
 *
 *   fragnetd [-c CONFIG]
 *
 * Start-up: config, the namespace and its rules, then the socket, then
 * READY=1 to systemd; one thread and one epoll loop afterwards. SIGHUP
 * reloads the configured rules file; SIGTERM/SIGINT stop.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "fragnetd.h"
#include "generation.h"
#include "log.h"
#include "notify.h"
#include "sdnotify.h"

/* epoll tokens for the daemon's own fds; everything else is a peer */
static char tok_listen, tok_signal, tok_timer, tok_notify;

int64_t fnd_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void fnd_timer_arm(struct fnd *d)
{
	int64_t next = d->resync_at, t;
	struct itimerspec its = { { 0, 0 }, { 0, 0 } };

	t = fnd_query_next_deadline(d);
	if (t && (next == 0 || t < next))
		next = t;
	t = fnd_peer_next_deadline(d);
	if (t && (next == 0 || t < next))
		next = t;
	if (next) {
		if (next < 1)
			next = 1; /* zero would disarm: "now" is any time in the past */
		its.it_value.tv_sec = next / 1000;
		its.it_value.tv_nsec = (next % 1000) * 1000000;
	}
	timerfd_settime(d->timer_fd, TFD_TIMER_ABSTIME, &its, NULL);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: fragnetd [-c CONFIG]\n"
		"  -c, --config FILE  configuration (default %s; defaults when it is missing)\n"
		"  -h, --help         this text\n"
		"Runs in the foreground and logs to stderr. See README.md, \"Rules: fragnetd\n"
		"and fragnetctl\", for the configuration keys.\n", FND_DEFAULT_CONFIG);
}

static int add_fd(struct fnd *d, int fd, void *token)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = token };

	return epoll_ctl(d->epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

/* Refuse to start twice on one socket; clear one a crash left behind. */
static int claim_socket_path(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char dir[sizeof(sa.sun_path)];
	struct stat st;
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "socket path %s is too long", path);
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, path);
	strcpy(dir, path);
	if (mkdir(dirname(dir), 0755) < 0 && errno != EEXIST) {
		int rc = -errno;

		snprintf(err, errlen, "cannot create the directory of %s: %s", path, strerror(errno));
		return rc;
	}
	if (lstat(path, &st) < 0)
		return 0;
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "%s exists and is not a socket", path);
		return -EEXIST;
	}
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		close(fd);
		snprintf(err, errlen, "another fragnetd is serving %s", path);
		return -EADDRINUSE;
	}
	if (fd >= 0)
		close(fd);
	unlink(path);
	return 0;
}

static int listen_socket(struct fnd *d, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int rc;

	strcpy(sa.sun_path, d->cfg.socket);
	d->listen_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (d->listen_fd < 0 ||
	    bind(d->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    chmod(d->cfg.socket, d->cfg.socket_mode) < 0 ||
	    listen(d->listen_fd, 64) < 0) {
		rc = -errno;
		snprintf(err, errlen, "socket %s: %s", d->cfg.socket, strerror(errno));
		return rc;
	}
	return 0;
}

static void on_signal(struct fnd *d)
{
	struct signalfd_siginfo si;

	while (read(d->signal_fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			fnd_log(LOG_INFO, "SIGHUP: reloading %s", d->cfg.rules ? d->cfg.rules :
				"(no rules file)");
			fnd_ruleset_reload_config(d);
		} else {
			fnd_log(LOG_NOTICE, "%s: stopping", strsignal((int)si.ssi_signo));
			d->stop = true;
		}
	}
}

static void dispatch(struct fnd *d, struct epoll_event *ev)
{
	if (ev->data.ptr == &tok_listen) {
		fnd_peer_accept(d);
	} else if (ev->data.ptr == &tok_signal) {
		on_signal(d);
	} else if (ev->data.ptr == &tok_timer) {
		uint64_t n;

		if (read(d->timer_fd, &n, sizeof(n)) < 0) {
			/* EAGAIN: re-armed in between, nothing expired */
		}
		fnd_ruleset_on_timer(d);
		fnd_peer_check_waits(d);
	} else if (ev->data.ptr == &tok_notify) {
		fnd_ruleset_on_notify(d);
	} else {
		struct fnd_peer *p = ev->data.ptr;

		if (p->fd >= 0 && (ev->events & EPOLLOUT))
			fnd_peer_output(d, p);
		if (p->fd >= 0 && (ev->events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
			fnd_peer_input(d, p);
	}
}

static int run(struct fnd *d)
{
	struct epoll_event ev[32];

	while (!d->stop) {
		int n = epoll_wait(d->epfd, ev, 32, -1);

		if (n < 0 && errno != EINTR) {
			fnd_log(LOG_ERR, "epoll_wait: %s", strerror(errno));
			return 1;
		}
		for (int i = 0; i < n; i++)
			dispatch(d, &ev[i]);
		fnd_query_run(d);
		fnd_peer_sweep(d);
		fnd_timer_arm(d);
	}
	return 0;
}

static int setup(struct fnd *d, char *err, size_t errlen)
{
	sigset_t sigs;
	int rc;

	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	d->signal_fd = signalfd(-1, &sigs, SFD_NONBLOCK | SFD_CLOEXEC);
	d->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	d->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (d->signal_fd < 0 || d->timer_fd < 0 || d->epfd < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s", strerror(errno));
		return rc;
	}
	rc = claim_socket_path(d->cfg.socket, err, errlen);
	if (rc < 0)
		return rc;
	rc = fnd_ruleset_start(d, err, errlen);
	if (rc < 0)
		return rc;
	rc = listen_socket(d, err, errlen);
	if (rc < 0)
		return rc;
	if ((rc = add_fd(d, d->listen_fd, &tok_listen)) < 0 ||
	    (rc = add_fd(d, d->signal_fd, &tok_signal)) < 0 ||
	    (rc = add_fd(d, d->timer_fd, &tok_timer)) < 0 ||
	    (rc = add_fd(d, fnd_notify_fd(d->notify), &tok_notify)) < 0)
		snprintf(err, errlen, "epoll: %s", strerror(-rc));
	return rc;
}

static void teardown(struct fnd *d)
{
	for (struct fnd_peer *p = d->peers; p; p = p->next)
		fnd_peer_close(d, p);
	fnd_peer_sweep(d);
	fnd_query_free_all(d);
	if (d->listen_fd >= 0) {
		close(d->listen_fd);
		unlink(d->cfg.socket);
	}
	fnd_ruleset_stop(d);
	if (d->epfd >= 0)
		close(d->epfd);
	if (d->timer_fd >= 0)
		close(d->timer_fd);
	if (d->signal_fd >= 0)
		close(d->signal_fd);
	fnd_config_free(&d->cfg);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct fnd d = { .epfd = -1, .listen_fd = -1, .signal_fd = -1, .timer_fd = -1,
			 .ns_fd = -1 };
	const char *config = NULL;
	char err[FN_CTL_MSG_MAX], status[128];
	int c, rc;

	/* Nobody, not even our own uid, reads or writes our memory through
	 * /proc/PID/mem or ptrace, nor gets it in a core dump. */
	prctl(PR_SET_DUMPABLE, 0);
	fnd_log_init();
	while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c': config = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if (config == NULL && access(FND_DEFAULT_CONFIG, F_OK) == 0)
		config = FND_DEFAULT_CONFIG;
	if (fnd_config_load(config, &d.cfg, err, sizeof(err)) < 0) {
		fnd_log(LOG_ERR, "%s", err);
		return 1;
	}
	rc = setup(&d, err, sizeof(err));
	if (rc < 0) {
		fnd_log(LOG_ERR, "cannot start: %s", err);
		teardown(&d);
		return 1;
	}
	fnd_log(LOG_NOTICE, "ready on %s (namespace %s %s, rules %s): generation %" PRIu64,
		d.cfg.socket, d.cfg.netns, d.ns_created ? "created" : "adopted",
		d.cfg.rules ? d.cfg.rules : "as found in the namespace", d.current->number);
	snprintf(status, sizeof(status), "READY=1\nSTATUS=serving generation %" PRIu64,
		 d.current->number);
	fnd_sd_notify(status);
	rc = run(&d);
	fnd_sd_notify("STOPPING=1");
	teardown(&d);
	return rc;
}
