/*
 * AEAD for the data plane (TLS records, later ESP): AES-128-GCM, AES-256-GCM
 * and ChaCha20-Poly1305 behind an ops table with two engines, intel-ipsec-mb
 * and OpenSSL libcrypto.  Data is processed in place over a list of segments
 * (an mbuf chain's data areas) without linearising.
 *
 * Threads: a key belongs to one thread at a time (a connection belongs to
 * one worker); each thread has its own struct aead_thread (ipsec-mb's
 * manager and OpenSSL context reserve).  No allocation after aead_key_init,
 * and none in it either for a thread with a reserve.
 */
#ifndef SLUICE_AEAD_H
#define SLUICE_AEAD_H

#include <stddef.h>
#include <stdint.h>

#define AEAD_NONCE_LEN 12
#define AEAD_TAG_LEN 16
#define AEAD_KEY_MAX 32

enum aead_alg { AEAD_AES_128_GCM, AEAD_AES_256_GCM, AEAD_CHACHA20_POLY1305, AEAD_ALG_MAX };
enum aead_engine_id { AEAD_ENG_IPSECMB, AEAD_ENG_OPENSSL, AEAD_ENG_MAX };

struct aead_seg {
	uint8_t *p;
	uint32_t len;
};

/* Per-thread engine state. */
struct aead_thread {
	void *imb_mgr; /* intel-ipsec-mb IMB_MGR, NULL when unavailable */
	/* OpenSSL cipher contexts made ahead of time (aead_thread_reserve), so
	 * that keying a connection on a worker allocates nothing; cap 0: keys
	 * of that algorithm get a context from the heap */
	struct {
		void **ctx;
		uint32_t n, cap;
	} evp[AEAD_ALG_MAX];
};

/* An expanded key: engine state lives inside (no pointers to the heap
 * except OpenSSL's cipher context, which comes from and goes back to the
 * thread's reserve when it has one). */
struct aead_key {
	uint8_t alg;            /* enum aead_alg */
	uint8_t eng;            /* enum aead_engine_id */
	struct aead_thread *thr; /* the thread it was made for, or NULL */
	void *evp;              /* OpenSSL EVP_CIPHER_CTX */
	uint8_t raw[AEAD_KEY_MAX];
	uint8_t state[1024] __attribute__((aligned(64))); /* ipsec-mb GCM key data */
};

struct aead_engine_ops {
	const char *name;
	int (*available)(void);
	int (*key_init)(struct aead_key *k, const uint8_t *key);
	void (*key_wipe)(struct aead_key *k);
	/* enc: seal and write tag; !enc: open and check tag (0 or -EBADMSG) */
	int (*crypt)(struct aead_thread *t, const struct aead_key *k, int enc,
		     const uint8_t nonce[AEAD_NONCE_LEN], const uint8_t *aad, size_t aadlen,
		     const struct aead_seg *seg, unsigned int nseg, uint8_t tag[AEAD_TAG_LEN]);
};

extern const struct aead_engine_ops aead_engine_ipsecmb;
extern const struct aead_engine_ops aead_engine_openssl;

int aead_thread_init(struct aead_thread *t);
/* Wipe every key made for `t` first. */
void aead_thread_fini(struct aead_thread *t);
/* Make `n` OpenSSL contexts for `alg` ahead of time (outside the worker
 * loop).  From then on keys of `alg` made for `t` take one of them, and
 * -ENOBUFS when none is left.  0 or -ENOMEM. */
int aead_thread_reserve(struct aead_thread *t, enum aead_alg alg, uint32_t n);

size_t aead_key_len(enum aead_alg alg);
const char *aead_alg_str(unsigned int alg);
const char *aead_engine_str(unsigned int eng);
int aead_engine_available(enum aead_engine_id eng);

/* `t`: the thread that will use the key (its ipsec-mb manager and OpenSSL
 * reserve are used: no allocation then), or NULL anywhere else.
 * 0, -EINVAL (bad alg/length), -ENOTSUP (engine unavailable), -ENOMEM,
 * -ENOBUFS (the thread's reserve for `alg` is used up). */
int aead_key_init(struct aead_key *k, struct aead_thread *t, enum aead_engine_id eng,
		  enum aead_alg alg, const uint8_t *key, size_t keylen);
/* Wipes key material and frees engine state (an OpenSSL context goes back
 * to the reserve it came from). */
void aead_key_wipe(struct aead_key *k);

int aead_seal(struct aead_thread *t, const struct aead_key *k, const uint8_t nonce[AEAD_NONCE_LEN],
	      const uint8_t *aad, size_t aadlen, const struct aead_seg *seg, unsigned int nseg,
	      uint8_t tag[AEAD_TAG_LEN]);
/* 0 or -EBADMSG.  On failure the segments hold garbage: discard them. */
int aead_open(struct aead_thread *t, const struct aead_key *k, const uint8_t nonce[AEAD_NONCE_LEN],
	      const uint8_t *aad, size_t aadlen, const struct aead_seg *seg, unsigned int nseg,
	      const uint8_t tag[AEAD_TAG_LEN]);

/* Gbit/s of payload sealed (or opened: same work, the tag check comes last)
 * in one contiguous `len`-byte buffer for about `secs`; 0 when the engine
 * cannot run. */
double aead_measure(struct aead_thread *t, enum aead_engine_id eng, enum aead_alg alg, uint8_t *buf,
		    uint32_t len, int seal, double secs);

/* Start-up choice: the faster engine per algorithm and record-size class,
 * measured on this machine (see aead_choose). */
enum aead_size_class { AEAD_SIZE_SMALL, AEAD_SIZE_LARGE, AEAD_SIZE_MAX }; /* <= 2 KB, larger */

struct aead_choice {
	uint8_t eng[AEAD_ALG_MAX][AEAD_SIZE_MAX];
	double gbps[AEAD_ALG_MAX][AEAD_SIZE_MAX][AEAD_ENG_MAX]; /* what was measured */
};

/* Measure each available engine for every algorithm at 1400 and 16384
 * bytes for about `ms_each` milliseconds and keep the faster; `force` >= 0
 * pins one engine instead. */
int aead_choose(struct aead_thread *t, struct aead_choice *c, unsigned int ms_each, int force);

static inline enum aead_size_class aead_size_class(uint32_t len)
{
	return len <= 2048 ? AEAD_SIZE_SMALL : AEAD_SIZE_LARGE;
}

#endif
