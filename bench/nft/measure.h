/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the filter benchmarks (fn-bench-nft, fn-bench-xdp) share to take a
 * figure: the median of alternating runs, and one CPU to run on, so that a
 * ruleset and its baseline meet the same caches and the same neighbours.
 */
#ifndef BENCH_MEASURE_H
#define BENCH_MEASURE_H

/* The median of v[0..n) (n > 0); sorts v. */
double bench_median(double *v, int n);

/* Run the calling thread on CPU 0 only. */
void bench_pin_cpu0(void);

#endif /* BENCH_MEASURE_H */
