/* SPDX-License-Identifier: BSD-3-Clause */
/* pcapng blocks (pcapng.h), in host byte order as the format allows. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pcapng.h"

#define BT_SHB 0x0a0d0d0au
#define BT_IDB 0x00000001u
#define BT_EPB 0x00000006u
#define BYTE_ORDER_MAGIC 0x1a2b3c4du
#define OPT_END 0
#define OPT_COMMENT 1
#define SHB_USERAPPL 4
#define IF_NAME 2
#define IF_TSRESOL 9
#define BLOCK_MAX (1u << 20)       /* far above a 65535-byte packet and its comment */

/* A block being built: type, length, body, options, length. */
struct block {
	uint8_t *b;
	size_t len;
};

static size_t pad4(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

static void put(struct block *k, const void *p, size_t n)
{
	memcpy(k->b + k->len, p, n);
	k->len += n;
	memset(k->b + k->len, 0, pad4(n) - n);
	k->len += pad4(n) - n;
}

static void put32(struct block *k, uint32_t v)
{
	put(k, &v, 4);
}

static void option(struct block *k, uint16_t code, const void *p, size_t n)
{
	uint16_t h[2] = { code, (uint16_t)n };

	put(k, h, sizeof(h));
	if (n)
		put(k, p, n);
}

static int begin(struct block *k, uint32_t type, size_t room)
{
	k->b = room <= BLOCK_MAX ? malloc(room) : NULL;
	k->len = 0;
	if (k->b == NULL)
		return room <= BLOCK_MAX ? -ENOMEM : -EINVAL;
	put32(k, type);
	put32(k, 0);                   /* the length, once known */
	return 0;
}

static int finish(FILE *f, struct block *k)
{
	uint32_t total;
	size_t n;

	option(k, OPT_END, NULL, 0);
	total = (uint32_t)(k->len + 4);
	memcpy(k->b + 4, &total, 4);
	put32(k, total);
	n = fwrite(k->b, 1, k->len, f);
	free(k->b);
	return n == total ? 0 : -EIO;
}

int fnctl_pcapng_section(FILE *f, const char *appl)
{
	struct block k;
	int64_t section_len = -1;      /* not known */
	uint16_t version[2] = { 1, 0 };
	size_t alen = strlen(appl);
	int rc = alen <= 0xffff ? begin(&k, BT_SHB, 64 + pad4(alen)) : -EINVAL;

	if (rc < 0)
		return rc;
	put32(&k, BYTE_ORDER_MAGIC);
	put(&k, version, sizeof(version));
	put(&k, &section_len, sizeof(section_len));
	option(&k, SHB_USERAPPL, appl, alen);
	return finish(f, &k);
}

int fnctl_pcapng_interface(FILE *f, uint16_t linktype, uint32_t snaplen, const char *name)
{
	struct block k;
	uint16_t lt[2] = { linktype, 0 };
	uint8_t tsresol = 9;           /* 10^-9: nanoseconds */
	size_t nlen = strlen(name);
	int rc = nlen <= 0xffff ? begin(&k, BT_IDB, 64 + pad4(nlen)) : -EINVAL;

	if (rc < 0)
		return rc;
	put(&k, lt, sizeof(lt));
	put32(&k, snaplen);
	option(&k, IF_NAME, name, nlen);
	option(&k, IF_TSRESOL, &tsresol, 1);
	return finish(f, &k);
}

int fnctl_pcapng_packet(FILE *f, uint32_t ifid, uint64_t ts_ns, const void *data,
			uint32_t cap_len, uint32_t orig_len, const char *comment)
{
	struct block k;
	size_t clen = comment ? strlen(comment) : 0;
	int rc;

	if (cap_len > orig_len || clen > 0xffff)
		return -EINVAL;
	rc = begin(&k, BT_EPB, 64 + pad4(cap_len) + pad4(clen));
	if (rc < 0)
		return rc;
	put32(&k, ifid);
	put32(&k, (uint32_t)(ts_ns >> 32));
	put32(&k, (uint32_t)ts_ns);
	put32(&k, cap_len);
	put32(&k, orig_len);
	if (cap_len)
		put(&k, data, cap_len);
	if (clen)
		option(&k, OPT_COMMENT, comment, clen);
	return finish(f, &k);
}
