/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The compiler object: a network namespace, libnftables and a netlink
 * socket living in it, and the load -> dump -> lower sequence.
 *
 * The calling thread only visits the namespace (setns there and back) for
 * each operation; sockets opened inside stay bound to it.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nftables/libnftables.h>

#include "compiler.h"
#include "dump.h"
#include "lower.h"
#include "netns_switch.h"

struct fn_compiler {
	int ns_fd;
	struct nft_ctx *nft;
	struct fn_nl nl;
	bool linear;          /* no classify ops (fn_compiler_classify()) */
};

static int self_ns(void)
{
	return open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
}

struct fn_compiler *fn_compiler_new(const char *netns, char *err, size_t errlen)
{
	struct fn_compiler *c = calloc(1, sizeof(*c));
	int home = -1, ret;

	if (!c) {
		snprintf(err, errlen, "out of memory");
		errno = ENOMEM;
		return NULL;
	}
	c->ns_fd = -1;
	home = self_ns();
	if (home < 0) {
		ret = -errno;
		snprintf(err, errlen, "cannot open our network namespace: %s", strerror(errno));
		goto fail;
	}
	if (!netns) {
		if (unshare(CLONE_NEWNET) < 0) {
			ret = -errno;
			snprintf(err, errlen, "cannot create a network namespace: %s", strerror(errno));
			goto fail;
		}
		c->ns_fd = self_ns();
	} else {
		char path[256];

		if (!*netns || strchr(netns, '/')) {
			ret = -EINVAL;
			snprintf(err, errlen, "bad namespace name '%s'", netns);
			goto fail;
		}
		snprintf(path, sizeof(path), "/run/netns/%s", netns);
		c->ns_fd = open(path, O_RDONLY | O_CLOEXEC);
		if (c->ns_fd >= 0 && setns(c->ns_fd, CLONE_NEWNET) < 0) {
			ret = -errno;
			snprintf(err, errlen, "cannot enter namespace %s: %s", netns, strerror(errno));
			goto fail;
		}
	}
	if (c->ns_fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "cannot open namespace %s: %s", netns ? netns : "(new)",
			 strerror(errno));
		goto back;
	}
	c->nft = nft_ctx_new(NFT_CTX_DEFAULT);
	if (!c->nft || nft_ctx_buffer_output(c->nft) || nft_ctx_buffer_error(c->nft)) {
		ret = -ENOMEM;
		snprintf(err, errlen, "cannot set up libnftables");
		goto back;
	}
	if ((ret = fn_nl_open(&c->nl))) {
		snprintf(err, errlen, "cannot open a netfilter netlink socket: %s", strerror(-ret));
		goto back;
	}
	if (setns(home, CLONE_NEWNET) < 0) {
		ret = -errno;
		snprintf(err, errlen, "cannot return to our namespace: %s", strerror(errno));
		goto fail;
	}
	close(home);
	return c;
back:
	if (setns(home, CLONE_NEWNET) < 0 && !ret)
		ret = -errno;
fail:
	if (home >= 0)
		close(home);
	fn_compiler_free(c);
	errno = -ret;
	return NULL;
}

void fn_compiler_free(struct fn_compiler *c)
{
	if (!c)
		return;
	fn_nl_close(&c->nl);
	if (c->nft)
		nft_ctx_free(c->nft);
	if (c->ns_fd >= 0)
		close(c->ns_fd);
	free(c);
}

int fn_compiler_netns_fd(const struct fn_compiler *c)
{
	return c->ns_fd;
}

/* nft's own error text, without the trailing newline. */
static void nft_error(struct fn_compiler *c, char *err, size_t errlen)
{
	const char *msg = nft_ctx_get_error_buffer(c->nft);
	size_t n;

	snprintf(err, errlen, "nft: %s", msg && *msg ? msg : "command failed");
	n = strlen(err);
	while (n && (err[n - 1] == '\n' || err[n - 1] == ' '))
		err[--n] = 0;
}

static int run_nft(struct fn_compiler *c, const char *prefix, const char *text,
		   char *err, size_t errlen)
{
	size_t n = strlen(prefix) + strlen(text) + 2;
	char *buf = malloc(n);
	int rc;

	if (!buf)
		return -ENOMEM;
	snprintf(buf, n, "%s%s\n", prefix, text);
	rc = nft_run_cmd_from_buffer(c->nft, buf);
	free(buf);
	/* drain both buffers so the next command starts clean */
	if (rc)
		nft_error(c, err, errlen);
	else
		nft_ctx_get_error_buffer(c->nft);
	nft_ctx_get_output_buffer(c->nft);
	return rc ? -EINVAL : 0;
}

void fn_compiler_classify(struct fn_compiler *c, bool on)
{
	c->linear = !on;
}

static int compile_here(struct fn_compiler *c, const char *app, void **image,
			size_t *len, char *err, size_t errlen)
{
	struct fn_dump d;
	int ret;

	ret = fn_dump_table(&c->nl, app ? app : "fragnet", &d, err, errlen);
	if (ret)
		return ret;
	ret = fn_lower(&d, !c->linear, image, len, err, errlen);
	fn_dump_free(&d);
	return ret;
}

int fn_compile_current(struct fn_compiler *c, const char *app, void **image,
		       size_t *len, char *err, size_t errlen)
{
	int home, ret, ret2;

	*image = NULL;
	*len = 0;
	if ((ret = fn_netns_enter(c->ns_fd, &home))) {
		snprintf(err, errlen, "cannot enter the namespace: %s", strerror(-ret));
		return ret;
	}
	ret = compile_here(c, app, image, len, err, errlen);
	if ((ret2 = fn_netns_leave(home))) {
		free(*image);
		*image = NULL;
		snprintf(err, errlen, "cannot leave the namespace: %s", strerror(-ret2));
		return ret2;
	}
	return ret;
}

int fn_compile_text(struct fn_compiler *c, const char *text, const char *app,
		    void **image, size_t *len, char *err, size_t errlen)
{
	char *saved = NULL, scratch[256];
	const char *out;
	int home, ret, ret2;

	*image = NULL;
	*len = 0;
	if ((ret = fn_netns_enter(c->ns_fd, &home))) {
		snprintf(err, errlen, "cannot enter the namespace: %s", strerror(-ret));
		return ret;
	}
	/* what to put back if the new ruleset cannot be lowered */
	if (nft_run_cmd_from_buffer(c->nft, "list ruleset") == 0 &&
	    (out = nft_ctx_get_output_buffer(c->nft)))
		saved = strdup(out);
	nft_ctx_get_error_buffer(c->nft);
	if (!saved) {
		ret = -ENOMEM;
		snprintf(err, errlen, "cannot save the current ruleset");
		goto out;
	}
	/* one transaction: nft applies the whole buffer or nothing; the flush
	 * shares the first line so nft's line numbers stay the caller's */
	ret = run_nft(c, "flush ruleset; ", text, err, errlen);
	if (ret)
		goto out;
	ret = compile_here(c, app, image, len, err, errlen);
	if (ret && run_nft(c, "flush ruleset; ", saved, scratch, sizeof(scratch))) {
		size_t n = strlen(err);

		snprintf(err + n, errlen > n ? errlen - n : 0,
			 "; restoring the previous ruleset failed too: %s", scratch);
	}
out:
	free(saved);
	if ((ret2 = fn_netns_leave(home))) {
		free(*image);
		*image = NULL;
		*len = 0;
		snprintf(err, errlen, "cannot leave the namespace: %s", strerror(-ret2));
		return ret2;
	}
	return ret;
}
