/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fragnetctl: the command line of fragnetd. Sends one request over the
 * daemon's socket and prints what comes back; the daemon does the work and
 * the formatting, so text and JSON (-j) always agree. See usage() for the
 * manual.
 */
#include <errno.h>
#include <stdarg.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <fragnet.h>

#include "ctl/proto.h"

/* Exit status, as the manual says. */
enum {
	EXIT_OK = 0,
	EXIT_REFUSED = 1,       /* the daemon said no (bad rules, bad request) */
	EXIT_USAGE = 2,
	EXIT_UNREACHABLE = 3,   /* no daemon, no permission, or a broken reply */
	EXIT_NOT_APPLIED = 4,   /* loaded, but not every application applied it */
};

#define REPLY_TIMEOUT_MS 60000  /* a large ruleset takes a while to lower */

static const char *prog = "fragnetctl";
static volatile sig_atomic_t interrupted;

static void usage(FILE *f)
{
	fprintf(f,
"NAME\n"
"    fragnetctl - manage the rules that fragnetd gives to libfragnet applications\n"
"\n"
"SYNOPSIS\n"
"    fragnetctl [-s SOCKET] [-j] load FILE\n"
"    fragnetctl [-s SOCKET] [-j] check FILE\n"
"    fragnetctl [-s SOCKET] [-j] list ruleset\n"
"    fragnetctl [-s SOCKET] [-j] list counters\n"
"    fragnetctl [-s SOCKET] [-j] apps\n"
"    fragnetctl [-s SOCKET] [-j] stats [-w [SECONDS]] [-n COUNT]\n"
"\n"
"DESCRIPTION\n"
"    fragnetd compiles rules written in ordinary nft syntax in a network\n"
"    namespace of its own and hands each application the table named after\n"
"    it (table inet NAME or ip NAME, else table inet fragnet) as a sealed,\n"
"    read-only snapshot. fragnetctl talks to it over its unix socket; the\n"
"    daemon checks who is asking (admin_users / admin_groups of its\n"
"    configuration; root always may).\n"
"\n"
"COMMANDS\n"
"    load FILE\n"
"        Replace the whole ruleset with FILE (\"-\" reads standard input),\n"
"        atomically: the text is first loaded and lowered in a scratch\n"
"        namespace, and only when every table is accepted does it replace\n"
"        the ruleset. Otherwise nothing changes anywhere and the error names\n"
"        the table, chain, rule handle and expression. Waits until every\n"
"        registered application has applied the new generation (or the\n"
"        daemon's apply_timeout_ms passed). FILE must be self-contained:\n"
"        'include' is refused.\n"
"    check FILE\n"
"        Validate FILE exactly as load would, in a scratch namespace, and\n"
"        change nothing.\n"
"    list ruleset\n"
"        The ruleset as nft lists it, once per application that applies a\n"
"        table, with that application's live counters summed over all its\n"
"        lcores (counters in the daemon's namespace never see a packet).\n"
"    list counters\n"
"        Each application's counters per generation: live for the generation\n"
"        it applies, final for the last 32 generations it replaced since it\n"
"        connected. A generation's final count is taken once no lcore can\n"
"        add to it, so every packet judged is in exactly one generation's\n"
"        count. Then each counter's total over those generations. A counter\n"
"        is a rule's chain and handle (or a named counter): a load that\n"
"        recreates a table numbers its rules anew, so a total adds whatever\n"
"        rule had that handle in each generation. Each application's header\n"
"        says how many replaced generations are listed, pending (replaced a\n"
"        moment ago, not final yet) and no longer kept.\n"
"    apps\n"
"        Registered applications: name, pid, uid, queues, the generation\n"
"        they apply, received and sent packets, drops, and their state\n"
"        (filtered, applying, refused, UNFILTERED, no-answer).\n"
"    stats\n"
"        Per-queue counters of every application, with drops by reason.\n"
"\n"
"OPTIONS\n"
"    -s, --socket PATH   fragnetd's socket (default: $FRAGNET_DAEMON_SOCKET,\n"
"                        else " FRAGNET_DEFAULT_SOCKET ")\n"
"    -j, --json          JSON output: one object per command (one per line\n"
"                        and per interval with --watch)\n"
"    -w, --watch [SEC]   stats: print again every SEC seconds (default 1)\n"
"                        until interrupted\n"
"    -n, --count N       stats --watch: stop after N updates\n"
"    -h, --help          this manual\n"
"\n"
"EXIT STATUS\n"
"    0  done\n"
"    1  fragnetd refused: the rules do not load or lower, or a bad request\n"
"    2  usage error, or FILE cannot be read\n"
"    3  fragnetd cannot be reached, refused this user, or answered nonsense\n"
"    4  load: the new generation is published, but not every application\n"
"       has applied it (the message says which)\n"
"\n"
"ENVIRONMENT\n"
"    FRAGNET_DAEMON_SOCKET  the socket, when -s is not given\n"
"\n"
"EXAMPLES\n"
"    fragnetctl check rules/echo.nft && fragnetctl load rules/echo.nft\n"
"    fragnetctl list ruleset\n"
"    fragnetctl -j list counters\n"
"    fragnetctl -j apps\n"
"    fragnetctl stats -w 2\n"
"    ip netns exec fragnet nft add rule inet echo input udp dport 9 drop\n"
"        (a live edit in the daemon's namespace: published within a second)\n"
"\n"
"SEE ALSO\n"
"    fragnetd(8), nft(8), README.md \"Rules: fragnetd and fragnetctl\"\n");
}

static int fail(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(int status, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return status;
}

static int connect_daemon(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int rc = -errno;

		close(fd);
		return rc;
	}
	return fd;
}

/* A rules file, whole, into memory. */
static int read_file(const char *path, char **text, size_t *len)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "re");
	size_t cap = 0, n = 0;
	char *buf = NULL;
	int rc = 0;

	if (f == NULL)
		return -errno;
	for (;;) {
		size_t got;

		if (n == cap) {
			char *b;

			cap = cap ? 2 * cap : 65536;
			if (cap > FN_CTL_TEXT_MAX + 1)
				cap = FN_CTL_TEXT_MAX + 1;
			b = n == cap ? NULL : realloc(buf, cap);
			if (b == NULL) {
				rc = n == cap ? -EFBIG : -ENOMEM;
				break;
			}
			buf = b;
		}
		got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (got == 0) {
			if (ferror(f))
				rc = -EIO;
			break;
		}
	}
	if (f != stdin)
		fclose(f);
	if (rc == 0 && n > FN_CTL_TEXT_MAX)
		rc = -EFBIG;
	if (rc < 0) {
		free(buf);
		return rc;
	}
	*text = buf;
	*len = n;
	return 0;
}

/* Wait for one message; -ETIMEDOUT, 0 on close, else its length. */
static ssize_t receive(int fd, void *buf)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int n;

	do
		n = poll(&p, 1, REPLY_TIMEOUT_MS);
	while (n < 0 && errno == EINTR && !interrupted);
	if (n < 0)
		return -errno;
	if (n == 0)
		return -ETIMEDOUT;
	return fn_ctl_recv(fd, buf, NULL);
}

struct reply {
	int status;
	char msg[FN_CTL_MSG_MAX];
	char *out;
	size_t out_len;
};

/* One request (and its text), then the reply and its output. 0, or the
 * exit status for a failure to talk to the daemon (already printed). */
static int transact(const char *socket_path, const struct fn_ctl_request *req,
		    const char *text, struct reply *r)
{
	static unsigned char buf[FN_CTL_MAX_MSG] __attribute__((aligned(8)));
	const struct fn_ctl_reply *rep;
	size_t out_len;
	ssize_t n = 0;
	int fd, type, rc = EXIT_UNREACHABLE;

	memset(r, 0, sizeof(*r));
	fd = connect_daemon(socket_path);
	if (fd < 0)
		return fail(EXIT_UNREACHABLE, "cannot reach fragnetd at %s: %s", socket_path,
			    strerror(-fd));
	n = fn_ctl_send_msg(fd, FN_CTL_REQUEST, 1, req, sizeof(*req), -1);
	if (n < 0)
		goto broken;
	for (size_t off = 0; off < req->text_len; off += FN_CTL_DATA_MAX) {
		size_t len = req->text_len - off;

		if (len > FN_CTL_DATA_MAX)
			len = FN_CTL_DATA_MAX;
		n = fn_ctl_send_msg(fd, FN_CTL_DATA, 1, text + off, len, -1);
		if (n < 0)
			goto broken;
	}
	n = receive(fd, buf);
	if (n <= 0)
		goto broken;
	type = fn_ctl_check(buf, (size_t)n);
	if (type == FN_CTL_ERROR) {
		rc = fail(EXIT_UNREACHABLE, "fragnetd refused: %s",
			  ((const struct fn_ctl_error *)fn_ctl_payload(buf))->msg);
		goto out;
	}
	if (type != FN_CTL_REPLY)
		goto broken;
	rep = fn_ctl_payload(buf);
	r->status = rep->status;
	memcpy(r->msg, rep->msg, sizeof(r->msg));
	out_len = rep->out_len; /* buf is reused for the DATA that follows */
	r->out = malloc(out_len + 1);
	if (r->out == NULL) {
		rc = fail(EXIT_UNREACHABLE, "out of memory");
		goto out;
	}
	while (r->out_len < out_len) {
		size_t len;

		n = receive(fd, buf);
		if (n <= 0)
			goto broken;
		if (fn_ctl_check(buf, (size_t)n) != FN_CTL_DATA) {
			n = 1; /* "malformed" */
			goto broken;
		}
		len = fn_ctl_payload_len(buf);
		if (len > out_len - r->out_len)
			goto broken;
		memcpy(r->out + r->out_len, fn_ctl_payload(buf), len);
		r->out_len += len;
	}
	r->out[r->out_len] = '\0';
	close(fd);
	return 0;
broken:
	rc = fail(EXIT_UNREACHABLE, "fragnetd at %s: %s", socket_path,
		  n == -ETIMEDOUT ? "no reply" : n == 0 ? "closed the connection" :
		  n < 0 ? strerror((int)-n) : "malformed reply");
out:
	free(r->out);
	r->out = NULL;
	close(fd);
	return rc;
}

static int cmd_rules(const char *socket_path, unsigned command, unsigned flags,
		     const char *file)
{
	struct fn_ctl_request req = { .command = command, .flags = flags };
	struct reply r;
	char *text = NULL;
	size_t len = 0;
	int rc = read_file(file, &text, &len);

	if (rc < 0)
		return fail(EXIT_USAGE, "%s: %s", file, rc == -EFBIG ?
			    "larger than 16 MB" : strerror(-rc));
	if (len == 0) {
		free(text);
		return fail(EXIT_USAGE, "%s: empty", file);
	}
	req.text_len = (uint32_t)len;
	snprintf(req.source, sizeof(req.source), "%s", strcmp(file, "-") ? file : "<stdin>");
	rc = transact(socket_path, &req, text, &r);
	free(text);
	if (rc)
		return rc;
	free(r.out);
	if (flags & FN_CTL_F_JSON) {
		printf("{\"ok\":%s,\"status\":%d,\"message\":\"", r.status == 0 ? "true" : "false",
		       r.status);
		for (const char *p = r.msg; *p; p++) {
			if (*p == '"' || *p == '\\')
				printf("\\%c", *p);
			else if (*p == '\n')
				printf("\\n");
			else if ((unsigned char)*p < 0x20)
				printf("\\u%04x", *p);
			else
				putchar(*p);
		}
		printf("\"}\n");
	} else if (r.status == 0 || r.status == -EREMOTEIO) {
		printf("%s\n", r.msg);
	}
	if (r.status == 0)
		return EXIT_OK;
	if (r.status == -EREMOTEIO)
		return command == FN_CTL_CMD_LOAD ? EXIT_NOT_APPLIED : EXIT_REFUSED;
	if (!(flags & FN_CTL_F_JSON))
		fprintf(stderr, "%s: %s\n", prog, r.msg);
	return EXIT_REFUSED;
}

static int cmd_show(const char *socket_path, unsigned command, unsigned flags)
{
	struct fn_ctl_request req = { .command = command, .flags = flags };
	struct reply r;
	int rc = transact(socket_path, &req, NULL, &r);

	if (rc)
		return rc;
	if (r.status < 0) {
		free(r.out);
		return fail(EXIT_REFUSED, "%s", r.msg[0] ? r.msg : strerror(-r.status));
	}
	fwrite(r.out, 1, r.out_len, stdout);
	fflush(stdout);
	free(r.out);
	return EXIT_OK;
}

static void on_interrupt(int sig)
{
	(void)sig;
	interrupted = 1;
}

static int cmd_watch(const char *socket_path, unsigned flags, double interval, long count)
{
	struct sigaction sa = { .sa_handler = on_interrupt };
	bool tty = isatty(STDOUT_FILENO) && !(flags & FN_CTL_F_JSON);

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	for (long i = 0; !interrupted && (count <= 0 || i < count); i++) {
		struct timespec ts = { (time_t)interval,
				       (long)((interval - (time_t)interval) * 1e9) };
		int rc;

		if (i > 0)
			nanosleep(&ts, NULL);
		if (interrupted)
			break;
		if (tty)
			fputs("\033[H\033[2J", stdout);
		rc = cmd_show(socket_path, FN_CTL_CMD_STATS, flags);
		if (rc != EXIT_OK)
			return rc;
	}
	return EXIT_OK;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "watch", optional_argument, NULL, 'w' },
		{ "count", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *socket_path = getenv("FRAGNET_DAEMON_SOCKET");
	unsigned flags = 0;
	double interval = 0;
	long count = 0;
	char *end;
	const char *cmd;
	int c;

	if (socket_path == NULL || *socket_path == '\0')
		socket_path = FRAGNET_DEFAULT_SOCKET;
	/* GNU getopt permutes: options may also follow the command */
	while ((c = getopt_long(argc, argv, "s:jw::n:h", opts, NULL)) != -1) {
		switch (c) {
		case 's': socket_path = optarg; break;
		case 'j': flags |= FN_CTL_F_JSON; break;
		case 'w':
			interval = 1;
			if (!optarg && optind < argc && argv[optind][0] >= '0' &&
			    argv[optind][0] <= '9')
				optarg = argv[optind++];
			if (optarg) {
				interval = strtod(optarg, &end);
				if (*end || interval <= 0 || interval > 3600)
					return fail(EXIT_USAGE, "--watch: '%s' is not a number of "
						    "seconds (0-3600)", optarg);
			}
			break;
		case 'n':
			count = strtol(optarg, &end, 10);
			if (*end || count <= 0)
				return fail(EXIT_USAGE, "--count: '%s' is not a positive number",
					    optarg);
			break;
		case 'h': usage(stdout); return EXIT_OK;
		default:
			fprintf(stderr, "Try '%s --help'.\n", prog);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc)
		return fail(EXIT_USAGE, "no command (load, check, list ruleset, list counters, "
			    "apps, stats); try --help");
	cmd = argv[optind++];
	if (strcmp(cmd, "load") == 0 || strcmp(cmd, "check") == 0) {
		if (argc - optind != 1)
			return fail(EXIT_USAGE, "usage: %s %s FILE", prog, cmd);
		return cmd_rules(socket_path, cmd[0] == 'l' ? FN_CTL_CMD_LOAD : FN_CTL_CMD_CHECK,
				 flags, argv[optind]);
	}
	if (strcmp(cmd, "list") == 0) {
		if (argc - optind == 1 && strcmp(argv[optind], "ruleset") == 0)
			return cmd_show(socket_path, FN_CTL_CMD_LIST_RULESET, flags);
		if (argc - optind == 1 && strcmp(argv[optind], "counters") == 0)
			return cmd_show(socket_path, FN_CTL_CMD_LIST_COUNTERS, flags);
		return fail(EXIT_USAGE, "usage: %s list ruleset | list counters", prog);
	}
	if (argc != optind)
		return fail(EXIT_USAGE, "%s takes no arguments", cmd);
	if (strcmp(cmd, "apps") == 0)
		return cmd_show(socket_path, FN_CTL_CMD_APPS, flags);
	if (strcmp(cmd, "stats") == 0)
		return interval > 0 ? cmd_watch(socket_path, flags, interval, count) :
				      cmd_show(socket_path, FN_CTL_CMD_STATS, flags);
	return fail(EXIT_USAGE, "unknown command '%s'; try --help", cmd);
}
