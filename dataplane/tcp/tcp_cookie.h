/*
 * SYN cookies (RFC 4987 3.6), after Linux's layout: when the half-open
 * table is full the SYN-ACK's ISS encodes a time counter, an MSS class and a
 * 22-bit MAC (SipHash-2-4 keyed, over the 4-tuple, counter and class), so
 * the returning ACK alone rebuilds the connection.  With timestamps the window scale and SACK-permitted ride in
 * the low bits of TSval (echoed back in TSecr).
 *
 * Keys rotate: keep the current and the previous key and check both; a
 * cookie lives at most TCP_COOKIE_MAX_AGE counter periods (64 s each).
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

/* Timestamps: our TSval with the peer's options in its low bits, and back. */
uint32_t tcp_cookie_ts_encode(uint32_t tsval, uint8_t wscale, int sack_ok);
/* From the ACK's TSecr: *wscale 0..14, or 15 when none was offered. */
void tcp_cookie_ts_decode(uint32_t tsecr, uint8_t *wscale, int *sack_ok);

#endif
