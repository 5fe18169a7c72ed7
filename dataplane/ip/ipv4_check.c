/* IPv4 header validation, RFC 1812 5.2.2 and 5.3.7. */
#include <string.h>
#include <arpa/inet.h>

#include "ipv4_check.h"

uint64_t ipv4_sum(const void *data, size_t len)
{
	const uint8_t *p = data;
	uint64_t s0 = 0, s1 = 0;
	uint32_t a, b;
	uint16_t h = 0;

	/* RFC 1071 2(B, C): the sum is independent of byte order and may be
	 * taken over wider words, folded at the end.  32-bit words added into
	 * two 64-bit sums (no carries to handle below 2^32 words, and two
	 * independent chains) */
	for (; len >= 8; p += 8, len -= 8) {
		memcpy(&a, p, 4);
		memcpy(&b, p + 4, 4);
		s0 += a;
		s1 += b;
	}
	if (len >= 4) {
		memcpy(&a, p, 4);
		s0 += a;
		p += 4;
		len -= 4;
	}
	if (len >= 2) {
		memcpy(&h, p, 2);
		s1 += h;
		p += 2;
		len -= 2;
	}
	if (len) {
		h = 0;
		memcpy(&h, p, 1);
		s1 += h;
	}
	return s0 + s1;
}

uint16_t ipv4_cksum(const void *data, size_t len)
{
	return ipv4_cksum_fold(ipv4_sum(data, len));
}

unsigned int ipv4_check(const void *hdr, size_t len)
{
	const struct ipv4_hdr_raw *ip = hdr;
	unsigned int hlen, tlen;

	/* (1) the frame is long enough for the minimum header */
	if (len < sizeof(*ip))
		return SL_DROP_IP_TRUNCATED;
	/* (3) version 4 */
	if ((ip->ver_ihl >> 4) != 4)
		return SL_DROP_IP_VERSION;
	/* (4) IHL at least 5 words */
	hlen = (ip->ver_ihl & 0xf) * 4u;
	if (hlen < sizeof(*ip))
		return SL_DROP_IP_HDR_LEN;
	/* (5) total length covers the header */
	tlen = ntohs(ip->total_len);
	if (tlen < hlen)
		return SL_DROP_IP_HDR_LEN;
	/* (1) again: the frame holds what the header claims */
	if (tlen > len)
		return SL_DROP_IP_TRUNCATED;
	/* (2) header checksum: the sum over a correct header is 0xffff */
	if (ipv4_cksum(ip, hlen) != 0)
		return SL_DROP_IP_CHECKSUM;
	return SL_DROP_MAX;
}
