/*
 * TCP input: parse, find the connection, run the handler the dispatch table
 * (tcp_fsm.c) names for [state][segment class].  For synchronized states the
 * order of RFC 9293 3.10.7.4: sequence check (with PAWS, RFC 7323 5), RST
 * and SYN (RFC 5961 3, 4), ACK (RFC 5961 5, RFC 6675, RFC 5681), data, FIN.
 * Every segment dropped is counted under a named reason.
 */
#include <errno.h>

#include <rte_ip.h>

#include "flow/dispatch.h"
#include "ip/ipv4_input.h"
#include "mbuf_q.h"
#include "tcp_conn.h"
#include "tcp_opt.h"
#include "tcp_seg.h"
#include "tcp_seq.h"

#define CHALLENGE_ACKS_PER_S 1000 /* RFC 5961 7: a per-worker budget, like Linux */

struct seg_ctx {
	struct rte_mbuf *m;   /* NULL once consumed */
	struct tcp_seg seg;
	struct tcp_opts o;
	uint32_t saddr, daddr; /* network order, as received */
	uint16_t in_port;
	const struct sl_rule *rule; /* the rule that sent it here, or NULL */
	unsigned int pay_off;  /* payload offset in m */
};

static inline uint32_t min32(uint32_t a, uint32_t b) { return a < b ? a : b; }

static void drop(struct tcp_stack *s, struct seg_ctx *x, unsigned int reason)
{
	if (x->m) {
		worker_drop(s->w, x->m, reason);
		x->m = NULL;
	}
}

static void consume(struct seg_ctx *x)
{
	if (x->m) {
		rte_pktmbuf_free(x->m);
		x->m = NULL;
	}
}

/* RFC 5961 7: challenge ACKs are rate-limited. */
static void challenge_ack(struct tcp_stack *s, struct tcp_conn *c)
{
	uint32_t sec = s->now_ms / 1000;

	if (sec != s->chal_sec) {
		s->chal_sec = sec;
		s->chal_budget = CHALLENGE_ACKS_PER_S;
	}
	if (s->chal_budget == 0)
		return;
	s->chal_budget--;
	s->st->challenge_acks++;
	tcp_send_ack(s, c);
}

/* RFC 9293 3.10.7.1: what has no connection gets a RST, unless it is one. */
static void reply_rst(struct tcp_stack *s, struct seg_ctx *x)
{
	const struct tcp_seg *g = &x->seg;

	if (g->flags & TCP_F_RST)
		return;
	if (g->flags & TCP_F_ACK)
		tcp_reply_rst(s, x->daddr, x->saddr, g->dport, g->sport, g->ack, 0, 0);
	else
		tcp_reply_rst(s, x->daddr, x->saddr, g->dport, g->sport, 0, g->seq + g->seg_len, 1);
}

/* The send MSS (RFC 9293 3.7.1, RFC 6691): the peer's MSS (536 when it sent
 * none), no more than ours, less the timestamp option every segment carries. */
static uint16_t eff_mss(const struct tcp_stack *s, const struct tcp_conn *c, uint16_t peer_mss)
{
	uint16_t mss = peer_mss ? peer_mss : 536;

	if (mss > s->p.mss)
		mss = s->p.mss;
	if (c->flags & TCP_CF_TS)
		mss = (uint16_t)(mss - 12);
	return mss < 64 ? 64 : mss;
}

/* What a SYN (or SYN-ACK) negotiated: RFC 7323 2.2/3.2, RFC 2018 2. */
static void take_syn_opts(struct tcp_stack *s, struct tcp_conn *c, const struct tcp_opts *o)
{
	if (o->flags & TCP_OPTF_WS) {
		c->flags |= TCP_CF_WS;
		c->snd_wscale = o->wscale;
		c->rcv_wscale = s->p.wscale;
	}
	if (o->flags & TCP_OPTF_TS) {
		c->flags |= TCP_CF_TS;
		c->ts_recent = o->tsval;
	}
	if (o->flags & TCP_OPTF_SACK_PERM)
		c->flags |= TCP_CF_SACK;
	c->smss = eff_mss(s, c, (o->flags & TCP_OPTF_MSS) ? o->mss : 0);
}

static void cc_start(struct tcp_conn *c)
{
	uint32_t f = 0;

	if (c->flags & TCP_CF_SACK)
		f |= TCP_CC_F_SACK;
	if (c->flags & TCP_CF_SYN_RTX)
		f |= TCP_CC_F_SYN_LOST;
	tcp_cc_init(&c->cc, &tcp_cc_newreno, c->smss, f);
	tcp_sb_init(&c->sb, c->snd_una);
}

static void life_idle(struct tcp_stack *s, struct tcp_conn *c)
{
	if (s->p.tp.idle_ms)
		tcp_timer_arm_ms(s, &c->t_life, TCP_T_IDLE, s->p.tp.idle_ms);
	else
		tcp_timer_cancel(&s->wheel, &c->t_life);
}

/* The handshake is complete: the app learns of it and may refuse (RST). */
static int established(struct tcp_stack *s, struct tcp_conn *c, int passive)
{
	int rc = 0;

	tcp_set_state(s, c, TCP_ESTABLISHED);
	if (c->flags & TCP_CF_SYN_RTX)
		tcp_rtt_syn_lost(&c->rtt, &tcp_rtt_default);
	cc_start(c);
	tcp_timer_cancel(&s->wheel, &c->t_rtx);
	life_idle(s, c);
	if (s->p.keepalive) {
		c->ka_probes = 0;
		tcp_timer_arm_ms(s, &c->t_ka, TCP_T_KEEPALIVE, tcp_timer_keepalive_ms(&s->p.tp, 0));
	}
	if (passive) {
		s->st->opened_passive++;
		if (c->app && c->app->on_established)
			rc = c->app->on_established(s, c);
	} else {
		s->st->opened_active++;
		if (c->app && c->app->on_connected)
			rc = c->app->on_connected(s, c);
	}
	return rc;
}

static void enter_time_wait(struct tcp_stack *s, struct tcp_conn *c)
{
	tcp_set_state(s, c, TCP_TIME_WAIT);
	tcp_timer_cancel(&s->wheel, &c->t_rtx);
	tcp_timer_cancel(&s->wheel, &c->t_ka);
	tcp_conn_purge(s, c);
	tcp_timer_arm_ms(s, &c->t_life, TCP_T_TIMEWAIT, s->p.tp.timewait_ms);
	tcp_notify_close(s, c, 0);
}

/* --- no connection: LISTEN (a proxy rule) or CLOSED ------------------- */

static struct tcp_conn *listen_syn(struct tcp_stack *s, struct seg_ctx *x, int no_cookie,
				   uint16_t mss_adv)
{
	const struct tcp_seg *g = &x->seg;
	struct tcp_conn *c;

	if (s->half_open >= s->p.max_half_open && !no_cookie) {
		/* RFC 4987 3.6: the half-open table is full: keep no state */
		uint16_t mss_used;
		uint32_t iss = tcp_cookie_make(&s->ck.cur, x->saddr, x->daddr, g->sport, g->dport,
					       g->seq, s->now_ms / 1000 / TCP_COOKIE_PERIOD_S,
					       (x->o.flags & TCP_OPTF_MSS) ? x->o.mss : 536,
					       &mss_used);

		if (mss_used > s->p.mss)
			mss_used = s->p.mss;
		tcp_reply_synack_cookie(s, x->daddr, x->saddr, g->dport, g->sport, iss, g->seq,
					&x->o, mss_used);
		consume(x);
		return NULL;
	}
	c = tcp_conn_alloc(s, x->daddr, g->dport, x->saddr, g->sport);
	if (!c) {
		drop(s, x, SL_DROP_TCP_TABLE_FULL);
		return NULL;
	}
	c->mss_adv = mss_adv;
	c->v.role = SL_FLOW_CLIENT_LEG;
	c->v.rule_id = x->rule->id;
	c->v.port = x->in_port;
	c->app_id = x->rule->app ? (uint16_t)(x->rule->app - 1) : 0;
	if (x->rule->flags & SL_RF_TRANSPARENT)
		c->flags |= TCP_CF_TRANSP;
	c->app = s->listen_app[x->rule->action];
	take_syn_opts(s, c, &x->o);
	c->irs = g->seq;
	c->rcv_nxt = g->seq + 1;
	c->iss = tcp_iss(s, x->daddr, g->dport, x->saddr, g->sport);
	c->snd_una = c->iss;
	c->snd_nxt = c->snd_max = c->iss + 1;
	c->snd_wnd = g->wnd; /* RFC 7323 2.2: a SYN's window is not scaled */
	c->snd_wl1 = g->seq;
	c->snd_wl2 = c->iss;
	tcp_set_state(s, c, TCP_SYN_RECEIVED);
	tcp_send_syn(s, c);
	tcp_timer_arm_ms(s, &c->t_rtx, TCP_T_RTO, tcp_rtt_rto(&c->rtt) / 1000);
	tcp_timer_arm_ms(s, &c->t_life, TCP_T_SYNRCVD, s->p.tp.synrcvd_ms);
	consume(x);
	return c;
}

static void conn_input(struct tcp_stack *s, struct tcp_conn *c, struct seg_ctx *x);

/* RFC 6191 / RFC 9293 3.10.7.4 note: a SYN may start a new incarnation of a
 * pair in TIME-WAIT when its sequence is above what the old one used. */
static inline int tw_reusable(const struct tcp_conn *c, uint32_t syn_seq)
{
	return seq_gt(syn_seq, c->rcv_nxt);
}

/* RFC 4987 3.6: an ACK to a listener may complete a SYN-cookie handshake. */
static void listen_ack(struct tcp_stack *s, struct seg_ctx *x)
{
	const struct tcp_seg *g = &x->seg;
	uint16_t mss;
	struct tcp_conn *c;

	if (tcp_cookie_keys_check(&s->ck, x->saddr, x->daddr, g->sport, g->dport, g->seq - 1,
				  g->ack - 1, s->now_ms / 1000 / TCP_COOKIE_PERIOD_S, &mss) != 0) {
		s->st->syncookies_bad++;
		reply_rst(s, x);
		drop(s, x, SL_DROP_TCP_COOKIE);
		return;
	}
	c = tcp_conn_alloc(s, x->daddr, g->dport, x->saddr, g->sport);
	if (!c) {
		drop(s, x, SL_DROP_TCP_TABLE_FULL);
		return;
	}
	s->st->syncookies_ok++;
	c->v.role = SL_FLOW_CLIENT_LEG;
	c->v.rule_id = x->rule->id;
	c->v.port = x->in_port;
	c->app_id = x->rule->app ? (uint16_t)(x->rule->app - 1) : 0;
	c->flags |= TCP_CF_COOKIE;
	if (x->rule->flags & SL_RF_TRANSPARENT)
		c->flags |= TCP_CF_TRANSP;
	c->app = s->listen_app[x->rule->action];
	if (x->o.flags & TCP_OPTF_TS) {
		uint8_t ws;
		int sack;

		/* what the SYN offered rode in our TSval (tcp_cookie.h) */
		tcp_cookie_ts_decode(x->o.tsecr, &ws, &sack);
		c->flags |= TCP_CF_TS;
		c->ts_recent = x->o.tsval;
		if (ws <= TCP_WS_MAX) {
			c->flags |= TCP_CF_WS;
			c->snd_wscale = ws;
			c->rcv_wscale = s->p.wscale;
		}
		if (sack)
			c->flags |= TCP_CF_SACK;
	}
	c->smss = eff_mss(s, c, mss);
	c->irs = g->seq - 1;
	c->rcv_nxt = g->seq;
	c->iss = g->ack - 1;
	c->snd_una = c->snd_nxt = c->snd_max = g->ack;
	c->snd_wnd = (uint32_t)g->wnd << c->snd_wscale;
	c->max_snd_wnd = c->snd_wnd;
	c->snd_wl1 = g->seq;
	c->snd_wl2 = g->ack;
	/* the cookie's SYN-ACK advertised sndbuf unscaled */
	c->rcv_adv = c->rcv_nxt + min32(65535, s->p.sndbuf);
	if (established(s, c, 1) != 0) {
		tcp_abort(s, c);
		consume(x);
		return;
	}
	/* the ACK may carry data already */
	conn_input(s, c, x);
}

static void no_conn(struct tcp_stack *s, struct seg_ctx *x)
{
	enum tcp_handler h = tcp_fsm_handler(x->rule && s->listen_app[x->rule->action] ?
						     TCP_LISTEN : TCP_CLOSED, x->seg.flags);

	switch (h) {
	case TCP_H_LISTEN_SYN:
		listen_syn(s, x, 0, 0);
		return;
	case TCP_H_LISTEN_ACK:
		listen_ack(s, x);
		return;
	case TCP_H_SEND_RST:
		reply_rst(s, x);
		drop(s, x, SL_DROP_TCP_NO_CONN);
		return;
	default:
		drop(s, x, SL_DROP_TCP_NO_CONN);
		return;
	}
}

/* --- SYN-SENT ------------------------------------------------------------ */

static void synsent_synack(struct tcp_stack *s, struct tcp_conn *c, struct seg_ctx *x)
{
	const struct tcp_seg *g = &x->seg;

	/* RFC 9293 3.10.7.3: an ACK outside (ISS, SND.NXT] gets a RST */
	if (g->ack != c->iss + 1) {
		reply_rst(s, x);
		drop(s, x, SL_DROP_TCP_BAD_ACK);
		return;
	}
	take_syn_opts(s, c, &x->o);
	c->irs = g->seq;
	c->rcv_nxt = g->seq + 1;
	c->snd_una = g->ack;
	c->snd_wnd = g->wnd; /* not scaled in a SYN-ACK (RFC 7323 2.2) */
	c->max_snd_wnd = c->snd_wnd;
	c->snd_wl1 = g->seq;
	c->snd_wl2 = g->ack;
	/* our SYN advertised this much, unscaled (tcp_send_syn) */
	c->rcv_adv = c->rcv_nxt + min32(65535, s->p.sndbuf);
	if (!(c->flags & TCP_CF_SYN_RTX)) {
		uint32_t rtt_ms = (c->flags & TCP_CF_TS) && x->o.tsecr ?
					  s->now_ms + c->ts_off - x->o.tsecr :
					  s->now_ms - c->rtt_start_ms;

		tcp_rtt_sample(&c->rtt, &tcp_rtt_default, (rtt_ms ? rtt_ms : 1) * 1000);
	}
	c->flags |= TCP_CF_ACK_NOW;
	consume(x);
	if (established(s, c, 0) != 0) {
		tcp_abort(s, c);
		return;
	}
	tcp_output(s, c);
}

/* --- synchronized states ------------------------------------------------- */

/* RFC 5961 3.2: only an exact match resets; in the window: challenge. */
static void rst_input(struct tcp_stack *s, struct tcp_conn *c, struct seg_ctx *x)
{
	uint32_t wnd = seq_gt(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 1;

	if (c->state == TCP_TIME_WAIT) {
		/* RFC 1337: no TIME-WAIT assassination */
		drop(s, x, SL_DROP_TCP_RST_IGNORED);
		return;
	}
	if (x->seg.seq == c->rcv_nxt) {
		s->st->resets_rcvd++;
		consume(x);
		tcp_notify_close(s, c, c->state == TCP_SYN_RECEIVED ? -ECONNREFUSED : -ECONNRESET);
		tcp_conn_free(s, c);
		return;
	}
	if (seq_in(x->seg.seq, c->rcv_nxt, c->rcv_nxt + wnd))
		challenge_ack(s, c);
	drop(s, x, SL_DROP_TCP_RST_IGNORED);
}

static void deliver(struct tcp_stack *s, struct tcp_conn *c, struct rte_mbuf *m, uint32_t len)
{
	c->v.bytes_in += len;
	c->last_data_ms = s->now_ms;
	s->st->bytes_in += len;
	if (c->app && c->app->on_data)
		c->app->on_data(s, c, m);
	else
		rte_pktmbuf_free(m);
}

struct pop_arg {
	struct tcp_stack *s;
	struct tcp_conn *c;
};

static void reass_deliver(void *arg, void *buf, uint32_t off, uint32_t len)
{
	struct pop_arg *a = arg;
	struct rte_mbuf *m = buf;

	if (off)
		rte_pktmbuf_adj(m, (uint16_t)off);
	if (m->pkt_len > len)
		rte_pktmbuf_trim(m, (uint16_t)(m->pkt_len - len));
	deliver(a->s, a->c, m, len);
}

/* RFC 5681 2: a duplicate ACK acks nothing new, carries no data, SYN or FIN,
 * leaves the window alone, with data outstanding. */
static int is_dupack(const struct tcp_conn *c, const struct tcp_seg *g)
{
	return g->ack == c->snd_una && g->seg_len == 0 && c->snd_una != c->snd_max &&
	       ((uint32_t)g->wnd << c->snd_wscale) == c->snd_wnd;
}

/* A retransmission from SND.UNA: one segment of what was already sent --
 * never bytes beyond SND.MAX, which the peer must not see acked before
 * they count as sent. */
static uint32_t rtx_len(const struct tcp_conn *c)
{
	return min32(c->smss, min32(c->sq_bytes, c->snd_max - c->snd_una));
}

static void enter_recovery(struct tcp_stack *s, struct tcp_conn *c, enum tcp_cc_loss why)
{
	s->st->fast_recoveries++;
	tcp_cc_enter_recovery(&c->cc, tcp_flight(c), why);
	tcp_sb_enter_recovery(&c->sb, c->snd_una, c->snd_max);
	tcp_rtx_arm(s, c, 1);
	if (!(c->flags & TCP_CF_SACK)) {
		/* RFC 6582 3.2 step 3: retransmit the first unacknowledged segment */
		tcp_send_data(s, c, c->snd_una, rtx_len(c), 1);
	}
}

/* RFC 9293 3.10.7.4 fifth: the ACK field.  Returns -1 when the connection
 * or the segment is gone. */
static int ack_input(struct tcp_stack *s, struct tcp_conn *c, struct seg_ctx *x)
{
	const struct tcp_seg *g = &x->seg;
	uint32_t flight = tcp_flight(c);

	if (seq_gt(g->ack, c->snd_max)) {
		/* acks something not yet sent: ACK and drop */
		c->flags |= TCP_CF_ACK_NOW;
		tcp_output(s, c);
		drop(s, x, SL_DROP_TCP_ACK_FUTURE);
		return -1;
	}
	/* RFC 5961 5.2: older than the largest window ever sent: challenge */
	if (seq_lt(g->ack, c->snd_una - c->max_snd_wnd)) {
		challenge_ack(s, c);
		drop(s, x, SL_DROP_TCP_ACK_OLD);
		return -1;
	}
	if (seq_gt(g->ack, c->snd_una)) {
		uint32_t acked = g->ack - c->snd_una;
		uint32_t data = min32(acked, c->sq_bytes);
		int fin_acked = (c->flags & TCP_CF_FIN_SENT) && g->ack == c->snd_una + c->sq_bytes + 1;
		struct tcp_cc_ack a = { .acked = acked, .flight = flight, .now_us = s->now_ms * 1000ull };

		tcp_sq_drop(s, c, data);
		c->snd_una = g->ack;
		if (seq_lt(c->snd_nxt, c->snd_una))
			c->snd_nxt = c->snd_una;
		c->dupacks = 0;
		c->persist_backoff = 0;
		c->flags &= ~(uint32_t)TCP_CF_PROBED;
		/* RFC 6298 3 / RFC 7323 4: one sample per round trip */
		if ((c->flags & TCP_CF_RTT) && seq_geq(g->ack, c->rtt_seq)) {
			uint32_t ms = (c->flags & TCP_CF_TS) && (x->o.flags & TCP_OPTF_TS) && x->o.tsecr ?
					      s->now_ms + c->ts_off - x->o.tsecr :
					      s->now_ms - c->rtt_start_ms;

			c->flags &= ~(uint32_t)TCP_CF_RTT;
			if (ms < 60000) {
				a.rtt_us = (ms ? ms : 1) * 1000;
				tcp_rtt_sample(&c->rtt, &tcp_rtt_default, a.rtt_us);
			}
		}
		if (c->flags & TCP_CF_SACK)
			tcp_sb_update(&c->sb, c->snd_una, c->snd_max, x->o.sack,
				      (x->o.flags & TCP_OPTF_SACK) ? x->o.n_sack : 0);
		switch (tcp_sb_recovery_ack(&c->sb, c->snd_una)) {
		case TCP_SB_RECOV_PARTIAL:
			tcp_cc_on_partial_ack(&c->cc, acked);
			/* RFC 6582 3.2 step 5: resend the next hole at once */
			if (!(c->flags & TCP_CF_SACK) && c->sq_bytes)
				tcp_send_data(s, c, c->snd_una, rtx_len(c), 1);
			break;
		case TCP_SB_RECOV_DONE:
			tcp_cc_exit_recovery(&c->cc, tcp_flight(c));
			break;
		default:
			tcp_cc_on_ack(&c->cc, &a);
			break;
		}
		/* RFC 6298 5.2 / 5.3 */
		if (c->snd_una == c->snd_max)
			tcp_timer_cancel(&s->wheel, &c->t_rtx);
		else
			tcp_rtx_arm(s, c, 1);
		if (data && c->app && c->app->on_writable)
			c->app->on_writable(s, c);
		if (fin_acked) {
			switch (c->state) {
			case TCP_FIN_WAIT_1:
				tcp_set_state(s, c, TCP_FIN_WAIT_2);
				break;
			case TCP_CLOSING:
				enter_time_wait(s, c);
				break;
			case TCP_LAST_ACK:
				consume(x);
				tcp_notify_close(s, c, 0);
				tcp_conn_free(s, c);
				return -1;
			default:
				break;
			}
		}
	} else if (g->ack == c->snd_una && c->snd_una != c->snd_max) {
		uint32_t newly = 0;

		if (c->flags & TCP_CF_SACK) {
			newly = tcp_sb_update(&c->sb, c->snd_una, c->snd_max, x->o.sack,
					      (x->o.flags & TCP_OPTF_SACK) ? x->o.n_sack : 0);
			/* RFC 6675 2: new SACK information counts as a duplicate */
			if (newly || is_dupack(c, g))
				c->dupacks++;
			if (tcp_sb_loss_detected(&c->sb, c->snd_una, c->dupacks, c->smss))
				enter_recovery(s, c, TCP_CC_LOSS_SACK);
		} else if (is_dupack(c, g)) {
			c->dupacks++;
			if (tcp_sb_in_recovery(&c->sb))
				tcp_cc_on_dupack(&c->cc); /* RFC 5681 3.2 step 4: inflate */
			else if (tcp_sb_loss_detected(&c->sb, c->snd_una, c->dupacks, c->smss))
				enter_recovery(s, c, TCP_CC_LOSS_DUPACK);
		}
	}
	/* RFC 9293 3.10.7.4: window update from the newest segment only */
	if (seq_lt(c->snd_wl1, g->seq) || (c->snd_wl1 == g->seq && seq_leq(c->snd_wl2, g->ack))) {
		c->snd_wnd = (uint32_t)g->wnd << c->snd_wscale;
		c->snd_wl1 = g->seq;
		c->snd_wl2 = g->ack;
		if (c->snd_wnd > c->max_snd_wnd)
			c->max_snd_wnd = c->snd_wnd;
		if (c->snd_wnd && tcp_timer_armed(&c->t_rtx) && c->t_rtx.kind == TCP_T_PERSIST)
			tcp_timer_cancel(&s->wheel, &c->t_rtx);
	}
	return 0;
}

/* RFC 9293 3.10.7.4 seventh: segment text. Consumes x->m. */
static void data_input(struct tcp_stack *s, struct tcp_conn *c, struct seg_ctx *x)
{
	struct rte_mbuf *m = x->m;
	uint32_t seq = x->seg.seq, len = x->seg.len;
	uint32_t right = seq_gt(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv : c->rcv_nxt;
	int rc;

	x->m = NULL;
	rte_pktmbuf_adj(m, (uint16_t)x->pay_off);
	if (m->pkt_len > len)
		rte_pktmbuf_trim(m, (uint16_t)(m->pkt_len - len)); /* Ethernet padding */
	if (seq_lt(seq, c->rcv_nxt)) {
		uint32_t old = c->rcv_nxt - seq;

		/* RFC 2883: report the duplicate part */
		c->dsack_lo = seq;
		c->dsack_hi = c->rcv_nxt;
		c->flags |= TCP_CF_DSACK | TCP_CF_ACK_NOW;
		rte_pktmbuf_adj(m, (uint16_t)old);
		seq = c->rcv_nxt;
		len -= old;
	}
	if (seq_gt(seq + len, right)) {
		/* beyond what we advertised: keep what fits (3.10.7.4) */
		uint32_t cut = seq + len - right;

		rte_pktmbuf_trim(m, (uint16_t)cut);
		len -= cut;
		c->flags |= TCP_CF_ACK_NOW;
	}
	if (len == 0) {
		rte_pktmbuf_free(m);
		return;
	}
	if (seq == c->rcv_nxt) {
		int filled = !tcp_reass_empty(&c->rq);
		struct pop_arg a = { s, c };

		c->rcv_nxt += len;
		deliver(s, c, m, len);
		if (filled) {
			tcp_reass_pop_ready(&c->rq, &s->rctx, &c->rcv_nxt, reass_deliver, &a);
			/* RFC 5681 4.2: ACK at once when a hole is filled */
			c->flags |= TCP_CF_ACK_NOW;
		} else if (++c->delack_segs >= 2 || len < c->smss) {
			/* RFC 5681 4.2: at least every second full-sized segment */
			c->flags |= TCP_CF_ACK_NOW;
		} else if (!tcp_timer_armed(&c->t_delack)) {
			tcp_timer_arm_ms(s, &c->t_delack, TCP_T_DELACK, s->p.tp.delack_ms);
		}
		return;
	}
	rc = tcp_reass_insert(&c->rq, &s->rctx, c->rcv_nxt, seq, len, m);
	/* RFC 5681 4.2: out-of-order data is acked at once (a duplicate ACK) */
	c->flags |= TCP_CF_ACK_NOW;
	if (rc == 0) {
		s->st->ooo_segments++;
	} else if (rc == -EEXIST) {
		s->st->dup_segments++;
		c->dsack_lo = seq;
		c->dsack_hi = seq + len;
		c->flags |= TCP_CF_DSACK;
		rte_pktmbuf_free(m);
	} else {
		worker_drop(s->w, m, SL_DROP_TCP_REASS_FULL);
	}
}

/* RFC 9293 3.10.7.4 eighth: FIN, once everything before it arrived. */
static void fin_input(struct tcp_stack *s, struct tcp_conn *c)
{
	c->rcv_nxt++;
	c->flags |= TCP_CF_FIN_RCVD | TCP_CF_ACK_NOW;
	/* the app first: TIME-WAIT below ends its part */
	if (c->app && c->app->on_fin)
		c->app->on_fin(s, c);
	switch (c->state) {
	case TCP_ESTABLISHED:
		tcp_set_state(s, c, TCP_CLOSE_WAIT);
		break;
	case TCP_FIN_WAIT_1:
		/* our FIN not yet acked (else we would be in FIN-WAIT-2) */
		tcp_set_state(s, c, TCP_CLOSING);
		break;
	case TCP_FIN_WAIT_2:
		tcp_send_ack(s, c);
		enter_time_wait(s, c);
		return;
	default:
		break;
	}
}

static void segment(struct tcp_stack *s, struct tcp_conn *c, struct seg_ctx *x)
{
	const struct tcp_seg *g = &x->seg;
	uint32_t wnd = seq_gt(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;
	uint32_t fin_seq = g->seq + g->len;
	int has_fin = (g->flags & TCP_F_FIN) != 0;

	/* RFC 7323 5.3 PAWS: an older timestamp is a wrapped old duplicate */
	if ((c->flags & TCP_CF_TS) && (x->o.flags & TCP_OPTF_TS) &&
	    seq_lt(x->o.tsval, c->ts_recent)) {
		c->flags |= TCP_CF_ACK_NOW;
		tcp_output(s, c);
		drop(s, x, SL_DROP_TCP_PAWS);
		return;
	}
	if (!seq_acceptable(g->seq, g->seg_len, c->rcv_nxt, wnd)) {
		/* 3.10.7.4 first: not acceptable: ACK (a duplicate tells the
		 * peer where we are) and drop */
		if (g->len && seq_lt(g->seq, c->rcv_nxt)) {
			s->st->dup_segments++;
			c->dsack_lo = g->seq;
			c->dsack_hi = seq_lt(g->seq + g->len, c->rcv_nxt) ? g->seq + g->len : c->rcv_nxt;
			c->flags |= TCP_CF_DSACK;
		}
		c->flags |= TCP_CF_ACK_NOW;
		if (c->state == TCP_TIME_WAIT) /* a retransmitted FIN: 2 MSL again */
			tcp_timer_arm_ms(s, &c->t_life, TCP_T_TIMEWAIT, s->p.tp.timewait_ms);
		tcp_output(s, c);
		drop(s, x, SL_DROP_TCP_OUT_OF_WINDOW);
		return;
	}
	/* RFC 7323 4.3: TS.Recent from the segment at the left edge */
	if ((c->flags & TCP_CF_TS) && (x->o.flags & TCP_OPTF_TS) && seq_leq(g->seq, c->rcv_nxt))
		c->ts_recent = x->o.tsval;
	c->last_rx_ms = s->now_ms;

	if (c->state == TCP_SYN_RECEIVED) {
		/* 3.10.7.4 fifth, SYN-RECEIVED: our SYN-ACK acked? */
		if (!(seq_gt(g->ack, c->snd_una) && seq_leq(g->ack, c->snd_max))) {
			reply_rst(s, x);
			drop(s, x, SL_DROP_TCP_BAD_ACK);
			return;
		}
		c->snd_una = g->ack;
		c->snd_wnd = (uint32_t)g->wnd << c->snd_wscale;
		c->max_snd_wnd = c->snd_wnd;
		c->snd_wl1 = g->seq;
		c->snd_wl2 = g->ack;
		if (!(c->flags & TCP_CF_SYN_RTX) && (c->flags & TCP_CF_TS) && x->o.tsecr) {
			uint32_t ms = s->now_ms + c->ts_off - x->o.tsecr;

			tcp_rtt_sample(&c->rtt, &tcp_rtt_default, (ms ? ms : 1) * 1000);
		}
		if (established(s, c, 1) != 0) {
			consume(x);
			tcp_abort(s, c);
			return;
		}
	} else if (ack_input(s, c, x) != 0) {
		return;
	}
	if (c->state == TCP_TIME_WAIT) {
		c->flags |= TCP_CF_ACK_NOW;
		tcp_output(s, c);
		consume(x);
		return;
	}
	if (g->len) {
		if (c->state == TCP_ESTABLISHED || c->state == TCP_FIN_WAIT_1 ||
		    c->state == TCP_FIN_WAIT_2)
			data_input(s, c, x);
		else
			drop(s, x, SL_DROP_TCP_DATA_AFTER_FIN); /* 3.10.7.4: ignore */
	}
	consume(x);
	if (has_fin && fin_seq == c->rcv_nxt && !(c->flags & TCP_CF_FIN_RCVD)) {
		fin_input(s, c);
		if (c->state == TCP_TIME_WAIT)
			return;
	}
	tcp_output(s, c);
}

static void conn_input(struct tcp_stack *s, struct tcp_conn *c, struct seg_ctx *x)
{
	switch (tcp_fsm_handler(c->state, x->seg.flags)) {
	case TCP_H_SEGMENT:
		segment(s, c, x);
		return;
	case TCP_H_RST:
		rst_input(s, c, x);
		return;
	case TCP_H_SYNSENT_SYNACK:
		synsent_synack(s, c, x);
		return;
	case TCP_H_SYNSENT_RST:
		/* 3.10.7.3: acceptable only if it acks our SYN: refused */
		if ((x->seg.flags & TCP_F_ACK) && x->seg.ack == c->iss + 1) {
			s->st->resets_rcvd++;
			consume(x);
			tcp_notify_close(s, c, -ECONNREFUSED);
			tcp_conn_free(s, c);
			return;
		}
		drop(s, x, SL_DROP_TCP_RST_IGNORED);
		return;
	case TCP_H_SYNSENT_ACK:
		if (x->seg.ack != c->iss + 1)
			reply_rst(s, x);
		drop(s, x, SL_DROP_TCP_BAD_ACK);
		return;
	case TCP_H_SYNRCVD_SYN:
		/* the peer did not get our SYN-ACK: send it again */
		if (x->seg.seq == c->irs)
			tcp_send_syn(s, c);
		else
			challenge_ack(s, c);
		consume(x);
		return;
	case TCP_H_TIMEWAIT_SYN:
		/* RFC 6191 / RFC 9293 3.10.7.4 note: a new incarnation may reuse
		 * the pair when its SYN is above what the old one used */
		if (x->rule && tw_reusable(c, x->seg.seq)) {
			tcp_conn_free(s, c);
			no_conn(s, x);
			return;
		}
		challenge_ack(s, c);
		drop(s, x, SL_DROP_TCP_STATE);
		return;
	case TCP_H_CHALLENGE_SYN:
		/* RFC 5961 4.2 */
		challenge_ack(s, c);
		drop(s, x, SL_DROP_TCP_SYN_IN_WINDOW);
		return;
	default:
		drop(s, x, SL_DROP_TCP_STATE);
		return;
	}
}

/* Parse; 0 and *x filled, or the segment was dropped. */
static int parse(struct tcp_stack *s, struct rte_mbuf *m, uint16_t in_port, struct seg_ctx *x)
{
	struct ipv4_hdr_raw *ip = ip_hdr(m);
	unsigned int hlen = (ip->ver_ihl & 0xf) * 4u;
	unsigned int tot = rte_be_to_cpu_16(ip->total_len);
	uint64_t ol = m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK;
	enum tcp_seg_err e;

	x->m = m;
	x->in_port = in_port;
	if (unlikely(ipv4_is_fragment(ip))) {
		drop(s, x, SL_DROP_IP_FRAG_LOCAL);
		return -1;
	}
	if (unlikely(rte_pktmbuf_data_len(m) < RTE_ETHER_HDR_LEN + tot)) {
		drop(s, x, SL_DROP_TCP_MALFORMED); /* chained RX: not with our MTU */
		return -1;
	}
	if (unlikely(ol == RTE_MBUF_F_RX_L4_CKSUM_BAD)) {
		drop(s, x, SL_DROP_TCP_CHECKSUM);
		return -1;
	}
	x->saddr = ip->src;
	x->daddr = ip->dst;
	e = tcp_seg_parse((uint8_t *)ip + hlen, tot - hlen, ip->src, ip->dst,
			  ol != RTE_MBUF_F_RX_L4_CKSUM_GOOD, &x->seg);
	if (unlikely(e != TCP_SEG_OK)) {
		drop(s, x, e == TCP_SEG_CKSUM ? SL_DROP_TCP_CHECKSUM : SL_DROP_TCP_MALFORMED);
		return -1;
	}
	if (unlikely(tcp_opt_parse(x->seg.opt, x->seg.hlen - TCP_HDR_MIN,
				   (x->seg.flags & TCP_F_SYN) != 0, &x->o) != 0)) {
		drop(s, x, SL_DROP_TCP_OPTIONS);
		return -1;
	}
	x->pay_off = RTE_ETHER_HDR_LEN + hlen + x->seg.hlen;
	s->st->segs_in++;
	return 0;
}

/* The connection an unparsed segment belongs to, or NULL (not TCP, a
 * fragment, no ports, or no connection).  A short header is tcp_input's
 * to drop as malformed. */
static struct tcp_conn *conn_of(struct tcp_stack *s, struct rte_mbuf *m)
{
	const struct ipv4_hdr_raw *ip = ip_hdr(m);
	unsigned int hlen = (ip->ver_ihl & 0xf) * 4u;
	const uint16_t *ports = (const uint16_t *)((const uint8_t *)ip + hlen);

	if (ip->proto != IPPROTO_TCP || ipv4_is_fragment(ip) ||
	    rte_pktmbuf_data_len(m) < RTE_ETHER_HDR_LEN + hlen + 4)
		return NULL;
	return tcp_conn_lookup(s, ip->dst, rte_be_to_cpu_16(ports[1]), ip->src,
			       rte_be_to_cpu_16(ports[0]));
}

void tcp_input(struct tcp_stack *s, struct rte_mbuf *m, uint16_t in_port,
	       const struct sl_rule *rule)
{
	struct seg_ctx x;
	struct tcp_conn *c;

	if (parse(s, m, in_port, &x) != 0)
		return;
	x.rule = rule;
	/* a local listener (the agents' port) is the rule of what reaches it:
	 * a new connection, or a new incarnation of one in TIME-WAIT */
	if (!rule && unlikely(s->n_local))
		for (uint32_t i = 0; i < s->n_local; i++)
			if (s->local[i].addr_be == x.daddr && s->local[i].port == x.seg.dport)
				x.rule = s->local[i].rule;
	c = tcp_conn_lookup(s, x.daddr, x.seg.dport, x.saddr, x.seg.sport);
	if (c) {
		conn_input(s, c, &x);
	} else if (unlikely(s->miss) &&
		   s->miss(s, x.m, in_port, x.daddr, x.seg.dport, x.saddr, x.seg.sport)) {
		x.m = NULL; /* moved to another worker: handed to it */
	} else {
		no_conn(s, &x);
	}
	consume(&x);
}

int tcp_input_syn_try(struct tcp_stack *s, struct rte_mbuf *m, uint16_t in_port)
{
	const struct ipv4_hdr_raw *ip = ip_hdr(m);
	const uint8_t *th = (const uint8_t *)ip + (ip->ver_ihl & 0xf) * 4u; /* whole: the caller's check */
	struct tcp_conn *c = conn_of(s, m);

	if (!c)
		return 0; /* the usual case: one lookup */
	if (c->state == TCP_TIME_WAIT &&
	    tw_reusable(c, (uint32_t)th[4] << 24 | (uint32_t)th[5] << 16 | (uint32_t)th[6] << 8 | th[7])) {
		tcp_conn_free(s, c);
		return 0; /* a new incarnation: the caller decides what it gets */
	}
	tcp_input(s, m, in_port, NULL);
	return 1;
}

struct tcp_conn *tcp_accept_syn(struct tcp_stack *s, struct rte_mbuf *m, uint16_t in_port,
				const struct sl_rule *rule, uint16_t mss)
{
	struct seg_ctx x;
	struct tcp_conn *c = NULL;

	if (parse(s, m, in_port, &x) != 0)
		return NULL;
	x.rule = rule;
	if ((x.seg.flags & (TCP_F_SYN | TCP_F_ACK | TCP_F_RST | TCP_F_FIN)) == TCP_F_SYN &&
	    s->listen_app[rule->action] &&
	    !tcp_conn_lookup(s, x.daddr, x.seg.dport, x.saddr, x.seg.sport))
		c = listen_syn(s, &x, 1, mss);
	else
		drop(s, &x, SL_DROP_TCP_NO_CONN);
	consume(&x);
	return c;
}

int tcp_input_try(struct tcp_stack *s, struct rte_mbuf *m, uint16_t in_port)
{
	if (!conn_of(s, m))
		return 0;
	tcp_input(s, m, in_port, NULL);
	return 1;
}

/* --- timers --------------------------------------------------------------- */

static void rto_fire(struct tcp_stack *s, struct tcp_conn *c)
{
	if (c->state == TCP_SYN_SENT || c->state == TCP_SYN_RECEIVED) {
		if (++c->syn_tries > s->p.syn_retries) {
			if (c->state == TCP_SYN_SENT)
				s->st->connect_failed++;
			tcp_notify_close(s, c, -ETIMEDOUT);
			tcp_conn_free(s, c);
			return;
		}
		c->flags |= TCP_CF_SYN_RTX;
		s->st->retransmits++;
		tcp_rtt_backoff(&c->rtt, &tcp_rtt_default);
		tcp_send_syn(s, c);
		tcp_timer_arm_ms(s, &c->t_rtx, TCP_T_RTO, tcp_rtt_rto(&c->rtt) / 1000);
		return;
	}
	if (c->snd_una == c->snd_max)
		return;
	if (c->flags & TCP_CF_RECPROBE) {
		c->flags &= ~(uint32_t)TCP_CF_RECPROBE;
		c->flags |= TCP_CF_PROBED;
		if (!tcp_sb_in_recovery(&c->sb)) {
			tcp_send_tlp(s, c);
		} else if (c->sq_bytes) {
			/* no progress two RTTs into recovery: the first hole's
			 * retransmission is taken as lost (tcp_rtx_arm) */
			struct tcp_sack_block hole;
			uint32_t len = rtx_len(c);

			if ((c->flags & TCP_CF_SACK) &&
			    tcp_sb_next_hole(&c->sb, c->snd_una, c->snd_max, &hole) == 0 &&
			    hole.end - hole.start < len)
				len = hole.end - hole.start;
			s->st->recovery_probes++;
			tcp_send_data(s, c, c->snd_una, len, 1);
		}
		tcp_rtx_arm(s, c, 0);
		return;
	}
	s->st->rto_fired++;
	if (c->rtt.backoff >= s->p.rto_retries) {
		/* RFC 9293 3.8.3 R2: give up */
		tcp_send_rst(s, c);
		tcp_notify_close(s, c, -ETIMEDOUT);
		tcp_conn_free(s, c);
		return;
	}
	/* RFC 6298 5.4-5.6, RFC 5681 3.1, RFC 6675 5.1 */
	tcp_rtt_backoff(&c->rtt, &tcp_rtt_default);
	tcp_cc_on_rto(&c->cc, tcp_flight(c));
	tcp_sb_on_rto(&c->sb, c->snd_una, c->snd_max);
	c->dupacks = 0;
	if (!(c->flags & TCP_CF_TS))
		c->flags &= ~(uint32_t)TCP_CF_RTT;
	c->snd_nxt = c->snd_una;
	if (c->sq_bytes) {
		uint32_t len = rtx_len(c);

		if (tcp_send_data(s, c, c->snd_una, len, 1) == 0)
			c->snd_nxt = c->snd_una + len + ((c->flags & TCP_CF_FIN_SENT) &&
							  len == c->sq_bytes);
	} else {
		tcp_output(s, c); /* the FIN alone */
	}
	if (!tcp_timer_armed(&c->t_rtx))
		tcp_rtx_arm(s, c, 0);
}

void tcp_timer_fire(struct tcp_stack *s, struct tcp_conn *c, struct tcp_timer *t)
{
	switch (t->kind) {
	case TCP_T_RTO:
		rto_fire(s, c);
		return;
	case TCP_T_PERSIST:
		if (c->snd_wnd == 0 && c->sq_bytes) {
			s->st->zwnd_probes++;
			tcp_send_probe(s, c);
			if (c->persist_backoff < 30)
				c->persist_backoff++;
			tcp_timer_arm_ms(s, &c->t_rtx, TCP_T_PERSIST,
					 tcp_timer_persist_ms(&s->p.tp, tcp_rtt_rto(&c->rtt) / 1000,
							      c->persist_backoff));
		} else {
			tcp_output(s, c);
		}
		return;
	case TCP_T_DELACK:
		if (c->delack_segs || (c->flags & TCP_CF_ACK_NOW)) {
			s->st->delayed_acks++;
			tcp_send_ack(s, c);
		}
		return;
	case TCP_T_TIMEWAIT:
	case TCP_T_SYNRCVD:
		tcp_conn_free(s, c);
		return;
	case TCP_T_CONNECT:
		s->st->connect_failed++;
		tcp_notify_close(s, c, -ETIMEDOUT);
		tcp_conn_free(s, c);
		return;
	case TCP_T_KEEPALIVE: {
		/* RFC 1122 4.2.3.6: probe a connection silent this long; any
		 * segment after a probe answers it */
		uint32_t idle = s->now_ms - c->last_rx_ms;
		uint32_t need = s->p.tp.keepalive_idle_ms;

		if (c->ka_probes && (int32_t)(c->last_rx_ms - c->ka_sent_ms) >= 0)
			c->ka_probes = 0;
		if (c->ka_probes == 0 && idle < need) {
			tcp_timer_arm_ms(s, &c->t_ka, TCP_T_KEEPALIVE, need - idle);
			return;
		}
		if (c->ka_probes >= s->p.tp.keepalive_probes) {
			tcp_send_rst(s, c);
			tcp_notify_close(s, c, -ETIMEDOUT);
			tcp_conn_free(s, c);
			return;
		}
		s->st->keepalives++;
		tcp_send_probe(s, c);
		c->ka_probes++;
		c->ka_sent_ms = s->now_ms;
		/* the last probe too gets an interval to be answered */
		tcp_timer_arm_ms(s, &c->t_ka, TCP_T_KEEPALIVE, s->p.tp.keepalive_intvl_ms);
		return;
	}
	case TCP_T_IDLE: {
		/* data, not keepalive answers, makes a proxied pair busy */
		uint32_t idle = s->now_ms - c->last_data_ms;
		uint32_t peer_idle = c->peer ? s->now_ms - c->peer->last_data_ms : idle;

		if (peer_idle < idle)
			idle = peer_idle;
		if (idle < s->p.tp.idle_ms) {
			tcp_timer_arm_ms(s, &c->t_life, TCP_T_IDLE, s->p.tp.idle_ms - idle);
			return;
		}
		s->st->idle_timeouts++;
		tcp_send_rst(s, c);
		tcp_notify_close(s, c, -ETIMEDOUT);
		tcp_conn_free(s, c);
		return;
	}
	default:
		return;
	}
}

/* --- the application API ---------------------------------------------------- */

struct tcp_conn *tcp_connect(struct tcp_stack *s, uint32_t laddr_be, uint16_t lport,
			     uint32_t raddr_be, uint16_t rport, const struct tcp_app_ops *app,
			     int *err)
{
	struct tcp_conn *c = NULL;

	if (lport == 0) {
		/* an ephemeral port this worker does not use with the pair, and
		 * whose 4-tuple this worker owns (flow/dispatch.h): an RSS port
		 * delivers the answers here, the other workers hand them here
		 * otherwise.  One port in n_workers fits. */
		unsigned int n = dp.n_workers, budget = 64 * n;
		uint16_t p;

		while (!c && (p = flow_pick_port(&s->next_port, laddr_be, raddr_be, rport, n,
						 s->w->idx, &budget))) {
			if (tcp_conn_lookup(s, laddr_be, p, raddr_be, rport))
				continue;
			c = tcp_conn_alloc(s, laddr_be, p, raddr_be, rport);
			if (!c)
				break;
		}
	} else if (!tcp_conn_lookup(s, laddr_be, lport, raddr_be, rport)) {
		c = tcp_conn_alloc(s, laddr_be, lport, raddr_be, rport);
	}
	if (!c) {
		s->st->connect_failed++;
		*err = -EADDRINUSE;
		return NULL;
	}
	c->app = app;
	c->v.role = SL_FLOW_SERVER_LEG;
	c->iss = tcp_iss(s, laddr_be, c->lport, raddr_be, rport);
	c->snd_una = c->iss;
	c->snd_nxt = c->snd_max = c->iss + 1;
	c->smss = 536;
	c->rtt_start_ms = s->now_ms;
	tcp_set_state(s, c, TCP_SYN_SENT);
	tcp_send_syn(s, c);
	tcp_timer_arm_ms(s, &c->t_rtx, TCP_T_RTO, tcp_rtt_rto(&c->rtt) / 1000);
	tcp_timer_arm_ms(s, &c->t_life, TCP_T_CONNECT, s->p.tp.connect_ms);
	*err = 0;
	return c;
}

void tcp_send(struct tcp_stack *s, struct tcp_conn *c, struct rte_mbuf *m)
{
	/* one queue entry per segment of the chain */
	mbuf_q_push(&c->sq_head, &c->sq_tail, &c->sq_bytes, m);
	tcp_output(s, c);
}

void tcp_shutdown(struct tcp_stack *s, struct tcp_conn *c)
{
	if (c->flags & TCP_CF_FIN_Q)
		return;
	c->flags |= TCP_CF_FIN_Q;
	tcp_output(s, c);
}

void tcp_abort(struct tcp_stack *s, struct tcp_conn *c)
{
	c->flags |= TCP_CF_CLOSED_APP; /* the app asked: no callback */
	if (c->state != TCP_SYN_SENT && c->state != TCP_TIME_WAIT && c->state != TCP_CLOSED)
		tcp_send_rst(s, c);
	tcp_conn_free(s, c);
}

void tcp_rcv_space_changed(struct tcp_stack *s, struct tcp_conn *c)
{
	uint32_t cur, now;

	if (!tcp_state_synchronized(c->state) || c->state == TCP_TIME_WAIT ||
	    (c->flags & TCP_CF_FIN_RCVD))
		return;
	cur = seq_gt(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;
	/* a window update only when the peer may be held back by the window
	 * we last advertised (ACKs for new data carry the rest) */
	if (cur >= s->p.sndbuf / 2 && cur >= 4u * c->smss)
		return;
	now = tcp_rcv_wnd(s, c);
	if (now >= cur + 2u * c->smss || (cur == 0 && now > 0))
		tcp_send_ack(s, c);
}
