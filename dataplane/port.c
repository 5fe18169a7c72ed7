/*
 * Ports: one RX queue per worker, one TX queue per worker plus one for the
 * main lcore (ARP, packets released after resolution).  RX queue q is
 * worker q's; a port with RSS is steered so that queue is the flow's owner
 * (flow/toeplitz.h, flow/dispatch.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_ethdev.h>
#include <rte_log.h>

#include "dp.h"
#include "flow/toeplitz.h"

#define LOG(lvl, fmt, ...) RTE_LOG(lvl, USER1, "%s: " fmt "\n", __func__, ##__VA_ARGS__)

/* The hash types the software owner follows (flow/dispatch.h): the 4-tuple
 * of unfragmented TCP and UDP, the address pair of the rest of IPv4.
 * IPv6 is not handled by the workers, so it is not spread. */
#define PORT_RSS_HF                                                                        \
	(RTE_ETH_RSS_IPV4 | RTE_ETH_RSS_FRAG_IPV4 | RTE_ETH_RSS_NONFRAG_IPV4_OTHER |       \
	 RTE_ETH_RSS_NONFRAG_IPV4_TCP | RTE_ETH_RSS_NONFRAG_IPV4_UDP)
#define PORT_RSS_L4 (RTE_ETH_RSS_NONFRAG_IPV4_TCP | RTE_ETH_RSS_NONFRAG_IPV4_UDP)
/* the largest RETA programmed (ice's is 2048), on the main lcore's stack */
#define PORT_RETA_MAX 4096u

/* The symmetric key at the longest length a port can state (rss_key_len is
 * a byte); each port takes its hash_key_size first bytes.  Static: ethdev
 * keeps the pointer, and PMDs read the key again at every start. */
static uint8_t rss_key[UINT8_MAX];

/* After the start (PMDs such as ixgbe reset the RETA to i % n_rxq there):
 * the RETA that gives each flow's packets to the owner's queue.  Failing
 * that, the port keeps its own and software dispatch hands off. */
static void port_reta_set(const struct dp_port *p, const char *name, unsigned int n_rxq)
{
	struct rte_eth_rss_reta_entry64 reta[PORT_RETA_MAX / RTE_ETH_RETA_GROUP_SIZE];
	uint16_t q[PORT_RETA_MAX];
	struct rte_eth_dev_info info;
	unsigned int size;
	int agree, ret;

	/* again: some PMDs (mlx5) size the RETA at configure */
	ret = rte_eth_dev_info_get(p->port_id, &info);
	size = ret ? 0 : info.reta_size;
	/* none, or not a power of two (the NIC's indexing is then its own):
	 * left as the PMD set it */
	if (size > PORT_RETA_MAX || (agree = toeplitz_reta_fill(q, size, n_rxq)) < 0) {
		LOG(NOTICE, "port %s: RETA of %u entries cannot be programmed; flows not on their "
			    "owner's queue are handed off", name, size);
		return;
	}
	memset(reta, 0, sizeof(reta));
	for (unsigned int i = 0; i < size; i++) {
		struct rte_eth_rss_reta_entry64 *g = &reta[i / RTE_ETH_RETA_GROUP_SIZE];

		g->mask |= 1ull << (i % RTE_ETH_RETA_GROUP_SIZE);
		g->reta[i % RTE_ETH_RETA_GROUP_SIZE] = q[i];
	}
	ret = rte_eth_dev_rss_reta_update(p->port_id, reta, (uint16_t)size);
	if (ret) {
		LOG(WARNING, "port %s: RETA update: %s; flows not on their owner's queue are "
			     "handed off", name, rte_strerror(-ret));
		return;
	}
	if ((unsigned int)agree == TOEPLITZ_RETA_SIZE)
		LOG(INFO, "port %s: symmetric RSS, RETA of %u: packets arrive at their owner", name,
		    size);
	else
		LOG(NOTICE, "port %s: symmetric RSS, RETA of %u: %u%% of hashes arrive at their "
			    "owner, the rest are handed off", name, size,
		    (unsigned int)agree * 100 / TOEPLITZ_RETA_SIZE);
}

int port_setup(struct dp_port *p, const struct sl_conf_port *cp, uint16_t idx)
{
	char name[SL_DEV_LEN];
	uint16_t pid;
	size_t n = strcspn(cp->dev, ",");

	/* the ethdev name is the device string up to its first argument */
	snprintf(name, sizeof(name), "%.*s", (int)n, cp->dev);
	if (rte_eth_dev_get_port_by_name(name, &pid) != 0) {
		LOG(ERR, "port %s: no ethdev named '%s' (device '%s' not probed?)", cp->name, name,
		    cp->dev);
		return -ENODEV;
	}
	memset(p, 0, sizeof(*p));
	p->port_id = pid;
	p->idx = idx;
	p->addr = cp->addr;
	p->plen = cp->plen;
	p->mask = cp->plen ? ~0u << (32 - cp->plen) : 0;
	p->net = p->addr & p->mask;
	p->bcast = p->net | ~p->mask;
	return 0;
}

int port_start(struct dp_port *p, unsigned int n_rxq, unsigned int n_txq,
	       struct rte_mempool *const pools[], uint16_t rx_desc, uint16_t tx_desc)
{
	const struct sl_conf_port *cp = &dp.conf->ports[p->idx];
	struct rte_eth_conf conf = { 0 };
	struct rte_eth_dev_info info;
	uint16_t nrx = rx_desc, ntx = tx_desc;
	int rss_sym = 0, ret;

	ret = rte_eth_dev_info_get(p->port_id, &info);
	if (ret)
		return ret;
	if (n_rxq > info.max_rx_queues || n_txq > info.max_tx_queues) {
		LOG(ERR, "port %s: needs %u rx / %u tx queues, device has %u / %u", cp->name, n_rxq,
		    n_txq, info.max_rx_queues, info.max_tx_queues);
		return -ENOTSUP;
	}
	if (n_rxq > 1 && (info.flow_type_rss_offloads & PORT_RSS_HF)) {
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_hf = info.flow_type_rss_offloads & PORT_RSS_HF;
		if (toeplitz_key_fill(rss_key, info.hash_key_size) == 0) {
			conf.rx_adv_conf.rss_conf.rss_key = rss_key;
			conf.rx_adv_conf.rss_conf.rss_key_len = info.hash_key_size;
			rss_sym = 1;
		} else {
			/* RSS stays on with the PMD's key: it still spreads the
			 * receive work, where RSS off would put it all on
			 * worker 0; software dispatch hands each packet to its
			 * owner either way */
			LOG(NOTICE, "port %s: cannot take the symmetric RSS key (key size %u); "
				    "flows are handed off to their owners", cp->name,
			    info.hash_key_size);
		}
		if ((info.flow_type_rss_offloads & PORT_RSS_L4) != PORT_RSS_L4)
			LOG(NOTICE, "port %s: no RSS on the TCP/UDP ports; flows sharing an "
				    "address pair arrive together and are handed off", cp->name);
	}
	if (info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_IPV4_CKSUM)
		conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_IPV4_CKSUM;
	/* the TCP stack verifies and fills TCP checksums through the port
	 * when it can (tcp_input.c parse, tcp_output.c seg_send) */
	if (info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_TCP_CKSUM)
		conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_TCP_CKSUM;
	if (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MULTI_SEGS)
		conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
	if ((info.tx_offload_capa & (RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_TCP_CKSUM)) ==
	    (RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_TCP_CKSUM)) {
		conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_TCP_CKSUM;
		p->tx_cksum = 1;
	}
	ret = rte_eth_dev_configure(p->port_id, (uint16_t)n_rxq, (uint16_t)n_txq, &conf);
	if (ret) {
		LOG(ERR, "port %s: configure: %s", cp->name, rte_strerror(-ret));
		return ret;
	}
	ret = rte_eth_dev_adjust_nb_rx_tx_desc(p->port_id, &nrx, &ntx);
	if (ret)
		return ret;
	for (unsigned int q = 0; q < n_rxq; q++) {
		ret = rte_eth_rx_queue_setup(p->port_id, (uint16_t)q, nrx,
					     rte_eth_dev_socket_id(p->port_id), NULL, pools[q]);
		if (ret) {
			LOG(ERR, "port %s: rx queue %u: %s", cp->name, q, rte_strerror(-ret));
			return ret;
		}
	}
	for (unsigned int q = 0; q < n_txq; q++) {
		ret = rte_eth_tx_queue_setup(p->port_id, (uint16_t)q, ntx,
					     rte_eth_dev_socket_id(p->port_id), NULL);
		if (ret) {
			LOG(ERR, "port %s: tx queue %u: %s", cp->name, q, rte_strerror(-ret));
			return ret;
		}
	}
	if (cp->has_mac) {
		struct rte_ether_addr mac;

		memcpy(mac.addr_bytes, cp->mac, 6);
		ret = rte_eth_dev_default_mac_addr_set(p->port_id, &mac);
		if (ret)
			LOG(WARNING, "port %s: cannot set MAC: %s", cp->name, rte_strerror(-ret));
	}
	if (cp->mtu) {
		ret = rte_eth_dev_set_mtu(p->port_id, cp->mtu);
		if (ret) {
			LOG(ERR, "port %s: MTU %u: %s", cp->name, cp->mtu, rte_strerror(-ret));
			return ret;
		}
	}
	ret = rte_eth_dev_start(p->port_id);
	if (ret) {
		LOG(ERR, "port %s: start: %s", cp->name, rte_strerror(-ret));
		return ret;
	}
	if (rss_sym)
		port_reta_set(p, cp->name, n_rxq);
	rte_eth_macaddr_get(p->port_id, &p->mac);
	if (rte_eth_dev_get_mtu(p->port_id, &p->mtu) != 0 || p->mtu == 0)
		p->mtu = RTE_ETHER_MTU;
	return 0;
}

void port_stop_all(void)
{
	for (unsigned int i = 0; i < dp.n_ports; i++) {
		rte_eth_dev_stop(dp.ports[i].port_id);
		rte_eth_dev_close(dp.ports[i].port_id);
	}
}

void port_refresh_view(const struct dp_port *p, struct sl_port_view *v)
{
	struct rte_eth_stats s;
	struct rte_eth_link link;

	if (rte_eth_stats_get(p->port_id, &s) == 0) {
		v->ipackets = s.ipackets;
		v->opackets = s.opackets;
		v->ibytes = s.ibytes;
		v->obytes = s.obytes;
		v->imissed = s.imissed;
		v->ierrors = s.ierrors;
		v->oerrors = s.oerrors;
		v->rx_nombuf = s.rx_nombuf;
	}
	if (rte_eth_link_get_nowait(p->port_id, &link) == 0) {
		v->link_up = link.link_status;
		v->link_speed = link.link_speed;
	}
}
