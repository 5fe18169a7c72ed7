/* Timing wheel: nothing early, nothing lost, far-future timers, long gaps,
 * re-arming and cancelling from inside callbacks. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tcp/tcp_timer.h"

#define NS 64
static struct tcp_timer *slots[NS];
static struct tcp_wheel W;
static uint64_t fired_at[1000];
static unsigned int nfired;

struct obj {
	struct tcp_timer t;
	int id;
	uint64_t fired_tick;
	int count;
};

static void on_fire(struct tcp_timer *t, void *ctx)
{
	struct obj *o = (struct obj *)t;
	(void)ctx;
	o->fired_tick = W.now;
	o->count++;
	if (nfired < 1000)
		fired_at[nfired++] = W.now;
}

static void test_basic(void **s)
{
	struct obj a = { 0 }, b = { 0 }, c = { 0 };
	(void)s;
	assert_int_equal(tcp_wheel_init(&W, slots, NS, 1000), 0);
	assert_int_equal(tcp_wheel_init(&W, slots, 63, 0), -22);
	assert_int_equal(tcp_wheel_init(&W, slots, NS, 1000), 0);
	tcp_timer_arm(&W, &a.t, 1005);
	tcp_timer_arm(&W, &b.t, 1005); /* same slot */
	tcp_timer_arm(&W, &c.t, 1010);
	assert_int_equal(W.armed, 3);
	assert_int_equal(tcp_wheel_advance(&W, 1004, on_fire, NULL), 0);
	assert_int_equal(tcp_wheel_advance(&W, 1005, on_fire, NULL), 2);
	assert_int_equal(a.fired_tick, 1005);
	assert_false(tcp_timer_armed(&a.t));
	/* re-arm moves, cancel removes */
	tcp_timer_arm(&W, &c.t, 1020);
	assert_int_equal(tcp_wheel_advance(&W, 1015, on_fire, NULL), 0);
	tcp_timer_cancel(&W, &c.t);
	tcp_timer_cancel(&W, &c.t); /* twice is fine */
	assert_int_equal(tcp_wheel_advance(&W, 1030, on_fire, NULL), 0);
	assert_int_equal(W.armed, 0);
	/* already due: fires at the next advance, not never */
	tcp_timer_arm(&W, &a.t, 10);
	assert_int_equal(tcp_wheel_advance(&W, 1031, on_fire, NULL), 1);
}

static void test_far_future_and_gaps(void **s)
{
	static struct obj o[500];
	(void)s;
	tcp_wheel_init(&W, slots, NS, 0);
	srand(3);
	for (int i = 0; i < 500; i++) {
		memset(&o[i], 0, sizeof(o[i]));
		o[i].id = i;
		/* up to 20 laps of the wheel away */
		tcp_timer_arm(&W, &o[i].t, 1 + (uint64_t)(rand() % (NS * 20)));
	}
	/* advance in uneven steps, some longer than the wheel */
	for (uint64_t now = 0; now < NS * 21;) {
		now += (uint64_t)(rand() % (NS * 2)) + 1;
		tcp_wheel_advance(&W, now, on_fire, NULL);
		for (int i = 0; i < 500; i++) {
			if (o[i].count) {
				/* never early; at most one step late */
				assert_true(o[i].fired_tick >= o[i].t.expiry);
			} else {
				assert_true(o[i].t.expiry > now);
			}
		}
	}
	for (int i = 0; i < 500; i++)
		assert_int_equal(o[i].count, 1); /* none lost, none twice */
	assert_int_equal(W.armed, 0);
}

static void test_tick_order(void **s)
{
	static struct obj o[3];
	(void)s;
	tcp_wheel_init(&W, slots, NS, 0);
	memset(o, 0, sizeof(o));
	nfired = 0;
	tcp_timer_arm(&W, &o[0].t, 30);
	tcp_timer_arm(&W, &o[1].t, 10);
	tcp_timer_arm(&W, &o[2].t, 20);
	tcp_wheel_advance(&W, 40, on_fire, NULL);
	assert_int_equal(nfired, 3);
	assert_true(fired_at[0] == 10 && fired_at[1] == 20 && fired_at[2] == 30);
}

/* A callback that re-arms itself and cancels its neighbour in the slot. */
static struct obj *victim;
static void rearm_and_cancel(struct tcp_timer *t, void *ctx)
{
	struct obj *o = (struct obj *)t;
	(void)ctx;
	o->count++;
	if (o->count < 3)
		tcp_timer_arm(&W, t, W.now + 5);
	if (victim) {
		tcp_timer_cancel(&W, &victim->t);
		victim = NULL;
	}
}

static void test_callbacks_change_the_wheel(void **s)
{
	struct obj a = { 0 }, b = { 0 };
	(void)s;
	tcp_wheel_init(&W, slots, NS, 0);
	tcp_timer_arm(&W, &a.t, 7);
	tcp_timer_arm(&W, &b.t, 7); /* same slot, later in the list */
	victim = &a;                /* b fires first (LIFO) and cancels a */
	/* tick by tick (steps shorter than the wheel): re-armed timers fire
	 * within the same advance */
	tcp_wheel_advance(&W, 50, rearm_and_cancel, NULL);
	assert_int_equal(b.count, 3); /* fired, re-armed twice */
	assert_int_equal(a.count, 0); /* cancelled before its turn */
	assert_int_equal(W.armed, 0);
}

static void test_policy(void **s)
{
	(void)s;
	assert_true(tcp_timer_policy_default.delack_ms < 500);       /* RFC 1122 */
	assert_true(tcp_timer_policy_default.keepalive_idle_ms >= 7200000);
	assert_true(tcp_timer_policy_default.persist_min_ms < tcp_timer_policy_default.persist_max_ms);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic),
		cmocka_unit_test(test_far_future_and_gaps),
		cmocka_unit_test(test_tick_order),
		cmocka_unit_test(test_callbacks_change_the_wheel),
		cmocka_unit_test(test_policy),
	};
	return cmocka_run_group_tests_name("tcp_timer", tests, NULL, NULL);
}
