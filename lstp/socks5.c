/*
 * SOCKS5 codec (socks5.h).  Every length is checked before it is used;
 * the parsers never read past len.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "socks5.h"

int socks5_greeting_parse(const uint8_t *b, size_t len, struct socks5_greeting *g, size_t *used)
{
	size_t n, i;

	memset(g, 0, sizeof(*g));
	if (len < 1)
		return -EAGAIN;
	if (b[0] != SOCKS5_VER)
		return -EBADMSG;
	if (len < 2)
		return -EAGAIN;
	n = b[1];
	/* RFC 1928 3: NMETHODS is 1 to 255 */
	if (n == 0)
		return -EBADMSG;
	if (len < 2 + n)
		return -EAGAIN;
	for (i = 0; i < n; i++) {
		if (b[2 + i] == SOCKS5_M_NONE)
			g->none = 1;
		else if (b[2 + i] == SOCKS5_M_USERPASS)
			g->userpass = 1;
	}
	*used = 2 + n;
	return 0;
}

int socks5_auth_parse(const uint8_t *b, size_t len, char user[256], char pass[256], size_t *used)
{
	size_t ul, pl;

	if (len < 1)
		return -EAGAIN;
	if (b[0] != SOCKS5_AUTH_VER)
		return -EBADMSG;
	if (len < 2)
		return -EAGAIN;
	ul = b[1];
	if (ul == 0)
		return -EBADMSG;
	if (len < 2 + ul + 1)
		return -EAGAIN;
	pl = b[2 + ul];
	if (pl == 0)
		return -EBADMSG;
	if (len < 3 + ul + pl)
		return -EAGAIN;
	if (memchr(b + 2, 0, ul) || memchr(b + 3 + ul, 0, pl))
		return -EBADMSG;
	memcpy(user, b + 2, ul);
	user[ul] = '\0';
	memcpy(pass, b + 3 + ul, pl);
	pass[pl] = '\0';
	*used = 3 + ul + pl;
	return 0;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int socks5_req_parse(const uint8_t *b, size_t len, struct socks5_req *r, size_t *used)
{
	size_t alen, n, i;

	memset(r, 0, sizeof(*r));
	if (len < 1)
		return -EAGAIN;
	if (b[0] != SOCKS5_VER)
		return -EBADMSG;
	if (len < 5)
		return -EAGAIN;
	/* RFC 1928 4: RSV is X'00' */
	if (b[2] != 0)
		return -EBADMSG;
	r->cmd = b[1];
	r->atyp = b[3];
	switch (b[3]) {
	case SOCKS5_ATYP_IPV4:
		alen = 4;
		break;
	case SOCKS5_ATYP_DOMAIN:
		alen = 1 + (size_t)b[4];
		if (b[4] == 0)
			return -EBADMSG;
		break;
	case SOCKS5_ATYP_IPV6:
		alen = 16;
		break;
	default:
		/* the length of an unknown address type is unknown: the
		 * request cannot be skipped, only refused */
		r->rep = SOCKS5_REP_ATYP;
		*used = len;
		return -ENOTSUP;
	}
	n = 4 + alen + 2;
	if (len < n)
		return -EAGAIN;
	r->port = (uint16_t)(b[n - 2] << 8 | b[n - 1]);
	*used = n;
	if (r->cmd != SOCKS5_CMD_CONNECT) {
		/* RFC 1928 6: X'07' Command not supported (BIND, UDP ASSOCIATE) */
		r->rep = SOCKS5_REP_CMD;
		return -ENOTSUP;
	}
	if (r->atyp == SOCKS5_ATYP_IPV6) {
		r->rep = SOCKS5_REP_ATYP;
		return -ENOTSUP;
	}
	if (r->atyp == SOCKS5_ATYP_IPV4) {
		r->addr = get32(b + 4);
	} else {
		r->name_len = b[4];
		for (i = 0; i < r->name_len; i++) {
			/* a host name is printable; a NUL or a control byte
			 * would be cut or mangled by the resolver */
			if (b[5 + i] < 0x21 || b[5 + i] > 0x7e) {
				r->rep = SOCKS5_REP_ATYP;
				return -ENOTSUP;
			}
		}
		memcpy(r->name, b + 5, r->name_len);
		r->name[r->name_len] = '\0';
	}
	return 0;
}

size_t socks5_reply_encode(uint8_t out[SOCKS5_REPLY_LEN], uint8_t rep, uint32_t addr, uint16_t port)
{
	out[0] = SOCKS5_VER;
	out[1] = rep;
	out[2] = 0;
	out[3] = SOCKS5_ATYP_IPV4;
	out[4] = (uint8_t)(addr >> 24);
	out[5] = (uint8_t)(addr >> 16);
	out[6] = (uint8_t)(addr >> 8);
	out[7] = (uint8_t)addr;
	out[8] = (uint8_t)(port >> 8);
	out[9] = (uint8_t)port;
	return SOCKS5_REPLY_LEN;
}

size_t socks5_client_greeting(uint8_t out[3], int userpass)
{
	out[0] = SOCKS5_VER;
	out[1] = 1;
	out[2] = userpass ? SOCKS5_M_USERPASS : SOCKS5_M_NONE;
	return 3;
}

int socks5_client_method_parse(const uint8_t *b, size_t len, uint8_t *method, size_t *used)
{
	if (len < 2)
		return -EAGAIN;
	if (b[0] != SOCKS5_VER)
		return -EBADMSG;
	*method = b[1];
	*used = 2;
	return 0;
}

int socks5_client_auth(uint8_t *out, size_t cap, const char *user, const char *pass)
{
	size_t ul = strlen(user), pl = strlen(pass);

	if (ul == 0 || ul > 255 || pl == 0 || pl > 255 || cap < 3 + ul + pl)
		return -EINVAL;
	out[0] = SOCKS5_AUTH_VER;
	out[1] = (uint8_t)ul;
	memcpy(out + 2, user, ul);
	out[2 + ul] = (uint8_t)pl;
	memcpy(out + 3 + ul, pass, pl);
	return (int)(3 + ul + pl);
}

int socks5_client_auth_parse(const uint8_t *b, size_t len, uint8_t *status, size_t *used)
{
	if (len < 2)
		return -EAGAIN;
	if (b[0] != SOCKS5_AUTH_VER)
		return -EBADMSG;
	*status = b[1];
	*used = 2;
	return 0;
}

int socks5_client_connect(uint8_t *out, size_t cap, const char *host, uint16_t port)
{
	struct in_addr in;
	size_t hl = strlen(host), n;

	out[0] = SOCKS5_VER;
	out[1] = SOCKS5_CMD_CONNECT;
	out[2] = 0;
	if (inet_pton(AF_INET, host, &in) == 1) {
		if (cap < 10)
			return -EINVAL;
		out[3] = SOCKS5_ATYP_IPV4;
		memcpy(out + 4, &in.s_addr, 4);
		n = 8;
	} else {
		if (hl == 0 || hl > 255 || cap < 7 + hl)
			return -EINVAL;
		out[3] = SOCKS5_ATYP_DOMAIN;
		out[4] = (uint8_t)hl;
		memcpy(out + 5, host, hl);
		n = 5 + hl;
	}
	out[n] = (uint8_t)(port >> 8);
	out[n + 1] = (uint8_t)port;
	return (int)(n + 2);
}

int socks5_client_reply_parse(const uint8_t *b, size_t len, uint8_t *rep, size_t *used)
{
	size_t n;

	if (len < 1)
		return -EAGAIN;
	if (b[0] != SOCKS5_VER)
		return -EBADMSG;
	if (len < 5)
		return -EAGAIN;
	if (b[2] != 0)
		return -EBADMSG;
	switch (b[3]) {
	case SOCKS5_ATYP_IPV4:
		n = 4 + 4 + 2;
		break;
	case SOCKS5_ATYP_DOMAIN:
		n = 4 + 1 + (size_t)b[4] + 2;
		break;
	case SOCKS5_ATYP_IPV6:
		n = 4 + 16 + 2;
		break;
	default:
		return -EBADMSG;
	}
	if (len < n)
		return -EAGAIN;
	*rep = b[1];
	*used = n;
	return 0;
}

const char *socks5_rep_str(uint8_t rep)
{
	static const char *const s[] = {
		"succeeded", "general SOCKS server failure", "connection not allowed by ruleset",
		"network unreachable", "host unreachable", "connection refused", "TTL expired",
		"command not supported", "address type not supported",
	};

	return rep < sizeof(s) / sizeof(s[0]) ? s[rep] : "unassigned reply code";
}
