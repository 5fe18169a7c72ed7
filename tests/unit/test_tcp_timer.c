/* Timing wheel: nothing early, nothing lost, far-future timers, long gaps,
 * re-arming and cancelling from inside callbacks. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <errno.h>
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

/* A gap of 2^40 ticks (a worker descheduled, a clock jump) costs one lap,
 * not 2^40 slot visits, and loses nothing. */
static void test_huge_gap(void **s)
{
	static struct obj o[NS + 1];
	(void)s;
	tcp_wheel_init(&W, slots, NS, 5);
	for (int i = 0; i <= NS; i++) {
		memset(&o[i], 0, sizeof(o[i]));
		tcp_timer_arm(&W, &o[i].t, 6 + (uint64_t)i * 1000003); /* every slot, many laps */
	}
	assert_int_equal(tcp_wheel_advance(&W, 5 + (1ull << 40), on_fire, NULL), NS + 1);
	for (int i = 0; i <= NS; i++)
		assert_int_equal(o[i].count, 1);
	assert_int_equal(W.armed, 0);
	assert_true(W.now == 5 + (1ull << 40));
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

/* Stepping one tick at a time, every timer -- also those many laps away --
 * fires exactly on its tick, once. */
static void test_exact_tick(void **s)
{
	static struct obj o[300];
	(void)s;
	tcp_wheel_init(&W, slots, NS, 12345);
	srand(7);
	for (int i = 0; i < 300; i++) {
		memset(&o[i], 0, sizeof(o[i]));
		tcp_timer_arm(&W, &o[i].t, 12345 + 1 + (uint64_t)(rand() % (NS * 9)));
	}
	/* two exactly one lap apart share a slot; one exactly at the wheel span */
	tcp_timer_arm(&W, &o[0].t, 12345 + 3);
	tcp_timer_arm(&W, &o[1].t, 12345 + 3 + NS);
	tcp_timer_arm(&W, &o[2].t, 12345 + NS);
	for (uint64_t now = 12346; now <= 12345 + NS * 9 + 1; now++)
		tcp_wheel_advance(&W, now, on_fire, NULL);
	for (int i = 0; i < 300; i++) {
		assert_int_equal(o[i].count, 1);
		assert_true(o[i].fired_tick == o[i].t.expiry);
	}
	assert_int_equal(W.armed, 0);
}

/* A callback cancels a timer due later in the same advance (another slot)
 * and arms a new one that is also due within it. */
static struct obj *later, *extra;
static void cancel_later(struct tcp_timer *t, void *ctx)
{
	struct obj *o = (struct obj *)t;
	(void)ctx;
	o->count++;
	o->fired_tick = W.now;
	if (later) {
		tcp_timer_cancel(&W, &later->t);
		later = NULL;
	}
	if (extra) {
		tcp_timer_arm(&W, &extra->t, W.now); /* "now": next tick, not this one */
		extra = NULL;
	}
}

static void test_cancel_other_slot(void **s)
{
	struct obj a = { 0 }, b = { 0 }, c = { 0 };
	(void)s;
	tcp_wheel_init(&W, slots, NS, 0);
	tcp_timer_arm(&W, &a.t, 3);
	tcp_timer_arm(&W, &b.t, 9);
	later = &b;
	extra = &c;
	assert_int_equal(tcp_wheel_advance(&W, 20, cancel_later, NULL), 2);
	assert_int_equal(a.count, 1);
	assert_int_equal(b.count, 0);
	assert_int_equal(c.count, 1);
	assert_int_equal(c.fired_tick, 4);
	assert_int_equal(W.armed, 0);
}

/* A callback that tries to advance the wheel itself is refused. */
static unsigned int nested_result = 99;
static void nested(struct tcp_timer *t, void *ctx)
{
	(void)t;
	(void)ctx;
	nested_result = tcp_wheel_advance(&W, W.now + 100, on_fire, NULL);
}

static void test_not_reentrant(void **s)
{
	struct obj a = { 0 }, b = { 0 };
	(void)s;
	tcp_wheel_init(&W, slots, NS, 0);
	tcp_timer_arm(&W, &a.t, 2);
	tcp_timer_arm(&W, &b.t, 50);
	assert_int_equal(tcp_wheel_advance(&W, 10, nested, NULL), 1);
	assert_int_equal(nested_result, 0);
	assert_true(tcp_timer_armed(&b.t)); /* not fired by the nested call */
	assert_int_equal(W.now, 10);
	assert_int_equal(tcp_wheel_advance(&W, 60, on_fire, NULL), 1);
}

static void test_policy(void **s)
{
	const struct tcp_timer_policy *d = &tcp_timer_policy_default;
	struct tcp_timer_policy p;
	(void)s;
	assert_true(d->delack_ms < 500);       /* RFC 1122 4.2.3.2 */
	assert_true(d->keepalive_idle_ms >= 7200000); /* RFC 1122 4.2.3.6 */
	assert_true(d->connect_ms >= 180000);  /* RFC 9293 3.8.3 */
	assert_true(d->persist_min_ms < d->persist_max_ms);
	assert_int_equal(tcp_timer_policy_check(d), 0);
	p = *d;
	p.delack_ms = 500;
	assert_int_equal(tcp_timer_policy_check(&p), -EINVAL);
	p = *d;
	p.persist_min_ms = p.persist_max_ms + 1;
	assert_int_equal(tcp_timer_policy_check(&p), -EINVAL);
	p = *d;
	p.keepalive_probes = 0;
	assert_int_equal(tcp_timer_policy_check(&p), -EINVAL);

	/* persist: RTO, then doubling, within the bounds */
	assert_int_equal(tcp_timer_persist_ms(d, 300, 0), 300);
	assert_int_equal(tcp_timer_persist_ms(d, 300, 1), 600);
	assert_int_equal(tcp_timer_persist_ms(d, 300, 3), 2400);
	assert_int_equal(tcp_timer_persist_ms(d, 300, 20), 60000);
	assert_int_equal(tcp_timer_persist_ms(d, 300, 4000), 60000); /* no overflow */
	assert_int_equal(tcp_timer_persist_ms(d, 0xffffffffu, 2), 60000);
	assert_int_equal(tcp_timer_persist_ms(d, 10, 0), 200);       /* floor */

	/* keepalive: idle, then the interval, then dead after the last probe */
	assert_int_equal(tcp_timer_keepalive_ms(d, 0), 7200000);
	assert_int_equal(tcp_timer_keepalive_ms(d, 1), 75000);
	assert_int_equal(tcp_timer_keepalive_ms(d, 8), 75000);
	assert_int_equal(tcp_timer_keepalive_ms(d, 9), 0);

	/* durations to ticks round up: never early for want of resolution */
	assert_int_equal(tcp_timer_ms_to_ticks(40, 1000), 40);
	assert_int_equal(tcp_timer_ms_to_ticks(40, 3000), 14);
	assert_int_equal(tcp_timer_ms_to_ticks(7200000, 100), 72000000);
	assert_int_equal(tcp_timer_ms_to_ticks(0, 1000), 0);

	assert_string_equal(tcp_timer_kind_str(TCP_T_TIMEWAIT), "TIMEWAIT");
	assert_string_equal(tcp_timer_kind_str(TCP_T_CONNECT), "CONNECT");
	assert_string_equal(tcp_timer_kind_str(TCP_T_MAX), "?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic),
		cmocka_unit_test(test_far_future_and_gaps),
		cmocka_unit_test(test_huge_gap),
		cmocka_unit_test(test_tick_order),
		cmocka_unit_test(test_callbacks_change_the_wheel),
		cmocka_unit_test(test_exact_tick),
		cmocka_unit_test(test_cancel_other_slot),
		cmocka_unit_test(test_not_reentrant),
		cmocka_unit_test(test_policy),
	};
	return cmocka_run_group_tests_name("tcp_timer", tests, NULL, NULL);
}
