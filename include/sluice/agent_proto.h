/*
 * The agent protocol (S4): what sluice-agent and the appliance say to each
 * other inside their TLS sessions.  The reference is docs/agent-protocol.md;
 * this header is its wire format and the one codec both sides use
 * (common/agent_proto.c: pure code, no sockets, no DPDK).
 *
 * Sessions (each one TLS 1.2/1.3 session over TCP, agent -> appliance):
 *  - control: ALPN AP_ALPN_CONTROL.  Framed messages both ways (below).
 *  - STREAM:  ALPN AP_ALPN_STREAM.  No framing at all: after the handshake
 *    the session is idle in the appliance's pool until a CONNECT names it;
 *    from then on it carries the relayed TCP connection's bytes, a TLS
 *    close_notify is the server's (or the client's) FIN and a TCP RST of the
 *    session is the connection's reset.  A STREAM session is named by its
 *    stream id: an 8-byte TLS exporter output read big-endian (RFC 5705 /
 *    RFC 8446 7.5; exported length 8, label AP_STREAM_ID_LABEL, no
 *    context: in TLS 1.3 the length is an input, so a prefix of a longer
 *    export differs), which both ends compute without sending anything.
 *
 * Framing of the control session: a 4-byte header, then the body.
 *   u8 type, u8 flags (0), u16 body length (big-endian), body.
 * Every integer is big-endian.  A body longer than AP_MAX_BODY, a length
 * that does not fit the type, a non-zero flags byte or an unknown type is
 * malformed: the receiver sends ERROR naming it and closes the session.
 */
#ifndef SLUICE_AGENT_PROTO_H
#define SLUICE_AGENT_PROTO_H

#include <stddef.h>
#include <stdint.h>

#define AP_ALPN_CONTROL "sluice-control/1"
#define AP_ALPN_STREAM "sluice-stream/1"
#define AP_ALPN_DGRAM "sluice-dgram/1"
#define AP_STREAM_ID_LABEL "EXPORTER-sluice-stream-id"

#define AP_VERSION 1          /* the protocol version this code speaks */
#define AP_HDR_LEN 4
#define AP_MAX_BODY 4096      /* a larger frame is malformed ("oversized") */
#define AP_MAX_PING_DATA 2048 /* echo payload bytes carried in PING/PING_RESULT */
#define AP_MAX_TEXT 200       /* ERROR text, HELLO software string */

/* Capabilities (HELLO, HELLO_ACK: the ACK carries the intersection). */
#define AP_CAP_STREAM 0x0001u /* TCP relays over STREAM sessions */
#define AP_CAP_PING 0x0002u   /* ICMP echo on behalf of clients */
#define AP_CAP_RETIRE 0x0004u /* the agent replaces an idle STREAM session on RETIRE */
#define AP_CAP_DGRAM 0x0008u  /* UDP relays over DGRAM sessions (issue 10) */

/* X-macro: name, value, direction (A = agent -> appliance, S = appliance
 * -> agent, B = both).  Body layouts are in the struct comments below. */
#define AP_MSG_TYPES(X)                                                  \
	X(HELLO, 1, A)          /* versions, capabilities, software */   \
	X(HELLO_ACK, 2, S)      /* chosen version, caps, keepalive */    \
	X(KEEPALIVE, 3, B)      /* a timestamp to echo */                \
	X(KEEPALIVE_ACK, 4, B)  /* the echoed timestamp */               \
	X(CONNECT, 5, S)        /* open a TCP connection to a server */  \
	X(CONNECT_RESULT, 6, A) /* OK / REFUSE / UNREACHABLE */          \
	X(PING, 7, S)           /* send an ICMP echo */                  \
	X(PING_RESULT, 8, A)    /* the reply or the error */             \
	X(ERROR, 9, B)          /* the sender closes after it */            \
	X(RETIRE, 10, S)        /* close this idle STREAM session, dial anew */ \
	X(DA_OPEN, 11, S)       /* relay a client's UDP flow over a DGRAM session */ \
	X(DA_RESULT, 12, A)     /* OK (with the agent's relay port) / REFUSE */ \
	X(DA_END, 13, B)        /* a datagram association ended */           \
	X(DGRAM_OPEN, 14, S)    /* open a DGRAM session (a new SA) */         \
	X(DGRAM_UP, 15, A)      /* the DGRAM session opened, by its id */     \
	X(DGRAM_CLOSE, 16, S)   /* close this DGRAM session (SA deleted) */

enum ap_type {
#define AP_ENUM(name, val, dir) AP_##name = val,
	AP_MSG_TYPES(AP_ENUM)
#undef AP_ENUM
	AP_TYPE_MAX
};

/* Who may send a message. */
enum ap_dir { AP_FROM_AGENT = 1, AP_FROM_APPLIANCE = 2 };

/* CONNECT_RESULT.result and PING_RESULT.result */
enum ap_result {
	AP_RES_OK = 0,          /* connected / echo reply received */
	AP_RES_REFUSE = 1,      /* the server answered RST (ECONNREFUSED) */
	AP_RES_UNREACHABLE = 2, /* code: an ICMP destination-unreachable code */
	AP_RES_TIMEOUT = 3,     /* PING only: nothing came back in time */
	AP_RES_BUSY = 4,        /* the agent's bound was reached (connects/pings) */
	AP_RES_NO_STREAM = 5,   /* CONNECT named a stream the agent does not have idle */
};

/* ICMP destination unreachable codes (RFC 792, RFC 1812 5.2.7.1) carried
 * in AP_RES_UNREACHABLE. */
#define AP_UNREACH_NET 0
#define AP_UNREACH_HOST 1
#define AP_UNREACH_PROTO 2
#define AP_UNREACH_PORT 3
#define AP_UNREACH_ADMIN 13

/* ERROR codes */
enum ap_err {
	AP_ERR_MALFORMED = 1,   /* a frame that does not parse */
	AP_ERR_OVERSIZED = 2,   /* body longer than AP_MAX_BODY */
	AP_ERR_UNKNOWN_TYPE = 3,
	AP_ERR_UNEXPECTED = 4,  /* a valid message in the wrong direction or state */
	AP_ERR_VERSION = 5,     /* no common version */
	AP_ERR_UNKNOWN_ID = 6,  /* a result for a request never sent */
	AP_ERR_REFUSED = 7,     /* the appliance does not accept this agent */
	AP_ERR_INTERNAL = 8,
};

struct ap_hello {             /* body: 2+2+4+1+text */
	uint16_t ver_min, ver_max;
	uint32_t caps;
	uint8_t sw_len;
	char sw[AP_MAX_TEXT + 1]; /* software name and version, NUL-terminated */
};

struct ap_hello_ack {         /* body: 2+4+4+4 */
	uint16_t version;
	uint32_t caps;
	uint32_t keepalive_ms;  /* how often each side sends KEEPALIVE */
	uint32_t pool;          /* idle STREAM sessions wanted in all: per worker x workers (hint) */
};

struct ap_keepalive {         /* body: 8 */
	uint64_t ts;            /* sender's clock, opaque to the receiver */
};

struct ap_connect {           /* body: 4+8+1+1+2+4+4+2+2 = 28 */
	uint32_t id;            /* request id, unique among the sender's open requests */
	uint64_t stream;        /* the idle STREAM session to relay over */
	uint8_t proto;          /* 6 (TCP) */
	uint8_t pad;
	uint16_t timeout_ms;    /* connect timeout the agent should use */
	uint32_t dst;           /* server address (host order in this struct) */
	uint32_t src;           /* the client's address (informational) */
	uint16_t dport, sport;
};

struct ap_connect_result {    /* body: 4+1+1+2 = 8 */
	uint32_t id;
	uint8_t result;         /* enum ap_result */
	uint8_t code;           /* AP_RES_UNREACHABLE: ICMP code */
	uint16_t mss;           /* AP_RES_OK: the server connection's MSS (TCP_MAXSEG) */
};

struct ap_ping {              /* body: 4+4+4+2+2+1+1+2+data = 20 + data */
	uint32_t id;
	uint32_t dst;           /* echo target */
	uint32_t src;           /* the client (informational) */
	uint16_t ident, seq;    /* the client's ICMP identifier and sequence */
	uint8_t ttl;            /* 0 = the agent's default */
	uint8_t pad;
	uint16_t timeout_ms;
	uint16_t data_len;      /* not sent: the rest of the body */
	const uint8_t *data;    /* points into the parsed buffer */
};

struct ap_ping_result {       /* body: 4+1+1+1+1+4+data = 12 + data */
	uint32_t id;
	uint8_t result;         /* AP_RES_OK, _UNREACHABLE (code), _TIMEOUT, _BUSY */
	uint8_t code;
	uint8_t ttl;            /* the reply's TTL as received */
	uint8_t pad;
	uint32_t from;          /* who answered (the target, or a router's error) */
	uint16_t data_len;      /* not sent: the rest of the body (0 unless OK) */
	const uint8_t *data;    /* the echo reply's payload */
};

struct ap_retire {            /* body: 8 */
	uint64_t stream;        /* an idle STREAM session of the agent */
};

struct ap_da_open {           /* body: 4+4+8+4+4+2+2+4+4 = 36 */
	uint32_t id;            /* request id */
	uint32_t da;            /* the appliance's id of the association, unique among
				 * this agent's open ones; DATA frames carry it */
	uint64_t session;       /* the DGRAM session it is bound to */
	uint32_t dst;           /* server address (host order in this struct) */
	uint32_t src;           /* the client's address (informational) */
	uint16_t dport;         /* server port, not 0 */
	uint16_t sport;         /* the client's port (informational) */
	uint32_t idle_ms;       /* the agent ends the DA after this long idle, > 0 */
	uint32_t idle2_ms;      /* ... or this long once it saw two replies, >= idle_ms */
};

struct ap_da_result {         /* body: 4+1+1+2 = 8 */
	uint32_t id;
	uint8_t result;         /* AP_RES_OK, _REFUSE, _BUSY, _NO_STREAM (no such DGRAM session) */
	uint8_t pad;
	uint16_t relay_port;    /* OK: the agent's local UDP port for it (not 0); else 0 */
};

/* DA_END.reason */
enum ap_da_end {
	AP_DA_END_IDLE = 1,     /* the agent's idle timer (30 s, 15 min once answered) */
	AP_DA_END_ERROR = 2,    /* the agent's socket failed */
	AP_DA_END_APPLIANCE = 3, /* the appliance ended it (sent by the appliance) */
};

struct ap_da_end_msg {        /* body: 4+1+1+2 = 8 */
	uint32_t da;
	uint8_t reason;         /* enum ap_da_end */
	uint8_t pad;
	uint16_t replies;       /* datagrams the server sent for it, saturating (logs) */
};

struct ap_dgram_open {        /* body: 4 */
	uint32_t id;            /* request id; DGRAM_UP answers it */
};

struct ap_dgram_up {          /* body: 4+1+1+2+8 = 16 */
	uint32_t id;            /* the DGRAM_OPEN's */
	uint8_t result;         /* AP_RES_OK, or _BUSY (at its bound of sessions; session 0) */
	uint8_t pad;
	uint16_t pad2;
	uint64_t session;       /* OK: the new session's id (not 0) */
};

struct ap_dgram_close {       /* body: 8 */
	uint64_t session;
};

struct ap_error {             /* body: 2+1+text */
	uint16_t code;          /* enum ap_err */
	uint8_t text_len;
	char text[AP_MAX_TEXT + 1]; /* NUL-terminated, names what was wrong */
};

struct ap_msg {
	uint8_t type;           /* enum ap_type */
	union {
		struct ap_hello hello;
		struct ap_hello_ack hello_ack;
		struct ap_keepalive ka;
		struct ap_connect connect;
		struct ap_connect_result cres;
		struct ap_ping ping;
		struct ap_ping_result pres;
		struct ap_error error;
		struct ap_retire retire;
		struct ap_da_open da_open;
		struct ap_da_result da_result;
		struct ap_da_end_msg da_end;
		struct ap_dgram_open dgram_open;
		struct ap_dgram_up dgram_up;
		struct ap_dgram_close dgram_close;
	} u;
};

/*
 * Parse one frame from the front of buf[0..len).
 *   0        *msg filled, *used = bytes of the frame
 *   -EAGAIN  not a whole frame yet (nothing consumed); an oversized length
 *            is reported as soon as the header is there, not after
 *   -E2BIG   the header announces a body above AP_MAX_BODY
 *   -EPROTO  unknown type or non-zero flags
 *   -EBADMSG the body does not fit the type (length, field values)
 * On an error, *why (if not NULL) is a static string naming the problem,
 * fit for an ERROR's text.  Pointers in *msg point into buf.
 */
int ap_parse(const uint8_t *buf, size_t len, struct ap_msg *msg, size_t *used,
	     const char **why);

/* Is `type` one that `from` may send?  1 or 0. */
int ap_dir_ok(unsigned int type, enum ap_dir from);

/* The ERROR code for a parse error (-E2BIG etc.). */
enum ap_err ap_err_of(int parse_rc);

/*
 * Encode one message into out[0..cap): the number of bytes written, or
 * -ENOSPC when it does not fit, -EINVAL for fields out of range (text or
 * data too long, unknown type).
 */
int ap_encode(const struct ap_msg *msg, uint8_t *out, size_t cap);

/*
 * DGRAM sessions (ALPN AP_ALPN_DGRAM, named like STREAM sessions by the
 * exporter): frames with the control session's 4-byte header (u8 type, u8
 * flags 0, u16 body length) and their own types, bodies up to 65,535 bytes.
 * One session carries the datagrams of many associations (DA_OPEN), and is
 * the security association they share (issue 10, S2).
 */
#define AP_DGRAM_MAX_PAYLOAD 65507 /* the largest UDP payload over IPv4 */

enum ap_dtype {
	AP_D_DATA = 1,          /* B: a datagram of association `da` */
	AP_D_CREDIT = 2,        /* A: the appliance may send `credit` more DATA frames */
	AP_D_ICMP = 3,          /* A: the agent's socket got an ICMP error for `da` */
	AP_DTYPE_MAX
};

struct ap_dmsg {
	uint8_t type;           /* enum ap_dtype */
	uint32_t da;            /* DATA, ICMP */
	uint32_t credit;        /* CREDIT: > 0 */
	uint8_t icmp_type;      /* ICMP: 3, 11 or 12 (RFC 792) */
	uint8_t icmp_code;      /* ICMP: 0..15 for 3, 0..1 for 11, 0..2 for 12 */
	uint16_t mtu;           /* ICMP 3/4 (fragmentation needed): the next hop's MTU; else 0 */
	uint32_t from;          /* ICMP: who sent the error (host order) */
	uint16_t len;           /* DATA: payload bytes (the rest of the body) */
	const uint8_t *data;    /* DATA: points into the parsed buffer */
};

/* As ap_parse, for a DGRAM session's frames: 0, -EAGAIN, -EPROTO (unknown
 * type, flags), -EBADMSG (a body that does not fit its type). */
int ap_dparse(const uint8_t *buf, size_t len, struct ap_dmsg *m, size_t *used, const char **why);
/* As ap_encode: bytes written, -ENOSPC, -EINVAL. */
int ap_dencode(const struct ap_dmsg *m, uint8_t *out, size_t cap);
/* May `from` send DGRAM frame `type`?  1 or 0. */
int ap_ddir_ok(unsigned int type, enum ap_dir from);

/* "HELLO", "CONNECT", ...; "?" for unknown values. */
const char *ap_type_str(unsigned int type);
const char *ap_result_str(unsigned int result);
const char *ap_err_str(unsigned int code);

/* Version negotiation: the highest version in both ranges, or -1. */
int ap_version_pick(uint16_t a_min, uint16_t a_max, uint16_t b_min, uint16_t b_max);

#endif
