/* NewReno behind the cc ops table: initial window (RFC 6928), slow start
 * with ABC (RFC 3465, L = 2, L = 1 after a timeout), congestion avoidance
 * at one SMSS per RTT whatever the ACK pattern, fast recovery without SACK
 * (RFC 5681 3.2 inflation, RFC 6582 partial ACKs and exit) and with SACK
 * (RFC 6675: cwnd = ssthresh, untouched until exit), timeouts (RFC 5681
 * 3.1: LW, ssthresh halved once per loss), restart after idle (4.1). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <errno.h>
#include <setjmp.h>
#include <cmocka.h>

#include "tcp/tcp_cc.h"

#define SMSS 1460u

static struct tcp_cc cc;

static void ack(uint32_t bytes)
{
	struct tcp_cc_ack a = { .acked = bytes, .flight = cc.cwnd };

	tcp_cc_on_ack(&cc, &a);
}

static void newreno(uint32_t smss, uint32_t flags)
{
	assert_int_equal(tcp_cc_init(&cc, &tcp_cc_newreno, smss, flags), 0);
}

static void test_init(void **st)
{
	(void)st;
	newreno(SMSS, 0);
	assert_string_equal(cc.ops->name, "newreno");
	/* RFC 6928: min(10*MSS, max(2*MSS, 14600)) */
	assert_int_equal(tcp_cc_cwnd(&cc), 14600);
	assert_int_equal(tcp_cc_ssthresh(&cc), UINT32_MAX);
	assert_true(tcp_cc_in_slow_start(&cc));
	assert_false(tcp_cc_in_recovery(&cc));
	newreno(536, 0);
	assert_int_equal(cc.cwnd, 5360);
	newreno(8960, 0); /* jumbo: two segments, more than 14600 */
	assert_int_equal(cc.cwnd, 2 * 8960);
	newreno(SMSS, TCP_CC_F_SYN_LOST); /* RFC 6928 2: one segment */
	assert_int_equal(cc.cwnd, SMSS);
	newreno(SMSS, TCP_CC_F_RECOVERY | TCP_CC_F_SACK); /* only SACK/SYN_LOST taken */
	assert_false(tcp_cc_in_recovery(&cc));
	assert_int_equal(tcp_cc_init(&cc, &tcp_cc_newreno, 0, 0), -EINVAL);
	assert_int_equal(tcp_cc_init(&cc, NULL, SMSS, 0), -EINVAL);
	assert_string_equal(tcp_cc_loss_str(TCP_CC_LOSS_DUPACK), "dupack");
	assert_string_equal(tcp_cc_loss_str(TCP_CC_LOSS_SACK), "sack");
	assert_string_equal(tcp_cc_loss_str((enum tcp_cc_loss)9), "?");
}

static void test_slow_start_abc(void **st)
{
	uint32_t w;
	(void)st;

	newreno(SMSS, 0);
	w = cc.cwnd;
	ack(SMSS); /* one segment: one SMSS */
	assert_int_equal(cc.cwnd, w + SMSS);
	w = cc.cwnd;
	ack(2 * SMSS); /* a delayed ACK of two: two SMSS (L = 2) */
	assert_int_equal(cc.cwnd, w + 2 * SMSS);
	w = cc.cwnd;
	ack(5 * SMSS); /* a stretch ACK: capped at L*SMSS */
	assert_int_equal(cc.cwnd, w + 2 * SMSS);
	w = cc.cwnd;
	ack(100); /* byte counting: a small ACK grows cwnd by what it covers */
	assert_int_equal(cc.cwnd, w + 100);
	w = cc.cwnd;
	ack(0); /* nothing new acknowledged: nothing */
	assert_int_equal(cc.cwnd, w);
	/* one RTT of delayed ACKs doubles the window */
	newreno(SMSS, 0);
	w = cc.cwnd;
	for (uint32_t sent = 0; sent < w; sent += 2 * SMSS)
		ack(2 * SMSS);
	assert_int_equal(cc.cwnd, 2 * w);
	/* no overflow near the top */
	cc.cwnd = UINT32_MAX - 100;
	ack(SMSS);
	assert_int_equal(cc.cwnd, UINT32_MAX);
}

/* One round trip of a window-limited sender: cwnd bytes go out as full
 * segments and come back `per_ack` segments to an ACK. */
static void round_trip(uint32_t per_ack)
{
	uint32_t segs = cc.cwnd / SMSS;

	for (uint32_t i = 0; i < segs; i += per_ack)
		ack((segs - i < per_ack ? segs - i : per_ack) * SMSS);
}

static void test_congestion_avoidance(void **st)
{
	(void)st;
	for (uint32_t per_ack = 1; per_ack <= 3; per_ack++) {
		newreno(SMSS, 0);
		cc.cwnd = cc.ssthresh = 20 * SMSS;
		assert_false(tcp_cc_in_slow_start(&cc));
		/* about one SMSS per RTT, every ACK pattern: RFC 5681 3.1 */
		for (int r = 1; r <= 10; r++) {
			round_trip(per_ack);
			assert_int_equal(cc.cwnd, (20 + (uint32_t)r) * SMSS);
		}
	}
	/* and not per ACK: half a window acknowledged adds nothing yet */
	newreno(SMSS, 0);
	cc.cwnd = cc.ssthresh = 20 * SMSS;
	for (int i = 0; i < 19; i++)
		ack(SMSS);
	assert_int_equal(cc.cwnd, 20 * SMSS);
	ack(SMSS);
	assert_int_equal(cc.cwnd, 21 * SMSS);
	/* crossing ssthresh: slow start ends there */
	newreno(SMSS, 0);
	cc.ssthresh = 12 * SMSS;
	ack(2 * SMSS);
	assert_int_equal(cc.cwnd, 12 * SMSS);
	assert_false(tcp_cc_in_slow_start(&cc));
	ack(2 * SMSS);
	assert_int_equal(cc.cwnd, 12 * SMSS); /* now byte counting */
}

static void test_newreno_recovery(void **st)
{
	(void)st;
	newreno(SMSS, 0);
	cc.cwnd = 20 * SMSS;
	/* third duplicate ACK with 20 segments out */
	tcp_cc_enter_recovery(&cc, 20 * SMSS, TCP_CC_LOSS_DUPACK);
	assert_true(tcp_cc_in_recovery(&cc));
	assert_int_equal(cc.ssthresh, 10 * SMSS); /* RFC 5681 (4) */
	assert_int_equal(cc.cwnd, 13 * SMSS);     /* + 3 SMSS, step 3 */
	/* a second signal in the same episode reduces nothing */
	tcp_cc_enter_recovery(&cc, 13 * SMSS, TCP_CC_LOSS_DUPACK);
	assert_int_equal(cc.ssthresh, 10 * SMSS);
	assert_int_equal(cc.cwnd, 13 * SMSS);
	/* each further duplicate ACK inflates by one SMSS (step 4) */
	for (int i = 0; i < 4; i++)
		tcp_cc_on_dupack(&cc);
	assert_int_equal(cc.cwnd, 17 * SMSS);
	/* ordinary ACK growth does not apply during recovery, not even a
	 * window's worth of it */
	for (int i = 0; i < 20; i++)
		ack(SMSS);
	assert_int_equal(cc.cwnd, 17 * SMSS);
	/* RFC 6582 step 5: a partial ACK of 3 segments deflates by 3 and adds
	 * back one */
	tcp_cc_on_partial_ack(&cc, 3 * SMSS);
	assert_int_equal(cc.cwnd, 15 * SMSS);
	/* less than an SMSS acknowledged: no add-back */
	tcp_cc_on_partial_ack(&cc, 500);
	assert_int_equal(cc.cwnd, 15 * SMSS - 500);
	/* deflation never below one segment */
	tcp_cc_on_partial_ack(&cc, 40 * SMSS);
	assert_int_equal(cc.cwnd, SMSS);
	tcp_cc_on_partial_ack(&cc, SMSS - 1); /* more than cwnd left, no add-back */
	assert_int_equal(cc.cwnd, SMSS);
	cc.cwnd = SMSS / 2;
	tcp_cc_on_partial_ack(&cc, SMSS - 1);
	assert_int_equal(cc.cwnd, SMSS);
	/* RFC 6582 step 3 (1): full ACK, little in flight: no burst */
	tcp_cc_exit_recovery(&cc, 2 * SMSS);
	assert_false(tcp_cc_in_recovery(&cc));
	assert_int_equal(cc.cwnd, 3 * SMSS);
	/* ... much in flight: ssthresh */
	cc.cwnd = 20 * SMSS;
	tcp_cc_enter_recovery(&cc, 20 * SMSS, TCP_CC_LOSS_DUPACK);
	tcp_cc_exit_recovery(&cc, 15 * SMSS);
	assert_int_equal(cc.cwnd, 10 * SMSS);
	/* exit and partial ACKs outside recovery change nothing */
	tcp_cc_exit_recovery(&cc, 0);
	tcp_cc_on_partial_ack(&cc, 5 * SMSS);
	tcp_cc_on_dupack(&cc);
	assert_int_equal(cc.cwnd, 10 * SMSS);
	/* then congestion avoidance from ssthresh */
	assert_false(tcp_cc_in_slow_start(&cc));
	round_trip(1);
	assert_int_equal(cc.cwnd, 11 * SMSS);
	/* a tiny flight: ssthresh floors at 2 SMSS */
	tcp_cc_enter_recovery(&cc, 3 * SMSS, TCP_CC_LOSS_DUPACK);
	assert_int_equal(cc.ssthresh, 2 * SMSS);
	assert_int_equal(cc.cwnd, 5 * SMSS);
}

static void test_sack_recovery(void **st)
{
	(void)st;
	newreno(SMSS, TCP_CC_F_SACK);
	cc.cwnd = 20 * SMSS;
	tcp_cc_enter_recovery(&cc, 20 * SMSS, TCP_CC_LOSS_SACK);
	/* RFC 6675 5 (4.2): cwnd = ssthresh = FlightSize / 2 */
	assert_int_equal(cc.ssthresh, 10 * SMSS);
	assert_int_equal(cc.cwnd, 10 * SMSS);
	/* pipe accounts for departures: no inflation, no deflation */
	tcp_cc_on_dupack(&cc);
	tcp_cc_on_partial_ack(&cc, 3 * SMSS);
	for (int i = 0; i < 20; i++)
		ack(SMSS);
	assert_int_equal(cc.cwnd, 10 * SMSS);
	tcp_cc_exit_recovery(&cc, 4 * SMSS);
	assert_int_equal(cc.cwnd, 5 * SMSS);
	/* a SACK-detected loss on a connection not flagged SACK: same rule */
	newreno(SMSS, 0);
	cc.cwnd = 16 * SMSS;
	tcp_cc_enter_recovery(&cc, 16 * SMSS, TCP_CC_LOSS_SACK);
	assert_int_equal(cc.cwnd, 8 * SMSS);
}

static void test_rto(void **st)
{
	uint32_t w;
	(void)st;

	newreno(SMSS, 0);
	cc.cwnd = 30 * SMSS;
	tcp_cc_on_rto(&cc, 30 * SMSS);
	assert_int_equal(cc.cwnd, SMSS); /* LW */
	assert_int_equal(cc.ssthresh, 15 * SMSS);
	/* the same segment times out again: ssthresh held (RFC 5681 3.1), not
	 * max(FlightSize/2, 2*SMSS) of the backed-off flight */
	tcp_cc_on_rto(&cc, 8 * SMSS);
	assert_int_equal(cc.ssthresh, 15 * SMSS);
	assert_int_equal(cc.cwnd, SMSS);
	/* slow start after a timeout counts with L = 1: one ACK covering
	 * what the receiver held out of order adds one SMSS, not two */
	w = cc.cwnd;
	ack(6 * SMSS);
	assert_int_equal(cc.cwnd, w + SMSS);
	/* until ssthresh is reached; then L = 2 again in a later slow start */
	while (tcp_cc_in_slow_start(&cc))
		ack(SMSS);
	assert_int_equal(cc.cwnd, 15 * SMSS);
	assert_false(cc.flags & TCP_CC_F_RTO_SS);
	/* new data was acknowledged: the next timeout is a new loss */
	tcp_cc_on_rto(&cc, 10 * SMSS);
	assert_int_equal(cc.ssthresh, 5 * SMSS);
	/* a timeout ends fast recovery */
	newreno(SMSS, 0);
	cc.cwnd = 20 * SMSS;
	tcp_cc_enter_recovery(&cc, 20 * SMSS, TCP_CC_LOSS_DUPACK);
	tcp_cc_on_rto(&cc, 20 * SMSS);
	assert_false(tcp_cc_in_recovery(&cc));
	assert_int_equal(cc.cwnd, SMSS);
	assert_int_equal(cc.ssthresh, 10 * SMSS);
	/* tiny flight: 2 SMSS floor */
	newreno(SMSS, 0);
	tcp_cc_on_rto(&cc, SMSS);
	assert_int_equal(cc.ssthresh, 2 * SMSS);
	/* ordinary slow start (no timeout) keeps L = 2 */
	newreno(SMSS, 0);
	w = cc.cwnd;
	ack(6 * SMSS);
	assert_int_equal(cc.cwnd, w + 2 * SMSS);
}

static void test_idle(void **st)
{
	(void)st;
	newreno(SMSS, 0);
	cc.cwnd = 40 * SMSS;
	cc.ssthresh = 30 * SMSS;
	tcp_cc_on_idle(&cc);
	assert_int_equal(cc.cwnd, 14600); /* RW = IW */
	assert_int_equal(cc.ssthresh, 30 * SMSS);
	cc.cwnd = 5 * SMSS;
	tcp_cc_on_idle(&cc);
	assert_int_equal(cc.cwnd, 5 * SMSS); /* min(RW, cwnd) */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init),
		cmocka_unit_test(test_slow_start_abc),
		cmocka_unit_test(test_congestion_avoidance),
		cmocka_unit_test(test_newreno_recovery),
		cmocka_unit_test(test_sack_recovery),
		cmocka_unit_test(test_rto),
		cmocka_unit_test(test_idle),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
