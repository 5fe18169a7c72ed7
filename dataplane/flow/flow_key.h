/*
 * Flow keys: what identifies a flow in a worker's flow table, wide enough
 * for IPv6 (SPEC P2) and carrying the virtual network (S4).  Pure, inline.
 *
 * The symmetric hash gives both directions of a flow the same value.  Which
 * worker owns a flow is flow_owner(): for IPv4 the NIC's symmetric RSS hash
 * (toeplitz.h), so a worker that receives a packet can tell whose it is
 * when the port did not deliver it there (software dispatch, DESIGN.md 3).
 */
#ifndef SLUICE_FLOW_KEY_H
#define SLUICE_FLOW_KEY_H

#include <stdint.h>
#include <string.h>
#include <netinet/in.h>

#include "flow/toeplitz.h"

struct flow_key {
	uint8_t saddr[16];  /* IPv4: first 4 bytes, network order; rest zero */
	uint8_t daddr[16];
	uint16_t sport, dport; /* host order; 0 for protocols without ports */
	uint16_t vnet;
	uint8_t proto;
	uint8_t family;     /* 4 or 6 */
} __attribute__((packed));

_Static_assert(sizeof(struct flow_key) == 40, "flow_key is 40 bytes, no padding");

static inline void flow_key_v4(struct flow_key *k, uint16_t vnet, uint8_t proto,
			       uint32_t saddr_be, uint32_t daddr_be, uint16_t sport, uint16_t dport)
{
	memset(k, 0, sizeof(*k));
	memcpy(k->saddr, &saddr_be, 4);
	memcpy(k->daddr, &daddr_be, 4);
	k->sport = sport;
	k->dport = dport;
	k->vnet = vnet;
	k->proto = proto;
	k->family = 4;
}

/* The key of the same flow seen from the other direction. */
static inline void flow_key_reverse(struct flow_key *r, const struct flow_key *k)
{
	*r = *k;
	memcpy(r->saddr, k->daddr, 16);
	memcpy(r->daddr, k->saddr, 16);
	r->sport = k->dport;
	r->dport = k->sport;
}

static inline uint32_t flow_mix32(uint32_t h)
{
	/* murmur3 finaliser: every input bit reaches every output bit */
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	h ^= h >> 16;
	return h;
}

/* Same value for a key and its reverse: the two endpoints are combined with
 * commutative operations before mixing. */
static inline uint32_t flow_hash_sym(const struct flow_key *k)
{
	uint32_t a = 0, b = 0, w;

	for (int i = 0; i < 16; i += 4) {
		memcpy(&w, k->saddr + i, 4);
		a ^= flow_mix32(w + (uint32_t)i);
		memcpy(&w, k->daddr + i, 4);
		b ^= flow_mix32(w + (uint32_t)i);
	}
	a ^= flow_mix32(k->sport + 0x10000u);
	b ^= flow_mix32(k->dport + 0x10000u);
	return flow_mix32((a + b) ^ (a * b) ^ ((uint32_t)k->proto << 16 | k->vnet));
}

/*
 * The worker that owns a flow, of n: for IPv4, what a port with symmetric
 * RSS does (toeplitz.h) -- the Toeplitz hash of the 4-tuple for TCP and UDP,
 * of the address pair for other protocols, mapped like a RETA -- so the
 * queue a packet arrives on is its owner's.  The proto only says whether
 * ports count; the vnet does not count: the NIC does not see it, and the
 * owner must be known before it is.  IPv6 is not dispatched yet (dispatch.h
 * is IPv4 only); its keys keep the generic hash.
 */
static inline unsigned int flow_owner(const struct flow_key *k, unsigned int n)
{
	uint32_t s, d;

	if (n <= 1)
		return 0;
	if (k->family == 4) {
		memcpy(&s, k->saddr, 4);
		memcpy(&d, k->daddr, 4);
		if (k->proto == IPPROTO_TCP || k->proto == IPPROTO_UDP)
			return toeplitz_reta_owner(toeplitz_hash_v4(s, d, k->sport, k->dport), n);
		return toeplitz_reta_owner(toeplitz_hash_v4_addr(s, d), n);
	}
	return (unsigned int)(((uint64_t)flow_hash_sym(k) * n) >> 32);
}

#endif
