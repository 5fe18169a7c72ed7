/*
 * Which worker owns an IPv4 packet's flow (N workers, software dispatch).
 * Pure, inline.
 *
 * Every flow the appliance keeps state for -- a TCP connection, a held SYN,
 * a relay's two legs -- lives on one worker.  A port without symmetric RSS
 * (every vdev here) delivers a packet to whichever worker polls the queue
 * it landed on; that worker computes the owner with this function and
 * hands the packet over when it is not the owner.  The function is the
 * flow key's symmetric hash (flow_key.h), so both directions of a flow
 * agree, and a connection the appliance opens itself picks a local port
 * whose 4-tuple this function gives to the opening worker (tcp_connect).
 *
 * The vnet is not part of it: client ranges of vnets never overlap, so the
 * 4-tuple alone names a flow, and the owner must be known before the vnet.
 *
 * Which tuple a packet is dispatched by:
 *  - TCP or UDP, unfragmented: its 4-tuple;
 *  - an ICMP error quoting a TCP or UDP header: the quoted 4-tuple (the
 *    flow it is about: a "fragmentation needed" for a proxied connection
 *    must reach that connection's worker);
 *  - anything else, fragments included: the address pair (ports 0), so
 *    all fragments of a datagram meet on one worker.
 */
#ifndef SLUICE_FLOW_DISPATCH_H
#define SLUICE_FLOW_DISPATCH_H

#include <stdint.h>
#include <netinet/in.h>

#include "flow/flow_key.h"
#include "ip/ipv4_check.h"

/* flow_owner() of the IPv4 key with vnet 0, without building the key: the
 * address words past the first four bytes are zero in a v4 key, so their
 * share of the hash is a constant. */
static inline unsigned int flow_owner_v4(uint8_t proto, uint32_t saddr_be, uint32_t daddr_be,
					 uint16_t sport, uint16_t dport, unsigned int n)
{
	uint32_t c, a, b;

	if (n <= 1)
		return 0;
	c = flow_mix32(4) ^ flow_mix32(8) ^ flow_mix32(12);
	a = flow_mix32(saddr_be) ^ c ^ flow_mix32(sport + 0x10000u);
	b = flow_mix32(daddr_be) ^ c ^ flow_mix32(dport + 0x10000u);
	return (unsigned int)(((uint64_t)flow_mix32((a + b) ^ (a * b) ^ ((uint32_t)proto << 16)) *
			       n) >> 32);
}

/*
 * The owner of the packet whose IP header is at ip, with `avail` bytes
 * readable from there (contiguous).  The header was validated (RFC 1812
 * 5.2.2): ihl and total_len are sane.
 */
static inline unsigned int dispatch_owner(const struct ipv4_hdr_raw *ip, uint32_t avail,
					  unsigned int n)
{
	uint32_t hlen = (ip->ver_ihl & 0xfu) * 4u;
	const uint8_t *l4 = (const uint8_t *)ip + hlen;
	uint16_t sport = 0, dport = 0;

	if (n <= 1)
		return 0;
	if (ipv4_is_fragment(ip) || avail < hlen + 8)
		return flow_owner_v4(ip->proto, ip->src, ip->dst, 0, 0, n);
	if (ip->proto == IPPROTO_TCP || ip->proto == IPPROTO_UDP) {
		sport = (uint16_t)(l4[0] << 8 | l4[1]);
		dport = (uint16_t)(l4[2] << 8 | l4[3]);
		return flow_owner_v4(ip->proto, ip->src, ip->dst, sport, dport, n);
	}
	if (ip->proto == IPPROTO_ICMP &&
	    (l4[0] == 3 || l4[0] == 4 || l4[0] == 5 || l4[0] == 11 || l4[0] == 12)) {
		/* RFC 792: the error quotes the offending datagram's IP header
		 * and at least 8 bytes after it */
		const struct ipv4_hdr_raw *q = (const struct ipv4_hdr_raw *)(l4 + 8);
		uint32_t qh, left = avail - hlen - 8;

		if (left >= sizeof(*q) && (q->ver_ihl >> 4) == 4 &&
		    (qh = (q->ver_ihl & 0xfu) * 4u) >= 20 && left >= qh + 4 &&
		    (q->proto == IPPROTO_TCP || q->proto == IPPROTO_UDP) && !ipv4_is_later_fragment(q)) {
			const uint8_t *ql4 = (const uint8_t *)q + qh;

			sport = (uint16_t)(ql4[0] << 8 | ql4[1]);
			dport = (uint16_t)(ql4[2] << 8 | ql4[3]);
			return flow_owner_v4(q->proto, q->src, q->dst, sport, dport, n);
		}
	}
	return flow_owner_v4(ip->proto, ip->src, ip->dst, 0, 0, n);
}

#endif
