/*
 * TLS ClientHello inspection for passthrough decisions (S5): the server name
 * (RFC 6066 3) and the offered versions (RFC 8446 4.2.1), read from the
 * first bytes a client sends, without terminating anything.  Pure; fuzzed.
 */
#ifndef SLUICE_TLS_HELLO_H
#define SLUICE_TLS_HELLO_H

#include <stddef.h>
#include <stdint.h>

#define TLS_SNI_MAX 255

struct tls_hello {
	char sni[TLS_SNI_MAX + 1]; /* "" when the client sent none */
	uint16_t legacy_version;   /* ClientHello.legacy_version */
	uint8_t offers_tls13;      /* supported_versions lists 0x0304 */
};

/* Parse the ClientHello at the start of a TCP stream.
 * 0: parsed; -EAGAIN: not all of it has arrived yet (the record or the
 * handshake message is longer than `len`); -EPROTO: not a TLS ClientHello
 * or malformed (the caller treats the flow as not TLS). */
int tls_hello_parse(const uint8_t *buf, size_t len, struct tls_hello *out);

#endif
