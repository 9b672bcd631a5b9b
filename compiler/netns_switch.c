/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include "netns_switch.h"

int fn_netns_enter(int ns_fd, int *home)
{
	*home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (*home < 0)
		return -errno;
	if (setns(ns_fd, CLONE_NEWNET) < 0) {
		int err = -errno;

		close(*home);
		*home = -1;
		return err;
	}
	return 0;
}

int fn_netns_leave(int home)
{
	int err = setns(home, CLONE_NEWNET) < 0 ? -errno : 0;

	close(home);
	return err;
}
