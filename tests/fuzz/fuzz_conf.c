/*
 * libFuzzer: sl_conf_load_str never crashes, always answers 0 or -EINVAL with
 * a "name:..." message, and whatever it accepts satisfies the invariants the
 * data plane relies on.  The small parsers get the raw input too: accepted
 * strings must round-trip through their formatters.
 *
 *   ./fuzz_conf -detect_leaks=0 -dict=tests/fuzz/fuzz_conf.dict -max_total_time=20 corpus/ config/
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf.h"

/* libconfig 1.5 leaks its string buffer when a syntax error strikes inside a
 * string token: not ours to fix, and not what we are looking for. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:libconfig.so\n";
}

static void check_conf(const struct sl_conf *c)
{
	unsigned int i, j;
	uint32_t m;
	char buf[32];
	uint32_t ppm;

	if (c->n_ports < 1 || c->n_ports > SL_MAX_PORTS || c->n_routes > SL_CONF_MAX_ROUTES ||
	    c->n_neigh > SL_CONF_MAX_NEIGH || c->n_neigh > c->neigh_max)
		abort();
	if (c->rx_desc & (c->rx_desc - 1) || c->tx_desc & (c->tx_desc - 1) || c->burst < 1 ||
	    c->burst > 64 || sl_parse_lcores(c->lcores) < 2 || c->ctl_socket[0] != '/')
		abort();
	for (i = 0; i < c->n_ports; i++) {
		const struct sl_conf_port *p = &c->ports[i];

		if (p->plen < 1 || p->plen > 31 || p->name[0] == '\0' ||
		    sl_conf_port_find(c, p->name) != (int)i ||
		    sl_parse_dev(p->dev, NULL, 0) != p->is_vdev)
			abort();
		if (p->mtu != 0 && (p->mtu < 68 || p->mtu > 9600))
			abort();
		for (j = 0; j < SL_DIR_MAX; j++)
			if (p->impair.dir[j].drop_ppm > 1000000 || p->impair.dir[j].reorder_ppm > 1000000 ||
			    p->impair.dir[j].dup_ppm > 1000000)
				abort();
		for (j = 0; j < i; j++) {
			m = sl_plen_mask(p->plen < c->ports[j].plen ? p->plen : c->ports[j].plen);
			if ((p->addr & m) == (c->ports[j].addr & m))
				abort(); /* overlapping subnets got through */
		}
	}
	for (i = 0; i < c->n_routes; i++) {
		const struct sl_conf_route *r = &c->routes[i];

		if (r->port >= c->n_ports || r->plen > 32 || (r->prefix & ~sl_plen_mask(r->plen)))
			abort();
		if (r->type == SL_RT_GATEWAY) {
			m = sl_plen_mask(c->ports[r->port].plen);
			if ((r->gw & m) != (c->ports[r->port].addr & m) || r->gw == c->ports[r->port].addr)
				abort();
		} else if (r->type != SL_RT_DIRECT || r->gw != 0) {
			abort();
		}
	}
	for (i = 0; i < c->n_neigh; i++) {
		m = sl_plen_mask(c->ports[c->neigh[i].port].plen);
		if (c->neigh[i].port >= c->n_ports ||
		    (c->neigh[i].ip & m) != (c->ports[c->neigh[i].port].addr & m))
			abort();
	}
	sl_format_pct(c->ports[0].impair.dir[0].drop_ppm, buf, sizeof(buf));
	if (sl_parse_pct(buf, &ppm) != 0 || ppm != c->ports[0].impair.dir[0].drop_ppm)
		abort();
}

static void check_parsers(const char *s)
{
	char buf[64], key[SL_DEV_LEN], key2[SL_DEV_LEN];
	uint32_t ip, ppm, back;
	uint8_t plen, mac[6];
	int rc;

	/* the parsers are strict, so what they accept is already canonical
	 * (no leading zeros), except for hex case in MACs */
	if (sl_parse_ipv4(s, &ip) == 0) {
		sl_format_ipv4(ip, buf, sizeof(buf));
		if (strcmp(buf, s) != 0)
			abort();
	}
	if (sl_parse_prefix(s, &ip, &plen) == 0 && (plen > 32 || (ip & ~sl_plen_mask(plen))))
		abort();
	if (sl_parse_mac(s, mac) == 0) {
		sl_format_mac(mac, buf, sizeof(buf));
		if (strcasecmp(buf, s) != 0)
			abort();
	}
	rc = sl_parse_lcores(s);
	if (rc > SL_LCORE_ID_MAX + 1 || (rc < 0 && rc != -EINVAL && rc != -ERANGE) || rc == 0)
		abort();
	/* a device's identity is itself a device with the same identity */
	rc = sl_parse_dev(s, key, sizeof(key));
	if (rc >= 0 && (sl_parse_dev(key, key2, sizeof(key2)) != rc || strcmp(key, key2) != 0))
		abort();
	if (sl_parse_pct(s, &ppm) == 0) {
		if (ppm > 1000000)
			abort();
		sl_format_pct(ppm, buf, sizeof(buf));
		if (sl_parse_pct(buf, &back) != 0 || back != ppm)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sl_conf c;
	char err[SL_CONF_ERR_LEN];
	char *text;
	int rc;

	if (size > 64 * 1024)
		return 0;
	text = malloc(size + 1);
	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';

	if (size < 64)
		check_parsers(text);
	/* @include would read files named by the input (even /dev/stdin) */
	if (strcasestr(text, "@include") == NULL) {
		rc = sl_conf_load_str(&c, "fuzz", text, err, sizeof(err));
		if (rc == 0)
			check_conf(&c);
		else if (rc != -EINVAL || strncmp(err, "fuzz:", 5) != 0 || strlen(err) <= 6)
			abort();
	}
	free(text);
	return 0;
}
