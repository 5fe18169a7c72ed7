/*
 * `show agents`, `show vnets`, `show held`, `agent kick` (S4).  Agents come
 * from sluice-cp's own state (agent_rt.h, under A.mu); held SYNs from each
 * worker's table in shared memory (dataplane/agent/held_tab.h), read as
 * gen-checked copies.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <rte_memzone.h>

#include "../../dataplane/agent/agent_dp.h"
#include "../../dataplane/agent/held_tab.h"
#include "agent_rt.h"
#include "cmds/cmds.h"
#include "cmds/table.h"
#include "conf.h"

static void ip_str(uint32_t ip, char buf[16])
{
	sl_format_ipv4(ip, buf, 16);
}

static const char *vnet_name(unsigned int v)
{
	return A.conf && v < A.conf->n_vnets ? A.conf->vnets[v].name : "?";
}

static const char *const dp_stat_name[] = {
#define X(name, kind, help) #name,
	SL_AGENT_STATS(X)
#undef X
};
#define N_DP_STATS (sizeof(dp_stat_name) / sizeof(dp_stat_name[0]))
_Static_assert(sizeof(struct sl_agent_stats) == N_DP_STATS * sizeof(uint64_t),
	       "struct sl_agent_stats is the X-macro's uint64_t fields, in order");

/* The workers' S4 counters, summed. */
static void dp_stats(const struct cmd_ctx *c, uint64_t v[N_DP_STATS])
{
	memset(v, 0, N_DP_STATS * sizeof(v[0]));
	for (unsigned int w = 0; w < c->dp->n_workers; w++) {
		const uint64_t *src = (const uint64_t *)&c->dp->shm->lcore[w].st.agent;

		for (unsigned int i = 0; i < N_DP_STATS; i++)
			v[i] += __atomic_load_n(&src[i], __ATOMIC_RELAXED);
	}
}

int cmd_show_agents(struct cmd_ctx *c, int argc, char *argv[])
{
	uint64_t dv[N_DP_STATS];
	static const char *const hdr[] = { "name", "vnet", "state", "address", ">since_s",
					   ">rtt_ms", ">pool", ">bound", ">offers", ">ok",
					   ">refused", ">unreach", ">timeouts", ">pings" };
	struct tbl t;
	uint32_t rows = 0;
	time_t now = time(NULL);

	if (cmd_no_args(c, argc, argv))
		return -1;
	if (c->json) {
		json_obj(&c->j, NULL);
		json_arr(&c->j, "agents");
	} else {
		tbl_init(&t, sizeof(hdr) / sizeof(hdr[0]), hdr);
	}
	pthread_mutex_lock(&A.mu);
	for (unsigned int i = 0; i < A.n_agents; i++) {
		const struct agent_rt *ag = &A.ag[i];
		unsigned int idle = 0, bound = 0, idle_w[SL_MAX_WORKERS] = { 0 };

		for (unsigned int k = 0; k < ag->n_st; k++) {
			idle += ag->st[k].state == ST_IDLE;
			bound += ag->st[k].state == ST_BOUND;
			if (ag->st[k].state == ST_IDLE && ag->st[k].c.worker < SL_MAX_WORKERS)
				idle_w[ag->st[k].c.worker]++;
		}
		rows++;
		if (c->json) {
			json_obj(&c->j, NULL);
			json_str(&c->j, "name", ag->name);
			json_str(&c->j, "vnet", vnet_name(ag->vnet));
			json_bool(&c->j, "connected", ag->ssl != NULL);
			json_str(&c->j, "address", ag->ssl ? ag->addr : "");
			json_u64(&c->j, "connected_since", ag->ssl ? ag->since : 0);
			json_u64(&c->j, "rtt_ms", ag->rtt_ms);
			json_str(&c->j, "software", ag->sw);
			json_u64(&c->j, "pool_idle", idle);
			/* where the idle sessions are: a relay needs one on
			 * the worker that owns its client flow */
			json_arr(&c->j, "pool_idle_by_worker");
			for (unsigned int w = 0; w < A.n_workers && w < SL_MAX_WORKERS; w++)
				json_u64(&c->j, NULL, idle_w[w]);
			json_close(&c->j);
			json_u64(&c->j, "retires", ag->retires);
			json_u64(&c->j, "retire_aborts", ag->retire_aborts);
			json_u64(&c->j, "streams_bound", bound);
			json_u64(&c->j, "streams", ag->n_st);
			json_u64(&c->j, "streams_total", ag->streams_total);
			json_u64(&c->j, "sessions", ag->sessions);
			json_u64(&c->j, "losses", ag->losses);
			json_u64(&c->j, "offers", ag->offers);
			json_u64(&c->j, "ok", ag->ok);
			json_u64(&c->j, "refused", ag->refused);
			json_u64(&c->j, "unreachable", ag->unreachable);
			json_u64(&c->j, "timeouts", ag->timeouts);
			json_u64(&c->j, "busy", ag->busy);
			json_u64(&c->j, "other_answers", ag->other);
			json_u64(&c->j, "late_answers", ag->late);
			json_u64(&c->j, "not_connected", ag->no_session);
			json_u64(&c->j, "waited_for_stream", ag->waited);
			json_u64(&c->j, "pings", ag->pings);
			json_u64(&c->j, "pings_answered", ag->pings_answered);
			json_u64(&c->j, "messages_in", ag->rx_msgs);
			json_u64(&c->j, "messages_out", ag->tx_msgs);
			json_u64(&c->j, "malformed", ag->malformed);
			json_u64(&c->j, "errors_sent", ag->errors_sent);
			json_close(&c->j);
		} else {
			tbl_cell(&t, "%s", ag->name);
			tbl_cell(&t, "%s", vnet_name(ag->vnet));
			tbl_cell(&t, "%s", ag->ssl ? (ag->hello ? "up" : "hello") : "down");
			tbl_cell(&t, "%s", ag->ssl ? ag->addr : "-");
			tbl_cell(&t, "%ld", ag->ssl ? (long)(now - (time_t)ag->since) : 0L);
			tbl_cell(&t, "%u", ag->rtt_ms);
			tbl_cell(&t, "%u", idle);
			tbl_cell(&t, "%u", bound);
			tbl_cell(&t, "%lu", (unsigned long)ag->offers);
			tbl_cell(&t, "%lu", (unsigned long)ag->ok);
			tbl_cell(&t, "%lu", (unsigned long)ag->refused);
			tbl_cell(&t, "%lu", (unsigned long)ag->unreachable);
			tbl_cell(&t, "%lu", (unsigned long)ag->timeouts);
			tbl_cell(&t, "%lu", (unsigned long)ag->pings);
		}
	}
	pthread_mutex_unlock(&A.mu);
	dp_stats(c, dv);
	if (c->json) {
		/* the agents list, then the workers' side of it */
		json_close(&c->j);
		json_obj(&c->j, "workers");
		for (unsigned int i = 0; i < N_DP_STATS; i++)
			json_u64(&c->j, dp_stat_name[i], dv[i]);
		json_close(&c->j);
		json_close(&c->j);
		return 0;
	}
	cmd_list_end(c, &t, rows, "no agents configured");
	sbuf_printf(c->out, "workers:");
	for (unsigned int i = 0; i < N_DP_STATS; i++)
		sbuf_printf(c->out, "%s %s %lu", i ? "," : "", dp_stat_name[i], (unsigned long)dv[i]);
	sbuf_printf(c->out, "\n");
	return 0;
}

int cmd_show_vnets(struct cmd_ctx *c, int argc, char *argv[])
{
	static const char *const hdr[] = { "name", "clients", "gateway", "routes", "agents",
					   ">acl_rules" };
	const struct sl_conf *cf = A.conf;
	struct tbl t;
	uint32_t rows = 0;
	char ip[16], buf[512];

	if (cmd_no_args(c, argc, argv))
		return -1;
	if (c->json) {
		json_obj(&c->j, NULL);
		json_arr(&c->j, "vnets");
	} else {
		tbl_init(&t, sizeof(hdr) / sizeof(hdr[0]), hdr);
	}
	for (unsigned int v = 0; cf && v < cf->n_vnets; v++) {
		const struct sl_vnet_def *d = &cf->vnets[v];
		unsigned int n_acl = 0;
		size_t o;

		for (unsigned int k = 0; k < cf->n_acl; k++)
			n_acl += cf->acl[k].vnet == v;
		rows++;
		ip_str(d->gateway, ip);
		if (c->json) {
			json_obj(&c->j, NULL);
			json_str(&c->j, "name", d->name);
			json_str(&c->j, "gateway", ip);
			json_arr(&c->j, "clients");
			for (unsigned int k = 0; k < d->n_clients; k++) {
				ip_str(d->clients[k].prefix, ip);
				snprintf(buf, sizeof(buf), "%s/%u", ip, d->clients[k].plen);
				json_str(&c->j, NULL, buf);
			}
			json_close(&c->j);
			json_arr(&c->j, "routes");
			for (unsigned int k = 0; k < d->n_routes; k++) {
				json_obj(&c->j, NULL);
				ip_str(d->routes[k].prefix, ip);
				snprintf(buf, sizeof(buf), "%s/%u", ip, d->routes[k].plen);
				json_str(&c->j, "dst", buf);
				json_str(&c->j, "agent", cf->agent_defs[d->routes[k].agent].name);
				json_close(&c->j);
			}
			json_close(&c->j);
			json_arr(&c->j, "agents");
			for (unsigned int k = 0; k < cf->n_agents; k++)
				if (cf->agent_defs[k].vnet == v)
					json_str(&c->j, NULL, cf->agent_defs[k].name);
			json_close(&c->j);
			json_u64(&c->j, "acl_rules", n_acl);
			json_close(&c->j);
		} else {
			tbl_cell(&t, "%s", d->name);
			buf[0] = '\0';
			for (unsigned int k = 0, o2 = 0; k < d->n_clients && o2 < sizeof(buf) - 40; k++) {
				ip_str(d->clients[k].prefix, ip);
				o2 += (unsigned int)snprintf(buf + o2, sizeof(buf) - o2, "%s%s/%u",
							    k ? "," : "", ip, d->clients[k].plen);
			}
			tbl_cell(&t, "%s", buf);
			ip_str(d->gateway, ip);
			tbl_cell(&t, "%s", ip);
			o = 0;
			buf[0] = '\0';
			for (unsigned int k = 0; k < d->n_routes && o < sizeof(buf) - 100; k++) {
				ip_str(d->routes[k].prefix, ip);
				o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%s/%u>%s", k ? "," : "",
						      ip, d->routes[k].plen,
						      cf->agent_defs[d->routes[k].agent].name);
			}
			tbl_cell(&t, "%s", buf[0] ? buf : "-");
			o = 0;
			buf[0] = '\0';
			for (unsigned int k = 0; k < cf->n_agents && o < sizeof(buf) - 80; k++)
				if (cf->agent_defs[k].vnet == v)
					o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%s",
							      o ? "," : "", cf->agent_defs[k].name);
			tbl_cell(&t, "%s", buf[0] ? buf : "-");
			tbl_cell(&t, "%u", n_acl);
		}
	}
	cmd_list_end(c, c->json ? NULL : &t, rows, "no vnets configured");
	return 0;
}

int cmd_show_held(struct cmd_ctx *c, int argc, char *argv[])
{
	static const char *const hdr[] = { ">worker", "vnet", "client", "server", "agent",
					   ">age_ms", ">retrans" };
	struct tbl t;
	uint32_t rows = 0, shown_max = 1000;
	uint64_t now_tsc = 0;

	if (cmd_no_args(c, argc, argv))
		return -1;
	(void)now_tsc;
	if (c->json) {
		json_obj(&c->j, NULL);
		json_arr(&c->j, "held");
	} else {
		tbl_init(&t, sizeof(hdr) / sizeof(hdr[0]), hdr);
	}
	for (unsigned int w = 0; w < c->dp->n_workers; w++) {
		char name[RTE_MEMZONE_NAMESIZE], a[16], b[16], ep[48];
		const struct rte_memzone *mz;
		const struct held_tab *ht;
		const struct held_ent *e;
		/* the worker's TCP clock, which the entries carry too */
		uint32_t now_ms = 0;

		snprintf(name, sizeof(name), SL_HELD_ZONE_FMT, w);
		mz = rte_memzone_lookup(name);
		if (!mz)
			continue;
		ht = mz->addr;
		if (ht->magic != HELD_MAGIC)
			continue;
		now_ms = __atomic_load_n(&ht->now_ms, __ATOMIC_RELAXED);
		e = held_ents(ht);
		for (uint32_t i = 0; i < ht->cap && rows < shown_max; i++) {
			struct held_ent x;
			uint32_t g = __atomic_load_n(&e[i].gen, __ATOMIC_ACQUIRE);

			if ((g & 1) || !e[i].used)
				continue;
			memcpy(&x, &e[i], sizeof(x));
			if (__atomic_load_n(&e[i].gen, __ATOMIC_ACQUIRE) != g || !x.used)
				continue;
			rows++;
			ip_str(x.k.src, a);
			ip_str(x.k.dst, b);
			if (c->json) {
				json_obj(&c->j, NULL);
				json_u64(&c->j, "worker", w);
				json_str(&c->j, "vnet", vnet_name(x.vnet));
				json_str(&c->j, "client", a);
				json_u64(&c->j, "client_port", x.k.sport);
				json_str(&c->j, "server", b);
				json_u64(&c->j, "server_port", x.k.dport);
				json_str(&c->j, "agent", A.conf && x.agent < A.conf->n_agents ?
								A.conf->agent_defs[x.agent].name : "?");
				json_u64(&c->j, "age_ms", now_ms - x.born_ms);
				json_u64(&c->j, "retransmits", x.retrans);
				json_close(&c->j);
			} else {
				tbl_cell(&t, "%u", w);
				tbl_cell(&t, "%s", vnet_name(x.vnet));
				snprintf(ep, sizeof(ep), "%s:%u", a, x.k.sport);
				tbl_cell(&t, "%s", ep);
				snprintf(ep, sizeof(ep), "%s:%u", b, x.k.dport);
				tbl_cell(&t, "%s", ep);
				tbl_cell(&t, "%s", A.conf && x.agent < A.conf->n_agents ?
							   A.conf->agent_defs[x.agent].name : "?");
				tbl_cell(&t, "%u", now_ms - x.born_ms);
				tbl_cell(&t, "%u", x.retrans);
			}
		}
	}
	cmd_list_end(c, c->json ? NULL : &t, rows, "no SYNs held");
	return 0;
}

int cmd_agent_kick(struct cmd_ctx *c, int argc, char *argv[])
{
	int found = -1, up = 0;

	if (argc != 1)
		return cmd_err(c, "usage: agent kick NAME");
	pthread_mutex_lock(&A.mu);
	for (unsigned int i = 0; i < A.n_agents; i++)
		if (strcmp(A.ag[i].name, argv[0]) == 0) {
			found = (int)i;
			up = A.ag[i].ssl != NULL;
			if (up)
				A.ag[i].kick = 1; /* the handshake thread ends it */
		}
	pthread_mutex_unlock(&A.mu);
	if (found < 0)
		return cmd_err(c, "no agent '%s' (agents are listed by `show agents`)", argv[0]);
	if (!up)
		return cmd_err(c, "agent '%s' is not connected", argv[0]);
	return cmd_ok(c);
}
