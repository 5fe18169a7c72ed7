/*
 * Ring commands a worker applies to its own tables between bursts, and the
 * replies that let sluice-cp report an outcome only once it is true.
 */
#include <errno.h>
#include <string.h>

#include <rte_ring_elem.h>

#include <sluice/cpdp.h>
#include "agent/agent_dp.h"
#include "worker.h"
#include "flow/rule_match.h"

int worker_route_add(struct worker *w, const struct sl_route *r)
{
	uint32_t gw = r->type == SL_RT_GATEWAY ? r->gw : 0;
	int nh, ret;

	if (r->port >= dp.n_ports)
		return -EINVAL;
	ret = route_list_add(&w->shm->rt, r);
	if (ret)
		return ret;
	nh = nh_get(&w->nhp, r->type, r->port, gw);
	if (nh < 0) {
		route_list_del(&w->shm->rt, r->prefix, r->plen, NULL);
		return nh;
	}
	ret = rte_lpm_add(w->lpm, r->prefix, r->plen, (uint32_t)nh);
	if (ret) {
		nh_put(&w->nhp, nh);
		route_list_del(&w->shm->rt, r->prefix, r->plen, NULL);
		return ret == -ENOSPC ? -ENOSPC : ret;
	}
	return 0;
}

int worker_route_del(struct worker *w, uint32_t prefix, uint8_t plen)
{
	struct sl_route_table *t = &w->shm->rt;
	int i = route_list_find(t, prefix, plen);
	uint32_t nh;
	int ret;

	if (i < 0)
		return i;
	/* the appliance's own /32s are not routes an operator can take away */
	if (t->r[i].type == SL_RT_LOCAL)
		return -EPERM;
	ret = rte_lpm_is_rule_present(w->lpm, prefix, plen, &nh);
	if (ret != 1)
		return -ENOENT;
	ret = rte_lpm_delete(w->lpm, prefix, plen);
	if (ret)
		return ret;
	nh_put(&w->nhp, (int)nh);
	return route_list_del(t, prefix, plen, NULL);
}

int worker_rule_add(struct worker *w, const struct sl_rule *r)
{
	int ret;

	/* both legs of a proxied connection meet on one worker: the server
	 * leg's port is chosen so (tcp_connect), and the other workers hand
	 * its packets over (flow/dispatch.h) */
	ret = rule_list_add(&w->shm->rules, r);

	worker_rules_changed(w);
	return ret;
}

void worker_rules_changed(struct worker *w)
{
	w->n_rules = w->shm->rules.n;
	w->n_transparent = 0;
	for (uint32_t i = 0; i < w->n_rules; i++)
		w->n_transparent += !!(w->shm->rules.r[i].flags & SL_RF_TRANSPARENT);
}

static int32_t apply(struct worker *w, const struct cpdp_msg *m)
{
	const struct cpdp_route *cr = &m->u.route;
	const struct cpdp_impair *ci = &m->u.impair;
	int ret = cpdp_msg_check(m);

	if (ret)
		return ret;
	switch (m->type) {
	case CPDP_NOP:
		return 0;
	case CPDP_ROUTE_ADD: {
		struct sl_route r = {
			.prefix = cr->prefix, .plen = cr->plen, .type = cr->type,
			.origin = cr->origin, .port = cr->port,
			.gw = cr->gw,
		};
		return worker_route_add(w, &r);
	}
	case CPDP_ROUTE_DEL:
		return worker_route_del(w, cr->prefix, cr->plen);
	case CPDP_IMPAIR_SET: {
		struct sl_impair_dir d = {
			.drop_ppm = ci->drop_ppm, .reorder_ppm = ci->reorder_ppm,
			.dup_ppm = ci->dup_ppm,
		};
		if (ci->port >= dp.n_ports)
			return -EINVAL;
		worker_impair_set(w, ci->port, ci->dir_mask, &d, ci->seed);
		return 0;
	}
	case CPDP_STATS_CLEAR:
	{
		/* gauges describe the present, not a history: keep them */
		struct sl_tcp_stats keep = w->st->tcp;
		struct sl_agent_stats akeep = w->st->agent;

		memset(w->st, 0, sizeof(*w->st));
		w->st->agent.held = akeep.held;
		w->st->agent.pings_pending = akeep.pings_pending;
		w->st->tcp = (struct sl_tcp_stats){
			.active = keep.active, .syn_received = keep.syn_received,
			.syn_sent = keep.syn_sent, .established = keep.established,
			.closing = keep.closing, .time_wait = keep.time_wait,
		};
	}
		memset(w->shm->rules.hits, 0, sizeof(w->shm->rules.hits));
		return 0;
	case CPDP_ACL_SET:
		return agent_dp_acl_set(w, m->u.acl.buf, m->u.acl.n);
	case CPDP_RULE_ADD: {
		const struct cpdp_rule *c = &m->u.rule;
		struct sl_rule r = {
			.id = c->id, .src = c->src, .dst = c->dst, .src_plen = c->src_plen,
			.dst_plen = c->dst_plen, .proto = c->proto, .action = c->action,
			.dport_lo = c->dport_lo, .dport_hi = c->dport_hi, .flags = c->flags,
			.app = c->app,
		};
		return worker_rule_add(w, &r);
	}
	case CPDP_RULE_DEL:
		ret = rule_list_del(&w->shm->rules, m->u.rule.id);
		worker_rules_changed(w);
		return ret;
	default:
		return -EOPNOTSUPP;
	}
}

void worker_poll_cmds(struct worker *w)
{
	struct cpdp_msg m, r;

	/* a few per visit: commands must never starve the packets */
	for (int i = 0; i < 8; i++) {
		if (rte_ring_sc_dequeue_elem(w->cmd, &m, sizeof(m)) != 0)
			return;
		cpdp_reply_encode(&r, &m, apply(w, &m));
		w->st->cmds++;
		/* a full event ring means no cp is listening: it times out */
		(void)rte_ring_sp_enqueue_elem(w->evt, &r, sizeof(r));
	}
}
