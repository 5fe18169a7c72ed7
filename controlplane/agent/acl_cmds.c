/*
 * `vnet acl add|del`, `show acl` (S4): the vnets' ACLs at run time.
 *
 * The workers read the active buffer of the ACL zone (sluice/agent_types.h).
 * A change writes the whole new rule set into the other buffer, tells every
 * worker to switch (CPDP_ACL_SET, applied between bursts) and waits for all
 * of them; only then is the old buffer free to be written again.  A worker
 * that fails to switch is rolled back with the rest, so all of them use the
 * same rules.  New flows see the change; established ones were checked
 * when they began (their SYN).  The rules are compiled here (rte_acl,
 * dataplane/agent/vnet_acl.c) into the same buffer, so a worker's lookup
 * costs about the same for thousands of rules as for a few.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_memzone.h>

#include <sluice/agent_types.h>

#include "../../dataplane/agent/vnet_acl.h"
#include "agent_ctl.h"
#include "agent_rt.h"
#include "cmds/cmds.h"
#include "cmds/table.h"
#include "conf.h"

#define ACL_ADD_USAGE \
	"VNET [src PFX] [dst PFX] [proto tcp|udp|icmp|any] [sport N|LO-HI] [dport N|LO-HI] " \
	"action allow|reject|drop [first]"

static struct sl_acl_zone *zone(struct cmd_ctx *c)
{
	const struct rte_memzone *mz = rte_memzone_lookup(SL_ACL_ZONE);
	struct sl_acl_zone *z = mz ? mz->addr : NULL;

	if (!z || z->magic != SL_ACL_MAGIC) {
		cmd_err(c, "no vnets: the data plane was started without an agents section");
		return NULL;
	}
	return z;
}

static int vnet_find(const char *name)
{
	for (unsigned int v = 0; A.conf && v < A.conf->n_vnets; v++)
		if (strcmp(A.conf->vnets[v].name, name) == 0)
			return (int)v;
	return -1;
}

/* Make buffer `next` (n rules, already written) the workers' one. */
static int publish(struct cmd_ctx *c, struct sl_acl_zone *z, uint32_t next, uint32_t n)
{
	int32_t st[SL_MAX_LCORES], st2[SL_MAX_LCORES];
	struct cpdp_msg m;
	uint32_t ok = 0, prev = z->active;

	int err = 0;

	/* the buffer's previous classifier: no worker has used it since the
	 * last switch completed */
	vnet_acl_free(z->ctx[next]);
	z->ctx[next] = NULL;
	if (n) {
		z->ctx[next] = vnet_acl_build("sl_acl_cp", z->r[next], n, SOCKET_ID_ANY, &err);
		if (!z->ctx[next])
			return cmd_err(c, "ACL not compiled: %s", strerror(-err));
	}
	z->n[next] = n;
	if (cpdp_acl_set_encode(&m, 0, next, n) != 0)
		return cmd_err(c, "invalid ACL switch");
	dp_link_exec(c->dp, &m, dp_link_workers(c->dp), st);
	for (unsigned int w = 0; w < c->dp->n_workers; w++)
		if (st[w] == 0)
			ok |= 1u << w;
	if (ok != dp_link_workers(c->dp)) {
		/* back to the old rules where the switch happened */
		cpdp_acl_set_encode(&m, 0, prev, z->n[prev]);
		dp_link_exec(c->dp, &m, ok, st2);
		return cmd_check_replies(c, "acl", dp_link_workers(c->dp), st);
	}
	z->active = next;
	return 0;
}

int cmd_acl_add(struct cmd_ctx *c, int argc, char *argv[])
{
	struct sl_acl_rule r = { .sport_hi = 65535, .dport_hi = 65535 };
	struct sl_acl_zone *z;
	uint32_t cur, next, n;
	int v, first = 0, have_action = 0, have_ports = 0;

	if (argc < 1)
		return cmd_err(c, "usage: vnet acl add %s", ACL_ADD_USAGE);
	v = vnet_find(argv[0]);
	if (v < 0)
		return cmd_err(c, "no vnet '%s' (vnets are listed by `show vnets`)", argv[0]);
	r.vnet = (uint16_t)v;
	for (int i = 1; i < argc; i += 2) {
		const char *k = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(k, "first") == 0) {
			first = 1;
			i--;
			continue;
		}
		if (!val)
			return cmd_err(c, "'%s' needs a value", k);
		if (strcmp(k, "src") == 0) {
			if (cmd_parse_pfx(c, "source", val, &r.src, &r.src_plen))
				return -1;
		} else if (strcmp(k, "dst") == 0) {
			if (cmd_parse_pfx(c, "destination", val, &r.dst, &r.dst_plen))
				return -1;
		} else if (strcmp(k, "proto") == 0) {
			if (sl_parse_proto(val, &r.proto))
				return cmd_err(c, "invalid proto '%s' (tcp, udp, icmp, any)", val);
		} else if (strcmp(k, "sport") == 0) {
			if (sl_parse_port_range(val, &r.sport_lo, &r.sport_hi))
				return cmd_err(c, "invalid sport '%s' (N, LO-HI or any)", val);
			have_ports = 1;
		} else if (strcmp(k, "dport") == 0) {
			if (sl_parse_port_range(val, &r.dport_lo, &r.dport_hi))
				return cmd_err(c, "invalid dport '%s' (N, LO-HI or any)", val);
			have_ports = 1;
		} else if (strcmp(k, "action") == 0) {
			if (strcmp(val, "allow") == 0)
				r.action = SL_ACL_ALLOW;
			else if (strcmp(val, "reject") == 0)
				r.action = SL_ACL_REJECT;
			else if (strcmp(val, "drop") == 0)
				r.action = SL_ACL_DROP;
			else
				return cmd_err(c, "invalid action '%s' (allow, reject, drop)", val);
			have_action = 1;
		} else {
			return cmd_err(c, "unexpected '%s' (want src, dst, proto, sport, dport, action, first)",
				       k);
		}
	}
	if (!have_action)
		return cmd_err(c, "usage: vnet acl add %s", ACL_ADD_USAGE);
	if (have_ports && r.proto != 6 && r.proto != 17 &&
	    (r.sport_lo || r.sport_hi != 65535 || r.dport_lo || r.dport_hi != 65535))
		return cmd_err(c, "ports need proto tcp or udp");
	if (!(z = zone(c)))
		return -1;
	cur = z->active;
	next = cur ^ 1;
	n = z->n[cur];
	if (n >= SL_ACL_RULES_MAX)
		return cmd_err(c, "ACL full (%d rules over all vnets)", SL_ACL_RULES_MAX);
	r.id = z->next_id;
	/* the new set: the rule first (ahead of everything in its vnet) or last */
	if (first) {
		z->r[next][0] = r;
		memcpy(&z->r[next][1], z->r[cur], n * sizeof(r));
	} else {
		memcpy(z->r[next], z->r[cur], n * sizeof(r));
		z->r[next][n] = r;
	}
	if (publish(c, z, next, n + 1) != 0)
		return -1;
	z->next_id++;
	if (c->json) {
		json_obj(&c->j, NULL);
		json_bool(&c->j, "ok", true);
		json_u64(&c->j, "id", r.id);
		json_close(&c->j);
	} else {
		sbuf_printf(c->out, "acl rule %u added to vnet %s\n", r.id, argv[0]);
	}
	return 0;
}

int cmd_acl_del(struct cmd_ctx *c, int argc, char *argv[])
{
	struct sl_acl_zone *z;
	uint32_t cur, next, n, k = 0, id;
	char *end;
	int found = 0;

	if (argc != 1)
		return cmd_err(c, "usage: vnet acl del ID");
	id = (uint32_t)strtoul(argv[0], &end, 10);
	if (*end || !argv[0][0] || id == 0)
		return cmd_err(c, "invalid rule id '%s'", argv[0]);
	if (!(z = zone(c)))
		return -1;
	cur = z->active;
	next = cur ^ 1;
	n = z->n[cur];
	for (uint32_t i = 0; i < n; i++) {
		if (z->r[cur][i].id == id) {
			found = 1;
			continue;
		}
		z->r[next][k++] = z->r[cur][i];
	}
	if (!found)
		return cmd_err(c, "no ACL rule %u (see `show acl`)", id);
	if (publish(c, z, next, k) != 0)
		return -1;
	return cmd_ok(c);
}

static const char *action_str(unsigned int a)
{
	return a == SL_ACL_ALLOW ? "allow" : a == SL_ACL_REJECT ? "reject" : a == SL_ACL_DROP ? "drop" :
									    "?";
}

static void pfx_str(uint32_t p, uint8_t l, char *buf, size_t len)
{
	char ip[16];

	sl_format_ipv4(p, ip, sizeof(ip));
	snprintf(buf, len, "%s/%u", ip, l);
}

static void range_str(uint16_t lo, uint16_t hi, char *buf, size_t len)
{
	if (lo == 0 && hi == 65535)
		snprintf(buf, len, "any");
	else if (lo == hi)
		snprintf(buf, len, "%u", lo);
	else
		snprintf(buf, len, "%u-%u", lo, hi);
}

int cmd_show_acl(struct cmd_ctx *c, int argc, char *argv[])
{
	static const char *const hdr[] = { ">id", "vnet", "src", "dst", "proto", "sport", "dport",
					   "action" };
	struct sl_acl_zone *z;
	struct tbl t;
	uint32_t rows = 0, cur;
	int only = -1;

	if (argc > 1)
		return cmd_err(c, "usage: show acl [VNET]");
	if (argc == 1 && (only = vnet_find(argv[0])) < 0)
		return cmd_err(c, "no vnet '%s'", argv[0]);
	if (!(z = zone(c)))
		return -1;
	if (c->json) {
		json_obj(&c->j, NULL);
		json_arr(&c->j, "acl");
	} else {
		tbl_init(&t, sizeof(hdr) / sizeof(hdr[0]), hdr);
	}
	cur = z->active;
	for (uint32_t i = 0; i < z->n[cur]; i++) {
		const struct sl_acl_rule *r = &z->r[cur][i];
		char s[24], d[24], sp[16], dpt[16];

		if (only >= 0 && r->vnet != only)
			continue;
		rows++;
		pfx_str(r->src, r->src_plen, s, sizeof(s));
		pfx_str(r->dst, r->dst_plen, d, sizeof(d));
		range_str(r->sport_lo, r->sport_hi, sp, sizeof(sp));
		range_str(r->dport_lo, r->dport_hi, dpt, sizeof(dpt));
		if (c->json) {
			json_obj(&c->j, NULL);
			json_u64(&c->j, "id", r->id);
			json_str(&c->j, "vnet", A.conf && r->vnet < A.conf->n_vnets ?
							A.conf->vnets[r->vnet].name : "?");
			json_str(&c->j, "src", s);
			json_str(&c->j, "dst", d);
			json_str(&c->j, "proto", sl_proto_str(r->proto));
			json_str(&c->j, "sport", sp);
			json_str(&c->j, "dport", dpt);
			json_str(&c->j, "action", action_str(r->action));
			json_close(&c->j);
		} else {
			tbl_cell(&t, "%u", r->id);
			tbl_cell(&t, "%s", A.conf && r->vnet < A.conf->n_vnets ?
						   A.conf->vnets[r->vnet].name : "?");
			tbl_cell(&t, "%s", s);
			tbl_cell(&t, "%s", d);
			tbl_cell(&t, "%s", sl_proto_str(r->proto));
			tbl_cell(&t, "%s", sp);
			tbl_cell(&t, "%s", dpt);
			tbl_cell(&t, "%s", action_str(r->action));
		}
	}
	cmd_list_end(c, c->json ? NULL : &t, rows, "no ACL rules (everything allowed)");
	return 0;
}
