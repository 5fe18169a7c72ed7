/*
 * Learning the record state of a completed server handshake from OpenSSL
 * (see cp_tls.c for why this way): pure OpenSSL, no DPDK, unit-tested
 * against OpenSSL's own client (tests/unit/test_tls_handoff.c).
 */
#ifndef SLUICE_TLS_KEYS_H
#define SLUICE_TLS_KEYS_H

#include <stdint.h>

#include <openssl/ssl.h>

#include <sluice/tls_msg.h>

/* The TLS 1.3 application traffic secrets, from the key-log callback. */
struct tls_keylog {
	uint8_t cts[48], sts[48];
	uint8_t cts_len, sts_len;
};

/* Take one key-log line ("LABEL <client random> <secret>"). */
void tls_keylog_line(struct tls_keylog *kl, const char *line);

/* IANA suite id -> enum aead_alg and the hash length.  0 or -ENOTSUP. */
int tls_suite_alg(uint16_t id, uint8_t *alg, uint8_t *hash_len);

/* Protected (application_data) records in n bytes of whole records. */
uint64_t tls_count_records(const uint8_t *p, long n);

/* The record state of an SSL whose SSL_do_handshake just returned 1, as
 * seen by the side it plays (rx: what its peer sends); `out`/`nout`: what
 * that call wrote.  0, or -errno (unsupported suite or version, missing
 * secrets).  Wipe *k after use. */
int tls_handoff_keys(SSL *ssl, const struct tls_keylog *kl, const uint8_t *out, long nout,
		     struct sl_tls_keys *k);

/* The suites the workers can protect (crypto/aead.h), for SSL_CTX setup. */
extern const char tls_cipher_list[];
extern const char tls_ciphersuites[];

#endif
