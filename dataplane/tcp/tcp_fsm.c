/*
 * The [state][segment class] dispatch table of tcp_input.c.  Everything not
 * listed is TCP_H_DROP.  RFC 9293 section 3.10.7 is the reference for every
 * row; RFC 5961 hardens the synchronized states against blind RST and SYN.
 */
#include "tcp_fsm.h"

#define SYNCHRONIZED_ROW                                  \
	{                                                 \
		[TCP_C_RST] = TCP_H_RST,                  \
		[TCP_C_SYN] = TCP_H_CHALLENGE_SYN,        \
		[TCP_C_SYNACK] = TCP_H_CHALLENGE_SYN,     \
		[TCP_C_ACK] = TCP_H_SEGMENT,              \
		/* 3.10.7.4 step 5: no ACK bit -> drop */ \
	}

const uint8_t tcp_dispatch[TCP_STATE_MAX][TCP_C_MAX] = {
	/* 3.10.7.1: no connection: everything but a RST gets a RST */
	[TCP_CLOSED] = {
		[TCP_C_SYN] = TCP_H_SEND_RST,
		[TCP_C_SYNACK] = TCP_H_SEND_RST,
		[TCP_C_ACK] = TCP_H_SEND_RST,
		[TCP_C_NOACK] = TCP_H_SEND_RST,
	},
	/* 3.10.7.2: a RST to a listener is ignored; an ACK is either a SYN
	 * cookie coming back or gets a RST; a SYN starts a connection */
	[TCP_LISTEN] = {
		[TCP_C_SYN] = TCP_H_LISTEN_SYN,
		[TCP_C_SYNACK] = TCP_H_SEND_RST,
		[TCP_C_ACK] = TCP_H_LISTEN_ACK,
	},
	[TCP_SYN_SENT] = {
		[TCP_C_RST] = TCP_H_SYNSENT_RST,
		[TCP_C_SYN] = TCP_H_SYNSENT_SYN,
		[TCP_C_SYNACK] = TCP_H_SYNSENT_SYNACK,
		[TCP_C_ACK] = TCP_H_SYNSENT_ACK,
	},
	[TCP_SYN_RECEIVED] = {
		[TCP_C_RST] = TCP_H_RST,
		[TCP_C_SYN] = TCP_H_SYNRCVD_SYN,
		[TCP_C_SYNACK] = TCP_H_CHALLENGE_SYN,
		[TCP_C_ACK] = TCP_H_SEGMENT,
	},
	[TCP_ESTABLISHED] = SYNCHRONIZED_ROW,
	[TCP_FIN_WAIT_1] = SYNCHRONIZED_ROW,
	[TCP_FIN_WAIT_2] = SYNCHRONIZED_ROW,
	[TCP_CLOSE_WAIT] = SYNCHRONIZED_ROW,
	[TCP_CLOSING] = SYNCHRONIZED_ROW,
	[TCP_LAST_ACK] = SYNCHRONIZED_ROW,
	[TCP_TIME_WAIT] = {
		[TCP_C_RST] = TCP_H_RST,
		[TCP_C_SYN] = TCP_H_TIMEWAIT_SYN,
		[TCP_C_SYNACK] = TCP_H_CHALLENGE_SYN,
		[TCP_C_ACK] = TCP_H_SEGMENT,
	},
};

const char *tcp_state_str(unsigned int s)
{
	static const char *const names[] = {
#define X(n) [TCP_##n] = #n,
		TCP_STATES(X)
#undef X
	};
	return s < TCP_STATE_MAX ? names[s] : "?";
}

const char *tcp_handler_str(unsigned int h)
{
	static const char *const names[TCP_H_MAX] = {
		[TCP_H_DROP] = "drop",
		[TCP_H_SEND_RST] = "send_rst",
		[TCP_H_LISTEN_SYN] = "listen_syn",
		[TCP_H_LISTEN_ACK] = "listen_ack",
		[TCP_H_SYNSENT_SYNACK] = "synsent_synack",
		[TCP_H_SYNSENT_SYN] = "synsent_syn",
		[TCP_H_SYNSENT_RST] = "synsent_rst",
		[TCP_H_SYNSENT_ACK] = "synsent_ack",
		[TCP_H_RST] = "rst",
		[TCP_H_CHALLENGE_SYN] = "challenge_syn",
		[TCP_H_SEGMENT] = "segment",
		[TCP_H_SYNRCVD_SYN] = "synrcvd_syn",
		[TCP_H_TIMEWAIT_SYN] = "timewait_syn",
	};
	return h < TCP_H_MAX ? names[h] : "?";
}
