/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fragnetctl capture: ask fragnetd for an application's capture rings, read
 * them until done, print one line a packet or write pcapng.
 */
#ifndef FNCTL_CAPTURE_H
#define FNCTL_CAPTURE_H

#include "args.h"

/* sock: connected to fragnetd, checked to be it. Returns the exit status
 * (messages printed). Closes sock. */
int fnctl_capture(int sock, const struct fnctl_args *a);

#endif /* FNCTL_CAPTURE_H */
