/*
 * The S4 sections of the configuration: `agents`, the TLS listener remote
 * agents dial into, and `vnets`, the virtual networks (client ranges, a
 * gateway address, the agents that serve them, routes to those agents and
 * ACL rules).  docs/config.md documents every key and changes with this file.
 *
 * conf.c calls conf_agents_parse() once the ports are known: the listener
 * and every vnet gateway must be one of their addresses.  The checks follow
 * conf.c's contract: an unknown key, a wrong type or a value out of range is
 * an error "file:line: message" naming the offending setting, through the
 * same checks (conf_walk.c).
 */
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <libconfig.h>

#include "conf.h"
#include "conf_priv.h"

#define WLEN 48      /* "vnets[15].acl[8191]" */

/* State of one parse of the two sections. */
struct ald {
	struct conf_walk w;     /* where errors go */
	struct sl_conf *c;
	/* settings of accepted entries, for "first at line N" */
	const config_setting_t *vnet_set[SL_VNETS_MAX];
	const config_setting_t *client_set[SL_VNETS_MAX][SL_VNET_CLIENTS_MAX];
	const config_setting_t *agent_set[SL_AGENTS_MAX];
	const config_setting_t *route_set[SL_VNET_ROUTES_MAX]; /* of the current vnet */
};

/* Index of the port whose own address is a, or -1. */
static int port_with_addr(const struct sl_conf *c, uint32_t a)
{
	for (unsigned int i = 0; i < c->n_ports; i++)
		if (c->ports[i].addr == a)
			return (int)i;
	return -1;
}

/* "client 198.18.0.1, server 198.19.0.1", for messages. */
static const char *port_addrs_str(const struct sl_conf *c, char *buf, size_t len)
{
	char a[16];
	size_t off = 0;

	buf[0] = '\0';
	for (unsigned int i = 0; i < c->n_ports && off < len; i++) {
		sl_format_ipv4(c->ports[i].addr, a, sizeof(a));
		off += (size_t)snprintf(buf + off, len - off, "%s%s %s", i ? ", " : "",
					c->ports[i].name, a);
	}
	return buf;
}

/* A port address named by key (listen, gateway): must be one of the ports'
 * own addresses, since the appliance answers on it. */
static int need_port_addr(struct ald *l, const config_setting_t *g, const char *key,
			  const char *where, const char *what, uint32_t *out)
{
	const config_setting_t *s;
	const char *v;
	char q[CONF_QLEN], list[384];
	int rc = conf_need_str(&l->w, g, key, where, CONF_FMTLEN, &v, &s);

	if (rc < 0)
		return rc;
	if (sl_parse_ipv4(v, out) < 0)
		return conf_fail(&l->w, s, "%s must be \"a.b.c.d\", got \"%s\"",
				 conf_qual(q, sizeof(q), key, where), v);
	if (port_with_addr(l->c, *out) < 0)
		return conf_fail(&l->w, s, "%s %s is not the address of any port (ports: %s)", what,
				 v, port_addrs_str(l->c, list, sizeof(list)));
	return 0;
}

/* Vnet and agent names: 1.. characters of [A-Za-z0-9_.-] (an agent's name is
 * its certificate's CN or DNS SAN). */
static int name_ok(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '.' && *s != '-')
			return 0;
	return 1;
}

static int check_name(struct ald *l, const config_setting_t *s, const char *what, const char *v)
{
	if (!name_ok(v))
		return conf_fail(&l->w, s,
				 "%s must be 1..%d characters of [A-Za-z0-9_.-], got \"%s\"", what,
				 SL_AGENT_NAME_LEN - 1, v);
	return 0;
}

/*
 * agents = { listen, port, cert, key, ca, hold_timeout_ms, ... }
 */

#define AF(f) offsetof(struct sl_agents_conf, f), sizeof(((struct sl_agents_conf *)0)->f)

enum {
	AK_PORT, AK_HOLD, AK_HELD_MAX, AK_PER_SOURCE, AK_PER_VNET, AK_KEEPALIVE, AK_POOL,
	AK_CONNECT, AK_PINGS, AK_PING_TIMEOUT, AK_DA_MAX, AK_DA_HOLD, AK_DA_DISCARD, AK_DQ,
	AK_DAGE, AK_REASM, AK_SA_MAX, AK_N
};

static const struct akey {
	const char *name;
	int64_t min, max;
	size_t off, size;       /* uint16_t or uint32_t field of struct sl_agents_conf */
} agents_ik[AK_N] = {
	[AK_PORT] = { "port", 1, 65535, AF(port) },
	[AK_HOLD] = { "hold_timeout_ms", 100, 60000, AF(hold_timeout_ms) },
	[AK_HELD_MAX] = { "held_max", 1, 1048576, AF(held_max) },
	[AK_PER_SOURCE] = { "held_per_source", 1, 1048576, AF(held_per_source) }, /* and <= held_max */
	[AK_PER_VNET] = { "held_per_vnet", 1, 1048576, AF(held_per_vnet) },       /* and <= held_max */
	[AK_KEEPALIVE] = { "keepalive_ms", 100, 600000, AF(keepalive_ms) },
	[AK_POOL] = { "stream_pool", 1, 256, AF(stream_pool) },
	[AK_CONNECT] = { "connect_timeout_ms", 100, 60000, AF(connect_timeout_ms) }, /* and < hold */
	[AK_PINGS] = { "pings_per_client", 1, 1024, AF(pings_per_client) },
	[AK_PING_TIMEOUT] = { "ping_timeout_ms", 100, 60000, AF(ping_timeout_ms) },
	[AK_DA_MAX] = { "da_max", 1, 65535, AF(da_max) },
	[AK_DA_HOLD] = { "da_hold", 1, 16, AF(da_hold) },
	[AK_DA_DISCARD] = { "da_discard_ms", 100, 3600000, AF(da_discard_ms) },
	[AK_DQ] = { "dgram_queue", 1, 65536, AF(dgram_queue) },
	[AK_DAGE] = { "dgram_max_age_ms", 1, 60000, AF(dgram_max_age_ms) },
	[AK_REASM] = { "udp_reasm_ms", 100, 60000, AF(udp_reasm_ms) },
	[AK_SA_MAX] = { "sa_max", 1, 1024, AF(sa_max) },
};

/* The values docs/config.md promises (test_conf_agent checks both). */
void conf_agents_defaults(struct sl_agents_conf *a)
{
	memset(a, 0, sizeof(*a));
	a->port = 443;
	a->hold_timeout_ms = 3000;
	a->held_max = 4096;
	a->held_per_source = 64;
	a->held_per_vnet = 2048;
	a->keepalive_ms = 5000;
	a->stream_pool = 4;
	a->connect_timeout_ms = 2500;
	a->pings_per_client = 16;
	a->ping_timeout_ms = 2000;
	a->da_max = 4096;
	a->da_hold = 4;
	a->da_discard_ms = 5000;
	a->dgram_queue = 512;
	a->dgram_max_age_ms = 500;
	a->udp_reasm_ms = 2000;
	a->sa_max = 64;
}

static int agent_path(struct ald *l, const config_setting_t *g, const char *key, char *out)
{
	const config_setting_t *s;
	const char *v;
	char q[CONF_QLEN];
	int rc = conf_need_str(&l->w, g, key, "agents", SL_AGENT_PATH_LEN - 1, &v, &s);

	if (rc < 0)
		return rc;
	if (*v == '\0')
		return conf_fail(&l->w, s, "%s is empty", conf_qual(q, sizeof(q), key, "agents"));
	/* read by sluice-cp when it starts the listener (its error names the
	 * file); nothing is opened here */
	strcpy(out, v);
	return 0;
}

/* Where an error between two settings belongs: key when written, else
 * other, written and in conflict with key's default. */
static const config_setting_t *blame(const config_setting_t *key, const config_setting_t *other)
{
	return key != NULL ? key : other;
}

static int parse_agents(struct ald *l, const config_setting_t *g)
{
	const char *known[4 + AK_N + 1];
	const config_setting_t *set[AK_N];
	struct sl_agents_conf *a = &l->c->agents;
	uint8_t *base = (uint8_t *)a;
	unsigned int n = 0, i;
	int64_t v;
	int rc;

	known[n++] = "listen";
	known[n++] = "cert";
	known[n++] = "key";
	known[n++] = "ca";
	for (i = 0; i < AK_N; i++)
		known[n++] = agents_ik[i].name;
	known[n] = NULL;
	if ((rc = conf_check_keys(&l->w, g, "agents", known)) < 0)
		return rc;
	a->enabled = 1;
	if ((rc = need_port_addr(l, g, "listen", "agents", "agents listen address", &a->listen)) < 0)
		return rc;
	for (i = 0; i < AK_N; i++) {
		const struct akey *k = &agents_ik[i];

		rc = conf_get_int(&l->w, g, k->name, "agents", k->min, k->max, &v, &set[i]);
		if (rc < 0)
			return rc;
		if (rc == 0)
			continue;
		conf_store_uint(base + k->off, k->size, v);
	}
	if ((rc = agent_path(l, g, "cert", a->cert)) < 0 ||
	    (rc = agent_path(l, g, "key", a->key)) < 0 ||
	    (rc = agent_path(l, g, "ca", a->ca)) < 0)
		return rc;

	/* a default that contradicts a configured value is an error too */
	if (a->held_per_source > a->held_max)
		return conf_fail(&l->w, blame(set[AK_PER_SOURCE], set[AK_HELD_MAX]),
				 "'held_per_source' in 'agents' (%u) must not exceed held_max (%u)",
				 a->held_per_source, a->held_max);
	if (a->held_per_vnet > a->held_max)
		return conf_fail(&l->w, blame(set[AK_PER_VNET], set[AK_HELD_MAX]),
				 "'held_per_vnet' in 'agents' (%u) must not exceed held_max (%u)",
				 a->held_per_vnet, a->held_max);
	/* the agent must give up on a server (and say so) before the held SYN
	 * times out, or its UNREACHABLE/REFUSE verdict would never be heard */
	if (a->connect_timeout_ms >= a->hold_timeout_ms)
		return conf_fail(&l->w, blame(set[AK_CONNECT], set[AK_HOLD]),
				 "'connect_timeout_ms' in 'agents' (%u) must be less than hold_timeout_ms (%u)",
				 a->connect_timeout_ms, a->hold_timeout_ms);
	return 0;
}

/*
 * vnets = ( { name, clients, gateway, agents, routes, acl }, ... )
 */

static int parse_clients(struct ald *l, const config_setting_t *e, const char *where,
			 unsigned int vi)
{
	struct sl_conf *c = l->c;
	struct sl_vnet_def *vn = &c->vnets[vi];
	const config_setting_t *s, *p;
	char q[CONF_QLEN], k[32], a1[16], a2[16];
	unsigned int n, i, j, w;
	int rc = conf_get_member(&l->w, e, "clients", where, CONFIG_TYPE_ARRAY, &s);

	if (rc < 0)
		return rc;
	if (rc == 0)
		return conf_fail(&l->w, e, "missing required key 'clients' in '%s'", where);
	n = (unsigned int)config_setting_length(s);
	if (n == 0)
		return conf_fail(&l->w, s, "%s is empty; at least one client prefix is required",
				 conf_qual(q, sizeof(q), "clients", where));
	if (n > SL_VNET_CLIENTS_MAX)
		return conf_fail(&l->w, config_setting_get_elem(s, SL_VNET_CLIENTS_MAX),
				 "too many prefixes in %s (at most %d)",
				 conf_qual(q, sizeof(q), "clients", where), SL_VNET_CLIENTS_MAX);
	for (i = 0; i < n; i++) {
		struct sl_prefix *cp = &vn->clients[i];
		const char *v;

		p = config_setting_get_elem(s, i);
		snprintf(k, sizeof(k), "clients[%u]", i);
		if ((rc = conf_want_type(&l->w, p, k, where, CONFIG_TYPE_STRING)) < 0)
			return rc;
		v = config_setting_get_string(p);
		if (sl_parse_prefix(v, &cp->prefix, &cp->plen) < 0)
			return conf_fail(&l->w, p,
					 "%s must be \"a.b.c.d/n\" with the host bits zero, got \"%s\"",
					 conf_qual(q, sizeof(q), k, where), v);
		sl_format_ipv4(cp->prefix, a1, sizeof(a1));
		/* the client's source address names its vnet: one answer only */
		for (w = 0; w <= vi; w++) {
			const struct sl_vnet_def *o = &c->vnets[w];
			unsigned int m = w == vi ? i : o->n_clients;

			for (j = 0; j < m; j++) {
				const struct sl_prefix *op = &o->clients[j];
				uint32_t mask = sl_plen_mask(op->plen < cp->plen ? op->plen : cp->plen);

				if ((op->prefix & mask) != (cp->prefix & mask))
					continue;
				sl_format_ipv4(op->prefix, a2, sizeof(a2));
				if (w == vi)
					return conf_fail(&l->w, p,
							 "vnet '%s' client prefix %s/%u overlaps its own "
							 "client prefix %s/%u (line %u)", vn->name,
							 a1, cp->plen, a2, op->plen,
							 conf_line_of(l->client_set[w][j]));
				return conf_fail(&l->w, p,
						 "vnet '%s' client prefix %s/%u overlaps vnet '%s' "
						 "client prefix %s/%u (line %u)", vn->name, a1,
						 cp->plen, o->name, a2, op->plen,
						 conf_line_of(l->client_set[w][j]));
			}
		}
		l->client_set[vi][i] = p;
	}
	vn->n_clients = (uint8_t)n;
	return 0;
}

/* The agents that serve vnet vi, appended to c->agent_defs[]. */
static int parse_vnet_agents(struct ald *l, const config_setting_t *e, const char *where,
			     unsigned int vi)
{
	struct sl_conf *c = l->c;
	const config_setting_t *s, *p;
	char q[CONF_QLEN], k[32];
	unsigned int n, i, j;
	int rc = conf_get_member(&l->w, e, "agents", where, CONFIG_TYPE_ARRAY, &s);

	if (rc <= 0)
		return rc;
	n = (unsigned int)config_setting_length(s);
	for (i = 0; i < n; i++) {
		struct sl_agent_def *ad;
		const char *v;

		p = config_setting_get_elem(s, i);
		snprintf(k, sizeof(k), "agents[%u]", i);
		if ((rc = conf_want_type(&l->w, p, k, where, CONFIG_TYPE_STRING)) < 0)
			return rc;
		v = config_setting_get_string(p);
		if ((rc = check_name(l, p, conf_qual(q, sizeof(q), k, where), v)) < 0)
			return rc;
		if (strlen(v) >= SL_AGENT_NAME_LEN)
			return conf_fail(&l->w, p, "%s is too long (at most %d characters)", q,
					 SL_AGENT_NAME_LEN - 1);
		/* an agent is known by its certificate's name, compared without
		 * case like any DNS name (RFC 4343): one name, one vnet */
		for (j = 0; j < c->n_agents; j++) {
			const struct sl_agent_def *o = &c->agent_defs[j];

			if (strcasecmp(o->name, v) != 0)
				continue;
			if (o->vnet == vi)
				return conf_fail(&l->w, p,
						 "agent \"%s\" is listed twice in vnet '%s' (first at line %u)",
						 v, c->vnets[vi].name,
						 conf_line_of(l->agent_set[j]));
			return conf_fail(&l->w, p,
					 "agent \"%s\" is already in vnet '%s' (line %u); an agent "
					 "serves one vnet", v, c->vnets[o->vnet].name,
					 conf_line_of(l->agent_set[j]));
		}
		if (c->n_agents == SL_AGENTS_MAX)
			return conf_fail(&l->w, p, "too many agents (at most %d over all vnets)",
					 SL_AGENTS_MAX);
		ad = &c->agent_defs[c->n_agents];
		memset(ad, 0, sizeof(*ad));
		strcpy(ad->name, v);
		ad->vnet = (uint16_t)vi;
		l->agent_set[c->n_agents++] = p;
	}
	return 0;
}

static int parse_vnet_route(struct ald *l, const config_setting_t *e, const char *where,
			    unsigned int vi, unsigned int ri, unsigned int agent0)
{
	static const char *const keys[] = { "dst", "agent", NULL };
	struct sl_conf *c = l->c;
	struct sl_vnet_def *vn = &c->vnets[vi];
	struct sl_vnet_route *r = &vn->routes[ri];
	const config_setting_t *sd, *sa;
	const char *vd, *va;
	char q[CONF_QLEN], a[16], list[SL_AGENTS_MAX * SL_AGENT_NAME_LEN / 4];
	size_t off = 0;
	unsigned int i;
	int rc;

	memset(r, 0, sizeof(*r));
	if ((rc = conf_check_keys(&l->w, e, where, keys)) < 0 ||
	    (rc = conf_need_str(&l->w, e, "dst", where, CONF_FMTLEN, &vd, &sd)) < 0)
		return rc;
	if (sl_parse_prefix(vd, &r->prefix, &r->plen) < 0)
		return conf_fail(&l->w, sd,
				 "%s must be \"a.b.c.d/n\" with the host bits zero, got \"%s\"",
				 conf_qual(q, sizeof(q), "dst", where), vd);
	sl_format_ipv4(r->prefix, a, sizeof(a));
	for (i = 0; i < ri; i++)
		if (vn->routes[i].prefix == r->prefix && vn->routes[i].plen == r->plen)
			return conf_fail(&l->w, sd,
					 "duplicate route %s/%u in vnet '%s' (first at line %u)", a,
					 r->plen, vn->name, conf_line_of(l->route_set[i]));
	if ((rc = conf_need_str(&l->w, e, "agent", where, CONF_FMTLEN, &va, &sa)) < 0)
		return rc;
	for (i = agent0; i < c->n_agents; i++) {
		if (strcmp(c->agent_defs[i].name, va) == 0) {
			r->agent = (uint16_t)i;
			l->route_set[ri] = e;
			return 0;
		}
	}
	list[0] = '\0';
	for (i = agent0; i < c->n_agents && off < sizeof(list); i++)
		off += (size_t)snprintf(list + off, sizeof(list) - off, "%s%s", i > agent0 ? ", " : "",
					c->agent_defs[i].name);
	for (i = 0; i < agent0; i++)
		if (strcmp(c->agent_defs[i].name, va) == 0)
			return conf_fail(&l->w, sa,
					 "route %s/%u in vnet '%s': agent \"%s\" serves vnet '%s', "
					 "not this one (vnet '%s' agents: %s)", a, r->plen,
					 vn->name, va, c->vnets[c->agent_defs[i].vnet].name,
					 vn->name, list);
	return conf_fail(&l->w, sa,
			 "route %s/%u in vnet '%s': unknown agent \"%s\" (vnet '%s' agents: %s)", a,
			 r->plen, vn->name, va, vn->name, list);
}

/* sport or dport of an ACL rule: N, "N", "LO-HI" or "any". */
static int parse_acl_ports(struct ald *l, const config_setting_t *e, const char *key,
			   const char *where, struct sl_acl_rule *r, uint16_t *lo, uint16_t *hi)
{
	const config_setting_t *s = config_setting_get_member(e, key);
	const char *v;
	char q[CONF_QLEN], buf[24];

	if (s == NULL)
		return 0;
	conf_qual(q, sizeof(q), key, where);
	if (config_setting_type(s) == CONFIG_TYPE_INT || config_setting_type(s) == CONFIG_TYPE_INT64) {
		long long n = config_setting_get_int64(s);

		if (n < 0 || n > 65535)
			return conf_fail(&l->w, s, "%s must be in 0..65535, got %lld", q, n);
		snprintf(buf, sizeof(buf), "%lld", n);
		v = buf;
	} else if (config_setting_type(s) == CONFIG_TYPE_STRING) {
		v = config_setting_get_string(s);
	} else {
		return conf_fail(&l->w, s, "%s must be a port number or a \"LO-HI\" string", q);
	}
	if (sl_parse_port_range(v, lo, hi) < 0)
		return conf_fail(&l->w, s,
				 "%s must be N, \"LO-HI\" (LO <= HI <= 65535) or \"any\", got \"%s\"",
				 q, v);
	/* icmp and "any" have no ports to compare: a range there could never
	 * match what the rule's author thought it would */
	if (r->proto != 6 && r->proto != 17 && (*lo != 0 || *hi != 65535))
		return conf_fail(&l->w, s, "%s needs proto \"tcp\" or \"udp\", not \"%s\"", q,
				 sl_proto_str(r->proto));
	return 0;
}

static int parse_acl_rule(struct ald *l, const config_setting_t *e, const char *where,
			  unsigned int vi)
{
	static const char *const keys[] = { "src", "dst", "proto", "sport", "dport", "action", NULL };
	struct sl_conf *c = l->c;
	struct sl_acl_rule *r;
	const config_setting_t *s;
	const char *v;
	char q[CONF_QLEN];
	int rc;

	if (c->n_acl == SL_ACL_RULES_MAX)
		return conf_fail(&l->w, e, "too many ACL rules (at most %d over all vnets)",
				 SL_ACL_RULES_MAX);
	r = &c->acl[c->n_acl];
	memset(r, 0, sizeof(*r));
	r->id = c->n_acl + 1;
	r->vnet = (uint16_t)vi;
	r->sport_hi = r->dport_hi = 65535;
	if ((rc = conf_check_keys(&l->w, e, where, keys)) < 0 ||
	    (rc = conf_get_prefix(&l->w, e, "src", where, &r->src, &r->src_plen)) < 0 ||
	    (rc = conf_get_prefix(&l->w, e, "dst", where, &r->dst, &r->dst_plen)) < 0 ||
	    (rc = conf_get_str(&l->w, e, "proto", where, CONF_FMTLEN, &v, &s)) < 0)
		return rc;
	if (rc > 0 && sl_parse_proto(v, &r->proto) < 0)
		return conf_fail(&l->w, s, "%s must be one of tcp, udp, icmp, any; got \"%s\"",
				 conf_qual(q, sizeof(q), "proto", where), v);
	if ((rc = parse_acl_ports(l, e, "sport", where, r, &r->sport_lo, &r->sport_hi)) < 0 ||
	    (rc = parse_acl_ports(l, e, "dport", where, r, &r->dport_lo, &r->dport_hi)) < 0 ||
	    (rc = conf_need_str(&l->w, e, "action", where, CONF_FMTLEN, &v, &s)) < 0)
		return rc;
	if (strcmp(v, "allow") == 0)
		r->action = SL_ACL_ALLOW;
	else if (strcmp(v, "reject") == 0)
		r->action = SL_ACL_REJECT;
	else if (strcmp(v, "drop") == 0)
		r->action = SL_ACL_DROP;
	else
		return conf_fail(&l->w, s, "%s must be one of allow, reject, drop; got \"%s\"",
				 conf_qual(q, sizeof(q), "action", where), v);
	c->n_acl++;
	return 0;
}

static int parse_vnet(struct ald *l, const config_setting_t *e, const char *where, unsigned int vi)
{
	static const char *const keys[] = { "name", "clients", "gateway", "agents", "routes", "acl",
					    "da_idle_ms", "da_idle2_ms", "sa_policy", "sa_idle_ms",
					    NULL };
	int64_t iv;
	struct sl_conf *c = l->c;
	struct sl_vnet_def *vn = &c->vnets[vi];
	const config_setting_t *s, *r;
	unsigned int agent0 = c->n_agents, n, i;
	char q[CONF_QLEN], w[WLEN];
	const char *v;
	int rc;

	memset(vn, 0, sizeof(*vn));
	if ((rc = conf_check_keys(&l->w, e, where, keys)) < 0 ||
	    (rc = conf_need_str(&l->w, e, "name", where, SL_AGENT_NAME_LEN - 1, &v, &s)) < 0 ||
	    (rc = check_name(l, s, conf_qual(q, sizeof(q), "name", where), v)) < 0)
		return rc;
	for (i = 0; i < vi; i++)
		if (strcmp(c->vnets[i].name, v) == 0)
			return conf_fail(&l->w, s, "duplicate vnet name \"%s\" (first at line %u)",
					 v, conf_line_of(l->vnet_set[i]));
	strcpy(vn->name, v);
	l->vnet_set[vi] = s;
	/* UDP through agents: DA aging at the agent, the SA policy (S2) */
	vn->da_idle_ms = 30000;
	vn->da_idle2_ms = 900000;
	vn->sa_idle_ms = 60000;
	vn->sa_policy = SL_SA_IDLE;
	if ((rc = conf_get_int(&l->w, e, "da_idle_ms", where, 100, 86400000, &iv, &r)) < 0)
		return rc;
	if (rc > 0)
		vn->da_idle_ms = (uint32_t)iv;
	if ((rc = conf_get_int(&l->w, e, "da_idle2_ms", where, 100, 86400000, &iv, &r)) < 0)
		return rc;
	if (rc > 0)
		vn->da_idle2_ms = (uint32_t)iv;
	if (vn->da_idle2_ms < vn->da_idle_ms)
		return conf_fail(&l->w, r ? r : e, "'da_idle2_ms' in %s (%u) must not be less than da_idle_ms (%u)",
				 where, vn->da_idle2_ms, vn->da_idle_ms);
	if ((rc = conf_get_int(&l->w, e, "sa_idle_ms", where, 0, 86400000, &iv, &r)) < 0)
		return rc;
	if (rc > 0)
		vn->sa_idle_ms = (uint32_t)iv;
	if ((rc = conf_get_member(&l->w, e, "sa_policy", where, CONFIG_TYPE_STRING, &r)) < 0)
		return rc;
	if (rc > 0) {
		const char *p = config_setting_get_string(r);

		if (strcmp(p, "idle") == 0)
			vn->sa_policy = SL_SA_IDLE;
		else if (strcmp(p, "delete") == 0)
			vn->sa_policy = SL_SA_DELETE;
		else
			return conf_fail(&l->w, r, "%s must be \"idle\" or \"delete\", not \"%s\"",
					 conf_qual(q, sizeof(q), "sa_policy", where), p);
	}

	if ((rc = parse_clients(l, e, where, vi)) < 0 ||
	    (rc = need_port_addr(l, e, "gateway", where, "vnet gateway", &vn->gateway)) < 0 ||
	    (rc = parse_vnet_agents(l, e, where, vi)) < 0 ||
	    (rc = conf_get_member(&l->w, e, "routes", where, CONFIG_TYPE_LIST, &s)) < 0)
		return rc;
	n = rc > 0 ? (unsigned int)config_setting_length(s) : 0;
	if (n > 0 && !c->agents.enabled)
		return conf_fail(&l->w, s, "vnets route to agents but there is no agents section");
	if (n > 0 && c->n_agents == agent0)
		return conf_fail(&l->w, s, "vnet '%s' has routes but no agents: name them in %s",
				 vn->name, conf_qual(q, sizeof(q), "agents", where));
	if (n > SL_VNET_ROUTES_MAX)
		return conf_fail(&l->w, config_setting_get_elem(s, SL_VNET_ROUTES_MAX),
				 "too many entries in %s (at most %d)",
				 conf_qual(q, sizeof(q), "routes", where), SL_VNET_ROUTES_MAX);
	for (i = 0; i < n; i++) {
		r = config_setting_get_elem(s, i);
		snprintf(w, sizeof(w), "vnets[%u].routes[%u]", vi, i);
		if ((rc = conf_want_type(&l->w, r, w, NULL, CONFIG_TYPE_GROUP)) < 0 ||
		    (rc = parse_vnet_route(l, r, w, vi, i, agent0)) < 0)
			return rc;
	}
	vn->n_routes = (uint16_t)n;

	if ((rc = conf_get_member(&l->w, e, "acl", where, CONFIG_TYPE_LIST, &s)) < 0)
		return rc;
	n = rc > 0 ? (unsigned int)config_setting_length(s) : 0;
	for (i = 0; i < n; i++) {
		r = config_setting_get_elem(s, i);
		snprintf(w, sizeof(w), "vnets[%u].acl[%u]", vi, i);
		if ((rc = conf_want_type(&l->w, r, w, NULL, CONFIG_TYPE_GROUP)) < 0 ||
		    (rc = parse_acl_rule(l, r, w, vi)) < 0)
			return rc;
	}
	return 0;
}

int conf_agents_parse(struct sl_conf *c, const config_setting_t *root, const char *name,
		      char *err, size_t errlen)
{
	struct ald l = {
		.w = { .name = name, .err = err, .errlen = errlen, .empty_either = 1 },
		.c = c,
	};
	const config_setting_t *s, *e;
	char w[WLEN];
	unsigned int n, i;
	int rc;

	c->n_vnets = c->n_agents = c->n_acl = 0;
	rc = conf_get_member(&l.w, root, "agents", NULL, CONFIG_TYPE_GROUP, &s);
	if (rc > 0)
		rc = parse_agents(&l, s);
	if (rc < 0)
		return rc;

	/* an agents section without vnets is allowed: it names no agent yet */
	rc = conf_get_member(&l.w, root, "vnets", NULL, CONFIG_TYPE_LIST, &s);
	if (rc <= 0)
		return rc;
	n = (unsigned int)config_setting_length(s);
	if (n > SL_VNETS_MAX)
		return conf_fail(&l.w, config_setting_get_elem(s, SL_VNETS_MAX),
				 "too many entries in 'vnets' (at most %d)", SL_VNETS_MAX);
	for (i = 0; i < n; i++) {
		e = config_setting_get_elem(s, i);
		snprintf(w, sizeof(w), "vnets[%u]", i);
		if ((rc = conf_want_type(&l.w, e, w, NULL, CONFIG_TYPE_GROUP)) < 0)
			return rc;
		if ((rc = parse_vnet(&l, e, w, i)) < 0)
			return rc;
		c->n_vnets = i + 1;
	}
	return 0;
}
