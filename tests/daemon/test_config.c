/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * daemon/config.c: defaults, every key, and each kind of mistake
 * reported with its file and line.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <fragnet.h>

#include "config.h"

static char path[] = "/tmp/fragnetd-config-test-XXXXXX";
static char err[512];

static int load(const char *text, struct fnd_config *cfg)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	err[0] = '\0';
	return fnd_config_load(path, cfg, err, sizeof(err));
}

static void defaults(void **state)
{
	struct fnd_config cfg;

	(void)state;
	assert_int_equal(fnd_config_load(NULL, &cfg, err, sizeof(err)), 0);
	assert_string_equal(cfg.socket, FRAGNET_DEFAULT_SOCKET);
	assert_string_equal(cfg.netns, "fragnet");
	assert_null(cfg.rules);
	assert_int_equal(cfg.socket_mode, 0666);
	assert_int_equal(cfg.stats_timeout_ms, 500);
	assert_false(fnd_idlist_has(&cfg.app_users, 1000));
	fnd_config_free(&cfg);
}

static void every_key(void **state)
{
	struct fnd_config cfg;

	(void)state;
	assert_int_equal(load("# a comment\n"
			      "\n"
			      "socket = /run/x/y.sock   # trailing comment\n"
			      "socket_mode = 0660\n"
			      "netns = fnctest\n"
			      "rules = /etc/fragnet/rules.d\n"
			      "app_users = root, 1234 daemon\n"
			      "app_groups = 0\n"
			      "admin_users = *\n"
			      "admin_groups = root\n"
			      "stats_timeout_ms = 250\n"
			      "apply_timeout_ms = 3000\n", &cfg), 0);
	assert_string_equal(cfg.socket, "/run/x/y.sock");
	assert_int_equal(cfg.socket_mode, 0660);
	assert_string_equal(cfg.netns, "fnctest");
	assert_string_equal(cfg.rules, "/etc/fragnet/rules.d");
	assert_true(fnd_idlist_has(&cfg.app_users, 0));
	assert_true(fnd_idlist_has(&cfg.app_users, 1234));
	assert_true(fnd_idlist_has(&cfg.app_users, 1));  /* daemon */
	assert_false(fnd_idlist_has(&cfg.app_users, 2));
	assert_true(fnd_idlist_has(&cfg.app_groups, 0));
	assert_true(fnd_idlist_has(&cfg.admin_users, 4242)); /* * */
	assert_int_equal(cfg.stats_timeout_ms, 250);
	assert_int_equal(cfg.apply_timeout_ms, 3000);
	fnd_config_free(&cfg);
}

static void mistake(const char *text, const char *expect)
{
	struct fnd_config cfg;

	assert_int_equal(load(text, &cfg), -EINVAL);
	if (strstr(err, expect) == NULL)
		fail_msg("'%s' gave '%s', expected '%s'", text, err, expect);
	fnd_config_free(&cfg);
}

static void mistakes(void **state)
{
	(void)state;
	mistake("netns = a\nsokcet = /x\n", ":2: unknown key 'sokcet'");
	mistake("rules = /a\nrules = /b\n", ":2: 'rules' given twice");
	mistake("socket\n", ":1: expected 'key = value'");
	mistake("socket = relative\n", "must be absolute");
	mistake("socket_mode = 0999\n", "not an octal mode");
	mistake("socket_mode = -1\n", "not an octal mode");
	mistake("netns = a/b\n", "bad namespace name");
	mistake("netns = .hidden\n", "bad namespace name");
	mistake("rules =\n", "empty value");
	mistake("app_users = nosuchuser-x\n", "no such user 'nosuchuser-x'");
	mistake("admin_groups = nosuchgroup-x\n", "no such group 'nosuchgroup-x'");
	mistake("stats_timeout_ms = 0\n", "not a time in ms");
	mistake("apply_timeout_ms = 10s\n", "not a time in ms");
}

static void long_line(void **state)
{
	struct fnd_config cfg;
	char *text = malloc(10000);

	(void)state;
	memset(text, 'a', 9998);
	text[9998] = '\n';
	text[9999] = '\0';
	assert_int_equal(load(text, &cfg), -EINVAL);
	assert_non_null(strstr(err, ":1: line too long"));
	fnd_config_free(&cfg);
	free(text);
}

static void missing_file(void **state)
{
	struct fnd_config cfg;

	(void)state;
	assert_int_equal(fnd_config_load("/nonexistent/fragnetd.conf", &cfg, err, sizeof(err)),
			 -ENOENT);
	assert_non_null(strstr(err, "/nonexistent/fragnetd.conf"));
	fnd_config_free(&cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(defaults),
		cmocka_unit_test(every_key),
		cmocka_unit_test(mistakes),
		cmocka_unit_test(long_line),
		cmocka_unit_test(missing_file),
	};
	int fd = mkstemp(path), rc;

	if (fd < 0)
		return 1;
	close(fd);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	unlink(path);
	return rc;
}
