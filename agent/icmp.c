/*
 * The raw ICMP socket (icmp.h).  It receives a copy of every ICMP message
 * the host gets (raw delivery happens before the kernel's own ICMP
 * handling), filtered down to echo replies and destination unreachables.
 * An unreachable quotes the IP header and the first 8 bytes of the packet
 * that caused it (RFC 792), enough to find our SYN (ports) or our echo
 * request (identifier, sequence).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/icmp.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent.h"
#include "icmp.h"
#include "log.h"
#include "loop.h"
#include "ping.h"
#include "server.h"

#define ICMP_ECHO_REPLY 0
#define ICMP_UNREACH 3
#define ICMP_ECHO_REQ 8
#define PER_EVENT 256 /* messages read per wake-up: a flood cannot starve the rest */

static struct ev iev = { .fd = -1 };
static uint8_t pkt[65536];

int icmp_available(void) { return iev.fd >= 0; }

static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* RFC 1071 */
static uint16_t csum(const uint8_t *p, size_t n)
{
	uint32_t s = 0;

	for (; n > 1; p += 2, n -= 2)
		s += (uint32_t)(p[0] << 8 | p[1]);
	if (n)
		s += (uint32_t)p[0] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* RFC 792 / RFC 1812 5.2.7.1 codes -> the five the protocol carries; -1
 * for those that are no verdict on reachability (4: fragmentation needed,
 * which a 60-byte SYN or an echo with DF off does not cause). */
static int map_code(uint8_t code)
{
	switch (code) {
	case 0: case 6: case 11:           /* net unreachable / unknown / for TOS */
		return AP_UNREACH_NET;
	case 2:
		return AP_UNREACH_PROTO;
	case 3:
		return AP_UNREACH_PORT;
	case 9: case 10: case 13: case 14: case 15: /* administratively prohibited */
		return AP_UNREACH_ADMIN;
	case 4:
		return -1;
	default:                          /* 1, 5, 7, 8, 12: host */
		return AP_UNREACH_HOST;
	}
}

static int on_unreach(const uint8_t *icmp, size_t len, uint32_t from)
{
	const uint8_t *q = icmp + 8, *l4;
	size_t qihl;
	int code = map_code(icmp[1]);

	if (code < 0 || len < 8 + 20 || (q[0] >> 4) != 4)
		return 0;
	qihl = (size_t)(q[0] & 0x0f) * 4;
	if (qihl < 20 || len < 8 + qihl + 8)
		return 0;
	l4 = q + qihl;
	if (q[9] == IPPROTO_TCP)
		return server_on_icmp(get32(q + 12), get16(l4), get32(q + 16), get16(l4 + 2),
				      (uint8_t)code);
	if (q[9] == IPPROTO_ICMP && l4[0] == ICMP_ECHO_REQ)
		return ping_on_unreach(get32(q + 16), get16(l4 + 4), get16(l4 + 6), (uint8_t)code, from);
	return 0;
}

static void on_packet(const uint8_t *p, size_t n)
{
	const uint8_t *icmp;
	size_t ihl, len;
	uint32_t from;
	int used = 0;

	if (n < 20 || (p[0] >> 4) != 4)
		return;
	ihl = (size_t)(p[0] & 0x0f) * 4;
	if (ihl < 20 || n < ihl + 8)
		return;
	from = get32(p + 12);
	icmp = p + ihl;
	len = n - ihl;
	if (icmp[0] == ICMP_ECHO_REPLY && csum(icmp, len) == 0)
		used = ping_on_reply(from, get16(icmp + 4), get16(icmp + 6), p[8], icmp + 8, len - 8);
	else if (icmp[0] == ICMP_UNREACH)
		used = on_unreach(icmp, len, from);
	if (!used)
		agent_stats.icmp_ignored++;
}

void icmp_drain(void)
{
	ssize_t n;
	int i;

	for (i = 0; iev.fd >= 0 && i < PER_EVENT; i++) {
		n = recv(iev.fd, pkt, sizeof(pkt), MSG_DONTWAIT);
		if (n < 0)
			return; /* EAGAIN; an error is not worth more than the next try */
		on_packet(pkt, (size_t)n);
	}
}

static void icmp_event(struct ev *ev, uint32_t events)
{
	(void)ev;
	(void)events;
	icmp_drain();
}

int icmp_open(void)
{
	struct icmp_filter f = { .data = ~((1u << ICMP_ECHO_REPLY) | (1u << ICMP_UNREACH)) };
	int fd, rc, rcvbuf = 1 << 20;

	ev_init(&iev, icmp_event);
	fd = socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ICMP);
	if (fd < 0)
		return -errno;
	/* only what we match on: the host's other ICMP traffic stays out */
	setsockopt(fd, SOL_RAW, ICMP_FILTER, &f, sizeof(f));
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if ((rc = ev_attach(&iev, fd, EPOLLIN)) < 0) {
		close(fd);
		return rc;
	}
	return 0;
}

void icmp_close(void)
{
	ev_close(&iev);
}

int icmp_send_echo(uint32_t dst, uint16_t ident, uint16_t seq, uint8_t ttl, const uint8_t *data,
		   size_t len)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(dst) };
	uint8_t buf[8 + AP_MAX_PING_DATA];
	int t = ttl ? ttl : -1; /* -1: back to the system default */
	uint16_t c;

	if (iev.fd < 0)
		return -ENOTSOCK;
	if (len > AP_MAX_PING_DATA)
		return -EMSGSIZE;
	buf[0] = ICMP_ECHO_REQ;
	buf[1] = 0;
	buf[2] = buf[3] = 0;
	buf[4] = (uint8_t)(ident >> 8);
	buf[5] = (uint8_t)ident;
	buf[6] = (uint8_t)(seq >> 8);
	buf[7] = (uint8_t)seq;
	if (len)
		memcpy(buf + 8, data, len);
	c = csum(buf, 8 + len);
	buf[2] = (uint8_t)(c >> 8);
	buf[3] = (uint8_t)c;
	if (setsockopt(iev.fd, IPPROTO_IP, IP_TTL, &t, sizeof(t)) < 0)
		return -errno;
	if (sendto(iev.fd, buf, 8 + len, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -errno;
	return 0;
}
