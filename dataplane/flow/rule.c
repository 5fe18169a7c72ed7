/*
 * Policy rules on the worker (P3): first match wins; forward, drop, or
 * reject.  A reject answers as the destination would: a TCP RST from the
 * server's address (RFC 9293 3.10.7.1), or for anything else ICMP
 * "communication administratively prohibited" (RFC 1812 5.2.7.1, code 13)
 * from the appliance's ingress address.
 */
#include <string.h>

#include <rte_ip.h>
#include <rte_tcp.h>

#include "flow/rule_match.h"
#include "ip/ipv4_input.h"

/* Rewrite the segment in place into the RST that refuses it. */
static void tcp_reset_reply(struct worker *w, struct rte_mbuf *m, struct ipv4_hdr_raw *ip,
			    unsigned int hlen, unsigned int tlen)
{
	const struct rte_tcp_hdr *in = (const struct rte_tcp_hdr *)((uint8_t *)ip + hlen);
	uint32_t saddr = ip->dst, daddr = ip->src;
	uint16_t sport = in->dst_port, dport = in->src_port;
	uint8_t flags = in->tcp_flags;
	uint32_t seq, ack;
	struct rte_tcp_hdr *th;
	unsigned int doff = (in->data_off >> 4) * 4u;

	if (flags & RTE_TCP_RST_FLAG) {
		/* 3.10.7.1: a RST is never answered */
		worker_drop(w, m, SL_DROP_RULE_REJECT);
		return;
	}
	/* 3.10.7.1: take the sequence number from the ACK field if there is
	 * one; otherwise sequence 0 and ACK the whole segment (SYN and FIN
	 * count one each) */
	if (flags & RTE_TCP_ACK_FLAG) {
		seq = in->recv_ack;
		ack = 0;
		flags = RTE_TCP_RST_FLAG;
	} else {
		uint32_t len = tlen - hlen - (doff <= tlen - hlen ? doff : tlen - hlen);

		len += !!(flags & RTE_TCP_SYN_FLAG) + !!(flags & RTE_TCP_FIN_FLAG);
		seq = 0;
		ack = rte_cpu_to_be_32(rte_be_to_cpu_32(in->sent_seq) + len);
		flags = RTE_TCP_RST_FLAG | RTE_TCP_ACK_FLAG;
	}
	/* Both checksums from the values (ipv4_sum's rule: each field as
	 * stored), not by reading the headers back: they were just written
	 * field by field, and reading them as words stalls the core on store
	 * forwarding, which was most of a RST's cost.  TCP: RFC 9293 3.1,
	 * the pseudo-header (addresses, protocol, TCP length 20) then the
	 * header with window, checksum and urgent pointer 0. */
	{
		uint64_t addrs = (uint64_t)saddr + daddr;
		uint64_t ip_sum = addrs + RTE_BE16(0x4500) + RTE_BE16(40) +
				  RTE_BE16(64 << 8 | IPPROTO_TCP);
		uint64_t tcp_sum = addrs + RTE_BE16(IPPROTO_TCP) + RTE_BE16(20) + sport + dport +
				   seq + ack + rte_cpu_to_be_16((uint16_t)(5 << 12 | flags));

		*ip = (struct ipv4_hdr_raw){
			.ver_ihl = 0x45,
			.total_len = RTE_BE16(40),
			.ttl = 64,
			.proto = IPPROTO_TCP,
			.cksum = ipv4_cksum_fold(ip_sum),
			.src = saddr,
			.dst = daddr,
		};
		th = (struct rte_tcp_hdr *)(ip + 1);
		*th = (struct rte_tcp_hdr){
			.src_port = sport,
			.dst_port = dport,
			.sent_seq = seq,
			.recv_ack = ack,
			.data_off = 5 << 4,
			.tcp_flags = flags,
			.cksum = ipv4_cksum_fold(tcp_sum),
		};
	}
	rte_pktmbuf_trim(m, rte_pktmbuf_pkt_len(m) - (RTE_ETHER_HDR_LEN + 40));
	w->st->drops[SL_DROP_RULE_REJECT]++;
	ipv4_output(w, m);
}

int rule_apply(struct worker *w, struct rte_mbuf *m, uint16_t in_port)
{
	struct sl_rule_table *t = &w->shm->rules;
	struct ipv4_hdr_raw *ip = ip_hdr(m);
	unsigned int hlen = (ip->ver_ihl & 0xf) * 4u;
	unsigned int tlen = rte_be_to_cpu_16(ip->total_len);
	struct rule_pkt p = {
		.src = rte_be_to_cpu_32(ip->src),
		.dst = rte_be_to_cpu_32(ip->dst),
		.proto = ip->proto,
	};
	int pos;

	/* ports: TCP/UDP, first fragment, and really there */
	if ((p.proto == IPPROTO_TCP || p.proto == IPPROTO_UDP) && !ipv4_is_later_fragment(ip) &&
	    hlen + 4 <= tlen) {
		const uint16_t *ports = (const uint16_t *)((const uint8_t *)ip + hlen);

		p.has_port = 1;
		p.dport = rte_be_to_cpu_16(ports[1]);
	}
	pos = rule_match(t, &p);
	if (pos < 0)
		return 0;
	t->hits[pos]++;
	switch (t->r[pos].action) {
	case SL_RA_DROP:
		worker_drop(w, m, SL_DROP_RULE_DROP);
		return 1;
	case SL_RA_REJECT:
		if (p.proto == IPPROTO_TCP && p.has_port && !ipv4_is_fragment(ip) &&
		    hlen + sizeof(struct rte_tcp_hdr) <= tlen) {
			tcp_reset_reply(w, m, ip, hlen, tlen);
		} else {
			icmp_error(w, m, in_port, 3, 13, 0);
			worker_drop(w, m, SL_DROP_RULE_REJECT);
		}
		return 1;
	case SL_RA_PROXY:
	case SL_RA_TLS_TERM:
	case SL_RA_TLS_ORIG:
		/* rule_validate: these are TCP-only; their feature registered
		 * (a worker without one refuses such rules: worker_rule_add) */
		w->rule_in[t->r[pos].action](w, m, in_port, &t->r[pos]);
		return 1;
	case SL_RA_DENY:
		/* S1: an application's plain port is reachable only through it */
		w->st->app[t->r[pos].app - 1].denied++;
		worker_drop(w, m, SL_DROP_APP_DENY);
		return 1;
	default:
		return 0; /* forward */
	}
}
