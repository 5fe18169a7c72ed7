/* TLS record protection and the TLS 1.3 key schedule pieces it needs. */
#include <errno.h>
#include <string.h>

/* SHA256_Init & co. are deprecated in OpenSSL 3.0 but are the only
 * digests that neither fetch nor allocate (see hmac()) */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <sluice/tls_msg.h>

#include "tls_record.h"

/* HMAC (RFC 2104) over SHA-256 or SHA-384 with a key of hash length, the
 * message in up to three parts.  OpenSSL's low-level digests: its one-shot
 * SHA256() and the EVP and HMAC interfaces fetch an implementation (locks)
 * and allocate, and this runs on workers (KeyUpdate, keys of a connection). */
static void hmac(unsigned int hl, const uint8_t *key, const uint8_t *const part[3],
		 const size_t len[3], uint8_t *out)
{
	unsigned int bl = hl == 32 ? SHA256_CBLOCK : SHA512_CBLOCK;
	uint8_t pad[SHA512_CBLOCK], inner[SHA384_DIGEST_LENGTH];
	union {
		SHA256_CTX s256;
		SHA512_CTX s384;
	} c;

	for (int outer = 0; outer < 2; outer++) {
		memset(pad, outer ? 0x5c : 0x36, bl);
		for (unsigned int i = 0; i < hl; i++)
			pad[i] ^= key[i];
		if (hl == 32) {
			SHA256_Init(&c.s256);
			SHA256_Update(&c.s256, pad, bl);
			if (outer)
				SHA256_Update(&c.s256, inner, hl);
			else
				for (int i = 0; i < 3; i++)
					SHA256_Update(&c.s256, part[i], len[i]);
			SHA256_Final(outer ? out : inner, &c.s256);
		} else {
			SHA384_Init(&c.s384);
			SHA384_Update(&c.s384, pad, bl);
			if (outer)
				SHA384_Update(&c.s384, inner, hl);
			else
				for (int i = 0; i < 3; i++)
					SHA384_Update(&c.s384, part[i], len[i]);
			SHA384_Final(outer ? out : inner, &c.s384);
		}
	}
	OPENSSL_cleanse(pad, sizeof(pad));
	OPENSSL_cleanse(inner, sizeof(inner));
	OPENSSL_cleanse(&c, sizeof(c));
}

int tls13_hkdf_expand_label(unsigned int hash_len, const uint8_t *secret, const char *label,
			    const uint8_t *ctx, size_t ctx_len, uint8_t *out, size_t out_len)
{
	/* struct { uint16 length; opaque label<7..255> = "tls13 " + Label;
	 *          opaque context<0..255>; } HkdfLabel;  (RFC 8446 7.1) */
	uint8_t info[2 + 1 + 255 + 1 + 255], t[SHA384_DIGEST_LENGTH], i = 0;
	size_t ll = strlen(label), n = 0, done = 0;

	if ((hash_len != 32 && hash_len != 48) || ll + 6 > 255 || ctx_len > 255 ||
	    out_len > 255 * hash_len)
		return -EINVAL;
	info[n++] = (uint8_t)(out_len >> 8);
	info[n++] = (uint8_t)out_len;
	info[n++] = (uint8_t)(ll + 6);
	memcpy(info + n, "tls13 ", 6);
	n += 6;
	memcpy(info + n, label, ll);
	n += ll;
	info[n++] = (uint8_t)ctx_len;
	if (ctx_len)
		memcpy(info + n, ctx, ctx_len);
	n += ctx_len;

	/* HKDF-Expand (RFC 5869 2.3): T(i) = HMAC(PRK, T(i-1) | info | i) */
	while (done < out_len) {
		const uint8_t *part[3] = { t, info, &i };
		size_t len[3] = { i ? hash_len : 0, n, 1 }, k;

		i++;
		hmac(hash_len, secret, part, len, t);
		k = out_len - done < hash_len ? out_len - done : hash_len;
		memcpy(out + done, t, k);
		done += k;
	}
	OPENSSL_cleanse(t, sizeof(t));
	return 0;
}

static unsigned int suite_hash_len(enum aead_alg alg)
{
	/* TLS_AES_256_GCM_SHA384; the other two suites use SHA-256 */
	return alg == AEAD_AES_256_GCM ? 48 : 32;
}

static int tls13_rekey(struct tls_rec *r, struct aead_thread *t, enum aead_engine_id eng)
{
	uint8_t key[AEAD_KEY_MAX];
	size_t kl = aead_key_len(r->alg);
	int ret;

	ret = tls13_hkdf_expand_label(r->hash_len, r->secret, "key", NULL, 0, key, kl);
	if (!ret)
		ret = tls13_hkdf_expand_label(r->hash_len, r->secret, "iv", NULL, 0, r->iv,
					      AEAD_NONCE_LEN);
	if (!ret) {
		aead_key_wipe(&r->key);
		ret = aead_key_init(&r->key, t, eng, r->alg, key, kl);
	}
	OPENSSL_cleanse(key, sizeof(key));
	r->seq = 0;
	return ret;
}

int tls13_rec_init(struct tls_rec *r, struct aead_thread *t, enum aead_engine_id eng,
		   enum aead_alg alg, const uint8_t *secret, size_t secret_len)
{
	memset(r, 0, sizeof(*r));
	r->key.eng = AEAD_ENG_MAX; /* nothing to wipe yet */
	if (alg >= AEAD_ALG_MAX || secret_len != suite_hash_len(alg))
		return -EINVAL;
	r->version = 0x0304;
	r->alg = (uint8_t)alg;
	r->hash_len = (uint8_t)secret_len;
	memcpy(r->secret, secret, secret_len);
	return tls13_rekey(r, t, eng);
}

int tls13_rec_key_update(struct tls_rec *r, enum aead_engine_id eng)
{
	uint8_t next[TLS_SECRET_MAX];
	int ret;

	/* application_traffic_secret_N+1 =
	 *     HKDF-Expand-Label(application_traffic_secret_N, "traffic upd", "", Hash.length) */
	if (r->version != 0x0304)
		return -EINVAL;
	ret = tls13_hkdf_expand_label(r->hash_len, r->secret, "traffic upd", NULL, 0, next,
				      r->hash_len);
	if (!ret) {
		memcpy(r->secret, next, r->hash_len);
		ret = tls13_rekey(r, r->key.thr, eng);
	}
	OPENSSL_cleanse(next, sizeof(next));
	return ret;
}

int tls12_rec_init(struct tls_rec *r, struct aead_thread *t, enum aead_engine_id eng,
		   enum aead_alg alg, const uint8_t *key, size_t key_len, const uint8_t *iv,
		   size_t iv_len, uint64_t seq)
{
	size_t want = alg == AEAD_CHACHA20_POLY1305 ? AEAD_NONCE_LEN : 4;

	memset(r, 0, sizeof(*r));
	r->key.eng = AEAD_ENG_MAX;
	if (alg >= AEAD_ALG_MAX || iv_len != want)
		return -EINVAL;
	r->version = 0x0303;
	r->alg = (uint8_t)alg;
	r->seq = seq;
	memcpy(r->iv, iv, iv_len);
	return aead_key_init(&r->key, t, eng, alg, key, key_len);
}

int tls_rec_install(struct tls_rec *rx, struct tls_rec *tx, struct aead_thread *t,
		    enum aead_engine_id eng, const struct sl_tls_keys *k)
{
	enum aead_alg alg = (enum aead_alg)k->alg;
	int rc;

	if (k->version == 0x0304) {
		rc = tls13_rec_init(rx, t, eng, alg, k->rx.secret, k->rx.secret_len);
		if (rc == 0)
			rc = tls13_rec_init(tx, t, eng, alg, k->tx.secret, k->tx.secret_len);
	} else if (k->version == 0x0303) {
		rc = tls12_rec_init(rx, t, eng, alg, k->rx.key, k->rx.key_len, k->rx.iv, k->rx.iv_len,
				    k->rx.seq);
		if (rc == 0)
			rc = tls12_rec_init(tx, t, eng, alg, k->tx.key, k->tx.key_len, k->tx.iv,
					    k->tx.iv_len, k->tx.seq);
	} else {
		return -EINVAL;
	}
	if (rc != 0) {
		/* a half-made pair gives back what it took (a reserved context) */
		tls_rec_wipe(rx);
		tls_rec_wipe(tx);
		return rc;
	}
	/* 1.3: after the handshake records already sent under these keys
	 * (the server's tickets) */
	rx->seq = k->rx.seq;
	tx->seq = k->tx.seq;
	return 0;
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

/* Nonce and AAD of record r->seq; *aadlen set.  `explicit` is the 1.2 GCM
 * explicit nonce as sent (NULL when sealing: it is the sequence number). */
static void nonce_aad(const struct tls_rec *r, uint8_t type, uint32_t len, const uint8_t *explicit,
		      uint8_t nonce[AEAD_NONCE_LEN], uint8_t aad[13], size_t *aadlen)
{
	uint8_t seq[8];

	put64(seq, r->seq);
	memcpy(nonce, r->iv, AEAD_NONCE_LEN);
	if (r->version == 0x0303 && r->alg != AEAD_CHACHA20_POLY1305) {
		/* RFC 5288 3: salt (4) || explicit nonce (8) */
		memcpy(nonce + 4, explicit ? explicit : seq, 8);
	} else {
		/* RFC 8446 5.3 / RFC 7905 2: IV xor sequence, left-padded */
		for (int i = 0; i < 8; i++)
			nonce[4 + i] ^= seq[i];
	}
	if (r->version == 0x0304) {
		/* RFC 8446 5.2: additional_data = the record header */
		aad[0] = TLS_CT_APPLICATION_DATA;
		aad[1] = 0x03;
		aad[2] = 0x03;
		aad[3] = (uint8_t)((len + AEAD_TAG_LEN) >> 8);
		aad[4] = (uint8_t)(len + AEAD_TAG_LEN);
		*aadlen = 5;
	} else {
		/* RFC 5246 6.2.3.3: seq_num + type + version + length (plaintext) */
		memcpy(aad, seq, 8);
		aad[8] = type;
		aad[9] = 0x03;
		aad[10] = 0x03;
		aad[11] = (uint8_t)(len >> 8);
		aad[12] = (uint8_t)len;
		*aadlen = 13;
	}
}

int tls_rec_seal(struct tls_rec *r, struct aead_thread *t, uint8_t type, uint8_t *hdr,
		 const struct aead_seg *seg, unsigned int nseg, uint32_t len, uint8_t tag[AEAD_TAG_LEN])
{
	uint8_t nonce[AEAD_NONCE_LEN], aad[13];
	size_t aadlen;
	unsigned int hl = TLS_HDR_LEN, body;
	int ret;

	nonce_aad(r, type, len, NULL, nonce, aad, &aadlen);
	if (r->version == 0x0303 && r->alg != AEAD_CHACHA20_POLY1305) {
		memcpy(hdr + TLS_HDR_LEN, nonce + 4, TLS12_EXPLICIT_NONCE);
		hl += TLS12_EXPLICIT_NONCE;
	}
	body = hl - TLS_HDR_LEN + len + AEAD_TAG_LEN;
	/* 1.3 hides the real type inside; the outer one is always 23 */
	hdr[0] = r->version == 0x0304 ? TLS_CT_APPLICATION_DATA : type;
	hdr[1] = 0x03;
	hdr[2] = 0x03;
	hdr[3] = (uint8_t)(body >> 8);
	hdr[4] = (uint8_t)body;
	ret = aead_seal(t, &r->key, nonce, aad, aadlen, seg, nseg, tag);
	if (ret)
		return ret;
	r->seq++;
	return (int)hl;
}

int tls_rec_open(struct tls_rec *r, struct aead_thread *t, const uint8_t *hdr,
		 const struct aead_seg *seg, unsigned int nseg, uint32_t len,
		 const uint8_t tag[AEAD_TAG_LEN])
{
	uint8_t nonce[AEAD_NONCE_LEN], aad[13];
	size_t aadlen;
	const uint8_t *explicit = NULL;
	int ret;

	if (r->version == 0x0303 && r->alg != AEAD_CHACHA20_POLY1305)
		explicit = hdr + TLS_HDR_LEN;
	nonce_aad(r, hdr[0], len, explicit, nonce, aad, &aadlen);
	if (r->version == 0x0304)
		memcpy(aad, hdr, TLS_HDR_LEN); /* exactly what was received */
	ret = aead_open(t, &r->key, nonce, aad, aadlen, seg, nseg, tag);
	if (ret == 0)
		r->seq++;
	return ret;
}

void tls_rec_wipe(struct tls_rec *r)
{
	if (r->key.eng < AEAD_ENG_MAX)
		aead_key_wipe(&r->key);
	OPENSSL_cleanse(r, sizeof(*r));
	r->key.eng = AEAD_ENG_MAX;
}
