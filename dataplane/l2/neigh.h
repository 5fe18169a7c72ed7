/*
 * Neighbour table.  Owner and only writer: the main lcore.  Workers look up
 * MACs lock-free: rte_hash in RW_CONCURRENCY_LF mode, key slots recycled only
 * after an RCU grace period (rte_hash_rcu_qsbr_add), and the MAC published as
 * one atomic 64-bit word per entry.
 */
#ifndef SLUICE_NEIGH_H
#define SLUICE_NEIGH_H

#include <stdint.h>
#include <string.h>

#include <rte_hash.h>
#include <rte_mbuf.h>
#include <rte_ether.h>

#include "neigh_sm.h"

#define NEIGH_PENDING_CAP 64
#define NEIGH_MAC_VALID (1ull << 63)

struct neigh_key {
	uint32_t ip;   /* host order */
	uint16_t port;
	uint16_t pad;
};

struct neigh_entry {
	/* main: rw, workers: ro (atomic) */
	uint64_t mac;        /* low 48 bits: MAC bytes; NEIGH_MAC_VALID when usable */
	uint32_t gen;        /* bumped when the entry is deleted */
	/* main only */
	uint8_t in_use;
	uint16_t npending;
	struct neigh_key key;
	struct neigh_sm sm;
	struct rte_mbuf *pending[NEIGH_PENDING_CAP];
} __rte_cache_aligned;

struct neigh_table {
	struct rte_hash *h;
	struct neigh_entry *e;  /* indexed by rte_hash key position */
	uint32_t max;
	uint32_t pending_total;
	uint32_t pending_per_entry, pending_max;
	struct neigh_params params;
	int dirty;              /* the shared view needs republishing */
};

/* Worker side: the MAC for (ip, port) if usable.  pos and gen cache the slot;
 * pass pos = -1 to force a hash lookup. */
static inline int neigh_lookup(const struct neigh_table *t, uint32_t ip, uint16_t port,
			       int32_t *pos, uint32_t *gen, struct rte_ether_addr *mac)
{
	const struct neigh_entry *e;
	uint64_t v;

	if (*pos >= 0) {
		e = &t->e[*pos];
		if (__atomic_load_n(&e->gen, __ATOMIC_ACQUIRE) == *gen) {
			v = __atomic_load_n(&e->mac, __ATOMIC_ACQUIRE);
			if (v & NEIGH_MAC_VALID)
				goto found;
		}
	}
	{
		struct neigh_key k = { .ip = ip, .port = port };
		int32_t p = rte_hash_lookup(t->h, &k);

		if (p < 0)
			return -1;
		e = &t->e[p];
		*gen = __atomic_load_n(&e->gen, __ATOMIC_ACQUIRE);
		v = __atomic_load_n(&e->mac, __ATOMIC_ACQUIRE);
		if (!(v & NEIGH_MAC_VALID))
			return -1;
		*pos = p;
	}
found:
	memcpy(mac->addr_bytes, &v, RTE_ETHER_ADDR_LEN);
	return 0;
}

/* Main lcore side. */
struct neigh_table *neigh_table_create(uint32_t max, const struct neigh_params *p,
				       uint32_t pending_per_entry, uint32_t pending_max,
				       struct rte_rcu_qsbr *qsbr);
int neigh_add_static(struct neigh_table *t, uint32_t ip, uint16_t port, const uint8_t mac[6],
		     uint64_t now_ms);
/* A packet from a worker that needs (m->hash.usr, m->port) resolved. */
void neigh_resolve(struct neigh_table *t, struct rte_mbuf *m, uint64_t now_ms);
/* An ARP from (ip, port) told us its MAC; `create` when we were its target. */
void neigh_confirm(struct neigh_table *t, uint32_t ip, uint16_t port, const uint8_t mac[6],
		   int create, uint64_t now_ms);
void neigh_tick(struct neigh_table *t, uint64_t now_ms);
void neigh_publish(struct neigh_table *t, struct sl_neigh_view *v, uint64_t now_ms);

#endif
