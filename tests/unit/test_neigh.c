/* Neighbour state machine: every transition and what it asks the table to do. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "l2/neigh_sm.h"

static const struct neigh_params P = { .reachable_ms = 30000, .retrans_ms = 1000, .probes = 3 };

static void test_resolve_then_confirm(void **s)
{
	struct neigh_sm sm = { 0 };
	unsigned int a;
	(void)s;
	a = neigh_sm_event(&sm, NEIGH_EV_RESOLVE, 100, &P);
	assert_int_equal(a, NEIGH_ACT_SEND_BCAST | NEIGH_ACT_QUEUE);
	assert_int_equal(sm.state, SL_NEIGH_INCOMPLETE);
	/* a second packet only queues: no second request before retrans */
	a = neigh_sm_event(&sm, NEIGH_EV_RESOLVE, 200, &P);
	assert_int_equal(a, NEIGH_ACT_QUEUE);
	/* the timer is not due yet */
	assert_int_equal(neigh_sm_event(&sm, NEIGH_EV_TIMER, 1099, &P), NEIGH_ACT_NONE);
	a = neigh_sm_event(&sm, NEIGH_EV_CONFIRM, 500, &P);
	assert_true(a & NEIGH_ACT_FLUSH);
	assert_true(a & NEIGH_ACT_USE_MAC);
	assert_int_equal(sm.state, SL_NEIGH_REACHABLE);
	assert_int_equal(sm.deadline, 500 + P.reachable_ms);
	/* a packet now goes straight out */
	a = neigh_sm_event(&sm, NEIGH_EV_RESOLVE, 600, &P);
	assert_true(a & NEIGH_ACT_FLUSH);
	assert_false(a & NEIGH_ACT_QUEUE);
}

static void test_incomplete_gives_up(void **s)
{
	struct neigh_sm sm = { 0 };
	unsigned int a;
	(void)s;
	neigh_sm_event(&sm, NEIGH_EV_RESOLVE, 0, &P);
	/* requests 2 and 3, one per retrans interval */
	assert_int_equal(neigh_sm_event(&sm, NEIGH_EV_TIMER, 1000, &P), NEIGH_ACT_SEND_BCAST);
	assert_int_equal(neigh_sm_event(&sm, NEIGH_EV_TIMER, 2000, &P), NEIGH_ACT_SEND_BCAST);
	assert_int_equal(sm.probes, 3);
	a = neigh_sm_event(&sm, NEIGH_EV_TIMER, 3000, &P);
	assert_int_equal(a, NEIGH_ACT_DROP);
	assert_int_equal(sm.state, SL_NEIGH_FAILED);
	/* while failed, packets are dropped without new requests */
	assert_int_equal(neigh_sm_event(&sm, NEIGH_EV_RESOLVE, 3500, &P), NEIGH_ACT_DROP);
	/* then the entry goes away so the next packet tries again */
	assert_int_equal(neigh_sm_event(&sm, NEIGH_EV_TIMER, 4000, &P), NEIGH_ACT_DELETE);
}

static void test_failed_then_answer(void **s)
{
	struct neigh_sm sm = { 0 };
	(void)s;
	neigh_sm_event(&sm, NEIGH_EV_RESOLVE, 0, &P);
	for (uint64_t t = 1000; t <= 3000; t += 1000)
		neigh_sm_event(&sm, NEIGH_EV_TIMER, t, &P);
	assert_int_equal(sm.state, SL_NEIGH_FAILED);
	assert_true(neigh_sm_event(&sm, NEIGH_EV_CONFIRM, 3100, &P) & NEIGH_ACT_FLUSH);
	assert_int_equal(sm.state, SL_NEIGH_REACHABLE);
}

static void test_reachable_probe_cycle(void **s)
{
	struct neigh_sm sm = { 0 };
	unsigned int a;
	(void)s;
	neigh_sm_event(&sm, NEIGH_EV_RESOLVE, 0, &P);
	neigh_sm_event(&sm, NEIGH_EV_CONFIRM, 10, &P);
	a = neigh_sm_event(&sm, NEIGH_EV_TIMER, 10 + P.reachable_ms, &P);
	assert_int_equal(a, NEIGH_ACT_SEND_UCAST | NEIGH_ACT_USE_MAC);
	assert_int_equal(sm.state, SL_NEIGH_PROBE);
	/* still usable while probing */
	assert_true(neigh_sm_event(&sm, NEIGH_EV_RESOLVE, 30020, &P) & NEIGH_ACT_USE_MAC);
	/* answer: reachable again, no flush needed */
	a = neigh_sm_event(&sm, NEIGH_EV_CONFIRM, 30500, &P);
	assert_int_equal(a, NEIGH_ACT_USE_MAC);
	assert_int_equal(sm.state, SL_NEIGH_REACHABLE);
	/* silence through every probe: deleted */
	uint64_t t = 30500 + P.reachable_ms;
	assert_int_equal(neigh_sm_event(&sm, NEIGH_EV_TIMER, t, &P), NEIGH_ACT_SEND_UCAST | NEIGH_ACT_USE_MAC);
	assert_int_equal(neigh_sm_event(&sm, NEIGH_EV_TIMER, t + 1000, &P), NEIGH_ACT_SEND_UCAST | NEIGH_ACT_USE_MAC);
	assert_int_equal(neigh_sm_event(&sm, NEIGH_EV_TIMER, t + 2000, &P), NEIGH_ACT_SEND_UCAST | NEIGH_ACT_USE_MAC);
	assert_int_equal(neigh_sm_event(&sm, NEIGH_EV_TIMER, t + 3000, &P), NEIGH_ACT_DELETE);
}

static void test_permanent(void **s)
{
	struct neigh_sm sm = { 0 };
	(void)s;
	assert_true(neigh_sm_event(&sm, NEIGH_EV_STATIC, 0, &P) & NEIGH_ACT_USE_MAC);
	assert_int_equal(sm.state, SL_NEIGH_PERMANENT);
	/* no timers, ARP cannot change it */
	assert_int_equal(neigh_sm_event(&sm, NEIGH_EV_TIMER, 1000000, &P), NEIGH_ACT_NONE);
	assert_int_equal(neigh_sm_event(&sm, NEIGH_EV_CONFIRM, 5, &P), NEIGH_ACT_USE_MAC);
	assert_int_equal(sm.state, SL_NEIGH_PERMANENT);
	assert_true(neigh_sm_event(&sm, NEIGH_EV_RESOLVE, 7, &P) & NEIGH_ACT_FLUSH);
}

static void test_unsolicited_learn(void **s)
{
	struct neigh_sm sm = { 0 };
	(void)s;
	/* learned from an ARP request addressed to us */
	assert_true(neigh_sm_event(&sm, NEIGH_EV_CONFIRM, 50, &P) & NEIGH_ACT_USE_MAC);
	assert_int_equal(sm.state, SL_NEIGH_REACHABLE);
	assert_int_equal(sm.confirmed, 50);
}

static void test_names(void **s)
{
	(void)s;
	assert_string_equal(neigh_state_str(SL_NEIGH_INCOMPLETE), "incomplete");
	assert_string_equal(neigh_state_str(SL_NEIGH_PERMANENT), "permanent");
	assert_string_equal(neigh_state_str(99), "none");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_resolve_then_confirm),
		cmocka_unit_test(test_incomplete_gives_up),
		cmocka_unit_test(test_failed_then_answer),
		cmocka_unit_test(test_reachable_probe_cycle),
		cmocka_unit_test(test_permanent),
		cmocka_unit_test(test_unsolicited_learn),
		cmocka_unit_test(test_names),
	};
	return cmocka_run_group_tests_name("neigh", tests, NULL, NULL);
}
