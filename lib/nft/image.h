/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The lowered rules image: the one format shared by the compiler (daemon/)
 * and the interpreter (lib/nft/).
 *
 * An image is a single read-only byte blob, mapped from a sealed memfd or a
 * file. It holds no pointers: every reference is an offset into one of the
 * sections named by the header, or an index into one of its arrays, so it
 * means the same at any address. It is self-contained: one table's chains,
 * rules, sets, named objects and strings.
 *
 * Nothing here is trusted until fn_nft_verify() has accepted the whole image
 * (see verify.c for the list of checks); after that the interpreter only
 * checks packet bounds.
 *
 * Integers are in host byte order (images are built and used on one host;
 * the magic number catches a foreign byte order). Packet data (cmp operands,
 * set keys) is in register layout: the bytes exactly as the kernel's
 * registers would hold them.
 */
#ifndef FN_NFT_IMAGE_H
#define FN_NFT_IMAGE_H

#include <stdint.h>
#include <string.h>

#define FN_IMG_MAGIC 0x4e544e46u /* "FNTN" read as a little-endian u32 */
#define FN_IMG_VERSION 4

/* The kernel's 16 data registers of 32 bits (NFT_REG32_00..15). Image
 * register r is kernel register word r + 4 (words 0-3 are the verdict). */
#define FN_NREGS 16
#define FN_REGS_BYTES (FN_NREGS * 4)
/* A register operand that names the verdict instead of data (lookup dreg of
 * a verdict map). */
#define FN_REG_VERDICT 0xff
#define FN_REG_NONE 0xfe

/* Deepest jump stack, as the kernel's NFT_JUMP_STACK_SIZE. */
#define FN_JUMP_STACK 16

#define FN_IMG_NONE 0xffffffffu

/* A byte range of the image. */
struct fn_img_section {
	uint32_t off;
	uint32_t len;
};

/* Families we lower (NFPROTO_*). */
enum fn_img_family {
	FN_FAMILY_INET = 1,
	FN_FAMILY_IPV4 = 2,
};

/* fn_img_header.flags */
#define FN_IMG_F_CONNTRACK 0x1u /* some rule uses ct: track flows, defragment
				 * before prerouting, as the kernel does once
				 * conntrack is active in a namespace */

struct fn_img_header {
	uint32_t magic;
	uint16_t version;
	uint16_t header_len;  /* sizeof(struct fn_img_header) */
	uint32_t image_len;   /* the whole image */
	uint32_t flags;       /* FN_IMG_F_* */
	uint32_t family;      /* enum fn_img_family */
	uint32_t table_name;  /* string */
	uint64_t source_gen;  /* nftables generation it was compiled from */
	/* Base chains of hook h are chains[hook_first[h] .. + hook_count[h]],
	 * in the order they run (ascending priority). */
	uint16_t hook_first[5];
	uint16_t hook_count[5];
	uint32_t n_chains, n_rules, n_sets;
	uint32_t n_counters, n_limits, n_quotas, n_logs, n_objects;
	struct fn_img_section chains;   /* struct fn_img_chain[n_chains] */
	struct fn_img_section rules;    /* struct fn_img_rule[n_rules] */
	struct fn_img_section code;     /* ops, 4-byte aligned */
	struct fn_img_section sets;     /* struct fn_img_set[n_sets] */
	struct fn_img_section set_data; /* element arrays and hash buckets */
	struct fn_img_section counters; /* struct fn_img_counter[n_counters] */
	struct fn_img_section limits;   /* struct fn_img_limit[n_limits] */
	struct fn_img_section quotas;   /* struct fn_img_quota[n_quotas] */
	struct fn_img_section logs;     /* struct fn_img_log[n_logs] */
	struct fn_img_section objects;  /* struct fn_img_object[n_objects] */
	struct fn_img_section strings;  /* NUL-terminated; offset 0 is "" */
	struct fn_img_section classify; /* classifier tables (fn_img_classify) */
};

#define FN_CHAIN_REGULAR 0xff  /* fn_img_chain.hook of a non-base chain */

enum fn_img_policy {
	FN_POLICY_DROP = 0,
	FN_POLICY_ACCEPT = 1,
};

/* Base chains come first (grouped by hook, ascending priority), then the
 * regular chains. A chain's rules are consecutive in rules[]. */
struct fn_img_chain {
	uint32_t name;        /* string */
	uint32_t first_rule;
	uint32_t n_rules;
	int32_t priority;
	uint8_t hook;         /* enum fn_hook, or FN_CHAIN_REGULAR */
	uint8_t policy;       /* enum fn_img_policy (base chains) */
	uint16_t pad;
};

/* A rule is the ops in code[code_off, code_off + code_len). */
struct fn_img_rule {
	uint64_t handle;
	uint32_t code_off;
	uint32_t code_len;
};

/* Verdict codes: the kernel's values (NF_DROP, NF_ACCEPT, NFT_*). */
enum fn_img_verdict {
	FN_V_DROP = 0,
	FN_V_ACCEPT = 1,
	FN_V_CONTINUE = -1,
	FN_V_BREAK = -2,
	FN_V_JUMP = -3,
	FN_V_GOTO = -4,
	FN_V_RETURN = -5,
};

/* A verdict as data (immediate verdicts and verdict-map elements). */
struct fn_img_vdata {
	int32_t code;         /* enum fn_img_verdict */
	uint32_t chain;       /* target chain index for JUMP/GOTO, else 0 */
};

/*
 * Ops. Every op starts with its type and its size in 32-bit words (header
 * included), so the verifier and the interpreter can step over any op.
 * Data operands are stored as 32-bit words: `len` bytes, zero padded.
 */
enum fn_op_type {
	FN_OP_INVALID = 0,
	/* The hot ops: tested inline by the interpreter, in this order. */
	FN_OP_PAYLOAD_CMP,    /* fused payload load + cmp */
	FN_OP_META_CMP,       /* fused meta load + cmp */
	FN_OP_CMP,
	FN_OP_PAYLOAD,
	FN_OP_VERDICT,
	FN_OP_LOOKUP,
	/* The rest, through the registry. */
	FN_OP_META,
	FN_OP_META_SET,
	FN_OP_RANGE,
	FN_OP_BITWISE,
	FN_OP_SHIFT,
	FN_OP_BYTEORDER,
	FN_OP_IMMEDIATE,
	FN_OP_PAYLOAD_SET,
	FN_OP_COUNTER,
	FN_OP_LIMIT,
	FN_OP_QUOTA,
	FN_OP_CT,
	FN_OP_CT_SET,
	FN_OP_REJECT,
	FN_OP_LOG,
	FN_OP_DYNSET,
	FN_OP_OBJREF_MAP,
	FN_OP_CONNLIMIT,
	FN_OP_CLASSIFY,
	FN_OP_MAX
};

struct fn_op {
	uint8_t type;         /* enum fn_op_type */
	uint8_t size;         /* in 32-bit words, this header included */
};

/* Payload bases (NFT_PAYLOAD_*). */
enum fn_payload_base {
	FN_PAYLOAD_LINK = 0,
	FN_PAYLOAD_NETWORK = 1,
	FN_PAYLOAD_TRANSPORT = 2,
	/* @ih: the bytes after the transport header (the UDP payload); see
	 * fn_nft_ctx.base_ptr for where it starts per protocol */
	FN_PAYLOAD_INNER = 3,
};

/* cmp and range operators (NFT_CMP_*, NFT_RANGE_*). */
enum fn_cmp_op {
	FN_CMP_EQ = 0,
	FN_CMP_NEQ,
	FN_CMP_LT,
	FN_CMP_LTE,
	FN_CMP_GT,
	FN_CMP_GTE,
};

struct fn_op_payload {
	struct fn_op h;
	uint8_t base, offset, len, dreg;
	uint8_t pad[2];
};

/* payload load into a scratch buffer, then cmp: used when the register
 * written by the load is not read again by the rule. */
struct fn_op_payload_cmp {
	struct fn_op h;
	uint8_t base, offset, len, op;
	uint8_t pad[2];
	uint32_t data[];      /* len bytes */
};

struct fn_op_cmp {
	struct fn_op h;
	uint8_t sreg, op, len;
	uint8_t pad[3];
	uint32_t data[];
};

/* Meta keys (NFT_META_*) that we can reproduce. */
enum fn_meta_key {
	FN_META_LEN = 0,
	FN_META_PROTOCOL = 1,
	FN_META_MARK = 3,
	FN_META_IIF = 4,
	FN_META_OIF = 5,
	FN_META_IIFNAME = 6,
	FN_META_OIFNAME = 7,
	FN_META_IIFTYPE = 8,
	FN_META_OIFTYPE = 9,
	FN_META_NFPROTO = 15,
	FN_META_L4PROTO = 16,
	FN_META_PKTTYPE = 19,
	FN_META_CPU = 20,
	FN_META_TIME_NS = 30,
	FN_META_TIME_DAY = 31,
	FN_META_TIME_HOUR = 32,
};

struct fn_op_meta {
	struct fn_op h;
	uint8_t key, dreg;
};

struct fn_op_meta_cmp {
	struct fn_op h;
	uint8_t key, op, len;
	uint8_t pad[3];
	uint32_t data[];
};

struct fn_op_meta_set {
	struct fn_op h;
	uint8_t key, sreg;    /* key: FN_META_MARK only */
};

struct fn_op_range {
	struct fn_op h;
	uint8_t sreg, op, len; /* op: FN_CMP_EQ or FN_CMP_NEQ */
	uint8_t pad[3];
	uint32_t data[];      /* from, then to; each len bytes in words */
};

/* dreg = (sreg & mask) ^ xor over len bytes. */
struct fn_op_bitwise {
	struct fn_op h;
	uint8_t sreg, dreg, len;
	uint8_t pad[3];
	uint32_t data[];      /* mask, then xor */
};

enum fn_shift_op {
	FN_SHIFT_LEFT = 1,    /* NFT_BITWISE_LSHIFT */
	FN_SHIFT_RIGHT = 2,
};

/* dreg = sreg shifted by `shift` bits, word by word in host order with the
 * carry between words, as the kernel's bitwise lshift/rshift. */
struct fn_op_shift {
	struct fn_op h;
	uint8_t sreg, dreg, len, op;
	uint8_t shift;
	uint8_t pad;
};

enum fn_byteorder_op {
	FN_NTOH = 0,
	FN_HTON = 1,
};

struct fn_op_byteorder {
	struct fn_op h;
	uint8_t sreg, dreg, op, len, size; /* size 2, 4 or 8 */
	uint8_t pad;
};

struct fn_op_immediate {
	struct fn_op h;
	uint8_t dreg, len;
	uint32_t data[];
};

struct fn_op_verdict {
	struct fn_op h;
	uint8_t pad[2];
	struct fn_img_vdata v;
};

/* Set lookup. dreg: a data register for maps, FN_REG_VERDICT for verdict
 * maps, FN_REG_NONE for plain sets. */
struct fn_op_lookup {
	struct fn_op h;
	uint8_t sreg, dreg;
	uint8_t invert;
	uint8_t pad[3];
	uint32_t set;
};

/* dynset (nft_dynset.c): add or update the packet's key in a dynamic set,
 * then run the element's own expression, if any: a limit or a ct count. */
enum fn_dynset_op {
	FN_DYNSET_ADD = 0,    /* NFT_DYNSET_OP_ADD: an existing element is kept */
	FN_DYNSET_UPDATE = 1, /* NFT_DYNSET_OP_UPDATE: also restarts its timeout */
};

struct fn_op_dynset {
	struct fn_op h;
	uint8_t sreg, op;     /* op: enum fn_dynset_op */
	uint32_t set;         /* a set with FN_SET_F_DYNAMIC */
	uint32_t limit;       /* limits[] slot whose parameters every element's
			       * own bucket takes, or FN_IMG_NONE */
	uint32_t timeout_ms[2]; /* u64 (read with memcpy); 0: the set's */
	uint32_t ct_count;    /* FN_DYNSET_F_CT_COUNT: the element's limit */
	uint8_t flags;        /* FN_DYNSET_F_* */
	uint8_t pad[3];
};

/* fn_op_dynset.flags. A ct count gives each new element its own list of
 * connections (nft_connlimit cloned per element); with a limit it is
 * refused (one expression per element). */
#define FN_DYNSET_F_CT_COUNT 0x1u      /* `ct count [over] N` per element */
#define FN_DYNSET_F_CT_COUNT_OVER 0x2u /* "over" */

/* objref with a map (nft_objref_map_eval): the named object of type `type`
 * that the packet's key selects in object map `set`; no element (and no
 * catch-all) is BREAK. The object then acts as its counter/quota/limit op
 * would. */
struct fn_op_objref_map {
	struct fn_op h;
	uint8_t sreg, type;   /* type: enum fn_obj_type */
	uint32_t set;         /* a set with FN_SET_F_OBJMAP of that type */
};

/* Checksum fixups of payload set (NFT_PAYLOAD_CSUM_*, L4CSUM flag). */
#define FN_CSUM_NONE 0
#define FN_CSUM_INET 1
#define FN_CSUM_F_L4 0x1

struct fn_op_payload_set {
	struct fn_op h;
	uint8_t base, offset, len, sreg;
	uint8_t csum_type, csum_offset, csum_flags;
	uint8_t pad[3];
};

/* Counter slot: a rule's counter expression or a named counter object. */
struct fn_op_slot {
	struct fn_op h;
	uint8_t pad[2];
	uint32_t slot;
};

/* ct keys (NFT_CT_*) that we can reproduce. Register layout as the
 * kernel's: addresses and ports in network order, counters host-order u64,
 * expiration in ms as a host-order u32, labels 16 bytes of bits. */
enum fn_ct_key {
	FN_CT_STATE = 0,
	FN_CT_DIRECTION = 1,
	FN_CT_STATUS = 2,
	FN_CT_MARK = 3,
	FN_CT_L3PROTO = 10,
	FN_CT_PROTOCOL = 12,
	FN_CT_SRC_IP = 13,    /* of the tuple of `dir` */
	FN_CT_DST_IP = 14,
	FN_CT_PROTO_SRC = 15, /* UDP port, ICMP id; 0 for other protocols */
	FN_CT_PROTO_DST = 16, /* UDP port, ICMP type and code */
	FN_CT_PKTS = 17,      /* accounting of `dir`, or of both */
	FN_CT_BYTES = 18,
	FN_CT_AVGPKT = 19,    /* bytes / packets, 0 without packets */
	FN_CT_EXPIRATION = 20,
	FN_CT_ID = 21,
	FN_CT_LABELS = 22,
};

/* fn_op_ct.dir: the kernel's IP_CT_DIR_* + 1, so that 0 is its
 * IP_CT_DIR_MAX, what it uses when a rule names no direction. */
enum fn_ct_dir {
	FN_CT_DIR_NONE = 0,   /* counters: both directions summed */
	FN_CT_DIR_ORIGINAL = 1,
	FN_CT_DIR_REPLY = 2,
};

struct fn_op_ct {
	struct fn_op h;
	uint8_t key, dreg;
	uint8_t dir;          /* enum fn_ct_dir: tuple keys need one of the two */
	uint8_t pad[3];
};

struct fn_op_ct_set {
	struct fn_op h;
	uint8_t key, sreg;    /* FN_CT_MARK or FN_CT_LABELS */
};

/* ct count (nft_connlimit.c): the flow joins list `slot` of the queue's
 * connection lists; the rule stops when the live connections in it exceed
 * `limit` (with invert: when they do not). */
struct fn_op_connlimit {
	struct fn_op h;
	uint8_t invert;       /* "over" */
	uint8_t pad;
	uint32_t slot;        /* list; below code.len / sizeof(this op) */
	uint32_t limit;
};

/*
 * Classify: the first op of the first rule of a run of simple rules (only
 * payload compares on network/transport fields, meta compares, then a
 * counter and a verdict, both optional). It names the first rule of the run that can match the
 * packet; the rules before it cannot, so skipping them is exact. It never
 * changes what a rule does: the rule it names is evaluated normally.
 *
 * The table (at `table` in the classify section, 4-byte aligned): the
 * header below, then per field its cuts (n_cuts u32, strictly ascending),
 * the index of each map's first non-zero word (n_cuts + 1 u32, words for
 * an empty map) and its maps ((n_cuts + 1) x words u32). A field value v
 * (len bytes of the base at offset, big-endian) selects map i = the number
 * of cuts <= v; bit k of the map: rule k of the run can match on this
 * field. The candidate is the lowest bit set in the AND of the fields'
 * maps (scanned from the last of their first words), or n_rules when none
 * is. A field the packet cannot supply classifies
 * nothing: evaluation goes on linearly.
 */
#define FN_CLASSIFY_MIN_RULES 4
#define FN_CLASSIFY_MAX_RULES 1024
#define FN_CLASSIFY_MAX_FIELDS 4

struct fn_op_classify {
	struct fn_op h;
	uint8_t pad[2];
	uint32_t table;       /* offset in the classify section */
};

struct fn_img_classify_field {
	uint8_t base;         /* FN_PAYLOAD_NETWORK or FN_PAYLOAD_TRANSPORT */
	uint8_t offset;
	uint8_t len;          /* 1 to 4 */
	uint8_t pad;
	uint32_t n_cuts;      /* at most 2 x n_rules */
};

struct fn_img_classify {
	uint16_t n_rules;     /* FN_CLASSIFY_MIN_RULES .. FN_CLASSIFY_MAX_RULES */
	uint8_t n_fields;     /* 1 .. FN_CLASSIFY_MAX_FIELDS */
	uint8_t words;        /* per map: (n_rules + 31) / 32 */
	struct fn_img_classify_field field[FN_CLASSIFY_MAX_FIELDS];
	uint32_t data[];
};

/* Reject: the verdict the stack acts on (enum fn_verdict of filter.h). */
struct fn_op_reject {
	struct fn_op h;
	uint8_t verdict;
	uint8_t pad;
};

/* Per-slot descriptions, read by tools and to seed state. */
struct fn_img_counter {
	uint64_t packets, bytes;  /* initial values */
	uint64_t rule_handle;     /* 0 for a named object */
	uint32_t chain;           /* chain index, FN_IMG_NONE for an object */
	uint32_t pad;
};

struct fn_img_limit {
	uint64_t nsecs;           /* unit, in ns */
	uint64_t rate;            /* per unit */
	uint64_t tokens_max;      /* bucket size, in ns of credit */
	uint64_t cost;            /* per packet (packet limits); 0: by bytes */
	uint8_t bytes;            /* 1: cost is nsecs * len / rate */
	uint8_t invert;           /* "over": match when out of tokens */
	uint8_t pad[6];
};

struct fn_img_quota {
	uint64_t bytes;
	uint64_t consumed;        /* initial */
	uint8_t invert;           /* "over" */
	uint8_t pad[7];
};

struct fn_img_log {
	uint32_t prefix;          /* string */
	uint32_t level;           /* syslog level */
};

enum fn_obj_type {
	FN_OBJ_COUNTER = 1,       /* NFT_OBJECT_* */
	FN_OBJ_QUOTA = 2,
	FN_OBJ_LIMIT = 4,
};

struct fn_img_object {
	uint32_t name;            /* string */
	uint32_t type;            /* enum fn_obj_type */
	uint32_t slot;            /* in counters, quotas or limits */
};

/*
 * Sets. Elements are fixed size: key, key_end (ranges only), data, each
 * rounded up to 4 bytes. Data is the value of a map (data_len bytes) or a
 * struct fn_img_vdata for a verdict map.
 */
enum fn_set_kind {
	/* Exact match on key_len bytes. Elements are grouped by bucket
	 * (hash & (n_buckets - 1)); bucket b is elements
	 * [buckets[b], buckets[b + 1]). */
	FN_SET_HASH = 1,
	/* One field, kernel rbtree semantics: elements are sorted boundaries;
	 * a key matches when the greatest boundary <= key exists and is not
	 * an interval end. Binary search. */
	FN_SET_INTERVAL = 2,
	/* Concatenated intervals (kernel pipapo): an element matches when
	 * every field lies within [key, key_end] of that field. Linear. */
	FN_SET_RANGES = 3,
};

#define FN_SET_F_MAP 0x1
#define FN_SET_F_VMAP 0x2
/* Filled from the packet path (dynset ops) in a per-queue table of `size`
 * elements; a FN_SET_HASH without elements in the image, not a map. */
#define FN_SET_F_DYNAMIC 0x4
/* An object map: each element's data is a u32 slot in the counters,
 * quotas or limits of fn_img_set.obj_type; read by objref ops only. */
#define FN_SET_F_OBJMAP 0x8
#define FN_ELEM_F_END 0x1     /* interval end boundary (FN_SET_INTERVAL) */

#define FN_SET_MAX_FIELDS 16

struct fn_img_set {
	uint32_t name;            /* string */
	uint8_t kind;             /* enum fn_set_kind */
	uint8_t flags;            /* FN_SET_F_* */
	uint8_t key_len;          /* bytes, as read from registers */
	uint8_t data_len;         /* bytes of map data; 8 for verdict maps */
	uint8_t n_fields;         /* FN_SET_RANGES: concatenated fields */
	uint8_t field_len[FN_SET_MAX_FIELDS]; /* bytes; each field starts on a
					       * register boundary */
	uint8_t obj_type;         /* FN_SET_F_OBJMAP: enum fn_obj_type, else 0 */
	uint8_t pad[2];
	uint32_t n_elems;
	uint32_t elem_size;       /* bytes; see fn_img_set_elem_size() */
	uint32_t elems;           /* offset in set_data */
	uint32_t n_buckets;       /* FN_SET_HASH: a power of two */
	uint32_t buckets;         /* offset in set_data: uint32_t[n_buckets + 1] */
	uint32_t catchall;        /* element index of the catch-all, or
				   * FN_IMG_NONE; not counted in n_elems */
	uint32_t size;            /* FN_SET_F_DYNAMIC: most elements per queue */
	uint32_t pad2;
	uint64_t timeout_ms;      /* FN_SET_F_DYNAMIC: default element timeout,
				   * 0 = elements do not expire */
};

/* Element layout: [u32 flags][key][key_end if ranges][data]. */
static inline uint32_t fn_img_round4(uint32_t n)
{
	return (n + 3u) & ~3u;
}

static inline uint32_t fn_img_set_elem_size(uint8_t kind, uint32_t key_len,
					     uint32_t data_len)
{
	uint32_t k = fn_img_round4(key_len);

	return 4 + k + (kind == FN_SET_RANGES ? k : 0) + fn_img_round4(data_len);
}

/*
 * The hash of set keys from `seed`: exactly key_len bytes take part. With
 * FN_IMG_HASH_SEED it places FN_SET_HASH elements (shared by the builder and
 * the lookup, so part of the format); dynamic sets use a random seed of
 * their own (dynset.c).
 */
#define FN_IMG_HASH_SEED 0x9e3779b97f4a7c15ull

static inline uint32_t fn_img_hash_seed(uint64_t seed, const uint32_t *key,
					uint32_t key_len)
{
	uint64_t h = seed ^ key_len;
	uint32_t i, w, n = key_len / 4;

	for (i = 0; i < n; i++) {
		h ^= key[i];
		h *= 0xff51afd7ed558ccdull;
		h ^= h >> 32;
	}
	if (key_len % 4) {
		/* only key_len bytes take part, as in the kernel's hash */
		w = 0;
		memcpy(&w, &key[n], key_len % 4);
		h ^= w;
		h *= 0xff51afd7ed558ccdull;
		h ^= h >> 32;
	}
	return (uint32_t)h;
}

static inline uint32_t fn_img_hash(const uint32_t *key, uint32_t key_len)
{
	return fn_img_hash_seed(FN_IMG_HASH_SEED, key, key_len);
}

#endif /* FN_NFT_IMAGE_H */
