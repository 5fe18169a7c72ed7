/*
 * Known answers from RFC 8448 section 3 ("Simple 1-RTT Handshake",
 * TLS_AES_128_GCM_SHA256): values neither OpenSSL nor we produced.
 *
 * - HKDF-Expand-Label / Derive-Secret (RFC 8446 7.1): the handshake and
 *   application traffic secrets from the trace's handshake and master
 *   secrets and transcript hashes; finished keys; every write key and IV.
 * - Record protection (RFC 8446 5.2, 5.3): each protected record of the
 *   trace is opened and re-sealed byte for byte by both engines, starting
 *   from the traffic *secret* (so key/IV derivation is in the path), with the
 *   record's body cut into segments at odd places like an mbuf chain.
 *   Sequence numbers: the server's NewSessionTicket is its record 0 under
 *   the application keys, its data record 1 and its close_notify 2.
 * - A record opened at the wrong sequence number or under the other
 *   direction's keys fails.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <errno.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/sha.h>

#include "tls_record.h"

static struct aead_thread thr;

/* The RFC's hex dumps, whitespace ignored. */
static size_t unhex(const char *s, uint8_t *out, size_t max)
{
	size_t n = 0;
	int hi = -1;

	for (; *s; s++) {
		int v;

		if (*s >= '0' && *s <= '9')
			v = *s - '0';
		else if ((*s | 0x20) >= 'a' && (*s | 0x20) <= 'f')
			v = (*s | 0x20) - 'a' + 10;
		else
			continue;
		if (hi < 0) {
			hi = v;
			continue;
		}
		assert_true(n < max);
		out[n++] = (uint8_t)(hi << 4 | v);
		hi = -1;
	}
	assert_int_equal(hi, -1);
	return n;
}

static void expect_hex(const uint8_t *got, size_t len, const char *want)
{
	uint8_t w[64];

	assert_int_equal(unhex(want, w, sizeof(w)), len);
	assert_memory_equal(got, w, len);
}

/* {server} extract secret "handshake" and the transcript hash of
 * ClientHello..ServerHello. */
static const char HS_SECRET[] = "1d c8 26 e9 36 06 aa 6f dc 0a ad c1 2f 74 1b 01"
				"04 6a a6 b9 9f 69 1e d2 21 a9 f0 ca 04 3f be ac";
static const char HASH_CH_SH[] = "86 0c 06 ed c0 78 58 ee 8e 78 f0 e7 42 8c 58 ed"
				 "d6 b4 3f 2c a3 e6 e9 5f 02 ed 06 3c f0 e1 ca d8";
static const char C_HS_TRAFFIC[] = "b3 ed db 12 6e 06 7f 35 a7 80 b3 ab f4 5e 2d 8f"
				   "3b 1a 95 07 38 f5 2e 96 00 74 6a 0e 27 a5 5a 21";
static const char S_HS_TRAFFIC[] = "b6 7b 7d 69 0c c1 6c 4e 75 e5 42 13 cb 2d 37 b4"
				   "e9 c9 12 bc de d9 10 5d 42 be fd 59 d3 91 ad 38";
static const char DERIVED_MASTER[] = "43 de 77 e0 c7 77 13 85 9a 94 4d b9 db 25 90 b5"
				     "31 90 a6 5b 3e e2 e4 f1 2d d7 a0 bb 7c e2 54 b4";
/* {server} extract secret "master" and the hash of ClientHello..server Finished */
static const char MASTER[] = "18 df 06 84 3d 13 a0 8b f2 a4 49 84 4c 5f 8a 47"
			     "80 01 bc 4d 4c 62 79 84 d5 a4 1d a8 d0 40 29 19";
static const char HASH_CH_SF[] = "96 08 10 2a 0f 1c cc 6d b6 25 0b 7b 7e 41 7b 1a"
				 "00 0e aa da 3d aa e4 77 7a 76 86 c9 ff 83 df 13";
static const char C_AP_TRAFFIC[] = "9e 40 64 6c e7 9a 7f 9d c0 5a f8 88 9b ce 65 52"
				   "87 5a fa 0b 06 df 00 87 f7 92 eb b7 c1 75 04 a5";
static const char S_AP_TRAFFIC[] = "a1 1a f9 f0 55 31 f8 56 ad 47 11 6b 45 a9 50 32"
				   "82 04 b4 f4 4b fb 6b 3a 4b 4f 1f 3f cb 63 16 43";
static const char EXP_MASTER[] = "fe 22 f8 81 17 6e da 18 eb 8f 44 52 9e 67 92 c5"
				 "0c 9a 3f 89 45 2f 68 d8 ae 31 1b 43 09 d3 cf 50";

/* {server} send handshake record: EncryptedExtensions..Finished, under the
 * server handshake keys, sequence 0 (679 octets). */
static const char REC_S_FLIGHT[] =
	"17 03 03 02 a2 d1 ff 33 4a 56 f5 bf f6 59 4a 07 cc 87 b5 80 23 3f 50 0f"
	"45 e4 89 e7 f3 3a f3 5e df 78 69 fc f4 0a a4 0a a2 b8 ea 73 f8 48 a7 ca"
	"07 61 2e f9 f9 45 cb 96 0b 40 68 90 51 23 ea 78 b1 11 b4 29 ba 91 91 cd"
	"05 d2 a3 89 28 0f 52 61 34 aa dc 7f c7 8c 4b 72 9d f8 28 b5 ec f7 b1 3b"
	"d9 ae fb 0e 57 f2 71 58 5b 8e a9 bb 35 5c 7c 79 02 07 16 cf b9 b1 18 3e"
	"f3 ab 20 e3 7d 57 a6 b9 d7 47 76 09 ae e6 e1 22 a4 cf 51 42 73 25 25 0c"
	"7d 0e 50 92 89 44 4c 9b 3a 64 8f 1d 71 03 5d 2e d6 5b 0e 3c dd 0c ba e8"
	"bf 2d 0b 22 78 12 cb b3 60 98 72 55 cc 74 41 10 c4 53 ba a4 fc d6 10 92"
	"8d 80 98 10 e4 b7 ed 1a 8f d9 91 f0 6a a6 24 82 04 79 7e 36 a6 a7 3b 70"
	"a2 55 9c 09 ea d6 86 94 5b a2 46 ab 66 e5 ed d8 04 4b 4c 6d e3 fc f2 a8"
	"94 41 ac 66 27 2f d8 fb 33 0e f8 19 05 79 b3 68 45 96 c9 60 bd 59 6e ea"
	"52 0a 56 a8 d6 50 f5 63 aa d2 74 09 96 0d ca 63 d3 e6 88 61 1e a5 e2 2f"
	"44 15 cf 95 38 d5 1a 20 0c 27 03 42 72 96 8a 26 4e d6 54 0c 84 83 8d 89"
	"f7 2c 24 46 1a ad 6d 26 f5 9e ca ba 9a cb bb 31 7b 66 d9 02 f4 f2 92 a3"
	"6a c1 b6 39 c6 37 ce 34 31 17 b6 59 62 22 45 31 7b 49 ee da 0c 62 58 f1"
	"00 d7 d9 61 ff b1 38 64 7e 92 ea 33 0f ae ea 6d fa 31 c7 a8 4d c3 bd 7e"
	"1b 7a 6c 71 78 af 36 87 90 18 e3 f2 52 10 7f 24 3d 24 3d c7 33 9d 56 84"
	"c8 b0 37 8b f3 02 44 da 8c 87 c8 43 f5 e5 6e b4 c5 e8 28 0a 2b 48 05 2c"
	"f9 3b 16 49 9a 66 db 7c ca 71 e4 59 94 26 f7 d4 61 e6 6f 99 88 2b d8 9f"
	"c5 08 00 be cc a6 2d 6c 74 11 6d bd 29 72 fd a1 fa 80 f8 5d f8 81 ed be"
	"5a 37 66 89 36 b3 35 58 3b 59 91 86 dc 5c 69 18 a3 96 fa 48 a1 81 d6 b6"
	"fa 4f 9d 62 d5 13 af bb 99 2f 2b 99 2f 67 f8 af e6 7f 76 91 3f a3 88 cb"
	"56 30 c8 ca 01 e0 c6 5d 11 c6 6a 1e 2a c4 c8 59 77 b7 c7 a6 99 9b bf 10"
	"dc 35 ae 69 f5 51 56 14 63 6c 0b 9b 68 c1 9e d2 e3 1c 0b 3b 66 76 30 38"
	"eb ba 42 f3 b3 8e dc 03 99 f3 a9 f2 3f aa 63 97 8c 31 7f c9 fa 66 a7 3f"
	"60 f0 50 4d e9 3b 5b 84 5e 27 55 92 c1 23 35 ee 34 0b bc 4f dd d5 02 78"
	"40 16 e4 b3 be 7e f0 4d da 49 f4 b4 40 a3 0c b5 d2 af 93 98 28 fd 4a e3"
	"79 4e 44 f9 4d f5 a6 31 ed e4 2c 17 19 bf da bf 02 53 fe 51 75 be 89 8e"
	"75 0e dc 53 37 0d 2b";

/* {client} send handshake record: its Finished, client handshake keys, 0. */
static const char REC_C_FINISHED[] =
	"17 03 03 00 35 75 ec 4d c2 38 cc e6 0b 29 80 44 a7 1e 21 9c 56 cc 77 b0"
	"51 7f e9 b9 3c 7a 4b fc 44 d8 7f 38 f8 03 38 ac 98 fc 46 de b3 84 bd 1c"
	"ae ac ab 68 67 d7 26 c4 05 46";
static const char C_FINISHED_VERIFY[] = "a8 ec 43 6d 67 76 34 ae 52 5a c1 fc eb e1 1a 03"
					"9e c1 76 94 fa c6 e9 85 27 b6 42 f2 ed d5 ce 61";

/* {server} send handshake record: NewSessionTicket, server application
 * keys, sequence 0 (227 octets). */
static const char REC_S_TICKET[] =
	"17 03 03 00 de 3a 6b 8f 90 41 4a 97 d6 95 9c 34 87 68 0d e5 13 4a 2b 24"
	"0e 6c ff ac 11 6e 95 d4 1d 6a f8 f6 b5 80 dc f3 d1 1d 63 c7 58 db 28 9a"
	"01 59 40 25 2f 55 71 3e 06 1d c1 3e 07 88 91 a3 8e fb cf 57 53 ad 8e f1"
	"70 ad 3c 73 53 d1 6d 9d a7 73 b9 ca 7f 2b 9f a1 b6 c0 d4 a3 d0 3f 75 e0"
	"9c 30 ba 1e 62 97 2a c4 6f 75 f7 b9 81 be 63 43 9b 29 99 ce 13 06 46 15"
	"13 98 91 d5 e4 c5 b4 06 f1 6e 3f c1 81 a7 7c a4 75 84 00 25 db 2f 0a 77"
	"f8 1b 5a b0 5b 94 c0 13 46 75 5f 69 23 2c 86 51 9d 86 cb ee ac 87 aa c3"
	"47 d1 43 f9 60 5d 64 f6 50 db 4d 02 3e 70 e9 52 ca 49 fe 51 37 12 1c 74"
	"bc 26 97 68 7e 24 87 46 d6 df 35 30 05 f3 bc e1 86 96 12 9c 81 53 55 6b"
	"3b 6c 67 79 b3 7b f1 59 85 68 4f";

/* application_data 00 01 .. 31 from each side, and each side's close_notify */
static const char REC_C_DATA[] =
	"17 03 03 00 43 a2 3f 70 54 b6 2c 94 d0 af fa fe 82 28 ba 55 cb ef ac ea"
	"42 f9 14 aa 66 bc ab 3f 2b 98 19 a8 a5 b4 6b 39 5b d5 4a 9a 20 44 1e 2b"
	"62 97 4e 1f 5a 62 92 a2 97 70 14 bd 1e 3d ea e6 3a ee bb 21 69 49 15 e4";
static const char REC_S_DATA[] =
	"17 03 03 00 43 2e 93 7e 11 ef 4a c7 40 e5 38 ad 36 00 5f c4 a4 69 32 fc"
	"32 25 d0 5f 82 aa 1b 36 e3 0e fa f9 7d 90 e6 df fc 60 2d cb 50 1a 59 a8"
	"fc c4 9c 4b f2 e5 f0 a2 1c 00 47 c2 ab f3 32 54 0d d0 32 e1 67 c2 95 5d";
static const char REC_C_ALERT[] =
	"17 03 03 00 13 c9 87 27 60 65 56 66 b7 4d 7f f1 15 3e fd 6d b6 d0 b0 e3";
static const char REC_S_ALERT[] =
	"17 03 03 00 13 b5 8f d6 71 66 eb f5 99 d2 47 20 cf be 7e fa 7a 88 64 a9";

static void derive(const char *secret_hex, const char *label, const uint8_t *ctx, size_t ctx_len,
		   size_t out_len, const char *want)
{
	uint8_t secret[32], out[32];

	assert_int_equal(unhex(secret_hex, secret, sizeof(secret)), 32);
	assert_int_equal(tls13_hkdf_expand_label(32, secret, label, ctx, ctx_len, out, out_len), 0);
	expect_hex(out, out_len, want);
}

/* RFC 8446 7.1: Derive-Secret(Secret, Label, Messages) is
 * HKDF-Expand-Label(Secret, Label, Transcript-Hash(Messages), Hash.length). */
static void test_key_schedule(void **s)
{
	uint8_t h[32], empty[32];
	(void)s;

	unhex(HASH_CH_SH, h, sizeof(h));
	derive(HS_SECRET, "c hs traffic", h, 32, 32, C_HS_TRAFFIC);
	derive(HS_SECRET, "s hs traffic", h, 32, 32, S_HS_TRAFFIC);
	SHA256((const unsigned char *)"", 0, empty);
	derive(HS_SECRET, "derived", empty, 32, 32, DERIVED_MASTER);

	unhex(HASH_CH_SF, h, sizeof(h));
	derive(MASTER, "c ap traffic", h, 32, 32, C_AP_TRAFFIC);
	derive(MASTER, "s ap traffic", h, 32, 32, S_AP_TRAFFIC);
	derive(MASTER, "exp master", h, 32, 32, EXP_MASTER);

	/* 4.4.4: finished_key = HKDF-Expand-Label(BaseKey, "finished", "", 32) */
	derive(C_HS_TRAFFIC, "finished", NULL, 0, 32,
	       "b8 0a d0 10 15 fb 2f 0b d6 5f f7 d4 da 5d 6b f8 3f 84 82 1d 1f 87 fd c7 d3 c7 5b 5a 7b 42 d9 c4");
	derive(S_HS_TRAFFIC, "finished", NULL, 0, 32,
	       "00 8d 3b 66 f8 16 ea 55 9f 96 b5 37 e8 85 c3 1f c0 68 bf 49 2c 65 2f 01 f2 88 a1 d8 cd c1 9f c8");

	/* 7.3: the write keys and IVs of both sides, both epochs */
	derive(S_HS_TRAFFIC, "key", NULL, 0, 16, "3f ce 51 60 09 c2 17 27 d0 f2 e4 e8 6e e4 03 bc");
	derive(S_HS_TRAFFIC, "iv", NULL, 0, 12, "5d 31 3e b2 67 12 76 ee 13 00 0b 30");
	derive(C_HS_TRAFFIC, "key", NULL, 0, 16, "db fa a6 93 d1 76 2c 5b 66 6a f5 d9 50 25 8d 01");
	derive(C_HS_TRAFFIC, "iv", NULL, 0, 12, "5b d3 c7 1b 83 6e 0b 76 bb 73 26 5f");
	derive(S_AP_TRAFFIC, "key", NULL, 0, 16, "9f 02 28 3b 6c 9c 07 ef c2 6b b9 f2 ac 92 e3 56");
	derive(S_AP_TRAFFIC, "iv", NULL, 0, 12, "cf 78 2b 88 dd 83 54 9a ad f1 e9 84");
	derive(C_AP_TRAFFIC, "key", NULL, 0, 16, "17 42 2d da 59 6e d5 d9 ac d8 90 e3 c6 3f 50 51");
	derive(C_AP_TRAFFIC, "iv", NULL, 0, 12, "5b 78 92 3d ee 08 57 90 33 e5 23 d9");
}

/* Cut `len` bytes at `p` into segments of 1, 15, 17 and the rest bytes (as
 * far as they go): boundaries inside and across AES blocks. */
static unsigned int cut(uint8_t *p, uint32_t len, struct aead_seg seg[4])
{
	static const uint32_t sizes[3] = { 1, 15, 17 };
	unsigned int n = 0;

	for (unsigned int i = 0; i < 3 && len > 0; i++) {
		uint32_t l = len < sizes[i] ? len : sizes[i];

		seg[n++] = (struct aead_seg){ p, l };
		p += l;
		len -= l;
	}
	if (len > 0)
		seg[n++] = (struct aead_seg){ p, len };
	return n;
}

struct opened {
	uint8_t inner[800]; /* TLSInnerPlaintext: content, then the real type */
	uint32_t len;
};

/*
 * Open `rec_hex` with the record layer initialised from `secret_hex` at
 * sequence `seq`, with each engine; then seal the plaintext again and demand
 * the RFC's bytes.  Returns the opened TLSInnerPlaintext.
 */
static void roundtrip(const char *secret_hex, uint64_t seq, const char *rec_hex, struct opened *o)
{
	uint8_t secret[32], want[800], rec[800];
	size_t n;

	assert_int_equal(unhex(secret_hex, secret, sizeof(secret)), 32);
	n = unhex(rec_hex, want, sizeof(want));
	assert_int_equal(n, TLS_HDR_LEN + (size_t)(want[3] << 8 | want[4]));

	for (unsigned int eng = 0; eng < AEAD_ENG_MAX; eng++) {
		uint32_t len = (uint32_t)(n - TLS_HDR_LEN - AEAD_TAG_LEN);
		struct aead_seg seg[4];
		unsigned int nseg;
		struct tls_rec r;
		uint8_t tag[AEAD_TAG_LEN];

		if (eng == AEAD_ENG_IPSECMB && !thr.imb_mgr)
			continue;
		/* open */
		assert_int_equal(tls13_rec_init(&r, &thr, eng, AEAD_AES_128_GCM, secret, 32), 0);
		r.seq = seq;
		memcpy(rec, want, n);
		nseg = cut(rec + TLS_HDR_LEN, len, seg);
		assert_int_equal(tls_rec_open(&r, &thr, rec, seg, nseg, len, rec + TLS_HDR_LEN + len), 0);
		assert_int_equal(r.seq, seq + 1);
		if (eng == 0) {
			memcpy(o->inner, rec + TLS_HDR_LEN, len);
			o->len = len;
		} else {
			assert_int_equal(o->len, len);
			assert_memory_equal(o->inner, rec + TLS_HDR_LEN, len);
		}
		tls_rec_wipe(&r);

		/* seal the same plaintext: the RFC's record, header and tag */
		assert_int_equal(tls13_rec_init(&r, &thr, eng, AEAD_AES_128_GCM, secret, 32), 0);
		r.seq = seq;
		memset(rec, 0xee, sizeof(rec));
		memcpy(rec + TLS_HDR_LEN, o->inner, len);
		nseg = cut(rec + TLS_HDR_LEN, len, seg);
		assert_int_equal(tls_rec_seal(&r, &thr, TLS_CT_APPLICATION_DATA, rec, seg, nseg, len, tag),
				 TLS_HDR_LEN);
		memcpy(rec + TLS_HDR_LEN + len, tag, AEAD_TAG_LEN);
		assert_memory_equal(rec, want, n);
		assert_int_equal(r.seq, seq + 1);
		tls_rec_wipe(&r);
	}
}

static void test_server_flight(void **s)
{
	struct opened o;
	(void)s;
	roundtrip(S_HS_TRAFFIC, 0, REC_S_FLIGHT, &o);
	/* 674 on the wire less the tag: 657 bytes of handshake messages, from
	 * EncryptedExtensions (type 8, 0x24 long) on, then the content type */
	assert_int_equal(o.len, 658);
	assert_int_equal(o.inner[o.len - 1], 22);
	assert_memory_equal(o.inner, "\x08\x00\x00\x24", 4);
	/* the last message is the server's Finished (type 20, 32 bytes) */
	assert_memory_equal(o.inner + 657 - 36, "\x14\x00\x00\x20", 4);
}

static void test_client_finished(void **s)
{
	struct opened o;
	(void)s;
	roundtrip(C_HS_TRAFFIC, 0, REC_C_FINISHED, &o);
	assert_int_equal(o.len, 37);
	assert_memory_equal(o.inner, "\x14\x00\x00\x20", 4);
	expect_hex(o.inner + 4, 32, C_FINISHED_VERIFY);
	assert_int_equal(o.inner[36], 22);
}

static void test_server_ticket(void **s)
{
	struct opened o;
	(void)s;
	roundtrip(S_AP_TRAFFIC, 0, REC_S_TICKET, &o);
	/* NewSessionTicket (type 4), 0xc9 long, then the content type */
	assert_int_equal(o.len, 4 + 0xc9 + 1);
	assert_memory_equal(o.inner, "\x04\x00\x00\xc9", 4);
	assert_int_equal(o.inner[o.len - 1], 22);
}

static void test_application_data(void **s)
{
	struct opened o;
	uint8_t payload[50];
	(void)s;
	for (unsigned int i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)i;
	roundtrip(C_AP_TRAFFIC, 0, REC_C_DATA, &o);
	assert_int_equal(o.len, 51);
	assert_memory_equal(o.inner, payload, 50);
	assert_int_equal(o.inner[50], TLS_CT_APPLICATION_DATA);
	/* the server's data record follows its ticket: sequence 1, so the
	 * nonce really is IV xor sequence (5.3), not the IV alone */
	roundtrip(S_AP_TRAFFIC, 1, REC_S_DATA, &o);
	assert_int_equal(o.len, 51);
	assert_memory_equal(o.inner, payload, 50);
}

static void test_close_notify(void **s)
{
	struct opened o;
	(void)s;
	/* alert level warning(1), close_notify(0), content type alert(21) */
	roundtrip(C_AP_TRAFFIC, 1, REC_C_ALERT, &o);
	assert_int_equal(o.len, 3);
	assert_memory_equal(o.inner, "\x01\x00\x15", 3);
	roundtrip(S_AP_TRAFFIC, 2, REC_S_ALERT, &o);
	assert_int_equal(o.len, 3);
	assert_memory_equal(o.inner, "\x01\x00\x15", 3);
}

/* The trace's record at the wrong sequence, or under the server's keys,
 * must not authenticate. */
static void test_wrong_state_fails(void **s)
{
	static const uint64_t wrong[] = { 1, 2, 255, 256, UINT64_MAX };
	uint8_t secret[32], rec[128];
	size_t n = unhex(REC_C_DATA, rec, sizeof(rec));
	uint32_t len = (uint32_t)(n - TLS_HDR_LEN - AEAD_TAG_LEN);
	(void)s;

	for (unsigned int eng = 0; eng < AEAD_ENG_MAX; eng++) {
		struct aead_seg seg = { NULL, len };
		struct tls_rec r;
		uint8_t copy[128];

		if (eng == AEAD_ENG_IPSECMB && !thr.imb_mgr)
			continue;
		unhex(C_AP_TRAFFIC, secret, sizeof(secret));
		for (unsigned int i = 0; i < sizeof(wrong) / sizeof(wrong[0]); i++) {
			assert_int_equal(tls13_rec_init(&r, &thr, eng, AEAD_AES_128_GCM, secret, 32), 0);
			r.seq = wrong[i];
			memcpy(copy, rec, n);
			seg.p = copy + TLS_HDR_LEN;
			assert_int_equal(tls_rec_open(&r, &thr, copy, &seg, 1, len, copy + TLS_HDR_LEN + len),
					 -EBADMSG);
			tls_rec_wipe(&r);
		}
		unhex(S_AP_TRAFFIC, secret, sizeof(secret));
		assert_int_equal(tls13_rec_init(&r, &thr, eng, AEAD_AES_128_GCM, secret, 32), 0);
		memcpy(copy, rec, n);
		seg.p = copy + TLS_HDR_LEN;
		assert_int_equal(tls_rec_open(&r, &thr, copy, &seg, 1, len, copy + TLS_HDR_LEN + len), -EBADMSG);
		tls_rec_wipe(&r);
	}
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
		cmocka_unit_test(test_key_schedule),
		cmocka_unit_test(test_server_flight),
		cmocka_unit_test(test_client_finished),
		cmocka_unit_test(test_server_ticket),
		cmocka_unit_test(test_application_data),
		cmocka_unit_test(test_close_notify),
		cmocka_unit_test(test_wrong_state_fails),
	};
	return cmocka_run_group_tests_name("tls_rfc8448", tests, setup, teardown);
}
