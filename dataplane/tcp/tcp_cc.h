/*
 * Congestion control behind an ops table, so CUBIC (RFC 9438) can follow
 * NewReno.  The stack owns loss detection (dupacks, SACK pipe per RFC 6675,
 * RTO) and calls these hooks; the algorithm owns cwnd and ssthresh.
 * All quantities in bytes.
 */
#ifndef SLUICE_TCP_CC_H
#define SLUICE_TCP_CC_H

#include <stdint.h>

struct tcp_cc_ops;

struct tcp_cc {
	const struct tcp_cc_ops *ops;
	uint32_t mss;
	uint32_t cwnd;
	uint32_t ssthresh;
	uint32_t acked_in_ca;  /* RFC 3465 byte counting in congestion avoidance */
	uint8_t in_recovery;
};

struct tcp_cc_ops {
	const char *name;
	void (*init)(struct tcp_cc *c, uint32_t mss);
	/* `acked` bytes of new data cumulatively acknowledged, outside recovery */
	void (*on_ack)(struct tcp_cc *c, uint32_t acked);
	/* loss detected (third duplicate ACK or SACK loss) with `flight` bytes out */
	void (*enter_recovery)(struct tcp_cc *c, uint32_t flight);
	/* each further duplicate ACK in non-SACK recovery (RFC 5681 3.2 step 4) */
	void (*dupack)(struct tcp_cc *c);
	/* a partial ACK in recovery acknowledging `acked` bytes (RFC 6582 3.2 step 5) */
	void (*partial_ack)(struct tcp_cc *c, uint32_t acked);
	/* the ACK that covers the recovery point, `flight` bytes still out */
	void (*exit_recovery)(struct tcp_cc *c, uint32_t flight);
	/* retransmission timeout with `flight` bytes out */
	void (*on_rto)(struct tcp_cc *c, uint32_t flight);
};

extern const struct tcp_cc_ops tcp_cc_newreno;

#endif
