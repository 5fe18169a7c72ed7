/*
 * Retransmission timeout estimation, RFC 6298, in microseconds with the
 * RFC's fixed-point gains (alpha 1/8, beta 1/4, K = 4).
 */
#ifndef SLUICE_TCP_RTT_H
#define SLUICE_TCP_RTT_H

#include <stdint.h>

struct tcp_rtt_params {
	uint32_t min_us;     /* floor of RTO */
	uint32_t max_us;     /* ceiling of RTO (RFC 6298 2.5 allows >= 60 s) */
	uint32_t initial_us; /* RTO before the first sample (2.1: 1 s) */
	uint32_t granularity_us; /* G, the clock granularity */
};

/* Defaults: 200 ms floor like Linux, not RFC 6298's 1 s (2.4 "SHOULD"):
 * inside a datacenter the 1 s floor turns every tail loss into a stall;
 * 60 s ceiling, 1 s initial, 1 ms granularity (the timer wheel's tick).
 * The floor bounds the whole RTO (RFC 6298 2.4's form).  Linux instead
 * floors the variance term (RTO >= SRTT + 200 ms), which also covers a
 * peer's delayed ACK (up to 200 ms on Linux, 500 ms by RFC 5681 4.2) on
 * long steady paths; here that margin must come from RTTVAR, so on a path
 * with a steady RTT above the floor, spurious timeouts are possible where
 * Linux would have none.
 *
 * Samples: one per round trip (Karn's rule, RFC 6298 3: never from a
 * retransmitted segment unless timestamps say which copy was acked).  With
 * timestamps one could sample every ACK, but then alpha and beta must be
 * scaled down (RFC 7323 appendix G); one sample per RTT keeps the RFC 6298
 * gains right without that. */
extern const struct tcp_rtt_params tcp_rtt_default;

struct tcp_rtt {
	uint32_t srtt_us;    /* 0 until the first sample */
	uint32_t rttvar_us;
	uint32_t rto_us;     /* current RTO, backoff included */
	uint8_t backoff;     /* expirations since the last new sample */
};

/* 0, or -EINVAL: zero floor or G, floor above ceiling, initial outside. */
int tcp_rtt_params_check(const struct tcp_rtt_params *p);

void tcp_rtt_init(struct tcp_rtt *r, const struct tcp_rtt_params *p);

/* The retransmission timeout to arm, in microseconds. */
static inline uint32_t tcp_rtt_rto(const struct tcp_rtt *r)
{
	return r->rto_us;
}
/* A new measurement R (2.2/2.3).  The caller applies Karn's algorithm
 * (never sample a retransmitted segment) or uses timestamps (RFC 7323 4). */
void tcp_rtt_sample(struct tcp_rtt *r, const struct tcp_rtt_params *p, uint32_t rtt_us);
/* The retransmission timer expired (5.5): double RTO, up to the ceiling. */
void tcp_rtt_backoff(struct tcp_rtt *r, const struct tcp_rtt_params *p);
/* The handshake completes after our SYN or SYN-ACK was retransmitted: with
 * no valid sample taken, RTO restarts at 3 s (RFC 6298 5.7), not the
 * backed-off value nor the 1 s initial.  No-op once a sample exists. */
void tcp_rtt_syn_lost(struct tcp_rtt *r, const struct tcp_rtt_params *p);

#endif
