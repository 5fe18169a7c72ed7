/* ARP (RFC 826) for Ethernet/IPv4: parse and build the 28-byte body. Pure. */
#ifndef SLUICE_ARP_PARSE_H
#define SLUICE_ARP_PARSE_H

#include <stdint.h>
#include <stddef.h>

#define ARP_LEN 28
#define ARP_OP_REQUEST 1
#define ARP_OP_REPLY 2

struct arp_info {
	uint16_t op;
	uint8_t sha[6];
	uint32_t spa; /* host order */
	uint8_t tha[6];
	uint32_t tpa; /* host order */
};

/* SL_DROP_MAX when valid, else SL_DROP_ARP_MALFORMED. */
unsigned int arp_parse(const void *body, size_t len, struct arp_info *out);
void arp_build(void *body, const struct arp_info *a);

#endif
