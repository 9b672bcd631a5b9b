/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * An application tries to change the rules fragnetd gave it. Registers with
 * the daemon at argv[1] like the library does, maps the image through the
 * library's own fn_image_map(), then tries every way in to the bytes: each
 * attempt is one check, and the image must come out unchanged.
 *
 *   test_seal SOCKET
 *
 * Prints one line per check and "N passed, N failed".
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl/proto.h"
#include "filter/image_map.h"

static unsigned passed, failed;

static void check(const char *name, bool ok, const char *detail)
{
	if (ok) {
		passed++;
		printf("ok   %s\n", name);
	} else {
		failed++;
		printf("FAIL %s %s\n", name, detail ? detail : "");
	}
	fflush(stdout);
}

/* "refused" means: failed, with one of the errors the kernel gives for it */
static bool refused(int rc, int err, int e1, int e2)
{
	return rc == -1 && (err == e1 || err == e2);
}

static char detail[256];

static const char *why(int rc)
{
	snprintf(detail, sizeof(detail), "(returned %d, errno %s)", rc, rc < 0 ?
		 strerror(errno) : "-");
	return detail;
}

/* Register as an application; the first image's fd and length. */
static int receive_image(const char *path, size_t *len)
{
	static unsigned char buf[FN_CTL_MAX_MSG] __attribute__((aligned(8)));
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct fn_ctl_hello hello = { .n_queues = 1 };
	struct pollfd p;
	int sock, fd;
	ssize_t n;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	snprintf(hello.name, sizeof(hello.name), "sealtest");
	sock = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (sock < 0 || connect(sock, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    fn_ctl_send_msg(sock, FN_CTL_HELLO, 0, &hello, sizeof(hello), -1) < 0) {
		perror("test_seal: cannot register with fragnetd");
		exit(2);
	}
	p.fd = sock;
	p.events = POLLIN;
	if (poll(&p, 1, 10000) != 1 || (n = fn_ctl_recv(sock, buf, &fd)) <= 0 ||
	    fn_ctl_check(buf, (size_t)n) != FN_CTL_IMAGE || fd < 0) {
		fprintf(stderr, "test_seal: no image from fragnetd\n");
		exit(2);
	}
	*len = ((const struct fn_ctl_image *)fn_ctl_payload(buf))->len;
	/* the connection stays open until exit, like an application's */
	return fd;
}

static void attack_fd(int fd, size_t len, const char *how)
{
	char name[160];
	void *p;
	int rc;

	snprintf(name, sizeof(name), "%s: mmap(PROT_WRITE, MAP_SHARED) refused", how);
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	check(name, p == MAP_FAILED && (errno == EPERM || errno == EACCES),
	      p == MAP_FAILED ? strerror(errno) : "mapped writable");
	if (p != MAP_FAILED)
		munmap(p, len);

	snprintf(name, sizeof(name), "%s: write() refused", how);
	rc = (int)write(fd, "X", 1);
	check(name, refused(rc, errno, EPERM, EBADF), why(rc));

	snprintf(name, sizeof(name), "%s: pwrite() at offset 0 refused", how);
	rc = (int)pwrite(fd, "X", 1, 0);
	check(name, refused(rc, errno, EPERM, EBADF), why(rc));
}

int main(int argc, char **argv)
{
	struct fn_image_map *m;
	unsigned char *copy;
	char path[64];
	size_t len;
	int fd, keep, rc, seals, re;

	if (argc != 2) {
		fprintf(stderr, "usage: test_seal SOCKET\n");
		return 2;
	}
	fd = receive_image(argv[1], &len);
	keep = dup(fd);       /* the application's own copy of the fd */
	m = fn_image_map(fd, len, 1);
	check("the library maps the image from fragnetd", m != NULL, strerror(errno));
	if (m == NULL)
		return 1;
	copy = malloc(len);
	memcpy(copy, m->addr, len);

	attack_fd(keep, len, "image fd");

	rc = mprotect((void *)m->addr, len, PROT_READ | PROT_WRITE);
	check("mprotect(PROT_WRITE) of the library's mapping refused",
	      refused(rc, errno, EACCES, EPERM), why(rc));

	rc = ftruncate(keep, 0);
	check("ftruncate() to shrink refused", refused(rc, errno, EPERM, EPERM), why(rc));
	rc = ftruncate(keep, (off_t)len * 2);
	check("ftruncate() to grow refused", refused(rc, errno, EPERM, EPERM), why(rc));
	rc = fallocate(keep, 0, 0, (off_t)len * 2);
	check("fallocate() refused", refused(rc, errno, EPERM, EPERM), why(rc));

	snprintf(path, sizeof(path), "/proc/self/fd/%d", keep);
	re = open(path, O_RDWR | O_CLOEXEC);
	if (re < 0) {
		check("reopening /proc/self/fd/N read-write refused", true, NULL);
	} else {
		attack_fd(re, len, "reopened /proc/self/fd/N");
		close(re);
	}
	snprintf(path, sizeof(path), "/proc/self/map_files/%lx-%lx",
		 (unsigned long)m->addr,
		 (unsigned long)((uintptr_t)m->addr + ((len + 4095) & ~(size_t)4095)));
	re = open(path, O_RDWR | O_CLOEXEC);
	if (re < 0) {
		check("reopening /proc/self/map_files read-write refused", true, NULL);
	} else {
		attack_fd(re, len, "reopened /proc/self/map_files");
		close(re);
	}

	rc = fcntl(keep, F_ADD_SEALS, F_SEAL_FUTURE_WRITE);
	check("adding a seal refused (F_SEAL_SEAL is set)", refused(rc, errno, EPERM, EPERM),
	      why(rc));
	seals = fcntl(keep, F_GET_SEALS);
	check("seals are WRITE|SHRINK|GROW|SEAL", seals >= 0 &&
	      (seals & FN_IMAGE_SEALS_REQUIRED) == FN_IMAGE_SEALS_REQUIRED, why(seals));

	re = open("/proc/self/mem", O_RDWR | O_CLOEXEC);
	rc = re < 0 ? -1 : (int)pwrite(re, "X", 1, (off_t)(unsigned long)m->addr);
	check("a stray write through /proc/self/mem into the mapping refused", rc == -1, why(rc));
	if (re >= 0)
		close(re);

	{
		unsigned char *priv = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE, keep, 0);

		if (priv != MAP_FAILED) {
			priv[0] ^= 0xff;
			check("a private copy-on-write mapping changes only itself",
			      memcmp(m->addr, copy, len) == 0, NULL);
			munmap(priv, len);
		} else {
			check("a private copy-on-write mapping changes only itself", true, NULL);
		}
	}

	check("after all of it the image is unchanged", memcmp(m->addr, copy, len) == 0, NULL);
	fn_image_unmap(m);
	free(copy);
	close(keep);

	/* The library side of the bargain: only sealed images are used. */
	fd = memfd_create("unsealed", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	rc = (int)write(fd, "FNTN", 4);
	m = fn_image_map(fd, 4, 1);
	check("the library refuses an unsealed memfd (EPERM)", m == NULL && errno == EPERM, NULL);
	fd = memfd_create("half-sealed", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	rc = (int)write(fd, "FNTN", 4);
	fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL);
	m = fn_image_map(fd, 4, 1);
	check("the library refuses a memfd sealed without F_SEAL_WRITE (EPERM)",
	      m == NULL && errno == EPERM, NULL);
	(void)rc;

	printf("%u passed, %u failed\n", passed, failed);
	return failed ? 1 : 0;
}
