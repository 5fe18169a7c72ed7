/* Hashed timing wheel and timer policy (see tcp_timer.h). */
#include <errno.h>
#include <string.h>

#include "tcp_timer.h"

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
};

int tcp_wheel_init(struct tcp_wheel *w, struct tcp_timer **slots, uint32_t nslots, uint64_t now)
{
	if (nslots == 0 || (nslots & (nslots - 1)))
		return -EINVAL;
	memset(slots, 0, nslots * sizeof(slots[0]));
	w->slot = slots;
	w->mask = nslots - 1;
	w->now = now;
	w->armed = 0;
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

unsigned int tcp_wheel_advance(struct tcp_wheel *w, uint64_t now, tcp_timer_fn *fn, void *ctx)
{
	unsigned int fired = 0;

	if (now <= w->now)
		return 0;
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
