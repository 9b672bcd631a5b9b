/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The plain (non-libFuzzer) driver: runs the target on its built-in seeds,
 * on deterministic mutations of them (byte flips, truncations, pseudo-random
 * edits from a fixed seed) and on the files or directories named on the
 * command line. So `meson test` exercises every target without clang.
 *
 *   replay_nft_X [PATH...]           run seeds, mutations and PATHs
 *   replay_nft_X --write-seeds DIR   write the built-in seeds to DIR, to
 *                                    start a libFuzzer corpus from
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

static unsigned long runs;
static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void run(const uint8_t *data, size_t size)
{
	/* a private copy, as libFuzzer gives: the target may not write it */
	uint8_t *copy = malloc(size ? size : 1);

	if (!copy)
		abort();
	memcpy(copy, data, size);
	LLVMFuzzerTestOneInput(copy, size);
	free(copy);
	runs++;
}

static void mutate(const uint8_t *seed, size_t size)
{
	static const uint8_t flips[] = { 0xff, 0x01, 0x80 };
	uint8_t *m = malloc(size ? size : 1);
	size_t i, step = size / 2000 + 1;
	unsigned k;

	if (!m)
		abort();
	run(seed, size);
	for (i = 0; i < size; i += step)
		for (k = 0; k < sizeof(flips); k++) {
			memcpy(m, seed, size);
			m[i] ^= flips[k];
			run(m, size);
		}
	for (i = 0; i < size; i += size / 16 + 1)
		run(seed, i);
	for (k = 0; k < 2000; k++) {
		unsigned edits = 1 + next_rand() % 4, e;

		memcpy(m, seed, size);
		for (e = 0; e < edits && size; e++)
			m[next_rand() % size] = (uint8_t)next_rand();
		run(m, size);
	}
	free(m);
}

static void run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long n;

	if (!f)
		return;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc(n > 0 ? (size_t)n : 1);
	if (buf && n >= 0 && fread(buf, 1, (size_t)n, f) == (size_t)n)
		run(buf, (size_t)n);
	free(buf);
	fclose(f);
}

static void run_path(const char *path)
{
	struct stat st;
	struct dirent *d;
	DIR *dir;

	if (stat(path, &st) < 0)
		return;
	if (!S_ISDIR(st.st_mode)) {
		run_file(path);
		return;
	}
	dir = opendir(path);
	while (dir && (d = readdir(dir))) {
		char p[4096];

		if (d->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", path, d->d_name);
		run_file(p);
	}
	if (dir)
		closedir(dir);
}

static const char *seed_dir;
static unsigned seed_no;

static void write_seed(const uint8_t *data, size_t size)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/seed-%03u", seed_dir, seed_no++);
	f = fopen(path, "wb");
	if (!f || fwrite(data, 1, size, f) != size || fclose(f)) {
		perror(path);
		exit(1);
	}
}

int main(int argc, char **argv)
{
	int i;

	if (argc == 3 && !strcmp(argv[1], "--write-seeds")) {
		seed_dir = argv[2];
		fn_fuzz_seeds(write_seed);
		printf("%u seeds written to %s\n", seed_no, seed_dir);
		return 0;
	}
	fn_fuzz_seeds(mutate);
	for (i = 1; i < argc; i++)
		run_path(argv[i]);
	printf("%lu inputs run\n", runs);
	return 0;
}
