/* SPDX-License-Identifier: BSD-3-Clause */
/* Connection tracking as the ct expressions see it (conntrack.h). */
#include <arpa/inet.h>
#include <string.h>

#include "nft_test.h"
#include "nft/connlimit.h"
#include "nft/conntrack.h"

#define SEC 1000000000ull
#define A IP4(1, 1, 1, 1)      /* the remote */
#define B IP4(2, 2, 2, 2)      /* us */

static void ct_op(struct fn_imgb *b, uint8_t key, uint8_t dreg)
{
	struct fn_op_ct *o = fn_imgb_op(b, FN_OP_CT, sizeof(*o));

	o->key = key;
	o->dreg = dreg;
}

/* handle base+0..4: state new, established, related, invalid; dir reply.
 * Each only counts. */
static void state_rules(struct fn_imgb *b, uint32_t chain, uint64_t base)
{
	static const uint32_t states[] = { FN_CT_STATE_NEW, FN_CT_STATE_ESTABLISHED,
					   FN_CT_STATE_RELATED, FN_CT_STATE_INVALID };
	uint8_t reply[1] = { 1 };
	unsigned i;

	for (i = 0; i < 4; i++) {
		fn_imgb_rule(b, chain, base + i);
		ct_op(b, FN_CT_STATE, 0);
		t_cmp32(b, 0, FN_CMP_EQ, states[i]);
		t_counter(b, chain, base + i);
	}
	fn_imgb_rule(b, chain, base + 4);
	ct_op(b, FN_CT_DIRECTION, 0);
	t_cmp(b, 0, FN_CMP_EQ, reply, 1);
	t_counter(b, chain, base + 4);
}

/* Chains: raw prerouting (-300), prerouting (0) with ct mark set 7 on port
 * 77, input (0) with state counters 10.. and a drop of port 99, output (0)
 * with state counters 20.. */
static struct fn_nft_state *ct_state(struct tclock *clk)
{
	struct fn_imgb *b = t_builder();
	struct fn_nft_state *s;
	uint8_t p77[2] = { 0, 77 }, p99[2] = { 0, 99 };
	uint32_t seven = 7;

	fn_imgb_table(b, "t", FN_FAMILY_INET, 0);
	fn_imgb_set_flags(b, FN_IMG_F_CONNTRACK);
	fn_imgb_chain(b, "raw", FN_HOOK_PREROUTING, -300, FN_POLICY_ACCEPT);
	fn_imgb_chain(b, "pre", FN_HOOK_PREROUTING, 0, FN_POLICY_ACCEPT);
	fn_imgb_chain(b, "in", FN_HOOK_INPUT, 0, FN_POLICY_ACCEPT);
	fn_imgb_chain(b, "out", FN_HOOK_OUTPUT, 0, FN_POLICY_ACCEPT);
	fn_imgb_rule(b, 0, 1);           /* before conntrack: no flow yet */
	ct_op(b, FN_CT_STATE, 0);
	t_cmp32(b, 0, FN_CMP_EQ, FN_CT_STATE_INVALID);
	t_counter(b, 0, 1);
	fn_imgb_rule(b, 1, 2);
	t_payload_cmp(b, FN_PAYLOAD_TRANSPORT, 2, 2, FN_CMP_EQ, p77);
	t_imm(b, 1, &seven, 4);
	{
		struct fn_op_ct_set *o = fn_imgb_op(b, FN_OP_CT_SET, sizeof(*o));

		o->key = FN_CT_MARK;
		o->sreg = 1;
	}
	fn_imgb_rule(b, 1, 3);           /* mark 7 seen on an established flow */
	ct_op(b, FN_CT_MARK, 0);
	t_cmp32(b, 0, FN_CMP_EQ, 7);
	ct_op(b, FN_CT_STATE, 1);
	t_cmp32(b, 1, FN_CMP_EQ, FN_CT_STATE_ESTABLISHED);
	t_counter(b, 1, 3);
	state_rules(b, 2, 10);
	fn_imgb_rule(b, 2, 15);
	t_payload_cmp(b, FN_PAYLOAD_TRANSPORT, 2, 2, FN_CMP_EQ, p99);
	t_verdict(b, FN_V_DROP, 0);
	state_rules(b, 3, 20);
	s = t_load(b);
	fn_nft_state_set_clock(s, t_mono, t_real, clk);
	return s;
}

/* A received packet: prerouting then (if accepted) input, like the stack,
 * which carries fn_pkt.ct (conntrack's decision) from one to the other. */
static enum fn_verdict receive(struct fn_nft_state *s, struct tpkt *t)
{
	enum fn_verdict v = fn_nft_eval(s, FN_HOOK_PREROUTING, &t->pkt, NULL);

	return v == FN_ACCEPT ? fn_nft_eval(s, FN_HOOK_INPUT, &t->pkt, NULL) : v;
}

static enum fn_verdict transmit(struct fn_nft_state *s, struct tpkt *t)
{
	enum fn_verdict v = fn_nft_eval(s, FN_HOOK_OUTPUT, &t->pkt, NULL);

	return v == FN_ACCEPT ? fn_nft_eval(s, FN_HOOK_POSTROUTING, &t->pkt, NULL) : v;
}

#define COUNT(h) t_rule_packets(s, h)

static void test_udp_flow(void **state)
{
	struct tclock clk = { .mono = 100 * SEC };
	struct fn_nft_state *s = ct_state(&clk);
	struct tpkt t;

	(void)state;
	t_udp(&t, A, B, 1000, 53, 10);
	receive(s, &t);
	assert_int_equal(COUNT(1), 1);    /* raw: invalid, before conntrack */
	assert_int_equal(COUNT(10), 1);   /* input: new */
	assert_int_equal(fn_nft_ct_count(s), 1);
	/* a second packet before any reply is still new */
	t_udp(&t, A, B, 1000, 53, 10);
	receive(s, &t);
	assert_int_equal(COUNT(10), 2);
	/* our reply: established, reply direction */
	t_udp(&t, B, A, 53, 1000, 10);
	transmit(s, &t);
	assert_int_equal(COUNT(21), 1);
	assert_int_equal(COUNT(24), 1);
	/* then the remote's packets are established, original direction */
	clk.mono += SEC;
	t_udp(&t, A, B, 1000, 53, 10);
	receive(s, &t);
	assert_int_equal(COUNT(11), 1);
	assert_int_equal(COUNT(14), 0);
	/* replied but younger than 2 s: still the 30 s timeout */
	clk.mono += 31 * SEC;
	t_udp(&t, A, B, 1000, 53, 10);
	receive(s, &t);
	assert_int_equal(COUNT(10), 3);   /* expired: new again */
	assert_int_equal(fn_nft_ct_count(s), 1);
	t_free(s);
}

static void test_udp_stream_timeout(void **state)
{
	struct tclock clk = { .mono = 100 * SEC };
	struct fn_nft_state *s = ct_state(&clk);
	struct tpkt t;

	(void)state;
	t_udp(&t, A, B, 1000, 53, 0);
	receive(s, &t);
	t_udp(&t, B, A, 53, 1000, 0);
	transmit(s, &t);
	clk.mono += 3 * SEC;              /* a stream after 2 s: 120 s */
	t_udp(&t, A, B, 1000, 53, 0);
	receive(s, &t);
	clk.mono += 100 * SEC;
	t_udp(&t, A, B, 1000, 53, 0);
	receive(s, &t);
	assert_int_equal(COUNT(11), 2);
	assert_int_equal(COUNT(10), 1);
	t_free(s);
}

static void test_unconfirmed_when_dropped(void **state)
{
	struct tclock clk = { .mono = 100 * SEC };
	struct fn_nft_state *s = ct_state(&clk);
	struct tpkt t;

	(void)state;
	t_udp(&t, A, B, 1000, 99, 0);
	assert_int_equal(receive(s, &t), FN_DROP);
	assert_int_equal(fn_nft_ct_count(s), 0);
	/* our packet to A:99 starts its own flow: new */
	t_udp(&t, B, A, 99, 1000, 0);
	transmit(s, &t);
	assert_int_equal(COUNT(20), 1);
	assert_int_equal(fn_nft_ct_count(s), 1);
	t_free(s);
}

static void test_mark_on_new_flow(void **state)
{
	struct tclock clk = { .mono = 100 * SEC };
	struct fn_nft_state *s = ct_state(&clk);
	struct tpkt t;

	(void)state;
	/* set at prerouting while the flow is pending, kept at confirm */
	t_udp(&t, A, B, 1000, 77, 0);
	receive(s, &t);
	assert_int_equal(COUNT(10), 1);
	t_udp(&t, B, A, 77, 1000, 0);
	transmit(s, &t);
	t_udp(&t, A, B, 1000, 77, 0);
	receive(s, &t);
	assert_int_equal(COUNT(3), 1);
	t_free(s);
}

/* A packet lost between prerouting and input leaves no flow behind. */
static void test_pending_forgotten(void **state)
{
	struct tclock clk = { .mono = 100 * SEC };
	struct fn_nft_state *s = ct_state(&clk);
	struct tpkt t;

	(void)state;
	t_udp(&t, A, B, 1000, 77, 0);    /* ct mark set 7, then lost */
	fn_nft_eval(s, FN_HOOK_PREROUTING, &t.pkt, NULL);
	clk.mono += SEC;
	t_udp(&t, A, B, 1000, 53, 0);
	receive(s, &t);
	t_udp(&t, B, A, 53, 1000, 0);
	transmit(s, &t);
	assert_int_equal(fn_nft_ct_count(s), 1);
	t_udp(&t, A, B, 1000, 77, 0);    /* the same flow again: new */
	receive(s, &t);
	assert_int_equal(COUNT(10), 2);
	assert_int_equal(fn_nft_ct_count(s), 2);
	t_free(s);
}

static void test_invalid_packets(void **state)
{
	struct tclock clk = { .mono = 100 * SEC };
	struct fn_nft_state *s = ct_state(&clk);
	struct tpkt t;

	(void)state;
	/* a bad UDP checksum at prerouting */
	t_udp(&t, A, B, 1000, 53, 4);
	t.buf[26] ^= 0x55;
	receive(s, &t);
	assert_int_equal(COUNT(13), 1);
	assert_int_equal(fn_nft_ct_count(s), 0);
	/* unless the NIC vouched for it */
	t_udp(&t, A, B, 1000, 53, 4);
	t.buf[26] ^= 0x55;
	t.pkt.flags = FN_PKT_F_L4_CSUM_OK;
	receive(s, &t);
	assert_int_equal(COUNT(10), 1);
	/* a UDP length beyond the packet */
	t_udp(&t, A, B, 1000, 54, 4);
	t.buf[25] = 200;
	t.buf[26] = t.buf[27] = 0;
	receive(s, &t);
	assert_int_equal(COUNT(13), 2);
	/* an ICMP echo reply that answers nothing */
	t_icmp(&t, A, B, 0, 0, 5, 1);
	receive(s, &t);
	assert_int_equal(COUNT(13), 3);
	t_free(s);
}

/* A bad checksum on an established flow: conntrack finds the flow, then
 * udp_error() makes the packet invalid (input sees invalid, not
 * established) and leaves the flow alone (no refresh). The NIC's word that
 * the checksum is good is taken. Outgoing checksums are never checked. */
static void test_bad_checksum_on_flow(void **state)
{
	struct tclock clk = { .mono = 100 * SEC };
	struct fn_nft_state *s = ct_state(&clk);
	struct tpkt t;

	(void)state;
	t_udp(&t, A, B, 1000, 53, 4);
	receive(s, &t);
	t_udp(&t, B, A, 53, 1000, 4);
	transmit(s, &t);
	assert_int_equal(COUNT(21), 1);
	t_udp(&t, A, B, 1000, 53, 4);
	receive(s, &t);
	assert_int_equal(COUNT(11), 1);       /* established, expires at 130 s */
	clk.mono += 20 * SEC;
	t_udp(&t, A, B, 1000, 53, 4);
	t.buf[26] ^= 0x55;
	receive(s, &t);
	assert_int_equal(COUNT(13), 1);       /* invalid at input */
	assert_int_equal(COUNT(11), 1);
	/* the bad packet did not refresh the flow (it would have been a
	 * stream by then, 120 s): 31 s after the last good one it is gone */
	clk.mono += 11 * SEC;
	t_udp(&t, A, B, 1000, 53, 4);
	receive(s, &t);
	assert_int_equal(COUNT(10), 2);       /* new again */
	/* a bad checksum the NIC vouched for is not checked */
	t_udp(&t, A, B, 1000, 53, 4);
	t.buf[26] ^= 0x55;
	t.pkt.flags = FN_PKT_F_L4_CSUM_OK;
	receive(s, &t);
	assert_int_equal(COUNT(10), 3);
	assert_int_equal(COUNT(13), 1);
	/* nor is our own packet's: output does not check */
	t_udp(&t, B, A, 53, 1000, 4);
	t.buf[26] ^= 0x55;
	transmit(s, &t);
	assert_int_equal(COUNT(21), 2);
	t_free(s);
}

static void test_icmp(void **state)
{
	struct tclock clk = { .mono = 100 * SEC };
	struct fn_nft_state *s = ct_state(&clk);
	struct tpkt t;

	(void)state;
	t_icmp(&t, A, B, 8, 0, 42, 1);    /* echo request: new */
	receive(s, &t);
	assert_int_equal(COUNT(10), 1);
	t_icmp(&t, B, A, 0, 0, 42, 1);    /* our echo reply: established */
	transmit(s, &t);
	assert_int_equal(COUNT(21), 1);
	assert_int_equal(COUNT(24), 1);
	/* we send UDP to A; A answers port unreachable: related */
	t_udp(&t, B, A, 4000, 5000, 0);
	transmit(s, &t);
	{
		struct tpkt err;
		uint8_t *c = err.buf + 20;

		t_icmp(&err, A, B, 3, 3, 0, 0);
		memcpy(c + 8, t.buf, 28);  /* the quoted header and 8 bytes */
		err.pkt.l3_len = 20 + 8 + 28;
		err.buf[2] = 0;
		err.buf[3] = 56;
		t_ip_csum(&err);
		c[2] = c[3] = 0;
		{
			uint32_t sum = 0;
			unsigned i;

			for (i = 0; i < 36; i += 2)
				sum += (uint32_t)(c[i] << 8 | c[i + 1]);
			while (sum >> 16)
				sum = (sum & 0xffff) + (sum >> 16);
			c[2] = (uint8_t)(~sum >> 8);
			c[3] = (uint8_t)~sum;
		}
		receive(s, &err);
	}
	assert_int_equal(COUNT(12), 1);
	assert_int_equal(COUNT(14), 1);   /* the flow's reply direction */
	t_free(s);
}

/* Flows from 10.x.y.z, one per i, that never see a reply (a spoofed flood). */
static void flood(struct fn_nft_state *s, uint32_t n)
{
	struct tpkt t;

	for (uint32_t i = 0; i < n; i++) {
		t_udp(&t, IP4(10, i >> 16 & 0xff, i >> 8 & 0xff, i & 0xff), B, 4000, 53, 0);
		receive(s, &t);
	}
}

/* Work conntrack may do for one packet of a new flow when the table is full:
 * a few hash chains, never the table (65536 entries). */
#define NEW_FLOW_WORK 512

/*
 * A table full of unreplied flows: a new flow costs bounded work and gets in,
 * in the place of an unreplied flow near its own bucket (nf_conntrack's early
 * drop). A flow that has become a stream (assured) is never pushed out.
 */
static void test_full_table_early_drop(void **state)
{
	struct tclock clk = { .mono = 100 * SEC };
	struct fn_nft_state *s = ct_state(&clk);
	uint64_t worst = 0;
	struct tpkt t;

	(void)state;
	t_udp(&t, A, B, 1000, 53, 0);     /* the legitimate client's stream */
	receive(s, &t);
	t_udp(&t, B, A, 53, 1000, 0);
	transmit(s, &t);
	clk.mono += 3 * SEC;
	t_udp(&t, A, B, 1000, 53, 0);
	receive(s, &t);
	flood(s, FN_CT_DEFAULT_CAPACITY - 1);
	assert_int_equal(fn_nft_ct_count(s), FN_CT_DEFAULT_CAPACITY);

	for (uint32_t j = 0; j < 1000; j++) {
		uint64_t before = fn_nft_ct_examined(s);

		t_udp(&t, IP4(20, 0, j >> 8, j & 0xff), B, 5000, 53, 0);
		assert_int_equal(receive(s, &t), FN_ACCEPT);
		if (fn_nft_ct_examined(s) - before > worst)
			worst = fn_nft_ct_examined(s) - before;
	}
	if (worst > NEW_FLOW_WORK)
		fail_msg("a new flow looked at %lu entries", (unsigned long)worst);
	assert_int_equal(COUNT(10), 1 + FN_CT_DEFAULT_CAPACITY - 1 + 1000); /* all new */
	assert_int_equal(fn_nft_ct_count(s), FN_CT_DEFAULT_CAPACITY);
	/* the stream survived the flood and the new flows */
	t_udp(&t, A, B, 1000, 53, 0);
	receive(s, &t);
	assert_int_equal(COUNT(11), 2);
	t_free(s);
}

/* A table full of streams: new flows are dropped (as the kernel does), and
 * finding that out costs bounded work too. */
static void test_full_table_of_streams(void **state)
{
	struct tclock clk = { .mono = 100 * SEC };
	struct fn_nft_state *s = ct_state(&clk);
	uint64_t before;
	struct tpkt t;

	(void)state;
	flood(s, FN_CT_DEFAULT_CAPACITY);
	for (uint32_t i = 0; i < FN_CT_DEFAULT_CAPACITY; i++) {
		t_udp(&t, B, IP4(10, i >> 16 & 0xff, i >> 8 & 0xff, i & 0xff), 53, 4000, 0);
		transmit(s, &t);
	}
	clk.mono += 3 * SEC;
	flood(s, FN_CT_DEFAULT_CAPACITY);   /* now streams: assured */
	assert_int_equal(COUNT(11), FN_CT_DEFAULT_CAPACITY);
	before = fn_nft_ct_examined(s);
	t_udp(&t, A, B, 1000, 53, 0);
	assert_int_equal(receive(s, &t), FN_DROP);
	assert_true(fn_nft_ct_examined(s) - before <= NEW_FLOW_WORK);
	assert_int_equal(fn_nft_ct_count(s), FN_CT_DEFAULT_CAPACITY);
	t_free(s);
}

/* A rule: ct key (dir) == value (len bytes in register layout), counted. */
static void probe(struct fn_imgb *b, uint32_t chain, uint64_t handle, uint8_t key,
		  uint8_t dir, const void *value, uint8_t len)
{
	struct fn_op_ct *o;

	fn_imgb_rule(b, chain, handle);
	o = fn_imgb_op(b, FN_OP_CT, sizeof(*o));
	o->key = key;
	o->dir = dir;
	o->dreg = 0;
	t_cmp(b, 0, FN_CMP_EQ, value, len);
	t_counter(b, chain, handle);
}

/* meta mark set ct KEY: lets a test read a 4-byte key's value. */
static void key_to_mark(struct fn_imgb *b, uint32_t chain, uint64_t handle, uint8_t key)
{
	struct fn_op_meta_set *m;
	struct fn_op_ct *o;

	fn_imgb_rule(b, chain, handle);
	o = fn_imgb_op(b, FN_OP_CT, sizeof(*o));
	o->key = key;
	o->dreg = 3;
	m = fn_imgb_op(b, FN_OP_META_SET, sizeof(*m));
	m->key = FN_META_MARK;
	m->sreg = 3;
}

static void set_label(struct fn_imgb *b, uint32_t chain, uint64_t handle, unsigned bit)
{
	uint32_t bits[4] = { 0 };
	struct fn_op_ct_set *o;

	bits[bit / 32] = 1u << bit % 32;
	fn_imgb_rule(b, chain, handle);
	t_imm(b, 2, bits, 16);
	o = fn_imgb_op(b, FN_OP_CT_SET, sizeof(*o));
	o->key = FN_CT_LABELS;
	o->sreg = 2;
}

/*
 * The flow A:1000 -> B:53 with packets of 38, 48 and 28 bytes from A and
 * one of 128 from B. Prerouting (chain 0) labels every flow with bits 5
 * and 100; input (chain 1) probes handles 100..: the tuple both ways, the
 * counters, the expiration, labels; output (chain 2) 200..; input and
 * output copy the ct id into the packet mark.
 */
static struct fn_nft_state *key_state(struct tclock *clk)
{
	struct fn_imgb *b = t_builder();
	struct fn_nft_state *s;
	uint32_t a = htonl(A), bb = htonl(B), zero32 = 0, exp30 = 30000;
	uint8_t p53[2] = { 0, 53 }, p1000[2] = { 1000 >> 8, 1000 & 0xff };
	uint64_t two = 2, three = 3, four = 4, orig_bytes = 38 + 48;
	uint64_t all_bytes = 38 + 48 + 128 + 28, avg = all_bytes / 4;
	uint64_t reply_avg = 128, zero64 = 0;
	uint32_t labels[4] = { 1u << 5, 0, 0, 1u << 4 }, no_labels[4] = { 0 };

	fn_imgb_table(b, "t", FN_FAMILY_INET, 0);
	fn_imgb_set_flags(b, FN_IMG_F_CONNTRACK);
	fn_imgb_chain(b, "pre", FN_HOOK_PREROUTING, 0, FN_POLICY_ACCEPT);
	fn_imgb_chain(b, "in", FN_HOOK_INPUT, 0, FN_POLICY_ACCEPT);
	fn_imgb_chain(b, "out", FN_HOOK_OUTPUT, 0, FN_POLICY_ACCEPT);
	set_label(b, 0, 300, 5);
	set_label(b, 0, 301, 100);
	set_label(b, 0, 302, 5); /* again: bits are only added */
	probe(b, 1, 100, FN_CT_SRC_IP, FN_CT_DIR_ORIGINAL, &a, 4);
	probe(b, 1, 101, FN_CT_SRC_IP, FN_CT_DIR_REPLY, &bb, 4);
	probe(b, 1, 102, FN_CT_DST_IP, FN_CT_DIR_REPLY, &a, 4);
	probe(b, 1, 103, FN_CT_PROTO_DST, FN_CT_DIR_ORIGINAL, p53, 2);
	probe(b, 1, 104, FN_CT_PROTO_DST, FN_CT_DIR_REPLY, p1000, 2);
	probe(b, 1, 105, FN_CT_PKTS, FN_CT_DIR_ORIGINAL, &two, 8);
	probe(b, 1, 106, FN_CT_BYTES, FN_CT_DIR_ORIGINAL, &orig_bytes, 8);
	probe(b, 1, 107, FN_CT_PKTS, FN_CT_DIR_NONE, &four, 8);
	probe(b, 1, 108, FN_CT_BYTES, FN_CT_DIR_NONE, &all_bytes, 8);
	probe(b, 1, 109, FN_CT_AVGPKT, FN_CT_DIR_REPLY, &reply_avg, 8);
	probe(b, 1, 110, FN_CT_AVGPKT, FN_CT_DIR_NONE, &avg, 8);
	probe(b, 1, 111, FN_CT_EXPIRATION, FN_CT_DIR_NONE, &exp30, 4);
	probe(b, 1, 112, FN_CT_EXPIRATION, FN_CT_DIR_NONE, &zero32, 4);
	probe(b, 1, 113, FN_CT_LABELS, FN_CT_DIR_NONE, labels, 16);
	probe(b, 1, 114, FN_CT_LABELS, FN_CT_DIR_NONE, no_labels, 16);
	probe(b, 1, 115, FN_CT_AVGPKT, FN_CT_DIR_REPLY, &zero64, 8);
	key_to_mark(b, 1, 116, FN_CT_ID);
	probe(b, 2, 200, FN_CT_SRC_IP, FN_CT_DIR_ORIGINAL, &a, 4);
	probe(b, 2, 201, FN_CT_PKTS, FN_CT_DIR_NONE, &three, 8);
	key_to_mark(b, 2, 202, FN_CT_ID);
	s = t_load(b);
	fn_nft_state_set_clock(s, t_mono, t_real, clk);
	return s;
}

static void test_keys(void **state)
{
	struct tclock clk = { .mono = 100 * SEC };
	struct fn_nft_state *s = key_state(&clk);
	uint32_t id;
	struct tpkt t;

	(void)state;
	/* new, not confirmed: counted (1 packet), expiration 0 as in the kernel */
	t_udp(&t, A, B, 1000, 53, 10);
	receive(s, &t);
	assert_int_equal(COUNT(100), 1);
	assert_int_equal(COUNT(103), 1);
	assert_int_equal(COUNT(112), 1);
	assert_int_equal(COUNT(113), 1);
	assert_int_equal(COUNT(115), 1);  /* no reply packets: avgpkt 0 */
	id = t.pkt.mark;
	assert_int_not_equal(id, 0);
	clk.mono += SEC;
	t_udp(&t, A, B, 1000, 53, 20);
	receive(s, &t);
	assert_int_equal(COUNT(105), 1);  /* 2 packets from A, 86 bytes */
	assert_int_equal(COUNT(106), 1);
	assert_int_equal(COUNT(111), 1);  /* just refreshed: 30 s */
	assert_int_equal(t.pkt.mark, id); /* the same flow, the same id */
	/* B answers: the reply tuple is the original inverted */
	t_udp(&t, B, A, 53, 1000, 100);
	transmit(s, &t);
	assert_int_equal(COUNT(200), 1);
	assert_int_equal(COUNT(201), 1);
	assert_int_equal(t.pkt.mark, id);
	clk.mono += 10 * SEC;
	/* conntrack's hook counts the packet before input sees it */
	t_udp(&t, A, B, 1000, 53, 0);
	receive(s, &t);
	assert_int_equal(COUNT(101), 3);
	assert_int_equal(COUNT(102), 3);
	assert_int_equal(COUNT(104), 3);
	assert_int_equal(COUNT(107), 1);
	assert_int_equal(COUNT(108), 1);
	assert_int_equal(COUNT(109), 1);
	assert_int_equal(COUNT(110), 1);
	assert_int_equal(COUNT(113), 3);
	assert_int_equal(COUNT(114), 0);
	/* another flow: its own id, its own counters, no labels */
	t_udp(&t, A, B, 1001, 54, 0);
	receive(s, &t);
	assert_int_not_equal(t.pkt.mark, id);
	assert_int_equal(COUNT(100), 4);
	assert_int_equal(COUNT(103), 3);
	assert_int_equal(COUNT(113), 4);  /* every new flow gets 5 and 100 */
	t_free(s);
}

/* The accounting skips what the tracker does not accept: a bad checksum
 * on a known flow (invalid) and an ICMP error about it (related). */
static void test_accounting_skips_invalid(void **state)
{
	struct tclock clk = { .mono = 100 * SEC };
	struct fn_nft_state *s = key_state(&clk);
	struct tpkt t;

	(void)state;
	t_udp(&t, A, B, 1000, 53, 10);
	receive(s, &t);
	t_udp(&t, A, B, 1000, 53, 4);
	t.buf[26] ^= 0x55;
	receive(s, &t);
	t_udp(&t, A, B, 1000, 53, 20);
	receive(s, &t);
	assert_int_equal(COUNT(105), 1);  /* 2 packets, not 3 */
	assert_int_equal(COUNT(106), 1);
	t_free(s);
}

/* The kernel reads the full timeout until its clock ticks after the
 * refresh: remaining time is rounded up to the millisecond. */
static void test_expiration_rounding(void **state)
{
	struct tclock clk = { .mono = 100 * SEC };
	struct fn_nft_state *s = key_state(&clk);
	struct tpkt t;

	(void)state;
	t_udp(&t, A, B, 1000, 53, 0);
	receive(s, &t);
	t_udp(&t, A, B, 1000, 53, 0);
	fn_nft_eval(s, FN_HOOK_PREROUTING, &t.pkt, NULL);
	clk.mono += 500000;               /* 0.5 ms later: still 30000 */
	fn_nft_eval(s, FN_HOOK_INPUT, &t.pkt, NULL);
	assert_int_equal(COUNT(111), 1);
	t_udp(&t, A, B, 1000, 53, 0);
	fn_nft_eval(s, FN_HOOK_PREROUTING, &t.pkt, NULL);
	clk.mono += 1500000;              /* 1.5 ms: 29999 */
	fn_nft_eval(s, FN_HOOK_INPUT, &t.pkt, NULL);
	assert_int_equal(COUNT(111), 1);
	clk.mono += 31 * SEC;             /* expired: the flow starts over, 0 */
	t_udp(&t, A, B, 1000, 53, 0);
	receive(s, &t);
	assert_int_equal(COUNT(112), 2);
	t_free(s);
}

static void connlimit(struct fn_imgb *b, uint32_t slot, uint32_t limit, int invert)
{
	struct fn_op_connlimit *o = fn_imgb_op(b, FN_OP_CONNLIMIT, sizeof(*o));

	o->slot = slot;
	o->limit = limit;
	o->invert = (uint8_t)invert;
}

/* Input: rule 400 `ct count over 2 counter`, then `lists` rules each with
 * a `ct count` of its own that never stops the rule. */
static struct fn_nft_state *count_state(struct tclock *clk, unsigned lists)
{
	struct fn_imgb *b = t_builder();
	struct fn_nft_state *s;
	unsigned i;

	fn_imgb_table(b, "t", FN_FAMILY_INET, 0);
	fn_imgb_set_flags(b, FN_IMG_F_CONNTRACK);
	fn_imgb_chain(b, "in", FN_HOOK_INPUT, 0, FN_POLICY_ACCEPT);
	fn_imgb_rule(b, 0, 400);
	connlimit(b, 0, 2, 1);
	t_counter(b, 0, 400);
	for (i = 0; i < lists; i++) {
		fn_imgb_rule(b, 0, 500 + i);
		connlimit(b, 1 + i, UINT32_MAX, 0);
	}
	s = t_load(b);
	fn_nft_state_set_clock(s, t_mono, t_real, clk);
	return s;
}

static void test_ct_count(void **state)
{
	struct tclock clk = { .mono = 100 * SEC };
	struct fn_nft_state *s = count_state(&clk, 0);
	struct tpkt t;
	uint16_t port;

	(void)state;
	for (port = 1; port <= 3; port++) {
		t_udp(&t, A, B, port, 53, 0);
		receive(s, &t);
	}
	assert_int_equal(COUNT(400), 1);  /* the third flow is over 2 */
	t_udp(&t, A, B, 1, 53, 0);         /* a flow is counted once */
	receive(s, &t);
	assert_int_equal(COUNT(400), 2);
	t_udp(&t, B, A, 53, 2, 0);         /* replies go through output only */
	transmit(s, &t);
	/* the flows expire: the next walk forgets them */
	clk.mono += 31 * SEC;
	t_udp(&t, A, B, 10, 53, 0);
	receive(s, &t);
	t_udp(&t, A, B, 11, 53, 0);
	receive(s, &t);
	assert_int_equal(COUNT(400), 2);
	t_udp(&t, A, B, 12, 53, 0);
	receive(s, &t);
	assert_int_equal(COUNT(400), 3);
	assert_int_equal(fn_nft_connlimit_full(s), 0);
	t_free(s);
}

/* The lists share one pool per queue: when it is empty the packet is
 * dropped, as the kernel drops it when it cannot allocate, and counted. */
static void test_ct_count_pool_full(void **state)
{
	struct tclock clk = { .mono = 100 * SEC };
	struct fn_nft_state *s = count_state(&clk, 99); /* 100 lists */
	uint32_t flows = FN_CL_NODES / 100, i;
	struct tpkt t;

	(void)state;
	for (i = 0; i < flows; i++) {
		t_udp(&t, A, B, (uint16_t)(1000 + i), 53, 0);
		assert_int_equal(receive(s, &t), FN_ACCEPT);
	}
	assert_int_equal(fn_nft_connlimit_full(s), 0);
	t_udp(&t, A, B, (uint16_t)(1000 + i), 53, 0);
	assert_int_equal(receive(s, &t), FN_DROP);
	assert_int_equal(fn_nft_connlimit_full(s), 1);
	/* known flows need no room */
	t_udp(&t, A, B, 1000, 53, 0);
	assert_int_equal(receive(s, &t), FN_ACCEPT);
	t_free(s);
}

#define C IP4(3, 3, 3, 3)      /* other remotes */
#define D IP4(4, 4, 4, 4)
#define E IP4(5, 5, 5, 5)

/* Input, policy accept: rule 600 `udp dport 53 add @s { ip saddr ct count
 * over 2 } counter drop`, rule 601 `udp dport 54 update @s { ip saddr ct
 * count 1 } counter`; s dynamic with `size` elements and `timeout_ms`. */
static struct fn_nft_state *set_count_state(struct tclock *clk, uint32_t size,
					    uint64_t timeout_ms)
{
	static const uint8_t p53[2] = { 0, 53 }, p54[2] = { 0, 54 };
	struct fn_imgb *b = t_builder();
	struct fn_nft_state *s;
	uint32_t set;

	fn_imgb_table(b, "t", FN_FAMILY_INET, 0);
	fn_imgb_set_flags(b, FN_IMG_F_CONNTRACK);
	fn_imgb_chain(b, "in", FN_HOOK_INPUT, 0, FN_POLICY_ACCEPT);
	set = fn_imgb_set(b, "s", FN_SET_HASH, 0, 4, 0, 0, NULL);
	fn_imgb_set_dynamic(b, set, size, timeout_ms);
	fn_imgb_rule(b, 0, 600);
	t_payload_cmp(b, FN_PAYLOAD_TRANSPORT, 2, 2, FN_CMP_EQ, p53);
	t_payload(b, FN_PAYLOAD_NETWORK, 12, 4, 0);
	t_dynset_ct_count(b, 0, FN_DYNSET_ADD, set, 2, 1, 0);
	t_counter(b, 0, 600);
	t_verdict(b, FN_V_DROP, 0);
	fn_imgb_rule(b, 0, 601);
	t_payload_cmp(b, FN_PAYLOAD_TRANSPORT, 2, 2, FN_CMP_EQ, p54);
	t_payload(b, FN_PAYLOAD_NETWORK, 12, 4, 0);
	t_dynset_ct_count(b, 0, FN_DYNSET_UPDATE, set, 1, 0, 0);
	t_counter(b, 0, 601);
	s = t_load(b);
	fn_nft_state_set_clock(s, t_mono, t_real, clk);
	return s;
}

static enum fn_verdict flow(struct fn_nft_state *s, uint32_t src, uint16_t sport,
			    uint16_t dport)
{
	struct tpkt t;

	t_udp(&t, src, B, sport, dport, 0);
	return receive(s, &t);
}

/* Each element counts its own connections: two per source, the third
 * dropped; a flow is counted once; `ct count 1` matches while at most one. */
static void test_set_ct_count(void **state)
{
	struct tclock clk = { .mono = 100 * SEC };
	struct fn_nft_state *s = set_count_state(&clk, 16, 0);

	(void)state;
	assert_int_equal(flow(s, A, 1, 53), FN_ACCEPT);
	assert_int_equal(flow(s, A, 2, 53), FN_ACCEPT);
	assert_int_equal(flow(s, A, 1, 53), FN_ACCEPT);
	assert_int_equal(flow(s, A, 3, 53), FN_DROP);
	assert_int_equal(COUNT(600), 1);
	/* another source, its own list */
	assert_int_equal(flow(s, C, 1, 53), FN_ACCEPT);
	assert_int_equal(flow(s, C, 2, 53), FN_ACCEPT);
	/* A's third flow was dropped unconfirmed: the walk forgets it, and
	 * the fourth makes three again */
	assert_int_equal(flow(s, A, 4, 53), FN_DROP);
	assert_int_equal(COUNT(600), 2);
	/* update, not over: D's first connection matches, its second not */
	assert_int_equal(flow(s, D, 1, 54), FN_ACCEPT);
	assert_int_equal(flow(s, D, 1, 54), FN_ACCEPT);
	assert_int_equal(COUNT(601), 2);
	assert_int_equal(flow(s, D, 2, 54), FN_ACCEPT);
	assert_int_equal(COUNT(601), 2);
	/* the flows expire: the next walk forgets them */
	clk.mono += 31 * SEC;
	assert_int_equal(flow(s, A, 5, 53), FN_ACCEPT);
	assert_int_equal(flow(s, D, 3, 54), FN_ACCEPT);
	assert_int_equal(COUNT(601), 3);
	assert_int_equal(fn_nft_set_full(s), 0);
	assert_int_equal(fn_nft_connlimit_full(s), 0);
	t_free(s);
}

/* A full set first lets go of the elements whose connections are all
 * gone (the kernel's gc asks nft_connlimit_gc), else refuses: BREAK,
 * counted in set_full. */
static void test_set_ct_count_full(void **state)
{
	struct tclock clk = { .mono = 100 * SEC };
	struct fn_nft_state *s = set_count_state(&clk, 2, 0);

	(void)state;
	assert_int_equal(flow(s, A, 1, 53), FN_ACCEPT);
	assert_int_equal(flow(s, C, 1, 53), FN_ACCEPT);
	assert_int_equal(flow(s, D, 1, 53), FN_ACCEPT); /* refused: no drop */
	assert_int_equal(fn_nft_set_full(s), 1);
	assert_int_equal(COUNT(600), 0);
	clk.mono += 20 * SEC;
	assert_int_equal(flow(s, C, 2, 53), FN_ACCEPT);
	/* A's flow is gone, C's second is not: D takes A's place */
	clk.mono += 11 * SEC;
	assert_int_equal(flow(s, D, 1, 53), FN_ACCEPT);
	assert_int_equal(fn_nft_set_full(s), 1);
	assert_int_equal(flow(s, D, 2, 53), FN_ACCEPT);
	assert_int_equal(flow(s, D, 3, 53), FN_DROP);
	assert_int_equal(COUNT(600), 1);
	/* C still holds one connection: E is refused (one sweep a second) */
	clk.mono += 2 * SEC;
	assert_int_equal(flow(s, E, 1, 53), FN_ACCEPT);
	assert_int_equal(fn_nft_set_full(s), 2);
	t_free(s);
}

/* Elements and rules share the queue's pool: rule 400 `add @s { ip saddr
 * ct count N }` (never stops), then 99 rules of their own ct count. An
 * element's expiry gives its connections back to the pool. */
static void test_set_ct_count_pool(void **state)
{
	struct tclock clk = { .mono = 100 * SEC };
	struct fn_imgb *b = t_builder();
	uint32_t set, flows = FN_CL_NODES / 100, i;
	struct fn_nft_state *s;

	(void)state;
	fn_imgb_table(b, "t", FN_FAMILY_INET, 0);
	fn_imgb_set_flags(b, FN_IMG_F_CONNTRACK);
	fn_imgb_chain(b, "in", FN_HOOK_INPUT, 0, FN_POLICY_ACCEPT);
	set = fn_imgb_set(b, "s", FN_SET_HASH, 0, 4, 0, 0, NULL);
	fn_imgb_set_dynamic(b, set, 4, 1000);
	fn_imgb_rule(b, 0, 400);
	t_payload(b, FN_PAYLOAD_NETWORK, 12, 4, 0);
	t_dynset_ct_count(b, 0, FN_DYNSET_ADD, set, UINT32_MAX, 0, 0);
	t_counter(b, 0, 400);
	for (i = 0; i < 99; i++) {
		fn_imgb_rule(b, 0, 500 + i);
		connlimit(b, i, UINT32_MAX, 0);
	}
	s = t_load(b);
	fn_nft_state_set_clock(s, t_mono, t_real, &clk);
	for (i = 0; i < flows; i++)
		assert_int_equal(flow(s, A, (uint16_t)(1000 + i), 53), FN_ACCEPT);
	assert_int_equal(fn_nft_connlimit_full(s), 0);
	assert_int_equal(flow(s, A, (uint16_t)(1000 + i), 53), FN_DROP);
	assert_int_equal(fn_nft_connlimit_full(s), 1);
	assert_int_equal(COUNT(400), flows + 1);
	/* A's element expired (1 s): its flows, alive for 30 s, leave the
	 * pool with it, and a new flow finds room again */
	clk.mono += 2 * SEC;
	assert_int_equal(flow(s, A, 2000, 53), FN_ACCEPT);
	assert_int_equal(flow(s, C, 2000, 53), FN_ACCEPT);
	assert_int_equal(fn_nft_connlimit_full(s), 1);
	t_free(s);
}

/*
 * udp dport 53 meter m size 200000 { ip saddr ct count over 2 } drop, and
 * one packet each from 65536 spoofed sources: the pool is empty, every
 * element holding one node of a flow that soon dies. The walks alone
 * would never give them back (each element's own key never comes again,
 * the set is far from full), and every new source would be dropped for
 * good; the kernel's gc frees them within a second. An empty pool is
 * collected whole: once the flows are gone, a new source is counted.
 */
static void test_set_ct_count_pool_spoofed(void **state)
{
	static const uint8_t p53[2] = { 0, 53 };
	struct tclock clk = { .mono = 100 * SEC };
	struct fn_imgb *b = t_builder();
	struct fn_nft_state *s;
	struct tpkt t;
	uint32_t set, i;

	(void)state;
	fn_imgb_table(b, "t", FN_FAMILY_INET, 0);
	fn_imgb_set_flags(b, FN_IMG_F_CONNTRACK);
	fn_imgb_chain(b, "in", FN_HOOK_INPUT, 0, FN_POLICY_ACCEPT);
	set = fn_imgb_set(b, "m", FN_SET_HASH, 0, 4, 0, 0, NULL);
	fn_imgb_set_dynamic(b, set, 200000, 0);
	fn_imgb_rule(b, 0, 600);
	t_payload_cmp(b, FN_PAYLOAD_TRANSPORT, 2, 2, FN_CMP_EQ, p53);
	t_payload(b, FN_PAYLOAD_NETWORK, 12, 4, 0);
	t_dynset_ct_count(b, 0, FN_DYNSET_ADD, set, 2, 1, 0);
	t_verdict(b, FN_V_DROP, 0);
	s = t_load(b);
	fn_nft_state_set_clock(s, t_mono, t_real, &clk);
	for (i = 0; i < FN_CL_NODES; i++) {
		t_udp(&t, IP4(10, 0, 0, 0) + i, B, 4000, 53, 0);
		assert_int_equal(receive(s, &t), FN_ACCEPT);
	}
	/* two minutes later (unreplied UDP lives 30 s), with traffic that
	 * lets conntrack's own gc run */
	for (i = 0; i < 120; i++) {
		clk.mono += SEC;
		t_udp(&t, IP4(192, 168, 0, 1), IP4(2, 2, 2, 3), 1, 9, 0);
		receive(s, &t);
	}
	t_udp(&t, IP4(172, 16, 0, 2), B, 5000, 53, 0);
	assert_int_equal(receive(s, &t), FN_ACCEPT);
	assert_int_equal(fn_nft_connlimit_full(s), 0);
	t_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		T_TEST(test_udp_flow),
		T_TEST(test_udp_stream_timeout),
		T_TEST(test_unconfirmed_when_dropped),
		T_TEST(test_mark_on_new_flow),
		T_TEST(test_pending_forgotten),
		T_TEST(test_invalid_packets),
		T_TEST(test_bad_checksum_on_flow),
		T_TEST(test_icmp),
		T_TEST(test_full_table_early_drop),
		T_TEST(test_full_table_of_streams),
		T_TEST(test_keys),
		T_TEST(test_accounting_skips_invalid),
		T_TEST(test_expiration_rounding),
		T_TEST(test_ct_count),
		T_TEST(test_ct_count_pool_full),
		T_TEST(test_set_ct_count),
		T_TEST(test_set_ct_count_full),
		T_TEST(test_set_ct_count_pool),
		T_TEST(test_set_ct_count_pool_spoofed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
