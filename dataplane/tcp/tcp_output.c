/*
 * TCP output: what may be sent (RFC 9293 3.8.6, RFC 5681, RFC 6675 NextSeg),
 * and building segments without copying payload: a header mbuf from the
 * worker's pool, then indirect mbufs attached to the queued payload.
 */
#include <string.h>

#include <rte_ip.h>
#include <rte_tcp.h>

#include "ip/ipv4_input.h"
#include "tcp_conn.h"
#include "tcp_opt.h"
#include "tcp_seg.h"
#include "tcp_seq.h"

#define HDRS (RTE_ETHER_HDR_LEN + 20)
#define OUT_BURST 64 /* segments per tcp_output call: the TX buffer drains between */

static inline uint32_t min32(uint32_t a, uint32_t b) { return a < b ? a : b; }

/* A header mbuf: Ethernet (filled by ipv4_output), IPv4, TCP + options. */
static struct rte_mbuf *seg_alloc(struct tcp_stack *s, uint32_t laddr, uint32_t raddr,
				  uint16_t lport, uint16_t rport, uint32_t seq, uint32_t ack,
				  uint8_t flags, uint16_t wnd, const uint8_t *opt, unsigned int optlen)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(s->w->pool);
	struct rte_ether_hdr *eth;
	struct ipv4_hdr_raw *ip;
	unsigned int thl = TCP_HDR_MIN + optlen;

	if (unlikely(!m)) {
		s->w->st->drops[SL_DROP_NOMBUF]++;
		return NULL;
	}
	eth = (struct rte_ether_hdr *)rte_pktmbuf_append(m, (uint16_t)(HDRS + thl));
	eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV4);
	ip = (struct ipv4_hdr_raw *)(eth + 1);
	*ip = (struct ipv4_hdr_raw){
		.ver_ihl = 0x45,
		.frag_off = RTE_BE16(RTE_IPV4_HDR_DF_FLAG), /* RFC 1191: TCP does PMTU by MSS */
		.ttl = 64,
		.proto = IPPROTO_TCP,
		.src = laddr,
		.dst = raddr,
	};
	tcp_hdr_build(ip + 1, laddr, raddr, lport, rport, seq, ack, flags, wnd, opt, optlen, 0);
	return m;
}

/* The TCP checksum over a chain whose pieces may have odd lengths.  DPDK
 * 22.11's rte_raw_cksum_mbuf() (and net_tap's offload with it) swaps the
 * bytes of a piece's sum at an odd offset before folding it, which drops
 * the carries: wrong checksums as soon as a segment takes an odd-sized
 * piece (a TLS record header, say) followed by another.  Folded first here. */
static uint16_t cksum_chain(const struct rte_mbuf *m, const struct ipv4_hdr_raw *ip)
{
	uint32_t sum = rte_ipv4_phdr_cksum((const struct rte_ipv4_hdr *)ip, 0), done = 0;
	uint32_t off = HDRS;

	for (; m; m = m->next) {
		uint32_t len = m->data_len - off, s;

		if (m->data_len > off) {
			s = rte_raw_cksum(rte_pktmbuf_mtod_offset(m, const void *, off), len);
			if (done & 1)
				s = rte_bswap16((uint16_t)s);
			sum += s;
			done += len;
		}
		off = off > m->data_len ? off - m->data_len : 0;
	}
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Does any piece but the last have an odd length (see cksum_chain)? */
static int odd_pieces(const struct rte_mbuf *m)
{
	for (m = m->next; m && m->next; m = m->next)
		if (m->data_len & 1)
			return 1;
	return 0;
}

/* Lengths and checksums over the whole chain, then route it out. */
static void seg_send(struct tcp_stack *s, struct rte_mbuf *m)
{
	struct ipv4_hdr_raw *ip = ip_hdr(m);
	struct rte_tcp_hdr *th = (struct rte_tcp_hdr *)(ip + 1);

	ip->total_len = rte_cpu_to_be_16((uint16_t)(m->pkt_len - RTE_ETHER_HDR_LEN));
	ip->id = rte_cpu_to_be_16(s->ip_id++);
	ip->cksum = 0;
	if (unlikely(odd_pieces(m))) {
		ip->cksum = ipv4_cksum(ip, 20);
		th->cksum = 0;
		th->cksum = cksum_chain(m, ip);
		s->st->segs_out++;
		ipv4_output(s->w, m);
		return;
	}
	/* the port fills both checksums if it can; ipv4_output finishes
	 * them in software for a port that cannot */
	m->l2_len = RTE_ETHER_HDR_LEN;
	m->l3_len = 20;
	m->l4_len = (uint64_t)((th->data_off >> 4) * 4);
	m->ol_flags |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_TCP_CKSUM;
	th->cksum = rte_ipv4_phdr_cksum((const struct rte_ipv4_hdr *)ip, m->ol_flags);
	s->st->segs_out++;
	ipv4_output(s->w, m);
}

/* The window we advertise (RFC 9293 3.8.6.2.2): what the app can take, never
 * moving the right edge left (3.8.6 "SHOULD NOT shrink"), and not growing it
 * in steps smaller than min(buffer / 2, MSS) (receiver SWS avoidance). */
uint32_t tcp_rcv_wnd(struct tcp_stack *s, struct tcp_conn *c)
{
	uint32_t space = c->app && c->app->rcv_space ? c->app->rcv_space(s, c) : s->p.sndbuf;
	uint32_t cur = seq_gt(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;
	uint32_t max = (uint32_t)65535 << c->rcv_wscale;

	if (space > cur && (space - cur < min32(s->p.sndbuf / 2, s->p.mss) || s->mem_low))
		space = cur;
	if (space < cur)
		space = cur;
	return space > max ? max : space;
}

/* The window field of a non-SYN segment, remembering the edge it promises. */
static uint16_t wnd_field(struct tcp_stack *s, struct tcp_conn *c)
{
	uint32_t w = tcp_rcv_wnd(s, c) >> c->rcv_wscale;

	/* rounding down never shrinks: rcv_adv only moves right */
	if (seq_gt(c->rcv_nxt + (w << c->rcv_wscale), c->rcv_adv))
		c->rcv_adv = c->rcv_nxt + (w << c->rcv_wscale);
	return (uint16_t)w;
}

static unsigned int data_opts(struct tcp_stack *s, struct tcp_conn *c, uint8_t *buf)
{
	struct tcp_opts o = { 0 };

	if (c->flags & TCP_CF_TS) {
		o.flags |= TCP_OPTF_TS;
		o.tsval = s->now_ms + c->ts_off;
		o.tsecr = c->ts_recent;
	}
	if ((c->flags & TCP_CF_SACK) && (!tcp_reass_empty(&c->rq) || (c->flags & TCP_CF_DSACK))) {
		struct tcp_sack_block ooo[TCP_SACK_MAX], recent, dsack;
		unsigned int n = tcp_reass_blocks(&c->rq, ooo, TCP_SACK_MAX);
		int have_recent = tcp_reass_last(&c->rq, &recent) == 0;

		dsack.start = c->dsack_lo;
		dsack.end = c->dsack_hi;
		o.n_sack = (uint8_t)tcp_sack_rcv_build(&c->sr, c->rcv_nxt, ooo, n,
						       have_recent ? &recent : NULL,
						       (c->flags & TCP_CF_DSACK) ? &dsack : NULL,
						       o.sack, (c->flags & TCP_CF_TS) ? 3 : 4);
		if (o.n_sack)
			o.flags |= TCP_OPTF_SACK;
		c->flags &= ~(uint32_t)TCP_CF_DSACK;
	}
	return tcp_opt_build(buf, &o);
}

/* Anything carrying ACK tells the peer everything: no delayed ACK owed. */
static void acked_now(struct tcp_stack *s, struct tcp_conn *c)
{
	c->flags &= ~(uint32_t)TCP_CF_ACK_NOW;
	c->delack_segs = 0;
	if (tcp_timer_armed(&c->t_delack))
		tcp_timer_cancel(&s->wheel, &c->t_delack);
}

static void ctl_seg(struct tcp_stack *s, struct tcp_conn *c, uint32_t seq, uint8_t flags)
{
	uint8_t opt[TCP_OPT_LEN_MAX];
	unsigned int optlen = data_opts(s, c, opt);
	struct rte_mbuf *m;

	m = seg_alloc(s, c->laddr_be, c->raddr_be, c->lport, c->rport, seq, c->rcv_nxt, flags,
		      wnd_field(s, c), opt, optlen);
	if (!m)
		return;
	acked_now(s, c);
	seg_send(s, m);
}

void tcp_send_ack(struct tcp_stack *s, struct tcp_conn *c)
{
	ctl_seg(s, c, c->snd_nxt, TCP_F_ACK);
}

/* RFC 9293 3.8.6.1 zero-window probe and RFC 1122 4.2.3.6 keepalive, both in
 * the Linux form: an ACK one below SND.UNA, which the peer must answer with
 * its current ACK and window, and which carries no byte to account for. */
void tcp_send_probe(struct tcp_stack *s, struct tcp_conn *c)
{
	ctl_seg(s, c, c->snd_una - 1, TCP_F_ACK);
}

void tcp_send_rst(struct tcp_stack *s, struct tcp_conn *c)
{
	struct rte_mbuf *m;

	m = seg_alloc(s, c->laddr_be, c->raddr_be, c->lport, c->rport, c->snd_nxt, c->rcv_nxt,
		      TCP_F_RST | TCP_F_ACK, 0, NULL, 0);
	if (!m)
		return;
	s->st->resets_sent++;
	seg_send(s, m);
}

void tcp_reply_rst(struct tcp_stack *s, uint32_t laddr_be, uint32_t raddr_be, uint16_t lport,
		   uint16_t rport, uint32_t seq, uint32_t ack, int with_ack)
{
	struct rte_mbuf *m = seg_alloc(s, laddr_be, raddr_be, lport, rport, seq, ack,
				       TCP_F_RST | (with_ack ? TCP_F_ACK : 0), 0, NULL, 0);

	if (!m)
		return;
	s->st->resets_sent++;
	seg_send(s, m);
}

/* Our options for a SYN or SYN-ACK: everything, the SYN-ACK trimmed to what
 * the peer's SYN offered (tcp_opt_synack). */
static void syn_opts(struct tcp_stack *s, struct tcp_opts *ours, uint32_t tsval)
{
	*ours = (struct tcp_opts){
		.flags = TCP_OPTF_MSS | TCP_OPTF_WS | TCP_OPTF_SACK_PERM | TCP_OPTF_TS,
		.mss = s->p.mss,
		.wscale = s->p.wscale,
		.tsval = tsval,
	};
}

void tcp_send_syn(struct tcp_stack *s, struct tcp_conn *c)
{
	struct tcp_opts ours, out;
	uint8_t opt[TCP_OPT_LEN_MAX];
	unsigned int optlen;
	struct rte_mbuf *m;
	/* RFC 7323 2.2: the window of a SYN is never scaled */
	uint16_t wnd = (uint16_t)min32(65535, s->p.sndbuf);

	syn_opts(s, &ours, s->now_ms + c->ts_off);
	if (c->mss_adv && c->mss_adv < ours.mss)
		ours.mss = c->mss_adv; /* S4: no more than the real server's */
	if (c->state == TCP_SYN_SENT) {
		optlen = tcp_opt_build_syn(opt, &ours);
		m = seg_alloc(s, c->laddr_be, c->raddr_be, c->lport, c->rport, c->iss, 0, TCP_F_SYN,
			      wnd, opt, optlen);
	} else {
		struct tcp_opts syn = { .flags = 0, .tsval = c->ts_recent };

		if (c->flags & TCP_CF_WS)
			syn.flags |= TCP_OPTF_WS;
		if (c->flags & TCP_CF_TS)
			syn.flags |= TCP_OPTF_TS;
		if (c->flags & TCP_CF_SACK)
			syn.flags |= TCP_OPTF_SACK_PERM;
		tcp_opt_synack(&syn, &ours, &out);
		optlen = tcp_opt_build_syn(opt, &out);
		m = seg_alloc(s, c->laddr_be, c->raddr_be, c->lport, c->rport, c->iss, c->rcv_nxt,
			      TCP_F_SYN | TCP_F_ACK, wnd, opt, optlen);
	}
	if (!m)
		return;
	c->rcv_adv = c->rcv_nxt + wnd;
	seg_send(s, m);
}

/* RFC 4987 3.6: a SYN-ACK that keeps no state; its ISS is the cookie. */
void tcp_reply_synack_cookie(struct tcp_stack *s, uint32_t laddr_be, uint32_t raddr_be,
			     uint16_t lport, uint16_t rport, uint32_t iss, uint32_t irs,
			     const struct tcp_opts *syn, uint16_t mss)
{
	struct tcp_opts ours, out;
	uint8_t opt[TCP_OPT_LEN_MAX];
	unsigned int optlen;
	struct rte_mbuf *m;
	uint32_t tsval = s->now_ms + tcp_ts_off(s, laddr_be, lport, raddr_be, rport);

	syn_opts(s, &ours, 0);
	ours.mss = mss;
	tcp_opt_synack(syn, &ours, &out);
	if (out.flags & TCP_OPTF_TS)
		out.tsval = tcp_cookie_ts_encode(tsval, (out.flags & TCP_OPTF_WS) ? syn->wscale : 15,
						 (out.flags & TCP_OPTF_SACK_PERM) != 0);
	else
		out.flags &= (uint8_t)~(TCP_OPTF_WS | TCP_OPTF_SACK_PERM); /* nowhere to keep them */
	optlen = tcp_opt_build_syn(opt, &out);
	m = seg_alloc(s, laddr_be, raddr_be, lport, rport, iss, irs + 1, TCP_F_SYN | TCP_F_ACK,
		      (uint16_t)min32(65535, s->p.sndbuf), opt, optlen);
	if (!m)
		return;
	s->st->syncookies_sent++;
	seg_send(s, m);
}

/* Indirect mbufs for [off, off + len) of the send queue, chained to hdr. */
static int attach_payload(struct tcp_stack *s, struct tcp_conn *c, struct rte_mbuf *hdr,
			  uint32_t seq, uint32_t len)
{
	struct rte_mbuf *q, *last = hdr;
	uint32_t pos;

	if (c->sq_cur && seq_geq(seq, c->sq_cur_seq) && seq_geq(c->sq_cur_seq, c->snd_una)) {
		q = c->sq_cur;
		pos = c->sq_cur_seq;
	} else {
		q = c->sq_head;
		pos = c->snd_una;
	}
	while (q && seq_geq(seq, pos + q->data_len)) {
		pos += q->data_len;
		q = q->next;
	}
	while (len) {
		struct rte_mbuf *mi;
		uint32_t off, n;

		if (unlikely(!q))
			return -EINVAL; /* the queue holds less than asked: a bug */
		off = seq - pos;
		n = min32(q->data_len - off, len);
		mi = rte_pktmbuf_alloc(s->w->pool);
		if (unlikely(!mi)) {
			s->w->st->drops[SL_DROP_NOMBUF]++;
			return -ENOBUFS;
		}
		rte_pktmbuf_attach(mi, q);
		mi->data_off = (uint16_t)(mi->data_off + off);
		mi->data_len = (uint16_t)n;
		mi->pkt_len = n;
		last->next = mi;
		last = mi;
		hdr->nb_segs++;
		hdr->pkt_len += n;
		c->sq_cur = q;
		c->sq_cur_seq = pos;
		seq += n;
		len -= n;
		if (seq == pos + q->data_len) {
			pos += q->data_len;
			q = q->next;
		}
	}
	return 0;
}

/* One data segment [seq, seq + len), with FIN when it ends where ours sits. */
int tcp_send_data(struct tcp_stack *s, struct tcp_conn *c, uint32_t seq, uint32_t len, int rtx)
{
	uint8_t opt[TCP_OPT_LEN_MAX];
	unsigned int optlen = data_opts(s, c, opt);
	uint32_t fin_seq = c->snd_una + c->sq_bytes;
	uint8_t flags = TCP_F_ACK;
	struct rte_mbuf *m;

	if ((c->flags & TCP_CF_FIN_SENT) && seq + len == fin_seq)
		flags |= TCP_F_FIN;
	if (len)
		flags |= TCP_F_PSH * (seq + len == fin_seq);
	m = seg_alloc(s, c->laddr_be, c->raddr_be, c->lport, c->rport, seq, c->rcv_nxt, flags,
		      wnd_field(s, c), opt, optlen);
	if (!m)
		return -ENOBUFS;
	if (len && attach_payload(s, c, m, seq, len) != 0) {
		rte_pktmbuf_free(m);
		return -ENOBUFS;
	}
	if (rtx) {
		s->st->retransmits++;
		/* Karn: no sample from a resent segment -- unless timestamps
		 * say which copy an ACK answers (RFC 7323 4) */
		if (!(c->flags & TCP_CF_TS))
			c->flags &= ~(uint32_t)TCP_CF_RTT;
	} else if (!(c->flags & TCP_CF_RTT) && len) {
		c->flags |= TCP_CF_RTT;
		c->rtt_seq = seq + len;
		c->rtt_start_ms = s->now_ms;
	}
	acked_now(s, c);
	seg_send(s, m);
	if (!tcp_timer_armed(&c->t_rtx) || c->t_rtx.kind != TCP_T_RTO)
		tcp_rtx_arm(s, c, 1);
	return 0;
}

/* 1 when a segment ending at `end` carries our FIN. */
static inline uint32_t fin_at(const struct tcp_conn *c, uint32_t end)
{
	return (c->flags & TCP_CF_FIN_SENT) && end == c->snd_una + c->sq_bytes;
}

/* New bytes at snd_nxt: queued, not yet sent. */
static uint32_t unsent(const struct tcp_conn *c)
{
	uint32_t end = c->snd_una + c->sq_bytes;

	return seq_lt(c->snd_nxt, end) ? end - c->snd_nxt : 0;
}

static void sent_new(struct tcp_stack *s, struct tcp_conn *c, uint32_t end)
{
	if (seq_gt(end, c->snd_max)) {
		uint32_t n = end - c->snd_max;

		if ((c->flags & TCP_CF_FIN_SENT) && end == c->snd_una + c->sq_bytes + 1)
			n--;
		c->v.bytes_out += n;
		s->st->bytes_out += n;
		c->snd_max = end;
	}
}

void tcp_rtx_arm(struct tcp_stack *s, struct tcp_conn *c, int probe)
{
	uint32_t rto_ms = tcp_rtt_rto(&c->rtt) / 1000;

	if (probe && !(c->flags & TCP_CF_PROBED) && tcp_state_synchronized(c->state)) {
		/* RFC 8985 7.2: PTO = 2 * SRTT, here plus 4 ticks (the wheel's
		 * 1 ms resolution and the impairment's reorder hold), never
		 * beyond the RTO */
		uint32_t ms = 2 * (c->rtt.srtt_us / 1000) + 4;

		/* 7.2: a lone segment may wait for the peer's delayed ACK */
		if (tcp_flight(c) <= c->smss)
			ms += 200;

		c->flags |= TCP_CF_RECPROBE;
		tcp_timer_arm_ms(s, &c->t_rtx, TCP_T_RTO, ms < rto_ms ? ms : rto_ms);
		return;
	}
	c->flags &= ~(uint32_t)TCP_CF_RECPROBE;
	tcp_timer_arm_ms(s, &c->t_rtx, TCP_T_RTO, rto_ms);
}

void tcp_send_tlp(struct tcp_stack *s, struct tcp_conn *c)
{
	uint32_t end = c->snd_una + c->sq_bytes, len;

	if (c->snd_nxt == c->snd_max && seq_lt(c->snd_max, end) &&
	    seq_lt(c->snd_max, c->snd_una + c->snd_wnd)) {
		len = min32(min32(end - c->snd_max, c->smss), c->snd_una + c->snd_wnd - c->snd_max);
		if (tcp_send_data(s, c, c->snd_max, len, 0) == 0) {
			c->snd_nxt = c->snd_max + len + fin_at(c, c->snd_max + len);
			sent_new(s, c, c->snd_nxt);
			s->st->tail_probes++;
		}
		return;
	}
	if (c->sq_bytes) {
		uint32_t start = seq_gt(end - c->smss, c->snd_una) ? end - c->smss : c->snd_una;

		if (seq_gt(end, c->snd_max))
			return;
		if (tcp_send_data(s, c, start, end - start, 1) == 0)
			s->st->tail_probes++;
	}
}

/* RFC 6675 5 (C): while pipe leaves room for a segment, NextSeg(). */
static unsigned int output_recovery(struct tcp_stack *s, struct tcp_conn *c)
{
	unsigned int n = 0;

	while (n < OUT_BURST) {
		uint32_t pipe = tcp_sb_pipe(&c->sb, c->snd_una, c->snd_max, c->smss);
		uint32_t cwnd = tcp_cc_cwnd(&c->cc), wnd_end = c->snd_una + c->snd_wnd;
		uint32_t avail = unsent(c);
		struct tcp_sb_seg seg;
		int rule;

		if (pipe >= cwnd || cwnd - pipe < c->smss)
			break;
		/* new data only inside the peer's window */
		if (seq_lt(c->snd_max, wnd_end))
			avail = min32(avail, wnd_end - c->snd_max);
		else
			avail = 0;
		/* snd_nxt == snd_max while recovering by pipe */
		rule = tcp_sb_next_seg(&c->sb, c->snd_una, c->snd_max, c->smss, avail, &seg);
		if (rule < 0)
			break;
		if (rule != 2 && seq_geq(seg.seq + seg.len, c->snd_una + c->sq_bytes))
			seg.len = c->snd_una + c->sq_bytes - seg.seq; /* never the FIN's byte */
		if (seg.len == 0 || tcp_send_data(s, c, seg.seq, seg.len, rule != 2) != 0)
			break;
		tcp_sb_sent(&c->sb, &seg);
		if (rule == 2) {
			c->snd_nxt = seg.seq + seg.len + fin_at(c, seg.seq + seg.len);
			sent_new(s, c, c->snd_nxt);
		}
		n++;
	}
	return n;
}

void tcp_output(struct tcp_stack *s, struct tcp_conn *c)
{
	unsigned int n = 0;
	uint32_t win, avail;

	if (c->flags & TCP_CF_IN_OUTPUT)
		return;
	switch (c->state) {
	case TCP_ESTABLISHED:
	case TCP_CLOSE_WAIT:
	case TCP_FIN_WAIT_1:
	case TCP_CLOSING:
	case TCP_LAST_ACK:
		break;
	case TCP_FIN_WAIT_2:
	case TCP_TIME_WAIT:
		if (c->flags & TCP_CF_ACK_NOW)
			tcp_send_ack(s, c);
		return;
	default:
		return;
	}
	c->flags |= TCP_CF_IN_OUTPUT;
	/* RFC 9293 3.10.4: CLOSE queues the FIN behind the data and changes
	 * state at once; the FIN rides on the last data segment if it can */
	if ((c->flags & (TCP_CF_FIN_Q | TCP_CF_FIN_SENT)) == TCP_CF_FIN_Q) {
		c->flags |= TCP_CF_FIN_SENT;
		tcp_set_state(s, c, c->state == TCP_CLOSE_WAIT ? TCP_LAST_ACK : TCP_FIN_WAIT_1);
	}
	if ((c->flags & TCP_CF_SACK) && tcp_sb_in_recovery(&c->sb))
		n = output_recovery(s, c);
	win = tcp_cc_cwnd(&c->cc);
	/* RFC 3042 limited transmit: each of the first two duplicate ACKs lets
	 * one new segment go beyond cwnd, so a small window still collects
	 * DupThresh of them (RFC 6675 5 asks for it too) */
	if (c->dupacks && c->dupacks < TCP_DUPTHRESH && !tcp_sb_in_recovery(&c->sb) &&
	    c->snd_nxt == c->snd_max)
		win += c->dupacks * (uint32_t)c->smss;
	win = min32(c->snd_wnd, win);
	while (n < OUT_BURST && (avail = unsent(c)) != 0) {
		uint32_t wnd_end = c->snd_una + win, len;

		if (!seq_lt(c->snd_nxt, wnd_end))
			break;
		len = min32(min32(avail, c->smss), wnd_end - c->snd_nxt);
		if (seq_lt(c->snd_nxt, c->snd_max) && (c->flags & TCP_CF_SACK) && c->sb.n) {
			/* go-back-N after a timeout: what the receiver holds
			 * needs no second copy (RFC 6675 5.1) */
			struct tcp_sack_block hole;

			if (tcp_sb_next_hole(&c->sb, c->snd_nxt, c->snd_max, &hole) != 0) {
				c->snd_nxt = c->snd_max;
				continue;
			}
			if (seq_gt(hole.start, c->snd_nxt)) {
				c->snd_nxt = hole.start;
				continue;
			}
			len = min32(len, hole.end - c->snd_nxt);
		}
		/* RFC 9293 3.8.6.2.1 sender SWS avoidance: a short segment only
		 * when it is all there is, or nothing is in flight */
		if (len < c->smss && len < avail && c->snd_una != c->snd_max)
			break;
		if (tcp_send_data(s, c, c->snd_nxt, len, seq_lt(c->snd_nxt, c->snd_max)) != 0)
			break;
		c->snd_nxt += len + fin_at(c, c->snd_nxt + len);
		sent_new(s, c, c->snd_nxt);
		n++;
	}
	/* a bare FIN: no data left to carry it (or retransmitting it alone) */
	if ((c->flags & TCP_CF_FIN_SENT) && c->snd_nxt == c->snd_una + c->sq_bytes &&
	    n < OUT_BURST &&
	    tcp_send_data(s, c, c->snd_nxt, 0, seq_lt(c->snd_nxt, c->snd_max)) == 0) {
		c->snd_nxt++;
		sent_new(s, c, c->snd_nxt);
		n++;
	}
	if (n == 0 && (c->flags & TCP_CF_ACK_NOW))
		tcp_send_ack(s, c);
	/* RFC 9293 3.8.6.1: data waits for a window that is zero with nothing in
	 * flight to bring an update: probe it */
	if (unsent(c) && c->snd_una == c->snd_max && !tcp_timer_armed(&c->t_rtx)) {
		c->persist_backoff = 0;
		tcp_timer_arm_ms(s, &c->t_rtx, TCP_T_PERSIST,
				 tcp_timer_persist_ms(&s->p.tp, tcp_rtt_rto(&c->rtt) / 1000, 0));
	}
	c->flags &= ~(uint32_t)TCP_CF_IN_OUTPUT;
}
