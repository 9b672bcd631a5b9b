/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fragnetctl's command line: the manual, the exit statuses it promises, and
 * what argv asks for, decided before anything talks to the daemon.
 */
#ifndef FNCTL_ARGS_H
#define FNCTL_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "ctl/proto.h"

/* Exit status, as the manual says. */
enum {
	FNCTL_EXIT_OK = 0,
	FNCTL_EXIT_REFUSED = 1,     /* the daemon said no (bad rules, bad request) */
	FNCTL_EXIT_USAGE = 2,
	FNCTL_EXIT_UNREACHABLE = 3, /* no daemon, no permission, or a broken reply */
	FNCTL_EXIT_NOT_APPLIED = 4, /* loaded, but not every application applied it */
};

/* fragnetctl's own commands, beside enum fn_ctl_command's requests. */
enum {
	FNCTL_CMD_CAPTURE = 0x100,  /* capture APP, trace APP: its own conversation
				     * (capture.c) */
};

struct fnctl_args {
	bool help;                  /* --help: print the manual, nothing else */
	unsigned command;           /* enum fn_ctl_command (ctl/proto.h) */
	unsigned flags;             /* FN_CTL_F_* */
	const char *socket;         /* -s, else $FRAGNET_DAEMON_SOCKET, else the default */
	const char *file;           /* load, check: the rules file, "-" for stdin */
	double interval;            /* stats --watch: seconds between reports, 0: once */
	long count;                 /* stats --watch: reports in all, 0: until interrupted */
	/* capture, trace */
	bool trace;                 /* trace: the rules packets went through */
	const char *app;            /* the application's name */
	unsigned queue;             /* -q, else FN_CTL_CAPTURE_ALL */
	unsigned long packets;      /* -c: stop after so many, 0: until interrupted */
	const char *write;          /* -w: the pcapng file ("-": stdout), NULL: text */
	unsigned snaplen;           /* -S */
	unsigned ring_bytes;        /* -B (given in KiB) */
	char filter[FN_CTL_FILTER_MAX]; /* the operands after APP, joined by spaces */
};

/*
 * Read argv (GNU order: options may follow the command; argv is permuted).
 * env_socket is $FRAGNET_DAEMON_SOCKET (NULL or empty: unset). Returns 0
 * with *a filled in, or FNCTL_EXIT_USAGE with one line saying what is wrong
 * in err. May be called again: it resets getopt itself.
 */
int fnctl_args_parse(int argc, char **argv, const char *env_socket, struct fnctl_args *a,
		     char *err, size_t errlen);

/* The manual (--help). */
void fnctl_usage(FILE *f);

#endif /* FNCTL_ARGS_H */
