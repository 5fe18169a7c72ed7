/*
 * Workers never allocate (DESIGN.md 7): keying a connection's record layer
 * for a thread with a reserve -- TLS 1.3 key schedule, TLS 1.2 keys, a
 * KeyUpdate, sealing, opening, wiping -- must not call the allocator, on
 * either engine.  This program interposes malloc and friends (OpenSSL's and
 * intel-ipsec-mb's allocations go through them) and counts the calls made
 * inside the measured stretches.  Also: a used-up reserve says so, a context
 * that goes back is reused, and a reused context gives the same bytes as a
 * fresh one.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <errno.h>
#include <string.h>
#include <cmocka.h>

#include <sluice/tls_msg.h>

#include "tls_record.h"

extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t m);
extern void *__libc_realloc(void *p, size_t n);
extern void *__libc_memalign(size_t a, size_t n);
extern void __libc_free(void *p);

static int counting;
static unsigned long calls;

void *malloc(size_t n)
{
	calls += counting;
	return __libc_malloc(n);
}

void *calloc(size_t n, size_t m)
{
	calls += counting;
	return __libc_calloc(n, m);
}

void *realloc(void *p, size_t n)
{
	calls += counting;
	return __libc_realloc(p, n);
}

void free(void *p)
{
	calls += counting && p;
	__libc_free(p);
}

int posix_memalign(void **out, size_t a, size_t n)
{
	calls += counting;
	*out = __libc_memalign(a, n);
	return *out ? 0 : ENOMEM;
}

void *aligned_alloc(size_t a, size_t n)
{
	calls += counting;
	return __libc_memalign(a, n);
}

void *memalign(size_t a, size_t n)
{
	calls += counting;
	return __libc_memalign(a, n);
}

static struct aead_thread thr;

/* One record each way between two states: what tx seals rx opens. */
static void exchange(struct tls_rec *tx, struct tls_rec *rx)
{
	uint8_t rec[5 + 8 + 300 + 16], tag[AEAD_TAG_LEN], plain[300];
	struct aead_seg seg[2];
	int hl;

	for (unsigned int i = 0; i < sizeof(plain); i++)
		plain[i] = (uint8_t)(i * 13);
	memcpy(rec + 13, plain, sizeof(plain));
	seg[0] = (struct aead_seg){ rec + 13, 100 };
	seg[1] = (struct aead_seg){ rec + 113, 200 };
	hl = tls_rec_seal(tx, &thr, TLS_CT_APPLICATION_DATA, rec, seg, 2, 300, tag);
	assert_true(hl == 5 || hl == 13);
	assert_memory_not_equal(rec + 13, plain, 64);
	/* the header (and 1.2 GCM's explicit nonce) as sealed: rec[0..hl) */
	assert_int_equal(tls_rec_open(rx, &thr, rec, seg, 2, 300, tag), 0);
	assert_memory_equal(rec + 13, plain, sizeof(plain));
}

static void test_keying_allocates_nothing(void **s)
{
	static const uint8_t secret[48] = "a traffic secret of forty-eight bytes, no more.";
	static const uint8_t iv[12] = "twelve bytes";
	(void)s;

	for (unsigned int eng = 0; eng < AEAD_ENG_MAX; eng++) {
		if (eng == AEAD_ENG_IPSECMB && !thr.imb_mgr)
			continue;
		for (unsigned int a = 0; a < AEAD_ALG_MAX; a++) {
			size_t sl = a == AEAD_AES_256_GCM ? 48 : 32;
			struct tls_rec tx, rx;

			calls = 0;
			counting = 1;
			assert_int_equal(tls13_rec_init(&tx, &thr, eng, a, secret, sl), 0);
			assert_int_equal(tls13_rec_init(&rx, &thr, eng, a, secret, sl), 0);
			exchange(&tx, &rx);
			assert_int_equal(tls13_rec_key_update(&tx, eng), 0);
			assert_int_equal(tls13_rec_key_update(&rx, eng), 0);
			exchange(&tx, &rx);
			tls_rec_wipe(&tx);
			tls_rec_wipe(&rx);
			assert_int_equal(tls12_rec_init(&tx, &thr, eng, a, secret, aead_key_len(a), iv,
							a == AEAD_CHACHA20_POLY1305 ? 12 : 4, 1), 0);
			assert_int_equal(tls12_rec_init(&rx, &thr, eng, a, secret, aead_key_len(a), iv,
							a == AEAD_CHACHA20_POLY1305 ? 12 : 4, 1), 0);
			exchange(&tx, &rx);
			tls_rec_wipe(&tx);
			tls_rec_wipe(&rx);
			counting = 0;
			if (calls)
				fail_msg("%s on %s: %lu allocator calls", aead_alg_str(a), aead_engine_str(eng),
					 calls);
		}
	}
	/* the same without a thread does allocate: the counter can move */
	{
		struct tls_rec r;

		calls = 0;
		counting = 1;
		assert_int_equal(tls13_rec_init(&r, NULL, AEAD_ENG_OPENSSL, AEAD_AES_128_GCM, secret, 32), 0);
		tls_rec_wipe(&r);
		counting = 0;
		assert_true(calls > 0);
	}
}

static void test_reserve_used_up(void **s)
{
	static const uint8_t k1[16] = "key number one..", k2[16] = "key number two..";
	static const uint8_t k32[32] = "a 256-bit key, thirty-two bytes";
	struct aead_thread t;
	struct aead_key a, b, fresh;
	uint8_t buf1[64] = { 0 }, buf2[64] = { 0 }, tag1[16], tag2[16], nonce[12] = { 7 };
	struct aead_seg s1 = { buf1, 64 }, s2 = { buf2, 64 };
	void *ctx;
	(void)s;

	aead_thread_init(&t);
	assert_int_equal(aead_thread_reserve(&t, AEAD_AES_128_GCM, 1), 0);
	assert_int_equal(aead_thread_reserve(&t, AEAD_AES_128_GCM, 1), -EINVAL); /* once */
	assert_int_equal(aead_key_init(&a, &t, AEAD_ENG_OPENSSL, AEAD_AES_128_GCM, k1, 16), 0);
	ctx = a.evp;
	assert_int_equal(aead_key_init(&b, &t, AEAD_ENG_OPENSSL, AEAD_AES_128_GCM, k2, 16), -ENOBUFS);
	/* another algorithm has no reserve: from the heap, as before */
	assert_int_equal(aead_key_init(&b, &t, AEAD_ENG_OPENSSL, AEAD_AES_256_GCM, k32, 32), 0);
	aead_key_wipe(&b);
	assert_int_equal(aead_seal(&t, &a, nonce, NULL, 0, &s1, 1, tag1), 0);
	aead_key_wipe(&a);
	/* the context comes back and is reused for another key, which then
	 * seals exactly as a fresh context does */
	assert_int_equal(aead_key_init(&b, &t, AEAD_ENG_OPENSSL, AEAD_AES_128_GCM, k2, 16), 0);
	assert_ptr_equal(b.evp, ctx);
	assert_int_equal(aead_key_init(&fresh, NULL, AEAD_ENG_OPENSSL, AEAD_AES_128_GCM, k2, 16), 0);
	memset(buf1, 0, sizeof(buf1));
	assert_int_equal(aead_seal(&t, &b, nonce, NULL, 0, &s1, 1, tag1), 0);
	assert_int_equal(aead_seal(&t, &fresh, nonce, NULL, 0, &s2, 1, tag2), 0);
	assert_memory_equal(buf1, buf2, sizeof(buf1));
	assert_memory_equal(tag1, tag2, sizeof(tag1));
	aead_key_wipe(&b);
	aead_key_wipe(&fresh);

	/* a pair that cannot be made whole (one context for two keys) gives
	 * back the one it took: the next single key still gets it */
	{
		struct sl_tls_keys k = { .version = 0x0303, .alg = AEAD_AES_128_GCM };
		struct tls_rec rx, tx;

		k.rx.key_len = k.tx.key_len = 16;
		k.rx.iv_len = k.tx.iv_len = 4;
		assert_int_equal(tls_rec_install(&rx, &tx, &t, AEAD_ENG_OPENSSL, &k), -ENOBUFS);
		assert_int_equal(aead_key_init(&b, &t, AEAD_ENG_OPENSSL, AEAD_AES_128_GCM, k2, 16), 0);
		assert_ptr_equal(b.evp, ctx);
		aead_key_wipe(&b);
	}
	aead_thread_fini(&t);
}

static int setup(void **s)
{
	(void)s;
	aead_thread_init(&thr);
	for (unsigned int a = 0; a < AEAD_ALG_MAX; a++)
		if (aead_thread_reserve(&thr, a, 2) != 0)
			return -1;
	return 0;
}

static int teardown(void **s)
{
	(void)s;
	aead_thread_fini(&thr);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keying_allocates_nothing),
		cmocka_unit_test(test_reserve_used_up),
	};
	return cmocka_run_group_tests_name("crypto_noalloc", tests, setup, teardown);
}
