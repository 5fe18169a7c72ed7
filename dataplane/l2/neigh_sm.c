/*
 * ARP neighbour state machine.  Simpler than RFC 4861's NUD because the
 * workers cannot report use without a ring message: a resolved entry is
 * re-confirmed by unicast probes every reachable_ms and stays usable while
 * probing (RFC 1122 2.3.2.1 asks for exactly this kind of periodic
 * revalidation and for not flooding requests: at most one per retrans_ms).
 */
#include "neigh_sm.h"

static unsigned int on_resolve(struct neigh_sm *sm, uint64_t now, const struct neigh_params *p)
{
	switch (sm->state) {
	case 0:
		sm->state = SL_NEIGH_INCOMPLETE;
		sm->probes = 1;
		sm->deadline = now + p->retrans_ms;
		return NEIGH_ACT_SEND_BCAST | NEIGH_ACT_QUEUE;
	case SL_NEIGH_INCOMPLETE:
		return NEIGH_ACT_QUEUE;
	case SL_NEIGH_REACHABLE:
	case SL_NEIGH_PROBE:
	case SL_NEIGH_PERMANENT:
		return NEIGH_ACT_FLUSH | NEIGH_ACT_USE_MAC;
	case SL_NEIGH_FAILED:
	default:
		return NEIGH_ACT_DROP;
	}
}

static unsigned int on_confirm(struct neigh_sm *sm, uint64_t now, const struct neigh_params *p)
{
	unsigned int act = NEIGH_ACT_USE_MAC;

	switch (sm->state) {
	case SL_NEIGH_PERMANENT:
		/* an ARP never overrides a static entry */
		return NEIGH_ACT_USE_MAC;
	case 0:
	case SL_NEIGH_INCOMPLETE:
	case SL_NEIGH_FAILED:
		act |= NEIGH_ACT_FLUSH;
		break;
	default:
		break;
	}
	sm->state = SL_NEIGH_REACHABLE;
	sm->probes = 0;
	sm->confirmed = now;
	sm->deadline = now + p->reachable_ms;
	return act;
}

static unsigned int on_timer(struct neigh_sm *sm, uint64_t now, const struct neigh_params *p)
{
	if (sm->deadline == 0 || now < sm->deadline)
		return NEIGH_ACT_NONE;

	switch (sm->state) {
	case SL_NEIGH_INCOMPLETE:
		if (sm->probes < p->probes) {
			sm->probes++;
			sm->deadline = now + p->retrans_ms;
			return NEIGH_ACT_SEND_BCAST;
		}
		/* RFC 1122 2.3.2.2: give up and discard what was queued; keep
		 * the failure a while so a stream of packets does not turn into
		 * a stream of ARP requests. */
		sm->state = SL_NEIGH_FAILED;
		sm->deadline = now + p->retrans_ms;
		return NEIGH_ACT_DROP;
	case SL_NEIGH_REACHABLE:
		sm->state = SL_NEIGH_PROBE;
		sm->probes = 1;
		sm->deadline = now + p->retrans_ms;
		return NEIGH_ACT_SEND_UCAST | NEIGH_ACT_USE_MAC;
	case SL_NEIGH_PROBE:
		if (sm->probes < p->probes) {
			sm->probes++;
			sm->deadline = now + p->retrans_ms;
			return NEIGH_ACT_SEND_UCAST | NEIGH_ACT_USE_MAC;
		}
		return NEIGH_ACT_DELETE;
	case SL_NEIGH_FAILED:
		return NEIGH_ACT_DELETE;
	default:
		sm->deadline = 0;
		return NEIGH_ACT_NONE;
	}
}

unsigned int neigh_sm_event(struct neigh_sm *sm, enum neigh_event ev, uint64_t now,
			    const struct neigh_params *p)
{
	switch (ev) {
	case NEIGH_EV_RESOLVE:
		return on_resolve(sm, now, p);
	case NEIGH_EV_CONFIRM:
		return on_confirm(sm, now, p);
	case NEIGH_EV_TIMER:
		return on_timer(sm, now, p);
	case NEIGH_EV_STATIC:
		sm->state = SL_NEIGH_PERMANENT;
		sm->probes = 0;
		sm->deadline = 0;
		sm->confirmed = now;
		return NEIGH_ACT_USE_MAC | NEIGH_ACT_FLUSH;
	}
	return NEIGH_ACT_NONE;
}

const char *neigh_state_str(unsigned int state)
{
	switch (state) {
	case SL_NEIGH_INCOMPLETE: return "incomplete";
	case SL_NEIGH_REACHABLE:  return "reachable";
	case SL_NEIGH_PROBE:      return "probe";
	case SL_NEIGH_FAILED:     return "failed";
	case SL_NEIGH_PERMANENT:  return "permanent";
	default:                  return "none";
	}
}
