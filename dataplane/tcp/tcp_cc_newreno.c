/*
 * NewReno: RFC 5681 slow start and congestion avoidance, with appropriate
 * byte counting (RFC 3465, L = 2*SMSS); RFC 6928's initial window; RFC 5681
 * 3.2 fast retransmit / fast recovery with RFC 6582's partial-ACK handling
 * when SACK is off, and the RFC 6675 5 window settings when it is on (the
 * stack then recovers by pipe; see tcp_cc.h).
 */
#include "tcp_cc.h"

_Static_assert(sizeof(struct tcp_cc_newreno) <= sizeof(((struct tcp_cc *)0)->u),
	       "NewReno state must fit in struct tcp_cc");

/* RFC 3465 2.2: at most L*SMSS per ACK in slow start; L = 2 is the most
 * allowed ("MUST NOT use L > 2*SMSS"). */
#define ABC_L 2u

static uint32_t max_u32(uint32_t a, uint32_t b) { return a > b ? a : b; }
static uint32_t min_u32(uint32_t a, uint32_t b) { return a < b ? a : b; }

static uint32_t add_sat(uint32_t a, uint32_t b)
{
	return a > UINT32_MAX - b ? UINT32_MAX : a + b;
}

/* RFC 6928 2: IW = min(10*MSS, max(2*MSS, 14600)).  Chosen over RFC 5681
 * 3.1's 2..4 segments: a proxy's legs are mostly short transfers where the
 * first round trip is most of the cost, and Linux peers use IW10 too. */
static uint32_t initial_window(const struct tcp_cc *cc)
{
	/* RFC 6928 2 / RFC 5681 3.1: after a lost SYN or SYN-ACK the initial
	 * window is one segment */
	if (cc->flags & TCP_CC_F_SYN_LOST)
		return cc->smss;
	return min_u32(10 * cc->smss, max_u32(2 * cc->smss, 14600));
}

/* RFC 5681 3.1 (4): ssthresh = max(FlightSize / 2, 2*SMSS).  FlightSize,
 * not cwnd: an application-limited sender must not keep a window it never
 * used. */
static uint32_t half_flight(const struct tcp_cc *cc, uint32_t flight)
{
	return max_u32(flight / 2, 2 * cc->smss);
}

static void init(struct tcp_cc *cc)
{
	cc->cwnd = initial_window(cc);
	/* RFC 5681 3.1: "arbitrarily high", lowered by the first loss */
	cc->ssthresh = UINT32_MAX;
	cc->u.newreno.bytes_acked = 0;
}

static void on_ack(struct tcp_cc *cc, const struct tcp_cc_ack *a)
{
	uint32_t acked = a->acked;

	/* recovery sets the window on its own terms (partial ACKs, exit) */
	if ((cc->flags & TCP_CC_F_RECOVERY) || acked == 0)
		return;
	/* new data got through: a later timeout is a new loss event again
	 * (RFC 5681 3.1, see on_rto) */
	cc->flags &= ~(uint32_t)TCP_CC_F_RTO_AGAIN;
	if (cc->cwnd < cc->ssthresh) {
		/* slow start, RFC 3465 2.2: cwnd += min(N, L*SMSS).  Right after
		 * a timeout one ACK can cover a whole window the receiver held
		 * out of order: L = 1 then, or that ACK releases a burst (RFC
		 * 3465 2.3; FreeBSD does the same) */
		uint32_t l = (cc->flags & TCP_CC_F_RTO_SS) ? 1 : ABC_L;

		cc->cwnd = add_sat(cc->cwnd, min_u32(acked, l * cc->smss));
		if (cc->cwnd >= cc->ssthresh)
			cc->flags &= ~(uint32_t)TCP_CC_F_RTO_SS;
		return;
	}
	/* congestion avoidance, RFC 5681 3.1 / RFC 3465 2.1: once a window's
	 * worth of bytes has been acknowledged, one SMSS more -- about one
	 * SMSS per RTT whatever the ACK pattern (delayed or stretch ACKs) */
	cc->flags &= ~(uint32_t)TCP_CC_F_RTO_SS;
	cc->u.newreno.bytes_acked = add_sat(cc->u.newreno.bytes_acked, acked);
	if (cc->u.newreno.bytes_acked >= cc->cwnd) {
		cc->u.newreno.bytes_acked -= cc->cwnd;
		cc->cwnd = add_sat(cc->cwnd, cc->smss);
	}
}

static void enter_recovery(struct tcp_cc *cc, uint32_t flight, enum tcp_cc_loss why)
{
	if (cc->flags & TCP_CC_F_RECOVERY)
		return; /* one reduction per loss event (RFC 5681 3.2, RFC 6582) */
	cc->ssthresh = half_flight(cc, flight);
	if ((cc->flags & TCP_CC_F_SACK) || why == TCP_CC_LOSS_SACK) {
		/* RFC 6675 5 (4.2): cwnd = ssthresh; pipe does the rest */
		cc->cwnd = cc->ssthresh;
	} else {
		/* RFC 5681 3.2 step 3 (RFC 6582 3.2 step 2): inflate by the
		 * three segments that have left the network */
		cc->cwnd = add_sat(cc->ssthresh, 3 * cc->smss);
	}
	cc->u.newreno.bytes_acked = 0;
	cc->flags |= TCP_CC_F_RECOVERY;
}

static void on_dupack(struct tcp_cc *cc)
{
	/* RFC 5681 3.2 step 4 (RFC 6582 3.2 step 4): each further duplicate
	 * ACK means another segment has left the network.  With SACK, pipe
	 * counts that instead (RFC 6675 5). */
	if ((cc->flags & TCP_CC_F_RECOVERY) && !(cc->flags & TCP_CC_F_SACK))
		cc->cwnd = add_sat(cc->cwnd, cc->smss);
}

static void on_partial_ack(struct tcp_cc *cc, uint32_t acked)
{
	if (!(cc->flags & TCP_CC_F_RECOVERY) || (cc->flags & TCP_CC_F_SACK))
		return;
	/* RFC 6582 3.2 step 5: deflate by the new data acknowledged, add back
	 * one SMSS if at least one SMSS was, so that about ssthresh stays in
	 * flight when recovery ends.  Never below one segment: the stack
	 * still has holes to repair. */
	cc->cwnd = cc->cwnd > acked ? cc->cwnd - acked : 0;
	if (acked >= cc->smss)
		cc->cwnd = add_sat(cc->cwnd, cc->smss);
	cc->cwnd = max_u32(cc->cwnd, cc->smss);
}

static void exit_recovery(struct tcp_cc *cc, uint32_t flight)
{
	if (!(cc->flags & TCP_CC_F_RECOVERY))
		return;
	/* RFC 6582 3.2 step 3, option (1): min(ssthresh, max(FlightSize, SMSS)
	 * + SMSS).  Chosen over plain ssthresh because it cannot release a
	 * burst when little is left in flight; RFC 6675 says nothing here and
	 * the same reasoning applies with SACK. */
	cc->cwnd = min_u32(cc->ssthresh, add_sat(max_u32(flight, cc->smss), cc->smss));
	cc->u.newreno.bytes_acked = 0;
	cc->flags &= ~(uint32_t)TCP_CC_F_RECOVERY;
}

static void on_rto(struct tcp_cc *cc, uint32_t flight)
{
	/* RFC 5681 3.1 (4): ssthresh = max(FlightSize / 2, 2*SMSS) -- but
	 * held constant when the segment timed out again before anything new
	 * was acknowledged: the first timeout already halved it, and the
	 * FlightSize of a backed-off sender says nothing new */
	if (!(cc->flags & TCP_CC_F_RTO_AGAIN))
		cc->ssthresh = half_flight(cc, flight);
	/* RFC 5681 3.1: the loss window LW is one full-sized segment */
	cc->cwnd = cc->smss;
	cc->u.newreno.bytes_acked = 0;
	/* RFC 6675 5.1 / RFC 6582: a timeout ends fast recovery */
	cc->flags &= ~(uint32_t)TCP_CC_F_RECOVERY;
	cc->flags |= TCP_CC_F_RTO_SS | TCP_CC_F_RTO_AGAIN;
}

static void on_idle(struct tcp_cc *cc)
{
	/* RFC 5681 4.1: after an idle period longer than RTO,
	 * cwnd = min(RW, cwnd) with RW = min(IW, cwnd); ssthresh keeps the
	 * memory of the path */
	cc->cwnd = min_u32(cc->cwnd, initial_window(cc));
	cc->u.newreno.bytes_acked = 0;
}

const struct tcp_cc_ops tcp_cc_newreno = {
	.name = "newreno",
	.init = init,
	.on_ack = on_ack,
	.enter_recovery = enter_recovery,
	.on_dupack = on_dupack,
	.on_partial_ack = on_partial_ack,
	.exit_recovery = exit_recovery,
	.on_rto = on_rto,
	.on_idle = on_idle,
};
