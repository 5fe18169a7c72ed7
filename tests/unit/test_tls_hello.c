/* ClientHello inspection on ClientHellos that OpenSSL's own client writes. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <errno.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/ssl.h>

#include "apps/tls_hello.h"

/* The first flight of an OpenSSL client, as it would reach the appliance. */
static size_t client_hello(const char *sni, int max_version, uint8_t *out, size_t cap)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	SSL *s = SSL_new(ctx);
	BIO *ours, *theirs;
	int n;

	BIO_new_bio_pair(&theirs, 0, &ours, 0);
	SSL_set_bio(s, theirs, theirs);
	SSL_set_max_proto_version(s, max_version);
	if (sni)
		SSL_set_tlsext_host_name(s, sni);
	SSL_set_connect_state(s);
	assert_int_equal(SSL_do_handshake(s), -1); /* waits for the server */
	n = BIO_read(ours, out, (int)cap);
	assert_true(n > 0);
	SSL_free(s);
	BIO_free(ours);
	SSL_CTX_free(ctx);
	return (size_t)n;
}

static void test_sni_and_versions(void **st)
{
	uint8_t ch[4096];
	struct tls_hello h;
	size_t n;
	(void)st;
	n = client_hello("bank.sluice.test", TLS1_3_VERSION, ch, sizeof(ch));
	assert_int_equal(tls_hello_parse(ch, n, &h), 0);
	assert_string_equal(h.sni, "bank.sluice.test");
	assert_int_equal(h.offers_tls13, 1);
	assert_int_equal(h.legacy_version, 0x0303);

	n = client_hello("demo.sluice.test", TLS1_2_VERSION, ch, sizeof(ch));
	assert_int_equal(tls_hello_parse(ch, n, &h), 0);
	assert_string_equal(h.sni, "demo.sluice.test");
	assert_int_equal(h.offers_tls13, 0);

	n = client_hello(NULL, TLS1_3_VERSION, ch, sizeof(ch));
	assert_int_equal(tls_hello_parse(ch, n, &h), 0);
	assert_string_equal(h.sni, "");
}

static void test_every_prefix_waits(void **st)
{
	uint8_t ch[4096];
	struct tls_hello h;
	size_t n;
	(void)st;
	n = client_hello("bank.sluice.test", TLS1_3_VERSION, ch, sizeof(ch));
	/* a ClientHello cut anywhere by TCP segmentation asks for more */
	for (size_t k = 0; k < n; k++)
		assert_int_equal(tls_hello_parse(ch, k, &h), -EAGAIN);
}

static void test_not_tls(void **st)
{
	static const uint8_t http[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
	uint8_t ch[4096];
	struct tls_hello h;
	size_t n;
	(void)st;
	assert_int_equal(tls_hello_parse(http, sizeof(http) - 1, &h), -EPROTO);
	assert_int_equal(tls_hello_parse((const uint8_t *)"G", 1, &h), -EPROTO);
	n = client_hello("bank.sluice.test", TLS1_3_VERSION, ch, sizeof(ch));
	ch[5] = 2; /* a ServerHello is not a ClientHello */
	assert_int_equal(tls_hello_parse(ch, n, &h), -EPROTO);
	n = client_hello("bank.sluice.test", TLS1_3_VERSION, ch, sizeof(ch));
	ch[43] = 40; /* session id longer than 32 */
	assert_int_equal(tls_hello_parse(ch, n, &h), -EPROTO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sni_and_versions),
		cmocka_unit_test(test_every_prefix_waits),
		cmocka_unit_test(test_not_tls),
	};
	return cmocka_run_group_tests_name("tls_hello", tests, NULL, NULL);
}
