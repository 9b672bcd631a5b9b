/* SPDX-License-Identifier: BSD-3-Clause */
/* Reading fragnetd.conf (config.h). */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fragnet.h>

#include "config.h"

#define LINE_MAX_LEN 4096

bool fnd_idlist_has(const struct fnd_idlist *l, unsigned id)
{
	if (l->any)
		return true;
	for (size_t i = 0; i < l->n; i++)
		if (l->ids[i] == id)
			return true;
	return false;
}

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static int parse_uint(const char *s, unsigned long max, int base, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(s, &end, base);
	if (errno || end == s || *end || *out > max || *s == '-')
		return -EINVAL;
	return 0;
}

/* "root, 1001 redis" or "*": names resolved now, so a typo fails at start. */
static int parse_ids(char *v, bool groups, struct fnd_idlist *l, char *why, size_t whylen)
{
	for (char *tok = strtok(v, ", \t"); tok; tok = strtok(NULL, ", \t")) {
		unsigned long id;
		unsigned *ids;

		if (strcmp(tok, "*") == 0) {
			l->any = true;
			continue;
		}
		if (parse_uint(tok, UINT_MAX - 1, 10, &id) < 0) {
			if (groups) {
				struct group *g = getgrnam(tok);

				if (g == NULL)
					goto unknown;
				id = g->gr_gid;
			} else {
				struct passwd *p = getpwnam(tok);

				if (p == NULL)
					goto unknown;
				id = p->pw_uid;
			}
		}
		ids = realloc(l->ids, (l->n + 1) * sizeof(*ids));
		if (ids == NULL)
			return -ENOMEM;
		l->ids = ids;
		l->ids[l->n++] = (unsigned)id;
		continue;
unknown:
		snprintf(why, whylen, "no such %s '%s'", groups ? "group" : "user", tok);
		return -EINVAL;
	}
	return 0;
}

static int set_string(char **field, const char *v, char *why, size_t whylen)
{
	if (*v == '\0') {
		snprintf(why, whylen, "empty value");
		return -EINVAL;
	}
	*field = strdup(v);
	return *field ? 0 : -ENOMEM;
}

static int parse_netns(char **field, const char *v, char *why, size_t whylen)
{
	if (*v == '\0' || strlen(v) > 64 || strchr(v, '/') || v[0] == '.') {
		snprintf(why, whylen, "bad namespace name '%s'", v);
		return -EINVAL;
	}
	return set_string(field, v, why, whylen);
}

static int parse_ms(unsigned *field, const char *v, char *why, size_t whylen)
{
	unsigned long ms;

	if (parse_uint(v, 600000, 10, &ms) < 0 || ms == 0) {
		snprintf(why, whylen, "'%s' is not a time in ms (1-600000)", v);
		return -EINVAL;
	}
	*field = (unsigned)ms;
	return 0;
}

static int parse_count(unsigned *field, const char *v, char *why, size_t whylen)
{
	unsigned long n;

	if (parse_uint(v, 1000000, 10, &n) < 0 || n == 0) {
		snprintf(why, whylen, "'%s' is not a count (1-1000000)", v);
		return -EINVAL;
	}
	*field = (unsigned)n;
	return 0;
}

static int parse_bool(bool *field, const char *v, char *why, size_t whylen)
{
	if (strcmp(v, "yes") == 0 || strcmp(v, "no") == 0) {
		*field = strcmp(v, "yes") == 0;
		return 0;
	}
	snprintf(why, whylen, "'%s' is not yes or no", v);
	return -EINVAL;
}

enum key {
	K_SOCKET, K_SOCKET_MODE, K_NETNS, K_RULES, K_APP_USERS, K_APP_GROUPS,
	K_ADMIN_USERS, K_ADMIN_GROUPS, K_STATS_TIMEOUT, K_APPLY_TIMEOUT,
	K_MAX_CONNS, K_MAX_CONNS_UID, K_REGISTER_TIMEOUT,
	K_XDP_PIN_DIR, K_XDP_MODE, K_MAX
};

static const char *const keys[K_MAX] = {
	[K_SOCKET] = "socket",
	[K_SOCKET_MODE] = "socket_mode",
	[K_NETNS] = "netns",
	[K_RULES] = "rules",
	[K_APP_USERS] = "app_users",
	[K_APP_GROUPS] = "app_groups",
	[K_ADMIN_USERS] = "admin_users",
	[K_ADMIN_GROUPS] = "admin_groups",
	[K_STATS_TIMEOUT] = "stats_timeout_ms",
	[K_APPLY_TIMEOUT] = "apply_timeout_ms",
	[K_MAX_CONNS] = "max_connections",
	[K_MAX_CONNS_UID] = "max_connections_per_uid",
	[K_REGISTER_TIMEOUT] = "register_timeout_ms",
	[K_XDP_PIN_DIR] = "xdp_pin_dir",
	[K_XDP_MODE] = "xdp_mode",
};

static int set_key(struct fnd_config *cfg, enum key k, char *v, char *why, size_t whylen)
{
	unsigned long mode;

	switch (k) {
	case K_SOCKET:
		if (v[0] != '/') {
			snprintf(why, whylen, "the socket path must be absolute");
			return -EINVAL;
		}
		free(cfg->socket);
		cfg->socket = NULL;
		return set_string(&cfg->socket, v, why, whylen);
	case K_SOCKET_MODE:
		if (parse_uint(v, 0777, 8, &mode) < 0) {
			snprintf(why, whylen, "'%s' is not an octal mode", v);
			return -EINVAL;
		}
		cfg->socket_mode = (mode_t)mode;
		return 0;
	case K_NETNS:
		free(cfg->netns);
		cfg->netns = NULL;
		return parse_netns(&cfg->netns, v, why, whylen);
	case K_RULES:
		return set_string(&cfg->rules, v, why, whylen);
	case K_APP_USERS:
		return parse_ids(v, false, &cfg->app_users, why, whylen);
	case K_APP_GROUPS:
		return parse_ids(v, true, &cfg->app_groups, why, whylen);
	case K_ADMIN_USERS:
		return parse_ids(v, false, &cfg->admin_users, why, whylen);
	case K_ADMIN_GROUPS:
		return parse_ids(v, true, &cfg->admin_groups, why, whylen);
	case K_STATS_TIMEOUT:
		return parse_ms(&cfg->stats_timeout_ms, v, why, whylen);
	case K_APPLY_TIMEOUT:
		return parse_ms(&cfg->apply_timeout_ms, v, why, whylen);
	case K_MAX_CONNS:
		return parse_count(&cfg->max_connections, v, why, whylen);
	case K_MAX_CONNS_UID:
		return parse_count(&cfg->max_connections_per_uid, v, why, whylen);
	case K_REGISTER_TIMEOUT:
		return parse_ms(&cfg->register_timeout_ms, v, why, whylen);
	case K_XDP_PIN_DIR:
		if (v[0] != '/') {
			snprintf(why, whylen, "the pin directory must be absolute");
			return -EINVAL;
		}
		free(cfg->xdp_pin_dir);
		cfg->xdp_pin_dir = NULL;
		return set_string(&cfg->xdp_pin_dir, v, why, whylen);
	case K_XDP_MODE:
		if (strcmp(v, "auto") == 0)
			cfg->xdp_mode = FND_XDP_AUTO;
		else if (strcmp(v, "native") == 0)
			cfg->xdp_mode = FND_XDP_NATIVE;
		else if (strcmp(v, "skb") == 0)
			cfg->xdp_mode = FND_XDP_SKB;
		else {
			snprintf(why, whylen, "'%s' is not auto, native or skb", v);
			return -EINVAL;
		}
		return 0;
	default:
		return -EINVAL;
	}
}

const struct fnd_app_config *fnd_config_app(const struct fnd_config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->n_apps; i++)
		if (strcmp(cfg->apps[i].name, name) == 0)
			return &cfg->apps[i];
	return NULL;
}

const char *fnd_config_app_refuses(const struct fnd_config *cfg, const char *name, uid_t uid,
				   gid_t gid, const gid_t *groups, int n_groups)
{
	const struct fnd_app_config *a = fnd_config_app(cfg, name);

	if (uid == 0 || a == NULL)
		return NULL;
	if (a->users.n == 0 && !a->users.any && a->groups.n == 0 && !a->groups.any)
		return a->ifname ? "this name is kernel-enforced: only root or its app.NAME.users/"
				   "groups may register it" : NULL;
	if (fnd_idlist_has(&a->users, uid) || fnd_idlist_has(&a->groups, gid))
		return NULL;
	for (int i = 0; i < n_groups; i++)
		if (fnd_idlist_has(&a->groups, groups[i]))
			return NULL;
	return "this name is bound to other users (app.NAME.users/groups)";
}

bool fnd_config_app_unfiltered(const struct fnd_config *cfg, const char *name)
{
	const struct fnd_app_config *a = fnd_config_app(cfg, name);

	return a && a->unfiltered;
}

/* The entry of application `name`, added on first mention. */
static struct fnd_app_config *app_entry(struct fnd_config *cfg, const char *name, size_t len,
					char *why, size_t whylen)
{
	struct fnd_app_config *a;

	for (size_t i = 0; i < cfg->n_apps; i++)
		if (strlen(cfg->apps[i].name) == len && memcmp(cfg->apps[i].name, name, len) == 0)
			return &cfg->apps[i];
	if (cfg->n_apps == FND_MAX_APPS) {
		snprintf(why, whylen, "more than %d applications", FND_MAX_APPS);
		return NULL;
	}
	a = realloc(cfg->apps, (cfg->n_apps + 1) * sizeof(*a));
	if (a == NULL)
		return NULL;
	cfg->apps = a;
	a = &cfg->apps[cfg->n_apps];
	memset(a, 0, sizeof(*a));
	a->name = strndup(name, len);
	if (a->name == NULL)
		return NULL;
	cfg->n_apps++;
	return a;
}

/*
 * app.NAME.FIELD = value. Names are what applications register with
 * (FN_CTL_NAME_MAX, letters, digits, '-', '_'); each field once per name.
 */
static int set_app_key(struct fnd_config *cfg, const char *key, char *v, char *why, size_t whylen)
{
	static const char *const fields[] = { "interface", "address", "fragments", "users",
					      "groups", "unfiltered" };
	const char *name = key + 4, *dot = strrchr(name, '.'), *field;
	struct fnd_app_config *a;
	struct in_addr in;
	size_t len, i;

	if (dot == NULL || dot == name) {
		snprintf(why, whylen, "expected app.NAME.FIELD");
		return -EINVAL;
	}
	len = (size_t)(dot - name);
	field = dot + 1;
	for (size_t k = 0; k < len; k++)
		if (!isalnum((unsigned char)name[k]) && name[k] != '-' && name[k] != '_') {
			snprintf(why, whylen, "bad application name");
			return -EINVAL;
		}
	if (len >= 64) {
		snprintf(why, whylen, "application name too long");
		return -EINVAL;
	}
	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (strcmp(field, fields[i]) == 0)
			break;
	if (i == sizeof(fields) / sizeof(fields[0])) {
		snprintf(why, whylen, "unknown field '%s' (interface, address, fragments, users, "
			 "groups, unfiltered)", field);
		return -EINVAL;
	}
	a = app_entry(cfg, name, len, why, whylen);
	if (a == NULL)
		return why[0] ? -EINVAL : -ENOMEM;
	if (a->given & (1u << i)) {
		snprintf(why, whylen, "given twice");
		return -EINVAL;
	}
	a->given |= 1u << i;
	switch (i) {
	case 0: /* interface */
		if (strlen(v) >= 16 || strchr(v, '/') || *v == '\0') {
			snprintf(why, whylen, "bad interface name '%s'", v);
			return -EINVAL;
		}
		return set_string(&a->ifname, v, why, whylen);
	case 1: /* address */
		if (inet_pton(AF_INET, v, &in) != 1 || in.s_addr == 0 || in.s_addr == INADDR_BROADCAST) {
			snprintf(why, whylen, "'%s' is not a unicast IPv4 address", v);
			return -EINVAL;
		}
		for (size_t j = 0; j < cfg->n_apps; j++)
			if (cfg->apps[j].addr == in.s_addr) {
				snprintf(why, whylen, "%s is already application %s's", v,
					 cfg->apps[j].name);
				return -EINVAL;
			}
		a->addr = in.s_addr;
		return 0;
	case 2: /* fragments */
		if (strcmp(v, "pass") && strcmp(v, "drop")) {
			snprintf(why, whylen, "'%s' is not pass or drop", v);
			return -EINVAL;
		}
		a->frag_drop = strcmp(v, "drop") == 0;
		return 0;
	case 3: /* users */
		return parse_ids(v, false, &a->users, why, whylen);
	case 4: /* groups */
		return parse_ids(v, true, &a->groups, why, whylen);
	default: /* unfiltered */
		return parse_bool(&a->unfiltered, v, why, whylen);
	}
}

/* A kernel-enforced application needs both its interface and its address. */
static int check_apps(const struct fnd_config *cfg, char *why, size_t whylen)
{
	for (size_t i = 0; i < cfg->n_apps; i++) {
		const struct fnd_app_config *a = &cfg->apps[i];

		if (!a->ifname != !a->addr) {
			snprintf(why, whylen, "application %s needs app.%s.interface and app.%s.address",
				 a->name, a->name, a->name);
			return -EINVAL;
		}
	}
	return 0;
}

static int defaults(struct fnd_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->socket = strdup(FRAGNET_DEFAULT_SOCKET);
	cfg->netns = strdup(FND_DEFAULT_NETNS);
	cfg->socket_mode = 0666;
	cfg->stats_timeout_ms = 500;
	cfg->apply_timeout_ms = 2000;
	cfg->max_connections = 1024;
	cfg->max_connections_per_uid = 64;
	cfg->register_timeout_ms = 5000;
	cfg->xdp_pin_dir = strdup(FND_DEFAULT_PIN_DIR);
	return cfg->socket && cfg->netns && cfg->xdp_pin_dir ? 0 : -ENOMEM;
}

int fnd_config_load(const char *path, struct fnd_config *cfg, char *err, size_t errlen)
{
	bool seen[K_MAX] = { false };
	char line[LINE_MAX_LEN], why[256];
	unsigned lineno = 0;
	FILE *f;
	int rc = defaults(cfg);

	if (rc < 0) {
		snprintf(err, errlen, "out of memory");
		return rc;
	}
	if (path == NULL)
		return 0;
	f = fopen(path, "re");
	if (f == NULL) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return rc;
	}
	while (fgets(line, sizeof(line), f)) {
		char *hash, *eq, *key, *val;
		enum key k;

		lineno++;
		if (strlen(line) == sizeof(line) - 1 && line[sizeof(line) - 2] != '\n') {
			snprintf(err, errlen, "%s:%u: line too long", path, lineno);
			rc = -EINVAL;
			break;
		}
		hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		key = trim(line);
		if (*key == '\0')
			continue;
		eq = strchr(key, '=');
		if (eq == NULL) {
			snprintf(err, errlen, "%s:%u: expected 'key = value'", path, lineno);
			rc = -EINVAL;
			break;
		}
		*eq = '\0';
		key = trim(key);
		val = trim(eq + 1);
		if (strncmp(key, "app.", 4) == 0) {
			why[0] = '\0';
			rc = set_app_key(cfg, key, val, why, sizeof(why));
			if (rc < 0) {
				snprintf(err, errlen, "%s:%u: %s: %s", path, lineno, key,
					 why[0] ? why : strerror(-rc));
				break;
			}
			continue;
		}
		for (k = 0; k < K_MAX; k++)
			if (strcmp(key, keys[k]) == 0)
				break;
		if (k == K_MAX) {
			snprintf(err, errlen, "%s:%u: unknown key '%s'", path, lineno, key);
			rc = -EINVAL;
			break;
		}
		if (seen[k]) {
			snprintf(err, errlen, "%s:%u: '%s' given twice", path, lineno, key);
			rc = -EINVAL;
			break;
		}
		seen[k] = true;
		why[0] = '\0';
		rc = set_key(cfg, k, val, why, sizeof(why));
		if (rc < 0) {
			snprintf(err, errlen, "%s:%u: %s: %s", path, lineno, key,
				 why[0] ? why : strerror(-rc));
			break;
		}
	}
	if (rc == 0 && ferror(f)) {
		rc = -EIO;
		snprintf(err, errlen, "%s: read error", path);
	}
	if (rc == 0 && (rc = check_apps(cfg, why, sizeof(why))) < 0)
		snprintf(err, errlen, "%s: %s", path, why);
	fclose(f);
	return rc;
}

void fnd_config_free(struct fnd_config *cfg)
{
	free(cfg->socket);
	free(cfg->netns);
	free(cfg->rules);
	free(cfg->app_users.ids);
	free(cfg->app_groups.ids);
	free(cfg->admin_users.ids);
	free(cfg->admin_groups.ids);
	for (size_t i = 0; i < cfg->n_apps; i++) {
		free(cfg->apps[i].name);
		free(cfg->apps[i].ifname);
		free(cfg->apps[i].users.ids);
		free(cfg->apps[i].groups.ids);
	}
	free(cfg->apps);
	free(cfg->xdp_pin_dir);
	memset(cfg, 0, sizeof(*cfg));
}
