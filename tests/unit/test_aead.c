/*
 * AEAD known answers for both engines: every NIST CAVS GCM vector with a
 * 96-bit IV and a 128-bit tag (AES-128 and AES-256), and the RFC 7539/8439
 * ChaCha20-Poly1305 vectors (with a forged-tag case), from Debian's
 * python3-cryptography-vectors; each plaintext is cut into uneven segments
 * to exercise the scatter-gather path.  Then: engines agree on random data,
 * tampering is caught, the chooser picks an available engine, keys are wiped.
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

#include "aead.h"

#define VEC "/usr/lib/python3/dist-packages/cryptography_vectors/ciphers"

static struct aead_thread thr;

struct vec {
	uint8_t key[64], iv[64], aad[1024], pt[4096], ct[4096], tag[64];
	size_t klen, ivlen, aadlen, ptlen, ctlen, taglen;
	int expect_fail;
};

static size_t unhex(const char *s, uint8_t *out, size_t cap)
{
	size_t n = 0;

	while (s[0] && s[1] && s[0] != '\n' && s[0] != '\r' && n < cap) {
		unsigned int v;
		if (sscanf(s, "%2x", &v) != 1)
			break;
		out[n++] = (uint8_t)v;
		s += 2;
	}
	return n;
}

/* Run both engines on one vector; returns the number of engines checked. */
static int check_vec(enum aead_alg alg, const struct vec *v)
{
	static uint8_t buf[4096];
	int checked = 0;

	if (v->ivlen != AEAD_NONCE_LEN || v->taglen != AEAD_TAG_LEN || v->klen != aead_key_len(alg))
		return 0;
	for (unsigned int e = 0; e < AEAD_ENG_MAX; e++) {
		struct aead_key k;
		struct aead_seg seg[3];
		uint8_t tag[AEAD_TAG_LEN];
		size_t a = v->ptlen / 3, b = v->ptlen - v->ptlen / 5;

		if (e == AEAD_ENG_IPSECMB && !thr.imb_mgr)
			continue;
		assert_int_equal(aead_key_init(&k, &thr, e, alg, v->key, v->klen), 0);
		/* three uneven segments: [0,a) [a,b) [b,len) */
		seg[0] = (struct aead_seg){ buf, (uint32_t)a };
		seg[1] = (struct aead_seg){ buf + a, (uint32_t)(b - a) };
		seg[2] = (struct aead_seg){ buf + b, (uint32_t)(v->ptlen - b) };
		if (!v->expect_fail) {
			memcpy(buf, v->pt, v->ptlen);
			assert_int_equal(aead_seal(&thr, &k, v->iv, v->aad, v->aadlen, seg, 3, tag), 0);
			if (memcmp(buf, v->ct, v->ptlen) != 0 || memcmp(tag, v->tag, 16) != 0)
				fail_msg("%s/%s: seal differs from the known answer", aead_engine_str(e),
					 aead_alg_str(alg));
		}
		memcpy(buf, v->ct, v->ptlen);
		if (v->expect_fail) {
			assert_int_equal(aead_open(&thr, &k, v->iv, v->aad, v->aadlen, seg, 3, v->tag),
					 -EBADMSG);
		} else {
			assert_int_equal(aead_open(&thr, &k, v->iv, v->aad, v->aadlen, seg, 3, v->tag), 0);
			assert_memory_equal(buf, v->pt, v->ptlen);
			/* one flipped tag bit must be caught */
			memcpy(tag, v->tag, 16);
			tag[15] ^= 0x80;
			memcpy(buf, v->ct, v->ptlen);
			assert_int_equal(aead_open(&thr, &k, v->iv, v->aad, v->aadlen, seg, 3, tag), -EBADMSG);
		}
		aead_key_wipe(&k);
		checked++;
	}
	return checked;
}

/* Parse a file of "Key = hex" records separated by blank lines. */
static int run_file(const char *path, enum aead_alg alg, int nist)
{
	static struct vec v;
	char line[16384];
	int ran = 0, in = 0, ok_hdr = 1;
	FILE *f = fopen(path, "r");

	if (!f)
		fail_msg("%s missing: install python3-cryptography-vectors (scripts/setup.sh does)", path);
	memset(&v, 0, sizeof(v));
	for (;;) {
		char *l = fgets(line, sizeof(line), f);
		int blank = !l || l[0] == '\n' || l[0] == '\r';

		if (blank && in) {
			if (ok_hdr)
				ran += check_vec(alg, &v);
			memset(&v, 0, sizeof(v));
			in = 0;
		}
		if (!l)
			break;
		if (nist && l[0] == '[') {
			if (strncmp(l, "[IVlen = ", 9) == 0)
				ok_hdr = atoi(l + 9) == 96;
			else if (strncmp(l, "[Taglen = ", 10) == 0 && atoi(l + 10) != 128)
				ok_hdr = 0;
			else if (strncmp(l, "[Keylen = ", 10) == 0)
				ok_hdr = 1;
			continue;
		}
#define KV(name, field, len)                                                   \
	if (strncmp(l, name " = ", sizeof(name) + 2) == 0) {                   \
		v.len = unhex(l + sizeof(name) + 2, v.field, sizeof(v.field)); \
		in = 1;                                                        \
		continue;                                                      \
	}
		KV("Key", key, klen)
		KV("IV", iv, ivlen)
		KV("AAD", aad, aadlen)
		KV("Tag", tag, taglen)
		KV("PT", pt, ptlen)
		KV("Plaintext", pt, ptlen)
		KV("CT", ct, ctlen)
		KV("Ciphertext", ct, ctlen)
#undef KV
		if (strncmp(l, "Result = ", 9) == 0)
			v.expect_fail = 1;
		if (strncmp(l, "Count = ", 8) == 0 || strncmp(l, "COUNT = ", 8) == 0)
			in = 1;
	}
	fclose(f);
	return ran;
}

static void test_nist_gcm(void **s)
{
	(void)s;
	int n128 = run_file(VEC "/AES/GCM/gcmEncryptExtIV128.rsp", AEAD_AES_128_GCM, 1);
	int n256 = run_file(VEC "/AES/GCM/gcmEncryptExtIV256.rsp", AEAD_AES_256_GCM, 1);
	print_message("NIST GCM: %d AES-128 and %d AES-256 engine checks\n", n128, n256);
	assert_true(n128 >= 100);
	assert_true(n256 >= 100);
}

static void test_rfc_chacha(void **s)
{
	(void)s;
	int n = run_file(VEC "/ChaCha20Poly1305/openssl.txt", AEAD_CHACHA20_POLY1305, 0);
	print_message("ChaCha20-Poly1305: %d engine checks\n", n);
	assert_true(n >= 4);
}

static void test_engines_agree(void **s)
{
	static uint8_t a[20000], b[20000];
	uint8_t key[32], nonce[12], aad[13], ta[16], tb[16];
	(void)s;
	if (!thr.imb_mgr)
		skip();
	srand(7);
	for (unsigned int alg = 0; alg < AEAD_ALG_MAX; alg++) {
		for (unsigned int round = 0; round < 20; round++) {
			size_t len = (size_t)rand() % sizeof(a);
			struct aead_key ka, kb;
			struct aead_seg sa[4], sb = { b, (uint32_t)len };
			size_t cut[5] = { 0, len / 7, len / 2, len - len / 9, len };

			for (size_t i = 0; i < sizeof(key); i++)
				key[i] = (uint8_t)rand();
			for (size_t i = 0; i < 12; i++)
				nonce[i] = (uint8_t)rand();
			for (size_t i = 0; i < len; i++)
				a[i] = b[i] = (uint8_t)rand();
			memset(aad, (int)round, sizeof(aad));
			assert_int_equal(aead_key_init(&ka, &thr, AEAD_ENG_IPSECMB, alg, key, aead_key_len(alg)), 0);
			assert_int_equal(aead_key_init(&kb, &thr, AEAD_ENG_OPENSSL, alg, key, aead_key_len(alg)), 0);
			for (int i = 0; i < 4; i++)
				sa[i] = (struct aead_seg){ a + cut[i], (uint32_t)(cut[i + 1] - cut[i]) };
			assert_int_equal(aead_seal(&thr, &ka, nonce, aad, 13, sa, 4, ta), 0);
			assert_int_equal(aead_seal(&thr, &kb, nonce, aad, 13, &sb, 1, tb), 0);
			assert_memory_equal(a, b, len);
			assert_memory_equal(ta, tb, 16);
			/* each opens what the other sealed; a changed AAD byte fails */
			assert_int_equal(aead_open(&thr, &kb, nonce, aad, 13, sa, 4, ta), 0);
			assert_int_equal(aead_open(&thr, &ka, nonce, aad, 13, &sb, 1, tb), 0);
			assert_memory_equal(a, b, len);
			aad[0] ^= 1;
			assert_int_equal(aead_seal(&thr, &kb, nonce, aad, 13, &sb, 1, tb), 0);
			assert_int_equal(aead_open(&thr, &ka, nonce, aad + 0, 13, &sb, 1, ta), -EBADMSG);
			aead_key_wipe(&ka);
			aead_key_wipe(&kb);
		}
	}
}

static void test_keys_and_choice(void **s)
{
	struct aead_key k;
	struct aead_choice c;
	uint8_t key[32] = { 9 };
	(void)s;
	assert_int_equal(aead_key_init(&k, &thr, AEAD_ENG_OPENSSL, AEAD_AES_128_GCM, key, 32), -EINVAL);
	assert_int_equal(aead_key_init(&k, &thr, AEAD_ENG_MAX, AEAD_AES_128_GCM, key, 16), -EINVAL);
	assert_int_equal(aead_key_init(&k, &thr, AEAD_ENG_OPENSSL, AEAD_AES_256_GCM, key, 32), 0);
	aead_key_wipe(&k);
	for (size_t i = 0; i < sizeof(k.raw); i++)
		assert_int_equal(k.raw[i], 0);
	assert_null(k.evp);
	assert_int_equal(aead_choose(&thr, &c, 5, -1), 0);
	for (unsigned int a = 0; a < AEAD_ALG_MAX; a++)
		for (unsigned int z = 0; z < AEAD_SIZE_MAX; z++) {
			assert_true(c.eng[a][z] < AEAD_ENG_MAX);
			assert_true(c.gbps[a][z][c.eng[a][z]] > 0);
		}
	/* forcing an engine uses only that one */
	assert_int_equal(aead_choose(&thr, &c, 2, AEAD_ENG_OPENSSL), 0);
	assert_int_equal(c.eng[AEAD_CHACHA20_POLY1305][AEAD_SIZE_LARGE], AEAD_ENG_OPENSSL);
	assert_true(c.gbps[AEAD_AES_128_GCM][AEAD_SIZE_SMALL][AEAD_ENG_IPSECMB] == 0);
	assert_int_equal(aead_size_class(1400), AEAD_SIZE_SMALL);
	assert_int_equal(aead_size_class(16384), AEAD_SIZE_LARGE);
}

static int setup(void **s)
{
	(void)s;
	return aead_thread_init(&thr);
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
		cmocka_unit_test(test_nist_gcm),
		cmocka_unit_test(test_rfc_chacha),
		cmocka_unit_test(test_engines_agree),
		cmocka_unit_test(test_keys_and_choice),
	};
	return cmocka_run_group_tests_name("aead", tests, setup, teardown);
}
