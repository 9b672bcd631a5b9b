/* SPDX-License-Identifier: BSD-3-Clause */
/* Rule text by chain and handle from a ruleset listing (rule_text.h). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rule_text.h"

struct rule {
	char *chain;               /* into the copy */
	uint64_t handle;
	char *text;
};

struct fnctl_rule_text {
	char *copy;                /* the section, cut into strings in place */
	struct rule *rules;
	size_t n;
};

/* "counter packets 12 bytes 345" -> "counter": the numbers are fragnetd's
 * at the time of the listing, not the packet's. */
static void drop_counts(char *s)
{
	static const char word[] = "counter packets ";

	for (char *p = strstr(s, word); p; p = strstr(p + 7, word)) {
		char *q = p + sizeof(word) - 1;
		unsigned long long a, b;
		int used = 0;

		if (sscanf(q, "%llu bytes %llu%n", &a, &b, &used) == 2 && used > 0)
			memmove(p + 7, q + used, strlen(q + used) + 1);
	}
}

/* One line of the section: a chain opens, or a rule with its handle. */
static int add_line(struct fnctl_rule_text *rt, char *line, char **chain, size_t *cap)
{
	char *mark, *name;
	uint64_t handle;

	while (*line == '\t' || *line == ' ')
		line++;
	if (strncmp(line, "chain ", 6) == 0) {
		name = line + 6;
		name[strcspn(name, " {")] = '\0';
		*chain = name;
		return 0;
	}
	mark = strstr(line, " # handle ");
	if (*chain == NULL || mark == NULL || sscanf(mark + 10, "%" SCNu64, &handle) != 1 ||
	    strncmp(line, "type ", 5) == 0 || strncmp(line, "policy ", 7) == 0)
		return 0;
	*mark = '\0';
	drop_counts(line);
	if (rt->n == *cap) {
		struct rule *r = realloc(rt->rules, (*cap ? 2 * *cap : 32) * sizeof(*r));

		if (r == NULL)
			return -1;
		rt->rules = r;
		*cap = *cap ? 2 * *cap : 32;
	}
	rt->rules[rt->n++] = (struct rule){ .chain = *chain, .handle = handle, .text = line };
	return 0;
}

struct fnctl_rule_text *fnctl_rule_text_new(const char *listing, const char *app,
					    unsigned pid)
{
	struct fnctl_rule_text *rt;
	char head[128], *line, *next, *chain = NULL;
	const char *start, *end;
	size_t cap = 0;

	snprintf(head, sizeof(head), "\n# %s[%u]:", app, pid);
	start = listing ? strstr(listing, head) : NULL;
	if (start == NULL)
		return NULL;
	start++;
	end = strstr(start + 1, "\n# ");
	end = end ? end : start + strlen(start);
	rt = calloc(1, sizeof(*rt));
	if (rt == NULL || (rt->copy = strndup(start, (size_t)(end - start))) == NULL)
		goto fail;
	for (line = rt->copy; line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (add_line(rt, line, &chain, &cap) < 0)
			goto fail;
	}
	return rt;
fail:
	fnctl_rule_text_free(rt);
	return NULL;
}

void fnctl_rule_text_free(struct fnctl_rule_text *rt)
{
	if (rt == NULL)
		return;
	free(rt->rules);
	free(rt->copy);
	free(rt);
}

const char *fnctl_rule_text(const struct fnctl_rule_text *rt, const char *chain,
			    uint64_t handle)
{
	for (size_t i = 0; rt && i < rt->n; i++)
		if (rt->rules[i].handle == handle && strcmp(rt->rules[i].chain, chain) == 0)
			return rt->rules[i].text;
	return NULL;
}
