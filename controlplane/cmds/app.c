/*
 * Applications (S1, S5): `app add`, `app del`, `show apps`, `show tunnels`.
 *
 * The table lives in shared memory (shm.h struct sl_app_table): dp main
 * writes the config's applications before the workers start, sluice-cp
 * owns it afterwards.  An application is an entry, its TLS context here
 * (tls/cp_tls.c) and the policy rules that send its traffic to the workers'
 * TLS relay; `app add` makes them in that order and undoes all of it if a
 * step fails, `app del` removes them in the opposite order.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_memzone.h>

#include <sluice/cpdp.h>

#include "../../dataplane/apps/tunnel.h"
#include "conf.h"
#include "tls/cp_tls.h"

#include "cmds.h"
#include "table.h"

static const char *ip_str(uint32_t ip, char *buf)
{
	snprintf(buf, 16, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255);
	return buf;
}

/* A consistent copy of entry i (gen even and unchanged). */
static int app_read(const struct sl_app_table *t, unsigned int i, struct sl_app_def *a)
{
	for (int tries = 0; tries < 100; tries++) {
		uint32_t g1 = __atomic_load_n(&t->a[i].gen, __ATOMIC_ACQUIRE), g2;

		if (g1 & 1)
			continue;
		memcpy(a, &t->a[i], sizeof(*a));
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		g2 = __atomic_load_n(&t->a[i].gen, __ATOMIC_RELAXED);
		if (g1 == g2)
			return a->in_use ? 0 : -ENOENT;
	}
	return -EBUSY;
}

static int app_find(struct cmd_ctx *c, const char *name)
{
	struct sl_app_def a;

	for (unsigned int i = 0; i < SL_APPS_MAX; i++)
		if (app_read(&c->dp->shm->apps, i, &a) == 0 && strcmp(a.name, name) == 0)
			return (int)i;
	return -1;
}

static void ent_begin(struct sl_app_def *e)
{
	__atomic_store_n(&e->gen, e->gen + 1, __ATOMIC_RELEASE);
}

static void ent_end(struct sl_app_def *e)
{
	__atomic_store_n(&e->gen, e->gen + 1, __ATOMIC_RELEASE);
}

/* The largest rule id in use (worker 0 holds the same list as every worker). */
static int max_rule_id(struct cmd_ctx *c, uint32_t *max)
{
	const struct sl_rule_table *t = &c->dp->shm->lcore[0].rules;
	struct sl_rule *r = malloc(SL_RULES_MAX * sizeof(*r));
	uint32_t n;

	if (!r)
		return cmd_err(c, "out of memory");
	if (cmd_seq_snapshot(&t->seq, &t->n, SL_RULES_MAX, t->r, sizeof(*r), r, &n) != 0) {
		free(r);
		return cmd_err(c, "the rule table did not hold still; try again");
	}
	*max = 0;
	for (uint32_t i = 0; i < n; i++)
		if (r[i].id > *max)
			*max = r[i].id;
	free(r);
	if (n + 2 > SL_RULES_MAX)
		return cmd_err(c, "rule table full (%d rules)", SL_RULES_MAX);
	return 0;
}

static void rules_del(struct cmd_ctx *c, const uint32_t *ids, unsigned int n)
{
	int32_t st[SL_MAX_LCORES];

	for (unsigned int k = 0; k < n; k++) {
		struct cpdp_msg m;

		if (ids[k] && cpdp_rule_del_encode(&m, 0, ids[k]) == 0)
			dp_link_exec(c->dp, &m, dp_link_workers(c->dp), st);
	}
}

static int rules_add(struct cmd_ctx *c, const struct sl_rule *r, unsigned int n)
{
	int32_t st[SL_MAX_LCORES];

	for (unsigned int k = 0; k < n; k++) {
		struct cpdp_rule cr = {
			.id = r[k].id, .src = r[k].src, .dst = r[k].dst, .src_plen = r[k].src_plen,
			.dst_plen = r[k].dst_plen, .proto = r[k].proto, .action = r[k].action,
			.dport_lo = r[k].dport_lo, .dport_hi = r[k].dport_hi, .flags = r[k].flags,
			.app = r[k].app,
		};
		struct cpdp_msg m;
		uint32_t ids[2] = { r[0].id, k ? r[1].id : 0 };

		if (cpdp_rule_add_encode(&m, 0, &cr) != 0) {
			rules_del(c, ids, k);
			return cmd_err(c, "internal error: rule %u does not encode", r[k].id);
		}
		dp_link_exec(c->dp, &m, dp_link_workers(c->dp), st);
		if (cmd_check_replies(c, "app rule", dp_link_workers(c->dp), st) != 0) {
			/* every worker must hold the same list: take it back out */
			rules_del(c, ids, k + 1);
			return -1;
		}
	}
	return 0;
}

static int port_arg(struct cmd_ctx *c, const char *what, const char *s, uint16_t *p)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (!*s || *end || v < 1 || v > 65535)
		return cmd_err(c, "invalid %s port '%s' (1..65535)", what, s);
	*p = (uint16_t)v;
	return 0;
}

static int path_arg(struct cmd_ctx *c, const char *what, const char *s, char *out)
{
	if (strlen(s) >= SL_PATH_LEN)
		return cmd_err(c, "%s path too long (at most %d characters)", what, SL_PATH_LEN - 1);
	if (access(s, R_OK) != 0)
		return cmd_err(c, "cannot read %s '%s': %s", what, s, strerror(errno));
	strcpy(out, s);
	return 0;
}

#define APP_ADD_USAGE_ERR "usage: app add " APP_ADD_USAGE

int cmd_app_add(struct cmd_ctx *c, int argc, char *argv[])
{
	struct sl_app_table *t = &c->dp->shm->apps;
	struct sl_app_def a = { .in_use = 1, .mode = SL_APP_TERMINATE, .e2e_ttl_s = 300 };
	struct sl_rule r[2];
	char err[256];
	uint32_t max = 0;
	unsigned int n, idx;
	int i, rc;

	if (argc < 1)
		return cmd_err(c, APP_ADD_USAGE_ERR);
	if (strlen(argv[0]) == 0 || strlen(argv[0]) >= SL_APP_NAME_LEN)
		return cmd_err(c, "application name must be 1..%d characters", SL_APP_NAME_LEN - 1);
	for (const char *p = argv[0]; *p; p++)
		if (!(isalnum((unsigned char)*p) || *p == '_' || *p == '.' || *p == '-'))
			return cmd_err(c, "application name '%s': letters, digits, '_', '.', '-' only",
				       argv[0]);
	strcpy(a.name, argv[0]);
	for (i = 1; i < argc; i++) {
		const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(k, "transparent") == 0) {
			a.transparent = 1;
			continue;
		}
		if (!v)
			return cmd_err(c, "'%s' needs a value; " APP_ADD_USAGE_ERR, k);
		i++;
		if (strcmp(k, "server") == 0) {
			if (sl_parse_ipv4(v, &a.server) < 0)
				return cmd_err(c, "invalid server address '%s'", v);
		} else if (strcmp(k, "secure") == 0) {
			if (port_arg(c, "secure", v, &a.secure_port))
				return -1;
		} else if (strcmp(k, "plain") == 0) {
			if (port_arg(c, "plain", v, &a.plain_port))
				return -1;
		} else if (strcmp(k, "cert") == 0) {
			if (path_arg(c, "certificate", v, a.cert))
				return -1;
		} else if (strcmp(k, "key") == 0) {
			if (path_arg(c, "key", v, a.key))
				return -1;
		} else if (strcmp(k, "ca") == 0) {
			if (path_arg(c, "CA", v, a.ca))
				return -1;
		} else if (strcmp(k, "mode") == 0) {
			if (strcmp(v, "terminate") == 0)
				a.mode = SL_APP_TERMINATE;
			else if (strcmp(v, "originate") == 0)
				a.mode = SL_APP_ORIGINATE;
			else
				return cmd_err(c, "mode must be terminate or originate, not '%s'", v);
		} else if (strcmp(k, "e2e") == 0) {
			if (strlen(v) >= SL_E2E_HOSTS_LEN || strchr(v, ' '))
				return cmd_err(c, "e2e hosts: comma-separated names, at most %d bytes",
					       SL_E2E_HOSTS_LEN - 1);
			strcpy(a.e2e_hosts, v);
		} else if (strcmp(k, "ttl") == 0) {
			char *end;
			unsigned long s = strtoul(v, &end, 10);

			if (!*v || *end || s < 1 || s > 86400)
				return cmd_err(c, "invalid ttl '%s' (1..86400 seconds)", v);
			a.e2e_ttl_s = (uint32_t)s;
		} else {
			return cmd_err(c, "unexpected '%s'; " APP_ADD_USAGE_ERR, k);
		}
	}
	if (!a.server || !a.secure_port || !a.plain_port)
		return cmd_err(c, "server, secure and plain are required; " APP_ADD_USAGE_ERR);
	if (a.secure_port == a.plain_port)
		return cmd_err(c, "secure and plain port must differ");
	if (a.mode == SL_APP_TERMINATE && (!a.cert[0] || !a.key[0]))
		return cmd_err(c, "mode terminate needs cert FILE and key FILE");
	if (a.mode == SL_APP_ORIGINATE && !a.ca[0])
		return cmd_err(c, "mode originate needs ca FILE (to verify the server)");
	if (a.mode == SL_APP_ORIGINATE && a.e2e_hosts[0])
		return cmd_err(c, "e2e hosts only apply to mode terminate");
	if (app_find(c, a.name) >= 0)
		return cmd_err(c, "application '%s' exists (app del first)", a.name);
	for (idx = 0; idx < SL_APPS_MAX; idx++)
		if (!__atomic_load_n(&t->a[idx].in_use, __ATOMIC_ACQUIRE))
			break;
	if (idx == SL_APPS_MAX)
		return cmd_err(c, "application table full (%d)", SL_APPS_MAX);
	if (max_rule_id(c, &max))
		return -1;
	n = sl_app_rules(&a, idx, max + 1, r);
	for (unsigned int k = 0; k < n; k++)
		a.rule_ids[k] = r[k].id;
	/* 1. the TLS context: certificate and key must load */
	rc = cp_tls_app_load(idx, &a, err, sizeof(err));
	if (rc != 0)
		return cmd_err(c, "application '%s': %s", a.name, err);
	/* 2. the entry the workers read */
	ent_begin(&t->a[idx]);
	a.gen = t->a[idx].gen;
	memcpy(&t->a[idx], &a, sizeof(a));
	ent_end(&t->a[idx]);
	/* 3. the rules that send its traffic to the relay */
	if (rules_add(c, r, n) != 0) {
		ent_begin(&t->a[idx]);
		t->a[idx].in_use = 0;
		ent_end(&t->a[idx]);
		cp_tls_app_unload(idx);
		return -1;
	}
	__atomic_fetch_add(&t->n, 1, __ATOMIC_RELAXED);
	if (c->json) {
		json_obj(&c->j, NULL);
		json_str(&c->j, "name", a.name);
		json_u64(&c->j, "index", idx);
		json_close(&c->j);
	} else {
		sbuf_printf(c->out, "ok: app %s\n", a.name);
	}
	return 0;
}

int cmd_app_del(struct cmd_ctx *c, int argc, char *argv[])
{
	struct sl_app_table *t = &c->dp->shm->apps;
	int idx;

	if (argc != 1)
		return cmd_err(c, "usage: app del NAME");
	idx = app_find(c, argv[0]);
	if (idx < 0)
		return cmd_err(c, "no application '%s'", argv[0]);
	if (t->a[idx].mode == SL_APP_AGENTS)
		return cmd_err(c, "'%s' is the agents' listener (S4): it comes from the config's "
			       "agents section", argv[0]);
	/* no new connections first, then the context, then the entry (a worker
	 * relaying one of its connections finds it gone and ends it) */
	rules_del(c, t->a[idx].rule_ids, 2);
	cp_tls_app_unload((unsigned int)idx);
	ent_begin(&t->a[idx]);
	t->a[idx].in_use = 0;
	memset(t->a[idx].rule_ids, 0, sizeof(t->a[idx].rule_ids));
	ent_end(&t->a[idx]);
	__atomic_fetch_sub(&t->n, 1, __ATOMIC_RELAXED);
	return cmd_ok(c);
}

static const char *mode_str(unsigned int m)
{
	return m == SL_APP_ORIGINATE ? "originate" : m == SL_APP_AGENTS ? "agents" : "terminate";
}

int cmd_show_apps(struct cmd_ctx *c, int argc, char *argv[])
{
	static const char *const hdr[] = { "name", "mode", "server", ">secure", ">plain",
					   ">conns", ">handshakes", ">resumed", ">hs_errors",
					   ">bytes_in", ">bytes_out", ">denied", ">passthrough",
					   ">errors" };
	struct dp_link *dp = c->dp;
	struct tbl t;
	uint32_t rows = 0;
	char ip[16];

	if (cmd_no_args(c, argc, argv))
		return -1;
	if (c->json) {
		json_obj(&c->j, NULL);
		json_arr(&c->j, "apps");
	} else {
		tbl_init(&t, sizeof(hdr) / sizeof(hdr[0]), hdr);
	}
	for (unsigned int i = 0; i < SL_APPS_MAX; i++) {
		struct sl_app_stats s = { 0 };
		struct sl_app_def a;

		if (app_read(&dp->shm->apps, i, &a) != 0)
			continue;
		for (unsigned int w = 0; w < dp->n_workers; w++) {
			const struct sl_app_stats *x = &dp->shm->lcore[w].st.app[i];

			s.conns += RD(x->conns);
			s.bytes_in += RD(x->bytes_in);
			s.bytes_out += RD(x->bytes_out);
			s.records_in += RD(x->records_in);
			s.records_out += RD(x->records_out);
			s.denied += RD(x->denied);
			s.errors += RD(x->errors);
			s.passthrough += RD(x->passthrough);
		}
		rows++;
		ip_str(a.server, ip);
		if (c->json) {
			json_obj(&c->j, NULL);
			json_u64(&c->j, "index", i);
			json_str(&c->j, "name", a.name);
			json_str(&c->j, "mode", mode_str(a.mode));
			json_str(&c->j, "server", ip);
			json_u64(&c->j, "secure_port", a.secure_port);
			json_u64(&c->j, "plain_port", a.plain_port);
			json_bool(&c->j, "transparent", a.transparent);
			json_str(&c->j, "cert", a.cert);
			json_str(&c->j, "ca", a.ca);
			json_str(&c->j, "e2e_hosts", a.e2e_hosts);
			json_u64(&c->j, "e2e_ttl", a.e2e_ttl_s);
			json_arr(&c->j, "rules");
			for (unsigned int k = 0; k < 2; k++)
				if (a.rule_ids[k])
					json_u64(&c->j, NULL, a.rule_ids[k]);
			json_close(&c->j);
			json_u64(&c->j, "conns", s.conns);
			json_u64(&c->j, "handshakes", a.handshakes);
			json_u64(&c->j, "resumptions", a.resumptions);
			json_u64(&c->j, "handshake_errors", a.handshake_errors);
			json_u64(&c->j, "verify_failures", a.verify_failures);
			json_u64(&c->j, "escalated", a.escalated);
			json_u64(&c->j, "bytes_in", s.bytes_in);
			json_u64(&c->j, "bytes_out", s.bytes_out);
			json_u64(&c->j, "records_in", s.records_in);
			json_u64(&c->j, "records_out", s.records_out);
			json_u64(&c->j, "denied", s.denied);
			json_u64(&c->j, "passthrough", s.passthrough);
			json_u64(&c->j, "errors", s.errors);
			json_close(&c->j);
		} else {
			tbl_cell(&t, "%s", a.name);
			tbl_cell(&t, "%s", mode_str(a.mode));
			tbl_cell(&t, "%s", ip);
			tbl_cell(&t, "%u", a.secure_port);
			tbl_cell(&t, "%u", a.plain_port);
			tbl_cell(&t, "%lu", (unsigned long)s.conns);
			tbl_cell(&t, "%lu", (unsigned long)a.handshakes);
			tbl_cell(&t, "%lu", (unsigned long)a.resumptions);
			tbl_cell(&t, "%lu", (unsigned long)a.handshake_errors);
			tbl_cell(&t, "%lu", (unsigned long)s.bytes_in);
			tbl_cell(&t, "%lu", (unsigned long)s.bytes_out);
			tbl_cell(&t, "%lu", (unsigned long)s.denied);
			tbl_cell(&t, "%lu", (unsigned long)s.passthrough);
			tbl_cell(&t, "%lu", (unsigned long)s.errors);
		}
	}
	cmd_list_end(c, c->json ? NULL : &t, rows, "no applications");
	return 0;
}

static const struct sl_tunnel_zone *tun_zone(unsigned int w)
{
	char name[RTE_MEMZONE_NAMESIZE];
	const struct rte_memzone *mz;

	snprintf(name, sizeof(name), SL_TUN_ZONE_FMT, w);
	mz = rte_memzone_lookup(name);
	if (!mz || mz->len < sizeof(struct sl_tunnel_zone))
		return NULL;
	return mz->addr;
}

/* A record read from some worker's tunnel table, with what is left of it. */
struct tun_rec {
	struct sl_tunnel_ent e;
	unsigned int worker;
	int32_t left_ms;
};

/* By pair, the newest record first. */
static int tun_rec_cmp(const void *a, const void *b)
{
	const struct tun_rec *x = a, *y = b;

	if (x->e.client != y->e.client)
		return x->e.client < y->e.client ? -1 : 1;
	if (x->e.server != y->e.server)
		return x->e.server < y->e.server ? -1 : 1;
	return x->e.stamp > y->e.stamp ? -1 : x->e.stamp < y->e.stamp;
}

/*
 * Every worker writes its own table and a pair may have records in several
 * (dataplane/apps/tunnel.h): the pair is what its newest record says, as a
 * worker's lookup sees it.  One row per live pair, from the worker that
 * wrote the newest record, with the connections of every record since the
 * last tombstone; a pair whose newest record is a tombstone has ended.
 */
int cmd_show_tunnels(struct cmd_ctx *c, int argc, char *argv[])
{
	static const char *const hdr[] = { "worker", "client", "server", "app", "sni", "how",
					   ">ttl_left_s", ">conns" };
	struct dp_link *dp = c->dp;
	struct tun_rec *r;
	struct tbl t;
	uint32_t rows = 0, n = 0;
	char ip1[16], ip2[16];

	if (cmd_no_args(c, argc, argv))
		return -1;
	r = malloc(sizeof(*r) * SL_TUN_MAX * (dp->n_workers ? dp->n_workers : 1));
	if (!r) {
		cmd_err(c, "out of memory");
		return -1;
	}
	for (unsigned int w = 0; w < dp->n_workers; w++) {
		const struct sl_tunnel_zone *z = tun_zone(w);
		uint32_t now;

		if (!z)
			continue;
		now = __atomic_load_n(&z->now_ms, __ATOMIC_RELAXED);
		for (unsigned int i = 0; i < SL_TUN_MAX; i++) {
			struct tun_rec *x = &r[n];

			if (tunnel_read(&z->e[i], &x->e) != 0)
				continue;
			x->left_ms = (int32_t)(x->e.expiry_ms - now);
			if (x->left_ms <= 0)
				continue; /* expired; the worker drops it within a second */
			x->worker = w;
			n++;
		}
	}
	qsort(r, n, sizeof(*r), tun_rec_cmp);
	if (c->json) {
		json_obj(&c->j, NULL);
		json_arr(&c->j, "tunnels");
	} else {
		tbl_init(&t, sizeof(hdr) / sizeof(hdr[0]), hdr);
	}
	for (uint32_t i = 0, j; i < n; i = j) {
		const struct sl_tunnel_ent *e = &r[i].e;
		uint64_t conns = 0;
		struct sl_app_def a;
		int ended = e->tomb;

		for (j = i; j < n && r[j].e.client == e->client && r[j].e.server == e->server; j++) {
			ended |= r[j].e.tomb;
			if (!ended)
				conns += r[j].e.conns;
		}
		if (e->tomb)
			continue;
		if (app_read(&dp->shm->apps, e->app, &a) != 0)
			strcpy(a.name, "?");
		rows++;
		ip_str(e->client, ip1);
		ip_str(e->server, ip2);
		if (c->json) {
			json_obj(&c->j, NULL);
			json_u64(&c->j, "worker", r[i].worker);
			json_str(&c->j, "client", ip1);
			json_str(&c->j, "server", ip2);
			json_str(&c->j, "app", a.name);
			json_str(&c->j, "sni", e->sni);
			json_str(&c->j, "how", e->learned ? "learned" : "e2e_hosts");
			json_u64(&c->j, "ttl_left_s", (uint64_t)(r[i].left_ms + 999) / 1000);
			json_u64(&c->j, "conns", conns);
			json_close(&c->j);
		} else {
			tbl_cell(&t, "%u", r[i].worker);
			tbl_cell(&t, "%s", ip1);
			tbl_cell(&t, "%s", ip2);
			tbl_cell(&t, "%s", a.name);
			tbl_cell(&t, "%s", e->sni);
			tbl_cell(&t, "%s", e->learned ? "learned" : "e2e_hosts");
			tbl_cell(&t, "%u", (unsigned int)((r[i].left_ms + 999) / 1000));
			tbl_cell(&t, "%lu", (unsigned long)conns);
		}
	}
	free(r);
	cmd_list_end(c, c->json ? NULL : &t, rows, "no tunnels");
	return 0;
}
