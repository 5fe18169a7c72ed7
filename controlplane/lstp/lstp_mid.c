/*
 * S3: the LSTP middle's pairing table (lstp_mid.h, docs/lstp.md; seed 002,
 * Figure 8).  An end's setup arrives framed by its worker; if a waiting end
 * has the same `common`, the two are paired at once (the newer end's
 * connection first moves to the waiting one's worker when they differ):
 * each is sent the other's COMMON_UNIQUE_INFO and TOPOLOGY_EXCHANGE with
 * this middle's entry appended, and the worker joins them into a relay.
 * Otherwise the end waits (bounded in all and per source address) until
 * `wait_ms`, then gets ERROR EXPIRED.  A third end with the same common
 * while a pair exists simply waits for a fourth: pairing is by arrival, as
 * in the seed.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

#include <sluice/lstp_proto.h>
#include <sluice/tls_msg.h>

#include "agent/agent_ctl.h"
#include "cmds/cmds.h"
#include "cmds/table.h"
#include "conf.h"
#include "log.h"
#include "lstp/lstp_mid.h"
#include "tls/cp_tls.h"

/* One setup: COMMON_UNIQUE_INFO and TOPOLOGY_EXCHANGE (at most 1,411 bytes) */
#define SETUP_MAX 1536
#define TICK_MS 100

struct lw {                   /* an end waiting for its peer */
	uint32_t id;            /* 0: free */
	uint8_t drop;           /* `lstp drop`: the tick ends it */
	struct cp_conn c;
	uint32_t src;
	uint16_t sport;
	uint64_t since_ms;
	struct lstp_info info;
	struct lstp_hop hop;    /* its own topology entry */
	struct lstp_topology topo; /* as it came (a cascaded middle's has more hops) */
};

struct lp {                   /* a pair, relaying on its worker */
	uint32_t id;            /* 0: free */
	uint8_t drop;
	uint8_t closed;         /* legs whose CLOSE came */
	struct cp_conn a, b;    /* a: the later arrival */
	uint32_t a_src, b_src;
	uint16_t a_sport, b_sport;
	uint64_t since_ms;
	struct lstp_info info;
	struct lstp_hop a_hop, b_hop;
	uint8_t onward;         /* b is our connection to the neighbour middle */
	uint8_t hops;           /* entries in the topology both ends got */
};

static struct {
	pthread_mutex_t mu;
	const struct sl_lstp_conf *conf;
	unsigned int n_workers;
	struct lw *w;
	struct lp *p;
	uint32_t n_waiting, n_pairs, next_id;
	uint64_t last_tick;
	uint8_t marks;          /* some entry has drop set */
	/* counters */
	uint64_t hellos, paired, moved, onward, onward_up, refused_full, refused_source, refused_pairs, expired,
		dropped, left_waiting, bad_setup, send_failed;
} L = { .mu = PTHREAD_MUTEX_INITIALIZER };

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int lstp_mid_init(const struct sl_conf *conf, unsigned int n_workers)
{
	if (!conf->lstp.enabled)
		return 0;
	L.conf = &conf->lstp;
	L.n_workers = n_workers;
	L.w = calloc(L.conf->max_waiting, sizeof(*L.w));
	L.p = calloc(L.conf->max_pairs, sizeof(*L.p));
	if (!L.w || !L.p) {
		lstp_mid_fini();
		return -ENOMEM;
	}
	L.next_id = 1;
	return 0;
}

void lstp_mid_fini(void)
{
	free(L.w);
	free(L.p);
	L.w = NULL;
	L.p = NULL;
	L.conf = NULL;
}

static uint32_t new_id(void)
{
	uint32_t id = L.next_id++;

	if (L.next_id == 0)
		L.next_id = 1;
	return id;
}

/* An ERROR, then the worker closes the connection. */
static void end_with(const struct cp_conn *c, uint16_t code, const char *text)
{
	struct lstp_msg e = { .type = LSTP_ERROR };
	uint8_t buf[LSTP_HDR_LEN + 3 + LSTP_MAX_TEXT];
	int n;

	e.u.error.code = code;
	e.u.error.text_len = (uint8_t)strnlen(text, LSTP_MAX_TEXT);
	memcpy(e.u.error.text, text, e.u.error.text_len);
	n = lstp_encode(&e, buf, sizeof(buf));
	if (cp_tls_send(c, SL_TLS_DN_LSTP_END, 0, NULL, 0, buf, n > 0 ? (uint32_t)n : 0) != 0)
		L.send_failed++;
}

static void reset(const struct cp_conn *c)
{
	if (cp_tls_send(c, SL_TLS_DN_LSTP_END, SL_LSTP_F_RESET, NULL, 0, NULL, 0) != 0)
		L.send_failed++;
}

/* Our own topology entry (seed, Figure 6: name, address, ...). */
static int own_hop(struct lstp_hop *h)
{
	*h = (struct lstp_hop){ .role = LSTP_ROLE_MIDDLE, .addr = L.conf->listen,
				.port = L.conf->port };
	h->name_len = (uint8_t)strnlen(L.conf->name, LSTP_MAX_NAME);
	memcpy(h->name, L.conf->name, h->name_len);
	return RAND_bytes(h->nonce, sizeof(h->nonce)) == 1 ? 0 : -EIO;
}

/* What one end is told of the other (or the neighbour of an end): its
 * COMMON_UNIQUE_INFO as it sent it, then its TOPOLOGY_EXCHANGE with our
 * entry appended (seed, Figure 8). */
static int told(const struct lstp_info *info, const struct lstp_topology *topo, uint8_t *out,
		size_t cap)
{
	struct lstp_msg m = { .type = LSTP_COMMON_UNIQUE_INFO };
	int n, k;

	m.u.info = *info;
	if ((n = lstp_encode(&m, out, cap)) < 0)
		return n;
	if (topo->n >= LSTP_MAX_HOPS)
		return -E2BIG;
	m = (struct lstp_msg){ .type = LSTP_TOPOLOGY_EXCHANGE };
	m.u.topo = *topo;
	if (own_hop(&m.u.topo.hop[m.u.topo.n++]) != 0)
		return -EIO;
	if ((k = lstp_encode(&m, out + n, cap - (size_t)n)) < 0)
		return k;
	return n + k;
}

static int src_count(uint32_t src)
{
	int n = 0;

	for (uint32_t i = 0; i < L.conf->max_waiting; i++)
		n += L.w[i].id && L.w[i].src == src;
	return n;
}

static struct lp *pair_slot(const struct cp_conn *c)
{
	for (uint32_t i = 0; i < L.conf->max_pairs; i++)
		if (!L.p[i].id)
			return &L.p[i];
	L.refused_pairs++;
	end_with(c, LSTP_ERR_REFUSED, "the middle carries max_pairs tunnels");
	return NULL;
}

/* Cascading: the end goes onward to the neighbour middle, which pairs it. */
static void onward(const struct cp_conn *c, const struct sl_lstp_hello *h,
		   const struct lstp_info *info, const struct lstp_topology *topo)
{
	struct {
		struct sl_lstp_onward o;
		uint8_t b[2 * SETUP_MAX];
	} msg;
	struct lp *p = pair_slot(c);
	int n;

	if (!p)
		return;
	n = told(info, topo, msg.b, sizeof(msg.b));
	if (n < 0) {
		L.bad_setup++;
		end_with(c, LSTP_ERR_REFUSED, "no room for this middle's topology entry");
		return;
	}
	*p = (struct lp){ .id = new_id(), .a = *c, .a_src = h->src, .a_sport = h->sport,
			  .since_ms = now_ms(), .info = *info, .a_hop = topo->hop[0], .onward = 1,
			  .b_src = L.conf->neighbour, .b_sport = L.conf->neighbour_port,
			  .closed = 2 /* b does not exist yet */, .hops = (uint8_t)(topo->n + 1) };
	snprintf(p->b_hop.name, sizeof(p->b_hop.name), "(neighbour)");
	msg.o = (struct sl_lstp_onward){ .pair_id = p->id, .addr = L.conf->neighbour,
					 .port = L.conf->neighbour_port, .len = (uint32_t)n };
	if (cp_tls_send(c, SL_TLS_DN_LSTP_ONWARD, 0, NULL, 0, &msg,
			(uint32_t)(sizeof(msg.o) + (size_t)n)) != 0) {
		L.send_failed++;
		p->id = 0;
		reset(c);
		return;
	}
	L.n_pairs++;
	L.onward++;
}

static int pair_now(struct lw *old, const struct cp_conn *c, const struct sl_lstp_hello *h,
		    const struct lstp_info *info, const struct lstp_topology *topo)
{
	struct {
		struct sl_lstp_pair p;
		uint8_t a[2 * SETUP_MAX], b[2 * SETUP_MAX];
	} *msg = NULL;
	uint8_t *body;
	struct lp *p = pair_slot(c);
	int na, nb;

	if (!p)
		return -ENOSPC;
	msg = malloc(sizeof(*msg));
	body = malloc(sizeof(*msg));
	if (!msg || !body) {
		free(msg);
		free(body);
		L.send_failed++;
		reset(c);
		return -ENOMEM;
	}
	/* the newer end (a) hears of the waiting one, and the other way */
	na = told(&old->info, &old->topo, msg->a, sizeof(msg->a));
	nb = told(info, topo, msg->b, sizeof(msg->b));
	if (na < 0 || nb < 0) {
		free(msg);
		free(body);
		L.bad_setup++;
		reset(c);
		return -EINVAL;
	}
	/* on another worker, a moves to b's first (a relay's legs share a
	 * worker); its worker then tells us where it lives (MOVED) */
	msg->p = (struct sl_lstp_pair){ .b_slot = old->c.slot, .b_gen = old->c.gen,
					.a_len = (uint32_t)na, .b_len = (uint32_t)nb,
					.b_worker = old->c.worker };
	*p = (struct lp){ .id = new_id(), .a = *c, .b = old->c, .a_src = h->src, .b_src = old->src,
			  .a_sport = h->sport, .b_sport = old->sport, .since_ms = now_ms(),
			  .info = *info, .a_hop = topo->hop[0], .b_hop = old->hop,
			  .hops = (uint8_t)(topo->n + old->topo.n + 1) };
	msg->p.pair_id = p->id;
	memcpy(body, &msg->p, sizeof(msg->p));
	memcpy(body + sizeof(msg->p), msg->a, (size_t)na);
	memcpy(body + sizeof(msg->p) + na, msg->b, (size_t)nb);
	if (cp_tls_send(c, SL_TLS_DN_LSTP_PAIR, 0, NULL, 0, body,
			(uint32_t)(sizeof(msg->p) + (size_t)na + (size_t)nb)) != 0) {
		L.send_failed++;
		p->id = 0;
		reset(c);
		reset(&old->c);
	} else {
		L.n_pairs++;
		L.paired++;
	}
	old->id = 0;
	L.n_waiting--;
	free(msg);
	free(body);
	return 0;
}

void lstp_mid_hello(const struct cp_conn *c, const struct sl_lstp_hello *h, const uint8_t *bytes)
{
	struct lstp_msg m1, m2;
	const char *why;
	uint16_t err;
	size_t u1, u2;
	struct lw *slot = NULL;

	if (!L.conf)
		return;
	pthread_mutex_lock(&L.mu);
	L.hellos++;
	/* the worker framed and checked them: a failure here is a bug */
	if (h->len > SETUP_MAX || lstp_parse(bytes, h->len, &m1, &u1, &why, &err) != 0 ||
	    lstp_parse(bytes + u1, h->len - u1, &m2, &u2, &why, &err) != 0 ||
	    u1 + u2 != h->len || m1.type != LSTP_COMMON_UNIQUE_INFO ||
	    m2.type != LSTP_TOPOLOGY_EXCHANGE) {
		L.bad_setup++;
		end_with(c, LSTP_ERR_MALFORMED, "setup not understood");
		goto out;
	}
	if (m2.u.topo.n >= LSTP_MAX_HOPS) {
		L.bad_setup++;
		end_with(c, LSTP_ERR_REFUSED, "the tunnel has LSTP_MAX_HOPS entries already");
		goto out;
	}
	if (L.conf->neighbour) {
		onward(c, h, &m1.u.info, &m2.u.topo);
		goto out;
	}
	for (uint32_t i = 0; i < L.conf->max_waiting; i++) {
		struct lw *e = &L.w[i];

		if (e->id && !e->drop && e->info.common_len == m1.u.info.common_len &&
		    !memcmp(e->info.common, m1.u.info.common, e->info.common_len)) {
			pair_now(e, c, h, &m1.u.info, &m2.u.topo);
			goto out;
		}
		if (!e->id && !slot)
			slot = e;
	}
	if (!slot) {
		L.refused_full++;
		end_with(c, LSTP_ERR_REFUSED, "the middle holds max_waiting ends");
		goto out;
	}
	if (src_count(h->src) >= (int)L.conf->max_per_source) {
		L.refused_source++;
		end_with(c, LSTP_ERR_REFUSED, "too many ends waiting from this address");
		goto out;
	}
	*slot = (struct lw){ .id = new_id(), .c = *c, .src = h->src, .sport = h->sport,
			     .since_ms = now_ms(), .info = m1.u.info, .hop = m2.u.topo.hop[0],
			     .topo = m2.u.topo };
	L.n_waiting++;
out:
	pthread_mutex_unlock(&L.mu);
}

static int same(const struct cp_conn *x, const struct cp_conn *y)
{
	return x->worker == y->worker && x->slot == y->slot && x->gen == y->gen;
}

void lstp_mid_closed(const struct cp_conn *c, const struct sl_lstp_close *cl)
{
	(void)cl;
	if (!L.conf)
		return;
	pthread_mutex_lock(&L.mu);
	for (uint32_t i = 0; i < L.conf->max_waiting; i++)
		if (L.w[i].id && same(&L.w[i].c, c)) {
			L.w[i].id = 0;
			L.n_waiting--;
			L.left_waiting++;
			goto out;
		}
	for (uint32_t i = 0; i < L.conf->max_pairs; i++) {
		struct lp *p = &L.p[i];

		if (p->id && (same(&p->a, c) || (!(p->closed & 2) && same(&p->b, c)))) {
			p->closed |= same(&p->a, c) ? 1 : 2;
			if (p->closed == 3) {
				p->id = 0;
				L.n_pairs--;
			}
			break;
		}
	}
out:
	pthread_mutex_unlock(&L.mu);
}

void lstp_mid_moved(const struct cp_conn *c, const struct sl_lstp_moved *mv)
{
	if (!L.conf)
		return;
	pthread_mutex_lock(&L.mu);
	for (uint32_t i = 0; i < L.conf->max_pairs; i++) {
		struct lp *p = &L.p[i];

		if (p->id == mv->pair_id) {
			p->a = (struct cp_conn){ .worker = c->worker, .app = c->app, .slot = mv->slot,
						 .gen = mv->gen };
			L.moved++;
			break;
		}
	}
	pthread_mutex_unlock(&L.mu);
}

void lstp_mid_onward_up(const struct cp_conn *c, const struct sl_lstp_moved *mv)
{
	if (!L.conf)
		return;
	pthread_mutex_lock(&L.mu);
	for (uint32_t i = 0; i < L.conf->max_pairs; i++) {
		struct lp *p = &L.p[i];

		if (p->id == mv->pair_id && p->onward) {
			p->b = (struct cp_conn){ .worker = c->worker, .app = c->app, .slot = mv->slot,
						 .gen = mv->gen };
			p->closed &= (uint8_t)~2u;
			snprintf(p->b_hop.name, sizeof(p->b_hop.name), "%s", "(neighbour)");
			L.onward_up++;
			break;
		}
	}
	pthread_mutex_unlock(&L.mu);
}

void lstp_mid_tick(void)
{
	uint64_t now;

	if (!L.conf || (!L.n_waiting && !L.marks))
		return;
	now = now_ms();
	if (now - L.last_tick < TICK_MS && !L.marks)
		return;
	L.last_tick = now;
	pthread_mutex_lock(&L.mu);
	for (uint32_t i = 0; i < L.conf->max_waiting && L.n_waiting; i++) {
		struct lw *e = &L.w[i];

		if (!e->id)
			continue;
		if (e->drop) {
			L.dropped++;
			reset(&e->c);
		} else if (now - e->since_ms >= L.conf->wait_ms) {
			L.expired++;
			end_with(&e->c, LSTP_ERR_EXPIRED, "no peer with this common information in wait_ms");
		} else {
			continue;
		}
		e->id = 0;
		L.n_waiting--;
	}
	if (L.marks) {
		for (uint32_t i = 0; i < L.conf->max_pairs; i++) {
			struct lp *p = &L.p[i];

			if (p->id && p->drop) {
				/* the worker resets both legs; their CLOSEs free it */
				L.dropped++;
				p->drop = 0;
				reset(&p->a);
			}
		}
		L.marks = 0;
	}
	pthread_mutex_unlock(&L.mu);
}

/* --- sluicectl ------------------------------------------------------------------------ */

static void ip_port(uint32_t a, uint16_t port, char *buf, size_t len)
{
	snprintf(buf, len, "%u.%u.%u.%u:%u", a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xff,
		 port);
}

/* common/unique as text when printable, else hex */
static void info_str(const uint8_t *b, unsigned int n, char *out, size_t len)
{
	unsigned int printable = 1;
	size_t off = 0;

	for (unsigned int i = 0; i < n; i++)
		printable &= b[i] >= 0x20 && b[i] < 0x7f;
	out[0] = '\0';
	if (printable) {
		snprintf(out, len, "%.*s", (int)n, (const char *)b);
		return;
	}
	for (unsigned int i = 0; i < n && off + 3 < len; i++)
		off += (size_t)snprintf(out + off, len - off, "%02x", b[i]);
}

static const char *role_str(uint8_t r)
{
	return r == LSTP_ROLE_CLIENT ? "client" : r == LSTP_ROLE_SERVER ? "server" :
	       r == LSTP_ROLE_MIDDLE ? "middle" : "?";
}

static void counters(struct cmd_ctx *c)
{
	uint64_t wv[sizeof(struct sl_lstp_stats) / sizeof(uint64_t)] = { 0 };
	static const char *const wname[] = {
#define X(name, kind, help) #name,
		SL_LSTP_STATS(X)
#undef X
	};
	_Static_assert(sizeof(wname) / sizeof(wname[0]) == sizeof(wv) / sizeof(wv[0]),
		       "struct sl_lstp_stats is the X-macro's uint64_t fields");
	const struct { const char *name; uint64_t v; } cp[] = {
		{ "setups", L.hellos },
		{ "paired_total", L.paired },
		{ "refused_full", L.refused_full },
		{ "refused_source", L.refused_source },
		{ "refused_pairs", L.refused_pairs },
		{ "moved", L.moved },
		{ "onward", L.onward },
		{ "onward_up", L.onward_up },
		{ "expired", L.expired },
		{ "dropped", L.dropped },
		{ "left_waiting", L.left_waiting },
		{ "bad_setup", L.bad_setup },
		{ "send_failed", L.send_failed },
	};

	for (unsigned int w = 0; w < c->dp->n_workers; w++) {
		const uint64_t *src = (const uint64_t *)&c->dp->shm->lcore[w].st.lstp;

		for (unsigned int i = 0; i < sizeof(wv) / sizeof(wv[0]); i++)
			wv[i] += __atomic_load_n(&src[i], __ATOMIC_RELAXED);
	}
	if (c->json) {
		json_obj(&c->j, "counters");
		for (unsigned int i = 0; i < sizeof(cp) / sizeof(cp[0]); i++)
			json_u64(&c->j, cp[i].name, cp[i].v);
		json_close(&c->j);
		json_obj(&c->j, "workers");
		for (unsigned int i = 0; i < sizeof(wv) / sizeof(wv[0]); i++)
			json_u64(&c->j, wname[i], wv[i]);
		json_close(&c->j);
		return;
	}
	for (unsigned int i = 0; i < sizeof(cp) / sizeof(cp[0]); i++)
		sbuf_printf(c->out, "%s%s %" PRIu64, i ? ", " : "", cp[i].name, cp[i].v);
	sbuf_printf(c->out, "\nworkers:");
	for (unsigned int i = 0; i < sizeof(wv) / sizeof(wv[0]); i++)
		sbuf_printf(c->out, "%s %s %" PRIu64, i ? "," : "", wname[i], wv[i]);
	sbuf_printf(c->out, "\n");
}

int cmd_show_lstp(struct cmd_ctx *c, int argc, char *argv[])
{
	static const char *const whdr[] = { ">id", "common", "unique", "name", "role", "source",
					    ">worker", ">age_s" };
	static const char *const phdr[] = { ">id", ">worker", "topology", "a", "b", "mode",
					    ">bytes_ab", ">bytes_ba", ">age_s" };
	uint64_t now = now_ms();
	struct tbl t;
	uint32_t rows = 0;

	if (cmd_no_args(c, argc, argv))
		return -1;
	if (!L.conf)
		return cmd_err(c, "no lstp section in the configuration: the middle proxy is off");
	pthread_mutex_lock(&L.mu);
	if (c->json) {
		json_obj(&c->j, NULL);
		json_arr(&c->j, "waiting");
	} else {
		sbuf_printf(c->out, "waiting (%u of max_waiting %u):\n", L.n_waiting,
			    L.conf->max_waiting);
		tbl_init(&t, sizeof(whdr) / sizeof(whdr[0]), whdr);
	}
	for (uint32_t i = 0; i < L.conf->max_waiting; i++) {
		const struct lw *e = &L.w[i];
		char common[2 * LSTP_MAX_INFO + 1], unique[2 * LSTP_MAX_INFO + 1], src[24];

		if (!e->id)
			continue;
		info_str(e->info.common, e->info.common_len, common, sizeof(common));
		info_str(e->info.unique, e->info.unique_len, unique, sizeof(unique));
		ip_port(e->src, e->sport, src, sizeof(src));
		rows++;
		if (c->json) {
			json_obj(&c->j, NULL);
			json_u64(&c->j, "id", e->id);
			json_str(&c->j, "common", common);
			json_str(&c->j, "unique", unique);
			json_str(&c->j, "name", e->hop.name);
			json_str(&c->j, "role", role_str(e->hop.role));
			json_str(&c->j, "source", src);
			json_u64(&c->j, "worker", e->c.worker);
			json_u64(&c->j, "age_ms", now - e->since_ms);
			json_close(&c->j);
		} else {
			tbl_cell(&t, "%u", e->id);
			tbl_cell(&t, "%s", common);
			tbl_cell(&t, "%s", unique);
			tbl_cell(&t, "%s", e->hop.name);
			tbl_cell(&t, "%s", role_str(e->hop.role));
			tbl_cell(&t, "%s", src);
			tbl_cell(&t, "%u", e->c.worker);
			tbl_cell(&t, "%" PRIu64, (now - e->since_ms) / 1000);
		}
	}
	if (c->json) {
		json_close(&c->j);
		json_arr(&c->j, "pairs");
	} else {
		cmd_list_end(c, &t, rows, "  none");
		sbuf_printf(c->out, "pairs (%u of max_pairs %u):\n", L.n_pairs, L.conf->max_pairs);
		tbl_init(&t, sizeof(phdr) / sizeof(phdr[0]), phdr);
	}
	rows = 0;
	for (uint32_t i = 0; i < L.conf->max_pairs; i++) {
		const struct lp *p = &L.p[i];
		struct sl_flow_ent fa, fb;
		uint64_t ab = 0, ba = 0;
		char topo[3 * (LSTP_MAX_NAME + 4)], a[24], b[24];

		if (!p->id)
			continue;
		/* a -> b: what a's leg received; b -> a: what b's leg received */
		if (cp_tls_flow(&p->a, &fa) == 0)
			ab = fa.bytes_in;
		if (cp_tls_flow(&p->b, &fb) == 0)
			ba = fb.bytes_in;
		snprintf(topo, sizeof(topo), "%s > %s > %s", p->a_hop.name, L.conf->name, p->b_hop.name);
		ip_port(p->a_src, p->a_sport, a, sizeof(a));
		ip_port(p->b_src, p->b_sport, b, sizeof(b));
		rows++;
		if (c->json) {
			json_obj(&c->j, NULL);
			json_u64(&c->j, "id", p->id);
			json_u64(&c->j, "worker", p->a.worker);
			json_arr(&c->j, "topology");
			json_str(&c->j, NULL, p->a_hop.name);
			json_str(&c->j, NULL, L.conf->name);
			json_str(&c->j, NULL, p->b_hop.name);
			json_close(&c->j);
			json_str(&c->j, "a", a);
			json_str(&c->j, "b", b);
			json_str(&c->j, "a_role", role_str(p->a_hop.role));
			json_str(&c->j, "b_role", role_str(p->b_hop.role));
			json_str(&c->j, "mode", "relay");
			json_u64(&c->j, "bytes_ab", ab);
			json_u64(&c->j, "bytes_ba", ba);
			json_u64(&c->j, "age_ms", now - p->since_ms);
			json_close(&c->j);
		} else {
			tbl_cell(&t, "%u", p->id);
			tbl_cell(&t, "%u", p->a.worker);
			tbl_cell(&t, "%s", topo);
			tbl_cell(&t, "%s", a);
			tbl_cell(&t, "%s", b);
			tbl_cell(&t, "relay");
			tbl_cell(&t, "%" PRIu64, ab);
			tbl_cell(&t, "%" PRIu64, ba);
			tbl_cell(&t, "%" PRIu64, (now - p->since_ms) / 1000);
		}
	}
	if (c->json) {
		json_close(&c->j);
		counters(c);
		json_close(&c->j);
	} else {
		cmd_list_end(c, &t, rows, "  none");
		counters(c);
	}
	pthread_mutex_unlock(&L.mu);
	return 0;
}

int cmd_lstp_drop(struct cmd_ctx *c, int argc, char *argv[])
{
	unsigned long id;
	char *end;
	int found = 0;

	if (argc != 1)
		return cmd_err(c, "usage: lstp drop ID");
	id = strtoul(argv[0], &end, 10);
	if (*end || end == argv[0] || id == 0 || id > UINT32_MAX)
		return cmd_err(c, "lstp drop: '%s' is not an id (see `show lstp`)", argv[0]);
	if (!L.conf)
		return cmd_err(c, "no lstp section in the configuration: the middle proxy is off");
	pthread_mutex_lock(&L.mu);
	for (uint32_t i = 0; i < L.conf->max_waiting && !found; i++)
		if (L.w[i].id == id)
			found = L.w[i].drop = 1;
	for (uint32_t i = 0; i < L.conf->max_pairs && !found; i++)
		if (L.p[i].id == id)
			found = L.p[i].drop = 1;
	if (found)
		L.marks = 1; /* the handshake thread's tick ends it */
	pthread_mutex_unlock(&L.mu);
	if (!found)
		return cmd_err(c, "no waiting end or pair %lu (see `show lstp`)", id);
	sbuf_printf(c->out, "%lu dropped\n", id);
	return 0;
}
