/*
 * What every module of sluice-agent shares: the configuration and the
 * counters printed on SIGUSR1.  Each module keeps its own state private and
 * has its own header (ctl.h, stream.h, server.h, icmp.h, tlsconn.h).
 */
#ifndef SLUICE_AGENT_H
#define SLUICE_AGENT_H

#include <stdint.h>

#include "agent_conf.h"

#define AGENT_SOFTWARE "sluice-agent/0.1"

extern const struct agent_conf *agent_cf;

/* X-macro: name, what it counts.  Counters only grow; gauges (current
 * sessions, pool, relays) are read from the modules when printing. */
#define AGENT_COUNTERS(X)                                                     \
	X(ctl_dials, "control session dials")                                 \
	X(ctl_dial_failures, "control session dials that failed")             \
	X(ctl_up, "control sessions that completed HELLO")                    \
	X(ctl_closed, "control sessions closed (any reason)")                 \
	X(errors_sent, "ERROR messages sent")                                 \
	X(errors_received, "ERROR messages received")                         \
	X(stream_dials, "STREAM session dials")                               \
	X(stream_dial_failures, "STREAM session dials that failed")           \
	X(stream_resumed, "STREAM sessions that resumed an earlier TLS session") \
	X(stream_idle_dropped, "idle STREAM sessions that closed or sent data") \
	X(stream_retired, "idle STREAM sessions replaced on the appliance's RETIRE") \
	X(retire_unknown, "RETIRE naming no idle session (ended meanwhile)") \
	X(connects, "CONNECT requests")                                       \
	X(connects_ok, "connects OK")                                         \
	X(connects_refused, "connects REFUSE (RST)")                          \
	X(connects_unreachable, "connects UNREACHABLE (error or ICMP)")       \
	X(connects_timeout, "connects that timed out (sent as UNREACHABLE 1)") \
	X(connects_busy, "connects refused: max_connects or max_relays")      \
	X(connects_no_stream, "connects naming a stream we do not have idle") \
	X(relays, "relays started")                                           \
	X(relays_reset, "relays ended by a reset on either side")             \
	X(relay_alloc_failures, "relays refused for lack of memory")          \
	X(bytes_to_server, "bytes relayed appliance -> server")               \
	X(bytes_from_server, "bytes relayed server -> appliance")             \
	X(pings, "PING requests")                                             \
	X(pings_ok, "echo replies")                                           \
	X(pings_unreachable, "pings answered by destination unreachable")     \
	X(pings_timeout, "pings without an answer in time")                   \
	X(pings_busy, "pings refused: max_pings")                             \
	X(pings_no_raw, "pings refused: no raw ICMP socket")                  \
	X(icmp_ignored, "ICMP messages matching nothing of ours")               \
	X(dst_forbidden, "connects/pings to loopback, 0/8 or multicast refused") \
	X(dgram_dials, "DGRAM session dials (DGRAM_OPEN)")                    \
	X(dgram_dial_failures, "DGRAM session dials that failed (DGRAM_UP BUSY)") \
	X(dgram_busy, "DGRAM_OPEN beyond max_dgram_sessions (DGRAM_UP BUSY)") \
	X(das_opened, "UDP associations opened (DA_RESULT OK)")               \
	X(das_refused, "DA_OPEN refused: forbidden or denied destination")    \
	X(das_busy, "DA_OPEN refused: max_das, or no socket")                 \
	X(das_no_session, "DA_OPEN naming no DGRAM session of ours")          \
	X(das_idle_ended, "UDP associations ended by the idle timers (DA_END IDLE)") \
	X(das_error_ended, "UDP associations ended by a socket error (DA_END ERROR)") \
	X(dgram_to_server, "datagrams sent to servers")                       \
	X(dgram_from_server, "datagrams received from servers")               \
	X(dgram_bytes_to_server, "UDP payload bytes sent to servers")         \
	X(dgram_bytes_from_server, "UDP payload bytes received from servers") \
	X(dgram_unknown_da, "DATA frames for an association we do not have")  \
	X(dgram_send_errors, "datagrams the kernel did not take (send failed)") \
	X(dgram_buffer_drops, "server datagrams dropped: the session's dgram_buffer was full") \
	X(dgram_icmp_sent, "ICMP errors reported to the appliance (IP_RECVERR)") \
	X(credits_granted, "DATA credits granted to the appliance")

struct agent_stats {
#define AGENT_STAT_FIELD(name, desc) uint64_t name;
	AGENT_COUNTERS(AGENT_STAT_FIELD)
#undef AGENT_STAT_FIELD
};

extern struct agent_stats agent_stats;

/* Destinations the appliance may not send us to (answered UNREACHABLE 13):
 * 0/8 and 127/8 reach the agent's own host, not the site; 224/4 and 240/4
 * (multicast, reserved, broadcast) are no TCP peer or echo target. */
static inline int agent_dst_forbidden(uint32_t dst)
{
	uint32_t top = dst >> 24;

	return top == 0 || top == 127 || top >= 224;
}

#endif
