/*
 * UDP through the agent (docs/agent-protocol.md, "DGRAM sessions"): DGRAM
 * sessions dialled on the appliance's DGRAM_OPEN, and datagram
 * associations (DAs), one connected UDP socket each, whose datagrams
 * travel as DATA frames on their session.  The agent ages DAs (idle_ms,
 * idle2_ms once two replies came) and tells the appliance with DA_END.
 */
#ifndef SLUICE_AGENT_DGRAM_H
#define SLUICE_AGENT_DGRAM_H

#include <stdint.h>

#include <sluice/agent_proto.h>

/* DGRAM_OPEN: dial one more session; DGRAM_UP answers (now if BUSY). */
void dgram_open(uint32_t id);
/* DGRAM_CLOSE: close that session and its DAs (no DA_END). */
void dgram_close(uint64_t session);
/* DA_OPEN: the DA_RESULT to send (result and relay port in *r), or
 * -EEXIST when `da` is already open (a protocol error). */
int dgram_da_open(const struct ap_da_open *o, struct ap_da_result *r);
/* DA_END from the appliance: forget it (unknown: nothing). */
void dgram_da_end(uint32_t da);
/* The control session ended: every DGRAM session and DA closes. */
void dgram_close_all(void);
uint32_t dgram_session_count(void);
uint32_t dgram_da_count(void);

#endif
