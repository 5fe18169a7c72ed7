/*
 * sluice-cp's agent state (agent_ctl.c writes it on the handshake thread,
 * agent_cmds.c reads it for `show` on the command thread; both under A.mu).
 */
#ifndef SLUICE_AGENT_RT_H
#define SLUICE_AGENT_RT_H

#include <pthread.h>
#include <stdint.h>

#include <sluice/agent_proto.h>
#include <sluice/agent_types.h>
#include <sluice/shm.h>

#include "agent_ctl.h"

#define STREAMS_MAX 1024  /* STREAM sessions per agent (idle + bound) */
#define AGENT_TICKET_S 600 /* how long an agent may resume from a ticket */
/* Open questions to agents, over all agents: as many as the workers can
 * hold (held SYNs, pings) so a flood meets the workers' bounds, not ours.
 * A request id is its slot (low REQ_SLOT_BITS) and the slot's generation
 * (high bits, never 0): found without a search, and a late answer for a
 * reused slot is told from the current one. */
#define REQ_SLOT_BITS 20
#define REQS_MAX (1u << REQ_SLOT_BITS)
#define REQ_NONE UINT32_MAX

/* ST_RETIRING: idle, RETIRE sent; the agent closes it (agent_ctl.c rebalance) */
enum { ST_IDLE = 1, ST_RESERVED, ST_BOUND, ST_RETIRING };
enum { REQ_CONNECT = 1, REQ_PING };

struct stream {
	uint64_t id;
	struct cp_conn c;
	uint8_t state;
	uint32_t req;
	uint64_t retire_ms;     /* ST_RETIRING: when RETIRE was sent */
};

struct req {
	uint8_t used, kind, waiting;
	uint16_t gen;           /* of the slot: bumped at each use, never 0 */
	uint32_t prev, next;    /* the FIFO by age (one timeout for all) */
	int agent;
	uint32_t id;
	uint64_t stream;
	uint64_t born_ms;
	struct cp_conn target;  /* the held SYN or the pending ping */
	struct sl_agent_offer o;
};

struct agent_rt {
	char name[SL_AGENT_NAME_LEN];
	uint16_t vnet;
	/* the control session */
	SSL *ssl;               /* NULL: not connected */
	struct cp_conn ctl;
	uint8_t ctl_up, hello, kick;
	uint32_t caps;
	char sw[AP_MAX_TEXT + 1];
	char addr[48];          /* where it connected from */
	uint64_t since;         /* time(NULL) when it came up */
	uint64_t last_rx_ms, last_ka_ms;
	uint32_t rtt_ms;
	uint8_t in[AP_HDR_LEN + AP_MAX_BODY];
	size_t in_len;
	/* STREAM sessions */
	unsigned int n_st;
	struct stream st[STREAMS_MAX];
	uint32_t n_waiting;     /* offers waiting for an idle session of their worker */
	uint32_t waiting_w[SL_MAX_WORKERS]; /* the same, per worker */
	/* counters */
	uint64_t sessions, losses, streams_total, streams_refused;
	uint64_t retires, retire_aborts; /* rebalancing: RETIREs sent, retirees we reset */
	uint64_t offers, ok, refused, unreachable, other, no_session, busy, waited, bind_lost;
	uint64_t timeouts;      /* questions it never answered (given up after hold + 5 s) */
	uint64_t pings, pings_answered, late;
	uint64_t rx_msgs, tx_msgs, malformed, errors_sent;
};

struct agent_state {
	pthread_mutex_t mu;
	const struct sl_conf *conf;
	unsigned int n_workers;
	unsigned int n_agents;
	struct agent_rt ag[SL_AGENTS_MAX];
	struct req *req;        /* n_reqs slots */
	uint32_t n_reqs, n_free;
	uint32_t *free;         /* free slots */
	uint32_t head, tail;    /* oldest, youngest */
};

extern struct agent_state A;

uint64_t agent_now_ms(void);

#endif
