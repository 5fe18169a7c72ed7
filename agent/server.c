/*
 * Server connects for CONNECT (server.h).
 *
 * Each request reserves the idle STREAM session it names, then connects a
 * non-blocking TCP socket to the server.  The outcome is what our SYN got
 * (the seed's three answers): SYN-ACK -> OK with the connection's MSS and a
 * relay; RST -> REFUSE; ICMP destination unreachable -> UNREACHABLE with
 * that ICMP code.  The kernel folds ICMP codes into a few errnos (13 and 1
 * both become EHOSTUNREACH, a port unreachable looks like a RST), so when
 * the raw ICMP socket is open icmp.c hands us the message itself, matched
 * on our SYN's 4-tuple; only without it is the code guessed from errno.
 * No answer within the timeout -> UNREACHABLE 1 (host), what a router that
 * gave up on ARP would have said.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent.h"
#include "ctl.h"
#include "icmp.h"
#include "log.h"
#include "relay.h"
#include "server.h"
#include "stream.h"

struct pconn {
	struct ev ev;           /* the server socket, connecting */
	struct timer t;         /* the connect timeout */
	struct stream *s;       /* the reserved STREAM session */
	uint32_t id;            /* CONNECT request id */
	uint32_t src, dst;      /* host order */
	uint16_t sport, dport;
	struct pconn *prev, *next;
	struct grave grave;
};

static struct pconn *pending;
static uint32_t n_pending;
static struct ratelim rl_busy, rl_nostream, rl_fail, rl_dst;

uint32_t server_pending(void) { return n_pending; }

int server_is_pending(uint32_t id)
{
	const struct pconn *p;

	for (p = pending; p; p = p->next)
		if (p->id == id)
			return 1;
	return 0;
}

/* Last step of every answer: sending may close the control session,
 * which cancels whatever is still pending (server_cancel_all). */
static int send_result(uint32_t id, uint8_t result, uint8_t code, uint16_t mss)
{
	struct ap_msg m = { .type = AP_CONNECT_RESULT };

	m.u.cres.id = id;
	m.u.cres.result = result;
	m.u.cres.code = result == AP_RES_UNREACHABLE ? code : 0;
	m.u.cres.mss = result == AP_RES_OK ? mss : 0;
	return ctl_send(&m);
}

static void addr_str(uint32_t a, uint16_t port, char *buf, size_t len)
{
	struct in_addr ia = { htonl(a) };
	char ip[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &ia, ip, sizeof(ip));
	snprintf(buf, len, "%s:%u", ip, port);
}

static void free_pconn(struct grave *g)
{
	free(container_of(g, struct pconn, grave));
}

static void unlink_pconn(struct pconn *p)
{
	if (p->prev)
		p->prev->next = p->next;
	else
		pending = p->next;
	if (p->next)
		p->next->prev = p->prev;
	n_pending--;
	timer_cancel(&p->t);
	loop_bury(&p->grave, free_pconn);
}

/* errno of a failed connect -> result and ICMP code. */
static void map_errno(int err, uint8_t *result, uint8_t *code)
{
	*result = AP_RES_UNREACHABLE;
	switch (err) {
	case ECONNREFUSED:
		*result = AP_RES_REFUSE;
		*code = 0;
		break;
	case ENETUNREACH:
		*code = AP_UNREACH_NET;
		break;
	case ENOPROTOOPT:
		*code = AP_UNREACH_PROTO;
		break;
	case EACCES:
	case EPERM:
		*code = AP_UNREACH_ADMIN;
		break;
	default: /* EHOSTUNREACH, ETIMEDOUT, EHOSTDOWN, ... */
		*code = AP_UNREACH_HOST;
		break;
	}
}

static void count(uint8_t result)
{
	if (result == AP_RES_OK)
		agent_stats.connects_ok++;
	else if (result == AP_RES_REFUSE)
		agent_stats.connects_refused++;
	else
		agent_stats.connects_unreachable++;
}

/* A failed connect: answer, close the socket, the session back to the pool. */
static void fail(struct pconn *p, uint8_t result, uint8_t code, const char *how)
{
	char a[32];

	addr_str(p->dst, p->dport, a, sizeof(a));
	log_debug("CONNECT %u to %s: %s %u (%s)", p->id, a, ap_result_str(result), code, how);
	count(result);
	ev_close(&p->ev);
	stream_release(p->s);
	unlink_pconn(p);
	send_result(p->id, result, code, 0); /* p is buried, still readable */
}

static void connected(struct pconn *p)
{
	socklen_t sl = sizeof(int);
	int mss = 0, fd;
	char a[32];

	if (getsockopt(p->ev.fd, IPPROTO_TCP, TCP_MAXSEG, &mss, &sl) < 0 || mss <= 0 || mss > 65535)
		mss = 536; /* RFC 9293 3.7.1: the default when nothing better is known */
	addr_str(p->dst, p->dport, a, sizeof(a));
	log_debug("CONNECT %u to %s: OK, mss %d, STREAM %016llx", p->id, a, mss,
		  (unsigned long long)p->s->id);
	count(AP_RES_OK);
	fd = ev_detach(&p->ev);
	unlink_pconn(p);
	if (send_result(p->id, AP_RES_OK, 0, (uint16_t)mss) < 0) {
		/* no control session to tell: nobody will use this relay */
		close(fd);
		stream_release(p->s);
		return;
	}
	relay_start(p->s, fd);
}

static void conn_event(struct ev *ev, uint32_t events)
{
	struct pconn *p = container_of(ev, struct pconn, ev);
	socklen_t sl = sizeof(int);
	uint8_t result, code;
	int err = 0;

	(void)events;
	if (getsockopt(ev->fd, SOL_SOCKET, SO_ERROR, &err, &sl) < 0)
		err = errno;
	if (err == 0) {
		connected(p);
		return;
	}
	if (err == EINPROGRESS || err == EALREADY)
		return;
	/* the ICMP that failed us may wait, unread, in the raw socket's queue:
	 * its exact code beats what errno can say (server_on_icmp answers) */
	icmp_drain();
	if (p->ev.fd < 0)
		return;
	map_errno(err, &result, &code);
	fail(p, result, code, strerror(err));
}

static void conn_timeout(struct timer *t)
{
	struct pconn *p = container_of(t, struct pconn, t);

	agent_stats.connects_timeout++;
	fail(p, AP_RES_UNREACHABLE, AP_UNREACH_HOST, "timed out");
}

int server_on_icmp(uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport, uint8_t code)
{
	struct pconn *p;

	for (p = pending; p; p = p->next)
		if (p->dst == dst && p->dport == dport && p->sport == sport &&
		    (p->src == src || p->src == 0))
			break;
	if (p == NULL)
		return 0;
	/* RFC 1122 4.2.3.9 would let TCP keep trying on a soft error; our
	 * client is waiting on a held SYN, and the ICMP is the answer */
	fail(p, AP_RES_UNREACHABLE, code, "ICMP destination unreachable");
	return 1;
}

/* Start the connect; on an immediate failure answer at once. */
static void start(struct pconn *p, uint32_t timeout_ms)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sa);
	uint8_t result, code;
	int fd, err;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || ev_attach(&p->ev, fd, EPOLLOUT) < 0) {
		err = errno;
		if (fd >= 0)
			close(fd);
		log_rl(&rl_fail, "CONNECT %u: cannot make a socket: %s", p->id, strerror(err));
		fail(p, AP_RES_UNREACHABLE, AP_UNREACH_HOST, "no socket");
		return;
	}
	sa.sin_addr.s_addr = htonl(p->dst);
	sa.sin_port = htons(p->dport);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno != EINPROGRESS) {
		err = errno;
		map_errno(err, &result, &code);
		fail(p, result, code, strerror(err));
		return;
	}
	/* the 4-tuple a quoted SYN will carry */
	if (getsockname(fd, (struct sockaddr *)&sa, &sl) == 0) {
		p->src = ntohl(sa.sin_addr.s_addr);
		p->sport = ntohs(sa.sin_port);
	}
	timer_arm(&p->t, timeout_ms);
}

void server_connect(const struct ap_connect *m)
{
	struct pconn *p;
	struct stream *s;
	char a[32];

	agent_stats.connects++;
	addr_str(m->dst, m->dport, a, sizeof(a));
	if (!stream_is_idle(m->stream)) {
		agent_stats.connects_no_stream++;
		log_rl(&rl_nostream, "CONNECT %u to %s names STREAM %016llx, not an idle session of ours",
		       m->id, a, (unsigned long long)m->stream);
		send_result(m->id, AP_RES_NO_STREAM, 0, 0);
		return;
	}
	if (agent_dst_forbidden(m->dst)) {
		agent_stats.dst_forbidden++;
		agent_stats.connects_unreachable++;
		log_rl(&rl_dst, "CONNECT %u to %s refused: not a site destination", m->id, a);
		send_result(m->id, AP_RES_UNREACHABLE, AP_UNREACH_ADMIN, 0);
		return;
	}
	if (n_pending >= agent_cf->max_connects || n_pending + relay_count() >= agent_cf->max_relays ||
	    (p = calloc(1, sizeof(*p))) == NULL) {
		agent_stats.connects_busy++;
		log_rl(&rl_busy, "CONNECT %u to %s refused BUSY: %u connects pending (max %u), %u relays (max %u)",
		       m->id, a, n_pending, agent_cf->max_connects, relay_count(), agent_cf->max_relays);
		send_result(m->id, AP_RES_BUSY, 0, 0);
		return;
	}
	s = stream_reserve(m->stream);
	ev_init(&p->ev, conn_event);
	timer_init(&p->t, conn_timeout);
	p->s = s;
	p->id = m->id;
	p->dst = m->dst;
	p->dport = m->dport;
	p->next = pending;
	if (pending)
		pending->prev = p;
	pending = p;
	n_pending++;
	log_debug("CONNECT %u to %s over STREAM %016llx (timeout %u ms)", m->id, a,
		  (unsigned long long)m->stream, m->timeout_ms ? m->timeout_ms : agent_cf->connect_timeout_ms);
	start(p, m->timeout_ms ? m->timeout_ms : agent_cf->connect_timeout_ms);
}

void server_cancel_all(void)
{
	struct pconn *p;

	while ((p = pending) != NULL) {
		ev_close(&p->ev);
		stream_release(p->s);
		unlink_pconn(p);
	}
}
