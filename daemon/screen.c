/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Screening rules text from fragnetctl (screen.h). A word-level scan that
 * knows nft's comments (# to the end of the line) and strings ("..."), so a
 * comment or a string that says include is fine and a statement is not.
 */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "screen.h"

int fnd_screen_rules_text(const char *text, size_t len, char *err, size_t errlen)
{
	bool in_string = false, in_comment = false, word_start = true;
	unsigned line = 1;

	for (size_t i = 0; i < len; i++) {
		char c = text[i];

		if (c == '\0') {
			snprintf(err, errlen, "line %u: the rules text contains a NUL byte", line);
			return -EINVAL;
		}
		if (c == '\n') {
			line++;
			in_comment = false;
			in_string = false; /* nft strings do not span lines */
			word_start = true;
			continue;
		}
		if (in_comment)
			continue;
		if (in_string) {
			if (c == '"')
				in_string = false;
			continue;
		}
		if (c == '#') {
			in_comment = true;
			continue;
		}
		if (c == '"') {
			in_string = true;
			continue;
		}
		if (word_start && len - i >= 7 && memcmp(text + i, "include", 7) == 0 &&
		    (len - i == 7 || !(isalnum((unsigned char)text[i + 7]) ||
				       text[i + 7] == '_'))) {
			snprintf(err, errlen, "line %u: 'include' is not accepted in rules sent "
				 "to fragnetd: send one self-contained file", line);
			return -EINVAL;
		}
		word_start = !(isalnum((unsigned char)c) || c == '_' || c == '-' || c == '.' ||
			       c == '$' || c == '@');
	}
	return 0;
}
