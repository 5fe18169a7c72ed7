/* ARP body codec, RFC 826. */
#include <string.h>
#include <arpa/inet.h>

#include <sluice/drop_reasons.h>
#include "arp_parse.h"

unsigned int arp_parse(const void *body, size_t len, struct arp_info *out)
{
	const uint8_t *b = body;
	uint16_t htype, ptype, op;
	uint32_t ip;

	if (len < ARP_LEN)
		return SL_DROP_ARP_MALFORMED;
	memcpy(&htype, b, 2);
	memcpy(&ptype, b + 2, 2);
	/* hardware Ethernet (1), protocol IPv4, address lengths 6 and 4 */
	if (htype != htons(1) || ptype != htons(0x0800) || b[4] != 6 || b[5] != 4)
		return SL_DROP_ARP_MALFORMED;
	memcpy(&op, b + 6, 2);
	op = ntohs(op);
	if (op != ARP_OP_REQUEST && op != ARP_OP_REPLY)
		return SL_DROP_ARP_MALFORMED;
	out->op = op;
	memcpy(out->sha, b + 8, 6);
	memcpy(&ip, b + 14, 4);
	out->spa = ntohl(ip);
	memcpy(out->tha, b + 18, 6);
	memcpy(&ip, b + 24, 4);
	out->tpa = ntohl(ip);
	/* a sender hardware address that is multicast/broadcast is bogus */
	if (out->sha[0] & 1)
		return SL_DROP_ARP_MALFORMED;
	return SL_DROP_MAX;
}

void arp_build(void *body, const struct arp_info *a)
{
	uint8_t *b = body;
	uint16_t v;
	uint32_t ip;

	v = htons(1);
	memcpy(b, &v, 2);
	v = htons(0x0800);
	memcpy(b + 2, &v, 2);
	b[4] = 6;
	b[5] = 4;
	v = htons(a->op);
	memcpy(b + 6, &v, 2);
	memcpy(b + 8, a->sha, 6);
	ip = htonl(a->spa);
	memcpy(b + 14, &ip, 4);
	memcpy(b + 18, a->tha, 6);
	ip = htonl(a->tpa);
	memcpy(b + 24, &ip, 4);
}
