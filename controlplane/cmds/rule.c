/* rule add / rule del / show rules: policy rules applied by every worker. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"

#include "cmds.h"
#include "table.h"

/* Worker 0's rules, and the hits of every worker summed by rule id. */
static int read_rules(struct cmd_ctx *c, struct sl_rule *out, uint64_t *hits, uint32_t *n)
{
	const struct sl_rule_table *t = &c->dp->shm->lcore[0].rules;

	if (cmd_seq_snapshot(&t->seq, &t->n, SL_RULES_MAX, t->r, sizeof(*out), out, n) != 0)
		return -EBUSY;
	memset(hits, 0, *n * sizeof(*hits));
	for (unsigned int w = 0; w < c->dp->n_workers; w++) {
		const struct sl_rule_table *wt = &c->dp->shm->lcore[w].rules;

		/* counters by position: match each worker's list by id */
		for (uint32_t i = 0; i < wt->n && i < SL_RULES_MAX; i++)
			for (uint32_t k = 0; k < *n; k++)
				if (wt->r[i].id == out[k].id)
					hits[k] += wt->hits[i];
	}
	return 0;
}

int cmd_rule_add(struct cmd_ctx *c, int argc, char *argv[])
{
	struct dp_link *dp = c->dp;
	struct cpdp_rule r = { .dport_hi = 65535 };
	struct sl_rule *cur;
	uint64_t *hits;
	int32_t st[SL_MAX_LCORES], st2[SL_MAX_LCORES];
	struct cpdp_msg m;
	uint32_t n, ok_mask = 0;
	int have_action = 0, have_port = 0, i, step;

	for (i = 0; i < argc; i += step) {
		const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		step = 2;
		/* the one flag word: it takes no value */
		if (strcmp(k, "transparent") == 0) {
			r.flags |= SL_RF_TRANSPARENT;
			step = 1;
			continue;
		}
		if (strcmp(k, "src") != 0 && strcmp(k, "dst") != 0 && strcmp(k, "proto") != 0 &&
		    strcmp(k, "dport") != 0 && strcmp(k, "action") != 0)
			return cmd_err(c, "unexpected '%s' (want src, dst, proto, dport, action, transparent)", k);
		if (!v)
			return cmd_err(c, "'%s' needs a value", k);
		if (strcmp(k, "src") == 0) {
			if (cmd_parse_pfx(c, "source", v, &r.src, &r.src_plen))
				return -1;
		} else if (strcmp(k, "dst") == 0) {
			if (cmd_parse_pfx(c, "destination", v, &r.dst, &r.dst_plen))
				return -1;
		} else if (strcmp(k, "proto") == 0) {
			if (sl_parse_proto(v, &r.proto))
				return cmd_err(c, "invalid proto '%s' (tcp, udp, icmp, any)", v);
		} else if (strcmp(k, "dport") == 0) {
			if (sl_parse_port_range(v, &r.dport_lo, &r.dport_hi))
				return cmd_err(c, "invalid dport '%s' (N, LO-HI or any)", v);
			have_port = 1;
		} else if (strcmp(k, "action") == 0) {
			if (sl_parse_rule_action(v, &r.action))
				return cmd_err(c, "invalid action '%s' (forward, drop, reject, proxy)", v);
			have_action = 1;
		}
	}
	if (!have_action)
		return cmd_err(c, "usage: rule add %s", RULE_ADD_USAGE);
	if (have_port && r.proto != 6 && r.proto != 17 && (r.dport_lo != 0 || r.dport_hi != 65535))
		return cmd_err(c, "dport needs proto tcp or udp");
	/* the proxy terminates TCP on the worker; transparent only means
	 * something to it (which address the server leg uses) */
	if (r.action == SL_RA_PROXY && r.proto != 6)
		return cmd_err(c, "action proxy needs proto tcp (got %s)", sl_proto_str(r.proto));
	if ((r.flags & SL_RF_TRANSPARENT) && r.action != SL_RA_PROXY)
		return cmd_err(c, "transparent only applies to action proxy, not %s",
			       sl_rule_action_str(r.action));

	/* the next id: one above the largest in use */
	cur = malloc(SL_RULES_MAX * sizeof(*cur));
	hits = malloc(SL_RULES_MAX * sizeof(*hits));
	if (!cur || !hits || read_rules(c, cur, hits, &n) != 0) {
		free(cur);
		free(hits);
		return cmd_err(c, "rule table busy; try again");
	}
	r.id = 1;
	for (uint32_t k = 0; k < n; k++)
		if (cur[k].id >= r.id)
			r.id = cur[k].id + 1;
	free(cur);
	free(hits);
	if (n >= SL_RULES_MAX)
		return cmd_err(c, "rule table full (%d rules)", SL_RULES_MAX);
	if (cpdp_rule_add_encode(&m, 0, &r) != 0)
		return cmd_err(c, "invalid rule");
	dp_link_exec(dp, &m, dp_link_workers(dp), st);
	for (i = 0; i < (int)dp->n_workers; i++)
		if (st[i] == 0)
			ok_mask |= 1u << i;
	if (ok_mask == dp_link_workers(dp)) {
		if (c->json) {
			json_obj(&c->j, NULL);
			json_u64(&c->j, "id", r.id);
			json_close(&c->j);
		} else {
			sbuf_printf(c->out, "ok: rule %u\n", r.id);
		}
		return 0;
	}
	if (ok_mask) {
		/* every worker must hold the same list: undo where it went in */
		cpdp_rule_del_encode(&m, 0, r.id);
		dp_link_exec(dp, &m, ok_mask, st2);
	}
	return cmd_check_replies(c, "rule add", dp_link_workers(dp), st);
}

int cmd_rule_del(struct cmd_ctx *c, int argc, char *argv[])
{
	struct dp_link *dp = c->dp;
	int32_t st[SL_MAX_LCORES];
	struct cpdp_msg m;
	unsigned long id;
	char *end;
	uint32_t ok = 0, enoent = 0;

	if (argc != 1)
		return cmd_err(c, "usage: rule del ID (see show rules)");
	id = strtoul(argv[0], &end, 10);
	if (*argv[0] == '\0' || *end != '\0' || id == 0 || id > UINT32_MAX)
		return cmd_err(c, "invalid rule id '%s'", argv[0]);
	cpdp_rule_del_encode(&m, 0, (uint32_t)id);
	dp_link_exec(dp, &m, dp_link_workers(dp), st);
	for (uint32_t i = 0; i < dp->n_workers; i++) {
		ok += st[i] == 0;
		enoent += st[i] == -ENOENT;
	}
	if (ok > 0 && ok + enoent == dp->n_workers)
		return cmd_ok(c);
	if (enoent == dp->n_workers)
		return cmd_err(c, "rule del %lu: no such rule", id);
	return cmd_check_replies(c, "rule del", dp_link_workers(dp), st);
}

int cmd_show_rules(struct cmd_ctx *c, int argc, char *argv[])
{
	static const char *const hdr[] = {
		">id", "src", "dst", "proto", "dport", "action", "transparent", ">hits" };
	struct sl_rule *r = malloc(SL_RULES_MAX * sizeof(*r));
	uint64_t *hits = malloc(SL_RULES_MAX * sizeof(*hits));
	uint32_t n;
	struct tbl t;

	if (cmd_no_args(c, argc, argv) || !r || !hits || read_rules(c, r, hits, &n) != 0) {
		free(r);
		free(hits);
		return c->err[0] ? -1 : cmd_err(c, "rule table busy; try again");
	}
	if (c->json) {
		json_obj(&c->j, NULL);
		json_arr(&c->j, "rules");
	} else {
		tbl_init(&t, 8, hdr);
	}
	for (uint32_t i = 0; i < n; i++) {
		char a[16], src[24], dst[24], port[16];

		sl_format_ipv4(r[i].src, a, sizeof(a));
		snprintf(src, sizeof(src), "%s/%u", a, r[i].src_plen);
		sl_format_ipv4(r[i].dst, a, sizeof(a));
		snprintf(dst, sizeof(dst), "%s/%u", a, r[i].dst_plen);
		if (r[i].dport_lo == 0 && r[i].dport_hi == 65535)
			snprintf(port, sizeof(port), "any");
		else if (r[i].dport_lo == r[i].dport_hi)
			snprintf(port, sizeof(port), "%u", r[i].dport_lo);
		else
			snprintf(port, sizeof(port), "%u-%u", r[i].dport_lo, r[i].dport_hi);
		if (c->json) {
			json_obj(&c->j, NULL);
			json_u64(&c->j, "id", r[i].id);
			json_str(&c->j, "src", src);
			json_str(&c->j, "dst", dst);
			json_str(&c->j, "proto", sl_proto_str(r[i].proto));
			json_u64(&c->j, "dport_lo", r[i].dport_lo);
			json_u64(&c->j, "dport_hi", r[i].dport_hi);
			json_str(&c->j, "action", sl_rule_action_str(r[i].action));
			json_bool(&c->j, "transparent", (r[i].flags & SL_RF_TRANSPARENT) != 0);
			json_u64(&c->j, "hits", hits[i]);
			json_close(&c->j);
		} else {
			tbl_cell(&t, "%u", r[i].id);
			tbl_cell(&t, "%s", r[i].src_plen ? src : "any");
			tbl_cell(&t, "%s", r[i].dst_plen ? dst : "any");
			tbl_cell(&t, "%s", sl_proto_str(r[i].proto));
			tbl_cell(&t, "%s", port);
			tbl_cell(&t, "%s", sl_rule_action_str(r[i].action));
			tbl_cell(&t, "%s", (r[i].flags & SL_RF_TRANSPARENT) ? "yes" : "no");
			tbl_cell(&t, "%llu", (unsigned long long)hits[i]);
		}
	}
	free(r);
	free(hits);
	cmd_list_end(c, &t, n, "no rules (everything is routed)");
	return 0;
}
