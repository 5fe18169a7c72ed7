/* ClientHello parsing (RFC 8446 4.1.2, RFC 6066 3). */
#include <errno.h>
#include <string.h>

#include "tls_hello.h"

struct rd {
	const uint8_t *p;
	size_t n;
};

static int take(struct rd *r, size_t k, const uint8_t **out)
{
	if (r->n < k)
		return -1;
	*out = r->p;
	r->p += k;
	r->n -= k;
	return 0;
}

static int u8(struct rd *r, unsigned int *v)
{
	const uint8_t *p;

	if (take(r, 1, &p))
		return -1;
	*v = p[0];
	return 0;
}

static int u16(struct rd *r, unsigned int *v)
{
	const uint8_t *p;

	if (take(r, 2, &p))
		return -1;
	*v = (unsigned int)(p[0] << 8 | p[1]);
	return 0;
}

/* A vector with a 1- or 2-byte length prefix, as a sub-reader. */
static int vec(struct rd *r, int two, struct rd *sub)
{
	unsigned int l;
	const uint8_t *p;

	if ((two ? u16(r, &l) : u8(r, &l)) || take(r, l, &p))
		return -1;
	sub->p = p;
	sub->n = l;
	return 0;
}

static int server_name(struct rd e, struct tls_hello *out)
{
	struct rd list;

	/* ServerNameList: the first host_name entry is the name */
	if (vec(&e, 1, &list) || e.n)
		return -1;
	while (list.n) {
		unsigned int type;
		struct rd name;

		if (u8(&list, &type) || vec(&list, 1, &name))
			return -1;
		if (type != 0)
			continue; /* only host_name (0) is defined */
		if (name.n == 0 || name.n > TLS_SNI_MAX || memchr(name.p, 0, name.n))
			return -1;
		memcpy(out->sni, name.p, name.n);
		out->sni[name.n] = '\0';
		return 0;
	}
	return 0;
}

static int versions(struct rd e, struct tls_hello *out)
{
	struct rd list;
	unsigned int v;

	if (vec(&e, 0, &list) || e.n || list.n % 2)
		return -1;
	while (list.n) {
		u16(&list, &v);
		if (v == 0x0304)
			out->offers_tls13 = 1;
	}
	return 0;
}

int tls_hello_parse(const uint8_t *buf, size_t len, struct tls_hello *out)
{
	struct rd r = { buf, len }, body, tmp, ext;
	unsigned int type, ver, rlen, hs, hlen_hi, hlen_lo;
	const uint8_t *p;

	memset(out, 0, sizeof(*out));
	/* record: handshake (22), legacy version 0x03xx, length */
	if (len >= 1 && buf[0] != 22)
		return -EPROTO;
	if (len >= 2 && buf[1] != 3)
		return -EPROTO;
	if (u8(&r, &type) || u16(&r, &ver) || u16(&r, &rlen))
		return -EAGAIN;
	if (rlen == 0 || rlen > 16384 + 256)
		return -EPROTO;
	/* handshake: client_hello (1), 24-bit length */
	if (r.n >= 1 && r.p[0] != 1)
		return -EPROTO;
	if (u8(&r, &hs) || u8(&r, &hlen_hi) || u16(&r, &hlen_lo))
		return -EAGAIN;
	/* the message may span records (RFC 8446 5.1); we read the first
	 * record only, which holds every ClientHello seen in practice */
	if (((hlen_hi << 16) | hlen_lo) + 4 > rlen)
		return -EPROTO;
	if (take(&r, ((hlen_hi << 16) | hlen_lo), &p))
		return -EAGAIN;
	body.p = p;
	body.n = (hlen_hi << 16) | hlen_lo;
	if (u16(&body, &ver) || take(&body, 32, &p))   /* legacy_version, random */
		return -EPROTO;
	out->legacy_version = (uint16_t)ver;
	if (vec(&body, 0, &tmp) || tmp.n > 32)          /* legacy_session_id */
		return -EPROTO;
	if (vec(&body, 1, &tmp) || tmp.n == 0 || tmp.n % 2) /* cipher_suites */
		return -EPROTO;
	if (vec(&body, 0, &tmp) || tmp.n == 0)          /* legacy_compression_methods */
		return -EPROTO;
	if (body.n == 0)
		return 0; /* no extensions: an old client, no SNI */
	if (vec(&body, 1, &ext) || body.n)
		return -EPROTO;
	while (ext.n) {
		unsigned int et;
		struct rd data;

		if (u16(&ext, &et) || vec(&ext, 1, &data))
			return -EPROTO;
		if (et == 0 && server_name(data, out))
			return -EPROTO;
		if (et == 43 && versions(data, out))
			return -EPROTO;
	}
	return 0;
}
