/* The held-SYN table (dataplane/agent/held_tab.c) and vnet matching
 * (dataplane/agent/vnet_match.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "agent/held_tab.h"
#include "agent/vnet_match.h"

static struct held_tab *mk(uint32_t cap, uint32_t per_src, uint32_t per_vnet)
{
	size_t sz = held_tab_memsize(cap);
	void *mem = NULL;

	assert_true(sz > 0);
	assert_int_equal(posix_memalign(&mem, 64, sz), 0);
	memset(mem, 0xa5, sz); /* init must not rely on zeroed memory */
	assert_int_equal(held_tab_init(mem, cap, per_src, per_vnet), 0);
	return mem;
}

static struct held_key K(uint32_t src, uint16_t sport)
{
	return (struct held_key){ .src = src, .dst = 0xc613c80a, .sport = sport, .dport = 80 };
}

static void test_add_find_del(void **st)
{
	struct held_tab *t = mk(8, 8, 8);
	struct held_key k = K(0xc6120002, 1000);
	uint32_t idx, idx2, gen;
	int why = 0, p = 42;

	(void)st;
	assert_int_equal(held_tab_find(t, &k), HELD_NONE);
	assert_int_equal(held_tab_add(t, &k, 0, 3, 1, 100, &p, &idx, &why), 0);
	assert_int_equal(held_tab_find(t, &k), idx);
	gen = held_ents(t)[idx].gen;
	assert_int_equal(gen & 1, 0);
	assert_non_null(held_tab_get(t, idx, gen));
	assert_null(held_tab_get(t, idx, gen + 2));
	assert_int_equal(held_ents(t)[idx].agent, 3);
	/* the same 4-tuple again: held_tab_find names the entry already held */
	idx2 = held_tab_find(t, &k);
	assert_int_equal(idx2, idx);
	assert_ptr_equal(held_tab_del(t, idx), &p);
	assert_int_equal(t->n, 0);
	assert_null(held_tab_get(t, idx, gen)); /* a late answer is recognised */
	assert_int_equal(held_tab_find(t, &k), HELD_NONE);
	assert_null(held_tab_del(t, idx));      /* twice: nothing */
	assert_null(held_tab_del(t, 1000));     /* out of range */
	free(t);
}

static void test_bounds(void **st)
{
	struct held_tab *t = mk(10, 3, 6);
	uint32_t idx;
	int why = 0, p;

	(void)st;
	/* per source: the 4th SYN of one client is refused */
	for (uint16_t i = 0; i < 3; i++) {
		struct held_key k = K(0xc6120002, (uint16_t)(2000 + i));

		assert_int_equal(held_tab_add(t, &k, 0, 0, 0, 1, &p, &idx, &why), 0);
	}
	{
		struct held_key k = K(0xc6120002, 3000);

		assert_int_equal(held_tab_add(t, &k, 0, 0, 0, 1, &p, &idx, &why), -ENOSPC);
		assert_int_equal(why, HELD_FULL_SOURCE);
	}
	/* per vnet: 6 in vnet 0 */
	for (uint32_t s = 0; s < 3; s++) {
		struct held_key k = K(0xc6120010 + s, 1);

		assert_int_equal(held_tab_add(t, &k, 0, 0, 0, 1, &p, &idx, &why), 0);
	}
	{
		struct held_key k = K(0xc6120020, 1);

		assert_int_equal(held_tab_add(t, &k, 0, 0, 0, 1, &p, &idx, &why), -ENOSPC);
		assert_int_equal(why, HELD_FULL_VNET);
		/* another vnet still gets room */
		assert_int_equal(held_tab_add(t, &k, 1, 0, 0, 1, &p, &idx, &why), 0);
	}
	/* total: 10 */
	for (uint32_t s = 0; s < 3; s++) {
		struct held_key k = K(0xc6120030 + s, 1);

		assert_int_equal(held_tab_add(t, &k, 1, 0, 0, 1, &p, &idx, &why), 0);
	}
	{
		struct held_key k = K(0xc6120040, 1);

		assert_int_equal(t->n, 10);
		assert_int_equal(held_tab_add(t, &k, 2, 0, 0, 1, &p, &idx, &why), -ENOSPC);
		assert_int_equal(why, HELD_FULL);
	}
	/* freeing one of the client's entries gives it room again */
	{
		struct held_key k = K(0xc6120002, 2001), k2 = K(0xc6120002, 3000);

		held_tab_del(t, held_tab_find(t, &k));
		assert_int_equal(held_tab_add(t, &k2, 2, 0, 0, 1, &p, &idx, &why), 0);
	}
	free(t);
}

static void test_expiry_order(void **st)
{
	struct held_tab *t = mk(16, 16, 16);
	uint32_t idx[5];
	int why, p;

	(void)st;
	for (uint32_t i = 0; i < 5; i++) {
		struct held_key k = K(0xc6120002 + i, 1);

		assert_int_equal(held_tab_add(t, &k, 0, 0, 0, 100 + i * 10, &p, &idx[i], &why), 0);
	}
	assert_int_equal(held_tab_expired(t, 1099, 1000), HELD_NONE);
	assert_int_equal(held_tab_expired(t, 1100, 1000), idx[0]);
	/* removing from the middle keeps the order */
	held_tab_del(t, idx[1]);
	held_tab_del(t, idx[0]);
	assert_int_equal(held_tab_expired(t, 1119, 1000), HELD_NONE);
	assert_int_equal(held_tab_expired(t, 1120, 1000), idx[2]);
	held_tab_del(t, idx[4]);
	held_tab_del(t, idx[2]);
	assert_int_equal(held_tab_expired(t, 5000, 1000), idx[3]);
	held_tab_del(t, idx[3]);
	assert_int_equal(held_tab_expired(t, 5000, 1000), HELD_NONE);
	/* the clock wraps */
	{
		struct held_key k = K(0xc6120099, 1);
		uint32_t i;

		assert_int_equal(held_tab_add(t, &k, 0, 0, 0, 0xfffffff0u, &p, &i, &why), 0);
		assert_int_equal(held_tab_expired(t, 0x10, 1000), HELD_NONE);
		assert_int_equal(held_tab_expired(t, 1000, 1000), i);
	}
	free(t);
}

/* Many entries, random churn: the table agrees with a shadow copy. */
static void test_churn(void **st)
{
	enum { CAP = 512, KEYS = 2000 };
	struct held_tab *t = mk(CAP, CAP, CAP);
	static uint32_t where[KEYS];
	uint64_t rng = 88172645463325252ull;
	uint32_t n = 0;
	int p;

	(void)st;
	for (uint32_t i = 0; i < KEYS; i++)
		where[i] = HELD_NONE;
	for (int step = 0; step < 200000; step++) {
		uint32_t key, idx;
		struct held_key k;
		int why;

		rng ^= rng << 13;
		rng ^= rng >> 7;
		rng ^= rng << 17;
		key = (uint32_t)(rng % KEYS);
		k = K(0x0a000000 + key % 97, (uint16_t)(key + 1));
		if (where[key] == HELD_NONE) {
			int rc = held_tab_add(t, &k, 0, 0, 0, (uint32_t)step, &p, &idx, &why);

			if (n < CAP) {
				assert_int_equal(rc, 0);
				where[key] = idx;
				n++;
			} else {
				assert_int_equal(rc, -ENOSPC);
			}
		} else {
			assert_int_equal(held_tab_find(t, &k), where[key]);
			held_tab_del(t, where[key]);
			where[key] = HELD_NONE;
			n--;
		}
		assert_int_equal(t->n, n);
	}
	free(t);
}

static void test_vnet_match(void **st)
{
	struct sl_vnet_def v[2];
	struct sl_acl_rule r[3];
	struct acl_pkt p;

	(void)st;
	memset(v, 0, sizeof(v));
	v[0].n_clients = 1;
	v[0].clients[0] = (struct sl_prefix){ .prefix = 0xc6120000, .plen = 25 };
	v[1].n_clients = 2;
	v[1].clients[0] = (struct sl_prefix){ .prefix = 0xc6120080, .plen = 25 };
	v[1].clients[1] = (struct sl_prefix){ .prefix = 0x0a000000, .plen = 8 };
	assert_int_equal(vnet_of(v, 2, 0xc6120002), 0);
	assert_int_equal(vnet_of(v, 2, 0xc6120082), 1);
	assert_int_equal(vnet_of(v, 2, 0x0a010203), 1);
	assert_int_equal(vnet_of(v, 2, 0xc6130002), -1);
	v[0].n_routes = 2;
	v[0].routes[0] = (struct sl_vnet_route){ .prefix = 0xc613c800, .plen = 24, .agent = 0 };
	v[0].routes[1] = (struct sl_vnet_route){ .prefix = 0xc613c80a, .plen = 32, .agent = 5 };
	assert_int_equal(vnet_route(&v[0], 0xc613c80b), 0);
	assert_int_equal(vnet_route(&v[0], 0xc613c80a), 5); /* the longest prefix */
	assert_int_equal(vnet_route(&v[0], 0xc613c90a), -1);
	assert_int_equal(vnet_route(&v[1], 0xc613c80a), -1);

	memset(r, 0, sizeof(r));
	/* vnet 0: reject one client to port 80, then drop all ICMP, else allow */
	r[0] = (struct sl_acl_rule){ .vnet = 0, .proto = 6, .action = SL_ACL_REJECT,
				     .src = 0xc6120063, .src_plen = 32, .sport_hi = 65535,
				     .dport_lo = 80, .dport_hi = 80 };
	r[1] = (struct sl_acl_rule){ .vnet = 0, .proto = 1, .action = SL_ACL_DROP, .sport_hi = 65535,
				     .dport_hi = 65535 };
	r[2] = (struct sl_acl_rule){ .vnet = 1, .proto = 0, .action = SL_ACL_DROP, .sport_hi = 65535,
				     .dport_hi = 65535 };
	p = (struct acl_pkt){ .vnet = 0, .proto = 6, .has_ports = 1, .src = 0xc6120063,
			      .dst = 0xc613c80a, .sport = 4000, .dport = 80 };
	assert_int_equal(acl_match(r, 3, &p), 0);
	p.dport = 81;
	assert_int_equal(acl_match(r, 3, &p), -1);
	p.dport = 80;
	p.src = 0xc6120002;
	assert_int_equal(acl_match(r, 3, &p), -1);
	p.proto = 1;
	p.has_ports = 0;
	assert_int_equal(acl_match(r, 3, &p), 1);
	p.vnet = 1;
	assert_int_equal(acl_match(r, 3, &p), 2); /* proto any */
	/* a port rule never matches a packet without ports */
	p = (struct acl_pkt){ .vnet = 0, .proto = 6, .has_ports = 0, .src = 0xc6120063 };
	assert_int_equal(acl_match(r, 3, &p), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_find_del),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_expiry_order),
		cmocka_unit_test(test_churn),
		cmocka_unit_test(test_vnet_match),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
