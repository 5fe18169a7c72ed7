/*
 * TLS record protection for the worker's record layer: TLS 1.3 (RFC 8446
 * 5.2-5.3: per-record nonce = IV xor sequence, AAD = record header) and
 * TLS 1.2 AEAD (RFC 5288 GCM with an explicit nonce, RFC 7905 ChaCha20-
 * Poly1305), over segment lists, plus HKDF-Expand-Label and KeyUpdate
 * (RFC 8446 7.1, 7.2).  One direction of one connection per state.
 */
#ifndef SLUICE_TLS_RECORD_H
#define SLUICE_TLS_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "aead.h"

#define TLS_HDR_LEN 5
#define TLS12_EXPLICIT_NONCE 8
#define TLS_SECRET_MAX 48
#define TLS_CT_APPLICATION_DATA 23

struct tls_rec {
	uint16_t version;            /* 0x0303 (1.2) or 0x0304 (1.3) */
	uint8_t alg;                 /* enum aead_alg */
	uint8_t hash_len;            /* 1.3: 32 (SHA-256) or 48 (SHA-384) */
	uint64_t seq;                /* next record's sequence number */
	uint8_t iv[AEAD_NONCE_LEN];  /* 1.3/ChaCha: the static IV; 1.2 GCM: salt in [0..3] */
	uint8_t secret[TLS_SECRET_MAX]; /* 1.3: the traffic secret, for KeyUpdate */
	struct aead_key key;
};

/* RFC 8446 7.1 HKDF-Expand-Label with the suite's hash (32: SHA-256,
 * 48: SHA-384), allocation-free.  0 or -EINVAL. */
int tls13_hkdf_expand_label(unsigned int hash_len, const uint8_t *secret, const char *label,
			    const uint8_t *ctx, size_t ctx_len, uint8_t *out, size_t out_len);

/* TLS 1.3: key and IV from a traffic secret (7.3), sequence 0.  `t` as for
 * aead_key_init: the thread that will use it, or NULL.  Allocates nothing
 * for a thread with a reserve (HKDF runs on OpenSSL's low-level digests). */
int tls13_rec_init(struct tls_rec *r, struct aead_thread *t, enum aead_engine_id eng,
		   enum aead_alg alg, const uint8_t *secret, size_t secret_len);
/* TLS 1.3 KeyUpdate (7.2): next secret, new key and IV, sequence 0, for the
 * same thread. */
int tls13_rec_key_update(struct tls_rec *r, enum aead_engine_id eng);

/* TLS 1.2: key and the 4-byte salt (GCM) or 12-byte IV (ChaCha) from the
 * key block, starting at sequence `seq`. */
int tls12_rec_init(struct tls_rec *r, struct aead_thread *t, enum aead_engine_id eng,
		   enum aead_alg alg, const uint8_t *key, size_t key_len, const uint8_t *iv,
		   size_t iv_len, uint64_t seq);

struct sl_tls_keys;
/* Both directions of a connection as sluice-cp hands them over
 * (include/sluice/tls_msg.h), at the sequence numbers it gives.  `t` as
 * for aead_key_init.  0, or -errno with both states wiped. */
int tls_rec_install(struct tls_rec *rx, struct tls_rec *tx, struct aead_thread *t,
		    enum aead_engine_id eng, const struct sl_tls_keys *k);

/* Seal one record in place.  `seg` holds the plaintext (TLS 1.3: with the
 * inner content type byte at its end), `len` bytes in all.  Writes the
 * record header (and for 1.2 GCM the explicit nonce right after it) into
 * `hdr` (room for TLS_HDR_LEN + 8) and the tag.  Returns the header bytes
 * written (5 or 13). */
int tls_rec_seal(struct tls_rec *r, struct aead_thread *t, uint8_t type, uint8_t *hdr,
		 const struct aead_seg *seg, unsigned int nseg, uint32_t len, uint8_t tag[AEAD_TAG_LEN]);

/* Open one record in place: `hdr` is the received header (and explicit
 * nonce for 1.2 GCM), `seg` the ciphertext of `len` bytes (without tag).
 * 0 or -EBADMSG (the caller sends bad_record_mac and closes). */
int tls_rec_open(struct tls_rec *r, struct aead_thread *t, const uint8_t *hdr,
		 const struct aead_seg *seg, unsigned int nseg, uint32_t len,
		 const uint8_t tag[AEAD_TAG_LEN]);

void tls_rec_wipe(struct tls_rec *r);

#endif
