/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The per-queue flow table (see conntrack.h for the semantics).
 *
 * Layout: a fixed pool of entries; each entry is linked into the hash twice,
 * under its original and its reply tuple (node = entry * 2 + direction), so
 * either direction is one lookup. Expired entries are skipped by lookups and
 * unlinked by an incremental sweep. New flows wait in a small ring of pending
 * slots between conntrack's hook and the confirm point.
 *
 * No packet costs more than a few hash chains: when the table is full, a new
 * flow looks only near its own bucket for a flow to push out (early drop),
 * so a flood of new flows cannot make every packet sweep the table.
 *
 * What conntrack decided at prerouting/output travels with the packet in
 * fn_pkt.ct, as the kernel's skb->_nfct carries the flow and its ctinfo:
 * input and postrouting read that decision back and never look the packet
 * up again. (A second look would see a bad checksum as established, and a
 * packet rewritten in between as another flow.)
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "conntrack.h"
#include "stack/csum.h"

#define NS 1000000000ull
#define UDP_TIMEOUT (30 * NS)
#define UDP_STREAM_TIMEOUT (120 * NS)
#define UDP_STREAM_AFTER (2 * NS)
#define ICMP_TIMEOUT (30 * NS)
#define GENERIC_TIMEOUT (600 * NS)

#define NIL 0xffffffffu
#define PENDING 64 /* more than the packets of one burst in flight */
#define GC_PER_PACKET 4
#define EVICT_BUCKETS 8  /* nf_conntrack's NF_CT_EVICTION_RANGE */
#define EVICT_EXAMINE 64 /* entries looked at, at most, for one early drop */

/*
 * fn_pkt.ct, the reference: its top two bits say what it is.
 *   0                        conntrack has not seen the packet: invalid
 *   REF_INVALID              seen, no flow attached (invalid)
 *   REF_PENDING | seq        a new flow waiting for confirmation (pend[])
 *   REF_ENTRY | state | dir | index   a confirmed flow, with the state the
 *                            packet had in it (the kernel's ctinfo)
 */
#define REF_KIND 0xc0000000u
#define REF_PENDING 0x40000000u
#define REF_ENTRY 0x80000000u
#define REF_INVALID 0xc0000000u
#define REF_SEQ_MASK 0x3fffffffu
#define REF_DIR 0x20000000u
#define REF_STATE_SHIFT 27     /* 2 bits: enum ref_state */
#define REF_INDEX_MASK 0x07ffffffu

enum ref_state { RS_NEW, RS_ESTABLISHED, RS_RELATED };

#define PROTO_ICMP 1
#define PROTO_UDP 17

struct entry {
	struct fn_ct_tuple t;    /* original direction */
	struct fn_ct_flow f;
	uint64_t expires;        /* monotonic ns */
	uint64_t stream_ts;      /* UDP: a stream after this time */
	uint32_t status;
	uint32_t next[2];        /* hash chain, per direction */
	bool used;
};

struct pending {
	struct fn_ct_tuple t;
	struct fn_ct_flow f;
	uint64_t stream_ts;
	uint32_t seq;            /* fn_pkt.ct's seq; 0: free */
};

struct fn_ct_table {
	struct entry *e;
	uint32_t *bucket;        /* node heads */
	uint32_t mask;           /* buckets - 1 */
	uint32_t capacity, count;
	uint32_t free_head;      /* free list through next[0] */
	uint32_t sweep;          /* gc cursor */
	uint32_t seed;
	uint32_t seq;
	uint64_t flows;          /* flows started: the input of ct ids */
	uint64_t id_key;         /* keys the ids: they tell nothing of the table */
	uint64_t examined;       /* entries looked at, by every walk (tests) */
	struct pending pend[PENDING];
};

struct fn_ct_table *fn_ct_table_new(unsigned capacity)
{
	struct fn_ct_table *t;
	uint32_t i, nb = 1;

	/* an entry's index must fit in a packet's reference */
	if (capacity == 0 || capacity > REF_INDEX_MASK + 1u) {
		errno = EINVAL;
		return NULL;
	}
	t = calloc(1, sizeof(*t));
	if (!t)
		goto fail;
	while (nb < capacity)
		nb <<= 1;
	t->e = calloc(capacity, sizeof(*t->e));
	t->bucket = malloc((size_t)nb * sizeof(*t->bucket));
	if (!t->e || !t->bucket)
		goto fail;
	for (i = 0; i < nb; i++)
		t->bucket[i] = NIL;
	for (i = 0; i < capacity; i++)
		t->e[i].next[0] = i + 1 < capacity ? i + 1 : NIL;
	t->mask = nb - 1;
	t->capacity = capacity;
	if (getrandom(&t->seed, sizeof(t->seed), GRND_NONBLOCK) != sizeof(t->seed))
		t->seed = (uint32_t)(uintptr_t)t;
	if (getrandom(&t->id_key, sizeof(t->id_key), GRND_NONBLOCK) != sizeof(t->id_key))
		t->id_key = (uint64_t)(uintptr_t)t->e;
	return t;
fail:
	if (t) {
		free(t->e);
		free(t->bucket);
		free(t);
	}
	errno = ENOMEM;
	return NULL;
}

void fn_ct_table_free(struct fn_ct_table *t)
{
	if (!t)
		return;
	free(t->e);
	free(t->bucket);
	free(t);
}

unsigned fn_ct_count(const struct fn_ct_table *t)
{
	return t->count;
}

uint64_t fn_ct_examined(const struct fn_ct_table *t)
{
	return t->examined;
}

static uint32_t hash_tuple(const struct fn_ct_table *t, const struct fn_ct_tuple *k)
{
	uint64_t h = t->seed;

	h = (h ^ k->src) * 0x9e3779b97f4a7c15ull;
	h = (h ^ k->dst) * 0x9e3779b97f4a7c15ull;
	h = (h ^ ((uint64_t)k->sport << 16 | k->dport | (uint64_t)k->proto << 32)) *
	    0x9e3779b97f4a7c15ull;
	return (uint32_t)(h >> 32) & t->mask;
}

static bool icmp_invert_type(uint8_t type, uint8_t *inv)
{
	/* the kernel's invmap: request <-> reply */
	switch (type) {
	case 8: *inv = 0; return true;
	case 0: *inv = 8; return true;
	case 13: *inv = 14; return true;
	case 14: *inv = 13; return true;
	case 15: *inv = 16; return true;
	case 16: *inv = 15; return true;
	case 17: *inv = 18; return true;
	case 18: *inv = 17; return true;
	default: return false;
	}
}

static bool invert(const struct fn_ct_tuple *o, struct fn_ct_tuple *r)
{
	*r = *o;
	r->src = o->dst;
	r->dst = o->src;
	if (o->proto == PROTO_UDP) {
		r->sport = o->dport;
		r->dport = o->sport;
	} else if (o->proto == PROTO_ICMP) {
		uint8_t inv;

		if (!icmp_invert_type((uint8_t)(o->dport >> 8), &inv))
			return false;
		r->dport = (uint16_t)(inv << 8 | (o->dport & 0xff));
	}
	return true;
}

void fn_ct_tuple_dir(const struct fn_ct_tuple *orig, unsigned dir, struct fn_ct_tuple *out)
{
	if (dir == 0)
		*out = *orig;
	else
		invert(orig, out); /* a flow's ICMP type is one that inverts */
}

static bool tuple_eq(const struct fn_ct_tuple *a, const struct fn_ct_tuple *b)
{
	return a->src == b->src && a->dst == b->dst && a->sport == b->sport &&
	       a->dport == b->dport && a->proto == b->proto;
}

/* Find the live flow with tuple k in either direction. */
static struct entry *lookup(struct fn_ct_table *t, const struct fn_ct_tuple *k,
			    uint64_t now, uint8_t *dir)
{
	uint32_t n = t->bucket[hash_tuple(t, k)];

	while (n != NIL) {
		struct entry *e = &t->e[n >> 1];
		uint8_t d = n & 1;
		struct fn_ct_tuple cur;

		t->examined++;
		if (d == 0)
			cur = e->t;
		else
			invert(&e->t, &cur);
		if (e->expires > now && tuple_eq(&cur, k)) {
			*dir = d;
			return e;
		}
		n = e->next[d];
	}
	return NULL;
}

static void unlink_node(struct fn_ct_table *t, uint32_t node, const struct fn_ct_tuple *k)
{
	uint32_t *p = &t->bucket[hash_tuple(t, k)];

	while (*p != NIL) {
		t->examined++;
		if (*p == node) {
			*p = t->e[node >> 1].next[node & 1];
			return;
		}
		p = &t->e[*p >> 1].next[*p & 1];
	}
}

static void remove_entry(struct fn_ct_table *t, uint32_t i)
{
	struct entry *e = &t->e[i];
	struct fn_ct_tuple r;

	unlink_node(t, i * 2, &e->t);
	invert(&e->t, &r);
	unlink_node(t, i * 2 + 1, &r);
	e->used = false;
	e->next[0] = t->free_head;
	t->free_head = i;
	t->count--;
}

void fn_ct_gc(struct fn_ct_table *t, uint64_t now, unsigned budget)
{
	while (budget--) {
		uint32_t i = t->sweep;

		t->sweep = i + 1 < t->capacity ? i + 1 : 0;
		t->examined++;
		if (t->e[i].used && t->e[i].expires <= now)
			remove_entry(t, i);
	}
}

/* Drop the expired entries chained where a new tuple goes. Removing an
 * entry unlinks both of its nodes, possibly the next one in this chain, so
 * each removal starts the walk over (chains are short). */
static void sweep_bucket(struct fn_ct_table *t, const struct fn_ct_tuple *k, uint64_t now)
{
	uint32_t h = hash_tuple(t, k);

	for (;;) {
		uint32_t n = t->bucket[h];

		while (n != NIL && t->e[n >> 1].expires > now) {
			t->examined++;
			n = t->e[n >> 1].next[n & 1];
		}
		if (n == NIL)
			return;
		remove_entry(t, n >> 1);
	}
}

/* How willing we are to forget a flow to make room (lower goes first). */
static unsigned evict_rank(const struct entry *e, uint64_t now)
{
	if (e->expires <= now)
		return 0;
	if (!(e->status & FN_IPS_SEEN_REPLY))
		return 1;
	if (!(e->status & FN_IPS_ASSURED))
		return 2;
	return 3;   /* a stream: never pushed out */
}

/*
 * The table is full and a new tuple k wants in. As nf_conntrack's early
 * drop: among the flows chained in the few buckets from k's own, forget the
 * one most willing to go — expired, then never replied to, then not yet a
 * stream. false when there is none (the new flow is refused).
 */
static bool early_drop(struct fn_ct_table *t, const struct fn_ct_tuple *k, uint64_t now)
{
	uint32_t h = hash_tuple(t, k), victim = NIL, seen = 0;
	unsigned best = 3;

	for (unsigned b = 0; b < EVICT_BUCKETS && best > 0; b++) {
		uint32_t n = t->bucket[(h + b) & t->mask];

		for (; n != NIL && best > 0; n = t->e[n >> 1].next[n & 1]) {
			unsigned rank = evict_rank(&t->e[n >> 1], now);

			t->examined++;
			if (rank < best) {
				best = rank;
				victim = n >> 1;
			}
			if (++seen == EVICT_EXAMINE)
				goto done;
		}
	}
done:
	if (victim == NIL)
		return false;
	remove_entry(t, victim);
	return true;
}

static bool insert(struct fn_ct_table *t, const struct pending *p, uint64_t now,
		   uint64_t expires)
{
	struct entry *e;
	struct fn_ct_tuple r;
	uint32_t i, h;

	sweep_bucket(t, &p->t, now);
	if (t->count == t->capacity && !early_drop(t, &p->t, now))
		return false;
	if (t->free_head == NIL)
		return false;
	i = t->free_head;
	e = &t->e[i];
	t->free_head = e->next[0];
	memset(e, 0, sizeof(*e));
	e->used = true;
	e->t = p->t;
	e->f = p->f;
	e->stream_ts = p->stream_ts;
	e->status = FN_IPS_CONFIRMED;
	e->expires = expires;
	h = hash_tuple(t, &e->t);
	e->next[0] = t->bucket[h];
	t->bucket[h] = i * 2;
	invert(&e->t, &r);
	h = hash_tuple(t, &r);
	e->next[1] = t->bucket[h];
	t->bucket[h] = i * 2 + 1;
	t->count++;
	return true;
}

/* The Internet checksum of the IP payload with its pseudo-header, as the
 * kernel's nf_ip_checksum(): true when it verifies. */
static bool l4_csum_ok(const struct fn_pkt *pkt, unsigned thoff, uint8_t proto)
{
	uint32_t len = pkt->l3_len - thoff;
	uint64_t sum = fn_csum_add(0, pkt->l3 + thoff, len);

	if (proto == PROTO_UDP)
		sum = fn_csum_add_pseudo(sum, pkt->l3, proto, len);
	return fn_csum_sum_ok(sum);
}

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

enum classify {
	CL_INVALID,
	CL_TRACK,      /* a flow tuple: look up, maybe create */
	CL_ERROR,      /* an ICMP error quoting the packet in `inner` */
};

/*
 * The packet's tuple, or why it has none. check_csum: prerouting.
 * *l4_error: the tuple is good but the protocol's own check fails (UDP
 * length or checksum): the kernel finds this in udp_error(), called from
 * nf_conntrack_udp_packet() after the flow was looked up (or created), so
 * the packet is invalid and changes nothing in its flow, but a full table
 * still drops it first. ICMP is checked before the lookup, as in
 * nf_conntrack_icmpv4_error().
 */
static enum classify classify(const struct fn_nft_ctx *c, bool check_csum,
			      struct fn_ct_tuple *k, struct fn_ct_tuple *inner, bool *l4_error)
{
	const struct fn_pkt *pkt = c->pkt;
	const uint8_t *ip = pkt->l3, *l4;
	uint32_t l4len;

	*l4_error = false;
	if (!c->l4proto || !c->l4 || (ip[6] & 0x20))
		return CL_INVALID; /* fragments: the kernel would have reassembled */
	l4 = ip + c->thoff;
	l4len = pkt->l3_len - c->thoff;
	memset(k, 0, sizeof(*k));
	k->src = rd32(ip + 12);
	k->dst = rd32(ip + 16);
	k->proto = c->tprot;
	/* the kernel checks only on the way in (state->hook == PRE_ROUTING,
	 * nf_conntrack_checksum on), and trusts a checksum the NIC verified
	 * (CHECKSUM_UNNECESSARY) */
	check_csum = check_csum && !(pkt->flags & FN_PKT_F_L4_CSUM_OK);

	if (c->tprot == PROTO_UDP) {
		uint16_t ulen;

		if (l4len < 4)
			return CL_INVALID; /* no ports: no tuple */
		k->sport = rd16(l4);
		k->dport = rd16(l4 + 2);
		if (l4len < 8) {
			*l4_error = true;
			return CL_TRACK;
		}
		ulen = rd16(l4 + 4);
		/* nf_ip_checksum() sums the whole IP payload, with its length
		 * in the pseudo-header, whatever the UDP length says */
		*l4_error = ulen > l4len || ulen < 8 ||
			    (check_csum && rd16(l4 + 6) && !l4_csum_ok(pkt, c->thoff, PROTO_UDP));
		return CL_TRACK;
	}
	if (c->tprot == PROTO_ICMP) {
		uint8_t type, itype;
		const uint8_t *iip, *il4;
		unsigned ihl;

		if (l4len < 8)
			return CL_INVALID;
		if (check_csum && !l4_csum_ok(pkt, c->thoff, PROTO_ICMP))
			return CL_INVALID;
		type = l4[0];
		if (type > 18)
			return CL_INVALID;
		if (type == 3 || type == 4 || type == 5 || type == 11 || type == 12) {
			/* An error: the quoted header must give a tuple, as
			 * nf_ct_get_tuplepr() reads it: 20 bytes of IPv4 header
			 * (its version and header length unchecked, but the
			 * transport header it points to must be there), not a
			 * fragment after the first, the ports of UDP, 8 bytes
			 * of ICMP. */
			unsigned ilen;

			iip = l4 + 8;
			if (l4len < 8 + 20 || (rd16(iip + 6) & 0x1fff))
				return CL_INVALID;
			ihl = (iip[0] & 0xf) * 4u;
			if (8 + ihl > l4len)
				return CL_INVALID;
			il4 = iip + ihl;
			ilen = l4len - 8 - ihl;
			memset(inner, 0, sizeof(*inner));
			inner->src = rd32(iip + 12);
			inner->dst = rd32(iip + 16);
			inner->proto = iip[9];
			if (inner->proto == PROTO_UDP) {
				if (ilen < 4)
					return CL_INVALID;
				inner->sport = rd16(il4);
				inner->dport = rd16(il4 + 2);
			} else if (inner->proto == PROTO_ICMP) {
				if (ilen < 8)
					return CL_INVALID;
				itype = il4[0];
				if (itype == 3 || itype == 4 || itype == 5 || itype == 11 ||
				    itype == 12)
					return CL_INVALID; /* no errors about errors */
				inner->sport = rd16(il4 + 4);
				inner->dport = (uint16_t)(itype << 8 | il4[1]);
			}
			return CL_ERROR;
		}
		k->sport = rd16(l4 + 4);
		k->dport = (uint16_t)(type << 8 | l4[1]);
		return CL_TRACK;
	}
	return CL_TRACK; /* generic: addresses and protocol */
}

/* The kernel counts each packet its protocol tracker accepts for the flow
 * (nf_ct_refresh_acct), by its IP length, in the conntrack hook: rules of
 * the same hook after it already see the packet counted. */
static void account(struct fn_ct_flow *f, uint8_t dir, uint32_t l3_len)
{
	f->packets[dir]++;
	f->bytes[dir] += l3_len;
}

/* A new flow's ct id. The kernel hashes the flow's address with a secret
 * key; we hash a serial number: unique per queue for 2^64 flows, and as
 * unpredictable from outside. */
static uint32_t flow_id(struct fn_ct_table *t)
{
	uint64_t h = ++t->flows ^ t->id_key;

	h = (h ^ (h >> 33)) * 0xff51afd7ed558ccdull;
	h = (h ^ (h >> 33)) * 0xc4ceb9fe1a85ec53ull;
	return (uint32_t)(h ^ (h >> 33));
}

static uint64_t now_ns(const struct fn_nft_ctx *c)
{
	const struct fn_nft_env *env = c->qs->env;

	return env->mono_ns(env->clock_arg);
}

static const uint32_t ref_state_bit[] = {
	[RS_NEW] = FN_CT_STATE_NEW,
	[RS_ESTABLISHED] = FN_CT_STATE_ESTABLISHED,
	[RS_RELATED] = FN_CT_STATE_RELATED,
};

static void view_invalid(struct fn_nft_ctx *c)
{
	memset(&c->ct, 0, sizeof(c->ct));
	c->ct.state = FN_CT_STATE_INVALID;
}

static void attach_invalid(struct fn_nft_ctx *c)
{
	c->pkt->ct = REF_INVALID;
	view_invalid(c);
}

static void view_entry(struct fn_nft_ctx *c, struct entry *e, uint8_t dir,
		       enum ref_state rs)
{
	c->ct.tracked = true;
	c->ct.state = ref_state_bit[rs];
	c->ct.status = e->status;
	c->ct.flow = &e->f;
	c->ct.tuple = &e->t;
	c->ct.expires = e->expires;
	c->ct.dir = dir;
	c->ct.proto = e->t.proto;
}

static void attach_entry(struct fn_nft_ctx *c, struct entry *e, uint8_t dir,
			 enum ref_state rs)
{
	c->pkt->ct = REF_ENTRY | (uint32_t)rs << REF_STATE_SHIFT |
		     (dir ? REF_DIR : 0) | (uint32_t)(e - c->qs->ct->e);
	view_entry(c, e, dir, rs);
}

static enum ref_state state_of(const struct entry *e, uint8_t dir)
{
	if (dir == 1 || (e->status & FN_IPS_SEEN_REPLY))
		return RS_ESTABLISHED;
	return RS_NEW;
}

/* ICMP request types that may start a flow (the kernel's valid_new). */
static bool may_create(const struct fn_ct_tuple *k)
{
	uint8_t type;

	if (k->proto != PROTO_ICMP)
		return true;
	type = (uint8_t)(k->dport >> 8);
	return type == 8 || type == 13 || type == 15 || type == 17;
}

/* An ICMP error relates to the flow its quoted packet belonged to, when the
 * error goes back to that packet's sender. */
static void attach_related(struct fn_nft_ctx *c, const struct fn_ct_tuple *inner, uint64_t now)
{
	struct fn_ct_tuple inv;
	struct entry *e;
	uint8_t dir;

	if (!invert(inner, &inv) ||
	    !(e = lookup(c->qs->ct, &inv, now, &dir)) ||
	    rd32(c->pkt->l3 + 16) != inner->src) {
		attach_invalid(c);
		return;
	}
	attach_entry(c, e, dir, RS_RELATED);
}

static void view_pending(struct fn_nft_ctx *c, struct pending *p)
{
	memset(&c->ct, 0, sizeof(c->ct));
	c->ct.tracked = true;
	c->ct.state = FN_CT_STATE_NEW;
	c->ct.flow = &p->f;
	c->ct.tuple = &p->t;
	c->ct.proto = p->t.proto;
}

/* The pending flow a reference names, if its slot still holds it. */
static struct pending *pending_of(struct fn_ct_table *t, uint32_t ref)
{
	struct pending *p;

	if ((ref & REF_KIND) != REF_PENDING)
		return NULL;
	p = &t->pend[(ref & REF_SEQ_MASK) % PENDING];
	return p->seq == (ref & REF_SEQ_MASK) ? p : NULL;
}

bool fn_ct_in(struct fn_nft_ctx *c)
{
	struct fn_ct_table *t = c->qs->ct;
	uint64_t now = now_ns(c);
	struct fn_ct_tuple k, inner;
	struct pending *p;
	struct entry *e;
	bool l4_error;
	uint8_t dir;

	c->ct_ready = true;
	fn_ct_gc(t, now, GC_PER_PACKET);
	switch (classify(c, c->hook == FN_HOOK_PREROUTING, &k, &inner, &l4_error)) {
	case CL_INVALID:
		attach_invalid(c);
		return true;
	case CL_ERROR:
		attach_related(c, &inner, now);
		return true;
	case CL_TRACK:
		break;
	}
	e = lookup(t, &k, now, &dir);
	if (e) {
		enum ref_state rs = state_of(e, dir);

		if (l4_error) {
			/* the flow stays as it was: no refresh, no reply bit */
			attach_invalid(c);
			return true;
		}
		/* the protocol's own update, then the generic reply bit */
		if (k.proto == PROTO_UDP) {
			uint64_t extra = UDP_TIMEOUT;

			if (e->status & FN_IPS_SEEN_REPLY) {
				if (now > e->stream_ts) {
					extra = UDP_STREAM_TIMEOUT;
					e->status |= FN_IPS_ASSURED;
				}
			}
			e->expires = now + extra;
		} else {
			e->expires = now + (k.proto == PROTO_ICMP ? ICMP_TIMEOUT :
					    GENERIC_TIMEOUT);
		}
		if (dir == 1)
			e->status |= FN_IPS_SEEN_REPLY;
		account(&e->f, dir, c->pkt->l3_len);
		attach_entry(c, e, dir, rs);
		return true;
	}
	if (!may_create(&k)) {
		attach_invalid(c);
		return true;
	}
	if (t->count == t->capacity && !early_drop(t, &k, now))
		return false; /* the kernel drops new flows it finds no room for */
	if (l4_error) {
		attach_invalid(c); /* the new flow is freed unconfirmed */
		return true;
	}
	t->seq = (t->seq + 1) & REF_SEQ_MASK;
	if (t->seq == 0)
		t->seq = 1;
	p = &t->pend[t->seq % PENDING];
	p->t = k;
	memset(&p->f, 0, sizeof(p->f));
	p->f.id = flow_id(t);
	account(&p->f, 0, c->pkt->l3_len);
	p->stream_ts = now + UDP_STREAM_AFTER;
	p->seq = t->seq;
	c->pkt->ct = REF_PENDING | t->seq;
	view_pending(c, p);
	return true;
}

const struct fn_ct_view *fn_ct_get(struct fn_nft_ctx *c)
{
	struct fn_ct_table *t = c->qs->ct;
	uint32_t ref = c->pkt->ct;
	struct pending *p;
	struct entry *e;

	if (c->ct_ready)
		return &c->ct;
	c->ct_ready = true;
	if (!c->ct_after) {
		/* a chain that runs before conntrack's hook */
		view_invalid(c);
		return &c->ct;
	}
	/* input/postrouting: what conntrack decided at prerouting/output */
	switch (ref & REF_KIND) {
	case REF_PENDING:
		if ((p = pending_of(t, ref)))
			view_pending(c, p);
		else
			view_invalid(c);
		break;
	case REF_ENTRY:
		e = &t->e[ref & REF_INDEX_MASK];
		if ((ref & REF_INDEX_MASK) < t->capacity && e->used)
			view_entry(c, e, (ref & REF_DIR) ? 1 : 0,
				   (enum ref_state)((ref >> REF_STATE_SHIFT) & 3));
		else
			view_invalid(c);
		break;
	default: /* not seen by conntrack, or invalid */
		view_invalid(c);
		break;
	}
	return &c->ct;
}

void fn_ct_confirm(struct fn_nft_ctx *c)
{
	struct fn_ct_table *t = c->qs->ct;
	struct pending *p = pending_of(t, c->pkt->ct);
	struct entry *e;
	uint64_t now, timeout;
	uint8_t dir;

	if (!p)
		return;
	now = now_ns(c);
	/* another packet of the flow may have been confirmed first: keep it */
	if (!(e = lookup(t, &p->t, now, &dir))) {
		timeout = p->t.proto == PROTO_UDP ? UDP_TIMEOUT :
			  p->t.proto == PROTO_ICMP ? ICMP_TIMEOUT : GENERIC_TIMEOUT;
		if (insert(t, p, now, now + timeout))
			e = lookup(t, &p->t, now, &dir);
	}
	c->pkt->ct = e ? REF_ENTRY | (uint32_t)(e - t->e) | (dir ? REF_DIR : 0) : REF_INVALID;
	p->seq = 0;
}

bool fn_ct_alive(struct fn_nft_ctx *c, const struct fn_ct_tuple *k)
{
	uint8_t dir;

	return lookup(c->qs->ct, k, now_ns(c), &dir) != NULL;
}

bool fn_ct_packet_tuple(const struct fn_nft_ctx *c, struct fn_ct_tuple *k)
{
	const uint8_t *ip = c->pkt->l3, *l4 = ip + c->thoff;
	uint32_t l4len;

	if (!c->l4proto || !c->l4)
		return false;
	l4len = c->pkt->l3_len - c->thoff;
	memset(k, 0, sizeof(*k));
	k->src = rd32(ip + 12);
	k->dst = rd32(ip + 16);
	k->proto = c->tprot;
	if (c->tprot == PROTO_UDP) {
		if (l4len < 4)
			return false;
		k->sport = rd16(l4);
		k->dport = rd16(l4 + 2);
	} else if (c->tprot == PROTO_ICMP) {
		if (l4len < 8)
			return false;
		k->sport = rd16(l4 + 4);
		k->dport = (uint16_t)(l4[0] << 8 | l4[1]);
	}
	return true;
}
