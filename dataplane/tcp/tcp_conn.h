/*
 * The TCP stack of one worker: connections, their table, the timer wheel and
 * the small API applications on the worker use (apps/l4proxy.c).
 *
 * Zero copy: received payload stays in the mbufs it arrived in.  An app gets
 * those mbufs (on_data) and may queue them on another connection (tcp_send);
 * segments are built by prepending a header mbuf to indirect mbufs attached
 * to the queued payload, so a retransmission copies nothing either.
 *
 * Everything is owned by one worker: no locks, no allocation after start-up
 * (connections come from a fixed pool in a memzone that sluice-cp can read
 * for `show flows`, see struct sl_flow_ent in shm.h).
 */
#ifndef SLUICE_TCP_CONN_H
#define SLUICE_TCP_CONN_H

#include <stdint.h>

#include <rte_mbuf.h>

#include <sluice/shm.h>

#include "tcp_cc.h"
#include "tcp_cookie.h"
#include "tcp_fsm.h"
#include "tcp_reass.h"
#include "tcp_rtt.h"
#include "tcp_sack.h"
#include "tcp_timer.h"

struct worker;
struct tcp_stack;
struct tcp_conn;

/* A segment that finds no connection is first offered to this hook (the
 * moved connections' forwarding, apps/lstp_mid.c): 1 when it took m. */
typedef int (*tcp_miss_fn)(struct tcp_stack *s, struct rte_mbuf *m, uint16_t in_port,
			   uint32_t laddr_be, uint16_t lport, uint32_t raddr_be, uint16_t rport);

/* What an application on the worker is told.  Every callback runs inside
 * tcp_input/tcp timers; it may call the API below on any connection. */
struct tcp_app_ops {
	/* a passive open completed (client leg): the handshake is done;
	 * nonzero refuses it (the stack sends RST and frees it, no on_close) */
	int (*on_established)(struct tcp_stack *s, struct tcp_conn *c);
	/* an active open completed; nonzero as above */
	int (*on_connected)(struct tcp_stack *s, struct tcp_conn *c);
	/* in-order payload, one mbuf (chain) whose data is exactly the bytes;
	 * the app owns it from here */
	void (*on_data)(struct tcp_stack *s, struct tcp_conn *c, struct rte_mbuf *m);
	/* acknowledged data left the send queue: room for more */
	void (*on_writable)(struct tcp_stack *s, struct tcp_conn *c);
	/* the peer sent FIN: no more data will come */
	void (*on_fin)(struct tcp_stack *s, struct tcp_conn *c);
	/* the connection is gone (or going: TIME_WAIT needs the app no more);
	 * `err` 0 for an orderly close, -ECONNRESET, -ETIMEDOUT,
	 * -ECONNREFUSED, -EHOSTUNREACH.  Called once; forget `c` after it. */
	void (*on_close)(struct tcp_stack *s, struct tcp_conn *c, int err);
	/* bytes the app can take now (backpressure: the advertised window) */
	uint32_t (*rcv_space)(struct tcp_stack *s, const struct tcp_conn *c);
};

/* tcp_conn.flags */
enum {
	TCP_CF_TS = 1 << 0,        /* timestamps negotiated (RFC 7323) */
	TCP_CF_SACK = 1 << 1,      /* SACK permitted both ways (RFC 2018) */
	TCP_CF_WS = 1 << 2,        /* window scaling negotiated (RFC 7323 2) */
	TCP_CF_ACK_NOW = 1 << 3,   /* send an ACK at the next output */
	TCP_CF_FIN_Q = 1 << 4,     /* app shut down: FIN after the queue */
	TCP_CF_FIN_SENT = 1 << 5,  /* our FIN has a sequence number (snd_max covers it) */
	TCP_CF_FIN_RCVD = 1 << 6,  /* the peer's FIN was taken */
	TCP_CF_CLOSED_APP = 1 << 7,/* on_close was called */
	TCP_CF_RTT = 1 << 8,       /* timing rtt_seq (no timestamps) */
	TCP_CF_SYN_RTX = 1 << 9,   /* our SYN / SYN-ACK was retransmitted */
	TCP_CF_COOKIE = 1 << 10,   /* rebuilt from a SYN cookie */
	TCP_CF_DSACK = 1 << 11,    /* report dsack_blk in the next ACK */
	TCP_CF_IN_OUTPUT = 1 << 12,/* inside tcp_output: no recursion */
	TCP_CF_FREEING = 1 << 13,
	TCP_CF_TRANSP = 1 << 14,   /* proxy: the server leg takes the client's address */
	TCP_CF_RECPROBE = 1 << 15, /* t_rtx is the short probe timer, not the RTO */
	TCP_CF_PROBED = 1 << 16,   /* a probe went out; no progress since */
	TCP_CF_KILL = 1 << 17,     /* tcp_abort_deferred: on the kill list */
};

struct tcp_conn {
	struct sl_flow_ent v;      /* first: what `show flows` reads (shm.h) */

	uint32_t laddr_be, raddr_be;
	uint16_t lport, rport;     /* host order */
	uint8_t state;             /* enum tcp_state */
	uint8_t snd_wscale;        /* the peer's shift: applied to its windows */
	uint8_t rcv_wscale;        /* ours: applied to what we advertise */
	uint8_t persist_backoff;
	uint16_t smss;             /* payload bytes per segment we send */
	uint16_t dupacks;
	uint8_t syn_tries;
	uint8_t ka_probes;
	uint32_t flags;            /* TCP_CF_* */

	/* RFC 9293 3.3.1 */
	uint32_t iss, snd_una, snd_nxt, snd_max, snd_wnd, snd_wl1, snd_wl2;
	uint32_t max_snd_wnd;      /* RFC 5961 5.2 MAX.SND.WND */
	uint32_t irs, rcv_nxt, rcv_adv; /* rcv_adv: right edge advertised */
	uint32_t ts_recent;        /* RFC 7323 4.3 TS.Recent */
	uint32_t ts_off;           /* our TSval = clock + ts_off */
	uint32_t rtt_seq;          /* without timestamps: the segment timed */
	uint32_t rtt_start_ms;
	uint32_t delack_segs;      /* full segments received since our last ACK */
	uint32_t last_rx_ms;       /* any segment: keepalive */
	uint32_t last_data_ms;     /* payload: the proxy's idle timeout */
	uint32_t ka_sent_ms;       /* the last keepalive probe */
	uint32_t dsack_lo, dsack_hi;

	/* send queue: payload from snd_una on, one segment per mbuf, linked
	 * through m->next; sq_bytes excludes SYN/FIN */
	struct rte_mbuf *sq_head, *sq_tail;
	uint32_t sq_bytes, sq_max;
	struct rte_mbuf *sq_cur;   /* cursor: the mbuf holding sequence sq_cur_seq */
	uint32_t sq_cur_seq;

	struct tcp_reass rq;
	struct tcp_sack_rcv sr;
	struct tcp_sb sb;
	struct tcp_rtt rtt;
	struct tcp_cc cc;
	struct tcp_timer t_rtx;    /* RTO, or PERSIST when the window is zero */
	struct tcp_timer t_delack;
	struct tcp_timer t_life;   /* SYNRCVD, CONNECT, IDLE, TIMEWAIT */
	struct tcp_timer t_ka;     /* KEEPALIVE (RFC 1122 4.2.3.6), when enabled */

	const struct tcp_app_ops *app;
	struct tcp_conn *peer;     /* the proxy's other leg */
	uint32_t app_slot;         /* the app's own per-connection state */
	uint16_t app_id;           /* application index (TLS apps) */
	uint16_t mss_adv;          /* MSS we announce if below p.mss (0: p.mss) */
} __rte_cache_aligned;

/* What a worker's stack is configured with (the `tcp` config section). */
struct tcp_params {
	uint32_t max_conns;        /* connection slots per worker */
	uint32_t max_half_open;    /* SYN-RECEIVED per worker before SYN cookies */
	uint32_t sndbuf;           /* send queue bound per connection, bytes */
	uint32_t reass_bytes;      /* out-of-order bytes per connection */
	uint32_t reass_worker_bytes; /* ... and per worker */
	uint16_t mss;              /* what we announce (the port MTU allows more) */
	uint8_t wscale;            /* what we announce */
	uint8_t syn_retries;
	uint8_t rto_retries;
	uint8_t keepalive;         /* RFC 1122 4.2.3.6: off unless configured */
	struct tcp_timer_policy tp;
};

extern const struct tcp_params tcp_params_default;

struct tcp_stack {
	struct worker *w;
	struct sl_tcp_stats *st;
	struct tcp_params p;
	struct sl_flow_zone *zone;
	uint32_t n_slots, stride;
	uint32_t *free_idx;        /* stack of free slots */
	uint32_t n_free;
	struct rte_hash *h;        /* struct flow_key (as received) -> slot */
	struct tcp_wheel wheel;
	struct tcp_reass_pool rpool;
	struct tcp_reass_limits rlim;
	struct tcp_reass_ctx rctx;
	uint64_t reass_bytes;
	struct tcp_cookie_keys ck;
	struct tcp_cookie_key iss_key;
	uint64_t tsc_hz;
	uint64_t now_tsc, last_tick_tsc;
	uint32_t now_ms;           /* TCP clock: timestamps and the wheel's tick */
	uint32_t half_open;
	uint16_t next_port;
	uint16_t ip_id;
	uint32_t n_transparent;    /* proxy rules with `transparent` */
	uint8_t mem_low;           /* the mbuf pool is below a quarter: open no window */
	const struct tcp_app_ops *listen_app[SL_RA_MAX]; /* by rule action */
	/* listeners on the appliance's own addresses (the agents' port):
	 * a segment to one with no connection is taken as `rule` says */
	uint32_t n_local;
	struct { uint32_t addr_be; uint16_t port; const struct sl_rule *rule; } local[4];
	uint32_t n_kill;
	struct { uint32_t slot, gen; } kill[64]; /* tcp_abort_deferred */
	uint32_t chal_budget, chal_sec; /* RFC 5961 7 challenge-ACK limit */
	tcp_miss_fn miss;          /* NULL unless an app moves connections away */
};

/* Set up worker `w`'s stack (memzone SL_FLOW_ZONE_FMT, table, pools). */
int tcp_stack_init(struct tcp_stack *s, struct worker *w, const struct tcp_params *p);
/* Register the stack's handlers into worker w's IP input (worker.h). */
void tcp_register(struct worker *w);

/* The app that gets the connections rules with `action` hand to the stack
 * (its on_established accepts them); without one they are refused (RST). */
void tcp_listen(struct tcp_stack *s, unsigned int action, const struct tcp_app_ops *app);
/* Segments to addr_be:port (an appliance address, network order; port in
 * host order) without a connection are taken as if `rule` had matched them
 * (its action's listener answers).  -ENOSPC when the table is full. */
int tcp_listen_local(struct tcp_stack *s, uint32_t addr_be, uint16_t port,
		     const struct sl_rule *rule);

/* A first SYN's way in for callers that decide themselves what a new
 * connection gets (S4's held SYNs): to its connection if it has one
 * (consumed, 1), else 0 -- also when it may start a new incarnation of a
 * pair in TIME-WAIT (RFC 6191), whose old connection is then freed.  One
 * table lookup when there is none.  The caller checked the TCP header is
 * all there. */
int tcp_input_syn_try(struct tcp_stack *s, struct rte_mbuf *m, uint16_t in_port);
/* Which of n <= 64 received segments (IPv4 TCP, unfragmented, ports in the
 * first segment: the caller checked) have no connection: bit i set = none.
 * One bulk lookup: the table's buckets are fetched for all n together, where
 * one at a time each miss waits for memory (a SYN flood from many sources
 * touches a new bucket per SYN). */
uint64_t tcp_conn_absent_bulk(struct tcp_stack *s, struct rte_mbuf *const m[], unsigned int n);

/* A held SYN released (S4): accept it as `rule` would, announcing an MSS
 * of at most `mss`, and never with a SYN cookie (the caller binds the new
 * connection at once).  Consumes m; the connection in SYN-RECEIVED, or NULL
 * (counted) when none could be made. */
struct tcp_conn *tcp_accept_syn(struct tcp_stack *s, struct rte_mbuf *m, uint16_t in_port,
				const struct sl_rule *rule, uint16_t mss);

/* Abort `c` once the current callback chain has returned (a callback must
 * not free the connection it runs for). */
void tcp_abort_deferred(struct tcp_stack *s, struct tcp_conn *c);
/* Once per loop: the clock, and every timer due. */
void tcp_stack_tick(struct tcp_stack *s, uint64_t tsc);

/* A TCP segment for the stack (IPv4 header at l3): to one of the
 * appliance's addresses (local), or matching a proxy rule (rule_id != 0,
 * flags SL_RF_*).  Consumes m. */
void tcp_input(struct tcp_stack *s, struct rte_mbuf *m, uint16_t in_port,
	       const struct sl_rule *rule);
/* Is there a connection for this segment (the transparent proxy's server
 * leg, whose packets look forwarded)?  Consumes m when it returns 1. */
int tcp_input_try(struct tcp_stack *s, struct rte_mbuf *m, uint16_t in_port);

/* --- the application API ------------------------------------------------ */

/* Open a connection from laddr:lport (lport 0: pick one) to raddr:rport,
 * addresses in network order. */
struct tcp_conn *tcp_connect(struct tcp_stack *s, uint32_t laddr_be, uint16_t lport,
			     uint32_t raddr_be, uint16_t rport, const struct tcp_app_ops *app,
			     int *err);
/* Queue payload for sending; the stack owns it from here.  Segments linked
 * through m->next (a chain's nb_segs/pkt_len are not read: a list of
 * single segments will do).
 * Beyond sq_max it is still taken (a peer filled what we advertised). */
void tcp_send(struct tcp_stack *s, struct tcp_conn *c, struct rte_mbuf *m);
/* Send FIN once everything queued is sent (half-close). */
void tcp_shutdown(struct tcp_stack *s, struct tcp_conn *c);
/* Send RST, free the connection; on_close is not called. */
void tcp_abort(struct tcp_stack *s, struct tcp_conn *c);
/* The app can take more now: advertise it if it matters (window update). */
void tcp_rcv_space_changed(struct tcp_stack *s, struct tcp_conn *c);
/* Send what may be sent. */
void tcp_output(struct tcp_stack *s, struct tcp_conn *c);

/*
 * Moving an established, quiet connection to another worker (S3: both legs
 * of a relay must share a worker, and two ends that dial in land where
 * their hashes say).  Quiet: nothing unacknowledged, queued or out of
 * order, no FIN either way.  Export fills x and frees the connection here
 * without a word to the peer or on_close; import rebuilds it on the other
 * worker (same sequence space, options, RTT and congestion state; TSval
 * continues from the last one sent).  Export: 0, or -EBUSY when not quiet.
 * Import: the connection, or NULL (table full, tuple in use).
 */
struct tcp_export {
	uint32_t laddr_be, raddr_be;
	uint16_t lport, rport;
	uint8_t snd_wscale, rcv_wscale;
	uint16_t smss, mss_adv;
	uint16_t app_id;
	uint32_t flags;            /* TCP_CF_TS, _SACK, _WS, _TRANSP only */
	uint32_t iss, snd_una, snd_wnd, snd_wl1, snd_wl2, max_snd_wnd;
	uint32_t irs, rcv_nxt, rcv_adv, ts_recent;
	uint32_t tsval;            /* the last TSval we sent (clock + ts_off then) */
	struct tcp_rtt rtt;
	struct tcp_cc cc;
	struct sl_flow_ent v;
};
int tcp_conn_export(struct tcp_stack *s, struct tcp_conn *c, struct tcp_export *x);
struct tcp_conn *tcp_conn_import(struct tcp_stack *s, const struct tcp_export *x,
				 const struct tcp_app_ops *app);

static inline uint32_t tcp_sq_space(const struct tcp_conn *c)
{
	return c->sq_bytes >= c->sq_max ? 0 : c->sq_max - c->sq_bytes;
}

/* --- inside the stack (tcp_stack.c, tcp_input.c, tcp_output.c) --------- */

struct tcp_conn *tcp_conn_alloc(struct tcp_stack *s, uint32_t laddr_be, uint16_t lport,
				uint32_t raddr_be, uint16_t rport);
void tcp_conn_free(struct tcp_stack *s, struct tcp_conn *c);
struct tcp_conn *tcp_conn_lookup(struct tcp_stack *s, uint32_t laddr_be, uint16_t lport,
				 uint32_t raddr_be, uint16_t rport);
void tcp_set_state(struct tcp_stack *s, struct tcp_conn *c, enum tcp_state st);
/* The app is told once; then the connection may live on (TIME_WAIT). */
void tcp_notify_close(struct tcp_stack *s, struct tcp_conn *c, int err);
uint32_t tcp_iss(struct tcp_stack *s, uint32_t laddr, uint16_t lport, uint32_t raddr,
		 uint16_t rport);
uint32_t tcp_ts_off(struct tcp_stack *s, uint32_t laddr, uint16_t lport, uint32_t raddr,
		    uint16_t rport);
void tcp_timer_arm_ms(struct tcp_stack *s, struct tcp_timer *t, unsigned int kind, uint32_t ms);
/* Free everything the connection holds in queues. */
void tcp_conn_purge(struct tcp_stack *s, struct tcp_conn *c);
/* Drop acknowledged bytes from the send queue. */
void tcp_sq_drop(struct tcp_stack *s, struct tcp_conn *c, uint32_t n);

/* tcp_output.c */
void tcp_send_syn(struct tcp_stack *s, struct tcp_conn *c);      /* SYN or SYN-ACK by state */
void tcp_send_ack(struct tcp_stack *s, struct tcp_conn *c);
void tcp_send_rst(struct tcp_stack *s, struct tcp_conn *c);
void tcp_send_probe(struct tcp_stack *s, struct tcp_conn *c);    /* zero-window / keepalive */
/* RST (or SYN-ACK cookie) for a segment with no connection. */
void tcp_reply_rst(struct tcp_stack *s, uint32_t laddr_be, uint32_t raddr_be, uint16_t lport,
		   uint16_t rport, uint32_t seq, uint32_t ack, int with_ack);
void tcp_reply_synack_cookie(struct tcp_stack *s, uint32_t laddr_be, uint32_t raddr_be,
			     uint16_t lport, uint16_t rport, uint32_t iss, uint32_t irs,
			     const struct tcp_opts *syn, uint16_t mss);
/* Retransmit from snd_una (RTO) or one chosen segment. */
int tcp_send_data(struct tcp_stack *s, struct tcp_conn *c, uint32_t seq, uint32_t len, int rtx);
uint32_t tcp_rcv_wnd(struct tcp_stack *s, struct tcp_conn *c);
/* Arm t_rtx for data in flight: the RTO, or with `probe` (and no probe sent
 * since the last progress) the short probe timer: RFC 8985 7 tail loss
 * probe outside recovery, a lost-retransmission probe inside it. */
void tcp_rtx_arm(struct tcp_stack *s, struct tcp_conn *c, int probe);
/* RFC 8985 7.3: one new segment beyond cwnd, else the last one again. */
void tcp_send_tlp(struct tcp_stack *s, struct tcp_conn *c);
/* Timer expiry (tcp_stack.c calls it from the wheel). */
void tcp_timer_fire(struct tcp_stack *s, struct tcp_conn *c, struct tcp_timer *t);

static inline uint32_t tcp_conn_idx(const struct tcp_stack *s, const struct tcp_conn *c)
{
	return (uint32_t)(((const uint8_t *)c - s->zone->slots) / s->stride);
}

static inline struct tcp_conn *tcp_conn_at(const struct tcp_stack *s, uint32_t i)
{
	return (struct tcp_conn *)(s->zone->slots + (size_t)i * s->stride);
}

/* Bytes of data in flight or queued from snd_una, SYN/FIN excluded. */
static inline uint32_t tcp_flight(const struct tcp_conn *c)
{
	return c->snd_max - c->snd_una;
}

#endif
