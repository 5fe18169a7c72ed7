/*
 * A worker's route list and next-hop pool: pure bookkeeping next to the
 * worker's rte_lpm.  The list lives in shared memory (struct sl_route_table)
 * so sluice-cp can show it after a restart; writers bracket changes with the
 * table's seqcount.
 */
#ifndef SLUICE_ROUTE_LIST_H
#define SLUICE_ROUTE_LIST_H

#include <stdint.h>
#include <sluice/shm.h>

#define NH_MAX 256 /* distinct next hops per worker; LPM values index this pool */

struct nexthop {
	uint8_t type;       /* enum sl_route_type */
	uint16_t port;
	uint32_t gw;        /* host order; GATEWAY only */
	uint32_t refcnt;    /* routes using it; 0 = free slot */
	/* fast-path neighbour cache, worker-owned: position in the neighbour
	 * table and the slot generation it was valid for (GATEWAY only) */
	int32_t neigh_pos;
	uint32_t neigh_gen;
};

struct nh_pool {
	struct nexthop nh[NH_MAX];
};

/* Take a reference on the next hop (type, port, gw), allocating it if new.
 * Returns its index or -ENOSPC. */
int nh_get(struct nh_pool *pool, uint8_t type, uint16_t port, uint32_t gw);
void nh_put(struct nh_pool *pool, int idx);

static inline uint32_t route_mask(uint8_t plen)
{
	return plen ? ~0u << (32 - plen) : 0;
}

/* Index of the exact (prefix, plen) entry or -ENOENT. */
int route_list_find(const struct sl_route_table *t, uint32_t prefix, uint8_t plen);
/* 0, -EINVAL (plen > 32 or host bits set), -EEXIST, -ENOSPC. */
int route_list_add(struct sl_route_table *t, const struct sl_route *r);
/* 0 and *old = the removed entry, or -ENOENT. */
int route_list_del(struct sl_route_table *t, uint32_t prefix, uint8_t plen, struct sl_route *old);

#endif
