/*
 * IPv4 input on a worker, split so the receive loop can validate each packet
 * as it classifies it (one pass over the burst) and route the survivors
 * together (one bulk LPM lookup).
 */
#ifndef SLUICE_IPV4_INPUT_H
#define SLUICE_IPV4_INPUT_H

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_mbuf.h>

#include "ipv4_check.h"
#include "worker.h"

struct ipv4_burst {
	unsigned int k;
	struct rte_mbuf *m[2 * MAX_BURST + 1];
	uint32_t dst[2 * MAX_BURST + 1]; /* host order */
};

static inline struct ipv4_hdr_raw *ip_hdr(struct rte_mbuf *m)
{
	return rte_pktmbuf_mtod_offset(m, struct ipv4_hdr_raw *, RTE_ETHER_HDR_LEN);
}

/* A correct header sums to 0xffff, checksum included (RFC 1071): five
 * 32-bit words into 64 bits, then fold. */
static inline int hdr20_sum_ok(const struct ipv4_hdr_raw *ip)
{
	const uint32_t *w = (const uint32_t *)ip;
	uint64_t s = (uint64_t)w[0] + w[1] + w[2] + w[3] + w[4];

	s = (s & 0xffffffff) + (s >> 32);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return s == 0xffff;
}

/* Validation with a fast path for the common 20-byte header. */
static inline unsigned int ipv4_validate(struct rte_mbuf *m, const struct ipv4_hdr_raw *ip)
{
	uint32_t avail = rte_pktmbuf_data_len(m) - RTE_ETHER_HDR_LEN;
	unsigned int r;

	if (likely(ip->ver_ihl == 0x45 && avail >= 20 &&
		   rte_be_to_cpu_16(ip->total_len) <= avail &&
		   rte_be_to_cpu_16(ip->total_len) >= 20)) {
		uint64_t ol = m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK;

		if (ol == RTE_MBUF_F_RX_IP_CKSUM_GOOD)
			r = SL_DROP_MAX;
		else if (ol == RTE_MBUF_F_RX_IP_CKSUM_BAD)
			r = SL_DROP_IP_CHECKSUM;
		else
			r = hdr20_sum_ok(ip) ? SL_DROP_MAX : SL_DROP_IP_CHECKSUM;
	} else {
		r = ipv4_check(ip, avail);
	}
	if (unlikely(r != SL_DROP_MAX))
		return r;
	r = ipv4_check_src(rte_be_to_cpu_32(ip->src));
	if (unlikely(r != SL_DROP_MAX))
		return r;
	return ipv4_check_dst(rte_be_to_cpu_32(ip->dst));
}

/* Validate one received IPv4 frame: add it to the burst or drop it. */
static inline void ipv4_burst_add(struct worker *w, struct ipv4_burst *b, struct rte_mbuf *m)
{
	struct ipv4_hdr_raw *ip = ip_hdr(m);
	unsigned int r = ipv4_validate(m, ip);

	if (unlikely(r != SL_DROP_MAX)) {
		worker_drop(w, m, r);
		return;
	}
	b->m[b->k] = m;
	b->dst[b->k++] = rte_be_to_cpu_32(ip->dst);
}

/* Route every packet of the burst (bulk LPM), then deliver or forward. */
void ipv4_burst_route(struct worker *w, uint16_t in_port, struct ipv4_burst *b);

#endif
