/* TCP input dispatch table: the RFC 9293 3.10.7 and RFC 5961 decisions. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "tcp/tcp_fsm.h"

#define F(x) TCP_F_##x

static void test_classes(void **s)
{
	(void)s;
	assert_int_equal(tcp_seg_class(F(SYN)), TCP_C_SYN);
	assert_int_equal(tcp_seg_class(F(SYN) | F(ACK)), TCP_C_SYNACK);
	assert_int_equal(tcp_seg_class(F(ACK)), TCP_C_ACK);
	assert_int_equal(tcp_seg_class(F(ACK) | F(PSH)), TCP_C_ACK);
	assert_int_equal(tcp_seg_class(F(ACK) | F(FIN)), TCP_C_ACK);
	assert_int_equal(tcp_seg_class(F(RST)), TCP_C_RST);
	assert_int_equal(tcp_seg_class(F(RST) | F(ACK)), TCP_C_RST);
	assert_int_equal(tcp_seg_class(0), TCP_C_NOACK);
	assert_int_equal(tcp_seg_class(F(FIN)), TCP_C_NOACK);
	assert_int_equal(tcp_seg_class(F(SYN) | F(FIN)), TCP_C_BOGUS);
	assert_int_equal(tcp_seg_class(F(SYN) | F(RST) | F(ACK)), TCP_C_BOGUS);
}

static void test_closed(void **s)
{
	(void)s;
	/* 3.10.7.1: a RST is never answered with a RST */
	assert_int_equal(tcp_fsm_handler(TCP_CLOSED, F(RST)), TCP_H_DROP);
	assert_int_equal(tcp_fsm_handler(TCP_CLOSED, F(RST) | F(ACK)), TCP_H_DROP);
	assert_int_equal(tcp_fsm_handler(TCP_CLOSED, F(ACK)), TCP_H_SEND_RST);
	assert_int_equal(tcp_fsm_handler(TCP_CLOSED, F(SYN)), TCP_H_SEND_RST);
	assert_int_equal(tcp_fsm_handler(TCP_CLOSED, F(FIN)), TCP_H_SEND_RST);
}

static void test_listen(void **s)
{
	(void)s;
	assert_int_equal(tcp_fsm_handler(TCP_LISTEN, F(SYN)), TCP_H_LISTEN_SYN);
	assert_int_equal(tcp_fsm_handler(TCP_LISTEN, F(RST)), TCP_H_DROP);
	assert_int_equal(tcp_fsm_handler(TCP_LISTEN, F(ACK)), TCP_H_LISTEN_ACK);
	assert_int_equal(tcp_fsm_handler(TCP_LISTEN, F(SYN) | F(ACK)), TCP_H_SEND_RST);
	assert_int_equal(tcp_fsm_handler(TCP_LISTEN, F(SYN) | F(FIN)), TCP_H_DROP);
	assert_int_equal(tcp_fsm_handler(TCP_LISTEN, 0), TCP_H_DROP);
}

static void test_syn_sent(void **s)
{
	(void)s;
	assert_int_equal(tcp_fsm_handler(TCP_SYN_SENT, F(SYN) | F(ACK)), TCP_H_SYNSENT_SYNACK);
	assert_int_equal(tcp_fsm_handler(TCP_SYN_SENT, F(SYN)), TCP_H_SYNSENT_SYN);
	assert_int_equal(tcp_fsm_handler(TCP_SYN_SENT, F(RST) | F(ACK)), TCP_H_SYNSENT_RST);
	assert_int_equal(tcp_fsm_handler(TCP_SYN_SENT, F(ACK)), TCP_H_SYNSENT_ACK);
	/* 3.10.7.3: neither SYN nor RST -> drop */
	assert_int_equal(tcp_fsm_handler(TCP_SYN_SENT, F(FIN)), TCP_H_DROP);
}

static void test_synchronized(void **s)
{
	(void)s;
	for (unsigned int st = TCP_ESTABLISHED; st <= TCP_LAST_ACK; st++) {
		assert_true(tcp_state_synchronized(st));
		/* RFC 5961 3.2 and 4.2: blind RST and SYN are validated */
		assert_int_equal(tcp_fsm_handler(st, F(RST)), TCP_H_RST);
		assert_int_equal(tcp_fsm_handler(st, F(SYN)), TCP_H_CHALLENGE_SYN);
		assert_int_equal(tcp_fsm_handler(st, F(SYN) | F(ACK)), TCP_H_CHALLENGE_SYN);
		assert_int_equal(tcp_fsm_handler(st, F(ACK) | F(PSH)), TCP_H_SEGMENT);
		assert_int_equal(tcp_fsm_handler(st, F(ACK) | F(FIN)), TCP_H_SEGMENT);
		/* 3.10.7.4 step 5: without ACK, drop */
		assert_int_equal(tcp_fsm_handler(st, F(PSH)), TCP_H_DROP);
		assert_int_equal(tcp_fsm_handler(st, F(SYN) | F(FIN)), TCP_H_DROP);
	}
	assert_false(tcp_state_synchronized(TCP_SYN_RECEIVED));
	assert_int_equal(tcp_fsm_handler(TCP_SYN_RECEIVED, F(SYN)), TCP_H_SYNRCVD_SYN);
	assert_int_equal(tcp_fsm_handler(TCP_SYN_RECEIVED, F(ACK)), TCP_H_SEGMENT);
	assert_int_equal(tcp_fsm_handler(TCP_TIME_WAIT, F(SYN)), TCP_H_TIMEWAIT_SYN);
	assert_int_equal(tcp_fsm_handler(TCP_TIME_WAIT, F(ACK) | F(FIN)), TCP_H_SEGMENT);
}

static void test_every_cell_named(void **s)
{
	(void)s;
	for (unsigned int st = 0; st < TCP_STATE_MAX; st++) {
		assert_string_not_equal(tcp_state_str(st), "?");
		for (unsigned int c = 0; c < TCP_C_MAX; c++) {
			assert_true(tcp_dispatch[st][c] < TCP_H_MAX);
			assert_string_not_equal(tcp_handler_str(tcp_dispatch[st][c]), "?");
		}
		/* nothing accepts a SYN+FIN or SYN+RST */
		assert_int_equal(tcp_dispatch[st][TCP_C_BOGUS], TCP_H_DROP);
	}
	assert_string_equal(tcp_state_str(TCP_TIME_WAIT), "TIME_WAIT");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classes),
		cmocka_unit_test(test_closed),
		cmocka_unit_test(test_listen),
		cmocka_unit_test(test_syn_sent),
		cmocka_unit_test(test_synchronized),
		cmocka_unit_test(test_every_cell_named),
	};
	return cmocka_run_group_tests_name("tcp_fsm", tests, NULL, NULL);
}
