/*
 * Dialing the appliance: TCP (directly or through an HTTP CONNECT proxy),
 * then TLS with mutual X.509 authentication and a required ALPN protocol.
 * Non-blocking: tlsconn_dial starts it and the owner's `done` callback gets
 * the outcome.  After done(tc, 0) the owner sets tc->ev.cb and drives the
 * SSL itself.
 */
#ifndef SLUICE_AGENT_TLSCONN_H
#define SLUICE_AGENT_TLSCONN_H

#include <openssl/ssl.h>

#include "agent_conf.h"
#include "loop.h"

enum tc_phase { TC_IDLE, TC_TCP, TC_PROXY_TX, TC_PROXY_RX, TC_TLS, TC_UP };

struct tlsconn {
	struct ev ev;           /* the TCP socket (to the appliance or the proxy) */
	SSL *ssl;
	struct timer deadline;  /* dial_timeout_ms for the whole dial */
	enum tc_phase phase;
	const char *alpn;       /* AP_ALPN_CONTROL, _STREAM or _DGRAM */
	unsigned offered : 1;   /* offered the kept session (STREAM, DGRAM dials) */
	unsigned resumed : 1;   /* ... and the appliance resumed it */
	char *pbuf;             /* proxy request, then response (heap, dial only) */
	size_t plen, poff;
	void (*done)(struct tlsconn *tc, int err);
	char err[512];          /* why the dial failed, for the owner's log */
};

/* The TLS context from the config (CA, our certificate and key): 0, or -1
 * with the reason in err.  --check runs this too. */
int tlsconn_setup(const struct agent_conf *conf, char *err, size_t errlen);
void tlsconn_teardown(void);

void tlsconn_init(struct tlsconn *tc);
/* Start a dial; 0, or -errno with tc->err set (done is not called then). */
int tlsconn_dial(struct tlsconn *tc, const char *alpn, void (*done)(struct tlsconn *tc, int err));
/* Close with a best-effort close_notify (one non-blocking try). */
void tlsconn_close(struct tlsconn *tc);
/* Close with a TCP RST (SO_LINGER 0): how a STREAM session is reset. */
void tlsconn_abort(struct tlsconn *tc);

/* "peer said ...": the reason of the last SSL failure, for logs. */
const char *tlsconn_ssl_err(char *buf, size_t len);

/* Capped exponential backoff with jitter. */
struct backoff {
	uint32_t cur;           /* 0: no failure since the last success */
};
uint32_t backoff_next(struct backoff *b);
static inline void backoff_reset(struct backoff *b) { b->cur = 0; }

#endif
