/*
 * ICMP the appliance speaks itself: echo replies for its own addresses
 * (RFC 792) and rate-limited errors (RFC 1812 4.3.2).
 */
#include <string.h>

#include <rte_cycles.h>
#include <rte_ether.h>
#include <rte_icmp.h>
#include <rte_ip.h>

#include "ipv4_check.h"
#include "worker.h"

/* RFC 1812 4.3.2.3: an error carries as much of the original datagram as
 * fits in 576 bytes of IP. */
#define ICMP_ERR_MAX_IP 576

static inline struct ipv4_hdr_raw *ip_hdr(struct rte_mbuf *m)
{
	return rte_pktmbuf_mtod_offset(m, struct ipv4_hdr_raw *, RTE_ETHER_HDR_LEN);
}

void icmp_local_input(struct worker *w, struct rte_mbuf *m, uint16_t in_port)
{
	struct ipv4_hdr_raw *ip = ip_hdr(m);
	unsigned int hlen = (ip->ver_ihl & 0xf) * 4u;
	unsigned int tlen = rte_be_to_cpu_16(ip->total_len);
	struct rte_icmp_hdr *icmp;
	uint32_t tmp, sum;

	(void)in_port;
	if (ip->proto != IPPROTO_ICMP) {
		worker_drop(w, m, SL_DROP_LOCAL_PROTO);
		return;
	}
	if (ipv4_is_fragment(ip)) {
		worker_drop(w, m, SL_DROP_IP_FRAG_LOCAL);
		return;
	}
	if (tlen - hlen < sizeof(*icmp) ||
	    rte_raw_cksum((const uint8_t *)ip + hlen, tlen - hlen) != 0xffff) {
		worker_drop(w, m, SL_DROP_ICMP_MALFORMED);
		return;
	}
	icmp = (struct rte_icmp_hdr *)((uint8_t *)ip + hlen);
	if (icmp->icmp_type != RTE_IP_ICMP_ECHO_REQUEST || icmp->icmp_code != 0) {
		worker_drop(w, m, SL_DROP_ICMP_TYPE);
		return;
	}
	/* RFC 792: swap the addresses, type 0, same id/sequence/data.  The type
	 * byte falls from 8 to 0, so the checksum rises by 0x0800 (RFC 1624). */
	icmp->icmp_type = RTE_IP_ICMP_ECHO_REPLY;
	sum = (uint32_t)icmp->icmp_cksum + RTE_BE16(0x0800);
	icmp->icmp_cksum = (uint16_t)(sum + (sum >> 16));
	tmp = ip->src;
	ip->src = ip->dst;
	ip->dst = tmp;
	ip->ttl = 64;
	ip->cksum = 0;
	ip->cksum = ipv4_cksum(ip, hlen);
	/* trim link-layer padding so the reply is exactly the datagram */
	rte_pktmbuf_trim(m, rte_pktmbuf_pkt_len(m) - RTE_ETHER_HDR_LEN - tlen);
	w->st->icmp_out++;
	ipv4_output(w, m);
}

/* Token bucket in TSC cycles: `rate` messages per second, `burst` deep. */
static int icmp_allowed(struct worker *w)
{
	uint64_t now, add;

	if (w->icmp_rate == 0)
		return 0;
	now = w->now_tsc; /* a burst's packets arrived together */
	add = now - w->icmp_last;
	w->icmp_last = now;
	/* cap the elapsed time before multiplying so it cannot overflow */
	if (add > w->icmp_cap / w->icmp_rate)
		w->icmp_tokens = w->icmp_cap;
	else if ((w->icmp_tokens += add * w->icmp_rate) > w->icmp_cap)
		w->icmp_tokens = w->icmp_cap;
	if (w->icmp_tokens < dp.tsc_hz)
		return 0;
	w->icmp_tokens -= dp.tsc_hz;
	return 1;
}

static int is_icmp_error(const struct ipv4_hdr_raw *ip, const struct rte_mbuf *m)
{
	unsigned int hlen = (ip->ver_ihl & 0xf) * 4u;
	const uint8_t *t;

	if (ip->proto != IPPROTO_ICMP)
		return 0;
	if (rte_pktmbuf_data_len(m) < RTE_ETHER_HDR_LEN + hlen + 1)
		return 1; /* cannot tell: be conservative */
	t = (const uint8_t *)ip + hlen;
	/* RFC 1812 4.3.2.7: never an error about an error.  Queries (echo,
	 * timestamp, information, address mask) may get one. */
	return !(*t == 0 || *t == 8 || *t == 13 || *t == 14 || *t == 15 || *t == 16 ||
		 *t == 17 || *t == 18);
}

void icmp_error(struct worker *w, struct rte_mbuf *orig, uint16_t in_port, uint8_t type,
		uint8_t code, uint16_t mtu)
{
	/* RFC 1812 4.3.2.4: from the interface the offending packet came in on */
	icmp_error_from(w, orig, dp.ports[in_port].addr, type, code, mtu);
}

/* RFC 1812 4.3.2.7: no error about a non-initial fragment, an ICMP error,
 * or a link-layer broadcast; and the rate limit (4.3.2.8).  1 when an
 * error may be sent. */
static int icmp_error_ok(struct worker *w, struct rte_mbuf *orig)
{
	const struct ipv4_hdr_raw *oip = ip_hdr(orig);
	const struct rte_ether_hdr *oeth = rte_pktmbuf_mtod(orig, const struct rte_ether_hdr *);

	if (ipv4_is_later_fragment(oip) || is_icmp_error(oip, orig) ||
	    rte_is_multicast_ether_addr(&oeth->dst_addr))
		return 0;
	if (!icmp_allowed(w)) {
		w->st->drops[SL_DROP_ICMP_RATELIMIT]++;
		return 0;
	}
	return 1;
}

/* How much of the original datagram the error quotes: all of it up to
 * ICMP_ERR_MAX_IP in total (RFC 1812 4.3.2.3), what the mbuf has. */
static unsigned int icmp_quote_len(struct rte_mbuf *orig)
{
	unsigned int quote = rte_be_to_cpu_16(ip_hdr(orig)->total_len);

	if (quote > ICMP_ERR_MAX_IP - 20 - 8)
		quote = ICMP_ERR_MAX_IP - 20 - 8;
	if (quote > rte_pktmbuf_pkt_len(orig) - RTE_ETHER_HDR_LEN)
		quote = rte_pktmbuf_pkt_len(orig) - RTE_ETHER_HDR_LEN;
	return quote;
}

/* The Ethernet type, IP and ICMP headers in front of a quote already in
 * place at p + 14 + 28; then route it. */
static void icmp_error_send(struct worker *w, struct rte_mbuf *m, uint8_t *p, uint32_t src,
			    uint32_t dst_be, uint8_t type, uint8_t code, uint16_t mtu,
			    unsigned int quote)
{
	struct ipv4_hdr_raw *ip;
	struct rte_icmp_hdr *icmp;

	rte_be16_t tlen = rte_cpu_to_be_16((uint16_t)(20 + 8 + quote));
	rte_be32_t src_be = rte_cpu_to_be_32(src);
	/* the checksums from the values written, not read back (ipv4_sum) */
	uint64_t ip_sum = (uint64_t)RTE_BE16(0x4500) + tlen + RTE_BE16(64 << 8 | IPPROTO_ICMP) +
			  src_be + dst_be;
	/* RFC 1191: "fragmentation needed" carries the next-hop MTU */
	rte_be16_t seq = rte_cpu_to_be_16(mtu);
	uint64_t icmp_sum = (uint64_t)rte_cpu_to_be_16((uint16_t)(type << 8 | code)) + seq +
			    ipv4_sum(p + RTE_ETHER_HDR_LEN + 20 + 8, quote);

	((struct rte_ether_hdr *)p)->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV4);
	ip = (struct ipv4_hdr_raw *)(p + RTE_ETHER_HDR_LEN);
	*ip = (struct ipv4_hdr_raw){
		.ver_ihl = 0x45,
		.total_len = tlen,
		.ttl = 64,
		.proto = IPPROTO_ICMP,
		.cksum = ipv4_cksum_fold(ip_sum),
		.src = src_be,
		.dst = dst_be,
	};
	icmp = (struct rte_icmp_hdr *)(ip + 1);
	icmp->icmp_type = type;
	icmp->icmp_code = code;
	icmp->icmp_cksum = ipv4_cksum_fold(icmp_sum);
	icmp->icmp_ident = 0;
	icmp->icmp_seq_nb = seq;
	w->st->icmp_out++;
	ipv4_output(w, m);
}

void icmp_error_from(struct worker *w, struct rte_mbuf *orig, uint32_t src, uint8_t type,
		     uint8_t code, uint16_t mtu)
{
	unsigned int quote;
	struct rte_mbuf *m;
	uint8_t *p;

	if (!icmp_error_ok(w, orig))
		return;
	m = rte_pktmbuf_alloc(w->pool);
	if (!m) {
		w->st->drops[SL_DROP_NOMBUF]++;
		return;
	}
	quote = icmp_quote_len(orig);
	p = (uint8_t *)rte_pktmbuf_append(m, RTE_ETHER_HDR_LEN + 20 + 8 + quote);
	if (!p) {
		worker_drop(w, m, SL_DROP_NOMBUF);
		return;
	}
	{
		/* contiguous data comes back in place, a chain is copied into ours */
		uint8_t *q = p + RTE_ETHER_HDR_LEN + 20 + 8;
		const void *from = rte_pktmbuf_read(orig, RTE_ETHER_HDR_LEN, quote, q);

		if (from && from != (const void *)q)
			memcpy(q, from, quote);
	}
	icmp_error_send(w, m, p, src, ip_hdr(orig)->src, type, code, mtu, quote);
}

void icmp_error_reuse(struct worker *w, struct rte_mbuf *orig, uint32_t src, uint8_t type,
		      uint8_t code, uint16_t mtu, unsigned int reason)
{
	unsigned int quote;
	uint32_t dst_be;
	uint8_t *p;

	if (orig->nb_segs != 1 || !RTE_MBUF_DIRECT(orig) || rte_mbuf_refcnt_read(orig) != 1 ||
	    rte_pktmbuf_headroom(orig) < 20 + 8) {
		icmp_error_from(w, orig, src, type, code, mtu);
		worker_drop(w, orig, reason);
		return;
	}
	w->st->drops[reason]++;
	if (!icmp_error_ok(w, orig)) {
		rte_pktmbuf_free(orig);
		return;
	}
	/* the quote stays where it is: trim what follows it, put the new
	 * headers in front (the old Ethernet header is overwritten) */
	quote = icmp_quote_len(orig);
	dst_be = ip_hdr(orig)->src;
	rte_pktmbuf_trim(orig, (uint16_t)(rte_pktmbuf_pkt_len(orig) - RTE_ETHER_HDR_LEN - quote));
	p = (uint8_t *)rte_pktmbuf_prepend(orig, 20 + 8);
	orig->ol_flags = 0;
	orig->packet_type = 0;
	icmp_error_send(w, orig, p, src, dst_be, type, code, mtu, quote);
}
