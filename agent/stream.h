/*
 * STREAM sessions (S4): the pool of idle sessions kept connected to the
 * appliance, each named by its stream id (the TLS exporter, agent_proto.h),
 * and their life after a CONNECT binds one to a server connection
 * (relay.h).
 */
#ifndef SLUICE_AGENT_STREAM_H
#define SLUICE_AGENT_STREAM_H

#include <stdint.h>

#include "loop.h"
#include "tlsconn.h"

struct relay;

enum stream_state {
	ST_DIALING,     /* tlsconn dial in progress */
	ST_IDLE,        /* in the pool, the appliance may name it */
	ST_RESERVED,    /* named by a CONNECT; our server connect is pending */
	ST_RELAY,       /* carrying a relayed connection (relay.c owns it) */
};

struct stream {
	struct tlsconn tc;
	uint64_t id;            /* valid from ST_IDLE on */
	uint64_t up_ms;         /* when the handshake completed */
	enum stream_state state;
	struct stream *prev, *next; /* pool list (DIALING, IDLE) */
	struct relay *relay;    /* ST_RELAY: the relay that owns it */
	struct grave grave;
};

/* Control session up: close every idle and dialing session and build a
 * fresh pool of `target` (the appliance forgets idle sessions when its
 * control plane restarts).  Relays are not touched. */
void stream_pool_start(uint32_t target);
/* Control session down: stop refilling (the idle ones stay until the next
 * stream_pool_start). */
void stream_pool_pause(void);
int stream_is_idle(uint64_t id);
/* An idle session named id -> ST_RESERVED, out of the pool (which is
 * refilled); NULL when we have no idle session of that id. */
struct stream *stream_reserve(uint64_t id);
/* RETIRE: close idle session `id` and dial its replacement now (the
 * appliance balances sessions over its workers this way).  0, or -ENOENT
 * when no idle session has that id. */
int stream_retire(uint64_t id);
/* A reserved session whose connect failed goes back to the pool. */
void stream_release(struct stream *s);
/* Free a session relay.c is done with (its tlsconn already closed). */
void stream_free(struct stream *s);
/* Exit: close every pool session. */
void stream_close_all(void);

uint32_t stream_idle_count(void);
uint32_t stream_dialing_count(void);
uint32_t stream_pool_target(void);

#endif
