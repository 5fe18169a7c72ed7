/*
 * Ring message codec (see include/sluice/cpdp.h).  Pure: no DPDK calls, so
 * both ends and the unit tests share exactly one definition of "valid".
 */
#include <errno.h>
#include <string.h>

#include <sluice/cpdp.h>
#include <sluice/agent_types.h>
#include <sluice/shm.h>

#define PPM_MAX 1000000u

static int prefix_ok(uint32_t prefix, uint8_t plen)
{
	uint32_t mask;

	if (plen > 32)
		return 0;
	mask = plen ? ~0u << (32 - plen) : 0;
	return (prefix & ~mask) == 0;
}

static int route_ok(const struct cpdp_route *r, int add)
{
	if (!prefix_ok(r->prefix, r->plen))
		return 0;
	if (!add)
		return 1;
	if (r->port >= SL_MAX_PORTS)
		return 0;
	if (r->origin < SL_RO_KERNEL || r->origin > SL_RO_STATIC)
		return 0;
	switch (r->type) {
	case SL_RT_DIRECT:
		return 1;
	case SL_RT_GATEWAY:
		return r->gw != 0;
	default:
		/* SL_RT_LOCAL routes come from port addresses, never from a command */
		return 0;
	}
}

static int impair_ok(const struct cpdp_impair *imp)
{
	if (imp->port >= SL_MAX_PORTS)
		return 0;
	if (imp->dir_mask == 0 || (imp->dir_mask & ~((1u << SL_DIR_MAX) - 1)))
		return 0;
	return imp->drop_ppm <= PPM_MAX && imp->reorder_ppm <= PPM_MAX &&
	       imp->dup_ppm <= PPM_MAX;
}

void cpdp_msg_init(struct cpdp_msg *m, enum cpdp_type type, uint32_t seq)
{
	memset(m, 0, sizeof(*m));
	m->version = CPDP_VERSION;
	m->type = (uint16_t)type;
	m->seq = seq;
}

int cpdp_route_add_encode(struct cpdp_msg *m, uint32_t seq, const struct cpdp_route *r)
{
	cpdp_msg_init(m, CPDP_ROUTE_ADD, seq);
	m->u.route = *r;
	memset(m->u.route.pad, 0, sizeof(m->u.route.pad));
	if (r->type != SL_RT_GATEWAY)
		m->u.route.gw = 0;
	return route_ok(&m->u.route, 1) ? 0 : -EINVAL;
}

int cpdp_route_del_encode(struct cpdp_msg *m, uint32_t seq, uint32_t prefix, uint8_t plen)
{
	cpdp_msg_init(m, CPDP_ROUTE_DEL, seq);
	m->u.route.prefix = prefix;
	m->u.route.plen = plen;
	return route_ok(&m->u.route, 0) ? 0 : -EINVAL;
}

int cpdp_impair_encode(struct cpdp_msg *m, uint32_t seq, const struct cpdp_impair *imp)
{
	cpdp_msg_init(m, CPDP_IMPAIR_SET, seq);
	m->u.impair = *imp;
	m->u.impair.pad = 0;
	return impair_ok(&m->u.impair) ? 0 : -EINVAL;
}

/* The checks a message can carry on its own; the worker also validates the
 * rule as a whole (dataplane/flow/rule_match.c). */
static int rule_ok(const struct cpdp_rule *r, int add)
{
	if (r->id == 0)
		return 0;
	if (!add)
		return 1;
	return r->src_plen <= 32 && r->dst_plen <= 32 && r->dport_lo <= r->dport_hi &&
	       r->action >= SL_RA_FORWARD && r->action <= SL_RA_DENY &&
	       r->app <= SL_APPS_MAX &&
	       (r->flags & ~SL_RF_TRANSPARENT) == 0 &&
	       (r->proto == 0 || r->proto == 1 || r->proto == 6 || r->proto == 17);
}

int cpdp_rule_add_encode(struct cpdp_msg *m, uint32_t seq, const struct cpdp_rule *r)
{
	cpdp_msg_init(m, CPDP_RULE_ADD, seq);
	m->u.rule = *r;
	return rule_ok(&m->u.rule, 1) ? 0 : -EINVAL;
}

int cpdp_rule_del_encode(struct cpdp_msg *m, uint32_t seq, uint32_t id)
{
	cpdp_msg_init(m, CPDP_RULE_DEL, seq);
	m->u.rule.id = id;
	return rule_ok(&m->u.rule, 0) ? 0 : -EINVAL;
}

static int acl_ok(const struct cpdp_acl *a)
{
	return a->buf <= 1 && a->n <= SL_ACL_RULES_MAX;
}

int cpdp_acl_set_encode(struct cpdp_msg *m, uint32_t seq, uint32_t buf, uint32_t n)
{
	cpdp_msg_init(m, CPDP_ACL_SET, seq);
	m->u.acl.buf = buf;
	m->u.acl.n = n;
	return acl_ok(&m->u.acl) ? 0 : -EINVAL;
}

void cpdp_reply_encode(struct cpdp_msg *reply, const struct cpdp_msg *req, int32_t status)
{
	cpdp_msg_init(reply, CPDP_REPLY, req->seq);
	reply->u.reply.req_type = req->type;
	reply->u.reply.status = status;
}

int cpdp_msg_check(const struct cpdp_msg *m)
{
	if (m == NULL)
		return -EINVAL;
	if (m->version != CPDP_VERSION)
		return -EPROTO;
	switch (m->type) {
	case CPDP_NOP:
	case CPDP_STATS_CLEAR:
		return 0;
	case CPDP_ROUTE_ADD:
		return route_ok(&m->u.route, 1) ? 0 : -EINVAL;
	case CPDP_ROUTE_DEL:
		return route_ok(&m->u.route, 0) ? 0 : -EINVAL;
	case CPDP_IMPAIR_SET:
		return impair_ok(&m->u.impair) ? 0 : -EINVAL;
	case CPDP_RULE_ADD:
		return rule_ok(&m->u.rule, 1) ? 0 : -EINVAL;
	case CPDP_RULE_DEL:
		return rule_ok(&m->u.rule, 0) ? 0 : -EINVAL;
	case CPDP_ACL_SET:
		return acl_ok(&m->u.acl) ? 0 : -EINVAL;
	case CPDP_REPLY:
		/* a reply answers a command; status is 0 or -errno */
		if (m->u.reply.req_type >= CPDP_TYPE_MAX || m->u.reply.status > 0)
			return -EINVAL;
		return 0;
	default:
		return -EINVAL;
	}
}

const char *cpdp_type_str(unsigned int type)
{
	static const char *const names[] = {
		[CPDP_NOP] = "nop",
		[CPDP_ROUTE_ADD] = "route_add",
		[CPDP_ROUTE_DEL] = "route_del",
		[CPDP_IMPAIR_SET] = "impair_set",
		[CPDP_STATS_CLEAR] = "stats_clear",
		[CPDP_RULE_ADD] = "rule_add",
		[CPDP_RULE_DEL] = "rule_del",
		[CPDP_ACL_SET] = "acl_set",
	};

	if (type == CPDP_REPLY)
		return "reply";
	if (type < CPDP_TYPE_MAX)
		return names[type];
	return "unknown";
}
