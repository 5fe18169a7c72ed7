/* Impairment: probabilities hold over many draws, order and counts are right. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "impair.h"

static unsigned int dropped;
static unsigned int copies;

static void op_drop(void *ctx, void *p) { (void)ctx; (void)p; dropped++; }
static void *op_copy(void *ctx, void *p) { (void)ctx; copies++; return (char *)p + 100000; }
static const struct impair_ops ops = { .drop = op_drop, .copy = op_copy };

static void test_thresholds(void **s)
{
	(void)s;
	assert_int_equal(impair_ppm_to_thr(0), 0);
	assert_int_equal(impair_ppm_to_thr(1000000), 1ull << 32);
	assert_int_equal(impair_ppm_to_thr(500000), 1ull << 31);
	assert_int_equal(impair_ppm_to_thr(10000), (10000ull << 32) / 1000000);
}

static void test_off_passes_all(void **s)
{
	struct impair_dir_state st = { 0 };
	struct sl_impair_dir cfg = { 0 };
	uintptr_t in[64], out[129];
	uint64_t rng = impair_seed(1);
	(void)s;
	impair_dir_set(&st, &cfg);
	assert_false(impair_dir_active(&st));
	for (int i = 0; i < 64; i++)
		in[i] = (uintptr_t)i + 1;
	assert_int_equal(impair_apply(&st, &rng, 0, (void **)in, 64, (void **)out, &ops, NULL), 64);
	for (int i = 0; i < 64; i++)
		assert_int_equal(out[i], i + 1);
}

static void test_rates(void **s)
{
	struct impair_dir_state st = { 0 };
	struct sl_impair_dir cfg = { .drop_ppm = 10000, .dup_ppm = 5000 }; /* 1%, 0.5% */
	uint64_t rng = impair_seed(42);
	const int N = 1000000;
	(void)s;
	impair_dir_set(&st, &cfg);
	dropped = copies = 0;
	for (int i = 0; i < N; i++) {
		uintptr_t in = 1, out[3];
		impair_apply(&st, &rng, 0, (void **)&in, 1, (void **)out, &ops, NULL);
	}
	/* within 5 sigma of the expectation */
	assert_in_range(dropped, 10000 - 500, 10000 + 500);
	assert_in_range(copies, (unsigned)(0.99 * 5000) - 360, (unsigned)(0.99 * 5000) + 360);
}

static void test_always_drop(void **s)
{
	struct impair_dir_state st = { 0 };
	struct sl_impair_dir cfg = { .drop_ppm = 1000000 };
	uint64_t rng = impair_seed(7);
	uintptr_t in[32], out[65];
	(void)s;
	impair_dir_set(&st, &cfg);
	dropped = 0;
	for (int i = 0; i < 32; i++)
		in[i] = 1;
	assert_int_equal(impair_apply(&st, &rng, 0, (void **)in, 32, (void **)out, &ops, NULL), 0);
	assert_int_equal(dropped, 32);
}

static void test_reorder(void **s)
{
	struct impair_dir_state st = { 0 };
	struct sl_impair_dir cfg = { .reorder_ppm = 1000000 };
	uint64_t rng = impair_seed(3);
	uintptr_t in[4] = { 1, 2, 3, 4 }, out[9];
	unsigned int n;
	(void)s;
	impair_dir_set(&st, &cfg);
	/* 1 is held, leaves after 2; 3 is held, leaves after 4 */
	n = impair_apply(&st, &rng, 0, (void **)in, 4, (void **)out, &ops, NULL);
	assert_int_equal(n, 4);
	assert_int_equal(out[0], 2);
	assert_int_equal(out[1], 1);
	assert_int_equal(out[2], 4);
	assert_int_equal(out[3], 3);
	/* an odd packet stays held until the timeout */
	n = impair_apply(&st, &rng, 10, (void **)in, 1, (void **)out, &ops, NULL);
	assert_int_equal(n, 0);
	assert_true(impair_dir_active(&st));
	assert_null(impair_release_held(&st, 15, 10));
	assert_int_equal((uintptr_t)impair_release_held(&st, 20, 10), 1);
	assert_null(st.held);
}

static void test_seeded_repeatable(void **s)
{
	uint64_t a = impair_seed(99), b = impair_seed(99), c = impair_seed(100);
	int same = 1, differ = 0;
	(void)s;
	for (int i = 0; i < 1000; i++) {
		uint32_t x = impair_rand(&a), y = impair_rand(&b), z = impair_rand(&c);
		same &= x == y;
		differ |= x != z;
	}
	assert_true(same);
	assert_true(differ);
	/* seed 0 does not stick the generator at zero */
	uint64_t z = impair_seed(0);
	assert_int_not_equal(impair_rand(&z) | impair_rand(&z), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_thresholds),
		cmocka_unit_test(test_off_passes_all),
		cmocka_unit_test(test_rates),
		cmocka_unit_test(test_always_drop),
		cmocka_unit_test(test_reorder),
		cmocka_unit_test(test_seeded_repeatable),
	};
	return cmocka_run_group_tests_name("impair", tests, NULL, NULL);
}
