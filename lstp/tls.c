/*
 * TLS for the end-to-end tunnel: TLS 1.3 only, mutual X.509 against the
 * configured CA, ALPN LSTP_ALPN required both ways.  Either end may be the
 * TLS client (the master, lstp_is_master), so one context serves both
 * roles.  The SSL objects use memory BIOs: tunnel.c moves the bytes, which
 * is how the bytes that arrived right behind the clear phase reach
 * OpenSSL unchanged.
 */
#include <errno.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <string.h>

#include "lstp.h"

static SSL_CTX *ctx;

const char *tls_err(char *buf, size_t len)
{
	unsigned long e = ERR_get_error();

	if (e == 0)
		snprintf(buf, len, "no OpenSSL error queued");
	else
		ERR_error_string_n(e, buf, len);
	ERR_clear_error();
	return buf;
}

static int readable(const char *what, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");

	if (f == NULL) {
		snprintf(err, errlen, "%s %s: %s", what, path, strerror(errno));
		return -1;
	}
	fclose(f);
	return 0;
}

/* RFC 7301 3.2: a server that supports none of the client's protocols
 * answers no_application_protocol; LSTP has exactly one */
static int alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
		       const unsigned char *in, unsigned int inlen, void *arg)
{
	size_t l = strlen(LSTP_ALPN);
	unsigned int i = 0;

	(void)ssl;
	(void)arg;
	while (i < inlen) {
		unsigned int n = in[i];

		if (i + 1 + n > inlen)
			break;
		if (n == l && memcmp(in + i + 1, LSTP_ALPN, l) == 0) {
			*out = in + i + 1;
			*outlen = (unsigned char)n;
			return SSL_TLSEXT_ERR_OK;
		}
		i += 1 + n;
	}
	return SSL_TLSEXT_ERR_ALERT_FATAL;
}

int tls_setup(const struct lstp_conf *c, char *err, size_t errlen)
{
	char why[256];
	SSL_CTX *x;

	if (readable("tls.ca", c->ca, err, errlen) < 0 || readable("tls.cert", c->cert, err, errlen) < 0 ||
	    readable("tls.key", c->key, err, errlen) < 0)
		return -1;
	x = SSL_CTX_new(TLS_method());
	if (x == NULL) {
		snprintf(err, errlen, "SSL_CTX_new: %s", tls_err(why, sizeof(why)));
		return -1;
	}
	SSL_CTX_set_min_proto_version(x, TLS1_3_VERSION);
	SSL_CTX_set_max_proto_version(x, TLS1_3_VERSION);
	/* AES-128-GCM first: as strong as the tunnel needs, and cheaper per
	 * byte than OpenSSL's default AES-256-GCM; ChaCha20 for ends without
	 * AES instructions */
	if (SSL_CTX_set_ciphersuites(x, "TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256:"
					 "TLS_AES_256_GCM_SHA384") != 1) {
		snprintf(err, errlen, "SSL_CTX_set_ciphersuites: %s", tls_err(why, sizeof(why)));
		goto fail;
	}
	/* every tunnel is a full handshake: each end proves its certificate
	 * on every pairing, so no tickets are issued or kept */
	SSL_CTX_set_num_tickets(x, 0);
	SSL_CTX_set_session_cache_mode(x, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_options(x, SSL_OP_NO_TICKET);
	SSL_CTX_set_verify(x, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	SSL_CTX_set_alpn_select_cb(x, alpn_select, NULL);
	if (SSL_CTX_load_verify_locations(x, c->ca, NULL) != 1) {
		snprintf(err, errlen, "tls.ca %s: %s", c->ca, tls_err(why, sizeof(why)));
		goto fail;
	}
	if (SSL_CTX_use_certificate_chain_file(x, c->cert) != 1) {
		snprintf(err, errlen, "tls.cert %s: %s", c->cert, tls_err(why, sizeof(why)));
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(x, c->key, SSL_FILETYPE_PEM) != 1) {
		snprintf(err, errlen, "tls.key %s: %s", c->key, tls_err(why, sizeof(why)));
		goto fail;
	}
	if (SSL_CTX_check_private_key(x) != 1) {
		snprintf(err, errlen, "tls.key %s does not match tls.cert %s", c->key, c->cert);
		goto fail;
	}
	tls_teardown();
	ctx = x;
	return 0;
fail:
	SSL_CTX_free(x);
	return -1;
}

void tls_teardown(void)
{
	SSL_CTX_free(ctx);
	ctx = NULL;
}

SSL *tls_new(int master)
{
	unsigned char alpn[32];
	size_t l = strlen(LSTP_ALPN);
	BIO *rb, *wb;
	SSL *ssl;

	ssl = SSL_new(ctx);
	if (ssl == NULL)
		return NULL;
	rb = BIO_new(BIO_s_mem());
	wb = BIO_new(BIO_s_mem());
	if (rb == NULL || wb == NULL) {
		BIO_free(rb);
		BIO_free(wb);
		SSL_free(ssl);
		return NULL;
	}
	/* an empty read BIO means "wait for more", not end of stream */
	BIO_set_mem_eof_return(rb, -1);
	BIO_set_mem_eof_return(wb, -1);
	SSL_set_bio(ssl, rb, wb);
	if (master) {
		alpn[0] = (unsigned char)l;
		memcpy(alpn + 1, LSTP_ALPN, l);
		if (SSL_set_alpn_protos(ssl, alpn, (unsigned)l + 1) != 0) {
			SSL_free(ssl);
			return NULL;
		}
		SSL_set_connect_state(ssl);
	} else {
		SSL_set_accept_state(ssl);
	}
	return ssl;
}
