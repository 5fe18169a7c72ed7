/*
 * SOCKS5 (RFC 1928) with username/password authentication (RFC 1929):
 * the server side that sluice-lstp's client end offers to local
 * applications, and the client side it uses to reach the middle through a
 * SOCKS5 proxy.  Pure: byte buffers in, byte buffers out, no sockets, no
 * allocation (fuzzed by tests/fuzz/fuzz_socks5.c).
 *
 * Every parser takes the bytes received so far and returns 0 with *used
 * set, -EAGAIN when more are needed (nothing consumed), or -EBADMSG.
 */
#ifndef SLUICE_LSTP_SOCKS5_H
#define SLUICE_LSTP_SOCKS5_H

#include <stddef.h>
#include <stdint.h>

#define SOCKS5_VER 5
#define SOCKS5_AUTH_VER 1            /* RFC 1929 2 */
#define SOCKS5_M_NONE 0x00
#define SOCKS5_M_USERPASS 0x02
#define SOCKS5_M_NOACCEPT 0xff
#define SOCKS5_CMD_CONNECT 1
#define SOCKS5_ATYP_IPV4 1
#define SOCKS5_ATYP_DOMAIN 3
#define SOCKS5_ATYP_IPV6 4
/* RFC 1928 6 reply codes */
#define SOCKS5_REP_OK 0
#define SOCKS5_REP_FAILURE 1
#define SOCKS5_REP_NOT_ALLOWED 2
#define SOCKS5_REP_TTL_EXPIRED 6
#define SOCKS5_REP_CMD 7
#define SOCKS5_REP_ATYP 8
#define SOCKS5_MAX_REQ (4 + 1 + 255 + 2)
#define SOCKS5_REPLY_LEN 10           /* with an IPv4 BND.ADDR */

/* Methods offered in a greeting (RFC 1928 3). */
struct socks5_greeting {
	unsigned none : 1;           /* X'00' NO AUTHENTICATION REQUIRED */
	unsigned userpass : 1;       /* X'02' USERNAME/PASSWORD */
};
int socks5_greeting_parse(const uint8_t *b, size_t len, struct socks5_greeting *g, size_t *used);

/* RFC 1929 2: VER(1) ULEN UNAME PLEN PASSWD; user and pass are
 * NUL-terminated (an embedded NUL is refused). */
int socks5_auth_parse(const uint8_t *b, size_t len, char user[256], char pass[256], size_t *used);

struct socks5_req {
	uint8_t cmd;
	uint8_t atyp;                /* IPV4 or DOMAIN once accepted */
	uint32_t addr;               /* IPV4, host order */
	uint8_t name_len;            /* DOMAIN */
	char name[256];              /* NUL-terminated */
	uint16_t port;
	uint8_t rep;                 /* on -ENOTSUP: the reply code to refuse with */
};
/* 0, -EAGAIN, -EBADMSG, or -ENOTSUP (a well-formed request we refuse:
 * another command -> rep 07, IPv6 -> rep 08; *used is set). */
int socks5_req_parse(const uint8_t *b, size_t len, struct socks5_req *r, size_t *used);

/* The reply: VER REP RSV ATYP=IPv4 BND.ADDR BND.PORT; SOCKS5_REPLY_LEN bytes. */
size_t socks5_reply_encode(uint8_t out[SOCKS5_REPLY_LEN], uint8_t rep, uint32_t addr, uint16_t port);

/* ------------------------------------------------- the client side -- */

/* Greeting offering X'00', or X'02' alone when we have credentials. */
size_t socks5_client_greeting(uint8_t out[3], int userpass);
/* The server's method choice: 0 with *method. */
int socks5_client_method_parse(const uint8_t *b, size_t len, uint8_t *method, size_t *used);
/* RFC 1929 request; the bytes, or -EINVAL (length 0 or > 255). */
int socks5_client_auth(uint8_t *out, size_t cap, const char *user, const char *pass);
/* RFC 1929 status: 0 with *status (0 = success). */
int socks5_client_auth_parse(const uint8_t *b, size_t len, uint8_t *status, size_t *used);
/* CONNECT host:port (a dotted quad is sent as IPv4, else as a domain). */
int socks5_client_connect(uint8_t *out, size_t cap, const char *host, uint16_t port);
/* The reply (any ATYP): 0 with *rep. */
int socks5_client_reply_parse(const uint8_t *b, size_t len, uint8_t *rep, size_t *used);

const char *socks5_rep_str(uint8_t rep);

#endif
