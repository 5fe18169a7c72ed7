/*
 * The control session (ctl.h).
 *
 *   CS_HELLO    TLS up, HELLO sent, HELLO_ACK awaited (dial_timeout_ms)
 *   CS_UP       keepalives every keepalive_ms both ways; CONNECT and PING
 *               served; closed after 3 intervals without any message
 *   CS_CLOSING  an ERROR (or nothing) being flushed, then close_notify
 *
 * A session that closes, for whatever reason, is forgotten at once (its
 * pending connects and pings cancelled) and a new one is dialed after a
 * backoff, while the old one may still be flushing its ERROR.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/err.h>
#include <sys/epoll.h>

#include "agent.h"
#include "ctl.h"
#include "dgram.h"
#include "log.h"
#include "ping.h"
#include "server.h"
#include "stream.h"
#include "tlsconn.h"

#define RX_CAP (2 * (AP_HDR_LEN + AP_MAX_BODY))
#define TX_CAP (256 * 1024)
#define TX_HIGH (TX_CAP / 2)      /* stop reading requests above this */
#define KEEPALIVE_DEFAULT_MS 15000 /* when HELLO_ACK says 0 */
#define KEEPALIVE_MIN_MS 200       /* a smaller value would be a busy loop */
#define KEEPALIVE_MAX_MS 3600000
#define LINGER_MS 1000             /* at most this long to flush an ERROR */

enum ctl_state { CS_HELLO, CS_UP, CS_CLOSING };

struct ctl {
	struct tlsconn tc;
	enum ctl_state st;
	uint8_t rx[RX_CAP];
	size_t rxlen;
	uint8_t tx[TX_CAP];
	size_t txoff, txlen;
	struct timer tick;      /* HELLO deadline, then keepalives; linger when closing */
	struct timer kick;      /* re-run the pump from the loop (reading resumed) */
	uint64_t last_rx;
	uint32_t ka_ms;
	uint32_t caps;          /* negotiated (HELLO_ACK's, within ours) */
	int rd_ww, wr_wr;       /* SSL_read wants write / SSL_write wants read */
	int dead;               /* closed: every pending step stops */
	struct grave grave;
};

static struct ctl *cur;          /* the session that serves requests, or NULL */
static struct tlsconn *dialing;  /* the dial in progress (owned by a struct ctl) */
static struct timer retry;
static struct backoff bo;
static int stopping;
static struct ratelim rl_dial;

static void ctl_dial(void);
static void pump(struct ctl *c);
static void sess_close(struct ctl *c, const char *why);

int ctl_is_up(void) { return cur != NULL && cur->st == CS_UP; }

const char *ctl_state_str(void)
{
	if (cur)
		return cur->st == CS_UP ? "up" : "hello";
	if (dialing)
		return "dialing";
	return timer_armed(&retry) ? "waiting (backoff)" : "down";
}

/* ------------------------------------------------------------ lifecycle -- */

static void free_ctl(struct grave *g)
{
	struct ctl *c = container_of(g, struct ctl, grave);

	explicit_bzero(c->rx, sizeof(c->rx));
	free(c);
}

static void retry_cb(struct timer *t)
{
	(void)t;
	ctl_dial();
}

static void schedule_retry(void)
{
	uint32_t d;

	if (stopping)
		return;
	d = backoff_next(&bo);
	log_debug("next control dial in %u ms", d);
	timer_arm(&retry, d);
}

/* The session stops serving: what hangs on it is cancelled, a new one will
 * be dialed.  Idle STREAM sessions wait for the next HELLO_ACK. */
static void forget(struct ctl *c)
{
	if (cur != c)
		return;
	cur = NULL;
	agent_stats.ctl_closed++;
	server_cancel_all();
	ping_cancel_all();
	dgram_close_all();
	stream_pool_pause();
	schedule_retry();
}

static void finish(struct ctl *c)
{
	if (c->dead)
		return;
	c->dead = 1;
	forget(c);
	timer_cancel(&c->tick);
	timer_cancel(&c->kick);
	tlsconn_close(&c->tc);
	loop_bury(&c->grave, free_ctl);
}

static void sess_close(struct ctl *c, const char *why)
{
	if (c->dead || c->st == CS_CLOSING)
		return;
	log_warn("control session closed: %s", why);
	forget(c);
	c->st = CS_CLOSING;
	if (c->txlen == c->txoff) {
		finish(c);
		return;
	}
	timer_arm(&c->tick, LINGER_MS);
	pump(c);
}

/* ERROR naming the problem, then close (house rule: a malformed message
 * closes that session, never the process). */
static void sess_fail(struct ctl *c, enum ap_err code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void sess_fail(struct ctl *c, enum ap_err code, const char *fmt, ...)
{
	struct ap_msg m = { .type = AP_ERROR };
	char why[300];
	va_list ap;
	int n;

	va_start(ap, fmt);
	vsnprintf(m.u.error.text, sizeof(m.u.error.text), fmt, ap);
	va_end(ap);
	m.u.error.code = (uint16_t)code;
	m.u.error.text_len = (uint8_t)strlen(m.u.error.text);
	n = ap_encode(&m, c->tx + c->txlen, TX_CAP - c->txlen);
	if (n > 0) {
		c->txlen += (size_t)n;
		agent_stats.errors_sent++;
	}
	snprintf(why, sizeof(why), "sent ERROR %s: %s", ap_err_str(code), m.u.error.text);
	sess_close(c, why);
}

/* ------------------------------------------------------------------ I/O -- */

static void compact_tx(struct ctl *c)
{
	if (c->txoff == 0)
		return;
	memmove(c->tx, c->tx + c->txoff, c->txlen - c->txoff);
	c->txlen -= c->txoff;
	c->txoff = 0;
}

static int reading(const struct ctl *c)
{
	return c->st != CS_CLOSING && c->txlen - c->txoff < TX_HIGH;
}

static void set_interest(struct ctl *c)
{
	uint32_t want = 0;
	int pending = c->txlen > c->txoff;

	if ((reading(c) && !c->rd_ww) || (pending && c->wr_wr))
		want |= EPOLLIN;
	if ((pending && !c->wr_wr) || c->rd_ww)
		want |= EPOLLOUT;
	ev_want(&c->tc.ev, want);
}

/* Write what is queued; -1 when the session died. */
static int flush(struct ctl *c)
{
	char why[300], ebuf[256];
	int n, e;

	c->wr_wr = 0;
	while (c->txlen > c->txoff) {
		ERR_clear_error();
		n = SSL_write(c->tc.ssl, c->tx + c->txoff, (int)(c->txlen - c->txoff));
		if (n > 0) {
			c->txoff += (size_t)n;
			continue;
		}
		e = SSL_get_error(c->tc.ssl, n);
		if (e == SSL_ERROR_WANT_WRITE)
			return 0;
		if (e == SSL_ERROR_WANT_READ) {
			c->wr_wr = 1;
			return 0;
		}
		c->txoff = c->txlen; /* nothing more will go out */
		snprintf(why, sizeof(why), "send failed: %s",
			 e == SSL_ERROR_SYSCALL ? strerror(errno) : tlsconn_ssl_err(ebuf, sizeof(ebuf)));
		if (c->st == CS_CLOSING)
			finish(c);
		else
			sess_close(c, why);
		return -1;
	}
	c->txoff = c->txlen = 0;
	if (c->st == CS_CLOSING)
		finish(c);
	return 0;
}

int ctl_send(const struct ap_msg *m)
{
	struct ctl *c = cur;
	int n;

	if (c == NULL || c->dead || c->st == CS_CLOSING)
		return -ENOTCONN;
	n = ap_encode(m, c->tx + c->txlen, TX_CAP - c->txlen);
	if (n == -ENOSPC) {
		compact_tx(c);
		n = ap_encode(m, c->tx + c->txlen, TX_CAP - c->txlen);
	}
	if (n == -ENOSPC) {
		sess_close(c, "the appliance does not read: send buffer full");
		return -ENOBUFS;
	}
	if (n < 0) {
		log_err("cannot encode %s: %s", ap_type_str(m->type), strerror(-n));
		return n;
	}
	c->txlen += (size_t)n;
	if (flush(c) < 0)
		return -ENOTCONN;
	/* reading may have stopped at TX_HIGH; the loop re-runs the pump so a
	 * request already decrypted inside OpenSSL is not left waiting */
	if (!c->dead)
		timer_arm(&c->kick, 0);
	return 0;
}

/* ------------------------------------------------------------- messages -- */

static void send_hello(void)
{
	struct ap_msg m = { .type = AP_HELLO };

	m.u.hello.ver_min = AP_VERSION;
	m.u.hello.ver_max = AP_VERSION;
	m.u.hello.caps = AP_CAP_STREAM | AP_CAP_PING | AP_CAP_RETIRE | AP_CAP_DGRAM;
	m.u.hello.sw_len = (uint8_t)strlen(AGENT_SOFTWARE);
	memcpy(m.u.hello.sw, AGENT_SOFTWARE, m.u.hello.sw_len + 1);
	ctl_send(&m);
}

static void on_hello_ack(struct ctl *c, const struct ap_hello_ack *a)
{
	uint32_t target = agent_cf->stream_pool, ka = a->keepalive_ms;

	if (c->st != CS_HELLO) {
		sess_fail(c, AP_ERR_UNEXPECTED, "HELLO_ACK after the session is up");
		return;
	}
	if (ap_version_pick(AP_VERSION, AP_VERSION, a->version, a->version) < 0) {
		sess_fail(c, AP_ERR_VERSION, "HELLO_ACK: version %u, we speak %u", a->version, AP_VERSION);
		return;
	}
	if (ka == 0)
		ka = KEEPALIVE_DEFAULT_MS;
	c->ka_ms = ka < KEEPALIVE_MIN_MS ? KEEPALIVE_MIN_MS : ka > KEEPALIVE_MAX_MS ? KEEPALIVE_MAX_MS : ka;
	/* the appliance's hint may ask for more idle sessions, never beyond
	 * the operator's cap, never fewer than configured */
	if (a->pool > target)
		target = a->pool < agent_cf->stream_pool_max ? a->pool : agent_cf->stream_pool_max;
	if (!(a->caps & AP_CAP_STREAM))
		target = 0; /* no relays wanted: no pool to keep */
	c->caps = a->caps & (AP_CAP_STREAM | AP_CAP_PING | AP_CAP_RETIRE | AP_CAP_DGRAM);
	c->st = CS_UP;
	cur = c;
	backoff_reset(&bo);
	agent_stats.ctl_up++;
	log_info("control session up: version %u, caps 0x%x, keepalive %u ms, pool %u", a->version,
		 c->caps, c->ka_ms, target);
	timer_arm(&c->tick, c->ka_ms);
	stream_pool_start(target);
}

static void on_keepalive(const struct ap_keepalive *k)
{
	struct ap_msg m = { .type = AP_KEEPALIVE_ACK };

	m.u.ka.ts = k->ts;
	ctl_send(&m);
}

/* Peer text into a log line: no control characters (no forged lines). */
static const char *printable(const char *in, char *out, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len && in[i]; i++)
		out[i] = (in[i] >= 0x20 && in[i] < 0x7f) ? in[i] : '?';
	out[i] = '\0';
	return out;
}

static void da_open(struct ctl *c, const struct ap_da_open *o)
{
	struct ap_msg r = { .type = AP_DA_RESULT };

	if (dgram_da_open(o, &r.u.da_result) == -EEXIST) {
		sess_fail(c, AP_ERR_UNEXPECTED, "DA_OPEN: association %u is already open", o->da);
		return;
	}
	ctl_send(&r);
}

static void handle(struct ctl *c, const struct ap_msg *m)
{
	char text[AP_MAX_TEXT + 1];

	if (!ap_dir_ok(m->type, AP_FROM_APPLIANCE)) {
		sess_fail(c, AP_ERR_UNEXPECTED, "%s is not sent by the appliance", ap_type_str(m->type));
		return;
	}
	if (m->type == AP_ERROR) {
		agent_stats.errors_received++;
		log_warn("appliance sent ERROR %s: %s", ap_err_str(m->u.error.code),
			 printable(m->u.error.text, text, sizeof(text)));
		sess_close(c, "the appliance sent ERROR");
		return;
	}
	if (m->type == AP_HELLO_ACK) {
		on_hello_ack(c, &m->u.hello_ack);
		return;
	}
	if (m->type == AP_KEEPALIVE) {
		on_keepalive(&m->u.ka);
		return;
	}
	if (m->type == AP_KEEPALIVE_ACK)
		return; /* last_rx already moved */
	if (c->st != CS_UP) {
		sess_fail(c, AP_ERR_UNEXPECTED, "%s before HELLO_ACK", ap_type_str(m->type));
		return;
	}
	/* docs/agent-protocol.md: a capability not negotiated may not be used,
	 * and a CONNECT id must not be one still open */
	if (m->type == AP_CONNECT && !(c->caps & AP_CAP_STREAM))
		sess_fail(c, AP_ERR_UNEXPECTED, "CONNECT without the STREAM capability");
	else if (m->type == AP_PING && !(c->caps & AP_CAP_PING))
		sess_fail(c, AP_ERR_UNEXPECTED, "PING without the PING capability");
	else if ((m->type == AP_DA_OPEN || m->type == AP_DGRAM_OPEN || m->type == AP_DGRAM_CLOSE ||
		  m->type == AP_DA_END) &&
		 !(c->caps & AP_CAP_DGRAM))
		sess_fail(c, AP_ERR_UNEXPECTED, "%s without the DGRAM capability", ap_type_str(m->type));
	else if (m->type == AP_RETIRE && !(c->caps & AP_CAP_RETIRE))
		sess_fail(c, AP_ERR_UNEXPECTED, "RETIRE without the RETIRE capability");
	else if (m->type == AP_RETIRE && stream_retire(m->u.retire.stream) < 0)
		agent_stats.retire_unknown++; /* it ended meanwhile: nothing to do */
	else if (m->type == AP_CONNECT && server_is_pending(m->u.connect.id))
		sess_fail(c, AP_ERR_UNEXPECTED, "CONNECT %u reuses an open request id", m->u.connect.id);
	else if (m->type == AP_CONNECT)
		server_connect(&m->u.connect);
	else if (m->type == AP_PING)
		ping_request(&m->u.ping);
	else if (m->type == AP_DGRAM_OPEN)
		dgram_open(m->u.dgram_open.id);
	else if (m->type == AP_DGRAM_CLOSE)
		dgram_close(m->u.dgram_close.session);
	else if (m->type == AP_DA_END)
		dgram_da_end(m->u.da_end.da);
	else if (m->type == AP_DA_OPEN)
		da_open(c, &m->u.da_open);
}

/* Every whole frame in rx; stops when the session closes. */
static void parse_frames(struct ctl *c)
{
	struct ap_msg m;
	const char *why = NULL;
	size_t off = 0, used;
	int rc;

	while (!c->dead && c->st != CS_CLOSING) {
		rc = ap_parse(c->rx + off, c->rxlen - off, &m, &used, &why);
		if (rc == -EAGAIN)
			break;
		if (rc < 0) {
			sess_fail(c, ap_err_of(rc), "%s", why ? why : "malformed frame");
			return;
		}
		log_debug("<- %s", ap_type_str(m.type));
		handle(c, &m);
		off += used;
	}
	if (c->dead || c->st == CS_CLOSING)
		return;
	memmove(c->rx, c->rx + off, c->rxlen - off);
	c->rxlen -= off;
}

/* Read and parse until OpenSSL has nothing; -1 when the session died. */
static int read_some(struct ctl *c)
{
	char why[300], ebuf[256];
	int n, e;

	c->rd_ww = 0;
	while (!c->dead && reading(c)) {
		ERR_clear_error();
		n = SSL_read(c->tc.ssl, c->rx + c->rxlen, (int)(RX_CAP - c->rxlen));
		if (n > 0) {
			c->rxlen += (size_t)n;
			c->last_rx = now_ms();
			parse_frames(c);
			continue;
		}
		e = SSL_get_error(c->tc.ssl, n);
		if (e == SSL_ERROR_WANT_READ)
			return 0;
		if (e == SSL_ERROR_WANT_WRITE) {
			c->rd_ww = 1;
			return 0;
		}
		if (e == SSL_ERROR_ZERO_RETURN)
			snprintf(why, sizeof(why), "the appliance closed it (close_notify)");
		else if (e == SSL_ERROR_SYSCALL)
			snprintf(why, sizeof(why), "connection lost%s%s", errno ? ": " : "",
				 errno ? strerror(errno) : "");
		else
			snprintf(why, sizeof(why), "TLS: %s", tlsconn_ssl_err(ebuf, sizeof(ebuf)));
		sess_close(c, why);
		return -1;
	}
	return c->dead ? -1 : 0;
}

static void pump(struct ctl *c)
{
	if (c->dead)
		return;
	if (flush(c) < 0 || c->dead)
		return;
	if (read_some(c) < 0 || c->dead)
		return;
	if (flush(c) < 0 || c->dead)
		return;
	set_interest(c);
}

static void ctl_event(struct ev *ev, uint32_t events)
{
	(void)events;
	pump(container_of(ev, struct ctl, tc.ev));
}

static void kick_cb(struct timer *t)
{
	pump(container_of(t, struct ctl, kick));
}

static void tick_cb(struct timer *t)
{
	struct ctl *c = container_of(t, struct ctl, tick);
	struct ap_msg m = { .type = AP_KEEPALIVE };
	char why[128];

	if (c->st == CS_CLOSING) {
		finish(c); /* the ERROR did not get out in time */
		return;
	}
	if (c->st == CS_HELLO) {
		snprintf(why, sizeof(why), "no HELLO_ACK within %u ms", agent_cf->dial_timeout_ms);
		sess_close(c, why);
		return;
	}
	if (now_ms() - c->last_rx >= 3ull * c->ka_ms) {
		snprintf(why, sizeof(why), "nothing from the appliance for 3 keepalive intervals (%u ms)",
			 3 * c->ka_ms);
		sess_close(c, why);
		return;
	}
	m.u.ka.ts = now_ms();
	if (ctl_send(&m) == 0)
		timer_arm(&c->tick, c->ka_ms);
}

/* ----------------------------------------------------------------- dial -- */

static void dialed(struct tlsconn *tc, int err)
{
	struct ctl *c = container_of(tc, struct ctl, tc);

	dialing = NULL;
	if (err) {
		agent_stats.ctl_dial_failures++;
		log_rl(&rl_dial, "control session to %s:%u: %s", agent_cf->appliance, agent_cf->port,
		       tc->err);
		c->dead = 1;
		loop_bury(&c->grave, free_ctl);
		schedule_retry();
		return;
	}
	log_info("control session connected to %s:%u%s, sending HELLO", agent_cf->appliance,
		 agent_cf->port, agent_cf->proxy.set ? " through the proxy" : "");
	c->tc.ev.cb = ctl_event;
	c->st = CS_HELLO;
	c->last_rx = now_ms();
	cur = c;
	timer_arm(&c->tick, agent_cf->dial_timeout_ms);
	send_hello();
	pump(c);
}

static void ctl_dial(void)
{
	struct ctl *c;

	if (stopping || cur != NULL || dialing != NULL)
		return;
	agent_stats.ctl_dials++;
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		log_rl(&rl_dial, "control session: out of memory");
		schedule_retry();
		return;
	}
	tlsconn_init(&c->tc);
	timer_init(&c->tick, tick_cb);
	timer_init(&c->kick, kick_cb);
	if (tlsconn_dial(&c->tc, AP_ALPN_CONTROL, dialed) < 0) {
		agent_stats.ctl_dial_failures++;
		log_rl(&rl_dial, "control session to %s:%u: %s", agent_cf->appliance, agent_cf->port,
		       c->tc.err);
		free(c);
		schedule_retry();
		return;
	}
	dialing = &c->tc;
}

void ctl_start(void)
{
	timer_init(&retry, retry_cb);
	stopping = 0;
	ctl_dial();
}

void ctl_stop(void)
{
	struct ctl *c;

	stopping = 1;
	timer_cancel(&retry);
	if (dialing) {
		c = container_of(dialing, struct ctl, tc);
		dialing = NULL;
		tlsconn_close(&c->tc);
		c->dead = 1;
		loop_bury(&c->grave, free_ctl);
	}
	if (cur)
		finish(cur);
}
