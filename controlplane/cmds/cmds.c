/*
 * The command table and its dispatcher.  Adding a command = one line here and
 * a handler; `help` and the "unknown command" hints come from this table.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sluice/ctl.h>

#include "conf.h"

#include "cmds.h"
#include "agent/agent_ctl.h"
#include "agent/agent_sa.h"
#include "lstp/lstp_mid.h"

static const struct cmd cmd_table[] = {
	{ { "show", "ports" }, "",
	  "ports: identity, link, address, ethdev counters, impairment", cmd_show_ports },
	{ { "show", "stats" }, "",
	  "packet counters summed over lcores, per-lcore load, and the mbuf pools", cmd_show_stats },
	{ { "show", "errors" }, "",
	  "drop counters by reason (nonzero ones; --json gives all)", cmd_show_errors },
	{ { "show", "routes" }, "", "the routing table", cmd_show_routes },
	{ { "show", "neighbors" }, "", "the ARP neighbour table", cmd_show_neighbors },
	{ { "show", "neighbours" }, "", NULL, cmd_show_neighbors },
	{ { "route", "add" }, "PREFIX (via ADDR [dev PORT] | dev PORT)",
	  "add a static route on every worker", cmd_route_add },
	{ { "route", "del" }, "PREFIX", "delete a route from every worker", cmd_route_del },
	{ { "show", "crypto" }, "", "the AEAD engine chosen per algorithm and record size, and why",
	  cmd_show_crypto },
	{ { "show", "rules" }, "", "the policy rules, first match wins, with hits", cmd_show_rules },
	{ { "show", "tcp" }, "",
	  "TCP stack counters summed over workers (--json: per worker too), connection slots",
	  cmd_show_tcp },
	{ { "show", "flows" }, SHOW_FLOWS_USAGE,
	  "TCP connections, in (worker, slot) order: from index N (default 0), "
	  "at most M (default 100, max 1000)", cmd_show_flows },
	{ { "show", "pools" }, "", "mbuf pools: size and mbufs in use", cmd_show_pools },
	{ { "show", "workers" }, "",
	  "each worker: its queue, flows owned, held SYNs, hand-offs, busy %, work cycles per packet",
	  cmd_show_workers },
	{ { "rule", "add" }, RULE_ADD_USAGE,
	  "append a policy rule on every worker; proxy (proto tcp only) terminates the "
	  "connection and relays it, transparent makes the server leg use the client's address",
	  cmd_rule_add },
	{ { "rule", "del" }, "ID", "delete a policy rule from every worker", cmd_rule_del },
	{ { "clear", "counters" }, "",
	  "zero all lcore counters and the ethdev statistics", cmd_clear_counters },
	{ { "port", "impair" },
	  "PORT [in|out|both] ([drop PCT] [reorder PCT] [dup PCT] [seed N] | off)",
	  "set packet loss/reordering/duplication on a port (PCT like 1% or 0.5%); "
	  "without settings, show them", cmd_port_impair },
	{ { "show", "apps" }, "",
	  "applications (S1): handshakes, resumptions, bytes, denied and errors", cmd_show_apps },
	{ { "show", "tunnels" }, "",
	  "end-to-end TLS tunnels (S5): client/server pairs passed through, time left",
	  cmd_show_tunnels },
	{ { "app", "add" }, APP_ADD_USAGE,
	  "add an application: its TLS context, then its rules in every worker", cmd_app_add },
	{ { "app", "del" }, "NAME", "delete an application (its rules, then its TLS context)",
	  cmd_app_del },
	{ { "show", "agents" }, "",
	  "remote agents (S4): connection, control-session RTT, STREAM pool, offers and answers",
	  cmd_show_agents },
	{ { "show", "vnets" }, "", "virtual networks: client ranges, gateway, routes to agents, ACL size",
	  cmd_show_vnets },
	{ { "show", "held" }, "", "SYNs held on the workers while agents answer (at most 1000)",
	  cmd_show_held },
	{ { "vnet", "acl", "add" },
	  "VNET [src PFX] [dst PFX] [proto tcp|udp|icmp|any] [sport N|LO-HI] [dport N|LO-HI] "
	  "action allow|reject|drop [first]",
	  "add a vnet ACL rule (last, or first with `first`); new flows see it", cmd_acl_add },
	{ { "vnet", "acl", "del" }, "ID", "delete a vnet ACL rule", cmd_acl_del },
	{ { "show", "acl" }, "[VNET]", "the vnets' ACL rules, first match wins (no match: allow)",
	  cmd_show_acl },
	{ { "agent", "kick" }, "NAME", "end an agent's control session (it reconnects by itself)",
	  cmd_agent_kick },
	{ { "show", "sa" }, "",
	  "security associations (S2): DGRAM sessions with their flows, state and idle timer",
	  cmd_show_sa },
	{ { "show", "das" }, "[from N]",
	  "datagram associations through agents (UDP flows), 1000 per page", cmd_show_das },
	{ { "sa", "flush" }, "[ID]",
	  "delete an SA (or all) at once: its DAs renegotiate on their next datagram", cmd_sa_flush },
	{ { "show", "lstp" }, "",
	  "the LSTP middle (S3): ends waiting for their peer, pairs with topology, bytes, mode",
	  cmd_show_lstp },
	{ { "lstp", "drop" }, "ID",
	  "end a waiting end (RST) or a pair (both legs reset) by its id", cmd_lstp_drop },
	{ { "help" }, "[WORD...]", "list commands (those starting with WORD...)", cmd_help },
};

#define N_CMDS (sizeof(cmd_table) / sizeof(cmd_table[0]))

static unsigned int n_words(const struct cmd *cmd)
{
	unsigned int n = 0;

	while (n < 3 && cmd->words[n])
		n++;
	return n;
}

static void cmd_name(const struct cmd *cmd, char *buf, size_t len)
{
	unsigned int i, n = n_words(cmd);
	size_t off = 0;

	buf[0] = '\0';
	for (i = 0; i < n && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s", i ? " " : "", cmd->words[i]);
}

int cmd_err(struct cmd_ctx *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->err, sizeof(c->err), fmt, ap);
	va_end(ap);
	return -1;
}

int cmd_no_args(struct cmd_ctx *c, int argc, char *argv[])
{
	if (argc > 0)
		return cmd_err(c, "unexpected argument '%s'", argv[0]);
	return 0;
}

int cmd_ok(struct cmd_ctx *c)
{
	if (c->json) {
		json_obj(&c->j, NULL);
		json_bool(&c->j, "ok", true);
		json_close(&c->j);
	} else {
		sbuf_puts(c->out, "ok\n");
	}
	return 0;
}

const char *cmd_port_name(const struct cmd_ctx *c, unsigned int port, char *buf, size_t len)
{
	if (port >= c->dp->n_ports) {
		snprintf(buf, len, "port%u", port);
		return buf;
	}
	snprintf(buf, len, "%.*s", (int)strnlen(c->dp->shm->ports[port].name, SL_NAME_LEN),
		 c->dp->shm->ports[port].name);
	return buf;
}

int cmd_port_find(struct cmd_ctx *c, const char *s)
{
	char name[SL_NAME_LEN + 1];
	unsigned int i;
	char *end;
	unsigned long v;

	for (i = 0; i < c->dp->n_ports; i++)
		if (strcmp(cmd_port_name(c, i, name, sizeof(name)), s) == 0)
			return (int)i;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (s[0] >= '0' && s[0] <= '9' && *end == '\0' && errno == 0 && v < c->dp->n_ports)
		return (int)v;
	return cmd_err(c, "no port '%s' (ports are named in `show ports`, or give an index 0..%u)",
		       s, c->dp->n_ports ? c->dp->n_ports - 1 : 0);
}

int cmd_parse_pfx(struct cmd_ctx *c, const char *what, const char *s, uint32_t *p, uint8_t *l)
{
	if (strchr(s, '/') == NULL && sl_parse_ipv4(s, p) == 0) {
		*l = 32;
		return 0;
	}
	if (sl_parse_prefix(s, p, l) != 0)
		return cmd_err(c, "invalid %s '%s' (want a.b.c.d/n with the host bits zero)", what, s);
	return 0;
}

int cmd_check_replies(struct cmd_ctx *c, const char *what, uint32_t slots,
		      const int32_t status[SL_MAX_LCORES])
{
	unsigned int i, n_fail = 0, n = 0, first = 0;
	int32_t same = 0;
	char name[32];

	for (i = 0; i < SL_MAX_LCORES; i++) {
		if (!(slots & (1u << i)))
			continue;
		n++;
		if (status[i] == 0)
			continue;
		if (n_fail++ == 0) {
			first = i;
			same = status[i];
		} else if (status[i] != same) {
			same = 0;
		}
	}
	if (n_fail == 0)
		return 0;
	dp_link_slot_name(c->dp, first, name, sizeof(name));
	if (same == -ETIMEDOUT)
		return cmd_err(c, "%s: no reply from %s%s within %u ms (is sluice-dp stuck?)",
			       what, n_fail > 1 ? "several lcores, first " : "", name,
			       c->dp->timeout_ms);
	if (same == -ENOBUFS)
		return cmd_err(c, "%s: command ring of %s full (is sluice-dp stuck?)", what, name);
	if (n_fail == n && same != 0)
		return cmd_err(c, "%s: %s", what, strerror(-same));
	return cmd_err(c, "%s: %s on %s (%u of %u lcores failed)",
		       what, strerror(-status[first]), name, n_fail, n);
}

static bool matches(const struct cmd *cmd, int argc, char *argv[])
{
	unsigned int i, n = n_words(cmd);

	if ((unsigned int)argc < n)
		return false;
	for (i = 0; i < n; i++)
		if (strcmp(cmd->words[i], argv[i]) != 0)
			return false;
	return true;
}

int cmd_help(struct cmd_ctx *c, int argc, char *argv[])
{
	struct sbuf line;
	unsigned int i, shown = 0;
	char name[64];

	sbuf_init(&line);
	if (c->json) {
		json_obj(&c->j, NULL);
		json_arr(&c->j, "commands");
	}
	for (i = 0; i < N_CMDS; i++) {
		const struct cmd *cmd = &cmd_table[i];
		int k;

		if (cmd->help == NULL)
			continue;
		for (k = 0; k < argc && k < (int)n_words(cmd); k++)
			if (strcmp(cmd->words[k], argv[k]) != 0)
				break;
		if (k < argc)
			continue;
		cmd_name(cmd, name, sizeof(name));
		shown++;
		if (c->json) {
			json_obj(&c->j, NULL);
			json_str(&c->j, "command", name);
			json_str(&c->j, "args", cmd->usage);
			json_str(&c->j, "help", cmd->help);
			json_close(&c->j);
			continue;
		}
		sbuf_reset(&line);
		sbuf_printf(&line, "%s%s%s", name, cmd->usage[0] ? " " : "", cmd->usage);
		sbuf_printf(c->out, "  %s\n      %s\n", line.p, cmd->help);
	}
	sbuf_free(&line);
	if (shown == 0) {
		if (c->json)
			sbuf_reset(c->out);
		return cmd_err(c, "no command starts with '%s'", argc ? argv[0] : "");
	}
	if (c->json) {
		json_close(&c->j);
		json_close(&c->j);
	} else {
		sbuf_puts(c->out, "Every command takes --json for one JSON object instead of text.\n");
	}
	return 0;
}

/* Error text for a command line that matches no table entry. */
static void unknown(struct cmd_ctx *c, int argc, char *argv[])
{
	char seen[256] = "";
	size_t off = 0;
	unsigned int i;

	for (i = 0; i < N_CMDS; i++) {
		const struct cmd *cmd = &cmd_table[i];

		if (n_words(cmd) < 2 || cmd->help == NULL || strcmp(cmd->words[0], argv[0]) != 0)
			continue;
		off += (size_t)snprintf(seen + off, sizeof(seen) - off, "%s%s",
					off ? ", " : "", cmd->words[1]);
		if (off >= sizeof(seen))
			break;
	}
	if (seen[0] && argc == 1)
		cmd_err(c, "'%s' needs one of: %s", argv[0], seen);
	else if (seen[0])
		cmd_err(c, "unknown command '%s %s'; '%s' takes: %s", argv[0], argv[1], argv[0], seen);
	else
		cmd_err(c, "unknown command '%s'; try 'help'", argv[0]);
}

int cmds_exec(void *arg, unsigned int flags, int argc, char *argv[], struct sbuf *out)
{
	struct cmd_ctx c = { .dp = arg, .out = out, .json = flags & CTL_F_JSON };
	const struct cmd *cmd = NULL;
	int i, n = 0, ret;

	/* --json may also follow the command words (`show ports --json`) */
	for (i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			c.json = true;
		else
			argv[n++] = argv[i];
	}
	argc = n;
	json_init(&c.j, out);
	for (i = 0; i < (int)N_CMDS && argc > 0; i++) {
		if (matches(&cmd_table[i], argc, argv)) {
			cmd = &cmd_table[i];
			break;
		}
	}
	if (argc == 0) {
		ret = cmd_err(&c, "empty command; try 'help'");
	} else if (cmd == NULL) {
		unknown(&c, argc, argv);
		ret = -1;
	} else {
		unsigned int nw = n_words(cmd);

		ret = cmd->fn(&c, argc - (int)nw, argv + nw);
	}
	if (ret == 0 && !out->oom)
		return CTL_OK;
	if (ret == 0)
		snprintf(c.err, sizeof(c.err), "out of memory building the response");
	sbuf_reset(out);
	if (c.json) {
		sbuf_puts(out, "{\"error\":");
		sbuf_json_str(out, c.err);
		sbuf_puts(out, "}");
	} else {
		sbuf_printf(out, "%s\n", c.err);
	}
	return CTL_ERR;
}
