/* RFC 6298: first sample, smoothing, K*RTTVAR, floor, ceiling, backoff. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <errno.h>
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

/* A known sequence against the RFC 6298 2.3 formulas in floating point:
 * the integer version stays within a few microseconds. */
static void test_sequence_vs_reference(void **s)
{
	static const uint32_t seq[] = { 120000, 80000, 95000, 300000, 110000, 105000, 99000,
					101000, 450000, 100000, 100000, 100000, 98000, 102000 };
	struct tcp_rtt r;
	double srtt = 0, var = 0;
	(void)s;
	tcp_rtt_init(&r, &P);
	for (unsigned int i = 0; i < sizeof(seq) / sizeof(seq[0]); i++) {
		double rto;

		if (i == 0) {
			srtt = seq[0];
			var = seq[0] / 2.0;
		} else {
			var = 0.75 * var + 0.25 * (srtt > seq[i] ? srtt - seq[i] : seq[i] - srtt);
			srtt = 0.875 * srtt + 0.125 * seq[i];
		}
		tcp_rtt_sample(&r, &P, seq[i]);
		rto = srtt + (4 * var > P.granularity_us ? 4 * var : P.granularity_us);
		assert_in_range(r.srtt_us, (uint32_t)srtt - 4, (uint32_t)srtt + 4);
		assert_in_range(r.rttvar_us, (uint32_t)var - 4, (uint32_t)var + 4);
		assert_in_range(tcp_rtt_rto(&r), (uint32_t)rto - 20, (uint32_t)rto + 20);
	}
}

/* 5.5: each expiry doubles the RTO exactly, up to the ceiling. */
static void test_backoff_doubles(void **s)
{
	struct tcp_rtt r;
	uint32_t expect = 300000;
	(void)s;
	tcp_rtt_init(&r, &tcp_rtt_default);
	tcp_rtt_sample(&r, &tcp_rtt_default, 100000); /* RTO = 100 + 4*50 ms */
	assert_int_equal(tcp_rtt_rto(&r), expect);
	for (int i = 1; i <= 12; i++) {
		tcp_rtt_backoff(&r, &tcp_rtt_default);
		expect = expect * 2 > tcp_rtt_default.max_us ? tcp_rtt_default.max_us : expect * 2;
		assert_int_equal(tcp_rtt_rto(&r), expect);
	}
	assert_int_equal(tcp_rtt_rto(&r), 60000000); /* 300 ms << 8 = 76.8 s > 60 s */
}

static void test_syn_lost_and_params(void **s)
{
	struct tcp_rtt r;
	struct tcp_rtt_params p = tcp_rtt_default;
	(void)s;
	/* 5.7: SYN retransmitted, no sample: data starts with RTO = 3 s */
	tcp_rtt_init(&r, &tcp_rtt_default);
	tcp_rtt_backoff(&r, &tcp_rtt_default);
	tcp_rtt_backoff(&r, &tcp_rtt_default);
	assert_int_equal(tcp_rtt_rto(&r), 4000000);
	tcp_rtt_syn_lost(&r, &tcp_rtt_default);
	assert_int_equal(tcp_rtt_rto(&r), 3000000);
	assert_int_equal(r.backoff, 0);
	/* with a sample (timestamps on the handshake), the estimate stands */
	tcp_rtt_sample(&r, &tcp_rtt_default, 100000);
	tcp_rtt_syn_lost(&r, &tcp_rtt_default);
	assert_int_equal(tcp_rtt_rto(&r), 300000);

	assert_int_equal(tcp_rtt_params_check(&tcp_rtt_default), 0);
	p.min_us = p.max_us + 1;
	assert_int_equal(tcp_rtt_params_check(&p), -EINVAL);
	p = tcp_rtt_default;
	p.initial_us = p.max_us + 1;
	assert_int_equal(tcp_rtt_params_check(&p), -EINVAL);
	p = tcp_rtt_default;
	p.granularity_us = 0;
	assert_int_equal(tcp_rtt_params_check(&p), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_sample),
		cmocka_unit_test(test_smoothing),
		cmocka_unit_test(test_bounds_and_backoff),
		cmocka_unit_test(test_sequence_vs_reference),
		cmocka_unit_test(test_backoff_doubles),
		cmocka_unit_test(test_syn_lost_and_params),
	};
	return cmocka_run_group_tests_name("tcp_rtt", tests, NULL, NULL);
}
