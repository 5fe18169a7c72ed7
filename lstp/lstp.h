/*
 * sluice-lstp internals: the end proxy of S3 (docs/sluice-lstp.md).
 *
 *   dial.c    TCP to the middle, directly or through a SOCKS5 / HTTP
 *             CONNECT proxy
 *   tunnel.c  the one tunnel: clear phase, TLS 1.3 (memory BIOs, so bytes
 *             that arrived with the clear phase go to OpenSSL unchanged),
 *             secured re-exchange, properties, framing, flow toward the
 *             middle; role middle's listener
 *   chan.c    channels: local sockets (SOCKS5 server, forwards) on the
 *             client end, server connects on the server end, per-channel
 *             PAUSE/RESUME
 *
 * One thread, one epoll loop (agent/loop.c, shared with sluice-agent).
 */
#ifndef SLUICE_LSTP_H
#define SLUICE_LSTP_H

#include <stddef.h>
#include <stdint.h>

#include <sluice/lstp_proto.h>

#include "lstp_conf.h"

#define LSTP_SOFTWARE "sluice-lstp/0.1.0"

extern const struct lstp_conf *lcf;

#define LSTP_COUNTERS(X)                                                              \
	X(tunnels_up, "tunnels that reached the secured phase")                       \
	X(tunnels_failed, "tunnels closed before or during the secured phase")        \
	X(errors_sent, "ERROR messages sent")                                         \
	X(errors_received, "ERROR messages received")                                 \
	X(mismatch, "secured re-exchange differing from the clear phase")            \
	X(auth_failed, "TLS handshakes that failed (peer certificate, ALPN, ...)")    \
	X(channels_opened, "channels that reached SERVICE_DATA")                      \
	X(channels_refused, "CONNECTION_REQUESTs answered NACK")                      \
	X(channels_reset, "channels ended by RESET")                                  \
	X(pauses_sent, "SERVICE_DATA_PAUSE sent")                                     \
	X(pauses_received, "SERVICE_DATA_PAUSE received")                             \
	X(socks_refused, "SOCKS5 requests refused locally (auth, command, address)")  \
	X(local_refused, "local connections refused (max_local, max_channels, no tunnel)") \
	X(stale_data, "SERVICE_DATA for a channel already gone (dropped)")            \
	X(overrun, "channels reset for exceeding their buffer after PAUSE")

struct lstp_stats {
#define LSTP_STAT_FIELD(name, desc) uint64_t name;
	LSTP_COUNTERS(LSTP_STAT_FIELD)
#undef LSTP_STAT_FIELD
};
extern struct lstp_stats lstp_stats;

/* dial.c: one dial at a time.  done(fd, 0, NULL) hands over a connected
 * non-blocking socket (any proxy already through); done(-1, -errno, why). */
int dial_start(void (*done)(int fd, int err, const char *why));
void dial_cancel(void);

/* tls.c */
int tls_setup(const struct lstp_conf *c, char *err, size_t errlen);
void tls_teardown(void);
struct ssl_st *tls_new(int master);   /* memory BIOs attached */
const char *tls_err(char *buf, size_t len);

/* tunnel.c */
int tun_start(void);               /* 0, or -errno (role middle: listen) */
void tun_stop(void);                 /* SHUTDOWN (when up) and close; no reconnect */
int tun_is_up(void);
/* Queue one message toward the peer end; 0, or -EPIPE when the tunnel is
 * not up (the caller drops the channel). */
int tun_send(const struct lstp_msg *m);
/* SERVICE_DATA: frame[0..LSTP_HDR_LEN) is free for the header, the
 * payload follows; 0 or -EPIPE. */
int tun_send_data(uint32_t channel, uint8_t *frame, uint16_t len);
/* Room toward the middle (below tunnel_buffer)?  Channels stop reading
 * their local sockets when not; chan_tunnel_writable() says when again. */
int tun_writable(void);
uint32_t tun_peer_max_channels(void);
/* Close the tunnel with ERROR code (sent when secured) and reconnect. */
void tun_fail(uint16_t code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
const char *tun_state_str(void);

/* chan.c */
int chan_listen(char *err, size_t errlen);  /* client end: SOCKS and forward listeners */
void chan_msg(const struct lstp_msg *m);     /* a channel message from the peer */
void chan_tunnel_down(void);                 /* reset every channel */
void chan_tunnel_writable(void);
void chan_close_all(void);
uint32_t chan_count(void);
uint32_t chan_local_count(void);

/* Capped exponential backoff with jitter (reconnect). */
uint32_t backoff_next(uint32_t *cur);

#endif
