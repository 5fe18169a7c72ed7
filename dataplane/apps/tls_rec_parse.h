/*
 * What the worker's TLS record layer reads from the network, as pure
 * functions over bytes: the record header (RFC 8446 5.1-5.2, RFC 5246
 * 6.2), the TLS 1.3 inner content type behind its zero padding (RFC 8446
 * 5.4), what a control record asks for, and a KeyUpdate (RFC 8446 4.6.3).
 * apps/tls_relay.c applies them to mbuf chains; tests/fuzz/fuzz_tls_record.c
 * drives them (with real record protection in between) on arbitrary bytes.
 */
#ifndef SLUICE_TLS_REC_PARSE_H
#define SLUICE_TLS_REC_PARSE_H

#include <stdint.h>

#include "aead.h"

#define TLS_PLAIN_MAX 16384                  /* RFC 8446 5.1: 2^14 */
#define TLS13_CT_MAX (TLS_PLAIN_MAX + 256)   /* RFC 8446 5.2 */
#define TLS12_CT_MAX (TLS_PLAIN_MAX + 2048)  /* RFC 5246 6.2.3 */

#define TLS_CT_CCS 20
#define TLS_CT_ALERT 21
#define TLS_CT_HANDSHAKE 22
#define TLS_CT_APP 23
#define TLS_HS_NEW_SESSION_TICKET 4
#define TLS_HS_KEY_UPDATE 24

/* RFC 8446 6.2 alert descriptions the worker sends */
#define TLS_ALERT_CLOSE_NOTIFY 0
#define TLS_ALERT_UNEXPECTED_MESSAGE 10
#define TLS_ALERT_BAD_RECORD_MAC 20
#define TLS_ALERT_RECORD_OVERFLOW 22
#define TLS_ALERT_DECODE_ERROR 50
#define TLS_ALERT_ILLEGAL_PARAMETER 47
#define TLS_ALERT_INTERNAL_ERROR 80

/*
 * The header of the next protected record, the first 5 bytes received.
 * `version` is the connection's (0x0303 or 0x0304), `hdr_len` the bytes
 * before the ciphertext (5, or 13 with TLS 1.2 GCM's explicit nonce).
 * 0 and *total = the whole record's length, or -EBADMSG and *alert = the
 * alert to send before closing.
 */
int tls_rx_hdr(const uint8_t hdr[5], uint16_t version, unsigned int hdr_len, uint32_t *total,
	       uint8_t *alert);

/*
 * RFC 8446 5.4: the inner content type is the last nonzero byte of the
 * opened plaintext; zero bytes after it are padding.  Shortens the segments
 * to the content and sets *content to its length.  Returns the type, or 0
 * when the plaintext is all zeros (unexpected_message).
 */
uint8_t tls13_inner_type(struct aead_seg *seg, unsigned int nseg, uint32_t *content);

enum tls_ctl {
	TLS_CTL_CLOSE_NOTIFY,  /* the peer will send no more */
	TLS_CTL_PEER_ALERT,    /* any other alert: the connection ends */
	TLS_CTL_KEY_UPDATE,    /* TLS 1.3 KeyUpdate: tls13_key_update_parse() */
	TLS_CTL_TICKET,        /* a server's NewSessionTicket in reverse mode */
	TLS_CTL_MALFORMED,     /* decode_error */
	TLS_CTL_OTHER,         /* not the worker's: to sluice-cp, unexpected_message */
};

/*
 * A record that is not application data: `inner` its content type, `msg`
 * its first min(content, 16) bytes, `content` its length; `originate` when
 * the peer is the server (reverse mode).
 */
enum tls_ctl tls_ctl_classify(uint8_t inner, const uint8_t *msg, uint32_t content, uint16_t version,
			      int originate);

/*
 * A KeyUpdate handshake message, alone in its record.  0: update_not_requested,
 * 1: update_requested, -EBADMSG: malformed (decode_error), -EINVAL: another
 * request_update value (illegal_parameter).
 */
int tls13_key_update_parse(const uint8_t *msg, uint32_t len);

#endif
