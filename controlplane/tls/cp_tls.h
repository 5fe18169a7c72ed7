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

#endif
