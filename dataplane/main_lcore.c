/*
 * The main lcore: the slow path.  It owns the neighbour table (ARP, packets
 * waiting for resolution), refreshes the port views in shared memory and
 * answers its own ring commands.  It may sleep and make syscalls; workers
 * never wait for it.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_ring_elem.h>

#include "worker.h"

#include <sluice/cpdp.h>
#include "dp.h"
#include "l2/arp.h"
#include "l2/neigh.h"

#define MAIN_BURST 32
#define NEIGH_TICK_MS 100
#define NEIGH_PUBLISH_MS 1000

static uint64_t now_ms(void)
{
	return (rte_get_tsc_cycles() - dp.shm->start_tsc) * 1000 / dp.tsc_hz;
}

void main_tx(uint16_t port_idx, struct rte_mbuf *m)
{
	/* Devices such as net_tap need as many TX as RX queues, so there is no
	 * queue for the main lcore: worker 0 transmits for it (and counts it). */
	m->port = port_idx;
	m->hash.fdir.hi = 0; /* transmit */
	if (rte_ring_sp_enqueue(dp.workers[0]->from_main, m) != 0) {
		main_stats()->drops[SL_DROP_TX_FULL]++;
		rte_pktmbuf_free(m);
	}
}

void main_unreachable(struct rte_mbuf *m)
{
	/* worker 0 answers with ICMP host unreachable and counts the drop */
	m->hash.fdir.hi |= SLOW_UNREACH;
	if (rte_ring_sp_enqueue(dp.workers[0]->from_main, m) != 0) {
		main_stats()->drops[SL_DROP_NEIGH_FAILED]++;
		rte_pktmbuf_free(m);
	}
}

static void slow_input(struct rte_mbuf *m, uint64_t ms)
{
	const struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);

	/* ARP from a port, or an IPv4 packet whose next hop needs resolving */
	if (eth->ether_type == RTE_BE16(RTE_ETHER_TYPE_ARP))
		arp_input(m, ms);
	else
		neigh_resolve(dp.neigh, m, ms);
}

static int32_t main_cmd(const struct cpdp_msg *m)
{
	int ret = cpdp_msg_check(m);

	if (ret)
		return ret;
	switch (m->type) {
	case CPDP_NOP:
		return 0;
	case CPDP_STATS_CLEAR:
		memset(main_stats(), 0, sizeof(struct sl_lcore_stats));
		for (unsigned int i = 0; i < dp.n_ports; i++) {
			rte_eth_stats_reset(dp.ports[i].port_id);
			port_refresh_view(&dp.ports[i], &dp.shm->ports[i]);
		}
		return 0;
	default:
		/* tables live in the workers: route and impair go there */
		return -EOPNOTSUPP;
	}
}

static void poll_cmds(void)
{
	struct rte_ring *cmd = dp.cmd[dp.n_workers], *evt = dp.evt[dp.n_workers];
	struct cpdp_msg m, r;

	while (rte_ring_sc_dequeue_elem(cmd, &m, sizeof(m)) == 0) {
		cpdp_reply_encode(&r, &m, main_cmd(&m));
		main_stats()->cmds++;
		(void)rte_ring_sp_enqueue_elem(evt, &r, sizeof(r));
	}
}

int main_lcore_loop(void)
{
	uint64_t next_tick = 0, next_stats = 0, next_publish = 0;
	uint64_t stats_ms = dp.conf->stats_period_ms;
	struct sl_lcore_shm *self = &dp.shm->lcore[dp.n_workers];

	self->is_main = 1;
	self->running = 1;
	while (!dp.quit) {
		struct rte_mbuf *pkts[MAIN_BURST];
		unsigned int got = 0;
		uint64_t ms = now_ms();

		for (unsigned int w = 0; w < dp.n_workers; w++) {
			unsigned int n = rte_ring_sc_dequeue_burst(dp.slow[w], (void **)pkts,
								   MAIN_BURST, NULL);
			for (unsigned int i = 0; i < n; i++)
				slow_input(pkts[i], ms);
			got += n;
		}
		poll_cmds();
		if (ms >= next_tick) {
			neigh_tick(dp.neigh, ms);
			next_tick = ms + NEIGH_TICK_MS;
		}
		if (dp.neigh->dirty || ms >= next_publish) {
			neigh_publish(dp.neigh, &dp.shm->neigh, ms);
			next_publish = ms + NEIGH_PUBLISH_MS;
		}
		if (ms >= next_stats) {
			for (unsigned int i = 0; i < dp.n_ports; i++)
				port_refresh_view(&dp.ports[i], &dp.shm->ports[i]);
			next_stats = ms + stats_ms;
		}
		self->heartbeat_tsc = rte_get_tsc_cycles();
		self->st.polls++;
		if (got)
			self->st.busy_polls++;
		else
			usleep(100); /* slow path: 100 us of ARP latency buys an idle core */
	}
	self->running = 0;
	return 0;
}
