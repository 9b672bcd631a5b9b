/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * CPU accounting for the load tools, from /proc. On a shared machine the
 * rate a server reaches depends on how much CPU it was given; the tools
 * report what the server process (--watch-pid) and the tool's own CPU got
 * during the measured interval, so that figures can be read per CPU-second.
 */
#ifndef FN_BENCH_CPU_USAGE_H
#define FN_BENCH_CPU_USAGE_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* User + system CPU seconds from a /proc stat file; -1 if it is gone. */
static inline double stat_cpu_seconds(const char *path)
{
	char buf[1024], *p;
	unsigned long utime, stime;
	size_t n;
	FILE *f;

	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')');   /* the command name may hold spaces */
	if (p == NULL || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
				&utime, &stime) != 2)
		return -1;
	return (double)(utime + stime) / sysconf(_SC_CLK_TCK);
}

/* CPU seconds used by process pid, all threads; -1 if gone. */
static inline double proc_cpu_seconds(int pid)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	return stat_cpu_seconds(path);
}

/* CPU seconds used by thread tid of process pid alone: the thread that
 * serves, without the process's helper threads; -1 if gone. */
static inline double task_cpu_seconds(int pid, int tid)
{
	char path[80];

	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", pid, tid);
	return stat_cpu_seconds(path);
}

/* Busy and total jiffies of one CPU (busy: all but idle and iowait). */
static inline void cpu_jiffies(int cpu, uint64_t *busy, uint64_t *total)
{
	char line[512], name[16];
	unsigned long v[8] = { 0 };
	FILE *f = fopen("/proc/stat", "r");

	*busy = *total = 0;
	if (f == NULL)
		return;
	snprintf(name, sizeof(name), "cpu%d ", cpu);
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, name, strlen(name)) != 0)
			continue;
		sscanf(line + strlen(name), "%lu %lu %lu %lu %lu %lu %lu %lu", &v[0], &v[1],
		       &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]);
		for (int i = 0; i < 8; i++)
			*total += v[i];
		*busy = *total - v[3] - v[4];
		break;
	}
	fclose(f);
}

#endif /* FN_BENCH_CPU_USAGE_H */
