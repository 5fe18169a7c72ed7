/*
 * Datagram associations on the worker (udp_da.h; docs/agent-protocol.md,
 * "DGRAM sessions").
 *
 * States of an entry:
 *   OFFERED  offered to sluice-cp; up to da_hold datagrams held.  The
 *            verdict binds it (BOUND), refuses it (DISCARD) or fails it
 *            (ICMP unreachable to the client, freed).  No verdict within
 *            hold_timeout_ms: ICMP host unreachable, freed.
 *   BOUND    datagrams go out as DATA frames on its DGRAM session.  It ends
 *            when sluice-cp says so (the agent's aging, SA deleted), or when
 *            its session is found gone (then the datagram starts a new DA).
 *   DISCARD  the agent refused: datagrams dropped (counted) until
 *            da_discard_ms, then freed, and the next datagram offers anew.
 */
#include <errno.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_ether.h>
#include <rte_hash.h>
#include <rte_ip.h>
#include <rte_ip_frag.h>
#include <rte_jhash.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_udp.h>

#include <sluice/agent_proto.h>
#include <sluice/tls_msg.h>

#include "agent/agent_dp.h"
#include "agent/udp_da.h"
#include "apps/tls_relay.h"
#include "ip/ipv4_input.h"
#include "tcp/tcp_conn.h"
#include "worker.h"

#define DA_HOLD_MAX 16
#define DA_SCAN_MS 50
#define QUOTE_LEN 28            /* RFC 792: the IP header and 64 bits of the datagram */
#define FRAG_MAX 64             /* 65,535 bytes in 1,280-byte fragments is 52 */
#define REASM_BUCKETS 1024
#define REASM_ENTRIES 4096

enum { DA_FREE = 0, DA_OFFERED, DA_BOUND, DA_DISCARD };

struct da_key {
	uint32_t src, dst;      /* host order */
	uint16_t sport, dport;
	uint16_t vnet, pad;
};

struct da_ent {
	struct da_key k;
	uint32_t gen;
	uint8_t state, n_held;
	uint16_t in_port;
	uint16_t agent, relay_port;
	uint32_t sess_slot, sess_gen;
	uint32_t since_ms;       /* OFFERED / DISCARD: when */
	uint8_t quote[QUOTE_LEN]; /* the client's last datagram: IP header (no options) + UDP */
	struct rte_mbuf *held[DA_HOLD_MAX];
};

struct udp_da {
	struct rte_hash *h;      /* da_key -> entry index */
	struct da_ent *e;
	uint32_t max, n_free, *free;
	uint32_t hold, hold_ms, discard_ms;
	uint32_t n_waiting;      /* OFFERED + DISCARD: the scan has work */
	uint32_t scan_ms;
	uint16_t ip_id;
	struct rte_ip_frag_tbl *frag;
	struct rte_ip_frag_death_row dr;
	uint8_t buf[4 + 65535];  /* one frame, linearized */
};

static inline struct sl_agent_stats *ast(struct worker *w) { return &w->st->agent; }

/* --- the table ---------------------------------------------------------------- */

static void ent_free(struct worker *w, struct udp_da *d, uint32_t i)
{
	struct da_ent *e = &d->e[i];

	for (unsigned int j = 0; j < e->n_held; j++)
		worker_drop(w, e->held[j], SL_DROP_DA_UNANSWERED);
	if (e->state == DA_OFFERED || e->state == DA_DISCARD)
		d->n_waiting--;
	rte_hash_del_key(d->h, &e->k);
	e->state = DA_FREE;
	e->n_held = 0;
	e->gen++;
	d->free[d->n_free++] = i;
	ast(w)->das--;
}

static struct da_ent *ent_get(struct udp_da *d, uint32_t slot, uint32_t gen)
{
	if (slot >= d->max || d->e[slot].state == DA_FREE || d->e[slot].gen != gen)
		return NULL;
	return &d->e[slot];
}

/* Keep the client's datagram head for an ICMP error's quote. */
static void remember(struct da_ent *e, const struct rte_ipv4_hdr *ip, const struct rte_udp_hdr *uh)
{
	struct rte_ipv4_hdr *q = (struct rte_ipv4_hdr *)e->quote;

	memcpy(q, ip, sizeof(*q));
	q->version_ihl = 0x45; /* options are not quoted */
	q->hdr_checksum = 0;
	q->hdr_checksum = rte_ipv4_cksum(q);
	memcpy(e->quote + sizeof(*q), uh, sizeof(*uh));
}

/* An ICMP error to the client quoting its datagram, from `from` (host order). */
static void icmp_to_client(struct worker *w, const struct da_ent *e, uint32_t from, uint8_t type,
			   uint8_t code, uint16_t mtu)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(w->pool);
	uint8_t *p;

	if (!m || !(p = (uint8_t *)rte_pktmbuf_append(m, RTE_ETHER_HDR_LEN + QUOTE_LEN))) {
		rte_pktmbuf_free(m);
		w->st->drops[SL_DROP_NOMBUF]++;
		return;
	}
	memset(p, 0, RTE_ETHER_HDR_LEN);
	memcpy(p + RTE_ETHER_HDR_LEN, e->quote, QUOTE_LEN);
	icmp_error_from(w, m, from, type, code, mtu);
	rte_pktmbuf_free(m);
}

/* --- client -> agent ----------------------------------------------------------- */

/* The datagram as a DATA frame: its payload with the 8-byte frame header
 * in the headroom the Ethernet, IP and UDP headers leave. */
static struct rte_mbuf *to_frame(struct rte_mbuf *m, uint32_t da_id, uint32_t off, uint32_t plen)
{
	uint8_t *h;

	rte_pktmbuf_adj(m, (uint16_t)off);
	if (rte_pktmbuf_pkt_len(m) > plen)
		rte_pktmbuf_trim(m, (uint16_t)(rte_pktmbuf_pkt_len(m) - plen));
	h = (uint8_t *)rte_pktmbuf_prepend(m, 8);
	if (!h)
		return NULL;
	h[0] = AP_D_DATA;
	h[1] = 0;
	h[2] = (uint8_t)((plen + 4) >> 8);
	h[3] = (uint8_t)(plen + 4);
	h[4] = (uint8_t)(da_id >> 24);
	h[5] = (uint8_t)(da_id >> 16);
	h[6] = (uint8_t)(da_id >> 8);
	h[7] = (uint8_t)da_id;
	return m;
}

static void send_up(struct worker *w, struct udp_da *d, struct da_ent *e, struct tcp_conn *sess,
		    struct rte_mbuf *m)
{
	const struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(m, const struct rte_ipv4_hdr *,
								RTE_ETHER_HDR_LEN);
	uint32_t hlen = (ip->version_ihl & 0xf) * 4u;
	uint32_t plen = rte_be_to_cpu_16(ip->total_length) - hlen - (uint32_t)sizeof(struct rte_udp_hdr);
	uint32_t slot = (uint32_t)(e - d->e);

	m = to_frame(m, SL_DA_ID(w->idx, slot, e->gen), RTE_ETHER_HDR_LEN + hlen + 8, plen);
	if (!m) {
		w->st->drops[SL_DROP_NOMBUF]++;
		return;
	}
	ast(w)->dgram_up++;
	ast(w)->dgram_up_bytes += plen;
	tls_relay_dgram_send(w, sess, m);
}

static int offer(struct worker *w, struct udp_da *d, uint32_t i)
{
	struct da_ent *e = &d->e[i];
	struct rte_mbuf *om = rte_pktmbuf_alloc(w->pool);
	struct sl_da_offer *o;

	if (!om || !(o = (struct sl_da_offer *)rte_pktmbuf_append(om, sizeof(*o)))) {
		rte_pktmbuf_free(om);
		return -ENOBUFS;
	}
	*o = (struct sl_da_offer){ .vnet = e->k.vnet, .agent = e->agent, .src = e->k.src,
				   .dst = e->k.dst, .sport = e->k.sport, .dport = e->k.dport };
	return tls_relay_up(w, SL_TLS_UP_DA_OFFER, agent_dp_app(w), i, e->gen, om);
}

void udp_da_in(struct worker *w, struct rte_mbuf *m, uint16_t in_port, uint16_t vnet,
	       uint16_t agent)
{
	struct udp_da *d = w->da;
	const struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(m, const struct rte_ipv4_hdr *,
								RTE_ETHER_HDR_LEN);
	uint32_t hlen = (ip->version_ihl & 0xf) * 4u, tlen = rte_be_to_cpu_16(ip->total_length);
	struct rte_udp_hdr uhb;
	const struct rte_udp_hdr *uh;
	struct da_key k;
	struct da_ent *e;
	struct tcp_conn *sess;
	void *data;
	uint32_t i;

	uh = rte_pktmbuf_read(m, RTE_ETHER_HDR_LEN + hlen, sizeof(uhb), &uhb);
	/* RFC 768: the UDP length must fit the IP datagram; a checksum of 0
	 * means none was sent */
	if (!uh || tlen < hlen + sizeof(*uh) || rte_be_to_cpu_16(uh->dgram_len) != tlen - hlen ||
	    rte_pktmbuf_pkt_len(m) < RTE_ETHER_HDR_LEN + tlen || uh->dst_port == 0 ||
	    (uh->dgram_cksum != 0 &&
	     rte_ipv4_udptcp_cksum_mbuf_verify(m, ip, RTE_ETHER_HDR_LEN + hlen) != 0)) {
		worker_drop(w, m, SL_DROP_UDP_BAD);
		return;
	}
	k = (struct da_key){ .src = rte_be_to_cpu_32(ip->src_addr),
			     .dst = rte_be_to_cpu_32(ip->dst_addr),
			     .sport = rte_be_to_cpu_16(uh->src_port),
			     .dport = rte_be_to_cpu_16(uh->dst_port), .vnet = vnet };
	/* the entry's slot is the key's data, not its position in the hash */
	if (rte_hash_lookup_data(d->h, &k, &data) >= 0) {
		uint32_t pos = (uint32_t)(uintptr_t)data;

		e = &d->e[pos];
		switch (e->state) {
		case DA_BOUND:
			sess = tls_relay_dgram_get(w, e->sess_slot, e->sess_gen);
			if (sess) {
				remember(e, ip, uh);
				send_up(w, d, e, sess, m);
				return;
			}
			/* its session is gone (sluice-cp ends the DA too): the
			 * datagram starts a new association */
			ast(w)->da_ended++;
			ent_free(w, d, pos);
			break;
		case DA_DISCARD:
			worker_drop(w, m, SL_DROP_DA_DISCARD);
			return;
		default: /* OFFERED */
			if (e->n_held >= d->hold) {
				worker_drop(w, m, SL_DROP_DA_HELD_FULL);
				return;
			}
			remember(e, ip, uh);
			e->held[e->n_held++] = m;
			return;
		}
	}
	if (d->n_free == 0) {
		worker_drop(w, m, SL_DROP_DA_TABLE_FULL);
		return;
	}
	i = d->free[--d->n_free];
	e = &d->e[i];
	e->k = k;
	if (rte_hash_add_key_data(d->h, &e->k, (void *)(uintptr_t)i) < 0) {
		d->free[d->n_free++] = i;
		worker_drop(w, m, SL_DROP_DA_TABLE_FULL);
		return;
	}
	e->state = DA_OFFERED;
	e->in_port = in_port;
	e->agent = agent;
	e->since_ms = w->tcp->now_ms;
	e->n_held = 0;
	remember(e, ip, uh);
	e->held[e->n_held++] = m;
	d->n_waiting++;
	ast(w)->das++;
	if (offer(w, d, i) != 0) {
		e->n_held = 0;
		worker_drop(w, m, SL_DROP_DA_OFFER);
		ent_free(w, d, i);
		return;
	}
	ast(w)->da_offered++;
}

/* --- verdicts and ends ------------------------------------------------------------ */

void udp_da_verdict(struct worker *w, uint32_t slot, uint32_t gen, const struct sl_da_verdict *v)
{
	struct udp_da *d = w->da;
	struct da_ent *e = d ? ent_get(d, slot, gen) : NULL;
	struct tcp_conn *sess;
	uint32_t gw;

	if (!e || e->state != DA_OFFERED) {
		ast(w)->late++;
		w->st->drops[SL_DROP_AGENT_LATE]++;
		return;
	}
	gw = agent_dp_vnet_gateway(w, e->k.vnet);
	switch (v->result) {
	case AP_RES_OK:
		sess = tls_relay_dgram_get(w, v->sess_slot, v->sess_gen);
		if (!sess) {
			ast(w)->da_failed++;
			icmp_to_client(w, e, gw, 3, AP_UNREACH_HOST, 0);
			ent_free(w, d, slot);
			return;
		}
		e->state = DA_BOUND;
		d->n_waiting--;
		e->sess_slot = v->sess_slot;
		e->sess_gen = v->sess_gen;
		e->relay_port = v->relay_port;
		ast(w)->da_bound++;
		for (unsigned int j = 0; j < e->n_held; j++)
			send_up(w, d, e, sess, e->held[j]);
		e->n_held = 0;
		return;
	case AP_RES_REFUSE:
		/* the agent's policy: its datagrams are dropped for a while,
		 * silently, as the site's firewall would */
		for (unsigned int j = 0; j < e->n_held; j++)
			worker_drop(w, e->held[j], SL_DROP_DA_DISCARD);
		e->n_held = 0;
		e->state = DA_DISCARD;
		e->since_ms = w->tcp->now_ms;
		ast(w)->da_refused++;
		return;
	case AP_RES_UNREACHABLE:
		ast(w)->da_failed++;
		icmp_to_client(w, e, gw, 3, v->code, 0);
		ent_free(w, d, slot);
		return;
	default:
		ast(w)->da_failed++;
		icmp_to_client(w, e, gw, 3, AP_UNREACH_HOST, 0);
		ent_free(w, d, slot);
		return;
	}
}

void udp_da_end(struct worker *w, uint32_t slot, uint32_t gen)
{
	struct udp_da *d = w->da;

	if (!d || !ent_get(d, slot, gen))
		return; /* ended here already */
	ast(w)->da_ended++;
	ent_free(w, d, slot);
}

/* --- agent -> client ------------------------------------------------------------ */

/* An IPv4 packet built here gets its Ethernet header (l2_output fills in
 * the addresses, not the type). */
static int eth_prepend(struct rte_mbuf *m)
{
	struct rte_ether_hdr *eh = (struct rte_ether_hdr *)rte_pktmbuf_prepend(m, RTE_ETHER_HDR_LEN);

	if (!eh)
		return -ENOBUFS;
	eh->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV4);
	return 0;
}

/* The server's datagram as UDP from its address and port to the client,
 * in fragments when it is larger than the client side's MTU. */
static void deliver(struct worker *w, struct udp_da *d, const struct da_ent *e,
		    const uint8_t *p, uint32_t plen)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(w->pool), *seg = m;
	struct rte_mbuf *out[FRAG_MAX];
	struct rte_ipv4_hdr *ip;
	struct rte_udp_hdr *uh;
	uint32_t left = plen, mtu = dp.ports[e->in_port].mtu ? dp.ports[e->in_port].mtu : 1500;
	uint32_t tlen = 20 + 8 + plen;
	int32_t n;

	if (!m)
		goto nomem;
	ip = (struct rte_ipv4_hdr *)rte_pktmbuf_append(m, 28);
	uh = (struct rte_udp_hdr *)(ip + 1);
	while (left) {
		uint16_t room = rte_pktmbuf_tailroom(seg);
		uint32_t k = left < room ? left : room;

		if (k == 0) {
			struct rte_mbuf *nx = rte_pktmbuf_alloc(w->pool);

			if (!nx || rte_pktmbuf_chain(m, nx) != 0) {
				rte_pktmbuf_free(nx);
				goto nomem;
			}
			seg = nx;
			continue;
		}
		memcpy(rte_pktmbuf_mtod_offset(seg, uint8_t *, seg->data_len), p, k);
		seg->data_len = (uint16_t)(seg->data_len + k);
		m->pkt_len += k;
		p += k;
		left -= k;
	}
	*ip = (struct rte_ipv4_hdr){
		.version_ihl = 0x45, .total_length = rte_cpu_to_be_16((uint16_t)tlen),
		.packet_id = rte_cpu_to_be_16(d->ip_id++), .time_to_live = 64,
		.next_proto_id = IPPROTO_UDP, .src_addr = rte_cpu_to_be_32(e->k.dst),
		.dst_addr = rte_cpu_to_be_32(e->k.src),
	};
	*uh = (struct rte_udp_hdr){ .src_port = rte_cpu_to_be_16(e->k.dport),
				    .dst_port = rte_cpu_to_be_16(e->k.sport),
				    .dgram_len = rte_cpu_to_be_16((uint16_t)(8 + plen)) };
	uh->dgram_cksum = rte_ipv4_udptcp_cksum_mbuf(m, ip, 20);
	if (uh->dgram_cksum == 0)
		uh->dgram_cksum = 0xffff; /* RFC 768: a computed 0 is sent as all ones */
	ast(w)->dgram_down++;
	ast(w)->dgram_down_bytes += plen;
	if (tlen <= mtu) {
		ip->hdr_checksum = rte_ipv4_cksum(ip);
		if (eth_prepend(m) != 0)
			goto nomem;
		ipv4_output(w, m);
		return;
	}
	/* RFC 791 fragmentation (DPDK's): the payload is shared by indirect
	 * mbufs, each fragment gets its own header */
	n = rte_ipv4_fragment_packet(m, out, FRAG_MAX, (uint16_t)mtu, w->pool, w->pool);
	rte_pktmbuf_free(m);
	if (n < 0) {
		w->st->drops[SL_DROP_NOMBUF]++;
		return;
	}
	for (int32_t j = 0; j < n; j++) {
		struct rte_ipv4_hdr *fh = rte_pktmbuf_mtod(out[j], struct rte_ipv4_hdr *);

		fh->hdr_checksum = 0;
		fh->hdr_checksum = rte_ipv4_cksum(fh);
		if (eth_prepend(out[j]) != 0) {
			worker_drop(w, out[j], SL_DROP_NOMBUF);
			continue;
		}
		ast(w)->udp_frags_out++;
		ipv4_output(w, out[j]);
	}
	return;
nomem:
	rte_pktmbuf_free(m);
	w->st->drops[SL_DROP_NOMBUF]++;
}

static struct da_ent *frame_da(struct worker *w, struct udp_da *d, uint32_t id, uint32_t sess_slot)
{
	uint32_t slot = SL_DA_SLOT(id);
	struct da_ent *e;

	if (SL_DA_WORKER(id) != w->idx || slot >= d->max)
		return NULL;
	e = &d->e[slot];
	if (e->state != DA_BOUND || (e->gen & 0xff) != SL_DA_GEN8(id) || e->sess_slot != sess_slot)
		return NULL;
	return e;
}

int udp_da_frame(struct worker *w, uint32_t sess_slot, const uint8_t *f, uint32_t n,
		 uint32_t *credit)
{
	struct udp_da *d = w->da;
	struct ap_dmsg msg;
	struct da_ent *e;
	size_t used;
	const char *why;

	if (!d || ap_dparse(f, n, &msg, &used, &why) != 0 || used != n ||
	    !ap_ddir_ok(msg.type, AP_FROM_AGENT)) {
		w->st->drops[SL_DROP_DGRAM_BAD]++;
		return -EBADMSG;
	}
	switch (msg.type) {
	case AP_D_CREDIT:
		*credit += msg.credit;
		ast(w)->credits += msg.credit;
		return 0;
	case AP_D_DATA:
		e = frame_da(w, d, msg.da, sess_slot);
		if (!e) {
			w->st->drops[SL_DROP_DGRAM_NO_DA]++;
			return 0;
		}
		deliver(w, d, e, msg.data, msg.len);
		return 0;
	case AP_D_ICMP:
		e = frame_da(w, d, msg.da, sess_slot);
		if (!e) {
			w->st->drops[SL_DROP_DGRAM_NO_DA]++;
			return 0;
		}
		/* from the router that reported it, else from the server */
		icmp_to_client(w, e, msg.from ? msg.from : e->k.dst, msg.icmp_type,
			       msg.icmp_code, msg.mtu);
		ast(w)->dgram_icmp++;
		return 0;
	default:
		w->st->drops[SL_DROP_DGRAM_BAD]++;
		return -EBADMSG;
	}
}

/* --- fragments ---------------------------------------------------------------------- */

struct rte_mbuf *udp_da_reasm(struct worker *w, struct rte_mbuf *m)
{
	struct udp_da *d = w->da;
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, RTE_ETHER_HDR_LEN);
	struct rte_mbuf *r;

	m->l2_len = RTE_ETHER_HDR_LEN;
	m->l3_len = (ip->version_ihl & 0xf) * 4u;
	r = rte_ipv4_frag_reassemble_packet(d->frag, &d->dr, m, w->now_tsc, ip);
	if (d->dr.cnt) {
		w->st->drops[SL_DROP_UDP_REASM] += d->dr.cnt;
		rte_ip_frag_free_death_row(&d->dr, 0);
	}
	if (r)
		ast(w)->udp_reasm++;
	return r;
}

/* --- timers ------------------------------------------------------------------------ */

void udp_da_poll(struct worker *w)
{
	struct udp_da *d = w->da;
	uint32_t now;

	if (!d)
		return;
	now = w->tcp->now_ms;
	if (now - d->scan_ms < DA_SCAN_MS)
		return;
	d->scan_ms = now;
	rte_ip_frag_table_del_expired_entries(d->frag, &d->dr, w->now_tsc);
	if (d->dr.cnt) {
		w->st->drops[SL_DROP_UDP_REASM] += d->dr.cnt;
		rte_ip_frag_free_death_row(&d->dr, 0);
	}
	if (!d->n_waiting)
		return;
	for (uint32_t i = 0; i < d->max; i++) {
		struct da_ent *e = &d->e[i];

		if (e->state == DA_OFFERED && now - e->since_ms >= d->hold_ms) {
			/* the network gave no answer: as for a held SYN */
			ast(w)->timeouts++;
			icmp_to_client(w, e, agent_dp_vnet_gateway(w, e->k.vnet), 3, AP_UNREACH_HOST, 0);
			ent_free(w, d, i);
		} else if (e->state == DA_DISCARD && now - e->since_ms >= d->discard_ms) {
			ent_free(w, d, i);
		}
	}
}

int udp_da_init(struct worker *w)
{
	const struct sl_agents_conf *c = &dp.conf->agents;
	int socket = (int)rte_lcore_to_socket_id(w->lcore_id);
	char name[RTE_HASH_NAMESIZE];
	struct rte_hash_parameters hp = {
		.name = name, .entries = c->da_max < 8 ? 8 : c->da_max,
		.key_len = sizeof(struct da_key), .hash_func = rte_jhash, .socket_id = socket,
	};
	struct udp_da *d;
	uint64_t cyc;

	if (!c->enabled)
		return 0;
	d = rte_zmalloc_socket("sl_udp_da", sizeof(*d), RTE_CACHE_LINE_SIZE, socket);
	if (!d)
		return -ENOMEM;
	snprintf(name, sizeof(name), "sl_da_w%u", w->idx);
	d->h = rte_hash_create(&hp);
	d->max = c->da_max;
	d->e = rte_zmalloc_socket("sl_da_ent", d->max * sizeof(*d->e), RTE_CACHE_LINE_SIZE, socket);
	d->free = rte_malloc_socket("sl_da_free", d->max * sizeof(uint32_t), 0, socket);
	/* rte_ip_frag counts its timeout in TSC cycles */
	cyc = (rte_get_tsc_hz() + 999) / 1000 * c->udp_reasm_ms;
	d->frag = rte_ip_frag_table_create(REASM_BUCKETS, RTE_LIBRTE_IP_FRAG_MAX_FRAG,
					   REASM_ENTRIES, cyc, socket);
	if (!d->h || !d->e || !d->free || !d->frag)
		return -ENOMEM;
	for (uint32_t i = 0; i < d->max; i++)
		d->free[i] = d->max - 1 - i;
	d->n_free = d->max;
	d->hold = c->da_hold < DA_HOLD_MAX ? c->da_hold : DA_HOLD_MAX;
	d->hold_ms = c->hold_timeout_ms;
	d->discard_ms = c->da_discard_ms;
	w->da = d;
	return 0;
}
