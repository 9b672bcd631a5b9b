/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fragnetd's configuration file: `key = value` lines, `#` comments, blank
 * lines ignored. Every key is optional; an unknown key, a repeated key or a
 * bad value is an error naming the line. See README.md for the keys.
 */
#ifndef FND_CONFIG_H
#define FND_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define FND_DEFAULT_CONFIG "/etc/fragnet/fragnetd.conf"
#define FND_DEFAULT_NETNS "fragnet"
#define FND_DEFAULT_PIN_DIR "/sys/fs/bpf/fragnet"

/* Users or groups allowed in a role: ids, or everyone. */
struct fnd_idlist {
	bool any;
	unsigned *ids;
	size_t n;
};

/* What the configuration says about one application name (app.NAME.* keys). */
struct fnd_app_config {
	char *name;                /* the application name it registers with */
	/* Who may register under this name (besides root); both empty: anyone
	 * allowed to register, unless the name is kernel-enforced. */
	struct fnd_idlist users, groups;
	/* Without a table of its own or inet fragnet, run unfiltered instead of
	 * having every input packet dropped. */
	bool unfiltered;
	/* Kernel enforcement, when ifname is set: served through fragnetd's XDP
	 * program. */
	char *ifname;              /* interface the program is attached to */
	uint32_t addr;             /* its dedicated IPv4 address, network order */
	bool frag_drop;            /* drop fragments in the kernel (fragments = drop) */
	unsigned given;            /* the fields set, by config.c's index: each once */
};

#define FND_MAX_APPS 64

enum fnd_xdp_mode { FND_XDP_AUTO, FND_XDP_NATIVE, FND_XDP_SKB };

struct fnd_config {
	char *socket;              /* unix socket path */
	mode_t socket_mode;        /* permissions of the socket file */
	char *netns;               /* the compile namespace, under /run/netns */
	char *rules;               /* rules file or directory; NULL: none */
	struct fnd_idlist app_users, app_groups;     /* may register applications */
	struct fnd_idlist admin_users, admin_groups; /* may run fragnetctl */
	unsigned stats_timeout_ms; /* how long a query waits for applications */
	unsigned apply_timeout_ms; /* how long `load` waits for applications */
	/* Connections: what a local user can make the daemon hold. */
	unsigned max_connections;  /* open at once, everyone together */
	unsigned max_connections_per_uid; /* open at once by one uid (root: no limit) */
	unsigned register_timeout_ms; /* to register (HELLO) or send a request */
	/* Kernel enforcement: applications whose traffic fragnetd steers and
	 * filters in XDP, and where the program's maps are pinned. */
	struct fnd_app_config *apps;
	size_t n_apps;
	char *xdp_pin_dir;
	enum fnd_xdp_mode xdp_mode;
};

/* The app.NAME.* entry of application `name`, or NULL. */
const struct fnd_app_config *fnd_config_app(const struct fnd_config *cfg, const char *name);
/* Whether a peer with uid, primary gid and supplementary groups may
 * register as `name`. NULL when it may; else why not, for the peer. */
const char *fnd_config_app_refuses(const struct fnd_config *cfg, const char *name, uid_t uid,
				   gid_t gid, const gid_t *groups, int n_groups);
/* Whether application `name` runs unfiltered when no table is for it. */
bool fnd_config_app_unfiltered(const struct fnd_config *cfg, const char *name);

/* Defaults, then the file (NULL path: defaults only). 0 or -errno with the
 * reason in err ("fragnetd.conf:7: unknown key 'sokcet'"). */
int fnd_config_load(const char *path, struct fnd_config *cfg, char *err, size_t errlen);
void fnd_config_free(struct fnd_config *cfg);

bool fnd_idlist_has(const struct fnd_idlist *l, unsigned id);

#endif /* FND_CONFIG_H */
