/* Policy rule list bookkeeping (see rule_match.h). */
#include <errno.h>
#include <string.h>

#include "rule_match.h"

int rule_validate(const struct sl_rule *r)
{
	if (r->src_plen > 32 || r->dst_plen > 32)
		return -EINVAL;
	if ((r->src & ~rule_mask(r->src_plen)) || (r->dst & ~rule_mask(r->dst_plen)))
		return -EINVAL;
	if (r->proto != 0 && r->proto != 1 && r->proto != 6 && r->proto != 17)
		return -EINVAL;
	if (r->dport_lo > r->dport_hi)
		return -EINVAL;
	/* ports only mean something for TCP and UDP */
	if ((r->dport_lo != 0 || r->dport_hi != 65535) && r->proto != 6 && r->proto != 17)
		return -EINVAL;
	if (r->action < SL_RA_FORWARD || r->action > SL_RA_DENY)
		return -EINVAL;
	/* the TLS actions and deny belong to an application, nothing else does */
	if ((r->action == SL_RA_TLS_TERM || r->action == SL_RA_TLS_ORIG || r->action == SL_RA_DENY) !=
	    (r->app != 0) || r->app > SL_APPS_MAX)
		return -EINVAL;
	if ((r->action == SL_RA_TLS_TERM || r->action == SL_RA_TLS_ORIG) && r->proto != 6)
		return -EINVAL;
	/* the proxy terminates TCP; transparent only means something to it */
	if (r->action == SL_RA_PROXY && r->proto != 6)
		return -EINVAL;
	if ((r->flags & ~SL_RF_TRANSPARENT) ||
	    ((r->flags & SL_RF_TRANSPARENT) && r->action != SL_RA_PROXY && r->action != SL_RA_TLS_TERM &&
	     r->action != SL_RA_TLS_ORIG))
		return -EINVAL;
	return 0;
}

int rule_list_find(const struct sl_rule_table *t, uint32_t id)
{
	for (uint32_t i = 0; i < t->n; i++)
		if (t->r[i].id == id)
			return (int)i;
	return -ENOENT;
}

int rule_list_add(struct sl_rule_table *t, const struct sl_rule *r)
{
	int ret = rule_validate(r);

	if (ret)
		return ret;
	if (r->id == 0)
		return -EINVAL;
	if (rule_list_find(t, r->id) >= 0)
		return -EEXIST;
	if (t->n >= SL_RULES_MAX)
		return -ENOSPC;
	rte_seqcount_write_begin(&t->seq);
	t->r[t->n] = *r;
	t->hits[t->n] = 0;
	t->n++;
	rte_seqcount_write_end(&t->seq);
	return 0;
}

int rule_list_del(struct sl_rule_table *t, uint32_t id)
{
	int i = rule_list_find(t, id);
	uint32_t tail;

	if (i < 0)
		return i;
	tail = t->n - (uint32_t)i - 1;
	rte_seqcount_write_begin(&t->seq);
	memmove(&t->r[i], &t->r[i + 1], tail * sizeof(t->r[0]));
	memmove(&t->hits[i], &t->hits[i + 1], tail * sizeof(t->hits[0]));
	t->n--;
	rte_seqcount_write_end(&t->seq);
	return 0;
}
