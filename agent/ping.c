/*
 * PING (ping.h).  The echo request leaves our host with the client's
 * identifier, sequence and payload, so the reply the appliance forges for
 * the client carries exactly what a direct reply would.  A reply is matched
 * on (target, identifier, sequence), an unreachable on what it quotes of
 * our request.  Bounded by max_pings; each waits timeout_ms at most.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "ctl.h"
#include "icmp.h"
#include "log.h"
#include "loop.h"
#include "ping.h"

struct pping {
	uint32_t id, dst;
	uint16_t ident, seq;
	struct timer t;
	struct pping *prev, *next;
	struct grave grave;
};

static struct pping *pings;
static uint32_t n_pings;
static struct ratelim rl_busy, rl_err, rl_dst;
static int told_no_raw;

uint32_t ping_pending(void) { return n_pings; }

static void send_result(uint32_t id, uint8_t result, uint8_t code, uint8_t ttl, uint32_t from,
			const uint8_t *data, size_t len)
{
	struct ap_msg m = { .type = AP_PING_RESULT };

	m.u.pres.id = id;
	m.u.pres.result = result;
	m.u.pres.code = code;
	m.u.pres.ttl = ttl;
	m.u.pres.from = from;
	/* an echo reply carries what we sent (at most AP_MAX_PING_DATA); a
	 * longer one is not ours to forward whole */
	m.u.pres.data_len = (uint16_t)(len > AP_MAX_PING_DATA ? AP_MAX_PING_DATA : len);
	m.u.pres.data = len ? data : NULL;
	ctl_send(&m);
}

static void free_ping(struct grave *g)
{
	free(container_of(g, struct pping, grave));
}

/* Unlinked before its answer goes out: sending may close the control
 * session, which cancels every ping still listed.  p stays readable until
 * the loop empties its graveyard. */
static void finish(struct pping *p)
{
	if (p->prev)
		p->prev->next = p->next;
	else
		pings = p->next;
	if (p->next)
		p->next->prev = p->prev;
	n_pings--;
	timer_cancel(&p->t);
	loop_bury(&p->grave, free_ping);
}

static void ping_timeout(struct timer *t)
{
	struct pping *p = container_of(t, struct pping, t);

	agent_stats.pings_timeout++;
	finish(p);
	send_result(p->id, AP_RES_TIMEOUT, 0, 0, 0, NULL, 0);
}

static struct pping *find(uint32_t dst, uint16_t ident, uint16_t seq)
{
	struct pping *p;

	for (p = pings; p; p = p->next)
		if (p->dst == dst && p->ident == ident && p->seq == seq)
			return p;
	return NULL;
}

int ping_on_reply(uint32_t from, uint16_t ident, uint16_t seq, uint8_t ttl, const uint8_t *data,
		  size_t len)
{
	struct pping *p = find(from, ident, seq);

	if (p == NULL)
		return 0;
	agent_stats.pings_ok++;
	finish(p);
	send_result(p->id, AP_RES_OK, 0, ttl, from, data, len);
	return 1;
}

int ping_on_unreach(uint32_t dst, uint16_t ident, uint16_t seq, uint8_t code, uint32_t from)
{
	struct pping *p = find(dst, ident, seq);

	if (p == NULL)
		return 0;
	agent_stats.pings_unreachable++;
	finish(p);
	send_result(p->id, AP_RES_UNREACHABLE, code, 0, from, NULL, 0);
	return 1;
}

/* A send that failed at once: the local routing table already knows. */
static uint8_t errno_code(int err)
{
	switch (err) {
	case ENETUNREACH:
		return AP_UNREACH_NET;
	case EACCES:
	case EPERM:
		return AP_UNREACH_ADMIN;
	default:
		return AP_UNREACH_HOST;
	}
}

void ping_request(const struct ap_ping *m)
{
	struct pping *p;
	int rc;

	agent_stats.pings++;
	if (!icmp_available()) {
		agent_stats.pings_no_raw++;
		if (!told_no_raw++)
			log_warn("PING: no raw ICMP socket (needs root or CAP_NET_RAW); answering "
				 "UNREACHABLE 13 to every PING");
		send_result(m->id, AP_RES_UNREACHABLE, AP_UNREACH_ADMIN, 0, 0, NULL, 0);
		return;
	}
	if (agent_dst_forbidden(m->dst)) {
		agent_stats.dst_forbidden++;
		agent_stats.pings_unreachable++;
		log_rl(&rl_dst, "PING %u refused: not a site destination", m->id);
		send_result(m->id, AP_RES_UNREACHABLE, AP_UNREACH_ADMIN, 0, 0, NULL, 0);
		return;
	}
	if (n_pings >= agent_cf->max_pings || (p = calloc(1, sizeof(*p))) == NULL) {
		agent_stats.pings_busy++;
		log_rl(&rl_busy, "PING %u refused BUSY: %u outstanding (max %u)", m->id, n_pings,
		       agent_cf->max_pings);
		send_result(m->id, AP_RES_BUSY, 0, 0, 0, NULL, 0);
		return;
	}
	rc = icmp_send_echo(m->dst, m->ident, m->seq, m->ttl, m->data, m->data_len);
	if (rc < 0) {
		free(p);
		agent_stats.pings_unreachable++;
		log_rl(&rl_err, "PING %u: sending the echo request failed: %s", m->id, strerror(-rc));
		send_result(m->id, AP_RES_UNREACHABLE, errno_code(-rc), 0, 0, NULL, 0);
		return;
	}
	p->id = m->id;
	p->dst = m->dst;
	p->ident = m->ident;
	p->seq = m->seq;
	timer_init(&p->t, ping_timeout);
	timer_arm(&p->t, m->timeout_ms ? m->timeout_ms : agent_cf->connect_timeout_ms);
	p->next = pings;
	if (pings)
		pings->prev = p;
	pings = p;
	n_pings++;
}

void ping_cancel_all(void)
{
	while (pings)
		finish(pings);
}
