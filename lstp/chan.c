/*
 * Channels: one local TCP connection each, multiplexed over the tunnel.
 *
 * Client end (role client, role middle), per local connection:
 *   C_GREET, C_AUTH, C_REQ  the SOCKS5 talk (RFC 1928 3-4, RFC 1929);
 *                           a forward skips it
 *   C_CONNREQ   CONNECTION_REQUEST sent; ACK -> SOCKS5 reply 00 with the
 *               far end's BND.ADDR/PORT and SERVICE_BEGIN_REQUEST, NACK ->
 *               the SOCKS5 reply with the NACK's reason (RFC 1928 6 codes)
 *   C_BEGIN     SERVICE_BEGIN_REQUEST sent
 *   C_OPEN      SERVICE_DATA both ways
 * Server end, per CONNECTION_REQUEST:
 *   C_SCONNECT  connecting to the service / allowed destination
 *   C_SREADY    CONNECTION_ACK sent, waiting for SERVICE_BEGIN_REQUEST
 *   C_OPEN
 *
 * Flow control is per channel: bytes from the tunnel that the local socket
 * does not take at once wait in the channel's buffer; beyond
 * limits.channel_buffer the channel sends SERVICE_DATA_PAUSE (the far end
 * stops reading that channel's local socket, nothing else) and
 * SERVICE_DATA_RESUME once the buffer is below half of that.  What was in
 * flight when PAUSE left is still taken, up to a hard bound
 * (channel_buffer + OVERRUN); a peer that ignores PAUSE beyond it gets the
 * channel reset.  Reading from local sockets also stops, for every channel,
 * while the tunnel's own send queue is above limits.tunnel_buffer.
 *
 * Half-close: a local EOF becomes SERVICE_FREE_REQUEST FIN; a FIN from the
 * far end becomes shutdown(SHUT_WR) once the buffer is drained.  A local
 * reset or error becomes RESET, and a RESET received resets the local
 * socket (SO_LINGER 0).  The channel is gone after FIN both ways or a RESET.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/crypto.h>
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

#define HBUCKETS 4096
#define OVERRUN (16u << 20)
#define READS_PER_EVENT 4

enum cstate { C_GREET, C_AUTH, C_REQ, C_CONNREQ, C_BEGIN, C_SCONNECT, C_SREADY, C_OPEN };
static const char *const cstate_name[] = { "SOCKS greeting", "SOCKS auth", "SOCKS request",
					   "connection request", "service begin", "connecting",
					   "ready", "open" };

struct chan {
	struct ev ev;
	struct timer timer;
	struct grave grave;
	struct chan *hnext;
	struct chan *next, *prev;
	uint32_t id;                    /* 0 until it has one */
	enum cstate st;
	const struct lc_forward *fwd;   /* NULL: SOCKS5 */
	uint8_t in[SOCKS5_MAX_REQ + 8];
	size_t ilen;
	uint8_t *out;
	size_t olen, ooff, ocap;
	unsigned peer_paused : 1, we_paused : 1, rx_fin : 1, tx_fin : 1, shut_wr : 1, dead : 1;
};

struct listener {
	struct ev ev;
	const struct lc_forward *fwd;   /* NULL: the SOCKS5 port */
};

static struct chan *hash[HBUCKETS];
static struct chan *all;
static uint32_t n_chan;     /* with an id */
static uint32_t n_local;    /* in the SOCKS talk */
static uint32_t next_id = 1;
/* The highest id opened on this tunnel: ids go in sequence (docs/lstp.md,
 * "Channels"), so a message for an id that is not open and not above it
 * is a late one for a channel already gone, and one above it is for a
 * channel never opened. */
static uint32_t high_id;
static struct listener listeners[1 + LC_FORWARDS_MAX];
static unsigned n_listeners;
static struct ratelim rl_local, rl_conn;

uint32_t chan_count(void) { return n_chan; }
uint32_t chan_local_count(void) { return n_local; }

static void chan_event(struct ev *ev, uint32_t events);
static void chan_timer(struct timer *tm);

static struct chan *lookup(uint32_t id)
{
	struct chan *c;

	for (c = hash[id % HBUCKETS]; c; c = c->hnext)
		if (c->id == id)
			return c;
	return NULL;
}

static void hash_add(struct chan *c, uint32_t id)
{
	c->id = id;
	c->hnext = hash[id % HBUCKETS];
	hash[id % HBUCKETS] = c;
	n_chan++;
}

static void hash_del(struct chan *c)
{
	struct chan **p;

	if (c->id == 0)
		return;
	for (p = &hash[c->id % HBUCKETS]; *p; p = &(*p)->hnext)
		if (*p == c) {
			*p = c->hnext;
			break;
		}
	n_chan--;
}

static struct chan *chan_new(int fd, enum cstate st)
{
	struct chan *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	ev_init(&c->ev, chan_event);
	timer_init(&c->timer, chan_timer);
	c->st = st;
	ev_attach(&c->ev, fd, 0); /* a zero interest registers nothing: cannot fail */
	c->next = all;
	if (all)
		all->prev = c;
	all = c;
	if (st <= C_REQ)
		n_local++;
	return c;
}

static void chan_grave(struct grave *g)
{
	struct chan *c = container_of(g, struct chan, grave);

	free(c->out);
	free(c);
}

/* Forget the channel; with rst the local socket is reset, not closed. */
static void chan_free(struct chan *c, int rst)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	if (c->dead)
		return;
	c->dead = 1;
	if (rst && c->ev.fd >= 0)
		setsockopt(c->ev.fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	ev_close(&c->ev);
	timer_cancel(&c->timer);
	hash_del(c);
	if (c->st <= C_REQ)
		n_local--;
	if (c->prev)
		c->prev->next = c->next;
	else
		all = c->next;
	if (c->next)
		c->next->prev = c->prev;
	explicit_bzero(c->in, sizeof(c->in));
	loop_bury(&c->grave, chan_grave);
}

static void set_state(struct chan *c, enum cstate st)
{
	if (c->st <= C_REQ && st > C_REQ)
		n_local--;
	c->st = st;
}

static void want(struct chan *c)
{
	uint32_t w = 0;

	switch (c->st) {
	case C_GREET:
	case C_AUTH:
	case C_REQ:
		w = EPOLLIN;
		break;
	case C_SCONNECT:
		w = EPOLLOUT;
		break;
	case C_OPEN:
		if (!c->peer_paused && !c->tx_fin && tun_writable())
			w = EPOLLIN;
		break;
	default:
		break;
	}
	if (c->olen > c->ooff)
		w |= EPOLLOUT;
	ev_want(&c->ev, w);
}

static void send_free(struct chan *c, uint8_t flags)
{
	struct lstp_msg m = { .type = LSTP_SERVICE_FREE_REQUEST, .channel = c->id };

	if (c->id == 0)
		return;
	m.u.fr.flags = flags;
	tun_send(&m);
}

static void send_simple(struct chan *c, uint8_t type)
{
	struct lstp_msg m = { .type = type, .channel = c->id };

	tun_send(&m);
}

/* Reset: tell the far end (when it knows the channel) and drop ours. */
static void chan_reset(struct chan *c, const char *why)
{
	log_debug("channel %u (%s) reset: %s", c->id, cstate_name[c->st], why);
	lstp_stats.channels_reset++;
	send_free(c, LSTP_FREE_RESET);
	chan_free(c, 1);
}

/* A small reply straight into the local socket (SOCKS5); 0 or -1. */
static int local_reply(struct chan *c, const uint8_t *p, size_t n)
{
	return send(c->ev.fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT) == (ssize_t)n ? 0 : -1;
}

static void socks_fail(struct chan *c, uint8_t rep)
{
	uint8_t r[SOCKS5_REPLY_LEN];

	if (c->fwd == NULL)
		local_reply(c, r, socks5_reply_encode(r, rep, 0, 0));
	chan_free(c, 0);
}

/* ------------------------------------------------- toward the local -- */

static void maybe_done(struct chan *c)
{
	if (c->olen == c->ooff && c->rx_fin && !c->shut_wr) {
		shutdown(c->ev.fd, SHUT_WR);
		c->shut_wr = 1;
	}
	if (c->shut_wr && c->tx_fin) {
		log_debug("channel %u closed (FIN both ways)", c->id);
		chan_free(c, 0);
	}
}

/* Send buffered bytes; 0, or -1 when the channel was reset. */
static int drain(struct chan *c)
{
	ssize_t n;

	while (c->ooff < c->olen) {
		n = send(c->ev.fd, c->out + c->ooff, c->olen - c->ooff, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			chan_reset(c, strerror(errno));
			return -1;
		}
		c->ooff += (size_t)n;
	}
	if (c->ooff == c->olen)
		c->ooff = c->olen = 0;
	if (c->we_paused && c->olen - c->ooff < lcf->channel_buffer / 2) {
		c->we_paused = 0;
		send_simple(c, LSTP_SERVICE_DATA_RESUME);
	}
	return 0;
}

static int buffer(struct chan *c, const uint8_t *p, size_t n)
{
	size_t q = c->olen - c->ooff, cap;
	uint8_t *nb;

	if (q + n > (size_t)lcf->channel_buffer + OVERRUN)
		return -1;
	if (c->ooff && c->olen + n > c->ocap) {
		memmove(c->out, c->out + c->ooff, q);
		c->ooff = 0;
		c->olen = q;
	}
	if (c->olen + n > c->ocap) {
		cap = c->ocap ? c->ocap : 65536;
		while (cap < c->olen + n)
			cap *= 2;
		nb = realloc(c->out, cap);
		if (nb == NULL)
			return -1;
		c->out = nb;
		c->ocap = cap;
	}
	memcpy(c->out + c->olen, p, n);
	c->olen += n;
	return 0;
}

static void on_data(struct chan *c, const uint8_t *p, size_t n)
{
	ssize_t s = 0;

	if (c->olen == c->ooff) {
		s = send(c->ev.fd, p, n, MSG_NOSIGNAL);
		if (s < 0) {
			if (errno != EAGAIN && errno != EINTR) {
				chan_reset(c, strerror(errno));
				return;
			}
			s = 0;
		}
	}
	if ((size_t)s < n && buffer(c, p + s, n - (size_t)s) < 0) {
		lstp_stats.overrun++;
		log_warn("channel %u: the far end sent %zu bytes past PAUSE: reset", c->id,
			 c->olen - c->ooff + n - (size_t)s);
		chan_reset(c, "overrun");
		return;
	}
	if (!c->we_paused && c->olen - c->ooff > lcf->channel_buffer) {
		/* this channel's reader is slow: stop its far end, only it */
		c->we_paused = 1;
		lstp_stats.pauses_sent++;
		send_simple(c, LSTP_SERVICE_DATA_PAUSE);
	}
	want(c);
}

/* --------------------------------------------------- from the local -- */

static void read_local(struct chan *c)
{
	uint8_t frame[LSTP_HDR_LEN + LSTP_MAX_BODY];
	ssize_t n;
	int i;

	for (i = 0; i < READS_PER_EVENT; i++) {
		if (c->peer_paused || c->tx_fin || !tun_writable())
			break;
		/* a frame fills one TLS record exactly (RFC 8446 5.1: 2^14
		 * bytes of plaintext), not one and a sliver */
		n = recv(c->ev.fd, frame + LSTP_HDR_LEN, LSTP_MAX_BODY - LSTP_HDR_LEN, 0);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			chan_reset(c, strerror(errno));
			return;
		}
		if (n == 0) {
			c->tx_fin = 1;
			send_free(c, LSTP_FREE_FIN);
			maybe_done(c);
			if (c->dead)
				return;
			break;
		}
		if (tun_send_data(c->id, frame, (uint16_t)n) < 0) {
			chan_free(c, 1);
			return;
		}
	}
	want(c);
}

/* --------------------------------------------------------- SOCKS5 -- */

static void request_connect(struct chan *c, const struct lstp_conn_req *r)
{
	struct lstp_msg m = { .type = LSTP_CONNECTION_REQUEST };
	uint32_t limit = tun_peer_max_channels();
	uint32_t id;

	if (!tun_is_up()) {
		lstp_stats.local_refused++;
		log_rl(&rl_local, "no tunnel (%s): local connection refused", tun_state_str());
		socks_fail(c, SOCKS5_REP_FAILURE);
		return;
	}
	if (limit > lcf->max_channels || limit == 0)
		limit = lcf->max_channels;
	if (n_chan >= limit) {
		lstp_stats.local_refused++;
		log_rl(&rl_local, "%u channels open (the bound): local connection refused", n_chan);
		socks_fail(c, SOCKS5_REP_FAILURE);
		return;
	}
	/* ids in sequence, skipping 0 and ids in use (docs/lstp.md): an id
	 * comes back only after four billion others */
	do {
		id = next_id;
		next_id = next_id == UINT32_MAX ? 1 : next_id + 1;
	} while (lookup(id) != NULL);
	hash_add(c, id);
	high_id = id;
	set_state(c, C_CONNREQ);
	m.channel = id;
	m.u.conn_req = *r;
	if (tun_send(&m) < 0) {
		socks_fail(c, SOCKS5_REP_FAILURE);
		return;
	}
	/* the far end has its own connect timeout; this one only covers a
	 * far end that never answers */
	timer_arm(&c->timer, lcf->connect_timeout_ms + lcf->handshake_timeout_ms);
	want(c);
}

static void socks_step(struct chan *c)
{
	struct socks5_greeting g;
	struct socks5_req r;
	struct lstp_conn_req cr;
	char user[256], pass[256];
	uint8_t b[2];
	size_t used;
	uint32_t i;
	int rc, ok;

	for (;;) {
		switch (c->st) {
		case C_GREET:
			rc = socks5_greeting_parse(c->in, c->ilen, &g, &used);
			if (rc == -EAGAIN)
				return;
			b[0] = SOCKS5_VER;
			if (rc < 0 || (lcf->n_users ? !g.userpass : !g.none)) {
				/* RFC 1928 3: X'FF' and the client closes */
				lstp_stats.socks_refused++;
				b[1] = SOCKS5_M_NOACCEPT;
				local_reply(c, b, 2);
				chan_free(c, 0);
				return;
			}
			b[1] = lcf->n_users ? SOCKS5_M_USERPASS : SOCKS5_M_NONE;
			if (local_reply(c, b, 2) < 0) {
				chan_free(c, 1);
				return;
			}
			c->st = lcf->n_users ? C_AUTH : C_REQ;
			break;
		case C_AUTH:
			rc = socks5_auth_parse(c->in, c->ilen, user, pass, &used);
			if (rc == -EAGAIN)
				return;
			ok = 0;
			for (i = 0; rc == 0 && i < lcf->n_users; i++)
				if (strcmp(user, lcf->users[i].user) == 0 &&
				    strlen(pass) == strlen(lcf->users[i].pass) &&
				    CRYPTO_memcmp(pass, lcf->users[i].pass, strlen(pass)) == 0)
					ok = 1;
			explicit_bzero(pass, sizeof(pass));
			/* RFC 1929 2: a non-zero status and the connection closes */
			b[0] = SOCKS5_AUTH_VER;
			b[1] = ok ? 0 : 1;
			if (local_reply(c, b, 2) < 0 || !ok) {
				if (!ok) {
					lstp_stats.socks_refused++;
					log_rl(&rl_local, "SOCKS5 authentication failed");
				}
				chan_free(c, 0);
				return;
			}
			c->st = C_REQ;
			break;
		default: /* C_REQ */
			rc = socks5_req_parse(c->in, c->ilen, &r, &used);
			if (rc == -EAGAIN)
				return;
			if (rc < 0) {
				lstp_stats.socks_refused++;
				socks_fail(c, rc == -ENOTSUP ? r.rep : SOCKS5_REP_FAILURE);
				return;
			}
			/* a client that sends before our reply (optimistic
			 * data) keeps those bytes in c->in: they are the
			 * channel's first SERVICE_DATA */
			memset(&cr, 0, sizeof(cr));
			cr.port = r.port;
			if (r.atyp == SOCKS5_ATYP_IPV4) {
				cr.kind = LSTP_DEST_IPV4;
				cr.addr = r.addr;
			} else {
				cr.kind = LSTP_DEST_DOMAIN;
				cr.name_len = r.name_len;
				memcpy(cr.name, r.name, r.name_len + 1);
			}
			if (cr.port == 0) {
				socks_fail(c, SOCKS5_REP_ATYP);
				return;
			}
			memmove(c->in, c->in + used, c->ilen - used);
			c->ilen -= used;
			timer_cancel(&c->timer);
			request_connect(c, &cr);
			return;
		}
		memmove(c->in, c->in + used, c->ilen - used);
		c->ilen -= used;
	}
}

static void socks_read(struct chan *c)
{
	ssize_t n = recv(c->ev.fd, c->in + c->ilen, sizeof(c->in) - c->ilen, 0);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		chan_free(c, 0);
		return;
	}
	c->ilen += (size_t)n;
	socks_step(c);
	if (!c->dead && c->st <= C_REQ && c->ilen == sizeof(c->in)) {
		lstp_stats.socks_refused++;
		socks_fail(c, SOCKS5_REP_FAILURE);
	}
}

/* ------------------------------------------------- server connects -- */

static uint8_t nack_of(int err)
{
	switch (err) {
	case ECONNREFUSED:
		return LSTP_NACK_REFUSED;
	case ENETUNREACH:
		return LSTP_NACK_NET_UNREACH;
	case EHOSTUNREACH:
	case EHOSTDOWN:
		return LSTP_NACK_HOST_UNREACH;
	case ETIMEDOUT:
		return LSTP_NACK_TTL_EXPIRED;
	case EACCES:
	case EPERM:
		return LSTP_NACK_NOT_ALLOWED;
	default:
		return LSTP_NACK_FAILURE;
	}
}

static void send_nack(uint32_t id, uint8_t type, uint8_t reason)
{
	struct lstp_msg m = { .type = type, .channel = id };

	m.u.nack.reason = reason;
	if (type == LSTP_CONNECTION_NACK)
		lstp_stats.channels_refused++;
	tun_send(&m);
}

/* name -> IPv4 (blocking getaddrinfo: see docs/sluice-lstp.md) */
static int resolve(const char *name, uint32_t *addr)
{
	struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_STREAM }, *res;
	struct in_addr in;

	if (inet_pton(AF_INET, name, &in) == 1) {
		*addr = ntohl(in.s_addr);
		return 0;
	}
	if (getaddrinfo(name, NULL, &hints, &res) != 0)
		return -1;
	*addr = ntohl(((struct sockaddr_in *)res->ai_addr)->sin_addr.s_addr);
	freeaddrinfo(res);
	return 0;
}

static void server_connect(uint32_t id, const struct lstp_conn_req *r)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	const struct lc_service *svc = NULL;
	uint32_t addr = 0, i;
	uint16_t port = r->port;
	struct chan *c;
	int fd, one = 1;

	if (n_chan >= lcf->max_channels) {
		log_rl(&rl_conn, "channel %u: %u channels open (the bound): BUSY", id, n_chan);
		send_nack(id, LSTP_CONNECTION_NACK, LSTP_NACK_BUSY);
		return;
	}
	switch (r->kind) {
	case LSTP_DEST_SERVICE:
		for (i = 0; i < lcf->n_services; i++)
			if (strcmp(lcf->services[i].name, r->name) == 0)
				svc = &lcf->services[i];
		if (svc == NULL) {
			log_rl(&rl_conn, "channel %u: no service \"%s\": NOT_ALLOWED", id, r->name);
			send_nack(id, LSTP_CONNECTION_NACK, LSTP_NACK_NOT_ALLOWED);
			return;
		}
		if (resolve(svc->host, &addr) < 0) {
			log_rl(&rl_conn, "channel %u: service \"%s\": cannot resolve %s", id, r->name,
			       svc->host);
			send_nack(id, LSTP_CONNECTION_NACK, LSTP_NACK_HOST_UNREACH);
			return;
		}
		port = svc->port;
		break;
	case LSTP_DEST_IPV4:
		addr = r->addr;
		break;
	default:
		if (resolve(r->name, &addr) < 0) {
			log_rl(&rl_conn, "channel %u: cannot resolve \"%s\"", id, r->name);
			send_nack(id, LSTP_CONNECTION_NACK, LSTP_NACK_BAD_ADDRESS);
			return;
		}
	}
	/* services are named by the operator; anything else is checked
	 * against the allow-list, after name resolution */
	if (svc == NULL && !lstp_conf_allowed(lcf, addr, port)) {
		struct in_addr in = { .s_addr = htonl(addr) };

		log_rl(&rl_conn, "channel %u: %s:%u is not in 'allow': NOT_ALLOWED", id, inet_ntoa(in), port);
		send_nack(id, LSTP_CONNECTION_NACK, LSTP_NACK_NOT_ALLOWED);
		return;
	}
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		log_rl(&rl_conn, "socket: %s", strerror(errno));
		send_nack(id, LSTP_CONNECTION_NACK, LSTP_NACK_FAILURE);
		return;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	sa.sin_addr.s_addr = htonl(addr);
	sa.sin_port = htons(port);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno != EINPROGRESS) {
		log_rl(&rl_conn, "channel %u: connect: %s", id, strerror(errno));
		send_nack(id, LSTP_CONNECTION_NACK, nack_of(errno));
		close(fd);
		return;
	}
	c = chan_new(fd, C_SCONNECT);
	if (c == NULL) {
		close(fd);
		send_nack(id, LSTP_CONNECTION_NACK, LSTP_NACK_FAILURE);
		return;
	}
	hash_add(c, id);
	timer_arm(&c->timer, lcf->connect_timeout_ms);
	want(c);
}

static void server_connected(struct chan *c)
{
	struct lstp_msg m = { .type = LSTP_CONNECTION_ACK, .channel = c->id };
	struct sockaddr_in sa;
	socklen_t sl = sizeof(int);
	int err = 0;

	if (getsockopt(c->ev.fd, SOL_SOCKET, SO_ERROR, &err, &sl) < 0)
		err = errno;
	if (err == EINPROGRESS || err == EALREADY)
		return;
	if (err) {
		log_rl(&rl_conn, "channel %u: connect: %s", c->id, strerror(err));
		send_nack(c->id, LSTP_CONNECTION_NACK, nack_of(err));
		chan_free(c, 0);
		return;
	}
	timer_cancel(&c->timer);
	sl = sizeof(sa);
	/* docs/lstp.md: the server connection's local address and port, what
	 * a SOCKS5 reply's BND.ADDR and BND.PORT carry (RFC 1928 6) */
	if (getsockname(c->ev.fd, (struct sockaddr *)&sa, &sl) == 0) {
		m.u.conn_ack.addr = ntohl(sa.sin_addr.s_addr);
		m.u.conn_ack.port = ntohs(sa.sin_port);
	}
	set_state(c, C_SREADY);
	tun_send(&m);
	/* SERVICE_BEGIN_REQUEST must follow; bounded like the connect */
	timer_arm(&c->timer, lcf->handshake_timeout_ms);
	want(c);
}

/* ----------------------------------------------- from the far end -- */

void chan_msg(const struct lstp_msg *m)
{
	struct chan *c = lookup(m->channel);
	uint8_t rep[SOCKS5_REPLY_LEN];

	switch (m->type) {
	case LSTP_CONNECTION_REQUEST:
		if (lcf->role != LC_SERVER) {
			tun_fail(LSTP_ERR_UNEXPECTED, "CONNECTION_REQUEST to a client end");
			return;
		}
		if (c) {
			tun_fail(LSTP_ERR_CHANNEL, "CONNECTION_REQUEST for channel %u, in use", m->channel);
			return;
		}
		if (m->channel > high_id)
			high_id = m->channel;
		server_connect(m->channel, &m->u.conn_req);
		return;
	default:
		break;
	}
	if (c == NULL && m->channel > high_id) {
		tun_fail(LSTP_ERR_CHANNEL, "%s for channel %u, never opened", lstp_type_name(m->type),
			 m->channel);
		return;
	}
	if (c == NULL) {
		/* a channel we reset or refused may still have messages in
		 * flight; they are dropped */
		if (m->type == LSTP_SERVICE_DATA)
			lstp_stats.stale_data++;
		log_debug("%s for channel %u, which is gone", lstp_type_name(m->type), m->channel);
		return;
	}
	switch (m->type) {
	case LSTP_CONNECTION_ACK:
		if (c->st != C_CONNREQ)
			break;
		timer_cancel(&c->timer);
		if (c->fwd == NULL &&
		    local_reply(c, rep, socks5_reply_encode(rep, SOCKS5_REP_OK, m->u.conn_ack.addr,
							    m->u.conn_ack.port)) < 0) {
			chan_reset(c, "local client gone");
			return;
		}
		set_state(c, C_BEGIN);
		send_simple(c, LSTP_SERVICE_BEGIN_REQUEST);
		timer_arm(&c->timer, lcf->handshake_timeout_ms);
		return;
	case LSTP_CONNECTION_NACK:
		if (c->st != C_CONNREQ)
			break;
		log_debug("channel %u: CONNECTION_NACK %u", c->id, m->u.nack.reason);
		/* RFC 1928 6 codes pass unchanged; BUSY has none */
		socks_fail(c, m->u.nack.reason <= 8 ? m->u.nack.reason : SOCKS5_REP_FAILURE);
		return;
	case LSTP_SERVICE_BEGIN_REQUEST:
		if (c->st != C_SREADY)
			break;
		timer_cancel(&c->timer);
		set_state(c, C_OPEN);
		lstp_stats.channels_opened++;
		send_simple(c, LSTP_SERVICE_BEGIN_ACK);
		want(c);
		return;
	case LSTP_SERVICE_BEGIN_ACK:
		if (c->st != C_BEGIN)
			break;
		timer_cancel(&c->timer);
		set_state(c, C_OPEN);
		lstp_stats.channels_opened++;
		if (c->ilen) {
			uint8_t frame[LSTP_HDR_LEN + sizeof(c->in)];

			memcpy(frame + LSTP_HDR_LEN, c->in, c->ilen);
			if (tun_send_data(c->id, frame, (uint16_t)c->ilen) < 0)
				return;
			c->ilen = 0;
		}
		want(c);
		return;
	case LSTP_SERVICE_BEGIN_NACK:
		if (c->st != C_BEGIN)
			break;
		chan_free(c, 1);
		return;
	case LSTP_SERVICE_DATA:
		if (c->st != C_OPEN || c->rx_fin)
			break;
		on_data(c, m->u.data.data, m->u.data.len);
		return;
	case LSTP_SERVICE_DATA_PAUSE:
		lstp_stats.pauses_received++;
		c->peer_paused = 1;
		want(c);
		return;
	case LSTP_SERVICE_DATA_RESUME:
		c->peer_paused = 0;
		want(c);
		return;
	case LSTP_SERVICE_FREE_REQUEST:
		if (m->u.fr.flags & LSTP_FREE_RESET) {
			log_debug("channel %u reset by the far end", c->id);
			lstp_stats.channels_reset++;
			chan_free(c, 1);
			return;
		}
		if (c->rx_fin)
			break;
		c->rx_fin = 1;
		maybe_done(c);
		if (!c->dead)
			want(c);
		return;
	default:
		break;
	}
	tun_fail(LSTP_ERR_CHANNEL, "%s for channel %u in state %s%s", lstp_type_name(m->type),
		 m->channel, cstate_name[c->st], c->rx_fin ? " after FIN" : "");
}

/* ----------------------------------------------------------- events -- */

static void chan_event(struct ev *ev, uint32_t events)
{
	struct chan *c = container_of(ev, struct chan, ev);

	if (c->st == C_SCONNECT) {
		server_connected(c);
		return;
	}
	if (c->st <= C_REQ) {
		socks_read(c);
		return;
	}
	if ((events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) && c->olen > c->ooff) {
		if (drain(c) < 0)
			return;
		maybe_done(c);
		if (c->dead)
			return;
	}
	if (c->st == C_OPEN && (events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		read_local(c);
	else
		want(c);
}

static void chan_timer(struct timer *tm)
{
	struct chan *c = container_of(tm, struct chan, timer);

	switch (c->st) {
	case C_GREET:
	case C_AUTH:
	case C_REQ:
		log_rl(&rl_local, "SOCKS5 client silent for %u ms: closed", lcf->handshake_timeout_ms);
		chan_free(c, 0);
		return;
	case C_CONNREQ:
		log_rl(&rl_local, "channel %u: no answer to CONNECTION_REQUEST", c->id);
		send_free(c, LSTP_FREE_RESET);
		socks_fail(c, SOCKS5_REP_TTL_EXPIRED);
		return;
	case C_SCONNECT:
		log_rl(&rl_conn, "channel %u: connect: no answer within %u ms", c->id,
		       lcf->connect_timeout_ms);
		send_nack(c->id, LSTP_CONNECTION_NACK, LSTP_NACK_TTL_EXPIRED);
		chan_free(c, 0);
		return;
	default:
		chan_reset(c, "timed out");
	}
}

static void accept_event(struct ev *ev, uint32_t events)
{
	struct listener *l = container_of(ev, struct listener, ev);
	struct lstp_conn_req cr;
	struct chan *c;
	int fd, one = 1;

	(void)events;
	fd = accept4(ev->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0) {
		if (errno != EAGAIN && errno != EINTR)
			log_rl(&rl_local, "accept: %s", strerror(errno));
		return;
	}
	if (n_local >= lcf->max_local || (l->fwd && !tun_is_up())) {
		lstp_stats.local_refused++;
		log_rl(&rl_local, "local connection refused: %s",
		       l->fwd ? "no tunnel" : "max_local SOCKS5 clients talking");
		close(fd);
		return;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c = chan_new(fd, l->fwd ? C_CONNREQ : C_GREET);
	if (c == NULL) {
		close(fd);
		return;
	}
	c->fwd = l->fwd;
	if (l->fwd == NULL) {
		timer_arm(&c->timer, lcf->handshake_timeout_ms);
		want(c);
		return;
	}
	memset(&cr, 0, sizeof(cr));
	cr.kind = LSTP_DEST_SERVICE;
	cr.name_len = (uint8_t)strlen(l->fwd->service);
	memcpy(cr.name, l->fwd->service, cr.name_len);
	request_connect(c, &cr);
}

static int listen_on(uint32_t addr, uint16_t port, const struct lc_forward *fwd, char *err,
		     size_t errlen)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port),
				  .sin_addr.s_addr = htonl(addr) };
	struct listener *l = &listeners[n_listeners];
	int fd, one = 1;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 512) < 0)
		goto fail;
	ev_init(&l->ev, accept_event);
	l->fwd = fwd;
	if (ev_attach(&l->ev, fd, EPOLLIN) < 0)
		goto fail;
	n_listeners++;
	return 0;
fail:
	snprintf(err, errlen, "listen %s:%u (%s): %s", inet_ntoa(sa.sin_addr), port,
		 fwd ? "forward" : "socks", strerror(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}

int chan_listen(char *err, size_t errlen)
{
	uint32_t i;

	if (lcf->role == LC_SERVER)
		return 0;
	if (lcf->socks_set && listen_on(lcf->socks_addr, lcf->socks_port, NULL, err, errlen) < 0)
		return -1;
	for (i = 0; i < lcf->n_forwards; i++)
		if (listen_on(lcf->forwards[i].addr, lcf->forwards[i].port, &lcf->forwards[i], err,
			      errlen) < 0)
			return -1;
	return 0;
}

void chan_tunnel_down(void)
{
	struct chan *c, *n;

	/* a new tunnel starts a new id sequence at the peer's side too */
	high_id = 0;
	next_id = 1;
	for (c = all; c; c = n) {
		n = c->next;
		if (c->id == 0)
			continue; /* still in the SOCKS talk: it asks again */
		if (c->st == C_CONNREQ) {
			socks_fail(c, SOCKS5_REP_FAILURE);
			continue;
		}
		lstp_stats.channels_reset++;
		chan_free(c, 1);
	}
}

void chan_tunnel_writable(void)
{
	struct chan *c;

	for (c = all; c; c = c->next)
		if (c->st == C_OPEN)
			want(c);
}

void chan_close_all(void)
{
	unsigned i;

	while (all)
		chan_free(all, 1);
	for (i = 0; i < n_listeners; i++)
		ev_close(&listeners[i].ev);
	n_listeners = 0;
}
