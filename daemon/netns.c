/* SPDX-License-Identifier: BSD-3-Clause */
/* Named network namespaces (netns.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "netns.h"
#include "netns_switch.h"

#define NSFS_MAGIC_NUMBER 0x6e736673

static int ns_path(const char *name, char *path, size_t len)
{
	if (*name == '\0' || strchr(name, '/') || name[0] == '.' ||
	    (size_t)snprintf(path, len, "%s/%s", FND_NETNS_DIR, name) >= len)
		return -EINVAL;
	return 0;
}

int fnd_netns_open(const char *name)
{
	char path[PATH_MAX];
	struct statfs sfs;
	int fd;

	if (ns_path(name, path, sizeof(path)) < 0)
		return -EINVAL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	/* a leftover plain file (the mount went away) is not a namespace */
	if (fstatfs(fd, &sfs) < 0 || sfs.f_type != NSFS_MAGIC_NUMBER) {
		close(fd);
		return -ENOENT;
	}
	return fd;
}

/* /run/netns as a shared mount point, as iproute2 does, so bind mounts made
 * here show in every mount namespace (ip netns exec makes its own). */
static int prepare_dir(void)
{
	bool remounted = false;

	if (mkdir(FND_NETNS_DIR, 0755) < 0 && errno != EEXIST)
		return -errno;
	while (mount("", FND_NETNS_DIR, "none", MS_SHARED | MS_REC, NULL) < 0) {
		if (errno != EINVAL || remounted)
			return -errno;
		if (mount(FND_NETNS_DIR, FND_NETNS_DIR, "none", MS_BIND | MS_REC, NULL) < 0)
			return -errno;
		remounted = true;
	}
	return 0;
}

int fnd_netns_create(const char *name, bool *created, char *err, size_t errlen)
{
	char path[PATH_MAX];
	int fd, home, rc;

	*created = false;
	if (ns_path(name, path, sizeof(path)) < 0) {
		snprintf(err, errlen, "bad namespace name '%s'", name);
		return -EINVAL;
	}
	fd = fnd_netns_open(name);
	if (fd >= 0) {
		close(fd);
		return 0;
	}
	rc = prepare_dir();
	if (rc < 0) {
		snprintf(err, errlen, "cannot prepare %s: %s", FND_NETNS_DIR, strerror(-rc));
		return rc;
	}
	umount2(path, MNT_DETACH); /* a stale entry, if any */
	unlink(path);
	fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
		return rc;
	}
	close(fd);
	home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (home < 0 || unshare(CLONE_NEWNET) < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot create a network namespace: %s", strerror(errno));
		goto fail;
	}
	if (mount("/proc/thread-self/ns/net", path, "none", MS_BIND, NULL) < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot bind the namespace on %s: %s", path, strerror(errno));
		fn_netns_leave(home);
		home = -1;
		goto fail;
	}
	rc = fn_netns_leave(home);
	home = -1;
	if (rc < 0) {
		snprintf(err, errlen, "cannot return to our namespace: %s", strerror(-rc));
		fnd_netns_delete(name);
		return rc;
	}
	*created = true;
	return 0;
fail:
	if (home >= 0)
		close(home);
	unlink(path);
	return rc;
}

int fnd_netns_delete(const char *name)
{
	char path[PATH_MAX];

	if (ns_path(name, path, sizeof(path)) < 0)
		return -EINVAL;
	if (umount2(path, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
		return -errno;
	if (unlink(path) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}
