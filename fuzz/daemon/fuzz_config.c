/* SPDX-License-Identifier: BSD-3-Clause */
/* fragnetd's configuration parser (daemon/config.c) on any bytes. */
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fnd_config cfg;
	char path[64], err[512];
	int fd = memfd_create("config", MFD_CLOEXEC);

	if (fd < 0 || write(fd, data, size) != (ssize_t)size) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	fnd_config_load(path, &cfg, err, sizeof(err));
	fnd_config_free(&cfg);
	close(fd);
	return 0;
}
