/*
 * A worker's TCP stack: the connection pool (a memzone sluice-cp reads for
 * `show flows`), the flow table, the clock and the timer wheel, ISS and
 * timestamp offsets, state gauges.  All of it allocated once at start-up.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <netinet/in.h>

#include <rte_cycles.h>
#include <rte_ether.h>
#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_memzone.h>
#include <rte_random.h>

#include "flow/flow_key.h"
#include "ip/ipv4_check.h"
#include "mbuf_q.h"
#include "tcp_conn.h"
#include "worker.h"

#define WHEEL_SLOTS 4096 /* 4 s of 1 ms ticks per lap: RTOs mostly land in one */

const struct tcp_params tcp_params_default = {
	.max_conns = 32768,
	.max_half_open = 4096,
	.sndbuf = 256 * 1024,
	.reass_bytes = 256 * 1024,
	.reass_worker_bytes = 64u << 20,
	.mss = 1460,
	.wscale = 7,
	.syn_retries = 5,
	.rto_retries = 15,
};

static void rq_trim_front(void *buf, uint32_t n)
{
	rte_pktmbuf_adj(buf, (uint16_t)n);
}

static void rq_trim_back(void *buf, uint32_t n)
{
	rte_pktmbuf_trim(buf, (uint16_t)n);
}

static void rq_free(void *buf)
{
	rte_pktmbuf_free(buf);
}

static const struct tcp_reass_ops rq_ops = {
	.trim_front = rq_trim_front,
	.trim_back = rq_trim_back,
	.free = rq_free,
};

static size_t heap_used(int socket)
{
	struct rte_malloc_socket_stats st;

	if (rte_malloc_get_socket_stats(socket, &st) != 0)
		return 0;
	return st.heap_allocsz_bytes;
}

int tcp_stack_init(struct tcp_stack *s, struct worker *w, const struct tcp_params *p)
{
	char name[RTE_MEMZONE_NAMESIZE];
	int socket = (int)rte_lcore_to_socket_id(w->lcore_id);
	const struct rte_memzone *mz;
	struct tcp_timer **slots;
	struct tcp_reass_node *nodes;
	uint32_t n_nodes;
	size_t before, hash_bytes;
	struct rte_hash_parameters hp = {
		.entries = p->max_conns,
		.key_len = sizeof(struct flow_key),
		.socket_id = socket,
		/* a table that refuses while slots are free would be a silent
		 * limit: extendable buckets take what the buckets cannot */
		.extra_flag = RTE_HASH_EXTRA_FLAGS_EXT_TABLE,
	};
	struct tcp_cookie_key ck;

	if (tcp_timer_policy_check(&p->tp) != 0 || p->max_conns == 0 || p->mss < 536)
		return -EINVAL;
	memset(s, 0, sizeof(*s));
	s->w = w;
	s->st = &w->st->tcp;
	s->p = *p;
	s->tsc_hz = rte_get_tsc_hz();
	s->stride = sizeof(struct tcp_conn);
	s->n_slots = p->max_conns;

	snprintf(name, sizeof(name), SL_FLOW_ZONE_FMT, w->idx);
	mz = rte_memzone_reserve_aligned(name, sizeof(struct sl_flow_zone) +
					 (size_t)s->n_slots * s->stride, socket, 0, RTE_CACHE_LINE_SIZE);
	if (!mz)
		return -rte_errno;
	s->zone = mz->addr;
	memset(s->zone, 0, mz->len);

	s->free_idx = rte_malloc_socket("tcp_free", s->n_slots * sizeof(uint32_t), 0, socket);
	slots = rte_zmalloc_socket("tcp_wheel", WHEEL_SLOTS * sizeof(*slots), 0, socket);
	/* one reassembly node per MSS-sized segment the worker may hold */
	n_nodes = p->reass_worker_bytes / 512 + 1024;
	nodes = rte_zmalloc_socket("tcp_reass", n_nodes * sizeof(*nodes), 0, socket);
	snprintf(name, sizeof(name), "sl_tcp_h%u", w->idx);
	hp.name = name;
	before = heap_used(socket);
	s->h = rte_hash_create(&hp);
	hash_bytes = heap_used(socket) - before;
	if (!s->free_idx || !slots || !nodes || !s->h)
		return -ENOMEM;

	for (uint32_t i = 0; i < s->n_slots; i++) {
		struct tcp_conn *c = tcp_conn_at(s, i);

		c->v.peer = UINT32_MAX;
		s->free_idx[i] = s->n_slots - 1 - i; /* pop 0 first */
	}
	s->n_free = s->n_slots;
	s->zone->n_slots = s->n_slots;
	s->zone->stride = s->stride;
	/* measured, not estimated: the table's share is what creating it took */
	s->zone->conn_bytes = (uint32_t)(s->stride + sizeof(uint32_t) + hash_bytes / s->n_slots);
	s->zone->magic = SL_FLOW_MAGIC;

	tcp_reass_pool_init(&s->rpool, nodes, n_nodes);
	s->rlim = (struct tcp_reass_limits){
		.max_bytes_per_conn = p->reass_bytes,
		.max_segs_per_conn = p->reass_bytes / 256 + 8,
		.worker_bytes = &s->reass_bytes,
		.worker_max = p->reass_worker_bytes,
	};
	s->rctx = (struct tcp_reass_ctx){ .pool = &s->rpool, .lim = &s->rlim, .ops = &rq_ops };

	ck.k0 = rte_rand();
	ck.k1 = rte_rand();
	tcp_cookie_keys_init(&s->ck, &ck);
	explicit_bzero(&ck, sizeof(ck));
	s->iss_key.k0 = rte_rand();
	s->iss_key.k1 = rte_rand();
	s->next_port = (uint16_t)(32768 + rte_rand_max(28000));

	s->now_tsc = rte_get_tsc_cycles();
	s->last_tick_tsc = s->now_tsc;
	s->now_ms = 1;
	tcp_wheel_init(&s->wheel, slots, WHEEL_SLOTS, s->now_ms);
	return 0;
}

void tcp_listen(struct tcp_stack *s, unsigned int action, const struct tcp_app_ops *app)
{
	if (action < SL_RA_MAX)
		s->listen_app[action] = app;
}

/* IP input's handlers for the stack (worker.h): local TCP, rule actions
 * that terminate TCP, and forwarded-looking segments of our own flows. */
static void local_in(struct worker *w, struct rte_mbuf *m, uint16_t in_port)
{
	tcp_input(w->tcp, m, in_port, NULL);
}

static void rule_in(struct worker *w, struct rte_mbuf *m, uint16_t in_port,
		    const struct sl_rule *r)
{
	tcp_input(w->tcp, m, in_port, r);
}

static int flow_try(struct worker *w, struct rte_mbuf *m, uint16_t in_port)
{
	return tcp_input_try(w->tcp, m, in_port);
}

void tcp_register(struct worker *w)
{
	w->local_in[IPPROTO_TCP] = local_in;
	w->rule_in[SL_RA_PROXY] = rule_in;
	w->rule_in[SL_RA_TLS_TERM] = rule_in;
	w->rule_in[SL_RA_TLS_ORIG] = rule_in;
	w->flow_try = flow_try;
}

int tcp_listen_local(struct tcp_stack *s, uint32_t addr_be, uint16_t port,
		     const struct sl_rule *rule)
{
	if (s->n_local == RTE_DIM(s->local))
		return -ENOSPC;
	s->local[s->n_local].addr_be = addr_be;
	s->local[s->n_local].port = port;
	s->local[s->n_local].rule = rule;
	s->n_local++;
	return 0;
}

void tcp_abort_deferred(struct tcp_stack *s, struct tcp_conn *c)
{
	if (c->flags & TCP_CF_KILL)
		return;
	if (s->n_kill == RTE_DIM(s->kill)) {
		/* never expected (64 in one loop); the idle timer does it soon */
		tcp_timer_arm_ms(s, &c->t_life, TCP_T_IDLE, 1);
		c->last_data_ms = s->now_ms - s->p.tp.idle_ms;
		return;
	}
	c->flags |= TCP_CF_KILL;
	s->kill[s->n_kill].slot = tcp_conn_idx(s, c);
	s->kill[s->n_kill].gen = c->v.gen;
	s->n_kill++;
}

static void kill_run(struct tcp_stack *s)
{
	for (uint32_t i = 0; i < s->n_kill; i++) {
		struct tcp_conn *c = tcp_conn_at(s, s->kill[i].slot);

		if (c->v.gen == s->kill[i].gen && c->state != TCP_CLOSED) {
			tcp_notify_close(s, c, -ECONNABORTED); /* the app lets go first */
			tcp_abort(s, c);
		}
	}
	s->n_kill = 0;
}

/* --- gauges ----------------------------------------------------------- */

static void gauge(struct sl_tcp_stats *st, unsigned int state, int d)
{
	switch (state) {
	case TCP_CLOSED:
		return;
	case TCP_SYN_RECEIVED: st->syn_received += (uint64_t)d; break;
	case TCP_SYN_SENT: st->syn_sent += (uint64_t)d; break;
	case TCP_ESTABLISHED: st->established += (uint64_t)d; break;
	case TCP_TIME_WAIT: st->time_wait += (uint64_t)d; break;
	default: st->closing += (uint64_t)d; break;
	}
	st->active += (uint64_t)d;
}

void tcp_set_state(struct tcp_stack *s, struct tcp_conn *c, enum tcp_state st)
{
	if (c->state == TCP_SYN_RECEIVED && !(c->flags & TCP_CF_COOKIE))
		s->half_open--;
	gauge(s->st, c->state, -1);
	c->state = (uint8_t)st;
	c->v.state = (uint8_t)st;
	gauge(s->st, st, +1);
	if (st == TCP_SYN_RECEIVED)
		s->half_open++;
}

/* --- the pool and the table ------------------------------------------- */

static void conn_key(struct flow_key *k, uint32_t laddr, uint16_t lport, uint32_t raddr,
		     uint16_t rport)
{
	/* as a received segment carries it: from the peer to us */
	flow_key_v4(k, 0, IPPROTO_TCP, raddr, laddr, rport, lport);
}

struct tcp_conn *tcp_conn_lookup(struct tcp_stack *s, uint32_t laddr_be, uint16_t lport,
				 uint32_t raddr_be, uint16_t rport)
{
	struct flow_key k;
	void *data;

	conn_key(&k, laddr_be, lport, raddr_be, rport);
	if (rte_hash_lookup_data(s->h, &k, &data) < 0)
		return NULL;
	return tcp_conn_at(s, (uint32_t)(uintptr_t)data);
}

uint64_t tcp_conn_absent_bulk(struct tcp_stack *s, struct rte_mbuf *const m[], unsigned int n)
{
	struct flow_key k[RTE_HASH_LOOKUP_BULK_MAX];
	const void *kp[RTE_HASH_LOOKUP_BULK_MAX];
	void *data[RTE_HASH_LOOKUP_BULK_MAX];
	uint64_t hit = 0, all;

	if (n == 0)
		return 0;
	if (n > RTE_HASH_LOOKUP_BULK_MAX)
		n = RTE_HASH_LOOKUP_BULK_MAX;
	all = n == 64 ? UINT64_MAX : (1ull << n) - 1;
	for (unsigned int i = 0; i < n; i++) {
		const struct ipv4_hdr_raw *ip =
			rte_pktmbuf_mtod_offset(m[i], const struct ipv4_hdr_raw *, RTE_ETHER_HDR_LEN);
		const uint16_t *ports = (const uint16_t *)((const uint8_t *)ip + (ip->ver_ihl & 0xf) * 4u);

		/* as a received segment carries it (conn_key) */
		flow_key_v4(&k[i], 0, IPPROTO_TCP, ip->src, ip->dst, rte_be_to_cpu_16(ports[0]),
			    rte_be_to_cpu_16(ports[1]));
		kp[i] = &k[i];
	}
	if (rte_hash_lookup_bulk_data(s->h, kp, n, &hit, data) < 0)
		return 0; /* cannot say: the caller looks one by one */
	return ~hit & all;
}

struct tcp_conn *tcp_conn_alloc(struct tcp_stack *s, uint32_t laddr_be, uint16_t lport,
				uint32_t raddr_be, uint16_t rport)
{
	struct flow_key k;
	struct tcp_conn *c;
	uint32_t idx, gen;

	if (s->n_free == 0) {
		s->st->refused_full++;
		return NULL;
	}
	idx = s->free_idx[s->n_free - 1];
	conn_key(&k, laddr_be, lport, raddr_be, rport);
	if (rte_hash_add_key_data(s->h, &k, (void *)(uintptr_t)idx) < 0) {
		s->st->refused_full++;
		return NULL;
	}
	s->n_free--;
	c = tcp_conn_at(s, idx);
	gen = c->v.gen + 1; /* odd: changing hands */
	__atomic_store_n(&c->v.gen, gen, __ATOMIC_RELEASE);
	memset((uint8_t *)c + sizeof(c->v.gen), 0, sizeof(*c) - sizeof(c->v.gen));
	c->laddr_be = laddr_be;
	c->raddr_be = raddr_be;
	c->lport = lport;
	c->rport = rport;
	c->v.laddr = rte_be_to_cpu_32(laddr_be);
	c->v.raddr = rte_be_to_cpu_32(raddr_be);
	c->v.lport = lport;
	c->v.rport = rport;
	c->v.peer = UINT32_MAX;
	c->v.start_tsc = s->now_tsc;
	c->sq_max = s->p.sndbuf;
	c->last_rx_ms = s->now_ms;
	c->last_data_ms = s->now_ms;
	tcp_reass_init(&c->rq);
	tcp_sack_rcv_init(&c->sr);
	tcp_rtt_init(&c->rtt, &tcp_rtt_default);
	c->ts_off = tcp_ts_off(s, laddr_be, lport, raddr_be, rport);
	__atomic_store_n(&c->v.gen, gen + 1, __ATOMIC_RELEASE);
	return c;
}

void tcp_sq_drop(struct tcp_stack *s, struct tcp_conn *c, uint32_t n)
{
	(void)s;
	c->sq_bytes -= n;
	while (n) {
		struct rte_mbuf *m = c->sq_head;
		uint32_t l = m->data_len;

		if (l > n) {
			rte_pktmbuf_adj(m, (uint16_t)n);
			break;
		}
		n -= l;
		c->sq_head = m->next;
		if (c->sq_cur == m)
			c->sq_cur = NULL;
		m->next = NULL;
		m->nb_segs = 1;
		rte_pktmbuf_free_seg(m);
	}
	if (!c->sq_head)
		c->sq_tail = NULL;
}

void tcp_conn_purge(struct tcp_stack *s, struct tcp_conn *c)
{
	(void)s;
	mbuf_list_free(c->sq_head);
	c->sq_head = c->sq_tail = NULL;
	c->sq_cur = NULL;
	c->sq_bytes = 0;
	tcp_reass_purge(&c->rq, &s->rctx);
}

void tcp_notify_close(struct tcp_stack *s, struct tcp_conn *c, int err)
{
	if (c->flags & TCP_CF_CLOSED_APP)
		return;
	c->flags |= TCP_CF_CLOSED_APP;
	if (c->app && c->app->on_close)
		c->app->on_close(s, c, err);
	c->app = NULL;
}

void tcp_conn_free(struct tcp_stack *s, struct tcp_conn *c)
{
	struct flow_key k;
	uint32_t idx = tcp_conn_idx(s, c);

	if (c->flags & TCP_CF_FREEING)
		return;
	c->flags |= TCP_CF_FREEING;
	tcp_notify_close(s, c, -ECONNRESET);
	tcp_timer_cancel(&s->wheel, &c->t_rtx);
	tcp_timer_cancel(&s->wheel, &c->t_delack);
	tcp_timer_cancel(&s->wheel, &c->t_life);
	tcp_timer_cancel(&s->wheel, &c->t_ka);
	tcp_conn_purge(s, c);
	__atomic_store_n(&c->v.gen, c->v.gen + 1, __ATOMIC_RELEASE);
	tcp_set_state(s, c, TCP_CLOSED);
	conn_key(&k, c->laddr_be, c->lport, c->raddr_be, c->rport);
	rte_hash_del_key(s->h, &k);
	c->flags = 0;
	c->peer = NULL;
	c->v.peer = UINT32_MAX;
	__atomic_store_n(&c->v.gen, c->v.gen + 1, __ATOMIC_RELEASE);
	s->free_idx[s->n_free++] = idx;
	s->st->closed++;
}

/* --- moving a connection to another worker (tcp_conn.h) --------------- */

int tcp_conn_export(struct tcp_stack *s, struct tcp_conn *c, struct tcp_export *x)
{
	if (c->state != TCP_ESTABLISHED || c->sq_bytes || c->snd_una != c->snd_max ||
	    c->rq.bytes || (c->flags & (TCP_CF_FIN_Q | TCP_CF_FIN_SENT | TCP_CF_FIN_RCVD)))
		return -EBUSY;
	/* an ACK still owed goes now: the new owner starts even */
	if (tcp_timer_armed(&c->t_delack) || (c->flags & TCP_CF_ACK_NOW))
		tcp_send_ack(s, c);
	*x = (struct tcp_export){
		.laddr_be = c->laddr_be, .raddr_be = c->raddr_be, .lport = c->lport,
		.rport = c->rport, .snd_wscale = c->snd_wscale, .rcv_wscale = c->rcv_wscale,
		.smss = c->smss, .mss_adv = c->mss_adv, .app_id = c->app_id,
		.flags = c->flags & (TCP_CF_TS | TCP_CF_SACK | TCP_CF_WS | TCP_CF_TRANSP),
		.iss = c->iss, .snd_una = c->snd_una, .snd_wnd = c->snd_wnd, .snd_wl1 = c->snd_wl1,
		.snd_wl2 = c->snd_wl2, .max_snd_wnd = c->max_snd_wnd, .irs = c->irs,
		.rcv_nxt = c->rcv_nxt, .rcv_adv = c->rcv_adv, .ts_recent = c->ts_recent,
		.tsval = s->now_ms + c->ts_off, .rtt = c->rtt, .cc = c->cc, .v = c->v,
	};
	c->flags |= TCP_CF_CLOSED_APP; /* the app moves with it: no on_close here */
	c->app = NULL;
	tcp_conn_free(s, c);
	return 0;
}

struct tcp_conn *tcp_conn_import(struct tcp_stack *s, const struct tcp_export *x,
				 const struct tcp_app_ops *app)
{
	struct tcp_conn *c = tcp_conn_alloc(s, x->laddr_be, x->lport, x->raddr_be, x->rport);

	if (!c)
		return NULL;
	c->snd_wscale = x->snd_wscale;
	c->rcv_wscale = x->rcv_wscale;
	c->smss = x->smss;
	c->mss_adv = x->mss_adv;
	c->app_id = x->app_id;
	c->flags = x->flags;
	c->iss = x->iss;
	c->snd_una = c->snd_nxt = c->snd_max = x->snd_una;
	c->snd_wnd = x->snd_wnd;
	c->snd_wl1 = x->snd_wl1;
	c->snd_wl2 = x->snd_wl2;
	c->max_snd_wnd = x->max_snd_wnd;
	c->irs = x->irs;
	c->rcv_nxt = x->rcv_nxt;
	c->rcv_adv = x->rcv_adv;
	c->ts_recent = x->ts_recent;
	/* RFC 7323 5.4: our TSvals must not go backwards on another clock */
	c->ts_off = x->tsval - s->now_ms;
	c->rtt = x->rtt;
	c->cc = x->cc;
	tcp_sb_init(&c->sb, c->snd_una);
	c->v.port = x->v.port;
	c->v.role = x->v.role;
	c->v.rule_id = x->v.rule_id;
	c->v.bytes_in = x->v.bytes_in;
	c->v.bytes_out = x->v.bytes_out;
	c->v.start_tsc = x->v.start_tsc;
	c->app = app;
	tcp_set_state(s, c, TCP_ESTABLISHED);
	if (s->p.tp.idle_ms)
		tcp_timer_arm_ms(s, &c->t_life, TCP_T_IDLE, s->p.tp.idle_ms);
	if (s->p.keepalive)
		tcp_timer_arm_ms(s, &c->t_ka, TCP_T_KEEPALIVE, tcp_timer_keepalive_ms(&s->p.tp, 0));
	return c;
}

/* --- ISS and timestamps ------------------------------------------------ */

struct tuple {
	uint32_t laddr, raddr;
	uint16_t lport, rport;
	uint32_t salt;
};

/* RFC 6528 3: ISN = M + F(4-tuple, secret), M a 4 us clock. */
uint32_t tcp_iss(struct tcp_stack *s, uint32_t laddr, uint16_t lport, uint32_t raddr,
		 uint16_t rport)
{
	struct tuple t = { laddr, raddr, lport, rport, 0 };

	return (uint32_t)siphash24(&s->iss_key, &t, sizeof(t)) +
	       (uint32_t)(s->now_tsc / (s->tsc_hz / 250000));
}

/* RFC 7323 5.4 / 7.1: a per-connection offset so TSval reveals no clock. */
uint32_t tcp_ts_off(struct tcp_stack *s, uint32_t laddr, uint16_t lport, uint32_t raddr,
		    uint16_t rport)
{
	struct tuple t = { laddr, raddr, lport, rport, 1 };

	return (uint32_t)siphash24(&s->iss_key, &t, sizeof(t));
}

/* --- timers ------------------------------------------------------------- */

void tcp_timer_arm_ms(struct tcp_stack *s, struct tcp_timer *t, unsigned int kind, uint32_t ms)
{
	t->kind = (uint8_t)kind;
	tcp_timer_arm(&s->wheel, t, (uint64_t)s->now_ms + (ms ? ms : 1));
}

static void wheel_cb(struct tcp_timer *t, void *ctx)
{
	struct tcp_stack *s = ctx;
	struct tcp_conn *c;

	switch (t->kind) {
	case TCP_T_RTO:
	case TCP_T_PERSIST:
		c = (struct tcp_conn *)((uint8_t *)t - offsetof(struct tcp_conn, t_rtx));
		break;
	case TCP_T_DELACK:
		c = (struct tcp_conn *)((uint8_t *)t - offsetof(struct tcp_conn, t_delack));
		break;
	case TCP_T_KEEPALIVE:
		c = (struct tcp_conn *)((uint8_t *)t - offsetof(struct tcp_conn, t_ka));
		break;
	default:
		c = (struct tcp_conn *)((uint8_t *)t - offsetof(struct tcp_conn, t_life));
		break;
	}
	tcp_timer_fire(s, c, t);
}

void tcp_stack_tick(struct tcp_stack *s, uint64_t tsc)
{
	uint64_t per_ms = s->tsc_hz / 1000;

	uint64_t n;

	if (unlikely(s->n_kill))
		kill_run(s);
	s->now_tsc = tsc;
	if (tsc - s->last_tick_tsc < per_ms)
		return;
	n = (tsc - s->last_tick_tsc) / per_ms;
	s->last_tick_tsc += n * per_ms;
	s->now_ms += (uint32_t)n;
	/* memory pressure, once a tick: every queued byte is an mbuf of this
	 * pool, and the windows we advertise are promises of more */
	s->mem_low = rte_mempool_avail_count(s->w->pool) < s->w->pool->size / 4;
	if (s->wheel.armed)
		tcp_wheel_advance(&s->wheel, s->now_ms, wheel_cb, s);
	else
		s->wheel.now = s->now_ms;
}
