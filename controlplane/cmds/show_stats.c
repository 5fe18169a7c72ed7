/* show ports / show stats / show errors / show pools: counters from shared
 * memory, and the mbuf pools' fill. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <rte_mempool.h>

#include "conf.h"

#include "cmds.h"
#include "table.h"

static const char *const dir_name[SL_DIR_MAX] = { "in", "out" };

static void port_impair_human(struct cmd_ctx *c, const struct sl_impair *imp)
{
	unsigned int d;

	for (d = 0; d < SL_DIR_MAX; d++) {
		uint32_t drop = RD(imp->dir[d].drop_ppm), reo = RD(imp->dir[d].reorder_ppm),
			 dup = RD(imp->dir[d].dup_ppm);
		char a[16], b[16], e[16];

		if (drop == 0 && reo == 0 && dup == 0) {
			sbuf_printf(c->out, "    impair %-3s  off\n", dir_name[d]);
			continue;
		}
		sl_format_pct(drop, a, sizeof(a));
		sl_format_pct(reo, b, sizeof(b));
		sl_format_pct(dup, e, sizeof(e));
		sbuf_printf(c->out, "    impair %-3s  drop %s  reorder %s  dup %s\n",
			    dir_name[d], a, b, e);
	}
}

void cmd_impair_json(struct cmd_ctx *c, const char *key, const struct sl_impair *imp)
{
	unsigned int d;
	char pct[16];

	json_obj(&c->j, key);
	for (d = 0; d < SL_DIR_MAX; d++) {
		uint32_t v[3] = { RD(imp->dir[d].drop_ppm), RD(imp->dir[d].reorder_ppm),
				  RD(imp->dir[d].dup_ppm) };
		static const char *const k[3] = { "drop", "reorder", "dup" };
		char kp[16];
		unsigned int i;

		json_obj(&c->j, dir_name[d]);
		for (i = 0; i < 3; i++) {
			sl_format_pct(v[i], pct, sizeof(pct));
			json_str(&c->j, k[i], pct);
			snprintf(kp, sizeof(kp), "%s_ppm", k[i]);
			json_u64(&c->j, kp, v[i]);
		}
		json_close(&c->j);
	}
	json_u64(&c->j, "seed", RD(imp->seed));
	json_close(&c->j);
}

int cmd_show_ports(struct cmd_ctx *c, int argc, char *argv[])
{
	const struct sl_shm *shm = c->dp->shm;
	unsigned int i;

	if (cmd_no_args(c, argc, argv))
		return -1;
	if (c->json) {
		json_obj(&c->j, NULL);
		json_arr(&c->j, "ports");
	}
	for (i = 0; i < c->dp->n_ports; i++) {
		const struct sl_port_view *p = &shm->ports[i];
		const struct sl_impair *imp = &shm->lcore[0].impair[i];
		char name[SL_NAME_LEN + 1], dev[SL_DEV_LEN + 1], drv[SL_NAME_LEN + 1];
		char mac[24], addr[16];
		uint8_t m[6];
		uint64_t ip = RD(p->ipackets), op = RD(p->opackets), ib = RD(p->ibytes),
			 ob = RD(p->obytes), miss = RD(p->imissed), ierr = RD(p->ierrors),
			 oerr = RD(p->oerrors), nombuf = RD(p->rx_nombuf);
		int up = RD(p->link_up);

		memcpy(m, p->mac, 6);
		cmd_port_name(c, i, name, sizeof(name));
		snprintf(dev, sizeof(dev), "%.*s", (int)strnlen(p->dev, SL_DEV_LEN), p->dev);
		snprintf(drv, sizeof(drv), "%.*s", (int)strnlen(p->driver, SL_NAME_LEN), p->driver);
		sl_format_mac(m, mac, sizeof(mac));
		sl_format_ipv4(p->addr, addr, sizeof(addr));
		if (c->json) {
			json_obj(&c->j, NULL);
			json_u64(&c->j, "index", i);
			json_str(&c->j, "name", name);
			json_str(&c->j, "dev", dev);
			json_str(&c->j, "driver", drv);
			json_u64(&c->j, "port_id", p->port_id);
			json_str(&c->j, "mac", mac);
			json_str(&c->j, "addr", addr);
			json_u64(&c->j, "plen", p->plen);
			json_str(&c->j, "link", up ? "up" : "down");
			json_u64(&c->j, "link_speed_mbps", RD(p->link_speed));
			json_u64(&c->j, "mtu", RD(p->mtu));
			json_u64(&c->j, "rx_packets", ip);
			json_u64(&c->j, "rx_bytes", ib);
			json_u64(&c->j, "tx_packets", op);
			json_u64(&c->j, "tx_bytes", ob);
			json_u64(&c->j, "imissed", miss);
			json_u64(&c->j, "ierrors", ierr);
			json_u64(&c->j, "oerrors", oerr);
			json_u64(&c->j, "rx_nombuf", nombuf);
			cmd_impair_json(c, "impair", imp);
			json_close(&c->j);
			continue;
		}
		{
			static const char *const rx_hdr[] = {
				"RX:", ">packets", ">bytes", ">missed", ">errors", ">nombuf" };
			static const char *const tx_hdr[] = { "TX:", ">packets", ">bytes", ">errors" };
			struct tbl t;
			uint32_t speed = RD(p->link_speed);

			sbuf_printf(c->out, "%u: %s  dev %s  driver %s\n", i, name, dev, drv);
			sbuf_printf(c->out, "    link %s", up ? "up" : "down");
			if (up && speed)
				sbuf_printf(c->out, " %uMb/s", speed);
			sbuf_printf(c->out, "  mtu %u  mac %s  inet %s/%u\n",
				    RD(p->mtu), mac, addr, p->plen);
			tbl_init(&t, 6, rx_hdr);
			tbl_cell(&t, "%s", "");
			tbl_cell(&t, "%llu", (unsigned long long)ip);
			tbl_cell(&t, "%llu", (unsigned long long)ib);
			tbl_cell(&t, "%llu", (unsigned long long)miss);
			tbl_cell(&t, "%llu", (unsigned long long)ierr);
			tbl_cell(&t, "%llu", (unsigned long long)nombuf);
			tbl_print(&t, c->out, "    ");
			tbl_free(&t);
			tbl_init(&t, 4, tx_hdr);
			tbl_cell(&t, "%s", "");
			tbl_cell(&t, "%llu", (unsigned long long)op);
			tbl_cell(&t, "%llu", (unsigned long long)ob);
			tbl_cell(&t, "%llu", (unsigned long long)oerr);
			tbl_print(&t, c->out, "    ");
			tbl_free(&t);
			port_impair_human(c, imp);
			sbuf_printf(c->out, "    impair seed %llu\n", (unsigned long long)RD(imp->seed));
		}
	}
	if (c->json) {
		json_close(&c->j);
		json_close(&c->j);
	} else if (c->dp->n_ports == 0) {
		sbuf_puts(c->out, "no ports\n");
	}
	return 0;
}

/* --- mbuf pools ---------------------------------------------------------- */

/* The pools sluice-dp makes: one per worker, then the main lcore's. */
struct pool_info {
	char name[RTE_MEMPOOL_NAMESIZE];
	char owner[32];
	bool found;
	unsigned int size, in_use, avail, cache_size;
};

static unsigned int pools_read(struct cmd_ctx *c, struct pool_info p[SL_MAX_LCORES])
{
	struct dp_link *dp = c->dp;
	unsigned int i, n = 0;

	for (i = 0; i <= dp->n_workers && i < SL_MAX_LCORES; i++, n++) {
		const struct rte_mempool *mp;

		memset(&p[n], 0, sizeof(p[n]));
		if (i < dp->n_workers)
			snprintf(p[n].name, sizeof(p[n].name), "sl_mp_w%u", i);
		else
			snprintf(p[n].name, sizeof(p[n].name), "sl_mp_main");
		dp_link_slot_name(dp, i, p[n].owner, sizeof(p[n].owner));
		mp = rte_mempool_lookup(p[n].name);
		if (mp == NULL)
			continue;
		p[n].found = true;
		p[n].size = mp->size;
		p[n].cache_size = mp->cache_size;
		/* mbufs in the lcores' caches count as available: a pool back
		 * at its start-up in_use has everything it lent returned */
		p[n].avail = rte_mempool_avail_count(mp);
		p[n].in_use = p[n].avail <= mp->size ? mp->size - p[n].avail : 0;
	}
	return n;
}

static void pools_json(struct cmd_ctx *c, const struct pool_info *p, unsigned int n)
{
	json_arr(&c->j, "pools");
	for (unsigned int i = 0; i < n; i++) {
		if (!p[i].found)
			continue;
		json_obj(&c->j, NULL);
		json_str(&c->j, "name", p[i].name);
		json_str(&c->j, "owner", p[i].owner);
		json_u64(&c->j, "size", p[i].size);
		json_u64(&c->j, "in_use", p[i].in_use);
		json_u64(&c->j, "avail", p[i].avail);
		json_u64(&c->j, "cache_size", p[i].cache_size);
		json_close(&c->j);
	}
	json_close(&c->j);
}

static void pools_text(struct cmd_ctx *c, const struct pool_info *p, unsigned int n)
{
	static const char *const hdr[] = {
		"pool", "owner", ">size", ">in use", ">avail", ">cache" };
	unsigned int i, shown = 0;
	struct tbl t;

	tbl_init(&t, 6, hdr);
	for (i = 0; i < n; i++) {
		if (!p[i].found)
			continue;
		shown++;
		tbl_cell(&t, "%s", p[i].name);
		tbl_cell(&t, "%s", p[i].owner);
		tbl_cell(&t, "%u", p[i].size);
		tbl_cell(&t, "%u", p[i].in_use);
		tbl_cell(&t, "%u", p[i].avail);
		tbl_cell(&t, "%u", p[i].cache_size);
	}
	if (shown)
		tbl_print(&t, c->out, "");
	else
		sbuf_puts(c->out, "no mbuf pools found\n");
	tbl_free(&t);
}

int cmd_show_pools(struct cmd_ctx *c, int argc, char *argv[])
{
	struct pool_info p[SL_MAX_LCORES];
	unsigned int n;

	if (cmd_no_args(c, argc, argv))
		return -1;
	n = pools_read(c, p);
	if (c->json) {
		json_obj(&c->j, NULL);
		pools_json(c, p, n);
		json_close(&c->j);
	} else {
		pools_text(c, p, n);
	}
	return 0;
}

/* --- counters ------------------------------------------------------------ */

struct totals {
	struct sl_port_counters port[SL_MAX_PORTS];
	uint64_t fwd, local_in, icmp_out, arp_in, arp_out, slowpath, cmds;
};

static void sum(const struct dp_link *dp, struct totals *t)
{
	unsigned int s, p;

	memset(t, 0, sizeof(*t));
	for (s = 0; s <= dp->n_workers; s++) {
		const struct sl_lcore_stats *st = &dp->shm->lcore[s].st;

		for (p = 0; p < SL_MAX_PORTS; p++) {
			t->port[p].rx_pkts += RD(st->port[p].rx_pkts);
			t->port[p].rx_bytes += RD(st->port[p].rx_bytes);
			t->port[p].tx_pkts += RD(st->port[p].tx_pkts);
			t->port[p].tx_bytes += RD(st->port[p].tx_bytes);
		}
		t->fwd += RD(st->fwd);
		t->local_in += RD(st->local_in);
		t->icmp_out += RD(st->icmp_out);
		t->arp_in += RD(st->arp_in);
		t->arp_out += RD(st->arp_out);
		t->slowpath += RD(st->slowpath);
		t->cmds += RD(st->cmds);
	}
}

int cmd_show_stats(struct cmd_ctx *c, int argc, char *argv[])
{
	static const char *const port_hdr[] = {
		"port", ">rx packets", ">rx bytes", ">tx packets", ">tx bytes" };
	static const char *const lc_hdr[] = {
		"lcore", ">id", ">polls", ">busy polls", ">busy%", ">cycles work", ">cycles io",
		">handoff out", ">handoff in" };
	struct dp_link *dp = c->dp;
	struct totals t;
	struct tbl tb;
	unsigned int i;
	char name[SL_NAME_LEN + 1];
	static const char *const key[] = {
		"fwd", "local_in", "icmp_out", "arp_in", "arp_out", "slowpath", "cmds" };
	uint64_t sv[7];
	struct pool_info pools[SL_MAX_LCORES];
	unsigned int n_pools;

	if (cmd_no_args(c, argc, argv))
		return -1;
	sum(dp, &t);
	n_pools = pools_read(c, pools);
	sv[0] = t.fwd; sv[1] = t.local_in; sv[2] = t.icmp_out; sv[3] = t.arp_in;
	sv[4] = t.arp_out; sv[5] = t.slowpath; sv[6] = t.cmds;

	if (c->json) {
		json_obj(&c->j, NULL);
		json_obj(&c->j, "total");
		for (i = 0; i < 7; i++)
			json_u64(&c->j, key[i], sv[i]);
		json_arr(&c->j, "ports");
		for (i = 0; i < dp->n_ports; i++) {
			json_obj(&c->j, NULL);
			json_u64(&c->j, "index", i);
			json_str(&c->j, "name", cmd_port_name(c, i, name, sizeof(name)));
			json_u64(&c->j, "rx_packets", t.port[i].rx_pkts);
			json_u64(&c->j, "rx_bytes", t.port[i].rx_bytes);
			json_u64(&c->j, "tx_packets", t.port[i].tx_pkts);
			json_u64(&c->j, "tx_bytes", t.port[i].tx_bytes);
			json_close(&c->j);
		}
		json_close(&c->j);
		json_close(&c->j);
		json_arr(&c->j, "lcores");
		for (i = 0; i <= dp->n_workers; i++) {
			const struct sl_lcore_shm *l = &dp->shm->lcore[i];

			json_obj(&c->j, NULL);
			json_u64(&c->j, "slot", i);
			json_str(&c->j, "name", dp_link_slot_name(dp, i, name, sizeof(name)));
			json_u64(&c->j, "lcore_id", l->lcore_id);
			json_bool(&c->j, "running", RD(l->running) != 0);
			json_u64(&c->j, "fwd", RD(l->st.fwd));
			json_u64(&c->j, "polls", RD(l->st.polls));
			json_u64(&c->j, "busy_polls", RD(l->st.busy_polls));
			json_u64(&c->j, "cycles_work", RD(l->st.cycles_work));
			json_u64(&c->j, "cycles_io", RD(l->st.cycles_io));
			json_u64(&c->j, "handoff_out", RD(l->st.handoff_out));
			json_u64(&c->j, "handoff_in", RD(l->st.handoff_in));
			json_close(&c->j);
		}
		json_close(&c->j);
		json_u64(&c->j, "tsc_hz", dp->shm->tsc_hz);
		pools_json(c, pools, n_pools);
		json_close(&c->j);
		return 0;
	}

	for (i = 0; i < 7; i++)
		sbuf_printf(c->out, "%-10s %llu\n", key[i], (unsigned long long)sv[i]);
	sbuf_puts(c->out, "\n");
	tbl_init(&tb, 5, port_hdr);
	for (i = 0; i < dp->n_ports; i++) {
		tbl_cell(&tb, "%s", cmd_port_name(c, i, name, sizeof(name)));
		tbl_cell(&tb, "%llu", (unsigned long long)t.port[i].rx_pkts);
		tbl_cell(&tb, "%llu", (unsigned long long)t.port[i].rx_bytes);
		tbl_cell(&tb, "%llu", (unsigned long long)t.port[i].tx_pkts);
		tbl_cell(&tb, "%llu", (unsigned long long)t.port[i].tx_bytes);
	}
	tbl_print(&tb, c->out, "");
	tbl_free(&tb);
	sbuf_puts(c->out, "\n");
	tbl_init(&tb, 9, lc_hdr);
	for (i = 0; i <= dp->n_workers; i++) {
		const struct sl_lcore_shm *l = &dp->shm->lcore[i];
		uint64_t polls = RD(l->st.polls), busy = RD(l->st.busy_polls);

		tbl_cell(&tb, "%s", dp_link_slot_name(dp, i, name, sizeof(name)));
		tbl_cell(&tb, "%u", l->lcore_id);
		tbl_cell(&tb, "%llu", (unsigned long long)polls);
		tbl_cell(&tb, "%llu", (unsigned long long)busy);
		tbl_cell(&tb, "%.1f", polls ? 100.0 * (double)busy / (double)polls : 0.0);
		tbl_cell(&tb, "%llu", (unsigned long long)RD(l->st.cycles_work));
		tbl_cell(&tb, "%llu", (unsigned long long)RD(l->st.cycles_io));
		tbl_cell(&tb, "%llu", (unsigned long long)RD(l->st.handoff_out));
		tbl_cell(&tb, "%llu", (unsigned long long)RD(l->st.handoff_in));
	}
	tbl_print(&tb, c->out, "");
	tbl_free(&tb);
	sbuf_puts(c->out, "\n");
	pools_text(c, pools, n_pools);
	return 0;
}

int cmd_show_errors(struct cmd_ctx *c, int argc, char *argv[])
{
	static const char *const hdr[] = { "reason", ">count", "description" };
	struct dp_link *dp = c->dp;
	uint64_t total[SL_DROP_MAX], all = 0;
	unsigned int d, s;
	char name[32];
	struct tbl t;

	if (cmd_no_args(c, argc, argv))
		return -1;
	for (d = 0; d < SL_DROP_MAX; d++) {
		total[d] = 0;
		for (s = 0; s <= dp->n_workers; s++)
			total[d] += RD(dp->shm->lcore[s].st.drops[d]);
		all += total[d];
	}
	if (c->json) {
		json_obj(&c->j, NULL);
		json_u64(&c->j, "total", all);
		json_arr(&c->j, "drops");
		for (d = 0; d < SL_DROP_MAX; d++) {
			json_obj(&c->j, NULL);
			json_str(&c->j, "reason", sl_drop_str(d));
			json_str(&c->j, "help", sl_drop_help(d));
			json_u64(&c->j, "count", total[d]);
			json_obj(&c->j, "per_lcore");
			for (s = 0; s <= dp->n_workers; s++)
				json_u64(&c->j, dp_link_slot_name(dp, s, name, sizeof(name)),
					 RD(dp->shm->lcore[s].st.drops[d]));
			json_close(&c->j);
			json_close(&c->j);
		}
		json_close(&c->j);
		json_close(&c->j);
		return 0;
	}
	if (all == 0) {
		sbuf_puts(c->out, "no drops\n");
		return 0;
	}
	tbl_init(&t, 3, hdr);
	for (d = 0; d < SL_DROP_MAX; d++) {
		if (total[d] == 0)
			continue;
		tbl_cell(&t, "%s", sl_drop_str(d));
		tbl_cell(&t, "%llu", (unsigned long long)total[d]);
		tbl_cell(&t, "%s", sl_drop_help(d));
	}
	tbl_print(&t, c->out, "");
	tbl_free(&t);
	return 0;
}

/* show workers: what each worker owns and carries (many workers, flow
 * ownership): its queue, flows, held SYNs, hand-offs and load. */
int cmd_show_workers(struct cmd_ctx *c, int argc, char *argv[])
{
	static const char *const hdr[] = {
		"worker", ">lcore", ">queue", ">flows", ">held", ">rx packets", ">handoff out",
		">handoff in", ">busy%", ">work cycles/pkt" };
	struct dp_link *dp = c->dp;
	struct tbl t;

	if (cmd_no_args(c, argc, argv))
		return -1;
	if (c->json) {
		json_obj(&c->j, NULL);
		json_u64(&c->j, "n_workers", dp->n_workers);
		json_arr(&c->j, "workers");
	} else {
		tbl_init(&t, 10, hdr);
	}
	for (unsigned int w = 0; w < dp->n_workers; w++) {
		const struct sl_lcore_shm *l = &dp->shm->lcore[w];
		uint64_t rx = 0, polls = RD(l->st.polls), busy = RD(l->st.busy_polls);
		uint64_t hin = RD(l->st.handoff_in), hout = RD(l->st.handoff_out);
		uint64_t work = RD(l->st.cycles_work), flows = RD(l->st.tcp.active);
		uint64_t held = RD(l->st.agent.held);
		double pct = polls ? 100.0 * (double)busy / (double)polls : 0.0;
		/* what this worker processed: its queues' packets it kept, plus
		 * what others handed it */
		uint64_t pkts;

		for (unsigned int p = 0; p < SL_MAX_PORTS; p++)
			rx += RD(l->st.port[p].rx_pkts);
		pkts = rx - (hout < rx ? hout : rx) + hin;
		if (c->json) {
			json_obj(&c->j, NULL);
			json_u64(&c->j, "worker", w);
			json_u64(&c->j, "lcore_id", l->lcore_id);
			json_u64(&c->j, "queue", w);
			json_u64(&c->j, "flows", flows);
			json_u64(&c->j, "held", held);
			json_u64(&c->j, "rx_packets", rx);
			json_u64(&c->j, "handoff_out", hout);
			json_u64(&c->j, "handoff_in", hin);
			json_u64(&c->j, "polls", polls);
			json_u64(&c->j, "busy_polls", busy);
			json_u64(&c->j, "cycles_work", work);
			json_u64(&c->j, "packets", pkts);
			json_close(&c->j);
		} else {
			tbl_cell(&t, "%u", w);
			tbl_cell(&t, "%u", l->lcore_id);
			tbl_cell(&t, "%u", w);
			tbl_cell(&t, "%llu", (unsigned long long)flows);
			tbl_cell(&t, "%llu", (unsigned long long)held);
			tbl_cell(&t, "%llu", (unsigned long long)rx);
			tbl_cell(&t, "%llu", (unsigned long long)hout);
			tbl_cell(&t, "%llu", (unsigned long long)hin);
			tbl_cell(&t, "%.1f", pct);
			tbl_cell(&t, "%.1f", pkts ? (double)work / (double)pkts : 0.0);
		}
	}
	if (c->json) {
		json_close(&c->j);
		json_close(&c->j);
		return 0;
	}
	tbl_print(&t, c->out, "");
	tbl_free(&t);
	sbuf_printf(c->out, "\nflows: TCP connections (each leg of a relay counts); queue: the RX "
			    "queue it polls on every port; a packet whose flow another worker owns "
			    "is handed over (handoff out), and counted in there\n");
	return 0;
}

