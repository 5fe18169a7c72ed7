/*
 * The control plane's half of the TLS split (DESIGN.md 5): one OpenSSL
 * context per application, and a thread that runs every handshake on
 * memory BIOs fed from the workers' rings (include/sluice/tls_msg.h).  When
 * a handshake completes, the worker gets the record state and the copy
 * here is wiped.
 */
#ifndef SLUICE_CP_TLS_H
#define SLUICE_CP_TLS_H

#include <stddef.h>

#include <sluice/shm.h>

struct dp_link;

/* After dp_link_attach: find the rings, start the handshake thread. */
int cp_tls_start(struct dp_link *dp);
void cp_tls_stop(void);

/* Build application idx's context from its certificate and key (terminate)
 * or CA (originate).  0, or -errno with a message in err. */
int cp_tls_app_load(unsigned int idx, const struct sl_app_def *def, char *err, size_t errlen);
/* Drop it; handshakes in flight for it fail (the clients get an alert). */
void cp_tls_app_unload(unsigned int idx);

/* For controlplane/agent/ (S4), on the handshake thread only (the one
 * producer of the workers' down rings). */
#include <openssl/ssl.h>
struct cp_conn;
/* A message to the worker that owns c: header (type, flags), then a, then b. */
int cp_tls_send(const struct cp_conn *c, uint16_t type, uint32_t flags, const void *a,
		uint32_t alen, const void *b, uint32_t blen);
/* What OpenSSL wrote for a session kept here goes to its peer. */
void cp_tls_flush(const struct cp_conn *c, SSL *ssl);
/* End a session kept here: its last bytes, then the worker closes it. */
void cp_tls_close(const struct cp_conn *c);
/* "a.b.c.d:port" of the connection's peer, from the worker's flow table. */
void cp_tls_peer_addr(const struct cp_conn *c, char *buf, size_t len);
/* A snapshot of the connection's flow entry (addresses, bytes): 0, or
 * -ENOENT when the slot has changed hands. */
struct sl_flow_ent;
int cp_tls_flow(const struct cp_conn *c, struct sl_flow_ent *out);

#endif
