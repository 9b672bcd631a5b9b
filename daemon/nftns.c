/* SPDX-License-Identifier: BSD-3-Clause */
/* libnftables in a namespace (nftns.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nftables/libnftables.h>

#include "netns.h"
#include "netns_switch.h"
#include "nftns.h"

struct fnd_nft {
	int ns_fd;
	struct nft_ctx *ctx;
};

struct fnd_nft *fnd_nft_new(int ns_fd)
{
	struct fnd_nft *n = calloc(1, sizeof(*n));
	int home, rc;

	if (n == NULL)
		return NULL;
	n->ns_fd = ns_fd;
	/* created inside: whatever sockets it opens belong to the namespace */
	rc = fn_netns_enter(ns_fd, &home);
	if (rc < 0) {
		free(n);
		errno = -rc;
		return NULL;
	}
	n->ctx = nft_ctx_new(NFT_CTX_DEFAULT);
	if (n->ctx && (nft_ctx_buffer_output(n->ctx) || nft_ctx_buffer_error(n->ctx))) {
		nft_ctx_free(n->ctx);
		n->ctx = NULL;
	}
	rc = fn_netns_leave(home);
	if (n->ctx == NULL || rc < 0) {
		if (n->ctx)
			nft_ctx_free(n->ctx);
		free(n);
		errno = rc < 0 ? -rc : ENOMEM;
		return NULL;
	}
	nft_ctx_output_set_flags(n->ctx, NFT_CTX_OUTPUT_HANDLE);
	return n;
}

void fnd_nft_free(struct fnd_nft *n)
{
	if (n == NULL)
		return;
	nft_ctx_free(n->ctx);
	free(n);
}

/* nft's error text: the "In file included from" lines dropped, our memfd's
 * /proc path replaced by the name the sender gave, no trailing newline. */
static void tidy_error(const char *raw, const char *fdpath, const char *source,
		       char *err, size_t errlen)
{
	size_t out = 0, fdlen = fdpath ? strlen(fdpath) : 0;
	const char *p = raw && *raw ? raw : "nft refused the ruleset\n";

	while (*p && out + 1 < errlen) {
		const char *eol = strchr(p, '\n');
		size_t n = eol ? (size_t)(eol - p) : strlen(p);

		if (strncmp(p, "In file included from", 21) != 0) {
			for (size_t i = 0; i < n && out + 1 < errlen; ) {
				if (fdlen && n - i >= fdlen && memcmp(p + i, fdpath, fdlen) == 0) {
					out += (size_t)snprintf(err + out, errlen - out, "%s", source);
					if (out >= errlen)
						out = errlen - 1;
					i += fdlen;
				} else {
					err[out++] = p[i++];
				}
			}
			if (out + 1 < errlen)
				err[out++] = '\n';
		}
		p += n + (eol != NULL);
	}
	while (out && (err[out - 1] == '\n' || err[out - 1] == ' '))
		out--;
	err[out] = '\0';
}

/* Run one nft command buffer inside the namespace. */
static int run(struct fnd_nft *n, const char *cmd, const char *fdpath, const char *source,
	       char *err, size_t errlen)
{
	int home, rc, leave;

	rc = fn_netns_enter(n->ns_fd, &home);
	if (rc < 0) {
		snprintf(err, errlen, "cannot enter the namespace: %s", strerror(-rc));
		return rc;
	}
	rc = nft_run_cmd_from_buffer(n->ctx, cmd) ? -EINVAL : 0;
	if (rc < 0)
		tidy_error(nft_ctx_get_error_buffer(n->ctx), fdpath, source, err, errlen);
	else
		nft_ctx_get_error_buffer(n->ctx); /* warnings: not ours to show */
	leave = fn_netns_leave(home);
	if (leave < 0) {
		snprintf(err, errlen, "cannot leave the namespace: %s", strerror(-leave));
		return leave;
	}
	return rc;
}

int fnd_nft_replace_text(struct fnd_nft *n, const char *text, size_t len, const char *source,
			 char *err, size_t errlen)
{
	char cmd[128], fdpath[64];
	size_t done = 0;
	int fd, rc;

	/* nft reads the text as a file, so its errors point at source:line */
	fd = memfd_create("fragnetd-rules", MFD_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "memfd: %s", strerror(errno));
		return rc;
	}
	while (done < len) {
		ssize_t w = write(fd, text + done, len - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			rc = w < 0 ? -errno : -EIO;
			snprintf(err, errlen, "memfd: %s", strerror(-rc));
			close(fd);
			return rc;
		}
		done += (size_t)w;
	}
	snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d", fd);
	snprintf(cmd, sizeof(cmd), "flush ruleset\ninclude \"%s\"\n", fdpath);
	rc = run(n, cmd, fdpath, source, err, errlen);
	close(fd);
	return rc;
}

int fnd_nft_replace_path(struct fnd_nft *n, const char *path, char *err, size_t errlen)
{
	struct stat st;
	char *cmd;
	int rc;

	if (stat(path, &st) < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return rc;
	}
	if (strchr(path, '"')) {
		snprintf(err, errlen, "%s: a rules path cannot contain '\"'", path);
		return -EINVAL;
	}
	if (asprintf(&cmd, S_ISDIR(st.st_mode) ? "flush ruleset\ninclude \"%s/*.nft\"\n" :
		     "flush ruleset\ninclude \"%s\"\n", path) < 0)
		return -ENOMEM;
	rc = run(n, cmd, NULL, NULL, err, errlen);
	free(cmd);
	return rc;
}

int fnd_nft_list(struct fnd_nft *n, char **text, char *err, size_t errlen)
{
	const char *out;
	int rc;

	*text = NULL;
	rc = run(n, "list ruleset", NULL, NULL, err, errlen);
	out = nft_ctx_get_output_buffer(n->ctx);
	if (rc < 0)
		return rc;
	*text = strdup(out ? out : "");
	if (*text == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	return 0;
}
