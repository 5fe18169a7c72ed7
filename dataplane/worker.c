/*
 * The worker loop: for each port, receive a burst, sort it by next step,
 * process each group, transmit in bursts.  No locks, no syscalls, no heap:
 * everything comes from this worker's mempool and struct.
 */
#include <stdio.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_prefetch.h>

#include "worker.h"
#include "ip/ipv4_input.h"
#include "agent/agent_dp.h"
#include "apps/l4proxy.h"
#include "apps/lstp_mid.h"
#include "apps/tls_relay.h"
#include "flow/dispatch.h"
#include "tcp/tcp_conn.h"

/* A packet held back for reordering leaves after this long at the latest. */
#define IMPAIR_HOLD_US 2000
#define HANDOFF_RING 2048 /* packets in flight from one worker to another */

int worker_create(unsigned int idx, unsigned int lcore_id)
{
	const struct sl_conf *c = dp.conf;
	struct rte_lpm_config lc = {
		.max_rules = SL_ROUTES_MAX,
		.number_tbl8s = 256,
	};
	char name[RTE_MEMZONE_NAMESIZE];
	struct worker *w;
	int socket = (int)rte_lcore_to_socket_id(lcore_id);

	w = rte_zmalloc_socket("sl_worker", sizeof(*w), RTE_CACHE_LINE_SIZE, socket);
	if (!w)
		return -ENOMEM;
	w->idx = idx;
	w->lcore_id = lcore_id;
	w->burst = c->burst > MAX_BURST ? MAX_BURST : c->burst;
	w->shm = &dp.shm->lcore[idx];
	w->st = &w->shm->st;
	w->shm->lcore_id = lcore_id;
	rte_seqcount_init(&w->shm->rt.seq);
	rte_seqcount_init(&w->shm->rules.seq);

	snprintf(name, sizeof(name), "sl_mp_w%u", idx);
	w->pool = rte_pktmbuf_pool_create(name, c->mbufs_per_worker, 256, 0,
					  RTE_MBUF_DEFAULT_BUF_SIZE, socket);
	snprintf(name, sizeof(name), "sl_lpm_w%u", idx);
	w->lpm = rte_lpm_create(name, socket, &lc);
	snprintf(name, sizeof(name), "sl_slow_%u", idx);
	w->slow = rte_ring_create(name, 1024, socket, RING_F_SP_ENQ | RING_F_SC_DEQ);
	snprintf(name, sizeof(name), "sl_mtx_%u", idx);
	w->from_main = rte_ring_create(name, 1024, socket, RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (!w->pool || !w->lpm || !w->slow || !w->from_main)
		return -rte_errno;
	for (unsigned int j = 0; dp.n_workers > 1 && j < dp.n_workers; j++) {
		if (j == idx)
			continue;
		snprintf(name, sizeof(name), "sl_ho_%u_%u", j, idx);
		w->ho_in[j] = rte_ring_create(name, HANDOFF_RING, socket,
					      RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (!w->ho_in[j])
			return -rte_errno;
	}
	w->tcp = rte_zmalloc_socket("sl_tcp", sizeof(*w->tcp), RTE_CACHE_LINE_SIZE, socket);
	if (!w->tcp)
		return -ENOMEM;
	{
		struct tcp_params tp = tcp_params_default;
		int ret;

		tp.tp = tcp_timer_policy_default;
		tp.max_conns = c->tcp_max_conns;
		tp.max_half_open = c->tcp_max_half_open;
		tp.sndbuf = c->tcp_sndbuf;
		tp.reass_bytes = c->tcp_reass_bytes;
		tp.mss = (uint16_t)c->tcp_mss;
		tp.tp.timewait_ms = c->tcp_time_wait_ms;
		tp.tp.idle_ms = c->tcp_idle_timeout_ms;
		tp.tp.synrcvd_ms = c->tcp_syn_timeout_ms;
		tp.tp.connect_ms = c->tcp_connect_timeout_ms;
		tp.tp.delack_ms = c->tcp_delack_ms;
		tp.keepalive = c->tcp_keepalive_idle_ms != 0;
		if (tp.keepalive) {
			tp.tp.keepalive_idle_ms = c->tcp_keepalive_idle_ms;
			tp.tp.keepalive_intvl_ms = c->tcp_keepalive_intvl_ms;
			tp.tp.keepalive_probes = c->tcp_keepalive_probes;
		}
		if ((ret = tcp_stack_init(w->tcp, w, &tp)) != 0)
			return ret;
		tcp_register(w);
		tcp_listen(w->tcp, SL_RA_PROXY, &l4proxy_ops);
		/* a TLS session per relayed connection: 2.5 KB each (two record
		 * states with their expanded keys); OpenSSL contexts come later,
		 * after the engine choice (tls_relay_reserve) */
		if ((ret = tls_relay_init(w, c->tls_max_sessions)) != 0)
			return ret;
		/* S4: the agents' listener is the application after the config's */
		if ((ret = agent_dp_init(w, (uint16_t)c->n_apps)) != 0)
			return ret;
		if ((ret = lstp_mid_init(w)) != 0)
			return ret;
	}
	w->cmd = dp.cmd[idx];
	w->evt = dp.evt[idx];
	dp.slow[idx] = w->slow;

	w->rng = impair_seed(idx + 1);
	/* ICMP error budget: icmp_rate per second, bursts of icmp_burst */
	w->icmp_rate = c->icmp_rate;
	w->icmp_cap = (uint64_t)c->icmp_burst * dp.tsc_hz;
	w->icmp_tokens = w->icmp_cap;
	w->icmp_last = rte_get_tsc_cycles();
	w->now_tsc = w->icmp_last;
	dp.workers[idx] = w;
	return 0;
}

void worker_handoff_link(void)
{
	for (unsigned int i = 0; i < dp.n_workers; i++)
		for (unsigned int j = 0; j < dp.n_workers; j++)
			if (i != j)
				dp.workers[i]->ho_out[j] = dp.workers[j]->ho_in[i];
}

static void impair_free(void *ctx, void *pkt)
{
	worker_drop(ctx, pkt, SL_DROP_IMPAIR);
}

static void *impair_copy(void *ctx, void *pkt)
{
	struct worker *w = ctx;
	struct rte_mbuf *c = rte_pktmbuf_copy(pkt, w->pool, 0, UINT32_MAX);

	if (!c)
		w->st->drops[SL_DROP_NOMBUF]++;
	return c;
}

static const struct impair_ops impair_mbuf_ops = {
	.drop = impair_free,
	.copy = impair_copy,
};

static void impair_update_mask(struct worker *w, uint16_t port, unsigned int dir)
{
	uint32_t bit = 1u << (2 * port + dir);

	if (impair_dir_active(&w->imp[port][dir]))
		w->impair_mask |= bit;
	else
		w->impair_mask &= ~bit;
}

void worker_impair_set(struct worker *w, uint16_t port, unsigned int dir_mask,
		       const struct sl_impair_dir *cfg, uint64_t seed)
{
	for (unsigned int d = 0; d < SL_DIR_MAX; d++) {
		if (!(dir_mask & (1u << d)))
			continue;
		impair_dir_set(&w->imp[port][d], cfg);
		w->shm->impair[port].dir[d] = *cfg;
		impair_update_mask(w, port, d);
	}
	if (seed) {
		/* each worker draws its own sequence from the shared seed */
		w->rng = impair_seed(seed * 0x9E3779B97F4A7C15ull + w->idx);
		w->shm->impair[port].seed = seed;
	}
}

void worker_tx_flush(struct worker *w, uint16_t port)
{
	struct txbuf *tb = &w->tx[port];
	struct rte_mbuf **pkts = tb->pkts;
	struct rte_mbuf *imp[2 * TXBUF_SIZE + 1];
	unsigned int n = tb->n, sent;
	uint64_t bytes = 0;

	tb->n = 0;
	if (unlikely(w->impair_mask & (1u << (2 * port + SL_DIR_OUT)))) {
		n = impair_apply(&w->imp[port][SL_DIR_OUT], &w->rng, rte_get_tsc_cycles(),
				 (void **)pkts, n, (void **)imp, &impair_mbuf_ops, w);
		pkts = imp;
		impair_update_mask(w, port, SL_DIR_OUT);
	}
	if (n == 0)
		return;
	for (unsigned int i = 0; i < n; i++)
		bytes += pkts[i]->pkt_len;
	sent = rte_eth_tx_burst(dp.ports[port].port_id, (uint16_t)w->idx, pkts, (uint16_t)n);
	if (unlikely(sent < n)) {
		for (unsigned int i = sent; i < n; i++) {
			bytes -= pkts[i]->pkt_len;
			worker_drop(w, pkts[i], SL_DROP_TX_FULL);
		}
	}
	w->st->port[port].tx_pkts += sent;
	w->st->port[port].tx_bytes += bytes;
}

static void rx_classify(struct worker *w, uint16_t port, struct rte_mbuf **pkts, unsigned int n,
			int count);

/* Packets held back for reordering must not wait forever on a quiet flow. */
static void impair_release(struct worker *w, uint64_t now)
{
	uint64_t timeout = dp.tsc_hz / 1000000 * IMPAIR_HOLD_US;

	for (uint16_t p = 0; p < dp.n_ports; p++) {
		struct rte_mbuf *m;

		m = impair_release_held(&w->imp[p][SL_DIR_OUT], now, timeout);
		if (m) {
			impair_update_mask(w, p, SL_DIR_OUT);
			/* straight out: it was already judged once */
			if (rte_eth_tx_burst(dp.ports[p].port_id, (uint16_t)w->idx, &m, 1) == 1) {
				w->st->port[p].tx_pkts++;
				w->st->port[p].tx_bytes += m->pkt_len;
			} else {
				worker_drop(w, m, SL_DROP_TX_FULL);
			}
		}
		m = impair_release_held(&w->imp[p][SL_DIR_IN], now, timeout);
		if (m) {
			impair_update_mask(w, p, SL_DIR_IN);
			rx_classify(w, p, &m, 1, 0);
		}
	}
}

/* N workers: the burst's packets whose flow another worker owns go to that
 * worker (flow/dispatch.h); ours stay in the burst, in order.  A full ring
 * drops the packet, counted: the owner is behind, and a queue without
 * bound would only make it later. */
static void handoff_out(struct worker *w, uint16_t port, struct ipv4_burst *b)
{
	unsigned int keep = 0;

	for (unsigned int i = 0; i < b->k; i++) {
		struct rte_mbuf *m = b->m[i];
		unsigned int o = dispatch_owner(ip_hdr(m), rte_pktmbuf_data_len(m) - RTE_ETHER_HDR_LEN,
						dp.n_workers);

		if (o == w->idx) {
			b->m[keep] = m;
			b->dst[keep++] = b->dst[i];
			continue;
		}
		m->port = port;
		if (likely(rte_ring_sp_enqueue(w->ho_out[o], m) == 0))
			w->st->handoff_out++;
		else
			worker_drop(w, m, SL_DROP_HANDOFF_FULL);
	}
	b->k = keep;
}

/* What the other workers handed us: validated IPv4 for flows we own, each
 * with its in port in m->port; routed in runs of one port. */
static unsigned int handoff_in(struct worker *w)
{
	unsigned int total = 0;

	for (unsigned int j = 0; j < dp.n_workers; j++) {
		struct rte_mbuf *pkts[MAX_BURST];
		struct ipv4_burst b;
		unsigned int n;
		uint16_t port = 0;

		if (j == w->idx || rte_ring_empty(w->ho_in[j]))
			continue;
		n = rte_ring_sc_dequeue_burst(w->ho_in[j], (void **)pkts, MAX_BURST, NULL);
		total += n;
		w->st->handoff_in += n;
		b.k = 0;
		for (unsigned int i = 0; i < n; i++) {
			struct rte_mbuf *m = pkts[i];

			if (unlikely(m->port == RTE_MBUF_PORT_INVALID)) {
				/* not a packet: S3 moves a connection here (in
				 * ring order, before its forwarded segments) */
				if (b.k)
					ipv4_burst_route(w, port, &b);
				b.k = 0;
				lstp_mid_ctl(w, m);
				continue;
			}
			if (b.k && m->port != port) {
				ipv4_burst_route(w, port, &b);
				b.k = 0;
			}
			port = m->port;
			b.m[b.k] = m;
			b.dst[b.k++] = rte_be_to_cpu_32(ip_hdr(m)->dst);
		}
		if (b.k)
			ipv4_burst_route(w, port, &b);
	}
	return total;
}

/* Classify and validate in one pass; `count` is 0 for a packet the
 * impairment held back, which was counted when it arrived. */
static void rx_classify(struct worker *w, uint16_t port, struct rte_mbuf **pkts, unsigned int n,
			int count)
{
	struct ipv4_burst ip;
	uint64_t bytes = 0;

	ip.k = 0;
	for (unsigned int i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		const struct rte_ether_hdr *eth;

		if (i + 1 < n)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 1], void *));
		bytes += m->pkt_len;
		if (unlikely(rte_pktmbuf_data_len(m) < RTE_ETHER_HDR_LEN)) {
			worker_drop(w, m, SL_DROP_ETH_RUNT);
			continue;
		}
		eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
		if (likely(eth->ether_type == RTE_BE16(RTE_ETHER_TYPE_IPV4))) {
			ipv4_burst_add(w, &ip, m);
		} else if (eth->ether_type == RTE_BE16(RTE_ETHER_TYPE_ARP)) {
			m->port = port;
			w->st->arp_in++;
			worker_to_slowpath(w, m);
		} else {
			worker_drop(w, m, SL_DROP_ETHERTYPE);
		}
	}
	if (count) {
		w->st->port[port].rx_pkts += n;
		w->st->port[port].rx_bytes += bytes;
	}
	if (dp.n_workers > 1)
		handoff_out(w, port, &ip);
	ipv4_burst_route(w, port, &ip);
}

/* Count, impair (one predictable branch when off), classify. */
static void rx_process(struct worker *w, uint16_t port, struct rte_mbuf **pkts, unsigned int n,
		       uint64_t now)
{
	struct rte_mbuf *imp[2 * MAX_BURST + 1];

	if (unlikely(w->impair_mask & (1u << (2 * port + SL_DIR_IN)))) {
		/* count what arrived, before the impairment drops any of it */
		for (unsigned int i = 0; i < n; i++)
			w->st->port[port].rx_bytes += pkts[i]->pkt_len;
		w->st->port[port].rx_pkts += n;
		n = impair_apply(&w->imp[port][SL_DIR_IN], &w->rng, now, (void **)pkts, n,
				 (void **)imp, &impair_mbuf_ops, w);
		impair_update_mask(w, port, SL_DIR_IN);
		rx_classify(w, port, imp, n, 0);
		return;
	}
	rx_classify(w, port, pkts, n, 1);
}

/* Frames the main lcore built or released (ARP, resolved packets): ports
 * may have no queue to spare for it, so it hands them to a worker. */
static unsigned int from_main(struct worker *w)
{
	struct rte_mbuf *pkts[MAX_BURST];
	unsigned int n = rte_ring_sc_dequeue_burst(w->from_main, (void **)pkts, MAX_BURST, NULL);

	for (unsigned int i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		uint32_t meta = m->hash.fdir.hi;

		if (unlikely(meta & SLOW_UNREACH)) {
			/* RFC 1812 4.3.3.1 / 5.2.7.1: the next hop did not answer
			 * ARP: host unreachable, from the ingress address */
			if ((meta & 0xffff) < dp.n_ports)
				icmp_error(w, m, (uint16_t)(meta & 0xffff), 3, 1, 0);
			worker_drop(w, m, SL_DROP_NEIGH_FAILED);
			continue;
		}
		worker_tx(w, m->port, m);
	}
	return n;
}

int worker_loop(void *arg)
{
	struct worker *w = arg;
	unsigned int iter = 0;
	uint32_t idle_us = dp.conf->idle_sleep_us;

	rte_rcu_qsbr_thread_register(dp.qsbr, w->idx);
	rte_rcu_qsbr_thread_online(dp.qsbr, w->idx);
	w->shm->running = 1;

	while (!dp.quit) {
		struct rte_mbuf *pkts[SL_MAX_PORTS][MAX_BURST];
		uint16_t n[SL_MAX_PORTS];
		unsigned int got = 0, txq = 0;
		uint64_t t0, t1, t2, t3;

		/* Phases, so four TSC reads split a busy loop into port I/O
		 * (rx and tx bursts) and our own work, whatever the port count. */
		t0 = rte_rdtsc();
		for (uint16_t p = 0; p < dp.n_ports; p++) {
			n[p] = rte_eth_rx_burst(dp.ports[p].port_id, (uint16_t)w->idx, pkts[p], w->burst);
			got += n[p];
		}
		t1 = rte_rdtsc();
		w->now_tsc = t1;
		if (got)
			for (uint16_t p = 0; p < dp.n_ports; p++)
				if (n[p])
					rx_process(w, p, pkts[p], n[p], t0);
		if (dp.n_workers > 1)
			got += handoff_in(w);
		if (unlikely(rte_ring_count(w->from_main) != 0))
			got += from_main(w);
		if (unlikely(w->impair_mask))
			impair_release(w, t0);
		tcp_stack_tick(w->tcp, t0);
		tls_relay_poll(w);
		agent_dp_poll(w);
		for (uint16_t p = 0; p < dp.n_ports; p++)
			txq |= w->tx[p].n;
		if (got || txq) {
			t2 = rte_rdtsc();
			for (uint16_t p = 0; p < dp.n_ports; p++)
				if (w->tx[p].n)
					worker_tx_flush(w, p);
			t3 = rte_rdtsc();
			w->st->busy_polls++;
			w->st->cycles_io += (t1 - t0) + (t3 - t2);
			w->st->cycles_work += t2 - t1;
		} else if (idle_us) {
			rte_delay_us_sleep(idle_us); /* opt-in: dataplane.idle_sleep_us */
		}
		rte_rcu_qsbr_quiescent(dp.qsbr, w->idx);
		w->st->polls++;
		if ((++iter & 15) == 0) {
			w->shm->heartbeat_tsc = t0;
			worker_poll_cmds(w);
		}
	}
	for (uint16_t p = 0; p < dp.n_ports; p++)
		worker_tx_flush(w, p);
	rte_rcu_qsbr_thread_offline(dp.qsbr, w->idx);
	rte_rcu_qsbr_thread_unregister(dp.qsbr, w->idx);
	w->shm->running = 0;
	return 0;
}
