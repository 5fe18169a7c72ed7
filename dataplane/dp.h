/*
 * sluice-dp process-wide state: set up by main.c before the workers start and
 * read-only afterwards, except where a field says otherwise.
 */
#ifndef SLUICE_DP_H
#define SLUICE_DP_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_ether.h>
#include <rte_mempool.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>

#include <sluice/shm.h>
#include "conf.h"

struct worker;
struct neigh_table;

struct dp_port {
	uint16_t port_id;           /* ethdev id */
	uint16_t idx;               /* our index (config order) */
	uint16_t mtu;
	struct rte_ether_addr mac;
	uint32_t addr, mask, net, bcast; /* host order */
	uint8_t plen;
	uint8_t tx_cksum;           /* IPv4 + TCP checksum offload enabled */
};

struct dp {
	const struct sl_conf *conf;
	struct sl_shm *shm;
	unsigned int n_ports;
	unsigned int n_workers;
	struct dp_port ports[SL_MAX_PORTS];
	struct worker *workers[SL_MAX_WORKERS];
	struct neigh_table *neigh;       /* main: rw, workers: lock-free lookups */
	struct rte_rcu_qsbr *qsbr;       /* workers report quiescence each loop */
	struct rte_ring *slow[SL_MAX_WORKERS]; /* worker -> main mbufs */
	struct rte_ring *cmd[SL_MAX_LCORES];
	struct rte_ring *evt[SL_MAX_LCORES];
	struct rte_mempool *main_pool;
	uint64_t tsc_hz;
	volatile bool quit;              /* set by the signal handler */
};

extern struct dp dp;

/* port.c */
int port_setup(struct dp_port *p, const struct sl_conf_port *cp, uint16_t idx);
int port_start(struct dp_port *p, unsigned int n_rxq, unsigned int n_txq,
	       struct rte_mempool *const pools[], uint16_t rx_desc, uint16_t tx_desc);
void port_stop_all(void);
void port_refresh_view(const struct dp_port *p, struct sl_port_view *v);

/* main_lcore.c */
int main_lcore_loop(void);
void main_tx(uint16_t port_idx, struct rte_mbuf *m);
/* A packet whose next hop never answered: ICMP host unreachable, then drop. */
void main_unreachable(struct rte_mbuf *m);

/* telemetry.c */
int telemetry_register(void);

#endif
