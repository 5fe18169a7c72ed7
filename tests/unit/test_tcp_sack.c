/* SACK scoreboard: merging, trimming on ACK, D-SACK and invalid blocks,
 * the bound, and RFC 6675 IsLost / SetPipe / NextSeg rule 1. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "tcp/tcp_sack.h"

#define MSS 1000u
#define B(s, e) ((struct tcp_sack_block){ (s), (e) })

static void test_merge_and_trim(void **st)
{
	struct tcp_scoreboard sb = { 0 };
	struct tcp_sack_block b[3] = { B(3000, 4000), B(5000, 6000), B(4000, 5000) };
	(void)st;
	tcp_sb_reset(&sb, 1000);
	tcp_sb_update(&sb, 1000, 10000, b, 3);
	assert_int_equal(sb.n, 1); /* touching blocks merge */
	assert_true(sb.b[0].start == 3000 && sb.b[0].end == 6000);
	assert_true(tcp_sb_is_sacked(&sb, 3000) && tcp_sb_is_sacked(&sb, 5999));
	assert_false(tcp_sb_is_sacked(&sb, 6000));
	/* the cumulative ACK moves into the block: trimmed */
	tcp_sb_update(&sb, 4500, 10000, NULL, 0);
	assert_true(sb.b[0].start == 4500 && sb.b[0].end == 6000);
	tcp_sb_update(&sb, 7000, 10000, NULL, 0);
	assert_int_equal(sb.n, 0);
}

static void test_dsack_and_invalid(void **st)
{
	struct tcp_scoreboard sb = { 0 };
	(void)st;
	tcp_sb_reset(&sb, 5000);
	struct tcp_sack_block d1[] = { B(4000, 4500) };                 /* below SND.UNA */
	struct tcp_sack_block d2[] = { B(6100, 6200), B(6000, 7000) }; /* inside the second */
	struct tcp_sack_block bad[] = { B(7000, 6000), B(9000, 12000) };
	tcp_sb_update(&sb, 5000, 10000, d1, 1);
	tcp_sb_update(&sb, 5000, 10000, d2, 2);
	assert_int_equal(sb.dsack, 2);
	assert_int_equal(sb.n, 1); /* the second block of d2 is real */
	tcp_sb_update(&sb, 5000, 10000, bad, 2);
	assert_int_equal(sb.invalid, 2); /* reversed; beyond SND.NXT */
	assert_int_equal(sb.n, 1);
}

static void test_bound(void **st)
{
	struct tcp_scoreboard sb = { 0 };
	(void)st;
	tcp_sb_reset(&sb, 0);
	for (uint32_t i = 0; i < TCP_SB_MAX + 4; i++) {
		struct tcp_sack_block b = B(1000 + i * 2000, 2000 + i * 2000);
		tcp_sb_update(&sb, 0, 1000000, &b, 1);
	}
	assert_int_equal(sb.n, TCP_SB_MAX);
	assert_int_equal(sb.overflow, 4);
	/* the lowest ranges are the ones kept */
	assert_int_equal(sb.b[0].start, 1000);
	/* a low range arriving when full still gets in, the highest goes */
	struct tcp_sack_block low = B(100, 200);
	tcp_sb_update(&sb, 0, 1000000, &low, 1);
	assert_int_equal(sb.b[0].start, 100);
	assert_int_equal(sb.n, TCP_SB_MAX);
}

static void test_rfc6675(void **st)
{
	struct tcp_scoreboard sb = { 0 };
	uint32_t seq;
	(void)st;
	/* 10 segments out: 0..10000; segment 0 lost, 1..3 SACKed */
	tcp_sb_reset(&sb, 0);
	struct tcp_sack_block b1[] = { B(1000, 2000) };
	tcp_sb_update(&sb, 0, 10000, b1, 1);
	assert_false(tcp_sb_is_lost(&sb, 0, MSS)); /* one SACKed segment: not yet */
	assert_int_equal(tcp_sb_next_lost(&sb, 0, 10000, MSS, &seq), -1);
	struct tcp_sack_block b2[] = { B(1000, 4000) };
	tcp_sb_update(&sb, 0, 10000, b2, 1);
	assert_true(tcp_sb_is_lost(&sb, 0, MSS));  /* > 2*SMSS SACKed above */
	assert_int_equal(tcp_sb_next_lost(&sb, 0, 10000, MSS, &seq), 0);
	assert_int_equal(seq, 0);
	/* pipe: 0 lost (not counted), 1..3 SACKed, 4..9 in flight = 6 segments */
	assert_int_equal(tcp_sb_pipe(&sb, 0, 10000, MSS), 6 * MSS);
	/* after retransmitting 0, HighRxt = 1000: its copy counts again */
	sb.high_rxt = 1000;
	assert_int_equal(tcp_sb_pipe(&sb, 0, 10000, MSS), 7 * MSS);
	assert_int_equal(tcp_sb_next_lost(&sb, 0, 10000, MSS, &seq), -1); /* rule 2: new data */
	/* three discontiguous runs make a hole lost even with little SACKed */
	tcp_sb_reset(&sb, 0);
	struct tcp_sack_block b3[] = { B(1000, 1100), B(2000, 2100), B(3000, 3100) };
	tcp_sb_update(&sb, 0, 10000, b3, 3);
	assert_true(tcp_sb_is_lost(&sb, 0, MSS));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_merge_and_trim),
		cmocka_unit_test(test_dsack_and_invalid),
		cmocka_unit_test(test_bound),
		cmocka_unit_test(test_rfc6675),
	};
	return cmocka_run_group_tests_name("tcp_sack", tests, NULL, NULL);
}
