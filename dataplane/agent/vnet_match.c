/*
 * vnet_match.h: linear over small tables.  Client prefixes and routes are a
 * handful per vnet; ACLs are first-match lists in file order.
 */
#include "vnet_match.h"

static inline uint32_t mask_of(unsigned int plen)
{
	return plen == 0 ? 0 : ~0u << (32 - plen);
}

int vnet_of(const struct sl_vnet_def *v, unsigned int n, uint32_t src)
{
	for (unsigned int i = 0; i < n; i++)
		for (unsigned int k = 0; k < v[i].n_clients; k++)
			if ((src & mask_of(v[i].clients[k].plen)) == v[i].clients[k].prefix)
				return (int)i;
	return -1;
}

int vnet_route(const struct sl_vnet_def *v, uint32_t dst)
{
	int best = -1, best_plen = -1;

	for (unsigned int i = 0; i < v->n_routes; i++) {
		const struct sl_vnet_route *r = &v->routes[i];

		if ((dst & mask_of(r->plen)) == r->prefix && (int)r->plen > best_plen) {
			best = r->agent;
			best_plen = r->plen;
		}
	}
	return best;
}

int acl_match(const struct sl_acl_rule *r, unsigned int n, const struct acl_pkt *p)
{
	for (unsigned int i = 0; i < n; i++) {
		const struct sl_acl_rule *x = &r[i];

		if (x->vnet != p->vnet)
			continue;
		if (x->proto && x->proto != p->proto)
			continue;
		if ((p->src & mask_of(x->src_plen)) != x->src ||
		    (p->dst & mask_of(x->dst_plen)) != x->dst)
			continue;
		if (x->proto == 6 || x->proto == 17) {
			int any_ports = x->sport_lo == 0 && x->sport_hi == 65535 &&
					x->dport_lo == 0 && x->dport_hi == 65535;

			/* a port rule never matches a packet without ports (a
			 * later fragment): it could not have been checked */
			if (!p->has_ports && !any_ports)
				continue;
			if (p->has_ports && (p->sport < x->sport_lo || p->sport > x->sport_hi ||
					     p->dport < x->dport_lo || p->dport > x->dport_hi))
				continue;
		}
		return (int)i;
	}
	return -1;
}
