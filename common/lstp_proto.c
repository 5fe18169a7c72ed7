/*
 * LSTP codec (see include/sluice/lstp_proto.h and docs/lstp.md; seed 002,
 * Figure 6).  Pure: no sockets, no DPDK, no allocation, so sluice-lstp, the
 * middle (worker and sluice-cp), the unit tests and the fuzzer share one
 * definition of a valid message.
 *
 * lstp_parse decodes a body into struct lstp_msg and then runs the same
 * field check (msg_check) that lstp_encode runs before writing, so what one
 * side can encode the other accepts, and every accepted message re-encodes
 * to the very bytes it came from: there are no pad bytes, no reserved bits
 * and every length is exact.
 */
#include <errno.h>
#include <string.h>

#include <sluice/lstp_proto.h>

#define STR_(x) #x
#define STR(x) STR_(x)

/* Body sizes (see the struct comments in the header). */
#define INFO_MIN 3              /* u8 len, common (>= 1), u8 len */
#define INFO_MAX (2 + 2 * LSTP_MAX_INFO)
#define HOP_FIX 16              /* u8 role, u8 name len, u32 addr, u16 port, 8 nonce */
#define TOPO_MIN (1 + HOP_FIX + 1)
#define TOPO_MAX (1 + LSTP_MAX_HOPS * (HOP_FIX + LSTP_MAX_NAME))
#define PROP_FIX 2              /* u8 klen, u8 vlen */
#define PROPS_MIN 1             /* the count alone */
#define PROPS_MAX (1 + LSTP_MAX_PROPS * (PROP_FIX + LSTP_MAX_KEY + LSTP_MAX_VALUE))
#define CREQ_IPV4 7             /* u8 kind, u32 addr, u16 port */
#define CREQ_MIN 5              /* u8 kind, u8 len, name (>= 1), u16 port */
#define CREQ_MAX (4 + LSTP_MAX_HOST)
#define CACK_LEN 6              /* u32 addr, u16 port */
#define NACK_LEN 1
#define FREE_LEN 1
#define ERROR_MIN 3             /* u16 code, u8 len */
#define ERROR_MAX (ERROR_MIN + LSTP_MAX_TEXT)

_Static_assert(TOPO_MAX <= LSTP_MAX_BODY && PROPS_MAX <= LSTP_MAX_BODY && CREQ_MAX <= LSTP_MAX_BODY,
	       "every body fits LSTP_MAX_BODY");
_Static_assert(LSTP_MAX_BODY <= 0xffff, "the body length is a u16 on the wire");
_Static_assert(LSTP_MAX_HOPS <= 255 && LSTP_MAX_PROPS <= 255, "counts are one byte on the wire");
_Static_assert(LSTP_MAX_INFO <= 255 && LSTP_MAX_NAME <= 255 && LSTP_MAX_KEY <= 255 &&
		       LSTP_MAX_VALUE <= 255 && LSTP_MAX_HOST <= 255 && LSTP_MAX_TEXT <= 255,
	       "lengths are one byte on the wire");
/* the per-index reasons below are written out for 16 entries */
_Static_assert(LSTP_MAX_HOPS == 16 && LSTP_MAX_PROPS == 16, "update the I16() tables");

#define PH_C 1                  /* LSTP_PHASE_CLEAR */
#define PH_S 2                  /* LSTP_PHASE_SECURED */
#define PH_B 3

/* Name, phases and channel kind of each type, from the X-macro. */
static const struct {
	const char *name;
	uint8_t phase;          /* PH_C, PH_S or PH_B */
	uint8_t chan;           /* 1: carries a non-zero channel id */
} types[LSTP_TYPE_MAX] = {
#define LSTP_ROW(name, val, phase, chan) [val] = { #name, PH_##phase, chan },
	LSTP_MSG_TYPES(LSTP_ROW)
#undef LSTP_ROW
};

static int type_known(unsigned int type)
{
	return type < LSTP_TYPE_MAX && types[type].name != NULL;
}

/* One static reason per entry index, so an ERROR's text can name the entry. */
#define I16(pre, post)                                                                    \
	{ pre "0" post,  pre "1" post,  pre "2" post,  pre "3" post,  pre "4" post,  pre "5" post,  \
	  pre "6" post,  pre "7" post,  pre "8" post,  pre "9" post,  pre "10" post, pre "11" post, \
	  pre "12" post, pre "13" post, pre "14" post, pre "15" post }

static const char *const hop_trunc[] = I16("TOPOLOGY_EXCHANGE: hop ", " runs past the body");
static const char *const hop_nlen[] =
	I16("TOPOLOGY_EXCHANGE: hop ", " name length not 1.." STR(LSTP_MAX_NAME));
static const char *const hop_name[] = I16("TOPOLOGY_EXCHANGE: hop ", " name not printable");
static const char *const hop_role[] = I16("TOPOLOGY_EXCHANGE: hop ", " role not 1..3");
static const char *const hop_mid[] =
	I16("TOPOLOGY_EXCHANGE: hop ", " is not a middle (only hop 0 is an end)");
static const char *const prop_trunc[] = I16("PROPERTY_EXCHANGE: pair ", " runs past the body");
static const char *const prop_klen[] =
	I16("PROPERTY_EXCHANGE: pair ", " key length not 1.." STR(LSTP_MAX_KEY));
static const char *const prop_key[] =
	I16("PROPERTY_EXCHANGE: pair ", " key not printable or holds '='");
static const char *const prop_val[] = I16("PROPERTY_EXCHANGE: pair ", " value not printable");
static const char *const prop_dup[] = I16("PROPERTY_EXCHANGE: pair ", " repeats an earlier key");

/* Body length bounds per type (min == max for fixed bodies), checked as soon
 * as the header is there.  Every max is within LSTP_MAX_BODY. */
static void body_bounds(unsigned int type, uint16_t *min, uint16_t *max, const char **why)
{
	switch (type) {
	case LSTP_COMMON_UNIQUE_INFO:
		*min = INFO_MIN, *max = INFO_MAX;
		*why = "COMMON_UNIQUE_INFO: body length not 3.." STR(INFO_MAX);
		break;
	case LSTP_TOPOLOGY_EXCHANGE:
		*min = TOPO_MIN, *max = TOPO_MAX;
		*why = "TOPOLOGY_EXCHANGE: body length not 18..1265";
		break;
	case LSTP_PROPERTY_EXCHANGE:
		*min = PROPS_MIN, *max = PROPS_MAX;
		*why = "PROPERTY_EXCHANGE: body length not 1..4609";
		break;
	case LSTP_CONNECTION_REQUEST:
		*min = CREQ_MIN, *max = CREQ_MAX;
		*why = "CONNECTION_REQUEST: body length not 5..259";
		break;
	case LSTP_CONNECTION_ACK:
		*min = *max = CACK_LEN;
		*why = "CONNECTION_ACK: body length is not 6";
		break;
	case LSTP_CONNECTION_NACK:
		*min = *max = NACK_LEN;
		*why = "CONNECTION_NACK: body length is not 1";
		break;
	case LSTP_SERVICE_BEGIN_NACK:
		*min = *max = NACK_LEN;
		*why = "SERVICE_BEGIN_NACK: body length is not 1";
		break;
	case LSTP_SERVICE_BEGIN_REQUEST:
		*min = *max = 0;
		*why = "SERVICE_BEGIN_REQUEST: body not empty";
		break;
	case LSTP_SERVICE_BEGIN_ACK:
		*min = *max = 0;
		*why = "SERVICE_BEGIN_ACK: body not empty";
		break;
	case LSTP_SERVICE_DATA_PAUSE:
		*min = *max = 0;
		*why = "SERVICE_DATA_PAUSE: body not empty";
		break;
	case LSTP_SERVICE_DATA_RESUME:
		*min = *max = 0;
		*why = "SERVICE_DATA_RESUME: body not empty";
		break;
	case LSTP_SHUTDOWN:
		*min = *max = 0;
		*why = "SHUTDOWN: body not empty";
		break;
	case LSTP_SERVICE_DATA:
		*min = 1, *max = LSTP_MAX_BODY;
		*why = "SERVICE_DATA: empty body";
		break;
	case LSTP_SERVICE_FREE_REQUEST:
		*min = *max = FREE_LEN;
		*why = "SERVICE_FREE_REQUEST: body length is not 1";
		break;
	case LSTP_ERROR:
		*min = ERROR_MIN, *max = ERROR_MAX;
		*why = "ERROR: body length not 3.." STR(ERROR_MAX);
		break;
	default:
		*min = 1, *max = 0; /* nothing fits */
		*why = "unknown message type";
		break;
	}
}

_Static_assert(TOPO_MAX == 1265 && PROPS_MAX == 4609 && CREQ_MAX == 259,
	       "the body_bounds() reasons spell these out");

/* ---------------------------------------------------------------- bytes -- */

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)((unsigned int)p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint8_t *put8(uint8_t *p, uint8_t v)
{
	*p = v;
	return p + 1;
}

static uint8_t *put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
	return p + 2;
}

static uint8_t *put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
	return p + 4;
}

static uint8_t *putn(uint8_t *p, const void *s, size_t n)
{
	if (n)
		memcpy(p, s, n);
	return p + n;
}

/* ---------------------------------------------------------- field rules -- */

/* Printable ASCII (0x20..0x7e): names and texts end up in logs and in
 * `sluicectl show lstp`, so no control bytes, no NUL (which would cut the
 * struct's C string short), nothing above 0x7e. */
static int printable(const char *s, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			return 0;
	return 1;
}

static int nack_ok(uint8_t r)
{
	switch (r) {
	case LSTP_NACK_FAILURE:
	case LSTP_NACK_NOT_ALLOWED:
	case LSTP_NACK_NET_UNREACH:
	case LSTP_NACK_HOST_UNREACH:
	case LSTP_NACK_REFUSED:
	case LSTP_NACK_TTL_EXPIRED:
	case LSTP_NACK_BAD_ADDRESS:
	case LSTP_NACK_BUSY:
		return 1;
	default:
		return 0;
	}
}

static const char *topo_check(const struct lstp_topology *t)
{
	if (t->n < 1 || t->n > LSTP_MAX_HOPS)
		return "TOPOLOGY_EXCHANGE: hop count not 1.." STR(LSTP_MAX_HOPS);
	for (unsigned int i = 0; i < t->n; i++) {
		const struct lstp_hop *h = &t->hop[i];

		if (h->role < LSTP_ROLE_CLIENT || h->role > LSTP_ROLE_MIDDLE)
			return hop_role[i];
		/* [0] is the end that sent it; middles only append (seed 002,
		 * TOPOLOGY_EXCHANGE), so every later entry is a middle */
		if ((i == 0) == (h->role == LSTP_ROLE_MIDDLE))
			return i == 0 ? "TOPOLOGY_EXCHANGE: hop 0 is a middle, not an end" : hop_mid[i];
		if (h->name_len < 1 || h->name_len > LSTP_MAX_NAME)
			return hop_nlen[i];
		if (!printable(h->name, h->name_len))
			return hop_name[i];
	}
	return NULL;
}

static const char *props_check(const struct lstp_props *ps)
{
	if (ps->n > LSTP_MAX_PROPS)
		return "PROPERTY_EXCHANGE: more than " STR(LSTP_MAX_PROPS) " pairs";
	for (unsigned int i = 0; i < ps->n; i++) {
		const struct lstp_prop *p = &ps->p[i];

		if (p->klen < 1 || p->klen > LSTP_MAX_KEY)
			return prop_klen[i];
		if (!printable(p->key, p->klen) || memchr(p->key, '=', p->klen))
			return prop_key[i];
		/* vlen is a u8: LSTP_MAX_VALUE (255) bounds it already */
		if (!printable(p->value, p->vlen))
			return prop_val[i];
		for (unsigned int j = 0; j < i; j++)
			if (ps->p[j].klen == p->klen && !memcmp(ps->p[j].key, p->key, p->klen))
				return prop_dup[i];
	}
	return NULL;
}

static const char *conn_req_check(const struct lstp_conn_req *c)
{
	switch (c->kind) {
	case LSTP_DEST_IPV4:
		/* canonical: what the wire does not carry is zero, so a
		 * message and its parsed encoding compare equal */
		if (c->name_len != 0)
			return "CONNECTION_REQUEST: IPV4 with a name";
		if (c->port == 0)
			return "CONNECTION_REQUEST: port 0";
		return NULL;
	case LSTP_DEST_DOMAIN:
	case LSTP_DEST_SERVICE:
		if (c->name_len < 1) /* a u8: LSTP_MAX_HOST (255) bounds it */
			return "CONNECTION_REQUEST: empty name";
		if (!printable(c->name, c->name_len))
			return "CONNECTION_REQUEST: name not printable";
		if (c->addr != 0)
			return "CONNECTION_REQUEST: a name with an address";
		/* a service is named, its port is the far end's business */
		if (c->kind == LSTP_DEST_DOMAIN && c->port == 0)
			return "CONNECTION_REQUEST: port 0";
		return NULL;
	default:
		return "CONNECTION_REQUEST: kind not 0 (service), 1 (IPv4) or 3 (domain)";
	}
}

/*
 * The one definition of a valid message, shared by lstp_parse (after
 * decoding) and lstp_encode (before writing).  NULL when valid, else a
 * static string naming the problem.
 */
static const char *msg_check(const struct lstp_msg *m)
{
	if (!type_known(m->type))
		return "unknown message type";
	if (types[m->type].chan && m->channel == 0)
		return "channel 0 on a channel message";
	if (!types[m->type].chan && m->channel != 0)
		return "non-zero channel on a tunnel-wide message";
	switch (m->type) {
	case LSTP_COMMON_UNIQUE_INFO:
		if (m->u.info.common_len < 1 || m->u.info.common_len > LSTP_MAX_INFO)
			return "COMMON_UNIQUE_INFO: common length not 1.." STR(LSTP_MAX_INFO);
		if (m->u.info.unique_len > LSTP_MAX_INFO)
			return "COMMON_UNIQUE_INFO: unique length above " STR(LSTP_MAX_INFO);
		return NULL;
	case LSTP_TOPOLOGY_EXCHANGE:
		return topo_check(&m->u.topo);
	case LSTP_PROPERTY_EXCHANGE:
		return props_check(&m->u.props);
	case LSTP_CONNECTION_REQUEST:
		return conn_req_check(&m->u.conn_req);
	case LSTP_CONNECTION_NACK:
	case LSTP_SERVICE_BEGIN_NACK:
		if (!nack_ok(m->u.nack.reason))
			return m->type == LSTP_CONNECTION_NACK ?
				       "CONNECTION_NACK: reason not 1..6, 8 or 9" :
				       "SERVICE_BEGIN_NACK: reason not 1..6, 8 or 9";
		return NULL;
	case LSTP_SERVICE_DATA:
		if (m->u.data.len < 1 || m->u.data.len > LSTP_MAX_BODY)
			return "SERVICE_DATA: length not 1.." STR(LSTP_MAX_BODY);
		if (m->u.data.data == NULL)
			return "SERVICE_DATA: no data";
		return NULL;
	case LSTP_SERVICE_FREE_REQUEST:
		if (m->u.fr.flags != LSTP_FREE_FIN && m->u.fr.flags != LSTP_FREE_RESET)
			return "SERVICE_FREE_REQUEST: flags not exactly one of FIN, RESET";
		return NULL;
	case LSTP_ERROR:
		if (m->u.error.code < LSTP_ERR_MALFORMED || m->u.error.code > LSTP_ERR_INTERNAL)
			return "ERROR: unknown error code";
		if (m->u.error.text_len > LSTP_MAX_TEXT)
			return "ERROR: text longer than " STR(LSTP_MAX_TEXT);
		if (!printable(m->u.error.text, m->u.error.text_len))
			return "ERROR: text not printable";
		return NULL;
	default: /* CONNECTION_ACK, the empty bodies: any value is valid */
		return NULL;
	}
}

/* --------------------------------------------------------------- decode -- */

static const char *decode_topo(const uint8_t *b, size_t n, struct lstp_topology *t)
{
	size_t off = 1;

	t->n = b[0];
	if (t->n < 1 || t->n > LSTP_MAX_HOPS)
		return "TOPOLOGY_EXCHANGE: hop count not 1.." STR(LSTP_MAX_HOPS);
	for (unsigned int i = 0; i < t->n; i++) {
		struct lstp_hop *h = &t->hop[i];

		if (n - off < 2)
			return hop_trunc[i];
		h->role = b[off];
		h->name_len = b[off + 1];
		if (h->name_len < 1 || h->name_len > LSTP_MAX_NAME)
			return hop_nlen[i];
		if (n - off < HOP_FIX + (size_t)h->name_len)
			return hop_trunc[i];
		off += 2;
		memcpy(h->name, b + off, h->name_len);
		h->name[h->name_len] = '\0';
		off += h->name_len;
		h->addr = get32(b + off);
		h->port = get16(b + off + 4);
		memcpy(h->nonce, b + off + 6, sizeof(h->nonce));
		off += 14;
	}
	return off == n ? NULL : "TOPOLOGY_EXCHANGE: trailing bytes after the last hop";
}

static const char *decode_props(const uint8_t *b, size_t n, struct lstp_props *ps)
{
	size_t off = 1;

	ps->n = b[0];
	if (ps->n > LSTP_MAX_PROPS)
		return "PROPERTY_EXCHANGE: more than " STR(LSTP_MAX_PROPS) " pairs";
	for (unsigned int i = 0; i < ps->n; i++) {
		struct lstp_prop *p = &ps->p[i];

		if (n - off < 1)
			return prop_trunc[i];
		p->klen = b[off++];
		if (p->klen < 1 || p->klen > LSTP_MAX_KEY)
			return prop_klen[i];
		if (n - off < (size_t)p->klen + 1)
			return prop_trunc[i];
		memcpy(p->key, b + off, p->klen);
		p->key[p->klen] = '\0';
		off += p->klen;
		p->vlen = b[off++];
		if (n - off < p->vlen)
			return prop_trunc[i];
		memcpy(p->value, b + off, p->vlen);
		p->value[p->vlen] = '\0';
		off += p->vlen;
	}
	return off == n ? NULL : "PROPERTY_EXCHANGE: trailing bytes after the last pair";
}

static const char *decode_conn_req(const uint8_t *b, size_t n, struct lstp_conn_req *c)
{
	c->kind = b[0];
	switch (c->kind) {
	case LSTP_DEST_IPV4:
		if (n != CREQ_IPV4)
			return "CONNECTION_REQUEST: IPV4 body length is not 7";
		c->addr = get32(b + 1);
		c->port = get16(b + 5);
		return NULL;
	case LSTP_DEST_DOMAIN:
	case LSTP_DEST_SERVICE:
		c->name_len = b[1];
		if (n != 4 + (size_t)c->name_len) /* kind, len, name, port */
			return "CONNECTION_REQUEST: name length does not match the body length";
		memcpy(c->name, b + 2, c->name_len);
		c->name[c->name_len] = '\0';
		c->port = get16(b + 2 + c->name_len);
		return NULL;
	default:
		return "CONNECTION_REQUEST: kind not 0 (service), 1 (IPv4) or 3 (domain)";
	}
}

/* Fill m from a body whose length is already within the type's bounds. */
static const char *decode(const uint8_t *b, size_t n, struct lstp_msg *m)
{
	switch (m->type) {
	case LSTP_COMMON_UNIQUE_INFO: {
		struct lstp_info *i = &m->u.info;

		i->common_len = b[0];
		if (i->common_len < 1 || i->common_len > LSTP_MAX_INFO)
			return "COMMON_UNIQUE_INFO: common length not 1.." STR(LSTP_MAX_INFO);
		if (n < 2 + (size_t)i->common_len)
			return "COMMON_UNIQUE_INFO: common runs past the body";
		memcpy(i->common, b + 1, i->common_len);
		i->unique_len = b[1 + i->common_len];
		if (i->unique_len > LSTP_MAX_INFO)
			return "COMMON_UNIQUE_INFO: unique length above " STR(LSTP_MAX_INFO);
		if (n != 2 + (size_t)i->common_len + i->unique_len)
			return "COMMON_UNIQUE_INFO: lengths do not match the body length";
		memcpy(i->unique, b + 2 + i->common_len, i->unique_len);
		return NULL;
	}
	case LSTP_TOPOLOGY_EXCHANGE:
		return decode_topo(b, n, &m->u.topo);
	case LSTP_PROPERTY_EXCHANGE:
		return decode_props(b, n, &m->u.props);
	case LSTP_CONNECTION_REQUEST:
		return decode_conn_req(b, n, &m->u.conn_req);
	case LSTP_CONNECTION_ACK:
		m->u.conn_ack.addr = get32(b);
		m->u.conn_ack.port = get16(b + 4);
		return NULL;
	case LSTP_CONNECTION_NACK:
	case LSTP_SERVICE_BEGIN_NACK:
		m->u.nack.reason = b[0];
		return NULL;
	case LSTP_SERVICE_DATA:
		m->u.data.data = b;
		m->u.data.len = (uint16_t)n;
		return NULL;
	case LSTP_SERVICE_FREE_REQUEST:
		m->u.fr.flags = b[0];
		return NULL;
	case LSTP_ERROR: {
		struct lstp_error *e = &m->u.error;

		e->code = get16(b);
		e->text_len = b[2];
		if (n != ERROR_MIN + (size_t)e->text_len)
			return "ERROR: text length does not match the body length";
		memcpy(e->text, b + ERROR_MIN, e->text_len); /* <= LSTP_MAX_TEXT by the bounds */
		e->text[e->text_len] = '\0';
		return NULL;
	}
	default: /* the empty bodies */
		return NULL;
	}
}

/* The header checks lstp_peek and lstp_parse share: NULL, or the reason
 * with *err set. */
static const char *hdr_check(const uint8_t *buf, uint16_t *err)
{
	/* a different version may frame differently: nothing else is read */
	if (buf[0] != LSTP_VERSION) {
		*err = LSTP_ERR_VERSION;
		return "unsupported version (this end speaks " STR(LSTP_VERSION) ")";
	}
	if (!type_known(buf[1])) {
		*err = LSTP_ERR_UNKNOWN_TYPE;
		return "unknown message type";
	}
	if (get16(buf + 2) > LSTP_MAX_BODY) {
		*err = LSTP_ERR_OVERSIZED;
		return "oversized message: body longer than " STR(LSTP_MAX_BODY);
	}
	return NULL;
}

int lstp_peek(const uint8_t *buf, size_t len, uint8_t *type, uint32_t *channel,
	      uint16_t *body_len, const char **why, uint16_t *err)
{
	const char *w;
	uint16_t e = 0;

	if (len < LSTP_HDR_LEN)
		return -EAGAIN;
	/* filled on an error too: a log line can say what came */
	if (type)
		*type = buf[1];
	if (channel)
		*channel = get32(buf + 4);
	if (body_len)
		*body_len = get16(buf + 2);
	w = hdr_check(buf, &e);
	if (w == NULL)
		return 0;
	if (why)
		*why = w;
	if (err)
		*err = e;
	return -EBADMSG;
}

int lstp_parse(const uint8_t *buf, size_t len, struct lstp_msg *m, size_t *used,
	       const char **why, uint16_t *err)
{
	const char *w;
	uint16_t blen, min, max, e = LSTP_ERR_MALFORMED;
	const char *why_len;

	memset(m, 0, sizeof(*m));
	*used = 0;
	if (len < LSTP_HDR_LEN)
		return -EAGAIN;
	/* Everything the header alone decides is reported now, not once a body
	 * that may never come (or is pointlessly long) has arrived. */
	if ((w = hdr_check(buf, &e)) != NULL)
		goto fail;
	m->type = buf[1];
	m->channel = get32(buf + 4);
	blen = get16(buf + 2);
	if (types[m->type].chan && m->channel == 0) {
		w = "channel 0 on a channel message";
		goto fail;
	}
	if (!types[m->type].chan && m->channel != 0) {
		w = "non-zero channel on a tunnel-wide message";
		goto fail;
	}
	body_bounds(m->type, &min, &max, &why_len);
	if (blen < min || blen > max) {
		w = why_len;
		goto fail;
	}
	if (len - LSTP_HDR_LEN < blen)
		return -EAGAIN;
	w = decode(buf + LSTP_HDR_LEN, blen, m);
	if (w == NULL)
		w = msg_check(m);
	if (w != NULL)
		goto fail;
	*used = LSTP_HDR_LEN + (size_t)blen;
	return 0;
fail:
	if (why)
		*why = w;
	if (err)
		*err = e;
	return -EBADMSG;
}

/* --------------------------------------------------------------- encode -- */

static size_t body_len(const struct lstp_msg *m)
{
	size_t n;

	switch (m->type) {
	case LSTP_COMMON_UNIQUE_INFO:
		return 2 + (size_t)m->u.info.common_len + m->u.info.unique_len;
	case LSTP_TOPOLOGY_EXCHANGE:
		n = 1;
		for (unsigned int i = 0; i < m->u.topo.n; i++)
			n += HOP_FIX + (size_t)m->u.topo.hop[i].name_len;
		return n;
	case LSTP_PROPERTY_EXCHANGE:
		n = 1;
		for (unsigned int i = 0; i < m->u.props.n; i++)
			n += PROP_FIX + (size_t)m->u.props.p[i].klen + m->u.props.p[i].vlen;
		return n;
	case LSTP_CONNECTION_REQUEST:
		return m->u.conn_req.kind == LSTP_DEST_IPV4 ? CREQ_IPV4 :
							     4 + (size_t)m->u.conn_req.name_len;
	case LSTP_CONNECTION_ACK:
		return CACK_LEN;
	case LSTP_CONNECTION_NACK:
	case LSTP_SERVICE_BEGIN_NACK:
		return NACK_LEN;
	case LSTP_SERVICE_DATA:
		return m->u.data.len;
	case LSTP_SERVICE_FREE_REQUEST:
		return FREE_LEN;
	case LSTP_ERROR:
		return ERROR_MIN + (size_t)m->u.error.text_len;
	default:
		return 0;
	}
}

int lstp_encode(const struct lstp_msg *m, uint8_t *out, size_t cap)
{
	size_t blen;
	uint8_t *p;

	if (msg_check(m) != NULL)
		return -EINVAL;
	blen = body_len(m); /* within the type's bounds once msg_check passed */
	if (cap < LSTP_HDR_LEN + blen)
		return -ENOSPC;
	p = put8(out, LSTP_VERSION);
	p = put8(p, m->type);
	p = put16(p, (uint16_t)blen);
	p = put32(p, m->channel);
	switch (m->type) {
	case LSTP_COMMON_UNIQUE_INFO: {
		const struct lstp_info *i = &m->u.info;

		p = put8(p, i->common_len);
		p = putn(p, i->common, i->common_len);
		p = put8(p, i->unique_len);
		p = putn(p, i->unique, i->unique_len);
		break;
	}
	case LSTP_TOPOLOGY_EXCHANGE:
		p = put8(p, m->u.topo.n);
		for (unsigned int i = 0; i < m->u.topo.n; i++) {
			const struct lstp_hop *h = &m->u.topo.hop[i];

			p = put8(p, h->role);
			p = put8(p, h->name_len);
			p = putn(p, h->name, h->name_len);
			p = put32(p, h->addr);
			p = put16(p, h->port);
			p = putn(p, h->nonce, sizeof(h->nonce));
		}
		break;
	case LSTP_PROPERTY_EXCHANGE:
		p = put8(p, m->u.props.n);
		for (unsigned int i = 0; i < m->u.props.n; i++) {
			const struct lstp_prop *q = &m->u.props.p[i];

			p = put8(p, q->klen);
			p = putn(p, q->key, q->klen);
			p = put8(p, q->vlen);
			p = putn(p, q->value, q->vlen);
		}
		break;
	case LSTP_CONNECTION_REQUEST: {
		const struct lstp_conn_req *c = &m->u.conn_req;

		p = put8(p, c->kind);
		if (c->kind == LSTP_DEST_IPV4) {
			p = put32(p, c->addr);
		} else {
			p = put8(p, c->name_len);
			p = putn(p, c->name, c->name_len);
		}
		p = put16(p, c->port);
		break;
	}
	case LSTP_CONNECTION_ACK:
		p = put32(p, m->u.conn_ack.addr);
		p = put16(p, m->u.conn_ack.port);
		break;
	case LSTP_CONNECTION_NACK:
	case LSTP_SERVICE_BEGIN_NACK:
		p = put8(p, m->u.nack.reason);
		break;
	case LSTP_SERVICE_DATA:
		p = putn(p, m->u.data.data, m->u.data.len);
		break;
	case LSTP_SERVICE_FREE_REQUEST:
		p = put8(p, m->u.fr.flags);
		break;
	case LSTP_ERROR:
		p = put16(p, m->u.error.code);
		p = put8(p, m->u.error.text_len);
		p = putn(p, m->u.error.text, m->u.error.text_len);
		break;
	default: /* the empty bodies */
		break;
	}
	return (int)(p - out);
}

void lstp_data_hdr(uint8_t hdr[LSTP_HDR_LEN], uint32_t channel, uint16_t len)
{
	uint8_t *p = put8(hdr, LSTP_VERSION);

	p = put8(p, LSTP_SERVICE_DATA);
	p = put16(p, len);
	put32(p, channel);
}

/* -------------------------------------------------------------- helpers -- */

int lstp_phase_ok(uint8_t type, enum lstp_phase phase)
{
	if (!type_known(type) || (phase != LSTP_PHASE_CLEAR && phase != LSTP_PHASE_SECURED))
		return 0;
	return (types[type].phase & (unsigned int)phase) != 0;
}

/* (nonce, name) order: the nonce bytes first, then the names byte by byte,
 * a name before every longer name it is a prefix of. */
static int hop_cmp(const struct lstp_hop *a, const struct lstp_hop *b)
{
	unsigned int n = a->name_len < b->name_len ? a->name_len : b->name_len;
	int c = memcmp(a->nonce, b->nonce, sizeof(a->nonce));

	if (c == 0 && n)
		c = memcmp(a->name, b->name, n);
	if (c == 0)
		c = (int)a->name_len - (int)b->name_len;
	return c;
}

static int is_end(uint8_t role)
{
	return role == LSTP_ROLE_CLIENT || role == LSTP_ROLE_SERVER;
}

/* Seed 002, Figure 7 (704): the master is chosen from the topology, and
 * both ends must come to opposite answers from the same two entries. */
int lstp_is_master(const struct lstp_topology *mine, const struct lstp_topology *theirs)
{
	const struct lstp_hop *a, *b;
	int c;

	if (!mine || !theirs || mine->n < 1 || theirs->n < 1)
		return -1;
	a = &mine->hop[0];
	b = &theirs->hop[0];
	if (a->name_len > LSTP_MAX_NAME || b->name_len > LSTP_MAX_NAME || !is_end(a->role) ||
	    !is_end(b->role))
		return -1;
	c = hop_cmp(a, b);
	if (c == 0)
		return -1; /* our own setup came back: a loop, not a peer */
	if (a->role != b->role)
		return a->role == LSTP_ROLE_CLIENT;
	return c < 0;
}

int lstp_info_eq(const struct lstp_info *a, const struct lstp_info *b)
{
	return a->common_len == b->common_len && a->unique_len == b->unique_len &&
	       a->common_len <= LSTP_MAX_INFO && a->unique_len <= LSTP_MAX_INFO &&
	       memcmp(a->common, b->common, a->common_len) == 0 &&
	       memcmp(a->unique, b->unique, a->unique_len) == 0;
}

int lstp_topo_eq(const struct lstp_topology *a, const struct lstp_topology *b)
{
	if (a->n != b->n || a->n > LSTP_MAX_HOPS)
		return 0;
	for (unsigned int i = 0; i < a->n; i++) {
		const struct lstp_hop *x = &a->hop[i], *y = &b->hop[i];

		if (x->role != y->role || x->name_len != y->name_len ||
		    x->name_len > LSTP_MAX_NAME || memcmp(x->name, y->name, x->name_len) != 0 ||
		    x->addr != y->addr || x->port != y->port ||
		    memcmp(x->nonce, y->nonce, sizeof(x->nonce)) != 0)
			return 0;
	}
	return 1;
}

const char *lstp_type_name(uint8_t type)
{
	return type_known(type) ? types[type].name : "?";
}

const char *lstp_err_name(uint16_t code)
{
	static const char *const names[] = {
		[LSTP_ERR_MALFORMED] = "MALFORMED",
		[LSTP_ERR_OVERSIZED] = "OVERSIZED",
		[LSTP_ERR_UNKNOWN_TYPE] = "UNKNOWN_TYPE",
		[LSTP_ERR_UNEXPECTED] = "UNEXPECTED",
		[LSTP_ERR_VERSION] = "VERSION",
		[LSTP_ERR_MISMATCH] = "MISMATCH",
		[LSTP_ERR_REFUSED] = "REFUSED",
		[LSTP_ERR_EXPIRED] = "EXPIRED",
		[LSTP_ERR_AUTH] = "AUTH",
		[LSTP_ERR_CHANNEL] = "CHANNEL",
		[LSTP_ERR_INTERNAL] = "INTERNAL",
	};

	if (code < sizeof(names) / sizeof(names[0]) && names[code])
		return names[code];
	return "?";
}
