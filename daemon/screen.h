/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What rules text sent by fragnetctl may contain. The daemon loads it as
 * root; the sender may be an administrator without root's file access, so
 * the text must be self-contained: no `include` (nft would read any file,
 * and quote it in its error messages), no NUL bytes.
 */
#ifndef FND_SCREEN_H
#define FND_SCREEN_H

#include <stddef.h>

/* 0, or -EINVAL with the reason and line in err. */
int fnd_screen_rules_text(const char *text, size_t len, char *err, size_t errlen);

#endif /* FND_SCREEN_H */
