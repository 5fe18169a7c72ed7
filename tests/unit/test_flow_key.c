/* Flow keys: layout, reversal, a symmetric hash that still tells flows apart,
 * and owners spread evenly over workers. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <arpa/inet.h>
#include <cmocka.h>

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reverse_and_symmetry),
		cmocka_unit_test(test_distinct),
		cmocka_unit_test(test_spread),
	};
	return cmocka_run_group_tests_name("flow_key", tests, NULL, NULL);
}
