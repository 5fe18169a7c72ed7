/*
 * The STREAM session pool (stream.h).
 *
 * While the control session is up we keep `target` sessions idle or
 * dialing.  A session is named by the first 8 bytes (big-endian) of the TLS
 * exporter with label AP_STREAM_ID_LABEL and no context (RFC 5705 /
 * RFC 8446 7.5); the appliance computes the same, so nothing is sent to
 * announce it.  An idle session must stay silent: one that receives data or
 * closes is dropped and replaced.  Dial failures back off like the control
 * session's, one backoff for the whole pool.  So does an idle session that
 * the appliance resets soon after the handshake (it refuses sessions beyond
 * its bound): a successful handshake alone does not reset the backoff, a
 * session that proved useful (reserved by a CONNECT, or idle for a while)
 * does, or else such an appliance would get a handshake loop.
 */
#include <errno.h>
#include <openssl/err.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include <sluice/agent_proto.h>

#include "agent.h"
#include "log.h"
#include "relay.h"
#include "stream.h"

#define HEALTHY_MS 10000 /* an idle session that lived this long was fine */

static struct stream *pool;     /* DIALING and IDLE sessions */
static uint32_t n_idle, n_dialing, target;
static int active;              /* the control session is up */
static struct timer refill_timer;
static int timer_ready;
static struct backoff bo;
static struct ratelim rl_dial, rl_idle;

static void refill(void);

uint32_t stream_idle_count(void) { return n_idle; }
uint32_t stream_dialing_count(void) { return n_dialing; }
uint32_t stream_pool_target(void) { return active ? target : 0; }

static void link_pool(struct stream *s)
{
	s->prev = NULL;
	s->next = pool;
	if (pool)
		pool->prev = s;
	pool = s;
}

static void unlink_pool(struct stream *s)
{
	if (s->prev)
		s->prev->next = s->next;
	else
		pool = s->next;
	if (s->next)
		s->next->prev = s->prev;
	s->prev = s->next = NULL;
	if (s->state == ST_IDLE)
		n_idle--;
	else if (s->state == ST_DIALING)
		n_dialing--;
}

static void free_stream(struct grave *g)
{
	free(container_of(g, struct stream, grave));
}

void stream_free(struct stream *s)
{
	loop_bury(&s->grave, free_stream);
}

/* Out of the pool and closed (close_notify, best effort). */
static void drop(struct stream *s)
{
	unlink_pool(s);
	tlsconn_close(&s->tc);
	stream_free(s);
}

/* ------------------------------------------------------------- idle I/O -- */

static void idle_event(struct ev *ev, uint32_t events)
{
	struct stream *s = container_of(ev, struct stream, tc.ev);
	uint8_t b;
	int n, e;

	(void)events;
	ERR_clear_error();
	n = SSL_read(s->tc.ssl, &b, 1);
	if (n <= 0) {
		e = SSL_get_error(s->tc.ssl, n);
		/* WANT_READ: post-handshake messages only (TLS 1.3 tickets) */
		if (e == SSL_ERROR_WANT_READ) {
			ev_want(ev, EPOLLIN);
			return;
		}
		if (e == SSL_ERROR_WANT_WRITE) {
			ev_want(ev, EPOLLIN | EPOLLOUT);
			return;
		}
	}
	agent_stats.stream_idle_dropped++;
	log_rl(&rl_idle, "idle STREAM session %016llx %s; replacing it", (unsigned long long)s->id,
	       n > 0 ? "received data" : "closed");
	if (now_ms() - s->up_ms >= HEALTHY_MS)
		backoff_reset(&bo);
	drop(s);
	if (active && !timer_armed(&refill_timer))
		timer_arm(&refill_timer, backoff_next(&bo));
}

/* ----------------------------------------------------------------- dial -- */

static int export_id(SSL *ssl, uint64_t *id)
{
	unsigned char out[8];
	int i;

	if (SSL_export_keying_material(ssl, out, sizeof(out), AP_STREAM_ID_LABEL,
				       strlen(AP_STREAM_ID_LABEL), NULL, 0, 0) != 1)
		return -1;
	*id = 0;
	for (i = 0; i < 8; i++)
		*id = *id << 8 | out[i];
	return 0;
}

static void dial_failed(const char *why)
{
	agent_stats.stream_dial_failures++;
	log_rl(&rl_dial, "STREAM session: %s", why);
	if (active && !timer_armed(&refill_timer))
		timer_arm(&refill_timer, backoff_next(&bo));
}

static void dialed(struct tlsconn *tc, int err)
{
	struct stream *s = container_of(tc, struct stream, tc);

	if (err) {
		unlink_pool(s);
		stream_free(s);
		dial_failed(tc->err);
		return;
	}
	if (export_id(tc->ssl, &s->id) < 0) {
		drop(s);
		dial_failed("TLS exporter failed");
		return;
	}
	if (tc->resumed)
		agent_stats.stream_resumed++;
	n_dialing--;
	s->state = ST_IDLE;
	s->up_ms = now_ms();
	n_idle++;
	tc->ev.cb = idle_event;
	ev_want(&tc->ev, EPOLLIN);
	log_debug("STREAM session %016llx idle (%u idle, %u dialing)", (unsigned long long)s->id,
		  n_idle, n_dialing);
}

static int dial_one(void)
{
	struct stream *s = calloc(1, sizeof(*s));

	agent_stats.stream_dials++;
	if (s == NULL) {
		dial_failed("out of memory");
		return -ENOMEM;
	}
	tlsconn_init(&s->tc);
	if (tlsconn_dial(&s->tc, AP_ALPN_STREAM, dialed) < 0) {
		dial_failed(s->tc.err);
		free(s);
		return -1;
	}
	s->state = ST_DIALING;
	link_pool(s);
	n_dialing++;
	return 0;
}

static void refill(void)
{
	if (!active || timer_armed(&refill_timer))
		return;
	while (n_idle + n_dialing < target)
		if (dial_one() < 0)
			break;
}

static void refill_cb(struct timer *t)
{
	(void)t;
	refill();
}

static void ensure_timer(void)
{
	if (!timer_ready) {
		timer_init(&refill_timer, refill_cb);
		timer_ready = 1;
	}
}

/* ----------------------------------------------------------------- pool -- */

void stream_pool_start(uint32_t t)
{
	uint32_t dropped = n_idle + n_dialing;

	ensure_timer();
	while (pool)
		drop(pool);
	if (dropped)
		log_info("closed %u idle/dialing STREAM sessions of the previous control session",
			 dropped);
	target = t;
	active = 1;
	timer_cancel(&refill_timer);
	backoff_reset(&bo);
	refill();
}

void stream_pool_pause(void)
{
	ensure_timer();
	active = 0;
	timer_cancel(&refill_timer);
}

static struct stream *find_idle(uint64_t id)
{
	struct stream *s;

	for (s = pool; s; s = s->next)
		if (s->state == ST_IDLE && s->id == id)
			return s;
	return NULL;
}

int stream_is_idle(uint64_t id)
{
	return find_idle(id) != NULL;
}

struct stream *stream_reserve(uint64_t id)
{
	struct stream *s = find_idle(id);

	if (s == NULL)
		return NULL;
	unlink_pool(s);
	s->state = ST_RESERVED;
	backoff_reset(&bo);
	/* not watched while our connect runs: the relay, or the pool again,
	 * looks at whatever arrived meanwhile */
	ev_want(&s->tc.ev, 0);
	refill();
	return s;
}

int stream_retire(uint64_t id)
{
	struct stream *s = find_idle(id);

	if (s == NULL)
		return -ENOENT;
	agent_stats.stream_retired++;
	log_debug("STREAM session %016llx retired by the appliance", (unsigned long long)id);
	/* asked for, not a failure: no backoff (refill still waits out one
	 * already running) */
	drop(s);
	refill();
	return 0;
}

void stream_release(struct stream *s)
{
	s->state = ST_IDLE;
	link_pool(s);
	n_idle++;
	s->tc.ev.cb = idle_event;
	ev_want(&s->tc.ev, EPOLLIN);
}

void stream_close_all(void)
{
	active = 0;
	if (timer_ready)
		timer_cancel(&refill_timer);
	while (pool)
		drop(pool);
}
