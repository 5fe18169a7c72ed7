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

#endif
