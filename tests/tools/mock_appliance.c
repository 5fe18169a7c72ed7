/*
 * sluice-mock-appliance: the appliance's side of the agent protocol (S4),
 * just enough of it to drive sluice-agent from a test script.  A TLS server
 * (mutual X.509, ALPN sluice-control/1, sluice-stream/1 or sluice-dgram/1)
 * that answers HELLO with HELLO_ACK and KEEPALIVE with KEEPALIVE_ACK, names
 * STREAM and DGRAM sessions by the same TLS exporter the agent uses, and
 * takes commands on
 * stdin, one per line; each command N (counted from 1) is answered by one
 * line "reply N ..." on stdout.  Unsolicited lines start with "event".
 *
 *   status                         control=0|1 idle=K bound=B keepalives=K
 *   connect DST PORT [TIMEOUT_MS]  CONNECT over the oldest idle stream;
 *                                  reply: connect RESULT code=C mss=M stream=ID
 *   connect-bad DST PORT           CONNECT naming a stream that does not exist
 *   connect-twice DST PORT [TMO]   two CONNECTs with the same id (a protocol error)
 *   xfer N SENDFILE RECVFILE       over the stream bound by command N: send
 *                                  SENDFILE ("-": nothing), then close_notify;
 *                                  write what comes back to RECVFILE until the
 *                                  agent's close_notify (or a reset);
 *                                  reply: xfer sent=X recv=Y end=close_notify|reset|eof
 *   reset N                        RST the stream bound by command N
 *   ping DST SIZE [TTL] [TIMEOUT]  PING with SIZE random bytes; reply:
 *                                  ping RESULT code=C from=IP ttl=T len=L match=yes|no
 *   retire                         RETIRE the oldest idle stream; reply: retire sent id=ID
 *   retire-bad                     RETIRE naming a stream the agent does not have
 *   garbage                        a frame of an unknown type on the control session
 *   error TEXT...                  ERROR (REFUSED) with that text
 *   mute                           this control session stops answering
 *                                  (keepalives and everything)
 *
 * UDP (DGRAM sessions and datagram associations, issue 10).  SESSION is a
 * DGRAM session id in hex (as printed), or "last": the newest one up.
 *   dgram-open                     DGRAM_OPEN; reply when DGRAM_UP comes:
 *                                  dgram-open RESULT session=ID
 *   da-open SESSION DA DST PORT [IDLE_MS [IDLE2_MS]]
 *                                  DA_OPEN (timers default 30000/60000);
 *                                  reply: da-open RESULT relay_port=P
 *   da-open-twice SESSION DA DST PORT
 *                                  two DA_OPENs naming the same DA (an error)
 *   dgram-send SESSION DA SIZE     DATA of SIZE random bytes (0..65507);
 *                                  reply: dgram-send sent len=L sha256=H
 *                                  (or error=no-session|usage|full)
 *   da-end DA                      DA_END (APPLIANCE)
 *   dgram-close SESSION            DGRAM_CLOSE; reply: dgram-close sent
 *   dgram-garbage SESSION          a frame of an unknown type on that session
 *   dgram-status SESSION           reply: dgram-status open=0|1 credit=C
 *                                  data_out=N data_in=M
 *   dgram-count                    reply: dgram-count sessions=N
 * Events: "dgram-session-up id=ID peer=P TLSv1.x resumed=yes|no",
 * "dgram-closed id=ID why=close_notify|reset|eof|malformed|...",
 * "dgram-credit session=ID credit=N total=T first=yes|no" (first: it was
 * the session's first frame), "dgram-data session=ID da=N len=L sha256=H",
 * "dgram-icmp session=ID da=N type=T code=C mtu=M from=IP",
 * "dgram-malformed session=ID why=...", "da-end da=N reason=R replies=K".
 *
 *   quit
 *
 * Options: --cert/--key/--ca (required), --listen ADDR:PORT (0.0.0.0:443),
 * --keepalive MS (HELLO_ACK's, 1000), --pool N (HELLO_ACK's hint, 0),
 * --tls12 (no TLS 1.3), --no-alpn (select no ALPN protocol), --caps N
 * (HELLO_ACK's capabilities are the agent's AND N; default 15: STREAM,
 * PING, RETIRE, DGRAM).
 *
 * Written for tests, not for production: poll(2), fixed tables, blunt
 * error handling.  Uses the same codec (common/agent_proto.c) as the agent.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sluice/agent_proto.h>

#define MAX_SESS 512
#define BUF (64 * 1024)
#define DRX (2 * (AP_HDR_LEN + 65535)) /* DGRAM frames in: two of the largest */
#define DTX (256 * 1024)               /* DGRAM frames out */

enum kind { K_HANDSHAKE, K_CONTROL, K_STREAM, K_DGRAM };

struct sess {
	int fd;
	SSL *ssl;
	enum kind kind;
	int want_write;
	int muted;              /* control: `mute` was given */
	char peer[48];
	uint64_t id;           /* stream id */
	unsigned long seq;     /* arrival order (idle streams: oldest first) */
	/* control */
	uint8_t rx[2 * (AP_HDR_LEN + AP_MAX_BODY)];
	size_t rxlen;
	uint8_t tx[BUF];
	size_t txlen;
	/* stream */
	int bound;             /* command number of the CONNECT that bound it */
	int asked;             /* a CONNECT naming it awaits its result */
	int xfer;              /* command number of the running xfer, 0: none */
	FILE *sendf, *recvf;
	uint8_t sbuf[16384];
	size_t slen, soff;
	int send_done, shut_sent, recv_done;
	unsigned long long sent, recvd;
	const char *end;
	/* DGRAM (heap buffers: only these sessions need them) */
	uint8_t *drx, *dtx;
	size_t drxlen, dtxlen;
	unsigned long long credit, data_out, data_in, frames_in;
};

static struct sess *sess[MAX_SESS];
static struct sess *control;
static SSL_CTX *ctx;
static unsigned long arrivals;
static unsigned long keepalives;
static uint32_t opt_keepalive = 1000, opt_pool;
static int opt_tls12, opt_no_alpn;
static uint32_t opt_caps = AP_CAP_STREAM | AP_CAP_PING | AP_CAP_RETIRE | AP_CAP_DGRAM;
static uint64_t last_dgram; /* the newest DGRAM session up ("last") */

/* pending requests: command number -> what to print */
struct req {
	int n;
	int is_ping;
	uint8_t data[AP_MAX_PING_DATA];
	uint16_t len;
	uint64_t stream;
};
static struct req reqs[256];

static void out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void out(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static void die(const char *what)
{
	fprintf(stderr, "mock-appliance: %s\n", what);
	ERR_print_errors_fp(stderr);
	exit(1);
}

static const char *ip_str(uint32_t a)
{
	static char b[INET_ADDRSTRLEN];
	struct in_addr ia = { htonl(a) };

	return inet_ntop(AF_INET, &ia, b, sizeof(b));
}

/* ----------------------------------------------------------------- TLS -- */

static int alpn_cb(SSL *ssl, const unsigned char **o, unsigned char *olen, const unsigned char *in,
		   unsigned int inlen, void *arg)
{
	static const unsigned char ours[] = "\x10" AP_ALPN_CONTROL "\x0f" AP_ALPN_STREAM "\x0e" AP_ALPN_DGRAM;

	(void)ssl;
	(void)arg;
	if (opt_no_alpn)
		return SSL_TLSEXT_ERR_NOACK; /* as a server that knows no ALPN */
	if (SSL_select_next_proto((unsigned char **)o, olen, ours, sizeof(ours) - 1, in, inlen) !=
	    OPENSSL_NPN_NEGOTIATED)
		return SSL_TLSEXT_ERR_ALERT_FATAL;
	return SSL_TLSEXT_ERR_OK;
}

static void tls_init(const char *cert, const char *key, const char *ca)
{
	ctx = SSL_CTX_new(TLS_server_method());
	if (!ctx)
		die("SSL_CTX_new");
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	if (opt_tls12)
		SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1)
		die("cert");
	if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1)
		die("key");
	if (SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1)
		die("ca");
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	SSL_CTX_set_alpn_select_cb(ctx, alpn_cb, NULL);
	/* the agent resumes its STREAM sessions; a server that verifies client
	 * certificates resumes only within a session id context */
	SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"mock", 4);
}

static void sess_free(struct sess *s, const char *why)
{
	int i;

	if (s->kind == K_CONTROL)
		out("event control-closed peer=%s why=%s", s->peer, why);
	else if (s->kind == K_STREAM && !s->bound)
		out("event stream-closed id=%016llx why=%s", (unsigned long long)s->id, why);
	else if (s->kind == K_DGRAM)
		out("event dgram-closed id=%016llx why=%s data_in=%llu", (unsigned long long)s->id, why,
		    s->data_in);
	free(s->drx);
	free(s->dtx);
	if (s->xfer)
		out("reply %d xfer sent=%llu recv=%llu end=%s", s->xfer, s->sent, s->recvd,
		    s->end ? s->end : why);
	if (s->sendf)
		fclose(s->sendf);
	if (s->recvf)
		fclose(s->recvf);
	SSL_free(s->ssl);
	close(s->fd);
	if (control == s)
		control = NULL;
	for (i = 0; i < MAX_SESS; i++)
		if (sess[i] == s)
			sess[i] = NULL;
	free(s);
}

static void sess_rst(struct sess *s, const char *why)
{
	struct linger lg = { 1, 0 };

	setsockopt(s->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	sess_free(s, why);
}

static void do_accept(int lfd)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	struct sess *s;
	int fd, i;

	fd = accept4(lfd, (struct sockaddr *)&sa, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return;
	for (i = 0; i < MAX_SESS && sess[i]; i++)
		;
	if (i == MAX_SESS || (s = calloc(1, sizeof(*s))) == NULL) {
		close(fd);
		return;
	}
	s->fd = fd;
	s->ssl = SSL_new(ctx);
	SSL_set_fd(s->ssl, fd);
	snprintf(s->peer, sizeof(s->peer), "%s:%u", ip_str(ntohl(sa.sin_addr.s_addr)),
		 ntohs(sa.sin_port));
	sess[i] = s;
}

/* ------------------------------------------------------------- control -- */

static void ctl_flush(struct sess *s)
{
	int n;

	s->want_write = 0;
	while (s->txlen) {
		n = SSL_write(s->ssl, s->tx, (int)s->txlen);
		if (n <= 0) {
			if (SSL_get_error(s->ssl, n) == SSL_ERROR_WANT_WRITE)
				s->want_write = 1;
			return;
		}
		memmove(s->tx, s->tx + n, s->txlen - (size_t)n);
		s->txlen -= (size_t)n;
	}
}

static void ctl_send(const struct ap_msg *m)
{
	int n;

	if (!control)
		return;
	n = ap_encode(m, control->tx + control->txlen, sizeof(control->tx) - control->txlen);
	if (n < 0) {
		fprintf(stderr, "mock-appliance: encode %s: %d\n", ap_type_str(m->type), n);
		return;
	}
	control->txlen += (size_t)n;
	ctl_flush(control);
}

static struct req *req_find(uint32_t id)
{
	int i;

	for (i = 0; i < 256; i++)
		if (reqs[i].n == (int)id)
			return &reqs[i];
	return NULL;
}

static struct sess *stream_by_id(uint64_t id)
{
	int i;

	for (i = 0; i < MAX_SESS; i++)
		if (sess[i] && sess[i]->kind == K_STREAM && sess[i]->id == id)
			return sess[i];
	return NULL;
}

static void on_cres(const struct ap_connect_result *r)
{
	struct req *q = req_find(r->id);
	struct sess *st;

	if (!q) {
		out("event unknown-result id=%u", r->id);
		return;
	}
	st = stream_by_id(q->stream);
	if (st)
		st->asked = 0;
	if (r->result == AP_RES_OK && st)
		st->bound = q->n;
	out("reply %d connect %s code=%u mss=%u stream=%016llx", q->n, ap_result_str(r->result),
	    r->code, r->mss, (unsigned long long)q->stream);
	q->n = 0;
}

static void on_pres(const struct ap_ping_result *r)
{
	struct req *q = req_find(r->id);

	if (!q) {
		out("event unknown-result id=%u", r->id);
		return;
	}
	out("reply %d ping %s code=%u from=%s ttl=%u len=%u match=%s", q->n, ap_result_str(r->result),
	    r->code, ip_str(r->from), r->ttl, r->data_len,
	    r->data_len == q->len && (r->data_len == 0 || memcmp(r->data, q->data, q->len) == 0) ? "yes" : "no");
	q->n = 0;
}

static void on_dgram_up(const struct ap_dgram_up *u)
{
	struct req *q = req_find(u->id);

	if (!q) {
		out("event unknown-result id=%u", u->id);
		return;
	}
	if (u->result == AP_RES_OK)
		last_dgram = u->session;
	out("reply %d dgram-open %s session=%016llx", q->n, ap_result_str(u->result),
	    (unsigned long long)u->session);
	q->n = 0;
}

static void on_da_result(const struct ap_da_result *r)
{
	struct req *q = req_find(r->id);

	if (!q) {
		out("event unknown-result id=%u", r->id);
		return;
	}
	out("reply %d da-open %s relay_port=%u", q->n, ap_result_str(r->result), r->relay_port);
	q->n = 0;
}

static void on_msg(struct sess *s, const struct ap_msg *m)
{
	struct ap_msg r;
	X509 *peer;
	char cn[128] = "?";

	switch (m->type) {
	case AP_HELLO:
		memset(&r, 0, sizeof(r));
		r.type = AP_HELLO_ACK;
		r.u.hello_ack.version = AP_VERSION;
		r.u.hello_ack.caps = m->u.hello.caps & opt_caps;
		r.u.hello_ack.keepalive_ms = opt_keepalive;
		r.u.hello_ack.pool = opt_pool;
		ctl_send(&r);
		peer = SSL_get1_peer_certificate(s->ssl);
		if (peer) {
			X509_NAME_get_text_by_NID(X509_get_subject_name(peer), NID_commonName, cn, sizeof(cn));
			X509_free(peer);
		}
		out("event control-up peer=%s cn=%s sw=%s ver=%u-%u caps=0x%x", s->peer, cn,
		    m->u.hello.sw, m->u.hello.ver_min, m->u.hello.ver_max, m->u.hello.caps);
		break;
	case AP_KEEPALIVE:
		keepalives++;
		memset(&r, 0, sizeof(r));
		r.type = AP_KEEPALIVE_ACK;
		r.u.ka.ts = m->u.ka.ts;
		ctl_send(&r);
		break;
	case AP_CONNECT_RESULT:
		on_cres(&m->u.cres);
		break;
	case AP_PING_RESULT:
		on_pres(&m->u.pres);
		break;
	case AP_ERROR:
		out("event error code=%s text=%s", ap_err_str(m->u.error.code), m->u.error.text);
		break;
	case AP_DGRAM_UP:
		on_dgram_up(&m->u.dgram_up);
		break;
	case AP_DA_RESULT:
		on_da_result(&m->u.da_result);
		break;
	case AP_DA_END:
		out("event da-end da=%u reason=%u replies=%u", m->u.da_end.da, m->u.da_end.reason,
		    m->u.da_end.replies);
		break;
	default:
		out("event unexpected type=%s", ap_type_str(m->type));
		break;
	}
}

static void ctl_read(struct sess *s)
{
	struct ap_msg m;
	const char *why;
	size_t used, off;
	int n, rc;

	for (;;) {
		n = SSL_read(s->ssl, s->rx + s->rxlen, (int)(sizeof(s->rx) - s->rxlen));
		if (n <= 0) {
			int e = SSL_get_error(s->ssl, n);

			if (e == SSL_ERROR_WANT_READ)
				return;
			if (e == SSL_ERROR_WANT_WRITE) {
				s->want_write = 1;
				return;
			}
			sess_free(s, e == SSL_ERROR_ZERO_RETURN ? "close_notify" : "eof/error");
			return;
		}
		s->rxlen += (size_t)n;
		if (s->muted) {
			s->rxlen = 0;
			continue;
		}
		off = 0;
		while ((rc = ap_parse(s->rx + off, s->rxlen - off, &m, &used, &why)) == 0) {
			on_msg(s, &m);
			off += used;
		}
		if (rc != -EAGAIN) {
			out("event malformed-from-agent why=%s", why);
			sess_free(s, "malformed");
			return;
		}
		memmove(s->rx, s->rx + off, s->rxlen - off);
		s->rxlen -= off;
	}
}

/* -------------------------------------------------------------- stream -- */

static void stream_idle_read(struct sess *s)
{
	uint8_t b[256];
	int n = SSL_read(s->ssl, b, sizeof(b));

	if (n > 0) {
		out("event stream-data-while-idle id=%016llx", (unsigned long long)s->id);
		return;
	}
	n = SSL_get_error(s->ssl, n);
	if (n == SSL_ERROR_WANT_READ || n == SSL_ERROR_WANT_WRITE)
		return;
	sess_free(s, n == SSL_ERROR_ZERO_RETURN ? "close_notify" : "eof/error");
}

static void xfer_step(struct sess *s)
{
	uint8_t b[16384];
	int n, e;

	/* send side */
	while (!s->send_done) {
		if (s->soff == s->slen) {
			s->slen = s->sendf ? fread(s->sbuf, 1, sizeof(s->sbuf), s->sendf) : 0;
			s->soff = 0;
			if (s->slen == 0) {
				s->send_done = 1;
				break;
			}
		}
		n = SSL_write(s->ssl, s->sbuf + s->soff, (int)(s->slen - s->soff));
		if (n <= 0) {
			e = SSL_get_error(s->ssl, n);
			if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) {
				s->want_write = e == SSL_ERROR_WANT_WRITE;
				break;
			}
			s->end = "write-error";
			sess_free(s, "write-error");
			return;
		}
		s->soff += (size_t)n;
		s->sent += (unsigned long long)n;
	}
	if (s->send_done && !s->shut_sent) {
		n = SSL_shutdown(s->ssl);
		if (n >= 0)
			s->shut_sent = 1;
		else if (SSL_get_error(s->ssl, n) == SSL_ERROR_WANT_WRITE)
			s->want_write = 1;
	}
	/* receive side */
	while (!s->recv_done) {
		n = SSL_read(s->ssl, b, sizeof(b));
		if (n > 0) {
			if (s->recvf)
				fwrite(b, 1, (size_t)n, s->recvf);
			s->recvd += (unsigned long long)n;
			continue;
		}
		e = SSL_get_error(s->ssl, n);
		if (e == SSL_ERROR_WANT_READ)
			break;
		if (e == SSL_ERROR_WANT_WRITE) {
			s->want_write = 1;
			break;
		}
		s->recv_done = 1;
		if (e == SSL_ERROR_ZERO_RETURN)
			s->end = "close_notify";
		else if (e == SSL_ERROR_SYSCALL && errno == ECONNRESET)
			s->end = "reset";
		else
			s->end = "eof";
	}
	if (s->recv_done && (s->shut_sent || s->end[0] != 'c'))
		sess_free(s, s->end);
}

/* --------------------------------------------------------------- dgram -- */

static const char *sha256_hex(const uint8_t *p, size_t n)
{
	static char hex[2 * 32 + 1];
	unsigned char md[32];
	unsigned int ml = 0;

	EVP_Digest(p, n, md, &ml, EVP_sha256(), NULL);
	for (unsigned int i = 0; i < ml; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	return hex;
}

static struct sess *dgram_by_id(uint64_t id)
{
	for (int i = 0; i < MAX_SESS; i++)
		if (sess[i] && sess[i]->kind == K_DGRAM && sess[i]->id == id)
			return sess[i];
	return NULL;
}

static void dgram_flush(struct sess *s)
{
	int n;

	s->want_write = 0;
	while (s->dtxlen) {
		n = SSL_write(s->ssl, s->dtx, (int)s->dtxlen);
		if (n <= 0) {
			if (SSL_get_error(s->ssl, n) == SSL_ERROR_WANT_WRITE)
				s->want_write = 1;
			return;
		}
		memmove(s->dtx, s->dtx + n, s->dtxlen - (size_t)n);
		s->dtxlen -= (size_t)n;
	}
}

/* Queue one frame: 0, or -1 when it does not fit (the test asked too much). */
static int dgram_send(struct sess *s, const struct ap_dmsg *m)
{
	int n = ap_dencode(m, s->dtx + s->dtxlen, DTX - s->dtxlen);

	if (n < 0)
		return -1;
	s->dtxlen += (size_t)n;
	dgram_flush(s);
	return 0;
}

static void dgram_frame(struct sess *s, const struct ap_dmsg *m)
{
	unsigned long long id = (unsigned long long)s->id;

	s->frames_in++;
	if (!ap_ddir_ok(m->type, AP_FROM_AGENT)) {
		out("event dgram-malformed session=%016llx why=direction", id);
		return;
	}
	switch (m->type) {
	case AP_D_CREDIT:
		s->credit += m->credit;
		out("event dgram-credit session=%016llx credit=%u total=%llu first=%s", id, m->credit,
		    s->credit, s->frames_in == 1 ? "yes" : "no");
		break;
	case AP_D_DATA:
		s->data_in++;
		out("event dgram-data session=%016llx da=%u len=%u sha256=%s", id, m->da, m->len,
		    sha256_hex(m->data, m->len));
		break;
	case AP_D_ICMP:
		out("event dgram-icmp session=%016llx da=%u type=%u code=%u mtu=%u from=%s", id, m->da,
		    m->icmp_type, m->icmp_code, m->mtu, ip_str(m->from));
		break;
	default:
		break;
	}
}

static void dgram_read(struct sess *s)
{
	struct ap_dmsg m;
	const char *why = "?";
	size_t used, off;
	int n, rc, e;

	for (;;) {
		n = SSL_read(s->ssl, s->drx + s->drxlen, (int)(DRX - s->drxlen));
		if (n <= 0) {
			e = SSL_get_error(s->ssl, n);
			if (e == SSL_ERROR_WANT_READ)
				return;
			if (e == SSL_ERROR_WANT_WRITE) {
				s->want_write = 1;
				return;
			}
			sess_free(s, e == SSL_ERROR_ZERO_RETURN ? "close_notify"
				     : e == SSL_ERROR_SYSCALL && errno == ECONNRESET ? "reset"
									       : "eof");
			return;
		}
		s->drxlen += (size_t)n;
		off = 0;
		while ((rc = ap_dparse(s->drx + off, s->drxlen - off, &m, &used, &why)) == 0) {
			dgram_frame(s, &m);
			off += used;
		}
		if (rc != -EAGAIN) {
			out("event dgram-malformed session=%016llx why=%s", (unsigned long long)s->id, why);
			sess_free(s, "malformed");
			return;
		}
		memmove(s->drx, s->drx + off, s->drxlen - off);
		s->drxlen -= off;
	}
}

static void on_handshake(struct sess *s)
{
	const unsigned char *sel;
	unsigned int len;
	unsigned char id[8];
	int i;

	SSL_get0_alpn_selected(s->ssl, &sel, &len);
	if (len == strlen(AP_ALPN_CONTROL) && memcmp(sel, AP_ALPN_CONTROL, len) == 0) {
		if (control)
			out("event control-replaced old=%s", control->peer);
		s->kind = K_CONTROL;
		control = s;
		return;
	}
	SSL_export_keying_material(s->ssl, id, 8, AP_STREAM_ID_LABEL, strlen(AP_STREAM_ID_LABEL),
				   NULL, 0, 0);
	for (i = 0; i < 8; i++)
		s->id = s->id << 8 | id[i];
	if (len == strlen(AP_ALPN_DGRAM) && memcmp(sel, AP_ALPN_DGRAM, len) == 0) {
		s->kind = K_DGRAM;
		s->drx = malloc(DRX);
		s->dtx = malloc(DTX);
		if (!s->drx || !s->dtx)
			die("out of memory");
		out("event dgram-session-up id=%016llx peer=%s %s resumed=%s", (unsigned long long)s->id,
		    s->peer, SSL_get_version(s->ssl), SSL_session_reused(s->ssl) ? "yes" : "no");
		return;
	}
	s->kind = K_STREAM;
	s->seq = ++arrivals;
	out("event stream-up id=%016llx peer=%s %s", (unsigned long long)s->id, s->peer,
	    SSL_get_version(s->ssl));
}

static void sess_step(struct sess *s)
{
	int n, e;

	if (s->kind == K_HANDSHAKE) {
		n = SSL_accept(s->ssl);
		if (n == 1) {
			on_handshake(s);
		} else {
			e = SSL_get_error(s->ssl, n);
			s->want_write = e == SSL_ERROR_WANT_WRITE;
			if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
				out("event handshake-failed peer=%s", s->peer);
				sess_free(s, "handshake");
			}
			return;
		}
	}
	if (s->kind == K_CONTROL) {
		ctl_flush(s);
		if (control == s)
			ctl_read(s);
	} else if (s->kind == K_DGRAM) {
		dgram_flush(s);
		dgram_read(s);
	} else if (s->kind == K_STREAM) {
		if (s->xfer)
			xfer_step(s);
		else if (!s->bound)
			stream_idle_read(s);
	}
}

/* ------------------------------------------------------------ commands -- */

static struct sess *oldest_idle(void)
{
	struct sess *best = NULL;
	int i;

	for (i = 0; i < MAX_SESS; i++)
		if (sess[i] && sess[i]->kind == K_STREAM && !sess[i]->bound && !sess[i]->asked &&
		    (!best || sess[i]->seq < best->seq))
			best = sess[i];
	return best;
}

static struct sess *bound_by(int n)
{
	int i;

	for (i = 0; i < MAX_SESS; i++)
		if (sess[i] && sess[i]->kind == K_STREAM && sess[i]->bound == n)
			return sess[i];
	return NULL;
}

static struct req *req_new(int n)
{
	struct req *q = &reqs[n % 256];

	memset(q, 0, sizeof(*q));
	q->n = n;
	return q;
}

static int parse_ip(const char *s, uint32_t *a)
{
	struct in_addr ia;

	if (!s || inet_pton(AF_INET, s, &ia) != 1)
		return -1;
	*a = ntohl(ia.s_addr);
	return 0;
}

static void cmd_connect(int n, char **arg, int bad);

/* Two CONNECTs with id n over two idle streams: the agent must refuse the
 * second (an id still open) with ERROR UNEXPECTED. */
static void cmd_connect_twice(int n, char **arg)
{
	cmd_connect(n, arg, 0);
	cmd_connect(n, arg, 0);
}

static void cmd_connect(int n, char **arg, int bad)
{
	struct ap_msg m = { .type = AP_CONNECT };
	struct sess *st = bad ? NULL : oldest_idle();
	struct req *q;

	if (!control || parse_ip(arg[1], &m.u.connect.dst) < 0 || !arg[2]) {
		out("reply %d connect error=%s", n, control ? "usage" : "no-control");
		return;
	}
	if (!bad && !st) {
		out("reply %d connect error=no-idle-stream", n);
		return;
	}
	q = req_new(n);
	q->stream = bad ? 0x0123456789abcdefull : st->id;
	if (st)
		st->asked = 1; /* the next connect names another one */
	m.u.connect.id = (uint32_t)n;
	m.u.connect.stream = q->stream;
	m.u.connect.proto = 6;
	m.u.connect.dport = (uint16_t)atoi(arg[2]);
	m.u.connect.timeout_ms = (uint16_t)(arg[3] ? atoi(arg[3]) : 0);
	m.u.connect.src = 0xc6120002; /* 198.18.0.2, informational */
	m.u.connect.sport = 40000;
	ctl_send(&m);
}

static void cmd_ping(int n, char **arg)
{
	struct ap_msg m = { .type = AP_PING };
	struct req *q;
	int size = arg[2] ? atoi(arg[2]) : 56;

	if (!control || parse_ip(arg[1], &m.u.ping.dst) < 0 || size < 0 || size > AP_MAX_PING_DATA) {
		out("reply %d ping error=%s", n, control ? "usage" : "no-control");
		return;
	}
	q = req_new(n);
	q->is_ping = 1;
	q->len = (uint16_t)size;
	RAND_bytes(q->data, size);
	m.u.ping.id = (uint32_t)n;
	m.u.ping.ident = (uint16_t)(0x5100 + n);
	m.u.ping.seq = (uint16_t)n;
	m.u.ping.ttl = (uint8_t)(arg[3] ? atoi(arg[3]) : 0);
	m.u.ping.timeout_ms = (uint16_t)(arg[3] && arg[4] ? atoi(arg[4]) : 1000);
	m.u.ping.data_len = q->len;
	m.u.ping.data = q->data;
	ctl_send(&m);
}

static void cmd_xfer(int n, char **arg)
{
	struct sess *st = arg[1] ? bound_by(atoi(arg[1])) : NULL;

	if (!st || !arg[2] || !arg[3]) {
		out("reply %d xfer error=%s", n, st ? "usage" : "no-such-stream");
		return;
	}
	st->sendf = strcmp(arg[2], "-") ? fopen(arg[2], "rb") : NULL;
	st->recvf = fopen(arg[3], "wb");
	if ((strcmp(arg[2], "-") && !st->sendf) || !st->recvf) {
		out("reply %d xfer error=file", n);
		return;
	}
	st->xfer = n;
	xfer_step(st);
}

/* SESSION: hex, or "last" */
static uint64_t parse_session(const char *a)
{
	if (!a)
		return 0;
	if (!strcmp(a, "last"))
		return last_dgram;
	return strtoull(a, NULL, 16);
}

static void cmd_da_open(int n, char **arg, int twice)
{
	struct ap_msg m = { .type = AP_DA_OPEN };

	if (!control || !arg[1] || !arg[2] || parse_ip(arg[3], &m.u.da_open.dst) < 0 || !arg[4]) {
		out("reply %d da-open error=%s", n, control ? "usage" : "no-control");
		return;
	}
	req_new(n);
	m.u.da_open.id = (uint32_t)n;
	m.u.da_open.session = parse_session(arg[1]);
	m.u.da_open.da = (uint32_t)strtoul(arg[2], NULL, 0);
	m.u.da_open.dport = (uint16_t)atoi(arg[4]);
	m.u.da_open.src = 0xc6120002; /* 198.18.0.2, informational */
	m.u.da_open.sport = 40000;
	m.u.da_open.idle_ms = arg[5] ? (uint32_t)atoi(arg[5]) : 30000;
	m.u.da_open.idle2_ms = arg[6] ? (uint32_t)atoi(arg[6]) : 60000;
	ctl_send(&m);
	if (twice) {
		m.u.da_open.id = 0x7fff0000u + (uint32_t)n;
		ctl_send(&m);
	}
}

static void cmd_dgram_send(int n, char **arg)
{
	static uint8_t payload[AP_DGRAM_MAX_PAYLOAD];
	struct ap_dmsg m = { .type = AP_D_DATA, .data = payload };
	struct sess *d = dgram_by_id(parse_session(arg[1]));
	long size = arg[3] ? atol(arg[3]) : -1;

	if (!d) {
		out("reply %d dgram-send error=no-session", n);
		return;
	}
	if (!arg[2] || size < 0 || size > AP_DGRAM_MAX_PAYLOAD) {
		out("reply %d dgram-send error=usage", n);
		return;
	}
	RAND_bytes(payload, (int)size);
	m.da = (uint32_t)strtoul(arg[2], NULL, 0);
	m.len = (uint16_t)size;
	if (dgram_send(d, &m) < 0) {
		out("reply %d dgram-send error=full", n);
		return;
	}
	d->data_out++;
	out("reply %d dgram-send sent len=%ld sha256=%s", n, size, sha256_hex(payload, (size_t)size));
}

/* The UDP commands: 1 when `arg` was one of them. */
static int command_dgram(int n, char **arg)
{
	struct sess *d;

	if (!strcmp(arg[0], "dgram-open")) {
		struct ap_msg m = { .type = AP_DGRAM_OPEN };

		if (!control) {
			out("reply %d dgram-open error=no-control", n);
			return 1;
		}
		req_new(n);
		m.u.dgram_open.id = (uint32_t)n;
		ctl_send(&m);
	} else if (!strcmp(arg[0], "da-open") || !strcmp(arg[0], "da-open-twice")) {
		cmd_da_open(n, arg, arg[0][7] == '-');
	} else if (!strcmp(arg[0], "dgram-send")) {
		cmd_dgram_send(n, arg);
	} else if (!strcmp(arg[0], "da-end")) {
		struct ap_msg m = { .type = AP_DA_END };

		m.u.da_end.da = arg[1] ? (uint32_t)strtoul(arg[1], NULL, 0) : 0;
		m.u.da_end.reason = AP_DA_END_APPLIANCE;
		ctl_send(&m);
		out("reply %d da-end %s", n, control ? "sent" : "no-control");
	} else if (!strcmp(arg[0], "dgram-close")) {
		struct ap_msg m = { .type = AP_DGRAM_CLOSE };

		m.u.dgram_close.session = parse_session(arg[1]);
		ctl_send(&m);
		out("reply %d dgram-close %s", n, control ? "sent" : "no-control");
	} else if (!strcmp(arg[0], "dgram-garbage")) {
		static const uint8_t junk[] = { 0x7f, 0, 0, 4, 'j', 'u', 'n', 'k' };

		d = dgram_by_id(parse_session(arg[1]));
		if (d && d->dtxlen + sizeof(junk) <= DTX) {
			memcpy(d->dtx + d->dtxlen, junk, sizeof(junk));
			d->dtxlen += sizeof(junk);
			dgram_flush(d);
		}
		out("reply %d dgram-garbage %s", n, d ? "sent" : "no-session");
	} else if (!strcmp(arg[0], "dgram-status")) {
		d = dgram_by_id(parse_session(arg[1]));
		out("reply %d dgram-status open=%d credit=%llu data_out=%llu data_in=%llu", n, d != NULL,
		    d ? d->credit : 0, d ? d->data_out : 0, d ? d->data_in : 0);
	} else if (!strcmp(arg[0], "dgram-count")) {
		int k = 0;

		for (int i = 0; i < MAX_SESS; i++)
			k += sess[i] && sess[i]->kind == K_DGRAM;
		out("reply %d dgram-count sessions=%d", n, k);
	} else {
		return 0;
	}
	return 1;
}

static void command(char *line)
{
	static int n;
	char *arg[8] = { 0 };
	int i = 0;
	struct sess *st;

	n++;
	for (char *t = strtok(line, " \t\r"); t && i < 7; t = strtok(NULL, " \t\r"))
		arg[i++] = t;
	if (!arg[0]) {
		out("reply %d empty", n);
	} else if (command_dgram(n, arg)) {
		/* done */
	} else if (!strcmp(arg[0], "status")) {
		int idle = 0, bound = 0;

		for (i = 0; i < MAX_SESS; i++)
			if (sess[i] && sess[i]->kind == K_STREAM)
				sess[i]->bound ? bound++ : idle++;
		out("reply %d status control=%d idle=%d bound=%d keepalives=%lu", n, control != NULL, idle,
		    bound, keepalives);
	} else if (!strcmp(arg[0], "connect-twice")) {
		cmd_connect_twice(n, arg);
	} else if (!strcmp(arg[0], "connect") || !strcmp(arg[0], "connect-bad")) {
		cmd_connect(n, arg, arg[0][7] == '-');
	} else if (!strcmp(arg[0], "ping")) {
		cmd_ping(n, arg);
	} else if (!strcmp(arg[0], "xfer")) {
		cmd_xfer(n, arg);
	} else if (!strcmp(arg[0], "reset")) {
		st = arg[1] ? bound_by(atoi(arg[1])) : NULL;
		if (st)
			sess_rst(st, "reset-by-command");
		out("reply %d reset %s", n, st ? "done" : "no-such-stream");
	} else if (!strcmp(arg[0], "retire") || !strcmp(arg[0], "retire-bad")) {
		struct ap_msg m = { .type = AP_RETIRE };
		int bad = arg[0][6] == '-';

		st = bad ? NULL : oldest_idle();
		if (!control || (!bad && !st)) {
			out("reply %d retire error=%s", n, control ? "no-idle-stream" : "no-control");
		} else {
			m.u.retire.stream = st ? st->id : 0x0123456789abcdefull;
			if (st)
				st->asked = 1; /* not offered to a connect any more */
			ctl_send(&m);
			out("reply %d retire sent id=%016llx", n, (unsigned long long)m.u.retire.stream);
		}
	} else if (!strcmp(arg[0], "garbage")) {
		static const uint8_t junk[] = { 0x7f, 0, 0, 4, 'j', 'u', 'n', 'k' };

		if (control) {
			memcpy(control->tx + control->txlen, junk, sizeof(junk));
			control->txlen += sizeof(junk);
			ctl_flush(control);
		}
		out("reply %d garbage %s", n, control ? "sent" : "no-control");
	} else if (!strcmp(arg[0], "error")) {
		struct ap_msg m = { .type = AP_ERROR };

		m.u.error.code = AP_ERR_REFUSED;
		snprintf(m.u.error.text, sizeof(m.u.error.text), "%s %s", arg[1] ? arg[1] : "",
			 arg[2] ? arg[2] : "");
		m.u.error.text_len = (uint8_t)strlen(m.u.error.text);
		ctl_send(&m);
		out("reply %d error %s", n, control ? "sent" : "no-control");
	} else if (!strcmp(arg[0], "mute")) {
		if (control)
			control->muted = 1;
		out("reply %d mute %s", n, control ? "done" : "no-control");
	} else if (!strcmp(arg[0], "quit")) {
		out("reply %d quit", n);
		exit(0);
	} else {
		out("reply %d unknown-command", n);
	}
}

static void read_stdin(void)
{
	static char buf[4096];
	static size_t len;
	char *nl;
	ssize_t r = read(0, buf + len, sizeof(buf) - 1 - len);

	if (r <= 0) {
		if (r < 0 && errno == EINTR)
			return;
		exit(0); /* the test closed our stdin: done */
	}
	len += (size_t)r;
	buf[len] = '\0';
	while ((nl = strchr(buf, '\n')) != NULL) {
		*nl = '\0';
		command(buf);
		len -= (size_t)(nl + 1 - buf);
		memmove(buf, nl + 1, len + 1);
	}
}

/* ---------------------------------------------------------------- main -- */

static int listen_on(const char *spec)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	char host[64];
	const char *c = strrchr(spec, ':');
	int fd, one = 1;

	if (!c || (size_t)(c - spec) >= sizeof(host))
		die("--listen ADDR:PORT");
	memcpy(host, spec, (size_t)(c - spec));
	host[c - spec] = '\0';
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
		die("--listen: bad address");
	sa.sin_port = htons((uint16_t)atoi(c + 1));
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 128) < 0)
		die("listen");
	return fd;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' }, { "cert", required_argument, NULL, 'c' },
		{ "key", required_argument, NULL, 'k' },    { "ca", required_argument, NULL, 'a' },
		{ "keepalive", required_argument, NULL, 'K' }, { "pool", required_argument, NULL, 'p' },
		{ "tls12", no_argument, NULL, '2' },         { "no-alpn", no_argument, NULL, 'n' },
		{ "caps", required_argument, NULL, 'C' },
		{ NULL, 0, NULL, 0 },
	};
	const char *lspec = "0.0.0.0:443", *cert = NULL, *key = NULL, *ca = NULL;
	struct pollfd pfd[MAX_SESS + 2];
	struct sess *map[MAX_SESS + 2];
	int o, lfd, i, np, busy;

	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'l': lspec = optarg; break;
		case 'c': cert = optarg; break;
		case 'k': key = optarg; break;
		case 'a': ca = optarg; break;
		case 'K': opt_keepalive = (uint32_t)atoi(optarg); break;
		case 'p': opt_pool = (uint32_t)atoi(optarg); break;
		case '2': opt_tls12 = 1; break;
		case 'n': opt_no_alpn = 1; break;
		case 'C': opt_caps = (uint32_t)strtoul(optarg, NULL, 0); break;
		default:
			fprintf(stderr, "usage: sluice-mock-appliance --cert F --key F --ca F "
					"[--listen ADDR:PORT] [--keepalive MS] [--pool N] [--tls12] [--no-alpn] [--caps N]\n");
			return 2;
		}
	}
	if (!cert || !key || !ca)
		die("--cert, --key and --ca are required");
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	tls_init(cert, key, ca);
	lfd = listen_on(lspec);
	out("event listening on %s%s%s", lspec, opt_tls12 ? " tls1.2" : "", opt_no_alpn ? " no-alpn" : "");
	for (;;) {
		np = 0;
		busy = 0;
		pfd[np].fd = lfd, pfd[np].events = POLLIN, map[np++] = NULL;
		pfd[np].fd = 0, pfd[np].events = POLLIN, map[np++] = NULL;
		for (i = 0; i < MAX_SESS; i++) {
			if (!sess[i])
				continue;
			if (sess[i]->xfer && (!sess[i]->send_done || !sess[i]->shut_sent))
				busy = 1; /* the file side is always ready */
			pfd[np].fd = sess[i]->fd;
			pfd[np].events = (short)(POLLIN | (sess[i]->want_write ? POLLOUT : 0));
			map[np++] = sess[i];
		}
		if (poll(pfd, (nfds_t)np, busy ? 5 : 200) < 0 && errno != EINTR)
			die("poll");
		if (pfd[0].revents)
			do_accept(lfd);
		if (pfd[1].revents)
			read_stdin();
		for (i = 2; i < np; i++) {
			int k;

			/* the session may have been freed by an earlier step */
			for (k = 0; k < MAX_SESS && sess[k] != map[i]; k++)
				;
			if (k < MAX_SESS && (pfd[i].revents || (map[i]->xfer && busy)))
				sess_step(map[i]);
		}
	}
}
