/* Flow keys: layout, reversal, a symmetric hash that still tells flows apart,
 * and owners spread evenly over workers.  The owner's hash itself against
 * DPDK's: test_toeplitz.c. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <cmocka.h>

#include "flow/dispatch.h"
#include "flow/flow_key.h"

static void test_reverse_and_symmetry(void **s)
{
	struct flow_key k, r, rr;
	(void)s;
	flow_key_v4(&k, 0, 6, htonl(0xc6120002), htonl(0xc613000a), 40000, 9000);
	flow_key_reverse(&r, &k);
	assert_int_equal(r.sport, 9000);
	assert_int_equal(r.dport, 40000);
	assert_memory_equal(r.saddr, k.daddr, 16);
	flow_key_reverse(&rr, &r);
	assert_memory_equal(&rr, &k, sizeof(k));
	assert_int_equal(flow_hash_sym(&k), flow_hash_sym(&r));
	assert_int_equal(flow_owner(&k, 7), flow_owner(&r, 7));
	/* padding-free, so the key can be hashed and compared as bytes */
	assert_int_equal(sizeof(k), 40);
}

static void test_distinct(void **s)
{
	struct flow_key a, b;
	(void)s;
	flow_key_v4(&a, 0, 6, htonl(0xc6120002), htonl(0xc613000a), 40000, 9000);
	/* each field changes the hash */
	b = a; b.sport++;
	assert_int_not_equal(flow_hash_sym(&a), flow_hash_sym(&b));
	b = a; b.proto = 17;
	assert_int_not_equal(flow_hash_sym(&a), flow_hash_sym(&b));
	b = a; b.vnet = 1;
	assert_int_not_equal(flow_hash_sym(&a), flow_hash_sym(&b));
	b = a; b.daddr[3] ^= 1;
	assert_int_not_equal(flow_hash_sym(&a), flow_hash_sym(&b));
	/* swapping only the ports is another flow, not the reverse */
	b = a; b.sport = a.dport; b.dport = a.sport;
	assert_int_not_equal(flow_hash_sym(&a), flow_hash_sym(&b));
}

static void test_spread(void **s)
{
	unsigned int count[4] = { 0 };
	struct flow_key k;
	(void)s;
	/* one client, consecutive ephemeral ports: owners within 10% of even */
	for (uint32_t p = 20000; p < 20000 + 40000; p++) {
		flow_key_v4(&k, 0, 6, htonl(0xc6120002), htonl(0xc613000a), (uint16_t)p, 443);
		count[flow_owner(&k, 4)]++;
	}
	for (int i = 0; i < 4; i++)
		assert_in_range(count[i], 9000, 11000);
	assert_int_equal(flow_owner(&k, 1), 0);
}

/* The lean IPv4 owner is the general one, for any tuple and worker count
 * (both are the NIC's symmetric Toeplitz hash mapped like a RETA). */
static void test_owner_v4_is_flow_owner(void **s)
{
	unsigned int seed = 7;
	(void)s;
	for (int i = 0; i < 100000; i++) {
		struct flow_key k;
		uint32_t sa = (uint32_t)rand_r(&seed) << 1 ^ (uint32_t)rand_r(&seed);
		uint32_t da = (uint32_t)rand_r(&seed) << 1 ^ (uint32_t)rand_r(&seed);
		uint16_t sp = (uint16_t)rand_r(&seed), dp = (uint16_t)rand_r(&seed);
		uint8_t proto = (uint8_t)(i & 1 ? 6 : 17);
		unsigned int n = 1 + (unsigned int)(i % 16);

		flow_key_v4(&k, 0, proto, sa, da, sp, dp);
		assert_int_equal(flow_owner_v4(proto, sa, da, sp, dp, n), flow_owner(&k, n));
		assert_int_equal(flow_owner_v4(proto, da, sa, dp, sp, n), flow_owner(&k, n));
	}
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* An IPv4 header (no options) at b, proto and total length, from a to c. */
static struct ipv4_hdr_raw *mk_ip(uint8_t *b, uint8_t proto, uint16_t tlen, uint32_t a, uint32_t c)
{
	struct ipv4_hdr_raw *ip = (struct ipv4_hdr_raw *)b;

	memset(b, 0, tlen);
	ip->ver_ihl = 0x45;
	ip->total_len = htons(tlen);
	ip->ttl = 64;
	ip->proto = proto;
	ip->src = htonl(a);
	ip->dst = htonl(c);
	return ip;
}

static void test_dispatch_owner(void **s)
{
	uint8_t fwd[60], rev[60], err[100], frag1[60], frag2[60];
	const uint32_t cl = 0xc6120002, sv = 0xc613000a;
	(void)s;
	for (unsigned int n = 2; n <= 8; n++) {
		for (uint16_t port = 40000; port < 40064; port++) {
			unsigned int o;

			/* a TCP segment and its answer */
			mk_ip(fwd, IPPROTO_TCP, 40, cl, sv);
			put16(fwd + 20, port);
			put16(fwd + 22, 80);
			mk_ip(rev, IPPROTO_TCP, 40, sv, cl);
			put16(rev + 20, 80);
			put16(rev + 22, port);
			o = dispatch_owner((struct ipv4_hdr_raw *)fwd, 40, n);
			assert_true(o < n);
			assert_int_equal(o, dispatch_owner((struct ipv4_hdr_raw *)rev, 40, n));
			assert_int_equal(o, flow_owner_v4(IPPROTO_TCP, htonl(cl), htonl(sv), port, 80, n));
			/* an ICMP error from a router about the segment: same owner */
			mk_ip(err, IPPROTO_ICMP, 20 + 8 + 28, 0xc6120101, cl);
			err[20] = 3;
			err[21] = 4;
			memcpy(err + 28, fwd, 28);
			assert_int_equal(o, dispatch_owner((struct ipv4_hdr_raw *)err, 56, n));
			/* ... even when the quote is cut short of the ports it is
			 * dispatched somewhere valid */
			assert_true(dispatch_owner((struct ipv4_hdr_raw *)err, 28 + 20, n) < n);
		}
		/* both fragments of one datagram meet, whatever the ports */
		mk_ip(frag1, IPPROTO_UDP, 60, cl, sv);
		frag1[6] = 0x20; /* MF */
		put16(frag1 + 20, 5353);
		put16(frag1 + 22, 53);
		mk_ip(frag2, IPPROTO_UDP, 60, cl, sv);
		frag2[7] = 5; /* offset 40 */
		assert_int_equal(dispatch_owner((struct ipv4_hdr_raw *)frag1, 60, n),
				 dispatch_owner((struct ipv4_hdr_raw *)frag2, 60, n));
	}
	mk_ip(fwd, IPPROTO_TCP, 40, cl, sv);
	assert_int_equal(dispatch_owner((struct ipv4_hdr_raw *)fwd, 40, 1), 0);
}

/* the owner's hash table, as sluice-dp fills it before the workers run */
static int setup(void **s)
{
	(void)s;
	toeplitz_init();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reverse_and_symmetry),
		cmocka_unit_test(test_distinct),
		cmocka_unit_test(test_spread),
		cmocka_unit_test(test_owner_v4_is_flow_owner),
		cmocka_unit_test(test_dispatch_owner),
	};
	return cmocka_run_group_tests_name("flow_key", tests, setup, NULL);
}
