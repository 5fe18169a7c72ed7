/* show routes / show neighbors: tables the data plane publishes under a seqcount. */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_seqcount.h>

#include "conf.h"

#include "cmds.h"
#include "table.h"

#define SEQ_TRIES 10000

int cmd_read_routes(const struct sl_route_table *rt, struct sl_route *out, uint32_t *n)
{
	unsigned int tries;

	for (tries = 0; tries < SEQ_TRIES; tries++) {
		uint32_t sn = rte_seqcount_read_begin(&rt->seq);
		uint32_t cnt = rt->n;

		if (cnt > SL_ROUTES_MAX)
			cnt = SL_ROUTES_MAX; /* torn read: the retry check fails below */
		memcpy(out, rt->r, cnt * sizeof(*out));
		if (!rte_seqcount_read_retry(&rt->seq, sn)) {
			*n = cnt;
			return 0;
		}
		if (tries > 100)
			sched_yield();
	}
	return -EBUSY;
}

static int neigh_read(const struct sl_neigh_view *nv, struct sl_neigh_view_entry *out, uint32_t *n)
{
	unsigned int tries;

	for (tries = 0; tries < SEQ_TRIES; tries++) {
		uint32_t sn = rte_seqcount_read_begin(&nv->seq);
		uint32_t cnt = nv->n;

		if (cnt > SL_NEIGH_MAX)
			cnt = SL_NEIGH_MAX;
		memcpy(out, nv->e, cnt * sizeof(*out));
		if (!rte_seqcount_read_retry(&nv->seq, sn)) {
			*n = cnt;
			return 0;
		}
		if (tries > 100)
			sched_yield();
	}
	return -EBUSY;
}

static int route_cmp(const void *a, const void *b)
{
	const struct sl_route *x = a, *y = b;

	if (x->prefix != y->prefix)
		return x->prefix < y->prefix ? -1 : 1;
	return (int)x->plen - (int)y->plen;
}

static int neigh_cmp(const void *a, const void *b)
{
	const struct sl_neigh_view_entry *x = a, *y = b;

	if (x->ip != y->ip)
		return x->ip < y->ip ? -1 : 1;
	return (int)x->port - (int)y->port;
}

static const char *rt_type_str(unsigned int t)
{
	switch (t) {
	case SL_RT_LOCAL: return "local";
	case SL_RT_DIRECT: return "direct";
	case SL_RT_GATEWAY: return "gateway";
	default: return "unknown";
	}
}

static const char *rt_origin_str(unsigned int o)
{
	switch (o) {
	case SL_RO_KERNEL: return "kernel";
	case SL_RO_CONFIG: return "config";
	case SL_RO_STATIC: return "static";
	default: return "unknown";
	}
}

static const char *neigh_state_str(unsigned int s)
{
	switch (s) {
	case SL_NEIGH_INCOMPLETE: return "incomplete";
	case SL_NEIGH_REACHABLE: return "reachable";
	case SL_NEIGH_PROBE: return "probe";
	case SL_NEIGH_FAILED: return "failed";
	case SL_NEIGH_PERMANENT: return "permanent";
	default: return "unknown";
	}
}

int cmd_show_routes(struct cmd_ctx *c, int argc, char *argv[])
{
	static const char *const hdr[] = { "destination", "type", "via", "dev", "origin" };
	struct sl_route *r;
	uint32_t n, i;
	struct tbl t;

	if (cmd_no_args(c, argc, argv))
		return -1;
	r = malloc(SL_ROUTES_MAX * sizeof(*r));
	if (r == NULL)
		return cmd_err(c, "out of memory");
	/* every worker holds the same routes; worker 0's copy stands for all */
	if (cmd_read_routes(&c->dp->shm->lcore[0].rt, r, &n) != 0) {
		free(r);
		return cmd_err(c, "route table busy (being rewritten); try again");
	}
	qsort(r, n, sizeof(*r), route_cmp);
	if (c->json) {
		json_obj(&c->j, NULL);
		json_arr(&c->j, "routes");
	} else {
		tbl_init(&t, 5, hdr);
	}
	for (i = 0; i < n; i++) {
		char pfx[16], dst[24], gw[16], dev[SL_NAME_LEN + 1];

		sl_format_ipv4(r[i].prefix, pfx, sizeof(pfx));
		snprintf(dst, sizeof(dst), "%s/%u", pfx, r[i].plen);
		sl_format_ipv4(r[i].gw, gw, sizeof(gw));
		cmd_port_name(c, r[i].port, dev, sizeof(dev));
		if (c->json) {
			json_obj(&c->j, NULL);
			json_str(&c->j, "dst", dst);
			json_str(&c->j, "prefix", pfx);
			json_u64(&c->j, "plen", r[i].plen);
			json_str(&c->j, "type", rt_type_str(r[i].type));
			if (r[i].type == SL_RT_GATEWAY)
				json_str(&c->j, "via", gw);
			else
				json_null(&c->j, "via");
			json_u64(&c->j, "port", r[i].port);
			json_str(&c->j, "dev", dev);
			json_str(&c->j, "origin", rt_origin_str(r[i].origin));
			json_close(&c->j);
		} else {
			tbl_cell(&t, "%s", dst);
			tbl_cell(&t, "%s", rt_type_str(r[i].type));
			tbl_cell(&t, "%s", r[i].type == SL_RT_GATEWAY ? gw : "-");
			tbl_cell(&t, "%s", dev);
			tbl_cell(&t, "%s", rt_origin_str(r[i].origin));
		}
	}
	free(r);
	if (c->json) {
		json_close(&c->j);
		json_close(&c->j);
	} else {
		if (n)
			tbl_print(&t, c->out, "");
		else
			sbuf_puts(c->out, "no routes\n");
		tbl_free(&t);
	}
	return 0;
}

int cmd_show_neighbors(struct cmd_ctx *c, int argc, char *argv[])
{
	static const char *const hdr[] = {
		"address", "dev", "mac", "state", ">probes", ">pending", ">age" };
	struct sl_neigh_view_entry *e;
	uint32_t n, i;
	struct tbl t;

	if (cmd_no_args(c, argc, argv))
		return -1;
	e = malloc(SL_NEIGH_MAX * sizeof(*e));
	if (e == NULL)
		return cmd_err(c, "out of memory");
	if (neigh_read(&c->dp->shm->neigh, e, &n) != 0) {
		free(e);
		return cmd_err(c, "neighbour table busy (being rewritten); try again");
	}
	qsort(e, n, sizeof(*e), neigh_cmp);
	if (c->json) {
		json_obj(&c->j, NULL);
		json_arr(&c->j, "neighbors");
	} else {
		tbl_init(&t, 7, hdr);
	}
	for (i = 0; i < n; i++) {
		char ip[16], mac[24], dev[SL_NAME_LEN + 1];
		int has_mac = e[i].state != SL_NEIGH_INCOMPLETE && e[i].state != SL_NEIGH_FAILED;

		sl_format_ipv4(e[i].ip, ip, sizeof(ip));
		sl_format_mac(e[i].mac, mac, sizeof(mac));
		cmd_port_name(c, e[i].port, dev, sizeof(dev));
		if (c->json) {
			json_obj(&c->j, NULL);
			json_str(&c->j, "ip", ip);
			json_u64(&c->j, "port", e[i].port);
			json_str(&c->j, "dev", dev);
			if (has_mac)
				json_str(&c->j, "mac", mac);
			else
				json_null(&c->j, "mac");
			json_str(&c->j, "state", neigh_state_str(e[i].state));
			json_u64(&c->j, "probes", e[i].probes);
			json_u64(&c->j, "pending", e[i].pending);
			json_u64(&c->j, "age_ms", e[i].age_ms);
			json_close(&c->j);
		} else {
			tbl_cell(&t, "%s", ip);
			tbl_cell(&t, "%s", dev);
			tbl_cell(&t, "%s", has_mac ? mac : "-");
			tbl_cell(&t, "%s", neigh_state_str(e[i].state));
			tbl_cell(&t, "%u", e[i].probes);
			tbl_cell(&t, "%u", e[i].pending);
			tbl_cell(&t, "%u.%03us", e[i].age_ms / 1000, e[i].age_ms % 1000);
		}
	}
	free(e);
	if (c->json) {
		json_close(&c->j);
		json_close(&c->j);
	} else {
		if (n)
			tbl_print(&t, c->out, "");
		else
			sbuf_puts(c->out, "no neighbors\n");
		tbl_free(&t);
	}
	return 0;
}
