/* SipHash-2-4 reference vector, and SYN cookies: valid ones come back with
 * their MSS, forged, altered and expired ones do not. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <errno.h>
#include <cmocka.h>

#include "tcp/tcp_cookie.h"

static void test_siphash_reference(void **s)
{
	/* the SipHash paper, appendix A: key 00..0f, message 00..0e */
	struct tcp_cookie_key k = { .k0 = 0x0706050403020100ull, .k1 = 0x0f0e0d0c0b0a0908ull };
	uint8_t m[15];
	(void)s;
	for (int i = 0; i < 15; i++)
		m[i] = (uint8_t)i;
	assert_true(siphash24(&k, m, 15) == 0xa129ca6149be45e5ull);
	/* the empty message, from the reference implementation's vectors */
	assert_true(siphash24(&k, m, 0) == 0x726fdb47dd0e0e31ull);
}

static const struct tcp_cookie_key K = { 0x1234, 0x5678 }, K2 = { 0x9abc, 0xdef0 };
#define SA 0x020012c6u /* 198.18.0.2 as stored (network order on LE) */
#define DA 0x0a0013c6u

static void test_roundtrip(void **s)
{
	uint16_t used, mss;
	(void)s;
	for (uint32_t isn = 0; isn < 4000000000u; isn += 123456789u) {
		uint32_t c = tcp_cookie_make(&K, SA, DA, 40000, 443, isn, 1000, 1460, &used);
		assert_int_equal(used, 1460);
		assert_int_equal(tcp_cookie_check(&K, SA, DA, 40000, 443, isn, c, 1000, &mss), 0);
		assert_int_equal(mss, 1460);
		/* one counter later still fine, two is too old */
		assert_int_equal(tcp_cookie_check(&K, SA, DA, 40000, 443, isn, c, 1001, &mss), 0);
		assert_int_equal(tcp_cookie_check(&K, SA, DA, 40000, 443, isn, c, 1002, &mss), -EINVAL);
		/* from the future: no */
		assert_int_equal(tcp_cookie_check(&K, SA, DA, 40000, 443, isn, c, 999, &mss), -EINVAL);
	}
	/* MSS rounds down to a class */
	tcp_cookie_make(&K, SA, DA, 1, 2, 3, 5, 1400, &used);
	assert_int_equal(used, 1300);
	tcp_cookie_make(&K, SA, DA, 1, 2, 3, 5, 100, &used);
	assert_int_equal(used, 536);
}

static void test_forgery(void **s)
{
	uint16_t used, mss;
	uint32_t c = tcp_cookie_make(&K, SA, DA, 40000, 443, 777, 50, 1440, &used);
	int bad = 0;
	(void)s;
	/* every single-bit change of the cookie fails */
	for (int b = 0; b < 32; b++)
		bad += tcp_cookie_check(&K, SA, DA, 40000, 443, 777, c ^ (1u << b), 50, &mss) != 0;
	assert_int_equal(bad, 32);
	/* every single-bit change of any 4-tuple field or of the client's ISN
	 * (SEG.SEQ - 1 of the ACK) fails too */
	for (int b = 0; b < 32; b++) {
		bad = 0;
		bad += tcp_cookie_check(&K, SA ^ (1u << b), DA, 40000, 443, 777, c, 50, &mss) != 0;
		bad += tcp_cookie_check(&K, SA, DA ^ (1u << b), 40000, 443, 777, c, 50, &mss) != 0;
		bad += tcp_cookie_check(&K, SA, DA, 40000, 443, 777 ^ (1u << b), c, 50, &mss) != 0;
		if (b < 16) {
			bad += tcp_cookie_check(&K, SA, DA, 40000 ^ (1u << b), 443, 777, c, 50, &mss) != 0;
			bad += tcp_cookie_check(&K, SA, DA, 40000, 443 ^ (1u << b), 777, c, 50, &mss) != 0;
		} else {
			bad += 2;
		}
		assert_int_equal(bad, 5);
	}
	/* source and destination swapped: a cookie is bound to its direction */
	assert_int_equal(tcp_cookie_check(&K, DA, SA, 443, 40000, 777, c, 50, &mss), -EINVAL);
	/* another tuple, ISN or key: fails */
	assert_int_equal(tcp_cookie_check(&K, SA ^ 1, DA, 40000, 443, 777, c, 50, &mss), -EINVAL);
	assert_int_equal(tcp_cookie_check(&K, SA, DA, 40001, 443, 777, c, 50, &mss), -EINVAL);
	assert_int_equal(tcp_cookie_check(&K, SA, DA, 40000, 444, 777, c, 50, &mss), -EINVAL);
	assert_int_equal(tcp_cookie_check(&K, SA, DA, 40000, 443, 778, c, 50, &mss), -EINVAL);
	assert_int_equal(tcp_cookie_check(&K2, SA, DA, 40000, 443, 777, c, 50, &mss), -EINVAL);
	/* random guesses almost never pass (2^-22 each, per counter) */
	bad = 0;
	for (uint32_t g = 0; g < 100000; g++)
		bad += tcp_cookie_check(&K, SA, DA, 40000, 443, 777, g * 2654435761u, 50, &mss) == 0;
	assert_true(bad <= 1);
}

static void test_timestamps(void **s)
{
	uint8_t ws;
	int sack;
	(void)s;
	uint32_t t = tcp_cookie_ts_encode(0x12345678, 7, 1);
	assert_int_equal(t & ~0x3fu, 0x12345678u & ~0x3fu);
	tcp_cookie_ts_decode(t, &ws, &sack);
	assert_int_equal(ws, 7);
	assert_int_equal(sack, 1);
	tcp_cookie_ts_decode(tcp_cookie_ts_encode(99, 0xff, 0), &ws, &sack);
	assert_int_equal(ws, 15); /* none offered */
	assert_int_equal(sack, 0);
	/* never ahead of the clock, whatever its low bits (else the peer's
	 * PAWS drops our next segments), at most 63 behind; across the wrap */
	for (uint32_t now = 0xffffff80u; now != 0x80; now++) {
		for (uint8_t w = 0; w <= 15; w++) {
			uint32_t ts = tcp_cookie_ts_encode(now, w, w & 1);

			assert_true((int32_t)(now - ts) >= 0 && now - ts < 64);
			tcp_cookie_ts_decode(ts, &ws, &sack);
			assert_int_equal(ws, w > 14 ? 15 : w);
			assert_int_equal(sack, w & 1);
		}
	}
	/* the concrete case: 0x1000 with wscale 7 + SACK would read 0x1017 */
	assert_int_equal(tcp_cookie_ts_encode(0x1000, 7, 1), 0x1000u - 64 + 0x17);
}

static void test_key_rotation(void **s)
{
	struct tcp_cookie_keys ks;
	uint16_t used, mss;
	uint32_t old, fresh, late;
	(void)s;
	tcp_cookie_keys_init(&ks, &K);
	old = tcp_cookie_make(&ks.cur, SA, DA, 40000, 443, 777, 100, 1460, &used);
	assert_int_equal(tcp_cookie_keys_check(&ks, SA, DA, 40000, 443, 777, old, 100, &mss), 0);
	/* rotate at counter 100: the old key's cookie still passes for its life */
	tcp_cookie_keys_rotate(&ks, &K2, 100);
	assert_memory_equal(&ks.prev, &K, sizeof(K));
	assert_int_equal(tcp_cookie_keys_check(&ks, SA, DA, 40000, 443, 777, old, 100, &mss), 0);
	assert_int_equal(mss, 1460);
	assert_int_equal(tcp_cookie_keys_check(&ks, SA, DA, 40000, 443, 777, old, 101, &mss), 0);
	/* one period later it has expired anyway */
	assert_int_equal(tcp_cookie_keys_check(&ks, SA, DA, 40000, 443, 777, old, 102, &mss), -EINVAL);
	/* new cookies use the new key */
	fresh = tcp_cookie_make(&ks.cur, SA, DA, 40000, 443, 777, 101, 1300, &used);
	assert_int_equal(tcp_cookie_keys_check(&ks, SA, DA, 40000, 443, 777, fresh, 102, &mss), 0);
	assert_int_equal(mss, 1300);
	/* the old key never validates a cookie claiming a counter after the
	 * rotation (what a leaked old key could mint) */
	late = tcp_cookie_make(&K, SA, DA, 40000, 443, 777, 101, 1460, &used);
	assert_int_equal(tcp_cookie_check(&K, SA, DA, 40000, 443, 777, late, 101, &mss), 0);
	assert_int_equal(tcp_cookie_keys_check(&ks, SA, DA, 40000, 443, 777, late, 101, &mss), -EINVAL);
	/* a second rotation drops the first key entirely */
	tcp_cookie_keys_rotate(&ks, &K, 101);
	assert_int_equal(tcp_cookie_keys_check(&ks, SA, DA, 40000, 443, 777, fresh, 101, &mss), 0);
	assert_memory_equal(&ks.prev, &K2, sizeof(K2));
	tcp_cookie_keys_wipe(&ks);
	assert_int_equal(ks.cur.k0 | ks.cur.k1 | ks.prev.k0 | ks.prev.k1, 0);
	assert_int_equal(tcp_cookie_keys_check(&ks, SA, DA, 40000, 443, 777, fresh, 101, &mss), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_siphash_reference),
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_forgery),
		cmocka_unit_test(test_timestamps),
		cmocka_unit_test(test_key_rotation),
	};
	return cmocka_run_group_tests_name("tcp_cookie", tests, NULL, NULL);
}
