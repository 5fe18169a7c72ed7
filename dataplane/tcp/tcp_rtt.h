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
 * 60 s ceiling, 1 s initial, 1 ms granularity (the timer wheel's tick). */
extern const struct tcp_rtt_params tcp_rtt_default;

struct tcp_rtt {
	uint32_t srtt_us;    /* 0 until the first sample */
	uint32_t rttvar_us;
	uint32_t rto_us;     /* current RTO, backoff included */
	uint8_t backoff;     /* expirations since the last new sample */
};

void tcp_rtt_init(struct tcp_rtt *r, const struct tcp_rtt_params *p);
/* A new measurement R (2.2/2.3).  The caller applies Karn's algorithm
 * (never sample a retransmitted segment) or uses timestamps (RFC 7323 4). */
void tcp_rtt_sample(struct tcp_rtt *r, const struct tcp_rtt_params *p, uint32_t rtt_us);
/* The retransmission timer expired (5.5): double RTO, up to the ceiling. */
void tcp_rtt_backoff(struct tcp_rtt *r, const struct tcp_rtt_params *p);

#endif
