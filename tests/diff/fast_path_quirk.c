/* SPDX-License-Identifier: BSD-3-Clause */
/* The kernel's payload fast path on non-first fragments (see the header). */
#include <stdlib.h>
#include <string.h>

#include "fast_path_quirk.h"
#include "nft/image.h"

/* nft_payload_select_ops(): which loads take nft_payload_fast_ops. */
static int fast_path(unsigned len, unsigned offset)
{
	return (len == 1 || len == 2 || len == 4) && offset % len == 0;
}

/* Rewrite one load's base and offset; 1 if rewritten, -1 if it cannot be. */
static int rewrite(uint8_t *base, uint8_t *offset, unsigned len, unsigned ihl)
{
	if (*base != FN_PAYLOAD_TRANSPORT || !fast_path(len, *offset))
		return 0;
	if (ihl + *offset > 255)
		return -1;
	*base = FN_PAYLOAD_NETWORK;
	*offset = (uint8_t)(ihl + *offset);
	return 1;
}

int fn_quirk_fast_payload_image(const void *image, size_t len, unsigned ihl, void **out)
{
	const struct fn_img_header *h = image;
	uint8_t *img = malloc(len);
	int n = 0;

	*out = NULL;
	if (!img)
		return -1;
	memcpy(img, image, len);
	/* the image was verified when it was loaded: its sections are sound */
	const struct fn_img_rule *rules = (const void *)(img + h->rules.off);
	uint8_t *code = img + h->code.off;

	for (uint32_t r = 0; r < h->n_rules; r++) {
		uint8_t *p = code + rules[r].code_off, *end = p + rules[r].code_len;

		while (p < end) {
			struct fn_op *op = (struct fn_op *)p;
			int done = 0;

			if (op->type == FN_OP_PAYLOAD) {
				struct fn_op_payload *o = (void *)op;

				done = rewrite(&o->base, &o->offset, o->len, ihl);
			} else if (op->type == FN_OP_PAYLOAD_CMP) {
				struct fn_op_payload_cmp *o = (void *)op;

				done = rewrite(&o->base, &o->offset, o->len, ihl);
			}
			if (done < 0) {
				free(img);
				return -1;
			}
			n += done;
			p += op->size * 4u;
		}
	}
	*out = img;
	return n;
}
