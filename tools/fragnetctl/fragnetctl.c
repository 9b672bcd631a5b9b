/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fragnetctl: the command line of fragnetd. Sends one request over the
 * daemon's socket and prints what comes back; the daemon does the work and
 * the formatting, so text, JSON (-j) and Prometheus metrics always agree. The manual and the
 * argument parsing are in args.c.
 */
#include <errno.h>
#include <stdarg.h>
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

#include "args.h"
#include "capture.h"
#include "ctl/proto.h"

#define REPLY_TIMEOUT_MS 60000  /* a large ruleset takes a while to lower */

static const char *prog = "fragnetctl";
static volatile sig_atomic_t interrupted;

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

/* Connected to fragnetd and sure it is: the socket, or -1 with the exit
 * status in *status (the reason printed). */
static int open_daemon(const char *socket_path, int *status)
{
	uid_t server_uid;
	int fd = connect_daemon(socket_path), rc;

	if (fd < 0) {
		*status = fail(FNCTL_EXIT_UNREACHABLE, "cannot reach fragnetd at %s: %s",
			       socket_path, strerror(-fd));
		return -1;
	}
	rc = fn_ctl_trusted_server(fd, &server_uid);
	if (rc < 0) {
		*status = rc == -EACCES ?
			fail(FNCTL_EXIT_UNREACHABLE, "the server at %s runs as uid %u, neither root, "
			     "us nor fragnetd's account ($FRAGNETD_USER, default fragnetd): "
			     "not fragnetd, refused", socket_path, (unsigned)server_uid) :
			fail(FNCTL_EXIT_UNREACHABLE, "cannot tell who serves %s: %s", socket_path,
			     strerror(-rc));
		close(fd);
		return -1;
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
	int fd, type, rc = FNCTL_EXIT_UNREACHABLE;

	memset(r, 0, sizeof(*r));
	fd = open_daemon(socket_path, &rc);
	if (fd < 0)
		return rc;
	rc = FNCTL_EXIT_UNREACHABLE;
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
		rc = fail(FNCTL_EXIT_UNREACHABLE, "fragnetd refused: %s",
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
		rc = fail(FNCTL_EXIT_UNREACHABLE, "out of memory");
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
	rc = fail(FNCTL_EXIT_UNREACHABLE, "fragnetd at %s: %s", socket_path,
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
		return fail(FNCTL_EXIT_USAGE, "%s: %s", file, rc == -EFBIG ?
			    "larger than 16 MB" : strerror(-rc));
	if (len == 0) {
		free(text);
		return fail(FNCTL_EXIT_USAGE, "%s: empty", file);
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
		return FNCTL_EXIT_OK;
	if (r.status == -EREMOTEIO)
		return command == FN_CTL_CMD_LOAD ? FNCTL_EXIT_NOT_APPLIED : FNCTL_EXIT_REFUSED;
	if (!(flags & FN_CTL_F_JSON))
		fprintf(stderr, "%s: %s\n", prog, r.msg);
	return FNCTL_EXIT_REFUSED;
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
		return fail(FNCTL_EXIT_REFUSED, "%s", r.msg[0] ? r.msg : strerror(-r.status));
	}
	fwrite(r.out, 1, r.out_len, stdout);
	fflush(stdout);
	free(r.out);
	return FNCTL_EXIT_OK;
}

static void on_interrupt(int sig)
{
	(void)sig;
	interrupted = 1;
}

static int cmd_watch(const char *socket_path, unsigned flags, double interval, long count)
{
	struct sigaction sa = { .sa_handler = on_interrupt };
	bool tty = isatty(STDOUT_FILENO) && !(flags & (FN_CTL_F_JSON | FN_CTL_F_PROMETHEUS));

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
		if (rc != FNCTL_EXIT_OK)
			return rc;
	}
	return FNCTL_EXIT_OK;
}

/* capture and trace; a trace first fetches the listing for its rule text
 * (without it, handles only). */
static int cmd_capture(const struct fnctl_args *a)
{
	struct fn_ctl_request req = { .command = FN_CTL_CMD_LIST_RULESET };
	struct reply listing = { 0 };
	int fd, rc;

	if (a->trace && transact(a->socket, &req, NULL, &listing) != 0)
		return FNCTL_EXIT_UNREACHABLE;
	fd = open_daemon(a->socket, &rc);
	if (fd >= 0)
		rc = fnctl_capture(fd, a, listing.status == 0 ? listing.out : NULL);
	free(listing.out);
	return rc;
}

int main(int argc, char **argv)
{
	struct fnctl_args a;
	char err[256];
	int rc = fnctl_args_parse(argc, argv, getenv("FRAGNET_DAEMON_SOCKET"), &a, err,
				  sizeof(err));

	if (rc)
		return fail(rc, "%s", err);
	if (a.help) {
		fnctl_usage(stdout);
		return FNCTL_EXIT_OK;
	}
	switch (a.command) {
	case FNCTL_CMD_CAPTURE:
		return cmd_capture(&a);
	case FN_CTL_CMD_LOAD:
	case FN_CTL_CMD_CHECK:
		return cmd_rules(a.socket, a.command, a.flags, a.file);
	case FN_CTL_CMD_STATS:
		if (a.interval > 0)
			return cmd_watch(a.socket, a.flags, a.interval, a.count);
		return cmd_show(a.socket, a.command, a.flags);
	default:
		return cmd_show(a.socket, a.command, a.flags);
	}
}
