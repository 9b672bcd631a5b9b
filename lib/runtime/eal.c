/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * EAL arguments are derived from the configuration so that applications need
 * not know DPDK's command line: lcores, hugepages (or --no-huge when the
 * machine has none, said loudly since it costs speed), no shared files, no
 * PCI scan unless a PCI port is named, and whatever the caller adds in
 * eal_args or the FRAGNET_EAL_ARGS environment variable.
 *
 * Without root (xsk ports need only CAP_NET_RAW), EAL 22.11 works as long
 * as it keeps no shared files: its runtime directory would be /tmp/dpdk or
 * $XDG_RUNTIME_DIR/dpdk (/var/run/dpdk is root's), which another user may
 * own, and with --no-shconf (implied by --in-memory) a directory it cannot
 * create is only a warning. --in-memory takes hugepages through memfd, with
 * no access to the hugetlbfs mount; --no-huge takes none. There are no PCI
 * devices to map, so IOVA is VA and /proc/self/pagemap is not needed.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>

#include "eal.h"
#include "log.h"

#define MAX_ARGS 64
/* Memory for --no-huge: enough for the mbuf pools of 16 queues. */
#define NO_HUGE_MB "512"

static bool eal_up;

bool fn_is_pci_address(const char *s)
{
	unsigned dom, bus, dev, fn;
	int n = 0;

	if (sscanf(s, "%x:%x:%x.%x%n", &dom, &bus, &dev, &fn, &n) == 4 && s[n] == '\0')
		return true;
	return sscanf(s, "%x:%x.%x%n", &bus, &dev, &fn, &n) == 3 && s[n] == '\0';
}

/* Free 2 MB (or other) hugepages and a mounted hugetlbfs. */
static bool hugepages_usable(void)
{
	char line[256];
	long free_pages = 0, size_kb = 0;
	bool mounted = false;
	FILE *f;

	f = fopen("/proc/meminfo", "r");
	if (f == NULL)
		return false;
	while (fgets(line, sizeof(line), f)) {
		sscanf(line, "HugePages_Free: %ld", &free_pages);
		sscanf(line, "Hugepagesize: %ld kB", &size_kb);
	}
	fclose(f);
	f = fopen("/proc/mounts", "r");
	if (f == NULL)
		return false;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, " hugetlbfs "))
			mounted = true;
	fclose(f);
	return mounted && free_pages * size_kb >= 64 * 1024;   /* 64 MB */
}

static bool has_arg(char **argv, int argc, const char *a)
{
	for (int i = 0; i < argc; i++)
		if (strncmp(argv[i], a, strlen(a)) == 0)
			return true;
	return false;
}

/* Split s on whitespace into argv (s is modified). */
static int split(char *s, char **argv, int argc, int max)
{
	for (char *tok = strtok(s, " \t\n"); tok && argc < max; tok = strtok(NULL, " \t\n"))
		argv[argc++] = tok;
	return argc;
}

int fn_eal_init(const struct fragnet_config *cfg, unsigned n_queues)
{
	bool pci = false;
	char *argv[MAX_ARGS], lcores[32], *extra = NULL, *env = NULL;
	int argc = 0, rc;

	if (eal_up)
		return 0;
	argv[argc++] = (char *)(cfg->app_name ? cfg->app_name : "fragnet");
	if (cfg->eal_args) {
		extra = strdup(cfg->eal_args);
		if (extra == NULL)
			return -ENOMEM;
		argc = split(extra, argv, argc, MAX_ARGS / 2);
	}
	if (getenv("FRAGNET_EAL_ARGS")) {
		env = strdup(getenv("FRAGNET_EAL_ARGS"));
		if (env == NULL) {
			free(extra);
			return -ENOMEM;
		}
		argc = split(env, argv, argc, MAX_ARGS / 2);
	}
	if (!has_arg(argv, argc, "-l") && !has_arg(argv, argc, "--lcores")) {
		if (cfg->lcores)
			snprintf(lcores, sizeof(lcores), "%s", cfg->lcores);
		else
			snprintf(lcores, sizeof(lcores), "0-%u", n_queues - 1);
		argv[argc++] = "-l";
		argv[argc++] = lcores;
	}
	if (!has_arg(argv, argc, "--no-huge") && !has_arg(argv, argc, "--file-prefix") &&
	    !has_arg(argv, argc, "--in-memory")) {
		if (hugepages_usable()) {
			argv[argc++] = "--in-memory";
		} else {
			FN_LOG(WARNING, "no usable hugepages: running with --no-huge "
			       "(correct but several times slower)\n");
			argv[argc++] = "--no-huge";
			argv[argc++] = "-m";
			argv[argc++] = NO_HUGE_MB;
		}
	}
	/* One process on its own: no config file or multi-process socket that
	 * a second instance (or another user's /tmp/dpdk) would collide with. */
	if (!has_arg(argv, argc, "--in-memory") && !has_arg(argv, argc, "--no-shconf") &&
	    !has_arg(argv, argc, "--file-prefix"))
		argv[argc++] = "--no-shconf";
	if (getuid() != 0)
		FN_LOG(WARNING, "running as uid %u, not root: DPDK without shared files (so "
		       "a runtime directory it cannot create does not matter), %s, no PCI "
		       "devices; xsk ports need CAP_NET_RAW and RLIMIT_MEMLOCK room\n",
		       (unsigned)getuid(), has_arg(argv, argc, "--in-memory") ?
		       "hugepages through memfd" : "no hugepages");
	/* Probe exactly the PCI ports we were given (they are probed at EAL
	 * init; vdevs are attached later by the port code). */
	for (const char *const *p = cfg->ports; *p && argc < MAX_ARGS - 6; p++) {
		if (fn_is_pci_address(*p)) {
			argv[argc++] = "-a";
			argv[argc++] = (char *)*p;
			pci = true;
		}
	}
	if (!pci && !has_arg(argv, argc, "--no-pci") && !has_arg(argv, argc, "-a"))
		argv[argc++] = "--no-pci";
	if (!has_arg(argv, argc, "--no-telemetry"))
		argv[argc++] = "--no-telemetry";
	if (!has_arg(argv, argc, "--log-level"))
		argv[argc++] = "--log-level=lib.eal:warning";
	argv[argc] = NULL;

	rc = rte_eal_init(argc, argv);
	if (rc < 0 && rte_errno != EALREADY) {
		int err = rte_errno ? rte_errno : EINVAL;

		fprintf(stderr, "fragnet: DPDK EAL initialisation failed: %s\n",
			rte_strerror(err));
		free(extra);
		free(env);
		return -err;
	}
	/* EAL keeps pointers into argv for the life of the process. */
	eal_up = true;
	return 0;
}
