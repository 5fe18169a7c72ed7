/* AEAD engine registry, key life cycle and the start-up engine choice. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "aead.h"

int aead_ipsecmb_thread_init(struct aead_thread *t);
void aead_ipsecmb_thread_fini(struct aead_thread *t);
int aead_openssl_reserve(struct aead_thread *t, enum aead_alg alg, uint32_t n);
void aead_openssl_unreserve(struct aead_thread *t, enum aead_alg alg);

static const struct aead_engine_ops *const engines[AEAD_ENG_MAX] = {
	[AEAD_ENG_IPSECMB] = &aead_engine_ipsecmb,
	[AEAD_ENG_OPENSSL] = &aead_engine_openssl,
};

size_t aead_key_len(enum aead_alg alg)
{
	switch (alg) {
	case AEAD_AES_128_GCM: return 16;
	case AEAD_AES_256_GCM: return 32;
	case AEAD_CHACHA20_POLY1305: return 32;
	default: return 0;
	}
}

const char *aead_alg_str(unsigned int alg)
{
	static const char *const n[AEAD_ALG_MAX] = {
		"aes-128-gcm", "aes-256-gcm", "chacha20-poly1305",
	};
	return alg < AEAD_ALG_MAX ? n[alg] : "?";
}

const char *aead_engine_str(unsigned int eng)
{
	return eng < AEAD_ENG_MAX ? engines[eng]->name : "?";
}

int aead_engine_available(enum aead_engine_id eng)
{
	/* asked once per process (ipsec-mb's probe builds a whole manager):
	 * 0 unknown, 1 yes, 2 no; racing first callers agree */
	static int known[AEAD_ENG_MAX];

	if (eng >= AEAD_ENG_MAX)
		return 0;
	if (!__atomic_load_n(&known[eng], __ATOMIC_RELAXED))
		__atomic_store_n(&known[eng], engines[eng]->available() ? 1 : 2, __ATOMIC_RELAXED);
	return __atomic_load_n(&known[eng], __ATOMIC_RELAXED) == 1;
}

int aead_thread_init(struct aead_thread *t)
{
	memset(t, 0, sizeof(*t));
	/* ipsec-mb missing is not an error: OpenSSL then does the work */
	(void)aead_ipsecmb_thread_init(t);
	/* probe the engines now, not at the thread's first key */
	for (unsigned int e = 0; e < AEAD_ENG_MAX; e++)
		(void)aead_engine_available((enum aead_engine_id)e);
	return 0;
}

void aead_thread_fini(struct aead_thread *t)
{
	aead_ipsecmb_thread_fini(t);
	for (unsigned int a = 0; a < AEAD_ALG_MAX; a++) {
		aead_openssl_unreserve(t, (enum aead_alg)a);
		free(t->evp[a].ctx);
		t->evp[a].ctx = NULL;
		t->evp[a].n = t->evp[a].cap = 0;
	}
}

int aead_thread_reserve(struct aead_thread *t, enum aead_alg alg, uint32_t n)
{
	void **ctx;

	if (alg >= AEAD_ALG_MAX || t->evp[alg].cap)
		return -EINVAL;
	ctx = calloc(n ? n : 1, sizeof(*ctx));
	if (!ctx)
		return -ENOMEM;
	t->evp[alg].ctx = ctx;
	t->evp[alg].cap = n;
	return aead_openssl_reserve(t, alg, n);
}

int aead_key_init(struct aead_key *k, struct aead_thread *t, enum aead_engine_id eng,
		  enum aead_alg alg, const uint8_t *key, size_t keylen)
{
	int ret;

	memset(k, 0, sizeof(*k));
	if (eng >= AEAD_ENG_MAX || alg >= AEAD_ALG_MAX || keylen != aead_key_len(alg))
		return -EINVAL;
	if (!aead_engine_available(eng))
		return -ENOTSUP;
	k->alg = (uint8_t)alg;
	k->eng = (uint8_t)eng;
	k->thr = t;
	memcpy(k->raw, key, keylen);
	ret = engines[eng]->key_init(k, key);
	if (ret)
		aead_key_wipe(k);
	return ret;
}

void aead_key_wipe(struct aead_key *k)
{
	if (k->eng < AEAD_ENG_MAX)
		engines[k->eng]->key_wipe(k);
	OPENSSL_cleanse(k->raw, sizeof(k->raw));
	k->evp = NULL;
}

int aead_seal(struct aead_thread *t, const struct aead_key *k, const uint8_t nonce[AEAD_NONCE_LEN],
	      const uint8_t *aad, size_t aadlen, const struct aead_seg *seg, unsigned int nseg,
	      uint8_t tag[AEAD_TAG_LEN])
{
	return engines[k->eng]->crypt(t, k, 1, nonce, aad, aadlen, seg, nseg, tag);
}

int aead_open(struct aead_thread *t, const struct aead_key *k, const uint8_t nonce[AEAD_NONCE_LEN],
	      const uint8_t *aad, size_t aadlen, const struct aead_seg *seg, unsigned int nseg,
	      const uint8_t tag[AEAD_TAG_LEN])
{
	return engines[k->eng]->crypt(t, k, 0, nonce, aad, aadlen, seg, nseg, (uint8_t *)tag);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double aead_measure(struct aead_thread *t, enum aead_engine_id eng, enum aead_alg alg, uint8_t *buf,
		    uint32_t len, int seal, double secs)
{
	static const uint8_t key[AEAD_KEY_MAX] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	uint8_t nonce[AEAD_NONCE_LEN] = { 0 }, tag[AEAD_TAG_LEN] = { 0 }, aad[13] = { 0 };
	struct aead_seg seg = { .p = buf, .len = len };
	struct aead_key k;
	double t0, t1;
	uint64_t n = 0;

	if (aead_key_init(&k, t, eng, alg, key, aead_key_len(alg)) != 0)
		return 0;
	t0 = now_s();
	do {
		for (int i = 0; i < 16; i++, n++) {
			nonce[0] = (uint8_t)n;
			if (seal)
				aead_seal(t, &k, nonce, aad, sizeof(aad), &seg, 1, tag);
			else
				(void)aead_open(t, &k, nonce, aad, sizeof(aad), &seg, 1, tag);
		}
		t1 = now_s();
	} while (t1 - t0 < secs);
	aead_key_wipe(&k);
	return (double)n * len * 8 / (t1 - t0) / 1e9;
}

int aead_choose(struct aead_thread *t, struct aead_choice *c, unsigned int ms_each, int force)
{
	static const uint32_t sizes[AEAD_SIZE_MAX] = { 1400, 16384 };
	static uint8_t buf[16384];

	memset(c, 0, sizeof(*c));
	for (unsigned int a = 0; a < AEAD_ALG_MAX; a++) {
		for (unsigned int s = 0; s < AEAD_SIZE_MAX; s++) {
			double best = -1;

			for (unsigned int e = 0; e < AEAD_ENG_MAX; e++) {
				if (!aead_engine_available(e) ||
				    (e == AEAD_ENG_IPSECMB && !t->imb_mgr))
					continue;
				if (force >= 0 && (int)e != force)
					continue;
				c->gbps[a][s][e] = aead_measure(t, e, a, buf, sizes[s], 1, ms_each / 1000.0);
				if (c->gbps[a][s][e] > best) {
					best = c->gbps[a][s][e];
					c->eng[a][s] = (uint8_t)e;
				}
			}
			if (best < 0)
				return -ENOTSUP;
		}
	}
	return 0;
}
