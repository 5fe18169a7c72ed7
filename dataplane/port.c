/*
 * Ports: one RX queue per worker, one TX queue per worker plus one for the
 * main lcore (ARP, packets released after resolution).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_ethdev.h>
#include <rte_log.h>

#include "dp.h"

#define LOG(lvl, fmt, ...) RTE_LOG(lvl, USER1, "%s: " fmt "\n", __func__, ##__VA_ARGS__)

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
	int ret;

	ret = rte_eth_dev_info_get(p->port_id, &info);
	if (ret)
		return ret;
	if (n_rxq > info.max_rx_queues || n_txq > info.max_tx_queues) {
		LOG(ERR, "port %s: needs %u rx / %u tx queues, device has %u / %u", cp->name, n_rxq,
		    n_txq, info.max_rx_queues, info.max_tx_queues);
		return -ENOTSUP;
	}
	if (n_rxq > 1 && info.flow_type_rss_offloads) {
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_hf =
			info.flow_type_rss_offloads & (RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP | RTE_ETH_RSS_UDP);
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
