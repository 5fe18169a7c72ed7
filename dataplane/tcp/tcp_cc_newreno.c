/*
 * NewReno: RFC 5681 slow start and congestion avoidance with appropriate
 * byte counting (RFC 3465, L = 2), RFC 6928's initial window, RFC 5681 3.2
 * fast retransmit / fast recovery with RFC 6582's partial-ACK handling.
 */
#include "tcp_cc.h"

static uint32_t max_u32(uint32_t a, uint32_t b) { return a > b ? a : b; }
static uint32_t min_u32(uint32_t a, uint32_t b) { return a < b ? a : b; }

static void init(struct tcp_cc *c, uint32_t mss)
{
	c->ops = &tcp_cc_newreno;
	c->mss = mss;
	/* RFC 6928: IW = min(10*MSS, max(2*MSS, 14600)) */
	c->cwnd = min_u32(10 * mss, max_u32(2 * mss, 14600));
	c->ssthresh = UINT32_MAX; /* RFC 5681 3.1: arbitrarily high */
	c->acked_in_ca = 0;
	c->in_recovery = 0;
}

static void on_ack(struct tcp_cc *c, uint32_t acked)
{
	if (c->cwnd < c->ssthresh) {
		/* slow start, RFC 3465 2.2: at most L = 2 SMSS per ACK */
		c->cwnd += min_u32(acked, 2 * c->mss);
		return;
	}
	/* congestion avoidance, RFC 5681 3.1 / RFC 3465 2.1: one SMSS per
	 * cwnd of acknowledged bytes */
	c->acked_in_ca += acked;
	if (c->acked_in_ca >= c->cwnd) {
		c->acked_in_ca -= c->cwnd;
		c->cwnd += c->mss;
	}
}

static uint32_t half_flight(const struct tcp_cc *c, uint32_t flight)
{
	/* RFC 5681 (4): ssthresh = max(FlightSize / 2, 2*SMSS) */
	return max_u32(flight / 2, 2 * c->mss);
}

static void enter_recovery(struct tcp_cc *c, uint32_t flight)
{
	c->ssthresh = half_flight(c, flight);
	/* RFC 5681 3.2 step 3: inflate by the three segments that left */
	c->cwnd = c->ssthresh + 3 * c->mss;
	c->acked_in_ca = 0;
	c->in_recovery = 1;
}

static void dupack(struct tcp_cc *c)
{
	if (c->in_recovery)
		c->cwnd += c->mss; /* step 4: another segment has left */
}

static void partial_ack(struct tcp_cc *c, uint32_t acked)
{
	/* RFC 6582 3.2 step 5: deflate by what was acknowledged, add back one
	 * SMSS if at least one SMSS was */
	c->cwnd = c->cwnd > acked ? c->cwnd - acked : c->mss;
	if (acked >= c->mss)
		c->cwnd += c->mss;
}

static void exit_recovery(struct tcp_cc *c, uint32_t flight)
{
	/* RFC 6582 3.2 step 3, first option: min(ssthresh, max(FlightSize, SMSS) + SMSS),
	 * which avoids a burst when little is in flight */
	c->cwnd = min_u32(c->ssthresh, max_u32(flight, c->mss) + c->mss);
	c->in_recovery = 0;
}

static void on_rto(struct tcp_cc *c, uint32_t flight)
{
	/* RFC 5681 3.1 (4) and the loss window of one segment */
	c->ssthresh = half_flight(c, flight);
	c->cwnd = c->mss;
	c->acked_in_ca = 0;
	c->in_recovery = 0;
}

const struct tcp_cc_ops tcp_cc_newreno = {
	.name = "newreno",
	.init = init,
	.on_ack = on_ack,
	.enter_recovery = enter_recovery,
	.dupack = dupack,
	.partial_ack = partial_ack,
	.exit_recovery = exit_recovery,
	.on_rto = on_rto,
};
