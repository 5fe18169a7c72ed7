/*
 * Neighbour table on the main lcore: owns every entry, runs the state machine
 * (neigh_sm.c), queues packets awaiting resolution and publishes MACs to the
 * workers (see neigh.h for the concurrency contract).
 */
#include <errno.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>

#include "dp.h"
#include "neigh.h"
#include "arp.h"

struct neigh_table *neigh_table_create(uint32_t max, const struct neigh_params *p,
				       uint32_t pending_per_entry, uint32_t pending_max,
				       struct rte_rcu_qsbr *qsbr)
{
	struct rte_hash_parameters hp = {
		.name = "sl_neigh",
		.entries = max,
		.key_len = sizeof(struct neigh_key),
		.hash_func = rte_hash_crc,
		.socket_id = (int)rte_socket_id(),
		/* one writer (main), lock-free readers (workers) */
		.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF,
	};
	struct rte_hash_rcu_config rc = {
		.v = qsbr,
		.mode = RTE_HASH_QSBR_MODE_DQ,
	};
	struct neigh_table *t;

	if (pending_per_entry > NEIGH_PENDING_CAP)
		pending_per_entry = NEIGH_PENDING_CAP;
	t = rte_zmalloc("sl_neigh_t", sizeof(*t), RTE_CACHE_LINE_SIZE);
	if (!t)
		return NULL;
	t->h = rte_hash_create(&hp);
	if (!t->h)
		goto fail;
	if (rte_hash_rcu_qsbr_add(t->h, &rc) != 0)
		goto fail;
	/* rte_hash may return positions up to its internal slot count, which
	 * exceeds `entries`; size the array by what it can hand out. */
	t->max = rte_hash_max_key_id(t->h) + 1;
	t->e = rte_zmalloc("sl_neigh_e", (size_t)t->max * sizeof(t->e[0]), RTE_CACHE_LINE_SIZE);
	if (!t->e)
		goto fail;
	t->params = *p;
	t->pending_per_entry = pending_per_entry;
	t->pending_max = pending_max;
	return t;
fail:
	if (t->h)
		rte_hash_free(t->h);
	rte_free(t);
	return NULL;
}

static void publish_mac(struct neigh_entry *e, const uint8_t mac[6])
{
	uint64_t v = 0;

	memcpy(&v, mac, 6);
	__atomic_store_n(&e->mac, v | NEIGH_MAC_VALID, __ATOMIC_RELEASE);
}

/* Resolution failed: every queued packet earns its sender an ICMP host
 * unreachable (rate-limited on the worker) and is dropped there. */
static void fail_pending(struct neigh_table *t, struct neigh_entry *e)
{
	for (unsigned int i = 0; i < e->npending; i++)
		main_unreachable(e->pending[i]);
	t->pending_total -= e->npending;
	e->npending = 0;
}

static void tx_resolved(struct neigh_entry *e, struct rte_mbuf *m)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	uint64_t v = e->mac;

	memcpy(eth->dst_addr.addr_bytes, &v, RTE_ETHER_ADDR_LEN);
	rte_ether_addr_copy(&dp.ports[e->key.port].mac, &eth->src_addr);
	main_tx(e->key.port, m);
}

static void flush_pending(struct neigh_table *t, struct neigh_entry *e)
{
	for (unsigned int i = 0; i < e->npending; i++)
		tx_resolved(e, e->pending[i]);
	t->pending_total -= e->npending;
	e->npending = 0;
}

static void entry_delete(struct neigh_table *t, int32_t pos)
{
	struct neigh_entry *e = &t->e[pos];

	fail_pending(t, e);
	__atomic_store_n(&e->mac, 0, __ATOMIC_RELEASE);
	__atomic_fetch_add(&e->gen, 1, __ATOMIC_RELEASE);
	e->in_use = 0;
	/* the key slot returns to the free list only after every worker has
	 * passed a quiescent state (RTE_HASH_QSBR_MODE_DQ) */
	rte_hash_del_key(t->h, &e->key);
	t->dirty = 1;
}

static void apply(struct neigh_table *t, int32_t pos, unsigned int act, struct rte_mbuf *m)
{
	struct neigh_entry *e = &t->e[pos];
	struct sl_lcore_stats *st = main_stats();

	if (act & NEIGH_ACT_SEND_BCAST)
		arp_send_request(e->key.port, e->key.ip, NULL);
	if (act & NEIGH_ACT_SEND_UCAST) {
		uint64_t v = e->mac;
		arp_send_request(e->key.port, e->key.ip, (const uint8_t *)&v);
	}
	if (m) {
		if (act & NEIGH_ACT_FLUSH) {
			tx_resolved(e, m);
		} else if (act & NEIGH_ACT_QUEUE) {
			if (e->npending >= t->pending_per_entry || t->pending_total >= t->pending_max) {
				st->drops[SL_DROP_NEIGH_PENDING_FULL]++;
				rte_pktmbuf_free(m);
			} else {
				e->pending[e->npending++] = m;
				t->pending_total++;
			}
		} else {
			main_unreachable(m);
		}
	}
	if (act & NEIGH_ACT_FLUSH)
		flush_pending(t, e);
	if (act & NEIGH_ACT_DROP)
		fail_pending(t, e);
	if (act & NEIGH_ACT_DELETE)
		entry_delete(t, pos);
	t->dirty = 1;
}

static int32_t entry_get(struct neigh_table *t, uint32_t ip, uint16_t port, int create)
{
	struct neigh_key k = { .ip = ip, .port = port };
	int32_t pos = rte_hash_lookup(t->h, &k);
	struct neigh_entry *e;

	if (pos >= 0 || !create)
		return pos;
	pos = rte_hash_add_key(t->h, &k);
	if (pos < 0)
		return pos;
	e = &t->e[pos];
	e->key = k;
	e->in_use = 1;
	e->npending = 0;
	memset(&e->sm, 0, sizeof(e->sm));
	__atomic_store_n(&e->mac, 0, __ATOMIC_RELEASE);
	return pos;
}

int neigh_add_static(struct neigh_table *t, uint32_t ip, uint16_t port, const uint8_t mac[6],
		     uint64_t now_ms)
{
	int32_t pos = entry_get(t, ip, port, 1);

	if (pos < 0)
		return pos;
	neigh_sm_event(&t->e[pos].sm, NEIGH_EV_STATIC, now_ms, &t->params);
	publish_mac(&t->e[pos], mac);
	t->dirty = 1;
	return 0;
}

void neigh_resolve(struct neigh_table *t, struct rte_mbuf *m, uint64_t now_ms)
{
	uint32_t ip = m->hash.usr;
	uint16_t port = m->port;
	int32_t pos = entry_get(t, ip, port, 1);

	if (pos < 0) {
		main_stats()->drops[SL_DROP_NEIGH_TABLE_FULL]++;
		rte_pktmbuf_free(m);
		return;
	}
	apply(t, pos, neigh_sm_event(&t->e[pos].sm, NEIGH_EV_RESOLVE, now_ms, &t->params), m);
}

void neigh_confirm(struct neigh_table *t, uint32_t ip, uint16_t port, const uint8_t mac[6],
		   int create, uint64_t now_ms)
{
	int32_t pos = entry_get(t, ip, port, create);
	struct neigh_entry *e;
	unsigned int act;

	if (pos < 0) {
		if (create)
			main_stats()->drops[SL_DROP_NEIGH_TABLE_FULL]++;
		return;
	}
	e = &t->e[pos];
	act = neigh_sm_event(&e->sm, NEIGH_EV_CONFIRM, now_ms, &t->params);
	if (e->sm.state != SL_NEIGH_PERMANENT)
		publish_mac(e, mac);
	apply(t, pos, act, NULL);
}

void neigh_tick(struct neigh_table *t, uint64_t now_ms)
{
	for (uint32_t i = 0; i < t->max; i++) {
		struct neigh_entry *e = &t->e[i];
		unsigned int act;

		if (!e->in_use || e->sm.deadline == 0 || now_ms < e->sm.deadline)
			continue;
		act = neigh_sm_event(&e->sm, NEIGH_EV_TIMER, now_ms, &t->params);
		if (act)
			apply(t, (int32_t)i, act, NULL);
	}
}

void neigh_publish(struct neigh_table *t, struct sl_neigh_view *v, uint64_t now_ms)
{
	uint32_t n = 0;

	rte_seqcount_write_begin(&v->seq);
	for (uint32_t i = 0; i < t->max && n < SL_NEIGH_MAX; i++) {
		const struct neigh_entry *e = &t->e[i];
		struct sl_neigh_view_entry *ve;
		uint64_t mac = e->mac;

		if (!e->in_use)
			continue;
		ve = &v->e[n++];
		ve->ip = e->key.ip;
		ve->port = e->key.port;
		memcpy(ve->mac, &mac, 6);
		if (!(mac & NEIGH_MAC_VALID))
			memset(ve->mac, 0, 6);
		ve->state = e->sm.state;
		ve->probes = e->sm.probes;
		ve->pending = e->npending;
		ve->age_ms = e->sm.confirmed ? (uint32_t)(now_ms - e->sm.confirmed) : 0;
	}
	v->n = n;
	rte_seqcount_write_end(&v->seq);
	t->dirty = 0;
}
