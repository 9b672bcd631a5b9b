/* SPDX-License-Identifier: BSD-3-Clause */
/* Mapping a sealed rules image read-only (image_map.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image_map.h"

struct fn_image_map *fn_image_map(int fd, size_t len, uint64_t generation)
{
	struct fn_image_map *m = NULL;
	struct stat st;
	int seals, err;
	void *addr;

	seals = fcntl(fd, F_GET_SEALS);
	if (seals < 0 || (seals & FN_IMAGE_SEALS_REQUIRED) != FN_IMAGE_SEALS_REQUIRED) {
		err = EPERM;
		goto fail;
	}
	if (fstat(fd, &st) < 0) {
		err = errno;
		goto fail;
	}
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size != len || len == 0) {
		err = EBADMSG;
		goto fail;
	}
	m = calloc(1, sizeof(*m));
	if (m == NULL) {
		err = ENOMEM;
		goto fail;
	}
	/* MAP_SHARED of a write-sealed memfd: the kernel also withholds
	 * VM_MAYWRITE, so not even mprotect() can make it writable. */
	addr = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	if (addr == MAP_FAILED) {
		err = errno;
		goto fail;
	}
	close(fd);
	m->addr = addr;
	m->len = len;
	m->generation = generation;
	return m;
fail:
	free(m);
	close(fd);
	errno = err;
	return NULL;
}

void fn_image_unmap(struct fn_image_map *m)
{
	if (m == NULL)
		return;
	munmap((void *)m->addr, m->len);
	free(m);
}
