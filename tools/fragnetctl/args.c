/* SPDX-License-Identifier: BSD-3-Clause */
/* fragnetctl's manual and argument parsing (args.h). */
#include <getopt.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <fragnet.h>

#include "args.h"
#include "ctl/capture_ring.h"
#include "ctl/proto.h"

void fnctl_usage(FILE *f)
{
	fprintf(f,
"NAME\n"
"    fragnetctl - manage the rules that fragnetd gives to libfragnet applications\n"
"\n"
"SYNOPSIS\n"
"    fragnetctl [-s SOCKET] [-j] load FILE\n"
"    fragnetctl [-s SOCKET] [-j] check FILE\n"
"    fragnetctl [-s SOCKET] [-j] list ruleset\n"
"    fragnetctl [-s SOCKET] [-j] list counters\n"
"    fragnetctl [-s SOCKET] [-j] apps\n"
"    fragnetctl [-s SOCKET] [-j] stats [-w [SECONDS]] [-n COUNT]\n"
"    fragnetctl [-s SOCKET] stats -f prometheus\n"
"    fragnetctl [-s SOCKET] capture APP [-q QUEUE] [-c N] [-w FILE] [-S SNAPLEN]\n"
"               [-B KIB] [FILTER]\n"
"    fragnetctl [-s SOCKET] trace APP [-q QUEUE] [-c N] [-S SNAPLEN] [-B KIB]\n"
"               [FILTER]\n"
"\n"
"DESCRIPTION\n"
"    fragnetd compiles rules written in ordinary nft syntax in a network\n"
"    namespace of its own and hands each application the table named after\n"
"    it (table inet NAME or ip NAME, else table inet fragnet) as a sealed,\n"
"    read-only snapshot. fragnetctl talks to it over its unix socket; the\n"
"    daemon checks who is asking (admin_users / admin_groups of its\n"
"    configuration; root always may).\n"
"\n"
"COMMANDS\n"
"    load FILE\n"
"        Replace the whole ruleset with FILE (\"-\" reads standard input),\n"
"        atomically: the text is first loaded and lowered in a scratch\n"
"        namespace, and only when every table is accepted does it replace\n"
"        the ruleset. Otherwise nothing changes anywhere and the error names\n"
"        the table, chain, rule handle and expression. Waits until every\n"
"        registered application has applied the new generation (or the\n"
"        daemon's apply_timeout_ms passed). FILE must be self-contained:\n"
"        'include' is refused.\n"
"    check FILE\n"
"        Validate FILE exactly as load would, in a scratch namespace, and\n"
"        change nothing.\n"
"    list ruleset\n"
"        The ruleset as nft lists it, once per application that applies a\n"
"        table, with that application's live counters summed over all its\n"
"        lcores (counters in the daemon's namespace never see a packet).\n"
"    list counters\n"
"        Each application's counters per generation: live for the generation\n"
"        it applies, final for the last 32 generations it replaced since it\n"
"        connected. A generation's final count is taken once no lcore can\n"
"        add to it, so every packet judged is in exactly one generation's\n"
"        count. Then each counter's total over those generations. A counter\n"
"        is a rule's chain and handle (or a named counter): a load that\n"
"        recreates a table numbers its rules anew, so a total adds whatever\n"
"        rule had that handle in each generation. Each application's header\n"
"        says how many replaced generations are listed, pending (replaced a\n"
"        moment ago, not final yet) and no longer kept.\n"
"    apps\n"
"        Registered applications: name, pid, uid, queues, the generation\n"
"        they apply, received and sent packets, drops, and their state\n"
"        (filtered, applying, refused, UNFILTERED, no-answer).\n"
"    stats\n"
"        Per-queue counters of every application, with drops by reason.\n"
"        With -f prometheus: these, each application's rule counters (and\n"
"        its kernel's, with kernel enforcement) and fragnetd's own numbers\n"
"        as Prometheus metrics, for node_exporter's textfile collector\n"
"        (docs/metrics.md names every metric).\n"
"    capture APP\n"
"        The packets application APP judges, as its lcores see them: each\n"
"        received one once its input hooks are done, each sent one once its\n"
"        output hooks are done, with its queue, direction, verdict and the\n"
"        rule (chain and handle) that decided. Without -w, one line a packet;\n"
"        with -w, a pcapng file (one interface per queue, the rest in each\n"
"        packet's comment) that tshark and Wireshark read. Ends after -c\n"
"        packets or at SIGINT/SIGTERM, and says how many packets it captured\n"
"        and how many records the rings dropped: a queue never waits for\n"
"        the capture, a full ring drops the record (counted, also in stats\n"
"        as capture_ring_full). When fragnetctl ends, however it ends, the\n"
"        application stops capturing. APP must be registered once (one\n"
"        process).\n"
"        FILTER is nft match expressions (\"udp dport 6379 ip saddr\n"
"        10.0.0.0/8\"), compiled by fragnetd like a rule and run by each\n"
"        lcore over the captured bytes (the first SNAPLEN) of both\n"
"        directions: only what it matches is recorded.\n"
"    trace APP\n"
"        In the spirit of nft monitor trace: for each packet FILTER matches\n"
"        (every packet without one), the rules it went through on each hook\n"
"        of its direction, in order: each rule it matched with its handle,\n"
"        text (as list ruleset shows it when the trace starts) and verdict,\n"
"        the ends of chains, the policies, and then the final verdict. The\n"
"        filter runs on the packet as it reaches the first hook with rules;\n"
"        packets it does not match, and packets no rule looks at, are not\n"
"        shown. At most 64 events a packet (32 a hook), the rest counted.\n"
"        Otherwise as capture: the same bounds, -c counts packets.\n"
"\n"
"OPTIONS\n"
"    -s, --socket PATH   fragnetd's socket (default: $FRAGNET_DAEMON_SOCKET,\n"
"                        else " FRAGNET_DEFAULT_SOCKET ")\n"
"    -j, --json          JSON output: one object per command (one per line\n"
"                        and per interval with --watch)\n"
"    -f, --format FMT    text (default), json (as -j) or prometheus (stats\n"
"                        only: the Prometheus text exposition format)\n"
"    -w, --watch [SEC]   stats: print again every SEC seconds (default 1)\n"
"                        until interrupted\n"
"    -n, --count N       stats --watch: stop after N updates\n"
"    capture and trace options:\n"
"    -q, --queue Q       capture queue Q only (default: every queue)\n"
"    -c, --count N       stop after N packets\n"
"    -w, --write FILE    capture: write pcapng to FILE (\"-\": standard\n"
"                        output)\n"
"    -S, --snaplen LEN   bytes kept of each packet (default 256, at most\n"
"                        65535)\n"
"    -B, --buffer KIB    ring memory for all queues together, in KiB\n"
"                        (default 4096, 4 to 65536)\n"
"    -h, --help          this manual\n"
"\n"
"EXIT STATUS\n"
"    0  done\n"
"    1  fragnetd refused: the rules do not load or lower, or a bad request\n"
"    2  usage error, or FILE cannot be read\n"
"    3  fragnetd cannot be reached, refused this user, or answered nonsense\n"
"    4  load: the new generation is published, but not every application\n"
"       has applied it (the message says which)\n"
"\n"
"ENVIRONMENT\n"
"    FRAGNET_DAEMON_SOCKET  the socket, when -s is not given\n"
"\n"
"EXAMPLES\n"
"    fragnetctl check rules/echo.nft && fragnetctl load rules/echo.nft\n"
"    fragnetctl list ruleset\n"
"    fragnetctl -j list counters\n"
"    fragnetctl -j apps\n"
"    fragnetctl stats -w 2\n"
"    fragnetctl trace echo -c 1 udp dport 7\n"
"    fragnetctl capture echo -c 100 -w echo.pcapng udp dport 7 &&\n"
"        tshark -r echo.pcapng -T fields -e frame.interface_name -e frame.comment\n"
"    fragnetctl stats -f prometheus > fragnet.prom.tmp &&\n"
"        mv fragnet.prom.tmp /var/lib/prometheus/node-exporter/fragnet.prom\n"
"    ip netns exec fragnet nft add rule inet echo input udp dport 9 drop\n"
"        (a live edit in the daemon's namespace: published within a second)\n"
"\n"
"SEE ALSO\n"
"    fragnetd(8), nft(8), docs/fragnetd.md\n");
}

static int usage_error(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int usage_error(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return FNCTL_EXIT_USAGE;
}

/* The command and its operands, from argv[optind] on. */
static int parse_command(int argc, char **argv, struct fnctl_args *a, char *err,
			 size_t errlen)
{
	const char *cmd;

	if (optind >= argc)
		return usage_error(err, errlen, "no command (load, check, list ruleset, "
				   "list counters, apps, stats, capture, trace); try --help");
	cmd = argv[optind++];
	if (strcmp(cmd, "load") == 0 || strcmp(cmd, "check") == 0) {
		if (argc - optind != 1)
			return usage_error(err, errlen, "usage: fragnetctl %s FILE", cmd);
		a->command = cmd[0] == 'l' ? FN_CTL_CMD_LOAD : FN_CTL_CMD_CHECK;
		a->file = argv[optind];
		return 0;
	}
	if (strcmp(cmd, "list") == 0) {
		const char *what = argc - optind == 1 ? argv[optind] : "";

		if (strcmp(what, "ruleset") == 0)
			a->command = FN_CTL_CMD_LIST_RULESET;
		else if (strcmp(what, "counters") == 0)
			a->command = FN_CTL_CMD_LIST_COUNTERS;
		else
			return usage_error(err, errlen, "usage: fragnetctl list ruleset | "
					   "list counters");
		return 0;
	}
	if (strcmp(cmd, "apps") == 0)
		a->command = FN_CTL_CMD_APPS;
	else if (strcmp(cmd, "stats") == 0)
		a->command = FN_CTL_CMD_STATS;
	else
		return usage_error(err, errlen, "unknown command '%s'; try --help", cmd);
	if (argc != optind)
		return usage_error(err, errlen, "%s takes no arguments", cmd);
	return 0;
}

/* The command word: the first operand, past the options that take one. */
static const char *command_word(int argc, char **argv)
{
	static const char *const with_arg[] = { "-s", "--socket", "-f", "--format", "-n",
						"--count" };

	for (int i = 1; i < argc; i++) {
		bool takes = false;

		for (size_t k = 0; k < sizeof(with_arg) / sizeof(with_arg[0]); k++)
			takes |= strcmp(argv[i], with_arg[k]) == 0;
		if (takes)
			i++;
		else if (strcmp(argv[i], "--") == 0)
			return i + 1 < argc ? argv[i + 1] : NULL;
		else if (argv[i][0] != '-')
			return argv[i];
	}
	return NULL;
}

static int number(const char *s, unsigned long min, unsigned long max, unsigned long *out)
{
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	*out = strtoul(s, &end, 10);
	return *end || *out < min || *out > max ? -1 : 0;
}

/* capture APP [options] and trace APP [options]: options of their own (-w
 * writes, -c counts packets). */
static int parse_capture(int argc, char **argv, bool trace, struct fnctl_args *a,
			 char *err, size_t errlen)
{
	const char *cmd = trace ? "trace" : "capture";
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "queue", required_argument, NULL, 'q' },
		{ "count", required_argument, NULL, 'c' },
		{ "write", required_argument, NULL, 'w' },
		{ "snaplen", required_argument, NULL, 'S' },
		{ "buffer", required_argument, NULL, 'B' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	unsigned long v;
	int c;

	a->command = FNCTL_CMD_CAPTURE;
	a->trace = trace;
	a->queue = FN_CTL_CAPTURE_ALL;
	a->snaplen = FN_CAP_SNAPLEN_DEFAULT;
	a->ring_bytes = FN_CAP_RING_BYTES_DEFAULT;
	while ((c = getopt_long(argc, argv, ":s:q:c:w:S:B:h", opts, NULL)) != -1) {
		switch (c) {
		case 's': a->socket = optarg; break;
		case 'w':
			if (trace)
				return usage_error(err, errlen, "trace: -w: a trace is text only; "
						   "capture writes pcapng");
			a->write = optarg;
			break;
		case 'q':
			if (number(optarg, 0, FN_CTL_MAX_QUEUES - 1, &v))
				return usage_error(err, errlen, "--queue: '%s' is not a queue number",
						   optarg);
			a->queue = (unsigned)v;
			break;
		case 'c':
			if (number(optarg, 1, ~0ul, &v))
				return usage_error(err, errlen, "--count: '%s' is not a positive "
						   "number", optarg);
			a->packets = v;
			break;
		case 'S':
			if (number(optarg, 1, FN_CAP_SNAPLEN_MAX, &v))
				return usage_error(err, errlen, "--snaplen: '%s' is not 1-%u", optarg,
						   FN_CAP_SNAPLEN_MAX);
			a->snaplen = (unsigned)v;
			break;
		case 'B':
			if (number(optarg, FN_CAP_RING_BYTES_MIN / 1024,
				   FN_CAP_RING_BYTES_MAX / 1024, &v))
				return usage_error(err, errlen, "--buffer: '%s' is not %u-%u KiB",
						   optarg, FN_CAP_RING_BYTES_MIN / 1024,
						   FN_CAP_RING_BYTES_MAX / 1024);
			a->ring_bytes = (unsigned)v * 1024;
			break;
		case 'h':
			a->help = true;
			return 0;
		case ':':
			return usage_error(err, errlen, "%s needs an argument; try --help",
					   argv[optind - 1]);
		default:
			if (optopt)
				return usage_error(err, errlen, "%s: unknown option '-%c'; "
						   "try --help", cmd, optopt);
			return usage_error(err, errlen, "%s: unknown option '%s'; try --help",
					   cmd, argv[optind - 1]);
		}
	}
	/* operands: capture APP, trace APP */
	if (optind < argc && strcmp(argv[optind], cmd) == 0)
		optind++;
	if (argc - optind < 1)
		return usage_error(err, errlen, "usage: fragnetctl %s APP [-q QUEUE] [-c N] "
				   "%s[FILTER]", cmd, trace ? "" : "[-w FILE] ");
	a->app = argv[optind++];
	if (strlen(a->app) >= FN_CTL_NAME_MAX)
		return usage_error(err, errlen, "%s: '%s' is too long for an application "
				   "name", cmd, a->app);
	/* the rest is the filter, one word or many: "udp dport 7" */
	for (size_t n = 0; optind < argc; optind++) {
		int w = snprintf(a->filter + n, sizeof(a->filter) - n, "%s%s", n ? " " : "",
				 argv[optind]);

		if (w < 0 || (size_t)w >= sizeof(a->filter) - n)
			return usage_error(err, errlen, "%s: the filter is longer than %u "
					   "bytes", cmd, FN_CTL_FILTER_MAX - 1);
		n += (size_t)w;
	}
	return 0;
}

int fnctl_args_parse(int argc, char **argv, const char *env_socket, struct fnctl_args *a,
		     char *err, size_t errlen)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "format", required_argument, NULL, 'f' },
		{ "watch", optional_argument, NULL, 'w' },
		{ "count", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *cmd;
	char *end;
	int c, rc;

	*a = (struct fnctl_args){
		.socket = env_socket && *env_socket ? env_socket : FRAGNET_DEFAULT_SOCKET,
	};
	optind = 0;     /* GNU: start over, as for a new argv */
	opterr = 0;     /* the messages are ours */
	cmd = command_word(argc, argv);
	if (cmd && (strcmp(cmd, "capture") == 0 || strcmp(cmd, "trace") == 0))
		return parse_capture(argc, argv, cmd[0] == 't', a, err, errlen);
	/* GNU getopt permutes: options may also follow the command */
	while ((c = getopt_long(argc, argv, ":s:jf:w::n:h", opts, NULL)) != -1) {
		switch (c) {
		case 's': a->socket = optarg; break;
		case 'j': a->flags = (a->flags & ~FN_CTL_F_PROMETHEUS) | FN_CTL_F_JSON; break;
		case 'f':
			a->flags &= ~(FN_CTL_F_JSON | FN_CTL_F_PROMETHEUS);
			if (strcmp(optarg, "json") == 0)
				a->flags |= FN_CTL_F_JSON;
			else if (strcmp(optarg, "prometheus") == 0)
				a->flags |= FN_CTL_F_PROMETHEUS;
			else if (strcmp(optarg, "text") != 0)
				return usage_error(err, errlen, "--format: '%s' is not text, json "
						   "or prometheus", optarg);
			break;
		case 'w':
			a->interval = 1;
			if (!optarg && optind < argc && argv[optind][0] >= '0' &&
			    argv[optind][0] <= '9')
				optarg = argv[optind++];
			if (optarg) {
				a->interval = strtod(optarg, &end);
				if (*end || a->interval <= 0 || a->interval > 3600)
					return usage_error(err, errlen, "--watch: '%s' is not a number "
							   "of seconds (0-3600)", optarg);
			}
			break;
		case 'n':
			a->count = strtol(optarg, &end, 10);
			if (*end || a->count <= 0)
				return usage_error(err, errlen, "--count: '%s' is not a positive "
						   "number", optarg);
			break;
		case 'h':
			a->help = true;
			return 0;
		case ':':
			return usage_error(err, errlen, "%s needs an argument; try --help",
					   argv[optind - 1]);
		default:
			if (optopt)     /* a short one, maybe in a cluster (-jx) */
				return usage_error(err, errlen, "unknown option '-%c'; try --help",
						   optopt);
			return usage_error(err, errlen, "unknown option '%s'; try --help",
					   argv[optind - 1]);
		}
	}
	rc = parse_command(argc, argv, a, err, errlen);
	if (rc == 0 && a->command != FN_CTL_CMD_STATS && a->interval > 0)
		rc = usage_error(err, errlen, "--watch goes with stats only");
	if (rc == 0 && a->command != FN_CTL_CMD_STATS && (a->flags & FN_CTL_F_PROMETHEUS))
		rc = usage_error(err, errlen, "--format prometheus goes with stats only");
	if (rc == 0 && a->count > 0 && a->interval == 0)
		rc = usage_error(err, errlen, "--count goes with --watch");
	return rc;
}
