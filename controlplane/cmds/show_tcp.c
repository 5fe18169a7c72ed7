/*
 * show tcp / show flows: the workers' TCP stacks, from shared memory.
 *
 * Counters are `struct sl_tcp_stats` in each worker's lcore slot (the
 * SL_TCP_STATS X-macro names them, so a new counter shows up here by itself).
 * Connections are in one memzone per worker (SL_FLOW_ZONE_FMT), which only a
 * worker with a TCP stack creates; the worker rewrites entries without locks,
 * so every entry is read under its `gen` (shm.h).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_memzone.h>

#include "conf.h"
#include "tcp/tcp_fsm.h"

#include "cmds.h"
#include "table.h"

#define FLOWS_COUNT_DEFAULT 100
#define FLOWS_COUNT_MAX 1000

/* --- the flow zones ---------------------------------------------------- */

/* Worker w's connection table, or NULL when that worker has no TCP stack:
 * no memzone, or one that is not (yet) a consistent flow zone. */
static const struct sl_flow_zone *flow_zone(unsigned int w)
{
	char name[RTE_MEMZONE_NAMESIZE];
	const struct rte_memzone *mz;
	const struct sl_flow_zone *z;

	snprintf(name, sizeof(name), SL_FLOW_ZONE_FMT, w);
	mz = rte_memzone_lookup(name);
	if (mz == NULL || mz->addr == NULL || mz->len < sizeof(*z))
		return NULL;
	z = mz->addr;
	/* the worker sets magic after the geometry */
	if (__atomic_load_n(&z->magic, __ATOMIC_ACQUIRE) != SL_FLOW_MAGIC)
		return NULL;
	/* never trust a size to walk memory with: it must fit the memzone */
	if (z->stride < sizeof(struct sl_flow_ent) ||
	    (uint64_t)z->n_slots * z->stride > mz->len - sizeof(*z))
		return NULL;
	return z;
}

/* Copy slot `slot` of z into *e: true when it holds a connection and the copy
 * is consistent (gen even and unchanged across the copy: a slot being taken
 * or freed has an odd gen, shm.h). */
static bool flow_read(const struct sl_flow_zone *z, uint32_t slot, struct sl_flow_ent *e)
{
	const struct sl_flow_ent *src = (const void *)(z->slots + (size_t)slot * z->stride);
	uint32_t g1, g2;

	g1 = __atomic_load_n(&src->gen, __ATOMIC_ACQUIRE);
	if (g1 & 1)
		return false;
	/* most slots of a big table are free: no copy for those */
	if (__atomic_load_n(&src->state, __ATOMIC_RELAXED) == 0)
		return false;
	memcpy(e, src, sizeof(*e));
	/* the copy's loads complete before gen is read again (seqlock reader) */
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	g2 = __atomic_load_n(&src->gen, __ATOMIC_RELAXED);
	return g1 == g2 && e->state != 0;
}

static const char *role_str(unsigned int role)
{
	switch (role) {
	case SL_FLOW_CLIENT_LEG: return "client";
	case SL_FLOW_SERVER_LEG: return "server";
	default: return "?";
	}
}

/* --- show tcp ---------------------------------------------------------- */

static const char *const tcp_stat_name[] = {
#define X(name, kind, help) #name,
	SL_TCP_STATS(X)
#undef X
};
static const char *const tcp_stat_help[] = {
#define X(name, kind, help) help,
	SL_TCP_STATS(X)
#undef X
};
#define N_TCP_STATS (sizeof(tcp_stat_name) / sizeof(tcp_stat_name[0]))
_Static_assert(sizeof(struct sl_tcp_stats) == N_TCP_STATS * sizeof(uint64_t),
	       "struct sl_tcp_stats is the X-macro's uint64_t fields, in order");

/* Worker w's TCP counters, each read relaxed (its owner writes them). */
static void tcp_stats_read(const struct dp_link *dp, unsigned int w, uint64_t v[N_TCP_STATS])
{
	const uint64_t *src = (const uint64_t *)&dp->shm->lcore[w].st.tcp;

	for (unsigned int i = 0; i < N_TCP_STATS; i++)
		v[i] = RD(src[i]);
}

int cmd_show_tcp(struct cmd_ctx *c, int argc, char *argv[])
{
	static const char *const hdr[] = { "counter", ">value", "description" };
	struct dp_link *dp = c->dp;
	uint64_t total[N_TCP_STATS] = { 0 }, v[N_TCP_STATS], flow_slots = 0;
	uint32_t conn_bytes = 0;
	unsigned int w, i, n_stacks = 0;
	struct tbl t;

	if (cmd_no_args(c, argc, argv))
		return -1;
	for (w = 0; w < dp->n_workers; w++) {
		const struct sl_flow_zone *z = flow_zone(w);

		tcp_stats_read(dp, w, v);
		for (i = 0; i < N_TCP_STATS; i++)
			total[i] += v[i];
		if (z != NULL) {
			n_stacks++;
			flow_slots += z->n_slots;
			if (conn_bytes == 0)
				conn_bytes = z->conn_bytes;
		}
	}
	if (c->json) {
		json_obj(&c->j, NULL);
		for (i = 0; i < N_TCP_STATS; i++)
			json_u64(&c->j, tcp_stat_name[i], total[i]);
		json_u64(&c->j, "conn_bytes", conn_bytes);
		json_u64(&c->j, "flow_slots", flow_slots);
		json_arr(&c->j, "per_worker");
		for (w = 0; w < dp->n_workers; w++) {
			const struct sl_flow_zone *z = flow_zone(w);

			tcp_stats_read(dp, w, v);
			json_obj(&c->j, NULL);
			json_u64(&c->j, "worker", w);
			json_u64(&c->j, "flow_slots", z ? z->n_slots : 0);
			for (i = 0; i < N_TCP_STATS; i++)
				json_u64(&c->j, tcp_stat_name[i], v[i]);
			json_close(&c->j);
		}
		json_close(&c->j);
		json_close(&c->j);
		return 0;
	}
	tbl_init(&t, 3, hdr);
	for (i = 0; i < N_TCP_STATS; i++) {
		tbl_cell(&t, "%s", tcp_stat_name[i]);
		tbl_cell(&t, "%llu", (unsigned long long)total[i]);
		tbl_cell(&t, "%s", tcp_stat_help[i]);
	}
	tbl_print(&t, c->out, "");
	tbl_free(&t);
	if (n_stacks == 0)
		sbuf_puts(c->out, "\nno worker has a TCP stack (no proxy in this data plane)\n");
	else
		sbuf_printf(c->out, "\nconnection slots %llu on %u of %u workers, %u bytes per connection\n",
			    (unsigned long long)flow_slots, n_stacks, dp->n_workers, conn_bytes);
	return 0;
}

/* --- show flows -------------------------------------------------------- */

/* A decimal argument in min..max; "-1", " 1" and "+1" (which strtoull
 * takes) are refused. */
static int parse_num(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (s[0] < '0' || s[0] > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (*end != '\0' || errno != 0 || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static void fmt_ep(char *buf, size_t len, uint32_t addr, uint16_t port)
{
	char a[16];

	sl_format_ipv4(addr, a, sizeof(a));
	snprintf(buf, len, "%s:%u", a, port);
}

int cmd_show_flows(struct cmd_ctx *c, int argc, char *argv[])
{
	static const char *const hdr[] = {
		">worker", ">slot", "state", "role", "dev", "local", "remote", ">peer", ">rule",
		">bytes in", ">bytes out", ">age" };
	struct dp_link *dp = c->dp;
	uint64_t from = 0, count = FLOWS_COUNT_DEFAULT, shown = 0;
	uint64_t base = 0, total = 0, next = 0, now = rte_rdtsc();
	uint64_t hz = dp->shm->tsc_hz;
	bool have_next = false;
	struct tbl t;
	int i;

	for (i = 0; i < argc; i += 2) {
		if (i + 1 >= argc)
			return cmd_err(c, "'%s' needs a value; usage: show flows %s", argv[i],
				       SHOW_FLOWS_USAGE);
		if (strcmp(argv[i], "from") == 0) {
			if (parse_num(argv[i + 1], 0, UINT64_MAX, &from))
				return cmd_err(c, "invalid from '%s' (want a flow index: 0, or the "
					       "\"next\" of the previous page)", argv[i + 1]);
		} else if (strcmp(argv[i], "count") == 0) {
			if (parse_num(argv[i + 1], 1, FLOWS_COUNT_MAX, &count))
				return cmd_err(c, "invalid count '%s' (want 1..%u)", argv[i + 1],
					       FLOWS_COUNT_MAX);
		} else {
			return cmd_err(c, "unexpected '%s'; usage: show flows %s", argv[i],
				       SHOW_FLOWS_USAGE);
		}
	}
	if (c->json) {
		json_obj(&c->j, NULL);
		json_arr(&c->j, "flows");
	} else {
		tbl_init(&t, 12, hdr);
	}
	/* flow index = the slot's position over every worker's table, in
	 * worker order: stable while connections come and go, so a cursor
	 * neither repeats nor skips a connection that stays */
	for (unsigned int w = 0; w < dp->n_workers; w++) {
		const struct sl_flow_zone *z = flow_zone(w);

		if (z == NULL)
			continue;
		for (uint32_t s = 0; s < z->n_slots; s++) {
			uint64_t idx = base + s;
			struct sl_flow_ent e;
			char local[24], remote[24], dev[SL_NAME_LEN + 1];
			double age;

			if (!flow_read(z, s, &e))
				continue;
			total++;
			if (idx < from)
				continue;
			if (shown == count) {
				if (!have_next) {
					have_next = true;
					next = idx;
				}
				continue;
			}
			shown++;
			fmt_ep(local, sizeof(local), e.laddr, e.lport);
			fmt_ep(remote, sizeof(remote), e.raddr, e.rport);
			cmd_port_name(c, e.port, dev, sizeof(dev));
			age = hz && now > e.start_tsc ? (double)(now - e.start_tsc) / (double)hz : 0.0;
			if (c->json) {
				json_obj(&c->j, NULL);
				json_u64(&c->j, "index", idx);
				json_u64(&c->j, "worker", w);
				json_u64(&c->j, "slot", s);
				json_str(&c->j, "state", tcp_state_str(e.state));
				json_str(&c->j, "role", role_str(e.role));
				json_u64(&c->j, "port", e.port);
				json_str(&c->j, "dev", dev);
				json_str(&c->j, "local", local);
				json_u64(&c->j, "lport", e.lport);
				json_str(&c->j, "remote", remote);
				json_u64(&c->j, "rport", e.rport);
				if (e.peer == UINT32_MAX)
					json_null(&c->j, "peer");
				else
					json_u64(&c->j, "peer", e.peer);
				json_u64(&c->j, "rule_id", e.rule_id);
				json_u64(&c->j, "bytes_in", e.bytes_in);
				json_u64(&c->j, "bytes_out", e.bytes_out);
				json_double(&c->j, "age_s", age, 3);
				json_close(&c->j);
			} else {
				tbl_cell(&t, "%u", w);
				tbl_cell(&t, "%u", s);
				tbl_cell(&t, "%s", tcp_state_str(e.state));
				tbl_cell(&t, "%s", role_str(e.role));
				tbl_cell(&t, "%s", dev);
				tbl_cell(&t, "%s", local);
				tbl_cell(&t, "%s", remote);
				if (e.peer == UINT32_MAX)
					tbl_cell(&t, "-");
				else
					tbl_cell(&t, "%u", e.peer);
				tbl_cell(&t, "%u", e.rule_id);
				tbl_cell(&t, "%llu", (unsigned long long)e.bytes_in);
				tbl_cell(&t, "%llu", (unsigned long long)e.bytes_out);
				tbl_cell(&t, "%.1fs", age);
			}
		}
		base += z->n_slots;
	}
	if (c->json) {
		json_close(&c->j);
		if (have_next)
			json_u64(&c->j, "next", next);
		else
			json_null(&c->j, "next");
		json_u64(&c->j, "total_in_use", total);
		json_close(&c->j);
		return 0;
	}
	if (shown)
		tbl_print(&t, c->out, "");
	tbl_free(&t);
	if (total == 0)
		sbuf_puts(c->out, "no TCP connections\n");
	else if (shown == 0)
		sbuf_printf(c->out, "no TCP connections from index %llu on (%llu in use)\n",
			    (unsigned long long)from, (unsigned long long)total);
	else
		sbuf_printf(c->out, "%llu shown, %llu in use\n", (unsigned long long)shown,
			    (unsigned long long)total);
	if (have_next)
		sbuf_printf(c->out, "more: show flows from %llu count %llu\n",
			    (unsigned long long)next, (unsigned long long)count);
	return 0;
}
