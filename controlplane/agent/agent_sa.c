/*
 * The SA table and the DAs in sluice-cp (agent_sa.h).
 *
 * SA states:
 *   OPENING  DGRAM_OPEN sent (or a DGRAM session came up that no DGRAM_UP
 *            named yet); ACTIVE once both the session's handshake (its
 *            worker) and the agent's DGRAM_UP are seen.  Unanswered for
 *            SA_OPEN_WAIT_MS, or DGRAM_UP BUSY: deleted.
 *   ACTIVE   flows > 0.
 *   IDLE     flows == 0 under sa_policy "idle": a new DA of its agent,
 *            vnet and worker reuses it without a handshake; the sweep
 *            deletes it after sa_idle_ms.  (Under "delete" it goes at once.)
 * Deleting an SA: DGRAM_CLOSE to the agent (it closes the session with
 * close_notify), the workers' DAs on it end (DN_DA_END).  Key material
 * lives only in the session's SSL (freed by cp_tls when its handshake
 * completes) and on the worker (wiped when the connection ends).
 *
 * DA states: WAIT_SA (an SA for it is being negotiated), OPENING (DA_OPEN
 * sent), OPEN (bound; the worker has its verdict).
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent_ctl.h"
#include "agent_rt.h"
#include "agent_sa.h"
#include "conf.h"
#include "log.h"

struct sa_state SA;

static const struct sl_vnet_def *vnet_def(uint16_t v)
{
	return &A.conf->vnets[v];
}

void agent_sa_init(unsigned int n_workers, uint32_t da_max)
{
	SA.da_max = da_max;
	SA.n_da = n_workers * da_max;
	SA.da = calloc(SA.n_da ? SA.n_da : 1, sizeof(*SA.da));
	if (!SA.da) {
		cp_log("agents: no memory for %u datagram associations: UDP through agents off",
		       SA.n_da);
		SA.n_da = 0;
	}
	SA.next_id = 1;
}

static struct cda *cda_of(uint32_t worker, uint32_t slot)
{
	uint64_t i = (uint64_t)worker * SA.da_max + slot;

	return slot < SA.da_max && i < SA.n_da ? &SA.da[i] : NULL;
}

static struct cda *cda_by_id(int agent, uint32_t da)
{
	struct cda *d = cda_of(SL_DA_WORKER(da), SL_DA_SLOT(da));

	return d && d->state != CDA_FREE && d->da == da && d->agent == agent ? d : NULL;
}

static void da_verdict(const struct cda *d, uint8_t result, uint8_t code, const struct sa *s,
		       uint16_t relay_port)
{
	struct sl_da_verdict v = { .result = result, .code = code, .relay_port = relay_port };

	if (s) {
		v.sess_slot = s->c.slot;
		v.sess_gen = s->c.gen;
	}
	cp_tls_send(&d->w, SL_TLS_DN_DA_VERDICT, 0, &v, sizeof(v), NULL, 0);
}

static void cda_free(struct cda *d)
{
	d->state = CDA_FREE;
	d->sa = -1;
}

/* --- SAs ------------------------------------------------------------------------- */

static int sa_new(int agent, uint16_t vnet)
{
	for (unsigned int i = 0; i < SA_MAX; i++)
		if (SA.sa[i].state == SA_FREE) {
			struct sa *s = &SA.sa[i];

			memset(s, 0, sizeof(*s));
			s->state = SA_OPENING;
			s->agent = agent;
			s->vnet = vnet;
			s->id = SA.next_id++;
			s->created_ms = s->open_ms = agent_now_ms();
			return (int)i;
		}
	return -1;
}

static unsigned int sa_count(int agent)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < SA_MAX; i++)
		n += SA.sa[i].state != SA_FREE && SA.sa[i].agent == agent;
	return n;
}

static void sa_delete(int i, int tell_agent, const char *why)
{
	struct sa *s = &SA.sa[i];
	struct agent_rt *ag = &A.ag[s->agent];

	if (tell_agent && ag->ssl && ag->hello && s->have_up) {
		struct ap_msg m = { .type = AP_DGRAM_CLOSE };

		m.u.dgram_close.session = s->session;
		if (agent_ctl_send(ag, &m) == 0)
			agent_ctl_flush(ag);
	}
	/* its DAs end: the workers forget them, the next datagram starts anew */
	for (uint32_t k = 0; s->flows && k < SA.n_da; k++) {
		struct cda *d = &SA.da[k];

		if (d->state != CDA_FREE && d->sa == i) {
			if (d->state == CDA_OPEN)
				cp_tls_send(&d->w, SL_TLS_DN_DA_END, 0, NULL, 0, NULL, 0);
			else
				da_verdict(d, SL_AGENT_NO_AGENT, 0, NULL, 0);
			cda_free(d);
			s->flows--;
		}
	}
	if (why)
		cp_log("agent %s: SA %u (vnet %s, worker %u) deleted: %s", ag->name, s->id,
		       vnet_def(s->vnet)->name, s->c.worker, why);
	SA.deletes++;
	s->state = SA_FREE;
}

/* A DA ended or was refused: the SA's count falls; at zero the vnet's
 * policy decides (S2). */
static void sa_release(int i)
{
	struct sa *s = &SA.sa[i];

	if (s->flows && --s->flows == 0) {
		if (vnet_def(s->vnet)->sa_policy == SL_SA_DELETE) {
			sa_delete(i, 1, NULL);
		} else {
			s->state = SA_IDLE;
			s->idle_ms = agent_now_ms();
		}
	}
}

/* --- DAs ----------------------------------------------------------------------- */

static int da_open(struct agent_rt *ag, struct cda *d, int si)
{
	struct sa *s = &SA.sa[si];
	const struct sl_vnet_def *vn = vnet_def(d->vnet);
	struct ap_msg m = { .type = AP_DA_OPEN };

	if (s->state == SA_IDLE && s->das_total)
		SA.reuses++; /* a DA served without a handshake (a fresh SA's first is not) */
	s->state = SA_ACTIVE;
	s->flows++;
	s->das_total++;
	d->sa = si;
	d->state = CDA_OPENING;
	m.u.da_open = (struct ap_da_open){
		.id = d->da, .da = d->da, .session = s->session, .dst = d->o.dst, .src = d->o.src,
		.dport = d->o.dport, .sport = d->o.sport, .idle_ms = vn->da_idle_ms,
		.idle2_ms = vn->da_idle2_ms,
	};
	return agent_ctl_send(ag, &m);
}

/* An SA for the DA's agent, vnet and worker that can take it. */
static int sa_usable(const struct cda *d)
{
	for (unsigned int i = 0; i < SA_MAX; i++) {
		const struct sa *s = &SA.sa[i];

		if ((s->state == SA_ACTIVE || s->state == SA_IDLE) && s->agent == d->agent &&
		    s->vnet == d->vnet && s->c.worker == d->w.worker)
			return (int)i;
	}
	return -1;
}

static unsigned int sa_opening(int agent, uint16_t vnet)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < SA_MAX; i++)
		n += SA.sa[i].state == SA_OPENING && SA.sa[i].agent == agent &&
		     SA.sa[i].vnet == vnet && SA.sa[i].open_id;
	return n;
}

/* Ask the agent for one more DGRAM session: 0, or -1 (at a bound). */
static int sa_negotiate(struct agent_rt *ag, uint16_t vnet)
{
	int agent = (int)(ag - A.ag), i;
	struct ap_msg m = { .type = AP_DGRAM_OPEN };

	if (sa_count(agent) >= A.conf->agents.sa_max || (i = sa_new(agent, vnet)) < 0)
		return -1;
	SA.sa[i].open_id = SA.sa[i].id;
	m.u.dgram_open.id = SA.sa[i].open_id;
	if (agent_ctl_send(ag, &m) != 0) {
		SA.sa[i].state = SA_FREE;
		return -1;
	}
	SA.handshakes++;
	return 0;
}

/* Place a DA that waits for an SA: on a usable one, or by asking for one
 * more (at most one negotiation in flight per worker of the vnet). */
static void da_place(struct agent_rt *ag, struct cda *d)
{
	int si = sa_usable(d);

	if (si >= 0) {
		if (da_open(ag, d, si) != 0) {
			SA.das_failed++;
			da_verdict(d, AP_RES_BUSY, 0, NULL, 0);
			sa_release(si);
			cda_free(d);
		}
		return;
	}
	d->state = CDA_WAIT_SA;
	if (sa_opening(d->agent, d->vnet) >= A.n_workers)
		return; /* enough in flight; one of them may land on its worker */
	if (d->tries >= SA_OPEN_TRIES_PER_WORKER * A.n_workers || sa_negotiate(ag, d->vnet) != 0) {
		SA.das_failed++;
		da_verdict(d, AP_RES_BUSY, 0, NULL, 0);
		cda_free(d);
		return;
	}
	d->tries++;
}

/* The DAs waiting for an SA of this agent and vnet: placed again. */
static void da_retry_waiting(struct agent_rt *ag, uint16_t vnet)
{
	int agent = (int)(ag - A.ag);

	for (uint32_t k = 0; k < SA.n_da; k++) {
		struct cda *d = &SA.da[k];

		if (d->state == CDA_WAIT_SA && d->agent == agent && d->vnet == vnet)
			da_place(ag, d);
	}
	agent_ctl_flush(ag);
}

void agent_sa_offer(const struct cp_conn *w, const struct sl_da_offer *o)
{
	struct agent_rt *ag;
	struct cda *d = cda_of(w->worker, w->slot);

	if (!d)
		return;
	if (d->state != CDA_FREE) {
		/* the worker reused the entry: the old DA is over */
		if (d->sa >= 0)
			sa_release(d->sa);
		cda_free(d);
	}
	SA.das_total++;
	if (o->agent >= A.n_agents || o->vnet >= A.conf->n_vnets) {
		struct cda tmp = { .w = *w };

		da_verdict(&tmp, AP_RES_UNREACHABLE, AP_UNREACH_NET, NULL, 0);
		return;
	}
	ag = &A.ag[o->agent];
	*d = (struct cda){ .agent = o->agent, .vnet = o->vnet, .sa = -1, .w = *w, .o = *o,
			   .da = SL_DA_ID(w->worker, w->slot, w->gen), .born_ms = agent_now_ms() };
	if (!ag->ssl || !ag->hello || !(ag->caps & AP_CAP_DGRAM)) {
		SA.das_failed++;
		da_verdict(d, SL_AGENT_NO_AGENT, 0, NULL, 0);
		return;
	}
	da_place(ag, d);
	agent_ctl_flush(ag);
}

/* --- from the agent ---------------------------------------------------------------- */

static int sa_by_session(int agent, uint64_t session)
{
	for (unsigned int i = 0; i < SA_MAX; i++)
		if (SA.sa[i].state != SA_FREE && SA.sa[i].agent == agent &&
		    SA.sa[i].session == session && session)
			return (int)i;
	return -1;
}

/* An IDLE SA under sa_policy "delete" that nothing will use: no DA of its
 * agent and vnet waits for an SA and no negotiation of theirs is in flight
 * (while one is, a DA may still be placed on it). */
static int sa_unwanted(int i)
{
	const struct sa *s = &SA.sa[i];

	if (vnet_def(s->vnet)->sa_policy != SL_SA_DELETE || sa_opening(s->agent, s->vnet))
		return 0;
	for (uint32_t k = 0; k < SA.n_da; k++)
		if (SA.da[k].state == CDA_WAIT_SA && SA.da[k].agent == s->agent &&
		    SA.da[k].vnet == s->vnet)
			return 0;
	return 1;
}

/* Both halves seen: the SA is usable on its worker. */
static void sa_ready(struct agent_rt *ag, int i)
{
	struct sa *s = &SA.sa[i];

	s->state = SA_IDLE; /* no DA yet: the policy's clock runs */
	s->idle_ms = agent_now_ms();
	s->handshake_done_s = (uint64_t)time(NULL);
	da_retry_waiting(ag, s->vnet);
	/* landed where nobody waits: with nothing else in flight, it and any
	 * earlier arrival of the same kind go at once under "delete" */
	for (unsigned int k = 0; k < SA_MAX; k++)
		if (SA.sa[k].state == SA_IDLE && sa_unwanted((int)k))
			sa_delete((int)k, 1, NULL);
}

void agent_sa_session_up(int agent, const struct cp_conn *c, uint64_t session)
{
	struct agent_rt *ag = &A.ag[agent];
	int i = sa_by_session(agent, session);

	if (i < 0) {
		/* DGRAM_UP has not come yet: keep the session until it does */
		i = sa_new(agent, ag->vnet);
		if (i < 0) {
			cp_tls_send(c, SL_TLS_DN_ABORT, 0, NULL, 0, NULL, 0);
			return;
		}
		SA.sa[i].session = session;
	}
	SA.sa[i].c = *c;
	SA.sa[i].have_conn = 1;
	if (SA.sa[i].have_up)
		sa_ready(ag, i);
}

static int on_dgram_up(struct agent_rt *ag, const struct ap_dgram_up *u)
{
	int agent = (int)(ag - A.ag), i = -1, j;

	for (unsigned int k = 0; k < SA_MAX; k++)
		if (SA.sa[k].state == SA_OPENING && SA.sa[k].agent == agent &&
		    SA.sa[k].open_id == u->id && !SA.sa[k].have_up) {
			i = (int)k;
			break;
		}
	if (i < 0)
		return 0; /* given up meanwhile: its session, if any, is closed below */
	if (u->result != AP_RES_OK) {
		uint16_t vnet = SA.sa[i].vnet;

		SA.sa[i].state = SA_FREE;
		da_retry_waiting(ag, vnet); /* each DA's tries bound this */
		return 0;
	}
	j = sa_by_session(agent, u->session);
	if (j >= 0 && j != i) {
		/* the session's handshake finished first: merge */
		SA.sa[i].c = SA.sa[j].c;
		SA.sa[i].have_conn = SA.sa[j].have_conn;
		SA.sa[j].state = SA_FREE;
	}
	SA.sa[i].session = u->session;
	SA.sa[i].have_up = 1;
	if (SA.sa[i].have_conn)
		sa_ready(ag, i);
	return 0;
}

static int on_da_result(struct agent_rt *ag, const struct ap_da_result *r)
{
	struct cda *d = cda_by_id((int)(ag - A.ag), r->id);
	int si;

	if (!d || d->state != CDA_OPENING)
		return 0; /* ended meanwhile (its SA deleted, the worker gave up) */
	si = d->sa;
	switch (r->result) {
	case AP_RES_OK:
		d->state = CDA_OPEN;
		da_verdict(d, AP_RES_OK, 0, &SA.sa[si], r->relay_port);
		return 0;
	case AP_RES_NO_STREAM:
		/* the agent does not know that session: the SA is broken */
		sa_delete(si, 0, "the agent does not know its session");
		return 0;
	case AP_RES_REFUSE:
		SA.das_refused++;
		da_verdict(d, AP_RES_REFUSE, 0, NULL, 0);
		break;
	default:
		SA.das_failed++;
		da_verdict(d, AP_RES_BUSY, 0, NULL, 0);
		break;
	}
	cda_free(d);
	sa_release(si);
	return 0;
}

static int on_da_end(struct agent_rt *ag, const struct ap_da_end_msg *e)
{
	struct cda *d = cda_by_id((int)(ag - A.ag), e->da);
	int si;

	if (!d)
		return 0; /* both ended it at once */
	si = d->sa;
	cp_tls_send(&d->w, SL_TLS_DN_DA_END, 0, NULL, 0, NULL, 0);
	cda_free(d);
	if (si >= 0)
		sa_release(si);
	return 0;
}

int agent_sa_msg(struct agent_rt *ag, const struct ap_msg *m)
{
	switch (m->type) {
	case AP_DGRAM_UP:
		return on_dgram_up(ag, &m->u.dgram_up);
	case AP_DA_RESULT:
		return on_da_result(ag, &m->u.da_result);
	case AP_DA_END:
		return on_da_end(ag, &m->u.da_end);
	default:
		return -1;
	}
}

int agent_sa_conn_closed(const struct cp_conn *c)
{
	for (unsigned int i = 0; i < SA_MAX; i++) {
		struct sa *s = &SA.sa[i];

		if (s->state != SA_FREE && s->have_conn && s->c.worker == c->worker &&
		    s->c.slot == c->slot && s->c.gen == c->gen) {
			sa_delete((int)i, 0, s->flows ? "its session closed" : NULL);
			return 1;
		}
	}
	return 0;
}

void agent_sa_agent_lost(int agent)
{
	for (unsigned int i = 0; i < SA_MAX; i++) {
		struct sa *s = &SA.sa[i];

		if (s->state != SA_FREE && s->agent == agent) {
			if (s->have_conn)
				cp_tls_send(&s->c, SL_TLS_DN_ABORT, 0, NULL, 0, NULL, 0);
			sa_delete((int)i, 0, NULL);
		}
	}
	for (uint32_t k = 0; k < SA.n_da; k++) {
		struct cda *d = &SA.da[k];

		if (d->state != CDA_FREE && d->agent == agent) {
			da_verdict(d, SL_AGENT_NO_AGENT, 0, NULL, 0);
			cda_free(d);
		}
	}
}

void agent_sa_tick(uint64_t now)
{
	uint64_t stale = (uint64_t)A.conf->agents.hold_timeout_ms + 5000;

	for (unsigned int i = 0; i < SA_MAX; i++) {
		struct sa *s = &SA.sa[i];

		if (s->state != SA_FREE && s->close_sent == 2) {
			/* `sa flush`: its DAs renegotiate on their next datagram */
			SA.flushes++;
			if (s->state == SA_OPENING && s->have_conn)
				cp_tls_send(&s->c, SL_TLS_DN_ABORT, 0, NULL, 0, NULL, 0);
			sa_delete((int)i, 1, "flushed by the operator");
			continue;
		}
		/* an SA in use is never expired for idleness (S2); under
		 * "delete" one that landed where no DA wanted it goes once the
		 * negotiations of its agent and vnet are over */
		if (s->state == SA_IDLE && (now - s->idle_ms >= vnet_def(s->vnet)->sa_idle_ms ||
					    sa_unwanted((int)i)))
			sa_delete((int)i, 1, NULL);
		else if (s->state == SA_OPENING && now - s->open_ms >= SA_OPEN_WAIT_MS) {
			if (s->have_conn)
				cp_tls_send(&s->c, SL_TLS_DN_ABORT, 0, NULL, 0, NULL, 0);
			sa_delete((int)i, 0, "no DGRAM_UP in time");
		}
	}
	/* DAs the worker has given up on (its own hold timer answered) */
	for (uint32_t k = 0; k < SA.n_da; k++) {
		struct cda *d = &SA.da[k];

		if ((d->state == CDA_WAIT_SA || d->state == CDA_OPENING) && now - d->born_ms > stale) {
			int si = d->sa;

			cda_free(d);
			if (si >= 0)
				sa_release(si);
		}
	}
}

