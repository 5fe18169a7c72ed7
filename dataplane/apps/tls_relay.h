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
/* Once every worker is initialised, before they run: each worker learns
 * every other worker's S5 tunnel table (it reads them, tunnel.h). */
void tls_relay_link(void);
/* Start-up, after the crypto engine choice: OpenSSL contexts for two keys
 * per session of every algorithm OpenSSL was chosen for, so that keying a
 * connection allocates nothing on the worker.  0 or -ENOMEM. */
int tls_relay_reserve(struct worker *w);
/* Once per loop: messages from sluice-cp, records waiting to be sealed. */
void tls_relay_poll(struct worker *w);

struct rte_mbuf;
struct tcp_conn;

/* A message to sluice-cp on this worker's ring: m's data is the payload
 * (NULL: none), the header goes in front of it.  Consumes m; 0, or
 * -ENOBUFS counted. */
int tls_relay_up(struct worker *w, uint16_t type, uint16_t app, uint32_t slot, uint32_t gen,
		 struct rte_mbuf *m);

/* S4: the agent's STREAM session at slot/gen if it is idle (keys installed,
 * not bound, not closing), else NULL. */
struct tcp_conn *tls_relay_stream_get(struct worker *w, uint32_t slot, uint32_t gen);
/* Bind an idle STREAM session to a client leg: the client's bytes are
 * sealed into records on the stream, the stream's plaintext goes to the
 * client; either side's end ends the other. */
void tls_relay_stream_bind(struct worker *w, struct tcp_conn *stream, struct tcp_conn *client);
/* Issue 10: the agent's DGRAM session at slot/gen if it can carry frames
 * (keys installed, no close_notify seen), else NULL. */
struct tcp_conn *tls_relay_dgram_get(struct worker *w, uint32_t slot, uint32_t gen);
/* A DATA frame (header included) onto that session: sealed now when the
 * agent's credit allows, else queued (dgram_queue, aged by
 * dgram_max_age_ms).  Consumes f; 0, or -ENOBUFS when dropped (counted). */
int tls_relay_dgram_send(struct worker *w, struct tcp_conn *sess, struct rte_mbuf *f);
/* End a STREAM session with RST (its agent then resets the server's). */
void tls_relay_stream_abort(struct worker *w, struct tcp_conn *stream);

#endif
