/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * daemon/config.c: defaults, every key and the forms its value may take,
 * comments and white space, and every mistake reported with its file and
 * line. Each test's configuration is freed by the fixture, also after a
 * failed load or a failed assert.
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
static struct fnd_config cfg;

static int setup(void **state)
{
	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	fnd_config_free(&cfg);
	return 0;
}

/* Load `text` as the file; on success, free what an earlier load made. */
static int load(const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	fnd_config_free(&cfg);
	err[0] = '\0';
	return fnd_config_load(path, &cfg, err, sizeof(err));
}

static void loads(const char *text)
{
	if (load(text) != 0)
		fail_msg("'%s' refused: %s", text, err);
}

static void mistake(const char *text, const char *expect)
{
	assert_int_equal(load(text), -EINVAL);
	if (strstr(err, expect) == NULL)
		fail_msg("'%s' gave '%s', expected '%s'", text, err, expect);
	assert_non_null(strstr(err, "fragnetd-config-test-"));   /* the file is named */
}

static void defaults(void **state)
{
	(void)state;
	assert_int_equal(fnd_config_load(NULL, &cfg, err, sizeof(err)), 0);
	assert_string_equal(cfg.socket, FRAGNET_DEFAULT_SOCKET);
	assert_string_equal(cfg.netns, FND_DEFAULT_NETNS);
	assert_null(cfg.rules);
	assert_int_equal(cfg.socket_mode, 0666);
	assert_int_equal(cfg.stats_timeout_ms, 500);
	assert_int_equal(cfg.apply_timeout_ms, 2000);
	assert_false(fnd_idlist_has(&cfg.app_users, 0));
	assert_false(fnd_idlist_has(&cfg.app_groups, 0));
	assert_false(fnd_idlist_has(&cfg.admin_users, 0));
	assert_false(fnd_idlist_has(&cfg.admin_groups, 0));
	assert_int_equal(cfg.max_connections, 1024);
	assert_int_equal(cfg.max_connections_per_uid, 64);
	assert_int_equal(cfg.register_timeout_ms, 5000);
	assert_int_equal(cfg.n_apps, 0);
	assert_false(fnd_config_app_unfiltered(&cfg, "echo"));
	/* an empty file is the defaults too */
	loads("");
	assert_string_equal(cfg.socket, FRAGNET_DEFAULT_SOCKET);
	assert_int_equal(cfg.apply_timeout_ms, 2000);
}

static void every_key(void **state)
{
	(void)state;
	loads("# a comment\n"
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
	      "apply_timeout_ms = 3000\n");
	assert_string_equal(cfg.socket, "/run/x/y.sock");
	assert_int_equal(cfg.socket_mode, 0660);
	assert_string_equal(cfg.netns, "fnctest");
	assert_string_equal(cfg.rules, "/etc/fragnet/rules.d");
	assert_true(fnd_idlist_has(&cfg.app_users, 0));
	assert_true(fnd_idlist_has(&cfg.app_users, 1234));
	assert_true(fnd_idlist_has(&cfg.app_users, 1));  /* daemon */
	assert_false(fnd_idlist_has(&cfg.app_users, 2));
	assert_true(fnd_idlist_has(&cfg.app_groups, 0));
	assert_false(fnd_idlist_has(&cfg.app_groups, 1));
	assert_true(fnd_idlist_has(&cfg.admin_users, 4242)); /* * */
	assert_true(fnd_idlist_has(&cfg.admin_groups, 0));
	assert_false(fnd_idlist_has(&cfg.admin_groups, 4242));
	assert_int_equal(cfg.stats_timeout_ms, 250);
	assert_int_equal(cfg.apply_timeout_ms, 3000);
}

/* The connection caps and the registration deadline. */
static void connection_keys(void **state)
{
	(void)state;
	loads("max_connections = 100\n"
	      "max_connections_per_uid = 1\n"
	      "register_timeout_ms = 250\n");
	assert_int_equal(cfg.max_connections, 100);
	assert_int_equal(cfg.max_connections_per_uid, 1);
	assert_int_equal(cfg.register_timeout_ms, 250);
	loads("max_connections = 1000000\n");
	assert_int_equal(cfg.max_connections, 1000000);
	assert_int_equal(cfg.max_connections_per_uid, 64);
	mistake("max_connections = 0\n", ":1: max_connections: '0' is not a count (1-1000000)");
	mistake("max_connections = 1000001\n", "'1000001' is not a count");
	mistake("max_connections_per_uid = -1\n", "max_connections_per_uid: '-1' is not a count");
	mistake("max_connections_per_uid = many\n", "'many' is not a count");
	mistake("register_timeout_ms = 0\n", "register_timeout_ms: '0' is not a time in ms");
	mistake("max_connections = 5\nmax_connections = 6\n", ":2: 'max_connections' given twice");
}

/* app.NAME.users/groups bind a name to uids and gids; root is never refused;
 * app.NAME.unfiltered lets a name without a table run unfiltered. */
static void app_names(void **state)
{
	gid_t extra[] = { 50, 0 };

	(void)state;
	loads("app.redis.users = 1001, daemon\n"
	      "app.redis.groups = 0\n"
	      "app.echo.unfiltered = yes\n"
	      "app.other.unfiltered = no\n");
	assert_int_equal(cfg.n_apps, 3);
	assert_null(fnd_config_app_refuses(&cfg, "redis", 1001, 1001, NULL, 0));
	assert_null(fnd_config_app_refuses(&cfg, "redis", 1, 1, NULL, 0));      /* daemon */
	assert_null(fnd_config_app_refuses(&cfg, "redis", 0, 0, NULL, 0));      /* root */
	assert_null(fnd_config_app_refuses(&cfg, "redis", 2000, 0, NULL, 0));   /* group 0 */
	assert_null(fnd_config_app_refuses(&cfg, "redis", 2000, 7, extra, 2));  /* supplementary */
	assert_non_null(strstr(fnd_config_app_refuses(&cfg, "redis", 2000, 7, extra, 1),
			       "bound to other users"));
	assert_non_null(fnd_config_app_refuses(&cfg, "redis", 2, 2, NULL, 0));
	/* names the configuration does not bind are anyone's who may register */
	assert_null(fnd_config_app_refuses(&cfg, "echo", 2000, 2000, NULL, 0));
	assert_null(fnd_config_app_refuses(&cfg, "nothing-said", 2000, 2000, NULL, 0));
	assert_true(fnd_config_app_unfiltered(&cfg, "echo"));
	assert_false(fnd_config_app_unfiltered(&cfg, "other"));
	assert_false(fnd_config_app_unfiltered(&cfg, "redis"));
	assert_false(fnd_config_app_unfiltered(&cfg, "nothing-said"));
	assert_null(fnd_config_app(&cfg, "redis")->ifname);

	/* a kernel-enforced name without users or groups is root's alone */
	loads("app.k.interface = eth9\napp.k.address = 10.9.9.9\n");
	assert_non_null(strstr(fnd_config_app_refuses(&cfg, "k", 1000, 1000, NULL, 0),
			       "kernel-enforced"));
	assert_null(fnd_config_app_refuses(&cfg, "k", 0, 0, NULL, 0));
	loads("app.k.interface = eth9\napp.k.address = 10.9.9.9\napp.k.users = *\n");
	assert_null(fnd_config_app_refuses(&cfg, "k", 1000, 1000, NULL, 0));

	mistake("app.redis.users = nosuchuser-z\n", "app.redis.users: no such user 'nosuchuser-z'");
	mistake("app.redis.groups = nosuchgroup-z\n", "no such group 'nosuchgroup-z'");
	mistake("app.redis.users = 1\napp.redis.users = 2\n", ":2: app.redis.users: given twice");
	/* every field once, whatever its value */
	mistake("app.echo.unfiltered = yes\napp.echo.unfiltered = no\n",
		":2: app.echo.unfiltered: given twice");
	mistake("app.k.fragments = drop\napp.k.fragments = pass\n",
		":2: app.k.fragments: given twice");
	mistake("app.k.groups = 0\napp.k.users = 0\napp.k.groups = 1\n",
		":3: app.k.groups: given twice");
	mistake("app.echo.unfiltered = maybe\n", "app.echo.unfiltered: 'maybe' is not yes or no");
	mistake("app.echo.colour = red\n", "unknown field 'colour'");
	mistake("app.k.interface = eth9\n", "application k needs app.k.interface and app.k.address");
}

/* The forms values may take, and the keys not given keeping their default. */
static void value_forms(void **state)
{
	(void)state;
	loads("\tsocket=/s   \r\n"             /* no spaces, tabs, CRLF */
	      "socket_mode = 600\n"             /* octal without the 0 */
	      "rules = /a b/rules.nft#not part of it\n");
	assert_string_equal(cfg.socket, "/s");
	assert_int_equal(cfg.socket_mode, 0600);
	assert_string_equal(cfg.rules, "/a b/rules.nft");
	assert_string_equal(cfg.netns, FND_DEFAULT_NETNS);
	assert_int_equal(cfg.stats_timeout_ms, 500);

	loads("app_users = 0,1\t2\n"            /* commas, tabs */
	      "app_groups = *, root\n"          /* anyone, whatever follows */
	      "admin_users = root\n"
	      "admin_groups = 0 root\n"         /* the same group twice */
	      "socket_mode = 0\n"
	      "stats_timeout_ms = 1\n"
	      "apply_timeout_ms = 600000\n");
	for (unsigned id = 0; id <= 2; id++)
		assert_true(fnd_idlist_has(&cfg.app_users, id));
	assert_false(fnd_idlist_has(&cfg.app_users, 3));
	assert_true(fnd_idlist_has(&cfg.app_groups, 77));
	assert_true(fnd_idlist_has(&cfg.admin_users, 0));
	assert_false(fnd_idlist_has(&cfg.admin_users, 1));
	assert_true(fnd_idlist_has(&cfg.admin_groups, 0));
	assert_int_equal(cfg.socket_mode, 0);
	assert_int_equal(cfg.stats_timeout_ms, 1);
	assert_int_equal(cfg.apply_timeout_ms, 600000);

	/* a namespace name of 64 characters is the longest */
	loads("netns = aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n");
	assert_int_equal(strlen(cfg.netns), 64);
}

static void line_mistakes(void **state)
{
	(void)state;
	mistake("netns = a\nsokcet = /x\n", ":2: unknown key 'sokcet'");
	mistake("= /x\n", ":1: unknown key ''");
	mistake("socket\n", ":1: expected 'key = value'");
	mistake("# one\n\n  # two\njust words\n", ":4: expected 'key = value'");
	mistake("socket = /a\nsocket = /b\n", ":2: 'socket' given twice");
	mistake("rules = /a\n#\nrules = /b\n", ":3: 'rules' given twice");
	mistake("apply_timeout_ms = 5\napply_timeout_ms = 5\n", ":2: 'apply_timeout_ms' given twice");
	/* the first mistake stops the reading: line 2 is never looked at */
	mistake("socket = x\nsokcet = /y\n", ":1: socket: the socket path must be absolute");
}

/* Each key's bad values, named by line and key. */
static void value_mistakes(void **state)
{
	(void)state;
	mistake("socket = relative\n", ":1: socket: the socket path must be absolute");
	mistake("socket =\n", "must be absolute");
	mistake("socket_mode = 0999\n", "socket_mode: '0999' is not an octal mode");
	mistake("socket_mode = 01000\n", "'01000' is not an octal mode");
	mistake("socket_mode = -1\n", "'-1' is not an octal mode");
	mistake("socket_mode =\n", "'' is not an octal mode");
	mistake("netns = a/b\n", "netns: bad namespace name 'a/b'");
	mistake("netns = .hidden\n", "bad namespace name '.hidden'");
	mistake("netns =\n", "bad namespace name ''");
	mistake("netns = aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
		"bad namespace name");
	mistake("rules =\n", "rules: empty value");
	mistake("app_users = nosuchuser-x\n", "app_users: no such user 'nosuchuser-x'");
	mistake("app_groups = nosuchgroup-x\n", "app_groups: no such group 'nosuchgroup-x'");
	mistake("admin_users = root, nosuchuser-y\n", "admin_users: no such user 'nosuchuser-y'");
	mistake("admin_groups = nosuchgroup-x\n", "admin_groups: no such group 'nosuchgroup-x'");
	mistake("app_users = 4294967295\n", "no such user '4294967295'"); /* (uid_t)-1 */
	mistake("app_users = -1\n", "no such user '-1'");
	mistake("stats_timeout_ms = 0\n", "stats_timeout_ms: '0' is not a time in ms (1-600000)");
	mistake("stats_timeout_ms = 600001\n", "'600001' is not a time in ms");
	mistake("stats_timeout_ms = -5\n", "'-5' is not a time in ms");
	mistake("apply_timeout_ms = 10s\n", "apply_timeout_ms: '10s' is not a time in ms");
	mistake("apply_timeout_ms =\n", "'' is not a time in ms");
}

static void long_line(void **state)
{
	char text[10000];

	(void)state;
	memset(text, 'a', sizeof(text) - 2);
	text[sizeof(text) - 2] = '\n';
	text[sizeof(text) - 1] = '\0';
	assert_int_equal(load(text), -EINVAL);
	assert_non_null(strstr(err, ":1: line too long"));
}

static void unreadable(void **state)
{
	(void)state;
	assert_int_equal(fnd_config_load("/nonexistent/fragnetd.conf", &cfg, err, sizeof(err)),
			 -ENOENT);
	assert_non_null(strstr(err, "/nonexistent/fragnetd.conf: No such file"));
	fnd_config_free(&cfg);
	assert_int_equal(fnd_config_load("/tmp", &cfg, err, sizeof(err)), -EIO);  /* a directory */
	assert_non_null(strstr(err, "/tmp: read error"));
}

/* Each test with its own configuration, freed whatever happens. */
#define CONFIG_TEST(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		CONFIG_TEST(defaults),
		CONFIG_TEST(every_key),
		CONFIG_TEST(value_forms),
		CONFIG_TEST(connection_keys),
		CONFIG_TEST(app_names),
		CONFIG_TEST(line_mistakes),
		CONFIG_TEST(value_mistakes),
		CONFIG_TEST(long_line),
		CONFIG_TEST(unreadable),
	};
	int fd = mkstemp(path), rc;

	if (fd < 0)
		return 1;
	close(fd);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	unlink(path);
	return rc;
}
