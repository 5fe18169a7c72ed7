/*
 * IPv4 on the worker: validate (RFC 1812 5.2.2), look up the whole burst in
 * the LPM at once, then deliver locally, forward, or answer with ICMP.
 */
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_lpm.h>
#include <rte_prefetch.h>
#include <rte_tcp.h>

#include "ipv4_input.h"
#include "l2/neigh.h"

/* The 12 bytes of Ethernet addresses a next hop gets, looked up once per
 * run of packets to the same next hop in a burst. */
struct l2_memo {
	const struct nexthop *nh;
	uint32_t nh_ip;
	uint8_t addrs[12]; /* dst MAC, src MAC */
};

/* ipv4_output's memo, per worker (each writes its own line only), good
 * for one turn of its loop. */
static struct out_memo {
	uint64_t tsc;          /* the loop turn (worker now_tsc) it is good for */
	struct l2_memo memo;
} __rte_cache_aligned out_memo[RTE_MAX_LCORE];

/* Look the next hop's MAC up and refill the memo; hand the packet to the main
 * lcore when the MAC is not known yet.  Out of line: once per run of packets
 * to the same next hop.  Returns 0 when the memo is ready. */
static __rte_noinline int l2_memo_fill(struct worker *w, struct rte_mbuf *m, struct nexthop *nh,
				       uint32_t nh_ip, uint32_t in_port, struct l2_memo *memo)
{
	struct rte_ether_addr mac;
	int32_t pos = -1;
	uint32_t gen = 0;
	int32_t *ppos = nh->type == SL_RT_GATEWAY ? &nh->neigh_pos : &pos;
	uint32_t *pgen = nh->type == SL_RT_GATEWAY ? &nh->neigh_gen : &gen;

	if (neigh_lookup(dp.neigh, nh_ip, nh->port, ppos, pgen, &mac) != 0) {
		memo->nh = NULL;
		slow_meta_set(m, nh_ip, nh->port, in_port);
		worker_to_slowpath(w, m);
		return -1;
	}
	memo->nh = nh;
	memo->nh_ip = nh_ip;
	memcpy(memo->addrs, mac.addr_bytes, 6);
	memcpy(memo->addrs + 6, dp.ports[nh->port].mac.addr_bytes, 6);
	return 0;
}

/* Fill the Ethernet header and queue for TX. */
static __rte_always_inline void l2_output(struct worker *w, struct rte_mbuf *m, struct nexthop *nh,
					  uint32_t dst, uint32_t in_port, struct l2_memo *memo)
{
	uint32_t nh_ip = nh->type == SL_RT_GATEWAY ? nh->gw : dst;

	if (unlikely(memo->nh != nh || memo->nh_ip != nh_ip) &&
	    l2_memo_fill(w, m, nh, nh_ip, in_port, memo) != 0)
		return;
	memcpy(rte_pktmbuf_mtod(m, void *), memo->addrs, 12);
	worker_tx(w, nh->port, m);
}

/* The uncommon cases of forwarding, out of line: TTL expiry, directed
 * broadcast, too big.  Returns 1 when the packet was consumed. */
static int forward_exception(struct worker *w, struct rte_mbuf *m, struct ipv4_hdr_raw *ip,
			     uint16_t in_port, const struct nexthop *nh, uint32_t dst)
{
	const struct dp_port *op = &dp.ports[nh->port];

	/* RFC 1812 5.3.1: a packet whose TTL would reach zero is not forwarded */
	if (ip->ttl <= 1) {
		icmp_error(w, m, in_port, 11, 0, 0);
		worker_drop(w, m, SL_DROP_TTL_EXCEEDED);
		return 1;
	}
	/* RFC 1812 5.3.5.1: directed broadcasts are not forwarded by default */
	if (nh->type == SL_RT_DIRECT && (dst == op->bcast || dst == op->net) && op->plen < 31) {
		worker_drop(w, m, SL_DROP_IP_MCAST_BCAST);
		return 1;
	}
	if (rte_be_to_cpu_16(ip->total_len) > op->mtu) {
		/* RFC 1191: DF set -> fragmentation needed, with the next-hop MTU */
		if (ip->frag_off & RTE_BE16(RTE_IPV4_HDR_DF_FLAG))
			icmp_error(w, m, in_port, 3, 4, op->mtu);
		worker_drop(w, m, SL_DROP_MTU);
		return 1;
	}
	return 0;
}

void ipv4_burst_route(struct worker *w, uint16_t in_port, struct ipv4_burst *b)
{
	uint32_t hop[2 * MAX_BURST + 1];
	struct rte_mbuf **ok = b->m;
	const uint32_t *dst = b->dst;
	unsigned int k = b->k, nfwd = 0;
	struct l2_memo memo = { .nh = NULL };

	if (unlikely(w->pre_route != NULL)) {
		w->pre_route(w, in_port, b);
		k = b->k;
	}
	if (k == 0)
		return;
	rte_lpm_lookup_bulk(w->lpm, dst, hop, k);
	for (unsigned int i = 0; i < k; i++) {
		struct rte_mbuf *m = ok[i];
		struct nexthop *nh;

		if (unlikely(!(hop[i] & RTE_LPM_LOOKUP_SUCCESS))) {
			icmp_error(w, m, in_port, 3, 0, 0); /* net unreachable */
			worker_drop(w, m, SL_DROP_NO_ROUTE);
			continue;
		}
		nh = &w->nhp.nh[hop[i] & 0xffffff];
		if (unlikely(nh->type == SL_RT_LOCAL)) {
			void (*in)(struct worker *, struct rte_mbuf *, uint16_t) =
				w->local_in[ip_hdr(m)->proto];

			w->st->local_in++;
			if (in)
				in(w, m, in_port);
			else
				icmp_local_input(w, m, in_port);
			continue;
		}
		if (unlikely(w->n_rules)) {
			/* a transparent proxy's server leg answers to the client's
			 * address: those segments look forwarded */
			if (unlikely(w->n_transparent) && w->flow_try(w, m, in_port))
				continue;
			if (rule_apply(w, m, in_port))
				continue;
		}
		{
			struct ipv4_hdr_raw *ip = ip_hdr(m);
			const struct dp_port *op = &dp.ports[nh->port];

			/* one test for every exception: TTL, broadcast, MTU */
			if (unlikely(ip->ttl <= 1 || (dst[i] & ~op->mask) == (op->bcast & ~op->mask) ||
				     (dst[i] & ~op->mask) == 0 ||
				     rte_be_to_cpu_16(ip->total_len) > op->mtu) &&
			    forward_exception(w, m, ip, in_port, nh, dst[i]))
				continue;
			ipv4_ttl_dec(ip);
			l2_output(w, m, nh, dst[i], in_port, &memo);
			nfwd++;
		}
	}
	w->st->fwd += nfwd;
}

/* A packet the appliance originates (ICMP): route it, no TTL decrement. */
void ipv4_output(struct worker *w, struct rte_mbuf *m)
{
	struct ipv4_hdr_raw *ip = ip_hdr(m);
	uint32_t dst = rte_be_to_cpu_32(ip->dst), hop;
	struct nexthop *nh;

	if (rte_lpm_lookup(w->lpm, dst, &hop) != 0) {
		worker_drop(w, m, SL_DROP_NO_ROUTE);
		return;
	}
	nh = &w->nhp.nh[hop];
	if (nh->type == SL_RT_LOCAL) {
		worker_drop(w, m, SL_DROP_LOCAL_PROTO);
		return;
	}
	if ((m->ol_flags & RTE_MBUF_F_TX_TCP_CKSUM) && !dp.ports[nh->port].tx_cksum) {
		/* the TCP stack asked for offload; this port has none */
		struct rte_tcp_hdr *th = (struct rte_tcp_hdr *)((uint8_t *)ip + 20);

		m->ol_flags &= ~(RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_TCP_CKSUM);
		ip->cksum = ipv4_cksum(ip, 20);
		th->cksum = 0;
		th->cksum = rte_ipv4_udptcp_cksum_mbuf(m, (const struct rte_ipv4_hdr *)ip,
						       RTE_ETHER_HDR_LEN + 20);
	}
	{
		/* answers made at line rate (RSTs, ICMP errors) mostly go to
		 * one next hop: its MAC is looked up once per loop, as the
		 * forwarding path does once per burst */
		struct out_memo *om = &out_memo[w->idx];

		if (om->tsc != w->now_tsc) {
			om->tsc = w->now_tsc;
			om->memo.nh = NULL;
		}
		/* never an ICMP error about the appliance's own packet */
		l2_output(w, m, nh, dst, SLOW_NO_INGRESS, &om->memo);
	}
}

int ipv4_src_for(struct worker *w, uint32_t dst, uint32_t *src_be, uint16_t *port)
{
	uint32_t hop;
	const struct nexthop *nh;

	if (rte_lpm_lookup(w->lpm, dst, &hop) != 0)
		return -EHOSTUNREACH;
	nh = &w->nhp.nh[hop];
	if (nh->type == SL_RT_LOCAL || nh->port >= dp.n_ports)
		return -EHOSTUNREACH;
	*src_be = rte_cpu_to_be_32(dp.ports[nh->port].addr);
	*port = nh->port;
	return 0;
}
