/* The worker's TLS record parsing (apps/tls_rec_parse.c): what each kind of
 * bad input turns into, and padding found across segment boundaries. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <errno.h>
#include <string.h>
#include <cmocka.h>

#include "apps/tls_rec_parse.h"

static int hdr(uint8_t type, uint8_t major, uint16_t len, uint16_t version, unsigned int hdr_len,
	       uint32_t *total, uint8_t *alert)
{
	uint8_t h[5] = { type, major, 3, (uint8_t)(len >> 8), (uint8_t)len };

	*total = 0;
	*alert = 0xff;
	return tls_rx_hdr(h, version, hdr_len, total, alert);
}

static void test_header(void **s)
{
	uint32_t total;
	uint8_t alert;
	(void)s;

	/* the largest records each version allows (RFC 8446 5.2, RFC 5246 6.2.3) */
	assert_int_equal(hdr(23, 3, 16384 + 256, 0x0304, 5, &total, &alert), 0);
	assert_int_equal(total, 5 + 16384 + 256);
	assert_int_equal(hdr(23, 3, 16384 + 257, 0x0304, 5, &total, &alert), -EBADMSG);
	assert_int_equal(alert, TLS_ALERT_RECORD_OVERFLOW);
	assert_int_equal(hdr(23, 3, 16384 + 2048, 0x0303, 13, &total, &alert), 0);
	assert_int_equal(hdr(23, 3, 16384 + 2049, 0x0303, 13, &total, &alert), -EBADMSG);
	assert_int_equal(alert, TLS_ALERT_RECORD_OVERFLOW);

	/* unknown types; TLS 1.3 takes only application_data (RFC 8446 5) */
	assert_int_equal(hdr(19, 3, 40, 0x0303, 13, &total, &alert), -EBADMSG);
	assert_int_equal(alert, TLS_ALERT_UNEXPECTED_MESSAGE);
	assert_int_equal(hdr(24, 3, 40, 0x0303, 13, &total, &alert), -EBADMSG);
	assert_int_equal(hdr(0x63, 3, 40, 0x0304, 5, &total, &alert), -EBADMSG);
	assert_int_equal(alert, TLS_ALERT_UNEXPECTED_MESSAGE);
	for (uint8_t t = 20; t <= 22; t++) {
		assert_int_equal(hdr(t, 3, 40, 0x0304, 5, &total, &alert), -EBADMSG);
		assert_int_equal(alert, TLS_ALERT_UNEXPECTED_MESSAGE);
		assert_int_equal(hdr(t, 3, 40, 0x0303, 13, &total, &alert), 0);
	}

	/* a wrong major version, and bodies too short for nonce + tag (+ type) */
	assert_int_equal(hdr(23, 2, 40, 0x0304, 5, &total, &alert), -EBADMSG);
	assert_int_equal(alert, TLS_ALERT_DECODE_ERROR);
	assert_int_equal(hdr(23, 3, 16, 0x0304, 5, &total, &alert), -EBADMSG);
	assert_int_equal(alert, TLS_ALERT_DECODE_ERROR);
	assert_int_equal(hdr(23, 3, 17, 0x0304, 5, &total, &alert), 0);
	assert_int_equal(hdr(23, 3, 23, 0x0303, 13, &total, &alert), -EBADMSG);
	assert_int_equal(hdr(23, 3, 24, 0x0303, 13, &total, &alert), 0);
	assert_int_equal(hdr(23, 3, 16, 0x0303, 5, &total, &alert), 0); /* ChaCha: no explicit nonce */
	assert_int_equal(total, 21);
}

static void test_inner_type(void **s)
{
	uint8_t a[4] = { 'h', 'i', 23, 0 }, b[3] = { 0, 0, 0 }, c[1] = { 0 };
	struct aead_seg seg[3];
	uint32_t content;
	(void)s;

	/* padding across two whole segments and part of the first */
	seg[0] = (struct aead_seg){ a, 4 };
	seg[1] = (struct aead_seg){ b, 3 };
	seg[2] = (struct aead_seg){ c, 1 };
	assert_int_equal(tls13_inner_type(seg, 3, &content), 23);
	assert_int_equal(content, 2);
	assert_int_equal(seg[0].len, 2);
	assert_int_equal(seg[1].len, 0);
	assert_int_equal(seg[2].len, 0);

	/* no padding, type alone */
	a[0] = 21;
	seg[0] = (struct aead_seg){ a, 1 };
	assert_int_equal(tls13_inner_type(seg, 1, &content), 21);
	assert_int_equal(content, 0);

	/* all zeros: no type at all (RFC 8446 5.4: unexpected_message) */
	seg[0] = (struct aead_seg){ b, 3 };
	seg[1] = (struct aead_seg){ c, 1 };
	assert_int_equal(tls13_inner_type(seg, 2, &content), 0);
	assert_int_equal(content, 0);
	assert_int_equal(tls13_inner_type(seg, 0, &content), 0);
}

static void test_classify(void **s)
{
	static const uint8_t close_notify[2] = { 1, 0 }, fatal[2] = { 2, 20 };
	static const uint8_t ku[5] = { 24, 0, 0, 1, 0 }, nst[4] = { 4, 0, 0, 9 }, fin[4] = { 20, 0, 0, 32 };
	(void)s;

	assert_int_equal(tls_ctl_classify(21, close_notify, 2, 0x0304, 0), TLS_CTL_CLOSE_NOTIFY);
	assert_int_equal(tls_ctl_classify(21, close_notify, 2, 0x0303, 0), TLS_CTL_CLOSE_NOTIFY);
	assert_int_equal(tls_ctl_classify(21, fatal, 2, 0x0304, 0), TLS_CTL_PEER_ALERT);
	assert_int_equal(tls_ctl_classify(21, close_notify, 3, 0x0304, 0), TLS_CTL_MALFORMED);
	assert_int_equal(tls_ctl_classify(21, close_notify, 0, 0x0304, 0), TLS_CTL_MALFORMED);
	assert_int_equal(tls_ctl_classify(22, ku, 5, 0x0304, 0), TLS_CTL_KEY_UPDATE);
	/* TLS 1.2 has no KeyUpdate: a handshake record there is renegotiation */
	assert_int_equal(tls_ctl_classify(22, ku, 5, 0x0303, 0), TLS_CTL_OTHER);
	assert_int_equal(tls_ctl_classify(22, nst, 13, 0x0304, 1), TLS_CTL_TICKET);
	assert_int_equal(tls_ctl_classify(22, nst, 13, 0x0304, 0), TLS_CTL_OTHER); /* a client sending tickets */
	assert_int_equal(tls_ctl_classify(22, fin, 36, 0x0304, 0), TLS_CTL_OTHER);
	assert_int_equal(tls_ctl_classify(22, fin, 0, 0x0304, 0), TLS_CTL_OTHER);
	assert_int_equal(tls_ctl_classify(20, fin, 1, 0x0303, 0), TLS_CTL_OTHER);
}

static void test_key_update(void **s)
{
	uint8_t m[6] = { 24, 0, 0, 1, 0, 0 };
	(void)s;

	assert_int_equal(tls13_key_update_parse(m, 5), 0);
	m[4] = 1;
	assert_int_equal(tls13_key_update_parse(m, 5), 1);
	m[4] = 2; /* RFC 8446 4.6.3: any other value is illegal_parameter */
	assert_int_equal(tls13_key_update_parse(m, 5), -EINVAL);
	m[4] = 0;
	assert_int_equal(tls13_key_update_parse(m, 6), -EBADMSG); /* another message behind it */
	assert_int_equal(tls13_key_update_parse(m, 4), -EBADMSG);
	m[3] = 2;
	assert_int_equal(tls13_key_update_parse(m, 5), -EBADMSG);
	m[3] = 1;
	m[1] = 1;
	assert_int_equal(tls13_key_update_parse(m, 5), -EBADMSG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header),
		cmocka_unit_test(test_inner_type),
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_key_update),
	};
	return cmocka_run_group_tests_name("tls_rec_parse", tests, NULL, NULL);
}
