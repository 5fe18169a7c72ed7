/*
 * Issue 10 in sluice-cp: the SA table (S2) and the datagram associations
 * (DAs) the workers offer.  A DGRAM session is an SA: one agent, one vnet,
 * and the worker its connection lands on (both legs of every relay live on
 * one worker).  Its usage count is the number of DAs bound to it; at zero
 * the vnet's sa_policy deletes it at once or after sa_idle_ms, and an SA in
 * use is never expired for idleness.  A DA first looks for an active or
 * idle SA of its agent, vnet and worker; only without one is a new DGRAM
 * session negotiated (DGRAM_OPEN).  An SA that lands on another worker
 * serves that worker's DAs and the DA asks again (a bounded number of
 * times).
 *
 * Everything runs under A.mu on the handshake thread (agent_ctl.c calls in);
 * `show sa`, `show das` and `sa flush` read or post under the same lock.
 */
#ifndef SLUICE_AGENT_SA_H
#define SLUICE_AGENT_SA_H

#include <stdint.h>

#include <sluice/agent_proto.h>
#include <sluice/tls_msg.h>

#include "tls/cp_tls.h"

struct agent_rt;
struct cmd_ctx;

#define SA_MAX 4096              /* SAs over all agents */
#define SA_OPEN_TRIES_PER_WORKER 8 /* DGRAM_OPENs a DA may cause, times workers: a
				    session lands where its hash says, 1 in n */
#define SA_OPEN_WAIT_MS 10000    /* a DGRAM_OPEN not answered by then is given up */

enum { SA_FREE = 0, SA_OPENING, SA_ACTIVE, SA_IDLE };
enum { CDA_FREE = 0, CDA_WAIT_SA, CDA_OPENING, CDA_OPEN };

struct sa {
	uint8_t state;
	uint8_t have_conn, have_up;  /* OPENING: the TLS session / DGRAM_UP seen */
	uint8_t close_sent;
	uint16_t vnet;
	int agent;
	uint32_t id;                 /* for show and `sa flush`, never reused in a run */
	uint32_t open_id;            /* DGRAM_OPEN id */
	uint64_t session;            /* the session's id (the exporter) */
	struct cp_conn c;            /* its connection (have_conn) */
	uint32_t flows;              /* DAs bound to it */
	uint64_t created_ms, idle_ms, open_ms;
	uint64_t das_total;          /* DAs it ever carried */
	uint64_t handshake_done_s;   /* time(NULL) */
};

struct cda {
	uint8_t state;
	uint8_t tries;               /* DGRAM_OPENs asked for it */
	uint16_t vnet;
	int agent;
	int sa;                      /* index, or -1 */
	uint32_t da;                 /* the wire id: worker, gen8, slot (SL_DA_ID) */
	struct cp_conn w;            /* the worker's entry (slot/gen) */
	struct sl_da_offer o;
	uint64_t born_ms;
};

struct sa_state {
	struct sa sa[SA_MAX];
	uint32_t next_id;
	struct cda *da;              /* [n_da]: index = worker * da_max + slot */
	uint32_t n_da, da_max;
	uint64_t handshakes, reuses, deletes, flushes, das_total, das_refused, das_failed;
};

extern struct sa_state SA;

void agent_sa_init(unsigned int n_workers, uint32_t da_max);
/* A worker's new DA (UP_DA_OFFER). */
void agent_sa_offer(const struct cp_conn *w, const struct sl_da_offer *o);
/* A DGRAM session's handshake finished on worker c->worker. */
void agent_sa_session_up(int agent, const struct cp_conn *c, uint64_t session);
/* From the control session: DA_RESULT, DA_END, DGRAM_UP.  0 or -1 (an
 * ERROR was sent: the session closes). */
int agent_sa_msg(struct agent_rt *ag, const struct ap_msg *m);
/* A connection of the agents listener closed: 1 when it was an SA's. */
int agent_sa_conn_closed(const struct cp_conn *c);
/* The agent's control session ended: its SAs and DAs end. */
void agent_sa_agent_lost(int agent);
/* Timers: idle SAs, unanswered DGRAM_OPENs, stale DAs. */
void agent_sa_tick(uint64_t now_ms);

int cmd_show_sa(struct cmd_ctx *c, int argc, char *argv[]);
int cmd_show_das(struct cmd_ctx *c, int argc, char *argv[]);
int cmd_sa_flush(struct cmd_ctx *c, int argc, char *argv[]);

#endif
