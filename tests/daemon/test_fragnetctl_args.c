/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tools/fragnetctl/args.c: every command with its operands and options, in
 * any order, where the socket comes from, --help, and each kind of bad
 * command line refused with its one-line reason.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <fragnet.h>

#include "args.h"
#include "ctl/capture_ring.h"
#include "ctl/proto.h"

static char err[256];

/* Parse `line` (words split at spaces) as fragnetctl's arguments, with
 * $FRAGNET_DAEMON_SOCKET set to env_socket. */
static int parse_env(const char *line, const char *env_socket, struct fnctl_args *a)
{
	static char buf[512];
	char *argv[32] = { "fragnetctl" }, *save = NULL;
	int argc = 1;

	snprintf(buf, sizeof(buf), "%s", line);
	for (char *w = strtok_r(buf, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
		assert_true(argc < 31);
		argv[argc++] = w;
	}
	err[0] = '\0';
	return fnctl_args_parse(argc, argv, env_socket, a, err, sizeof(err));
}

static int parse(const char *line, struct fnctl_args *a)
{
	return parse_env(line, NULL, a);
}

static void ok(const char *line, unsigned command, struct fnctl_args *a)
{
	if (parse(line, a) != 0)
		fail_msg("'%s' refused: %s", line, err);
	assert_false(a->help);
	assert_int_equal(a->command, command);
}

static void refused(const char *line, const char *expect)
{
	struct fnctl_args a;

	assert_int_equal(parse(line, &a), FNCTL_EXIT_USAGE);
	if (strstr(err, expect) == NULL)
		fail_msg("'%s' gave '%s', expected '%s'", line, err, expect);
	assert_null(strchr(err, '\n'));      /* one line: main() adds the newline */
}

static void test_commands(void **state)
{
	struct fnctl_args a;

	(void)state;
	ok("load rules.nft", FN_CTL_CMD_LOAD, &a);
	assert_string_equal(a.file, "rules.nft");
	assert_int_equal(a.flags, 0);
	ok("check -", FN_CTL_CMD_CHECK, &a);
	assert_string_equal(a.file, "-");
	ok("list ruleset", FN_CTL_CMD_LIST_RULESET, &a);
	assert_null(a.file);
	ok("list counters", FN_CTL_CMD_LIST_COUNTERS, &a);
	ok("apps", FN_CTL_CMD_APPS, &a);
	ok("stats", FN_CTL_CMD_STATS, &a);
	assert_true(a.interval == 0);
	assert_int_equal(a.count, 0);
}

/* GNU order: options before or after the command, long or short. */
static void test_options(void **state)
{
	struct fnctl_args a;

	(void)state;
	ok("-j apps", FN_CTL_CMD_APPS, &a);
	assert_int_equal(a.flags, FN_CTL_F_JSON);
	ok("load --json f.nft", FN_CTL_CMD_LOAD, &a);
	assert_int_equal(a.flags, FN_CTL_F_JSON);
	assert_string_equal(a.file, "f.nft");
	ok("list ruleset -s /tmp/x.sock", FN_CTL_CMD_LIST_RULESET, &a);
	assert_string_equal(a.socket, "/tmp/x.sock");
	ok("--socket=/tmp/y.sock -j stats", FN_CTL_CMD_STATS, &a);
	assert_string_equal(a.socket, "/tmp/y.sock");
	ok("stats --watch", FN_CTL_CMD_STATS, &a);
	assert_true(a.interval == 1);
	ok("stats -w 0.5 -n 3", FN_CTL_CMD_STATS, &a);   /* the seconds as a separate word */
	assert_true(a.interval == 0.5);
	assert_int_equal(a.count, 3);
	ok("stats --watch=2 --count=7", FN_CTL_CMD_STATS, &a);
	assert_true(a.interval == 2);
	assert_int_equal(a.count, 7);
	ok("-jw3 stats", FN_CTL_CMD_STATS, &a);
	assert_int_equal(a.flags, FN_CTL_F_JSON);
	assert_true(a.interval == 3);
	ok("stats --format prometheus", FN_CTL_CMD_STATS, &a);
	assert_int_equal(a.flags, FN_CTL_F_PROMETHEUS);
	ok("-fprometheus stats", FN_CTL_CMD_STATS, &a);
	assert_int_equal(a.flags, FN_CTL_F_PROMETHEUS);
	ok("apps --format=json", FN_CTL_CMD_APPS, &a);
	assert_int_equal(a.flags, FN_CTL_F_JSON);
	ok("-j apps -f text", FN_CTL_CMD_APPS, &a);        /* the last one says */
	assert_int_equal(a.flags, 0);
	ok("stats -f prometheus -j", FN_CTL_CMD_STATS, &a);
	assert_int_equal(a.flags, FN_CTL_F_JSON);
}

static void test_socket_sources(void **state)
{
	struct fnctl_args a;

	(void)state;
	assert_int_equal(parse_env("apps", NULL, &a), 0);
	assert_string_equal(a.socket, FRAGNET_DEFAULT_SOCKET);
	assert_int_equal(parse_env("apps", "", &a), 0);
	assert_string_equal(a.socket, FRAGNET_DEFAULT_SOCKET);
	assert_int_equal(parse_env("apps", "/run/env.sock", &a), 0);
	assert_string_equal(a.socket, "/run/env.sock");
	assert_int_equal(parse_env("-s /run/opt.sock apps", "/run/env.sock", &a), 0);
	assert_string_equal(a.socket, "/run/opt.sock");   /* -s wins */
}

static void test_help(void **state)
{
	static const char *const sections[] = {
		"NAME", "SYNOPSIS", "COMMANDS", "OPTIONS", "EXIT STATUS", "ENVIRONMENT",
		"load FILE", "check FILE", "list ruleset", "list counters", "apps", "stats",
		"--socket", "--json", "--format", "prometheus", "--watch", "--count", "--help", FRAGNET_DEFAULT_SOCKET,
	};
	struct fnctl_args a;
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	assert_int_equal(parse("--help", &a), 0);
	assert_true(a.help);
	assert_int_equal(parse("load --help", &a), 0);   /* wherever it stands */
	assert_true(a.help);
	assert_int_equal(parse("-h bogus words", &a), 0);
	assert_true(a.help);
	f = open_memstream(&text, &len);
	assert_non_null(f);
	fnctl_usage(f);
	fclose(f);
	for (size_t i = 0; i < sizeof(sections) / sizeof(sections[0]); i++)
		if (strstr(text, sections[i]) == NULL) {
			free(text);
			fail_msg("the manual lacks '%s'", sections[i]);
		}
	free(text);
}

static void test_bad_arguments(void **state)
{
	(void)state;
	refused("", "no command");
	refused("-j", "no command");
	refused("frobnicate", "unknown command 'frobnicate'");
	refused("load", "usage: fragnetctl load FILE");
	refused("check a.nft b.nft", "usage: fragnetctl check FILE");
	refused("list", "usage: fragnetctl list ruleset | list counters");
	refused("list rules", "usage: fragnetctl list ruleset");
	refused("list ruleset extra", "usage: fragnetctl list ruleset");
	refused("apps extra", "apps takes no arguments");
	refused("stats extra", "stats takes no arguments");
	refused("stats --watch=x", "--watch: 'x' is not a number");
	refused("stats --watch=0", "--watch: '0' is not a number of seconds (0-3600)");
	refused("stats --watch=3601", "'3601' is not a number");
	refused("stats -w -n 0", "--count: '0' is not a positive number");
	refused("stats -w -n 2x", "--count: '2x'");
	refused("stats -n 3", "--count goes with --watch");
	refused("apps --watch", "--watch goes with stats only");
	refused("--bogus apps", "unknown option '--bogus'");
	refused("-x apps", "unknown option '-x'");
	refused("-jx apps", "unknown option '-x'");
	refused("apps -s", "-s needs an argument");
	refused("apps --socket", "--socket needs an argument");
	refused("stats -f yaml", "--format: 'yaml' is not text, json or prometheus");
	refused("apps -f prometheus", "--format prometheus goes with stats only");
	refused("stats --format", "--format needs an argument");
}

/* capture has options of its own: -w writes a file, -c counts packets;
 * the operands after APP are the filter. */
static void test_capture(void **state)
{
	struct fnctl_args a;

	(void)state;
	ok("capture echo", FNCTL_CMD_CAPTURE, &a);
	assert_string_equal(a.app, "echo");
	assert_int_equal(a.queue, FN_CTL_CAPTURE_ALL);
	assert_int_equal(a.snaplen, FN_CAP_SNAPLEN_DEFAULT);
	assert_int_equal(a.ring_bytes, FN_CAP_RING_BYTES_DEFAULT);
	assert_null(a.write);
	assert_int_equal(a.packets, 0);
	assert_string_equal(a.filter, "");
	ok("-s /x capture echo -q 3 -c 10 -w f.pcapng -S 64 -B 16 udp dport 7", FNCTL_CMD_CAPTURE,
	   &a);
	assert_string_equal(a.socket, "/x");
	assert_string_equal(a.app, "echo");
	assert_int_equal(a.queue, 3);
	assert_int_equal(a.packets, 10);
	assert_string_equal(a.write, "f.pcapng");
	assert_int_equal(a.snaplen, 64);
	assert_int_equal(a.ring_bytes, 16 * 1024);
	assert_string_equal(a.filter, "udp dport 7");
	/* options anywhere, as for the other commands */
	ok("capture -c 1 echo ip saddr 10.0.0.0/8 -w -", FNCTL_CMD_CAPTURE, &a);
	assert_string_equal(a.write, "-");
	assert_string_equal(a.filter, "ip saddr 10.0.0.0/8");
	refused("capture", "usage: fragnetctl capture APP");
	refused("capture echo -c 0", "--count");
	refused("capture echo -q x", "--queue");
	refused("capture echo -q 128", "--queue");
	refused("capture echo -S 0", "--snaplen");
	refused("capture echo -S 65536", "--snaplen");
	refused("capture echo -B 3", "--buffer");
	refused("capture echo -B 65537", "--buffer");
	refused("capture echo -w", "needs an argument");
	refused("capture echo -j", "unknown option '-j'");
	assert_false(a.trace);
}

/* trace: capture's options but -w, and the same filter operands. */
static void test_trace(void **state)
{
	struct fnctl_args a;

	(void)state;
	ok("trace echo", FNCTL_CMD_CAPTURE, &a);
	assert_true(a.trace);
	assert_string_equal(a.app, "echo");
	assert_int_equal(a.queue, FN_CTL_CAPTURE_ALL);
	assert_string_equal(a.filter, "");
	ok("trace -q 1 echo -c 2 udp dport 7 -S 64", FNCTL_CMD_CAPTURE, &a);
	assert_true(a.trace);
	assert_int_equal(a.queue, 1);
	assert_int_equal(a.packets, 2);
	assert_int_equal(a.snaplen, 64);
	assert_string_equal(a.filter, "udp dport 7");
	refused("trace", "usage: fragnetctl trace APP");
	refused("trace echo -w f.pcapng", "a trace is text only");
	refused("trace echo -c 0", "--count");
	refused("trace echo -x", "trace: unknown option '-x'");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_commands),
		cmocka_unit_test(test_options),
		cmocka_unit_test(test_socket_sources),
		cmocka_unit_test(test_help),
		cmocka_unit_test(test_bad_arguments),
		cmocka_unit_test(test_capture),
		cmocka_unit_test(test_trace),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
