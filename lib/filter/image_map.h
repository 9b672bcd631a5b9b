/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A rules image received from fragnetd, mapped read-only. The daemon seals
 * each image's memfd (F_SEAL_WRITE|SHRINK|GROW|SEAL) before sending it, so
 * nobody, this process included, can change it any more; we refuse an fd
 * that is not sealed that way, so an image we filter with is always one
 * nobody can write.
 */
#ifndef FN_IMAGE_MAP_H
#define FN_IMAGE_MAP_H

#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>

#define FN_IMAGE_SEALS_REQUIRED (F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL)

struct fn_image_map {
	const void *addr;          /* PROT_READ, MAP_SHARED */
	size_t len;
	uint64_t generation;       /* the daemon's number for it */
	void *owner;               /* for the release callback */
	struct fn_image_map *next; /* for whoever queues it for release */
};

/*
 * Map `len` bytes of the image in fd (which is consumed: closed in every
 * case). NULL + errno: EPERM the fd is not a sealed memfd, EBADMSG its size
 * is not len, or mmap's errno.
 */
struct fn_image_map *fn_image_map(int fd, size_t len, uint64_t generation);
void fn_image_unmap(struct fn_image_map *m);

#endif /* FN_IMAGE_MAP_H */
