/*
 * Relays (relay.h): a server socket and a STREAM session, one bounded ring
 * per direction (relay_buffer bytes each).  Bytes are read straight into
 * the ring's free span and written from its data span, no other copy.
 *
 * One pump does everything that can be done now, in a loop, until nothing
 * moves; epoll interest is then derived from the state, so a side whose
 * opposite ring is full is simply not read (back-pressure), and OpenSSL's
 * WANT_READ / WANT_WRITE cross-overs decide which event a side waits for.
 *
 * Closing, as agent_proto.h defines it:
 *   server EOF         -> close_notify once the down ring is empty
 *   close_notify       -> shutdown(SHUT_WR) once the up ring is empty
 *   server reset/error -> RST of the STREAM session (SO_LINGER 0)
 *   session reset/error, or EOF without close_notify -> RST of the server
 * Both directions closed -> both sockets closed, the relay freed.
 */
#include <errno.h>
#include <openssl/err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent.h"
#include "log.h"
#include "relay.h"

struct ring {
	uint8_t *buf;
	uint32_t cap, head, len;
};

struct relay {
	struct stream *s;       /* the STREAM session (its tc.ev is ours now) */
	struct ev srv;          /* the server connection */
	struct ring up;         /* appliance -> server */
	struct ring down;       /* server -> appliance */
	unsigned tls_eof : 1;   /* close_notify received */
	unsigned srv_eof : 1;   /* server FIN received */
	unsigned srv_shut : 1;  /* shutdown(SHUT_WR) done */
	unsigned tls_shut : 1;  /* close_notify sent */
	unsigned rd_ww : 1;     /* SSL_read wants the socket writable */
	unsigned wr_wr : 1;     /* SSL_write (or SSL_shutdown) wants it readable */
	unsigned dead : 1;
	unsigned kicked : 1;    /* on the kick list */
	struct relay *prev, *next;
	struct relay *kick_next;
	struct grave grave;
};

/* One pump moves at most this many rounds, then the relay waits for the
 * next loop iteration (the kick list): a relay between two fast peers must
 * not keep the control session's keepalives and the other relays waiting. */
#define PUMP_ROUNDS 16

static struct relay *relays;
static uint32_t n_relays;
static struct ratelim rl_reset, rl_mem;
static struct relay *kicks;      /* relays to pump again from the loop */
static struct timer kick_timer;
static int kick_timer_ready;

uint32_t relay_count(void) { return n_relays; }

/* ----------------------------------------------------------------- ring -- */

static uint8_t *ring_wspan(const struct ring *r, uint32_t *n)
{
	uint32_t tail = (r->head + r->len) % r->cap;

	if (r->len == r->cap)
		*n = 0;
	else
		*n = tail < r->head ? r->head - tail : r->cap - tail;
	return r->buf + tail;
}

static uint8_t *ring_rspan(const struct ring *r, uint32_t *n)
{
	*n = r->len < r->cap - r->head ? r->len : r->cap - r->head;
	return r->buf + r->head;
}

static void ring_consume(struct ring *r, uint32_t n)
{
	r->head = (r->head + n) % r->cap;
	r->len -= n;
	if (r->len == 0)
		r->head = 0; /* longest spans for the next reads */
}

/* ------------------------------------------------------------ lifecycle -- */

static void free_relay(struct grave *g)
{
	struct relay *r = container_of(g, struct relay, grave);

	free(r->up.buf);
	free(r->down.buf);
	free(r);
}

static void unkick(struct relay *r)
{
	struct relay **pp;

	if (!r->kicked)
		return;
	for (pp = &kicks; *pp && *pp != r; pp = &(*pp)->kick_next)
		;
	if (*pp)
		*pp = r->kick_next;
	r->kicked = 0;
}

static void unlink_relay(struct relay *r)
{
	unkick(r);
	if (r->prev)
		r->prev->next = r->next;
	else
		relays = r->next;
	if (r->next)
		r->next->prev = r->prev;
	n_relays--;
}

static void rst_close(struct ev *ev)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	if (ev->fd >= 0)
		setsockopt(ev->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	ev_close(ev);
}

/* Reset both sides: the side that failed is gone, the other must learn it
 * as a reset, not as an orderly end (that would truncate silently). */
static void relay_reset(struct relay *r, const char *why)
{
	if (r->dead)
		return;
	r->dead = 1;
	agent_stats.relays_reset++;
	log_rl(&rl_reset, "relay on STREAM %016llx reset: %s", (unsigned long long)r->s->id, why);
	rst_close(&r->srv);
	tlsconn_abort(&r->s->tc);
	stream_free(r->s);
	unlink_relay(r);
	loop_bury(&r->grave, free_relay);
}

static void relay_done(struct relay *r)
{
	r->dead = 1;
	log_debug("relay on STREAM %016llx done", (unsigned long long)r->s->id);
	ev_close(&r->srv);
	tlsconn_close(&r->s->tc); /* close_notify went out already */
	stream_free(r->s);
	unlink_relay(r);
	loop_bury(&r->grave, free_relay);
}

/* ---------------------------------------------------------------- moves -- */

static const char *ssl_why(SSL *ssl, int rc, char *buf, size_t len)
{
	int e = SSL_get_error(ssl, rc);

	if (e == SSL_ERROR_SYSCALL)
		return errno ? strerror(errno) : "appliance side closed without close_notify";
	return tlsconn_ssl_err(buf, len);
}

/* An SSL call on r's session failed (rc <= 0); own is the SSL_ERROR_WANT_*
 * of its direction.  0 when it only waits for the socket (in rd_ww / wr_wr
 * when a read waits to write or a write to read: set_interest), else -1
 * with the relay reset. */
static int tls_failed(struct relay *r, int rc, int own)
{
	SSL *ssl = r->s->tc.ssl;
	char ebuf[256];
	int e = SSL_get_error(ssl, rc);

	if (e == own)
		return 0;
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
		if (own == SSL_ERROR_WANT_READ)
			r->rd_ww = 1;
		else
			r->wr_wr = 1;
		return 0;
	}
	relay_reset(r, ssl_why(ssl, rc, ebuf, sizeof(ebuf)));
	return -1;
}

/* appliance -> up ring.  -1: the relay died. */
static int tls_in(struct relay *r, int *moved)
{
	SSL *ssl = r->s->tc.ssl;
	uint32_t n;
	uint8_t *p;
	int rc;

	r->rd_ww = 0;
	while (!r->tls_eof) {
		p = ring_wspan(&r->up, &n);
		if (n == 0)
			return 0;
		ERR_clear_error();
		rc = SSL_read(ssl, p, (int)n);
		if (rc > 0) {
			r->up.len += (uint32_t)rc;
		} else if (SSL_get_error(ssl, rc) == SSL_ERROR_ZERO_RETURN) {
			r->tls_eof = 1;
		} else {
			return tls_failed(r, rc, SSL_ERROR_WANT_READ);
		}
		*moved = 1;
	}
	return 0;
}

/* up ring -> server; then the FIN once close_notify came and all is out. */
static int srv_out(struct relay *r, int *moved)
{
	uint32_t n;
	uint8_t *p;
	ssize_t w;

	while (r->up.len) {
		p = ring_rspan(&r->up, &n);
		w = send(r->srv.fd, p, n, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return 0;
			relay_reset(r, errno == EPIPE || errno == ECONNRESET ? "server reset"
									      : strerror(errno));
			return -1;
		}
		ring_consume(&r->up, (uint32_t)w);
		agent_stats.bytes_to_server += (uint64_t)w;
		*moved = 1;
	}
	if (r->tls_eof && !r->srv_shut) {
		shutdown(r->srv.fd, SHUT_WR);
		r->srv_shut = 1;
		*moved = 1;
	}
	return 0;
}

/* server -> down ring */
static int srv_in(struct relay *r, int *moved)
{
	uint32_t n;
	uint8_t *p;
	ssize_t got;

	while (!r->srv_eof) {
		p = ring_wspan(&r->down, &n);
		if (n == 0)
			return 0;
		got = recv(r->srv.fd, p, n, 0);
		if (got < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return 0;
			relay_reset(r, errno == ECONNRESET ? "server reset" : strerror(errno));
			return -1;
		}
		*moved = 1;
		if (got == 0) {
			r->srv_eof = 1;
			return 0;
		}
		r->down.len += (uint32_t)got;
		agent_stats.bytes_from_server += (uint64_t)got;
	}
	return 0;
}

/* down ring -> appliance; then close_notify once the server's FIN came. */
static int tls_out(struct relay *r, int *moved)
{
	SSL *ssl = r->s->tc.ssl;
	uint32_t n;
	uint8_t *p;
	int rc;

	r->wr_wr = 0;
	while (r->down.len) {
		p = ring_rspan(&r->down, &n);
		ERR_clear_error();
		rc = SSL_write(ssl, p, (int)n);
		if (rc <= 0)
			return tls_failed(r, rc, SSL_ERROR_WANT_WRITE);
		ring_consume(&r->down, (uint32_t)rc);
		*moved = 1;
	}
	if (r->srv_eof && !r->tls_shut) {
		ERR_clear_error();
		rc = SSL_shutdown(ssl);
		if (rc < 0)
			return tls_failed(r, rc, SSL_ERROR_WANT_WRITE);
		r->tls_shut = 1;
		*moved = 1;
	}
	return 0;
}

/* A side with nothing to wait for stays in the epoll set edge-triggered
 * with no events: a reset still wakes us once (EPOLLERR), while a socket
 * at EOF or fully shut cannot make level-triggered epoll spin. */
#define ERRORS_ONLY EPOLLET

static void set_interest(struct relay *r)
{
	int tls_wants_out = r->down.len || (r->srv_eof && !r->tls_shut);
	uint32_t t = 0, s = 0;

	if ((!r->tls_eof && r->up.len < r->up.cap && !r->rd_ww) || (tls_wants_out && r->wr_wr))
		t |= EPOLLIN;
	if ((tls_wants_out && !r->wr_wr) || r->rd_ww)
		t |= EPOLLOUT;
	if (!r->srv_eof && r->down.len < r->down.cap)
		s |= EPOLLIN;
	if (r->up.len)
		s |= EPOLLOUT;
	ev_want(&r->s->tc.ev, t ? t : ERRORS_ONLY);
	ev_want(&r->srv, s ? s : ERRORS_ONLY);
}

/* EPOLLERR on a side we may not be reading or writing: a pending socket
 * error is a reset of that side.  1 when the relay died of it. */
static int side_error(struct relay *r, int fd, uint32_t events, const char *side)
{
	socklen_t sl = sizeof(int);
	char why[96];
	int err = 0;

	if (!(events & EPOLLERR))
		return 0;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &sl) < 0 || err == 0)
		return 0;
	snprintf(why, sizeof(why), "%s: %s", side, strerror(err));
	relay_reset(r, why);
	return 1;
}

static void pump(struct relay *r);

static void kick_cb(struct timer *t)
{
	struct relay *list = kicks, *r;

	(void)t;
	kicks = NULL;
	while ((r = list) != NULL) {
		list = r->kick_next;
		r->kicked = 0;
		if (!r->dead) /* (buried relays stay readable until the batch ends) */
			pump(r); /* may kick r again: onto the new list, for the next round */
	}
}

/* Pump again from the loop: OpenSSL may hold decrypted bytes that no
 * epoll event would announce. */
static void kick(struct relay *r)
{
	if (r->kicked)
		return;
	if (!kick_timer_ready) {
		timer_init(&kick_timer, kick_cb);
		kick_timer_ready = 1;
	}
	r->kicked = 1;
	r->kick_next = kicks;
	kicks = r;
	/* 1 ms, not 0: a timer armed for "now" from its own callback would run
	 * again in the same pass, before epoll had a turn */
	if (!timer_armed(&kick_timer))
		timer_arm(&kick_timer, 1);
}

static void pump(struct relay *r)
{
	int moved, rounds = 0;

	do {
		moved = 0;
		if (tls_in(r, &moved) < 0 || srv_out(r, &moved) < 0 || srv_in(r, &moved) < 0 ||
		    tls_out(r, &moved) < 0)
			return;
		if (r->tls_shut && r->srv_shut) {
			relay_done(r);
			return;
		}
	} while (moved && ++rounds < PUMP_ROUNDS);
	if (moved)
		kick(r);
	set_interest(r);
}

static void tls_event(struct ev *ev, uint32_t events)
{
	struct stream *s = container_of(ev, struct stream, tc.ev);

	if (!side_error(s->relay, ev->fd, events, "STREAM session"))
		pump(s->relay);
}

static void srv_event(struct ev *ev, uint32_t events)
{
	struct relay *r = container_of(ev, struct relay, srv);

	if (!side_error(r, ev->fd, events, "server"))
		pump(r);
}

/* ---------------------------------------------------------------- start -- */

static struct relay *relay_alloc(uint32_t cap)
{
	struct relay *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return NULL;
	r->up.buf = malloc(cap);
	r->down.buf = malloc(cap);
	if (r->up.buf == NULL || r->down.buf == NULL) {
		free(r->up.buf);
		free(r->down.buf);
		free(r);
		return NULL;
	}
	r->up.cap = r->down.cap = cap;
	ev_init(&r->srv, srv_event);
	return r;
}

int relay_start(struct stream *s, int srv_fd)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	struct relay *r = relay_alloc(agent_cf->relay_buffer);

	if (r == NULL || ev_attach(&r->srv, srv_fd, 0) < 0) {
		agent_stats.relay_alloc_failures++;
		log_rl(&rl_mem, "relay: out of memory; resetting both sides");
		if (r) {
			free(r->up.buf);
			free(r->down.buf);
			free(r);
		}
		setsockopt(srv_fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		close(srv_fd);
		tlsconn_abort(&s->tc);
		stream_free(s);
		return -ENOMEM;
	}
	r->s = s;
	s->state = ST_RELAY;
	s->relay = r;
	s->tc.ev.cb = tls_event;
	r->next = relays;
	if (relays)
		relays->prev = r;
	relays = r;
	n_relays++;
	agent_stats.relays++;
	pump(r);
	return 0;
}

void relay_close_all(void)
{
	while (relays)
		relay_reset(relays, "agent stopping");
}
