/* SPDX-License-Identifier: BSD-3-Clause */
/* Test tool: compile an nft ruleset file into a rules image file.
 *   compile_image RULES.nft OUT.img [APP] */
#include <stdio.h>
#include <stdlib.h>

#include "compiler.h"

int main(int argc, char **argv)
{
	char err[1024], *text;
	struct fn_compiler *c;
	size_t len, n;
	void *img;
	FILE *f;
	long size;

	if (argc < 3) {
		fprintf(stderr, "usage: %s RULES.nft OUT.img [APP]\n", argv[0]);
		return 2;
	}
	f = fopen(argv[1], "r");
	if (!f || fseek(f, 0, SEEK_END) || (size = ftell(f)) < 0) {
		perror(argv[1]);
		return 1;
	}
	rewind(f);
	text = calloc(1, (size_t)size + 1);
	n = text ? fread(text, 1, (size_t)size, f) : 0;
	fclose(f);
	if (n != (size_t)size) {
		fprintf(stderr, "%s: short read\n", argv[1]);
		return 1;
	}
	c = fn_compiler_new(NULL, err, sizeof(err));
	if (!c || fn_compile_text(c, text, argc > 3 ? argv[3] : NULL, &img, &len, err, sizeof(err))) {
		fprintf(stderr, "%s: %s\n", argv[1], err);
		return 1;
	}
	f = fopen(argv[2], "wb");
	if (!f || fwrite(img, 1, len, f) != len || fclose(f)) {
		perror(argv[2]);
		return 1;
	}
	free(img);
	free(text);
	fn_compiler_free(c);
	return 0;
}
