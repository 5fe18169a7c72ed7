/*
 * UDP through agents on the worker (issue 10): datagram associations (DAs).
 *
 * A client's UDP datagram toward a server behind an agent is reassembled
 * first (rte_ip_frag), then looked up by vnet + 5-tuple in this worker's
 * bounded DA table.  A miss makes a DA, holds the datagram (da_hold of
 * them) and offers it to sluice-cp, which asks the agent and binds it to a
 * DGRAM session (an SA) that terminates on this worker; the held datagrams
 * then go out as DATA frames (tls_relay_dgram_send).  Replies come back as
 * DATA frames on that session (udp_da_frame) and leave as UDP from the
 * server's address and port, fragmented to the client-side MTU; ICMP frames
 * become the ICMP error the agent's socket saw, quoting the client's last
 * datagram.  A refused DA discards its datagrams until da_discard_ms.
 *
 * The agent ages DAs (docs/agent-protocol.md); sluice-cp tells this worker
 * when one ended (udp_da_end).  Nothing here blocks, allocates after start,
 * or locks: the table is this worker's own.
 */
#ifndef SLUICE_UDP_DA_H
#define SLUICE_UDP_DA_H

#include <stdint.h>

struct worker;
struct rte_mbuf;
struct sl_da_verdict;

/* Start-up, from dp.conf's agents section.  0 or -errno. */
int udp_da_init(struct worker *w);
/* A client fragment: the whole datagram once reassembled (a chain), or NULL
 * while it waits (m kept) or when it failed (m freed, counted). */
struct rte_mbuf *udp_da_reasm(struct worker *w, struct rte_mbuf *m);
/* A whole client UDP datagram for a server behind `agent`; consumes m. */
void udp_da_in(struct worker *w, struct rte_mbuf *m, uint16_t in_port, uint16_t vnet,
	       uint16_t agent);
/* sluice-cp's verdict for the DA entry slot/gen. */
void udp_da_verdict(struct worker *w, uint32_t slot, uint32_t gen, const struct sl_da_verdict *v);
/* The DA entry slot/gen ended (agent aging, SA deleted). */
void udp_da_end(struct worker *w, uint32_t slot, uint32_t gen);
/* One whole DGRAM frame (header included) from the DGRAM session whose
 * connection is sess_slot: 0 (a CREDIT adds to *credit), or -EBADMSG when
 * it is malformed (the caller resets the session). */
int udp_da_frame(struct worker *w, uint32_t sess_slot, const uint8_t *f, uint32_t n,
		 uint32_t *credit);
/* Once per loop: offers without a verdict, discard timers, fragments. */
void udp_da_poll(struct worker *w);

#endif
