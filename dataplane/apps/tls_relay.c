/*
 * S1 TLS offload relay on the worker.
 *
 * Client leg (the appliance answers as the server): while the handshake
 * runs, every byte the client sends goes to sluice-cp and every byte it
 * sends back goes to the client.  Then sluice-cp hands over the record
 * state (SL_TLS_DN_KEYS) and the worker opens records itself: in place, in
 * the mbufs they arrived in (a record split between two mbufs of one
 * segment costs an indirect clone, never a copy), and relays the plaintext
 * to the application's plain port over a server leg.  The server's replies
 * are sealed in place too: the record header goes into the first mbuf's
 * headroom, the tag into the last one's tailroom, and the segments of one
 * receive burst become one record of up to 16 KB (RFC 8446 5.1), which TCP
 * then cuts into full-sized segments.
 *
 * Reverse mode (rule action tls-originate): the same with the roles turned
 * round -- the client speaks plaintext to the plain port, the TLS side is
 * the server leg to the secure port, sluice-cp runs a client handshake on
 * it (verifying the server against the application's CA), and what the
 * client sent meanwhile waits to be sealed.
 *
 * S5 passthrough: before anything goes to sluice-cp, the ClientHello's
 * server name is read (apps/tls_hello.c).  A name in the application's
 * e2e_hosts, or a live tunnel for this (client, server) pair with the same
 * name, turns the connection into a plain relay to the secure port (the
 * client handshakes with the real server); a pair is also learned when the
 * backend marks a response (`Sluice-E2E: required`): that client gets
 * 503 + Retry-After: 0 and its retry goes through.  Another name ends the
 * tunnel.
 *
 * Alerts and KeyUpdate (RFC 8446 4.6.3) are handled here: close_notify
 * half-closes the server leg, a fatal alert or a record that does not open
 * (bad_record_mac, RFC 8446 5.2) ends both legs.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_memzone.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <sluice/tls_msg.h>

#include "agent/agent_dp.h"
#include "agent/udp_da.h"
#include "apps/l4proxy.h"
#include "apps/lstp_mid.h"
#include "apps/tls_hello.h"
#include "apps/tls_rec_parse.h"
#include "apps/tls_relay.h"
#include "apps/tunnel.h"
#include "tls_record.h"
#include "ip/ipv4_input.h"
#include "mbuf_q.h"
#include "tcp/tcp_conn.h"
#include "worker.h"

#define SEGS_MAX 64
#define DN_BURST 32
/* A handshake not done by then ends (a slow or silent client must not hold
 * a session and a connection until the idle timeout). */
#define HANDSHAKE_MS 10000
/* DGRAM sessions (issue 10) a worker can carry, and how often their queues
 * are aged */
#define DG_MAX 256
#define DG_SCAN_MS 20
#define DG_FRAME_MAX (4 + 65535)

/* TS_CP: an agent's control session, whose TLS stays in sluice-cp: bytes
 * are relayed both ways as during a handshake, without its deadline. */
enum { TS_FREE = 0, TS_HANDSHAKE, TS_RECORD, TS_CP };

struct tls_sess {
	uint32_t conn;          /* client leg slot */
	uint16_t app;
	uint8_t state;
	uint8_t pending;        /* on the seal list */
	uint8_t sent_close;     /* our close_notify went out */
	uint8_t gcm12;          /* TLS 1.2 GCM: explicit nonce in every record */
	uint8_t originate;      /* the TLS side is our server leg (reverse mode) */
	uint32_t started_ms;    /* handshake deadline (HANDSHAKE_MS) */
	uint8_t hello_done;     /* the ClientHello was looked at (S5) */
	uint8_t resp_checked;   /* the backend's first response was looked at (S5) */
	uint8_t learned;        /* S5 learned case: the rest of the backend's reply is dropped */
	uint8_t agent;          /* a session of the agents' listener (S4) */
	uint8_t stream;         /* ... a STREAM session: bound to a client leg by a verdict */
	uint8_t got_close;      /* the peer's close_notify arrived */
	uint16_t dg;            /* an agent's DGRAM session: its dg_state + 1, else 0 */
	char sni[SL_TUN_SNI_LEN];
	uint16_t version;
	struct rte_mbuf *rx_head, *rx_tail; /* ciphertext, one segment per mbuf */
	uint32_t rx_bytes;
	struct rte_mbuf *tx_head, *tx_tail; /* plaintext waiting to be sealed */
	uint32_t tx_bytes;
	struct tls_rec rx, tx;
};

/* An agent's DGRAM session (an SA, issue 10): the frames its records carry
 * are assembled here; client datagrams beyond the agent's credit wait in a
 * bounded ring, and those older than dgram_max_age_ms are dropped. */
struct dg_state {
	uint32_t conn;          /* the session's connection slot; UINT32_MAX: free */
	uint32_t credit;        /* DATA frames the agent still accepts */
	uint32_t q_head, q_n;
	struct rte_mbuf *rx_head, *rx_tail; /* plaintext: frames being assembled */
	uint32_t rx_bytes;
	struct rte_mbuf **q;    /* [dg_qmax] frames waiting for credit */
	uint32_t *born;         /* [dg_qmax] their enqueue time (ms) */
};

struct tls_relay {
	struct tls_sess *sess;
	uint32_t n_sess, n_free;
	uint32_t *free;
	uint32_t *pending;
	uint32_t n_pending;
	struct rte_ring *up, *dn;
	struct aead_thread aead;
	struct sl_tunnel_zone *tun;
	struct sl_tunnel_zone *tun_all[SL_MAX_WORKERS]; /* every worker's, [w->idx] = tun */
	uint32_t tun_last_ms;
	struct dg_state *dg;    /* [DG_MAX], when the agents section exists */
	uint32_t dg_used, dg_qmax, dg_age_ms, dg_scan_ms;
	uint8_t *dg_buf;        /* one frame, linearized for udp_da_frame */
};

/* S5 learned case: the backend asks for end-to-end TLS with this header
 * in its response; the client is told to retry (RFC 9110 15.6.4, 10.2.3) */
static const char E2E_MARKER[] = "sluice-e2e";
static const char E2E_MARKER_VALUE[] = "required";
static const char RESP_503[] = "HTTP/1.1 503 Service Unavailable\r\n"
			       "Connection: close\r\n"
			       "Retry-After: 0\r\n"
			       "Content-Length: 0\r\n\r\n";

/* The TLS side of a pair: the client leg (terminate) or the server leg
 * (originate); the plain side: the other one.  The session hangs off the
 * TLS side's app_slot. */
static const struct tcp_app_ops tls_client_ops;
static const struct tcp_app_ops tls_origin_ops;
static const struct tcp_app_ops tls_server_ops;

static int is_tls_side(const struct tcp_conn *c)
{
	return c->app == &tls_client_ops || c->app == &tls_origin_ops;
}


static struct tls_sess *sess_of(struct worker *w, const struct tcp_conn *c)
{
	return &w->tls->sess[c->app_slot];
}

/* --- mbuf queues: single segments linked through m->next ------------------ */

static void q_free(struct rte_mbuf **head, struct rte_mbuf **tail, uint32_t *bytes)
{
	mbuf_list_free(*head);
	*head = *tail = NULL;
	*bytes = 0;
}

/* Make `m`, a list of single segments, one chain for tcp_send(). */
static struct rte_mbuf *q_chain(struct rte_mbuf *m)
{
	uint32_t len = 0;
	uint16_t n = 0;

	for (struct rte_mbuf *x = m; x; x = x->next) {
		len += x->data_len;
		n++;
	}
	if (m) {
		m->pkt_len = len;
		m->nb_segs = n;
	}
	return m;
}

/* --- sessions --------------------------------------------------------------- */

static struct tls_sess *sess_alloc(struct worker *w, struct tcp_conn *c)
{
	struct tls_relay *tr = w->tls;
	struct tls_sess *x;

	if (tr->n_free == 0)
		return NULL;
	c->app_slot = tr->free[--tr->n_free];
	x = &tr->sess[c->app_slot];
	memset(x, 0, offsetof(struct tls_sess, rx));
	x->conn = tcp_conn_idx(w->tcp, c);
	x->app = c->app_id;
	x->state = TS_HANDSHAKE;
	x->started_ms = w->tcp->now_ms;
	if (dp.shm->apps.a[x->app].mode == SL_APP_AGENTS) {
		/* no ClientHello routing (S5), no backend response marker */
		x->agent = 1;
		x->hello_done = 1;
		x->resp_checked = 1;
	}
	return x;
}

static void dg_release(struct worker *w, struct tls_sess *x)
{
	struct dg_state *g = &w->tls->dg[x->dg - 1];

	while (g->q_n) {
		worker_drop(w, g->q[g->q_head], SL_DROP_DGRAM_CLOSED);
		g->q_head = (g->q_head + 1) % w->tls->dg_qmax;
		g->q_n--;
	}
	q_free(&g->rx_head, &g->rx_tail, &g->rx_bytes);
	g->conn = UINT32_MAX;
	g->credit = 0;
	g->q_head = 0;
	w->tls->dg_used--;
	x->dg = 0;
}

static void sess_free(struct worker *w, struct tcp_conn *c)
{
	struct tls_relay *tr = w->tls;
	struct tls_sess *x = sess_of(w, c);

	if (x->state == TS_FREE)
		return;
	q_free(&x->rx_head, &x->rx_tail, &x->rx_bytes);
	q_free(&x->tx_head, &x->tx_tail, &x->tx_bytes);
	if (x->dg)
		dg_release(w, x);
	if (x->state == TS_RECORD) {
		tls_rec_wipe(&x->rx);
		tls_rec_wipe(&x->tx);
	}
	x->state = TS_FREE;
	tr->free[tr->n_free++] = c->app_slot;
}

int tls_relay_up(struct worker *w, uint16_t type, uint16_t app, uint32_t slot, uint32_t gen,
		 struct rte_mbuf *m)
{
	uint32_t len = m ? m->pkt_len : 0;
	struct sl_tls_msg *h;

	if (!m) {
		m = rte_pktmbuf_alloc(w->pool);
		if (!m) {
			w->st->drops[SL_DROP_NOMBUF]++;
			return -ENOBUFS;
		}
	}
	/* the header goes into the headroom, or into an mbuf of its own */
	h = (struct sl_tls_msg *)rte_pktmbuf_prepend(m, sizeof(*h));
	if (!h) {
		struct rte_mbuf *hm = rte_pktmbuf_alloc(w->pool);

		if (!hm) {
			rte_pktmbuf_free(m);
			w->st->drops[SL_DROP_NOMBUF]++;
			return -ENOBUFS;
		}
		h = (struct sl_tls_msg *)rte_pktmbuf_append(hm, sizeof(*h));
		if (rte_pktmbuf_chain(hm, m) != 0) {
			rte_pktmbuf_free(hm);
			rte_pktmbuf_free(m);
			return -ENOBUFS;
		}
		m = hm;
	}
	*h = (struct sl_tls_msg){
		.version = SL_TLS_MSG_VERSION,
		.type = type,
		.app = app,
		.worker = (uint16_t)w->idx,
		.slot = slot,
		.gen = gen,
		.len = len,
	};
	if (rte_ring_sp_enqueue(w->tls->up, m) != 0) {
		worker_drop(w, m, SL_DROP_TLS_CP_FULL);
		return -ENOBUFS;
	}
	return 0;
}

/* A message about connection c (NULL m: no payload). */
static int up_send(struct worker *w, const struct tcp_conn *c, uint16_t type, struct rte_mbuf *m)
{
	return tls_relay_up(w, type, c->app_id, tcp_conn_idx(w->tcp, c), c->v.gen, m);
}

/* --- sealing (appliance -> client) --------------------------------------- */

/* One record of `type` from the first segments of `*q` (at most
 * TLS_PLAIN_MAX bytes of them, whole segments), queued on the client leg. */
static int seal_one(struct worker *w, struct tcp_conn *c, struct tls_sess *x,
		    struct rte_mbuf **qh, struct rte_mbuf **qt, uint32_t *qb, uint8_t type)
{
	unsigned int hdr_len = TLS_HDR_LEN + (x->gcm12 ? TLS12_EXPLICIT_NONCE : 0);
	unsigned int tail_len = AEAD_TAG_LEN + (x->version == 0x0304);
	struct aead_seg seg[SEGS_MAX + 1];
	struct rte_mbuf *first = *qh, *last = NULL, *m, *hm = NULL, *tm = NULL;
	uint8_t *hdr, *tail;
	unsigned int n = 0;
	uint32_t plen = 0;
	int rc;

	/* whole segments up to 2^14 plaintext bytes */
	for (m = first; m && n < SEGS_MAX; m = m->next) {
		if (plen + m->data_len + (x->version == 0x0304) > TLS_PLAIN_MAX && n)
			break;
		seg[n].p = rte_pktmbuf_mtod(m, uint8_t *);
		seg[n].len = m->data_len;
		plen += m->data_len;
		n++;
		last = m;
	}
	/* detach them from the queue */
	*qh = last->next;
	if (!*qh)
		*qt = NULL;
	last->next = NULL;
	*qb -= plen;

	if (rte_pktmbuf_headroom(first) >= hdr_len && RTE_MBUF_DIRECT(first) &&
	    rte_mbuf_refcnt_read(first) == 1) {
		hdr = (uint8_t *)rte_pktmbuf_prepend(first, (uint16_t)hdr_len);
	} else {
		hm = rte_pktmbuf_alloc(w->pool);
		if (!hm)
			goto nomem;
		hdr = (uint8_t *)rte_pktmbuf_append(hm, (uint16_t)hdr_len);
	}
	if (rte_pktmbuf_tailroom(last) >= tail_len && RTE_MBUF_DIRECT(last) &&
	    rte_mbuf_refcnt_read(last) == 1) {
		tail = (uint8_t *)rte_pktmbuf_append(last, (uint16_t)tail_len);
	} else {
		tm = rte_pktmbuf_alloc(w->pool);
		if (!tm)
			goto nomem;
		tail = (uint8_t *)rte_pktmbuf_append(tm, (uint16_t)tail_len);
		last->next = tm;
	}
	if (x->version == 0x0304) {
		/* RFC 8446 5.2: the real content type ends the plaintext */
		tail[0] = type;
		if (tm) {
			seg[n].p = tail;
			seg[n].len = 1;
			n++;
		} else {
			seg[n - 1].len++;
		}
		plen++;
		rc = tls_rec_seal(&x->tx, &w->tls->aead, TLS_CT_APP, hdr, seg, n, plen, tail + 1);
	} else {
		rc = tls_rec_seal(&x->tx, &w->tls->aead, type, hdr, seg, n, plen, tail);
	}
	if (rc < 0)
		goto nomem;
	if (hm) {
		hm->next = first;
		first = hm;
	}
	w->st->app[x->app].records_out++;
	tcp_send(w->tcp, c, first);
	return 0;
nomem:
	w->st->drops[SL_DROP_NOMBUF]++;
	if (hm)
		rte_pktmbuf_free(hm);
	mbuf_list_free(first);
	return -ENOBUFS;
}

static void seal_flush(struct worker *w, struct tcp_conn *c, struct tls_sess *x)
{
	while (x->tx_head)
		if (seal_one(w, c, x, &x->tx_head, &x->tx_tail, &x->tx_bytes, TLS_CT_APP) != 0)
			break;
}

/* A short control record (alert, KeyUpdate) from bytes. */
static int seal_bytes(struct worker *w, struct tcp_conn *c, struct tls_sess *x, uint8_t type,
		      const uint8_t *p, unsigned int len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(w->pool), *t;
	uint32_t b = len;

	if (!m)
		return -ENOBUFS;
	memcpy(rte_pktmbuf_append(m, (uint16_t)len), p, len);
	t = m;
	return seal_one(w, c, x, &m, &t, &b, type);
}

static void send_alert(struct worker *w, struct tcp_conn *c, struct tls_sess *x, uint8_t desc)
{
	uint8_t a[2] = { desc == TLS_ALERT_CLOSE_NOTIFY ? 1 : 2, desc };

	if (x->state != TS_RECORD || x->sent_close)
		return;
	seal_flush(w, c, x);
	seal_bytes(w, c, x, TLS_CT_ALERT, a, sizeof(a));
	x->sent_close = 1;
}

/* Something is wrong with the client's records: alert, then end both legs. */
static void fatal(struct worker *w, struct tcp_conn *c, struct tls_sess *x, uint8_t desc,
		  unsigned int reason)
{
	w->st->drops[reason]++;
	w->st->app[x->app].errors++;
	send_alert(w, c, x, desc);
	q_free(&x->rx_head, &x->rx_tail, &x->rx_bytes);
	tcp_abort_deferred(w->tcp, c);
}

/* --- opening (client -> appliance) ------------------------------------------ */

/* Take exactly `total` bytes off the front of the receive queue; a segment
 * holding the start of the next record too is split by an indirect clone. */
static struct rte_mbuf *rx_take(struct worker *w, struct tls_sess *x, uint32_t total)
{
	struct rte_mbuf *head = x->rx_head, *m = head, *prev = NULL;
	uint32_t got = 0;

	while (got + m->data_len <= total) {
		got += m->data_len;
		prev = m;
		m = m->next;
		if (got == total)
			break;
	}
	if (got < total) {
		uint32_t keep = total - got;
		struct rte_mbuf *next = m->next, *rest;

		m->next = NULL;
		rest = rte_pktmbuf_clone(m, w->pool);
		if (!rest) {
			m->next = next;
			return NULL;
		}
		rte_pktmbuf_adj(rest, (uint16_t)keep);
		rte_pktmbuf_trim(m, (uint16_t)(m->data_len - keep));
		rest->next = next;
		if (x->rx_tail == m)
			x->rx_tail = rest;
		x->rx_head = rest;
	} else {
		x->rx_head = m;
		if (!m)
			x->rx_tail = NULL;
		prev->next = NULL;
	}
	x->rx_bytes -= total;
	return head;
}

/* Keep [lo, hi) of the record's segments; free the rest. */
static struct rte_mbuf *rec_cut(struct rte_mbuf *m, uint32_t lo, uint32_t hi)
{
	struct rte_mbuf *out = NULL, *tail = NULL;
	uint32_t pos = 0;

	while (m) {
		struct rte_mbuf *next = m->next;
		uint32_t a = pos, b = pos + m->data_len;
		uint32_t s = a > lo ? a : lo, e = b < hi ? b : hi;

		pos = b;
		m->next = NULL;
		if (s >= e) {
			rte_pktmbuf_free_seg(m);
		} else {
			m->data_off = (uint16_t)(m->data_off + (s - a));
			m->data_len = (uint16_t)(e - s);
			m->pkt_len = m->data_len;
			if (tail)
				tail->next = m;
			else
				out = m;
			tail = m;
		}
		m = next;
	}
	return out;
}

/* A record the worker does not handle goes to sluice-cp (its content type
 * first), which reports it; the caller then ends the connection. */
static void escalate(struct worker *w, struct tcp_conn *c, uint8_t inner, struct rte_mbuf *m)
{
	struct rte_mbuf *t = rte_pktmbuf_alloc(w->pool);

	if (!t) {
		mbuf_list_free(m);
		w->st->drops[SL_DROP_NOMBUF]++;
		return;
	}
	*(uint8_t *)rte_pktmbuf_append(t, 1) = inner;
	t->next = m;
	up_send(w, c, SL_TLS_UP_RECORD, q_chain(t));
}

/* RFC 8446 4.6.3.  0, or -EBADMSG with *alert to send. */
static int key_update(struct worker *w, struct tcp_conn *c, struct tls_sess *x,
		      const uint8_t *msg, uint32_t len, uint8_t *alert)
{
	static const uint8_t ku[5] = { TLS_HS_KEY_UPDATE, 0, 0, 1, 0 };
	int req = tls13_key_update_parse(msg, len);

	if (req < 0) {
		*alert = req == -EINVAL ? TLS_ALERT_ILLEGAL_PARAMETER : TLS_ALERT_DECODE_ERROR;
		return -EBADMSG;
	}
	*alert = TLS_ALERT_INTERNAL_ERROR;
	if (tls13_rec_key_update(&x->rx, (enum aead_engine_id)x->rx.key.eng) != 0)
		return -EBADMSG;
	if (req == 1) {
		/* update_requested: answer under the old key, then switch */
		seal_flush(w, c, x);
		if (seal_bytes(w, c, x, TLS_CT_HANDSHAKE, ku, sizeof(ku)) != 0 ||
		    tls13_rec_key_update(&x->tx, (enum aead_engine_id)x->tx.key.eng) != 0)
			return -EBADMSG;
	}
	return 0;
}

/* A record that is not application data (tls_ctl_classify).  0 to go on
 * with the next record, -1 when the connection was ended. */
static int rx_control(struct worker *w, struct tcp_conn *c, struct tls_sess *x, uint8_t inner,
		      struct rte_mbuf *m, uint32_t content)
{
	uint8_t msg[16], alert = TLS_ALERT_UNEXPECTED_MESSAGE;

	mbuf_q_copy(m, 0, content < sizeof(msg) ? content : sizeof(msg), msg);
	switch (tls_ctl_classify(inner, msg, content, x->version, x->originate)) {
	case TLS_CTL_CLOSE_NOTIFY:
		/* the client will send no more: tell the server */
		mbuf_list_free(m);
		x->got_close = 1;
		if (c->peer)
			tcp_shutdown(w->tcp, c->peer);
		return 0;
	case TLS_CTL_TICKET:
		mbuf_list_free(m); /* a server's ticket: we do not resume */
		return 0;
	case TLS_CTL_KEY_UPDATE:
		mbuf_list_free(m);
		if (key_update(w, c, x, msg, content, &alert) == 0)
			return 0;
		break;
	case TLS_CTL_PEER_ALERT:
		/* a fatal alert from the client: sluice-cp logs it, both legs end */
		escalate(w, c, inner, m);
		w->st->app[x->app].errors++;
		q_free(&x->rx_head, &x->rx_tail, &x->rx_bytes);
		x->sent_close = 1;
		tcp_abort_deferred(w->tcp, c);
		return -1;
	case TLS_CTL_MALFORMED:
		alert = TLS_ALERT_DECODE_ERROR;
		/* fallthrough */
	case TLS_CTL_OTHER:
		escalate(w, c, inner, m); /* DESIGN.md 5: to sluice-cp */
		break;
	}
	fatal(w, c, x, alert, SL_DROP_TLS_RECORD);
	return -1;
}

/* --- DGRAM sessions (issue 10) ---------------------------------------------- */

static void pend(struct worker *w, struct tls_sess *x, uint32_t idx);


/* Frames waiting for credit: the aged ones dropped, then as many sent as
 * the agent allows. */
static void dg_drain(struct worker *w, struct tcp_conn *c, struct tls_sess *x)
{
	struct tls_relay *tr = w->tls;
	struct dg_state *g = &tr->dg[x->dg - 1];
	uint32_t now = w->tcp->now_ms;
	int sent = 0;

	while (g->q_n) {
		struct rte_mbuf *f = g->q[g->q_head];

		if (now - g->born[g->q_head] > tr->dg_age_ms) {
			worker_drop(w, f, SL_DROP_DGRAM_AGED);
		} else if (g->credit) {
			g->credit--;
			mbuf_q_push(&x->tx_head, &x->tx_tail, &x->tx_bytes, f);
			sent = 1;
		} else {
			break;
		}
		g->q_head = (g->q_head + 1) % tr->dg_qmax;
		g->q_n--;
	}
	if (sent)
		pend(w, x, c->app_slot);
}

/* Plaintext of a DGRAM session: whole frames to udp_da_frame.  0, or -1
 * when the session was reset for a malformed frame. */
static int dg_rx(struct worker *w, struct tcp_conn *c, struct tls_sess *x, struct rte_mbuf *m)
{
	struct tls_relay *tr = w->tls;
	struct dg_state *g = &tr->dg[x->dg - 1];
	uint32_t credit0 = g->credit;

	mbuf_q_push(&g->rx_head, &g->rx_tail, &g->rx_bytes, m);
	while (g->rx_bytes >= 4) {
		uint8_t h[4];
		uint32_t need;

		mbuf_q_copy(g->rx_head, 0, 4, h);
		need = 4u + ((uint32_t)h[2] << 8 | h[3]);
		if (g->rx_bytes < need)
			break;
		mbuf_q_copy(g->rx_head, 0, need, tr->dg_buf);
		mbuf_q_drop(&g->rx_head, &g->rx_tail, &g->rx_bytes, need);
		if (udp_da_frame(w, x->conn, tr->dg_buf, need, &g->credit) != 0) {
			/* docs/agent-protocol.md: a malformed frame resets the
			 * session; its DAs end with it */
			w->st->app[x->app].errors++;
			tcp_abort_deferred(w->tcp, c);
			return -1;
		}
	}
	if (g->credit != credit0 && g->q_n)
		dg_drain(w, c, x);
	return 0;
}

struct tcp_conn *tls_relay_dgram_get(struct worker *w, uint32_t slot, uint32_t gen)
{
	struct tcp_conn *c;
	struct tls_sess *x;

	if (slot >= w->tcp->n_slots)
		return NULL;
	c = tcp_conn_at(w->tcp, slot);
	if (c->v.gen != gen || c->app != &tls_client_ops || c->state != TCP_ESTABLISHED)
		return NULL;
	x = sess_of(w, c);
	if (x->state != TS_RECORD || !x->dg || x->got_close)
		return NULL;
	return c;
}

int tls_relay_dgram_send(struct worker *w, struct tcp_conn *c, struct rte_mbuf *f)
{
	struct tls_relay *tr = w->tls;
	struct tls_sess *x = sess_of(w, c);
	struct dg_state *g = &tr->dg[x->dg - 1];

	if (g->credit && !g->q_n) {
		g->credit--;
		mbuf_q_push(&x->tx_head, &x->tx_tail, &x->tx_bytes, f);
		pend(w, x, c->app_slot);
		return 0;
	}
	if (g->q_n == tr->dg_qmax) {
		worker_drop(w, f, SL_DROP_DGRAM_QUEUE_FULL);
		return -ENOBUFS;
	}
	g->q[(g->q_head + g->q_n) % tr->dg_qmax] = f;
	g->born[(g->q_head + g->q_n) % tr->dg_qmax] = w->tcp->now_ms;
	g->q_n++;
	w->st->agent.dgram_queued++;
	return 0;
}

/* Every DG_SCAN_MS: queues that wait for a credit that does not come age. */
static void dg_scan(struct worker *w)
{
	struct tls_relay *tr = w->tls;

	for (uint32_t i = 0; i < DG_MAX; i++) {
		struct dg_state *g = &tr->dg[i];

		if (g->conn != UINT32_MAX && g->q_n) {
			struct tcp_conn *c = tcp_conn_at(w->tcp, g->conn);

			dg_drain(w, c, sess_of(w, c));
		}
	}
}

static int dg_alloc(struct worker *w, struct tls_sess *x)
{
	struct tls_relay *tr = w->tls;

	if (!tr->dg)
		return -ENOTSUP;
	for (uint32_t i = 0; i < DG_MAX; i++)
		if (tr->dg[i].conn == UINT32_MAX) {
			tr->dg[i].conn = x->conn;
			tr->dg_used++;
			x->dg = (uint16_t)(i + 1);
			return 0;
		}
	return -ENOSPC;
}

static void rx_process(struct worker *w, struct tcp_conn *c, struct tls_sess *x)
{
	unsigned int hdr_len = TLS_HDR_LEN + (x->gcm12 ? TLS12_EXPLICIT_NONCE : 0);

	while (x->state == TS_RECORD && x->rx_bytes >= TLS_HDR_LEN) {
		uint8_t hdr[TLS_HDR_LEN + TLS12_EXPLICIT_NONCE], tag[AEAD_TAG_LEN], inner, alert;
		struct aead_seg seg[SEGS_MAX];
		struct rte_mbuf *rec, *m;
		uint32_t total, clen, pos, content;
		unsigned int n = 0;

		mbuf_q_copy(x->rx_head, 0, TLS_HDR_LEN, hdr);
		if (tls_rx_hdr(hdr, x->version, hdr_len, &total, &alert) != 0) {
			fatal(w, c, x, alert, SL_DROP_TLS_RECORD);
			return;
		}
		if (x->rx_bytes < total)
			return; /* the rest of the record is on its way */
		mbuf_q_copy(x->rx_head, 0, hdr_len, hdr);
		mbuf_q_copy(x->rx_head, total - AEAD_TAG_LEN, AEAD_TAG_LEN, tag);
		rec = rx_take(w, x, total);
		if (!rec) {
			fatal(w, c, x, TLS_ALERT_INTERNAL_ERROR, SL_DROP_NOMBUF);
			return;
		}
		clen = total - hdr_len - AEAD_TAG_LEN;
		/* the ciphertext, in place */
		for (m = rec, pos = 0; m && n < SEGS_MAX; pos += m->data_len, m = m->next) {
			uint32_t a = pos, b = pos + m->data_len;
			uint32_t s = a > hdr_len ? a : hdr_len, e = b < hdr_len + clen ? b : hdr_len + clen;

			if (s < e) {
				seg[n].p = rte_pktmbuf_mtod_offset(m, uint8_t *, s - a);
				seg[n].len = e - s;
				n++;
			}
		}
		if (m && pos < hdr_len + clen) {
			mbuf_list_free(rec);
			fatal(w, c, x, TLS_ALERT_RECORD_OVERFLOW, SL_DROP_TLS_RECORD);
			return;
		}
		if (tls_rec_open(&x->rx, &w->tls->aead, hdr, seg, n, clen, tag) != 0) {
			mbuf_list_free(rec);
			fatal(w, c, x, TLS_ALERT_BAD_RECORD_MAC, SL_DROP_TLS_RECORD);
			return;
		}
		w->st->app[x->app].records_in++;
		content = clen;
		inner = hdr[0];
		if (x->version == 0x0304 && !(inner = tls13_inner_type(seg, n, &content))) {
			mbuf_list_free(rec);
			fatal(w, c, x, TLS_ALERT_UNEXPECTED_MESSAGE, SL_DROP_TLS_RECORD);
			return;
		}
		m = rec_cut(rec, hdr_len, hdr_len + content);
		if (inner != TLS_CT_APP) {
			if (rx_control(w, c, x, inner, m, content) != 0)
				return;
			continue;
		}
		if (m && x->dg) {
			w->st->app[x->app].bytes_in += content;
			if (dg_rx(w, c, x, m) != 0)
				return;
		} else if (m) {
			w->st->app[x->app].bytes_in += content;
			if (c->peer)
				tcp_send(w->tcp, c->peer, m);
			else
				mbuf_list_free(m);
		}
	}
}

/* --- the server leg: plaintext in, records out ------------------------------- */

static void pend(struct worker *w, struct tls_sess *x, uint32_t idx)
{
	if (!x->pending && w->tls->n_pending < w->tls->n_sess) {
		x->pending = 1;
		w->tls->pending[w->tls->n_pending++] = idx;
	}
}

/* Is there a "Sluice-E2E: required" header in the response head at p? */
static int has_marker(const uint8_t *p, uint32_t n)
{
	uint32_t i = 0, ml = sizeof(E2E_MARKER) - 1, vl = sizeof(E2E_MARKER_VALUE) - 1;

	/* line by line through the head, which ends at an empty line */
	while (i < n) {
		uint32_t e = i;

		while (e < n && p[e] != '\n')
			e++;
		if (e == n)
			return 0;
		if (e - i <= 1)
			return 0; /* "\r\n": end of the head */
		if (e - i > ml && strncasecmp((const char *)p + i, E2E_MARKER, ml) == 0 &&
		    p[i + ml] == ':') {
			uint32_t v = i + ml + 1;

			while (v < e && (p[v] == ' ' || p[v] == '\t'))
				v++;
			if (e - v >= vl && strncasecmp((const char *)p + v, E2E_MARKER_VALUE, vl) == 0)
				return 1;
		}
		i = e + 1;
	}
	return 0;
}

static void learn_e2e(struct worker *w, struct tcp_conn *sl, struct tcp_conn *c,
		      struct tls_sess *x)
{
	const struct sl_app_def *a = &dp.shm->apps.a[x->app];

	tunnel_add(w->tls->tun, rte_be_to_cpu_32(c->raddr_be), rte_be_to_cpu_32(c->laddr_be),
		   x->app, x->sni, 1, (a->e2e_ttl_s ? a->e2e_ttl_s : 300) * 1000u, w->tcp->now_ms,
		   rte_rdtsc());
	x->learned = 1;
	q_free(&x->tx_head, &x->tx_tail, &x->tx_bytes);
	seal_bytes(w, c, x, TLS_CT_APP, (const uint8_t *)RESP_503, sizeof(RESP_503) - 1);
	send_alert(w, c, x, TLS_ALERT_CLOSE_NOTIFY);
	tcp_shutdown(w->tcp, c);
	tcp_abort_deferred(w->tcp, sl);
}

static void srv_on_data(struct tcp_stack *s, struct tcp_conn *sl, struct rte_mbuf *m)
{
	struct worker *w = s->w;
	struct tcp_conn *c = sl->peer;
	struct tls_sess *x;

	if (!c) {
		rte_pktmbuf_free(m);
		return;
	}
	x = sess_of(w, c);
	if (x->learned) {
		rte_pktmbuf_free(m);
		return;
	}
	if (!x->resp_checked && !x->originate) {
		x->resp_checked = 1;
		if (has_marker(rte_pktmbuf_mtod(m, const uint8_t *), m->data_len)) {
			rte_pktmbuf_free(m);
			learn_e2e(w, sl, c, x);
			return;
		}
	}
	w->st->app[x->app].bytes_out += m->pkt_len;
	mbuf_q_push(&x->tx_head, &x->tx_tail, &x->tx_bytes, m);
	if (x->state == TS_RECORD && x->tx_bytes >= TLS_PLAIN_MAX - 2048)
		seal_flush(w, c, x);
	if (x->tx_bytes)
		pend(w, x, c->app_slot);
}

static uint32_t srv_rcv_space(struct tcp_stack *s, const struct tcp_conn *sl)
{
	const struct tcp_conn *c = sl->peer;
	uint32_t room, held;

	if (!c)
		return s->p.sndbuf;
	room = tcp_sq_space(c);
	held = sess_of(s->w, c)->tx_bytes;
	return room > held ? room - held : 0;
}

static void srv_on_writable(struct tcp_stack *s, struct tcp_conn *sl)
{
	if (sl->peer)
		tcp_rcv_space_changed(s, sl->peer);
}

static void srv_on_fin(struct tcp_stack *s, struct tcp_conn *sl)
{
	struct tcp_conn *c = sl->peer;

	if (!c)
		return;
	/* RFC 8446 6.1: close_notify before closing the write side */
	send_alert(s->w, c, sess_of(s->w, c), TLS_ALERT_CLOSE_NOTIFY);
	tcp_shutdown(s, c);
}

static void srv_on_close(struct tcp_stack *s, struct tcp_conn *sl, int err)
{
	struct tcp_conn *c = sl->peer;

	if (!c)
		return;
	c->peer = NULL;
	c->v.peer = UINT32_MAX;
	sl->peer = NULL;
	if (err) {
		/* the server is gone: the client learns it by an alert and RST */
		struct tls_sess *x = sess_of(s->w, c);

		send_alert(s->w, c, x, TLS_ALERT_INTERNAL_ERROR);
		tcp_abort_deferred(s, c);
	}
}

static const struct tcp_app_ops tls_server_ops = {
	.on_data = srv_on_data,
	.on_writable = srv_on_writable,
	.on_fin = srv_on_fin,
	.on_close = srv_on_close,
	.rcv_space = srv_rcv_space,
};

/* --- the client leg ------------------------------------------------------------ */

static int cli_on_established(struct tcp_stack *s, struct tcp_conn *c)
{
	struct worker *w = s->w;

	if (!sess_alloc(w, c)) {
		w->st->app[c->app_id].errors++;
		return -ENOBUFS;
	}
	w->st->app[c->app_id].conns++;
	return 0;
}

/* Everything queued, as one chain (for sluice-cp or the passthrough). */
static struct rte_mbuf *rx_all(struct tls_sess *x)
{
	struct rte_mbuf *m = q_chain(x->rx_head);

	x->rx_head = x->rx_tail = NULL;
	x->rx_bytes = 0;
	return m;
}

/* S5: terminate, or pass the connection through to the real server? */
static void hello(struct worker *w, struct tcp_conn *c, struct tls_sess *x)
{
	const struct sl_app_def *a = &dp.shm->apps.a[x->app];
	uint32_t client = rte_be_to_cpu_32(c->raddr_be), server = rte_be_to_cpu_32(c->laddr_be);
	uint8_t buf[TLS_HDR_LEN + TLS_PLAIN_MAX];
	uint32_t n = x->rx_bytes < sizeof(buf) ? x->rx_bytes : (uint32_t)sizeof(buf);
	struct tls_hello h;
	struct sl_tunnel_ent *t;
	int rc, through = 0;

	mbuf_q_copy(x->rx_head, 0, n, buf);
	rc = tls_hello_parse(buf, n, &h);
	if (rc == -EAGAIN && n < sizeof(buf))
		return; /* the rest of the ClientHello is on its way */
	x->hello_done = 1;
	if (rc == 0) {
		memcpy(x->sni, h.sni, sizeof(x->sni) - 1);
		x->sni[sizeof(x->sni) - 1] = '\0';
		struct tls_relay *tr = w->tls;
		uint32_t now = w->tcp->now_ms, ttl = (a->e2e_ttl_s ? a->e2e_ttl_s : 300) * 1000u;
		struct sl_tunnel_ent cur;
		unsigned int where = 0;
		int live;

		/* the pair as every worker recorded it: the client's earlier
		 * connections may have reached other workers */
		live = tunnel_lookup(tr->tun_all, dp.n_workers, w->idx, client, server, now, &cur,
				     &where);
		if (a->e2e_hosts[0] && e2e_match(a->e2e_hosts, h.sni)) {
			tunnel_add(tr->tun, client, server, x->app, h.sni, 0, ttl, now, rte_rdtsc());
			through = 1;
		} else if (live && strlen(h.sni) < SL_TUN_SNI_LEN && strcmp(cur.sni, h.sni) == 0) {
			through = 1;
			if (where != w->idx)
				/* recorded elsewhere: a copy here, same expiry,
				 * to count this worker's connections under */
				tunnel_add(tr->tun, client, server, cur.app, cur.sni, cur.learned,
					   cur.expiry_ms - tr->tun_all[where]->now_ms, now,
					   rte_rdtsc());
		} else if (live) {
			/* another name ends the tunnel, on every worker: a
			 * tombstone outliving what it shadows (plus the
			 * clocks' skew of a second) */
			tunnel_end(tr->tun, client, server, ttl + 2000, now, rte_rdtsc());
		}
		if (through && (t = tunnel_find(tr->tun, client, server, now)) && !t->tomb)
			t->conns++;
	}
	if (through) {
		struct rte_mbuf *pending = rx_all(x);

		sess_free(w, c);
		w->st->app[c->app_id].passthrough++;
		if (l4proxy_attach(w->tcp, c, server, a->secure_port, pending) != 0) {
			w->st->app[c->app_id].errors++;
			tcp_abort_deferred(w->tcp, c);
		}
		return;
	}
	if (up_send(w, c, SL_TLS_UP_DATA, rx_all(x)) != 0) {
		w->st->app[x->app].errors++;
		tcp_abort_deferred(w->tcp, c);
	}
}

static void cli_on_data(struct tcp_stack *s, struct tcp_conn *c, struct rte_mbuf *m)
{
	struct worker *w = s->w;
	struct tls_sess *x = sess_of(w, c);

	if (x->state == TS_HANDSHAKE && !x->hello_done && !x->originate) {
		mbuf_q_push(&x->rx_head, &x->rx_tail, &x->rx_bytes, m);
		hello(w, c, x);
		return;
	}
	if (x->state == TS_HANDSHAKE || x->state == TS_CP) {
		if (up_send(w, c, SL_TLS_UP_DATA, m) != 0) {
			w->st->app[x->app].errors++;
			tcp_abort_deferred(s, c);
		}
		return;
	}
	if (x->state != TS_RECORD) {
		rte_pktmbuf_free(m);
		return;
	}
	mbuf_q_push(&x->rx_head, &x->rx_tail, &x->rx_bytes, m);
	rx_process(w, c, x);
}

static uint32_t cli_rcv_space(struct tcp_stack *s, const struct tcp_conn *c)
{
	if (c->peer)
		return tcp_sq_space(c->peer);
	return s->p.sndbuf; /* the handshake: sluice-cp takes what comes */
}

static void cli_on_writable(struct tcp_stack *s, struct tcp_conn *c)
{
	if (c->peer)
		tcp_rcv_space_changed(s, c->peer);
}

static void cli_on_fin(struct tcp_stack *s, struct tcp_conn *c)
{
	struct tls_sess *x = sess_of(s->w, c);

	/* a FIN without close_notify (RFC 8446 6.1: truncation) still ends
	 * what the client sends */
	if (x->state == TS_RECORD && x->rx_bytes) {
		/* the connection ends inside a record: decode_error, as OpenSSL */
		send_alert(s->w, c, x, TLS_ALERT_DECODE_ERROR);
		s->w->st->drops[SL_DROP_TLS_RECORD]++;
		s->w->st->app[x->app].errors++;
		q_free(&x->rx_head, &x->rx_tail, &x->rx_bytes);
	}
	if (x->agent && x->state == TS_RECORD && !x->got_close) {
		/* an agent's session ended without close_notify: the agent (or
		 * its host) is gone, so the client learns it by a reset */
		if (c->peer)
			tcp_abort_deferred(s, c->peer);
		tcp_abort_deferred(s, c);
		return;
	}
	if (x->state == TS_RECORD && c->peer) {
		tcp_shutdown(s, c->peer);
	} else if (x->state == TS_RECORD && (x->stream || x->dg)) {
		/* an agent closed a session that relays nothing (RETIRE, or its
		 * relay's client leg is gone): close ours too, so the
		 * connection ends and sluice-cp hears of it (UP_CLOSE) instead
		 * of counting it as a retiree for RETIRE_WAIT_MS */
		send_alert(s->w, c, x, TLS_ALERT_CLOSE_NOTIFY);
		tcp_shutdown(s, c);
	} else if (x->state == TS_HANDSHAKE || x->state == TS_CP)
		tcp_abort_deferred(s, c);
}

static void cli_on_close(struct tcp_stack *s, struct tcp_conn *c, int err)
{
	struct worker *w = s->w;
	struct tls_sess *x = sess_of(w, c);
	struct tcp_conn *p = c->peer;

	if (x->state == TS_HANDSHAKE || x->state == TS_CP || x->agent)
		up_send(w, c, SL_TLS_UP_CLOSE, NULL); /* sluice-cp frees its SSL / forgets the stream */
	sess_free(w, c);
	if (p) {
		p->peer = NULL;
		p->v.peer = UINT32_MAX;
		c->peer = NULL;
		c->v.peer = UINT32_MAX;
		if (err)
			tcp_abort(s, p);
		else
			tcp_shutdown(s, p);
	}
}

static const struct tcp_app_ops tls_client_ops = {
	.on_established = cli_on_established,
	.on_data = cli_on_data,
	.on_writable = cli_on_writable,
	.on_fin = cli_on_fin,
	.on_close = cli_on_close,
	.rcv_space = cli_rcv_space,
};

/* --- reverse mode --------------------------------------------------------------- */

/* The server leg connected: sluice-cp starts the client handshake. */
static int orig_on_connected(struct tcp_stack *s, struct tcp_conn *sl)
{
	return up_send(s->w, sl, SL_TLS_UP_DATA, NULL);
}

static const struct tcp_app_ops tls_origin_ops = {
	.on_connected = orig_on_connected,
	.on_data = cli_on_data,
	.on_writable = cli_on_writable,
	.on_fin = cli_on_fin,
	.on_close = cli_on_close,
	.rcv_space = cli_rcv_space,
};

/* A plaintext client of an originate application: connect to the secure
 * port; what the client sends waits in the session until the keys come. */
static int plain_on_established(struct tcp_stack *s, struct tcp_conn *c)
{
	struct worker *w = s->w;
	const struct sl_app_def *a = &dp.shm->apps.a[c->app_id];
	uint32_t src_be;
	uint16_t port, sport = 0;
	struct tcp_conn *sl;
	struct tls_sess *x;
	int err;

	if ((__atomic_load_n(&a->gen, __ATOMIC_ACQUIRE) & 1) || !a->in_use)
		return -ENOENT;
	if (ipv4_src_for(w, a->server, &src_be, &port) != 0)
		return -EHOSTUNREACH;
	if (c->flags & TCP_CF_TRANSP) {
		src_be = c->raddr_be;
		sport = c->rport;
	}
	sl = tcp_connect(s, src_be, sport, rte_cpu_to_be_32(a->server), a->secure_port,
			 &tls_origin_ops, &err);
	if (!sl)
		return err;
	sl->app_id = c->app_id;
	sl->v.rule_id = c->v.rule_id;
	sl->v.port = port;
	x = sess_alloc(w, sl);
	if (!x) {
		tcp_abort(s, sl);
		w->st->app[c->app_id].errors++;
		return -ENOBUFS;
	}
	x->originate = 1;
	c->peer = sl;
	sl->peer = c;
	c->v.peer = tcp_conn_idx(s, sl);
	sl->v.peer = tcp_conn_idx(s, c);
	w->st->app[c->app_id].conns++;
	return 0;
}

static const struct tcp_app_ops tls_plain_client_ops = {
	.on_established = plain_on_established,
	.on_data = srv_on_data,
	.on_writable = srv_on_writable,
	.on_fin = srv_on_fin,
	.on_close = srv_on_close,
	.rcv_space = srv_rcv_space,
};

/* --- S4: an agent's STREAM session bound to a client leg ---------------------- */

struct tcp_conn *tls_relay_stream_get(struct worker *w, uint32_t slot, uint32_t gen)
{
	struct tcp_conn *c;
	struct tls_sess *x;

	if (slot >= w->tcp->n_slots)
		return NULL;
	c = tcp_conn_at(w->tcp, slot);
	if (c->v.gen != gen || c->app != &tls_client_ops || c->state != TCP_ESTABLISHED)
		return NULL;
	x = sess_of(w, c);
	if (x->state != TS_RECORD || !x->stream || c->peer || x->got_close)
		return NULL;
	return c;
}

void tls_relay_stream_bind(struct worker *w, struct tcp_conn *stream, struct tcp_conn *client)
{
	struct tls_sess *x = sess_of(w, stream);

	/* the client leg is the plain side: what it sends is sealed into
	 * records on the stream, what the stream's records carry is queued
	 * on it (as a terminate application's server leg) */
	client->app = &tls_server_ops;
	client->app_id = x->app;
	stream->peer = client;
	client->peer = stream;
	stream->v.peer = tcp_conn_idx(w->tcp, client);
	client->v.peer = tcp_conn_idx(w->tcp, stream);
	w->st->app[x->app].conns++;
}

void tls_relay_stream_abort(struct worker *w, struct tcp_conn *stream)
{
	w->st->app[sess_of(w, stream)->app].errors++;
	tcp_abort_deferred(w->tcp, stream);
}

/* --- messages from sluice-cp ------------------------------------------------- */

static int keys_install(struct worker *w, struct tls_sess *x, const struct sl_tls_keys *k)
{
	int rc;

	if (k->alg >= AEAD_ALG_MAX)
		return -EINVAL;
	rc = tls_rec_install(&x->rx, &x->tx, &w->tls->aead,
			     (enum aead_engine_id)dp.shm->crypto.eng[k->alg][SL_AEAD_SIZES - 1], k);
	if (rc != 0)
		return rc;
	x->version = k->version;
	x->gcm12 = k->version == 0x0303 && k->alg != AEAD_CHACHA20_POLY1305;
	return 0;
}

/* The server leg: from the appliance's address towards the server (or the
 * client's own, transparent) to the application's plain port. */
static int server_leg(struct worker *w, struct tcp_conn *c, struct tls_sess *x)
{
	const struct sl_app_def *a = &dp.shm->apps.a[x->app];
	uint32_t server = a->server, src_be, g;
	uint16_t plain = a->plain_port, port, sport = 0;
	struct tcp_conn *sl;
	int err;

	g = __atomic_load_n(&a->gen, __ATOMIC_ACQUIRE);
	if ((g & 1) || !a->in_use)
		return -ENOENT; /* deleted meanwhile */
	if (ipv4_src_for(w, server, &src_be, &port) != 0)
		return -EHOSTUNREACH;
	if (c->flags & TCP_CF_TRANSP) {
		src_be = c->raddr_be;
		sport = c->rport;
	}
	sl = tcp_connect(w->tcp, src_be, sport, rte_cpu_to_be_32(server), plain, &tls_server_ops,
			 &err);
	if (!sl)
		return err;
	sl->v.rule_id = c->v.rule_id;
	sl->v.port = port;
	sl->app_id = x->app;
	c->peer = sl;
	sl->peer = c;
	c->v.peer = tcp_conn_idx(w->tcp, sl);
	sl->v.peer = tcp_conn_idx(w->tcp, c);
	return 0;
}

static void dn_handle(struct worker *w, struct rte_mbuf *m)
{
	const struct sl_tls_msg *h = rte_pktmbuf_mtod(m, const struct sl_tls_msg *);
	struct tcp_conn *c;
	struct tls_sess *x;

	if (m->data_len < sizeof(*h) || h->version != SL_TLS_MSG_VERSION)
		goto drop;
	if (h->type == SL_TLS_DN_VERDICT || h->type == SL_TLS_DN_PONG ||
	    h->type == SL_TLS_DN_DA_VERDICT || h->type == SL_TLS_DN_DA_END) {
		agent_dp_dn(w, m); /* names a held SYN or a ping, not a session */
		return;
	}
	if (h->type == SL_TLS_DN_LSTP_PAIR || h->type == SL_TLS_DN_LSTP_END ||
	    h->type == SL_TLS_DN_LSTP_ONWARD) {
		lstp_mid_dn(w, m); /* an LSTP middle connection, no TLS session */
		return;
	}
	if (h->slot >= w->tcp->n_slots)
		goto drop;
	c = tcp_conn_at(w->tcp, h->slot);
	if (c->v.gen != h->gen || !is_tls_side(c) || c->state == TCP_CLOSED)
		goto drop; /* gone meanwhile */
	x = sess_of(w, c);
	if (h->type == SL_TLS_DN_ABORT && x->agent) {
		w->st->app[x->app].errors++;
		if (c->peer)
			tcp_abort_deferred(w->tcp, c->peer);
		tcp_abort_deferred(w->tcp, c);
		goto drop;
	}
	if (h->type == SL_TLS_DN_DATA && x->state == TS_CP) {
		rte_pktmbuf_adj(m, sizeof(*h));
		if (m->pkt_len)
			tcp_send(w->tcp, c, m);
		else
			rte_pktmbuf_free(m);
		return;
	}
	if (h->type == SL_TLS_DN_RECORDS && x->state == TS_RECORD) {
		rte_pktmbuf_adj(m, sizeof(*h));
		mbuf_q_push(&x->rx_head, &x->rx_tail, &x->rx_bytes, m);
		rx_process(w, c, x);
		return;
	}
	if (x->state != TS_HANDSHAKE && !(x->state == TS_CP && h->type == SL_TLS_DN_FAIL))
		goto drop;
	switch (h->type) {
	case SL_TLS_DN_CP:
		if (!x->agent)
			goto fail;
		x->state = TS_CP;
		goto drop;
	case SL_TLS_DN_DATA:
		rte_pktmbuf_adj(m, sizeof(*h));
		if (m->pkt_len)
			tcp_send(w->tcp, c, m);
		else
			rte_pktmbuf_free(m);
		return;
	case SL_TLS_DN_KEYS: {
		struct sl_tls_keys k;
		int rc;

		if (h->len < sizeof(k) || m->data_len < sizeof(*h) + sizeof(k)) {
			explicit_bzero(rte_pktmbuf_mtod(m, uint8_t *), m->data_len);
			goto fail;
		}
		memcpy(&k, h + 1, sizeof(k));
		explicit_bzero(rte_pktmbuf_mtod_offset(m, uint8_t *, sizeof(*h)), sizeof(k));
		rc = keys_install(w, x, &k);
		explicit_bzero(&k, sizeof(k));
		if (rc != 0)
			goto fail;
		x->state = TS_RECORD;
		x->stream = x->agent && (h->flags & SL_TLS_F_STREAM);
		if (x->agent && (h->flags & SL_TLS_F_DGRAM) && dg_alloc(w, x) != 0) {
			/* beyond DG_MAX: sluice-cp hears of the close */
			rte_pktmbuf_free(m);
			w->st->app[x->app].errors++;
			tcp_abort_deferred(w->tcp, c);
			return;
		}
		if (x->agent && !x->stream && !x->dg) {
			rte_pktmbuf_free(m);
			tcp_abort_deferred(w->tcp, c);
			return;
		}
		if (!x->originate && !x->stream && !x->dg && server_leg(w, c, x) != 0) {
			send_alert(w, c, x, TLS_ALERT_INTERNAL_ERROR);
			w->st->app[x->app].errors++;
			rte_pktmbuf_free(m);
			tcp_abort_deferred(w->tcp, c);
			return;
		}
		/* reverse mode: the client's plaintext that waited */
		if (x->originate)
			seal_flush(w, c, x);
		/* what the peer sent after its Finished */
		rte_pktmbuf_adj(m, (uint16_t)(sizeof(*h) + sizeof(k)));
		if (m->pkt_len) {
			mbuf_q_push(&x->rx_head, &x->rx_tail, &x->rx_bytes, m);
			rx_process(w, c, x);
		} else {
			rte_pktmbuf_free(m);
		}
		return;
	}
	case SL_TLS_DN_FAIL:
		/* sluice-cp's alert goes out, then the connection ends */
		rte_pktmbuf_adj(m, sizeof(*h));
		w->st->app[x->app].errors++;
		if (m->pkt_len)
			tcp_send(w->tcp, c, m);
		else
			rte_pktmbuf_free(m);
		tcp_shutdown(w->tcp, c);
		tcp_abort_deferred(w->tcp, c);
		return;
	default:
		goto drop;
	}
fail:
	w->st->app[x->app].errors++;
	rte_pktmbuf_free(m);
	tcp_abort_deferred(w->tcp, c);
	return;
drop:
	rte_pktmbuf_free(m);
}

/* Once a second: sessions still in their handshake after HANDSHAKE_MS. */
static void handshake_deadline(struct worker *w)
{
	struct tls_relay *tr = w->tls;

	for (uint32_t i = 0; i < tr->n_sess; i++) {
		struct tls_sess *x = &tr->sess[i];

		if (x->state == TS_HANDSHAKE &&
		    w->tcp->now_ms - x->started_ms >= HANDSHAKE_MS) {
			struct tcp_conn *c = tcp_conn_at(w->tcp, x->conn);

			w->st->app[x->app].errors++;
			w->st->tcp.idle_timeouts++;
			tcp_abort_deferred(w->tcp, c);
		}
	}
}

void tls_relay_poll(struct worker *w)
{
	struct tls_relay *tr = w->tls;

	if (unlikely(rte_ring_count(tr->dn) != 0)) {
		struct rte_mbuf *m[DN_BURST];
		unsigned int n = rte_ring_sc_dequeue_burst(tr->dn, (void **)m, DN_BURST, NULL);

		for (unsigned int i = 0; i < n; i++)
			dn_handle(w, m[i]);
	}
	if (unlikely(w->tcp->now_ms - tr->tun_last_ms >= 1000)) {
		tr->tun_last_ms = w->tcp->now_ms;
		tunnel_expire(tr->tun, w->tcp->now_ms);
		handshake_deadline(w);
	}
	lstp_mid_tick(w);
	if (tr->dg_used && w->tcp->now_ms - tr->dg_scan_ms >= DG_SCAN_MS) {
		tr->dg_scan_ms = w->tcp->now_ms;
		dg_scan(w);
	}
	/* records from what this loop received from the servers */
	for (uint32_t i = 0; i < tr->n_pending; i++) {
		struct tls_sess *x = &tr->sess[tr->pending[i]];

		x->pending = 0;
		if (x->state == TS_RECORD && x->tx_head) {
			struct tcp_conn *c = tcp_conn_at(w->tcp, x->conn);

			seal_flush(w, c, x);
		}
	}
	tr->n_pending = 0;
}

void tls_relay_link(void)
{
	for (unsigned int i = 0; i < dp.n_workers; i++)
		for (unsigned int j = 0; j < dp.n_workers; j++)
			if (dp.workers[i]->tls && dp.workers[j]->tls)
				dp.workers[i]->tls->tun_all[j] = dp.workers[j]->tls->tun;
}

int tls_relay_init(struct worker *w, uint32_t max_sessions)
{
	int socket = (int)rte_lcore_to_socket_id(w->lcore_id);
	char name[RTE_RING_NAMESIZE];
	struct tls_relay *tr;

	tr = rte_zmalloc_socket("sl_tls", sizeof(*tr), RTE_CACHE_LINE_SIZE, socket);
	if (!tr)
		return -ENOMEM;
	tr->sess = rte_zmalloc_socket("sl_tls_sess", max_sessions * sizeof(*tr->sess),
				      RTE_CACHE_LINE_SIZE, socket);
	tr->free = rte_malloc_socket("sl_tls_free", max_sessions * sizeof(uint32_t), 0, socket);
	tr->pending = rte_malloc_socket("sl_tls_pend", max_sessions * sizeof(uint32_t), 0, socket);
	snprintf(name, sizeof(name), SL_TLS_UP_FMT, w->idx);
	tr->up = rte_ring_create(name, SL_TLS_RING_SIZE, socket, RING_F_SP_ENQ | RING_F_SC_DEQ);
	snprintf(name, sizeof(name), SL_TLS_DN_FMT, w->idx);
	tr->dn = rte_ring_create(name, SL_TLS_RING_SIZE, socket, RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (!tr->sess || !tr->free || !tr->pending || !tr->up || !tr->dn)
		return -ENOMEM;
	if (aead_thread_init(&tr->aead) != 0)
		return -ENOMEM;
	{
		const struct rte_memzone *mz;

		snprintf(name, sizeof(name), SL_TUN_ZONE_FMT, w->idx);
		mz = rte_memzone_reserve(name, sizeof(struct sl_tunnel_zone), socket, 0);
		if (!mz)
			return -ENOMEM;
		tr->tun = mz->addr;
		memset(tr->tun, 0, sizeof(*tr->tun));
		tr->tun->magic = SL_FLOW_MAGIC;
		tr->tun_all[w->idx] = tr->tun;
	}
	if (dp.conf->agents.enabled) {
		/* issue 10: DGRAM sessions' state, sized once */
		uint32_t q = dp.conf->agents.dgram_queue;

		tr->dg = rte_zmalloc_socket("sl_tls_dg", DG_MAX * sizeof(*tr->dg), 0, socket);
		tr->dg_buf = rte_malloc_socket("sl_tls_dgbuf", DG_FRAME_MAX, 0, socket);
		if (!tr->dg || !tr->dg_buf)
			return -ENOMEM;
		for (uint32_t i = 0; i < DG_MAX; i++) {
			tr->dg[i].conn = UINT32_MAX;
			tr->dg[i].q = rte_malloc_socket("sl_tls_dgq", q * sizeof(void *), 0, socket);
			tr->dg[i].born = rte_malloc_socket("sl_tls_dgb", q * sizeof(uint32_t), 0, socket);
			if (!tr->dg[i].q || !tr->dg[i].born)
				return -ENOMEM;
		}
		tr->dg_qmax = q;
		tr->dg_age_ms = dp.conf->agents.dgram_max_age_ms;
	}
	for (uint32_t i = 0; i < max_sessions; i++)
		tr->free[i] = max_sessions - 1 - i;
	tr->n_sess = tr->n_free = max_sessions;
	w->tls = tr;
	tcp_listen(w->tcp, SL_RA_TLS_TERM, &tls_client_ops);
	tcp_listen(w->tcp, SL_RA_TLS_ORIG, &tls_plain_client_ops);
	/* S4: a released held SYN's connection, bound to a STREAM session at
	 * once (tls_relay_stream_bind) */
	tcp_listen(w->tcp, SL_RA_AGENT, &tls_server_ops);
	return 0;
}

int tls_relay_reserve(struct worker *w)
{
	for (unsigned int a = 0; a < AEAD_ALG_MAX; a++) {
		int rc;

		if (dp.shm->crypto.eng[a][SL_AEAD_SIZES - 1] != AEAD_ENG_OPENSSL)
			continue;
		rc = aead_thread_reserve(&w->tls->aead, (enum aead_alg)a, 2 * w->tls->n_sess);
		if (rc != 0)
			return rc;
	}
	return 0;
}
