/* SPDX-License-Identifier: BSD-3-Clause */
/* Loading and attaching the test steering program (xsk_prog.h). */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>
#include <linux/if_xdp.h>
#include <sys/socket.h>

#ifndef AF_XDP
#define AF_XDP 44
#endif

#include "xsk_prog.h"

/* xsk_redirect.bpf.c's config. */
struct config {
	uint32_t addr;
	uint16_t meta_port;
	uint16_t pad;
};

int xsk_prog_attach(struct xsk_prog *p, const char *obj_path, const char *ifname,
		    uint32_t addr, uint16_t meta_port, bool skb)
{
	LIBBPF_OPTS(bpf_link_create_opts, opts, .flags = skb ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE);
	struct config cfg = { .addr = addr, .meta_port = meta_port };
	unsigned ifindex = if_nametoindex(ifname);
	struct bpf_program *prog;
	uint32_t key = 0;
	int rc;

	*p = (struct xsk_prog){ .link_fd = -1, .xsks_fd = -1, .ifindex = ifindex };
	if (ifindex == 0) {
		fprintf(stderr, "xsk_prog: no interface %s\n", ifname);
		return -ENODEV;
	}
	p->obj = bpf_object__open_file(obj_path, NULL);
	if (p->obj == NULL) {
		rc = -errno;
		fprintf(stderr, "xsk_prog: cannot open %s: %s\n", obj_path, strerror(-rc));
		return rc;
	}
	rc = bpf_object__load(p->obj);
	if (rc < 0) {
		fprintf(stderr, "xsk_prog: cannot load %s: %s\n", obj_path, strerror(-rc));
		goto fail;
	}
	prog = bpf_object__find_program_by_name(p->obj, "xsk_redirect");
	p->xsks_fd = bpf_object__find_map_fd_by_name(p->obj, "xsks");
	rc = bpf_map_update_elem(bpf_object__find_map_fd_by_name(p->obj, "config"), &key, &cfg, 0);
	if (prog == NULL || p->xsks_fd < 0 || rc < 0) {
		fprintf(stderr, "xsk_prog: %s is not xsk_redirect.bpf.o\n", obj_path);
		rc = -EINVAL;
		goto fail;
	}
	p->link_fd = bpf_link_create(bpf_program__fd(prog), ifindex, BPF_XDP, &opts);
	if (p->link_fd < 0) {
		rc = p->link_fd;
		fprintf(stderr, "xsk_prog: cannot attach to %s (%s mode): %s\n", ifname,
			skb ? "generic" : "native", strerror(-rc));
		goto fail;
	}
	return 0;
fail:
	xsk_prog_detach(p);
	return rc;
}

int xsk_prog_insert(struct xsk_prog *p, uint32_t queue, int fd)
{
	struct sockaddr_xdp sxdp = { .sxdp_family = AF_XDP, .sxdp_ifindex = p->ifindex,
				     .sxdp_queue_id = queue,
				     .sxdp_flags = XDP_COPY | XDP_USE_NEED_WAKEUP };
	int rc;

	if (bind(fd, (struct sockaddr *)&sxdp, sizeof(sxdp)) < 0) {
		rc = -errno;
		fprintf(stderr, "xsk_prog: cannot bind socket %d to queue %u: %s\n", fd, queue,
			strerror(-rc));
		return rc;
	}
	rc = bpf_map_update_elem(p->xsks_fd, &queue, &fd, 0);

	if (rc < 0)
		fprintf(stderr, "xsk_prog: cannot insert socket %d for queue %u: %s\n", fd,
			queue, strerror(-rc));
	return rc;
}

void xsk_prog_detach(struct xsk_prog *p)
{
	if (p->link_fd >= 0)
		close(p->link_fd);
	bpf_object__close(p->obj);
	*p = (struct xsk_prog){ .link_fd = -1, .xsks_fd = -1 };
}
