/*
 * PING (S4): ICMP echo from the agent's host on a client's behalf, with the
 * client's identifier, sequence and payload; the reply, an unreachable, or
 * a timeout goes back as PING_RESULT.
 */
#ifndef SLUICE_AGENT_PING_H
#define SLUICE_AGENT_PING_H

#include <stddef.h>
#include <stdint.h>

#include <sluice/agent_proto.h>

void ping_request(const struct ap_ping *m);
void ping_cancel_all(void);
uint32_t ping_pending(void);
/* From icmp.c (addresses host order): 1 when it answered a pending ping. */
int ping_on_reply(uint32_t from, uint16_t ident, uint16_t seq, uint8_t ttl, const uint8_t *data,
		  size_t len);
int ping_on_unreach(uint32_t dst, uint16_t ident, uint16_t seq, uint8_t code, uint32_t from);

#endif
