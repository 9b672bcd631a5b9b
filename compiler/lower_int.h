/* SPDX-License-Identifier: BSD-3-Clause */
/* Private to the lowering: its context, shared by lower*.c. */
#ifndef FN_COMPILER_LOWER_INT_H
#define FN_COMPILER_LOWER_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "dump.h"
#include "nft/builder.h"
#include "nft/image.h"

struct nftnl_expr;

struct lchain {
	const char *name;
	uint64_t handle;
	int32_t prio;
	uint8_t hook;            /* enum fn_hook or FN_CHAIN_REGULAR */
	uint8_t policy;
	uint32_t idx;            /* image chain index */
};

/* One op of the rule being lowered, before fusion. */
struct lop {
	union {
		struct fn_op h;
		uint32_t w[40];
	} u;
	uint32_t reads;          /* register words read (bit per word) */
	uint32_t writes;         /* register words written */
};

#define MAX_RULE_OPS 128

struct lower {
	const struct fn_dump *d;
	struct fn_imgb *b;
	char table[80];          /* "inet fragnet" */
	struct lchain *chains;
	size_t n_chains;
	uint32_t *set_idx;       /* per dumped set: image set, FN_IMG_NONE */
	uint32_t *obj_slot;      /* per dumped object: slot, FN_IMG_NONE */
	bool conntrack;
	uint32_t connlimits;     /* ct count lists handed out */
	/* where we are, for messages */
	const char *chain;
	bool in_rule;
	uint64_t handle;
	unsigned expr_no;
	const char *expr_name;
	/* the rule being lowered */
	struct lop ops[MAX_RULE_OPS];
	unsigned n_ops;
	char *err;
	size_t errlen;
};

/* Format a refusal at the current position; returns `ret`. */
int fn_lower_fail(struct lower *l, int ret, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Lower one expression of the current rule into l->ops. */
int fn_lower_expr(struct lower *l, struct nftnl_expr *e);

/* The image index of the set named `name`, lowering it on first use. */
int fn_lower_set_ref(struct lower *l, const char *name, uint32_t *idx);

/* The slot of the named object `name` of type `type` (NFT_OBJECT_*). */
int fn_lower_obj_slot(struct lower *l, uint32_t type, const char *name, uint32_t *slot);

/* The image index of chain `name` (a jump target). */
int fn_lower_chain_ref(struct lower *l, const char *name, uint32_t *idx);

/* A verdict code from the kernel (immediate or map element) as image data. */
int fn_lower_verdict(struct lower *l, int32_t code, const char *chain,
		     struct fn_img_vdata *vd);

#endif /* FN_COMPILER_LOWER_INT_H */
