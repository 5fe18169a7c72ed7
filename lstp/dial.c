/*
 * Dialing the middle (lstp.h): one state machine per dial.
 *
 *   D_TCP        non-blocking connect to the middle or to the proxy
 *   D_S5_METHOD  SOCKS5 greeting sent, waiting for the method (RFC 1928 3)
 *   D_S5_AUTH    RFC 1929 username/password sent, waiting for the status
 *   D_S5_REPLY   CONNECT sent, waiting for the reply (RFC 1928 6)
 *   D_HTTP       "CONNECT host:port" sent, waiting for the response header
 *
 * The whole dial is bounded by limits.handshake_timeout_ms.  A proxy's
 * credentials are wiped from the buffers as soon as they are sent.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "loop.h"
#include "lstp.h"
#include "socks5.h"

#define RX_MAX 8192

enum dphase { D_IDLE, D_TCP, D_S5_METHOD, D_S5_AUTH, D_S5_REPLY, D_HTTP };

static struct {
	struct ev ev;
	struct timer deadline;
	enum dphase phase;
	uint8_t tx[1024];
	size_t tlen, toff;
	char rx[RX_MAX + 1];
	size_t rlen;
	void (*done)(int fd, int err, const char *why);
	int inited;
} d;

uint32_t backoff_next(uint32_t *cur)
{
	uint32_t v;

	if (*cur == 0)
		*cur = lcf->backoff_min_ms;
	else
		*cur = *cur > lcf->backoff_max_ms / 2 ? lcf->backoff_max_ms : *cur * 2;
	/* jitter in [cur/2, cur]: ends restarted together do not come back in
	 * lockstep */
	v = *cur / 2 + (uint32_t)(random() % (*cur - *cur / 2 + 1));
	return v ? v : 1;
}

static void d_event(struct ev *ev, uint32_t events);
static void d_deadline(struct timer *t);

static void release(void)
{
	timer_cancel(&d.deadline);
	explicit_bzero(d.tx, sizeof(d.tx));
	explicit_bzero(d.rx, sizeof(d.rx));
	d.tlen = d.toff = d.rlen = 0;
	d.phase = D_IDLE;
}

static void fail(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(int err, const char *fmt, ...)
{
	char why[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	ev_close(&d.ev);
	release();
	d.done(-1, err, why);
}

static void succeed(void)
{
	int fd = ev_detach(&d.ev);

	release();
	d.done(fd, 0, NULL);
}

static const char *hop_host(void)
{
	return lcf->proxy.kind != LC_PROXY_NONE ? lcf->proxy.host : lcf->middle_host;
}

static uint16_t hop_port(void)
{
	return lcf->proxy.kind != LC_PROXY_NONE ? lcf->proxy.port : lcf->middle_port;
}

void dial_cancel(void)
{
	if (d.phase == D_IDLE)
		return;
	ev_close(&d.ev);
	release();
}

int dial_start(void (*done)(int fd, int err, const char *why))
{
	struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_STREAM }, *res;
	struct sockaddr_in sa;
	int fd, rc, one = 1;

	if (!d.inited) {
		ev_init(&d.ev, d_event);
		timer_init(&d.deadline, d_deadline);
		d.inited = 1;
	}
	dial_cancel();
	d.done = done;
	memset(&sa, 0, sizeof(sa));
	/* getaddrinfo blocks for a DNS name; one lookup per dial (at most one
	 * per backoff step) is an acceptable pause for an end proxy */
	if (inet_pton(AF_INET, hop_host(), &sa.sin_addr) != 1) {
		rc = getaddrinfo(hop_host(), NULL, &hints, &res);
		if (rc != 0) {
			log_warn("resolving %s: %s", hop_host(), gai_strerror(rc));
			return -EHOSTUNREACH;
		}
		sa = *(struct sockaddr_in *)res->ai_addr;
		freeaddrinfo(res);
	}
	sa.sin_family = AF_INET;
	sa.sin_port = htons(hop_port());
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		rc = -errno;
		log_warn("socket: %s", strerror(errno));
		return rc;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno != EINPROGRESS) {
		rc = -errno;
		log_warn("connect %s:%u: %s", hop_host(), hop_port(), strerror(errno));
		close(fd);
		return rc;
	}
	if ((rc = ev_attach(&d.ev, fd, EPOLLOUT)) < 0) {
		log_warn("epoll: %s", strerror(-rc));
		close(fd);
		return rc;
	}
	d.phase = D_TCP;
	timer_arm(&d.deadline, lcf->handshake_timeout_ms);
	return 0;
}

static void d_deadline(struct timer *t)
{
	static const char *const what[] = { "idle", "TCP connect", "SOCKS5 method", "SOCKS5 auth",
					     "SOCKS5 reply", "HTTP CONNECT response" };

	(void)t;
	fail(-ETIMEDOUT, "no %s from %s:%u within %u ms", what[d.phase], hop_host(), hop_port(),
	     lcf->handshake_timeout_ms);
}

/* Send d.tx; 1 when all of it is out, 0 when more is to come, -1 failed. */
static int flush_tx(void)
{
	ssize_t n;

	while (d.toff < d.tlen) {
		n = send(d.ev.fd, d.tx + d.toff, d.tlen - d.toff, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR) {
				ev_want(&d.ev, EPOLLOUT);
				return 0;
			}
			fail(-errno, "proxy %s:%u: send: %s", hop_host(), hop_port(), strerror(errno));
			return -1;
		}
		d.toff += (size_t)n;
	}
	explicit_bzero(d.tx, d.tlen);
	d.tlen = d.toff = 0;
	ev_want(&d.ev, EPOLLIN);
	return 1;
}

static void queue(const void *p, size_t n)
{
	memcpy(d.tx, p, n);
	d.tlen = n;
	d.toff = 0;
}

static void http_request(void)
{
	char auth[2 * (LC_CRED_MAX + 1) + 1], b64[4 * (sizeof(auth) + 2) / 3 + 4], hdr[sizeof(b64) + 64];
	int n, a;

	hdr[0] = '\0';
	if (lcf->proxy.auth) {
		/* RFC 7617: base64(user ":" pass) */
		a = snprintf(auth, sizeof(auth), "%s:%s", lcf->proxy.user, lcf->proxy.pass);
		EVP_EncodeBlock((unsigned char *)b64, (const unsigned char *)auth, a);
		snprintf(hdr, sizeof(hdr), "Proxy-Authorization: Basic %s\r\n", b64);
		explicit_bzero(auth, sizeof(auth));
		explicit_bzero(b64, sizeof(b64));
	}
	/* RFC 9110 9.3.6: the request target is host:port, Host the same */
	n = snprintf((char *)d.tx, sizeof(d.tx),
		     "CONNECT %s:%u HTTP/1.1\r\nHost: %s:%u\r\n%sUser-Agent: %s\r\n\r\n",
		     lcf->middle_host, lcf->middle_port, lcf->middle_host, lcf->middle_port, hdr,
		     LSTP_SOFTWARE);
	explicit_bzero(hdr, sizeof(hdr));
	d.tlen = n > 0 && (size_t)n < sizeof(d.tx) ? (size_t)n : 0;
	d.toff = 0;
}

static void connected(void)
{
	socklen_t sl = sizeof(int);
	uint8_t g[3];
	int err = 0;

	if (getsockopt(d.ev.fd, SOL_SOCKET, SO_ERROR, &err, &sl) < 0)
		err = errno;
	if (err == EINPROGRESS || err == EALREADY)
		return;
	if (err) {
		fail(-err, "connect %s:%u: %s", hop_host(), hop_port(), strerror(err));
		return;
	}
	switch (lcf->proxy.kind) {
	case LC_PROXY_NONE:
		succeed();
		return;
	case LC_PROXY_SOCKS5:
		queue(g, socks5_client_greeting(g, lcf->proxy.auth));
		d.phase = D_S5_METHOD;
		break;
	case LC_PROXY_HTTP:
		http_request();
		d.phase = D_HTTP;
		break;
	}
	flush_tx();
}

/* Read what the proxy sent; 1 got some, 0 nothing yet, -1 failed. */
static int rx(void)
{
	ssize_t n = recv(d.ev.fd, d.rx + d.rlen, RX_MAX - d.rlen, 0);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n <= 0) {
		fail(n ? -errno : -ECONNRESET, "proxy %s:%u closed the connection%s%s", hop_host(),
		     hop_port(), n ? ": " : "", n ? strerror(errno) : "");
		return -1;
	}
	d.rlen += (size_t)n;
	return 1;
}

static void s5_step(void)
{
	uint8_t m, st;
	size_t used;
	int rc;

	if (rx() <= 0)
		return;
	switch (d.phase) {
	case D_S5_METHOD:
		rc = socks5_client_method_parse((uint8_t *)d.rx, d.rlen, &m, &used);
		if (rc == -EAGAIN)
			return;
		if (rc < 0 || (m != SOCKS5_M_NONE && m != SOCKS5_M_USERPASS) ||
		    (m == SOCKS5_M_USERPASS && !lcf->proxy.auth)) {
			fail(-EPROTO, "SOCKS5 proxy %s:%u accepts none of our methods (answer %d)",
			     hop_host(), hop_port(), rc < 0 ? -1 : m);
			return;
		}
		break;
	case D_S5_AUTH:
		rc = socks5_client_auth_parse((uint8_t *)d.rx, d.rlen, &st, &used);
		if (rc == -EAGAIN)
			return;
		if (rc < 0 || st != 0) {
			fail(-EACCES, "SOCKS5 proxy %s:%u refused our user name and password",
			     hop_host(), hop_port());
			return;
		}
		m = SOCKS5_M_NONE;
		break;
	default: /* D_S5_REPLY */
		rc = socks5_client_reply_parse((uint8_t *)d.rx, d.rlen, &st, &used);
		if (rc == -EAGAIN)
			return;
		if (rc < 0) {
			fail(-EPROTO, "SOCKS5 proxy %s:%u sent a malformed reply", hop_host(), hop_port());
			return;
		}
		if (st != SOCKS5_REP_OK) {
			fail(-ECONNREFUSED, "SOCKS5 proxy %s:%u: CONNECT %s:%u: %s (%u)", hop_host(),
			     hop_port(), lcf->middle_host, lcf->middle_port, socks5_rep_str(st), st);
			return;
		}
		if (d.rlen != used) {
			fail(-EPROTO, "SOCKS5 proxy sent %zu bytes after its reply", d.rlen - used);
			return;
		}
		log_debug("through SOCKS5 proxy %s:%u", hop_host(), hop_port());
		succeed();
		return;
	}
	if (d.rlen != used) {
		fail(-EPROTO, "SOCKS5 proxy %s:%u sent unexpected bytes", hop_host(), hop_port());
		return;
	}
	d.rlen = 0;
	if (d.phase == D_S5_METHOD && m == SOCKS5_M_USERPASS) {
		rc = socks5_client_auth(d.tx, sizeof(d.tx), lcf->proxy.user, lcf->proxy.pass);
		if (rc < 0) {
			fail(-EINVAL, "SOCKS5 credentials do not fit RFC 1929");
			return;
		}
		d.tlen = (size_t)rc;
		d.toff = 0;
		d.phase = D_S5_AUTH;
	} else {
		rc = socks5_client_connect(d.tx, sizeof(d.tx), lcf->middle_host, lcf->middle_port);
		if (rc < 0) {
			fail(-EINVAL, "middle address does not fit a SOCKS5 request");
			return;
		}
		d.tlen = (size_t)rc;
		d.toff = 0;
		d.phase = D_S5_REPLY;
	}
	flush_tx();
}

static void http_step(void)
{
	char line[128], *end;
	size_t i, hlen;

	if (rx() <= 0)
		return;
	d.rx[d.rlen] = '\0';
	end = strstr(d.rx, "\r\n\r\n");
	if (end == NULL) {
		if (d.rlen >= RX_MAX)
			fail(-EPROTO, "proxy response header longer than %d bytes", RX_MAX);
		return;
	}
	hlen = (size_t)(end - d.rx) + 4;
	for (i = 0; i + 1 < sizeof(line) && d.rx[i] && d.rx[i] != '\r'; i++)
		line[i] = (d.rx[i] >= 0x20 && d.rx[i] < 0x7f) ? d.rx[i] : '?';
	line[i] = '\0';
	if (strncmp(line, "HTTP/1.", 7) != 0 || line[8] != ' ' || line[9] != '2') {
		fail(-ECONNREFUSED, "HTTP proxy %s:%u refused CONNECT %s:%u: \"%s\"", hop_host(),
		     hop_port(), lcf->middle_host, lcf->middle_port, line);
		return;
	}
	/* RFC 9110 15.3: a 2xx to CONNECT has no content, and the middle says
	 * nothing before our first message */
	if (d.rlen != hlen) {
		fail(-EPROTO, "HTTP proxy sent %zu bytes after its 2xx to CONNECT", d.rlen - hlen);
		return;
	}
	log_debug("through HTTP proxy %s:%u: %s", hop_host(), hop_port(), line);
	succeed();
}

static void d_event(struct ev *ev, uint32_t events)
{
	(void)ev;
	(void)events;
	if (d.phase == D_TCP) {
		connected();
		return;
	}
	if (d.tlen > d.toff) {
		flush_tx();
		return;
	}
	if (d.phase == D_HTTP)
		http_step();
	else
		s5_step();
}
