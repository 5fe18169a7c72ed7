/* RFC 6298: first sample, smoothing, K*RTTVAR, floor, ceiling, backoff. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "tcp/tcp_rtt.h"

static const struct tcp_rtt_params P = {
	.min_us = 1000, .max_us = 60000000, .initial_us = 1000000, .granularity_us = 100,
};

static void test_first_sample(void **s)
{
	struct tcp_rtt r;
	(void)s;
	tcp_rtt_init(&r, &P);
	assert_int_equal(r.rto_us, 1000000); /* 2.1: 1 s before any sample */
	tcp_rtt_sample(&r, &P, 100000);      /* R = 100 ms */
	assert_int_equal(r.srtt_us, 100000); /* 2.2: SRTT = R */
	assert_int_equal(r.rttvar_us, 50000);/* RTTVAR = R/2 */
	assert_int_equal(r.rto_us, 300000);  /* SRTT + 4*RTTVAR */
}

static void test_smoothing(void **s)
{
	struct tcp_rtt r;
	(void)s;
	tcp_rtt_init(&r, &P);
	tcp_rtt_sample(&r, &P, 100000);
	tcp_rtt_sample(&r, &P, 200000);
	/* RTTVAR = 3/4*50000 + 1/4*|100000-200000| = 37500 + 25000 */
	assert_int_equal(r.rttvar_us, 62500);
	/* SRTT = 7/8*100000 + 1/8*200000 = 87500 + 25000 */
	assert_int_equal(r.srtt_us, 112500);
	assert_int_equal(r.rto_us, 112500 + 4 * 62500);
	/* a steady RTT converges: RTTVAR decays, RTO approaches SRTT + G */
	for (int i = 0; i < 200; i++)
		tcp_rtt_sample(&r, &P, 50000);
	assert_in_range(r.srtt_us, 49900, 50100);
	assert_true(r.rto_us <= 50100 + 400);
	assert_true(r.rto_us >= r.srtt_us + P.granularity_us - 10);
}

static void test_bounds_and_backoff(void **s)
{
	struct tcp_rtt r;
	(void)s;
	tcp_rtt_init(&r, &tcp_rtt_default);
	tcp_rtt_sample(&r, &tcp_rtt_default, 100); /* 100 us: under the floor */
	assert_int_equal(r.rto_us, tcp_rtt_default.min_us);
	tcp_rtt_backoff(&r, &tcp_rtt_default);
	assert_int_equal(r.rto_us, 2 * tcp_rtt_default.min_us);
	assert_int_equal(r.backoff, 1);
	for (int i = 0; i < 40; i++)
		tcp_rtt_backoff(&r, &tcp_rtt_default);
	assert_int_equal(r.rto_us, tcp_rtt_default.max_us); /* 2.5: capped */
	/* 5.7: a new sample ends the backoff */
	tcp_rtt_sample(&r, &tcp_rtt_default, 100);
	assert_int_equal(r.backoff, 0);
	assert_int_equal(r.rto_us, tcp_rtt_default.min_us);
	/* a zero-length sample still counts as a sample */
	tcp_rtt_init(&r, &P);
	tcp_rtt_sample(&r, &P, 0);
	assert_int_not_equal(r.srtt_us, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_sample),
		cmocka_unit_test(test_smoothing),
		cmocka_unit_test(test_bounds_and_backoff),
	};
	return cmocka_run_group_tests_name("tcp_rtt", tests, NULL, NULL);
}
