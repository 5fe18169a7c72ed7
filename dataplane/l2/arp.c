/*
 * ARP on the main lcore (RFC 826): answer requests for the appliance's
 * addresses, learn senders, send requests and probes for the neighbour table.
 * ARP is rare next to data traffic, so it is not worth a worker's cycles.
 */
#include <string.h>

#include <rte_ether.h>
#include <rte_mbuf.h>

#include "dp.h"
#include "arp.h"
#include "arp_parse.h"
#include "neigh.h"

struct sl_lcore_stats *main_stats(void)
{
	return &dp.shm->lcore[dp.n_workers].st;
}

static void reply(struct rte_mbuf *m, const struct dp_port *p, const struct arp_info *req)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct arp_info a = {
		.op = ARP_OP_REPLY,
		.spa = p->addr,
		.tpa = req->spa,
	};

	memcpy(a.sha, p->mac.addr_bytes, 6);
	memcpy(a.tha, req->sha, 6);
	arp_build(eth + 1, &a);
	memcpy(eth->dst_addr.addr_bytes, req->sha, 6);
	rte_ether_addr_copy(&p->mac, &eth->src_addr);
	main_stats()->arp_out++;
	main_tx(p->idx, m);
}

void arp_input(struct rte_mbuf *m, uint64_t now_ms)
{
	struct sl_lcore_stats *st = main_stats();
	const struct dp_port *p = &dp.ports[m->port];
	struct arp_info a;
	unsigned int r;
	int for_us;

	st->arp_in++;
	r = arp_parse(rte_pktmbuf_mtod_offset(m, void *, RTE_ETHER_HDR_LEN),
		      rte_pktmbuf_data_len(m) - RTE_ETHER_HDR_LEN, &a);
	if (r != SL_DROP_MAX) {
		st->drops[r]++;
		rte_pktmbuf_free(m);
		return;
	}
	for_us = a.tpa == p->addr;
	/* Learn only neighbours on the port's own subnet: anything else could
	 * not be a next hop and would only fill the table. */
	if ((a.spa & p->mask) != p->net || a.spa == p->addr || a.spa == p->bcast) {
		st->drops[for_us ? SL_DROP_ARP_OTHER_SUBNET : SL_DROP_ARP_NOT_FOR_US]++;
		rte_pktmbuf_free(m);
		return;
	}
	/* RFC 826 "merge": update an existing entry from any ARP; create one
	 * only when we are the target (the sender is about to talk to us). */
	neigh_confirm(dp.neigh, a.spa, p->idx, a.sha, for_us, now_ms);
	if (for_us && a.op == ARP_OP_REQUEST) {
		reply(m, p, &a);
		return;
	}
	if (!for_us)
		st->drops[SL_DROP_ARP_NOT_FOR_US]++;
	rte_pktmbuf_free(m);
}

void arp_send_request(uint16_t port, uint32_t ip, const uint8_t *dst_mac)
{
	const struct dp_port *p = &dp.ports[port];
	struct rte_mbuf *m = rte_pktmbuf_alloc(dp.main_pool);
	struct rte_ether_hdr *eth;
	struct arp_info a = { .op = ARP_OP_REQUEST, .spa = p->addr, .tpa = ip };

	if (!m) {
		main_stats()->drops[SL_DROP_NOMBUF]++;
		return;
	}
	eth = (struct rte_ether_hdr *)rte_pktmbuf_append(m, RTE_ETHER_HDR_LEN + ARP_LEN);
	memcpy(a.sha, p->mac.addr_bytes, 6);
	/* RFC 826: target hardware address is unknown in a request (zero);
	 * a unicast probe goes straight to the MAC we still have. */
	memset(a.tha, 0, 6);
	arp_build(eth + 1, &a);
	if (dst_mac)
		memcpy(eth->dst_addr.addr_bytes, dst_mac, 6);
	else
		memset(eth->dst_addr.addr_bytes, 0xff, 6);
	rte_ether_addr_copy(&p->mac, &eth->src_addr);
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP);
	main_stats()->arp_out++;
	main_tx(port, m);
}
