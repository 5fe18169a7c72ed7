/*
 * OpenSSL libcrypto engine: one EVP_CIPHER_CTX per key, re-keyed with only
 * the nonce for every record; one update per segment, in place.  Contexts
 * come from the thread's reserve when it has one (aead_thread_reserve).
 */
#include <errno.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "aead.h"

static const EVP_CIPHER *cipher(unsigned int alg)
{
	switch (alg) {
	case AEAD_AES_128_GCM: return EVP_aes_128_gcm();
	case AEAD_AES_256_GCM: return EVP_aes_256_gcm();
	case AEAD_CHACHA20_POLY1305: return EVP_chacha20_poly1305();
	default: return NULL;
	}
}

static int available(void)
{
	return 1;
}

/*
 * A reserved context has its cipher and provider state made already (by
 * aead_openssl_reserve, outside the worker loop); keying it with a NULL
 * cipher only runs the key schedule in that state, so no allocation.
 */
static int key_init(struct aead_key *k, const uint8_t *key)
{
	struct aead_thread *t = k->thr;
	EVP_CIPHER_CTX *c;

	if (t && t->evp[k->alg].cap) {
		if (!t->evp[k->alg].n)
			return -ENOBUFS;
		c = t->evp[k->alg].ctx[--t->evp[k->alg].n];
		if (EVP_CipherInit_ex(c, NULL, NULL, key, NULL, 1) != 1) {
			t->evp[k->alg].ctx[t->evp[k->alg].n++] = c;
			return -EINVAL;
		}
		k->evp = c;
		return 0;
	}
	c = EVP_CIPHER_CTX_new();
	if (!c)
		return -ENOMEM;
	/* direction is chosen per record; the key schedule is done once here */
	if (EVP_CipherInit_ex(c, cipher(k->alg), NULL, key, NULL, 1) != 1) {
		EVP_CIPHER_CTX_free(c);
		return -EINVAL;
	}
	k->evp = c;
	return 0;
}

static void key_wipe(struct aead_key *k)
{
	static const uint8_t zero[AEAD_KEY_MAX];
	struct aead_thread *t = k->thr;

	if (!k->evp)
		return;
	if (t && t->evp[k->alg].cap && t->evp[k->alg].n < t->evp[k->alg].cap) {
		/* back to the reserve: the all-zero key's schedule overwrites
		 * this one's */
		(void)EVP_CipherInit_ex(k->evp, NULL, NULL, zero, NULL, 1);
		t->evp[k->alg].ctx[t->evp[k->alg].n++] = k->evp;
	} else {
		/* EVP_CIPHER_CTX_free cleanses the key schedule */
		EVP_CIPHER_CTX_free(k->evp);
	}
	k->evp = NULL;
}

int aead_openssl_reserve(struct aead_thread *t, enum aead_alg alg, uint32_t n);
void aead_openssl_unreserve(struct aead_thread *t, enum aead_alg alg);

int aead_openssl_reserve(struct aead_thread *t, enum aead_alg alg, uint32_t n)
{
	static const uint8_t zero[AEAD_KEY_MAX];

	while (t->evp[alg].n < n) {
		EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();

		if (!c)
			return -ENOMEM;
		if (EVP_CipherInit_ex(c, cipher(alg), NULL, zero, NULL, 1) != 1) {
			EVP_CIPHER_CTX_free(c);
			return -ENOMEM;
		}
		t->evp[alg].ctx[t->evp[alg].n++] = c;
	}
	return 0;
}

void aead_openssl_unreserve(struct aead_thread *t, enum aead_alg alg)
{
	while (t->evp[alg].n)
		EVP_CIPHER_CTX_free(t->evp[alg].ctx[--t->evp[alg].n]);
}

static int do_crypt(struct aead_thread *t, const struct aead_key *k, int enc,
		 const uint8_t nonce[AEAD_NONCE_LEN], const uint8_t *aad, size_t aadlen,
		 const struct aead_seg *seg, unsigned int nseg, uint8_t tag[AEAD_TAG_LEN])
{
	EVP_CIPHER_CTX *c = k->evp;
	int n;

	(void)t;
	if (EVP_CipherInit_ex(c, NULL, NULL, NULL, nonce, enc) != 1)
		return -EINVAL;
	if (aadlen && EVP_CipherUpdate(c, NULL, &n, aad, (int)aadlen) != 1)
		return -EINVAL;
	for (unsigned int i = 0; i < nseg; i++)
		if (seg[i].len && EVP_CipherUpdate(c, seg[i].p, &n, seg[i].p, (int)seg[i].len) != 1)
			return -EINVAL;
	if (!enc && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, AEAD_TAG_LEN, (void *)tag) != 1)
		return -EINVAL;
	if (EVP_CipherFinal_ex(c, NULL, &n) != 1)
		return enc ? -EINVAL : -EBADMSG;
	if (enc && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, AEAD_TAG_LEN, tag) != 1)
		return -EINVAL;
	return 0;
}

const struct aead_engine_ops aead_engine_openssl = {
	.name = "openssl",
	.available = available,
	.key_init = key_init,
	.key_wipe = key_wipe,
	.crypt = do_crypt,
};
