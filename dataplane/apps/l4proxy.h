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

/* The relay itself, for other apps whose two legs relay the same way once
 * joined (S3's paired end connections, apps/lstp_mid.c): join links the
 * legs; the rest are tcp_app_ops callbacks of a joined leg. */
void l4proxy_join(struct tcp_stack *s, struct tcp_conn *a, struct tcp_conn *b);
void l4proxy_on_data(struct tcp_stack *s, struct tcp_conn *c, struct rte_mbuf *m);
uint32_t l4proxy_rcv_space(struct tcp_stack *s, const struct tcp_conn *c);
void l4proxy_on_writable(struct tcp_stack *s, struct tcp_conn *c);
void l4proxy_on_fin(struct tcp_stack *s, struct tcp_conn *c);
void l4proxy_on_close(struct tcp_stack *s, struct tcp_conn *c, int err);

#endif
