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

int cmd_seq_snapshot(const rte_seqcount_t *seq, const uint32_t *n, uint32_t max,
		     const void *src, size_t esz, void *dst, uint32_t *count)
{
	for (unsigned int tries = 0; tries < 10000; tries++) {
		uint32_t sn = rte_seqcount_read_begin(seq);
		uint32_t cnt = *(const volatile uint32_t *)n;

		if (cnt > max)
			cnt = max; /* torn read: the retry check fails below */
		memcpy(dst, src, cnt * esz);
		if (!rte_seqcount_read_retry(seq, sn)) {
			*count = cnt;
			return 0;
		}
		if (tries > 100)
			sched_yield();
	}
	return -EBUSY;
}

void cmd_list_end(struct cmd_ctx *c, struct tbl *t, uint32_t n, const char *empty)
{
	if (c->json) {
		json_close(&c->j); /* the array */
		json_close(&c->j); /* the object */
		return;
	}
	if (n)
		tbl_print(t, c->out, "");
	else
		sbuf_printf(c->out, "%s\n", empty);
	tbl_free(t);
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
	if (cmd_seq_snapshot(&c->dp->shm->lcore[0].rt.seq, &c->dp->shm->lcore[0].rt.n, SL_ROUTES_MAX,
			     c->dp->shm->lcore[0].rt.r, sizeof(*r), r, &n) != 0) {
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
	cmd_list_end(c, &t, n, "no routes");
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
	if (cmd_seq_snapshot(&c->dp->shm->neigh.seq, &c->dp->shm->neigh.n, SL_NEIGH_MAX,
			     c->dp->shm->neigh.e, sizeof(*e), e, &n) != 0) {
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
	cmd_list_end(c, &t, n, "no neighbors");
	return 0;
}
