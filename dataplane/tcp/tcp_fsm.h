/*
 * TCP input dispatch: which handler runs for a segment, by connection state
 * and segment class (RFC 9293 3.10.7).  Pure data and tiny helpers, so the
 * table itself is unit-tested; tcp_input.c maps each handler to code.
 * An empty cell is TCP_H_DROP: the segment is dropped with a named reason.
 */
#ifndef SLUICE_TCP_FSM_H
#define SLUICE_TCP_FSM_H

#include <stdint.h>

/* RFC 9293 3.3.2 states */
#define TCP_STATES(X) \
	X(CLOSED) X(LISTEN) X(SYN_SENT) X(SYN_RECEIVED) X(ESTABLISHED) \
	X(FIN_WAIT_1) X(FIN_WAIT_2) X(CLOSE_WAIT) X(CLOSING) X(LAST_ACK) X(TIME_WAIT)

enum tcp_state {
#define X(s) TCP_##s,
	TCP_STATES(X)
#undef X
	TCP_STATE_MAX
};

/* Header flag bits as on the wire (RFC 9293 3.1) */
#define TCP_F_FIN 0x01
#define TCP_F_SYN 0x02
#define TCP_F_RST 0x04
#define TCP_F_PSH 0x08
#define TCP_F_ACK 0x10
#define TCP_F_URG 0x20

/* What a segment is, for dispatch.  FIN and data ride in TCP_C_ACK: they are
 * processed in order after the ACK field (RFC 9293 3.10.7.4 steps 5-8). */
enum tcp_seg_class {
	TCP_C_RST,     /* RST set (with or without ACK) */
	TCP_C_SYN,     /* SYN, no ACK */
	TCP_C_SYNACK,  /* SYN + ACK */
	TCP_C_ACK,     /* ACK set, no SYN/RST: acks, data, FIN */
	TCP_C_NOACK,   /* none of SYN/RST/ACK: data or FIN without ACK */
	TCP_C_BOGUS,   /* SYN with RST or FIN: never valid */
	TCP_C_MAX
};

enum tcp_handler {
	TCP_H_DROP = 0,      /* drop, count the reason (default) */
	TCP_H_SEND_RST,      /* RFC 9293 3.10.7.1: reset what has no connection */
	TCP_H_LISTEN_SYN,    /* 3.10.7.2: new connection (or SYN cookie) */
	TCP_H_LISTEN_ACK,    /* 3.10.7.2: ACK to a listener: SYN-cookie check, else RST */
	TCP_H_SYNSENT_SYNACK,/* 3.10.7.3: our SYN answered */
	TCP_H_SYNSENT_SYN,   /* 3.10.7.3: simultaneous open */
	TCP_H_SYNSENT_RST,   /* 3.10.7.3: acceptable only if it acks our SYN */
	TCP_H_SYNSENT_ACK,   /* 3.10.7.3: unacceptable ACK gets a RST */
	TCP_H_RST,           /* 3.10.7.4 + RFC 5961 3.2: exact match resets, in window -> challenge ACK */
	TCP_H_CHALLENGE_SYN, /* RFC 5961 4.2: SYN on a synchronized connection -> challenge ACK */
	TCP_H_SEGMENT,       /* 3.10.7.4: the general in-order path (seq check, ACK, data, FIN) */
	TCP_H_SYNRCVD_SYN,   /* 3.10.7.4: retransmitted SYN -> resend SYN-ACK */
	TCP_H_TIMEWAIT_SYN,  /* RFC 9293 3.10.7.4 note / RFC 6191: new incarnation or challenge ACK */
	TCP_H_MAX
};

static inline enum tcp_seg_class tcp_seg_class(uint8_t flags)
{
	if ((flags & TCP_F_SYN) && (flags & (TCP_F_RST | TCP_F_FIN)))
		return TCP_C_BOGUS;
	if (flags & TCP_F_RST)
		return TCP_C_RST;
	if (flags & TCP_F_SYN)
		return (flags & TCP_F_ACK) ? TCP_C_SYNACK : TCP_C_SYN;
	return (flags & TCP_F_ACK) ? TCP_C_ACK : TCP_C_NOACK;
}

extern const uint8_t tcp_dispatch[TCP_STATE_MAX][TCP_C_MAX];

static inline enum tcp_handler tcp_fsm_handler(enum tcp_state s, uint8_t flags)
{
	return (enum tcp_handler)tcp_dispatch[s][tcp_seg_class(flags)];
}

const char *tcp_state_str(unsigned int s);
const char *tcp_handler_str(unsigned int h);

/* A connection whose sequence space is synchronized (RFC 9293 3.5). */
static inline int tcp_state_synchronized(enum tcp_state s)
{
	return s >= TCP_ESTABLISHED;
}

#endif
