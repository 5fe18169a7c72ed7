/* The worker's TLS record parsing, pure: see tls_rec_parse.h. */
#include <errno.h>

#include "apps/tls_rec_parse.h"

#define TLS_HDR 5
#define AEAD_TAG 16

int tls_rx_hdr(const uint8_t hdr[5], uint16_t version, unsigned int hdr_len, uint32_t *total,
	       uint8_t *alert)
{
	uint32_t len = (uint32_t)hdr[3] << 8 | hdr[4];
	int tls13 = version == 0x0304;

	if (len > (tls13 ? TLS13_CT_MAX : TLS12_CT_MAX)) {
		*alert = TLS_ALERT_RECORD_OVERFLOW;
		return -EBADMSG;
	}
	/* RFC 8446 5: an unknown record type; after the handshake TLS 1.3
	 * has protected records only (a late change_cipher_spec included) */
	if (hdr[0] < TLS_CT_CCS || hdr[0] > TLS_CT_APP || (tls13 && hdr[0] != TLS_CT_APP)) {
		*alert = TLS_ALERT_UNEXPECTED_MESSAGE;
		return -EBADMSG;
	}
	/* legacy_record_version's major byte; the body must hold at least the
	 * explicit nonce, the tag and (1.3) the inner content type */
	if (hdr[1] != 3 || len < hdr_len - TLS_HDR + AEAD_TAG + (unsigned int)tls13) {
		*alert = TLS_ALERT_DECODE_ERROR;
		return -EBADMSG;
	}
	*total = TLS_HDR + len;
	return 0;
}

uint8_t tls13_inner_type(struct aead_seg *seg, unsigned int nseg, uint32_t *content)
{
	uint32_t left = 0;

	for (unsigned int i = 0; i < nseg; i++)
		left += seg[i].len;
	for (unsigned int k = nseg; k-- > 0;) {
		while (seg[k].len) {
			uint8_t b = seg[k].p[--seg[k].len];

			left--;
			if (b) {
				*content = left;
				return b;
			}
		}
	}
	*content = 0;
	return 0;
}

enum tls_ctl tls_ctl_classify(uint8_t inner, const uint8_t *msg, uint32_t content, uint16_t version,
			      int originate)
{
	if (inner == TLS_CT_ALERT) {
		/* RFC 8446 6: level, description -- exactly two bytes */
		if (content != 2)
			return TLS_CTL_MALFORMED;
		return msg[1] == TLS_ALERT_CLOSE_NOTIFY ? TLS_CTL_CLOSE_NOTIFY : TLS_CTL_PEER_ALERT;
	}
	if (inner == TLS_CT_HANDSHAKE && version == 0x0304 && content) {
		if (msg[0] == TLS_HS_KEY_UPDATE)
			return TLS_CTL_KEY_UPDATE;
		if (msg[0] == TLS_HS_NEW_SESSION_TICKET && originate)
			return TLS_CTL_TICKET;
	}
	return TLS_CTL_OTHER;
}

int tls13_key_update_parse(const uint8_t *msg, uint32_t len)
{
	/* msg_type, uint24 length = 1, KeyUpdateRequest */
	if (len != 5 || msg[0] != TLS_HS_KEY_UPDATE || msg[1] || msg[2] || msg[3] != 1)
		return -EBADMSG;
	if (msg[4] > 1)
		return -EINVAL;
	return msg[4];
}
