/* IPv4 header validation, RFC 1812 5.2.2 and 5.3.7. */
#include <string.h>
#include <arpa/inet.h>

#include "ipv4_check.h"

uint16_t ipv4_cksum(const void *data, size_t len)
{
	const uint8_t *p = data;
	uint64_t sum = 0;

	while (len >= 2) {
		uint16_t w;
		memcpy(&w, p, 2);
		sum += w;
		p += 2;
		len -= 2;
	}
	if (len) {
		uint16_t w = 0;
		memcpy(&w, p, 1);
		sum += w;
	}
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
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
