/*
 * DGRAM sessions and datagram associations (dgram.h).
 *
 * A DGRAM session, once its handshake is done and DGRAM_UP sent, is pumped
 * like a relay: frames in (parsed by the shared codec, ap_dparse), frames
 * out from one bounded buffer (dgram_buffer bytes).  Its first frame out is
 * CREDIT with our window; after that, whenever the DATA frames received
 * since the last grant reach half the window, CREDIT for them.  A credit
 * owed while the buffer is full waits in `owed` (never dropped: the
 * appliance would stall).  Server datagrams that do not fit are dropped
 * and counted: a datagram service loses datagrams, it does not block.
 *
 * A DA is one non-blocking UDP socket connect()ed to the server, with
 * IP_RECVERR: what the site's network answers with ICMP is read from the
 * error queue and sent as an ICMP frame (RFC 1122 4.1.3.3: UDP passes ICMP
 * errors to the application).  Aging is one sweep every AGE_SCAN_MS.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/errqueue.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent.h"
#include "ctl.h"
#include "dgram.h"
#include "log.h"
#include "tlsconn.h"

#define RX_CAP (2 * (AP_HDR_LEN + 65535))
#define AGE_SCAN_MS 100
#define DA_BUCKETS 4096          /* hash by da id; chains */
#define UDP_BURST 32             /* datagrams read per socket event */

struct dsess {
	struct tlsconn tc;
	uint64_t id;
	uint32_t open_id;            /* the DGRAM_OPEN this answers */
	int up;
	uint8_t rx[RX_CAP];
	size_t rxlen;
	uint8_t *tx;                 /* dgram_buffer bytes */
	size_t txoff, txlen;
	uint32_t since_grant, owed;  /* DATA frames since our last CREDIT; credit not yet sent */
	uint32_t n_das;
	int rd_ww, wr_wr, dead;
	struct dsess *prev, *next;
	struct grave grave;
};

struct da {
	uint32_t id;
	struct dsess *s;
	struct ev ev;                /* the UDP socket */
	uint64_t last_ms;
	uint32_t replies;
	uint32_t idle_ms, idle2_ms;
	struct da *hnext;            /* hash chain */
	struct da *prev, *next;      /* all DAs (the aging sweep) */
	struct grave grave;
};

static struct dsess *sessions;
static struct da *das, *bucket[DA_BUCKETS];
static uint32_t n_sessions, n_das;
static struct timer age_timer;
static int age_ready;
static struct ratelim rl_dial, rl_drop, rl_err;
static uint8_t dbuf[65536];      /* one datagram in */

uint32_t dgram_session_count(void) { return n_sessions; }
uint32_t dgram_da_count(void) { return n_das; }

static void sess_pump(struct dsess *s);

/* ------------------------------------------------------------------ DAs -- */

static struct da *da_find(uint32_t id)
{
	struct da *d;

	for (d = bucket[id % DA_BUCKETS]; d; d = d->hnext)
		if (d->id == id)
			return d;
	return NULL;
}

static void free_da(struct grave *g)
{
	free(container_of(g, struct da, grave));
}

/* Close a DA; `reason` != 0: tell the appliance (DA_END). */
static void da_close(struct da *d, uint8_t reason)
{
	struct da **pp = &bucket[d->id % DA_BUCKETS];

	while (*pp != d)
		pp = &(*pp)->hnext;
	*pp = d->hnext;
	if (d->prev)
		d->prev->next = d->next;
	else
		das = d->next;
	if (d->next)
		d->next->prev = d->prev;
	if (reason) {
		struct ap_msg m = { .type = AP_DA_END };

		m.u.da_end = (struct ap_da_end_msg){
			.da = d->id, .reason = reason,
			.replies = (uint16_t)(d->replies > 65535 ? 65535 : d->replies),
		};
		ctl_send(&m);
	}
	ev_close(&d->ev);
	d->s->n_das--;
	n_das--;
	loop_bury(&d->grave, free_da);
}

/* Append a frame to the session's buffer: 0, or -ENOBUFS (dropped). */
static int tx_frame(struct dsess *s, const struct ap_dmsg *m)
{
	size_t cap = agent_cf->dgram_buffer, need = AP_HDR_LEN + 8 + (m->type == AP_D_DATA ? m->len : 8);
	int n;

	if (s->txoff + s->txlen + need > cap && s->txoff) {
		memmove(s->tx, s->tx + s->txoff, s->txlen);
		s->txoff = 0;
	}
	if (s->txoff + s->txlen + need > cap)
		return -ENOBUFS;
	n = ap_dencode(m, s->tx + s->txoff + s->txlen, cap - s->txoff - s->txlen);
	if (n < 0)
		return n;
	s->txlen += (size_t)n;
	return 0;
}

static void grant(struct dsess *s, uint32_t n)
{
	struct ap_dmsg m = { .type = AP_D_CREDIT };

	s->owed += n;
	if (!s->owed)
		return;
	m.credit = s->owed;
	if (tx_frame(s, &m) == 0) {
		agent_stats.credits_granted += s->owed;
		s->owed = 0;
	}
}

/* The socket's error queue: each ICMP error the kernel saw for it.  Returns
 * how many entries were read (a recv/send that failed because of a pending
 * error can then tell an ICMP error from a failed socket). */
static int da_errqueue(struct da *d)
{
	int k;

	for (k = 0; k < 8; k++) {
		char ctrl[512];
		struct iovec iov = { .iov_base = dbuf, .iov_len = sizeof(dbuf) };
		struct sockaddr_in from;
		struct msghdr mh = { .msg_name = &from, .msg_namelen = sizeof(from), .msg_iov = &iov,
				     .msg_iovlen = 1, .msg_control = ctrl, .msg_controllen = sizeof(ctrl) };
		struct cmsghdr *cm;

		if (recvmsg(d->ev.fd, &mh, MSG_ERRQUEUE | MSG_DONTWAIT) < 0)
			break;
		for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
			const struct sock_extended_err *ee;
			const struct sockaddr_in *off;
			struct ap_dmsg m = { .type = AP_D_ICMP, .da = d->id };

			if (cm->cmsg_level != SOL_IP || cm->cmsg_type != IP_RECVERR)
				continue;
			ee = (const struct sock_extended_err *)CMSG_DATA(cm);
			if (ee->ee_origin != SO_EE_ORIGIN_ICMP)
				continue;
			off = (const struct sockaddr_in *)SO_EE_OFFENDER(ee);
			m.icmp_type = ee->ee_type;
			m.icmp_code = ee->ee_code;
			m.mtu = ee->ee_type == 3 && ee->ee_code == 4 ? (uint16_t)ee->ee_info : 0;
			m.from = off->sin_family == AF_INET ? ntohl(off->sin_addr.s_addr) : 0;
			/* the codec takes destination unreachable, time exceeded and
			 * parameter problem: what quotes a datagram (RFC 792) */
			if (tx_frame(d->s, &m) == 0)
				agent_stats.dgram_icmp_sent++;
			/* not last_ms: aging counts datagrams, and an error
			 * is none (a DA the server never answers still ends) */
		}
	}
	return k;
}

/* The errnos the kernel gives a UDP socket for an ICMP error it got
 * (icmp_err_convert[], ICMP_TIME_EXCEEDED, ICMP_PARAMETERPROB): a recv or
 * send failing with one of these reports an ICMP error, not a dead socket. */
static int icmp_errno(int e)
{
	return e == ECONNREFUSED || e == EHOSTUNREACH || e == ENETUNREACH || e == EMSGSIZE ||
	       e == EPROTO || e == EHOSTDOWN || e == ENONET || e == ENOPROTOOPT || e == EOPNOTSUPP ||
	       e == EACCES;
}

static void da_event(struct ev *ev, uint32_t events)
{
	struct da *d = container_of(ev, struct da, ev);
	struct dsess *s = d->s;
	int i;

	if (events & EPOLLERR)
		da_errqueue(d);
	for (i = 0; i < UDP_BURST && ev->fd >= 0; i++) {
		ssize_t n = recv(ev->fd, dbuf, sizeof(dbuf), MSG_DONTWAIT);
		struct ap_dmsg m = { .type = AP_D_DATA, .da = d->id, .data = dbuf };

		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			/* an ICMP error came after the error queue was read
			 * above: it is in the queue now */
			if (da_errqueue(d) > 0 || icmp_errno(errno))
				continue;
			log_rl(&rl_err, "UDP association %08x: %s", d->id, strerror(errno));
			agent_stats.das_error_ended++;
			da_close(d, AP_DA_END_ERROR);
			break;
		}
		if (n > AP_DGRAM_MAX_PAYLOAD)
			continue;
		m.len = (uint16_t)n;
		d->last_ms = now_ms();
		d->replies++;
		agent_stats.dgram_from_server++;
		agent_stats.dgram_bytes_from_server += (uint64_t)n;
		if (tx_frame(s, &m) != 0) {
			agent_stats.dgram_buffer_drops++;
			log_rl(&rl_drop, "DGRAM session %016llx: buffer full, server datagrams dropped",
			       (unsigned long long)s->id);
		}
	}
	sess_pump(s);
}

int dgram_da_open(const struct ap_da_open *o, struct ap_da_result *r)
{
	struct dsess *s;
	struct sockaddr_in sa = { .sin_family = AF_INET }, me;
	socklen_t ml = sizeof(me);
	struct da *d;
	int fd, on = 1;

	*r = (struct ap_da_result){ .id = o->id, .result = AP_RES_OK };
	if (da_find(o->da))
		return -EEXIST;
	for (s = sessions; s; s = s->next)
		if (s->up && s->id == o->session)
			break;
	if (!s) {
		agent_stats.das_no_session++;
		r->result = AP_RES_NO_STREAM;
		return 0;
	}
	for (uint32_t i = 0; i < agent_cf->n_deny; i++)
		if ((o->dst & agent_cf->deny[i].mask) == agent_cf->deny[i].net) {
			agent_stats.das_refused++;
			r->result = AP_RES_REFUSE;
			return 0;
		}
	if (agent_dst_forbidden(o->dst)) {
		agent_stats.das_refused++;
		agent_stats.dst_forbidden++;
		r->result = AP_RES_REFUSE;
		return 0;
	}
	if (n_das >= agent_cf->max_das) {
		agent_stats.das_busy++;
		r->result = AP_RES_BUSY;
		return 0;
	}
	d = calloc(1, sizeof(*d));
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	sa.sin_addr.s_addr = htonl(o->dst);
	sa.sin_port = htons(o->dport);
	if (!d || fd < 0 || setsockopt(fd, SOL_IP, IP_RECVERR, &on, sizeof(on)) != 0 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    getsockname(fd, (struct sockaddr *)&me, &ml) != 0) {
		log_rl(&rl_err, "UDP association to %s:%u: %s", inet_ntoa(sa.sin_addr), o->dport,
		       strerror(errno));
		if (fd >= 0)
			close(fd);
		free(d);
		agent_stats.das_busy++;
		r->result = AP_RES_BUSY;
		return 0;
	}
	d->id = o->da;
	d->s = s;
	d->idle_ms = o->idle_ms;
	d->idle2_ms = o->idle2_ms;
	d->last_ms = now_ms();
	ev_init(&d->ev, da_event);
	if (ev_attach(&d->ev, fd, EPOLLIN) != 0) {
		close(fd);
		free(d);
		agent_stats.das_busy++;
		r->result = AP_RES_BUSY;
		return 0;
	}
	d->hnext = bucket[d->id % DA_BUCKETS];
	bucket[d->id % DA_BUCKETS] = d;
	d->next = das;
	if (das)
		das->prev = d;
	das = d;
	s->n_das++;
	n_das++;
	agent_stats.das_opened++;
	if (!timer_armed(&age_timer))
		timer_arm(&age_timer, AGE_SCAN_MS);
	r->relay_port = ntohs(me.sin_port);
	log_debug("UDP association %08x: %s:%u from port %u over DGRAM %016llx", d->id,
		  inet_ntoa(sa.sin_addr), o->dport, r->relay_port, (unsigned long long)s->id);
	return 0;
}

void dgram_da_end(uint32_t id)
{
	struct da *d = da_find(id);

	if (d)
		da_close(d, 0);
}

/* The aging sweep: idle_ms, or idle2_ms once the server answered twice. */
static void age_cb(struct timer *t)
{
	uint64_t now = now_ms();
	struct da *d = das, *next;

	for (; d; d = next) {
		uint32_t lim = d->replies >= 2 ? d->idle2_ms : d->idle_ms;

		next = d->next;
		if (now - d->last_ms >= lim) {
			agent_stats.das_idle_ended++;
			da_close(d, AP_DA_END_IDLE);
		}
	}
	if (das)
		timer_arm(t, AGE_SCAN_MS);
}

/* ------------------------------------------------------------- sessions -- */

static void free_sess(struct grave *g)
{
	struct dsess *s = container_of(g, struct dsess, grave);

	free(s->tx);
	free(s);
}

/* The session ends: its DAs go without DA_END (the appliance sees the
 * session end too). */
static void sess_end(struct dsess *s, int notify, const char *why)
{
	struct da *d, *next;

	if (s->dead)
		return;
	s->dead = 1;
	for (d = das; d; d = next) {
		next = d->next;
		if (d->s == s)
			da_close(d, 0);
	}
	if (s->prev)
		s->prev->next = s->next;
	else
		sessions = s->next;
	if (s->next)
		s->next->prev = s->prev;
	n_sessions--;
	if (why)
		log_debug("DGRAM session %016llx: %s", (unsigned long long)s->id, why);
	if (notify)
		tlsconn_close(&s->tc);
	else
		tlsconn_abort(&s->tc);
	loop_bury(&s->grave, free_sess);
}

static void handle_frame(struct dsess *s, const struct ap_dmsg *m)
{
	struct da *d;
	ssize_t n;

	/* only DATA travels appliance -> agent (ap_ddir_ok checked it) */
	d = da_find(m->da);
	s->since_grant++;
	if (s->since_grant >= agent_cf->dgram_credit / 2) {
		grant(s, s->since_grant);
		s->since_grant = 0;
	}
	if (!d || d->s != s) {
		agent_stats.dgram_unknown_da++;
		return;
	}
	d->last_ms = now_ms();
	n = send(d->ev.fd, m->data, m->len, MSG_DONTWAIT);
	if (n < 0 && icmp_errno(errno)) {
		/* a pending ICMP error (an earlier datagram's, not yet read
		 * from the queue) fails the next send without sending it:
		 * report the error, then send again, once */
		da_errqueue(d);
		n = send(d->ev.fd, m->data, m->len, MSG_DONTWAIT);
	}
	if (n < 0) {
		agent_stats.dgram_send_errors++;
		return;
	}
	agent_stats.dgram_to_server++;
	agent_stats.dgram_bytes_to_server += m->len;
}

/* Every whole frame in rx: 0, or -1 when one is malformed. */
static int parse(struct dsess *s)
{
	size_t off = 0, used;
	const char *why;
	struct ap_dmsg m;
	int rc;

	while (!s->dead) {
		rc = ap_dparse(s->rx + off, s->rxlen - off, &m, &used, &why);
		if (rc == -EAGAIN)
			break;
		if (rc < 0 || !ap_ddir_ok(m.type, AP_FROM_APPLIANCE)) {
			log_rl(&rl_err, "DGRAM session %016llx: %s; resetting it", (unsigned long long)s->id,
			       rc < 0 ? why : "a frame the appliance may not send");
			return -1;
		}
		handle_frame(s, &m);
		off += used;
	}
	memmove(s->rx, s->rx + off, s->rxlen - off);
	s->rxlen -= off;
	return 0;
}

static void sess_pump(struct dsess *s)
{
	uint32_t want = EPOLLIN;
	int n, e;

	if (s->dead || !s->up)
		return;
	s->rd_ww = 0;
	for (;;) {
		ERR_clear_error();
		n = SSL_read(s->tc.ssl, s->rx + s->rxlen, (int)(RX_CAP - s->rxlen));
		if (n > 0) {
			s->rxlen += (size_t)n;
			if (parse(s) != 0) {
				sess_end(s, 0, "malformed frame");
				return;
			}
			continue;
		}
		e = SSL_get_error(s->tc.ssl, n);
		if (e == SSL_ERROR_WANT_READ)
			break;
		if (e == SSL_ERROR_WANT_WRITE) {
			s->rd_ww = 1;
			break;
		}
		sess_end(s, e == SSL_ERROR_ZERO_RETURN, e == SSL_ERROR_ZERO_RETURN ?
			 "closed by the appliance" : "failed");
		return;
	}
	if (s->owed)
		grant(s, 0);
	s->wr_wr = 0;
	while (s->txlen) {
		ERR_clear_error();
		n = SSL_write(s->tc.ssl, s->tx + s->txoff, (int)s->txlen);
		if (n > 0) {
			s->txoff += (size_t)n;
			s->txlen -= (size_t)n;
			if (!s->txlen)
				s->txoff = 0;
			continue;
		}
		e = SSL_get_error(s->tc.ssl, n);
		if (e == SSL_ERROR_WANT_READ) {
			s->wr_wr = 1;
			break;
		}
		if (e != SSL_ERROR_WANT_WRITE) {
			sess_end(s, 0, "write failed");
			return;
		}
		break;
	}
	if (s->txlen || s->rd_ww)
		want |= EPOLLOUT;
	ev_want(&s->tc.ev, want);
}

static void sess_event(struct ev *ev, uint32_t events)
{
	(void)events;
	sess_pump(container_of(ev, struct dsess, tc.ev));
}

static int export_id(SSL *ssl, uint64_t *id)
{
	unsigned char out[8];

	if (SSL_export_keying_material(ssl, out, sizeof(out), AP_STREAM_ID_LABEL,
				       strlen(AP_STREAM_ID_LABEL), NULL, 0, 0) != 1)
		return -1;
	*id = 0;
	for (int i = 0; i < 8; i++)
		*id = *id << 8 | out[i];
	return 0;
}

static void send_up(uint32_t id, uint8_t result, uint64_t session)
{
	struct ap_msg m = { .type = AP_DGRAM_UP };

	m.u.dgram_up = (struct ap_dgram_up){ .id = id, .result = result, .session = session };
	ctl_send(&m);
}

static void dialed(struct tlsconn *tc, int err)
{
	struct dsess *s = container_of(tc, struct dsess, tc);

	if (err || export_id(tc->ssl, &s->id) < 0) {
		agent_stats.dgram_dial_failures++;
		log_rl(&rl_dial, "DGRAM session: %s", err ? tc->err : "TLS exporter failed");
		send_up(s->open_id, AP_RES_BUSY, 0);
		sess_end(s, 0, NULL);
		return;
	}
	s->up = 1;
	tc->ev.cb = sess_event;
	/* the appliance may send this many DATA frames before our next CREDIT */
	grant(s, agent_cf->dgram_credit);
	send_up(s->open_id, AP_RES_OK, s->id);
	log_debug("DGRAM session %016llx up (DGRAM_OPEN %u)", (unsigned long long)s->id, s->open_id);
	sess_pump(s);
}

void dgram_open(uint32_t id)
{
	struct dsess *s;

	if (!age_ready) {
		timer_init(&age_timer, age_cb);
		age_ready = 1;
	}
	if (n_sessions >= agent_cf->max_dgram_sessions) {
		agent_stats.dgram_busy++;
		send_up(id, AP_RES_BUSY, 0);
		return;
	}
	s = calloc(1, sizeof(*s));
	if (s)
		s->tx = malloc(agent_cf->dgram_buffer);
	agent_stats.dgram_dials++;
	if (!s || !s->tx) {
		if (s)
			free(s);
		agent_stats.dgram_dial_failures++;
		send_up(id, AP_RES_BUSY, 0);
		return;
	}
	s->open_id = id;
	tlsconn_init(&s->tc);
	if (tlsconn_dial(&s->tc, AP_ALPN_DGRAM, dialed) < 0) {
		agent_stats.dgram_dial_failures++;
		log_rl(&rl_dial, "DGRAM session: %s", s->tc.err);
		free(s->tx);
		free(s);
		send_up(id, AP_RES_BUSY, 0);
		return;
	}
	s->next = sessions;
	if (sessions)
		sessions->prev = s;
	sessions = s;
	n_sessions++;
}

void dgram_close(uint64_t id)
{
	struct dsess *s;

	for (s = sessions; s; s = s->next)
		if (s->up && s->id == id) {
			sess_end(s, 1, "closed on DGRAM_CLOSE");
			return;
		}
}

void dgram_close_all(void)
{
	while (sessions)
		sess_end(sessions, 1, "the control session ended");
}
