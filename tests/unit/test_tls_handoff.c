/*
 * The TLS handoff (controlplane/tls/tls_keys.c) against OpenSSL's client:
 * a server SSL on memory BIOs is driven exactly as sluice-cp drives it
 * (one SSL_do_handshake per batch of client bytes, the output of each call
 * kept apart); when it completes, tls_handoff_keys() gives the record
 * state.  The client's next record must then open with our record layer at
 * that state, and a record we seal must be read by the client's SSL_read --
 * for TLS 1.2 and 1.3, each AEAD, full handshakes and resumed ones (session
 * ID, tickets, TLS 1.3 PSK), whatever tickets the server sent.
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

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "tls/tls_keys.h"
#include "tls_record.h"

static struct aead_thread thr;
static EVP_PKEY *pkey;
static X509 *cert;
static struct tls_keylog kl;

static void on_keylog(const SSL *s, const char *line)
{
	(void)s;
	tls_keylog_line(&kl, line);
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

struct side {
	SSL *ssl;
	BIO *in, *out; /* memory BIOs: what it reads, what it wrote */
};

static void side_new(struct side *x, SSL_CTX *ctx, int server)
{
	x->ssl = SSL_new(ctx);
	x->in = BIO_new(BIO_s_mem());
	x->out = BIO_new(BIO_s_mem());
	BIO_set_mem_eof_return(x->in, -1);
	BIO_set_mem_eof_return(x->out, -1);
	SSL_set_bio(x->ssl, x->in, x->out);
	if (server)
		SSL_set_accept_state(x->ssl);
	else
		SSL_set_connect_state(x->ssl);
}

static void move(BIO *from, BIO *to)
{
	char buf[16384];
	int n;

	while ((n = BIO_read(from, buf, sizeof(buf))) > 0)
		BIO_write(to, buf, n);
}

static SSL_CTX *server_ctx(void)
{
	SSL_CTX *s = SSL_CTX_new(TLS_server_method());

	SSL_CTX_set_min_proto_version(s, TLS1_2_VERSION);
	SSL_CTX_set_options(s, SSL_OP_NO_RENEGOTIATION);
	assert_int_equal(SSL_CTX_set_cipher_list(s, tls_cipher_list), 1);
	assert_int_equal(SSL_CTX_set_ciphersuites(s, tls_ciphersuites), 1);
	assert_int_equal(SSL_CTX_use_certificate(s, cert), 1);
	assert_int_equal(SSL_CTX_use_PrivateKey(s, pkey), 1);
	SSL_CTX_set_keylog_callback(s, on_keylog);
	SSL_CTX_set_session_id_context(s, (const unsigned char *)"t", 1);
	return s;
}

static SSL_CTX *client_ctx(int version, const char *suite, int tickets)
{
	SSL_CTX *c = SSL_CTX_new(TLS_client_method());

	SSL_CTX_set_min_proto_version(c, version);
	SSL_CTX_set_max_proto_version(c, version);
	if (version == TLS1_3_VERSION)
		assert_int_equal(SSL_CTX_set_ciphersuites(c, suite), 1);
	else
		assert_int_equal(SSL_CTX_set_cipher_list(c, suite), 1);
	if (!tickets)
		SSL_CTX_set_options(c, SSL_OP_NO_TICKET);
	SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_CLIENT);
	return c;
}

/* Open one record the client wrote, at `r`; returns the plaintext length. */
static int open_record(struct tls_rec *r, const uint8_t *rec, int n, uint8_t *type, uint8_t *pt)
{
	unsigned int hl = TLS_HDR_LEN + (r->version == 0x0303 && r->alg != AEAD_CHACHA20_POLY1305 ?
						  TLS12_EXPLICIT_NONCE : 0);
	int len = rec[3] << 8 | rec[4];
	struct aead_seg seg;
	uint32_t clen;

	assert_int_equal(TLS_HDR_LEN + len, n);
	clen = (uint32_t)(n - (int)hl - AEAD_TAG_LEN);
	memcpy(pt, rec + hl, clen);
	seg.p = pt;
	seg.len = clen;
	if (tls_rec_open(r, &thr, rec, &seg, 1, clen, rec + n - AEAD_TAG_LEN) != 0)
		return -1;
	*type = rec[0];
	if (r->version == 0x0304) {
		while (clen && pt[clen - 1] == 0)
			clen--;
		*type = pt[--clen];
	}
	return (int)clen;
}

/* One connection; the server is driven like sluice-cp drives it. */
static void run(SSL_CTX *sctx, SSL_CTX *cctx, SSL_SESSION **sess, int want_reused,
		enum aead_engine_id eng)
{
	struct side c, s;
	struct sl_tls_keys k;
	struct tls_rec rx, tx;
	uint8_t out[65536], rec[20000], pt[20000], type, hdr[TLS_HDR_LEN + 8], tag[AEAD_TAG_LEN];
	long nout = 0;
	int done = 0, n;
	static const char ping[] = "GET / HTTP/1.1\r\n\r\n", pong[] = "HTTP/1.1 200 OK\r\n\r\nhi";

	memset(&kl, 0, sizeof(kl));
	side_new(&c, cctx, 0);
	side_new(&s, sctx, 1);
	if (*sess)
		assert_int_equal(SSL_set_session(c.ssl, *sess), 1);
	for (int i = 0; i < 10 && !done; i++) {
		int r;

		SSL_do_handshake(c.ssl);
		move(c.out, s.in);
		r = SSL_do_handshake(s.ssl);
		nout = BIO_read(s.out, out, sizeof(out));
		if (nout < 0)
			nout = 0;
		if (r == 1)
			done = 1;
		else
			assert_int_equal(SSL_get_error(s.ssl, r), SSL_ERROR_WANT_READ);
		BIO_write(c.in, out, (int)nout);
	}
	assert_true(done);
	assert_int_equal(SSL_session_reused(s.ssl), want_reused);
	assert_int_equal(tls_handoff_keys(s.ssl, &kl, out, nout, &k), 0);
	/* the client finishes (and reads the tickets) */
	SSL_do_handshake(c.ssl);
	assert_true(SSL_is_init_finished(c.ssl));
	/* as the worker installs them */
	assert_int_equal(tls_rec_install(&rx, &tx, &thr, eng, &k), 0);

	/* client -> us: twice, so the sequence number really advances */
	for (int i = 0; i < 2; i++) {
		assert_int_equal(SSL_write(c.ssl, ping, sizeof(ping)), (int)sizeof(ping));
		n = BIO_read(c.out, rec, sizeof(rec));
		assert_true(n > 0);
		n = open_record(&rx, rec, n, &type, pt);
		assert_int_equal(n, (int)sizeof(ping));
		assert_int_equal(type, TLS_CT_APPLICATION_DATA);
		assert_memory_equal(pt, ping, sizeof(ping));
	}
	/* us -> client */
	for (int i = 0; i < 2; i++) {
		struct aead_seg seg = { .p = pt, .len = sizeof(pong) };
		int hl;

		memcpy(pt, pong, sizeof(pong));
		if (k.version == 0x0304) {
			pt[sizeof(pong)] = TLS_CT_APPLICATION_DATA;
			seg.len++;
		}
		hl = tls_rec_seal(&tx, &thr, TLS_CT_APPLICATION_DATA, hdr, &seg, 1, seg.len, tag);
		assert_true(hl == 5 || hl == 13);
		BIO_write(c.in, hdr, hl);
		BIO_write(c.in, pt, (int)seg.len);
		BIO_write(c.in, tag, sizeof(tag));
		n = SSL_read(c.ssl, pt, sizeof(pt));
		assert_int_equal(n, (int)sizeof(pong));
		assert_memory_equal(pt, pong, sizeof(pong));
	}
	if (!*sess) {
		*sess = SSL_get1_session(c.ssl);
		assert_non_null(*sess);
	}
	tls_rec_wipe(&rx);
	tls_rec_wipe(&tx);
	OPENSSL_cleanse(&k, sizeof(k));
	/* as sluice-cp does: keep the session cached */
	SSL_set_shutdown(s.ssl, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
	SSL_free(s.ssl);
	/* and the client: OpenSSL marks a session not resumable when its SSL
	 * is freed without a shutdown */
	SSL_set_shutdown(c.ssl, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
	SSL_free(c.ssl);
}

/* The other role (reverse mode): our SSL is the client, OpenSSL's server
 * the peer; its NewSessionTickets (1.3) arrive under the application key
 * before its data and must open in turn. */
static void run_client(SSL_CTX *ours, SSL_CTX *peer, enum aead_engine_id eng)
{
	struct side c, s;
	struct sl_tls_keys k;
	struct tls_rec rx, tx;
	uint8_t out[65536], buf[65536], pt[20000], type, hdr[TLS_HDR_LEN + 8], tag[AEAD_TAG_LEN];
	long nout = 0, n, off;
	int done = 0, got = 0;
	static const char ping[] = "GET /origin HTTP/1.1\r\n\r\n", pong[] = "HTTP/1.1 200 OK\r\n\r\nyo";

	memset(&kl, 0, sizeof(kl));
	side_new(&c, ours, 0);
	side_new(&s, peer, 1);
	for (int i = 0; i < 10 && !done; i++) {
		int r = SSL_do_handshake(c.ssl);

		nout = BIO_read(c.out, out, sizeof(out));
		if (nout < 0)
			nout = 0;
		BIO_write(s.in, out, (int)nout);
		if (r == 1)
			done = 1;
		else
			assert_int_equal(SSL_get_error(c.ssl, r), SSL_ERROR_WANT_READ);
		SSL_do_handshake(s.ssl);
		move(s.out, c.in);
	}
	assert_true(done);
	assert_int_equal(tls_handoff_keys(c.ssl, &kl, out, nout, &k), 0);
	assert_true(SSL_is_init_finished(s.ssl));
	/* as the worker installs them */
	assert_int_equal(tls_rec_install(&rx, &tx, &thr, eng, &k), 0);
	/* the server speaks: tickets (1.3) then data, all must open in order */
	assert_int_equal(SSL_write(s.ssl, pong, sizeof(pong)), (int)sizeof(pong));
	/* what our SSL had not read when it completed (the tickets, handed to
	 * the worker with the keys), then the data */
	n = BIO_read(c.in, buf, sizeof(buf));
	if (n < 0)
		n = 0;
	n += BIO_read(s.out, buf + n, (int)(sizeof(buf) - (size_t)n));
	for (off = 0; off < n;) {
		int rl = TLS_HDR_LEN + (buf[off + 3] << 8 | buf[off + 4]);
		int pl = open_record(&rx, buf + off, rl, &type, pt);

		assert_true(pl >= 0);
		if (type == TLS_CT_APPLICATION_DATA) {
			assert_int_equal(pl, (int)sizeof(pong));
			assert_memory_equal(pt, pong, sizeof(pong));
			got++;
		} else {
			assert_int_equal(type, 22); /* NewSessionTicket */
			assert_int_equal(pt[0], 4);
		}
		off += rl;
	}
	assert_int_equal(got, 1);
	/* we speak */
	{
		struct aead_seg seg = { .p = pt, .len = sizeof(ping) };
		int hl;

		memcpy(pt, ping, sizeof(ping));
		if (k.version == 0x0304)
			pt[seg.len++] = TLS_CT_APPLICATION_DATA;
		hl = tls_rec_seal(&tx, &thr, TLS_CT_APPLICATION_DATA, hdr, &seg, 1, seg.len, tag);
		BIO_write(s.in, hdr, hl);
		BIO_write(s.in, pt, (int)seg.len);
		BIO_write(s.in, tag, sizeof(tag));
		assert_int_equal(SSL_read(s.ssl, buf, sizeof(buf)), (int)sizeof(ping));
		assert_memory_equal(buf, ping, sizeof(ping));
	}
	tls_rec_wipe(&rx);
	tls_rec_wipe(&tx);
	OPENSSL_cleanse(&k, sizeof(k));
	SSL_free(s.ssl);
	SSL_free(c.ssl);
}

static void each(int version, const char *suite, int tickets)
{
	for (int e = 0; e < AEAD_ENG_MAX; e++) {
		SSL_CTX *s, *c;
		SSL_SESSION *sess = NULL;

		if (!aead_engine_available((enum aead_engine_id)e))
			continue;
		s = server_ctx();
		c = client_ctx(version, suite, tickets);
		run(s, c, &sess, 0, (enum aead_engine_id)e); /* full */
		run(s, c, &sess, 1, (enum aead_engine_id)e); /* resumed */
		SSL_SESSION_free(sess);
		/* reverse mode: our client (with our key log) against OpenSSL's server */
		SSL_CTX_set_keylog_callback(c, on_keylog);
		run_client(c, s, (enum aead_engine_id)e);
		SSL_CTX_free(c);
		SSL_CTX_free(s);
	}
}

static void t13_aes128(void **st) { (void)st; each(TLS1_3_VERSION, "TLS_AES_128_GCM_SHA256", 1); }
static void t13_aes256(void **st) { (void)st; each(TLS1_3_VERSION, "TLS_AES_256_GCM_SHA384", 1); }
static void t13_chacha(void **st) { (void)st; each(TLS1_3_VERSION, "TLS_CHACHA20_POLY1305_SHA256", 1); }
static void t12_aes128(void **st) { (void)st; each(TLS1_2_VERSION, "ECDHE-ECDSA-AES128-GCM-SHA256", 1); }
static void t12_aes256(void **st) { (void)st; each(TLS1_2_VERSION, "ECDHE-ECDSA-AES256-GCM-SHA384", 1); }
static void t12_chacha(void **st) { (void)st; each(TLS1_2_VERSION, "ECDHE-ECDSA-CHACHA20-POLY1305", 1); }
/* TLS 1.2 resumption by session ID (no tickets) */
static void t12_session_id(void **st) { (void)st; each(TLS1_2_VERSION, "ECDHE-ECDSA-AES128-GCM-SHA256", 0); }

static void t_count(void **st)
{
	/* two tickets (type 23), a CCS (20) and a truncated header */
	static const uint8_t b[] = { 23, 3, 3, 0, 2, 0xaa, 0xbb, 20, 3, 3, 0, 1, 1,
				     23, 3, 3, 0, 0, 23, 3 };

	(void)st;
	assert_int_equal(tls_count_records(b, sizeof(b)), 2);
	assert_int_equal(tls_count_records(b, 0), 0);
}

static void t_keylog(void **st)
{
	struct tls_keylog x = { 0 };

	(void)st;
	tls_keylog_line(&x, "CLIENT_TRAFFIC_SECRET_0 00112233 0aFf10");
	tls_keylog_line(&x, "SERVER_HANDSHAKE_TRAFFIC_SECRET 00 ffff");
	tls_keylog_line(&x, "SERVER_TRAFFIC_SECRET_0 nospace");
	assert_int_equal(x.cts_len, 3);
	assert_int_equal(x.cts[0], 0x0a);
	assert_int_equal(x.cts[1], 0xff);
	assert_int_equal(x.sts_len, 0);
}

static void t_suites(void **st)
{
	uint8_t a, h;

	(void)st;
	assert_int_equal(tls_suite_alg(0x1302, &a, &h), 0);
	assert_int_equal(a, AEAD_AES_256_GCM);
	assert_int_equal(h, 48);
	assert_int_equal(tls_suite_alg(0xCCA8, &a, &h), 0);
	assert_int_equal(a, AEAD_CHACHA20_POLY1305);
	assert_int_equal(tls_suite_alg(0x002F, &a, &h), -ENOTSUP); /* CBC: not ours */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_count),
		cmocka_unit_test(t_keylog),
		cmocka_unit_test(t_suites),
		cmocka_unit_test(t13_aes128),
		cmocka_unit_test(t13_aes256),
		cmocka_unit_test(t13_chacha),
		cmocka_unit_test(t12_aes128),
		cmocka_unit_test(t12_aes256),
		cmocka_unit_test(t12_chacha),
		cmocka_unit_test(t12_session_id),
	};
	int rc;

	aead_thread_init(&thr);
	make_cert();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	X509_free(cert);
	EVP_PKEY_free(pkey);
	aead_thread_fini(&thr);
	return rc;
}
