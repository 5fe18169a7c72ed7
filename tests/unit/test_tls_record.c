/*
 * TLS record protection against a real peer: OpenSSL runs a TLS 1.3 (and
 * 1.2) client and server in this process over memory BIOs; its key log gives
 * the traffic secrets (1.3) or master secret (1.2).  Records OpenSSL writes
 * must open with our record layer (both engines), records we seal must be
 * read by OpenSSL's SSL_read, and a KeyUpdate must be followed.  Also
 * HKDF-Expand-Label against OpenSSL's own TLS13-KDF.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "tls_record.h"

static struct aead_thread thr;
static EVP_PKEY *pkey;
static X509 *cert;
static char keylog[8][256];
static int nkeylog;

static void on_keylog(const SSL *s, const char *line)
{
	(void)s;
	if (nkeylog < 8)
		snprintf(keylog[nkeylog++], sizeof(keylog[0]), "%s", line);
}

static int hexval(char c)
{
	return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}

/* The secret of a key-log label, e.g. SERVER_TRAFFIC_SECRET_0. */
static size_t logged(const char *label, uint8_t *out)
{
	for (int i = 0; i < nkeylog; i++) {
		size_t ll = strlen(label), n = 0;
		const char *p;

		if (strncmp(keylog[i], label, ll) != 0 || keylog[i][ll] != ' ')
			continue;
		p = strchr(keylog[i] + ll + 1, ' ') + 1; /* skip the client random */
		while (p[0] && p[1] && n < 64) {
			out[n++] = (uint8_t)(hexval(p[0]) << 4 | hexval(p[1]));
			p += 2;
		}
		return n;
	}
	return 0;
}

static void make_cert(void)
{
	X509_NAME *nm;

	pkey = EVP_EC_gen("P-256");
	assert_non_null(pkey);
	cert = X509_new();
	X509_set_version(cert, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
	X509_gmtime_adj(X509_getm_notBefore(cert), 0);
	X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
	nm = X509_get_subject_name(cert);
	X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_ASC, (const unsigned char *)"test", -1, -1, 0);
	X509_set_issuer_name(cert, nm);
	X509_set_pubkey(cert, pkey);
	assert_true(X509_sign(cert, pkey, EVP_sha256()) > 0);
}

struct pair {
	SSL_CTX *cctx, *sctx;
	SSL *c, *s;
	BIO *c_in, *c_out, *s_in, *s_out; /* our ends of each side's BIO pair */
};

/* Move whatever one side wrote to the other until both are quiet. */
static void pump(struct pair *p)
{
	char buf[16384];
	int n, moved;

	do {
		moved = 0;
		while ((n = BIO_read(p->c_out, buf, sizeof(buf))) > 0) {
			BIO_write(p->s_in, buf, n);
			moved = 1;
		}
		while ((n = BIO_read(p->s_out, buf, sizeof(buf))) > 0) {
			BIO_write(p->c_in, buf, n);
			moved = 1;
		}
	} while (moved);
}

static void pair_up(struct pair *p, int version, const char *suite)
{
	BIO *ci, *si;

	memset(p, 0, sizeof(*p));
	nkeylog = 0;
	p->cctx = SSL_CTX_new(TLS_client_method());
	p->sctx = SSL_CTX_new(TLS_server_method());
	for (int i = 0; i < 2; i++) {
		SSL_CTX *x = i ? p->sctx : p->cctx;
		SSL_CTX_set_min_proto_version(x, version);
		SSL_CTX_set_max_proto_version(x, version);
		if (version == TLS1_3_VERSION)
			assert_int_equal(SSL_CTX_set_ciphersuites(x, suite), 1);
		else
			assert_int_equal(SSL_CTX_set_cipher_list(x, suite), 1);
	}
	SSL_CTX_set_keylog_callback(p->sctx, on_keylog);
	assert_int_equal(SSL_CTX_use_certificate(p->sctx, cert), 1);
	assert_int_equal(SSL_CTX_use_PrivateKey(p->sctx, pkey), 1);
	p->c = SSL_new(p->cctx);
	p->s = SSL_new(p->sctx);
	BIO_new_bio_pair(&ci, 0, &p->c_in, 0);
	p->c_out = p->c_in;
	BIO_new_bio_pair(&si, 0, &p->s_in, 0);
	p->s_out = p->s_in;
	SSL_set_bio(p->c, ci, ci);
	SSL_set_bio(p->s, si, si);
	SSL_set_connect_state(p->c);
	SSL_set_accept_state(p->s);
	for (int i = 0; i < 20 && (!SSL_is_init_finished(p->c) || !SSL_is_init_finished(p->s)); i++) {
		SSL_do_handshake(p->c);
		pump(p);
		SSL_do_handshake(p->s);
		pump(p);
	}
	assert_true(SSL_is_init_finished(p->c) && SSL_is_init_finished(p->s));
}

static void pair_down(struct pair *p)
{
	SSL_free(p->c);
	SSL_free(p->s);
	BIO_free(p->c_in);
	BIO_free(p->s_in);
	SSL_CTX_free(p->cctx);
	SSL_CTX_free(p->sctx);
}

/* Read one record the server wrote (from its network side) and open it. */
static int open_server_record(struct pair *p, struct tls_rec *r, uint8_t *plain, size_t *plen)
{
	uint8_t rec[20000];
	int n = BIO_read(p->s_out, rec, TLS_HDR_LEN);
	unsigned int body, hl;
	struct aead_seg seg;
	int ret;

	if (n != TLS_HDR_LEN)
		return -ENODATA;
	body = (unsigned int)(rec[3] << 8 | rec[4]);
	assert_int_equal(BIO_read(p->s_out, rec + TLS_HDR_LEN, (int)body), (int)body);
	hl = r->version == 0x0303 && r->alg != AEAD_CHACHA20_POLY1305 ? TLS_HDR_LEN + 8 : TLS_HDR_LEN;
	*plen = body - (hl - TLS_HDR_LEN) - AEAD_TAG_LEN;
	/* in two segments, to go through the scatter-gather path */
	seg = (struct aead_seg){ rec + hl, (uint32_t)*plen };
	{
		struct aead_seg two[2] = { { rec + hl, (uint32_t)(*plen / 2) },
					   { rec + hl + *plen / 2, (uint32_t)(*plen - *plen / 2) } };
		ret = tls_rec_open(r, &thr, rec, two, 2, (uint32_t)*plen, rec + hl + *plen);
	}
	(void)seg;
	if (ret == 0)
		memcpy(plain, rec + hl, *plen);
	return ret;
}

static void tls13_suite(const char *suite, enum aead_alg alg)
{
	struct pair p;
	uint8_t secret[64], plain[20000], buf[64];
	size_t sl, plen;

	for (unsigned int eng = 0; eng < AEAD_ENG_MAX; eng++) {
		struct tls_rec r;

		if (eng == AEAD_ENG_IPSECMB && !thr.imb_mgr)
			continue;
		pair_up(&p, TLS1_3_VERSION, suite);
		sl = logged("SERVER_TRAFFIC_SECRET_0", secret);
		assert_true(sl == 32 || sl == 48);
		pump(&p); /* the client's side is done; drain session tickets */
		/* OpenSSL sends session tickets first: skip them by reading
		 * through our layer (they are records under the same keys) */
		assert_int_equal(tls13_rec_init(&r, &thr, eng, alg, secret, sl), 0);
		while (BIO_read(p.c_in, buf, sizeof(buf)) > 0)
			; /* nothing for us on the client's side */
		/* tickets were already moved to the client by pump(); count them */
		r.seq = (uint64_t)SSL_get_num_tickets(p.s);
		assert_int_equal(SSL_write(p.s, "hello from openssl", 18), 18);
		assert_int_equal(open_server_record(&p, &r, plain, &plen), 0);
		/* TLSInnerPlaintext: content, then the real type (23) */
		assert_int_equal(plen, 19);
		assert_memory_equal(plain, "hello from openssl", 18);
		assert_int_equal(plain[18], TLS_CT_APPLICATION_DATA);

		/* KeyUpdate: the message travels under the old keys, then the
		 * sender switches; we follow with tls13_rec_key_update */
		assert_int_equal(SSL_key_update(p.s, SSL_KEY_UPDATE_NOT_REQUESTED), 1);
		assert_int_equal(SSL_write(p.s, "after update", 12), 12);
		assert_int_equal(open_server_record(&p, &r, plain, &plen), 0);
		assert_int_equal(plain[0], 24);                 /* key_update message */
		assert_int_equal(plain[plen - 1], 22);          /* handshake content */
		assert_int_equal(tls13_rec_key_update(&r, eng), 0);
		assert_int_equal(open_server_record(&p, &r, plain, &plen), 0);
		assert_memory_equal(plain, "after update", 12);
		/* a tampered record fails */
		assert_int_equal(SSL_write(p.s, "x", 1), 1);
		{
			uint8_t rec[64];
			int n = BIO_read(p.s_out, rec, sizeof(rec));
			struct aead_seg seg = { rec + 5, (uint32_t)(n - 5 - 16) };
			rec[6] ^= 1;
			assert_int_equal(tls_rec_open(&r, &thr, rec, &seg, 1, seg.len, rec + n - 16), -EBADMSG);
		}
		tls_rec_wipe(&r);
		pair_down(&p);
	}
}

static void test_tls13_aes128(void **s) { (void)s; tls13_suite("TLS_AES_128_GCM_SHA256", AEAD_AES_128_GCM); }
static void test_tls13_aes256(void **s) { (void)s; tls13_suite("TLS_AES_256_GCM_SHA384", AEAD_AES_256_GCM); }
static void test_tls13_chacha(void **s) { (void)s; tls13_suite("TLS_CHACHA20_POLY1305_SHA256", AEAD_CHACHA20_POLY1305); }

/* Our sealed records, read by OpenSSL as the client. */
static void test_tls13_seal_to_openssl(void **s)
{
	struct pair p;
	struct tls_rec r;
	uint8_t secret[64], rec[256], got[64];
	size_t sl;
	int hl;
	(void)s;
	pair_up(&p, TLS1_3_VERSION, "TLS_AES_128_GCM_SHA256");
	sl = logged("SERVER_TRAFFIC_SECRET_0", secret);
	assert_int_equal(tls13_rec_init(&r, &thr, AEAD_ENG_OPENSSL, AEAD_AES_128_GCM, secret, sl), 0);
	r.seq = (uint64_t)SSL_get_num_tickets(p.s); /* after the server's tickets */
	memcpy(rec + 5, "sealed by sluice", 16);
	rec[5 + 16] = TLS_CT_APPLICATION_DATA;
	{
		struct aead_seg seg = { rec + 5, 17 };
		hl = tls_rec_seal(&r, &thr, TLS_CT_APPLICATION_DATA, rec, &seg, 1, 17, rec + 5 + 17);
	}
	assert_int_equal(hl, 5);
	BIO_write(p.c_in, rec, 5 + 17 + 16);
	assert_int_equal(SSL_read(p.c, got, sizeof(got)), 16);
	assert_memory_equal(got, "sealed by sluice", 16);
	tls_rec_wipe(&r);
	pair_down(&p);
}

/* TLS 1.2: the key block from the master secret (RFC 5246 6.3), then the
 * server's first application record (sequence 1: its Finished was 0). */
static void tls12_suite(const char *suite, enum aead_alg alg, const char *md)
{
	uint8_t master[48], cr[32], sr[32], seed[13 + 64], kb[2 * 32 + 2 * 12], plain[256];
	size_t kl = aead_key_len(alg), ivl = alg == AEAD_CHACHA20_POLY1305 ? 12 : 4, plen;

	for (unsigned int eng = 0; eng < AEAD_ENG_MAX; eng++) {
		struct pair p;
		struct tls_rec r;
		EVP_KDF *kdf;
		EVP_KDF_CTX *kc;
		OSSL_PARAM prm[4];

		if (eng == AEAD_ENG_IPSECMB && !thr.imb_mgr)
			continue;
		pair_up(&p, TLS1_2_VERSION, suite);
		assert_int_equal(SSL_SESSION_get_master_key(SSL_get_session(p.s), master, 48), 48);
		SSL_get_client_random(p.s, cr, 32);
		SSL_get_server_random(p.s, sr, 32);
		memcpy(seed, "key expansion", 13);
		memcpy(seed + 13, sr, 32);
		memcpy(seed + 45, cr, 32);
		kdf = EVP_KDF_fetch(NULL, "TLS1-PRF", NULL);
		kc = EVP_KDF_CTX_new(kdf);
		prm[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)md, 0);
		prm[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SECRET, master, 48);
		prm[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SEED, seed, 13 + 64);
		prm[3] = OSSL_PARAM_construct_end();
		assert_int_equal(EVP_KDF_derive(kc, kb, 2 * kl + 2 * ivl, prm), 1);
		EVP_KDF_CTX_free(kc);
		EVP_KDF_free(kdf);
		/* client key, server key, client IV, server IV */
		assert_int_equal(tls12_rec_init(&r, &thr, eng, alg, kb + kl, kl, kb + 2 * kl + ivl, ivl, 1), 0);
		assert_int_equal(SSL_write(p.s, "tls12 record", 12), 12);
		assert_int_equal(open_server_record(&p, &r, plain, &plen), 0);
		assert_int_equal(plen, 12);
		assert_memory_equal(plain, "tls12 record", 12);
		assert_int_equal(SSL_write(p.s, "second", 6), 6);
		assert_int_equal(open_server_record(&p, &r, plain, &plen), 0);
		assert_memory_equal(plain, "second", 6);
		tls_rec_wipe(&r);
		pair_down(&p);
	}
}

static void test_tls12_aes128(void **s) { (void)s; tls12_suite("ECDHE-ECDSA-AES128-GCM-SHA256", AEAD_AES_128_GCM, "SHA256"); }
static void test_tls12_aes256(void **s) { (void)s; tls12_suite("ECDHE-ECDSA-AES256-GCM-SHA384", AEAD_AES_256_GCM, "SHA384"); }
static void test_tls12_chacha(void **s) { (void)s; tls12_suite("ECDHE-ECDSA-CHACHA20-POLY1305", AEAD_CHACHA20_POLY1305, "SHA256"); }

static void test_hkdf_vs_openssl(void **s)
{
	uint8_t secret[48], ours[48], theirs[48];
	static const char prefix[] = "tls13 ";
	(void)s;
	for (unsigned int hl = 32; hl <= 48; hl += 16) {
		EVP_KDF *kdf = EVP_KDF_fetch(NULL, "TLS13-KDF", NULL);
		EVP_KDF_CTX *kc = EVP_KDF_CTX_new(kdf);
		int mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY;
		OSSL_PARAM p[6];

		for (unsigned int i = 0; i < hl; i++)
			secret[i] = (uint8_t)(i * 7 + hl);
		assert_int_equal(tls13_hkdf_expand_label(hl, secret, "traffic upd", NULL, 0, ours, hl), 0);
		p[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, hl == 32 ? "SHA256" : "SHA384", 0);
		p[1] = OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode);
		p[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, secret, hl);
		p[3] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PREFIX, (void *)prefix, 6);
		p[4] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_LABEL, (void *)"traffic upd", 11);
		p[5] = OSSL_PARAM_construct_end();
		assert_int_equal(EVP_KDF_derive(kc, theirs, hl, p), 1);
		assert_memory_equal(ours, theirs, hl);
		EVP_KDF_CTX_free(kc);
		EVP_KDF_free(kdf);
	}
	assert_int_equal(tls13_hkdf_expand_label(20, secret, "key", NULL, 0, ours, 16), -EINVAL);
}

static int setup(void **s)
{
	(void)s;
	make_cert();
	return aead_thread_init(&thr);
}

static int teardown(void **s)
{
	(void)s;
	aead_thread_fini(&thr);
	X509_free(cert);
	EVP_PKEY_free(pkey);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hkdf_vs_openssl),
		cmocka_unit_test(test_tls13_aes128),
		cmocka_unit_test(test_tls13_aes256),
		cmocka_unit_test(test_tls13_chacha),
		cmocka_unit_test(test_tls13_seal_to_openssl),
		cmocka_unit_test(test_tls12_aes128),
		cmocka_unit_test(test_tls12_aes256),
		cmocka_unit_test(test_tls12_chacha),
	};
	return cmocka_run_group_tests_name("tls_record", tests, setup, teardown);
}
