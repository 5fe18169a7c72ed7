/*
 * S4 in sluice-cp (agent_ctl.h): agents, their control sessions and STREAM
 * pools, and the held SYNs and pings the workers offer them.
 *
 * A held SYN becomes a CONNECT naming an idle STREAM session of the same
 * worker (both legs of a relay live on one worker); the agent's
 * CONNECT_RESULT becomes the worker's verdict.  An offer finding no idle
 * session on its worker waits for one (the agent refills its pool) until
 * the worker's own hold timer answers the client.
 *
 * Agent loss (its control session ends): every question still open gets
 * "host unreachable".  Its STREAM sessions are left alone: each is a
 * connection of its own, and a relay ends when its own session ends (an
 * agent that dies resets or closes every one of them, and a session that
 * ends without close_notify resets the client, tls_relay.c).  A control
 * session closed for a malformed message therefore costs no relay.  A
 * restarted sluice-cp knows none of the old sessions: bound relays keep
 * running on the workers, the agents dial in again and renew their pools.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include <sluice/agent_proto.h>

#include "agent_ctl.h"
#include "agent_rt.h"
#include "agent_sa.h"
#include "conf.h"
#include "log.h"
#include "tls/cp_tls.h"

#define RETIRE_WAIT_MS 5000 /* how long a RETIREd session may take to close */

struct agent_state A = { .mu = PTHREAD_MUTEX_INITIALIZER };

uint64_t agent_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void agent_ctl_init(const struct sl_conf *conf, unsigned int n_workers)
{
	pthread_mutex_lock(&A.mu);
	A.conf = conf;
	A.n_workers = n_workers ? n_workers : 1;
	A.n_agents = conf->n_agents;
	for (unsigned int i = 0; i < conf->n_agents; i++) {
		memcpy(A.ag[i].name, conf->agent_defs[i].name, sizeof(A.ag[i].name));
		A.ag[i].vnet = conf->agent_defs[i].vnet;
	}
	{
		/* every held SYN and every ping the workers can have */
		uint64_t n = (uint64_t)A.n_workers * (conf->agents.held_max + 1024);

		A.n_reqs = n > REQS_MAX ? REQS_MAX : (uint32_t)n;
		A.req = calloc(A.n_reqs, sizeof(*A.req));
		A.free = calloc(A.n_reqs, sizeof(*A.free));
		if (!A.req || !A.free) {
			cp_log("agents: no memory for %u requests: agents disabled", A.n_reqs);
			A.n_reqs = 0;
		}
		for (uint32_t i = 0; i < A.n_reqs; i++) {
			A.free[i] = A.n_reqs - 1 - i;
			/* each run starts its generations somewhere else, so an
			 * answer meant for a sluice-cp that restarted is not ours */
			A.req[i].gen = (uint16_t)(((uint32_t)time(NULL) + i) % 4095 + 1);
		}
		A.n_free = A.n_reqs;
		A.head = A.tail = REQ_NONE;
	}
	agent_sa_init(A.n_workers, conf->agents.enabled ? conf->agents.da_max : 0);
	pthread_mutex_unlock(&A.mu);
}

/* --- TLS ---------------------------------------------------------------------- */

static int alpn_cb(SSL *ssl, const unsigned char **out, unsigned char *outlen,
		   const unsigned char *in, unsigned int inlen, void *arg)
{
	static const char *const ours[] = { AP_ALPN_CONTROL, AP_ALPN_STREAM, AP_ALPN_DGRAM };

	(void)ssl;
	(void)arg;
	/* RFC 7301 3.2: the first of the client's names we speak */
	for (unsigned int i = 0; i < inlen;) {
		unsigned int n = in[i];

		if (i + 1 + n > inlen)
			break;
		for (unsigned int k = 0; k < 3; k++)
			if (n == strlen(ours[k]) && memcmp(in + i + 1, ours[k], n) == 0) {
				*out = in + i + 1;
				*outlen = (unsigned char)n;
				return SSL_TLSEXT_ERR_OK;
			}
		i += 1 + n;
	}
	return SSL_TLSEXT_ERR_ALERT_FATAL; /* no_application_protocol */
}

int agent_ctl_ctx_setup(SSL_CTX *ctx, const struct sl_app_def *def, char *err, size_t errlen)
{
	if (SSL_CTX_load_verify_locations(ctx, def->ca, NULL) != 1) {
		unsigned long e = ERR_get_error();
		char buf[160];

		ERR_error_string_n(e, buf, sizeof(buf));
		snprintf(err, errlen, "agent CA %s: %s", def->ca, buf);
		return -EINVAL;
	}
	/* mutual X.509: an agent without a certificate from the agent CA is
	 * refused by the handshake itself */
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	SSL_CTX_set_alpn_select_cb(ctx, alpn_cb, NULL);
	/* Agents resume their STREAM sessions from tickets (stateless, under
	 * the listener's rotating ticket keys, cp_tls.c), which spares both
	 * ends a signature and a chain verification per pooled session.  A
	 * resumed session still names its agent by the certificate the
	 * ticket's original handshake verified (agent_ctl_classify checks it
	 * against the configured agents every time), and a ticket is good for
	 * AGENT_TICKET_S at most: an expired or replaced certificate stops
	 * resuming by then.  One ticket per handshake: each resumption brings
	 * the next.  No session-ID cache: TLS 1.2 agents resume from tickets
	 * too (RFC 5077). */
	SSL_CTX_set_num_tickets(ctx, 1);
	SSL_CTX_set_timeout(ctx, AGENT_TICKET_S);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	return 0;
}

/* The configured agent the certificate names: its CN, or a DNS name in its
 * subjectAltName. */
static int agent_of_cert(X509 *cert)
{
	char cn[SL_AGENT_NAME_LEN] = "";
	X509_NAME *sub = X509_get_subject_name(cert);
	int n = sub ? X509_NAME_get_text_by_NID(sub, NID_commonName, cn, sizeof(cn)) : -1;

	for (unsigned int i = 0; i < A.n_agents; i++) {
		const char *name = A.ag[i].name;

		if ((n > 0 && (size_t)n == strlen(name) && strcmp(cn, name) == 0) ||
		    X509_check_host(cert, name, strlen(name), X509_CHECK_FLAG_NEVER_CHECK_SUBJECT,
				    NULL) == 1)
			return (int)i;
	}
	return -1;
}

enum agent_kind agent_ctl_classify(SSL *ssl, int *agent, uint64_t *stream_id, const char **why)
{
	const unsigned char *alpn = NULL;
	unsigned int alen = 0;
	X509 *cert = SSL_get0_peer_certificate(ssl);
	uint8_t id[8];
	int a;

	if (!cert) {
		*why = "no client certificate";
		return AGENT_REJECT;
	}
	pthread_mutex_lock(&A.mu);
	a = agent_of_cert(cert);
	pthread_mutex_unlock(&A.mu);
	if (a < 0) {
		*why = "the certificate names no configured agent";
		return AGENT_REJECT;
	}
	*agent = a;
	SSL_get0_alpn_selected(ssl, &alpn, &alen);
	if (alen == strlen(AP_ALPN_CONTROL) && memcmp(alpn, AP_ALPN_CONTROL, alen) == 0)
		return AGENT_CONTROL;
	if ((alen == strlen(AP_ALPN_STREAM) && memcmp(alpn, AP_ALPN_STREAM, alen) == 0) ||
	    (alen == strlen(AP_ALPN_DGRAM) && memcmp(alpn, AP_ALPN_DGRAM, alen) == 0)) {
		/* RFC 5705 / RFC 8446 7.5: both ends derive the same id */
		if (SSL_export_keying_material(ssl, id, sizeof(id), AP_STREAM_ID_LABEL,
					       strlen(AP_STREAM_ID_LABEL), NULL, 0, 0) != 1) {
			*why = "no keying material for the stream id";
			return AGENT_REJECT;
		}
		*stream_id = 0;
		for (unsigned int i = 0; i < 8; i++)
			*stream_id = *stream_id << 8 | id[i];
		return alen == strlen(AP_ALPN_DGRAM) && memcmp(alpn, AP_ALPN_DGRAM, alen) == 0 ?
			       AGENT_DGRAM : AGENT_STREAM;
	}
	*why = "no ALPN protocol";
	return AGENT_REJECT;
}

/* --- streams ------------------------------------------------------------------ */

static int conn_eq(const struct cp_conn *a, const struct cp_conn *b)
{
	return a->worker == b->worker && a->slot == b->slot && a->gen == b->gen;
}

static void stream_drop(struct agent_rt *ag, unsigned int i)
{
	ag->st[i] = ag->st[--ag->n_st];
}

static void stream_abort(struct agent_rt *ag, unsigned int i)
{
	cp_tls_send(&ag->st[i].c, SL_TLS_DN_ABORT, 0, NULL, 0, NULL, 0);
	stream_drop(ag, i);
}

/* An idle stream of `ag` on worker w: its index, or -1. */
static int stream_idle(const struct agent_rt *ag, uint16_t w)
{
	for (unsigned int i = 0; i < ag->n_st; i++)
		if (ag->st[i].state == ST_IDLE && ag->st[i].c.worker == w)
			return (int)i;
	return -1;
}

static int stream_by_id(const struct agent_rt *ag, uint64_t id)
{
	for (unsigned int i = 0; i < ag->n_st; i++)
		if (ag->st[i].id == id)
			return (int)i;
	return -1;
}

/* --- control session output ------------------------------------------------------ */

static int ctl_send(struct agent_rt *ag, const struct ap_msg *m)
{
	uint8_t buf[AP_HDR_LEN + AP_MAX_BODY];
	int n = ap_encode(m, buf, sizeof(buf));

	if (n < 0 || !ag->ssl)
		return -EINVAL;
	if (SSL_write(ag->ssl, buf, n) != n)
		return -EIO;
	ag->tx_msgs++;
	return 0;
}

static void ctl_flush(struct agent_rt *ag)
{
	if (ag->ssl)
		cp_tls_flush(&ag->ctl, ag->ssl);
}

int agent_ctl_send(struct agent_rt *ag, const struct ap_msg *m)
{
	return ctl_send(ag, m);
}

void agent_ctl_flush(struct agent_rt *ag)
{
	ctl_flush(ag);
}

static int ctl_error(struct agent_rt *ag, enum ap_err code, const char *text)
{
	struct ap_msg m = { .type = AP_ERROR };

	m.u.error.code = (uint16_t)code;
	snprintf(m.u.error.text, sizeof(m.u.error.text), "%s", text);
	m.u.error.text_len = (uint8_t)strlen(m.u.error.text);
	ctl_send(ag, &m);
	ag->errors_sent++;
	cp_log("agent %s: ERROR %s: %s; closing its control session", ag->name,
	       ap_err_str(code), text);
	return -1;
}

/* --- requests ---------------------------------------------------------------------- */

/* An offer waits for an idle session of its worker, or stops waiting. */
static void wait_set(struct req *r)
{
	struct agent_rt *ag = &A.ag[r->agent];

	if (r->waiting)
		return;
	r->waiting = 1;
	ag->n_waiting++;
	ag->waiting_w[r->target.worker % SL_MAX_WORKERS]++;
}

static void wait_clear(struct req *r)
{
	struct agent_rt *ag = &A.ag[r->agent];

	if (!r->waiting)
		return;
	r->waiting = 0;
	ag->n_waiting--;
	ag->waiting_w[r->target.worker % SL_MAX_WORKERS]--;
}

static struct req *req_new(struct agent_rt *ag)
{
	uint32_t slot;
	struct req *r;
	uint16_t gen;

	if (A.n_free == 0)
		return NULL;
	slot = A.free[--A.n_free];
	r = &A.req[slot];
	gen = (uint16_t)(r->gen % 4095 + 1); /* 1..4095: 12 bits above the slot */
	memset(r, 0, sizeof(*r));
	r->used = 1;
	r->gen = gen;
	r->id = (uint32_t)gen << REQ_SLOT_BITS | slot;
	r->agent = (int)(ag - A.ag);
	r->born_ms = agent_now_ms();
	/* the youngest: requests expire in the order they were made */
	r->next = REQ_NONE;
	r->prev = A.tail;
	if (A.tail != REQ_NONE)
		A.req[A.tail].next = slot;
	else
		A.head = slot;
	A.tail = slot;
	return r;
}

static void req_free(struct req *r)
{
	uint32_t slot = (uint32_t)(r - A.req);

	wait_clear(r);
	if (r->prev != REQ_NONE)
		A.req[r->prev].next = r->next;
	else
		A.head = r->next;
	if (r->next != REQ_NONE)
		A.req[r->next].prev = r->prev;
	else
		A.tail = r->prev;
	r->used = 0;
	A.free[A.n_free++] = slot;
}

static struct req *req_find(int agent, uint32_t id)
{
	uint32_t slot = id & (REQS_MAX - 1);
	struct req *r = slot < A.n_reqs ? &A.req[slot] : NULL;

	return r && r->used && r->id == id && r->agent == agent ? r : NULL;
}

/* An id this sluice-cp gave out once (a late answer), not a forged one. */
static int req_was_ours(uint32_t id)
{
	uint32_t slot = id & (REQS_MAX - 1), gen = id >> REQ_SLOT_BITS;

	return gen != 0 && slot < A.n_reqs && A.req[slot].gen != 0 &&
	       (A.req[slot].gen - gen + 4095) % 4095 < 2048;
}

static void verdict(const struct cp_conn *held, uint8_t result, uint8_t code, uint16_t mss,
		    const struct cp_conn *stream)
{
	struct sl_agent_verdict v = { .result = result, .code = code, .mss = mss };

	if (stream) {
		v.stream_slot = stream->slot;
		v.stream_gen = stream->gen;
	}
	cp_tls_send(held, SL_TLS_DN_VERDICT, 0, &v, sizeof(v), NULL, 0);
}

static void pong(const struct cp_conn *p, uint8_t result, uint8_t code, uint8_t ttl, uint32_t from,
		 const uint8_t *data, uint32_t dlen)
{
	struct sl_agent_pong r = { .result = result, .code = code, .ttl = ttl, .from = from };

	cp_tls_send(p, SL_TLS_DN_PONG, 0, &r, sizeof(r), data, dlen);
}

/* The answer for a request that will get none from the agent. */
static void req_fail(struct req *r, uint8_t result, uint8_t code)
{
	if (r->kind == REQ_CONNECT)
		verdict(&r->target, result, code, 0, NULL);
	else
		pong(&r->target, result, code, 0, 0, NULL, 0);
	req_free(r);
}

/* Send a waiting CONNECT if its worker has an idle stream now. */
static int connect_try(struct agent_rt *ag, struct req *r)
{
	struct ap_msg m = { .type = AP_CONNECT };
	int i = stream_idle(ag, r->target.worker);

	if (i < 0)
		return -EAGAIN;
	ag->st[i].state = ST_RESERVED;
	ag->st[i].req = r->id;
	r->stream = ag->st[i].id;
	wait_clear(r);
	m.u.connect = (struct ap_connect){
		.id = r->id, .stream = r->stream, .proto = 6,
		.timeout_ms = (uint16_t)(A.conf->agents.connect_timeout_ms > 65535 ? 65535 :
					A.conf->agents.connect_timeout_ms),
		.dst = r->o.dst, .src = r->o.src, .dport = r->o.dport, .sport = r->o.sport,
	};
	if (ctl_send(ag, &m) != 0) {
		ag->st[i].state = ST_IDLE;
		return -EIO;
	}
	return 0;
}

/* Offers that waited for an idle stream of this worker. */
static void connect_waiting(struct agent_rt *ag, uint16_t worker)
{
	int sent = 0;

	if (!ag->waiting_w[worker % SL_MAX_WORKERS])
		return;
	/* the oldest first; nothing to look through when none waits */
	for (uint32_t i = A.head; ag->waiting_w[worker % SL_MAX_WORKERS] && i != REQ_NONE;
	     i = A.req[i].next) {
		struct req *r = &A.req[i];

		if (r->waiting && r->agent == (int)(ag - A.ag) && r->target.worker == worker &&
		    connect_try(ag, r) == 0)
			sent = 1;
	}
	if (sent)
		ctl_flush(ag);
}

/*
 * Balance the idle STREAM sessions over the workers.  A session lands on
 * the worker its 4-tuple hashes to (flow/dispatch.h) and the agent's kernel
 * picks the port, so with several workers one may get none while another
 * has several; and an offer can only use a session of its own worker (both
 * legs of a relay live on one worker).  A worker wants max(1, offers
 * waiting on it) idle sessions; while some worker is short and another has
 * more than one, RETIRE one of the surplus: the agent closes it and dials a
 * replacement, which lands on the short worker with chance 1/N (and on
 * arrival, if elsewhere, is surplus again).  At most as many RETIREs in
 * flight as sessions are short.  Agents without the RETIRE capability
 * get no rebalancing (their offers wait for the pool's own refills).
 */
static void rebalance(struct agent_rt *ag)
{
	uint32_t idle[SL_MAX_WORKERS] = { 0 };
	uint32_t short_by = 0, flying = 0, n = A.n_workers;
	int sent = 0;

	if (n < 2 || n > SL_MAX_WORKERS || !ag->hello || !(ag->caps & AP_CAP_RETIRE))
		return;
	for (unsigned int i = 0; i < ag->n_st; i++) {
		if (ag->st[i].state == ST_IDLE && ag->st[i].c.worker < n)
			idle[ag->st[i].c.worker]++;
		flying += ag->st[i].state == ST_RETIRING;
	}
	for (unsigned int w = 0; w < n; w++) {
		uint32_t want = ag->waiting_w[w] > 1 ? ag->waiting_w[w] : 1;

		short_by += idle[w] < want ? want - idle[w] : 0;
	}
	while (flying < short_by) {
		struct ap_msg m = { .type = AP_RETIRE };
		unsigned int donor = 0;
		int k;

		for (unsigned int w = 1; w < n; w++)
			if (idle[w] > idle[donor])
				donor = w;
		if (idle[donor] < 2 || ag->waiting_w[donor] >= idle[donor])
			break; /* nobody has a session to spare */
		k = stream_idle(ag, (uint16_t)donor);
		if (k < 0)
			break;
		m.u.retire.stream = ag->st[k].id;
		if (ctl_send(ag, &m) != 0)
			break;
		ag->st[k].state = ST_RETIRING;
		ag->st[k].retire_ms = agent_now_ms();
		ag->retires++;
		idle[donor]--;
		flying++;
		sent = 1;
	}
	if (sent)
		ctl_flush(ag);
}

/* The agent is gone: everything it had ends. */
static void agent_lost(struct agent_rt *ag, const char *why)
{
	int idx = (int)(ag - A.ag);

	if (ag->ssl)
		cp_log("agent %s: control session closed (%s)", ag->name, why);
	for (unsigned int i = 0; i < A.n_reqs; i++)
		if (A.req[i].used && A.req[i].agent == idx)
			req_fail(&A.req[i], AP_RES_UNREACHABLE, AP_UNREACH_HOST);
	agent_sa_agent_lost(idx);
	ag->ssl = NULL;
	ag->ctl_up = 0;
	ag->hello = 0;
	ag->in_len = 0;
	ag->since = 0;
	ag->losses++;
}

void agent_ctl_dgram_up(int agent, const struct cp_conn *c, uint64_t session)
{
	pthread_mutex_lock(&A.mu);
	agent_sa_session_up(agent, c, session);
	pthread_mutex_unlock(&A.mu);
}

void agent_ctl_da_offer(const struct cp_conn *w, const struct sl_da_offer *o)
{
	pthread_mutex_lock(&A.mu);
	agent_sa_offer(w, o);
	pthread_mutex_unlock(&A.mu);
}

void agent_ctl_stream_up(int agent, const struct cp_conn *c, uint64_t stream_id)
{
	struct agent_rt *ag;

	pthread_mutex_lock(&A.mu);
	ag = &A.ag[agent];
	if (ag->n_st == STREAMS_MAX || stream_by_id(ag, stream_id) >= 0) {
		/* a pool beyond our bound, or an id twice: not ours to keep */
		cp_tls_send(c, SL_TLS_DN_ABORT, 0, NULL, 0, NULL, 0);
		ag->streams_refused++;
	} else {
		ag->st[ag->n_st++] = (struct stream){ .id = stream_id, .c = *c, .state = ST_IDLE };
		ag->streams_total++;
		connect_waiting(ag, c->worker);
		rebalance(ag);
	}
	pthread_mutex_unlock(&A.mu);
}

/* --- control session input ------------------------------------------------------- */

static int on_hello(struct agent_rt *ag, const struct ap_hello *h)
{
	struct ap_msg m = { .type = AP_HELLO_ACK };
	int v = ap_version_pick(h->ver_min, h->ver_max, AP_VERSION, AP_VERSION);

	if (v < 0)
		return ctl_error(ag, AP_ERR_VERSION, "no common protocol version (we speak 1)");
	snprintf(ag->sw, sizeof(ag->sw), "%s", h->sw);
	ag->caps = h->caps & (AP_CAP_STREAM | AP_CAP_PING | AP_CAP_RETIRE |
			      (SA.n_da ? AP_CAP_DGRAM : 0));
	m.u.hello_ack = (struct ap_hello_ack){
		.version = (uint16_t)v, .caps = ag->caps,
		/* a relay's legs meet on one worker: every worker wants idle
		 * sessions, and where a session lands is the port's choice */
		.keepalive_ms = A.conf->agents.keepalive_ms,
		.pool = A.conf->agents.stream_pool * A.n_workers,
	};
	ag->hello = 1;
	return ctl_send(ag, &m) == 0 ? 0 : -1;
}

static int on_connect_result(struct agent_rt *ag, const struct ap_connect_result *cr)
{
	struct req *r = req_find((int)(ag - A.ag), cr->id);
	int i;

	if (!r && req_was_ours(cr->id)) {
		/* ours, but given up (its reserved session was reset then) */
		ag->late++;
		return 0;
	}
	if (!r || r->kind != REQ_CONNECT || r->waiting)
		return ctl_error(ag, AP_ERR_UNKNOWN_ID, "CONNECT_RESULT for a request never sent");
	i = stream_by_id(ag, r->stream);
	switch (cr->result) {
	case AP_RES_OK:
		if (i < 0) {
			/* the session died meanwhile: the agent resets its side */
			ag->bind_lost++;
			verdict(&r->target, AP_RES_OK, 0, cr->mss, NULL);
			break;
		}
		ag->st[i].state = ST_BOUND;
		ag->ok++;
		verdict(&r->target, AP_RES_OK, 0, cr->mss, &ag->st[i].c);
		break;
	case AP_RES_NO_STREAM:
		/* the agent does not have that session (any more): drop it and
		 * try another */
		if (i >= 0)
			stream_abort(ag, (unsigned int)i);
		wait_set(r);
		if (connect_try(ag, r) == 0)
			ctl_flush(ag);
		rebalance(ag);
		return 0; /* or it waits for a stream or the hold timeout */
	default:
		if (i >= 0)
			ag->st[i].state = ST_IDLE;
		if (cr->result == AP_RES_REFUSE)
			ag->refused++;
		else if (cr->result == AP_RES_UNREACHABLE)
			ag->unreachable++;
		else
			ag->other++;
		verdict(&r->target, cr->result, cr->code, 0, NULL);
		req_free(r);
		if (i >= 0)
			connect_waiting(ag, ag->st[i].c.worker);
		return 0;
	}
	req_free(r);
	return 0;
}

static int on_ping_result(struct agent_rt *ag, const struct ap_ping_result *pr)
{
	struct req *r = req_find((int)(ag - A.ag), pr->id);

	if (!r && req_was_ours(pr->id)) {
		ag->late++;
		return 0;
	}
	if (!r || r->kind != REQ_PING)
		return ctl_error(ag, AP_ERR_UNKNOWN_ID, "PING_RESULT for a request never sent");
	ag->pings_answered++;
	pong(&r->target, pr->result, pr->code, pr->ttl, pr->from, pr->data, pr->data_len);
	req_free(r);
	return 0;
}

static int on_msg(struct agent_rt *ag, const struct ap_msg *m)
{
	if (!ap_dir_ok(m->type, AP_FROM_AGENT)) {
		char t[64];

		snprintf(t, sizeof(t), "%s is not for the agent to send", ap_type_str(m->type));
		return ctl_error(ag, AP_ERR_UNEXPECTED, t);
	}
	if (!ag->hello && m->type != AP_HELLO)
		return ctl_error(ag, AP_ERR_UNEXPECTED, "the first message must be HELLO");
	switch (m->type) {
	case AP_HELLO:
		if (ag->hello)
			return ctl_error(ag, AP_ERR_UNEXPECTED, "a second HELLO");
		return on_hello(ag, &m->u.hello);
	case AP_KEEPALIVE: {
		struct ap_msg a = { .type = AP_KEEPALIVE_ACK, .u.ka = m->u.ka };

		return ctl_send(ag, &a) == 0 ? 0 : -1;
	}
	case AP_KEEPALIVE_ACK: {
		uint64_t now = agent_now_ms();

		if (m->u.ka.ts <= now)
			ag->rtt_ms = (uint32_t)(now - m->u.ka.ts);
		return 0;
	}
	case AP_CONNECT_RESULT:
		return on_connect_result(ag, &m->u.cres);
	case AP_PING_RESULT:
		return on_ping_result(ag, &m->u.pres);
	case AP_DGRAM_UP:
	case AP_DA_RESULT:
	case AP_DA_END:
		if (!(ag->caps & AP_CAP_DGRAM))
			return ctl_error(ag, AP_ERR_UNEXPECTED, ap_type_str(m->type));
		return agent_sa_msg(ag, m) == 0 ? 0 : -1;
	case AP_ERROR:
		cp_log("agent %s: sent ERROR %s: %s", ag->name, ap_err_str(m->u.error.code),
		       m->u.error.text);
		return -1;
	default:
		return ctl_error(ag, AP_ERR_UNEXPECTED, ap_type_str(m->type));
	}
}

void *agent_ctl_control_up(int agent, const struct cp_conn *c, SSL *ssl)
{
	struct agent_rt *ag;

	pthread_mutex_lock(&A.mu);
	ag = &A.ag[agent];
	if (ag->ssl) {
		/* a new session replaces the old one (the agent restarted, or
		 * its old connection is dead and we have not noticed yet) */
		struct cp_conn old = ag->ctl;

		agent_lost(ag, "replaced by a new control session");
		cp_tls_close(&old);
	}
	ag->ssl = ssl;
	ag->ctl = *c;
	ag->ctl_up = 1;
	ag->since = (uint64_t)time(NULL);
	ag->last_rx_ms = ag->last_ka_ms = agent_now_ms();
	ag->sessions++;
	cp_tls_peer_addr(c, ag->addr, sizeof(ag->addr));
	cp_log("agent %s: control session up from %s", ag->name, ag->addr);
	pthread_mutex_unlock(&A.mu);
	return ag;
}

int agent_ctl_control_input(void *h)
{
	struct agent_rt *ag = h;
	int rc = 0;

	pthread_mutex_lock(&A.mu);
	for (;;) {
		int n = SSL_read(ag->ssl, ag->in + ag->in_len, (int)(sizeof(ag->in) - ag->in_len));

		if (n <= 0) {
			int e = SSL_get_error(ag->ssl, n);

			if (e != SSL_ERROR_WANT_READ) {
				rc = -1; /* close_notify or a bad record */
				ERR_clear_error();
			}
			break;
		}
		ag->in_len += (size_t)n;
		ag->last_rx_ms = agent_now_ms();
		while (rc == 0) {
			struct ap_msg m;
			size_t used;
			const char *why = "";
			int p = ap_parse(ag->in, ag->in_len, &m, &used, &why);

			if (p == -EAGAIN)
				break;
			if (p < 0) {
				ag->malformed++;
				rc = ctl_error(ag, ap_err_of(p), why);
				break;
			}
			ag->rx_msgs++;
			rc = on_msg(ag, &m);
			memmove(ag->in, ag->in + used, ag->in_len - used);
			ag->in_len -= used;
		}
		if (rc != 0)
			break;
	}
	ctl_flush(ag);
	if (rc != 0)
		agent_lost(ag, "error");
	pthread_mutex_unlock(&A.mu);
	return rc;
}

void agent_ctl_conn_closed(const struct cp_conn *c)
{
	pthread_mutex_lock(&A.mu);
	if (agent_sa_conn_closed(c))
		goto out;
	for (unsigned int a = 0; a < A.n_agents; a++) {
		struct agent_rt *ag = &A.ag[a];

		if (ag->ssl && conn_eq(&ag->ctl, c)) {
			agent_lost(ag, "connection closed");
			break;
		}
		for (unsigned int i = 0; i < ag->n_st; i++)
			if (conn_eq(&ag->st[i].c, c)) {
				stream_drop(ag, i);
				rebalance(ag);
				goto out;
			}
	}
out:
	pthread_mutex_unlock(&A.mu);
}

/* --- questions from the workers ------------------------------------------------------ */

void agent_ctl_offer(const struct cp_conn *held, const struct sl_agent_offer *o)
{
	struct agent_rt *ag;
	struct req *r;

	pthread_mutex_lock(&A.mu);
	if (o->agent >= A.n_agents) {
		verdict(held, AP_RES_UNREACHABLE, AP_UNREACH_NET, 0, NULL);
		goto out;
	}
	ag = &A.ag[o->agent];
	ag->offers++;
	if (!ag->ctl_up || !ag->hello || !(ag->caps & AP_CAP_STREAM)) {
		ag->no_session++;
		verdict(held, SL_AGENT_NO_AGENT, 0, 0, NULL); /* host unreachable */
		goto out;
	}
	r = req_new(ag);
	if (!r) {
		ag->busy++;
		verdict(held, AP_RES_BUSY, 0, 0, NULL);
		goto out;
	}
	r->kind = REQ_CONNECT;
	r->target = *held;
	r->o = *o;
	wait_set(r);
	if (connect_try(ag, r) == 0)
		ctl_flush(ag);
	else
		ag->waited++;
	rebalance(ag);
out:
	pthread_mutex_unlock(&A.mu);
}

void agent_ctl_ping(const struct cp_conn *p, const struct sl_agent_ping *q, const uint8_t *data,
		    uint32_t dlen)
{
	struct agent_rt *ag;
	struct ap_msg m = { .type = AP_PING };
	struct req *r;

	pthread_mutex_lock(&A.mu);
	if (q->agent >= A.n_agents || dlen > AP_MAX_PING_DATA) {
		pong(p, AP_RES_UNREACHABLE, AP_UNREACH_NET, 0, 0, NULL, 0);
		goto out;
	}
	ag = &A.ag[q->agent];
	ag->pings++;
	if (!ag->ctl_up || !ag->hello || !(ag->caps & AP_CAP_PING) || !(r = req_new(ag))) {
		pong(p, AP_RES_UNREACHABLE, AP_UNREACH_HOST, 0, 0, NULL, 0);
		goto out;
	}
	r->kind = REQ_PING;
	r->target = *p;
	m.u.ping = (struct ap_ping){
		.id = r->id, .dst = q->dst, .src = q->src, .ident = q->ident, .seq = q->seq,
		.timeout_ms = (uint16_t)(A.conf->agents.ping_timeout_ms > 65535 ? 65535 :
					A.conf->agents.ping_timeout_ms),
		.data_len = (uint16_t)dlen, .data = data,
	};
	if (ctl_send(ag, &m) != 0)
		req_fail(r, AP_RES_UNREACHABLE, AP_UNREACH_HOST);
	else
		ctl_flush(ag);
out:
	pthread_mutex_unlock(&A.mu);
}

void agent_ctl_tick(void)
{
	uint64_t now = agent_now_ms();
	uint32_t ka = A.conf ? A.conf->agents.keepalive_ms : 0;
	uint64_t req_max = A.conf ? (uint64_t)A.conf->agents.hold_timeout_ms + 5000 : 10000;

	if (!ka)
		return;
	pthread_mutex_lock(&A.mu);
	agent_sa_tick(now);
	for (unsigned int a = 0; a < A.n_agents; a++) {
		struct agent_rt *ag = &A.ag[a];

		if (!ag->ssl)
			continue;
		if (ag->kick || now - ag->last_rx_ms > 3ull * ka) {
			struct cp_conn c = ag->ctl;
			const char *why = ag->kick ? "kicked by the operator" :
						     "silent for three keepalive intervals";

			if (ag->kick)
				ctl_error(ag, AP_ERR_REFUSED, "kicked by the operator");
			ctl_flush(ag);
			ag->kick = 0;
			agent_lost(ag, why);
			cp_tls_close(&c);
			continue;
		}
		/* a retiree the agent did not close (lost RETIRE, old agent):
		 * reset it, so that it does not block rebalancing */
		for (unsigned int i = 0; i < ag->n_st; i++)
			if (ag->st[i].state == ST_RETIRING && now - ag->st[i].retire_ms > RETIRE_WAIT_MS) {
				ag->retire_aborts++;
				stream_abort(ag, i--);
			}
		rebalance(ag);
		if (ag->hello && now - ag->last_ka_ms >= ka) {
			struct ap_msg m = { .type = AP_KEEPALIVE, .u.ka.ts = now };

			ag->last_ka_ms = now;
			ctl_send(ag, &m);
			ctl_flush(ag);
		}
	}
	/* questions nobody answered: the worker has given up on them already;
	 * the oldest first, one comparison when none is due */
	while (A.head != REQ_NONE && now - A.req[A.head].born_ms > req_max) {
		struct req *r = &A.req[A.head];

		A.ag[r->agent].timeouts++;
		if (r->kind == REQ_CONNECT && !r->waiting) {
			/* the agent may still connect and relay on the session
			 * it was given: reset it */
			struct agent_rt *ag = &A.ag[r->agent];
			int k = stream_by_id(ag, r->stream);

			if (k >= 0)
				stream_abort(ag, (unsigned int)k);
		}
		req_fail(r, AP_RES_TIMEOUT, 0);
	}
	pthread_mutex_unlock(&A.mu);
}
