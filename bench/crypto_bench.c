/*
 * crypto_bench: in-path TLS record seal/open against the raw AEAD engines,
 * measured in one run.  Prints one JSON object per line:
 *   {"aead", "record_bytes", "op", "in_path_gbps", "engine", "raw": {"ipsec-mb", "openssl"}}
 * In-path = tls_rec_seal/open (TLS 1.3 nonce and AAD) on the engine
 * sluice-dp would choose, with the record split into 2 KB segments as an
 * mbuf chain would hold it.  Raw = one aead call on one contiguous buffer.
 * Open is timed on the same bytes each round: after the first round the tag
 * no longer matches, but the engine does the same work (the tag check is the
 * last, constant-time step).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aead.h"
#include "tls_record.h"

#define SEG 2048

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint8_t buf[16384 + 64];

static double in_path(struct aead_thread *t, enum aead_engine_id e, enum aead_alg a, uint32_t len,
		      int seal, double secs)
{
	uint8_t secret[48] = { 9 }, hdr[16] = { 23, 3, 3, 0, 0 }, tag[16] = { 0 };
	struct aead_seg seg[16];
	unsigned int nseg = 0;
	struct tls_rec r;
	uint64_t n = 0;
	double t0, t1;

	if (tls13_rec_init(&r, t, e, a, secret, a == AEAD_AES_256_GCM ? 48 : 32) != 0)
		return 0;
	for (uint32_t off = 0; off < len; off += SEG)
		seg[nseg++] = (struct aead_seg){ buf + off, len - off < SEG ? len - off : SEG };
	t0 = now_s();
	do {
		for (int i = 0; i < 32; i++, n++) {
			if (seal) {
				tls_rec_seal(&r, t, TLS_CT_APPLICATION_DATA, hdr, seg, nseg, len, tag);
			} else {
				hdr[3] = (uint8_t)((len + 16) >> 8);
				hdr[4] = (uint8_t)(len + 16);
				(void)tls_rec_open(&r, t, hdr, seg, nseg, len, tag);
				r.seq++; /* as if it had opened */
			}
		}
		t1 = now_s();
	} while (t1 - t0 < secs);
	tls_rec_wipe(&r);
	return (double)n * len * 8 / (t1 - t0) / 1e9;
}

int main(int argc, char **argv)
{
	static const uint32_t sizes[] = { 16384, 1400 };
	double secs = argc > 1 ? atof(argv[1]) : 0.5;
	struct aead_thread t;

	aead_thread_init(&t);
	for (unsigned int a = 0; a < AEAD_ALG_MAX; a++) {
		for (unsigned int s = 0; s < 2; s++) {
			for (int seal = 1; seal >= 0; seal--) {
				double r_imb = t.imb_mgr ? aead_measure(&t, AEAD_ENG_IPSECMB, a, buf, sizes[s], seal, secs) : 0;
				double r_ssl = aead_measure(&t, AEAD_ENG_OPENSSL, a, buf, sizes[s], seal, secs);
				enum aead_engine_id e = r_imb > r_ssl ? AEAD_ENG_IPSECMB : AEAD_ENG_OPENSSL;
				double ip = in_path(&t, e, a, sizes[s], seal, secs);

				printf("{\"aead\":\"%s\",\"record_bytes\":%u,\"op\":\"%s\",\"in_path_gbps\":%.3f,"
				       "\"engine\":\"%s\",\"raw\":{\"ipsec-mb\":%.3f,\"openssl\":%.3f}}\n",
				       aead_alg_str(a), sizes[s], seal ? "seal" : "open", ip,
				       aead_engine_str(e), r_imb, r_ssl);
				fflush(stdout);
			}
		}
	}
	aead_thread_fini(&t);
	return 0;
}
