/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The real nft front end (libnftables) in one network namespace: load a
 * ruleset text there in one transaction, and list it back with handles.
 * Only the daemon's own namespaces are ever touched.
 */
#ifndef FND_NFTNS_H
#define FND_NFTNS_H

#include <stddef.h>

struct fnd_nft;

/* A context working in the namespace at ns_fd (borrowed). NULL + errno. */
struct fnd_nft *fnd_nft_new(int ns_fd);
void fnd_nft_free(struct fnd_nft *n);

/*
 * Replace the namespace's ruleset with `text` (len bytes): `flush ruleset`
 * and the text in one nft transaction, so it applies whole or not at all.
 * `source` names the text in nft's error messages. 0, or -EINVAL with nft's
 * message in err, or another -errno.
 */
int fnd_nft_replace_text(struct fnd_nft *n, const char *text, size_t len, const char *source,
			 char *err, size_t errlen);

/* The same from a file, or from every *.nft of a directory in name order. */
int fnd_nft_replace_path(struct fnd_nft *n, const char *path, char *err, size_t errlen);

/* `nft -a list ruleset` into a malloc'd *text. 0 or -errno with err. */
int fnd_nft_list(struct fnd_nft *n, char **text, char *err, size_t errlen);

#endif /* FND_NFTNS_H */
