/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fragnetd: the trusted rules daemon. Compiles nft rules in a network
 * namespace of its own and hands every application its table as a sealed,
 * read-only memfd, again on every change (fragnetd.h lists the modules).
 *
 *   fragnetd [-c CONFIG]
 *
 * Start-up: config, the namespace and its rules, then the socket, then
 * READY=1 to systemd; one thread and one event loop afterwards. SIGHUP
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
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "app.h"
#include "capture.h"
#include "command.h"
#include "event.h"
#include "fragnetd.h"
#include "generation.h"
#include "log.h"
#include "peer.h"
#include "query.h"
#include "ruleset.h"
#include "sdnotify.h"
#include "xdp.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: fragnetd [-c CONFIG]\n"
		"  -c, --config FILE  configuration (default %s; defaults when it is missing)\n"
		"  -h, --help         this text\n"
		"Runs in the foreground and logs to stderr. The configuration keys:\n"
		"docs/fragnetd.md.\n", FND_DEFAULT_CONFIG);
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

static void on_signal(int fd, unsigned events, void *arg)
{
	struct fnd *d = arg;
	struct signalfd_siginfo si;

	while (read(fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			fnd_log(LOG_INFO, "SIGHUP: reloading %s", d->cfg.rules ? d->cfg.rules :
				"(no rules file)");
			fnd_ruleset_reload_config(d->ruleset);
		} else {
			fnd_log(LOG_NOTICE, "%s: stopping", strsignal((int)si.ssi_signo));
			fnd_loop_stop(d->loop);
		}
	}
}

/* The modules in the order they need each other (fragnetd.h). */
static int setup(struct fnd *d, char *err, size_t errlen)
{
	uint64_t last_gen;
	sigset_t sigs;
	int rc;

	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	d->signal_fd = signalfd(-1, &sigs, SFD_NONBLOCK | SFD_CLOEXEC);
	d->loop = fnd_loop_new();
	if (d->signal_fd < 0 || d->loop == NULL) {
		rc = -errno;
		snprintf(err, errlen, "%s", strerror(errno));
		return rc;
	}
	rc = fnd_event_add(d->loop, d->signal_fd, FND_EV_IN, on_signal, d);
	if (rc < 0) {
		snprintf(err, errlen, "epoll: %s", strerror(-rc));
		return rc;
	}
	rc = claim_socket_path(d->cfg.socket, err, errlen);
	if (rc < 0)
		return rc;
	/* the kernel's programs first: they say where generation numbers go on */
	d->xdp = fnd_xdp_new(d->loop, &d->cfg, &last_gen, err, errlen);
	if (d->xdp == NULL)
		return -errno;
	d->ruleset = fnd_ruleset_new(d->loop, &d->cfg, last_gen, err, errlen);
	if (d->ruleset == NULL)
		return -errno;
	rc = listen_socket(d, err, errlen);
	if (rc < 0)
		return rc;
	if (!(d->peers = fnd_peers_new(d->loop, &d->cfg, d->listen_fd)) ||
	    !(d->apps = fnd_apps_new(d->peers, d->ruleset, &d->cfg)) ||
	    !(d->queries = fnd_queries_new(d->loop, d->peers, d->apps, d->ruleset, d->xdp,
					   &d->cfg)) ||
	    !(d->commands = fnd_commands_new(d->loop, d->peers, d->apps, d->ruleset,
					     d->queries, d->cfg.apply_timeout_ms)) ||
	    !(d->captures = fnd_captures_new(d->peers, d->apps))) {
		rc = -errno;
		snprintf(err, errlen, "%s", strerror(errno));
		return rc;
	}
	rc = fnd_xdp_start(d->xdp, d->peers, d->apps, d->ruleset);
	if (rc < 0)
		snprintf(err, errlen, "kernel enforcement: %s", strerror(-rc));
	return rc;
}

/* Peers first, so that every module hears of each one's end; then the
 * others in reverse. */
static void teardown(struct fnd *d)
{
	fnd_peers_free(d->peers);
	fnd_commands_free(d->commands);
	fnd_captures_free(d->captures);
	fnd_queries_free(d->queries);
	fnd_apps_free(d->apps);
	fnd_xdp_free(d->xdp);   /* what it put in the kernel stays there */
	if (d->listen_fd >= 0) {
		close(d->listen_fd);
		unlink(d->cfg.socket);
	}
	fnd_ruleset_free(d->ruleset);
	if (d->signal_fd >= 0)
		close(d->signal_fd);
	fnd_loop_free(d->loop);
	fnd_config_free(&d->cfg);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct fnd d = { .listen_fd = -1, .signal_fd = -1 };
	const char *config = NULL;
	char err[FN_CTL_MSG_MAX], status[128];
	uint64_t gen;
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
	gen = fnd_ruleset_current(d.ruleset)->number;
	fnd_log(LOG_NOTICE, "ready on %s (namespace %s %s, rules %s): generation %" PRIu64,
		d.cfg.socket, d.cfg.netns, fnd_ruleset_ns_created(d.ruleset) ? "created" :
		"adopted", d.cfg.rules ? d.cfg.rules : "as found in the namespace", gen);
	snprintf(status, sizeof(status), "READY=1\nSTATUS=serving generation %" PRIu64, gen);
	fnd_sd_notify(status);
	rc = fnd_loop_run(d.loop);
	if (rc < 0)
		fnd_log(LOG_ERR, "epoll_wait: %s", strerror(-rc));
	fnd_sd_notify("STOPPING=1");
	teardown(&d);
	return rc < 0;
}
