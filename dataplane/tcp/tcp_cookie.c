/* SYN cookies and SipHash-2-4 (see tcp_cookie.h). */
#include <errno.h>
#include <string.h>

#include "tcp_cookie.h"

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                                                              \
	do {                                                                  \
		v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32);     \
		v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2;                        \
		v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0;                        \
		v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32);     \
	} while (0)

static uint64_t le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

uint64_t siphash24(const struct tcp_cookie_key *k, const void *data, size_t len)
{
	const uint8_t *in = data;
	uint64_t v0 = 0x736f6d6570736575ull ^ k->k0, v1 = 0x646f72616e646f6dull ^ k->k1;
	uint64_t v2 = 0x6c7967656e657261ull ^ k->k0, v3 = 0x7465646279746573ull ^ k->k1;
	uint64_t b = (uint64_t)len << 56, m;
	size_t i;

	for (i = 0; i + 8 <= len; i += 8) {
		m = le64(in + i);
		v3 ^= m;
		SIPROUND;
		SIPROUND;
		v0 ^= m;
	}
	for (size_t j = 0; i + j < len; j++)
		b |= (uint64_t)in[i + j] << (8 * j);
	v3 ^= b;
	SIPROUND;
	SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

/* The MSS values seen most (Linux's table for IPv4). */
static const uint16_t mss_table[] = { 536, 1300, 1440, 1460 };
#define COOKIE_BITS 24
#define COOKIE_MASK ((1u << COOKIE_BITS) - 1)

uint16_t tcp_cookie_mss_class(uint16_t mss, unsigned int *idx)
{
	unsigned int i = sizeof(mss_table) / sizeof(mss_table[0]) - 1;

	while (i > 0 && mss < mss_table[i])
		i--;
	*idx = i;
	return mss_table[i];
}

static uint32_t h(const struct tcp_cookie_key *k, uint32_t saddr, uint32_t daddr, uint16_t sport,
		  uint16_t dport, uint32_t c)
{
	uint8_t in[16];

	memcpy(in, &saddr, 4);
	memcpy(in + 4, &daddr, 4);
	in[8] = (uint8_t)(sport >> 8);
	in[9] = (uint8_t)sport;
	in[10] = (uint8_t)(dport >> 8);
	in[11] = (uint8_t)dport;
	memcpy(in + 12, &c, 4);
	return (uint32_t)siphash24(k, in, sizeof(in));
}

static uint32_t mac(const struct tcp_cookie_key *k, uint32_t saddr, uint32_t daddr, uint16_t sport,
		    uint16_t dport, uint32_t count, uint32_t idx)
{
	return h(k, saddr, daddr, sport, dport, (count << 2 | idx) + 1) & (COOKIE_MASK >> 2);
}

uint32_t tcp_cookie_make(const struct tcp_cookie_key *k, uint32_t saddr, uint32_t daddr,
			 uint16_t sport, uint16_t dport, uint32_t client_isn, uint32_t count,
			 uint16_t mss, uint16_t *mss_used)
{
	unsigned int idx;

	*mss_used = tcp_cookie_mss_class(mss, &idx);
	/* ISS = H1(tuple) + ISN + (count << 24) + (MAC << 2 | idx): the top 8
	 * bits carry the counter, the low 24 the MSS class and a 22-bit keyed
	 * MAC over tuple, counter and class -- unlike Linux's "hash + index",
	 * changing the class breaks the MAC too */
	return h(k, saddr, daddr, sport, dport, 0) + client_isn + (count << COOKIE_BITS) +
	       (mac(k, saddr, daddr, sport, dport, count, idx) << 2 | idx);
}

/* Validate against one key; *minted is the counter the cookie claims. */
static int check_one(const struct tcp_cookie_key *k, uint32_t saddr, uint32_t daddr,
		     uint16_t sport, uint16_t dport, uint32_t client_isn, uint32_t cookie,
		     uint32_t now_count, uint16_t *mss, uint32_t *minted)
{
	uint32_t diff = cookie - h(k, saddr, daddr, sport, dport, 0) - client_isn;
	uint32_t count = (now_count - (diff >> COOKIE_BITS)) & (0xffffffffu >> COOKIE_BITS);
	uint32_t idx;

	_Static_assert(sizeof(mss_table) / sizeof(mss_table[0]) == 4, "two bits of MSS class");
	if (count >= TCP_COOKIE_MAX_AGE)
		return -EINVAL;
	count = now_count - count;
	idx = diff & 3;
	if (((diff & COOKIE_MASK) >> 2) != mac(k, saddr, daddr, sport, dport, count, idx))
		return -EINVAL;
	*mss = mss_table[idx];
	*minted = count;
	return 0;
}

int tcp_cookie_check(const struct tcp_cookie_key *k, uint32_t saddr, uint32_t daddr,
		     uint16_t sport, uint16_t dport, uint32_t client_isn, uint32_t cookie,
		     uint32_t now_count, uint16_t *mss)
{
	uint32_t minted;

	return check_one(k, saddr, daddr, sport, dport, client_isn, cookie, now_count, mss, &minted);
}

void tcp_cookie_keys_init(struct tcp_cookie_keys *ks, const struct tcp_cookie_key *k)
{
	explicit_bzero(ks, sizeof(*ks));
	ks->cur = *k;
}

void tcp_cookie_keys_rotate(struct tcp_cookie_keys *ks, const struct tcp_cookie_key *next,
			    uint32_t now_count)
{
	/* the key before the previous one can have nothing valid left out */
	explicit_bzero(&ks->prev, sizeof(ks->prev));
	ks->prev = ks->cur;
	ks->cur = *next;
	ks->prev_last = now_count;
	ks->has_prev = 1;
}

int tcp_cookie_keys_check(const struct tcp_cookie_keys *ks, uint32_t saddr, uint32_t daddr,
			  uint16_t sport, uint16_t dport, uint32_t client_isn, uint32_t cookie,
			  uint32_t now_count, uint16_t *mss)
{
	uint32_t minted;
	uint16_t m;

	if (check_one(&ks->cur, saddr, daddr, sport, dport, client_isn, cookie, now_count, mss,
		      &minted) == 0)
		return 0;
	/* the previous key minted nothing after the rotation: a cookie that
	 * claims so is forged (or the old key leaked), and once every cookie
	 * it minted has expired it is not even tried */
	if (!ks->has_prev || now_count - ks->prev_last >= TCP_COOKIE_MAX_AGE)
		return -EINVAL;
	if (check_one(&ks->prev, saddr, daddr, sport, dport, client_isn, cookie, now_count, &m,
		      &minted) != 0 ||
	    (int32_t)(minted - ks->prev_last) > 0)
		return -EINVAL;
	*mss = m;
	return 0;
}

void tcp_cookie_keys_wipe(struct tcp_cookie_keys *ks)
{
	explicit_bzero(ks, sizeof(*ks));
}

uint32_t tcp_cookie_ts_encode(uint32_t tsval, uint8_t wscale, int sack_ok)
{
	/* low 4 bits: wscale (15 = none), bit 4: SACK-permitted */
	uint32_t opts = (wscale > 14 ? 0xfu : wscale) | (sack_ok ? 0x10u : 0);
	uint32_t ts = (tsval & ~((1u << TCP_COOKIE_TS_BITS) - 1)) | opts;

	/* never ahead of our clock (Linux cookie_init_timestamp() does the
	 * same): the peer takes this TSval as TS.Recent, and PAWS (RFC 7323
	 * 5.3 R1) would drop our next segments, stamped from the real clock,
	 * as old until the clock caught up -- up to 63 ticks of lost data */
	if ((int32_t)(ts - tsval) > 0)
		ts -= 1u << TCP_COOKIE_TS_BITS;
	return ts;
}

void tcp_cookie_ts_decode(uint32_t tsecr, uint8_t *wscale, int *sack_ok)
{
	*wscale = tsecr & 0xf; /* 0xf: the peer offered no window scale */
	*sack_ok = !!(tsecr & 0x10);
}
