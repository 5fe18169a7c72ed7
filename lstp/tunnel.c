/*
 * The tunnel (one per process): a TCP connection to the middle, or, in
 * role middle, the one accepted from the far end proxy.
 *
 *   T_RETRY    waiting out the reconnect backoff (client, server)
 *   T_DIAL     dial.c at work
 *   T_LISTEN   role middle: no far end yet (the listener is open)
 *   T_CLEAR    COMMON_UNIQUE_INFO + TOPOLOGY_EXCHANGE: ours sent, waiting
 *              for the peer's (from the middle; role middle: from the end
 *              that connected, then ours go out with our middle hop)
 *   T_TLS      the TLS 1.3 handshake, end to end through the middle
 *   T_REX      inside TLS: both ends re-send their clear-phase messages
 *              and PROPERTY_EXCHANGE; each compares what it gets with what
 *              came in the clear
 *   T_UP       channels
 *
 * The re-exchange rule (docs/lstp.md, docs/sluice-lstp.md): each end
 * re-sends exactly the COMMON_UNIQUE_INFO and TOPOLOGY_EXCHANGE it sent in
 * the clear.  The receiver requires the secured COMMON_UNIQUE_INFO to
 * equal the one the middle delivered, and the secured TOPOLOGY_EXCHANGE to
 * equal the delivered one cut to its first entry (the peer's own; the
 * entries the middles appended cannot be re-sent).  Anything else is ERROR MISMATCH and the tunnel
 * closes: a middle that altered the clear phase (to sway the master
 * choice, or to pair ends that did not ask for each other) is caught by
 * the ends themselves.
 *
 * All TLS bytes go through memory BIOs: the bytes read with the peer's
 * last clear message may already be its first TLS record, and they are
 * handed to OpenSSL as they are.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "loop.h"
#include "lstp.h"

#define FRAME_MAX (LSTP_HDR_LEN + LSTP_MAX_BODY)
#define RX_CAP (2 * FRAME_MAX)
#define OUT_CAP 65536
#define FLUSH_NOW 65536 /* queued TLS bytes that are sent at once, not at the end of the batch */

enum tstate { T_RETRY, T_DIAL, T_LISTEN, T_CLEAR, T_TLS, T_REX, T_UP };
static const char *const tstate_name[] = { "reconnect wait", "dialing", "listening", "clear phase",
					   "TLS handshake", "re-exchange", "up" };

static struct {
	enum tstate st;
	struct ev ev;           /* the tunnel socket */
	struct ev lev;          /* role middle: the listener */
	struct timer retry, deadline, flush;
	SSL *ssl;
	BIO *rb, *wb;           /* owned by ssl */
	uint8_t rx[RX_CAP];     /* clear bytes, then plaintext from TLS */
	size_t rlen;
	uint8_t out[OUT_CAP];   /* bytes for the socket not yet sent */
	size_t olen, ooff;
	struct lstp_info mine_info, peer_info;
	struct lstp_topology mine_topo, peer_topo; /* peer_topo: as delivered */
	struct lstp_hop mid_hop;                   /* role middle: our own middle entry */
	unsigned got_info : 1, got_topo : 1, got_props : 1, sec_info : 1, sec_topo : 1;
	unsigned master : 1, blocked : 1, stopping : 1;
	uint32_t backoff;
	uint32_t peer_max_channels;
	char peer_name[LSTP_MAX_NAME + 1];
} t;

static struct ratelim rl_stranger;

static void tun_event(struct ev *ev, uint32_t events);
static void close_tunnel(int failed);
static void flush(void);

const char *tun_state_str(void) { return tstate_name[t.st]; }
int tun_is_up(void) { return t.st == T_UP; }
uint32_t tun_peer_max_channels(void) { return t.peer_max_channels; }

static size_t pending(void)
{
	return (t.wb ? BIO_ctrl_pending(t.wb) : 0) + (t.olen - t.ooff);
}

int tun_writable(void)
{
	return t.st == T_UP && pending() < lcf->tunnel_buffer;
}

/* ------------------------------------------------------------ sending -- */

/* Clear phase: straight into the socket queue. */
static int send_clear(const struct lstp_msg *m)
{
	int n = lstp_encode(m, t.out + t.olen, OUT_CAP - t.olen);

	if (n < 0)
		return n;
	t.olen += (size_t)n;
	flush();
	return 0;
}

static int ssl_out(const void *p, size_t n)
{
	int rc;

	ERR_clear_error();
	rc = SSL_write(t.ssl, p, (int)n);
	/* a memory BIO takes everything: a short or failed write is a broken
	 * TLS state, not back-pressure */
	if (rc != (int)n) {
		char why[256];

		log_err("SSL_write: %s", tls_err(why, sizeof(why)));
		return -EPIPE;
	}
	if (BIO_ctrl_pending(t.wb) >= FLUSH_NOW)
		flush();
	else if (!timer_armed(&t.flush))
		timer_arm(&t.flush, 0); /* coalesce: sent after this batch of events */
	if (!t.blocked && pending() >= lcf->tunnel_buffer)
		t.blocked = 1;
	return 0;
}

static int send_secured(const struct lstp_msg *m)
{
	uint8_t buf[FRAME_MAX];
	int n = lstp_encode(m, buf, sizeof(buf));

	if (n < 0) {
		log_err("cannot encode %s: %s", lstp_type_name(m->type), strerror(-n));
		return n;
	}
	return ssl_out(buf, (size_t)n);
}

int tun_send(const struct lstp_msg *m)
{
	if (t.st != T_UP)
		return -EPIPE;
	log_debug("-> %s ch %u", lstp_type_name(m->type), m->channel);
	return send_secured(m);
}

int tun_send_data(uint32_t channel, uint8_t *frame, uint16_t len)
{
	if (t.st != T_UP)
		return -EPIPE;
	lstp_data_hdr(frame, channel, len);
	return ssl_out(frame, LSTP_HDR_LEN + (size_t)len);
}

static void send_error(uint16_t code, const char *text)
{
	struct lstp_msg m = { .type = LSTP_ERROR };
	size_t l = strlen(text);

	if (l > LSTP_MAX_TEXT)
		l = LSTP_MAX_TEXT;
	m.u.error.code = code;
	m.u.error.text_len = (uint8_t)l;
	memcpy(m.u.error.text, text, l);
	/* printable only (the codec's rule); the text came from our own logs */
	for (size_t i = 0; i < l; i++)
		if (m.u.error.text[i] < 0x20 || m.u.error.text[i] > 0x7e)
			m.u.error.text[i] = '?';
	lstp_stats.errors_sent++;
	if (t.st == T_REX || t.st == T_UP)
		send_secured(&m);
	else if (t.st == T_CLEAR)
		send_clear(&m);
	flush();
}

/* Move TLS output to the socket. */
static void flush(void)
{
	ssize_t n;
	int r;

	timer_cancel(&t.flush);
	if (t.ev.fd < 0)
		return;
	for (;;) {
		if (t.ooff == t.olen) {
			t.ooff = t.olen = 0;
			if (t.wb == NULL || BIO_ctrl_pending(t.wb) == 0)
				break;
			r = BIO_read(t.wb, t.out, OUT_CAP);
			if (r <= 0)
				break;
			t.olen = (size_t)r;
		}
		n = send(t.ev.fd, t.out + t.ooff, t.olen - t.ooff, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR) {
				ev_want(&t.ev, EPOLLIN | EPOLLOUT);
				return;
			}
			/* seen again, and reported, by the next recv */
			log_debug("send to the middle: %s", strerror(errno));
			return;
		}
		t.ooff += (size_t)n;
	}
	ev_want(&t.ev, EPOLLIN);
	if (t.blocked && t.st == T_UP && pending() < lcf->tunnel_buffer / 2) {
		t.blocked = 0;
		chan_tunnel_writable();
	}
}

static void flush_timer(struct timer *tm)
{
	(void)tm;
	flush();
}

/* ------------------------------------------------------------ closing -- */

static void retry_timer(struct timer *tm);

static void close_tunnel(int failed)
{
	uint32_t wait;

	timer_cancel(&t.deadline);
	timer_cancel(&t.flush);
	/* docs/lstp.md: after ERROR or SHUTDOWN, TLS close_notify, then FIN */
	if (t.ssl && (t.st == T_REX || t.st == T_UP) && t.ev.fd >= 0) {
		ERR_clear_error();
		SSL_shutdown(t.ssl);
		ERR_clear_error();
		flush();
	}
	if (failed && t.st != T_UP)
		lstp_stats.tunnels_failed++;
	if (t.st == T_UP || t.st == T_REX)
		chan_tunnel_down();
	if (t.ssl) {
		SSL_free(t.ssl);
		t.ssl = NULL;
		t.rb = t.wb = NULL;
	}
	dial_cancel();
	ev_close(&t.ev);
	explicit_bzero(t.rx, t.rlen);
	t.rlen = t.olen = t.ooff = 0;
	t.got_info = t.got_topo = t.got_props = t.sec_info = t.sec_topo = 0;
	t.blocked = 0;
	t.peer_max_channels = 0;
	if (lcf->role == LC_MIDDLE) {
		t.st = T_LISTEN;
		return;
	}
	t.st = T_RETRY;
	if (t.stopping)
		return;
	wait = backoff_next(&t.backoff);
	log_info("reconnecting in %u ms", wait);
	timer_arm(&t.retry, wait);
}

void tun_fail(uint16_t code, const char *fmt, ...)
{
	char why[LSTP_MAX_TEXT + 1];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	/* before pairing, role middle's peer is anyone who can connect: a
	 * stranger's garbage must not turn into a flood of log lines */
	if (lcf->role == LC_MIDDLE && t.st == T_CLEAR)
		log_rl(&rl_stranger, "tunnel (%s) closed: ERROR %s: %s", tstate_name[t.st],
		       lstp_err_name(code), why);
	else
		log_warn("tunnel (%s) closed: ERROR %s: %s", tstate_name[t.st], lstp_err_name(code), why);
	if (code == LSTP_ERR_MISMATCH)
		lstp_stats.mismatch++;
	send_error(code, why);
	close_tunnel(1);
}

/* The peer or the network ended it: nothing to send. */
static void tun_lost(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void tun_lost(const char *fmt, ...)
{
	char why[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (lcf->role == LC_MIDDLE && t.st == T_CLEAR)
		log_rl(&rl_stranger, "tunnel (%s) closed: %s", tstate_name[t.st], why);
	else
		log_warn("tunnel (%s) closed: %s", tstate_name[t.st], why);
	close_tunnel(1);
}

static void deadline_timer(struct timer *tm)
{
	(void)tm;
	tun_fail(LSTP_ERR_EXPIRED, "no %s within %u ms", tstate_name[t.st], lcf->handshake_timeout_ms);
}

void tun_stop(void)
{
	struct lstp_msg m = { .type = LSTP_SHUTDOWN };

	t.stopping = 1;
	timer_cancel(&t.retry);
	if (t.st == T_UP)
		send_secured(&m); /* close_tunnel adds close_notify */
	close_tunnel(0);
	ev_close(&t.lev);
}

/* ------------------------------------------------------- clear phase -- */

static void fill_self(uint32_t addr)
{
	struct lstp_hop *h = &t.mine_topo.hop[0];
	size_t l;

	memset(&t.mine_info, 0, sizeof(t.mine_info));
	l = strlen(lcf->common);
	t.mine_info.common_len = (uint8_t)l;
	memcpy(t.mine_info.common, lcf->common, l);
	l = strlen(lcf->unique);
	t.mine_info.unique_len = (uint8_t)l;
	memcpy(t.mine_info.unique, lcf->unique, l);
	memset(&t.mine_topo, 0, sizeof(t.mine_topo));
	t.mine_topo.n = 1;
	h->role = lcf->role == LC_SERVER ? LSTP_ROLE_SERVER : LSTP_ROLE_CLIENT;
	h->name_len = (uint8_t)strlen(lcf->name);
	memcpy(h->name, lcf->name, h->name_len);
	h->addr = addr;
	h->port = 0;
	/* a fresh nonce per connection: it breaks master ties, and a replayed
	 * clear phase from an earlier tunnel does not match it */
	if (getrandom(h->nonce, sizeof(h->nonce), 0) != (ssize_t)sizeof(h->nonce))
		for (size_t i = 0; i < sizeof(h->nonce); i++)
			h->nonce[i] = (uint8_t)random();
}

static int send_setup(int clear, const struct lstp_hop *append)
{
	struct lstp_msg m = { .type = LSTP_COMMON_UNIQUE_INFO };
	int rc;

	m.u.info = t.mine_info;
	rc = clear ? send_clear(&m) : send_secured(&m);
	if (rc < 0)
		return rc;
	memset(&m, 0, sizeof(m));
	m.type = LSTP_TOPOLOGY_EXCHANGE;
	m.u.topo = t.mine_topo;
	if (append)
		m.u.topo.hop[m.u.topo.n++] = *append;
	return clear ? send_clear(&m) : send_secured(&m);
}

static int send_props(void)
{
	struct lstp_msg m = { .type = LSTP_PROPERTY_EXCHANGE };
	struct lstp_props *p = &m.u.props;

	snprintf(p->p[0].key, sizeof(p->p[0].key), "software");
	snprintf(p->p[0].value, sizeof(p->p[0].value), "%s", LSTP_SOFTWARE);
	snprintf(p->p[1].key, sizeof(p->p[1].key), "max_channels");
	snprintf(p->p[1].value, sizeof(p->p[1].value), "%u", lcf->max_channels);
	snprintf(p->p[2].key, sizeof(p->p[2].key), "role");
	snprintf(p->p[2].value, sizeof(p->p[2].value), "%s", lcf->role == LC_SERVER ? "server" : "client");
	p->n = 3;
	for (unsigned i = 0; i < p->n; i++) {
		p->p[i].klen = (uint8_t)strlen(p->p[i].key);
		p->p[i].vlen = (uint8_t)strlen(p->p[i].value);
	}
	return send_secured(&m);
}

static void start_tls(void);

/* Both clear messages of the peer are in (t.peer_info, t.peer_topo). */
static void paired(void)
{
	const struct lstp_hop *p = &t.peer_topo.hop[0];
	int m;

	if (t.peer_info.common_len != t.mine_info.common_len ||
	    memcmp(t.peer_info.common, t.mine_info.common, t.mine_info.common_len) != 0) {
		tun_fail(LSTP_ERR_REFUSED, "paired with an end of another common");
		return;
	}
	if (lcf->role == LC_MIDDLE) {
		/* we are the middle the far end went through: it gets our
		 * setup with our middle entry, and we see its setup as a
		 * middle would deliver it */
		if (send_setup(1, &t.mid_hop) < 0) {
			tun_fail(LSTP_ERR_INTERNAL, "cannot send our setup");
			return;
		}
		if (t.peer_topo.n >= LSTP_MAX_HOPS) {
			tun_fail(LSTP_ERR_REFUSED, "topology already has %u hops", t.peer_topo.n);
			return;
		}
		t.peer_topo.hop[t.peer_topo.n++] = t.mid_hop;
	}
	if ((p->role == LSTP_ROLE_SERVER) == (t.mine_topo.hop[0].role == LSTP_ROLE_SERVER)) {
		tun_fail(LSTP_ERR_REFUSED, "the peer end \"%s\" is a %s end too", p->name,
			 p->role == LSTP_ROLE_SERVER ? "server" : "client");
		return;
	}
	m = lstp_is_master(&t.mine_topo, &t.peer_topo);
	if (m < 0) {
		tun_fail(LSTP_ERR_UNEXPECTED, "our own setup came back (a loop, not a peer)");
		return;
	}
	t.master = m == 1;
	memcpy(t.peer_name, p->name, p->name_len);
	t.peer_name[p->name_len] = '\0';
	log_info("paired with \"%s\" (%u hops); we are the %s", t.peer_name, t.peer_topo.n,
		 t.master ? "master (TLS client)" : "TLS server");
	start_tls();
}

/* A clear-phase message. */
static void clear_msg(const struct lstp_msg *m)
{
	switch (m->type) {
	case LSTP_COMMON_UNIQUE_INFO:
		if (t.got_info) {
			tun_fail(LSTP_ERR_UNEXPECTED, "second COMMON_UNIQUE_INFO in the clear phase");
			return;
		}
		t.peer_info = m->u.info;
		t.got_info = 1;
		return;
	case LSTP_TOPOLOGY_EXCHANGE:
		if (!t.got_info || t.got_topo) {
			tun_fail(LSTP_ERR_UNEXPECTED, "TOPOLOGY_EXCHANGE out of order");
			return;
		}
		t.peer_topo = m->u.topo;
		t.got_topo = 1;
		return;
	case LSTP_ERROR:
		lstp_stats.errors_received++;
		tun_lost("the %s sent ERROR %s: %s", lcf->role == LC_MIDDLE ? "end" : "middle",
			 lstp_err_name(m->u.error.code), m->u.error.text);
		return;
	default:
		tun_fail(LSTP_ERR_UNEXPECTED, "%s in the clear phase", lstp_type_name(m->type));
	}
}

/* Parse t.rx; consumed bytes are removed. */
static void parse_rx(void (*handle)(const struct lstp_msg *m), enum tstate in)
{
	struct lstp_msg m;
	const char *why = "";
	uint16_t err = LSTP_ERR_MALFORMED;
	size_t off = 0, used;
	int rc;

	while (t.st == in) {
		rc = lstp_parse(t.rx + off, t.rlen - off, &m, &used, &why, &err);
		if (rc == -EAGAIN)
			break;
		if (rc < 0) {
			tun_fail(err, "%s", why);
			return;
		}
		off += used;
		handle(&m);
		if (in == T_CLEAR && t.st == T_CLEAR && t.got_info && t.got_topo) {
			/* what follows is TLS: keep it for the handshake */
			memmove(t.rx, t.rx + off, t.rlen - off);
			t.rlen -= off;
			paired();
			return;
		}
	}
	if (t.st != in && t.ev.fd < 0)
		return; /* closed: buffers already wiped */
	memmove(t.rx, t.rx + off, t.rlen - off);
	t.rlen -= off;
}

/* ------------------------------------------------------------- TLS -- */

static void peer_cert_log(void)
{
	X509 *x = SSL_get1_peer_certificate(t.ssl);
	char subj[256] = "?";

	if (x) {
		X509_NAME_oneline(X509_get_subject_name(x), subj, sizeof(subj));
		X509_free(x);
	}
	log_info("TLS up with \"%s\" (%s, %s, certificate %s)", t.peer_name, SSL_get_version(t.ssl),
		 SSL_get_cipher_name(t.ssl), subj);
}

static void secured_process(void);

static void start_tls(void)
{
	t.ssl = tls_new(t.master);
	if (t.ssl == NULL) {
		char why[256];

		tun_fail(LSTP_ERR_INTERNAL, "TLS setup: %s", tls_err(why, sizeof(why)));
		return;
	}
	t.rb = SSL_get_rbio(t.ssl);
	t.wb = SSL_get_wbio(t.ssl);
	t.st = T_TLS;
	timer_arm(&t.deadline, lcf->handshake_timeout_ms);
	/* bytes read behind the peer's last clear message: its first TLS
	 * record(s), exactly as sent */
	if (t.rlen) {
		BIO_write(t.rb, t.rx, (int)t.rlen);
		t.rlen = 0;
	}
	secured_process();
}

static int handshake(void)
{
	const unsigned char *sel;
	unsigned int len;
	char why[256];
	long vr;
	int rc, e;

	ERR_clear_error();
	rc = SSL_do_handshake(t.ssl);
	if (rc == 1) {
		SSL_get0_alpn_selected(t.ssl, &sel, &len);
		if (len != strlen(LSTP_ALPN) || memcmp(sel, LSTP_ALPN, len) != 0) {
			lstp_stats.auth_failed++;
			tun_lost("peer end did not select ALPN \"%s\"", LSTP_ALPN);
			return -1;
		}
		peer_cert_log();
		t.st = T_REX;
		if (send_setup(0, NULL) < 0 || send_props() < 0) {
			tun_fail(LSTP_ERR_INTERNAL, "cannot send the re-exchange");
			return -1;
		}
		return 0;
	}
	e = SSL_get_error(t.ssl, rc);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
		flush();
		return 1;
	}
	lstp_stats.auth_failed++;
	vr = SSL_get_verify_result(t.ssl);
	flush(); /* our alert, if any */
	if (vr != X509_V_OK)
		tun_lost("peer end certificate rejected: %s", X509_verify_cert_error_string(vr));
	else
		tun_lost("TLS handshake with \"%s\": %s", t.peer_name, tls_err(why, sizeof(why)));
	return -1;
}

/* Topology as the peer sent it (docs/lstp.md, "The secured
 * re-exchange"): the delivered one cut to its first entry, the peer's own;
 * the middles' entries cannot be re-sent. */
static void peer_own(const struct lstp_topology *in, struct lstp_topology *out)
{
	*out = *in;
	out->n = 1;
}

static void up(void)
{
	timer_cancel(&t.deadline);
	t.st = T_UP;
	t.backoff = 0;
	lstp_stats.tunnels_up++;
	log_info("tunnel up with \"%s\" (its max_channels %u)", t.peer_name, t.peer_max_channels);
}

static void rex_msg(const struct lstp_msg *m)
{
	struct lstp_topology s;
	unsigned i;

	switch (m->type) {
	case LSTP_COMMON_UNIQUE_INFO:
		if (t.sec_info) {
			tun_fail(LSTP_ERR_UNEXPECTED, "second COMMON_UNIQUE_INFO");
			return;
		}
		if (!lstp_info_eq(&m->u.info, &t.peer_info)) {
			tun_fail(LSTP_ERR_MISMATCH, "secured COMMON_UNIQUE_INFO differs from the clear one");
			return;
		}
		t.sec_info = 1;
		return;
	case LSTP_TOPOLOGY_EXCHANGE:
		if (!t.sec_info || t.sec_topo) {
			tun_fail(LSTP_ERR_UNEXPECTED, "TOPOLOGY_EXCHANGE out of order");
			return;
		}
		peer_own(&t.peer_topo, &s);
		if (!lstp_topo_eq(&m->u.topo, &s)) {
			tun_fail(LSTP_ERR_MISMATCH, "secured TOPOLOGY_EXCHANGE differs from the clear one");
			return;
		}
		t.sec_topo = 1;
		return;
	case LSTP_PROPERTY_EXCHANGE:
		if (!t.sec_topo) {
			tun_fail(LSTP_ERR_UNEXPECTED, "PROPERTY_EXCHANGE before the re-exchange");
			return;
		}
		t.peer_max_channels = lcf->max_channels;
		for (i = 0; i < m->u.props.n; i++) {
			const struct lstp_prop *p = &m->u.props.p[i];

			if (strcmp(p->key, "max_channels") == 0) {
				unsigned long v = strtoul(p->value, NULL, 10);

				if (v >= 1 && v < t.peer_max_channels)
					t.peer_max_channels = (uint32_t)v;
			} else if (strcmp(p->key, "software") == 0) {
				log_info("peer end software: %s", p->value);
			}
		}
		up();
		return;
	case LSTP_ERROR:
		lstp_stats.errors_received++;
		tun_lost("peer end sent ERROR %s: %s", lstp_err_name(m->u.error.code), m->u.error.text);
		return;
	default:
		tun_fail(LSTP_ERR_UNEXPECTED, "%s before PROPERTY_EXCHANGE", lstp_type_name(m->type));
	}
}

static void up_msg(const struct lstp_msg *m)
{
	switch (m->type) {
	case LSTP_SHUTDOWN:
		tun_lost("peer end sent SHUTDOWN");
		return;
	case LSTP_ERROR:
		lstp_stats.errors_received++;
		tun_lost("peer end sent ERROR %s: %s", lstp_err_name(m->u.error.code), m->u.error.text);
		return;
	case LSTP_COMMON_UNIQUE_INFO:
	case LSTP_TOPOLOGY_EXCHANGE:
	case LSTP_PROPERTY_EXCHANGE:
		tun_fail(LSTP_ERR_UNEXPECTED, "%s after the re-exchange", lstp_type_name(m->type));
		return;
	default:
		chan_msg(m);
	}
}

/* Run OpenSSL over what is in the read BIO. */
static void secured_process(void)
{
	enum tstate st;
	int n, e;

	if (t.st == T_TLS && handshake() != 0)
		return;
	while (t.st == T_REX || t.st == T_UP) {
		ERR_clear_error();
		n = SSL_read(t.ssl, t.rx + t.rlen, (int)(RX_CAP - t.rlen));
		if (n <= 0) {
			e = SSL_get_error(t.ssl, n);
			if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
				break;
			if (e == SSL_ERROR_ZERO_RETURN) {
				tun_lost("peer end closed TLS (close_notify)");
			} else {
				char why[256];

				tun_lost("TLS: %s", tls_err(why, sizeof(why)));
			}
			return;
		}
		t.rlen += (size_t)n;
		st = t.st;
		parse_rx(st == T_REX ? rex_msg : up_msg, st);
		if (t.st == T_UP && st == T_REX)
			parse_rx(up_msg, T_UP); /* channel messages right behind PROPERTY_EXCHANGE */
	}
	if (t.ev.fd >= 0)
		flush();
}

/* ------------------------------------------------------------ socket -- */

static void tun_event(struct ev *ev, uint32_t events)
{
	uint8_t buf[65536];
	ssize_t n;
	int rounds;

	(void)ev;
	if (events & EPOLLOUT) {
		flush();
		if (t.ev.fd < 0)
			return;
	}
	if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		return;
	for (rounds = 0; rounds < 8 && t.ev.fd >= 0; rounds++) {
		if (t.st == T_CLEAR)
			n = recv(t.ev.fd, t.rx + t.rlen, RX_CAP - t.rlen, 0);
		else
			n = recv(t.ev.fd, buf, sizeof(buf), 0);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			tun_lost("%s closed the connection%s%s",
				 lcf->role == LC_MIDDLE ? "the far end" : "the middle", n ? ": " : "",
				 n ? strerror(errno) : "");
			return;
		}
		if (t.st == T_CLEAR) {
			t.rlen += (size_t)n;
			parse_rx(clear_msg, T_CLEAR);
			if (t.st == T_CLEAR && t.rlen == RX_CAP) {
				tun_fail(LSTP_ERR_OVERSIZED, "clear phase overflows %d bytes", RX_CAP);
				return;
			}
			continue;
		}
		if (t.st != T_TLS && t.st != T_REX && t.st != T_UP)
			return;
		if (BIO_write(t.rb, buf, (int)n) != (int)n) {
			tun_fail(LSTP_ERR_INTERNAL, "out of memory for TLS input");
			return;
		}
		secured_process();
	}
}

static void keepalive(int fd)
{
	int one = 1, idle = 30, intvl = 10, cnt = 3;

	/* a middle or far end that vanished without a FIN is noticed in about
	 * a minute, and the end reconnects */
	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

static uint32_t local_addr(int fd)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);

	if (getsockname(fd, (struct sockaddr *)&sa, &sl) < 0 || sa.sin_family != AF_INET)
		return 0;
	return ntohl(sa.sin_addr.s_addr);
}

static void dialed(int fd, int err, const char *why)
{
	int rc;

	if (err < 0) {
		log_warn("dial: %s", why);
		close_tunnel(1);
		return;
	}
	if ((rc = ev_attach(&t.ev, fd, EPOLLIN)) < 0) {
		log_err("epoll: %s", strerror(-rc));
		close(fd);
		close_tunnel(1);
		return;
	}
	keepalive(fd);
	fill_self(local_addr(fd));
	t.st = T_CLEAR;
	log_info("connected to the middle %s:%u%s; waiting for the peer end", lcf->middle_host,
		 lcf->middle_port, lcf->proxy.kind == LC_PROXY_SOCKS5 ? " via SOCKS5" :
				   lcf->proxy.kind == LC_PROXY_HTTP ? " via HTTP CONNECT" : "");
	/* no deadline while the middle holds us unpaired: pairing waits for
	 * the far end, and the middle expires us itself */
	if (send_setup(1, NULL) < 0)
		tun_fail(LSTP_ERR_INTERNAL, "cannot send our setup");
}

static void retry_timer(struct timer *tm)
{
	int rc;

	(void)tm;
	t.st = T_DIAL;
	if ((rc = dial_start(dialed)) < 0)
		close_tunnel(1);
}

/* Role middle: a far end connects. */
static void accept_event(struct ev *ev, uint32_t events)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	static struct ratelim rl;
	int fd, rc;

	(void)events;
	fd = accept4(ev->fd, (struct sockaddr *)&sa, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0) {
		if (errno != EAGAIN && errno != EINTR)
			log_rl(&rl, "accept: %s", strerror(errno));
		return;
	}
	if (t.st != T_LISTEN) {
		/* one far end per middle process: the tunnel is taken */
		struct lstp_msg m = { .type = LSTP_ERROR };
		uint8_t b[64];
		int n;

		m.u.error.code = LSTP_ERR_REFUSED;
		m.u.error.text_len = (uint8_t)snprintf(m.u.error.text, sizeof(m.u.error.text), "busy");
		n = lstp_encode(&m, b, sizeof(b));
		if (n > 0 && send(fd, b, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
			log_debug("send ERROR: %s", strerror(errno));
		log_rl(&rl, "refused an end from %s:%u: the tunnel is %s", inet_ntoa(sa.sin_addr),
		       ntohs(sa.sin_port), tstate_name[t.st]);
		lstp_stats.errors_sent++;
		close(fd);
		return;
	}
	if ((rc = ev_attach(&t.ev, fd, EPOLLIN)) < 0) {
		log_err("epoll: %s", strerror(-rc));
		close(fd);
		return;
	}
	keepalive(fd);
	log_info("far end connected from %s:%u", inet_ntoa(sa.sin_addr), ntohs(sa.sin_port));
	fill_self(lcf->socks_set ? lcf->socks_addr : 0);
	memset(&t.mid_hop, 0, sizeof(t.mid_hop));
	t.mid_hop.role = LSTP_ROLE_MIDDLE;
	t.mid_hop.name_len = t.mine_topo.hop[0].name_len;
	memcpy(t.mid_hop.name, t.mine_topo.hop[0].name, t.mid_hop.name_len);
	t.mid_hop.addr = local_addr(fd);
	t.mid_hop.port = lcf->middle_port;
	if (getrandom(t.mid_hop.nonce, sizeof(t.mid_hop.nonce), 0) < 0)
		memset(t.mid_hop.nonce, 0x5a, sizeof(t.mid_hop.nonce));
	t.st = T_CLEAR;
	/* the far end speaks first; it must do so promptly */
	timer_arm(&t.deadline, lcf->handshake_timeout_ms);
}

static int listen_middle(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(lcf->middle_port) };
	int fd, one = 1, rc;

	inet_pton(AF_INET, lcf->middle_host, &sa.sin_addr);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 16) < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	ev_init(&t.lev, accept_event);
	if ((rc = ev_attach(&t.lev, fd, EPOLLIN)) < 0) {
		close(fd);
		return rc;
	}
	return 0;
}

int tun_start(void)
{
	int rc;

	ev_init(&t.ev, tun_event);
	timer_init(&t.retry, retry_timer);
	timer_init(&t.deadline, deadline_timer);
	timer_init(&t.flush, flush_timer);
	if (lcf->role == LC_MIDDLE) {
		t.st = T_LISTEN;
		if ((rc = listen_middle()) < 0)
			return rc;
		log_info("role middle: waiting for the far end on %s:%u", lcf->middle_host,
			 lcf->middle_port);
		return 0;
	}
	t.st = T_RETRY;
	timer_arm(&t.retry, 0);
	return 0;
}
