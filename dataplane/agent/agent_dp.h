/*
 * S4 on the worker: clients of virtual networks reaching servers behind
 * remote agents.  A SYN toward such a server is held (held_tab.h), offered
 * to sluice-cp (which asks the vnet's agent), and answered exactly as the
 * real server or network answered: released into the TCP stack and bound to
 * the agent's STREAM session (OK), a RST from the server's address (REFUSE),
 * or ICMP destination unreachable with the agent's code from the vnet's
 * gateway (UNREACHABLE, and no answer in time).  ICMP echo requests become
 * PINGs on the agent's control session.
 *
 * It registers into IP input as the worker's pre-route hook; nothing in ip/
 * or tcp/ knows about it.
 */
#ifndef SLUICE_AGENT_DP_H
#define SLUICE_AGENT_DP_H

#include <stdint.h>

struct worker;
struct rte_mbuf;

#define SL_HELD_ZONE_FMT "sl_held_w%u" /* the worker's held_tab, read by sluice-cp */

/* Start-up: from dp.conf's agents/vnets sections, if any (0 when there are
 * none).  `app` = the agents listener's application index.  0 or -errno. */
int agent_dp_init(struct worker *w, uint16_t app);
/* Ring command CPDP_ACL_SET: use buffer `buf` of the ACL zone, n rules.
 * 0, or -EINVAL (-ENOTSUP when this worker has no agents). */
int agent_dp_acl_set(struct worker *w, uint32_t buf, uint32_t n);
/* sluice-dp main, before the workers: the ACL zone with the config's rules. */
int agent_dp_acl_zone_create(void);
/* Once per loop: held SYNs and pings that waited too long. */
void agent_dp_poll(struct worker *w);
/* The agents listener's application index; a vnet's gateway (host order). */
uint16_t agent_dp_app(const struct worker *w);
uint32_t agent_dp_vnet_gateway(const struct worker *w, uint16_t vnet);
/* A verdict, a pong or a DA message from sluice-cp (tls_msg.h); consumes m. */
void agent_dp_dn(struct worker *w, struct rte_mbuf *m);

#endif
