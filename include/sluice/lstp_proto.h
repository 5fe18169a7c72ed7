/*
 * LSTP, the Lightweight Secure Tunnelling Protocol (S3; seed 002, Figure 6):
 * what two end proxies (sluice-lstp) and the middle proxies between them
 * (the appliance, or sluice-lstp in role "middle") say to each other.  The
 * reference is docs/lstp.md; this header is its wire format and the one
 * codec every side uses (common/lstp_proto.c: pure code, no sockets, no
 * DPDK, no allocation).
 *
 * A tunnel is one TCP connection from each end proxy to a middle.
 *  1. Clear phase (end <-> middle).  The end sends COMMON_UNIQUE_INFO then
 *     TOPOLOGY_EXCHANGE.  The middle stores them until a second connection
 *     presents the same `common`; it then sends each end the other end's
 *     COMMON_UNIQUE_INFO and TOPOLOGY_EXCHANGE with its own entry appended
 *     (a cascaded middle appends its entry and forwards the pair onward
 *     instead of waiting).  From then on the middle relays bytes unchanged;
 *     before pairing it may send ERROR (refused, expired) and close.
 *  2. Secured phase (end <-> end).  The master end (lstp_is_master) starts a
 *     TLS 1.3 handshake through the middle (ALPN LSTP_ALPN, mutual X.509).
 *     Inside TLS both ends send COMMON_UNIQUE_INFO and TOPOLOGY_EXCHANGE
 *     again (they must equal what came in the clear, else ERROR + close),
 *     then PROPERTY_EXCHANGE, then channels: CONNECTION_REQUEST/ACK/NACK,
 *     SERVICE_BEGIN_REQUEST/ACK/NACK, SERVICE_DATA, SERVICE_DATA_PAUSE/
 *     RESUME, SERVICE_FREE_REQUEST; SHUTDOWN ends the tunnel gracefully,
 *     ERROR ends it at once.
 *
 * Framing, both phases: an 8-byte header, then the body.
 *   u8 version (LSTP_VERSION), u8 type, u16 body length, u32 channel,
 * every integer big-endian.  `channel` is 0 for tunnel-wide messages and
 * non-zero for the channel ones (CONNECTION_* .. SERVICE_FREE_REQUEST); a
 * wrong version, an unknown type, a body longer than LSTP_MAX_BODY or not
 * fitting the type, or a channel of the wrong kind is malformed: the
 * receiver sends ERROR naming it and closes that tunnel only.
 */
#ifndef SLUICE_LSTP_PROTO_H
#define SLUICE_LSTP_PROTO_H

#include <stddef.h>
#include <stdint.h>

#define LSTP_ALPN "sluice-lstp/1"
#define LSTP_VERSION 1
#define LSTP_HDR_LEN 8
#define LSTP_MAX_BODY 16384   /* SERVICE_DATA carries at most this much */
#define LSTP_MAX_INFO 64      /* COMMON_UNIQUE_INFO: common and unique, each */
#define LSTP_MAX_NAME 63      /* a topology entry's name */
#define LSTP_MAX_HOPS 16      /* topology entries in one TOPOLOGY_EXCHANGE */
#define LSTP_MAX_PROPS 16     /* PROPERTY_EXCHANGE pairs */
#define LSTP_MAX_KEY 31
#define LSTP_MAX_VALUE 255
#define LSTP_MAX_HOST 255     /* CONNECTION_REQUEST domain / service name */
#define LSTP_MAX_TEXT 200     /* ERROR text */

/* X-macro: name, value, phase (C = clear phase only, S = secured phase
 * only, B = both), channel (0: tunnel-wide, 1: carries a channel id). */
#define LSTP_MSG_TYPES(X)                                                  \
	X(COMMON_UNIQUE_INFO, 1, B, 0)                                     \
	X(TOPOLOGY_EXCHANGE, 2, B, 0)                                      \
	X(PROPERTY_EXCHANGE, 3, S, 0)                                      \
	X(CONNECTION_REQUEST, 4, S, 1)                                     \
	X(CONNECTION_ACK, 5, S, 1)                                         \
	X(CONNECTION_NACK, 6, S, 1)                                        \
	X(SERVICE_BEGIN_REQUEST, 7, S, 1)                                  \
	X(SERVICE_BEGIN_ACK, 8, S, 1)                                      \
	X(SERVICE_BEGIN_NACK, 9, S, 1)                                     \
	X(SERVICE_DATA, 10, S, 1)                                          \
	X(SERVICE_DATA_PAUSE, 11, S, 1)                                    \
	X(SERVICE_DATA_RESUME, 12, S, 1)                                   \
	X(SERVICE_FREE_REQUEST, 13, S, 1)                                  \
	X(SHUTDOWN, 14, S, 0)                                              \
	X(ERROR, 15, B, 0)

enum lstp_type {
#define LSTP_ENUM(name, val, phase, chan) LSTP_##name = val,
	LSTP_MSG_TYPES(LSTP_ENUM)
#undef LSTP_ENUM
	LSTP_TYPE_MAX
};

enum lstp_phase { LSTP_PHASE_CLEAR = 1, LSTP_PHASE_SECURED = 2 };

/* Topology entry roles */
enum lstp_role { LSTP_ROLE_CLIENT = 1, LSTP_ROLE_SERVER = 2, LSTP_ROLE_MIDDLE = 3 };

/* CONNECTION_NACK / SERVICE_BEGIN_NACK reasons: the RFC 1928 6 reply codes,
 * so a SOCKS5 client gets the far end's answer unchanged. */
enum lstp_nack {
	LSTP_NACK_FAILURE = 1,      /* general failure */
	LSTP_NACK_NOT_ALLOWED = 2,  /* the far end's allow-list */
	LSTP_NACK_NET_UNREACH = 3,
	LSTP_NACK_HOST_UNREACH = 4,
	LSTP_NACK_REFUSED = 5,
	LSTP_NACK_TTL_EXPIRED = 6,  /* connect timed out */
	LSTP_NACK_BAD_ADDRESS = 8,  /* address type not supported / name not resolved */
	LSTP_NACK_BUSY = 9,         /* beyond the far end's channel bound (not RFC 1928) */
};

/* ERROR codes */
enum lstp_err {
	LSTP_ERR_MALFORMED = 1,     /* a frame that does not parse */
	LSTP_ERR_OVERSIZED = 2,     /* body longer than LSTP_MAX_BODY */
	LSTP_ERR_UNKNOWN_TYPE = 3,
	LSTP_ERR_UNEXPECTED = 4,    /* a valid message in the wrong phase or state */
	LSTP_ERR_VERSION = 5,
	LSTP_ERR_MISMATCH = 6,      /* secured re-exchange differs from the clear one */
	LSTP_ERR_REFUSED = 7,       /* the middle refused: limit, or a third end */
	LSTP_ERR_EXPIRED = 8,       /* the middle's wait_ms passed unpaired */
	LSTP_ERR_AUTH = 9,          /* the peer's certificate was not accepted */
	LSTP_ERR_CHANNEL = 10,      /* a message for a channel in the wrong state */
	LSTP_ERR_INTERNAL = 11,
};

struct lstp_info {            /* COMMON_UNIQUE_INFO body: u8 len, common, u8 len, unique */
	uint8_t common_len;     /* 1..LSTP_MAX_INFO: the pairing key */
	uint8_t unique_len;     /* 0..LSTP_MAX_INFO: this end's own identity */
	uint8_t common[LSTP_MAX_INFO];
	uint8_t unique[LSTP_MAX_INFO];
};

struct lstp_hop {             /* entry: u8 role, u8 name len, name, u32 addr, u16 port, 8 nonce */
	uint8_t role;           /* enum lstp_role */
	uint8_t name_len;       /* 1..LSTP_MAX_NAME */
	char name[LSTP_MAX_NAME + 1]; /* NUL-terminated; printable ASCII only */
	uint32_t addr;          /* the hop's address as it knows it (host order here) */
	uint16_t port;          /* its listening port, 0 for an end */
	uint8_t nonce[8];       /* random per connection: breaks master ties */
};

struct lstp_topology {        /* TOPOLOGY_EXCHANGE body: u8 count, entries */
	uint8_t n;              /* 1..LSTP_MAX_HOPS; [0] is the originating end */
	struct lstp_hop hop[LSTP_MAX_HOPS];
};

struct lstp_prop {            /* pair: u8 klen, key, u8 vlen, value */
	uint8_t klen, vlen;
	char key[LSTP_MAX_KEY + 1];     /* NUL-terminated, printable, no '=' */
	char value[LSTP_MAX_VALUE + 1]; /* NUL-terminated */
};

struct lstp_props {           /* PROPERTY_EXCHANGE body: u8 count, pairs */
	uint8_t n;              /* 0..LSTP_MAX_PROPS */
	struct lstp_prop p[LSTP_MAX_PROPS];
};

/* CONNECTION_REQUEST.kind */
enum lstp_dest { LSTP_DEST_SERVICE = 0, LSTP_DEST_IPV4 = 1, LSTP_DEST_DOMAIN = 3 };

struct lstp_conn_req {        /* body: u8 kind, then IPV4: u32 addr | DOMAIN/SERVICE: u8 len, name; then u16 port */
	uint8_t kind;           /* enum lstp_dest */
	uint8_t name_len;       /* DOMAIN, SERVICE: 1..LSTP_MAX_HOST */
	char name[LSTP_MAX_HOST + 1]; /* NUL-terminated */
	uint32_t addr;          /* IPV4, host order here */
	uint16_t port;          /* 0 allowed only for SERVICE */
};

struct lstp_conn_ack {        /* body: u32 addr, u16 port: the server connection's local end */
	uint32_t addr;          /* (the SOCKS5 reply's BND fields carry them) */
	uint16_t port;
};

struct lstp_nack_msg {        /* CONNECTION_NACK, SERVICE_BEGIN_NACK body: u8 reason */
	uint8_t reason;         /* enum lstp_nack */
};

/* SERVICE_FREE_REQUEST.flags: each side frees with FIN when it has no more
 * data (a half-close: the other direction keeps flowing) or RESET when the
 * channel ends at once; the channel id is reusable once both directions
 * freed (FIN + FIN) or either reset. */
#define LSTP_FREE_FIN 0x01
#define LSTP_FREE_RESET 0x02

struct lstp_free {            /* body: u8 flags (exactly one of FIN, RESET) */
	uint8_t flags;
};

struct lstp_error {           /* body: u16 code, u8 len, text */
	uint16_t code;          /* enum lstp_err */
	uint8_t text_len;
	char text[LSTP_MAX_TEXT + 1]; /* NUL-terminated */
};

/* One parsed message.  SERVICE_DATA points into the parsed buffer. */
struct lstp_msg {
	uint8_t type;
	uint32_t channel;
	union {
		struct lstp_info info;
		struct lstp_topology topo;
		struct lstp_props props;
		struct lstp_conn_req conn_req;
		struct lstp_conn_ack conn_ack;
		struct lstp_nack_msg nack;
		struct lstp_free fr;
		struct lstp_error error;
		struct {
			const uint8_t *data;
			uint16_t len;   /* 1..LSTP_MAX_BODY */
		} data;
	} u;
	/* PROPERTY_EXCHANGE, SERVICE_BEGIN_*, PAUSE, RESUME, SHUTDOWN have
	 * an empty body except PROPERTY_EXCHANGE (u.props) */
};

/* Parse one message from buf[0..len): 0 with *used set, -EAGAIN when more
 * bytes are needed (nothing consumed), or -EBADMSG with *why naming what is
 * wrong and *err the ERROR code to answer with. */
int lstp_parse(const uint8_t *buf, size_t len, struct lstp_msg *m, size_t *used,
	       const char **why, uint16_t *err);

/* Only the header: 0 with the type, channel and body length, -EAGAIN, or
 * -EBADMSG (version, unknown type, oversized).  A middle that relays needs
 * no more than this. */
int lstp_peek(const uint8_t *buf, size_t len, uint8_t *type, uint32_t *channel,
	      uint16_t *body_len, const char **why, uint16_t *err);

/* Encode into out[0..cap): the bytes written, or -ENOSPC / -EINVAL (a
 * field out of range). */
int lstp_encode(const struct lstp_msg *m, uint8_t *out, size_t cap);

/* SERVICE_DATA without copying the payload: the 8-byte header for len
 * bytes on channel. */
void lstp_data_hdr(uint8_t hdr[LSTP_HDR_LEN], uint32_t channel, uint16_t len);

/* May this type be sent in this phase? */
int lstp_phase_ok(uint8_t type, enum lstp_phase phase);

/* Is this end the master (it starts the TLS handshake)?  `mine` and
 * `theirs` are the two ends' TOPOLOGY_EXCHANGEs as each end sent them
 * (hop[0] is the end itself).  The client role is master over the server
 * role; between equal roles the smaller (nonce, name) wins.  1, 0, or -1
 * when the two are the same end (equal nonce and name). */
int lstp_is_master(const struct lstp_topology *mine, const struct lstp_topology *theirs);

/* Equal as messages (the secured re-exchange check). */
int lstp_info_eq(const struct lstp_info *a, const struct lstp_info *b);
int lstp_topo_eq(const struct lstp_topology *a, const struct lstp_topology *b);

const char *lstp_type_name(uint8_t type);
const char *lstp_err_name(uint16_t code);

#endif
