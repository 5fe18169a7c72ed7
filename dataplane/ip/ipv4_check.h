/*
 * IPv4 header checks and checksum arithmetic: pure functions on bytes, so the
 * unit tests and the fuzzer exercise exactly what the workers run.
 */
#ifndef SLUICE_IPV4_CHECK_H
#define SLUICE_IPV4_CHECK_H

#include <stdint.h>
#include <stddef.h>

#include <sluice/drop_reasons.h>

struct ipv4_hdr_raw {
	uint8_t ver_ihl;
	uint8_t tos;
	uint16_t total_len;   /* network order */
	uint16_t id;
	uint16_t frag_off;    /* network order: flags(3) | offset(13) */
	uint8_t ttl;
	uint8_t proto;
	uint16_t cksum;
	uint32_t src;         /* network order */
	uint32_t dst;
};

/* RFC 1812 5.2.2 validation of a received header.  `len` is the number of
 * bytes available from the start of the IP header (frame length minus L2).
 * Returns SL_DROP_MAX when the header is valid, else the drop reason. */
unsigned int ipv4_check(const void *hdr, size_t len);

/* Martian source/destination checks (RFC 1812 5.3.7 / 4.2.2.11), addresses
 * in host order.  SL_DROP_MAX when acceptable.  Inline: every packet. */
static inline unsigned int ipv4_check_src(uint32_t src)
{
	uint8_t a = src >> 24;

	/* never forward from {0,x}, {127,x}, class D/E or limited broadcast */
	if (a == 0 || a == 127 || a >= 224)
		return SL_DROP_IP_BAD_SRC;
	return SL_DROP_MAX;
}

static inline unsigned int ipv4_check_dst(uint32_t dst)
{
	uint8_t a = dst >> 24;

	if (a == 0 || a == 127)
		return SL_DROP_IP_BAD_DST;
	/* multicast (class D), class E and limited broadcast */
	if (a >= 224)
		return SL_DROP_IP_MCAST_BCAST;
	return SL_DROP_MAX;
}

/* Ones'-complement checksum over len bytes (RFC 1071), result in network
 * order ready to store. */
uint16_t ipv4_cksum(const void *data, size_t len);

/* The same in parts: ipv4_sum() is the unfolded sum of len bytes, to which
 * words in memory order may be added (a 16- or 32-bit field as stored: its
 * rte_be16_t/rte_be32_t value); ipv4_cksum_fold() makes the checksum of it.
 * For headers just written: summing the values they were written from
 * costs nothing, reading them back as words stalls on store forwarding. */
uint64_t ipv4_sum(const void *data, size_t len);

static inline uint16_t ipv4_cksum_fold(uint64_t s)
{
	s = (s & 0xffffffff) + (s >> 32);
	s = (s & 0xffffffff) + (s >> 32);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* Decrement TTL and patch the checksum incrementally (RFC 1624 eqn. 3). */
static inline void ipv4_ttl_dec(struct ipv4_hdr_raw *ip)
{
	/* TTL is the high byte of the 16-bit word it shares with proto; the
	 * header sum drops by 0x0100, so the stored checksum rises by 0x0100. */
	uint32_t sum = (uint32_t)ip->cksum + __builtin_bswap16(0x0100);
	ip->ttl--;
	ip->cksum = (uint16_t)(sum + (sum >> 16));
}

static inline int ipv4_is_fragment(const struct ipv4_hdr_raw *ip)
{
	/* MF set or offset nonzero */
	return (ip->frag_off & __builtin_bswap16(0x3fff)) != 0;
}

static inline int ipv4_is_later_fragment(const struct ipv4_hdr_raw *ip)
{
	return (ip->frag_off & __builtin_bswap16(0x1fff)) != 0;
}

#endif
