/*
 * DPDK telemetry commands (dpdk-telemetry.py -f <file_prefix>):
 * /sluice/ports, /sluice/stats, /sluice/drops.  Callbacks run on the
 * telemetry thread and only read shared memory.
 */
#include <stdio.h>

#include <rte_telemetry.h>

#include "dp.h"

static uint64_t sum(size_t off)
{
	uint64_t s = 0;

	for (unsigned int l = 0; l <= dp.n_workers; l++)
		s += *(const volatile uint64_t *)((const char *)&dp.shm->lcore[l].st + off);
	return s;
}

static int tm_ports(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	(void)params;
	rte_tel_data_start_dict(d);
	for (unsigned int i = 0; i < dp.n_ports; i++) {
		const struct sl_port_view *v = &dp.shm->ports[i];
		struct rte_tel_data *p = rte_tel_data_alloc();

		if (!p)
			return -1;
		rte_tel_data_start_dict(p);
		rte_tel_data_add_dict_string(p, "dev", v->dev);
		rte_tel_data_add_dict_string(p, "driver", v->driver);
		rte_tel_data_add_dict_u64(p, "link_up", v->link_up);
		rte_tel_data_add_dict_u64(p, "ipackets", v->ipackets);
		rte_tel_data_add_dict_u64(p, "opackets", v->opackets);
		rte_tel_data_add_dict_u64(p, "ibytes", v->ibytes);
		rte_tel_data_add_dict_u64(p, "obytes", v->obytes);
		rte_tel_data_add_dict_u64(p, "imissed", v->imissed);
		rte_tel_data_add_dict_u64(p, "ierrors", v->ierrors);
		rte_tel_data_add_dict_u64(p, "oerrors", v->oerrors);
		rte_tel_data_add_dict_container(d, v->name, p, 0);
	}
	return 0;
}

static int tm_stats(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	(void)params;
	rte_tel_data_start_dict(d);
#define F(x) rte_tel_data_add_dict_u64(d, #x, sum(offsetof(struct sl_lcore_stats, x)))
	F(fwd);
	F(local_in);
	F(icmp_out);
	F(arp_in);
	F(arp_out);
	F(slowpath);
	F(cmds);
	F(busy_polls);
	F(cycles_work);
	F(cycles_io);
#undef F
	return 0;
}

static int tm_drops(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	(void)params;
	rte_tel_data_start_dict(d);
	for (unsigned int r = 0; r < SL_DROP_MAX; r++)
		rte_tel_data_add_dict_u64(d, sl_drop_str(r),
					  sum(offsetof(struct sl_lcore_stats, drops) + r * sizeof(uint64_t)));
	return 0;
}

int telemetry_register(void)
{
	int ret = 0;

	ret |= rte_telemetry_register_cmd("/sluice/ports", tm_ports, "Sluice ports and counters");
	ret |= rte_telemetry_register_cmd("/sluice/stats", tm_stats, "Sluice forwarding counters");
	ret |= rte_telemetry_register_cmd("/sluice/drops", tm_drops, "Sluice drop reasons");
	return ret;
}
