/*
 * Congestion control behind an ops table: NewReno now, CUBIC (RFC 9438)
 * later.  Pure logic; all quantities in bytes.
 *
 * Split of duties.  The stack owns loss detection and the recovery state
 * machine (duplicate ACK counting, the RFC 6675 scoreboard and pipe, the
 * recovery point: tcp_sack.h, the RTO timer) and tells the algorithm what
 * happened; the algorithm owns cwnd and ssthresh.  The hooks, in the order
 * a connection meets them:
 *
 *   on_ack          new data cumulatively acknowledged outside recovery
 *   enter_recovery  loss found: third duplicate ACK (no SACK, RFC 5681 3.2)
 *                   or RFC 6675 5 with SACK.  The stack then retransmits.
 *   on_dupack       each further duplicate ACK during recovery
 *   on_partial_ack  an ACK in recovery that advances SND.UNA but does not
 *                   reach the recovery point (RFC 6582 3.2 step 5)
 *   exit_recovery   the ACK that reaches the recovery point
 *   on_rto          retransmission timeout
 *   on_idle         sending resumes after an idle period longer than RTO
 *
 * With SACK (TCP_CC_F_SACK) the stack sends during recovery while
 * cwnd - pipe >= SMSS (RFC 6675 5 (C)), so the algorithm only sets
 * ssthresh and cwnd on entry and leaves cwnd alone until exit: no
 * inflation by duplicate ACKs, no deflation by partial ACKs.
 * Without SACK the window is inflated and deflated per RFC 5681 3.2 and
 * RFC 6582 3.2, and the stack sends while FlightSize < cwnd.
 *
 * cwnd and ssthresh live outside the per-algorithm state because every
 * algorithm has them (RFC 5681 3) and the output path reads cwnd on every
 * segment: a field, not an indirect call.
 */
#ifndef SLUICE_TCP_CC_H
#define SLUICE_TCP_CC_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

/* Why recovery started. */
#define TCP_CC_LOSS_REASONS(X)                                                 \
	X(DUPACK, "dupack") /* DupThresh duplicate ACKs, RFC 5681 3.2 */         \
	X(SACK, "sack")     /* RFC 6675 5 (DupThresh or IsLost(HighACK + 1)) */

enum tcp_cc_loss {
#define X(name, str) TCP_CC_LOSS_##name,
	TCP_CC_LOSS_REASONS(X)
#undef X
	TCP_CC_LOSS__MAX
};

static inline const char *tcp_cc_loss_str(enum tcp_cc_loss r)
{
	static const char *const names[] = {
#define X(name, str) [TCP_CC_LOSS_##name] = str,
		TCP_CC_LOSS_REASONS(X)
#undef X
	};
	return (unsigned int)r < TCP_CC_LOSS__MAX ? names[r] : "?";
}

enum {
	TCP_CC_F_SACK = 1 << 0,     /* SACK negotiated: the stack recovers by pipe */
	TCP_CC_F_RECOVERY = 1 << 1, /* between enter_recovery and exit_recovery/on_rto */
	TCP_CC_F_RTO_SS = 1 << 2,   /* slow start after a timeout (RFC 3465 L = 1) */
	TCP_CC_F_RTO_AGAIN = 1 << 3, /* timed out, nothing acknowledged since */
	TCP_CC_F_SYN_LOST = 1 << 4, /* at init: our SYN or SYN-ACK was retransmitted */
};

/* One ACK that acknowledged new data. */
struct tcp_cc_ack {
	uint32_t acked;  /* bytes newly cumulatively acknowledged */
	uint32_t flight; /* FlightSize before this ACK */
	uint32_t rtt_us; /* RTT sample taken from this ACK, 0 if none */
	uint64_t now_us; /* the worker's clock (CUBIC's t, RFC 9438 4.2) */
};

/* NewReno's own state. */
struct tcp_cc_newreno {
	uint32_t bytes_acked; /* RFC 3465 2.1 byte counting in congestion avoidance */
};

struct tcp_cc {
	const struct tcp_cc_ops *ops;
	uint32_t smss;
	uint32_t cwnd;
	uint32_t ssthresh;
	uint32_t flags; /* TCP_CC_F_* */
	union {
		struct tcp_cc_newreno newreno;
		/* room for CUBIC (W_max, K, epoch start, W_est, cwnd_prior ...);
		 * an algorithm's state must fit here: no allocation */
		uint64_t priv[5];
	} u;
};

struct tcp_cc_ops {
	const char *name;
	/* smss, flags (TCP_CC_F_SACK, TCP_CC_F_SYN_LOST) are set; set cwnd,
	 * ssthresh and the private state */
	void (*init)(struct tcp_cc *cc);
	void (*on_ack)(struct tcp_cc *cc, const struct tcp_cc_ack *a);
	/* `flight`: FlightSize when the loss was found */
	void (*enter_recovery)(struct tcp_cc *cc, uint32_t flight, enum tcp_cc_loss why);
	void (*on_dupack)(struct tcp_cc *cc);
	void (*on_partial_ack)(struct tcp_cc *cc, uint32_t acked);
	/* `flight`: FlightSize after the ACK that ended recovery */
	void (*exit_recovery)(struct tcp_cc *cc, uint32_t flight);
	/* `flight`: FlightSize when the timer fired */
	void (*on_rto)(struct tcp_cc *cc, uint32_t flight);
	void (*on_idle)(struct tcp_cc *cc);
};

extern const struct tcp_cc_ops tcp_cc_newreno;

/* Set up cc for a new connection.  flags: TCP_CC_F_SACK if SACK was
 * negotiated, TCP_CC_F_SYN_LOST if the handshake needed a retransmission.
 * -EINVAL for a zero SMSS or missing ops. */
static inline int tcp_cc_init(struct tcp_cc *cc, const struct tcp_cc_ops *ops, uint32_t smss,
			      uint32_t flags)
{
	if (ops == NULL || ops->init == NULL || smss == 0)
		return -EINVAL;
	*cc = (struct tcp_cc){ .ops = ops, .smss = smss,
			       .flags = flags & (TCP_CC_F_SACK | TCP_CC_F_SYN_LOST) };
	ops->init(cc);
	return 0;
}

static inline void tcp_cc_on_ack(struct tcp_cc *cc, const struct tcp_cc_ack *a)
{
	cc->ops->on_ack(cc, a);
}

static inline void tcp_cc_enter_recovery(struct tcp_cc *cc, uint32_t flight, enum tcp_cc_loss why)
{
	cc->ops->enter_recovery(cc, flight, why);
}

static inline void tcp_cc_on_dupack(struct tcp_cc *cc)
{
	cc->ops->on_dupack(cc);
}

static inline void tcp_cc_on_partial_ack(struct tcp_cc *cc, uint32_t acked)
{
	cc->ops->on_partial_ack(cc, acked);
}

static inline void tcp_cc_exit_recovery(struct tcp_cc *cc, uint32_t flight)
{
	cc->ops->exit_recovery(cc, flight);
}

static inline void tcp_cc_on_rto(struct tcp_cc *cc, uint32_t flight)
{
	cc->ops->on_rto(cc, flight);
}

static inline void tcp_cc_on_idle(struct tcp_cc *cc)
{
	cc->ops->on_idle(cc);
}

static inline uint32_t tcp_cc_cwnd(const struct tcp_cc *cc)
{
	return cc->cwnd;
}

static inline uint32_t tcp_cc_ssthresh(const struct tcp_cc *cc)
{
	return cc->ssthresh;
}

static inline int tcp_cc_in_recovery(const struct tcp_cc *cc)
{
	return (cc->flags & TCP_CC_F_RECOVERY) != 0;
}

static inline int tcp_cc_in_slow_start(const struct tcp_cc *cc)
{
	return cc->cwnd < cc->ssthresh;
}

#endif
