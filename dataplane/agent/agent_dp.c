/*
 * S4 on the worker (agent_dp.h): held SYNs, verdicts, pings.
 *
 * Transparency is the point: the client must see what it would have seen
 * on the site's own network.  So a SYN is not answered until the agent's
 * own connect() to the real server has finished, and the answer is then
 * made from the SYN itself: a SYN-ACK from our TCP stack (OK), a RST+ACK
 * from the server's address and port acknowledging the SYN (REFUSE, RFC
 * 9293 3.10.7.1), or ICMP destination unreachable quoting the SYN's IP
 * header and what follows (RFC 792, RFC 1812 4.3.2.3) with the code the
 * agent saw, from the vnet's gateway address.
 */
#include <errno.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_malloc.h>
#include <rte_memzone.h>
#include <rte_tcp.h>

#include <sluice/agent_proto.h>
#include <sluice/tls_msg.h>

#include "agent/agent_dp.h"
#include "agent/held_tab.h"
#include "agent/udp_da.h"
#include "agent/vnet_acl.h"
#include "agent/vnet_match.h"
#include "apps/tls_relay.h"
#include "ip/ipv4_input.h"
#include "tcp/tcp_conn.h"

#define PINGS_MAX 1024
#define ACL_UNKNOWN INT16_MIN /* acl_denies: not classified with the burst */
#define ICMP_DEST_UNREACH 3
#define PING_SCAN_MS 50
/* an agent answers a ping within ping_timeout_ms; a little more for the
 * rings and the control session before the entry is given up */
#define PING_SLACK_MS 500

struct ping_ent {
	uint32_t gen;
	uint8_t used;
	uint8_t pad;
	uint16_t in_port;
	uint16_t vnet;
	uint16_t pad2;
	uint32_t src;
	uint32_t born_ms;
	struct rte_mbuf *m;     /* the client's echo request, answered in place */
};

struct agent_dp {
	uint16_t app;           /* the agents listener's application */
	uint16_t n_vnets;
	const struct sl_vnet_def *vnets;
	const struct sl_acl_rule *acl; /* the ACL zone's active buffer */
	uint32_t n_acl;
	const struct vnet_acl *acl_cls; /* its compiled classifier (rte_acl), or NULL */
	struct sl_acl_zone *acl_zone;
	struct held_tab *held;
	uint32_t hold_ms, ping_ms, pings_per_client;
	struct sl_rule listen_rule; /* the agents' port: TLS terminate, this app */
	struct sl_rule accept_rule; /* a released SYN: SL_RA_AGENT */
	uint32_t ping_scan_ms;
	uint32_t n_pings;
	struct ping_ent ping[PINGS_MAX];
};

static inline struct sl_agent_stats *ast(struct worker *w) { return &w->st->agent; }

/* --- answers built from the held SYN ------------------------------------- */

static void answer_unreach(struct worker *w, struct rte_mbuf *syn, uint16_t vnet, uint8_t code)
{
	struct agent_dp *a = w->agent;

	icmp_error_from(w, syn, a->vnets[vnet].gateway, ICMP_DEST_UNREACH, code, 0);
	rte_pktmbuf_free(syn);
}

/* RFC 9293 3.10.7.1 (CLOSED): <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>,
 * from the server's address and port. */
static void answer_rst(struct worker *w, struct rte_mbuf *syn)
{
	struct ipv4_hdr_raw *ip = ip_hdr(syn);
	const struct rte_tcp_hdr *th =
		(const struct rte_tcp_hdr *)((uint8_t *)ip + (ip->ver_ihl & 0xf) * 4u);

	tcp_reply_rst(w->tcp, ip->dst, ip->src, rte_be_to_cpu_16(th->dst_port),
		      rte_be_to_cpu_16(th->src_port), 0, rte_be_to_cpu_32(th->sent_seq) + 1, 1);
	rte_pktmbuf_free(syn);
}

/* --- the hold ---------------------------------------------------------------- */

/* `pre`: the rule pre_route found for this packet with the rest of its
 * burst, or ACL_UNKNOWN (then it is looked up here, alone). */
static int acl_denies(struct worker *w, struct rte_mbuf *m, uint16_t vnet,
		      const struct acl_pkt *p, int16_t pre)
{
	struct agent_dp *a = w->agent;
	int i;

	if (!a->n_acl)
		return 0;
	if (pre != ACL_UNKNOWN) {
		i = pre;
	} else if (a->acl_cls) {
		const struct acl_pkt *pp = p;
		int16_t k;

		/* rte_acl: thousands of rules cost about what a few do */
		i = vnet_acl_classify(a->acl_cls, &pp, 1, &k) == 0 ? k : -1;
	} else {
		i = acl_match(a->acl, a->n_acl, p);
	}
	if (i < 0 || a->acl[i].action == SL_ACL_ALLOW)
		return 0;
	ast(w)->acl_denied++;
	if (a->acl[i].action == SL_ACL_REJECT) {
		/* RFC 1812 5.2.7.1: communication administratively prohibited */
		icmp_error_reuse(w, m, a->vnets[vnet].gateway, ICMP_DEST_UNREACH, 13, 0,
				 SL_DROP_AGENT_ACL_REJECT);
	} else {
		worker_drop(w, m, SL_DROP_AGENT_ACL_DROP);
	}
	return 1;
}

static void offer(struct worker *w, uint32_t idx, const struct held_ent *e)
{
	struct agent_dp *a = w->agent;
	struct rte_mbuf *om = rte_pktmbuf_alloc(w->pool);
	struct sl_agent_offer *o;

	if (!om || !(o = (struct sl_agent_offer *)rte_pktmbuf_append(om, sizeof(*o)))) {
		rte_pktmbuf_free(om);
		goto fail;
	}
	*o = (struct sl_agent_offer){
		.vnet = e->vnet, .agent = e->agent, .src = e->k.src, .dst = e->k.dst,
		.sport = e->k.sport, .dport = e->k.dport, .proto = IPPROTO_TCP,
	};
	if (tls_relay_up(w, SL_TLS_UP_OFFER, a->app, idx, e->gen, om) == 0)
		return;
fail:
	/* not offered: forget it; the client's retransmission tries again */
	w->st->drops[SL_DROP_AGENT_OFFER]++;
	rte_pktmbuf_free(held_tab_del(a->held, idx));
	ast(w)->held--;
}

/* A clean first SYN (the whole TCP header there, unfragmented): what may
 * be held.  Its held-table key in *k. */
static int clean_syn(struct rte_mbuf *m, const struct ipv4_hdr_raw *ip, struct held_key *k)
{
	unsigned int hlen = (ip->ver_ihl & 0xf) * 4u, tlen = rte_be_to_cpu_16(ip->total_len);
	const struct rte_tcp_hdr *th = (const struct rte_tcp_hdr *)((const uint8_t *)ip + hlen);

	if (ipv4_is_fragment(ip) || tlen < hlen + sizeof(*th) ||
	    rte_pktmbuf_data_len(m) < RTE_ETHER_HDR_LEN + hlen + sizeof(*th) ||
	    (th->tcp_flags & (RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG | RTE_TCP_RST_FLAG |
			      RTE_TCP_FIN_FLAG)) != RTE_TCP_SYN_FLAG)
		return 0;
	*k = (struct held_key){
		.src = rte_be_to_cpu_32(ip->src), .dst = rte_be_to_cpu_32(ip->dst),
		.sport = rte_be_to_cpu_16(th->src_port), .dport = rte_be_to_cpu_16(th->dst_port),
	};
	return 1;
}

/* A TCP segment for a server behind an agent.  syn: NULL, or the clean
 * first SYN's held-table key (clean_syn); no_conn: the burst's bulk lookup
 * found no connection for it (pre_route). */
static void tcp_in(struct worker *w, struct rte_mbuf *m, uint16_t in_port, uint16_t vnet,
		   uint16_t agent, int16_t acl, const struct held_key *syn, int no_conn)
{
	struct agent_dp *a = w->agent;
	struct held_key k;
	uint32_t idx;
	int why;

	/* anything but a clean first SYN goes to the stack: a connection's
	 * segments, or a RST for what has none (RFC 9293 3.10.7.1) */
	if (!syn) {
		tcp_input(w->tcp, m, in_port, NULL);
		return;
	}
	k = *syn;
	/* The ACL first: it is the policy for every SYN that would start a
	 * connection, so a rule added while a SYN is held refuses its
	 * retransmissions at once; and a flood the ACL refuses costs no
	 * table lookup */
	{
		struct acl_pkt p = { .vnet = vnet, .proto = IPPROTO_TCP, .has_ports = 1,
				     .src = k.src, .dst = k.dst, .sport = k.sport, .dport = k.dport };

		if (acl_denies(w, m, vnet, &p, acl))
			return;
	}
	idx = held_tab_find(a->held, &k);
	if (idx != HELD_NONE) {
		/* the client retransmitted: the agent is still at it */
		held_ents(a->held)[idx].retrans++;
		ast(w)->syn_dup++;
		worker_drop(w, m, SL_DROP_AGENT_SYN_DUP);
		return;
	}
	/* a SYN for a connection already made (SYN-ACK lost) goes to it;
	 * one that may reuse a pair we hold in TIME-WAIT starts anew (we
	 * close first on every relay, so busy clients do this all the time) */
	if (!no_conn && tcp_input_syn_try(w->tcp, m, in_port))
		return;
	if (held_tab_add(a->held, &k, vnet, agent, in_port, w->tcp->now_ms, m, &idx, &why) != 0) {
		ast(w)->held_refused++;
		worker_drop(w, m, why == HELD_FULL_SOURCE ? SL_DROP_AGENT_HELD_SOURCE :
				  why == HELD_FULL_VNET ? SL_DROP_AGENT_HELD_VNET :
							  SL_DROP_AGENT_HELD_FULL);
		return;
	}
	ast(w)->held++;
	ast(w)->syn_held++;
	offer(w, idx, &held_ents(a->held)[idx]);
}

/* --- UDP (issue 10) ------------------------------------------------------------- */

/* A client datagram for a server behind an agent: reassembled first (the
 * ACL and the DA table need its ports), then the ACL, then its DA. */
static void udp_in(struct worker *w, struct rte_mbuf *m, uint16_t in_port, uint16_t vnet,
		   uint16_t agent, int16_t acl)
{
	struct ipv4_hdr_raw *ip = ip_hdr(m);
	unsigned int hlen;
	uint16_t ports[2];
	const uint16_t *pp;

	if (!w->da) {
		worker_drop(w, m, SL_DROP_AGENT_PROTO);
		return;
	}
	if (ipv4_is_fragment(ip)) {
		m = udp_da_reasm(w, m);
		if (!m)
			return; /* waits for the other fragments, or counted */
		ip = ip_hdr(m);
		acl = ACL_UNKNOWN;
	}
	hlen = (ip->ver_ihl & 0xf) * 4u;
	pp = rte_pktmbuf_read(m, RTE_ETHER_HDR_LEN + hlen, sizeof(ports), ports);
	if (!pp) {
		worker_drop(w, m, SL_DROP_UDP_BAD);
		return;
	}
	{
		struct acl_pkt p = { .vnet = vnet, .proto = IPPROTO_UDP, .has_ports = 1,
				     .src = rte_be_to_cpu_32(ip->src), .dst = rte_be_to_cpu_32(ip->dst),
				     .sport = rte_be_to_cpu_16(pp[0]), .dport = rte_be_to_cpu_16(pp[1]) };

		if (acl_denies(w, m, vnet, &p, acl))
			return;
	}
	udp_da_in(w, m, in_port, vnet, agent);
}

uint16_t agent_dp_app(const struct worker *w)
{
	return w->agent->app;
}

uint32_t agent_dp_vnet_gateway(const struct worker *w, uint16_t vnet)
{
	return w->agent->vnets[vnet].gateway;
}

/* --- pings ------------------------------------------------------------------ */

static void ping_free(struct worker *w, struct ping_ent *p)
{
	p->used = 0;
	p->gen += 2;
	p->m = NULL;
	w->agent->n_pings--;
	ast(w)->pings_pending--;
}

static void icmp_in(struct worker *w, struct rte_mbuf *m, uint16_t in_port, uint16_t vnet,
		    uint16_t agent, int16_t acl)
{
	struct agent_dp *a = w->agent;
	struct ipv4_hdr_raw *ip = ip_hdr(m);
	unsigned int hlen = (ip->ver_ihl & 0xf) * 4u, tlen = rte_be_to_cpu_16(ip->total_len);
	const struct rte_icmp_hdr *ic = (const struct rte_icmp_hdr *)((uint8_t *)ip + hlen);
	uint32_t src = rte_be_to_cpu_32(ip->src), dlen, same = 0, slot = PINGS_MAX;
	struct sl_agent_ping *q;
	struct rte_mbuf *qm;
	struct ping_ent *p;

	if (ipv4_is_fragment(ip) || tlen < hlen + sizeof(*ic) ||
	    rte_pktmbuf_data_len(m) < RTE_ETHER_HDR_LEN + tlen ||
	    ic->icmp_type != RTE_IP_ICMP_ECHO_REQUEST || ic->icmp_code != 0 ||
	    rte_raw_cksum(ic, tlen - hlen) != 0xffff) {
		worker_drop(w, m, SL_DROP_AGENT_PROTO);
		return;
	}
	dlen = tlen - hlen - (uint32_t)sizeof(*ic);
	if (dlen > AP_MAX_PING_DATA) {
		worker_drop(w, m, SL_DROP_AGENT_PROTO);
		return;
	}
	{
		struct acl_pkt ap = { .vnet = vnet, .proto = IPPROTO_ICMP, .src = src,
				      .dst = rte_be_to_cpu_32(ip->dst) };

		if (acl_denies(w, m, vnet, &ap, acl))
			return;
	}
	for (uint32_t i = 0; i < PINGS_MAX; i++) {
		if (a->ping[i].used)
			same += a->ping[i].src == src;
		else if (slot == PINGS_MAX)
			slot = i;
	}
	if (same >= a->pings_per_client || slot == PINGS_MAX) {
		worker_drop(w, m, SL_DROP_AGENT_PING_LIMIT);
		return;
	}
	qm = rte_pktmbuf_alloc(w->pool);
	if (!qm || !(q = (struct sl_agent_ping *)rte_pktmbuf_append(qm, (uint16_t)(sizeof(*q) + dlen)))) {
		rte_pktmbuf_free(qm);
		worker_drop(w, m, SL_DROP_NOMBUF);
		return;
	}
	*q = (struct sl_agent_ping){
		.vnet = vnet, .agent = agent, .src = src, .dst = rte_be_to_cpu_32(ip->dst),
		.ident = rte_be_to_cpu_16(ic->icmp_ident), .seq = rte_be_to_cpu_16(ic->icmp_seq_nb),
		.ttl = ip->ttl,
	};
	memcpy(q + 1, ic + 1, dlen);
	p = &a->ping[slot];
	if (tls_relay_up(w, SL_TLS_UP_PING, a->app, slot, p->gen, qm) != 0) {
		worker_drop(w, m, SL_DROP_AGENT_OFFER);
		return;
	}
	p->used = 1;
	p->src = src;
	p->vnet = vnet;
	p->in_port = in_port;
	p->born_ms = w->tcp->now_ms;
	p->m = m;
	a->n_pings++;
	ast(w)->pings++;
	ast(w)->pings_pending++;
}

/* The echo reply, in place in the request (RFC 792): addresses swapped,
 * type 0, the agent's reply payload (the same bytes, when the server
 * echoed them faithfully). */
static void pong(struct worker *w, struct ping_ent *p, const struct sl_agent_pong *r,
		 const uint8_t *data, uint32_t dlen)
{
	struct rte_mbuf *m = p->m;
	struct ipv4_hdr_raw *ip = ip_hdr(m);
	unsigned int hlen = (ip->ver_ihl & 0xf) * 4u, tlen = rte_be_to_cpu_16(ip->total_len);
	struct rte_icmp_hdr *ic = (struct rte_icmp_hdr *)((uint8_t *)ip + hlen);
	uint32_t tmp;

	if (dlen != tlen - hlen - sizeof(*ic)) {
		/* a reply of another size: the client would not match it */
		ast(w)->ping_errors++;
		rte_pktmbuf_free(m);
		return;
	}
	memcpy(ic + 1, data, dlen);
	ic->icmp_type = RTE_IP_ICMP_ECHO_REPLY;
	ic->icmp_cksum = 0;
	ic->icmp_cksum = ipv4_cksum(ic, tlen - hlen);
	tmp = ip->src;
	ip->src = ip->dst;
	ip->dst = tmp;
	ip->ttl = r->ttl ? r->ttl : 64;
	ip->cksum = 0;
	ip->cksum = ipv4_cksum(ip, hlen);
	rte_pktmbuf_trim(m, rte_pktmbuf_pkt_len(m) - RTE_ETHER_HDR_LEN - tlen);
	ast(w)->pongs++;
	w->st->icmp_out++;
	ipv4_output(w, m);
}

/* --- from sluice-cp ------------------------------------------------------------- */

static void verdict(struct worker *w, const struct sl_tls_msg *h, const struct sl_agent_verdict *v)
{
	struct agent_dp *a = w->agent;
	struct held_ent *e = held_tab_get(a->held, h->slot, h->gen);
	struct tcp_conn *stream = NULL, *c;
	struct rte_mbuf *syn;
	uint16_t in_port, vnet;

	if (v->result == AP_RES_OK)
		stream = tls_relay_stream_get(w, v->stream_slot, v->stream_gen);
	if (!e) {
		/* timed out meanwhile: the agent's server connection must end */
		ast(w)->late++;
		w->st->drops[SL_DROP_AGENT_LATE]++;
		if (stream)
			tls_relay_stream_abort(w, stream);
		return;
	}
	in_port = e->in_port;
	vnet = e->vnet;
	syn = held_tab_del(a->held, h->slot);
	ast(w)->held--;
	switch (v->result) {
	case AP_RES_OK:
		if (!stream) {
			/* the session died between the agent's OK and now: the
			 * server accepted, so the client hears of a reset */
			ast(w)->bind_failed++;
			answer_rst(w, syn);
			return;
		}
		c = tcp_accept_syn(w->tcp, syn, in_port, &a->accept_rule, v->mss);
		if (!c) {
			ast(w)->bind_failed++;
			tls_relay_stream_abort(w, stream);
			return;
		}
		tls_relay_stream_bind(w, stream, c);
		ast(w)->ok++;
		return;
	case AP_RES_REFUSE:
		ast(w)->refused++;
		answer_rst(w, syn);
		return;
	case AP_RES_UNREACHABLE:
		ast(w)->unreachable++;
		answer_unreach(w, syn, vnet, v->code);
		return;
	default:
		/* no agent, no stream, busy, timeout: the network gave no answer */
		if (v->result == AP_RES_BUSY)
			ast(w)->busy++;
		else
			ast(w)->no_agent++;
		answer_unreach(w, syn, vnet, AP_UNREACH_HOST);
		return;
	}
}

void agent_dp_dn(struct worker *w, struct rte_mbuf *m)
{
	struct agent_dp *a = w->agent;
	const struct sl_tls_msg *h = rte_pktmbuf_mtod(m, const struct sl_tls_msg *);

	if (!a || m->data_len < sizeof(*h))
		goto out;
	if (h->type == SL_TLS_DN_VERDICT) {
		struct sl_agent_verdict v;

		if (h->len < sizeof(v) || m->data_len < sizeof(*h) + sizeof(v))
			goto out;
		memcpy(&v, h + 1, sizeof(v));
		verdict(w, h, &v);
	} else if (h->type == SL_TLS_DN_DA_VERDICT) {
		struct sl_da_verdict v;

		if (h->len < sizeof(v) || m->data_len < sizeof(*h) + sizeof(v))
			goto out;
		memcpy(&v, h + 1, sizeof(v));
		udp_da_verdict(w, h->slot, h->gen, &v);
	} else if (h->type == SL_TLS_DN_DA_END) {
		udp_da_end(w, h->slot, h->gen);
	} else if (h->type == SL_TLS_DN_PONG) {
		struct sl_agent_pong r;
		struct ping_ent *p;
		uint8_t buf[AP_MAX_PING_DATA];
		const uint8_t *data;
		uint32_t dlen;

		const void *rp;

		if (h->len < sizeof(r) || h->slot >= PINGS_MAX || h->len - sizeof(r) > sizeof(buf) ||
		    !(rp = rte_pktmbuf_read(m, sizeof(*h), sizeof(r), &r)))
			goto out;
		memcpy(&r, rp, sizeof(r)); /* a copy only when not contiguous */
		p = &a->ping[h->slot];
		if (!p->used || p->gen != h->gen) {
			ast(w)->late++;
			w->st->drops[SL_DROP_AGENT_LATE]++;
			goto out;
		}
		dlen = h->len - (uint32_t)sizeof(r);
		data = rte_pktmbuf_read(m, sizeof(*h) + sizeof(r), dlen, buf);
		if (r.result == AP_RES_OK && data) {
			pong(w, p, &r, data, dlen);
		} else if (r.result == AP_RES_UNREACHABLE) {
			ast(w)->ping_errors++;
			answer_unreach(w, p->m, p->vnet, r.code);
		} else {
			ast(w)->ping_errors++;
			rte_pktmbuf_free(p->m); /* timeout: the client sees none either */
		}
		ping_free(w, p);
	}
out:
	rte_pktmbuf_free(m);
}

void agent_dp_poll(struct worker *w)
{
	struct agent_dp *a = w->agent;
	uint32_t now, i;

	if (!a)
		return;
	udp_da_poll(w);
	now = w->tcp->now_ms;
	__atomic_store_n(&a->held->now_ms, now, __ATOMIC_RELAXED); /* `show held` ages */
	/* the oldest first: one comparison when nothing is due */
	while ((i = held_tab_expired(a->held, now, a->hold_ms)) != HELD_NONE) {
		uint16_t vnet = held_ents(a->held)[i].vnet;

		ast(w)->timeouts++;
		ast(w)->held--;
		answer_unreach(w, held_tab_del(a->held, i), vnet, AP_UNREACH_HOST);
	}
	if (a->n_pings && now - a->ping_scan_ms >= PING_SCAN_MS) {
		a->ping_scan_ms = now;
		for (i = 0; i < PINGS_MAX; i++) {
			struct ping_ent *p = &a->ping[i];

			if (p->used && now - p->born_ms >= a->ping_ms + PING_SLACK_MS) {
				ast(w)->ping_errors++;
				rte_pktmbuf_free(p->m);
				ping_free(w, p);
			}
		}
	}
}

/* --- IP input hook -------------------------------------------------------------- */

/* The classifier input of an agent-bound packet, as tcp_in and icmp_in
 * will build it: 0, or -1 when the packet cannot be classified up front
 * (a fragment, ports not in the first segment, another protocol). */
static int acl_key(struct rte_mbuf *m, const struct ipv4_hdr_raw *ip, uint16_t vnet,
		   struct acl_pkt *p)
{
	unsigned int hlen = (ip->ver_ihl & 0xf) * 4u;

	if (ipv4_is_fragment(ip))
		return -1;
	*p = (struct acl_pkt){ .vnet = vnet, .proto = ip->proto, .src = rte_be_to_cpu_32(ip->src),
			       .dst = rte_be_to_cpu_32(ip->dst) };
	if (ip->proto == IPPROTO_ICMP)
		return 0;
	if ((ip->proto != IPPROTO_TCP && ip->proto != IPPROTO_UDP) ||
	    rte_be_to_cpu_16(ip->total_len) < hlen + 4 ||
	    rte_pktmbuf_data_len(m) < RTE_ETHER_HDR_LEN + hlen + 4)
		return -1;
	{
		const uint16_t *ports = (const uint16_t *)((const uint8_t *)ip + hlen);

		p->has_ports = 1;
		p->sport = rte_be_to_cpu_16(ports[0]);
		p->dport = rte_be_to_cpu_16(ports[1]);
	}
	return 0;
}

/* The burst's packets from a vnet's clients to a server behind an agent
 * are ours; the rest stay in the burst, in order.  The ACL is classified
 * for all of ours at once: rte_acl walks its tries for 8 (AVX2) or 16
 * (AVX-512) packets together, and one at a time it falls back to scalar
 * code that cost a third of the worker under a SYN flood. */
static void pre_route(struct worker *w, uint16_t in_port, struct ipv4_burst *b)
{
	struct agent_dp *a = w->agent;
	struct {
		struct rte_mbuf *m;
		uint16_t vnet, agent;
		int16_t acl;
		uint8_t syn, no_conn;
		struct held_key k; /* syn: its key */
	} mine[RTE_DIM(b->m)];
	struct rte_mbuf *syn[RTE_DIM(b->m)];
	uint8_t sof[RTE_DIM(b->m)];
	unsigned int ns = 0;
	struct acl_pkt key[RTE_DIM(b->m)];
	const struct acl_pkt *kp[RTE_DIM(b->m)];
	int16_t res[RTE_DIM(b->m)];
	uint8_t kof[RTE_DIM(b->m)];
	unsigned int n = 0, nk = 0, keep = 0;

	for (unsigned int i = 0; i < b->k; i++) {
		struct rte_mbuf *m = b->m[i];
		struct ipv4_hdr_raw *ip = ip_hdr(m);
		int v = vnet_of(a->vnets, a->n_vnets, rte_be_to_cpu_32(ip->src)), ag = -1;

		if (v >= 0)
			ag = vnet_route(&a->vnets[v], b->dst[i]);
		if (ag < 0) { /* not behind an agent: routed as usual */
			b->m[keep] = m;
			b->dst[keep++] = b->dst[i];
			continue;
		}
		mine[n].m = m;
		mine[n].vnet = (uint16_t)v;
		mine[n].agent = (uint16_t)ag;
		mine[n].acl = ACL_UNKNOWN;
		mine[n].no_conn = 0;
		mine[n].syn = ip->proto == IPPROTO_TCP && clean_syn(m, ip, &mine[n].k);
		if (a->n_acl && a->acl_cls && acl_key(m, ip, (uint16_t)v, &key[nk]) == 0) {
			kp[nk] = &key[nk];
			kof[nk++] = (uint8_t)n;
		}
		n++;
	}
	b->k = keep;
	if (nk && vnet_acl_classify(a->acl_cls, kp, nk, res) == 0)
		for (unsigned int j = 0; j < nk; j++)
			mine[kof[j]].acl = res[j];
	/* The hold path's lookups for every SYN the ACL does not refuse, at
	 * once: under a flood from many sources each SYN's held-table bucket,
	 * client counter and connection-table bucket is a cache miss, and
	 * fetched together they overlap.  "No connection" stays true through
	 * the loop below: nothing in it makes a connection for these tuples
	 * (a held SYN's connection is made on the verdict, later). */
	for (unsigned int j = 0; j < n; j++) {
		int16_t r = mine[j].acl;

		if (!mine[j].syn || (r >= 0 && a->acl[r].action != SL_ACL_ALLOW))
			continue;
		held_tab_prefetch(a->held, &mine[j].k);
		syn[ns] = mine[j].m;
		sof[ns++] = (uint8_t)j;
	}
	for (unsigned int off = 0; off < ns; off += 64) {
		unsigned int cnt = ns - off < 64 ? ns - off : 64;
		uint64_t none = tcp_conn_absent_bulk(w->tcp, syn + off, cnt);

		for (unsigned int i = 0; i < cnt; i++)
			mine[sof[off + i]].no_conn = (uint8_t)(none >> i & 1);
	}
	for (unsigned int i = 0; i < ns; i++)
		held_tab_prefetch2(a->held, &mine[sof[i]].k);
	for (unsigned int j = 0; j < n; j++) {
		struct rte_mbuf *m = mine[j].m;
		uint8_t proto = ip_hdr(m)->proto;

		if (proto == IPPROTO_TCP)
			tcp_in(w, m, in_port, mine[j].vnet, mine[j].agent, mine[j].acl,
			       mine[j].syn ? &mine[j].k : NULL, mine[j].no_conn);
		else if (proto == IPPROTO_ICMP)
			icmp_in(w, m, in_port, mine[j].vnet, mine[j].agent, mine[j].acl);
		else if (proto == IPPROTO_UDP)
			udp_in(w, m, in_port, mine[j].vnet, mine[j].agent, mine[j].acl);
		else
			worker_drop(w, m, SL_DROP_AGENT_PROTO);
	}
}

int agent_dp_acl_zone_create(void)
{
	const struct sl_conf *c = dp.conf;
	const struct rte_memzone *mz;
	struct sl_acl_zone *z;

	if (!c->agents.enabled)
		return 0;
	mz = rte_memzone_reserve(SL_ACL_ZONE, sizeof(*z), SOCKET_ID_ANY, 0);
	if (!mz)
		return -ENOMEM;
	z = mz->addr;
	memset(z, 0, sizeof(*z));
	memcpy(z->r[0], c->acl, c->n_acl * sizeof(c->acl[0]));
	z->n[0] = c->n_acl;
	if (c->n_acl) {
		int err = 0;

		z->ctx[0] = vnet_acl_build("sl_acl_dp", z->r[0], c->n_acl, SOCKET_ID_ANY, &err);
		if (!z->ctx[0])
			return err ? err : -ENOMEM;
	}
	z->next_id = c->n_acl + 1;
	z->magic = SL_ACL_MAGIC;
	return 0;
}

int agent_dp_acl_set(struct worker *w, uint32_t buf, uint32_t n)
{
	struct agent_dp *a = w->agent;

	if (!a)
		return -ENOTSUP;
	if (buf > 1 || n > SL_ACL_RULES_MAX)
		return -EINVAL;
	/* between bursts: no packet of this worker is looking at the old one */
	a->acl = a->acl_zone->r[buf];
	a->n_acl = n;
	a->acl_cls = a->acl_zone->ctx[buf];
	return 0;
}

int agent_dp_init(struct worker *w, uint16_t app)
{
	const struct sl_conf *c = dp.conf;
	int socket = (int)rte_lcore_to_socket_id(w->lcore_id);
	char name[RTE_MEMZONE_NAMESIZE];
	const struct rte_memzone *mz;
	struct agent_dp *a;
	size_t sz;
	int rc;

	if (!c->agents.enabled)
		return 0;
	a = rte_zmalloc_socket("sl_agent", sizeof(*a), RTE_CACHE_LINE_SIZE, socket);
	if (!a)
		return -ENOMEM;
	a->app = app;
	a->vnets = c->vnets;
	a->n_vnets = (uint16_t)c->n_vnets;
	mz = rte_memzone_lookup(SL_ACL_ZONE);
	if (!mz)
		return -ENOENT; /* agent_dp_acl_zone_create runs first */
	a->acl_zone = mz->addr;
	a->acl = a->acl_zone->r[a->acl_zone->active];
	a->n_acl = a->acl_zone->n[a->acl_zone->active];
	a->acl_cls = a->acl_zone->ctx[a->acl_zone->active];
	a->hold_ms = c->agents.hold_timeout_ms;
	a->ping_ms = c->agents.ping_timeout_ms;
	a->pings_per_client = c->agents.pings_per_client;
	sz = held_tab_memsize(c->agents.held_max);
	snprintf(name, sizeof(name), SL_HELD_ZONE_FMT, w->idx);
	mz = rte_memzone_reserve(name, sz, socket, 0);
	if (!sz || !mz)
		return -ENOMEM;
	a->held = mz->addr;
	rc = held_tab_init(a->held, c->agents.held_max, c->agents.held_per_source,
			   c->agents.held_per_vnet);
	if (rc != 0)
		return rc;
	a->listen_rule = (struct sl_rule){ .action = SL_RA_TLS_TERM, .app = (uint16_t)(app + 1) };
	a->accept_rule = (struct sl_rule){ .action = SL_RA_AGENT, .app = (uint16_t)(app + 1) };
	rc = tcp_listen_local(w->tcp, rte_cpu_to_be_32(c->agents.listen), c->agents.port,
			      &a->listen_rule);
	if (rc != 0)
		return rc;
	rc = udp_da_init(w);
	if (rc != 0)
		return rc;
	w->agent = a;
	w->pre_route = pre_route;
	return 0;
}
