/* Hashed timing wheel and timer policy (see tcp_timer.h). */
#include <errno.h>
#include <string.h>

#include "tcp_timer.h"

/*
 * Defaults, and why:
 * - delack 40 ms: RFC 1122 4.2.3.2 requires < 500 ms and RFC 5681 4.2 an ACK
 *   for at least every second full-sized segment (the output path's rule);
 *   40 ms is Linux's minimum (TCP_DELACK_MIN), short enough that a peer's
 *   Nagle waiting on our ACK costs little, long enough to piggyback ACKs on
 *   a request/response app's reply.
 * - TIME_WAIT 60 s (Linux TCP_TIMEWAIT_LEN), not RFC 9293's 2*2 min: a proxy
 *   closes many connections and TIME_WAIT holds memory; RFC 6191 and
 *   timestamps cover reuse.
 * - SYN-RECEIVED 30 s: bounded by the half-open table, which SYN cookies
 *   back up; Linux's 5 SYN-ACK retries span about 63 s.
 * - keepalive 2 h idle (RFC 1122 4.2.3.6 MUST default >= 2 h), 75 s x 9
 *   probes (Linux's tcp_keepalive_intvl/probes).
 * - persist 200 ms .. 60 s: the RTO bounds of tcp_rtt (Linux bounds probes by
 *   TCP_RTO_MIN/MAX likewise); probes go on while the peer answers (RFC 9293
 *   3.8.6.1 MUST NOT close a zero window that is being ACKed).
 * - idle 5 min for relayed connections.
 * - connect 180 s: RFC 9293 3.8.3, R2 for a SYN MUST allow at least 3 min of
 *   retransmission (Linux's 6 retries give about 127 s).
 */
const struct tcp_timer_policy tcp_timer_policy_default = {
	.delack_ms = 40,
	.timewait_ms = 60000,
	.synrcvd_ms = 30000,
	.keepalive_idle_ms = 7200000,
	.keepalive_intvl_ms = 75000,
	.keepalive_probes = 9,
	.persist_min_ms = 200,
	.persist_max_ms = 60000,
	.idle_ms = 300000,
	.connect_ms = 180000,
};

static const char *const kind_names[] = {
#define X(k) #k,
	TCP_TIMER_KINDS(X)
#undef X
};

const char *tcp_timer_kind_str(unsigned int kind)
{
	return kind < TCP_T_MAX ? kind_names[kind] : "?";
}

int tcp_timer_policy_check(const struct tcp_timer_policy *p)
{
	/* RFC 1122 4.2.3.2: an ACK MUST NOT be delayed 500 ms or more */
	if (p->delack_ms == 0 || p->delack_ms >= 500)
		return -EINVAL;
	if (p->timewait_ms == 0 || p->synrcvd_ms == 0 || p->connect_ms == 0)
		return -EINVAL;
	if (p->keepalive_idle_ms == 0 || p->keepalive_intvl_ms == 0 || p->keepalive_probes == 0)
		return -EINVAL;
	if (p->persist_min_ms == 0 || p->persist_min_ms > p->persist_max_ms)
		return -EINVAL;
	return 0;
}

uint32_t tcp_timer_persist_ms(const struct tcp_timer_policy *p, uint32_t rto_ms,
			      unsigned int backoff)
{
	uint64_t t = rto_ms;

	/* RFC 1122 4.2.2.17: first probe after RTO, then exponential backoff */
	while (backoff-- && t < p->persist_max_ms)
		t <<= 1;
	if (t < p->persist_min_ms)
		t = p->persist_min_ms;
	if (t > p->persist_max_ms)
		t = p->persist_max_ms;
	return (uint32_t)t;
}

uint32_t tcp_timer_keepalive_ms(const struct tcp_timer_policy *p, unsigned int probes)
{
	/* RFC 1122 4.2.3.6: probe only after an idle interval; give up after
	 * several unanswered probes, never on one (ACKs are not reliable) */
	if (probes == 0)
		return p->keepalive_idle_ms;
	if (probes >= p->keepalive_probes)
		return 0;
	return p->keepalive_intvl_ms;
}

int tcp_wheel_init(struct tcp_wheel *w, struct tcp_timer **slots, uint32_t nslots, uint64_t now)
{
	if (nslots == 0 || (nslots & (nslots - 1)))
		return -EINVAL;
	memset(slots, 0, nslots * sizeof(slots[0]));
	w->slot = slots;
	w->mask = nslots - 1;
	w->now = now;
	w->armed = 0;
	w->running = 0;
	return 0;
}

static void link_into(struct tcp_timer **head, struct tcp_timer *t)
{
	t->next = *head;
	if (t->next)
		t->next->pprev = &t->next;
	*head = t;
	t->pprev = head;
}

static void unlink_timer(struct tcp_timer *t)
{
	*t->pprev = t->next;
	if (t->next)
		t->next->pprev = t->pprev;
	t->next = NULL;
	t->pprev = NULL;
}

void tcp_timer_arm(struct tcp_wheel *w, struct tcp_timer *t, uint64_t expiry)
{
	if (tcp_timer_armed(t))
		unlink_timer(t);
	else
		w->armed++;
	/* anything due already goes to the next tick's slot */
	if (expiry <= w->now)
		expiry = w->now + 1;
	t->expiry = expiry;
	link_into(&w->slot[expiry & w->mask], t);
}

void tcp_timer_cancel(struct tcp_wheel *w, struct tcp_timer *t)
{
	if (!tcp_timer_armed(t))
		return;
	unlink_timer(t);
	w->armed--;
}

/* Process one slot: fire what is due by `due`, keep the rest (a later lap). */
static unsigned int run_slot(struct tcp_wheel *w, uint32_t idx, uint64_t due, tcp_timer_fn *fn,
			     void *ctx)
{
	struct tcp_timer *local = NULL, *t;
	unsigned int fired = 0;

	/* detach the slot so callbacks can arm into it (for a later lap) and
	 * cancel timers still on the local list */
	local = w->slot[idx];
	w->slot[idx] = NULL;
	if (local)
		local->pprev = &local;
	while ((t = local) != NULL) {
		unlink_timer(t);
		if (t->expiry <= due) {
			w->armed--;
			fired++;
			fn(t, ctx);
		} else {
			link_into(&w->slot[idx], t);
		}
	}
	return fired;
}

static unsigned int advance(struct tcp_wheel *w, uint64_t now, tcp_timer_fn *fn, void *ctx)
{
	unsigned int fired = 0;

	if (now - w->now > w->mask) {
		/* a long gap: every slot comes up once; fire all that are due.
		 * Ticks in between are not distinguished (all due at once), and
		 * the clock reads `now` for the callbacks, so what they arm lands
		 * after it. */
		uint64_t from = w->now;

		w->now = now;
		for (uint32_t i = 0; i <= w->mask; i++)
			fired += run_slot(w, (uint32_t)((from + 1 + i) & w->mask), now, fn, ctx);
		return fired;
	}
	while (w->now < now) {
		w->now++;
		fired += run_slot(w, (uint32_t)(w->now & w->mask), w->now, fn, ctx);
	}
	return fired;
}

unsigned int tcp_wheel_advance(struct tcp_wheel *w, uint64_t now, tcp_timer_fn *fn, void *ctx)
{
	unsigned int fired;

	/* a callback advancing the wheel would pull the slot being run from
	 * under run_slot() */
	if (now <= w->now || w->running)
		return 0;
	w->running = 1;
	fired = advance(w, now, fn, ctx);
	w->running = 0;
	return fired;
}
