/*
 * All TCP timers of a worker on one hashed timing wheel (Varghese & Lauck,
 * scheme 6): O(1) arm, cancel and re-arm, no allocation (the timer lives in
 * its connection), far-future timers wait in their slot until their tick.
 * This file also owns timer policy: every duration the stack uses.
 */
#ifndef SLUICE_TCP_TIMER_H
#define SLUICE_TCP_TIMER_H

#include <stdint.h>

enum tcp_timer_kind {
	TCP_T_RTO,       /* retransmission (RFC 6298) */
	TCP_T_PERSIST,   /* zero-window probe (RFC 9293 3.8.6.1) */
	TCP_T_KEEPALIVE, /* RFC 1122 4.2.3.6 */
	TCP_T_DELACK,    /* delayed ACK (RFC 5681 4.2) */
	TCP_T_TIMEWAIT,  /* 2*MSL (RFC 9293 3.4.2) */
	TCP_T_SYNRCVD,   /* half-open connection gives up */
	TCP_T_IDLE,      /* proxy idle timeout */
	TCP_T_MAX
};

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
 * cancel any timer, their own included.  Returns the number fired. */
unsigned int tcp_wheel_advance(struct tcp_wheel *w, uint64_t now, tcp_timer_fn *fn, void *ctx);

/* Timer policy, in milliseconds (1 tick = 1 ms). */
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
	uint32_t idle_ms;          /* proxy: both legs silent this long -> close */
};

extern const struct tcp_timer_policy tcp_timer_policy_default;

#endif
