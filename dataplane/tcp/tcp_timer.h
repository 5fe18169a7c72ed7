/*
 * All TCP timers of a worker on one hashed timing wheel (Varghese & Lauck,
 * scheme 6): O(1) arm, cancel and re-arm, no allocation (the timer lives in
 * its connection), far-future timers wait in their slot until their tick.
 * This file also owns timer policy: every duration the stack uses.
 */
#ifndef SLUICE_TCP_TIMER_H
#define SLUICE_TCP_TIMER_H

#include <stdint.h>

/* RTO:       retransmission (RFC 6298), SYN and SYN-ACK retransmits too
 * PERSIST:   zero-window probe (RFC 9293 3.8.6.1, RFC 1122 4.2.2.17)
 * KEEPALIVE: RFC 1122 4.2.3.6 (off unless the app asks)
 * DELACK:    delayed ACK (RFC 5681 4.2, RFC 1122 4.2.3.2)
 * TIMEWAIT:  2*MSL (RFC 9293 3.4.2)
 * SYNRCVD:   a half-open (SYN-RECEIVED) connection gives up
 * IDLE:      proxy idle timeout
 * CONNECT:   an active open (SYN-SENT) gives up (RFC 9293 3.8.3) */
#define TCP_TIMER_KINDS(X) \
	X(RTO) X(PERSIST) X(KEEPALIVE) X(DELACK) X(TIMEWAIT) X(SYNRCVD) X(IDLE) X(CONNECT)

enum tcp_timer_kind {
#define X(k) TCP_T_##k,
	TCP_TIMER_KINDS(X)
#undef X
	TCP_T_MAX
};

const char *tcp_timer_kind_str(unsigned int kind);

struct tcp_timer {
	struct tcp_timer *next;
	struct tcp_timer **pprev; /* NULL when not armed */
	uint64_t expiry;          /* tick */
	uint8_t kind;             /* enum tcp_timer_kind */
};

struct tcp_wheel {
	uint64_t now;             /* last tick processed */
	uint32_t mask;            /* slots - 1 */
	uint32_t armed;
	uint32_t running;         /* inside tcp_wheel_advance */
	struct tcp_timer **slot;  /* caller's memory, mask + 1 heads */
};

typedef void tcp_timer_fn(struct tcp_timer *t, void *ctx);

/* nslots must be a power of two; slots[] is zeroed here. */
int tcp_wheel_init(struct tcp_wheel *w, struct tcp_timer **slots, uint32_t nslots, uint64_t now);

static inline int tcp_timer_armed(const struct tcp_timer *t)
{
	return t->pprev != 0;
}

/* (Re-)arm for `expiry` (a tick); one already due fires at the next advance. */
void tcp_timer_arm(struct tcp_wheel *w, struct tcp_timer *t, uint64_t expiry);
void tcp_timer_cancel(struct tcp_wheel *w, struct tcp_timer *t);

/* Fire, in tick order, every timer due by `now`; callbacks may arm and
 * cancel any timer, their own included (a callback sees w->now as the tick
 * being processed; the timer it runs for is already disarmed).  Timers due
 * on the same tick fire in no defined order.  A gap longer than the wheel
 * (mask + 1 ticks) costs one lap: everything due fires, but not in tick
 * order, and callbacks see w->now = now.  Work per call is bounded by
 * min(gap, slots) slot visits plus the timers fired and the far-future
 * timers revisited; it is not capped further (a TCP timer that is due must
 * run).  Not reentrant: a nested call does nothing and returns 0.
 * Returns the number fired. */
unsigned int tcp_wheel_advance(struct tcp_wheel *w, uint64_t now, tcp_timer_fn *fn, void *ctx);

/* Ticks for a duration, rounded up so that nothing fires early for want of
 * resolution; the wheel is unit-agnostic, the worker picks tick_us (the
 * policy below is in milliseconds; 1 ms ticks are the default). */
static inline uint64_t tcp_timer_ms_to_ticks(uint32_t ms, uint32_t tick_us)
{
	return ((uint64_t)ms * 1000 + tick_us - 1) / tick_us;
}

/* Timer policy, in milliseconds. */
struct tcp_timer_policy {
	uint32_t delack_ms;        /* RFC 1122 4.2.3.2: < 500 ms; Linux uses 40 */
	uint32_t timewait_ms;      /* 2*MSL; RFC 9293 suggests MSL = 2 min, we use
				    * Linux's 60 s total: a proxy holds many */
	uint32_t synrcvd_ms;       /* give up a half-open connection */
	uint32_t keepalive_idle_ms;  /* RFC 1122 4.2.3.6: >= 2 hours by default */
	uint32_t keepalive_intvl_ms;
	uint32_t keepalive_probes;
	uint32_t persist_min_ms;   /* zero-window probes back off between these */
	uint32_t persist_max_ms;
	uint32_t idle_ms;          /* proxy: both legs silent this long -> close;
				    * 0 = never */
	uint32_t connect_ms;       /* give up an active open (SYN-SENT) */
};

extern const struct tcp_timer_policy tcp_timer_policy_default;

/* 0, or -EINVAL for a policy breaking an RFC MUST or meaningless (zero
 * durations, persist_min > persist_max). */
int tcp_timer_policy_check(const struct tcp_timer_policy *p);

/* The persist timer after `backoff` unanswered probes: RTO first, then
 * doubling (RFC 1122 4.2.2.17), within [persist_min, persist_max]. */
uint32_t tcp_timer_persist_ms(const struct tcp_timer_policy *p, uint32_t rto_ms,
			      unsigned int backoff);

/* The keepalive timer after `probes` unanswered probes: the idle time before
 * the first, the interval after; 0 once keepalive_probes went unanswered
 * (the connection is dead: abort it). */
uint32_t tcp_timer_keepalive_ms(const struct tcp_timer_policy *p, unsigned int probes);

#endif
