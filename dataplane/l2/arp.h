/* ARP on the main lcore: answer requests for our addresses, learn, resolve. */
#ifndef SLUICE_ARP_H
#define SLUICE_ARP_H

#include <stdint.h>
#include <rte_mbuf.h>

/* An ARP frame a worker handed over (m->port = our port index). Consumes m. */
void arp_input(struct rte_mbuf *m, uint64_t now_ms);
/* Send a request for ip out of port; unicast to dst_mac when given (probe). */
void arp_send_request(uint16_t port, uint32_t ip, const uint8_t *dst_mac);

/* Main lcore counters (slot n_workers). */
struct sl_lcore_stats *main_stats(void);

#endif
