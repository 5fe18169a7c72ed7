/*
 * The control session (S4, agent_proto.h): one TLS session with ALPN
 * AP_ALPN_CONTROL, HELLO / HELLO_ACK, keepalives both ways, CONNECT and
 * PING in, their results out.  Redialed with backoff after any failure;
 * the agent never exits because of the network.
 */
#ifndef SLUICE_AGENT_CTL_H
#define SLUICE_AGENT_CTL_H

#include <sluice/agent_proto.h>

void ctl_start(void);
void ctl_stop(void);
int ctl_is_up(void);
/* Queue a message for the appliance: 0, -ENOTCONN (no session up), or
 * -ENOBUFS (the appliance stopped reading; the session is closed). */
int ctl_send(const struct ap_msg *m);
/* For SIGUSR1: "up", "dialing", "waiting" ... */
const char *ctl_state_str(void);

#endif
