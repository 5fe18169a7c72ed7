/* The flow owner is the NIC's: the table Toeplitz hash against DPDK's
 * rte_softrss() with the same key, its symmetry, the RETA mapping and what
 * port.c programs, the ephemeral-port choice of tcp_connect(), and
 * dispatch_owner() on packet bytes against the queue a NIC would pick. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <cmocka.h>

#include <rte_thash.h>

#include "flow/dispatch.h"
#include "flow/flow_key.h"
#include "flow/toeplitz.h"

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t rnd32(void)
{
	/* xorshift64*: reproducible, and all 32 bits vary (rand() gives 31) */
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return (uint32_t)((rng * 0x2545f4914f6cdd1dull) >> 32);
}

/* What a NIC computes, through DPDK's reference code: addresses in network
 * order as in the header, ports in host order. */
static uint32_t nic_hash(const uint8_t *key, uint32_t sa_be, uint32_t da_be, uint16_t sp,
			 uint16_t dp, int l4)
{
	struct rte_ipv4_tuple t;

	memset(&t, 0, sizeof(t));
	t.src_addr = ntohl(sa_be);
	t.dst_addr = ntohl(da_be);
	t.sport = sp;
	t.dport = dp;
	return rte_softrss((uint32_t *)&t, l4 ? RTE_THASH_V4_L4_LEN : RTE_THASH_V4_L3_LEN, key);
}

/* The queue a NIC picks with a RETA of 512 entries, entry i = i % n. */
static unsigned int nic_queue(uint32_t h, unsigned int n)
{
	uint16_t reta[512];

	for (unsigned int i = 0; i < 512; i++)
		reta[i] = (uint16_t)(i % n);
	return reta[h % 512];
}

static void test_matches_softrss(void **s)
{
	(void)s;
	for (int i = 0; i < 20000; i++) {
		uint32_t sa = rnd32(), da = rnd32(), pp = rnd32();
		uint16_t sp = (uint16_t)pp, dp = (uint16_t)(pp >> 16);

		if (i < 2) { /* the edges: no bits, all bits */
			sa = da = i ? 0xffffffffu : 0;
			sp = dp = i ? 0xffffu : 0;
		}
		assert_int_equal(toeplitz_hash_v4(sa, da, sp, dp),
				 nic_hash(toeplitz_sym_key, sa, da, sp, dp, 1));
		assert_int_equal(toeplitz_hash_v4_addr(sa, da),
				 nic_hash(toeplitz_sym_key, sa, da, 0, 0, 0));
		/* the address-only hash is the 4-tuple hash with ports 0 */
		assert_int_equal(toeplitz_hash_v4_addr(sa, da), toeplitz_hash_v4(sa, da, 0, 0));
	}
}

/* The key at a port's own length (52 on i40e/ice) hashes IPv4 the same. */
static void test_key_fill(void **s)
{
	uint8_t key[52] __attribute__((aligned(4)));
	(void)s;
	assert_int_equal(toeplitz_key_fill(key, 15), -EINVAL);
	assert_int_equal(toeplitz_key_fill(key, 40), 0);
	assert_memory_equal(key, toeplitz_sym_key, 40);
	assert_int_equal(toeplitz_key_fill(key, sizeof(key)), 0);
	for (int i = 0; i < 2000; i++) {
		uint32_t sa = rnd32(), da = rnd32(), pp = rnd32();

		assert_int_equal(nic_hash(key, sa, da, (uint16_t)pp, (uint16_t)(pp >> 16), 1),
				 toeplitz_hash_v4(sa, da, (uint16_t)pp, (uint16_t)(pp >> 16)));
		assert_int_equal(nic_hash(key, sa, da, 0, 0, 0), toeplitz_hash_v4_addr(sa, da));
	}
}

static void test_symmetric(void **s)
{
	(void)s;
	for (int i = 0; i < 20000; i++) {
		uint32_t sa = rnd32(), da = rnd32(), pp = rnd32();
		uint16_t sp = (uint16_t)pp, dp = (uint16_t)(pp >> 16);
		uint32_t h = toeplitz_hash_v4(sa, da, sp, dp);

		assert_int_equal(h, toeplitz_hash_v4(da, sa, dp, sp));
		assert_int_equal(toeplitz_hash_v4_addr(sa, da), toeplitz_hash_v4_addr(da, sa));
		/* and the NIC agrees on the reverse too */
		assert_int_equal(h, nic_hash(toeplitz_sym_key, da, sa, dp, sp, 1));
		for (unsigned int n = 1; n <= 16; n++) {
			unsigned int o = flow_owner_v4(IPPROTO_TCP, sa, da, sp, dp, n);

			assert_true(o < n);
			assert_int_equal(o, flow_owner_v4(IPPROTO_TCP, da, sa, dp, sp, n));
			assert_int_equal(o, nic_queue(h, n));
			assert_int_equal(flow_owner_v4(IPPROTO_ICMP, sa, da, 0, 0, n),
					 flow_owner_v4(IPPROTO_ICMP, da, sa, 0, 0, n));
		}
	}
}

/* The hash depends on the tuple's 16-bit XOR fold only (the key's period);
 * the fold's matrix has full rank, so all 65536 folds hash apart -- here
 * the port alone varies, and even the low 16 bits differ. */
static void test_full_rank(void **s)
{
	static uint8_t seen[65536 / 8];
	(void)s;
	memset(seen, 0, sizeof(seen));
	for (uint32_t p = 0; p < 65536; p++) {
		uint32_t lo = toeplitz_hash_v4(0, 0, (uint16_t)p, 0) & 0xffffu;

		assert_false(seen[lo / 8] & (1u << (lo % 8)));
		seen[lo / 8] |= (uint8_t)(1u << (lo % 8));
	}
}

/* The port tcp_connect() picks (flow_pick_port) makes the answers hash, by
 * the NIC's reference code and RETA, to the opening worker's queue; and it
 * is found in about n tries. */
static void test_pick_port(void **s)
{
	(void)s;
	for (unsigned int n = 2; n <= 8; n++) {
		unsigned long tries = 0, picks = 0;
		unsigned int maxt = 0;

		for (unsigned int w = 0; w < n; w++) {
			for (int i = 0; i < 2000; i++) {
				uint32_t la = rnd32(), ra = rnd32();
				uint16_t rport = (uint16_t)(i & 1 ? 443 : rnd32());
				uint16_t cursor = (uint16_t)(FLOW_PORT_LO + rnd32() % (FLOW_PORT_HI - FLOW_PORT_LO));
				unsigned int budget = 64 * n;
				uint16_t p = flow_pick_port(&cursor, la, ra, rport, n, w, &budget);

				assert_int_not_equal(p, 0);
				assert_in_range(p, FLOW_PORT_LO, FLOW_PORT_HI - 1);
				assert_in_range(cursor, FLOW_PORT_LO, FLOW_PORT_HI - 1);
				/* the server's answer: raddr:rport -> laddr:p */
				assert_int_equal(nic_queue(nic_hash(toeplitz_sym_key, ra, la, rport, p, 1), n), w);
				/* and our own segments, should they come back in */
				assert_int_equal(nic_queue(nic_hash(toeplitz_sym_key, la, ra, p, rport, 1), n), w);
				tries += 64 * n - budget;
				if (64 * n - budget > maxt)
					maxt = 64 * n - budget;
				picks++;
			}
		}
		/* success about 1/n a try, independent enough: mean ~n, and far
		 * from the budget */
		assert_true(tries < picks * n * 12 / 10);
		assert_true(tries > picks * n * 8 / 10);
		assert_true(maxt < 16 * n);
	}
	/* one worker: the cursor's port; the cursor wraps in range and
	 * visits every port once a cycle */
	{
		static uint8_t seen[65536 / 8];
		uint16_t cursor = FLOW_PORT_HI - 1;
		unsigned int budget = 64;

		assert_int_equal(flow_pick_port(&cursor, 1, 2, 80, 1, 0, &budget), FLOW_PORT_HI - 1);
		assert_int_equal(cursor, FLOW_PORT_LO + FLOW_PORT_STRIDE - 1);
		assert_int_equal(budget, 63);
		memset(seen, 0, sizeof(seen));
		budget = FLOW_PORT_HI - FLOW_PORT_LO;
		for (unsigned int i = 0; i < FLOW_PORT_HI - FLOW_PORT_LO; i++) {
			uint16_t p = flow_pick_port(&cursor, 1, 2, 80, 1, 0, &budget);

			assert_in_range(p, FLOW_PORT_LO, FLOW_PORT_HI - 1);
			assert_false(seen[p / 8] & (1u << (p % 8)));
			seen[p / 8] |= (uint8_t)(1u << (p % 8));
		}
		/* a cursor out of the range starts it over */
		cursor = 1024;
		budget = 1;
		assert_int_equal(flow_pick_port(&cursor, 1, 2, 80, 1, 0, &budget), FLOW_PORT_LO);
	}
	/* an exhausted budget finds nothing */
	{
		uint16_t cursor = FLOW_PORT_LO;
		unsigned int budget = 0;

		assert_int_equal(flow_pick_port(&cursor, 1, 2, 80, 4, 1, &budget), 0);
	}
}

static void test_distribution(void **s)
{
	static const unsigned int ns[] = { 3, 8 };
	(void)s;
	for (unsigned int k = 0; k < 2; k++) {
		unsigned int n = ns[k], count[8] = { 0 };
		const unsigned int total = 100000, even = total / n;

		for (unsigned int i = 0; i < total; i++) {
			uint32_t sa = rnd32(), da = rnd32(), pp = rnd32();

			count[flow_owner_v4(IPPROTO_UDP, sa, da, (uint16_t)pp, (uint16_t)(pp >> 16), n)]++;
		}
		for (unsigned int w = 0; w < n; w++)
			assert_in_range(count[w], even - even * 3 / 100, even + even * 3 / 100);
	}
}

/* What port.c programs: for a RETA of S entries, the NIC's queue
 * reta[h & (S-1)] is the software owner for every hash when S >= 512, or when
 * n is a power of two <= S; otherwise for the share the function reports. */
static void test_reta_fill(void **s)
{
	static uint16_t reta[4096];
	(void)s;
	assert_int_equal(toeplitz_reta_fill(reta, 0, 3), -EINVAL);
	assert_int_equal(toeplitz_reta_fill(reta, 384, 3), -EINVAL);
	assert_int_equal(toeplitz_reta_fill(reta, 512, 0), -EINVAL);
	for (unsigned int size = 16; size <= 4096; size *= 2) {
		for (unsigned int n = 1; n <= 16; n++) {
			int agree = toeplitz_reta_fill(reta, size, n);
			unsigned int match = 0;

			assert_in_range(agree, 1, TOEPLITZ_RETA_SIZE);
			for (unsigned int i = 0; i < size; i++)
				assert_true(reta[i] < n);
			/* both mappings read the hash's low 12 bits at the most */
			for (uint32_t h = 0; h < 4096; h++)
				match += reta[h & (size - 1)] == toeplitz_reta_owner(h, n);
			assert_int_equal(match, (unsigned int)agree * (4096 / TOEPLITZ_RETA_SIZE));
			if (size >= TOEPLITZ_RETA_SIZE || ((n & (n - 1)) == 0 && n <= size))
				assert_int_equal(agree, TOEPLITZ_RETA_SIZE);
			/* and real hashes, high bits set, agree the same way */
			if (agree == TOEPLITZ_RETA_SIZE)
				for (int i = 0; i < 1000; i++) {
					uint32_t h = rnd32();

					assert_int_equal(reta[h & (size - 1)], toeplitz_reta_owner(h, n));
				}
		}
	}
	/* the default-style RETA: entry i = i % n at our size */
	assert_int_equal(toeplitz_reta_fill(reta, 512, 7), 512);
	for (unsigned int i = 0; i < 512; i++)
		assert_int_equal(reta[i], i % 7);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static struct ipv4_hdr_raw *mk_ip(uint8_t *b, uint8_t proto, uint16_t tlen, uint32_t a_be,
				  uint32_t c_be)
{
	struct ipv4_hdr_raw *ip = (struct ipv4_hdr_raw *)b;

	memset(b, 0, tlen);
	ip->ver_ihl = 0x45;
	ip->total_len = htons(tlen);
	ip->ttl = 64;
	ip->proto = proto;
	ip->src = a_be;
	ip->dst = c_be;
	return ip;
}

/* dispatch_owner() on packet bytes is the queue a NIC with this key and
 * RETA delivers them to (ICMP errors excepted: the NIC hashes the outer
 * header, the owner is the quoted flow's). */
static void test_dispatch_is_nic(void **s)
{
	uint8_t b[100], q[28];
	(void)s;
	for (int i = 0; i < 5000; i++) {
		uint32_t a = rnd32(), c = rnd32(), pp = rnd32();
		uint16_t sp = (uint16_t)pp, dp = (uint16_t)(pp >> 16);
		unsigned int n = 2 + (unsigned int)i % 15;
		uint8_t proto = i & 1 ? IPPROTO_TCP : IPPROTO_UDP;
		unsigned int l4q = nic_queue(nic_hash(toeplitz_sym_key, a, c, sp, dp, 1), n);
		unsigned int l3q = nic_queue(nic_hash(toeplitz_sym_key, a, c, 0, 0, 0), n);

		/* TCP or UDP, both directions */
		mk_ip(b, proto, 40, a, c);
		put16(b + 20, sp);
		put16(b + 22, dp);
		memcpy(q, b, sizeof(q));
		assert_int_equal(dispatch_owner((struct ipv4_hdr_raw *)b, 40, n), l4q);
		mk_ip(b, proto, 40, c, a);
		put16(b + 20, dp);
		put16(b + 22, sp);
		assert_int_equal(dispatch_owner((struct ipv4_hdr_raw *)b, 40, n), l4q);
		/* a first and a later fragment: the IPv4 (address) hash */
		mk_ip(b, proto, 60, a, c);
		b[6] = 0x20; /* MF */
		put16(b + 20, sp);
		put16(b + 22, dp);
		assert_int_equal(dispatch_owner((struct ipv4_hdr_raw *)b, 60, n), l3q);
		mk_ip(b, proto, 60, c, a);
		b[7] = 5; /* offset 40 */
		assert_int_equal(dispatch_owner((struct ipv4_hdr_raw *)b, 60, n), l3q);
		/* an echo request: no ports, the address hash */
		mk_ip(b, IPPROTO_ICMP, 28, a, c);
		b[20] = 8;
		put16(b + 24, sp);
		assert_int_equal(dispatch_owner((struct ipv4_hdr_raw *)b, 28, n), l3q);
		/* a time-exceeded from a router quoting the first packet: the
		 * quoted flow's owner */
		mk_ip(b, IPPROTO_ICMP, 56, rnd32(), a);
		b[20] = 11;
		memcpy(b + 28, q, sizeof(q));
		assert_int_equal(dispatch_owner((struct ipv4_hdr_raw *)b, 56, n), l4q);
	}
}

static int setup(void **s)
{
	(void)s;
	toeplitz_init();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_matches_softrss),
		cmocka_unit_test(test_key_fill),
		cmocka_unit_test(test_symmetric),
		cmocka_unit_test(test_full_rank),
		cmocka_unit_test(test_pick_port),
		cmocka_unit_test(test_distribution),
		cmocka_unit_test(test_reta_fill),
		cmocka_unit_test(test_dispatch_is_nic),
	};
	return cmocka_run_group_tests_name("toeplitz", tests, setup, NULL);
}
