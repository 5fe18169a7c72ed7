/*
 * Which vnet a client belongs to, which agent a server is behind, what a
 * vnet's ACL says (S4).  Pure code over the config's tables
 * (sluice/agent_types.h); unit-tested.
 */
#ifndef SLUICE_VNET_MATCH_H
#define SLUICE_VNET_MATCH_H

#include <stdint.h>

#include <sluice/agent_types.h>

/* The vnet whose client prefixes hold src (host order), or -1. */
int vnet_of(const struct sl_vnet_def *v, unsigned int n, uint32_t src);
/* The agent index of the longest route prefix of vnet `v` holding dst, or -1. */
int vnet_route(const struct sl_vnet_def *v, uint32_t dst);

struct acl_pkt {
	uint16_t vnet;
	uint8_t proto;
	uint8_t has_ports;
	uint32_t src, dst;      /* host order */
	uint16_t sport, dport;
};

/* First matching rule of the packet's vnet in r[0..n): its index, or -1
 * (no rule: allowed). */
int acl_match(const struct sl_acl_rule *r, unsigned int n, const struct acl_pkt *p);

#endif
