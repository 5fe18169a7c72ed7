/* Route list and next-hop pool bookkeeping (see route_list.h). */
#include <errno.h>
#include <string.h>

#include "route_list.h"

int nh_get(struct nh_pool *pool, uint8_t type, uint16_t port, uint32_t gw)
{
	int free_idx = -1;

	for (int i = 0; i < NH_MAX; i++) {
		struct nexthop *nh = &pool->nh[i];

		if (nh->refcnt == 0) {
			if (free_idx < 0)
				free_idx = i;
			continue;
		}
		if (nh->type == type && nh->port == port && nh->gw == gw) {
			nh->refcnt++;
			return i;
		}
	}
	if (free_idx < 0)
		return -ENOSPC;
	pool->nh[free_idx] = (struct nexthop){
		.type = type, .port = port, .gw = gw, .refcnt = 1, .neigh_pos = -1,
	};
	return free_idx;
}

void nh_put(struct nh_pool *pool, int idx)
{
	if (idx >= 0 && idx < NH_MAX && pool->nh[idx].refcnt > 0)
		pool->nh[idx].refcnt--;
}

int route_list_find(const struct sl_route_table *t, uint32_t prefix, uint8_t plen)
{
	for (uint32_t i = 0; i < t->n; i++)
		if (t->r[i].prefix == prefix && t->r[i].plen == plen)
			return (int)i;
	return -ENOENT;
}

int route_list_add(struct sl_route_table *t, const struct sl_route *r)
{
	if (r->plen > 32 || (r->prefix & ~route_mask(r->plen)) != 0)
		return -EINVAL;
	if (route_list_find(t, r->prefix, r->plen) >= 0)
		return -EEXIST;
	if (t->n >= SL_ROUTES_MAX)
		return -ENOSPC;
	rte_seqcount_write_begin(&t->seq);
	t->r[t->n++] = *r;
	rte_seqcount_write_end(&t->seq);
	return 0;
}

int route_list_del(struct sl_route_table *t, uint32_t prefix, uint8_t plen, struct sl_route *old)
{
	int i = route_list_find(t, prefix, plen);

	if (i < 0)
		return i;
	if (old)
		*old = t->r[i];
	rte_seqcount_write_begin(&t->seq);
	/* keep the list in insertion order for `show routes` */
	memmove(&t->r[i], &t->r[i + 1], (t->n - (uint32_t)i - 1) * sizeof(t->r[0]));
	t->n--;
	rte_seqcount_write_end(&t->seq);
	return 0;
}
