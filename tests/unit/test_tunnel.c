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
static uint64_t stamp;

static void t_table(void **st)
{
	struct sl_tunnel_ent *e;

	(void)st;
	memset(&z, 0, sizeof(z));
	assert_int_equal(tunnel_add(&z, 1, 2, 0, "bank.test", 0, 1000, 5000, ++stamp), 0);
	e = tunnel_find(&z, 1, 2, 5999);
	assert_non_null(e);
	assert_string_equal(e->sni, "bank.test");
	assert_int_equal(e->gen % 2, 0);
	assert_null(tunnel_find(&z, 2, 1, 5000)); /* direction matters */
	assert_null(tunnel_find(&z, 1, 2, 6000)); /* TTL over: gone */
	assert_int_equal(z.n_in_use, 0);
	/* renewing keeps one entry and moves the expiry */
	assert_int_equal(tunnel_add(&z, 1, 2, 0, "a", 1, 1000, 0, ++stamp), 0);
	assert_int_equal(tunnel_add(&z, 1, 2, 0, "a", 1, 1000, 900, ++stamp), 0);
	assert_int_equal(z.n_in_use, 1);
	assert_non_null(tunnel_find(&z, 1, 2, 1800));
	/* wrap-around of the worker's clock */
	assert_int_equal(tunnel_add(&z, 3, 4, 0, "w", 0, 100, UINT32_MAX - 10, ++stamp), 0);
	assert_non_null(tunnel_find(&z, 3, 4, 50));
	assert_null(tunnel_find(&z, 3, 4, 95));
	/* full: refused and counted, nothing overwritten */
	memset(&z, 0, sizeof(z));
	for (uint32_t i = 0; i < SL_TUN_MAX; i++)
		assert_int_equal(tunnel_add(&z, i, 9, 0, "x", 0, 1000, 0, ++stamp), 0);
	assert_int_equal(tunnel_add(&z, 99999, 9, 0, "x", 0, 1000, 0, ++stamp), -ENOSPC);
	assert_int_equal(z.refused, 1);
	/* expired entries make room */
	assert_int_equal(tunnel_add(&z, 99999, 9, 0, "x", 0, 1000, 2000, ++stamp), 0);
	tunnel_expire(&z, 2000);
	assert_int_equal(z.n_in_use, 1);
	assert_int_equal(z.now_ms, 2000);
}

/* Three workers' tables: a pair recorded by one is seen by all, renewed and
 * ended by any, and each writes only its own table. */
static struct sl_tunnel_zone zw[3];

static void t_workers(void **st)
{
	struct sl_tunnel_zone *zs[3] = { &zw[0], &zw[1], &zw[2] };
	struct sl_tunnel_ent cur;
	unsigned int where = 99;

	(void)st;
	memset(zw, 0, sizeof(zw));
	for (int i = 0; i < 3; i++)
		zw[i].now_ms = 1000;
	assert_int_equal(tunnel_lookup(zs, 3, 0, 1, 2, 1000, &cur, &where), 0);
	/* learned on worker 1: workers 0 and 2 see it */
	assert_int_equal(tunnel_add(&zw[1], 1, 2, 3, "bank.test", 1, 5000, 1000, 10), 0);
	assert_int_equal(tunnel_lookup(zs, 3, 0, 1, 2, 1000, &cur, &where), 1);
	assert_int_equal(where, 1);
	assert_string_equal(cur.sni, "bank.test");
	assert_int_equal(cur.app, 3);
	assert_int_equal(cur.learned, 1);
	assert_int_equal(tunnel_lookup(zs, 3, 2, 1, 2, 1000, &cur, &where), 1);
	assert_int_equal(tunnel_lookup(zs, 3, 2, 2, 1, 1000, &cur, &where), 0); /* direction */
	/* renewed on worker 2: the newer record wins */
	assert_int_equal(tunnel_add(&zw[2], 1, 2, 3, "bank.test", 0, 9000, 1000, 20), 0);
	assert_int_equal(tunnel_lookup(zs, 3, 0, 1, 2, 1000, &cur, &where), 1);
	assert_int_equal(where, 2);
	assert_int_equal(cur.learned, 0);
	/* ended on worker 0: a tombstone there shadows both */
	assert_int_equal(tunnel_end(&zw[0], 1, 2, 11000, 1000, 30), 0);
	assert_int_equal(zw[0].n_in_use, 1);
	assert_int_equal(zw[1].n_in_use, 1); /* nobody wrote another's table */
	assert_int_equal(zw[2].n_in_use, 1);
	for (unsigned int self = 0; self < 3; self++)
		assert_int_equal(tunnel_lookup(zs, 3, self, 1, 2, 1000, &cur, &where), 0);
	/* a new record after the end lives again, on any worker */
	assert_int_equal(tunnel_add(&zw[1], 1, 2, 3, "bank.test", 0, 5000, 1000, 40), 0);
	assert_int_equal(tunnel_lookup(zs, 3, 0, 1, 2, 1000, &cur, &where), 1);
	assert_int_equal(where, 1);
	/* a tombstone written over the worker's own record replaces it */
	assert_int_equal(tunnel_end(&zw[1], 1, 2, 5000, 1000, 50), 0);
	assert_int_equal(zw[1].n_in_use, 1);
	assert_int_equal(tunnel_lookup(zs, 3, 1, 1, 2, 1000, &cur, &where), 0);
	assert_non_null(tunnel_find(&zw[1], 1, 2, 1000));
	assert_int_equal(tunnel_find(&zw[1], 1, 2, 1000)->tomb, 1);
	/* another worker's expiry is judged by the clock it publishes */
	memset(zw, 0, sizeof(zw));
	assert_int_equal(tunnel_add(&zw[1], 7, 8, 0, "x", 0, 3000, 1000, 60), 0);
	zw[1].now_ms = 3999;
	assert_int_equal(tunnel_lookup(zs, 3, 0, 7, 8, 999999, &cur, &where), 1);
	zw[1].now_ms = 4000;
	assert_int_equal(tunnel_lookup(zs, 3, 0, 7, 8, 0, &cur, &where), 0);
	/* the caller's own table by the caller's clock */
	assert_int_equal(tunnel_lookup(zs, 3, 1, 7, 8, 3999, &cur, &where), 1);
	/* a record being written (odd gen) is not read */
	zw[1].now_ms = 1000;
	zw[1].e[0].gen |= 1;
	assert_int_equal(tunnel_lookup(zs, 3, 0, 7, 8, 1000, &cur, &where), 0);
	assert_int_equal(tunnel_read(&zw[1].e[0], &cur), -EAGAIN);
	zw[1].e[0].gen++;
	assert_int_equal(tunnel_read(&zw[1].e[0], &cur), 0);
	/* tables not there (a worker without TLS) are skipped */
	zs[2] = NULL;
	assert_int_equal(tunnel_lookup(zs, 3, 0, 7, 8, 1000, &cur, &where), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_match),
		cmocka_unit_test(t_table),
		cmocka_unit_test(t_workers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
