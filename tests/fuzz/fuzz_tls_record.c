/*
 * libFuzzer: the worker's TLS record receive path on arbitrary bytes, as
 * apps/tls_relay.c runs it -- header check, the ciphertext cut into
 * segments, record protection opened in place, the TLS 1.3 inner type
 * behind its padding, control records classified, KeyUpdate applied.
 *
 * Input: byte 0 picks the version, AEAD, engine and whether each record is
 * first sealed in place under the same keys (so it authenticates and the
 * fuzzer reaches what follows the open); byte 1 the segment sizes; the
 * rest is the stream.  Checked: alerts are ones the relay sends, lengths
 * never exceed what was received, and nothing reads or writes outside the
 * input (ASan).
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "apps/tls_rec_parse.h"
#include "tls_record.h"

#define SEGS_MAX 64

static struct aead_thread thr;
static int thr_ready;

static int keys(struct tls_rec *r, uint16_t version, enum aead_alg alg, enum aead_engine_id eng)
{
	static const uint8_t secret[48] = "fuzz-secret-fuzz-secret-fuzz-secret-fuzz-secret";
	static const uint8_t iv[12] = "fuzz-iv-0123";

	if (version == 0x0304)
		return tls13_rec_init(r, &thr, eng, alg, secret, alg == AEAD_AES_256_GCM ? 48 : 32);
	return tls12_rec_init(r, &thr, eng, alg, secret, aead_key_len(alg), iv,
			      alg == AEAD_CHACHA20_POLY1305 ? 12 : 4, 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tls_rec rx, tx;
	uint16_t version;
	enum aead_alg alg;
	enum aead_engine_id eng;
	unsigned int hdr_len, cut;
	int seal, originate;
	uint8_t *buf, *p;
	size_t left;

	if (size < 2)
		return 0;
	if (!thr_ready) {
		if (aead_thread_init(&thr) != 0)
			abort();
		thr_ready = 1;
	}
	version = data[0] & 1 ? 0x0304 : 0x0303;
	alg = (enum aead_alg)((data[0] >> 1 & 3) % AEAD_ALG_MAX);
	eng = data[0] & 8 && thr.imb_mgr ? AEAD_ENG_IPSECMB : AEAD_ENG_OPENSSL;
	seal = !!(data[0] & 16);
	originate = !!(data[0] & 32);
	cut = data[1] ? data[1] : 256;
	hdr_len = 5 + (version == 0x0303 && alg != AEAD_CHACHA20_POLY1305 ? TLS12_EXPLICIT_NONCE : 0);
	if (keys(&rx, version, alg, eng) != 0 || keys(&tx, version, alg, eng) != 0)
		abort();

	left = size - 2;
	buf = malloc(left ? left : 1);
	if (!buf)
		abort();
	memcpy(buf, data + 2, left);
	p = buf;
	while (left >= 5) {
		uint8_t hdr[5 + TLS12_EXPLICIT_NONCE], tag[AEAD_TAG_LEN], alert = 0xff, inner, msg[16];
		struct aead_seg seg[SEGS_MAX];
		uint32_t total, clen, content, sum = 0, off = 0, l;
		unsigned int n = 0;

		if (tls_rx_hdr(p, version, hdr_len, &total, &alert) != 0) {
			if (alert != TLS_ALERT_RECORD_OVERFLOW && alert != TLS_ALERT_UNEXPECTED_MESSAGE &&
			    alert != TLS_ALERT_DECODE_ERROR)
				abort();
			break;
		}
		if (total < hdr_len + AEAD_TAG_LEN)
			abort();
		if (total > left)
			break; /* the rest is "on its way" */
		clen = total - hdr_len - AEAD_TAG_LEN;
		/* the ciphertext in segments of `cut` bytes, the last takes the rest */
		while (off < clen) {
			uint32_t k = n == SEGS_MAX - 1 || clen - off < cut ? clen - off : cut;

			seg[n++] = (struct aead_seg){ p + hdr_len + off, k };
			off += k;
		}
		memcpy(hdr, p, hdr_len);
		if (seal) {
			/* the same record as the peer would have sent it */
			if (tls_rec_seal(&tx, &thr, p[0], hdr, seg, n, clen, tag) != (int)hdr_len)
				abort();
		} else {
			memcpy(tag, p + hdr_len + clen, AEAD_TAG_LEN);
		}
		if (tls_rec_open(&rx, &thr, hdr, seg, n, clen, tag) != 0) {
			if (seal)
				abort(); /* what we sealed must open */
			break;       /* bad_record_mac */
		}
		content = clen;
		inner = p[0];
		if (version == 0x0304) {
			inner = tls13_inner_type(seg, n, &content);
			if (content > clen)
				abort();
			for (unsigned int i = 0; i < n; i++)
				sum += seg[i].len;
			if (sum != content)
				abort();
			if (!inner)
				break; /* unexpected_message */
		}
		p += total;
		left -= total;
		if (inner == TLS_CT_APP)
			continue;
		/* the first bytes of the content, across segments */
		l = content < sizeof(msg) ? content : sizeof(msg);
		for (unsigned int i = 0, got = 0; i < n && got < l; i++) {
			uint32_t k = seg[i].len < l - got ? seg[i].len : l - got;

			memcpy(msg + got, seg[i].p, k);
			got += k;
		}
		switch (tls_ctl_classify(inner, msg, content, version, originate)) {
		case TLS_CTL_CLOSE_NOTIFY:
		case TLS_CTL_TICKET:
			continue;
		case TLS_CTL_KEY_UPDATE: {
			int req = tls13_key_update_parse(msg, content);

			if (req < 0)
				goto out;
			if (version != 0x0304 || tls13_rec_key_update(&rx, eng) != 0 ||
			    tls13_rec_key_update(&tx, eng) != 0)
				abort();
			continue;
		}
		default:
			goto out;
		}
	}
out:
	tls_rec_wipe(&rx);
	tls_rec_wipe(&tx);
	free(buf);
	return 0;
}
