/*
 * L4 proxy on the worker's TCP stack.  Backpressure without copying: a
 * leg's receive window is the room left in the other leg's send queue
 * (rcv_space), and when that queue drains (on_writable) the first leg may
 * advertise the room again.  FIN half-closes the other leg; a reset or a
 * failure aborts it (the client sees the server's RST as a RST); the idle
 * timeout lives in the stack (tcp_timer.h policy, both legs silent).
 */
#include <errno.h>

#include <rte_byteorder.h>

#include "apps/l4proxy.h"
#include "ip/ipv4_input.h"

void l4proxy_join(struct tcp_stack *s, struct tcp_conn *a, struct tcp_conn *b)
{
	a->peer = b;
	b->peer = a;
	a->v.peer = tcp_conn_idx(s, b);
	b->v.peer = tcp_conn_idx(s, a);
}

static struct tcp_conn *unlink_peer(struct tcp_conn *c)
{
	struct tcp_conn *p = c->peer;

	if (p) {
		p->peer = NULL;
		p->v.peer = UINT32_MAX;
	}
	c->peer = NULL;
	c->v.peer = UINT32_MAX;
	return p;
}

void l4proxy_on_data(struct tcp_stack *s, struct tcp_conn *c, struct rte_mbuf *m)
{
	if (c->peer)
		tcp_send(s, c->peer, m);
	else
		rte_pktmbuf_free(m); /* the other side is gone for good */
}

uint32_t l4proxy_rcv_space(struct tcp_stack *s, const struct tcp_conn *c)
{
	return c->peer ? tcp_sq_space(c->peer) : s->p.sndbuf;
}

void l4proxy_on_writable(struct tcp_stack *s, struct tcp_conn *c)
{
	if (c->peer)
		tcp_rcv_space_changed(s, c->peer);
}

void l4proxy_on_fin(struct tcp_stack *s, struct tcp_conn *c)
{
	if (c->peer)
		tcp_shutdown(s, c->peer);
}

void l4proxy_on_close(struct tcp_stack *s, struct tcp_conn *c, int err)
{
	struct tcp_conn *p = unlink_peer(c);

	if (p && err)
		tcp_abort(s, p);
	else if (p)
		tcp_shutdown(s, p); /* orderly: its FIN was passed on; no-op then */
}

static int on_connected(struct tcp_stack *s, struct tcp_conn *c)
{
	(void)s;
	(void)c;
	return 0; /* tcp_output after this sends what the client queued */
}

static const struct tcp_app_ops server_leg_ops = {
	.on_connected = on_connected,
	.on_data = l4proxy_on_data,
	.on_writable = l4proxy_on_writable,
	.on_fin = l4proxy_on_fin,
	.on_close = l4proxy_on_close,
	.rcv_space = l4proxy_rcv_space,
};

/* The client finished its handshake with "the server": open the real one. */
static int on_established(struct tcp_stack *s, struct tcp_conn *c)
{
	uint32_t src_be;
	uint16_t sport = 0, port = 0;
	struct tcp_conn *sl;
	int err;

	if (ipv4_src_for(s->w, rte_be_to_cpu_32(c->laddr_be), &src_be, &port) != 0) {
		s->st->connect_failed++;
		return -EHOSTUNREACH;
	}
	if (c->flags & TCP_CF_TRANSP) {
		src_be = c->raddr_be; /* the client's own address and port */
		sport = c->rport;
	}
	sl = tcp_connect(s, src_be, sport, c->laddr_be, c->lport, &server_leg_ops, &err);
	if (!sl)
		return err;
	sl->v.rule_id = c->v.rule_id;
	sl->v.port = port;
	l4proxy_join(s, c, sl);
	s->st->proxied++;
	return 0;
}

int l4proxy_attach(struct tcp_stack *s, struct tcp_conn *c, uint32_t dst, uint16_t dport,
		   struct rte_mbuf *pending)
{
	uint32_t src_be;
	uint16_t sport = 0, port = 0;
	struct tcp_conn *sl;
	int err;

	if (ipv4_src_for(s->w, dst, &src_be, &port) != 0) {
		rte_pktmbuf_free(pending);
		return -EHOSTUNREACH;
	}
	if (c->flags & TCP_CF_TRANSP) {
		src_be = c->raddr_be;
		sport = c->rport;
	}
	sl = tcp_connect(s, src_be, sport, rte_cpu_to_be_32(dst), dport, &server_leg_ops, &err);
	if (!sl) {
		rte_pktmbuf_free(pending);
		return err;
	}
	sl->v.rule_id = c->v.rule_id;
	sl->v.port = port;
	c->app = &l4proxy_ops;
	l4proxy_join(s, c, sl);
	s->st->proxied++;
	if (pending)
		tcp_send(s, sl, pending); /* goes out once connected */
	return 0;
}

const struct tcp_app_ops l4proxy_ops = {
	.on_established = on_established,
	.on_data = l4proxy_on_data,
	.on_writable = l4proxy_on_writable,
	.on_fin = l4proxy_on_fin,
	.on_close = l4proxy_on_close,
	.rcv_space = l4proxy_rcv_space,
};
