/*
 * Which worker owns an IPv4 packet's flow (N workers, software dispatch).
 * Pure, inline.
 *
 * Every flow the appliance keeps state for -- a TCP connection, a held SYN,
 * a relay's two legs -- lives on one worker.  The owner is what a NIC with
 * symmetric RSS computes (flow/toeplitz.h): the Toeplitz hash under the
 * symmetric key, so both directions of a flow agree, mapped like a RETA
 * (slot = hash & 511, owner = slot % n).  A port with RSS is given that key
 * and RETA (port.c), so its packets arrive on their owner's queue.  A port
 * without (every vdev here), or one whose RETA cannot express the mapping,
 * delivers a packet to whichever worker polls the queue it landed on; that
 * worker computes the owner with this function and hands the packet over
 * when it is not the owner.  A connection the appliance opens itself picks
 * a local port whose 4-tuple this function gives to the opening worker
 * (flow_pick_port, tcp_connect).
 *
 * The vnet is not part of it: client ranges of vnets never overlap, so the
 * 4-tuple alone names a flow, and the owner must be known before the vnet.
 *
 * Which tuple a packet is dispatched by (as the NIC's hash types pick it):
 *  - TCP or UDP, unfragmented: its 4-tuple (NONFRAG_IPV4_TCP/UDP);
 *  - an ICMP error quoting a TCP or UDP header: the quoted 4-tuple (the
 *    flow it is about: a "fragmentation needed" for a proxied connection
 *    must reach that connection's worker).  The NIC hashes the outer
 *    addresses, so these arrive elsewhere and are handed off: they are rare;
 *  - anything else, fragments included: the address pair (IPV4, FRAG_IPV4),
 *    so all fragments of a datagram meet on one worker.
 */
#ifndef SLUICE_FLOW_DISPATCH_H
#define SLUICE_FLOW_DISPATCH_H

#include <stdint.h>
#include <netinet/in.h>

#include "flow/flow_key.h"
#include "flow/toeplitz.h"
#include "ip/ipv4_check.h"

/* flow_owner() of the IPv4 key, without building the key: ports count for
 * TCP and UDP only, as in the NIC's hash types. */
static inline unsigned int flow_owner_v4(uint8_t proto, uint32_t saddr_be, uint32_t daddr_be,
					 uint16_t sport, uint16_t dport, unsigned int n)
{
	if (n <= 1)
		return 0;
	if (proto == IPPROTO_TCP || proto == IPPROTO_UDP)
		return toeplitz_reta_owner(toeplitz_hash_v4(saddr_be, daddr_be, sport, dport), n);
	return toeplitz_reta_owner(toeplitz_hash_v4_addr(saddr_be, daddr_be), n);
}

/* Ephemeral ports tcp_connect() hands out: [32768, 61000), Linux's range. */
#define FLOW_PORT_LO 32768u
#define FLOW_PORT_HI 61000u
/* The cursor's step: coprime with the range's size (8 x 3529), so it visits
 * every port once a cycle.  Not 1: the owner is linear in the port's bits
 * (GF(2)), and consecutive ports walk the RETA slots in a pattern that for n
 * not a power of two can miss a worker for dozens of ports (1.7 n tries on
 * average for n = 5, 10, 15); a large odd step carries through the low
 * bits and gives about n. */
#define FLOW_PORT_STRIDE 7919u

/*
 * The next local port, from *cursor on (stepping through the ephemeral
 * range), whose 4-tuple laddr:port -> raddr:rport worker w of n owns; the
 * cursor moves past it.  0 when none is found in *budget tries; each try
 * spends one.  About one port in n fits, so a budget of a few tens of times
 * n does not run out.  The caller goes on from the cursor when the port is
 * in use.
 */
static inline uint16_t flow_pick_port(uint16_t *cursor, uint32_t laddr_be, uint32_t raddr_be,
				      uint16_t rport, unsigned int n, unsigned int w,
				      unsigned int *budget)
{
	while (*budget) {
		uint16_t p = *cursor;

		if (p < FLOW_PORT_LO || p >= FLOW_PORT_HI)
			p = FLOW_PORT_LO;
		(*budget)--;
		*cursor = (uint16_t)(FLOW_PORT_LO +
				     (p - FLOW_PORT_LO + FLOW_PORT_STRIDE) % (FLOW_PORT_HI - FLOW_PORT_LO));
		if (flow_owner_v4(IPPROTO_TCP, laddr_be, raddr_be, p, rport, n) == w)
			return p;
	}
	return 0;
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
		return toeplitz_reta_owner(toeplitz_hash_v4_addr(ip->src, ip->dst), n);
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
	return toeplitz_reta_owner(toeplitz_hash_v4_addr(ip->src, ip->dst), n);
}

#endif
