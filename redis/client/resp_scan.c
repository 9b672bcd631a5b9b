/* SPDX-License-Identifier: BSD-3-Clause */
/* Scanning RESP without building objects (see resp_scan.h). */
#include "resp_scan.h"

#include <string.h>
#include <strings.h>

/* Longest header line accepted ("$<len>" or "*<count>"): a longer run of
 * digits is not a length any server sends. */
#define NUM_MAX_DIGITS 18

void resp_scan_init(struct resp_scan *s)
{
	s->off = 0;
	s->depth = -1;
}

/* The CRLF-terminated line starting at buf[off]: index of its '\r', or -1
 * when it is not complete yet. */
static long long line_end(const char *buf, size_t len, size_t off)
{
	const char *cr = memchr(buf + off, '\r', len - off);

	if (!cr || (size_t)(cr - buf) + 1 >= len)
		return -1;
	return cr - buf;
}

/* The signed decimal number buf[from..to): 0, or -1 when it is not one. */
static int parse_num(const char *buf, size_t from, size_t to, long long *out)
{
	int neg = 0;
	long long v = 0;

	if (from < to && buf[from] == '-') {
		neg = 1;
		from++;
	}
	if (from == to || to - from > NUM_MAX_DIGITS)
		return -1;
	for (; from < to; from++) {
		if (buf[from] < '0' || buf[from] > '9')
			return -1;
		v = v * 10 + (buf[from] - '0');
	}
	*out = neg ? -v : v;
	return 0;
}

long long resp_scan_reply(struct resp_scan *s, const char *buf, size_t len)
{
	long long total;

	if (s->depth < 0) {
		s->off = 0;
		s->depth = 0;
		s->left[0] = 1;
	}
	while (s->depth >= 0) {
		long long n, eol;
		size_t off = s->off;

		if (s->left[s->depth] == 0) {
			s->depth--;
			continue;
		}
		if (off >= len)
			return 0;
		eol = line_end(buf, len, off);
		if (eol < 0)
			return 0;
		if (buf[eol + 1] != '\n')
			return -1;
		switch (buf[off]) {
		case '+': case '-': case ':': case '_': case ',': case '#': case '(':
			s->off = (size_t)eol + 2;
			break;
		case '$': case '=': case '!':
			if (parse_num(buf, off + 1, (size_t)eol, &n) < 0 || n < -1)
				return -1;
			if (n == -1) {
				s->off = (size_t)eol + 2;
				break;
			}
			/* the body and its CRLF */
			if ((size_t)eol + 2 + (size_t)n + 2 > len)
				return 0;
			if (buf[eol + 2 + n] != '\r' || buf[eol + 3 + n] != '\n')
				return -1;
			s->off = (size_t)eol + 2 + (size_t)n + 2;
			break;
		case '*': case '~': case '>': case '%': case '|':
			if (parse_num(buf, off + 1, (size_t)eol, &n) < 0 || n < -1)
				return -1;
			s->off = (size_t)eol + 2;
			if (buf[off] == '%' || buf[off] == '|')
				n *= 2;
			/* An attribute comes before the element it describes. */
			if (buf[off] == '|')
				s->left[s->depth]++;
			if (n > 0) {
				s->left[s->depth]--;
				if (s->depth == RESP_SCAN_MAX_DEPTH)
					return -1;
				s->left[++s->depth] = n;
				continue;
			}
			break;
		default:
			return -1;
		}
		s->left[s->depth]--;
	}
	total = (long long)s->off;
	resp_scan_init(s);
	return total;
}

/* Commands that only read. Anything missing is a write and never sent twice:
 * being wrong here costs a retry, never a duplicate. */
static const char *const read_commands[] = {
	"bitcount", "bitfield_ro", "bitpos", "dbsize", "dump", "echo", "eval_ro",
	"evalsha_ro", "exists", "expiretime", "fcall_ro", "geodist", "geohash",
	"geopos", "georadius_ro", "georadiusbymember_ro", "geosearch", "get",
	"getbit", "getrange", "hexists", "hget", "hgetall", "hkeys", "hlen", "hmget",
	"hrandfield", "hscan", "hstrlen", "hvals", "info", "keys", "lastsave", "lcs",
	"lindex", "llen", "lpos", "lrange", "mget", "pexpiretime", "pfcount", "ping",
	"pttl", "randomkey", "role", "scan", "scard", "sdiff", "sinter", "sintercard",
	"sismember", "smembers", "smismember", "sort_ro", "srandmember", "sscan",
	"strlen", "substr", "sunion", "time", "ttl", "type", "xlen", "xpending",
	"xrange", "xrevrange", "zcard", "zcount", "zdiff", "zinter", "zintercard",
	"zlexcount", "zmscore", "zrandmember", "zrange", "zrangebylex",
	"zrangebyscore", "zrank", "zrevrange", "zrevrangebylex", "zrevrangebyscore",
	"zrevrank", "zscan", "zscore", "zunion",
	/* every subcommand reads */
	"command", "object", "xinfo",
};

/* Read-only subcommands of commands that also have writing ones. */
static const char *const read_subcommands[][2] = {
	{ "client", "getname" }, { "client", "id" }, { "client", "info" },
	{ "client", "list" }, { "cluster", "info" }, { "cluster", "keyslot" },
	{ "cluster", "myid" }, { "cluster", "nodes" }, { "cluster", "shards" },
	{ "cluster", "slots" }, { "config", "get" }, { "function", "list" },
	{ "memory", "stats" }, { "memory", "usage" }, { "script", "exists" },
};

static int word_is(const char *w, size_t n, const char *lower)
{
	return strlen(lower) == n && strncasecmp(w, lower, n) == 0;
}

enum resp_kind resp_command_kind(const char *name, size_t name_len,
				 const char *arg1, size_t arg1_len)
{
	size_t i;

	if (word_is(name, name_len, "multi"))
		return RESP_MULTI;
	if (word_is(name, name_len, "exec") || word_is(name, name_len, "discard"))
		return RESP_EXEC;
	if (word_is(name, name_len, "auth"))
		return RESP_SESSION_AUTH;
	if (word_is(name, name_len, "hello"))
		return RESP_SESSION_HELLO;
	if (word_is(name, name_len, "select"))
		return RESP_SESSION_SELECT;
	if (arg1 && word_is(name, name_len, "client") && word_is(arg1, arg1_len, "setname"))
		return RESP_SESSION_SETNAME;
	for (i = 0; i < sizeof(read_commands) / sizeof(read_commands[0]); i++)
		if (word_is(name, name_len, read_commands[i]))
			return RESP_READ;
	if (!arg1)
		return RESP_WRITE;
	for (i = 0; i < sizeof(read_subcommands) / sizeof(read_subcommands[0]); i++)
		if (word_is(name, name_len, read_subcommands[i][0]) &&
		    word_is(arg1, arg1_len, read_subcommands[i][1]))
			return RESP_READ;
	return RESP_WRITE;
}

long long resp_scan_request(const char *buf, size_t len, enum resp_kind *kind)
{
	const char *arg[2] = { NULL, NULL };
	size_t arg_len[2] = { 0, 0 };
	long long argc, eol, n, i;
	size_t off;

	if (len == 0)
		return 0;
	if (buf[0] != '*')
		return -1;
	eol = line_end(buf, len, 0);
	if (eol < 0)
		return 0;
	if (buf[eol + 1] != '\n' || parse_num(buf, 1, (size_t)eol, &argc) < 0 || argc < 1)
		return -1;
	off = (size_t)eol + 2;
	for (i = 0; i < argc; i++) {
		if (off >= len)
			return 0;
		if (buf[off] != '$')
			return -1;
		eol = line_end(buf, len, off);
		if (eol < 0)
			return 0;
		if (buf[eol + 1] != '\n' || parse_num(buf, off + 1, (size_t)eol, &n) < 0 || n < 0)
			return -1;
		if ((size_t)eol + 2 + (size_t)n + 2 > len)
			return 0;
		if (buf[eol + 2 + n] != '\r' || buf[eol + 3 + n] != '\n')
			return -1;
		if (i < 2) {
			arg[i] = buf + eol + 2;
			arg_len[i] = (size_t)n;
		}
		off = (size_t)eol + 2 + (size_t)n + 2;
	}
	*kind = resp_command_kind(arg[0], arg_len[0], arg[1], arg_len[1]);
	return (long long)off;
}
