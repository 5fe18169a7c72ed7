/*
 * SYN cookies (RFC 4987 3.6), after Linux's layout: when the half-open
 * table is full the SYN-ACK's ISS encodes a time counter, an MSS class and a
 * 22-bit MAC (SipHash-2-4 keyed, over the 4-tuple, counter and class), so
 * the returning ACK alone rebuilds the connection.  With timestamps the window scale and SACK-permitted ride in
 * the low bits of TSval (echoed back in TSecr).
 *
 * Keys rotate: struct tcp_cookie_keys keeps the current and the previous
 * key; cookies are minted with the current one only, and the previous one
 * still validates what it minted before the rotation, for as long as such a
 * cookie can live (TCP_COOKIE_MAX_AGE counter periods of 64 s each), never
 * a cookie claiming a later counter.
 */
#ifndef SLUICE_TCP_COOKIE_H
#define SLUICE_TCP_COOKIE_H

#include <stddef.h>
#include <stdint.h>

#define TCP_COOKIE_PERIOD_S 64
#define TCP_COOKIE_MAX_AGE 2   /* counters: now and the previous one (<= 2 min) */
#define TCP_COOKIE_TS_BITS 6   /* low TSval bits carrying wscale + SACK */

struct tcp_cookie_key {
	uint64_t k0, k1;
};

/* SipHash-2-4 (Aumasson & Bernstein), 64-bit output. */
uint64_t siphash24(const struct tcp_cookie_key *k, const void *data, size_t len);

/* The MSS classes a cookie can carry; `mss` is rounded down to one. */
uint16_t tcp_cookie_mss_class(uint16_t mss, unsigned int *idx);

/* ISS for a SYN from saddr:sport to daddr:dport (network-order addresses,
 * host-order ports) with sequence client_isn, at counter `count`
 * (now_s / TCP_COOKIE_PERIOD_S).  *mss_used is what the cookie remembers. */
uint32_t tcp_cookie_make(const struct tcp_cookie_key *k, uint32_t saddr, uint32_t daddr,
			 uint16_t sport, uint16_t dport, uint32_t client_isn, uint32_t count,
			 uint16_t mss, uint16_t *mss_used);

/* Check the ACK completing a cookie handshake: cookie = SEG.ACK - 1,
 * client_isn = SEG.SEQ - 1.  0 and *mss, or -EINVAL (forged or expired). */
int tcp_cookie_check(const struct tcp_cookie_key *k, uint32_t saddr, uint32_t daddr,
		     uint16_t sport, uint16_t dport, uint32_t client_isn, uint32_t cookie,
		     uint32_t now_count, uint16_t *mss);

/* Timestamps: our TSval with the peer's options in its low bits, and back.
 * The result is never ahead of `tsval` (our clock): it may be up to 63 ticks
 * behind.  The bits ride unauthenticated, as in Linux: only the peer that
 * completes the handshake can choose them, for its own connection.  Without
 * timestamps a cookie cannot carry them: the SYN-ACK then offers neither
 * window scale nor SACK-permitted. */
uint32_t tcp_cookie_ts_encode(uint32_t tsval, uint8_t wscale, int sack_ok);
/* From the ACK's TSecr: *wscale 0..14, or 15 when none was offered. */
void tcp_cookie_ts_decode(uint32_t tsecr, uint8_t *wscale, int *sack_ok);

/* Two keys for rotation (per worker; the caller supplies fresh random keys,
 * e.g. from the control plane, at whatever cadence it likes):
 *
 *   tcp_cookie_keys_init(&ks, &k);                 start
 *   tcp_cookie_make(&ks.cur, ...);                 mint: always the current key
 *   tcp_cookie_keys_rotate(&ks, &k2, now_count);   cur -> prev, k2 -> cur
 *   tcp_cookie_keys_check(&ks, ..., now_count, &mss);
 *
 * After a rotation at counter R the previous key validates only cookies
 * minted at a counter <= R, so it stops mattering at R + TCP_COOKIE_MAX_AGE
 * (one period later); keys_check wipes nothing (it is const), keys_rotate
 * and keys_wipe do (explicit_bzero). */
struct tcp_cookie_keys {
	struct tcp_cookie_key cur, prev;
	uint32_t prev_last; /* last counter at which prev was current */
	uint8_t has_prev;
};

void tcp_cookie_keys_init(struct tcp_cookie_keys *ks, const struct tcp_cookie_key *k);
void tcp_cookie_keys_rotate(struct tcp_cookie_keys *ks, const struct tcp_cookie_key *next,
			    uint32_t now_count);
/* tcp_cookie_check against the current key, then the previous one as above. */
int tcp_cookie_keys_check(const struct tcp_cookie_keys *ks, uint32_t saddr, uint32_t daddr,
			  uint16_t sport, uint16_t dport, uint32_t client_isn, uint32_t cookie,
			  uint32_t now_count, uint16_t *mss);
void tcp_cookie_keys_wipe(struct tcp_cookie_keys *ks);

#endif
