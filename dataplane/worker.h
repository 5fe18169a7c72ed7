/*
 * A worker lcore: everything it touches per packet, in one cache-aligned
 * struct it owns.  Nothing here is written by another thread; the control
 * plane changes it only through ring commands the worker applies itself.
 */
#ifndef SLUICE_WORKER_H
#define SLUICE_WORKER_H

#include <stdint.h>

#include <rte_branch_prediction.h>
#include <rte_lpm.h>
#include <rte_mbuf.h>

#include "dp.h"
#include "impair.h"
#include "ip/route_list.h"

#define MAX_BURST 64
#define TXBUF_SIZE (2 * MAX_BURST)

struct tls_relay;
struct agent_dp;
struct udp_da;
struct lstp_mid;
struct ipv4_burst;

struct txbuf {
	uint16_t n;
	struct rte_mbuf *pkts[TXBUF_SIZE];
};

struct worker {
	unsigned int idx;            /* slot: RX/TX queue id, ring index */
	unsigned int lcore_id;
	uint16_t burst;
	struct sl_lcore_shm *shm;    /* counters, routes, impairment view */
	struct sl_lcore_stats *st;   /* == &shm->st */
	struct rte_mempool *pool;
	struct rte_lpm *lpm;         /* value = index into nhp */
	struct rte_ring *cmd, *evt, *slow;
	struct rte_ring *from_main;  /* main -> this worker: frames to transmit (m->port) */
	/* N workers, software dispatch (flow/dispatch.h): ho_in[j] brings the
	 * packets worker j received for flows this one owns, ho_out[j] takes
	 * ours to j; single producer, single consumer each, m->port = in port */
	struct rte_ring *ho_in[SL_MAX_WORKERS], *ho_out[SL_MAX_WORKERS];

	/* impairment: bit (2 * port + dir) set when that direction is active,
	 * so the fast path costs one predictable branch when all are off */
	uint32_t impair_mask;
	uint64_t rng;
	struct impair_dir_state imp[SL_MAX_PORTS][SL_DIR_MAX];

	/* ICMP error token bucket, in TSC cycles (one message = tsc_hz) */
	uint64_t icmp_tokens, icmp_last, icmp_cap, icmp_rate;
	uint64_t now_tsc;            /* TSC when this loop's bursts arrived: per-packet
				      * clocks (rate limits) read it, not rdtsc */

	uint32_t n_rules;            /* == shm->rules.n: one branch per packet when 0 */
	uint32_t n_transparent;      /* transparent proxy rules: look forwarded TCP up */
	struct tcp_stack *tcp;
	struct tls_relay *tls;       /* apps/tls_relay.c */
	/* Features register here; IP input (ip/, flow/) calls them without
	 * knowing them, as Linux's protocol handlers and grout's nodes:
	 *  - pre_route: sees each burst of valid IPv4 packets before the
	 *    route decides (S4: the vnets' clients, dataplane/agent/), takes
	 *    what is its own and leaves the rest in the burst, in order.
	 *    A whole burst, so it can classify them together (rte_acl's
	 *    vector paths).  NULL when no feature registered: one predictable
	 *    branch per burst.
	 *  - local_in[proto]: a packet for one of the appliance's addresses
	 *    (TCP: tcp/); unregistered protocols go to ICMP input.
	 *  - rule_in[action]: a packet a policy rule hands to a feature
	 *    (proxy, tls-terminate, tls-originate: tcp/ and its apps).
	 *  - flow_try: forwarded-looking packets of a flow the appliance
	 *    owns (a transparent proxy's server leg); 1 when it took it. */
	void (*pre_route)(struct worker *w, uint16_t in_port, struct ipv4_burst *b);
	void (*local_in[256])(struct worker *w, struct rte_mbuf *m, uint16_t in_port);
	void (*rule_in[SL_RA_MAX])(struct worker *w, struct rte_mbuf *m, uint16_t in_port,
				   const struct sl_rule *r);
	int (*flow_try)(struct worker *w, struct rte_mbuf *m, uint16_t in_port);
	struct agent_dp *agent;      /* dataplane/agent/ */
	struct udp_da *da;           /* dataplane/agent/udp_da.c: UDP through agents */
	struct lstp_mid *lstp;       /* apps/lstp_mid.c: the LSTP middle (S3) */

	struct txbuf tx[SL_MAX_PORTS];
	struct nh_pool nhp;
} __rte_cache_aligned;

int worker_create(unsigned int idx, unsigned int lcore_id);
/* Once every worker exists: connect their hand-off rings. */
void worker_handoff_link(void);
int worker_loop(void *arg);

/* worker_cmd.c: ring commands, also used at start-up for the initial routes */
int worker_route_add(struct worker *w, const struct sl_route *r);
int worker_route_del(struct worker *w, uint32_t prefix, uint8_t plen);
void worker_impair_set(struct worker *w, uint16_t port, unsigned int dir_mask,
		       const struct sl_impair_dir *cfg, uint64_t seed);
int worker_rule_add(struct worker *w, const struct sl_rule *r);
void worker_poll_cmds(struct worker *w);
void worker_rules_changed(struct worker *w);

/* ip/ipv4_input.c (the receive path is in ip/ipv4_input.h) */
void ipv4_output(struct worker *w, struct rte_mbuf *m);
/* The appliance's address on the port that routes to dst (host order), in
 * network order: the source of connections it opens.  0 or -EHOSTUNREACH. */
int ipv4_src_for(struct worker *w, uint32_t dst, uint32_t *src_be, uint16_t *port);

/* flow/rule.c: 1 when a policy rule consumed the packet */
int rule_apply(struct worker *w, struct rte_mbuf *m, uint16_t in_port);

/* ip/icmp.c */
void icmp_local_input(struct worker *w, struct rte_mbuf *m, uint16_t in_port);
void icmp_error(struct worker *w, struct rte_mbuf *orig, uint16_t in_port, uint8_t type,
		uint8_t code, uint16_t mtu);
/* The same from a given source address (host order): an S4 vnet's gateway. */
void icmp_error_from(struct worker *w, struct rte_mbuf *orig, uint32_t src, uint8_t type,
		     uint8_t code, uint16_t mtu);
/* The same, made of `orig` itself (no allocation, no copy) when it is a
 * single unshared segment; `orig` is counted as dropped for `reason` and
 * consumed either way.  For answers sent at line rate (S4 ACL rejects). */
void icmp_error_reuse(struct worker *w, struct rte_mbuf *orig, uint32_t src, uint8_t type,
		      uint8_t code, uint16_t mtu, unsigned int reason);

static inline void worker_drop(struct worker *w, struct rte_mbuf *m, unsigned int reason)
{
	w->st->drops[reason]++;
	rte_pktmbuf_free(m);
}

void worker_tx_flush(struct worker *w, uint16_t port);

static inline void worker_tx(struct worker *w, uint16_t port, struct rte_mbuf *m)
{
	struct txbuf *tb = &w->tx[port];

	if (unlikely(tb->n == TXBUF_SIZE))
		worker_tx_flush(w, port);
	tb->pkts[tb->n++] = m;
}

/*
 * What travels with a packet between a worker and the main lcore, in mbuf
 * fields the receive path no longer needs: m->port = output port,
 * m->hash.usr = next-hop address, m->hash.fdir.hi = ingress port (or
 * SLOW_NO_INGRESS for packets the appliance made) plus SLOW_UNREACH when the
 * main lcore hands a packet back because its next hop never answered.
 */
#define SLOW_NO_INGRESS 0xffffu
#define SLOW_UNREACH    0x10000u

static inline void slow_meta_set(struct rte_mbuf *m, uint32_t nh_ip, uint16_t out_port,
				 uint32_t in_port)
{
	m->hash.usr = nh_ip;
	m->hash.fdir.hi = in_port;
	m->port = out_port;
}

/* Hand a packet to the main lcore (ARP, unresolved next hop). */
static inline void worker_to_slowpath(struct worker *w, struct rte_mbuf *m)
{
	if (unlikely(rte_ring_sp_enqueue(w->slow, m) != 0)) {
		worker_drop(w, m, SL_DROP_SLOWPATH_FULL);
		return;
	}
	w->st->slowpath++;
}

#endif
