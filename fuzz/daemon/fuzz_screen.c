/* SPDX-License-Identifier: BSD-3-Clause */
/* The screening of rules text from fragnetctl (daemon/screen.c). */
#include <stdint.h>
#include <string.h>

#include "screen.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256];

	if (fnd_screen_rules_text((const char *)data, size, err, sizeof(err)) < 0 &&
	    memchr(err, '\0', sizeof(err)) == NULL)
		__builtin_trap(); /* the message must always be a string */
	return 0;
}
