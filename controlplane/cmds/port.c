/* port impair / clear counters: per-lcore state changed by its owner on command. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"

#include "cmds.h"

int cmd_clear_counters(struct cmd_ctx *c, int argc, char *argv[])
{
	int32_t st[SL_MAX_LCORES];
	struct cpdp_msg m;

	if (cmd_no_args(c, argc, argv))
		return -1;
	/* each lcore zeroes its own counters; main also resets ethdev stats */
	cpdp_msg_init(&m, CPDP_STATS_CLEAR, 0);
	dp_link_exec(c->dp, &m, dp_link_all(c->dp), st);
	if (cmd_check_replies(c, "clear counters", dp_link_all(c->dp), st))
		return -1;
	return cmd_ok(c);
}

static int show_impair(struct cmd_ctx *c, unsigned int port)
{
	const struct sl_impair *imp = &c->dp->shm->lcore[0].impair[port];
	static const char *const dn[SL_DIR_MAX] = { "in", "out" };
	char name[SL_NAME_LEN + 1];
	unsigned int d;

	cmd_port_name(c, port, name, sizeof(name));
	if (c->json) {
		json_obj(&c->j, NULL);
		json_u64(&c->j, "index", port);
		json_str(&c->j, "name", name);
		cmd_impair_json(c, "impair", imp);
		json_close(&c->j);
		return 0;
	}
	for (d = 0; d < SL_DIR_MAX; d++) {
		char a[16], b[16], e[16];

		sl_format_pct(RD(imp->dir[d].drop_ppm), a, sizeof(a));
		sl_format_pct(RD(imp->dir[d].reorder_ppm), b, sizeof(b));
		sl_format_pct(RD(imp->dir[d].dup_ppm), e, sizeof(e));
		sbuf_printf(c->out, "%s %-3s  drop %s  reorder %s  dup %s\n", name, dn[d], a, b, e);
	}
	sbuf_printf(c->out, "%s seed %llu\n", name, (unsigned long long)RD(imp->seed));
	return 0;
}

static int parse_pct(struct cmd_ctx *c, const char *key, const char *s, uint32_t *ppm)
{
	if (sl_parse_pct(s, ppm) != 0 || *ppm > 1000000)
		return cmd_err(c, "invalid %s percentage '%s' (e.g. 1%%, 0.5%%, 100%%)", key, s);
	return 0;
}

int cmd_port_impair(struct cmd_ctx *c, int argc, char *argv[])
{
	enum { DROP, REORDER, DUP, N_KNOBS };
	static const char *const knob[N_KNOBS] = { "drop", "reorder", "dup" };
	const struct sl_impair *cur;
	uint32_t val[N_KNOBS], v[SL_DIR_MAX][N_KNOBS];
	bool set[N_KNOBS] = { false }, off = false, any = false;
	unsigned int dir_mask = (1u << SL_DIR_IN) | (1u << SL_DIR_OUT), d, k;
	struct cpdp_impair imp;
	uint64_t seed = 0;
	int port, i = 1;

	if (argc < 1)
		return cmd_err(c, "usage: port impair PORT [in|out|both] "
			       "([drop PCT] [reorder PCT] [dup PCT] [seed N] | off)");
	port = cmd_port_find(c, argv[0]);
	if (port < 0)
		return -1;
	if (i < argc && strcmp(argv[i], "in") == 0) {
		dir_mask = 1u << SL_DIR_IN;
		i++;
	} else if (i < argc && strcmp(argv[i], "out") == 0) {
		dir_mask = 1u << SL_DIR_OUT;
		i++;
	} else if (i < argc && strcmp(argv[i], "both") == 0) {
		i++;
	}
	for (; i < argc; i++) {
		if (strcmp(argv[i], "off") == 0) {
			off = true;
			continue;
		}
		for (k = 0; k < N_KNOBS; k++)
			if (strcmp(argv[i], knob[k]) == 0)
				break;
		if (k == N_KNOBS && strcmp(argv[i], "seed") != 0)
			return cmd_err(c, "unexpected '%s' (want drop, reorder, dup, seed or off)",
				       argv[i]);
		if (i + 1 >= argc)
			return cmd_err(c, "'%s' needs a value", argv[i]);
		if (k < N_KNOBS) {
			if (set[k])
				return cmd_err(c, "'%s' given twice", knob[k]);
			if (parse_pct(c, knob[k], argv[i + 1], &val[k]))
				return -1;
			set[k] = true;
		} else {
			char *end;

			errno = 0;
			seed = strtoull(argv[i + 1], &end, 0);
			if (argv[i + 1][0] == '-' || *end || errno || seed == 0)
				return cmd_err(c, "invalid seed '%s' (a nonzero integer)", argv[i + 1]);
		}
		any = true;
		i++;
	}
	if (off && any)
		return cmd_err(c, "'off' cannot be combined with other settings");
	if (!off && !any)
		return show_impair(c, (unsigned int)port);

	/* what is not given keeps its current value, per direction */
	cur = &c->dp->shm->lcore[0].impair[port];
	for (d = 0; d < SL_DIR_MAX; d++) {
		uint32_t now[N_KNOBS] = { RD(cur->dir[d].drop_ppm), RD(cur->dir[d].reorder_ppm),
					  RD(cur->dir[d].dup_ppm) };

		for (k = 0; k < N_KNOBS; k++)
			v[d][k] = off ? 0 : set[k] ? val[k] : now[k];
	}
	/* one message when both directions end up alike, else one each */
	for (d = 0; d < SL_DIR_MAX; d++) {
		int32_t st[SL_MAX_LCORES];
		struct cpdp_msg m;
		unsigned int mask = dir_mask & (1u << d);
	
		if (!mask)
			continue;
		if (d == SL_DIR_IN && (dir_mask & (1u << SL_DIR_OUT)) &&
		    memcmp(v[SL_DIR_IN], v[SL_DIR_OUT], sizeof(v[0])) == 0) {
			mask = dir_mask;
			dir_mask = mask & ~(1u << SL_DIR_OUT); /* done with both */
		}
		memset(&imp, 0, sizeof(imp));
		imp.port = (uint16_t)port;
		imp.dir_mask = (uint8_t)mask;
		imp.drop_ppm = v[d][DROP];
		imp.reorder_ppm = v[d][REORDER];
		imp.dup_ppm = v[d][DUP];
		imp.seed = seed;
		if (cpdp_impair_encode(&m, 0, &imp) != 0)
			return cmd_err(c, "port impair: invalid settings");
		dp_link_exec(c->dp, &m, dp_link_workers(c->dp), st);
		if (cmd_check_replies(c, "port impair", dp_link_workers(c->dp), st))
			return -1;
	}
	return cmd_ok(c);
}
