/*
 * S3: the LSTP middle proxy on the worker (lstp_mid.h, docs/lstp.md).
 *
 * A connection to the `lstp` listener goes through three states:
 *   SETUP   the end's first bytes: exactly COMMON_UNIQUE_INFO then
 *           TOPOLOGY_EXCHANGE (framed and checked with the shared codec);
 *           anything else gets ERROR and the connection closes.  At most
 *           LM_SETUP_MAX bytes are let in (the window says so) and
 *           hello_timeout_ms bounds the wait.
 *   WAIT    the two messages went to sluice-cp, which stores or pairs them.
 *           Bytes the end sends meanwhile (none from a well-behaved end, but
 *           a master end may start TLS the moment it hears of its peer) are
 *           kept, LM_EARLY_MAX at most: the window closes beyond.
 *   RELAY   joined with its partner (PAIR): l4proxy's relay, zero copy.
 * sluice-cp hears of every connection that ends (UP_LSTP_CLOSE), so its
 * tables follow.
 *
 * Both legs of a pair live on one worker (a relay's legs share a worker,
 * DESIGN.md).  Two ends that landed on different workers are joined on the
 * waiting end's: the newer end's connection is quiet while it waits, so its
 * TCP state is exported (tcp_conn_export) and sent, with what it is to be
 * told and what it sent early, over the hand-off ring to that worker (an
 * ADOPT message: an mbuf whose port is RTE_MBUF_PORT_INVALID, which no
 * packet has).  The ring is FIFO, so the segments this worker forwards
 * afterwards arrive after it.  Segments for the moved connection keep
 * arriving here (its hash says so) and find it gone: the stack's miss hook
 * hands them over from a table of moved tuples, until the new owner's
 * UNMOVE (the connection ended there) removes the entry.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_hash.h>
#include <rte_malloc.h>
#include <rte_random.h>
#include <rte_ring.h>

#include <sluice/lstp_proto.h>
#include <sluice/tls_msg.h>

#include "apps/l4proxy.h"
#include "apps/lstp_mid.h"
#include "apps/tls_relay.h"
#include "ip/ipv4_input.h"
#include "dp.h"
#include "mbuf_q.h"
#include "tcp/tcp_conn.h"
#include "worker.h"

/* The longest setup: COMMON_UNIQUE_INFO (8 + 2 + 2 x 64) and a full
 * TOPOLOGY_EXCHANGE (8 + 1 + 16 x 79). */
#define LM_SETUP_MAX (8 + 2 + 2 * LSTP_MAX_INFO + 8 + 1 + LSTP_MAX_HOPS * (1 + 1 + LSTP_MAX_NAME + 4 + 2 + 8))
#define LM_EARLY_MAX 16384
#define LM_TICK_MS 100

/* LM_REPLY: our connection onward to the neighbour middle (cascading),
 * waiting for its answer: the far end's setup, or an ERROR. */
enum { LM_FREE = 0, LM_SETUP, LM_WAIT, LM_RELAY, LM_ENDING, LM_REPLY };

struct lm_conn {
	uint8_t state;
	uint8_t adopted;              /* moved here: origin worker + 1 */
	uint8_t pad[2];
	uint32_t born_ms;
	uint32_t mate, mate_gen;      /* cascading: the end <-> its onward connection */
	uint32_t pair_id;             /* LM_REPLY: sluice-cp's pair */
	struct rte_mbuf *head, *tail; /* SETUP: the bytes so far; WAIT: early bytes */
	uint32_t bytes;
};

/* The hand-off ring's control messages (m->port == RTE_MBUF_PORT_INVALID). */
enum { LM_ADOPT = 1, LM_UNMOVE };

struct lm_tuple {
	uint32_t laddr_be, raddr_be;
	uint16_t lport, rport;
};

struct lm_ctl {
	uint32_t kind;
	uint16_t from;                /* the sending worker */
	uint16_t pad;
	struct lm_tuple t;            /* UNMOVE */
	/* ADOPT: the connection, the pair, then a_len + b_len + early bytes */
	struct tcp_export x;
	struct sl_lstp_pair p;
	uint32_t early;
};

struct lstp_mid {
	struct lm_conn *c;            /* [n_slots], by connection slot */
	struct rte_hash *moved;       /* lm_tuple -> the worker it moved to */
	struct sl_rule listen_rule;
	uint32_t hello_ms;
	uint32_t n_setup;             /* connections in SETUP (the tick scans only then) */
	uint32_t last_tick_ms;
	uint8_t buf[LM_SETUP_MAX];    /* a setup, linearized for the codec */
};

static inline struct sl_lstp_stats *lst(struct worker *w) { return &w->st->lstp; }

static struct tcp_conn *mate_of(struct worker *w, const struct lm_conn *l);
static void reply_try(struct worker *w, struct tcp_conn *o, struct lm_conn *l);

static struct lm_conn *lm_of(struct worker *w, const struct tcp_conn *c)
{
	return &w->lstp->c[tcp_conn_idx(w->tcp, c)];
}

static void lm_reset(struct worker *w, struct lm_conn *l)
{
	if (l->state == LM_SETUP)
		w->lstp->n_setup--;
	mbuf_list_free(l->head);
	l->head = l->tail = NULL;
	l->bytes = 0;
	l->state = LM_FREE;
}

static int up(struct worker *w, const struct tcp_conn *c, uint16_t type, struct rte_mbuf *m)
{
	return tls_relay_up(w, type, 0, tcp_conn_idx(w->tcp, c), c->v.gen, m);
}

/* An ERROR to the end, then our FIN: what it sent cannot be used. */
static void send_error(struct worker *w, struct tcp_conn *c, uint16_t code, const char *why)
{
	struct lstp_msg e = { .type = LSTP_ERROR };
	struct rte_mbuf *m = rte_pktmbuf_alloc(w->pool);
	uint8_t *p;
	int n;

	e.u.error.code = code;
	e.u.error.text_len = (uint8_t)strnlen(why, LSTP_MAX_TEXT);
	memcpy(e.u.error.text, why, e.u.error.text_len);
	if (m && (p = (uint8_t *)rte_pktmbuf_append(m, 8 + 3 + LSTP_MAX_TEXT)) != NULL &&
	    (n = lstp_encode(&e, p, 8 + 3 + LSTP_MAX_TEXT)) > 0) {
		rte_pktmbuf_trim(m, (uint16_t)(8 + 3 + LSTP_MAX_TEXT - n));
		tcp_send(w->tcp, c, m);
	} else {
		rte_pktmbuf_free(m);
	}
	tcp_shutdown(w->tcp, c);
}

/* SETUP: are both messages here?  0 (wait for more), 1 (sent up), -1
 * (the connection is being closed). */
static int setup_try(struct worker *w, struct tcp_conn *c, struct lm_conn *l)
{
	struct lstp_mid *lm = w->lstp;
	uint32_t off = 0, n = l->bytes < LM_SETUP_MAX ? l->bytes : LM_SETUP_MAX;
	static const uint8_t want[2] = { LSTP_COMMON_UNIQUE_INFO, LSTP_TOPOLOGY_EXCHANGE };
	struct rte_mbuf *m;
	struct sl_lstp_hello *h;

	mbuf_q_copy(l->head, 0, n, lm->buf);
	for (unsigned int i = 0; i < 2; i++) {
		struct lstp_msg msg;
		const char *why = NULL;
		uint16_t err = 0;
		size_t used = 0;
		int rc = lstp_parse(lm->buf + off, n - off, &msg, &used, &why, &err);

		if (rc == -EAGAIN) {
			if (l->bytes < LM_SETUP_MAX)
				return 0;
			why = "setup longer than any valid one";
			err = LSTP_ERR_MALFORMED;
		} else if (rc == 0 && msg.type != want[i]) {
			why = i == 0 ? "the first message must be COMMON_UNIQUE_INFO" :
				       "the second message must be TOPOLOGY_EXCHANGE";
			err = LSTP_ERR_UNEXPECTED;
			rc = -EBADMSG;
		}
		if (rc != 0) {
			lst(w)->malformed++;
			lm_reset(w, l);
			send_error(w, c, err, why ? why : "malformed");
			return -1;
		}
		off += (uint32_t)used;
	}
	/* the setup to sluice-cp; what follows it stays here */
	m = rte_pktmbuf_alloc(w->pool);
	h = m ? (struct sl_lstp_hello *)rte_pktmbuf_append(m, (uint16_t)(sizeof(*h) + off)) : NULL;
	if (!h) {
		rte_pktmbuf_free(m);
		lst(w)->up_failed++;
		w->st->drops[SL_DROP_NOMBUF]++;
		lm_reset(w, l);
		tcp_abort(w->tcp, c);
		return -1;
	}
	*h = (struct sl_lstp_hello){ .src = rte_be_to_cpu_32(c->raddr_be), .sport = c->rport,
				     .len = (uint16_t)off };
	memcpy(h + 1, lm->buf, off);
	mbuf_q_drop(&l->head, &l->tail, &l->bytes, off);
	lm->n_setup--;
	l->state = LM_WAIT;
	if (up(w, c, SL_TLS_UP_LSTP_HELLO, m) != 0) {
		lst(w)->up_failed++;
		lm_reset(w, l);
		tcp_abort(w->tcp, c);
		return -1;
	}
	lst(w)->hellos++;
	lst(w)->early_bytes += l->bytes;
	return 1;
}

/* --- moved connections ------------------------------------------------------------ */

static struct rte_mbuf *ctl_alloc(struct worker *w, uint32_t kind, struct lm_ctl **lc)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(w->pool);

	*lc = m ? (struct lm_ctl *)rte_pktmbuf_append(m, sizeof(**lc)) : NULL;
	if (!*lc) {
		rte_pktmbuf_free(m);
		w->st->drops[SL_DROP_NOMBUF]++;
		return NULL;
	}
	memset(*lc, 0, sizeof(**lc));
	(*lc)->kind = kind;
	(*lc)->from = (uint16_t)w->idx;
	m->port = RTE_MBUF_PORT_INVALID;
	return m;
}

/* The connection that moved here from `origin` ended: its forwarding goes. */
static void unmove(struct worker *w, const struct tcp_conn *c, unsigned int origin)
{
	struct lm_ctl *lc;
	struct rte_mbuf *m = ctl_alloc(w, LM_UNMOVE, &lc);

	if (!m)
		return; /* the entry stays until its tuple is moved again */
	lc->t = (struct lm_tuple){ .laddr_be = c->laddr_be, .raddr_be = c->raddr_be,
				   .lport = c->lport, .rport = c->rport };
	if (rte_ring_sp_enqueue(w->ho_out[origin], m) != 0)
		worker_drop(w, m, SL_DROP_HANDOFF_FULL);
}

/* The stack's miss hook: a segment of a connection that moved away. */
static int lm_miss(struct tcp_stack *s, struct rte_mbuf *m, uint16_t in_port, uint32_t laddr_be,
		   uint16_t lport, uint32_t raddr_be, uint16_t rport)
{
	struct worker *w = s->w;
	struct lm_tuple t = { .laddr_be = laddr_be, .raddr_be = raddr_be, .lport = lport,
			      .rport = rport };
	void *to;

	if (rte_hash_lookup_data(w->lstp->moved, &t, &to) < 0)
		return 0;
	m->port = in_port;
	if (rte_ring_sp_enqueue(w->ho_out[(uintptr_t)to], m) == 0)
		w->st->handoff_out++;
	else
		worker_drop(w, m, SL_DROP_HANDOFF_FULL);
	return 1;
}

/* --- the connection's app ------------------------------------------------------ */

static int on_established(struct tcp_stack *s, struct tcp_conn *c)
{
	struct worker *w = s->w;
	struct lm_conn *l = lm_of(w, c);

	*l = (struct lm_conn){ .state = LM_SETUP, .born_ms = s->now_ms };
	w->lstp->n_setup++;
	lst(w)->conns++;
	return 0;
}

static void on_data(struct tcp_stack *s, struct tcp_conn *c, struct rte_mbuf *m)
{
	struct worker *w = s->w;
	struct lm_conn *l = lm_of(w, c);
	uint32_t before = l->bytes;

	if (l->state == LM_RELAY) {
		l4proxy_on_data(s, c, m);
		return;
	}
	if (l->state != LM_SETUP && l->state != LM_WAIT && l->state != LM_REPLY) {
		rte_pktmbuf_free(m); /* ending: nothing more is taken */
		return;
	}
	mbuf_q_push(&l->head, &l->tail, &l->bytes, m);
	if (l->state == LM_SETUP)
		setup_try(w, c, l);
	else if (l->state == LM_REPLY)
		reply_try(w, c, l);
	else
		lst(w)->early_bytes += l->bytes - before;
}

/* The window: a setup's worth, then what may wait, then the partner's room. */
static uint32_t rcv_space(struct tcp_stack *s, const struct tcp_conn *c)
{
	const struct lm_conn *l = lm_of(s->w, c);

	switch (l->state) {
	case LM_SETUP:
		return l->bytes < LM_SETUP_MAX ? LM_SETUP_MAX - l->bytes : 0;
	case LM_WAIT:
		return l->bytes < LM_EARLY_MAX ? LM_EARLY_MAX - l->bytes : 0;
	case LM_REPLY:
		return l->bytes < LM_SETUP_MAX + LM_EARLY_MAX ? LM_SETUP_MAX + LM_EARLY_MAX - l->bytes : 0;
	case LM_RELAY:
		return l4proxy_rcv_space(s, c);
	default:
		return 0;
	}
}

static void on_writable(struct tcp_stack *s, struct tcp_conn *c)
{
	if (lm_of(s->w, c)->state == LM_RELAY)
		l4proxy_on_writable(s, c);
}

static void on_fin(struct tcp_stack *s, struct tcp_conn *c)
{
	struct lm_conn *l = lm_of(s->w, c);

	if (l->state == LM_RELAY) {
		l4proxy_on_fin(s, c);
		return;
	}
	/* an end that leaves before it is paired leaves for good */
	tcp_shutdown(s, c);
}

/* sluice-cp hears that a connection it knows of is gone. */
static void report_close(struct worker *w, const struct tcp_conn *c, int err)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(w->pool);
	struct sl_lstp_close *cl = m ? (struct sl_lstp_close *)rte_pktmbuf_append(m, sizeof(*cl)) : NULL;

	if (!cl) {
		/* sluice-cp's wait_ms, or its pair's end, clears its entry */
		rte_pktmbuf_free(m);
		w->st->drops[SL_DROP_NOMBUF]++;
		return;
	}
	*cl = (struct sl_lstp_close){ .why = SL_LSTP_GONE, .err = err };
	up(w, c, SL_TLS_UP_LSTP_CLOSE, m);
}

/* What is left of a connection here once it is gone: its setup state,
 * its forwarding at the worker it moved from, and sluice-cp's entry. */
static void lm_forget(struct worker *w, const struct tcp_conn *c, int err)
{
	struct lm_conn *l = lm_of(w, c);
	uint8_t was = l->state, origin = l->adopted;

	lm_reset(w, l);
	l->adopted = 0;
	if (origin)
		unmove(w, c, origin - 1u);
	if (was != LM_SETUP && was != LM_FREE)
		report_close(w, c, err);
}

/* The end of a connection (its on_close, or a reset of ours): a relay's
 * other leg follows (l4proxy: FIN for FIN, RST for a failure), and a leg
 * it resets is gone without an on_close of its own, so it is forgotten
 * here first, while its slot still names it. */
static void lm_gone(struct worker *w, struct tcp_conn *c, int err)
{
	struct lm_conn *l = lm_of(w, c);
	struct tcp_conn *mate = l->mate_gen ? mate_of(w, l) : NULL;

	l->mate_gen = 0;
	if (mate && l->state == LM_REPLY) {
		/* the neighbour did not answer, or closed first */
		lm_of(w, mate)->mate_gen = 0;
		send_error(w, mate, LSTP_ERR_REFUSED,
			   err ? "the neighbour middle could not be reached" :
				 "the neighbour middle closed before it answered");
		lm_of(w, mate)->state = LM_ENDING;
	} else if (mate && lm_of(w, mate)->state == LM_REPLY) {
		/* the end left while we went onward for it */
		lm_of(w, mate)->mate_gen = 0;
		lm_forget(w, mate, -ECONNABORTED);
		tcp_abort_deferred(w->tcp, mate);
	}
	if (l->state == LM_RELAY) {
		if (err && c->peer)
			lm_forget(w, c->peer, err);
		l4proxy_on_close(w->tcp, c, err);
	}
	lm_forget(w, c, err);
}

static void on_close(struct tcp_stack *s, struct tcp_conn *c, int err)
{
	lm_gone(s->w, c, err);
}

static const struct tcp_app_ops lstp_mid_ops = {
	.on_established = on_established,
	.on_data = on_data,
	.on_writable = on_writable,
	.on_fin = on_fin,
	.on_close = on_close,
	.rcv_space = rcv_space,
};

/* --- from sluice-cp -------------------------------------------------------------- */

static struct tcp_conn *conn_get(struct worker *w, uint32_t slot, uint32_t gen, uint8_t state)
{
	struct tcp_conn *c;

	if (slot >= w->tcp->n_slots)
		return NULL;
	c = tcp_conn_at(w->tcp, slot);
	if (c->v.gen != gen || c->app != &lstp_mid_ops || c->state != TCP_ESTABLISHED ||
	    w->lstp->c[slot].state != state)
		return NULL;
	return c;
}

/* n bytes of m from off, as a new chain for tcp_send (the cp's payload). */
static struct rte_mbuf *take(struct worker *w, struct rte_mbuf *m, uint32_t off, uint32_t n)
{
	struct rte_mbuf *out = NULL;

	while (n) {
		uint32_t k = n < 2048 ? n : 2048;
		const void *src;
		struct rte_mbuf *s = rte_pktmbuf_alloc(w->pool);
		uint8_t *p = s ? (uint8_t *)rte_pktmbuf_append(s, (uint16_t)k) : NULL;

		if (!p) {
			rte_pktmbuf_free(s);
			rte_pktmbuf_free(out);
			return NULL;
		}
		src = rte_pktmbuf_read(m, off, k, p);
		if (!src || (out && rte_pktmbuf_chain(out, s) != 0)) {
			rte_pktmbuf_free(s);
			rte_pktmbuf_free(out);
			return NULL;
		}
		if (src != p)
			memcpy(p, src, k);
		if (!out)
			out = s;
		off += k;
		n -= k;
	}
	return out;
}

/* The early bytes of one leg go to the other, after what sluice-cp sent. */
static void flush_early(struct worker *w, struct lm_conn *l, struct tcp_conn *to)
{
	struct rte_mbuf *m = l->head;

	l->head = l->tail = NULL;
	l->bytes = 0;
	while (m) {
		struct rte_mbuf *next = m->next;

		m->next = NULL;
		tcp_send(w->tcp, to, m);
		m = next;
	}
}

/* A pairing that cannot be completed (the partner left meanwhile, no room
 * to move): the end hears why and dials again; sluice-cp hears of the
 * close. */
static void unpaired(struct worker *w, struct tcp_conn *c)
{
	struct lm_conn *l = lm_of(w, c);

	mbuf_list_free(l->head);
	l->head = l->tail = NULL;
	l->bytes = 0;
	l->state = LM_ENDING;
	send_error(w, c, LSTP_ERR_REFUSED, "the peer could not be joined; dial again");
}

/* Join a and b (both WAIT, on this worker): each gets what sluice-cp sent
 * for it (at off in m), then the other's early bytes, then the relay. */
static void join(struct worker *w, struct tcp_conn *a, struct tcp_conn *b,
		 const struct sl_lstp_pair *p, struct rte_mbuf *m, uint32_t off)
{
	struct rte_mbuf *ma = m ? take(w, m, off, p->a_len) : NULL;
	struct rte_mbuf *mb = m ? take(w, m, off + p->a_len, p->b_len) : NULL;
	struct lm_conn *la = lm_of(w, a), *lb = lm_of(w, b);

	if ((p->a_len && !ma) || (p->b_len && !mb)) {
		rte_pktmbuf_free(ma);
		rte_pktmbuf_free(mb);
		w->st->drops[SL_DROP_NOMBUF]++;
		lst(w)->pair_failed++;
		unpaired(w, a);
		unpaired(w, b);
		return;
	}
	if (ma)
		tcp_send(w->tcp, a, ma);
	if (mb)
		tcp_send(w->tcp, b, mb);
	la->state = LM_RELAY;
	lb->state = LM_RELAY;
	l4proxy_join(w->tcp, a, b);
	flush_early(w, la, b);
	flush_early(w, lb, a);
	/* the windows they may open now are their partners' room */
	tcp_rcv_space_changed(w->tcp, a);
	tcp_rcv_space_changed(w->tcp, b);
	lst(w)->paired++;
}

/* a waits here, its partner on p->b_worker: a goes there (ADOPT). */
static void move(struct worker *w, struct tcp_conn *a, const struct sl_lstp_pair *p,
		 struct rte_mbuf *m, uint32_t off)
{
	struct lstp_mid *lm = w->lstp;
	struct lm_conn *la = lm_of(w, a);
	struct rte_ring *r = w->ho_out[p->b_worker];
	struct lm_tuple t = { .laddr_be = a->laddr_be, .raddr_be = a->raddr_be,
			      .lport = a->lport, .rport = a->rport };
	struct rte_mbuf *cm = NULL, *told = NULL;
	struct lm_ctl *lc;

	/* this worker is the ring's one producer: room now is room then */
	if (rte_ring_free_count(r) == 0 || !(cm = ctl_alloc(w, LM_ADOPT, &lc))) {
		lst(w)->move_failed++;
		unpaired(w, a);
		return;
	}
	lc->p = *p;
	lc->early = la->bytes;
	if (p->a_len + p->b_len) {
		told = take(w, m, off, p->a_len + p->b_len);
		if (!told || rte_pktmbuf_chain(cm, told) != 0) {
			rte_pktmbuf_free(told);
			goto fail;
		}
	}
	if (rte_hash_add_key_data(lm->moved, &t, (void *)(uintptr_t)p->b_worker) < 0)
		goto fail;
	if (tcp_conn_export(w->tcp, a, &lc->x) != 0) {
		rte_hash_del_key(lm->moved, &t);
		goto fail;
	}
	/* its early bytes travel with it; the connection is gone from here */
	for (struct rte_mbuf *e = la->head, *next; e; e = next) {
		next = e->next;
		e->next = NULL;
		if (rte_pktmbuf_chain(cm, e) != 0) { /* beyond 65,535 segments: never */
			lc->early -= e->data_len;
			worker_drop(w, e, SL_DROP_NOMBUF);
		}
	}
	la->head = la->tail = NULL;
	la->bytes = 0;
	if (la->state == LM_SETUP)
		lm->n_setup--;
	la->state = LM_FREE;
	rte_ring_sp_enqueue(r, cm);
	lst(w)->moved_out++;
	return;
fail:
	rte_pktmbuf_free(cm);
	lst(w)->move_failed++;
	unpaired(w, a);
}

static void pair(struct worker *w, const struct sl_tls_msg *h, struct rte_mbuf *m)
{
	struct sl_lstp_pair p;
	struct tcp_conn *a, *b = NULL;
	const void *pp = h->len >= sizeof(p) ? rte_pktmbuf_read(m, sizeof(*h), sizeof(p), &p) : NULL;

	if (!pp)
		return;
	memcpy(&p, pp, sizeof(p)); /* pp points into m when it is contiguous */
	if (h->len != sizeof(p) + p.a_len + p.b_len || p.b_worker >= dp.n_workers)
		return;
	a = conn_get(w, h->slot, h->gen, LM_WAIT);
	if (a && p.b_worker != w->idx) {
		move(w, a, &p, m, sizeof(*h) + sizeof(p));
		return;
	}
	if (a)
		b = conn_get(w, p.b_slot, p.b_gen, LM_WAIT);
	if (!a || !b) {
		/* one of them left meanwhile (its CLOSE is on its way up) */
		lst(w)->pair_failed++;
		if (a)
			unpaired(w, a);
		return;
	}
	join(w, a, b, &p, m, sizeof(*h) + sizeof(p));
}

/* From the hand-off ring: a connection moving here, or a forwarding to end. */
void lstp_mid_ctl(struct worker *w, struct rte_mbuf *m)
{
	struct lstp_mid *lm = w->lstp;
	struct lm_ctl lcb;
	const struct lm_ctl *lc = rte_pktmbuf_read(m, 0, sizeof(lcb), &lcb);
	struct tcp_conn *a, *b;
	struct rte_mbuf *up_m;
	struct sl_lstp_moved *mv;

	if (!lm || !lc) {
		rte_pktmbuf_free(m);
		return;
	}
	if (lc->kind == LM_UNMOVE) {
		rte_hash_del_key(lm->moved, &lc->t);
		rte_pktmbuf_free(m);
		return;
	}
	if (lc->kind != LM_ADOPT) {
		rte_pktmbuf_free(m);
		return;
	}
	memcpy(&lcb, lc, sizeof(lcb));
	a = tcp_conn_import(w->tcp, &lcb.x, &lstp_mid_ops);
	if (!a) {
		/* its segments will find nothing here: RST, and the end dials again */
		lst(w)->move_failed++;
		rte_pktmbuf_free(m);
		return;
	}
	lst(w)->moved_in++;
	*lm_of(w, a) = (struct lm_conn){ .state = LM_WAIT, .adopted = (uint8_t)(lcb.from + 1),
					 .born_ms = w->tcp->now_ms };
	/* the early bytes are the message's tail */
	if (lcb.early) {
		struct rte_mbuf *e = take(w, m, (uint32_t)sizeof(lcb) + lcb.p.a_len + lcb.p.b_len,
					  lcb.early);

		if (e)
			mbuf_q_push(&lm_of(w, a)->head, &lm_of(w, a)->tail, &lm_of(w, a)->bytes, e);
	}
	b = conn_get(w, lcb.p.b_slot, lcb.p.b_gen, LM_WAIT);
	if (!b) {
		lst(w)->pair_failed++;
		unpaired(w, a);
		rte_pktmbuf_free(m);
		return;
	}
	join(w, a, b, &lcb.p, m, (uint32_t)sizeof(lcb));
	rte_pktmbuf_free(m);
	/* sluice-cp learns where the moved end lives now */
	up_m = rte_pktmbuf_alloc(w->pool);
	mv = up_m ? (struct sl_lstp_moved *)rte_pktmbuf_append(up_m, sizeof(*mv)) : NULL;
	if (!mv) {
		rte_pktmbuf_free(up_m);
		w->st->drops[SL_DROP_NOMBUF]++;
		return;
	}
	*mv = (struct sl_lstp_moved){ .pair_id = lcb.p.pair_id, .slot = tcp_conn_idx(w->tcp, a),
				      .gen = a->v.gen };
	up(w, a, SL_TLS_UP_LSTP_MOVED, up_m);
}

static void end(struct worker *w, const struct sl_tls_msg *h, struct rte_mbuf *m)
{
	struct tcp_conn *c;
	struct lm_conn *l;
	struct rte_mbuf *e;

	if (h->slot >= w->tcp->n_slots)
		return;
	c = tcp_conn_at(w->tcp, h->slot);
	l = &w->lstp->c[h->slot];
	if (c->v.gen != h->gen || c->app != &lstp_mid_ops || c->state == TCP_CLOSED ||
	    l->state == LM_FREE)
		return;
	lst(w)->ended++;
	if (h->flags & SL_LSTP_F_RESET) {
		/* the pair's other leg is reset with it (l4proxy_on_close) */
		lm_gone(w, c, -ECONNRESET);
		tcp_abort_deferred(w->tcp, c);
		return;
	}
	e = h->len ? take(w, m, sizeof(*h), h->len) : NULL;
	if (l->state != LM_RELAY)
		lm_reset(w, l); /* from here on it is only closing */
	if (e)
		tcp_send(w->tcp, c, e);
	tcp_shutdown(w->tcp, c);
}

/* --- cascading (seed, Figure 8) ---------------------------------------------------- */

static struct tcp_conn *mate_of(struct worker *w, const struct lm_conn *l)
{
	struct tcp_conn *m;

	if (l->mate >= w->tcp->n_slots)
		return NULL;
	m = tcp_conn_at(w->tcp, l->mate);
	return m->v.gen == l->mate_gen && m->state != TCP_CLOSED ? m : NULL;
}

/* LM_REPLY: the neighbour's answer.  Its two setup messages go to the end
 * with our entry appended to the topology (every hop is listed at both
 * ends), then the two relay; an ERROR goes to the end as it is. */
static void reply_try(struct worker *w, struct tcp_conn *o, struct lm_conn *l)
{
	struct lstp_mid *lm = w->lstp;
	struct tcp_conn *a = mate_of(w, l);
	struct lstp_msg info, topo;
	const char *why;
	uint16_t err;
	size_t u1 = 0, u2 = 0;
	uint32_t n = l->bytes < LM_SETUP_MAX ? l->bytes : LM_SETUP_MAX;
	int rc, k;
	struct rte_mbuf *out;
	uint8_t *p;

	if (!a)
		return; /* lm_gone of the end aborts us */
	mbuf_q_copy(l->head, 0, n, lm->buf);
	rc = lstp_parse(lm->buf, n, &info, &u1, &why, &err);
	if (rc == 0 && info.type == LSTP_ERROR) {
		/* the neighbour refused (expired, full): the end hears it */
		struct rte_mbuf *e = rte_pktmbuf_alloc(w->pool);
		uint8_t *ep = e ? (uint8_t *)rte_pktmbuf_append(e, (uint16_t)u1) : NULL;

		if (ep) {
			memcpy(ep, lm->buf, u1);
		} else {
			rte_pktmbuf_free(e);
			e = NULL;
		}

		l->mate_gen = 0;
		lm_of(w, a)->mate_gen = 0;
		lm_of(w, a)->state = LM_ENDING;
		if (e)
			tcp_send(w->tcp, a, e);
		tcp_shutdown(w->tcp, a);
		mbuf_list_free(l->head);
		l->head = l->tail = NULL;
		l->bytes = 0;
		l->state = LM_ENDING;
		tcp_shutdown(w->tcp, o);
		return;
	}
	if (rc == 0)
		rc = lstp_parse(lm->buf + u1, n - u1, &topo, &u2, &why, &err);
	if (rc == -EAGAIN && l->bytes < LM_SETUP_MAX)
		return;
	if (rc != 0 || info.type != LSTP_COMMON_UNIQUE_INFO || topo.type != LSTP_TOPOLOGY_EXCHANGE ||
	    topo.u.topo.n >= LSTP_MAX_HOPS) {
		lst(w)->malformed++;
		l->mate_gen = 0;
		lm_of(w, a)->mate_gen = 0;
		send_error(w, o, LSTP_ERR_MALFORMED, "not the peer's setup");
		l->state = LM_ENDING;
		lm_of(w, a)->state = LM_ENDING;
		send_error(w, a, LSTP_ERR_REFUSED, "the neighbour middle answered nonsense");
		return;
	}
	/* our entry: role middle, our name, address, port; a fresh nonce */
	{
		const struct sl_lstp_conf *lc = &dp.conf->lstp;
		struct lstp_hop *h = &topo.u.topo.hop[topo.u.topo.n++];
		uint64_t r = rte_rand();

		*h = (struct lstp_hop){ .role = LSTP_ROLE_MIDDLE, .addr = lc->listen, .port = lc->port };
		h->name_len = (uint8_t)strnlen(lc->name, LSTP_MAX_NAME);
		memcpy(h->name, lc->name, h->name_len);
		memcpy(h->nonce, &r, sizeof(h->nonce));
	}
	out = rte_pktmbuf_alloc(w->pool);
	p = out ? (uint8_t *)rte_pktmbuf_append(out, (uint16_t)LM_SETUP_MAX) : NULL;
	if (!p || (k = lstp_encode(&topo, p + u1, LM_SETUP_MAX - u1)) < 0) {
		rte_pktmbuf_free(out);
		w->st->drops[SL_DROP_NOMBUF]++;
		return; /* the window stays shut; the end's hello_timeout is not ours: try later */
	}
	memcpy(p, lm->buf, u1);
	rte_pktmbuf_trim(out, (uint16_t)(LM_SETUP_MAX - u1 - (uint32_t)k));
	mbuf_q_drop(&l->head, &l->tail, &l->bytes, (uint32_t)(u1 + u2));
	tcp_send(w->tcp, a, out);
	/* what the far side sent after its setup is the end's already */
	{
		struct sl_lstp_pair none = { 0 };
		struct rte_mbuf *rest = l->head;
		uint32_t pair_id = l->pair_id;
		struct sl_lstp_moved *mv;
		struct rte_mbuf *up_m;

		l->head = l->tail = NULL;
		l->bytes = 0;
		l->state = LM_WAIT;
		l->mate_gen = 0;
		lm_of(w, a)->mate_gen = 0;
		join(w, a, o, &none, NULL, 0);
		while (rest) {
			struct rte_mbuf *next = rest->next;

			rest->next = NULL;
			tcp_send(w->tcp, a, rest);
			rest = next;
		}
		lst(w)->onward_up++;
		up_m = rte_pktmbuf_alloc(w->pool);
		mv = up_m ? (struct sl_lstp_moved *)rte_pktmbuf_append(up_m, sizeof(*mv)) : NULL;
		if (!mv) {
			rte_pktmbuf_free(up_m);
			w->st->drops[SL_DROP_NOMBUF]++;
			return;
		}
		*mv = (struct sl_lstp_moved){ .pair_id = pair_id, .slot = tcp_conn_idx(w->tcp, o),
					      .gen = o->v.gen };
		up(w, o, SL_TLS_UP_LSTP_ONWARD, up_m);
	}
}

/* sluice-cp: this waiting end goes onward (lstp.neighbour). */
static void onward(struct worker *w, const struct sl_tls_msg *h, struct rte_mbuf *m)
{
	struct sl_lstp_onward ow;
	const void *op = h->len >= sizeof(ow) ? rte_pktmbuf_read(m, sizeof(*h), sizeof(ow), &ow) : NULL;
	struct tcp_conn *a, *o;
	struct rte_mbuf *bytes;
	uint32_t src_be;
	uint16_t port;
	int err;

	if (!op)
		return;
	memcpy(&ow, op, sizeof(ow));
	if (h->len != sizeof(ow) + ow.len || !(a = conn_get(w, h->slot, h->gen, LM_WAIT)))
		return; /* gone meanwhile: its CLOSE frees the pair */
	bytes = take(w, m, sizeof(*h) + sizeof(ow), ow.len);
	if (!bytes || ipv4_src_for(w, ow.addr, &src_be, &port) != 0 ||
	    !(o = tcp_connect(w->tcp, src_be, 0, rte_cpu_to_be_32(ow.addr), ow.port, &lstp_mid_ops,
			      &err))) {
		rte_pktmbuf_free(bytes);
		lst(w)->onward_failed++;
		lm_of(w, a)->state = LM_ENDING;
		send_error(w, a, LSTP_ERR_REFUSED, "the neighbour middle could not be reached");
		return;
	}
	o->v.port = port;
	*lm_of(w, o) = (struct lm_conn){ .state = LM_REPLY, .born_ms = w->tcp->now_ms,
					 .mate = h->slot, .mate_gen = h->gen, .pair_id = ow.pair_id };
	lm_of(w, a)->mate = tcp_conn_idx(w->tcp, o);
	lm_of(w, a)->mate_gen = o->v.gen;
	tcp_send(w->tcp, o, bytes); /* goes out once connected */
	lst(w)->onward++;
}

void lstp_mid_dn(struct worker *w, struct rte_mbuf *m)
{
	const struct sl_tls_msg *h = rte_pktmbuf_mtod(m, const struct sl_tls_msg *);

	if (w->lstp && h->type == SL_TLS_DN_LSTP_PAIR)
		pair(w, h, m);
	else if (w->lstp && h->type == SL_TLS_DN_LSTP_END)
		end(w, h, m);
	else if (w->lstp && h->type == SL_TLS_DN_LSTP_ONWARD)
		onward(w, h, m);
	rte_pktmbuf_free(m);
}

void lstp_mid_tick(struct worker *w)
{
	struct lstp_mid *lm = w->lstp;
	uint32_t now = w->tcp->now_ms;

	if (!lm || !lm->n_setup || now - lm->last_tick_ms < LM_TICK_MS)
		return;
	lm->last_tick_ms = now;
	for (uint32_t i = 0; i < w->tcp->n_slots && lm->n_setup; i++) {
		struct lm_conn *l = &lm->c[i];

		if (l->state == LM_SETUP && now - l->born_ms >= lm->hello_ms) {
			struct tcp_conn *c = tcp_conn_at(w->tcp, i);

			lst(w)->hello_timeouts++;
			lm_reset(w, l);
			send_error(w, c, LSTP_ERR_EXPIRED, "no setup within hello_timeout_ms");
		}
	}
}

int lstp_mid_init(struct worker *w)
{
	const struct sl_lstp_conf *lc = &dp.conf->lstp;
	int socket = (int)rte_lcore_to_socket_id(w->lcore_id);
	struct lstp_mid *lm;
	int rc;

	if (!lc->enabled)
		return 0;
	lm = rte_zmalloc_socket("sl_lstp", sizeof(*lm), RTE_CACHE_LINE_SIZE, socket);
	if (!lm)
		return -ENOMEM;
	lm->c = rte_zmalloc_socket("sl_lstp_c", w->tcp->n_slots * sizeof(*lm->c), RTE_CACHE_LINE_SIZE,
				   socket);
	if (!lm->c)
		return -ENOMEM;
	lm->hello_ms = lc->hello_ms;
	if (dp.n_workers > 1) {
		char name[RTE_HASH_NAMESIZE];
		struct rte_hash_parameters hp = {
			.name = name, .entries = lc->max_pairs, .key_len = sizeof(struct lm_tuple),
			.socket_id = socket, .extra_flag = RTE_HASH_EXTRA_FLAGS_EXT_TABLE,
		};

		snprintf(name, sizeof(name), "sl_lstp_mv%u", w->idx);
		lm->moved = rte_hash_create(&hp);
		if (!lm->moved)
			return -ENOMEM;
		w->tcp->miss = lm_miss;
	}
	lm->listen_rule = (struct sl_rule){ .action = SL_RA_LSTP };
	tcp_listen(w->tcp, SL_RA_LSTP, &lstp_mid_ops);
	rc = tcp_listen_local(w->tcp, rte_cpu_to_be_32(lc->listen), lc->port, &lm->listen_rule);
	if (rc != 0)
		return rc;
	w->lstp = lm;
	return 0;
}
