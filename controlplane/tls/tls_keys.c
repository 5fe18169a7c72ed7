/*
 * The record state of a completed server handshake (cp_tls.c explains the
 * method): TLS 1.3 traffic secrets from the key log, TLS 1.2 key block from
 * the master secret, and the sequence numbers.
 */
#include <errno.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/kdf.h>

#include "aead.h"
#include "tls_keys.h"
#include "tls_record.h"

const char tls_cipher_list[] =
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
const char tls_ciphersuites[] =
	"TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256";

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

void tls_keylog_line(struct tls_keylog *kl, const char *line)
{
	uint8_t *dst, *len;
	const char *p;
	unsigned int n = 0;

	if (strncmp(line, "CLIENT_TRAFFIC_SECRET_0 ", 24) == 0) {
		dst = kl->cts;
		len = &kl->cts_len;
	} else if (strncmp(line, "SERVER_TRAFFIC_SECRET_0 ", 24) == 0) {
		dst = kl->sts;
		len = &kl->sts_len;
	} else {
		return;
	}
	p = strchr(line + 24, ' ');
	if (!p)
		return;
	for (p++; p[0] && p[1] && n < 48; p += 2) {
		int hi = hexval(p[0]), lo = hexval(p[1]);

		if (hi < 0 || lo < 0)
			break;
		dst[n++] = (uint8_t)(hi << 4 | lo);
	}
	*len = (uint8_t)n;
}

int tls_suite_alg(uint16_t id, uint8_t *alg, uint8_t *hash_len)
{
	switch (id) {
	case 0x1301: case 0xC02B: case 0xC02F:
		*alg = AEAD_AES_128_GCM; *hash_len = 32; return 0;
	case 0x1302: case 0xC02C: case 0xC030:
		*alg = AEAD_AES_256_GCM; *hash_len = 48; return 0;
	case 0x1303: case 0xCCA9: case 0xCCA8:
		*alg = AEAD_CHACHA20_POLY1305; *hash_len = 32; return 0;
	default:
		return -ENOTSUP;
	}
}

uint64_t tls_count_records(const uint8_t *p, long n)
{
	uint64_t k = 0;

	while (n >= TLS_HDR_LEN) {
		long len = TLS_HDR_LEN + ((long)p[3] << 8 | p[4]);

		if (p[0] == TLS_CT_APPLICATION_DATA)
			k++;
		p += len;
		n -= len;
	}
	return k;
}

/* RFC 5246 6.3: key_block = PRF(master, "key expansion", server_random +
 * client_random); AEAD suites have no MAC keys. */
static int tls12_keys(SSL *ssl, uint8_t alg, uint8_t hash_len, struct sl_tls_keys *k)
{
	/* key block order: client key, server key, client IV, server IV */
	struct sl_tls_dir *cw = SSL_is_server(ssl) ? &k->rx : &k->tx;
	struct sl_tls_dir *sw = SSL_is_server(ssl) ? &k->tx : &k->rx;
	uint8_t master[48], seed[13 + 64], block[2 * 32 + 2 * 12];
	unsigned int kl = (unsigned int)aead_key_len(alg);
	unsigned int il = alg == AEAD_CHACHA20_POLY1305 ? 12 : 4;
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "TLS1-PRF", NULL);
	EVP_KDF_CTX *kctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
	OSSL_PARAM p[4];
	size_t ml;
	int rc = -EINVAL;

	ml = SSL_SESSION_get_master_key(SSL_get_session(ssl), master, sizeof(master));
	memcpy(seed, "key expansion", 13);
	SSL_get_server_random(ssl, seed + 13, 32);
	SSL_get_client_random(ssl, seed + 45, 32);
	p[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
						(char *)(hash_len == 48 ? "SHA384" : "SHA256"), 0);
	p[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SECRET, master, ml);
	p[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SEED, seed, sizeof(seed));
	p[3] = OSSL_PARAM_construct_end();
	if (kctx && ml == 48 && EVP_KDF_derive(kctx, block, 2 * kl + 2 * il, p) == 1) {
		memcpy(cw->key, block, kl);
		memcpy(sw->key, block + kl, kl);
		memcpy(cw->iv, block + 2 * kl, il);
		memcpy(sw->iv, block + 2 * kl + il, il);
		k->rx.key_len = k->tx.key_len = (uint8_t)kl;
		k->rx.iv_len = k->tx.iv_len = (uint8_t)il;
		/* each side's Finished was its record 0 */
		k->rx.seq = k->tx.seq = 1;
		rc = 0;
	}
	OPENSSL_cleanse(master, sizeof(master));
	OPENSSL_cleanse(block, sizeof(block));
	EVP_KDF_CTX_free(kctx);
	EVP_KDF_free(kdf);
	return rc;
}

int tls_handoff_keys(SSL *ssl, const struct tls_keylog *kl, const uint8_t *out, long nout,
		     struct sl_tls_keys *k)
{
	const SSL_CIPHER *c = SSL_get_current_cipher(ssl);

	memset(k, 0, sizeof(*k));
	k->version = (uint16_t)SSL_version(ssl);
	k->resumed = (uint8_t)SSL_session_reused(ssl);
	if (!c || tls_suite_alg(SSL_CIPHER_get_protocol_id(c), &k->alg, &k->hash_len) != 0)
		return -ENOTSUP;
	if (k->version == TLS1_2_VERSION)
		return tls12_keys(ssl, k->alg, k->hash_len, k);
	if (k->version != TLS1_3_VERSION)
		return -EPROTO;
	if (kl->cts_len != k->hash_len || kl->sts_len != k->hash_len)
		return -ENOKEY;
	k->rx.secret_len = k->tx.secret_len = k->hash_len;
	if (!SSL_is_server(ssl)) {
		/* a client completes on the server's Finished and answers with
		 * its own under the handshake key: nothing under the
		 * application keys yet either way (the tickets come later) */
		memcpy(k->rx.secret, kl->sts, k->hash_len);
		memcpy(k->tx.secret, kl->cts, k->hash_len);
		k->rx.seq = k->tx.seq = 0;
		return 0;
	}
	memcpy(k->rx.secret, kl->cts, k->hash_len);
	memcpy(k->tx.secret, kl->sts, k->hash_len);
	/* nothing read under the client's application key yet; ours: the
	 * records the completing call wrote (NewSessionTickets) */
	k->rx.seq = 0;
	k->tx.seq = tls_count_records(out, nout);
	return 0;
}
