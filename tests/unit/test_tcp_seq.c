/* Sequence arithmetic across the 2^32 wrap, and the RFC 9293 acceptability test. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "tcp/tcp_seq.h"

static void test_compare_wrap(void **s)
{
	(void)s;
	assert_true(seq_lt(1, 2));
	assert_true(seq_lt(0xfffffff0u, 0x10));   /* across the wrap */
	assert_true(seq_gt(0x10, 0xfffffff0u));
	assert_true(seq_leq(5, 5) && seq_geq(5, 5));
	assert_false(seq_lt(5, 5));
	assert_int_equal(seq_max(0xfffffff0u, 0x10), 0x10);
	assert_int_equal(seq_min(0xfffffff0u, 0x10), 0xfffffff0u);
	/* half the space apart is the limit of meaning */
	assert_true(seq_lt(0, 0x7fffffff));
	assert_true(seq_gt(0, 0x80000001u));
}

static void test_in_window(void **s)
{
	(void)s;
	assert_true(seq_in(0xfffffffeu, 0xfffffff0u, 0x20));
	assert_true(seq_in(0x1f, 0xfffffff0u, 0x20));
	assert_false(seq_in(0x20, 0xfffffff0u, 0x20));
	assert_false(seq_in(7, 7, 7)); /* empty */
}

static void test_acceptable(void **s)
{
	const uint32_t nxt = 0xfffffff0u;
	(void)s;
	/* case 1: SEG.LEN 0, RCV.WND 0: only SEG.SEQ = RCV.NXT */
	assert_true(seq_acceptable(nxt, 0, nxt, 0));
	assert_false(seq_acceptable(nxt + 1, 0, nxt, 0));
	/* case 2: SEG.LEN 0, RCV.WND > 0: RCV.NXT =< SEG.SEQ < RCV.NXT+RCV.WND */
	assert_true(seq_acceptable(nxt + 99, 0, nxt, 100));
	assert_false(seq_acceptable(nxt + 100, 0, nxt, 100));
	assert_false(seq_acceptable(nxt - 1, 0, nxt, 100));
	/* case 3: SEG.LEN > 0, RCV.WND 0: never */
	assert_false(seq_acceptable(nxt, 10, nxt, 0));
	/* case 4: either end inside the window */
	assert_true(seq_acceptable(nxt - 5, 10, nxt, 100));   /* old start, new end */
	assert_true(seq_acceptable(nxt + 95, 10, nxt, 100));  /* starts inside */
	assert_false(seq_acceptable(nxt - 20, 10, nxt, 100)); /* wholly old */
	assert_false(seq_acceptable(nxt + 100, 10, nxt, 100)); /* wholly beyond */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_compare_wrap),
		cmocka_unit_test(test_in_window),
		cmocka_unit_test(test_acceptable),
	};
	return cmocka_run_group_tests_name("tcp_seq", tests, NULL, NULL);
}
