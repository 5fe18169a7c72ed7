/* Route list and next-hop pool bookkeeping, with prefixes parsed as the CLI does. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <errno.h>
#include <stdlib.h>
#include <cmocka.h>

#include "conf.h"
#include "ip/route_list.h"

static struct sl_route mk(const char *pfx, uint8_t type, uint16_t port, const char *gw)
{
	struct sl_route r = { .type = type, .port = port, .origin = SL_RO_STATIC };
	assert_int_equal(sl_parse_prefix(pfx, &r.prefix, &r.plen), 0);
	if (gw)
		assert_int_equal(sl_parse_ipv4(gw, &r.gw), 0);
	return r;
}

static void test_add_find_del(void **s)
{
	struct sl_route_table *t = calloc(1, sizeof(*t));
	struct sl_route r = mk("10.0.0.0/8", SL_RT_GATEWAY, 1, "198.19.0.2"), old;
	(void)s;
	assert_int_equal(route_list_add(t, &r), 0);
	assert_int_equal(route_list_add(t, &r), -EEXIST);
	/* same prefix, other length: a different route */
	struct sl_route r2 = mk("10.0.0.0/16", SL_RT_DIRECT, 0, NULL);
	assert_int_equal(route_list_add(t, &r2), 0);
	assert_int_equal(t->n, 2);
	assert_int_equal(route_list_find(t, 0x0a000000, 16), 1);
	assert_int_equal(route_list_del(t, 0x0a000000, 8, &old), 0);
	assert_int_equal(old.gw, 0xc6130002);
	assert_int_equal(route_list_find(t, 0x0a000000, 8), -ENOENT);
	assert_int_equal(route_list_find(t, 0x0a000000, 16), 0);
	assert_int_equal(route_list_del(t, 0x0a000000, 8, NULL), -ENOENT);
	/* each change moved the seqcount by two (even = stable) */
	assert_int_equal(t->seq.sn, 6);
	free(t);
}

static void test_host_bits(void **s)
{
	struct sl_route_table *t = calloc(1, sizeof(*t));
	struct sl_route r = { .prefix = 0x0a000001, .plen = 8, .type = SL_RT_DIRECT };
	uint32_t p;
	uint8_t l;
	(void)s;
	assert_int_equal(route_list_add(t, &r), -EINVAL);
	r.plen = 33;
	assert_int_equal(route_list_add(t, &r), -EINVAL);
	/* the parser refuses them first */
	assert_int_equal(sl_parse_prefix("10.0.0.1/8", &p, &l), -EINVAL);
	assert_int_equal(sl_parse_prefix("10.0.0.0/33", &p, &l), -EINVAL);
	assert_int_equal(sl_parse_prefix("10.0.0/8", &p, &l), -EINVAL);
	assert_int_equal(sl_parse_prefix("0.0.0.0/0", &p, &l), 0);
	assert_int_equal(l, 0);
	/* default route and host route are fine */
	r = (struct sl_route){ .prefix = 0, .plen = 0, .type = SL_RT_GATEWAY, .gw = 1 };
	assert_int_equal(route_list_add(t, &r), 0);
	r = (struct sl_route){ .prefix = 0xc6130005, .plen = 32, .type = SL_RT_DIRECT };
	assert_int_equal(route_list_add(t, &r), 0);
	free(t);
}

static void test_full(void **s)
{
	struct sl_route_table *t = calloc(1, sizeof(*t));
	(void)s;
	for (uint32_t i = 0; i < SL_ROUTES_MAX; i++) {
		struct sl_route r = { .prefix = i << 8, .plen = 24, .type = SL_RT_DIRECT };
		assert_int_equal(route_list_add(t, &r), 0);
	}
	struct sl_route r = { .prefix = 0x0b000000, .plen = 8, .type = SL_RT_DIRECT };
	assert_int_equal(route_list_add(t, &r), -ENOSPC);
	/* order is kept on delete */
	assert_int_equal(route_list_del(t, 5u << 8, 24, NULL), 0);
	assert_int_equal(t->r[5].prefix, 6u << 8);
	assert_int_equal(route_list_add(t, &r), 0);
	assert_int_equal(t->r[SL_ROUTES_MAX - 1].prefix, 0x0b000000);
	free(t);
}

static void test_nexthops(void **s)
{
	struct nh_pool *p = calloc(1, sizeof(*p));
	int a, b, c;
	(void)s;
	a = nh_get(p, SL_RT_GATEWAY, 1, 0xc6130002);
	b = nh_get(p, SL_RT_GATEWAY, 1, 0xc6130002);
	c = nh_get(p, SL_RT_DIRECT, 1, 0);
	assert_true(a >= 0);
	assert_int_equal(a, b); /* shared */
	assert_int_not_equal(a, c);
	assert_int_equal(p->nh[a].refcnt, 2);
	assert_int_equal(p->nh[a].neigh_pos, -1);
	nh_put(p, a);
	nh_put(p, a);
	assert_int_equal(p->nh[a].refcnt, 0);
	nh_put(p, a); /* no underflow */
	assert_int_equal(p->nh[a].refcnt, 0);
	/* the freed slot is reused */
	assert_int_equal(nh_get(p, SL_RT_GATEWAY, 0, 0xc6120009), a);
	for (int i = 0; i < NH_MAX - 2; i++)
		assert_true(nh_get(p, SL_RT_GATEWAY, 0, 0x0a000000u + (uint32_t)i) >= 0);
	assert_int_equal(nh_get(p, SL_RT_GATEWAY, 0, 0x0b000000), -ENOSPC);
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_find_del),
		cmocka_unit_test(test_host_bits),
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_nexthops),
	};
	return cmocka_run_group_tests_name("route", tests, NULL, NULL);
}
