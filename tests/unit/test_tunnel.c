/*
 * S5 tunnels (dataplane/apps/tunnel.c): e2e_hosts matching and the pair
 * table -- a pair lives until its TTL, renewing replaces, the table is
 * bounded and says so.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <errno.h>
#include <string.h>
#include <cmocka.h>

#include "apps/tunnel.h"

static void t_match(void **st)
{
	(void)st;
	assert_true(e2e_match("bank.sluice.test", "bank.sluice.test"));
	assert_true(e2e_match("bank.sluice.test", "BANK.Sluice.Test"));
	assert_false(e2e_match("bank.sluice.test", "bank.sluice.test.evil"));
	assert_false(e2e_match("bank.sluice.test", "xbank.sluice.test"));
	assert_true(e2e_match("a.test, *.bank.test", "www.bank.test"));
	assert_true(e2e_match("a.test,*.bank.test", "a.b.bank.test"));
	assert_false(e2e_match("*.bank.test", "bank.test"));      /* needs a label */
	assert_false(e2e_match("*.bank.test", "evilbank.test"));
	assert_false(e2e_match("bank.test", ""));                 /* no SNI, no match */
	assert_false(e2e_match("", "bank.test"));
}

static struct sl_tunnel_zone z;

static void t_table(void **st)
{
	struct sl_tunnel_ent *e;

	(void)st;
	memset(&z, 0, sizeof(z));
	assert_int_equal(tunnel_add(&z, 1, 2, 0, "bank.test", 0, 1000, 5000), 0);
	e = tunnel_find(&z, 1, 2, 5999);
	assert_non_null(e);
	assert_string_equal(e->sni, "bank.test");
	assert_int_equal(e->gen % 2, 0);
	assert_null(tunnel_find(&z, 2, 1, 5000)); /* direction matters */
	assert_null(tunnel_find(&z, 1, 2, 6000)); /* TTL over: gone */
	assert_int_equal(z.n_in_use, 0);
	/* renewing keeps one entry and moves the expiry */
	assert_int_equal(tunnel_add(&z, 1, 2, 0, "a", 1, 1000, 0), 0);
	assert_int_equal(tunnel_add(&z, 1, 2, 0, "a", 1, 1000, 900), 0);
	assert_int_equal(z.n_in_use, 1);
	assert_non_null(tunnel_find(&z, 1, 2, 1800));
	/* wrap-around of the worker's clock */
	assert_int_equal(tunnel_add(&z, 3, 4, 0, "w", 0, 100, UINT32_MAX - 10), 0);
	assert_non_null(tunnel_find(&z, 3, 4, 50));
	assert_null(tunnel_find(&z, 3, 4, 95));
	/* full: refused and counted, nothing overwritten */
	memset(&z, 0, sizeof(z));
	for (uint32_t i = 0; i < SL_TUN_MAX; i++)
		assert_int_equal(tunnel_add(&z, i, 9, 0, "x", 0, 1000, 0), 0);
	assert_int_equal(tunnel_add(&z, 99999, 9, 0, "x", 0, 1000, 0), -ENOSPC);
	assert_int_equal(z.refused, 1);
	/* expired entries make room */
	assert_int_equal(tunnel_add(&z, 99999, 9, 0, "x", 0, 1000, 2000), 0);
	tunnel_expire(&z, 2000);
	assert_int_equal(z.n_in_use, 1);
	assert_int_equal(z.now_ms, 2000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_match),
		cmocka_unit_test(t_table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
