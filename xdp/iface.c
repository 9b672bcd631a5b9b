/* SPDX-License-Identifier: BSD-3-Clause */
/* fragnetd's XDP program on one interface (iface.h). */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef AF_XDP
#define AF_XDP 44
#endif

#include <linux/if_xdp.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "iface.h"
#include "steer_obj.h"

#define PROG_NAME "fn_steer"

struct fn_xdp_iface {
	char ifname[IF_NAMESIZE];
	char dir[256];               /* pin directory of this interface */
	int ifindex;
	enum xdp_attach_mode mode;
	uint32_t prog_id;
	struct bpf_object *obj;
	struct xdp_program *prog;    /* ours when we attached it, NULL when adopted */
	int apps, owner, xsks, rules, stats, config, gens, names;
};

static const char *const stat_names[FN_STEER_STAT_MAX] = {
	[FN_STEER_PASS] = "pass",
	[FN_STEER_ARP] = "arp",
	[FN_STEER_FRAGMENT] = "fragment",
	[FN_STEER_FRAG_DROPPED] = "fragment_dropped",
	[FN_STEER_RULES] = "rules",
	[FN_STEER_NO_RULES] = "no_rules",
	[FN_STEER_MALFORMED] = "malformed",
	[FN_STEER_WRONG_QUEUE] = "wrong_queue",
	[FN_STEER_NO_SOCKET] = "no_socket",
};

const char *fn_xdp_steer_stat_name(unsigned stat)
{
	return stat < FN_STEER_STAT_MAX ? stat_names[stat] : NULL;
}

static int fail(char *err, size_t errlen, int rc, const char *fmt, const char *arg)
{
	if (err) {
		int n = snprintf(err, errlen, fmt, arg);

		if (n >= 0 && (size_t)n < errlen)
			snprintf(err + n, errlen - n, ": %s", strerror(-rc));
	}
	return rc;
}

static int mkdir_p(const char *path)
{
	char tmp[256];

	if (strlen(path) >= sizeof(tmp))
		return -ENAMETOOLONG;
	strcpy(tmp, path);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0700) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	return mkdir(tmp, 0700) < 0 && errno != EEXIST ? -errno : 0;
}

static int if_mac(const char *ifname, uint8_t mac[6])
{
	struct ifreq ifr = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), rc = 0;

	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0)
		rc = -errno;
	else
		memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	close(fd);
	return rc;
}

/* Our program attached to ifindex, by name: its id and the mode, or 0. */
static uint32_t find_attached(int ifindex, enum xdp_attach_mode *mode)
{
	struct xdp_multiprog *mp = xdp_multiprog__get_from_ifindex(ifindex);
	struct xdp_program *p;
	uint32_t id = 0;

	if (libxdp_get_error(mp))
		return 0;
	if (xdp_multiprog__is_legacy(mp)) {
		p = xdp_multiprog__main_prog(mp);
		if (p && strcmp(xdp_program__name(p), PROG_NAME) == 0)
			id = xdp_program__id(p);
	} else {
		for (p = xdp_multiprog__next_prog(NULL, mp); p; p = xdp_multiprog__next_prog(p, mp))
			if (strcmp(xdp_program__name(p), PROG_NAME) == 0)
				id = xdp_program__id(p);
	}
	*mode = xdp_multiprog__attach_mode(mp);
	xdp_multiprog__close(mp);
	return id;
}

/* Does the attached program use the maps we opened (the pins are its)? */
static bool uses_our_maps(uint32_t prog_id, int map_fd)
{
	struct bpf_prog_info info = { 0 };
	struct bpf_map_info minfo = { 0 };
	uint32_t ids[16], len = sizeof(info), mlen = sizeof(minfo);
	int fd = bpf_prog_get_fd_by_id(prog_id);
	bool found = false;

	if (fd < 0)
		return false;
	info.nr_map_ids = 16;
	info.map_ids = (uintptr_t)ids;
	if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0 &&
	    bpf_obj_get_info_by_fd(map_fd, &minfo, &mlen) == 0)
		for (uint32_t i = 0; i < info.nr_map_ids && i < 16; i++)
			found |= ids[i] == minfo.id;
	close(fd);
	return found;
}

static int map_fd(struct bpf_object *obj, const char *name)
{
	struct bpf_map *m = bpf_object__find_map_by_name(obj, name);

	return m ? bpf_map__fd(m) : -ENOENT;
}

/* Forget whatever an earlier attachment left in reused pinned maps. */
static void clear_maps(struct fn_xdp_iface *x)
{
	uint32_t key, next;
	int fds[] = { x->apps };

	for (unsigned i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		while (bpf_map_get_next_key(fds[i], NULL, &next) == 0)
			bpf_map_delete_elem(fds[i], &next);
	for (key = 0; key < FN_STEER_MAX_QUEUES; key++) {
		uint32_t zero = 0;

		bpf_map_update_elem(x->owner, &key, &zero, BPF_ANY);
		bpf_map_delete_elem(x->xsks, &key);
	}
	for (key = 0; key < FN_STEER_MAX_APPS; key++) {
		struct fn_steer_name nobody = { "" };
		uint64_t none = 0;

		bpf_map_delete_elem(x->rules, &key);
		bpf_map_update_elem(x->gens, &key, &none, BPF_ANY);
		bpf_map_update_elem(x->names, &key, &nobody, BPF_ANY);
	}
}

int fn_xdp_iface_open(const char *ifname, const char *pin_dir, enum fn_xdp_mode mode,
		      struct fn_xdp_iface **out, bool *adopted, char *err, size_t errlen)
{
	static const enum xdp_attach_mode modes[] = {
		[FN_XDP_MODE_AUTO] = XDP_MODE_UNSPEC,
		[FN_XDP_MODE_NATIVE] = XDP_MODE_NATIVE,
		[FN_XDP_MODE_SKB] = XDP_MODE_SKB,
	};
	struct fn_xdp_iface *x = calloc(1, sizeof(*x));
	struct fn_steer_config cfg = { 0 };
	struct bpf_program *bp;
	uint32_t zero = 0;
	int rc;

	*adopted = false;
	if (!x)
		return -ENOMEM;
	x->apps = x->owner = x->xsks = x->rules = x->stats = x->config = x->gens = x->names = -1;
	if (strlen(ifname) >= sizeof(x->ifname)) {
		rc = fail(err, errlen, -ENAMETOOLONG, "interface %s", ifname);
		goto out;
	}
	strcpy(x->ifname, ifname);
	x->ifindex = (int)if_nametoindex(ifname);
	if (x->ifindex == 0) {
		rc = fail(err, errlen, -errno, "interface %s", ifname);
		goto out;
	}
	if (snprintf(x->dir, sizeof(x->dir), "%s/%s", pin_dir, ifname) >= (int)sizeof(x->dir)) {
		rc = fail(err, errlen, -ENAMETOOLONG, "pin directory %s", pin_dir);
		goto out;
	}
	rc = mkdir_p(x->dir);
	if (rc < 0) {
		fail(err, errlen, rc, "cannot create %s", x->dir);
		goto out;
	}
	rc = if_mac(ifname, cfg.mac);
	if (rc < 0) {
		fail(err, errlen, rc, "MAC address of %s", ifname);
		goto out;
	}

	LIBBPF_OPTS(bpf_object_open_opts, oo, .object_name = PROG_NAME, .pin_root_path = x->dir);
	x->obj = bpf_object__open_mem(fn_steer_obj, fn_steer_obj_len, &oo);
	if (!x->obj) {
		rc = fail(err, errlen, -errno, "steering program for %s", ifname);
		goto out;
	}
	x->prog_id = find_attached(x->ifindex, &x->mode);
	bp = bpf_object__find_program_by_name(x->obj, PROG_NAME);
	if (x->prog_id && bp)
		bpf_program__set_autoload(bp, false);   /* the maps are all we need */
	if (bpf_object__load(x->obj) < 0) {
		rc = fail(err, errlen, -errno, "loading the steering program for %s", ifname);
		goto out;
	}
	x->apps = map_fd(x->obj, "fn_apps");
	x->owner = map_fd(x->obj, "fn_owner");
	x->xsks = map_fd(x->obj, "fn_xsks");
	x->rules = map_fd(x->obj, "fn_rules");
	x->stats = map_fd(x->obj, "fn_stats");
	x->config = map_fd(x->obj, "fn_config");
	x->gens = map_fd(x->obj, "fn_gens");
	x->names = map_fd(x->obj, "fn_names");

	if (x->prog_id && uses_our_maps(x->prog_id, x->apps)) {
		*adopted = true;
	} else {
		if (x->prog_id) {
			/* Ours by name, but its maps are not pinned where we
			 * look: another pin directory's. Refuse rather than
			 * take it over. */
			rc = fail(err, errlen, -EBUSY,
				  "%s: a fragnet program with other maps is attached (another pin directory?)",
				  ifname);
			goto out;
		}
		clear_maps(x);
		x->prog = xdp_program__from_bpf_obj(x->obj, "xdp");
		rc = (int)libxdp_get_error(x->prog);
		if (rc) {
			x->prog = NULL;
			fail(err, errlen, rc, "steering program for %s", ifname);
			goto out;
		}
		rc = xdp_program__attach(x->prog, x->ifindex, modes[mode], 0);
		if (rc) {
			fail(err, errlen, rc, "cannot attach XDP to %s", ifname);
			goto out;
		}
		x->prog_id = find_attached(x->ifindex, &x->mode);
	}
	rc = bpf_map_update_elem(x->config, &zero, &cfg, BPF_ANY) ? -errno : 0;
	if (rc < 0) {
		fail(err, errlen, rc, "configuring the program on %s", ifname);
		goto out;
	}
	*out = x;
	return 0;
out:
	fn_xdp_iface_close(x);
	return rc;
}

void fn_xdp_iface_close(struct fn_xdp_iface *x)
{
	if (!x)
		return;
	/* A program made by xdp_program__from_bpf_obj() does not own its
	 * object (libxdp marks it external): both are closed here. */
	xdp_program__close(x->prog);
	bpf_object__close(x->obj);
	free(x);
}

int fn_xdp_iface_remove(struct fn_xdp_iface *x)
{
	struct xdp_multiprog *mp = xdp_multiprog__get_from_ifindex(x->ifindex);
	int rc = 0;

	if (!libxdp_get_error(mp)) {
		struct xdp_program *p = NULL;

		if (xdp_multiprog__is_legacy(mp)) {
			rc = xdp_multiprog__detach(mp);
		} else {
			for (p = xdp_multiprog__next_prog(NULL, mp); p;
			     p = xdp_multiprog__next_prog(p, mp))
				if (strcmp(xdp_program__name(p), PROG_NAME) == 0)
					break;
			if (p)
				rc = xdp_program__detach(p, x->ifindex,
							 xdp_multiprog__attach_mode(mp), 0);
		}
		xdp_multiprog__close(mp);
	}
	bpf_object__unpin_maps(x->obj, NULL);
	rmdir(x->dir);
	fn_xdp_iface_close(x);
	return rc;
}

int fn_xdp_iface_ifindex(const struct fn_xdp_iface *x)
{
	return x->ifindex;
}

uint32_t fn_xdp_iface_prog_id(const struct fn_xdp_iface *x)
{
	return x->prog_id;
}

const char *fn_xdp_iface_mode_name(const struct fn_xdp_iface *x)
{
	switch (x->mode) {
	case XDP_MODE_NATIVE: return "native";
	case XDP_MODE_SKB: return "skb";
	case XDP_MODE_HW: return "hw";
	default: return "unknown";
	}
}

static int ret(int rc)
{
	return rc ? -errno : 0;
}

int fn_xdp_iface_set_app(struct fn_xdp_iface *x, uint32_t addr, uint32_t slot, uint32_t flags)
{
	struct fn_steer_app a = { .slot = slot, .flags = flags };

	if (slot >= FN_STEER_MAX_APPS)
		return -ERANGE;
	return ret(bpf_map_update_elem(x->apps, &addr, &a, BPF_ANY));
}

int fn_xdp_iface_del_app(struct fn_xdp_iface *x, uint32_t addr)
{
	return ret(bpf_map_delete_elem(x->apps, &addr));
}

int fn_xdp_iface_next_app(struct fn_xdp_iface *x, uint32_t *addr, uint32_t *slot)
{
	uint32_t next;
	struct fn_steer_app a;

	if (bpf_map_get_next_key(x->apps, *addr ? addr : NULL, &next))
		return -errno;
	if (bpf_map_lookup_elem(x->apps, &next, &a))
		return -errno;
	*addr = next;
	*slot = a.slot;
	return 0;
}

int fn_xdp_iface_app_slot(struct fn_xdp_iface *x, uint32_t addr, uint32_t *slot)
{
	struct fn_steer_app a;

	if (bpf_map_lookup_elem(x->apps, &addr, &a))
		return -errno;
	*slot = a.slot;
	return 0;
}

int fn_xdp_iface_set_queue(struct fn_xdp_iface *x, uint32_t q, uint32_t slot, int xsk_fd,
			   uint16_t bind_flags)
{
	struct sockaddr_xdp sxdp = { .sxdp_family = AF_XDP, .sxdp_ifindex = (uint32_t)x->ifindex,
				     .sxdp_queue_id = q, .sxdp_flags = bind_flags };
	uint32_t owner = slot + 1, zero = 0;
	socklen_t len = sizeof(int);
	int domain = 0, rc;

	if (q >= FN_STEER_MAX_QUEUES || slot >= FN_STEER_MAX_APPS)
		return -ERANGE;
	if (getsockopt(xsk_fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) < 0)
		return errno == EBADF ? -EBADF : -ENOTSOCK;
	if (domain != AF_XDP)
		return -ENOTSOCK;
	if (bind(xsk_fd, (struct sockaddr *)&sxdp, sizeof(sxdp)) < 0)
		return -errno;
	/* Nobody owns the queue while its socket changes hands. */
	rc = ret(bpf_map_update_elem(x->owner, &q, &zero, BPF_ANY));
	if (!rc)
		rc = ret(bpf_map_update_elem(x->xsks, &q, &xsk_fd, BPF_ANY));
	if (!rc)
		rc = ret(bpf_map_update_elem(x->owner, &q, &owner, BPF_ANY));
	return rc;
}

int fn_xdp_iface_clear_queue(struct fn_xdp_iface *x, uint32_t q)
{
	uint32_t zero = 0;
	int rc;

	if (q >= FN_STEER_MAX_QUEUES)
		return -ERANGE;
	rc = ret(bpf_map_update_elem(x->owner, &q, &zero, BPF_ANY));
	if (bpf_map_delete_elem(x->xsks, &q) && errno != ENOENT && !rc)
		rc = -errno;
	return rc;
}

int fn_xdp_iface_queue_owner(struct fn_xdp_iface *x, uint32_t q, uint32_t *slot)
{
	uint32_t owner;

	if (bpf_map_lookup_elem(x->owner, &q, &owner))
		return -errno;
	if (owner == 0)
		return -ENOENT;
	*slot = owner - 1;
	return 0;
}

int fn_xdp_iface_set_rules(struct fn_xdp_iface *x, uint32_t slot, int prog_fd)
{
	if (slot >= FN_STEER_MAX_APPS)
		return -ERANGE;
	if (prog_fd < 0)
		return bpf_map_delete_elem(x->rules, &slot) && errno != ENOENT ? -errno : 0;
	return ret(bpf_map_update_elem(x->rules, &slot, &prog_fd, BPF_ANY));
}

uint32_t fn_xdp_iface_rules_id(struct fn_xdp_iface *x, uint32_t slot)
{
	uint32_t id = 0;

	if (bpf_map_lookup_elem(x->rules, &slot, &id))
		return 0;
	return id;
}

int fn_xdp_iface_set_rules_gen(struct fn_xdp_iface *x, uint32_t slot, uint64_t generation)
{
	return ret(bpf_map_update_elem(x->gens, &slot, &generation, BPF_ANY));
}

uint64_t fn_xdp_iface_rules_gen(struct fn_xdp_iface *x, uint32_t slot)
{
	uint64_t g = 0;

	if (bpf_map_lookup_elem(x->gens, &slot, &g))
		return 0;
	return g;
}

int fn_xdp_iface_set_slot_name(struct fn_xdp_iface *x, uint32_t slot, const char *name)
{
	struct fn_steer_name n = { "" };

	if (strlen(name) >= sizeof(n.name))
		return -ENAMETOOLONG;
	strcpy(n.name, name);
	return ret(bpf_map_update_elem(x->names, &slot, &n, BPF_ANY));
}

bool fn_xdp_iface_slot_is(struct fn_xdp_iface *x, uint32_t slot, const char *name)
{
	struct fn_steer_name n;

	return bpf_map_lookup_elem(x->names, &slot, &n) == 0 &&
	       strncmp(n.name, name, sizeof(n.name)) == 0;
}

int fn_xdp_iface_release_slot(struct fn_xdp_iface *x, uint32_t slot)
{
	int rc = 0, r;

	for (uint32_t q = 0; q < FN_STEER_MAX_QUEUES; q++) {
		uint32_t owner;

		if (fn_xdp_iface_queue_owner(x, q, &owner) == 0 && owner == slot &&
		    (r = fn_xdp_iface_clear_queue(x, q)) < 0 && rc == 0)
			rc = r;
	}
	if ((r = fn_xdp_iface_set_rules(x, slot, -1)) < 0 && rc == 0)
		rc = r;
	if ((r = fn_xdp_iface_set_rules_gen(x, slot, 0)) < 0 && rc == 0)
		rc = r;
	if ((r = fn_xdp_iface_set_slot_name(x, slot, "")) < 0 && rc == 0)
		rc = r;
	return rc;
}

int fn_xdp_iface_xsks_fd(const struct fn_xdp_iface *x)
{
	return x->xsks;
}

int fn_xdp_iface_stats(struct fn_xdp_iface *x, uint64_t out[FN_STEER_STAT_MAX])
{
	int ncpu = libbpf_num_possible_cpus();
	uint64_t *v;

	if (ncpu <= 0)
		return ncpu < 0 ? ncpu : -EINVAL;
	v = calloc((size_t)ncpu, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (uint32_t s = 0; s < FN_STEER_STAT_MAX; s++) {
		out[s] = 0;
		if (bpf_map_lookup_elem(x->stats, &s, v) == 0)
			for (int c = 0; c < ncpu; c++)
				out[s] += v[c];
	}
	free(v);
	return 0;
}
