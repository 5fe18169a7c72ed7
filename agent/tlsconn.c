/*
 * Dialing the appliance (tlsconn.h).  One state machine per dial:
 *
 *   TC_TCP       non-blocking connect to the appliance or to the proxy
 *   TC_PROXY_TX  "CONNECT host:port HTTP/1.1" (+ Proxy-Authorization)
 *   TC_PROXY_RX  the proxy's response header; only a 2xx goes on
 *   TC_TLS       SSL_connect until done; the server must select our ALPN
 *   TC_UP        handed to the owner
 *
 * The name checked in the appliance's certificate is server_name, or else
 * the appliance address as configured (DNS name, or IP address against the
 * certificate's IP SANs): a CA that also signs agent certificates must not
 * let one agent pose as the appliance to another, so the chain alone is
 * never enough.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sluice/agent_proto.h>

#include "agent.h"
#include "log.h"
#include "tlsconn.h"

#define PROXY_HDR_MAX 8192 /* a CONNECT response header longer than this is refused */

static SSL_CTX *ctx;
static const struct agent_conf *cf;

const char *tlsconn_ssl_err(char *buf, size_t len)
{
	unsigned long e = ERR_get_error();

	if (e == 0)
		snprintf(buf, len, "no OpenSSL error queued");
	else
		ERR_error_string_n(e, buf, len);
	ERR_clear_error();
	return buf;
}

/* OpenSSL's message for a missing file is cryptic; say it plainly. */
static int readable(const char *what, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");

	if (f == NULL) {
		snprintf(err, errlen, "%s %s: %s", what, path, strerror(errno));
		return -1;
	}
	fclose(f);
	return 0;
}

/* ------------------------------------------------------- resumption -- */

/* The newest resumable session the appliance gave us a ticket for.  Every
 * STREAM and DGRAM dial offers it: a resumed handshake costs no certificate
 * signature or chain verification at either end, which is most of what a
 * pooled session costs (bench/README.md, connects).  The appliance issued
 * the ticket to a session that proved our certificate, and it still checks
 * the certificate's name against its agents on every resumption.  A new
 * ticket comes with every handshake, so the one kept stays fresh; the
 * appliance decides how long one is good for. */
static SSL_SESSION *resume;

static void forget_session(void)
{
	SSL_SESSION_free(resume);
	resume = NULL;
}

static int new_session(SSL *ssl, SSL_SESSION *sess)
{
	(void)ssl;
	if (!SSL_SESSION_is_resumable(sess))
		return 0;
	forget_session();
	resume = sess;
	return 1; /* we keep the reference */
}

int tlsconn_setup(const struct agent_conf *conf, char *err, size_t errlen)
{
	char why[256];
	SSL_CTX *c;

	if (readable("ca", conf->ca, err, errlen) < 0 || readable("cert", conf->cert, err, errlen) < 0 ||
	    readable("key", conf->key, err, errlen) < 0)
		return -1;

	c = SSL_CTX_new(TLS_client_method());
	if (c == NULL) {
		snprintf(err, errlen, "SSL_CTX_new: %s", tlsconn_ssl_err(why, sizeof(why)));
		return -1;
	}
	SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION);
	SSL_CTX_set_options(c, SSL_OP_NO_RENEGOTIATION);
	/* the relays write from ring buffers whose readable span can move and
	 * grow between retries; idle pool sessions hold no buffers */
	SSL_CTX_set_mode(c, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
				    SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_verify(c, SSL_VERIFY_PEER, NULL);
	/* STREAM sessions resume (RFC 8446 2.2): the tickets are kept here,
	 * not in OpenSSL's client cache, which is keyed by nothing we use */
	SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
	SSL_CTX_sess_set_new_cb(c, new_session);
	if (SSL_CTX_load_verify_locations(c, conf->ca, NULL) != 1) {
		snprintf(err, errlen, "ca %s: %s", conf->ca, tlsconn_ssl_err(why, sizeof(why)));
		goto fail;
	}
	if (SSL_CTX_use_certificate_chain_file(c, conf->cert) != 1) {
		snprintf(err, errlen, "cert %s: %s", conf->cert, tlsconn_ssl_err(why, sizeof(why)));
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(c, conf->key, SSL_FILETYPE_PEM) != 1) {
		snprintf(err, errlen, "key %s: %s", conf->key, tlsconn_ssl_err(why, sizeof(why)));
		goto fail;
	}
	if (SSL_CTX_check_private_key(c) != 1) {
		snprintf(err, errlen, "key %s does not match cert %s", conf->key, conf->cert);
		goto fail;
	}
	tlsconn_teardown();
	ctx = c;
	cf = conf;
	return 0;
fail:
	SSL_CTX_free(c);
	return -1;
}

void tlsconn_teardown(void)
{
	forget_session();
	SSL_CTX_free(ctx);
	ctx = NULL;
}

uint32_t backoff_next(struct backoff *b)
{
	uint32_t d;

	if (b->cur == 0)
		b->cur = cf->backoff_min_ms;
	else
		b->cur = b->cur > cf->backoff_max_ms / 2 ? cf->backoff_max_ms : b->cur * 2;
	/* jitter in [cur/2, cur]: agents restarted together (an appliance
	 * restart drops all of them at once) do not come back in lockstep */
	d = b->cur / 2 + (uint32_t)(random() % (b->cur - b->cur / 2 + 1));
	return d ? d : 1;
}

/* ------------------------------------------------------------- the dial -- */

static void tc_event(struct ev *ev, uint32_t events);
static void tc_deadline(struct timer *t);

void tlsconn_init(struct tlsconn *tc)
{
	memset(tc, 0, sizeof(*tc));
	ev_init(&tc->ev, tc_event);
	timer_init(&tc->deadline, tc_deadline);
	tc->phase = TC_IDLE;
}

static void release(struct tlsconn *tc)
{
	timer_cancel(&tc->deadline);
	if (tc->pbuf) {
		explicit_bzero(tc->pbuf, tc->plen > tc->poff ? tc->plen : tc->poff);
		free(tc->pbuf);
		tc->pbuf = NULL;
	}
	if (tc->ssl) {
		SSL_free(tc->ssl);
		tc->ssl = NULL;
	}
	ev_close(&tc->ev);
	tc->phase = TC_IDLE;
}

/* The dial failed: clean up, then tell the owner (which may bury tc). */
static void fail(struct tlsconn *tc, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void fail(struct tlsconn *tc, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(tc->err, sizeof(tc->err), fmt, ap);
	va_end(ap);
	release(tc);
	tc->done(tc, err);
}

static const char *target_host(void) { return cf->proxy.set ? cf->proxy.host : cf->appliance; }
static uint16_t target_port(void) { return cf->proxy.set ? cf->proxy.port : cf->port; }

/* Resolve the first hop.  getaddrinfo blocks for a DNS name; an agent
 * normally names its appliance or proxy by address, and one lookup per
 * dial (at most one per backoff step) is an acceptable pause. */
static int resolve(struct sockaddr_in *sa, char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_STREAM }, *res;
	int rc;

	memset(sa, 0, sizeof(*sa));
	if (inet_pton(AF_INET, target_host(), &sa->sin_addr) != 1) {
		rc = getaddrinfo(target_host(), NULL, &hints, &res);
		if (rc != 0) {
			snprintf(err, errlen, "resolving %s: %s", target_host(), gai_strerror(rc));
			return -EHOSTUNREACH;
		}
		*sa = *(struct sockaddr_in *)res->ai_addr;
		freeaddrinfo(res);
	}
	sa->sin_family = AF_INET;
	sa->sin_port = htons(target_port());
	return 0;
}

/* A random local port for each dial, not the kernel's next one: the
 * appliance's worker for a session follows the hash of its 4-tuple, and
 * Linux hands out connect() ports in steps of two, whose hashes can miss a
 * worker for dozens of dials in a row (flow/dispatch.h) -- the appliance
 * asks for DGRAM sessions until one lands on the worker it needs.  Best
 * effort: on failure the kernel chooses. */
static void random_port(int fd)
{
	for (int i = 0; i < 8; i++) {
		uint16_t r;
		struct sockaddr_in me = { .sin_family = AF_INET };

		if (RAND_bytes((unsigned char *)&r, sizeof(r)) != 1)
			return;
		me.sin_port = htons((uint16_t)(32768 + r % (61000 - 32768)));
		if (bind(fd, (struct sockaddr *)&me, sizeof(me)) == 0 || errno != EADDRINUSE)
			return;
	}
}

int tlsconn_dial(struct tlsconn *tc, const char *alpn, void (*done)(struct tlsconn *tc, int err))
{
	struct sockaddr_in sa;
	int fd, rc;

	tc->alpn = alpn;
	tc->done = done;
	tc->err[0] = '\0';
	if ((rc = resolve(&sa, tc->err, sizeof(tc->err))) < 0)
		return rc;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		rc = -errno;
		snprintf(tc->err, sizeof(tc->err), "socket: %s", strerror(errno));
		return rc;
	}
	random_port(fd);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno != EINPROGRESS) {
		rc = -errno;
		snprintf(tc->err, sizeof(tc->err), "connect %s:%u: %s", target_host(), target_port(),
			 strerror(errno));
		close(fd);
		return rc;
	}
	if ((rc = ev_attach(&tc->ev, fd, EPOLLOUT)) < 0) {
		snprintf(tc->err, sizeof(tc->err), "epoll: %s", strerror(-rc));
		close(fd);
		return rc;
	}
	tc->phase = TC_TCP;
	timer_arm(&tc->deadline, cf->dial_timeout_ms);
	return 0;
}

static void tc_deadline(struct timer *t)
{
	struct tlsconn *tc = container_of(t, struct tlsconn, deadline);
	static const char *const phase[] = { "idle", "TCP connect", "proxy request",
					     "proxy response", "TLS handshake", "up" };

	fail(tc, -ETIMEDOUT, "no %s within %u ms", phase[tc->phase], cf->dial_timeout_ms);
}

/* ---------------------------------------------------------------- proxy -- */

static int proxy_request(struct tlsconn *tc)
{
	char auth[2 * (AGENT_CRED_MAX + 1) + 1], b64[4 * (sizeof(auth) + 2) / 3 + 4], hdr[512 + 4 * 256];
	int n, a;

	hdr[0] = '\0';
	if (cf->proxy.auth) {
		/* RFC 7617: base64(user ":" pass) */
		a = snprintf(auth, sizeof(auth), "%s:%s", cf->proxy.user, cf->proxy.pass);
		EVP_EncodeBlock((unsigned char *)b64, (const unsigned char *)auth, a);
		snprintf(hdr, sizeof(hdr), "Proxy-Authorization: Basic %s\r\n", b64);
		explicit_bzero(auth, sizeof(auth));
		explicit_bzero(b64, sizeof(b64));
	}
	tc->pbuf = malloc(PROXY_HDR_MAX);
	if (tc->pbuf == NULL) {
		explicit_bzero(hdr, sizeof(hdr));
		return -ENOMEM;
	}
	/* RFC 9110 9.3.6: the request target is host:port, Host the same */
	n = snprintf(tc->pbuf, PROXY_HDR_MAX,
		     "CONNECT %s:%u HTTP/1.1\r\nHost: %s:%u\r\n%sUser-Agent: %s\r\n\r\n",
		     cf->appliance, cf->port, cf->appliance, cf->port, hdr, AGENT_SOFTWARE);
	explicit_bzero(hdr, sizeof(hdr));
	tc->plen = (size_t)n;
	tc->poff = 0;
	return 0;
}

static void proxy_tx(struct tlsconn *tc)
{
	ssize_t n = send(tc->ev.fd, tc->pbuf + tc->poff, tc->plen - tc->poff, MSG_NOSIGNAL);

	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR)
			fail(tc, -errno, "proxy %s:%u: send: %s", cf->proxy.host, cf->proxy.port,
			     strerror(errno));
		return;
	}
	tc->poff += (size_t)n;
	if (tc->poff < tc->plen)
		return;
	explicit_bzero(tc->pbuf, tc->plen); /* the credentials */
	tc->plen = tc->poff = 0;
	tc->phase = TC_PROXY_RX;
	ev_want(&tc->ev, EPOLLIN);
}

static void start_tls(struct tlsconn *tc);

/* The status line, cut at CR and stripped of what a log line must not carry. */
static void status_line(const char *hdr, char *out, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len && hdr[i] && hdr[i] != '\r' && hdr[i] != '\n'; i++)
		out[i] = (hdr[i] >= 0x20 && hdr[i] < 0x7f) ? hdr[i] : '?';
	out[i] = '\0';
}

static void proxy_rx(struct tlsconn *tc)
{
	char line[128], *end;
	ssize_t n;
	size_t hlen;

	n = recv(tc->ev.fd, tc->pbuf + tc->plen, PROXY_HDR_MAX - 1 - tc->plen, 0);
	if (n <= 0) {
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		fail(tc, n ? -errno : -ECONNRESET, "proxy %s:%u closed before answering CONNECT%s%s",
		     cf->proxy.host, cf->proxy.port, n ? ": " : "", n ? strerror(errno) : "");
		return;
	}
	tc->plen += (size_t)n;
	tc->pbuf[tc->plen] = '\0';
	end = strstr(tc->pbuf, "\r\n\r\n");
	if (end == NULL) {
		if (tc->plen >= PROXY_HDR_MAX - 1)
			fail(tc, -EPROTO, "proxy response header longer than %d bytes", PROXY_HDR_MAX);
		return;
	}
	hlen = (size_t)(end - tc->pbuf) + 4;
	status_line(tc->pbuf, line, sizeof(line));
	if (strncmp(line, "HTTP/1.", 7) != 0 || line[8] != ' ' || line[9] != '2') {
		fail(tc, -ECONNREFUSED, "proxy %s:%u refused CONNECT %s:%u: \"%s\"", cf->proxy.host,
		     cf->proxy.port, cf->appliance, cf->port, line);
		return;
	}
	/* RFC 9110 15.3: a 2xx to CONNECT has no content; the tunnel is silent
	 * until our ClientHello, so anything more is not the appliance */
	if (tc->plen != hlen) {
		fail(tc, -EPROTO, "proxy sent %zu bytes after its 2xx to CONNECT", tc->plen - hlen);
		return;
	}
	log_debug("proxy %s:%u: %s", cf->proxy.host, cf->proxy.port, line);
	free(tc->pbuf);
	tc->pbuf = NULL;
	tc->plen = 0;
	start_tls(tc);
}

/* ------------------------------------------------------------------ TLS -- */

static int set_peer_name(SSL *ssl)
{
	const char *name = cf->server_name[0] ? cf->server_name : cf->appliance;
	struct in_addr ip;

	if (inet_pton(AF_INET, name, &ip) == 1)
		/* RFC 6066 3: SNI carries no literal addresses */
		return X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name) == 1 ? 0 : -1;
	if (SSL_set_tlsext_host_name(ssl, name) != 1)
		return -1;
	return SSL_set1_host(ssl, name) == 1 ? 0 : -1;
}

static void tls_step(struct tlsconn *tc);

static void start_tls(struct tlsconn *tc)
{
	unsigned char alpn[64];
	size_t l = strlen(tc->alpn);
	char why[256];

	tc->ssl = SSL_new(ctx);
	if (tc->ssl == NULL) {
		fail(tc, -ENOMEM, "SSL_new: %s", tlsconn_ssl_err(why, sizeof(why)));
		return;
	}
	alpn[0] = (unsigned char)l; /* RFC 7301 3.1: length-prefixed names */
	memcpy(alpn + 1, tc->alpn, l);
	if (SSL_set_fd(tc->ssl, tc->ev.fd) != 1 || SSL_set_alpn_protos(tc->ssl, alpn, (unsigned)l + 1) != 0 ||
	    set_peer_name(tc->ssl) < 0) {
		fail(tc, -EINVAL, "TLS setup: %s", tlsconn_ssl_err(why, sizeof(why)));
		return;
	}
	/* the control session makes a full handshake: it is where the agent
	 * proves its certificate to a (possibly restarted) appliance; STREAM
	 * and DGRAM dials offer the kept ticket (docs/agent-protocol.md,
	 * "Opening an SA": "offering its newest ticket like a STREAM dial") */
	tc->offered = 0;
	if (resume && strcmp(tc->alpn, AP_ALPN_CONTROL) != 0 && SSL_set_session(tc->ssl, resume) == 1)
		tc->offered = 1;
	tc->phase = TC_TLS;
	tls_step(tc);
}

static void tls_done(struct tlsconn *tc)
{
	const unsigned char *sel;
	unsigned int len;

	SSL_get0_alpn_selected(tc->ssl, &sel, &len);
	if (len != strlen(tc->alpn) || memcmp(sel, tc->alpn, len) != 0) {
		fail(tc, -EPROTO, "appliance did not select ALPN \"%s\" (got \"%.*s\")", tc->alpn,
		     (int)len, len ? (const char *)sel : "");
		return;
	}
	timer_cancel(&tc->deadline);
	tc->phase = TC_UP;
	tc->resumed = SSL_session_reused(tc->ssl) == 1;
	ev_want(&tc->ev, EPOLLIN);
	log_debug("%s session up (%s, %s)", tc->alpn, SSL_get_version(tc->ssl),
		  SSL_get_cipher_name(tc->ssl));
	tc->done(tc, 0);
}

static void tls_step(struct tlsconn *tc)
{
	char why[256];
	long vr;
	int rc, e;

	ERR_clear_error();
	rc = SSL_connect(tc->ssl);
	if (rc == 1) {
		tls_done(tc);
		return;
	}
	e = SSL_get_error(tc->ssl, rc);
	if (e == SSL_ERROR_WANT_READ) {
		ev_want(&tc->ev, EPOLLIN);
		return;
	}
	if (e == SSL_ERROR_WANT_WRITE) {
		ev_want(&tc->ev, EPOLLOUT);
		return;
	}
	/* a handshake that failed while offering the kept session does not
	 * offer it again: the next dial is a full one */
	if (tc->offered)
		forget_session();
	vr = SSL_get_verify_result(tc->ssl);
	if (vr != X509_V_OK)
		fail(tc, -EPERM, "appliance certificate rejected: %s",
		     X509_verify_cert_error_string(vr));
	else if (e == SSL_ERROR_SYSCALL)
		fail(tc, -ECONNRESET, "TLS handshake: connection closed%s%s",
		     errno ? ": " : "", errno ? strerror(errno) : "");
	else
		fail(tc, -EPROTO, "TLS handshake: %s", tlsconn_ssl_err(why, sizeof(why)));
}

static void tcp_connected(struct tlsconn *tc)
{
	socklen_t sl = sizeof(int);
	int err = 0;

	if (getsockopt(tc->ev.fd, SOL_SOCKET, SO_ERROR, &err, &sl) < 0)
		err = errno;
	if (err == EINPROGRESS || err == EALREADY)
		return;
	if (err) {
		fail(tc, -err, "connect %s:%u: %s", target_host(), target_port(), strerror(err));
		return;
	}
	if (!cf->proxy.set) {
		start_tls(tc);
		return;
	}
	if ((err = proxy_request(tc)) < 0) {
		fail(tc, err, "out of memory for the proxy request");
		return;
	}
	tc->phase = TC_PROXY_TX;
	proxy_tx(tc);
}

static void tc_event(struct ev *ev, uint32_t events)
{
	struct tlsconn *tc = container_of(ev, struct tlsconn, ev);

	(void)events;
	switch (tc->phase) {
	case TC_TCP:
		tcp_connected(tc);
		break;
	case TC_PROXY_TX:
		proxy_tx(tc);
		break;
	case TC_PROXY_RX:
		proxy_rx(tc);
		break;
	case TC_TLS:
		tls_step(tc);
		break;
	default:
		/* TC_UP belongs to the owner's callback; nothing else has an fd */
		break;
	}
}

/* --------------------------------------------------------------- closing -- */

void tlsconn_close(struct tlsconn *tc)
{
	if (tc->ssl && tc->phase == TC_UP) {
		ERR_clear_error();
		SSL_shutdown(tc->ssl); /* queue close_notify; no waiting for the peer's */
		ERR_clear_error();
	}
	release(tc);
}

void tlsconn_abort(struct tlsconn *tc)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	/* SO_LINGER {1, 0}: close() sends RST, which is how a STREAM session
	 * carries the relayed connection's reset (agent_proto.h) */
	if (tc->ev.fd >= 0)
		setsockopt(tc->ev.fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	if (tc->ssl)
		SSL_set_quiet_shutdown(tc->ssl, 1);
	release(tc);
}
