/* NewReno through its ops table: IW, slow start with ABC, congestion
 * avoidance, fast recovery with partial ACKs, RTO. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "tcp/tcp_cc.h"

#define MSS 1460u

static void test_initial_window(void **s)
{
	struct tcp_cc c;
	(void)s;
	tcp_cc_newreno.init(&c, MSS);
	assert_int_equal(c.cwnd, 14600); /* RFC 6928 */
	tcp_cc_newreno.init(&c, 536);
	assert_int_equal(c.cwnd, 5360);
	tcp_cc_newreno.init(&c, 9000);
	assert_int_equal(c.cwnd, 18000); /* 2*MSS floor */
	assert_string_equal(c.ops->name, "newreno");
}

static void test_slow_start_abc(void **s)
{
	struct tcp_cc c;
	(void)s;
	tcp_cc_newreno.init(&c, MSS);
	c.ops->on_ack(&c, MSS);
	assert_int_equal(c.cwnd, 14600 + MSS);
	/* a stretch ACK of 10 segments grows cwnd by at most 2 SMSS */
	c.ops->on_ack(&c, 10 * MSS);
	assert_int_equal(c.cwnd, 14600 + 3 * MSS);
	/* one window of per-segment ACKs doubles it */
	uint32_t w = c.cwnd;
	for (uint32_t a = 0; a < w; a += MSS)
		c.ops->on_ack(&c, MSS);
	assert_in_range(c.cwnd, 2 * w - MSS, 2 * w + MSS);
}

static void test_congestion_avoidance(void **s)
{
	struct tcp_cc c;
	(void)s;
	tcp_cc_newreno.init(&c, MSS);
	c.ssthresh = c.cwnd = 20 * MSS;
	/* one cwnd of ACKed bytes adds one SMSS, not more */
	for (int i = 0; i < 19; i++)
		c.ops->on_ack(&c, MSS);
	assert_int_equal(c.cwnd, 20 * MSS);
	c.ops->on_ack(&c, MSS);
	assert_int_equal(c.cwnd, 21 * MSS);
}

static void test_fast_recovery(void **s)
{
	struct tcp_cc c;
	(void)s;
	tcp_cc_newreno.init(&c, MSS);
	c.cwnd = 40 * MSS;
	c.ops->enter_recovery(&c, 40 * MSS);
	assert_int_equal(c.ssthresh, 20 * MSS);
	assert_int_equal(c.cwnd, 23 * MSS); /* ssthresh + 3 */
	c.ops->dupack(&c);
	assert_int_equal(c.cwnd, 24 * MSS);
	/* no growth from on_ack is expected during recovery: the stack calls
	 * partial_ack instead; a partial ACK of 5 segments deflates by 5, adds 1 */
	c.ops->partial_ack(&c, 5 * MSS);
	assert_int_equal(c.cwnd, 20 * MSS);
	/* a partial ACK below one SMSS adds nothing back */
	c.ops->partial_ack(&c, 100);
	assert_int_equal(c.cwnd, 20 * MSS - 100);
	/* full ACK with 4 segments still out: min(ssthresh, 4+1 segments) */
	c.ops->exit_recovery(&c, 4 * MSS);
	assert_int_equal(c.cwnd, 5 * MSS);
	assert_int_equal(c.in_recovery, 0);
	/* with plenty in flight, cwnd goes to ssthresh */
	c.cwnd = 40 * MSS;
	c.ops->enter_recovery(&c, 40 * MSS);
	c.ops->exit_recovery(&c, 30 * MSS);
	assert_int_equal(c.cwnd, c.ssthresh);
}

static void test_rto(void **s)
{
	struct tcp_cc c;
	(void)s;
	tcp_cc_newreno.init(&c, MSS);
	c.cwnd = 30 * MSS;
	c.ops->on_rto(&c, 30 * MSS);
	assert_int_equal(c.cwnd, MSS);           /* loss window */
	assert_int_equal(c.ssthresh, 15 * MSS);
	c.ops->on_rto(&c, MSS);                  /* a second RTO with little out */
	assert_int_equal(c.ssthresh, 2 * MSS);   /* floor 2 SMSS */
	/* slow start again after it */
	c.ops->on_ack(&c, MSS);
	assert_int_equal(c.cwnd, 2 * MSS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_initial_window),
		cmocka_unit_test(test_slow_start_abc),
		cmocka_unit_test(test_congestion_avoidance),
		cmocka_unit_test(test_fast_recovery),
		cmocka_unit_test(test_rto),
	};
	return cmocka_run_group_tests_name("tcp_cc", tests, NULL, NULL);
}
