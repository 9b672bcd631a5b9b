/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Kernel enforcement benchmark: per-packet cost of a ruleset's generated XDP
 * rules program (xdp/), on the rulesets and packet of the filter benchmark
 * (bench/nft/cases.c). run.sh puts it beside the interpreter and kernel
 * nftables (fn-bench-nft) in one table.
 *
 *   fn-bench-xdp xdp CASE     ns/packet: rules minus baseline, and total
 *   fn-bench-xdp list         case names and descriptions
 *
 * Each run is BPF_PROG_TEST_RUN with `repeat` (the kernel's average ns per
 * run) of the program in its test epilogue, on the case's packet in an
 * Ethernet frame. The baseline is the program of the same table with an
 * empty input chain whose policy gives the packet the same fate; runs with
 * and without the rules alternate and each side's median is taken, as
 * fn-bench-nft does. Under repeat the kernel does not reset the frame
 * between runs, so from the second run on a program that accepts finds no
 * room left for its metadata and drops there instead: the same few
 * instructions on both sides, which the subtraction removes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>

#include "cases.h"
#include "measure.h"
#include "compiler.h"
#include "xdp/codegen.h"
#include "xdp/load.h"
#include "xdp/split.h"

#define REPEATS 7

struct prog {
	void *image;
	struct fn_nft_prog p;
	struct fn_xdp_split split;
	struct fn_xdp_code *code;
	struct fn_xdp_rules rules;
};

static void die(const char *what, const char *why)
{
	fprintf(stderr, "fn-bench-xdp: %s: %s\n", what, why);
	exit(1);
}

/* Compile, split, generate and load `text`'s kernel part. */
static void prog_load(struct prog *pr, const char *text)
{
	struct fn_xdp_cg_opts o = { .test_epilogue = true, .generation = 1 };
	char err[4096] = "";
	struct fn_compiler *c = fn_compiler_new(NULL, err, sizeof(err));
	void *image = NULL;
	size_t len = 0;
	int rc;

	if (!c || fn_compile_text(c, text, "fragnet", &image, &len, err, sizeof(err)) < 0)
		die("compile", err);
	fn_compiler_free(c);
	pr->image = aligned_alloc(8, (len + 7) & ~(size_t)7);
	if (!pr->image)
		die("image", strerror(ENOMEM));
	memcpy(pr->image, image, len);
	free(image);
	if (fn_nft_verify(pr->image, len, &pr->p, err, sizeof(err)))
		die("verify", err);
	if ((rc = fn_xdp_split(&pr->p, &pr->split)) ||
	    (rc = fn_xdp_codegen(&pr->p, &pr->split, &o, &pr->code)))
		die("codegen", strerror(-rc));
	if ((rc = fn_xdp_load(&pr->p, pr->code, -1, "bench", &pr->rules, err, sizeof(err))))
		die("load", err[0] ? err : strerror(-rc));
}

static void prog_free(struct prog *pr)
{
	fn_xdp_rules_close(&pr->rules);
	fn_xdp_code_free(pr->code);
	fn_xdp_split_free(&pr->split);
	free(pr->image);
}

/* Average ns per run over `repeat` runs. */
static double xdp_run(struct prog *pr, const uint8_t *frame, uint32_t len, int repeat)
{
	LIBBPF_OPTS(bpf_test_run_opts, t, .data_in = frame, .data_size_in = len,
		    .repeat = repeat);

	if (bpf_prog_test_run_opts(pr->rules.prog_fd, &t))
		die("BPF_PROG_TEST_RUN", strerror(errno));
	return t.duration;
}

static int cmd_xdp(const struct bench_case *c)
{
	char *text = bench_ruleset(c), *base = NULL;
	struct prog rules, empty;
	double r[REPEATS], e[REPEATS];
	uint8_t frame[128] = { 0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2, 0x08, 0x00 };
	uint32_t len = 14 + bench_packet(frame + 14);
	int repeat;

	if (asprintf(&base, "table inet fragnet {\n\tchain input {\n\t\ttype filter hook input "
		     "priority 0; policy %s;\n\t}\n}\n", c->match ? "drop" : "accept") < 0)
		die("baseline", strerror(ENOMEM));
	prog_load(&rules, text);
	prog_load(&empty, base);
	bench_pin_cpu0();
	/* about 0.1 s per run */
	repeat = (int)(1e8 / (xdp_run(&rules, frame, len, 10000) + 1));
	if (repeat < 1000)
		repeat = 1000;
	for (int i = 0; i < REPEATS; i++) {
		r[i] = xdp_run(&rules, frame, len, repeat);
		e[i] = xdp_run(&empty, frame, len, repeat);
	}
	double total = bench_median(r, REPEATS);
	printf("%.1f %.1f %u\n", total - bench_median(e, REPEATS), total, rules.code->n_insns);
	prog_free(&rules);
	prog_free(&empty);
	free(text);
	free(base);
	return 0;
}

int main(int argc, char **argv)
{
	const struct bench_case *c;

	if (argc == 2 && strcmp(argv[1], "list") == 0) {
		for (size_t i = 0; i < bench_n_cases; i++)
			printf("%s\t%s\n", bench_cases[i].name, bench_cases[i].what);
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "xdp") == 0 && (c = bench_case_find(argv[2])))
		return cmd_xdp(c);
	fprintf(stderr, "usage: fn-bench-xdp list | xdp CASE\n");
	return 2;
}
