/*
 * The L4 proxy (rule action `proxy`): the client's connection is answered
 * as the server (transparently); a second connection goes to the real
 * server; payload mbufs move from one leg's receive path to the other's
 * send queue.  Both legs live on one worker.
 */
#ifndef SLUICE_L4PROXY_H
#define SLUICE_L4PROXY_H

#include "tcp/tcp_conn.h"

/* The client leg's app; it installs the server leg's itself. */
extern const struct tcp_app_ops l4proxy_ops;

/* Make an accepted client connection a plain relay to dst:dport (host
 * order) from now on -- S5 passthrough hands a TLS client over this way;
 * `pending` (may be NULL) is what the client already sent.  0 or -errno
 * (the caller then ends the connection). */
int l4proxy_attach(struct tcp_stack *s, struct tcp_conn *c, uint32_t dst, uint16_t dport,
		   struct rte_mbuf *pending);

#endif
