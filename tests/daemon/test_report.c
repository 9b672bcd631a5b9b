/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * daemon/report*.c and doc*.c: the text and JSON of `apps`, `stats`,
 * `list ruleset` and `list counters`, and the Prometheus metrics, for
 * queries built by hand (what the applications would have answered). The
 * text is compared byte for byte; the JSON and the metrics are parsed back
 * by Python (its path in $PYTHON3: Debian's, with python3-prometheus-client)
 * and checked there, also when applications send names made to break them.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "query.h"
#include "report.h"

/* ---------------------------------------------------------------- the queries */

static const char RULESET[] =
	"table inet echo { # handle 1\n"
	"\tcounter hits { # handle 5\n"
	"\t\tpackets 0 bytes 0\n"
	"\t}\n"
	"\n"
	"\tchain input { # handle 2\n"
	"\t\ttype filter hook input priority filter; policy accept;\n"
	"\t\tudp dport 9 counter packets 0 bytes 0 drop # handle 3\n"
	"\t\tudp dport 7 counter packets 0 bytes 0 counter packets 0 bytes 0 accept "
	"# handle 4\n"
	"\t}\n"
	"}\n"
	"table inet fragnet { # handle 6\n"
	"\tchain input { # handle 7\n"
	"\t\ttype filter hook input priority filter; policy accept;\n"
	"\t\tcounter packets 0 bytes 0 # handle 8\n"
	"\t}\n"
	"}\n";

static struct fn_ctl_queue_stats echo_queues[2] = {
	{ .qid = 0, .n_drops = 2, .rx_packets = 30, .rx_bytes = 1500, .tx_packets = 20,
	  .tx_bytes = 1000, .rx_datagrams = 31, .tx_datagrams = 20, .drops_total = 14,
	  .filter_generation = 3, .link_down = 2, .busy_ns = 2500000001,
	  .drops = { { "filter", 11 }, { "eth_dst", 3 } } },
	{ .qid = 1, .rx_packets = 5, .rx_bytes = 300, .rx_datagrams = 5,
	  .filter_generation = 3 },
};
static bool both[2] = { true, true };
static struct fn_ctl_queue_stats late_queue[1];
static bool none[1];

/* as reported: generation 7 live, then the final ones of generation 6 */
static struct fnd_counter echo_counters[] = {
	{ .generation = 7, .chain = "input", .handle = 3, .packets = 11, .bytes = 418 },
	{ .generation = 7, .chain = "input", .handle = 4, .packets = 20, .bytes = 680 },
	{ .generation = 7, .chain = "input", .handle = 4, .packets = 19, .bytes = 646 },
	{ .generation = 7, .object = "hits", .packets = 5, .bytes = 170 },
	{ .generation = 6, .chain = "input", .handle = 3, .packets = 4, .bytes = 152,
	  .final = true },
	{ .generation = 6, .chain = "input", .handle = 4, .packets = 2, .bytes = 68,
	  .final = true },
};

/* echo answered; late did not, and its generation 6 is not kept */
static struct fnd_app_report two_apps[] = {
	{ .peer_id = 3, .name = "echo", .pid = 1234, .uid = 0, .n_queues = 2, .sent_gen = 7,
	  .applied_gen = 7, .asked = true, .answered = true, .queues = echo_queues,
	  .have_queue = both, .counters = echo_counters,
	  .n_counters = sizeof(echo_counters) / sizeof(echo_counters[0]),
	  .end = { .generation = 7, .n_queues = 2, .n_counters = 6, .final_gens = 1,
		   .log_lines = 2, .log_suppressed = 1, .set_full = 4,
		   .ct_count_full = 6 },
	  .table = "inet echo", .ruleset = RULESET },
	{ .peer_id = 5, .name = "late", .pid = 99, .uid = 1000, .n_queues = 1, .sent_gen = 7,
	  .applied_gen = 6, .asked = true, .queues = late_queue, .have_queue = none,
	  .table = "inet fragnet" },
};

static struct fnd_query query(unsigned command, bool json, struct fnd_app_report *apps,
			      size_t n_apps)
{
	return (struct fnd_query){
		.command = command, .flags = json ? FN_CTL_F_JSON : 0, .timeout_ms = 500,
		.apps = apps, .n_apps = n_apps, .generation = 7, .nft_generation = 42,
		.ruleset = RULESET,
		.conns = { .open = 3, .max = 1024, .max_per_uid = 64, .accepted = 90,
			   .refused_not_allowed = 4, .refused_max = 5, .refused_max_per_uid = 6,
			   .register_timeouts = 7, .refusals_unread = 9, .read_pauses = 10,
			   .accept_pauses = 8 },
		.app_stats = { .refused_names = 1, .applied_unsent = 2 },
	};
}

static char *report(unsigned command, bool json, struct fnd_app_report *apps, size_t n)
{
	struct fnd_query q = query(command, json, apps, n);
	struct fnd_buf out = { 0 };

	assert_int_equal(fnd_report(&q, &out), 0);
	assert_non_null(out.s);
	return out.s;
}

/* ---------------------------------------------------------------- JSON by Python */

/* Load text (strict UTF-8) as j with the Python statement load, and evaluate
 * each Python expression of ap, up to a NULL, on it: true when all hold.
 * One Python per call: they are slow to start. */
static bool holds(const char *load, const char *text, va_list ap)
{
	static const char script[] =
		"import json, sys\n"
		"data = sys.stdin.buffer.read().decode('utf-8')\n"
		"exec(sys.argv[1])\n"
		"bad = [e for e in sys.argv[2:] if not eval(e)]\n"
		"for e in bad:\n"
		"    print('not true: %s' % e, file=sys.stderr)\n"
		"if bad:\n"
		"    print(j, file=sys.stderr)\n"
		"sys.exit(1 if bad else 0)\n";
	const char *python = getenv("PYTHON3") ? getenv("PYTHON3") : "python3";
	const char *argv[24] = { python, "-c", script, load };
	size_t len = strlen(text), n = 4;
	int fds[2], status;
	pid_t pid;

	while ((argv[n] = va_arg(ap, const char *)) != NULL)
		assert_true(++n < sizeof(argv) / sizeof(argv[0]));
	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(fds[0], 0);
		close(fds[0]);
		close(fds[1]);
		execvp(python, (char *const *)argv);
		_exit(127);
	}
	close(fds[0]);
	assert_int_equal(write(fds[1], text, len), (ssize_t)len);
	close(fds[1]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* JSON as j. */
static bool json_holds(const char *json, ...)
{
	va_list ap;
	bool ok;

	va_start(ap, json);
	ok = holds("j = json.loads(data)", json, ap);
	va_end(ap);
	return ok;
}

/* Prometheus metrics, read by prometheus_client's parser, as j: a list of
 * (name, labels, value) samples, and t: {family: type}. */
static bool prom_holds(const char *text, ...)
{
	va_list ap;
	bool ok;

	va_start(ap, text);
	ok = holds("from prometheus_client.parser import text_string_to_metric_families as p\n"
		   "fams = list(p(data))\n"
		   "j = [(s.name, s.labels, s.value) for f in fams for s in f.samples]\n"
		   "t = {f.name: f.type for f in fams}", text, ap);
	va_end(ap);
	return ok;
}

/* ---------------------------------------------------------------- apps */

static void apps_text(void **state)
{
	char *s = report(FN_CTL_CMD_APPS, false, two_apps, 2);

	(void)state;
	assert_string_equal(s,
		"generation 7 published (nftables generation 42), 2 application(s)\n"
		"NAME                  PID    UID QUEUES GENERATION           RX           TX"
		"      DROPS  STATE\n"
		"echo                 1234      0      2          7           35           20"
		"         14  filtered\n"
		"late                   99   1000      1          6            -            -"
		"          -  no-answer\n");
	free(s);
}

static void apps_json(void **state)
{
	char *s = report(FN_CTL_CMD_APPS, true, two_apps, 2);

	(void)state;
	assert_string_equal(s,
		"{\"generation\":7,\"nft_generation\":42,\"apps\":["
		"{\"name\":\"echo\",\"pid\":1234,\"uid\":0,\"queues\":2,\"answered\":true,"
		"\"state\":\"filtered\",\"generation\":7,\"generation_sent\":7,"
		"\"generation_refused\":0,\"unfiltered\":false,\"rx_packets\":35,"
		"\"rx_bytes\":1800,\"tx_packets\":20,\"tx_bytes\":1000,\"rx_datagrams\":36,"
		"\"tx_datagrams\":20,\"drops\":14},"
		"{\"name\":\"late\",\"pid\":99,\"uid\":1000,\"queues\":1,\"answered\":false,"
		"\"state\":\"no-answer\",\"generation\":6,\"generation_sent\":7,"
		"\"generation_refused\":0,\"unfiltered\":false,\"rx_packets\":0,"
		"\"rx_bytes\":0,\"tx_packets\":0,\"tx_bytes\":0,\"rx_datagrams\":0,"
		"\"tx_datagrams\":0,\"drops\":0}]}\n");
	assert_true(json_holds(s, "[a['name'] for a in j['apps']] == ['echo', 'late']", NULL));
	free(s);
}

static void apps_none(void **state)
{
	char *s = report(FN_CTL_CMD_APPS, false, NULL, 0);

	(void)state;
	assert_string_equal(s, "generation 7 published (nftables generation 42), "
			    "0 application(s)\n");
	free(s);
	s = report(FN_CTL_CMD_APPS, true, NULL, 0);
	assert_string_equal(s, "{\"generation\":7,\"nft_generation\":42,\"apps\":[]}\n");
	free(s);
}

/* ---------------------------------------------------------------- stats */

static void stats_text(void **state)
{
	char *s = report(FN_CTL_CMD_STATS, false, two_apps, 2);

	(void)state;
	assert_string_equal(s,
		"generation 7, 2 application(s)\n"
		"connections: 3 open (max 1024, 64 per uid), 90 accepted; refused: 4 not allowed, "
		"5 over max_connections, 6 over max_connections_per_uid, 1 for a name bound to "
		"others, 2 for reporting a generation never sent; 7 closed silent, 9 closed with "
		"their refusal unread, 10 read pause(s) for answers left unread, 8 accept "
		"pause(s) out of fds\n"
		"\n"
		"echo[1234] uid 0: generation 7, filtered, rule log lines 2 (1 suppressed), "
		"dynamic set full 4, ct count full 6\n"
		"  QUEUE       RX_PKTS       RX_BYTES      TX_PKTS       TX_BYTES  DGRAMS_IN"
		" DGRAMS_OUT     DROPS LINK_DOWN     BUSY_S  BY REASON\n"
		"  0                30           1500           20           1000         31"
		"         20        14         2      2.500  filter=11 eth_dst=3\n"
		"  1                 5            300            0              0          5"
		"          0         0         0      0.000  \n"
		"  total            35           1800           20           1000         36"
		"         20        14\n"
		"\n"
		"late[99] uid 1000: generation 6, no-answer (no answer within 500 ms)\n");
	free(s);
}

static void stats_json(void **state)
{
	char *s = report(FN_CTL_CMD_STATS, true, two_apps, 2);

	(void)state;
	assert_true(json_holds(s, "j['generation'] == 7 and len(j['apps']) == 2",
			       "j['apps'][0]['queue_stats'][0]['drops_by_reason'] == "
			       "{'filter': 11, 'eth_dst': 3}",
			       "[q['queue'] for q in j['apps'][0]['queue_stats']] == [0, 1]"
			       " and j['apps'][0]['queue_stats'][1]['drops_by_reason'] == {}",
			       "j['apps'][0]['total'] == {'rx_packets': 35, "
			       "'rx_bytes': 1800, 'tx_packets': 20, 'tx_bytes': 1000, "
			       "'rx_datagrams': 36, 'tx_datagrams': 20, 'drops': 14}",
			       "j['apps'][0]['log_lines'] == 2 and "
			       "j['apps'][0]['log_suppressed'] == 1 and "
			       "j['apps'][0]['set_full'] == 4 and "
			       "j['apps'][0]['ct_count_full'] == 6 and "
			       "j['apps'][0]['queue_stats'][0]['filter_generation'] == 3",
			       "[q['link_down'] for q in j['apps'][0]['queue_stats']] == [2, 0] and "
			       "'link_down' not in j['apps'][0]['total']",
			       "[q['busy_ns'] for q in j['apps'][0]['queue_stats']] == [2500000001, 0] "
			       "and 'busy' not in j['apps'][0]['queue_stats'][0]",
			       "j['apps'][1]['answered'] is False and "
			       "j['apps'][1]['queue_stats'] == [] and "
			       "j['apps'][1]['total']['rx_packets'] == 0",
			       "'n_apps' not in j and 'timeout_ms' not in j['apps'][1]",
			       "j['connections'] == {'open': 3, 'max': 1024, 'max_per_uid': 64, "
			       "'accepted': 90, 'refused_not_allowed': 4, 'refused_max': 5, "
			       "'refused_max_per_uid': 6, 'refused_names': 1, 'applied_unsent': 2, "
			       "'register_timeouts': 7, 'refusals_unread': 9, 'read_pauses': 10, "
			       "'accept_pauses': 8}", NULL));
	free(s);
}

/* ---------------------------------------------------------------- list ruleset */

static void ruleset_text(void **state)
{
	char *s = report(FN_CTL_CMD_LIST_RULESET, false, two_apps, 2);

	(void)state;
	assert_string_equal(s,
		"# fragnetd generation 7 (nftables generation 42): counters are each "
		"application's own, summed over its lcores\n"
		"\n"
		"# echo[1234]: generation 7, 2 lcore(s)\n"
		"table inet echo { # handle 1\n"
		"\tcounter hits { # handle 5\n"
		"\t\tpackets 5 bytes 170\n"
		"\t}\n"
		"\n"
		"\tchain input { # handle 2\n"
		"\t\ttype filter hook input priority filter; policy accept;\n"
		"\t\tudp dport 9 counter packets 11 bytes 418 drop # handle 3\n"
		"\t\tudp dport 7 counter packets 20 bytes 680 counter packets 19 bytes 646 "
		"accept # handle 4\n"
		"\t}\n"
		"}\n"
		"\n"
		"# late[99]: generation 6, 1 lcore(s), no answer: counters unknown\n"
		"# (its generation has no table inet fragnet)\n");
	free(s);
}

static void ruleset_json(void **state)
{
	char *s = report(FN_CTL_CMD_LIST_RULESET, true, two_apps, 2);

	(void)state;
	/* each application's live counters only: list counters has the final ones */
	assert_true(json_holds(s, "j['generation'] == 7 and j['nft_generation'] == 42",
			       "j['ruleset'].startswith('table inet echo { # handle 1\\n"
			       "\\tcounter hits') and j['ruleset'].count('\\n') == 17",
			       "[a['table'] for a in j['apps']] == "
			       "['inet echo', 'inet fragnet']",
			       "j['apps'][0]['counters'] == ["
			       "{'generation': 7, 'chain': 'input', 'handle': 3, 'packets': 11, "
			       "'bytes': 418}, "
			       "{'generation': 7, 'chain': 'input', 'handle': 4, 'packets': 20, "
			       "'bytes': 680}, "
			       "{'generation': 7, 'chain': 'input', 'handle': 4, 'packets': 19, "
			       "'bytes': 646}, "
			       "{'generation': 7, 'object': 'hits', 'packets': 5, 'bytes': 170}]",
			       "set(j) == {'generation', 'nft_generation', 'ruleset', 'apps'}"
			       " and 'listing' not in j['apps'][0]", NULL));
	free(s);
}

/* An application without a table, and tables nobody applies. */
static void ruleset_unused(void **state)
{
	struct fnd_app_report other = {
		.peer_id = 9, .name = "other", .pid = 7, .n_queues = 1, .applied_gen = 7,
		.asked = true, .answered = true, .end = { .generation = 7 }, .table = "",
		.ruleset = RULESET,
	};
	char *s = report(FN_CTL_CMD_LIST_RULESET, false, &other, 1);

	(void)state;
	assert_string_equal(s,
		"# fragnetd generation 7 (nftables generation 42): counters are each "
		"application's own, summed over its lcores\n"
		"\n"
		"# other[7]: no table inet other, ip other or inet fragnet: nothing filtered "
		"(app.NAME.unfiltered)\n"
		"\n"
		"# not applied by any application\n"
		"table inet echo { # handle 1\n"
		"\tcounter hits { # handle 5\n"
		"\t\tpackets ? bytes ?\n"
		"\t}\n"
		"\n"
		"\tchain input { # handle 2\n"
		"\t\ttype filter hook input priority filter; policy accept;\n"
		"\t\tudp dport 9 counter packets 0 bytes 0 drop # handle 3\n"
		"\t\tudp dport 7 counter packets 0 bytes 0 counter packets 0 bytes 0 accept "
		"# handle 4\n"
		"\t}\n"
		"}\n"
		"\n"
		"# not applied by any application\n"
		"table inet fragnet { # handle 6\n"
		"\tchain input { # handle 7\n"
		"\t\ttype filter hook input priority filter; policy accept;\n"
		"\t\tcounter packets 0 bytes 0 # handle 8\n"
		"\t}\n"
		"}\n");
	free(s);
	s = report(FN_CTL_CMD_LIST_RULESET, true, &other, 1);
	assert_true(json_holds(s, "j['apps'][0]['table'] == '' and "
			       "j['apps'][0]['counters'] == [] and 'unused' not in j",
			       "j['apps'][0]['no_table'] == 'nothing filtered (app.NAME.unfiltered)'",
			       "j['apps'][0]['state'] == 'UNFILTERED' and j['apps'][0]['unfiltered']",
			       NULL));
	free(s);
	/* what an application without a table and not configured unfiltered gets */
	other.refused_input = true;
	s = report(FN_CTL_CMD_LIST_RULESET, false, &other, 1);
	assert_non_null(strstr(s, "# other[7]: no table inet other, ip other or inet fragnet: "
			       "every input packet dropped\n"));
	free(s);
	s = report(FN_CTL_CMD_LIST_RULESET, true, &other, 1);
	assert_true(json_holds(s, "j['apps'][0]['state'] == 'filtered' and "
			       "not j['apps'][0]['unfiltered']", NULL));
	free(s);
}

/* ---------------------------------------------------------------- list counters */

static void counters_text(void **state)
{
	char *s = report(FN_CTL_CMD_LIST_COUNTERS, false, two_apps, 2);

	(void)state;
	assert_string_equal(s,
		"# fragnetd generation 7: counters by generation, summed over each "
		"application's lcores; \"final\" is a replaced generation's count once no "
		"lcore could add to it\n"
		"\n"
		"# echo[1234]: generation 7 live; final counters of 1 replaced generation(s), "
		"0 pending, 0 not kept\n"
		"  GENERATION  STATE           PACKETS            BYTES  COUNTER\n"
		"           7  live                 11              418  chain input handle 3\n"
		"           7  live                 20              680  chain input handle 4\n"
		"           7  live                 19              646  chain input handle 4 "
		"(its counter #2)\n"
		"           7  live                  5              170  counter hits\n"
		"           6  final                 4              152  chain input handle 3\n"
		"           6  final                 2               68  chain input handle 4\n"
		"       total  2 gens               15              570  chain input handle 3\n"
		"       total  2 gens               22              748  chain input handle 4\n"
		"       total  1 gen                19              646  chain input handle 4 "
		"(its counter #2)\n"
		"       total  1 gen                 5              170  counter hits\n"
		"\n"
		"# late[99]: generation 6, no answer: counters unknown\n");
	free(s);
}

static void counters_json(void **state)
{
	char *s = report(FN_CTL_CMD_LIST_COUNTERS, true, two_apps, 2);

	(void)state;
	assert_true(json_holds(s, "j['generation'] == 7 and len(j['apps']) == 2",
			       "[(g['generation'], g['state'], len(g['counters'])) "
			       "for g in j['apps'][0]['generations']] == "
			       "[(7, 'live', 4), (6, 'final', 2)]",
			       "j['apps'][0]['generations'][1]['counters'][1] == "
			       "{'chain': 'input', 'handle': 4, 'packets': 2, 'bytes': 68}",
			       "j['apps'][0]['totals'] == ["
			       "{'chain': 'input', 'handle': 3, 'packets': 15, 'bytes': 570, "
			       "'generations': 2}, "
			       "{'chain': 'input', 'handle': 4, 'packets': 22, 'bytes': 748, "
			       "'generations': 2}, "
			       "{'chain': 'input', 'handle': 4, 'packets': 19, 'bytes': 646, "
			       "'counter': 2, 'generations': 1}, "
			       "{'object': 'hits', 'packets': 5, 'bytes': 170, "
			       "'generations': 1}]",
			       "j['apps'][0]['final_generations'] == 1 and "
			       "j['apps'][0]['pending_generations'] == 0 and "
			       "j['apps'][0]['dropped_generations'] == 0 and "
			       "j['apps'][0]['counters_dropped'] == 0",
			       "j['apps'][1]['generations'] == [] and "
			       "j['apps'][1]['totals'] == []", NULL));
	free(s);
}

/* An application that sent more than its share of a query (query.h). */
static void counters_over_share(void **state)
{
	struct fnd_app_report app = two_apps[0];
	char *text, *json;

	(void)state;
	app.counters_dropped = 70000;
	text = report(FN_CTL_CMD_LIST_COUNTERS, false, &app, 1);
	json = report(FN_CTL_CMD_LIST_COUNTERS, true, &app, 1);
	assert_non_null(strstr(text, "# echo[1234]: generation 7 live; final counters of 1 "
			       "replaced generation(s), 0 pending, 0 not kept; 70000 counter(s) "
			       "not shown: over its share of a query (fragnetd.md)\n"));
	assert_true(json_holds(json, "j['apps'][0]['counters_dropped'] == 70000",
			       "'over_share' not in j['apps'][0]", NULL));
	free(text);
	free(json);
}

/* ---------------------------------------------------------------- hostile names */

/* Chain, object and drop reason names are whatever an application sends:
 * quotes, backslashes, control characters, newlines, bytes that are not
 * UTF-8. Text shows each as one printable word; JSON stays valid. */
static char evil_chain[] = "in\"put\\\n\x01\x1f\x7f\xff\xc3 x";
static char evil_object[] = "\"},{\"x\":1";
static struct fnd_counter evil_counters[] = {
	{ .generation = 7, .chain = evil_chain, .handle = 3, .packets = 1, .bytes = 60 },
	{ .generation = 7, .object = evil_object, .packets = 2, .bytes = 120 },
};
static struct fn_ctl_queue_stats evil_queue = {
	.qid = 0, .n_drops = 2, .rx_packets = 3, .drops_total = 5,
	.drops = { { "a\"b\\c\nd", 2 }, { "\xff\x01 {}", 3 } },
};
static bool one[1] = { true };
static struct fnd_app_report evil = {
	.peer_id = 4, .name = "evil", .pid = 66, .uid = 1001, .n_queues = 1, .sent_gen = 7,
	.applied_gen = 7, .asked = true, .answered = true, .queues = &evil_queue,
	.have_queue = one, .counters = evil_counters, .n_counters = 2,
	.end = { .generation = 7, .n_queues = 1 }, .table = "inet echo", .ruleset = RULESET,
};

static void hostile_text(void **state)
{
	char *s = report(FN_CTL_CMD_LIST_COUNTERS, false, &evil, 1);

	(void)state;
	assert_non_null(strstr(s, "           7  live                  1               60  "
				  "chain in\"put\\???????x handle 3\n"));
	assert_non_null(strstr(s, "  counter \"},{\"x\":1\n"));
	free(s);
	s = report(FN_CTL_CMD_STATS, false, &evil, 1);
	assert_non_null(strstr(s, "         5         0      0.000  a?b?c?d=2 \?\?\?\?\?=3\n"));
	free(s);
}

static void hostile_json(void **state)
{
	char *s;

	(void)state;
	s = report(FN_CTL_CMD_LIST_COUNTERS, true, &evil, 1);
	assert_true(json_holds(s, "j['apps'][0]['generations'][0]['counters'][0]['chain'] == "
			       "'in\"put\\\\\\n\\x01\\x1f\\x7f?? x'",
			       "j['apps'][0]['generations'][0]['counters'][1] == "
			       "{'object': '\"},{\"x\":1', 'packets': 2, 'bytes': 120}",
			       "len(j['apps'][0]['totals']) == 2", NULL));
	free(s);
	s = report(FN_CTL_CMD_LIST_RULESET, true, &evil, 1);
	assert_true(json_holds(s, "j['apps'][0]['counters'][0]['chain'].startswith('in\"put')", NULL));
	free(s);
	s = report(FN_CTL_CMD_STATS, true, &evil, 1);
	assert_true(json_holds(s, "j['apps'][0]['queue_stats'][0]['drops_by_reason'] == "
			       "{'a?b?c?d': 2, '\?\?\?\?\?': 3}", NULL));
	free(s);
}

/* ---------------------------------------------------------------- metrics */

static char *metrics(struct fnd_app_report *apps, size_t n)
{
	struct fnd_query q = query(FN_CTL_CMD_STATS, false, apps, n);
	struct fnd_buf out = { 0 };

	q.flags = FN_CTL_F_PROMETHEUS;
	q.conns.open = 2;
	q.conns.accepted = 9;
	assert_int_equal(fnd_report(&q, &out), 0);
	assert_non_null(out.s);
	return out.s;
}

static void metrics_samples(void **state)
{
	char *s = metrics(two_apps, 2);

	(void)state;
	assert_true(prom_holds(s, "len(t) == 30 and t['fragnetd_generation'] == 'gauge'",
			       "t['fragnet_rule_packets'] == 'counter'",
			       "('fragnetd_generation', {}, 7.0) in j",
			       "('fragnetd_nft_generation', {}, 42.0) in j",
			       "('fragnetd_applications', {}, 2.0) in j",
			       "('fragnetd_connections', {}, 2.0) in j",
			       "('fragnetd_connections_accepted_total', {}, 9.0) in j",
			       "('fragnet_rule_packets_total', {'app': 'echo', 'pid': '1234', "
			       "'table': 'inet echo', 'chain': 'input', 'handle': '4'}, 20.0) in j",
			       /* a rule's second counter */
			       "('fragnet_rule_bytes_total', {'app': 'echo', 'pid': '1234', "
			       "'table': 'inet echo', 'chain': 'input', 'handle': '4', 'nth': '2'}, "
			       "646.0) in j",
			       /* the live one only, not generation 6's final */
			       "[v for n, l, v in j if n == 'fragnet_rule_packets_total' and "
			       "l['handle'] == '3'] == [11.0]",
			       "('fragnet_counter_packets_total', {'app': 'echo', 'pid': '1234', "
			       "'table': 'inet echo', 'object': 'hits'}, 5.0) in j",
			       "('fragnet_queue_drops_by_reason_total', {'app': 'echo', 'pid': '1234', "
			       "'queue': '0', 'reason': 'eth_dst'}, 3.0) in j",
			       "('fragnet_queue_rx_packets_total', {'app': 'echo', 'pid': '1234', "
			       "'queue': '1'}, 5.0) in j",
			       "('fragnet_queue_filter_installs_total', {'app': 'echo', 'pid': '1234', "
			       "'queue': '0'}, 3.0) in j",
			       "('fragnet_queue_link_down_total', {'app': 'echo', 'pid': '1234', "
			       "'queue': '0'}, 2.0) in j and "
			       "('fragnet_queue_busy_seconds_total', {'app': 'echo', 'pid': '1234', "
			       "'queue': '0'}, 2.500000001) in j",
			       "('fragnet_app_rule_log_lines_total', {'app': 'echo', 'pid': '1234'}, "
			       "2.0) in j and "
			       "('fragnet_app_ct_count_full_total', {'app': 'echo', 'pid': '1234'}, "
			       "6.0) in j",
			       "('fragnet_app_info', {'app': 'late', 'pid': '99', 'uid': '1000', "
			       "'state': 'no-answer'}, 1.0) in j",
			       "('fragnet_app_answered', {'app': 'late', 'pid': '99'}, 0.0) in j",
			       /* what only an answer tells is left out, not made up */
			       "sorted(n for n, l, v in j if l.get('app') == 'late') == "
			       "['fragnet_app_answered', 'fragnet_app_generation', 'fragnet_app_info', "
			       "'fragnet_app_queues']", NULL));
	free(s);
}

/* Two processes of one kernel-enforced application: the kernel's counters,
 * live ones only, once for the name. */
static struct fnd_counter k_counters[] = {
	{ .generation = 3, .chain = "input", .handle = 3, .packets = 8, .bytes = 400 },
	{ .generation = 2, .chain = "input", .handle = 3, .packets = 5, .bytes = 250,
	  .final = true },
};
static struct fnd_app_report k_apps[2] = {
	{ .name = "k", .pid = 10, .n_queues = 0, .asked = true, .answered = true,
	  .end = { .generation = 3 }, .table = "inet k", .kernel = true,
	  .xdp = { .ifname = "eth1", .mode = "skb", .generation = 3 },
	  .kcounters = k_counters, .n_kcounters = 2 },
	{ .name = "k", .pid = 11, .n_queues = 0, .asked = true, .answered = true,
	  .end = { .generation = 3 }, .table = "inet k", .kernel = true,
	  .xdp = { .ifname = "eth1", .mode = "skb", .generation = 3 },
	  .kcounters = k_counters, .n_kcounters = 2 },
};

static void metrics_kernel(void **state)
{
	char *s = metrics(k_apps, 2);

	(void)state;
	assert_true(prom_holds(s, "[(l, v) for n, l, v in j if n == 'fragnet_xdp_rule_packets_total']"
			       " == [({'app': 'k', 'table': 'inet k', 'chain': 'input', "
			       "'handle': '3'}, 8.0)]",
			       "('fragnet_xdp_rule_bytes_total', {'app': 'k', 'table': 'inet k', "
			       "'chain': 'input', 'handle': '3'}, 400.0) in j", NULL));
	free(s);
}

/* Names from applications are label values: escaped as the format says,
 * bytes outside printable ASCII as '?', read back as they were otherwise. */
static void hostile_metrics(void **state)
{
	char *s = metrics(&evil, 1);

	(void)state;
	assert_true(prom_holds(s, "('fragnet_rule_packets_total', {'app': 'evil', 'pid': '66', "
			       "'table': 'inet echo', 'chain': 'in\"put\\\\\\n\?\?\?\?\? x', "
			       "'handle': '3'}, 1.0) in j",
			       "('fragnet_counter_bytes_total', {'app': 'evil', 'pid': '66', "
			       "'table': 'inet echo', 'object': '\"},{\"x\":1'}, 120.0) in j",
			       "sorted((l['reason'], v) for n, l, v in j "
			       "if n == 'fragnet_queue_drops_by_reason_total') == "
			       "[('\?\? {}', 3.0), ('a\"b\\\\c\\nd', 2.0)]", NULL));
	free(s);
}

static void not_a_query(void **state)
{
	struct fnd_query q = query(FN_CTL_CMD_LOAD, false, NULL, 0);
	struct fnd_buf out = { 0 };

	(void)state;
	assert_int_equal(fnd_report(&q, &out), -EINVAL);
	assert_null(out.s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(apps_text),
		cmocka_unit_test(apps_json),
		cmocka_unit_test(apps_none),
		cmocka_unit_test(stats_text),
		cmocka_unit_test(stats_json),
		cmocka_unit_test(ruleset_text),
		cmocka_unit_test(ruleset_json),
		cmocka_unit_test(ruleset_unused),
		cmocka_unit_test(counters_text),
		cmocka_unit_test(counters_json),
		cmocka_unit_test(counters_over_share),
		cmocka_unit_test(hostile_text),
		cmocka_unit_test(hostile_json),
		cmocka_unit_test(metrics_samples),
		cmocka_unit_test(metrics_kernel),
		cmocka_unit_test(hostile_metrics),
		cmocka_unit_test(not_a_query),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
