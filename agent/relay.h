/*
 * A relay: bytes between a server socket and the STREAM session a CONNECT
 * bound to it, with half-close and reset carried across (agent_proto.h:
 * close_notify is FIN, a TCP RST of the session is the connection's RST).
 */
#ifndef SLUICE_AGENT_RELAY_H
#define SLUICE_AGENT_RELAY_H

#include <stdint.h>

#include "stream.h"

/* Start relaying; takes srv_fd and s in every case (on failure both are
 * reset and freed).  0 or -errno. */
int relay_start(struct stream *s, int srv_fd);
uint32_t relay_count(void);
void relay_close_all(void);

#endif
