/*
 * `show sa`, `show das`, `sa flush` (agent_sa.h): read the SA and DA tables
 * under A.mu on the command thread; a flush only marks the SAs, and the
 * handshake thread's tick deletes them (it owns the sessions).
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_rt.h"
#include "agent_sa.h"
#include "cmds/cmds.h"
#include "cmds/table.h"
#include "conf.h"
#include "tls/cp_tls.h"

static const struct sl_vnet_def *vnet_def(uint16_t v)
{
	return &A.conf->vnets[v];
}

/* --- sluicectl ------------------------------------------------------------------- */

static const char *sa_state_str(uint8_t s)
{
	return s == SA_OPENING ? "opening" : s == SA_ACTIVE ? "active" : s == SA_IDLE ? "idle" : "-";
}

int cmd_show_sa(struct cmd_ctx *c, int argc, char *argv[])
{
	static const char *const hdr[] = { ">id", "kind", "agent", "vnet", ">worker", ">flows",
					   "state", ">idle_left_ms", ">age_s", ">das_total",
					   ">bytes_in", ">bytes_out", "session" };
	uint64_t now = agent_now_ms();
	struct tbl t;
	uint32_t rows = 0;

	if (cmd_no_args(c, argc, argv))
		return -1;
	if (c->json) {
		json_obj(&c->j, NULL);
		json_arr(&c->j, "sa");
	} else {
		tbl_init(&t, sizeof(hdr) / sizeof(hdr[0]), hdr);
	}
	pthread_mutex_lock(&A.mu);
	for (unsigned int i = 0; A.conf && i < SA_MAX; i++) {
		const struct sa *s = &SA.sa[i];
		struct sl_flow_ent f;
		uint64_t left = 0;
		char sid[24];

		if (s->state == SA_FREE)
			continue;
		if (s->state == SA_IDLE) {
			uint64_t lim = vnet_def(s->vnet)->sa_idle_ms, el = now - s->idle_ms;

			left = el < lim ? lim - el : 0;
		}
		snprintf(sid, sizeof(sid), "%016" PRIx64, s->session);
		/* the session's own TCP connection: frames from and to the agent,
		 * TLS records included */
		if (!s->have_conn || cp_tls_flow(&s->c, &f) != 0)
			f.bytes_in = f.bytes_out = 0;
		rows++;
		if (c->json) {
			json_obj(&c->j, NULL);
			json_u64(&c->j, "id", s->id);
			json_str(&c->j, "kind", "dgram");
			json_str(&c->j, "agent", A.ag[s->agent].name);
			json_str(&c->j, "vnet", vnet_def(s->vnet)->name);
			json_u64(&c->j, "worker", s->have_conn ? s->c.worker : 0);
			json_u64(&c->j, "flows", s->flows);
			json_str(&c->j, "state", sa_state_str(s->state));
			json_u64(&c->j, "idle_left_ms", left);
			json_u64(&c->j, "age_ms", now - s->created_ms);
			json_u64(&c->j, "das_total", s->das_total);
			json_u64(&c->j, "bytes_in", f.bytes_in);
			json_u64(&c->j, "bytes_out", f.bytes_out);
			json_str(&c->j, "session", sid);
			json_close(&c->j);
		} else {
			tbl_cell(&t, "%u", s->id);
			tbl_cell(&t, "dgram");
			tbl_cell(&t, "%s", A.ag[s->agent].name);
			tbl_cell(&t, "%s", vnet_def(s->vnet)->name);
			tbl_cell(&t, "%u", s->have_conn ? s->c.worker : 0);
			tbl_cell(&t, "%u", s->flows);
			tbl_cell(&t, "%s", sa_state_str(s->state));
			tbl_cell(&t, "%lu", (unsigned long)left);
			tbl_cell(&t, "%lu", (unsigned long)((now - s->created_ms) / 1000));
			tbl_cell(&t, "%lu", (unsigned long)s->das_total);
			tbl_cell(&t, "%" PRIu64, f.bytes_in);
			tbl_cell(&t, "%" PRIu64, f.bytes_out);
			tbl_cell(&t, "%s", sid);
		}
	}
	if (c->json) {
		json_close(&c->j);
		json_u64(&c->j, "handshakes", SA.handshakes);
		json_u64(&c->j, "reuses", SA.reuses);
		json_u64(&c->j, "deletes", SA.deletes);
		json_u64(&c->j, "flushes", SA.flushes);
		json_u64(&c->j, "das_total", SA.das_total);
		json_u64(&c->j, "das_refused", SA.das_refused);
		json_u64(&c->j, "das_failed", SA.das_failed);
		json_close(&c->j);
		pthread_mutex_unlock(&A.mu);
		return 0;
	}
	cmd_list_end(c, &t, rows, "no SAs");
	sbuf_printf(c->out, "handshakes %lu, reuses %lu, deletes %lu, flushes %lu, das %lu, refused %lu, failed %lu\n",
		    (unsigned long)SA.handshakes, (unsigned long)SA.reuses,
		    (unsigned long)SA.deletes, (unsigned long)SA.flushes,
		    (unsigned long)SA.das_total, (unsigned long)SA.das_refused,
		    (unsigned long)SA.das_failed);
	pthread_mutex_unlock(&A.mu);
	return 0;
}

#define DAS_PAGE 1000

int cmd_show_das(struct cmd_ctx *c, int argc, char *argv[])
{
	static const char *const hdr[] = { "agent", "vnet", "client", "server", ">worker", ">sa",
					   "state", ">age_ms" };
	static const char *const st[] = { "-", "wait_sa", "opening", "open" };
	uint64_t now = agent_now_ms();
	uint32_t rows = 0, skip = 0, total = 0;
	struct tbl t;

	if (argc == 2 && strcmp(argv[0], "from") == 0) {
		char *end;
		unsigned long v = strtoul(argv[1], &end, 10);

		if (*end || end == argv[1])
			return cmd_err(c, "usage: show das [from N]");
		skip = (uint32_t)v;
	} else if (argc != 0) {
		return cmd_err(c, "usage: show das [from N]");
	}
	if (c->json) {
		json_obj(&c->j, NULL);
		json_arr(&c->j, "das");
	} else {
		tbl_init(&t, sizeof(hdr) / sizeof(hdr[0]), hdr);
	}
	pthread_mutex_lock(&A.mu);
	for (uint32_t k = 0; k < SA.n_da; k++) {
		const struct cda *d = &SA.da[k];
		char cl[32], sv[32];

		if (d->state == CDA_FREE)
			continue;
		if (total++ < skip || rows >= DAS_PAGE)
			continue;
		rows++;
		snprintf(cl, sizeof(cl), "%u.%u.%u.%u:%u", d->o.src >> 24, d->o.src >> 16 & 255,
			 d->o.src >> 8 & 255, d->o.src & 255, d->o.sport);
		snprintf(sv, sizeof(sv), "%u.%u.%u.%u:%u", d->o.dst >> 24, d->o.dst >> 16 & 255,
			 d->o.dst >> 8 & 255, d->o.dst & 255, d->o.dport);
		if (c->json) {
			json_obj(&c->j, NULL);
			json_str(&c->j, "agent", A.ag[d->agent].name);
			json_str(&c->j, "vnet", vnet_def(d->vnet)->name);
			json_str(&c->j, "client", cl);
			json_str(&c->j, "server", sv);
			json_u64(&c->j, "worker", d->w.worker);
			json_u64(&c->j, "sa", d->sa >= 0 ? SA.sa[d->sa].id : 0);
			json_str(&c->j, "state", st[d->state]);
			json_u64(&c->j, "age_ms", now - d->born_ms);
			json_close(&c->j);
		} else {
			tbl_cell(&t, "%s", A.ag[d->agent].name);
			tbl_cell(&t, "%s", vnet_def(d->vnet)->name);
			tbl_cell(&t, "%s", cl);
			tbl_cell(&t, "%s", sv);
			tbl_cell(&t, "%u", d->w.worker);
			tbl_cell(&t, "%u", d->sa >= 0 ? SA.sa[d->sa].id : 0);
			tbl_cell(&t, "%s", st[d->state]);
			tbl_cell(&t, "%lu", (unsigned long)(now - d->born_ms));
		}
	}
	pthread_mutex_unlock(&A.mu);
	if (c->json) {
		json_close(&c->j);
		json_u64(&c->j, "total", total);
		json_close(&c->j);
		return 0;
	}
	cmd_list_end(c, &t, rows, "no datagram associations");
	if (total > skip + rows)
		sbuf_printf(c->out, "%u of %u shown: `show das from %u` for more\n", rows, total,
			    skip + rows);
	return 0;
}

int cmd_sa_flush(struct cmd_ctx *c, int argc, char *argv[])
{
	unsigned long id = 0;
	unsigned int n = 0;
	char *end;

	if (argc > 1)
		return cmd_err(c, "usage: sa flush [ID]");
	if (argc == 1) {
		id = strtoul(argv[0], &end, 10);
		if (*end || end == argv[0] || id == 0)
			return cmd_err(c, "sa flush: '%s' is not an SA id (see `show sa`)", argv[0]);
	}
	pthread_mutex_lock(&A.mu);
	for (unsigned int i = 0; i < SA_MAX; i++)
		if (SA.sa[i].state != SA_FREE && (!id || SA.sa[i].id == id)) {
			/* the flag is read by the handshake thread's tick, which
			 * owns the sessions */
			SA.sa[i].close_sent = 2;
			n++;
		}
	pthread_mutex_unlock(&A.mu);
	if (id && !n)
		return cmd_err(c, "no SA %lu (see `show sa`)", id);
	sbuf_printf(c->out, "%u SA%s flushed\n", n, n == 1 ? "" : "s");
	return 0;
}
