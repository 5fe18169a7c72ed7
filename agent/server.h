/*
 * Server connects on behalf of CONNECT: a non-blocking TCP connect per
 * request, its outcome mapped to CONNECT_RESULT (exact ICMP codes when the
 * raw ICMP socket saw the error), and on OK the relay over the reserved
 * STREAM session.
 */
#ifndef SLUICE_AGENT_SERVER_H
#define SLUICE_AGENT_SERVER_H

#include <stdint.h>

#include <sluice/agent_proto.h>

void server_connect(const struct ap_connect *m);
/* The control session is gone: its requests cannot be answered any more. */
void server_cancel_all(void);
uint32_t server_pending(void);
/* Is a connect with this CONNECT id still pending? */
int server_is_pending(uint32_t id);
/* A destination unreachable quoting a TCP header (addresses and ports in
 * host order): 1 when it matched a pending connect (which is then
 * answered), 0 otherwise. */
int server_on_icmp(uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport, uint8_t code);

#endif
