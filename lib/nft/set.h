/* SPDX-License-Identifier: BSD-3-Clause */
/* Set search: hash O(1), intervals O(log n), concatenated ranges linear. */
#ifndef FN_NFT_SET_H
#define FN_NFT_SET_H

#include "nft.h"

/* The element matching key (key_len bytes in register layout), or NULL.
 * The catch-all element is not considered. */
const uint8_t *fn_set_find(const struct fn_nft_prog *p, const struct fn_img_set *s,
			   const uint32_t *key);

static inline const uint8_t *fn_set_elem(const struct fn_nft_prog *p,
					 const struct fn_img_set *s, uint32_t i)
{
	return p->set_data + s->elems + (size_t)i * s->elem_size;
}

/* An element's data (map value or struct fn_img_vdata). */
static inline const uint8_t *fn_set_elem_data(const struct fn_img_set *s,
					      const uint8_t *e)
{
	return e + s->elem_size - fn_img_round4(s->data_len);
}

#endif /* FN_NFT_SET_H */
