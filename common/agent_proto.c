/*
 * Agent protocol codec (see include/sluice/agent_proto.h and
 * docs/agent-protocol.md).  Pure: no sockets, no DPDK, no allocation, so the
 * appliance, sluice-agent, the unit tests and the fuzzer share exactly one
 * definition of a valid frame.
 *
 * Parsing decodes the body into struct ap_msg and then runs the same field
 * check that ap_encode runs before writing, so whatever one side can encode
 * the other accepts, and every accepted frame re-encodes to the same bytes
 * (pad bytes and flags are zero, every length is exact).
 */
#include <errno.h>
#include <string.h>

#include <sluice/agent_proto.h>

#define STR_(x) #x
#define STR(x) STR_(x)

/* Fixed part of each body; the variable tail follows it. */
#define HELLO_FIX 9           /* 2+2+4+1, then sw_len bytes */
#define HELLO_ACK_LEN 14      /* 2+4+4+4 */
#define KEEPALIVE_LEN 8
#define CONNECT_LEN 28        /* 4+8+1+1+2+4+4+2+2 */
#define CONNECT_RESULT_LEN 8  /* 4+1+1+2 */
#define PING_FIX 20           /* 4+4+4+2+2+1+1+2, then data */
#define PING_RESULT_FIX 12    /* 4+1+1+1+1+4, then data */
#define ERROR_FIX 3           /* 2+1, then text_len bytes */
#define RETIRE_LEN 8
#define DA_OPEN_LEN 36        /* 4+4+8+4+4+2+2+4+4 */
#define DA_RESULT_LEN 8       /* 4+1+1+2 */
#define DA_END_LEN 8          /* 4+1+1+2 */
#define DGRAM_OPEN_LEN 4
#define DGRAM_UP_LEN 16       /* 4+1+1+2+8 */
#define DGRAM_CLOSE_LEN 8

#define DIR_A AP_FROM_AGENT
#define DIR_S AP_FROM_APPLIANCE
#define DIR_B (AP_FROM_AGENT | AP_FROM_APPLIANCE)

/* Name and direction of each type, from the X-macro. */
static const struct {
	const char *name;
	uint8_t dir;            /* DIR_A, DIR_S or DIR_B */
} types[AP_TYPE_MAX] = {
#define AP_ROW(name, val, dir) [val] = { #name, DIR_##dir },
	AP_MSG_TYPES(AP_ROW)
#undef AP_ROW
};

_Static_assert(PING_FIX + AP_MAX_PING_DATA <= AP_MAX_BODY, "PING must fit a frame");
_Static_assert(PING_RESULT_FIX + AP_MAX_PING_DATA <= AP_MAX_BODY, "PING_RESULT must fit a frame");
_Static_assert(HELLO_FIX + AP_MAX_TEXT <= AP_MAX_BODY, "HELLO must fit a frame");
_Static_assert(AP_MAX_TEXT <= 255, "text lengths are one byte on the wire");
_Static_assert(AP_MAX_PING_DATA <= 0xffff, "data_len is a u16 in the struct");

/* Body length bounds per type (min == max for fixed bodies), checked as
 * soon as the header is there.  The asserts above keep every max within
 * AP_MAX_BODY. */
static void body_bounds(unsigned int type, uint16_t *min, uint16_t *max, const char **why)
{
	switch (type) {
	case AP_HELLO:
		*min = HELLO_FIX, *max = HELLO_FIX + AP_MAX_TEXT;
		*why = "HELLO: body length not 9 + 0.." STR(AP_MAX_TEXT);
		break;
	case AP_HELLO_ACK:
		*min = *max = HELLO_ACK_LEN;
		*why = "HELLO_ACK: body length is not 14";
		break;
	case AP_KEEPALIVE:
		*min = *max = KEEPALIVE_LEN;
		*why = "KEEPALIVE: body length is not 8";
		break;
	case AP_KEEPALIVE_ACK:
		*min = *max = KEEPALIVE_LEN;
		*why = "KEEPALIVE_ACK: body length is not 8";
		break;
	case AP_CONNECT:
		*min = *max = CONNECT_LEN;
		*why = "CONNECT: body length is not 28";
		break;
	case AP_CONNECT_RESULT:
		*min = *max = CONNECT_RESULT_LEN;
		*why = "CONNECT_RESULT: body length is not 8";
		break;
	case AP_PING:
		*min = PING_FIX, *max = PING_FIX + AP_MAX_PING_DATA;
		*why = "PING: body length not 20 + 0.." STR(AP_MAX_PING_DATA);
		break;
	case AP_PING_RESULT:
		*min = PING_RESULT_FIX, *max = PING_RESULT_FIX + AP_MAX_PING_DATA;
		*why = "PING_RESULT: body length not 12 + 0.." STR(AP_MAX_PING_DATA);
		break;
	case AP_ERROR:
		*min = ERROR_FIX, *max = ERROR_FIX + AP_MAX_TEXT;
		*why = "ERROR: body length not 3 + 0.." STR(AP_MAX_TEXT);
		break;
	case AP_RETIRE:
		*min = *max = RETIRE_LEN;
		*why = "RETIRE: body length is not 8";
		break;
	case AP_DA_OPEN:
		*min = *max = DA_OPEN_LEN;
		*why = "DA_OPEN: body length is not 36";
		break;
	case AP_DA_RESULT:
		*min = *max = DA_RESULT_LEN;
		*why = "DA_RESULT: body length is not 8";
		break;
	case AP_DA_END:
		*min = *max = DA_END_LEN;
		*why = "DA_END: body length is not 8";
		break;
	case AP_DGRAM_OPEN:
		*min = *max = DGRAM_OPEN_LEN;
		*why = "DGRAM_OPEN: body length is not 4";
		break;
	case AP_DGRAM_UP:
		*min = *max = DGRAM_UP_LEN;
		*why = "DGRAM_UP: body length is not 16";
		break;
	case AP_DGRAM_CLOSE:
		*min = *max = DGRAM_CLOSE_LEN;
		*why = "DGRAM_CLOSE: body length is not 8";
		break;
	default:
		*min = 1, *max = 0; /* nothing fits */
		*why = "unknown message type";
		break;
	}
}

static int type_known(unsigned int type)
{
	return type < AP_TYPE_MAX && types[type].name != NULL;
}

/* ---------------------------------------------------------------- bytes -- */

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)((unsigned int)p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t get64(const uint8_t *p)
{
	return (uint64_t)get32(p) << 32 | get32(p + 4);
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

static uint8_t *put64(uint8_t *p, uint64_t v)
{
	return put32(put32(p, (uint32_t)(v >> 32)), (uint32_t)v);
}

/* ---------------------------------------------------------- field rules -- */

/* RFC 792 / RFC 1812 5.2.7.1: the destination-unreachable codes an agent
 * can observe or map a socket error to. */
static int unreach_code_ok(uint8_t code)
{
	switch (code) {
	case AP_UNREACH_NET:
	case AP_UNREACH_HOST:
	case AP_UNREACH_PROTO:
	case AP_UNREACH_PORT:
	case AP_UNREACH_ADMIN:
		return 1;
	default:
		return 0;
	}
}

/* A text field: at most AP_MAX_TEXT bytes, none of them NUL (the struct
 * copy is NUL-terminated, so a NUL inside would silently cut it). */
static int text_ok(const char *s, unsigned int n)
{
	return n <= AP_MAX_TEXT && memchr(s, '\0', n) == NULL;
}

/*
 * The one definition of a valid message, shared by ap_parse (after
 * decoding) and ap_encode (before writing).  NULL when valid, else a static
 * string naming the problem.  Pad bytes are not checked here: the decoder
 * rejects non-zero pads on the wire and the encoder always writes zeros.
 */
static const char *msg_check(const struct ap_msg *m)
{
	switch (m->type) {
	case AP_HELLO: {
		const struct ap_hello *h = &m->u.hello;

		if (h->sw_len > AP_MAX_TEXT)
			return "HELLO: software string longer than " STR(AP_MAX_TEXT);
		if (!text_ok(h->sw, h->sw_len))
			return "HELLO: NUL byte in software string";
		if (h->ver_min == 0)
			return "HELLO: ver_min is 0 (versions start at 1)";
		if (h->ver_min > h->ver_max)
			return "HELLO: ver_min > ver_max";
		return NULL;
	}
	case AP_HELLO_ACK:
		if (m->u.hello_ack.version == 0)
			return "HELLO_ACK: version is 0 (versions start at 1)";
		return NULL;
	case AP_KEEPALIVE:
	case AP_KEEPALIVE_ACK:
	case AP_RETIRE:
	case AP_DGRAM_OPEN:
		return NULL;
	case AP_DA_OPEN:
		if (m->u.da_open.dport == 0)
			return "DA_OPEN: server port 0";
		if (m->u.da_open.session == 0)
			return "DA_OPEN: session id 0";
		if (m->u.da_open.idle_ms == 0 || m->u.da_open.idle2_ms < m->u.da_open.idle_ms)
			return "DA_OPEN: idle timers 0 or shrinking";
		return NULL;
	case AP_DA_RESULT: {
		const struct ap_da_result *r = &m->u.da_result;

		switch (r->result) {
		case AP_RES_OK:
		case AP_RES_REFUSE:
		case AP_RES_BUSY:
		case AP_RES_NO_STREAM:
			break;
		default:
			return "DA_RESULT: unknown result";
		}
		if ((r->result == AP_RES_OK) != (r->relay_port != 0))
			return r->result == AP_RES_OK ? "DA_RESULT: OK without a relay port" :
							"DA_RESULT: relay port without OK";
		return NULL;
	}
	case AP_DA_END:
		if (m->u.da_end.reason < AP_DA_END_IDLE || m->u.da_end.reason > AP_DA_END_APPLIANCE)
			return "DA_END: unknown reason";
		return NULL;
	case AP_DGRAM_UP: {
		const struct ap_dgram_up *u = &m->u.dgram_up;

		if (u->result != AP_RES_OK && u->result != AP_RES_BUSY)
			return "DGRAM_UP: result not OK or BUSY";
		if ((u->result == AP_RES_OK) != (u->session != 0))
			return u->result == AP_RES_OK ? "DGRAM_UP: OK with session id 0" :
							"DGRAM_UP: a session id without OK";
		return NULL;
	}
	case AP_DGRAM_CLOSE:
		if (m->u.dgram_close.session == 0)
			return "DGRAM_CLOSE: session id 0";
		return NULL;
	case AP_CONNECT:
		if (m->u.connect.proto != 6)
			return "CONNECT: proto is not 6 (TCP)";
		return NULL;
	case AP_CONNECT_RESULT: {
		const struct ap_connect_result *r = &m->u.cres;

		switch (r->result) {
		case AP_RES_OK:
		case AP_RES_REFUSE:
		case AP_RES_UNREACHABLE:
		case AP_RES_BUSY:
		case AP_RES_NO_STREAM:
			break;
		default:
			return "CONNECT_RESULT: unknown result";
		}
		if (r->result == AP_RES_UNREACHABLE ? !unreach_code_ok(r->code) : r->code != 0)
			return r->result == AP_RES_UNREACHABLE ?
				       "CONNECT_RESULT: UNREACHABLE code not one of 0 1 2 3 13" :
				       "CONNECT_RESULT: non-zero code without UNREACHABLE";
		if (r->result != AP_RES_OK && r->mss != 0)
			return "CONNECT_RESULT: non-zero mss without OK";
		return NULL;
	}
	case AP_PING:
		if (m->u.ping.data_len > AP_MAX_PING_DATA)
			return "PING: data longer than " STR(AP_MAX_PING_DATA);
		if (m->u.ping.data_len && m->u.ping.data == NULL)
			return "PING: data_len without data";
		return NULL;
	case AP_PING_RESULT: {
		const struct ap_ping_result *r = &m->u.pres;

		switch (r->result) {
		case AP_RES_OK:
		case AP_RES_UNREACHABLE:
		case AP_RES_TIMEOUT:
		case AP_RES_BUSY:
			break;
		default:
			return "PING_RESULT: unknown result";
		}
		if (r->result == AP_RES_UNREACHABLE ? !unreach_code_ok(r->code) : r->code != 0)
			return r->result == AP_RES_UNREACHABLE ?
				       "PING_RESULT: UNREACHABLE code not one of 0 1 2 3 13" :
				       "PING_RESULT: non-zero code without UNREACHABLE";
		if (r->data_len > AP_MAX_PING_DATA)
			return "PING_RESULT: data longer than " STR(AP_MAX_PING_DATA);
		if (r->result != AP_RES_OK && r->data_len != 0)
			return "PING_RESULT: data without OK";
		if (r->data_len && r->data == NULL)
			return "PING_RESULT: data_len without data";
		return NULL;
	}
	case AP_ERROR: {
		const struct ap_error *e = &m->u.error;

		if (e->code < AP_ERR_MALFORMED || e->code > AP_ERR_INTERNAL)
			return "ERROR: unknown error code";
		if (e->text_len > AP_MAX_TEXT)
			return "ERROR: text longer than " STR(AP_MAX_TEXT);
		if (!text_ok(e->text, e->text_len))
			return "ERROR: NUL byte in text";
		return NULL;
	}
	default:
		return "unknown message type";
	}
}

/* --------------------------------------------------------------- decode -- */

/* Fill m from a body whose length is already within the type's bounds. */
static const char *decode(uint8_t type, const uint8_t *b, size_t n, struct ap_msg *m)
{
	m->type = type;
	switch (type) {
	case AP_HELLO: {
		struct ap_hello *h = &m->u.hello;

		h->ver_min = get16(b);
		h->ver_max = get16(b + 2);
		h->caps = get32(b + 4);
		h->sw_len = b[8];
		if (n - HELLO_FIX != h->sw_len)
			return "HELLO: sw_len does not match the body length";
		memcpy(h->sw, b + HELLO_FIX, h->sw_len); /* <= AP_MAX_TEXT by the bounds */
		h->sw[h->sw_len] = '\0';
		return NULL;
	}
	case AP_HELLO_ACK:
		m->u.hello_ack.version = get16(b);
		m->u.hello_ack.caps = get32(b + 2);
		m->u.hello_ack.keepalive_ms = get32(b + 6);
		m->u.hello_ack.pool = get32(b + 10);
		return NULL;
	case AP_KEEPALIVE:
	case AP_KEEPALIVE_ACK:
		m->u.ka.ts = get64(b);
		return NULL;
	case AP_CONNECT: {
		struct ap_connect *c = &m->u.connect;

		c->id = get32(b);
		c->stream = get64(b + 4);
		c->proto = b[12];
		c->pad = b[13];
		c->timeout_ms = get16(b + 14);
		c->dst = get32(b + 16);
		c->src = get32(b + 20);
		c->dport = get16(b + 24);
		c->sport = get16(b + 26);
		if (c->pad != 0)
			return "CONNECT: non-zero pad byte";
		return NULL;
	}
	case AP_RETIRE:
		m->u.retire.stream = get64(b);
		return NULL;
	case AP_DA_OPEN: {
		struct ap_da_open *o = &m->u.da_open;

		o->id = get32(b);
		o->da = get32(b + 4);
		o->session = get64(b + 8);
		o->dst = get32(b + 16);
		o->src = get32(b + 20);
		o->dport = get16(b + 24);
		o->sport = get16(b + 26);
		o->idle_ms = get32(b + 28);
		o->idle2_ms = get32(b + 32);
		return NULL;
	}
	case AP_DA_RESULT:
		m->u.da_result.id = get32(b);
		m->u.da_result.result = b[4];
		m->u.da_result.pad = b[5];
		m->u.da_result.relay_port = get16(b + 6);
		return b[5] ? "DA_RESULT: non-zero pad byte" : NULL;
	case AP_DA_END:
		m->u.da_end.da = get32(b);
		m->u.da_end.reason = b[4];
		m->u.da_end.pad = b[5];
		m->u.da_end.replies = get16(b + 6);
		return b[5] ? "DA_END: non-zero pad byte" : NULL;
	case AP_DGRAM_OPEN:
		m->u.dgram_open.id = get32(b);
		return NULL;
	case AP_DGRAM_UP:
		m->u.dgram_up.id = get32(b);
		m->u.dgram_up.result = b[4];
		m->u.dgram_up.pad = b[5];
		m->u.dgram_up.pad2 = get16(b + 6);
		m->u.dgram_up.session = get64(b + 8);
		return b[5] || b[6] || b[7] ? "DGRAM_UP: non-zero pad bytes" : NULL;
	case AP_DGRAM_CLOSE:
		m->u.dgram_close.session = get64(b);
		return NULL;
	case AP_CONNECT_RESULT:
		m->u.cres.id = get32(b);
		m->u.cres.result = b[4];
		m->u.cres.code = b[5];
		m->u.cres.mss = get16(b + 6);
		return NULL;
	case AP_PING: {
		struct ap_ping *p = &m->u.ping;

		p->id = get32(b);
		p->dst = get32(b + 4);
		p->src = get32(b + 8);
		p->ident = get16(b + 12);
		p->seq = get16(b + 14);
		p->ttl = b[16];
		p->pad = b[17];
		p->timeout_ms = get16(b + 18);
		p->data_len = (uint16_t)(n - PING_FIX); /* the rest of the body */
		p->data = p->data_len ? b + PING_FIX : NULL;
		if (p->pad != 0)
			return "PING: non-zero pad byte";
		return NULL;
	}
	case AP_PING_RESULT: {
		struct ap_ping_result *r = &m->u.pres;

		r->id = get32(b);
		r->result = b[4];
		r->code = b[5];
		r->ttl = b[6];
		r->pad = b[7];
		r->from = get32(b + 8);
		r->data_len = (uint16_t)(n - PING_RESULT_FIX); /* the rest of the body */
		r->data = r->data_len ? b + PING_RESULT_FIX : NULL;
		if (r->pad != 0)
			return "PING_RESULT: non-zero pad byte";
		return NULL;
	}
	case AP_ERROR: {
		struct ap_error *e = &m->u.error;

		e->code = get16(b);
		e->text_len = b[2];
		if (n - ERROR_FIX != e->text_len)
			return "ERROR: text_len does not match the body length";
		memcpy(e->text, b + ERROR_FIX, e->text_len); /* <= AP_MAX_TEXT by the bounds */
		e->text[e->text_len] = '\0';
		return NULL;
	}
	default:
		return "unknown message type"; /* not reached: the header check */
	}
}

int ap_parse(const uint8_t *buf, size_t len, struct ap_msg *msg, size_t *used,
	     const char **why)
{
	const char *w = NULL, *why_len;
	uint16_t blen, min, max;
	int rc;

	memset(msg, 0, sizeof(*msg));
	*used = 0;
	if (len < AP_HDR_LEN)
		return -EAGAIN;
	blen = get16(buf + 2);
	/* Everything the header alone decides is reported now, not once a body
	 * that may never come (or is pointlessly long) has arrived. */
	if (blen > AP_MAX_BODY) {
		w = "oversized frame: body longer than " STR(AP_MAX_BODY);
		rc = -E2BIG;
		goto fail;
	}
	if (!type_known(buf[0])) {
		w = "unknown message type";
		rc = -EPROTO;
		goto fail;
	}
	/* Flags are reserved for variants of a type a later version may add:
	 * a frame with a flag set is one this version does not know. */
	if (buf[1] != 0) {
		w = "non-zero flags";
		rc = -EPROTO;
		goto fail;
	}
	body_bounds(buf[0], &min, &max, &why_len);
	if (blen < min || blen > max) {
		w = why_len;
		rc = -EBADMSG;
		goto fail;
	}
	if (len - AP_HDR_LEN < blen)
		return -EAGAIN;
	w = decode(buf[0], buf + AP_HDR_LEN, blen, msg);
	if (w == NULL)
		w = msg_check(msg);
	if (w != NULL) {
		rc = -EBADMSG;
		goto fail;
	}
	*used = AP_HDR_LEN + (size_t)blen;
	return 0;
fail:
	if (why)
		*why = w;
	return rc;
}

/* --------------------------------------------------------------- encode -- */

static size_t body_len(const struct ap_msg *m)
{
	switch (m->type) {
	case AP_HELLO:
		return HELLO_FIX + m->u.hello.sw_len;
	case AP_HELLO_ACK:
		return HELLO_ACK_LEN;
	case AP_KEEPALIVE:
	case AP_KEEPALIVE_ACK:
		return KEEPALIVE_LEN;
	case AP_CONNECT:
		return CONNECT_LEN;
	case AP_CONNECT_RESULT:
		return CONNECT_RESULT_LEN;
	case AP_PING:
		return PING_FIX + m->u.ping.data_len;
	case AP_PING_RESULT:
		return PING_RESULT_FIX + m->u.pres.data_len;
	case AP_ERROR:
		return ERROR_FIX + m->u.error.text_len;
	case AP_RETIRE:
		return RETIRE_LEN;
	case AP_DA_OPEN:
		return DA_OPEN_LEN;
	case AP_DA_RESULT:
		return DA_RESULT_LEN;
	case AP_DA_END:
		return DA_END_LEN;
	case AP_DGRAM_OPEN:
		return DGRAM_OPEN_LEN;
	case AP_DGRAM_UP:
		return DGRAM_UP_LEN;
	case AP_DGRAM_CLOSE:
		return DGRAM_CLOSE_LEN;
	default:
		return 0;
	}
}

int ap_encode(const struct ap_msg *msg, uint8_t *out, size_t cap)
{
	size_t blen;
	uint8_t *p;

	if (!type_known(msg->type) || msg_check(msg) != NULL)
		return -EINVAL;
	blen = body_len(msg); /* <= AP_MAX_BODY once msg_check passed */
	if (cap < AP_HDR_LEN + blen)
		return -ENOSPC;
	p = put8(out, msg->type);
	p = put8(p, 0); /* flags */
	p = put16(p, (uint16_t)blen);
	switch (msg->type) {
	case AP_HELLO: {
		const struct ap_hello *h = &msg->u.hello;

		p = put16(p, h->ver_min);
		p = put16(p, h->ver_max);
		p = put32(p, h->caps);
		p = put8(p, h->sw_len);
		memcpy(p, h->sw, h->sw_len);
		p += h->sw_len;
		break;
	}
	case AP_HELLO_ACK:
		p = put16(p, msg->u.hello_ack.version);
		p = put32(p, msg->u.hello_ack.caps);
		p = put32(p, msg->u.hello_ack.keepalive_ms);
		p = put32(p, msg->u.hello_ack.pool);
		break;
	case AP_KEEPALIVE:
	case AP_KEEPALIVE_ACK:
		p = put64(p, msg->u.ka.ts);
		break;
	case AP_CONNECT: {
		const struct ap_connect *c = &msg->u.connect;

		p = put32(p, c->id);
		p = put64(p, c->stream);
		p = put8(p, c->proto);
		p = put8(p, 0); /* pad */
		p = put16(p, c->timeout_ms);
		p = put32(p, c->dst);
		p = put32(p, c->src);
		p = put16(p, c->dport);
		p = put16(p, c->sport);
		break;
	}
	case AP_RETIRE:
		p = put64(p, msg->u.retire.stream);
		break;
	case AP_DA_OPEN: {
		const struct ap_da_open *o = &msg->u.da_open;

		p = put32(p, o->id);
		p = put32(p, o->da);
		p = put64(p, o->session);
		p = put32(p, o->dst);
		p = put32(p, o->src);
		p = put16(p, o->dport);
		p = put16(p, o->sport);
		p = put32(p, o->idle_ms);
		p = put32(p, o->idle2_ms);
		break;
	}
	case AP_DA_RESULT:
		p = put32(p, msg->u.da_result.id);
		p = put8(p, msg->u.da_result.result);
		p = put8(p, 0); /* pad */
		p = put16(p, msg->u.da_result.relay_port);
		break;
	case AP_DA_END:
		p = put32(p, msg->u.da_end.da);
		p = put8(p, msg->u.da_end.reason);
		p = put8(p, 0); /* pad */
		p = put16(p, msg->u.da_end.replies);
		break;
	case AP_DGRAM_OPEN:
		p = put32(p, msg->u.dgram_open.id);
		break;
	case AP_DGRAM_UP:
		p = put32(p, msg->u.dgram_up.id);
		p = put8(p, msg->u.dgram_up.result);
		p = put8(p, 0); /* pad */
		p = put16(p, 0);
		p = put64(p, msg->u.dgram_up.session);
		break;
	case AP_DGRAM_CLOSE:
		p = put64(p, msg->u.dgram_close.session);
		break;
	case AP_CONNECT_RESULT:
		p = put32(p, msg->u.cres.id);
		p = put8(p, msg->u.cres.result);
		p = put8(p, msg->u.cres.code);
		p = put16(p, msg->u.cres.mss);
		break;
	case AP_PING: {
		const struct ap_ping *q = &msg->u.ping;

		p = put32(p, q->id);
		p = put32(p, q->dst);
		p = put32(p, q->src);
		p = put16(p, q->ident);
		p = put16(p, q->seq);
		p = put8(p, q->ttl);
		p = put8(p, 0); /* pad */
		p = put16(p, q->timeout_ms);
		if (q->data_len)
			memcpy(p, q->data, q->data_len);
		p += q->data_len;
		break;
	}
	case AP_PING_RESULT: {
		const struct ap_ping_result *r = &msg->u.pres;

		p = put32(p, r->id);
		p = put8(p, r->result);
		p = put8(p, r->code);
		p = put8(p, r->ttl);
		p = put8(p, 0); /* pad */
		p = put32(p, r->from);
		if (r->data_len)
			memcpy(p, r->data, r->data_len);
		p += r->data_len;
		break;
	}
	case AP_ERROR: {
		const struct ap_error *e = &msg->u.error;

		p = put16(p, e->code);
		p = put8(p, e->text_len);
		memcpy(p, e->text, e->text_len);
		p += e->text_len;
		break;
	}
	default:
		return -EINVAL; /* not reached: type_known */
	}
	return (int)(p - out);
}

/* -------------------------------------------------------------- helpers -- */

int ap_dir_ok(unsigned int type, enum ap_dir from)
{
	if (!type_known(type) || (from != AP_FROM_AGENT && from != AP_FROM_APPLIANCE))
		return 0;
	return (types[type].dir & from) != 0;
}

enum ap_err ap_err_of(int parse_rc)
{
	switch (parse_rc) {
	case -E2BIG:
		return AP_ERR_OVERSIZED;
	case -EPROTO:
		return AP_ERR_UNKNOWN_TYPE;
	case -EBADMSG:
		return AP_ERR_MALFORMED;
	default:
		return AP_ERR_INTERNAL;
	}
}

const char *ap_type_str(unsigned int type)
{
	return type_known(type) ? types[type].name : "?";
}

const char *ap_result_str(unsigned int result)
{
	static const char *const names[] = {
		[AP_RES_OK] = "OK",
		[AP_RES_REFUSE] = "REFUSE",
		[AP_RES_UNREACHABLE] = "UNREACHABLE",
		[AP_RES_TIMEOUT] = "TIMEOUT",
		[AP_RES_BUSY] = "BUSY",
		[AP_RES_NO_STREAM] = "NO_STREAM",
	};

	if (result < sizeof(names) / sizeof(names[0]) && names[result])
		return names[result];
	return "?";
}

const char *ap_err_str(unsigned int code)
{
	static const char *const names[] = {
		[AP_ERR_MALFORMED] = "MALFORMED",
		[AP_ERR_OVERSIZED] = "OVERSIZED",
		[AP_ERR_UNKNOWN_TYPE] = "UNKNOWN_TYPE",
		[AP_ERR_UNEXPECTED] = "UNEXPECTED",
		[AP_ERR_VERSION] = "VERSION",
		[AP_ERR_UNKNOWN_ID] = "UNKNOWN_ID",
		[AP_ERR_REFUSED] = "REFUSED",
		[AP_ERR_INTERNAL] = "INTERNAL",
	};

	if (code < sizeof(names) / sizeof(names[0]) && names[code])
		return names[code];
	return "?";
}

int ap_version_pick(uint16_t a_min, uint16_t a_max, uint16_t b_min, uint16_t b_max)
{
	uint16_t lo = a_min > b_min ? a_min : b_min;
	uint16_t hi = a_max < b_max ? a_max : b_max;

	/* an empty range on either side, or no overlap; version 0 does not exist */
	if (a_min > a_max || b_min > b_max || lo > hi || hi == 0)
		return -1;
	return hi;
}

/* ------------------------------------------------------- DGRAM sessions -- */

#define D_DATA_FIX 4            /* da, then the payload */
#define D_CREDIT_LEN 4
#define D_ICMP_LEN 12           /* 4+1+1+2+4 */

_Static_assert(D_DATA_FIX + AP_DGRAM_MAX_PAYLOAD <= 0xffff, "a datagram fits a DGRAM frame");

int ap_ddir_ok(unsigned int type, enum ap_dir from)
{
	if (from != AP_FROM_AGENT && from != AP_FROM_APPLIANCE)
		return 0;
	switch (type) {
	case AP_D_DATA:
		return 1;
	case AP_D_CREDIT:
	case AP_D_ICMP:
		return from == AP_FROM_AGENT;
	default:
		return 0;
	}
}

/* RFC 792: the errors a UDP socket reports (IP_RECVERR) that a client can
 * be told about, with their codes (RFC 1812 5.2.7.1 for 3/13..15). */
static const char *dmsg_check(const struct ap_dmsg *m)
{
	switch (m->type) {
	case AP_D_DATA:
		if (m->len > AP_DGRAM_MAX_PAYLOAD)
			return "DATA: payload longer than " STR(AP_DGRAM_MAX_PAYLOAD);
		if (m->len && m->data == NULL)
			return "DATA: len without data";
		return NULL;
	case AP_D_CREDIT:
		return m->credit == 0 ? "CREDIT: 0 credits" : NULL;
	case AP_D_ICMP:
		switch (m->icmp_type) {
		case 3:
			if (m->icmp_code > 15)
				return "ICMP: destination unreachable code above 15";
			break;
		case 11:
			if (m->icmp_code > 1)
				return "ICMP: time exceeded code above 1";
			break;
		case 12:
			if (m->icmp_code > 2)
				return "ICMP: parameter problem code above 2";
			break;
		default:
			return "ICMP: type not 3, 11 or 12";
		}
		if (m->mtu && !(m->icmp_type == 3 && m->icmp_code == 4))
			return "ICMP: mtu without fragmentation needed (3/4)";
		return NULL;
	default:
		return "unknown DGRAM frame type";
	}
}

int ap_dparse(const uint8_t *buf, size_t len, struct ap_dmsg *m, size_t *used, const char **why)
{
	const char *w = NULL;
	uint16_t blen;
	int rc = -EBADMSG;

	memset(m, 0, sizeof(*m));
	*used = 0;
	if (len < AP_HDR_LEN)
		return -EAGAIN;
	blen = get16(buf + 2);
	if (buf[0] == 0 || buf[0] >= AP_DTYPE_MAX || buf[1] != 0) {
		w = buf[1] ? "non-zero flags" : "unknown DGRAM frame type";
		rc = -EPROTO;
		goto fail;
	}
	/* what the header alone decides, now */
	if ((buf[0] == AP_D_DATA && blen < D_DATA_FIX) ||
	    (buf[0] == AP_D_CREDIT && blen != D_CREDIT_LEN) ||
	    (buf[0] == AP_D_ICMP && blen != D_ICMP_LEN)) {
		w = buf[0] == AP_D_DATA   ? "DATA: body shorter than 4" :
		    buf[0] == AP_D_CREDIT ? "CREDIT: body length is not 4" :
					    "ICMP: body length is not 12";
		goto fail;
	}
	if (buf[0] == AP_D_DATA && blen > D_DATA_FIX + AP_DGRAM_MAX_PAYLOAD) {
		w = "DATA: payload longer than " STR(AP_DGRAM_MAX_PAYLOAD);
		goto fail;
	}
	if (len - AP_HDR_LEN < blen)
		return -EAGAIN;
	{
		const uint8_t *b = buf + AP_HDR_LEN;

		m->type = buf[0];
		switch (m->type) {
		case AP_D_DATA:
			m->da = get32(b);
			m->len = (uint16_t)(blen - D_DATA_FIX);
			m->data = b + D_DATA_FIX;
			break;
		case AP_D_CREDIT:
			m->credit = get32(b);
			break;
		default: /* AP_D_ICMP */
			m->da = get32(b);
			m->icmp_type = b[4];
			m->icmp_code = b[5];
			m->mtu = get16(b + 6);
			m->from = get32(b + 8);
			break;
		}
	}
	w = dmsg_check(m);
	if (w)
		goto fail;
	*used = AP_HDR_LEN + (size_t)blen;
	return 0;
fail:
	memset(m, 0, sizeof(*m));
	if (why)
		*why = w;
	return rc;
}

int ap_dencode(const struct ap_dmsg *m, uint8_t *out, size_t cap)
{
	size_t blen;
	uint8_t *p;

	if (dmsg_check(m) != NULL)
		return -EINVAL;
	blen = m->type == AP_D_DATA ? D_DATA_FIX + (size_t)m->len :
	       m->type == AP_D_CREDIT ? D_CREDIT_LEN : D_ICMP_LEN;
	if (cap < AP_HDR_LEN + blen)
		return -ENOSPC;
	p = put8(out, m->type);
	p = put8(p, 0); /* flags */
	p = put16(p, (uint16_t)blen);
	switch (m->type) {
	case AP_D_DATA:
		p = put32(p, m->da);
		if (m->len)
			memcpy(p, m->data, m->len);
		p += m->len;
		break;
	case AP_D_CREDIT:
		p = put32(p, m->credit);
		break;
	default: /* AP_D_ICMP */
		p = put32(p, m->da);
		p = put8(p, m->icmp_type);
		p = put8(p, m->icmp_code);
		p = put16(p, m->mtu);
		p = put32(p, m->from);
		break;
	}
	return (int)(p - out);
}
