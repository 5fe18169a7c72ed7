/*
 * The raw ICMP socket (root or CAP_NET_RAW): echo requests for PING, and
 * the destination-unreachable messages that tell server.c and ping.c the
 * exact ICMP code.  Without it pings are answered UNREACHABLE 13 and
 * connect errors are mapped from errno.
 */
#ifndef SLUICE_AGENT_ICMP_H
#define SLUICE_AGENT_ICMP_H

#include <stddef.h>
#include <stdint.h>

/* Open it if we may; 0, or -errno (not fatal). */
int icmp_open(void);
void icmp_close(void);
int icmp_available(void);
/* Echo request to dst (host order) with the client's id, seq and data;
 * ttl 0 = the system default.  0 or -errno. */
int icmp_send_echo(uint32_t dst, uint16_t ident, uint16_t seq, uint8_t ttl, const uint8_t *data,
		   size_t len);
/* Read every queued ICMP message now (before judging a failed connect: the
 * ICMP that failed it may still wait in our queue). */
void icmp_drain(void);

#endif
