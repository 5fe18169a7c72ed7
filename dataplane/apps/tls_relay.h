/*
 * S1 TLS offload relay on the worker (rule action tls-terminate): the client
 * leg's handshake bytes go to sluice-cp (include/sluice/tls_msg.h); once it
 * hands over the record state, records are opened and sealed here, in
 * place in the mbufs they arrived in, and the plaintext is relayed to the
 * application's plain port over a second connection.
 */
#ifndef SLUICE_TLS_RELAY_H
#define SLUICE_TLS_RELAY_H

#include <stdint.h>

struct worker;

/* Start-up: the session pool and the rings to sluice-cp.  0 or -errno. */
int tls_relay_init(struct worker *w, uint32_t max_sessions);
/* Start-up, after the crypto engine choice: OpenSSL contexts for two keys
 * per session of every algorithm OpenSSL was chosen for, so that keying a
 * connection allocates nothing on the worker.  0 or -ENOMEM. */
int tls_relay_reserve(struct worker *w);
/* Once per loop: messages from sluice-cp, records waiting to be sealed. */
void tls_relay_poll(struct worker *w);

#endif
