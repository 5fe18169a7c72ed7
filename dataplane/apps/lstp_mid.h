/*
 * S3: the LSTP middle proxy's worker side (docs/lstp.md).  An end proxy's
 * connection to the `lstp` listener is taken here: its two setup messages
 * (COMMON_UNIQUE_INFO, TOPOLOGY_EXCHANGE) are framed and handed to
 * sluice-cp, which stores them until a second end presents the same common
 * information (controlplane/lstp/).  sluice-cp's PAIR then joins the two
 * connections into a relay (apps/l4proxy.c's, zero copy); END closes one
 * (refused, expired, dropped) after an ERROR.
 */
#ifndef SLUICE_LSTP_MID_H
#define SLUICE_LSTP_MID_H

struct worker;
struct rte_mbuf;

/* Start-up: the per-connection table and the listener when the config has
 * an `lstp` section (nothing otherwise).  0 or -errno. */
int lstp_mid_init(struct worker *w);
/* A message from sluice-cp (SL_TLS_DN_LSTP_*); consumes m. */
void lstp_mid_dn(struct worker *w, struct rte_mbuf *m);
/* A control message from another worker's hand-off ring (its port is
 * RTE_MBUF_PORT_INVALID): a connection moving here, or an end of a
 * forwarding.  Consumes m. */
void lstp_mid_ctl(struct worker *w, struct rte_mbuf *m);
/* Once per loop: setups that take too long. */
void lstp_mid_tick(struct worker *w);

#endif
