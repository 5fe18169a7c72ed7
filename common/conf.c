/*
 * Configuration loader: libconfig text -> struct sl_conf, fully validated.
 *
 * The schema is strict on purpose: an unknown key, a wrong type or a value out
 * of range is an error with "file:line:", never something silently ignored,
 * because a typo'd key in a gateway config otherwise means a default quietly
 * applied in production.  Scalar sections (eal, dataplane, control) are
 * described by tables; the port, route and neighbour lists, whose entries
 * refer to each other, are checked by hand.  docs/config.md is the reference
 * for every key and must change with this file.
 */
#include <ctype.h>
#include <errno.h>
#include <libgen.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <libconfig.h>

#include "conf.h"
#include "conf_priv.h"

#define CONF_MAX_FILE (1u << 20) /* a config is a few KiB; refuse anything absurd */

/* State of one load. */
struct ld {
	struct conf_walk w;     /* where errors go */
	struct sl_conf *c;
	/* settings of accepted entries, for "first defined at line N" */
	const config_setting_t *port_set[SL_MAX_PORTS];
	const config_setting_t *route_set[SL_CONF_MAX_ROUTES];
	const config_setting_t *neigh_set[SL_CONF_MAX_NEIGH];
};

/*
 * Scalar sections, table-driven.
 */

/* String validators: NULL when fine, else what is wrong (may use buf). */
typedef const char *str_check_fn(const char *v, char *buf, size_t len);

enum { F_POW2 = 1 };

struct ikey {
	const char *name;
	int64_t min, max;
	unsigned int flags;
	size_t off, size;       /* field of struct sl_conf: uint16_t or uint32_t */
};

struct skey {
	const char *name;
	size_t off, size;       /* char array in struct sl_conf */
	str_check_fn *check;
};

struct section {
	const char *key;        /* name in the parent group */
	const char *where;      /* full path, for messages */
	const struct ikey *ik;  /* both arrays end with .name == NULL */
	const struct skey *sk;
	const struct section *sub;
};

#define CF(f) offsetof(struct sl_conf, f), sizeof(((struct sl_conf *)0)->f)

static const struct ikey eal_ik[] = {
	{ "mem_mb", 0, 65536, 0, CF(mem_mb) },
	{ .name = NULL },
};
static const struct skey eal_sk[] = {
	{ "lcores", CF(lcores), conf_check_lcores },
	{ "file_prefix", CF(file_prefix), conf_check_file_prefix },
	{ "huge_dir", CF(huge_dir), conf_check_huge_dir },
	{ "log_level", CF(log_level), conf_check_log_level },
	{ .name = NULL },
};
static const struct ikey neigh_ik[] = {
	{ "max", 16, SL_NEIGH_MAX, 0, CF(neigh_max) },
	{ "reachable_ms", 1000, 3600000, 0, CF(neigh_reachable_ms) },
	{ "retrans_ms", 100, 60000, 0, CF(neigh_retrans_ms) },
	{ "probes", 1, 10, 0, CF(neigh_probes) },
	{ "pending_per_entry", 0, 64, 0, CF(neigh_pending_per_entry) },
	{ "pending_max", 0, 65536, 0, CF(neigh_pending_max) },
	{ .name = NULL },
};
static const struct ikey dp_ik[] = {
	{ "mbufs_per_worker", 1023, 1048575, 0, CF(mbufs_per_worker) },
	{ "burst", 1, 64, 0, CF(burst) },
	{ "rx_desc", 64, 4096, F_POW2, CF(rx_desc) },
	{ "tx_desc", 64, 4096, F_POW2, CF(tx_desc) },
	{ "idle_sleep_us", 0, 100000, 0, CF(idle_sleep_us) },
	{ "icmp_rate", 0, 100000000, 0, CF(icmp_rate) },
	{ "icmp_burst", 1, 1000000, 0, CF(icmp_burst) },
	{ "stats_period_ms", 10, 10000, 0, CF(stats_period_ms) },
	{ .name = NULL },
};
static const struct skey ctl_sk[] = {
	{ "socket", CF(ctl_socket), conf_check_socket },
	{ .name = NULL },
};
static const struct ikey crypto_ik[] = {
	{ "measure_ms", 1, 1000, 0, CF(crypto_measure_ms) },
	{ .name = NULL },
};
static const struct skey crypto_sk[] = {
	{ "engine", CF(crypto_engine), conf_check_crypto_engine },
	{ .name = NULL },
};
static const struct ikey tcp_ik[] = {
	{ "max_conns", 16, 4194304, 0, CF(tcp_max_conns) },
	{ "max_half_open", 0, 4194304, 0, CF(tcp_max_half_open) },
	{ "sndbuf", 4096, 64 << 20, 0, CF(tcp_sndbuf) },
	{ "reass_bytes", 0, 64 << 20, 0, CF(tcp_reass_bytes) },
	{ "mss", 536, 9000, 0, CF(tcp_mss) },
	{ "time_wait_ms", 1, 240000, 0, CF(tcp_time_wait_ms) },
	{ "idle_timeout_ms", 0, 86400000, 0, CF(tcp_idle_timeout_ms) },
	{ "syn_timeout_ms", 100, 600000, 0, CF(tcp_syn_timeout_ms) },
	{ "connect_timeout_ms", 100, 600000, 0, CF(tcp_connect_timeout_ms) },
	/* RFC 1122 4.2.3.2: an ACK MUST NOT be delayed 500 ms or more */
	{ "delack_ms", 1, 499, 0, CF(tcp_delack_ms) },
	{ "keepalive_idle_ms", 0, 86400000, 0, CF(tcp_keepalive_idle_ms) },
	{ "keepalive_intvl_ms", 1000, 3600000, 0, CF(tcp_keepalive_intvl_ms) },
	{ "keepalive_probes", 1, 100, 0, CF(tcp_keepalive_probes) },
	{ "tls_sessions", 1, 1048576, 0, CF(tls_max_sessions) },
	{ .name = NULL },
};
static const struct ikey no_ik[] = { { .name = NULL } };
static const struct skey no_sk[] = { { .name = NULL } };

static const struct section neigh_sec = { "neighbors", "dataplane.neighbors", neigh_ik, no_sk, NULL };
static const struct section sections[] = {
	{ "eal", "eal", eal_ik, eal_sk, NULL },
	{ "dataplane", "dataplane", dp_ik, no_sk, &neigh_sec },
	{ "control", "control", no_ik, ctl_sk, NULL },
	{ "crypto", "crypto", crypto_ik, crypto_sk, NULL },
	{ "tcp", "tcp", tcp_ik, no_sk, NULL },
};

static int parse_section(struct ld *l, const config_setting_t *g, const struct section *sec)
{
	const config_setting_t *s;
	const char *known[16], *str, *why;
	char q[CONF_QLEN], buf[128];
	unsigned int n = 0;
	const struct ikey *ik;
	const struct skey *sk;
	uint8_t *base = (uint8_t *)l->c;
	int64_t v;
	int rc;

	for (ik = sec->ik; ik->name != NULL; ik++)
		known[n++] = ik->name;
	for (sk = sec->sk; sk->name != NULL; sk++)
		known[n++] = sk->name;
	if (sec->sub != NULL)
		known[n++] = sec->sub->key;
	known[n] = NULL;
	rc = conf_check_keys(&l->w, g, sec->where, known);
	if (rc < 0)
		return rc;

	for (ik = sec->ik; ik->name != NULL; ik++) {
		rc = conf_get_int(&l->w, g, ik->name, sec->where, ik->min, ik->max, &v, &s);
		if (rc < 0)
			return rc;
		if (rc == 0)
			continue;
		if ((ik->flags & F_POW2) && (v & (v - 1)) != 0)
			return conf_fail(&l->w, s, "%s must be a power of two, got %lld",
					 conf_qual(q, sizeof(q), ik->name, sec->where),
					 (long long)v);
		conf_store_uint(base + ik->off, ik->size, v);
	}
	for (sk = sec->sk; sk->name != NULL; sk++) {
		rc = conf_get_str(&l->w, g, sk->name, sec->where, sk->size - 1, &str, &s);
		if (rc < 0)
			return rc;
		if (rc == 0)
			continue;
		why = sk->check(str, buf, sizeof(buf));
		if (why != NULL)
			return conf_fail(&l->w, s, "%s %s, got \"%s\"",
					 conf_qual(q, sizeof(q), sk->name, sec->where), why, str);
		memcpy(base + sk->off, str, strlen(str) + 1);
	}
	if (sec->sub != NULL) {
		rc = conf_get_member(&l->w, g, sec->sub->key, sec->where, CONFIG_TYPE_GROUP, &s);
		if (rc > 0)
			rc = parse_section(l, s, sec->sub);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/*
 * Ports.
 */

static const char *check_port_name(const char *s)
{
	if (!conf_name_ok(s))
		return "must be 1..31 characters of [A-Za-z0-9_-]";
	/* a number means a port index wherever a port is named (CLI, routes) */
	if (strspn(s, "0123456789") == strlen(s))
		return "must not be all digits (a number means a port index)";
	return NULL;
}

static int parse_impair(struct ld *l, const config_setting_t *g, const char *where, struct sl_impair *im)
{
	static const char *const keys[] = { "seed", "in", "out", NULL };
	static const char *const dkeys[] = { "drop", "reorder", "dup", NULL };
	static const char *const dnames[SL_DIR_MAX] = { "in", "out" };
	const config_setting_t *s, *d;
	char dw[64], q[CONF_QLEN];
	const char *v;
	uint32_t *ppm;
	int64_t seed;
	int rc, i, k;

	rc = conf_check_keys(&l->w, g, where, keys);
	if (rc < 0)
		return rc;
	rc = conf_get_int(&l->w, g, "seed", where, INT64_MIN, INT64_MAX, &seed, &s);
	if (rc < 0)
		return rc;
	if (rc > 0)
		im->seed = (uint64_t)seed;
	for (i = 0; i < SL_DIR_MAX; i++) {
		rc = conf_get_member(&l->w, g, dnames[i], where, CONFIG_TYPE_GROUP, &d);
		if (rc < 0)
			return rc;
		if (rc == 0)
			continue;
		snprintf(dw, sizeof(dw), "%s.%s", where, dnames[i]);
		rc = conf_check_keys(&l->w, d, dw, dkeys);
		if (rc < 0)
			return rc;
		for (k = 0; dkeys[k] != NULL; k++) {
			rc = conf_get_str(&l->w, d, dkeys[k], dw, CONF_FMTLEN, &v, &s);
			if (rc < 0)
				return rc;
			if (rc == 0)
				continue;
			ppm = k == 0 ? &im->dir[i].drop_ppm : k == 1 ? &im->dir[i].reorder_ppm
							  : &im->dir[i].dup_ppm;
			if (sl_parse_pct(v, ppm) < 0)
				return conf_fail(&l->w, s, "%s %s, got \"%s\"",
						 conf_qual(q, sizeof(q), dkeys[k], dw),
						 conf_pct_problem(v), v);
		}
	}
	return 0;
}

static int parse_port(struct ld *l, const config_setting_t *e, const char *where, unsigned int idx)
{
	static const char *const keys[] = { "name", "dev", "addr", "mac", "mtu", "impair", NULL };
	struct sl_conf_port *p = &l->c->ports[idx], *o;
	const config_setting_t *s;
	char key[SL_DEV_LEN], okey[SL_DEV_LEN], a1[16], a2[16], q[CONF_QLEN], iw[48];
	const char *v, *why;
	unsigned int i, m;
	int rc;
	int64_t mtu;

	memset(p, 0, sizeof(*p));
	p->impair.seed = 1;
	rc = conf_check_keys(&l->w, e, where, keys);
	if (rc < 0)
		return rc;

	rc = conf_need_str(&l->w, e, "name", where, SL_NAME_LEN - 1, &v, &s);
	if (rc < 0)
		return rc;
	why = check_port_name(v);
	if (why != NULL)
		return conf_fail(&l->w, s, "%s %s, got \"%s\"",
				 conf_qual(q, sizeof(q), "name", where), why, v);
	for (i = 0; i < idx; i++)
		if (strcmp(l->c->ports[i].name, v) == 0)
			return conf_fail(&l->w, s, "duplicate port name \"%s\" (first at line %u)",
					 v, conf_line_of(l->port_set[i]));
	strcpy(p->name, v);

	rc = conf_need_str(&l->w, e, "dev", where, SL_DEV_LEN - 1, &v, &s);
	if (rc < 0)
		return rc;
	rc = sl_parse_dev(v, key, sizeof(key));
	if (rc < 0)
		return conf_fail(&l->w, s,
				 "%s must be a DPDK virtual device \"net_<driver>[,args]\" or a PCI "
				 "address DDDD:BB:DD.F or BB:DD.F, got \"%s\"",
				 conf_qual(q, sizeof(q), "dev", where), v);
	p->is_vdev = rc;
	for (i = 0; i < idx; i++) {
		o = &l->c->ports[i];
		sl_parse_dev(o->dev, okey, sizeof(okey));
		if (strcmp(key, okey) == 0)
			return conf_fail(&l->w, s,
					 "port '%s' uses device %s, already used by port '%s'",
					 p->name, key, o->name);
	}
	strcpy(p->dev, v);

	rc = conf_need_str(&l->w, e, "addr", where, CONF_FMTLEN, &v, &s);
	if (rc < 0)
		return rc;
	if (sl_parse_addr_plen(v, &p->addr, &p->plen) < 0 || p->plen < 1 || p->plen > 31)
		return conf_fail(&l->w, s, "%s must be \"a.b.c.d/n\" with n in 1..31, got \"%s\"",
				 conf_qual(q, sizeof(q), "addr", where), v);
	why = conf_not_unicast(p->addr);
	if (why != NULL)
		return conf_fail(&l->w, s, "port '%s' address %s", p->name, why);
	m = sl_plen_mask(p->plen);
	sl_format_ipv4(p->addr & m, a1, sizeof(a1));
	why = conf_net_or_bcast(p->addr, p->plen);
	if (why != NULL)
		return conf_fail(&l->w, s, "port '%s' address \"%s\" is the %s address of %s/%u",
				 p->name, v, why, a1, p->plen);
	for (i = 0; i < idx; i++) {
		o = &l->c->ports[i];
		m = sl_plen_mask(o->plen < p->plen ? o->plen : p->plen);
		if ((o->addr & m) != (p->addr & m))
			continue;
		sl_format_ipv4(o->addr & sl_plen_mask(o->plen), a2, sizeof(a2));
		return conf_fail(&l->w, s,
				 "port '%s' subnet %s/%u overlaps port '%s' subnet %s/%u (line %u)",
				 p->name, a1, p->plen, o->name, a2, o->plen,
				 conf_line_of(l->port_set[i]));
	}

	rc = conf_get_str(&l->w, e, "mac", where, CONF_FMTLEN, &v, &s);
	if (rc < 0)
		return rc;
	if (rc > 0) {
		if (sl_parse_mac(v, p->mac) < 0)
			return conf_fail(&l->w, s, "%s must be \"xx:xx:xx:xx:xx:xx\", got \"%s\"",
					 conf_qual(q, sizeof(q), "mac", where), v);
		if (p->mac[0] & 1)
			return conf_fail(&l->w, s, "%s \"%s\" is a multicast address",
					 conf_qual(q, sizeof(q), "mac", where), v);
		if (!(p->mac[0] | p->mac[1] | p->mac[2] | p->mac[3] | p->mac[4] | p->mac[5]))
			return conf_fail(&l->w, s, "%s must not be all zeros",
					 conf_qual(q, sizeof(q), "mac", where));
		p->has_mac = 1;
	}

	rc = conf_get_int(&l->w, e, "mtu", where, 68, 9600, &mtu, &s);
	if (rc < 0)
		return rc;
	if (rc > 0)
		p->mtu = (uint16_t)mtu;

	rc = conf_get_member(&l->w, e, "impair", where, CONFIG_TYPE_GROUP, &s);
	if (rc > 0) {
		snprintf(iw, sizeof(iw), "%s.impair", where);
		rc = parse_impair(l, s, iw, &p->impair);
	}
	if (rc < 0)
		return rc;
	l->port_set[idx] = e;
	return 0;
}

/* Index of the port whose subnet holds ip, or -1. */
static int port_of(const struct sl_conf *c, uint32_t ip)
{
	unsigned int i;
	uint32_t m;

	for (i = 0; i < c->n_ports; i++) {
		m = sl_plen_mask(c->ports[i].plen);
		if ((ip & m) == (c->ports[i].addr & m))
			return (int)i;
	}
	return -1;
}

/* "client 198.18.0.0/24, server 198.19.0.0/24", for messages. */
static const char *subnets_str(const struct sl_conf *c, char *buf, size_t len)
{
	char a[16];
	size_t off = 0;
	unsigned int i;

	buf[0] = '\0';
	for (i = 0; i < c->n_ports && off < len; i++) {
		sl_format_ipv4(c->ports[i].addr & sl_plen_mask(c->ports[i].plen), a, sizeof(a));
		off += (size_t)snprintf(buf + off, len - off, "%s%s %s/%u", i ? ", " : "",
					c->ports[i].name, a, c->ports[i].plen);
	}
	return buf;
}

static const char *port_names_str(const struct sl_conf *c, char *buf, size_t len)
{
	size_t off = 0;
	unsigned int i;

	buf[0] = '\0';
	for (i = 0; i < c->n_ports && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s", i ? ", " : "", c->ports[i].name);
	return buf;
}

/*
 * Routes and static neighbours: after the ports, which they refer to.
 */

static int parse_route(struct ld *l, const config_setting_t *e, const char *where, unsigned int idx)
{
	static const char *const keys[] = { "prefix", "via", "dev", NULL };
	struct sl_conf *c = l->c;
	struct sl_conf_route *r = &c->routes[idx];
	const config_setting_t *sp, *sv, *sd;
	char a[16], g[16], list[256], q[CONF_QLEN];
	const char *v, *why;
	unsigned int i;
	uint32_t addr;
	int rc, pi;

	memset(r, 0, sizeof(*r));
	rc = conf_check_keys(&l->w, e, where, keys);
	if (rc < 0)
		return rc;
	rc = conf_need_str(&l->w, e, "prefix", where, CONF_FMTLEN, &v, &sp);
	if (rc < 0)
		return rc;
	if (sl_parse_addr_plen(v, &addr, &r->plen) < 0)
		return conf_fail(&l->w, sp, "%s must be \"a.b.c.d/n\" with n in 0..32, got \"%s\"",
				 conf_qual(q, sizeof(q), "prefix", where), v);
	r->prefix = addr & sl_plen_mask(r->plen);
	sl_format_ipv4(r->prefix, a, sizeof(a));
	if (r->prefix != addr)
		return conf_fail(&l->w, sp,
				 "route prefix \"%s\" has host bits set (did you mean \"%s/%u\"?)",
				 v, a, r->plen);
	for (i = 0; i < idx; i++)
		if (c->routes[i].prefix == r->prefix && c->routes[i].plen == r->plen)
			return conf_fail(&l->w, sp, "duplicate route %s/%u (first at line %u)", a,
					 r->plen, conf_line_of(l->route_set[i]));
	for (i = 0; i < c->n_ports; i++) {
		if (r->plen == 32 && r->prefix == c->ports[i].addr)
			return conf_fail(&l->w, sp,
					 "route %s/32 is the address of port '%s' itself", a,
					 c->ports[i].name);
		if (r->plen == c->ports[i].plen &&
		    r->prefix == (c->ports[i].addr & sl_plen_mask(r->plen)))
			return conf_fail(&l->w, sp,
					 "route %s/%u is the connected subnet of port '%s', "
					 "which is routed already", a, r->plen, c->ports[i].name);
	}

	rc = conf_get_str(&l->w, e, "via", where, CONF_FMTLEN, &v, &sv);
	if (rc >= 0)
		rc = conf_get_str(&l->w, e, "dev", where, SL_NAME_LEN - 1, &v, &sd);
	if (rc < 0)
		return rc;
	if (sv != NULL && sd != NULL)
		return conf_fail(&l->w, sd,
				 "route %s/%u has both 'via' and 'dev'; give exactly one", a,
				 r->plen);
	if (sv == NULL && sd == NULL)
		return conf_fail(&l->w, e, "route %s/%u needs 'via' (a gateway) or 'dev' (a port)",
				 a, r->plen);
	if (sd != NULL) {
		v = config_setting_get_string(sd);
		pi = sl_conf_port_find(c, v);
		if (pi < 0)
			return conf_fail(&l->w, sd, "route %s/%u: unknown port \"%s\" (ports: %s)",
					 a, r->plen, v, port_names_str(c, list, sizeof(list)));
		r->type = SL_RT_DIRECT;
		r->port = (uint16_t)pi;
	} else {
		v = config_setting_get_string(sv);
		if (sl_parse_ipv4(v, &r->gw) < 0)
			return conf_fail(&l->w, sv, "%s must be \"a.b.c.d\", got \"%s\"",
					 conf_qual(q, sizeof(q), "via", where), v);
		pi = port_of(c, r->gw);
		if (pi < 0)
			return conf_fail(&l->w, sv,
					 "route %s/%u: gateway %s is outside every port subnet (%s)",
					 a, r->plen, v, subnets_str(c, list, sizeof(list)));
		if (r->gw == c->ports[pi].addr)
			return conf_fail(&l->w, sv,
					 "route %s/%u: gateway %s is the address of port '%s' itself",
					 a, r->plen, v, c->ports[pi].name);
		why = conf_net_or_bcast(r->gw, c->ports[pi].plen);
		if (why != NULL) {
			sl_format_ipv4(r->gw & sl_plen_mask(c->ports[pi].plen), g, sizeof(g));
			return conf_fail(&l->w, sv,
					 "route %s/%u: gateway %s is the %s address of %s/%u", a,
					 r->plen, v, why, g, c->ports[pi].plen);
		}
		r->type = SL_RT_GATEWAY;
		r->port = (uint16_t)pi;
	}
	l->route_set[idx] = e;
	return 0;
}

static int parse_neigh(struct ld *l, const config_setting_t *e, const char *where, unsigned int idx)
{
	static const char *const keys[] = { "addr", "mac", "port", NULL };
	struct sl_conf *c = l->c;
	struct sl_conf_neigh *n = &c->neigh[idx];
	const struct sl_conf_port *p;
	const config_setting_t *sa, *sm, *sp;
	const char *va, *vm, *vp, *why;
	char list[256], q[CONF_QLEN], a[16];
	unsigned int i;
	int rc, pi;

	memset(n, 0, sizeof(*n));
	rc = conf_check_keys(&l->w, e, where, keys);
	if (rc >= 0)
		rc = conf_need_str(&l->w, e, "addr", where, CONF_FMTLEN, &va, &sa);
	if (rc >= 0)
		rc = conf_need_str(&l->w, e, "mac", where, CONF_FMTLEN, &vm, &sm);
	if (rc >= 0)
		rc = conf_need_str(&l->w, e, "port", where, SL_NAME_LEN - 1, &vp, &sp);
	if (rc < 0)
		return rc;

	pi = sl_conf_port_find(c, vp);
	if (pi < 0)
		return conf_fail(&l->w, sp, "neighbor %s: unknown port \"%s\" (ports: %s)", va, vp,
				 port_names_str(c, list, sizeof(list)));
	p = &c->ports[pi];
	n->port = (uint16_t)pi;
	if (sl_parse_ipv4(va, &n->ip) < 0)
		return conf_fail(&l->w, sa, "%s must be \"a.b.c.d\", got \"%s\"",
				 conf_qual(q, sizeof(q), "addr", where), va);
	sl_format_ipv4(p->addr & sl_plen_mask(p->plen), a, sizeof(a));
	if ((n->ip & sl_plen_mask(p->plen)) != (p->addr & sl_plen_mask(p->plen)))
		return conf_fail(&l->w, sa, "neighbor %s is outside port '%s' subnet %s/%u", va,
				 p->name, a, p->plen);
	if (n->ip == p->addr)
		return conf_fail(&l->w, sa, "neighbor %s is the address of port '%s' itself", va,
				 p->name);
	why = conf_net_or_bcast(n->ip, p->plen);
	if (why != NULL)
		return conf_fail(&l->w, sa, "neighbor %s is the %s address of %s/%u", va, why, a,
				 p->plen);
	for (i = 0; i < idx; i++)
		if (c->neigh[i].ip == n->ip)
			return conf_fail(&l->w, sa, "duplicate neighbor %s (first at line %u)", va,
					 conf_line_of(l->neigh_set[i]));
	if (sl_parse_mac(vm, n->mac) < 0)
		return conf_fail(&l->w, sm, "%s must be \"xx:xx:xx:xx:xx:xx\", got \"%s\"",
				 conf_qual(q, sizeof(q), "mac", where), vm);
	if ((n->mac[0] & 1) || !(n->mac[0] | n->mac[1] | n->mac[2] | n->mac[3] | n->mac[4] | n->mac[5]))
		return conf_fail(&l->w, sm, "neighbor %s: mac \"%s\" is not a unicast address", va,
				 vm);
	l->neigh_set[idx] = e;
	return 0;
}

typedef int entry_fn(struct ld *l, const config_setting_t *e, const char *where, unsigned int idx);

/* A top-level list of groups, each handed to fn; returns the count or -EINVAL. */
/*
 * Policy rules: { src, dst, proto, dport, action, transparent }, first match
 * wins.
 */
static int parse_rule(struct ld *l, const config_setting_t *e, const char *where, unsigned int idx)
{
	static const char *const keys[] = { "src", "dst", "proto", "dport", "action", "transparent",
					    NULL };
	struct sl_rule *r = &l->c->rules[idx];
	const config_setting_t *s, *t;
	const char *v;
	char q[CONF_QLEN];
	int rc;

	memset(r, 0, sizeof(*r));
	r->id = idx + 1;
	r->dport_hi = 65535;
	rc = conf_check_keys(&l->w, e, where, keys);
	if (rc >= 0)
		rc = conf_get_prefix(&l->w, e, "src", where, &r->src, &r->src_plen);
	if (rc >= 0)
		rc = conf_get_prefix(&l->w, e, "dst", where, &r->dst, &r->dst_plen);
	if (rc >= 0)
		rc = conf_get_str(&l->w, e, "proto", where, CONF_FMTLEN, &v, &s);
	if (rc < 0)
		return rc;
	if (rc > 0 && sl_parse_proto(v, &r->proto) < 0)
		return conf_fail(&l->w, s, "%s must be one of tcp, udp, icmp, any; got \"%s\"",
				 conf_qual(q, sizeof(q), "proto", where), v);
	s = config_setting_get_member(e, "dport");
	if (s) {
		char buf[16];

		if (config_setting_type(s) == CONFIG_TYPE_INT) {
			long long n = config_setting_get_int64(s);

			if (n < 0 || n > 65535)
				return conf_fail(&l->w, s, "%s must be in 0..65535, got %lld",
						 conf_qual(q, sizeof(q), "dport", where), n);
			snprintf(buf, sizeof(buf), "%lld", n);
			v = buf;
		} else if (config_setting_type(s) == CONFIG_TYPE_STRING) {
			v = config_setting_get_string(s);
		} else {
			return conf_fail(&l->w, s, "%s must be a port number or a \"LO-HI\" string",
					 conf_qual(q, sizeof(q), "dport", where));
		}
		if (sl_parse_port_range(v, &r->dport_lo, &r->dport_hi) < 0)
			return conf_fail(&l->w, s,
					 "%s must be N, \"LO-HI\" (LO <= HI <= 65535) or \"any\", got \"%s\"",
					 conf_qual(q, sizeof(q), "dport", where), v);
		if (r->proto != 6 && r->proto != 17 && (r->dport_lo != 0 || r->dport_hi != 65535))
			return conf_fail(&l->w, s, "%s needs proto \"tcp\" or \"udp\"",
					 conf_qual(q, sizeof(q), "dport", where));
	}
	rc = conf_need_str(&l->w, e, "action", where, CONF_FMTLEN, &v, &s);
	if (rc < 0)
		return rc;
	if (sl_parse_rule_action(v, &r->action) < 0)
		return conf_fail(&l->w, s,
				 "%s must be one of forward, drop, reject, proxy; got \"%s\"",
				 conf_qual(q, sizeof(q), "action", where), v);
	/* the proxy terminates TCP on the worker: nothing else can be relayed */
	if (r->action == SL_RA_PROXY && r->proto != 6)
		return conf_fail(&l->w, s,
				 "action \"proxy\" in '%s' needs proto \"tcp\", got \"%s\"", where,
				 sl_proto_str(r->proto));
	rc = conf_get_member(&l->w, e, "transparent", where, CONFIG_TYPE_BOOL, &t);
	if (rc < 0)
		return rc;
	/* even `transparent = false` on another action is refused: it is
	 * almost certainly a proxy rule whose action was mistyped */
	if (rc > 0 && r->action != SL_RA_PROXY)
		return conf_fail(&l->w, t, "%s only applies to action \"proxy\", not \"%s\"",
				 conf_qual(q, sizeof(q), "transparent", where), v);
	if (rc > 0 && config_setting_get_bool(t))
		r->flags |= SL_RF_TRANSPARENT;
	return 0;
}

/*
 * Applications (S1, S5): { name, server, secure_port, plain_port, mode,
 * cert, key, ca, transparent, e2e_hosts, e2e_ttl }.  Certificate paths are
 * used as written (relative ones from sluice-cp's working directory) and
 * read when sluice-cp loads the application.
 */
static int app_path(struct ld *l, const config_setting_t *e, const char *key, const char *where,
		    int required, char *out)
{
	const config_setting_t *s;
	const char *v;
	int rc = required ? conf_need_str(&l->w, e, key, where, SL_PATH_LEN - 1, &v, &s)
			  : conf_get_str(&l->w, e, key, where, SL_PATH_LEN - 1, &v, &s);

	if (rc <= 0)
		return rc;
	/* read by sluice-cp when it loads the application (its error names
	 * the file); the data plane never opens them */
	strcpy(out, v);
	return 0;
}

static int parse_app(struct ld *l, const config_setting_t *e, const char *where, unsigned int idx)
{
	static const char *const keys[] = { "name", "server", "secure_port", "plain_port", "mode",
					    "cert", "key", "ca", "transparent", "e2e_hosts", "e2e_ttl",
					    NULL };
	struct sl_app_def *a = &l->c->apps[idx];
	const config_setting_t *s;
	const char *v;
	char q[CONF_QLEN];
	int64_t n;
	int rc;

	memset(a, 0, sizeof(*a));
	a->in_use = 1;
	a->mode = SL_APP_TERMINATE;
	a->e2e_ttl_s = 300;
	if ((rc = conf_check_keys(&l->w, e, where, keys)) < 0 ||
	    (rc = conf_need_str(&l->w, e, "name", where, SL_APP_NAME_LEN - 1, &v, &s)) < 0)
		return rc;
	for (const char *p = v; *p; p++)
		if (!(isalnum((unsigned char)*p) || *p == '_' || *p == '.' || *p == '-'))
			return conf_fail(&l->w, s,
					 "%s must be letters, digits, '_', '.', '-'; got \"%s\"",
					 conf_qual(q, sizeof(q), "name", where), v);
	if (!*v)
		return conf_fail(&l->w, s, "%s is empty", conf_qual(q, sizeof(q), "name", where));
	for (unsigned int i = 0; i < idx; i++)
		if (strcmp(l->c->apps[i].name, v) == 0)
			return conf_fail(&l->w, s, "%s: \"%s\" is already apps[%u]'s name",
					 conf_qual(q, sizeof(q), "name", where), v, i);
	strcpy(a->name, v);
	if ((rc = conf_need_str(&l->w, e, "server", where, CONF_FMTLEN, &v, &s)) < 0)
		return rc;
	if (sl_parse_ipv4(v, &a->server) < 0)
		return conf_fail(&l->w, s, "%s must be an IPv4 address, got \"%s\"",
				 conf_qual(q, sizeof(q), "server", where), v);
	for (int k = 0; k < 2; k++) {
		const char *key = k ? "plain_port" : "secure_port";

		rc = conf_get_int(&l->w, e, key, where, 1, 65535, &n, &s);
		if (rc == 0)
			return conf_fail(&l->w, e, "missing required key '%s' in '%s'", key, where);
		if (rc < 0)
			return rc;
		if (k)
			a->plain_port = (uint16_t)n;
		else
			a->secure_port = (uint16_t)n;
	}
	if (a->plain_port == a->secure_port)
		return conf_fail(&l->w, s, "%s equals secure_port",
				 conf_qual(q, sizeof(q), "plain_port", where));
	if ((rc = conf_get_str(&l->w, e, "mode", where, CONF_FMTLEN, &v, &s)) < 0)
		return rc;
	if (rc > 0) {
		if (strcmp(v, "originate") == 0)
			a->mode = SL_APP_ORIGINATE;
		else if (strcmp(v, "terminate") != 0)
			return conf_fail(&l->w, s,
					 "%s must be \"terminate\" or \"originate\", got \"%s\"",
					 conf_qual(q, sizeof(q), "mode", where), v);
	}
	if (a->mode == SL_APP_TERMINATE) {
		if ((rc = app_path(l, e, "cert", where, 1, a->cert)) < 0 ||
		    (rc = app_path(l, e, "key", where, 1, a->key)) < 0)
			return rc;
	} else if ((rc = app_path(l, e, "ca", where, 1, a->ca)) < 0) {
		return rc;
	}
	if ((rc = conf_get_member(&l->w, e, "transparent", where, CONFIG_TYPE_BOOL, &s)) < 0)
		return rc;
	if (rc > 0)
		a->transparent = (uint8_t)config_setting_get_bool(s);
	if ((rc = conf_get_member(&l->w, e, "e2e_hosts", where, CONFIG_TYPE_ARRAY, &s)) < 0)
		return rc;
	if (rc > 0) {
		size_t used = 0;

		if (a->mode != SL_APP_TERMINATE)
			return conf_fail(&l->w, s, "%s only applies to mode \"terminate\"",
					 conf_qual(q, sizeof(q), "e2e_hosts", where));
		for (int i = 0; i < config_setting_length(s); i++) {
			const config_setting_t *h = config_setting_get_elem(s, (unsigned int)i);
			const char *hv = config_setting_get_string(h);
			size_t hl = hv ? strlen(hv) : 0;

			if (!hv || hl == 0 || strchr(hv, ',') || strchr(hv, ' '))
				return conf_fail(&l->w, h ? h : s,
						 "%s[%d] must be a host name or \"*.suffix\"",
						 conf_qual(q, sizeof(q), "e2e_hosts", where), i);
			if (used + hl + 1 >= SL_E2E_HOSTS_LEN)
				return conf_fail(&l->w, h,
						 "%s is too long (at most %d bytes in all)",
						 conf_qual(q, sizeof(q), "e2e_hosts", where),
						 SL_E2E_HOSTS_LEN - 1);
			if (used)
				a->e2e_hosts[used++] = ',';
			memcpy(a->e2e_hosts + used, hv, hl + 1);
			used += hl;
		}
	}
	if ((rc = conf_get_int(&l->w, e, "e2e_ttl", where, 1, 86400, &n, &s)) < 0)
		return rc;
	if (rc > 0)
		a->e2e_ttl_s = (uint32_t)n;
	return 0;
}

static int parse_list(struct ld *l, const config_setting_t *list, const char *key,
		      unsigned int max, entry_fn *fn)
{
	const config_setting_t *e;
	char where[32];
	unsigned int i, n = (unsigned int)config_setting_length(list);
	int rc;

	if (n > max)
		return conf_fail(&l->w, config_setting_get_elem(list, max),
				 "too many entries in '%s' (at most %u)", key, max);
	for (i = 0; i < n; i++) {
		e = config_setting_get_elem(list, i);
		snprintf(where, sizeof(where), "%s[%u]", key, i);
		rc = conf_want_type(&l->w, e, NULL, where, CONFIG_TYPE_GROUP);
		if (rc == 0)
			rc = fn(l, e, where, i);
		if (rc < 0)
			return rc;
	}
	return (int)n;
}

static int parse_root(struct ld *l, const config_setting_t *root)
{
	static const char *const keys[] = { "eal", "dataplane", "control", "crypto", "tcp", "ports", "routes",
					    "neighbors", "rules", "apps", "agents", "vnets", "lstp", NULL };
	const config_setting_t *s;
	struct sl_conf *c = l->c;
	unsigned int i;
	int rc;

	rc = conf_check_keys(&l->w, root, NULL, keys);
	if (rc < 0)
		return rc;
	for (i = 0; i < sizeof(sections) / sizeof(sections[0]); i++) {
		rc = conf_get_member(&l->w, root, sections[i].key, NULL, CONFIG_TYPE_GROUP, &s);
		if (rc > 0)
			rc = parse_section(l, s, &sections[i]);
		if (rc < 0)
			return rc;
	}

	rc = conf_get_member(&l->w, root, "ports", NULL, CONFIG_TYPE_LIST, &s);
	if (rc < 0)
		return rc;
	if (rc == 0)
		return conf_fail(&l->w, NULL, "missing required list 'ports'");
	if (config_setting_length(s) == 0)
		return conf_fail(&l->w, s, "'ports' is empty; at least one port is required");
	rc = parse_list(l, s, "ports", SL_MAX_PORTS, parse_port);
	if (rc < 0)
		return rc;
	c->n_ports = (unsigned int)rc;
	if (c->mbufs_per_worker < sl_conf_mbufs_needed(c)) {
		const config_setting_t *d = config_setting_get_member(root, "dataplane");
		const config_setting_t *m = d ? config_setting_get_member(d, "mbufs_per_worker") : NULL;

		return conf_fail(&l->w, m ? m : s,
				 "dataplane.mbufs_per_worker = %u is too small for %u ports with rx_desc %u "
				 "and tx_desc %u: need at least %u", c->mbufs_per_worker,
				 c->n_ports, c->rx_desc, c->tx_desc, sl_conf_mbufs_needed(c));
	}

	rc = conf_get_member(&l->w, root, "routes", NULL, CONFIG_TYPE_LIST, &s);
	if (rc > 0)
		rc = parse_list(l, s, "routes", SL_CONF_MAX_ROUTES, parse_route);
	if (rc < 0)
		return rc;
	c->n_routes = (unsigned int)rc;

	rc = conf_get_member(&l->w, root, "neighbors", NULL, CONFIG_TYPE_LIST, &s);
	if (rc > 0)
		rc = parse_list(l, s, "neighbors", SL_CONF_MAX_NEIGH, parse_neigh);
	if (rc < 0)
		return rc;
	c->n_neigh = (unsigned int)rc;
	/* static entries live in the same table as learned ones */
	if (c->n_neigh > c->neigh_max)
		return conf_fail(&l->w, s,
				 "%u static neighbors do not fit in dataplane.neighbors.max = %u",
				 c->n_neigh, c->neigh_max);

	rc = conf_get_member(&l->w, root, "rules", NULL, CONFIG_TYPE_LIST, &s);
	if (rc > 0)
		rc = parse_list(l, s, "rules", SL_CONF_MAX_RULES, parse_rule);
	if (rc < 0)
		return rc;
	c->n_rules = (unsigned int)rc;

	rc = conf_get_member(&l->w, root, "apps", NULL, CONFIG_TYPE_LIST, &s);
	if (rc > 0)
		rc = parse_list(l, s, "apps", SL_APPS_MAX, parse_app);
	if (rc < 0)
		return rc;
	c->n_apps = (unsigned int)rc;
	/* S4 (conf_agent.c), S3 (conf_lstp.c): after the ports, whose
	 * addresses they name */
	rc = conf_agents_parse(c, root, l->w.name, l->w.err, l->w.errlen);
	if (rc < 0)
		return rc;
	return conf_lstp_parse(c, root, l->w.name, l->w.err, l->w.errlen);
}

static int check_int_literals(struct ld *l, const char *text)
{
	const char *tok;
	unsigned int line;
	int len, is64;

	if (conf_scan_int_literals(text, &line, &tok, &len, &is64) == 0)
		return 0;
	if (is64)
		return conf_fail_at(&l->w, NULL, line, "integer %.*s does not fit in 64 bits", len,
				    tok);
	return conf_fail_at(&l->w, NULL, line,
			    "integer %.*s does not fit in 32 bits (add an L suffix "
			    "for a 64-bit integer)", len, tok);
}

/*
 * Entry points.
 */

/* Parse into a private copy so that *out changes only on success. */
static int load(struct sl_conf *out, const char *name, const char *text, const char *incdir,
		char *err, size_t errlen)
{
	struct ld l = { .w = { .name = name, .err = err, .errlen = errlen } };
	struct sl_conf *c;
	config_t cfg;
	int rc;

	c = malloc(sizeof(*c));
	if (c == NULL) {
		conf_fail(&l.w, NULL, "out of memory");
		return -ENOMEM;
	}
	sl_conf_defaults(c);
	conf_agents_defaults(&c->agents);
	conf_lstp_defaults(&c->lstp);
	snprintf(c->path, sizeof(c->path), "%s", name);
	l.c = c;
	config_init(&cfg);
	if (incdir != NULL)
		config_set_include_dir(&cfg, incdir);
	if (config_read_string(&cfg, text) != CONFIG_TRUE) {
		rc = conf_fail_at(&l.w, config_error_file(&cfg),
				  (unsigned int)config_error_line(&cfg), "%s",
				  config_error_text(&cfg));
	} else {
		rc = check_int_literals(&l, text);
		if (rc == 0)
			rc = parse_root(&l, config_root_setting(&cfg));
	}
	config_destroy(&cfg);
	if (rc == 0)
		memcpy(out, c, sizeof(*c));
	free(c);
	return rc;
}

int sl_conf_load_str(struct sl_conf *c, const char *name, const char *text, char *err, size_t errlen)
{
	struct conf_walk w = { .name = name ? name : "<string>", .err = err, .errlen = errlen };

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (c == NULL || text == NULL)
		return conf_fail(&w, NULL, "no configuration given");
	return load(c, w.name, text, NULL, err, errlen);
}

int sl_conf_load(struct sl_conf *c, const char *path, char *err, size_t errlen)
{
	struct conf_walk w = { .name = path ? path : "<null>", .err = err, .errlen = errlen };
	char *buf = NULL, *dir = NULL;
	struct stat st;
	size_t n;
	FILE *f;
	int rc;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (c == NULL || path == NULL)
		return conf_fail(&w, NULL, "no configuration given");
	f = fopen(path, "r");
	if (f == NULL)
		return conf_fail(&w, NULL, "cannot open: %s", strerror(errno));
	if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
		rc = conf_fail(&w, NULL, "is a directory");
		goto out;
	}
	buf = malloc(CONF_MAX_FILE + 1);
	dir = strdup(path);
	if (buf == NULL || dir == NULL) {
		rc = conf_fail(&w, NULL, "out of memory");
		goto out;
	}
	n = fread(buf, 1, CONF_MAX_FILE + 1, f);
	if (ferror(f)) {
		rc = conf_fail(&w, NULL, "read error: %s", strerror(errno));
		goto out;
	}
	if (n > CONF_MAX_FILE) {
		rc = conf_fail(&w, NULL, "larger than %u bytes; not a configuration file",
			       CONF_MAX_FILE);
		goto out;
	}
	if (memchr(buf, '\0', n) != NULL) {
		rc = conf_fail(&w, NULL, "contains a NUL byte; not a text file");
		goto out;
	}
	buf[n] = '\0';
	/* @include "x.conf" is relative to the directory of the main file */
	rc = load(c, path, buf, dirname(dir), err, errlen);
out:
	free(dir);
	free(buf);
	fclose(f);
	return rc;
}
