/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A generation: one consistent snapshot of the compile namespace, lowered
 * for every application it can filter. Each ip/inet table NAME gives the
 * image for applications named NAME (inet NAME first, as the compiler
 * chooses); every other application gets table inet fragnet, or when
 * there is none an image whose input chain drops every packet: no
 * application runs unfiltered by accident. Only those the configuration
 * names (app.NAME.unfiltered) get an image without chains instead. Every
 * table must lower, or the snapshot is refused whole.
 *
 * Images reach applications as memfds that are written (never mapped),
 * then sealed F_SEAL_WRITE|F_SEAL_SHRINK|F_SEAL_GROW|F_SEAL_SEAL: from then
 * on nobody, the daemon included, can change them.
 */
#ifndef FND_GENERATION_H
#define FND_GENERATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct fn_compiler;
struct fnd_nft;

struct fnd_image {
	char *key;             /* application name it serves; NULL: the fallback */
	char *table;           /* "inet echo", "ip echo", or "" for no table */
	bool refuse;           /* no table: every input packet dropped */
	void *bytes;
	size_t len;
	int memfd;             /* sealed copy, made on first use; -1 until then */
};

struct fnd_generation {
	uint64_t number;       /* the daemon's, from 1; 0 until published */
	uint64_t nft_gen;      /* nftables generation it was lowered from */
	char *text;            /* `nft -a list ruleset` of that generation */
	struct fnd_image fallback; /* inet fragnet, or the refusing image */
	struct fnd_image open;     /* without inet fragnet: nothing filtered */
	struct fnd_image *images;
	size_t n_images;
	unsigned users;        /* holds by applications (ruleset.c keeps it while > 0) */
	struct fnd_generation *next;
};

/*
 * Snapshot the namespace (nft lists it, the compiler lowers each table) and
 * retry while it changes underneath. 0 with *out, or -errno with the
 * compiler's message (naming table, chain, rule handle and expression) in
 * err; then the rule's text is appended when the listing has it.
 */
int fnd_generation_build(struct fn_compiler *c, struct fnd_nft *nft,
			 struct fnd_generation **out, char *err, size_t errlen);
void fnd_generation_free(struct fnd_generation *g);

/* The image application `app` gets; `unfiltered`: the configuration lets
 * it run unfiltered when no table is for it. */
struct fnd_image *fnd_generation_image(struct fnd_generation *g, const char *app,
				       bool unfiltered);
/* Its table for logs: "inet echo", or what having none means. */
const char *fnd_image_table_name(const struct fnd_image *im);

/* Same tables, same images (apart from the nftables generation number). */
bool fnd_generation_same(const struct fnd_generation *a, const struct fnd_generation *b);

/* The image's sealed memfd (kept with the image). -errno on failure. */
int fnd_image_memfd(struct fnd_image *im, uint64_t generation);

#endif /* FND_GENERATION_H */
