/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fragnetctl capture and trace: ask fragnetd for an application's capture
 * rings, read them until done, print one line a packet or write pcapng; or,
 * for a trace, print each traced packet with the rules it went through.
 */
#ifndef FNCTL_CAPTURE_H
#define FNCTL_CAPTURE_H

#include "args.h"

/* sock: connected to fragnetd, checked to be it; ruleset: `list ruleset`
 * text for a trace's rule text (NULL: handles only). Returns the exit
 * status (messages printed). Closes sock. */
int fnctl_capture(int sock, const struct fnctl_args *a, const char *ruleset);

#endif /* FNCTL_CAPTURE_H */
