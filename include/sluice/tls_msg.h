/*
 * The TLS handshake split (DESIGN.md 5): a worker forwards the bytes a
 * client sends during the handshake to sluice-cp, which runs OpenSSL on
 * memory BIOs and sends back the bytes to write to the client; when the
 * handshake completes, sluice-cp sends the record state (keys, IVs,
 * sequence numbers both ways) and forgets it.
 *
 * Transport: per worker two rings of mbufs, SP/SC, created by the worker:
 * SL_TLS_UP_FMT (worker -> cp) and SL_TLS_DN_FMT (cp -> worker).  Every
 * mbuf (chain) starts with a struct sl_tls_msg; the payload follows it.
 * The cp allocates its mbufs from the worker's own pool; whoever dequeues
 * a message frees it.
 */
#ifndef SLUICE_TLS_MSG_H
#define SLUICE_TLS_MSG_H

#include <stdint.h>

#define SL_TLS_UP_FMT "sl_tls_up_%u"
#define SL_TLS_DN_FMT "sl_tls_dn_%u"
#define SL_TLS_RING_SIZE 4096
#define SL_TLS_MSG_VERSION 1

enum sl_tls_msg_type {
	/* worker -> cp */
	SL_TLS_UP_DATA = 1, /* bytes from the client (the first one opens the session) */
	SL_TLS_UP_CLOSE,    /* the connection is gone: free the session */
	SL_TLS_UP_RECORD,   /* after the handshake, a record the worker does not
			       handle (an alert other than close_notify, a
			       post-handshake message other than KeyUpdate):
			       its content type byte, then its plaintext; the
			       worker closes the connection */
	/* cp -> worker */
	SL_TLS_DN_DATA,     /* bytes to send to the client */
	SL_TLS_DN_KEYS,     /* handshake done: struct sl_tls_keys, then leftover client bytes */
	SL_TLS_DN_FAIL,     /* handshake failed: payload (an alert) to send, then close */
	SL_TLS_DN_RECORDS,  /* client bytes that reached sluice-cp after the handshake
			       completed (sent before the worker had the keys):
			       records, to be opened by the worker */
	/* S4, the agents (dataplane/agent/, controlplane/agent/) */
	SL_TLS_UP_OFFER,    /* a SYN held for an agent: struct sl_agent_offer; slot/gen
			       name the held entry, app the agents listener */
	SL_TLS_UP_PING,     /* an echo request for an agent: struct sl_agent_ping, then
			       the echo payload; slot/gen name the pending ping */
	SL_TLS_DN_CP,       /* handshake done, the session stays in sluice-cp (an agent's
			       control session): relay bytes both ways, no deadline */
	SL_TLS_DN_VERDICT,  /* the agent's answer for a held SYN: struct sl_agent_verdict;
			       slot/gen name the held entry */
	SL_TLS_DN_ABORT,    /* end this session's connection with RST (agent lost or kicked) */
	SL_TLS_DN_PONG,     /* the answer for a ping: struct sl_agent_pong, then the
			       reply payload; slot/gen name the pending ping */
	/* issue 10: UDP through agents (dataplane/agent/udp_da.c) */
	SL_TLS_UP_DA_OFFER, /* a new datagram association: struct sl_da_offer; slot/gen
			       name the worker's DA entry */
	SL_TLS_DN_DA_VERDICT, /* struct sl_da_verdict for the DA entry slot/gen */
	SL_TLS_DN_DA_END,   /* the DA ended (the agent's aging, its SA deleted): slot/gen */
	/* S3: the LSTP middle (dataplane/apps/lstp_mid.c, controlplane/lstp/) */
	SL_TLS_UP_LSTP_HELLO, /* an end's two setup messages as received
				 (COMMON_UNIQUE_INFO, TOPOLOGY_EXCHANGE): struct
				 sl_lstp_hello, then the bytes; slot/gen: its connection */
	SL_TLS_UP_LSTP_CLOSE, /* a middle connection is gone (waiting or paired):
				 struct sl_lstp_close */
	SL_TLS_DN_LSTP_PAIR,  /* pair slot/gen with another waiting connection of the
				 worker: struct sl_lstp_pair, then the bytes for each */
	SL_TLS_DN_LSTP_END,   /* send the payload (an ERROR, may be empty), then close
				 (flags SL_LSTP_F_RESET: reset at once, the pair too) */
	SL_TLS_UP_LSTP_MOVED, /* PAIR moved slot/gen to the waiting end's worker, which
				 joined them: struct sl_lstp_moved (worker: the new owner) */
	SL_TLS_DN_LSTP_ONWARD, /* cascading: connect slot/gen's end onward to the
				  neighbour middle: struct sl_lstp_onward, then the
				  bytes to send it (the end's setup, our hop appended) */
	SL_TLS_UP_LSTP_ONWARD, /* the neighbour answered and the two relay:
				  struct sl_lstp_moved naming the onward connection */
};

/* sl_tls_msg.flags */
#define SL_TLS_F_STREAM 0x1 /* DN_KEYS: an agent's STREAM session: no server leg, the
			       session waits idle until a verdict binds it */
#define SL_TLS_F_DGRAM 0x2  /* DN_KEYS: an agent's DGRAM session (an SA): it carries
			       the DATA/CREDIT/ICMP frames of the DAs bound to it */

struct sl_tls_msg {
	uint16_t version;   /* SL_TLS_MSG_VERSION */
	uint16_t type;      /* enum sl_tls_msg_type */
	uint16_t app;       /* application index */
	uint16_t worker;
	uint32_t slot;      /* the client leg's connection slot on that worker */
	uint32_t gen;       /* its generation (sl_flow_ent.gen) when the session began */
	uint32_t len;       /* payload bytes after this header */
	uint32_t flags;     /* SL_TLS_F_* */
} __attribute__((aligned(8)));

/* A held SYN offered to sluice-cp (host order). */
struct sl_agent_offer {
	uint16_t vnet, agent;   /* indexes into the config's vnets and agents */
	uint32_t src, dst;
	uint16_t sport, dport;
	uint8_t proto;          /* 6 */
	uint8_t pad[3];
};

/* sl_agent_verdict.result when no agent could be asked (not connected) */
#define SL_AGENT_NO_AGENT 0xff

/* sluice-cp's answer for a held SYN. */
struct sl_agent_verdict {
	uint8_t result;         /* enum ap_result (agent_proto.h), or SL_AGENT_NO_AGENT */
	uint8_t code;           /* AP_RES_UNREACHABLE: ICMP code */
	uint16_t mss;           /* OK: the server connection's MSS */
	uint32_t stream_slot;   /* OK: the STREAM session's connection on this worker */
	uint32_t stream_gen;
	uint32_t pad;
};

/* An echo request for an agent; the payload follows. */
struct sl_agent_ping {
	uint16_t vnet, agent;
	uint32_t src, dst;
	uint16_t ident, seq;
	uint8_t ttl;
	uint8_t pad[3];
};

/* The answer for a ping; the reply payload follows (AP_RES_OK). */
struct sl_agent_pong {
	uint8_t result;         /* enum ap_result */
	uint8_t code;
	uint8_t ttl;
	uint8_t pad;
	uint32_t from;          /* host order: who answered */
};

/* A new datagram association offered to sluice-cp (host order). */
struct sl_da_offer {
	uint16_t vnet, agent;
	uint32_t src, dst;
	uint16_t sport, dport;
};

/* sluice-cp's answer for a DA.  OK: bound to the DGRAM session at
 * sess_slot/sess_gen on this worker, the agent's relay port in relay_port;
 * REFUSE: discard its datagrams for da_discard_ms; UNREACHABLE: ICMP with
 * `code` from the vnet's gateway; anything else (no agent, busy): ICMP host
 * unreachable. */
struct sl_da_verdict {
	uint8_t result;         /* enum ap_result, or SL_AGENT_NO_AGENT */
	uint8_t code;
	uint16_t relay_port;
	uint32_t sess_slot, sess_gen;
	uint32_t pad;
};

/* S3: an end's setup, as the worker framed it (lstp_peek); the bytes of
 * both messages follow. */
struct sl_lstp_hello {
	uint32_t src;           /* the end's address and port (host order) */
	uint16_t sport;
	uint16_t len;           /* bytes of the two messages */
};

/* Why a middle connection ended (sl_lstp_close.why). */
enum sl_lstp_why {
	SL_LSTP_GONE = 1,       /* the end closed or reset it, or the pair ended */
};

struct sl_lstp_close {
	uint8_t why;            /* enum sl_lstp_why */
	uint8_t pad[3];
	int32_t err;            /* the TCP close's error (0: orderly) */
};

/* PAIR: the payload is a_len bytes for slot/gen (the newer end), then b_len
 * bytes for the waiting one; both then relay each other's bytes. */
struct sl_lstp_pair {
	uint32_t b_slot, b_gen;
	uint32_t a_len, b_len;
	uint32_t pair_id;       /* sluice-cp's id, for its bookkeeping */
	uint16_t b_worker;      /* the waiting end's worker: when it is not slot/gen's,
				   slot/gen moves there first (a relay's legs share
				   a worker) */
	uint16_t pad;
};

struct sl_lstp_onward {
	uint32_t pair_id;
	uint32_t addr;          /* the neighbour middle (host order) */
	uint16_t port;
	uint16_t pad;
	uint32_t len;           /* bytes that follow */
};

/* After a move: where the moved end lives now. */
struct sl_lstp_moved {
	uint32_t pair_id;
	uint32_t slot, gen;     /* its connection on the new worker */
	uint32_t pad;
};

#define SL_LSTP_F_RESET 0x1

/* The DA number on the wire (DA_OPEN, DATA frames) names the worker's
 * entry: worker, 8 bits of its generation, slot.  A DATA frame still in
 * flight for an entry freed and reused meanwhile fails the generation. */
#define SL_DA_ID(w, slot, gen) (((uint32_t)(w) << 24) | (((gen) & 0xffu) << 16) | (slot))
#define SL_DA_WORKER(id) ((id) >> 24)
#define SL_DA_GEN8(id) (((id) >> 16) & 0xffu)
#define SL_DA_SLOT(id) ((id) & 0xffffu)

/* One direction's record state.  Key material: wiped by both sides as soon
 * as it is installed. */
struct sl_tls_dir {
	uint8_t key[32];
	uint8_t iv[12];     /* 1.2 GCM: the 4-byte salt; otherwise the 12-byte IV */
	uint8_t key_len, iv_len;
	uint8_t secret_len; /* 1.3: the traffic secret, for KeyUpdate */
	uint8_t pad;
	uint8_t secret[48];
	uint64_t seq;       /* the next record's sequence number */
};

struct sl_tls_keys {
	uint16_t version;   /* 0x0303 or 0x0304 */
	uint8_t alg;        /* enum aead_alg (crypto/aead.h) */
	uint8_t hash_len;   /* 1.3: 32 or 48 */
	uint8_t resumed;
	uint8_t pad[3];
	struct sl_tls_dir rx; /* client -> appliance */
	struct sl_tls_dir tx; /* appliance -> client */
};

#endif
