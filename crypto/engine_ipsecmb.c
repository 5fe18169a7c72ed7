/*
 * intel-ipsec-mb engine: the GCM and ChaCha20-Poly1305 "init / update /
 * finalize" API, one update per segment, so chains are never linearised.
 * The only file that includes intel-ipsec-mb.h.
 */
#include <errno.h>
#include <string.h>

#include <intel-ipsec-mb.h>
#include <openssl/crypto.h>

#include "aead.h"

_Static_assert(sizeof(struct gcm_key_data) <= sizeof(((struct aead_key *)0)->state),
	       "aead_key.state holds ipsec-mb's GCM key data");

static int available(void)
{
	IMB_MGR *m = alloc_mb_mgr(0);
	int ok;

	if (!m)
		return 0;
	init_mb_mgr_auto(m, NULL);
	ok = imb_get_errno(m) == 0;
	free_mb_mgr(m);
	return ok;
}

static int key_init(struct aead_key *k, const uint8_t *key)
{
	IMB_MGR *m = k->thr ? k->thr->imb_mgr : NULL;
	int own = !m;

	if (k->alg == AEAD_CHACHA20_POLY1305)
		return 0; /* takes the raw key, already in k->raw */
	if (own) {
		/* no thread given: a manager just for the key schedule */
		m = alloc_mb_mgr(0);
		if (!m)
			return -ENOMEM;
		init_mb_mgr_auto(m, NULL);
	}
	if (k->alg == AEAD_AES_128_GCM)
		IMB_AES128_GCM_PRE(m, key, (struct gcm_key_data *)k->state);
	else
		IMB_AES256_GCM_PRE(m, key, (struct gcm_key_data *)k->state);
	if (own)
		free_mb_mgr(m);
	return 0;
}

static void key_wipe(struct aead_key *k)
{
	OPENSSL_cleanse(k->state, sizeof(k->state));
}

static int gcm(IMB_MGR *m, const struct aead_key *k, int enc, const uint8_t *nonce,
	       const uint8_t *aad, size_t aadlen, const struct aead_seg *seg, unsigned int nseg,
	       uint8_t *tag)
{
	const struct gcm_key_data *kd = (const struct gcm_key_data *)k->state;
	struct gcm_context_data ctx;
	int a128 = k->alg == AEAD_AES_128_GCM;

	if (a128)
		IMB_AES128_GCM_INIT(m, kd, &ctx, nonce, aad, aadlen);
	else
		IMB_AES256_GCM_INIT(m, kd, &ctx, nonce, aad, aadlen);
	for (unsigned int i = 0; i < nseg; i++) {
		if (enc && a128)
			IMB_AES128_GCM_ENC_UPDATE(m, kd, &ctx, seg[i].p, seg[i].p, seg[i].len);
		else if (enc)
			IMB_AES256_GCM_ENC_UPDATE(m, kd, &ctx, seg[i].p, seg[i].p, seg[i].len);
		else if (a128)
			IMB_AES128_GCM_DEC_UPDATE(m, kd, &ctx, seg[i].p, seg[i].p, seg[i].len);
		else
			IMB_AES256_GCM_DEC_UPDATE(m, kd, &ctx, seg[i].p, seg[i].p, seg[i].len);
	}
	if (enc && a128)
		IMB_AES128_GCM_ENC_FINALIZE(m, kd, &ctx, tag, AEAD_TAG_LEN);
	else if (enc)
		IMB_AES256_GCM_ENC_FINALIZE(m, kd, &ctx, tag, AEAD_TAG_LEN);
	else if (a128)
		IMB_AES128_GCM_DEC_FINALIZE(m, kd, &ctx, tag, AEAD_TAG_LEN);
	else
		IMB_AES256_GCM_DEC_FINALIZE(m, kd, &ctx, tag, AEAD_TAG_LEN);
	OPENSSL_cleanse(&ctx, sizeof(ctx));
	return 0;
}

static int chacha(IMB_MGR *m, const struct aead_key *k, int enc, const uint8_t *nonce,
		  const uint8_t *aad, size_t aadlen, const struct aead_seg *seg, unsigned int nseg,
		  uint8_t *tag)
{
	struct chacha20_poly1305_context_data ctx;

	IMB_CHACHA20_POLY1305_INIT(m, k->raw, &ctx, nonce, aad, aadlen);
	for (unsigned int i = 0; i < nseg; i++) {
		if (enc)
			IMB_CHACHA20_POLY1305_ENC_UPDATE(m, k->raw, &ctx, seg[i].p, seg[i].p, seg[i].len);
		else
			IMB_CHACHA20_POLY1305_DEC_UPDATE(m, k->raw, &ctx, seg[i].p, seg[i].p, seg[i].len);
	}
	if (enc)
		IMB_CHACHA20_POLY1305_ENC_FINALIZE(m, &ctx, tag, AEAD_TAG_LEN);
	else
		IMB_CHACHA20_POLY1305_DEC_FINALIZE(m, &ctx, tag, AEAD_TAG_LEN);
	OPENSSL_cleanse(&ctx, sizeof(ctx));
	return 0;
}

static int do_crypt(struct aead_thread *t, const struct aead_key *k, int enc,
		 const uint8_t nonce[AEAD_NONCE_LEN], const uint8_t *aad, size_t aadlen,
		 const struct aead_seg *seg, unsigned int nseg, uint8_t tag[AEAD_TAG_LEN])
{
	IMB_MGR *m = t->imb_mgr;
	uint8_t calc[AEAD_TAG_LEN];
	uint8_t *out = enc ? tag : calc;
	int ok;

	if (!m)
		return -ENOTSUP;
	if (k->alg == AEAD_CHACHA20_POLY1305)
		chacha(m, k, enc, nonce, aad, aadlen, seg, nseg, out);
	else
		gcm(m, k, enc, nonce, aad, aadlen, seg, nseg, out);
	if (enc)
		return 0;
	/* the tag check must not leak how many bytes matched */
	ok = CRYPTO_memcmp(calc, tag, AEAD_TAG_LEN) == 0;
	OPENSSL_cleanse(calc, sizeof(calc));
	return ok ? 0 : -EBADMSG;
}

const struct aead_engine_ops aead_engine_ipsecmb = {
	.name = "ipsec-mb",
	.available = available,
	.key_init = key_init,
	.key_wipe = key_wipe,
	.crypt = do_crypt,
};

int aead_ipsecmb_thread_init(struct aead_thread *t);
void aead_ipsecmb_thread_fini(struct aead_thread *t);

int aead_ipsecmb_thread_init(struct aead_thread *t)
{
	IMB_MGR *m = alloc_mb_mgr(0);

	if (!m)
		return -ENOMEM;
	init_mb_mgr_auto(m, NULL);
	if (imb_get_errno(m) != 0) {
		free_mb_mgr(m);
		return -ENOTSUP;
	}
	t->imb_mgr = m;
	return 0;
}

void aead_ipsecmb_thread_fini(struct aead_thread *t)
{
	if (t->imb_mgr)
		free_mb_mgr(t->imb_mgr);
	t->imb_mgr = NULL;
}
