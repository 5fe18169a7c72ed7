/*
 * Policy rule list and first-match lookup (P3).  Pure logic over the
 * worker's rule table in shared memory; writers bracket changes with the
 * table's seqcount so sluice-cp reads a consistent list.
 */
#ifndef SLUICE_RULE_MATCH_H
#define SLUICE_RULE_MATCH_H

#include <stdint.h>
#include <sluice/shm.h>

/* What of a packet the rules look at (host order). */
struct rule_pkt {
	uint32_t src, dst;
	uint8_t proto;
	uint8_t has_port; /* 0 for non-TCP/UDP and non-first fragments */
	uint16_t dport;
};

static inline uint32_t rule_mask(uint8_t plen)
{
	return plen ? ~0u << (32 - plen) : 0;
}

static inline int rule_hit(const struct sl_rule *r, const struct rule_pkt *p)
{
	if (((p->dst ^ r->dst) & rule_mask(r->dst_plen)) ||
	    ((p->src ^ r->src) & rule_mask(r->src_plen)))
		return 0;
	if (r->proto && r->proto != p->proto)
		return 0;
	if (r->dport_lo == 0 && r->dport_hi == 65535)
		return 1;
	/* a port range cannot match what has no port (RFC 1858: a later
	 * fragment carries no header to check) */
	return p->has_port && p->dport >= r->dport_lo && p->dport <= r->dport_hi;
}

/* Position of the first rule matching p, or -1. */
static inline int rule_match(const struct sl_rule_table *t, const struct rule_pkt *p)
{
	for (uint32_t i = 0; i < t->n; i++)
		if (rule_hit(&t->r[i], p))
			return (int)i;
	return -1;
}

/* Check a rule on its own: 0 or -EINVAL (prefix host bits, plen, ports,
 * action, proto 0/1/6/17 only). */
int rule_validate(const struct sl_rule *r);
/* Append: 0, -EINVAL, -EEXIST (id already used), -ENOSPC. */
int rule_list_add(struct sl_rule_table *t, const struct sl_rule *r);
/* Remove by id: 0 or -ENOENT. */
int rule_list_del(struct sl_rule_table *t, uint32_t id);
/* Position of id or -ENOENT. */
int rule_list_find(const struct sl_rule_table *t, uint32_t id);

/* Names and parsing: sl_rule_action_str / sl_parse_rule_action (common/conf.h). */

#endif
