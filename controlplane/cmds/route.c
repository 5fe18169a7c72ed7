/* route add / route del: applied by every worker through its command ring. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"

#include "cmds.h"

/* "a.b.c.d/n" (host bits zero) or a bare address meaning /32 */
static int parse_dst(struct cmd_ctx *c, const char *s, uint32_t *prefix, uint8_t *plen)
{
	uint32_t addr;
	char buf[16];

	if (strchr(s, '/') == NULL) {
		if (sl_parse_ipv4(s, prefix) != 0)
			return cmd_err(c, "invalid prefix '%s' (want a.b.c.d/n)", s);
		*plen = 32;
		return 0;
	}
	if (sl_parse_prefix(s, prefix, plen) == 0)
		return 0;
	if (sl_parse_addr_plen(s, &addr, plen) == 0) {
		sl_format_ipv4(addr & sl_plen_mask(*plen), buf, sizeof(buf));
		return cmd_err(c, "invalid prefix '%s': host bits set (did you mean %s/%u?)",
			       s, buf, *plen);
	}
	return cmd_err(c, "invalid prefix '%s' (want a.b.c.d/n, n <= 32)", s);
}

/* The port whose subnet holds addr, or -1. */
static int port_for(const struct cmd_ctx *c, uint32_t addr)
{
	unsigned int i;

	for (i = 0; i < c->dp->n_ports; i++) {
		const struct sl_port_view *p = &c->dp->shm->ports[i];
		uint32_t m = sl_plen_mask(p->plen);

		if (p->addr != 0 && p->plen > 0 && (addr & m) == (p->addr & m))
			return (int)i;
	}
	return -1;
}

int cmd_route_add(struct cmd_ctx *c, int argc, char *argv[])
{
	struct dp_link *dp = c->dp;
	struct cpdp_route r = { .origin = SL_RO_STATIC };
	int32_t st[SL_MAX_LCORES], st2[SL_MAX_LCORES];
	const char *via = NULL, *dev = NULL;
	char what[64], gwbuf[16], dst[24], pname[SL_NAME_LEN + 1];
	struct cpdp_msg m;
	uint32_t ok_mask = 0;
	int i, port;

	if (argc < 1)
		return cmd_err(c, "usage: route add PREFIX (via ADDR [dev PORT] | dev PORT)");
	if (parse_dst(c, argv[0], &r.prefix, &r.plen))
		return -1;
	for (i = 1; i < argc; i += 2) {
		const char **slot;

		if (strcmp(argv[i], "via") == 0)
			slot = &via;
		else if (strcmp(argv[i], "dev") == 0)
			slot = &dev;
		else
			return cmd_err(c, "unexpected '%s' (want 'via ADDR' or 'dev PORT')", argv[i]);
		if (i + 1 >= argc)
			return cmd_err(c, "'%s' needs a value", argv[i]);
		if (*slot)
			return cmd_err(c, "'%s' given twice", argv[i]);
		*slot = argv[i + 1];
	}
	if (!via && !dev)
		return cmd_err(c, "route add needs 'via ADDR' or 'dev PORT'");
	port = -1;
	if (dev && (port = cmd_port_find(c, dev)) < 0)
		return -1;
	if (via) {
		if (sl_parse_ipv4(via, &r.gw) != 0 || r.gw == 0)
			return cmd_err(c, "invalid gateway address '%s'", via);
		for (i = 0; i < (int)dp->n_ports; i++)
			if (dp->shm->ports[i].addr == r.gw)
				return cmd_err(c, "gateway %s is the address of port %s",
					       via, cmd_port_name(c, (unsigned int)i, pname, sizeof(pname)));
		i = port_for(c, r.gw);
		if (port < 0 && i < 0)
			return cmd_err(c, "gateway %s is not in the subnet of any port", via);
		if (port >= 0 && i != port)
			return cmd_err(c, "gateway %s is not in the subnet of port %s", via,
				       cmd_port_name(c, (unsigned int)port, pname, sizeof(pname)));
		port = i;
		r.type = SL_RT_GATEWAY;
	} else {
		r.type = SL_RT_DIRECT;
	}
	r.port = (uint16_t)port;
	sl_format_ipv4(r.prefix, gwbuf, sizeof(gwbuf));
	snprintf(dst, sizeof(dst), "%s/%u", gwbuf, r.plen);
	snprintf(what, sizeof(what), "route add %s", dst);
	if (cpdp_route_add_encode(&m, 0, &r) != 0)
		return cmd_err(c, "%s: invalid route", what);

	dp_link_exec(dp, &m, dp_link_workers(dp), st);
	for (i = 0; i < (int)dp->n_workers; i++)
		if (st[i] == 0)
			ok_mask |= 1u << i;
	if (ok_mask == dp_link_workers(dp))
		return cmd_ok(c);
	/* all workers must hold the same table: undo where it did succeed */
	if (ok_mask) {
		cpdp_route_del_encode(&m, 0, r.prefix, r.plen);
		if (dp_link_exec(dp, &m, ok_mask, st2) != 0 ||
		    cmd_check_replies(c, "rollback", ok_mask, st2) != 0) {
			char first[sizeof(c->err)];

			cmd_check_replies(c, what, dp_link_workers(dp), st);
			memcpy(first, c->err, sizeof(first));
			return cmd_err(c, "%.300s; rolling back on the other workers failed too: "
				       "run 'route del %s'", first, dst);
		}
	}
	cmd_check_replies(c, what, dp_link_workers(dp), st);
	if (ok_mask) {
		char first[sizeof(c->err)];

		memcpy(first, c->err, sizeof(first));
		return cmd_err(c, "%.400s; undone on the others", first);
	}
	return -1;
}

int cmd_route_del(struct cmd_ctx *c, int argc, char *argv[])
{
	struct dp_link *dp = c->dp;
	int32_t st[SL_MAX_LCORES];
	char what[64], buf[16];
	uint32_t prefix, i, ok = 0, enoent = 0;
	struct cpdp_msg m;
	uint8_t plen;

	if (argc != 1)
		return cmd_err(c, "usage: route del PREFIX");
	if (parse_dst(c, argv[0], &prefix, &plen))
		return -1;
	sl_format_ipv4(prefix, buf, sizeof(buf));
	snprintf(what, sizeof(what), "route del %s/%u", buf, plen);

	cpdp_route_del_encode(&m, 0, prefix, plen);
	dp_link_exec(dp, &m, dp_link_workers(dp), st);
	for (i = 0; i < dp->n_workers; i++) {
		ok += st[i] == 0;
		enoent += st[i] == -ENOENT;
	}
	/* gone from every worker, whichever had it: that is what was asked */
	if (ok > 0 && ok + enoent == dp->n_workers)
		return cmd_ok(c);
	if (st[0] == -EPERM)
		return cmd_err(c, "%s: the route to an address of the appliance itself "
			       "cannot be deleted", what);
	return cmd_check_replies(c, what, dp_link_workers(dp), st);
}
