/*
 * The S3 section of the configuration: `lstp`, the middle proxy that end
 * proxies (sluice-lstp) dial out to and that pairs them (docs/lstp.md).
 * docs/config.md documents every key and changes with this file; the
 * checks follow conf.c's contract (unknown key, wrong type, value out of
 * range: "file:line: message").
 */
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <libconfig.h>

#include "conf.h"
#include "conf_priv.h"

#define LF(f) offsetof(struct sl_lstp_conf, f), sizeof(((struct sl_lstp_conf *)0)->f)

enum { LK_PORT, LK_WAIT, LK_HELLO, LK_WAITING, LK_PER_SOURCE, LK_PAIRS, LK_N };

static const struct lkey {
	const char *name;
	int64_t min, max;
	size_t off, size;
} lstp_ik[LK_N] = {
	[LK_PORT] = { "port", 1, 65535, LF(port) },
	[LK_WAIT] = { "wait_ms", 100, 86400000, LF(wait_ms) },
	[LK_HELLO] = { "hello_timeout_ms", 100, 600000, LF(hello_ms) },
	[LK_WAITING] = { "max_waiting", 1, 65536, LF(max_waiting) },
	[LK_PER_SOURCE] = { "max_per_source", 1, 65536, LF(max_per_source) }, /* <= max_waiting */
	[LK_PAIRS] = { "max_pairs", 1, 65536, LF(max_pairs) },
};

/* The values docs/config.md promises (test_conf checks them). */
void conf_lstp_defaults(struct sl_lstp_conf *l)
{
	memset(l, 0, sizeof(*l));
	l->port = 7443;
	snprintf(l->name, sizeof(l->name), "sluice");
	l->wait_ms = 60000;
	l->hello_ms = 10000;
	l->max_waiting = 1024;
	l->max_per_source = 16;
	l->max_pairs = 4096;
}

/* A topology name (docs/lstp.md): printable ASCII without spaces. */
static int topo_name_ok(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (!isgraph((unsigned char)*s))
			return 0;
	return 1;
}

int conf_lstp_parse(struct sl_conf *c, const config_setting_t *root, const char *name,
		    char *err, size_t errlen)
{
	struct conf_walk w = { .name = name, .err = err, .errlen = errlen };
	struct sl_lstp_conf *l = &c->lstp;
	const config_setting_t *g, *s, *set[LK_N];
	const char *known[3 + LK_N + 1], *v;
	unsigned int n = 0, i;
	char q[CONF_QLEN];
	int64_t iv;
	int rc, found = 0;

	rc = conf_get_member(&w, root, "lstp", NULL, CONFIG_TYPE_GROUP, &g);
	if (rc <= 0)
		return rc;
	known[n++] = "listen";
	known[n++] = "name";
	known[n++] = "neighbour";
	for (i = 0; i < LK_N; i++)
		known[n++] = lstp_ik[i].name;
	known[n] = NULL;
	if ((rc = conf_check_keys(&w, g, "lstp", known)) < 0)
		return rc;
	l->enabled = 1;
	if ((rc = conf_need_str(&w, g, "listen", "lstp", CONF_FMTLEN, &v, &s)) < 0)
		return rc;
	if (sl_parse_ipv4(v, &l->listen) < 0)
		return conf_fail(&w, s, "%s must be \"a.b.c.d\", got \"%s\"",
				 conf_qual(q, sizeof(q), "listen", "lstp"), v);
	for (i = 0; i < c->n_ports; i++)
		found |= c->ports[i].addr == l->listen;
	if (!found)
		return conf_fail(&w, s, "lstp listen address %s is not the address of any port", v);
	for (i = 0; i < LK_N; i++) {
		const struct lkey *k = &lstp_ik[i];

		rc = conf_get_int(&w, g, k->name, "lstp", k->min, k->max, &iv, &set[i]);
		if (rc < 0)
			return rc;
		if (rc > 0)
			conf_store_uint((uint8_t *)l + k->off, k->size, iv);
	}
	rc = conf_get_str(&w, g, "name", "lstp", SL_LSTP_NAME_LEN - 1, &v, &s);
	if (rc < 0)
		return rc;
	if (rc > 0) {
		if (!topo_name_ok(v))
			return conf_fail(&w, s, "%s must be printable ASCII without spaces, got \"%s\"",
					 conf_qual(q, sizeof(q), "name", "lstp"), v);
		snprintf(l->name, sizeof(l->name), "%s", v);
	}
	/* cascading (seed, Figure 8): every end goes onward to this middle */
	rc = conf_get_member(&w, g, "neighbour", "lstp", CONFIG_TYPE_GROUP, &s);
	if (rc < 0)
		return rc;
	if (rc > 0) {
		static const char *const nk[] = { "address", "port", NULL };
		const config_setting_t *ns = s, *as;

		if ((rc = conf_check_keys(&w, ns, "lstp.neighbour", nk)) < 0 ||
		    (rc = conf_need_str(&w, ns, "address", "lstp.neighbour", CONF_FMTLEN, &v, &as)) < 0)
			return rc;
		if (sl_parse_ipv4(v, &l->neighbour) < 0 || l->neighbour == 0)
			return conf_fail(&w, as, "%s must be \"a.b.c.d\", got \"%s\"",
					 conf_qual(q, sizeof(q), "address", "lstp.neighbour"), v);
		rc = conf_get_int(&w, ns, "port", "lstp.neighbour", 1, 65535, &iv, &as);
		if (rc < 0)
			return rc;
		if (rc == 0)
			return conf_fail(&w, ns, "'port' in 'lstp.neighbour' is required");
		l->neighbour_port = (uint16_t)iv;
		if (l->neighbour == l->listen && l->neighbour_port == l->port)
			return conf_fail(&w, ns, "lstp.neighbour is this middle itself");
	}
	if (l->max_per_source > l->max_waiting)
		return conf_fail(&w, set[LK_PER_SOURCE] ? set[LK_PER_SOURCE] : set[LK_WAITING],
				 "'max_per_source' in 'lstp' (%u) must not exceed max_waiting (%u)",
				 l->max_per_source, l->max_waiting);
	if (c->agents.enabled && c->agents.listen == l->listen && c->agents.port == l->port)
		return conf_fail(&w, set[LK_PORT] ? set[LK_PORT] : g,
				 "lstp listens on %u, the agents' port on the same address", l->port);
	return 0;
}
