/* LSTP codec: round trips, known-answer bytes, every rejection, master
 * selection, phases. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <sluice/lstp_proto.h>

#define FRAME_MAX (LSTP_HDR_LEN + LSTP_MAX_BODY)

static uint8_t big_data[LSTP_MAX_BODY + 1];
static uint8_t buf[FRAME_MAX + 64], again[FRAME_MAX + 64];

/* Field-by-field equality (the union has padding memcmp would see). */
static void assert_msg_equal(const struct lstp_msg *a, const struct lstp_msg *b)
{
	assert_int_equal(a->type, b->type);
	assert_int_equal(a->channel, b->channel);
	switch (a->type) {
	case LSTP_COMMON_UNIQUE_INFO:
		assert_true(lstp_info_eq(&a->u.info, &b->u.info));
		break;
	case LSTP_TOPOLOGY_EXCHANGE:
		assert_true(lstp_topo_eq(&a->u.topo, &b->u.topo));
		for (unsigned int i = 0; i < b->u.topo.n; i++)
			assert_int_equal(b->u.topo.hop[i].name[b->u.topo.hop[i].name_len], '\0');
		break;
	case LSTP_PROPERTY_EXCHANGE:
		assert_int_equal(a->u.props.n, b->u.props.n);
		for (unsigned int i = 0; i < a->u.props.n; i++) {
			const struct lstp_prop *x = &a->u.props.p[i], *y = &b->u.props.p[i];

			assert_int_equal(x->klen, y->klen);
			assert_int_equal(x->vlen, y->vlen);
			assert_memory_equal(x->key, y->key, x->klen);
			if (x->vlen)
				assert_memory_equal(x->value, y->value, x->vlen);
			assert_int_equal(y->key[y->klen], '\0');
			assert_int_equal(y->value[y->vlen], '\0');
		}
		break;
	case LSTP_CONNECTION_REQUEST:
		assert_int_equal(a->u.conn_req.kind, b->u.conn_req.kind);
		assert_int_equal(a->u.conn_req.name_len, b->u.conn_req.name_len);
		if (a->u.conn_req.name_len)
			assert_memory_equal(a->u.conn_req.name, b->u.conn_req.name,
					    a->u.conn_req.name_len);
		assert_int_equal(b->u.conn_req.name[b->u.conn_req.name_len], '\0');
		assert_int_equal(a->u.conn_req.addr, b->u.conn_req.addr);
		assert_int_equal(a->u.conn_req.port, b->u.conn_req.port);
		break;
	case LSTP_CONNECTION_ACK:
		assert_int_equal(a->u.conn_ack.addr, b->u.conn_ack.addr);
		assert_int_equal(a->u.conn_ack.port, b->u.conn_ack.port);
		break;
	case LSTP_CONNECTION_NACK:
	case LSTP_SERVICE_BEGIN_NACK:
		assert_int_equal(a->u.nack.reason, b->u.nack.reason);
		break;
	case LSTP_SERVICE_DATA:
		assert_int_equal(a->u.data.len, b->u.data.len);
		assert_memory_equal(a->u.data.data, b->u.data.data, a->u.data.len);
		break;
	case LSTP_SERVICE_FREE_REQUEST:
		assert_int_equal(a->u.fr.flags, b->u.fr.flags);
		break;
	case LSTP_ERROR:
		assert_int_equal(a->u.error.code, b->u.error.code);
		assert_int_equal(a->u.error.text_len, b->u.error.text_len);
		assert_memory_equal(a->u.error.text, b->u.error.text, a->u.error.text_len);
		assert_int_equal(b->u.error.text[b->u.error.text_len], '\0');
		break;
	default: /* empty bodies */
		break;
	}
}

/* Encode, check the size and header, parse back, compare, re-encode to the
 * same bytes; the cap boundary (-ENOSPC one byte short) and truncation
 * (-EAGAIN at every shorter length). */
static int roundtrip(const struct lstp_msg *m, size_t want_len)
{
	struct lstp_msg p;
	const char *why = "unset";
	uint16_t err = 999;
	size_t used = 99;
	int n;

	n = lstp_encode(m, buf, FRAME_MAX);
	assert_int_equal(n, (int)want_len);
	assert_int_equal(buf[0], LSTP_VERSION);
	assert_int_equal(buf[1], m->type);
	assert_int_equal((buf[2] << 8 | buf[3]) + LSTP_HDR_LEN, n);
	assert_int_equal((uint32_t)buf[4] << 24 | buf[5] << 16 | buf[6] << 8 | buf[7], m->channel);

	assert_int_equal(lstp_encode(m, again, (size_t)n - 1), -ENOSPC);
	assert_int_equal(lstp_encode(m, again, (size_t)n), n);
	assert_memory_equal(buf, again, (size_t)n);

	assert_int_equal(lstp_parse(buf, (size_t)n, &p, &used, &why, &err), 0);
	assert_int_equal(used, (size_t)n);
	assert_string_equal(why, "unset"); /* untouched on success */
	assert_int_equal(err, 999);
	assert_msg_equal(m, &p);
	memset(again, 0xee, sizeof(again));
	assert_int_equal(lstp_encode(&p, again, FRAME_MAX), n);
	assert_memory_equal(buf, again, (size_t)n);
	/* bytes beyond the message are the next one's, not this one's */
	memcpy(again, buf, (size_t)n);
	memset(again + n, 0xaa, 5);
	assert_int_equal(lstp_parse(again, (size_t)n + 5, &p, &used, NULL, NULL), 0);
	assert_int_equal(used, (size_t)n);
	assert_msg_equal(m, &p);

	for (size_t l = 0; l < (size_t)n; l++) {
		used = 99;
		assert_int_equal(lstp_parse(buf, l, &p, &used, NULL, NULL), -EAGAIN);
		assert_int_equal(used, 0);
	}
	return n;
}

/* ------------------------------------------------------------ builders -- */

static struct lstp_msg info(const char *common, const char *unique)
{
	struct lstp_msg m = { .type = LSTP_COMMON_UNIQUE_INFO };

	m.u.info.common_len = (uint8_t)strlen(common);
	memcpy(m.u.info.common, common, m.u.info.common_len);
	m.u.info.unique_len = (uint8_t)strlen(unique);
	memcpy(m.u.info.unique, unique, m.u.info.unique_len);
	return m;
}

static struct lstp_hop hop(uint8_t role, const char *name, uint32_t addr, uint16_t port,
			   uint8_t nonce0)
{
	struct lstp_hop h = { .role = role, .addr = addr, .port = port };

	h.name_len = (uint8_t)strlen(name);
	memcpy(h.name, name, h.name_len);
	for (unsigned int i = 0; i < sizeof(h.nonce); i++)
		h.nonce[i] = (uint8_t)(nonce0 + i);
	return h;
}

/* an end (client) and n - 1 middles */
static struct lstp_msg topo(unsigned int n)
{
	struct lstp_msg m = { .type = LSTP_TOPOLOGY_EXCHANGE };
	char name[16];

	m.u.topo.n = (uint8_t)n;
	m.u.topo.hop[0] = hop(LSTP_ROLE_CLIENT, "client-a", 0xc0a80001, 0, 0x10);
	for (unsigned int i = 1; i < n; i++) {
		snprintf(name, sizeof(name), "mid-%u", i);
		m.u.topo.hop[i] = hop(LSTP_ROLE_MIDDLE, name, 0x0a000000 + i, 7400, (uint8_t)(i * 8));
	}
	return m;
}

static struct lstp_msg props(unsigned int n)
{
	struct lstp_msg m = { .type = LSTP_PROPERTY_EXCHANGE };

	m.u.props.n = (uint8_t)n;
	for (unsigned int i = 0; i < n; i++) {
		struct lstp_prop *p = &m.u.props.p[i];

		p->klen = (uint8_t)snprintf(p->key, sizeof(p->key), "key%u", i);
		p->vlen = (uint8_t)snprintf(p->value, sizeof(p->value), "value %u", i);
	}
	return m;
}

static struct lstp_msg creq_ipv4(uint32_t chan, uint32_t addr, uint16_t port)
{
	struct lstp_msg m = { .type = LSTP_CONNECTION_REQUEST, .channel = chan };

	m.u.conn_req.kind = LSTP_DEST_IPV4;
	m.u.conn_req.addr = addr;
	m.u.conn_req.port = port;
	return m;
}

static struct lstp_msg creq_name(uint32_t chan, uint8_t kind, const char *name, uint16_t port)
{
	struct lstp_msg m = { .type = LSTP_CONNECTION_REQUEST, .channel = chan };

	m.u.conn_req.kind = kind;
	m.u.conn_req.name_len = (uint8_t)strlen(name);
	memcpy(m.u.conn_req.name, name, m.u.conn_req.name_len);
	m.u.conn_req.port = port;
	return m;
}

static struct lstp_msg error_msg(uint16_t code, const char *text)
{
	struct lstp_msg m = { .type = LSTP_ERROR };

	m.u.error.code = code;
	m.u.error.text_len = (uint8_t)strlen(text);
	memcpy(m.u.error.text, text, m.u.error.text_len);
	return m;
}

static struct lstp_msg data_msg(uint32_t chan, uint16_t len)
{
	struct lstp_msg m = { .type = LSTP_SERVICE_DATA, .channel = chan };

	m.u.data.data = big_data;
	m.u.data.len = len;
	return m;
}

/* -------------------------------------------------------------- tests -- */

static int setup(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(big_data); i++)
		big_data[i] = (uint8_t)(i * 7 + 1);
	return 0;
}

static void test_roundtrip_every_type(void **state)
{
	static const uint8_t nacks[] = { 1, 2, 3, 4, 5, 6, 8, 9 };
	char s[256];
	struct lstp_msg m;

	(void)state;
	memset(s, 'x', sizeof(s));

	/* COMMON_UNIQUE_INFO: shortest, binary, longest */
	m = info("k", "");
	roundtrip(&m, 8 + 3);
	m = info("pair-42", "alice@site-b");
	roundtrip(&m, 8 + 2 + 7 + 12);
	m = (struct lstp_msg){ .type = LSTP_COMMON_UNIQUE_INFO };
	m.u.info.common_len = m.u.info.unique_len = LSTP_MAX_INFO;
	for (unsigned int i = 0; i < LSTP_MAX_INFO; i++)
		m.u.info.common[i] = (uint8_t)i, m.u.info.unique[i] = (uint8_t)(255 - i);
	roundtrip(&m, 8 + 2 + 2 * LSTP_MAX_INFO);

	/* TOPOLOGY_EXCHANGE: 1 hop (an end's setup), 2, the most with the
	 * longest names; every role */
	m = topo(1);
	roundtrip(&m, 8 + 1 + 16 + 8);
	m.u.topo.hop[0].role = LSTP_ROLE_SERVER;
	roundtrip(&m, 8 + 1 + 16 + 8);
	m = topo(2);
	roundtrip(&m, 8 + 1 + 16 + 8 + 16 + 5);
	m = topo(LSTP_MAX_HOPS);
	for (unsigned int i = 0; i < LSTP_MAX_HOPS; i++) {
		m.u.topo.hop[i].name_len = LSTP_MAX_NAME;
		memset(m.u.topo.hop[i].name, (int)('A' + i), LSTP_MAX_NAME);
		m.u.topo.hop[i].addr = 0xffffffff;
		m.u.topo.hop[i].port = 65535;
	}
	m.u.topo.hop[3].name[5] = ' ';
	m.u.topo.hop[3].name[6] = '~';
	roundtrip(&m, 8 + 1 + LSTP_MAX_HOPS * (16 + LSTP_MAX_NAME));

	/* PROPERTY_EXCHANGE: none, one, the most with the longest fields */
	m = props(0);
	roundtrip(&m, 8 + 1);
	m = props(1);
	roundtrip(&m, 8 + 1 + 2 + 4 + 7);
	m.u.props.p[0].vlen = 0;
	m.u.props.p[0].value[0] = '\0';
	roundtrip(&m, 8 + 1 + 2 + 4);
	m = props(LSTP_MAX_PROPS);
	for (unsigned int i = 0; i < LSTP_MAX_PROPS; i++) {
		struct lstp_prop *p = &m.u.props.p[i];

		p->klen = LSTP_MAX_KEY;
		memset(p->key, 'k', LSTP_MAX_KEY);
		p->key[0] = (char)('a' + i); /* keys differ */
		p->vlen = LSTP_MAX_VALUE;
		memset(p->value, '=', LSTP_MAX_VALUE); /* '=' is fine in a value */
	}
	roundtrip(&m, 8 + 1 + LSTP_MAX_PROPS * (2 + LSTP_MAX_KEY + LSTP_MAX_VALUE));

	/* CONNECTION_REQUEST: each kind, extreme channel, name lengths, ports */
	m = creq_ipv4(1, 0x0a010203, 443);
	roundtrip(&m, 8 + 7);
	m = creq_ipv4(0xffffffff, 0, 65535);
	roundtrip(&m, 8 + 7);
	m = creq_name(7, LSTP_DEST_DOMAIN, "example.com", 80);
	roundtrip(&m, 8 + 4 + 11);
	m = creq_name(7, LSTP_DEST_DOMAIN, "a", 1);
	roundtrip(&m, 8 + 5);
	s[LSTP_MAX_HOST] = '\0';
	m = creq_name(7, LSTP_DEST_DOMAIN, s, 8080);
	roundtrip(&m, 8 + 4 + LSTP_MAX_HOST);
	m = creq_name(9, LSTP_DEST_SERVICE, "x11", 0); /* port 0 fine for a service */
	roundtrip(&m, 8 + 4 + 3);
	m = creq_name(9, LSTP_DEST_SERVICE, "x11", 6000);
	roundtrip(&m, 8 + 4 + 3);

	/* CONNECTION_ACK */
	m = (struct lstp_msg){ .type = LSTP_CONNECTION_ACK, .channel = 3 };
	roundtrip(&m, 8 + 6);
	m.u.conn_ack.addr = 0xc0a80102;
	m.u.conn_ack.port = 54321;
	roundtrip(&m, 8 + 6);

	/* the NACKs: every reason */
	for (size_t i = 0; i < sizeof(nacks); i++) {
		m = (struct lstp_msg){ .type = LSTP_CONNECTION_NACK, .channel = 3 };
		m.u.nack.reason = nacks[i];
		roundtrip(&m, 8 + 1);
		m.type = LSTP_SERVICE_BEGIN_NACK;
		roundtrip(&m, 8 + 1);
	}

	/* the empty bodies */
	m = (struct lstp_msg){ .type = LSTP_SERVICE_BEGIN_REQUEST, .channel = 3 };
	roundtrip(&m, 8);
	m.type = LSTP_SERVICE_BEGIN_ACK;
	roundtrip(&m, 8);
	m.type = LSTP_SERVICE_DATA_PAUSE;
	roundtrip(&m, 8);
	m.type = LSTP_SERVICE_DATA_RESUME;
	roundtrip(&m, 8);
	m = (struct lstp_msg){ .type = LSTP_SHUTDOWN };
	roundtrip(&m, 8);

	/* SERVICE_DATA: one byte, some, the most */
	m = data_msg(5, 1);
	roundtrip(&m, 8 + 1);
	m = data_msg(5, 1400);
	roundtrip(&m, 8 + 1400);
	m = data_msg(0x80000000u, LSTP_MAX_BODY);
	roundtrip(&m, 8 + LSTP_MAX_BODY);

	/* SERVICE_FREE_REQUEST: FIN, RESET */
	m = (struct lstp_msg){ .type = LSTP_SERVICE_FREE_REQUEST, .channel = 5 };
	m.u.fr.flags = LSTP_FREE_FIN;
	roundtrip(&m, 8 + 1);
	m.u.fr.flags = LSTP_FREE_RESET;
	roundtrip(&m, 8 + 1);

	/* ERROR: every code, empty and longest text */
	for (uint16_t c = LSTP_ERR_MALFORMED; c <= LSTP_ERR_INTERNAL; c++) {
		m = error_msg(c, "");
		roundtrip(&m, 8 + 3);
	}
	s[LSTP_MAX_TEXT] = '\0';
	m = error_msg(LSTP_ERR_MISMATCH, s);
	roundtrip(&m, 8 + 3 + LSTP_MAX_TEXT);
}

/* Known answers: hand-written bytes, so a layout change is caught. */
static void test_known_answers(void **state)
{
	static const uint8_t info_b[] = {
		0x01, 0x01, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00, /* v1, INFO, body 5, channel 0 */
		0x02, 'a', 'b',                                 /* common "ab" */
		0x01, 'u',                                      /* unique "u" */
		0x00, /* not part of it */
	};
	static const uint8_t topo_b[] = {
		0x01, 0x02, 0x00, 0x14, 0x00, 0x00, 0x00, 0x00, /* v1, TOPOLOGY, body 20 */
		0x01,                                           /* one hop */
		0x02, 0x03, 's', 'r', 'v',                      /* server, "srv" */
		0x0a, 0x00, 0x00, 0x02, 0x00, 0x00,             /* 10.0.0.2, port 0 */
		1, 2, 3, 4, 5, 6, 7, 8,                         /* nonce */
	};
	static const uint8_t creq_b[] = {
		0x01, 0x04, 0x00, 0x05, 0x00, 0x00, 0x01, 0x02, /* v1, CONNECTION_REQUEST, body 5, ch 258 */
		0x03, 0x01, 'h', 0x01, 0xbb,                   /* DOMAIN, "h", port 443 */
	};
	static const uint8_t creq4_b[] = {
		0x01, 0x04, 0x00, 0x07, 0x00, 0x00, 0x00, 0x09, /* channel 9 */
		0x01, 0xc0, 0xa8, 0x00, 0x01, 0x00, 0x16,       /* IPV4 192.168.0.1:22 */
	};
	static const uint8_t err_b[] = {
		0x01, 0x0f, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00, /* v1, ERROR, body 5 */
		0x00, 0x08, 0x02, 'n', 'o',                     /* EXPIRED, "no" */
	};
	static const uint8_t free_b[] = {
		0x01, 0x0d, 0x00, 0x01, 0xff, 0xff, 0xff, 0xff, 0x02, /* RESET on 0xffffffff */
	};
	struct lstp_msg p, m;
	size_t used;
	uint8_t hdr[LSTP_HDR_LEN];

	(void)state;
	assert_int_equal(lstp_parse(info_b, sizeof(info_b), &p, &used, NULL, NULL), 0);
	assert_int_equal(used, sizeof(info_b) - 1);
	assert_int_equal(p.type, LSTP_COMMON_UNIQUE_INFO);
	assert_int_equal(p.channel, 0);
	m = info("ab", "u");
	assert_true(lstp_info_eq(&m.u.info, &p.u.info));
	assert_int_equal(lstp_encode(&m, buf, sizeof(buf)), sizeof(info_b) - 1);
	assert_memory_equal(buf, info_b, sizeof(info_b) - 1);

	assert_int_equal(lstp_parse(topo_b, sizeof(topo_b), &p, &used, NULL, NULL), 0);
	assert_int_equal(used, sizeof(topo_b));
	assert_int_equal(p.u.topo.n, 1);
	assert_int_equal(p.u.topo.hop[0].role, LSTP_ROLE_SERVER);
	assert_string_equal(p.u.topo.hop[0].name, "srv");
	assert_int_equal(p.u.topo.hop[0].addr, 0x0a000002);
	assert_int_equal(p.u.topo.hop[0].port, 0);
	assert_memory_equal(p.u.topo.hop[0].nonce, topo_b + 20, 8);
	assert_int_equal(lstp_encode(&p, buf, sizeof(buf)), sizeof(topo_b));
	assert_memory_equal(buf, topo_b, sizeof(topo_b));

	assert_int_equal(lstp_parse(creq_b, sizeof(creq_b), &p, &used, NULL, NULL), 0);
	m = creq_name(258, LSTP_DEST_DOMAIN, "h", 443);
	assert_msg_equal(&m, &p);
	assert_int_equal(lstp_encode(&m, buf, sizeof(buf)), sizeof(creq_b));
	assert_memory_equal(buf, creq_b, sizeof(creq_b));

	assert_int_equal(lstp_parse(creq4_b, sizeof(creq4_b), &p, &used, NULL, NULL), 0);
	m = creq_ipv4(9, 0xc0a80001, 22);
	assert_msg_equal(&m, &p);

	assert_int_equal(lstp_parse(err_b, sizeof(err_b), &p, &used, NULL, NULL), 0);
	assert_int_equal(p.u.error.code, LSTP_ERR_EXPIRED);
	assert_string_equal(p.u.error.text, "no");

	assert_int_equal(lstp_parse(free_b, sizeof(free_b), &p, &used, NULL, NULL), 0);
	assert_int_equal(p.channel, 0xffffffffu);
	assert_int_equal(p.u.fr.flags, LSTP_FREE_RESET);

	/* SERVICE_DATA's header alone is what lstp_encode writes before the data */
	m = data_msg(0x01020304, 300);
	assert_int_equal(lstp_encode(&m, buf, sizeof(buf)), 8 + 300);
	lstp_data_hdr(hdr, 0x01020304, 300);
	assert_memory_equal(hdr, buf, LSTP_HDR_LEN);
	assert_int_equal(hdr[0], 1);
	assert_int_equal(hdr[1], LSTP_SERVICE_DATA);
	assert_int_equal(hdr[2], 0x01);
	assert_int_equal(hdr[3], 0x2c);
	assert_int_equal(hdr[7], 0x04);
	assert_int_equal(lstp_parse(buf, 8 + 300, &p, &used, NULL, NULL), 0);
	assert_ptr_equal(p.u.data.data, buf + 8); /* points into the buffer */
}

/* lstp_parse's verdict on buf[0..len): -EBADMSG with err and a reason
 * containing `want` (if not NULL). */
static void expect_bad(const uint8_t *b, size_t len, uint16_t want_err, const char *want)
{
	struct lstp_msg m;
	const char *why = NULL;
	uint16_t err = 0;
	size_t used = 99;

	assert_int_equal(lstp_parse(b, len, &m, &used, &why, &err), -EBADMSG);
	assert_int_equal(used, 0);
	assert_non_null(why);
	assert_true(strlen(why) > 0 && strlen(why) <= LSTP_MAX_TEXT);
	if (want && strstr(why, want) == NULL)
		fail_msg("why \"%s\" does not name \"%s\"", why, want);
	assert_int_equal(err, want_err);
	/* NULL why and err are fine */
	assert_int_equal(lstp_parse(b, len, &m, &used, NULL, NULL), -EBADMSG);
}

/* Encode m, change one byte, expect MALFORMED naming `want`. */
static void expect_bad_at(const struct lstp_msg *m, size_t off, uint8_t val, const char *want)
{
	int n = lstp_encode(m, buf, FRAME_MAX);

	assert_true(n > 0 && off < (size_t)n);
	buf[off] = val;
	expect_bad(buf, (size_t)n, LSTP_ERR_MALFORMED, want);
}

/* Encode m, claim a body `delta` bytes longer or shorter (the bytes there):
 * MALFORMED. */
static void expect_badlen(const struct lstp_msg *m, int delta, const char *want)
{
	int n, blen;

	memset(buf, 0x41, sizeof(buf));
	n = lstp_encode(m, buf, FRAME_MAX);
	assert_true(n > 0);
	blen = n - LSTP_HDR_LEN + delta;
	assert_true(blen >= 0 && blen <= LSTP_MAX_BODY);
	buf[2] = (uint8_t)(blen >> 8);
	buf[3] = (uint8_t)blen;
	expect_bad(buf, (size_t)(LSTP_HDR_LEN + blen), LSTP_ERR_MALFORMED, want);
}

static void test_version(void **state)
{
	static const uint8_t bad[] = { 0, 2, 3, 0x10, 0x80, 0xff };
	struct lstp_msg m = { .type = LSTP_SHUTDOWN };
	const char *why = NULL;
	uint16_t err = 0;
	uint8_t type = 0;
	uint32_t chan = 0;
	uint16_t blen = 0;

	(void)state;
	assert_int_equal(lstp_encode(&m, buf, sizeof(buf)), 8);
	for (size_t i = 0; i < sizeof(bad); i++) {
		buf[0] = bad[i];
		expect_bad(buf, 8, LSTP_ERR_VERSION, "version");
		assert_int_equal(lstp_peek(buf, 8, &type, &chan, &blen, &why, &err), -EBADMSG);
		assert_int_equal(err, LSTP_ERR_VERSION);
	}
	/* the version is checked first: whatever the rest says */
	memset(buf, 0xff, 8);
	expect_bad(buf, 8, LSTP_ERR_VERSION, "version");
	/* decided on the header: fewer than 8 bytes are not enough */
	assert_int_equal(lstp_parse(buf, 7, &m, &(size_t){ 0 }, NULL, NULL), -EAGAIN);
	assert_int_equal(lstp_peek(buf, 7, NULL, NULL, NULL, NULL, NULL), -EAGAIN);
}

static void test_unknown_type(void **state)
{
	static const uint8_t bad[] = { 0, LSTP_TYPE_MAX, LSTP_TYPE_MAX + 1, 0x7f, 0x80, 0xff };
	uint8_t h[LSTP_HDR_LEN + 4] = { LSTP_VERSION, 0, 0, 4, 0, 0, 0, 0 };
	const char *why = NULL;
	uint16_t err = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(bad); i++) {
		h[1] = bad[i];
		expect_bad(h, LSTP_HDR_LEN, LSTP_ERR_UNKNOWN_TYPE, "unknown message type");
		expect_bad(h, sizeof(h), LSTP_ERR_UNKNOWN_TYPE, "unknown message type");
		assert_int_equal(lstp_peek(h, sizeof(h), NULL, NULL, NULL, &why, &err), -EBADMSG);
		assert_int_equal(err, LSTP_ERR_UNKNOWN_TYPE);
	}
	for (unsigned int t = 1; t < LSTP_TYPE_MAX; t++) {
		h[1] = (uint8_t)t;
		assert_int_equal(lstp_peek(h, LSTP_HDR_LEN, NULL, NULL, NULL, NULL, NULL), 0);
	}
}

static void test_oversized(void **state)
{
	uint8_t h[LSTP_HDR_LEN] = { LSTP_VERSION, LSTP_SERVICE_DATA, 0x40, 0x01, 0, 0, 0, 1 };
	uint16_t blen = 0, err = 0;

	(void)state;
	/* as soon as the header is there, whatever the (known) type */
	for (unsigned int t = 1; t < LSTP_TYPE_MAX; t++) {
		h[1] = (uint8_t)t;
		expect_bad(h, sizeof(h), LSTP_ERR_OVERSIZED, "oversized");
		h[2] = h[3] = 0xff;
		expect_bad(h, sizeof(h), LSTP_ERR_OVERSIZED, "oversized");
		h[2] = 0x40, h[3] = 0x01;
	}
	h[1] = LSTP_SERVICE_DATA;
	assert_int_equal(lstp_peek(h, sizeof(h), NULL, NULL, &blen, NULL, &err), -EBADMSG);
	assert_int_equal(err, LSTP_ERR_OVERSIZED);
	assert_int_equal(blen, LSTP_MAX_BODY + 1);
	/* LSTP_MAX_BODY itself is fine for SERVICE_DATA (and -EAGAIN here) ... */
	h[2] = 0x40, h[3] = 0x00;
	assert_int_equal(lstp_parse(h, sizeof(h), &(struct lstp_msg){ 0 }, &(size_t){ 0 }, NULL, NULL),
			 -EAGAIN);
	/* ... and too long for any other type: MALFORMED at once */
	h[1] = LSTP_PROPERTY_EXCHANGE, h[7] = 0;
	expect_bad(h, sizeof(h), LSTP_ERR_MALFORMED, "PROPERTY_EXCHANGE: body length");
}

static void test_body_length(void **state)
{
	struct lstp_msg fixed[8], m;
	const uint8_t empty[] = { LSTP_SERVICE_BEGIN_REQUEST, LSTP_SERVICE_BEGIN_ACK,
				  LSTP_SERVICE_DATA_PAUSE, LSTP_SERVICE_DATA_RESUME };

	(void)state;
	fixed[0] = (struct lstp_msg){ .type = LSTP_CONNECTION_ACK, .channel = 1 };
	fixed[1] = (struct lstp_msg){ .type = LSTP_CONNECTION_NACK, .channel = 1, .u.nack.reason = 5 };
	fixed[2] = (struct lstp_msg){ .type = LSTP_SERVICE_BEGIN_NACK, .channel = 1, .u.nack.reason = 1 };
	fixed[3] = (struct lstp_msg){ .type = LSTP_SERVICE_FREE_REQUEST, .channel = 1, .u.fr.flags = 1 };
	fixed[4] = (struct lstp_msg){ .type = LSTP_SHUTDOWN };
	fixed[5] = creq_ipv4(1, 0x01020304, 80);
	fixed[6] = (struct lstp_msg){ .type = LSTP_SERVICE_BEGIN_ACK, .channel = 2 };
	fixed[7] = (struct lstp_msg){ .type = LSTP_SERVICE_DATA_PAUSE, .channel = 2 };
	for (size_t i = 0; i < 8; i++) {
		expect_badlen(&fixed[i], +1, "body");
		if (lstp_encode(&fixed[i], buf, FRAME_MAX) > LSTP_HDR_LEN)
			expect_badlen(&fixed[i], -1, "body");
	}
	/* header-only verdict: SHUTDOWN claiming a 1-byte body that is not here */
	{
		const uint8_t h[8] = { LSTP_VERSION, LSTP_SHUTDOWN, 0, 1, 0, 0, 0, 0 };

		expect_bad(h, sizeof(h), LSTP_ERR_MALFORMED, "SHUTDOWN: body not empty");
	}
	for (size_t i = 0; i < sizeof(empty); i++) {
		m = (struct lstp_msg){ .type = empty[i], .channel = 9 };
		expect_badlen(&m, +1, "body not empty");
	}
	/* trailing bytes after the last field of variable bodies */
	m = info("c", "u");
	expect_badlen(&m, +1, "do not match the body length");
	m = topo(2);
	expect_badlen(&m, +1, "trailing bytes after the last hop");
	m = props(2);
	expect_badlen(&m, +1, "trailing bytes after the last pair");
	m = props(0);
	expect_badlen(&m, +1, "trailing bytes after the last pair");
	m = creq_name(1, LSTP_DEST_DOMAIN, "example.org", 443);
	expect_badlen(&m, +1, "name length does not match");
	m = error_msg(LSTP_ERR_AUTH, "bad cert");
	expect_badlen(&m, +1, "text length does not match");
	/* a body cut short: a field runs past it */
	m = info("c", "u");
	expect_badlen(&m, -1, "do not match the body length");
	m = topo(2);
	expect_badlen(&m, -1, "hop 1 runs past the body");
	m = topo(3);
	expect_badlen(&m, -21, "hop 2 runs past the body");
	m = props(2);
	expect_badlen(&m, -1, "pair 1 runs past the body");
	m = creq_name(1, LSTP_DEST_SERVICE, "svc", 0);
	expect_badlen(&m, -1, "name length does not match");
	m = error_msg(LSTP_ERR_AUTH, "bad cert");
	expect_badlen(&m, -1, "text length does not match");
	/* the shortest bodies minus one: decided from the header */
	m = info("c", "");
	expect_badlen(&m, -1, "COMMON_UNIQUE_INFO: body length");
	m = topo(1);
	m.u.topo.hop[0].name_len = 1;
	expect_badlen(&m, -1, "TOPOLOGY_EXCHANGE: body length");
	m = props(0);
	expect_badlen(&m, -1, "PROPERTY_EXCHANGE: body length");
	m = creq_name(1, LSTP_DEST_SERVICE, "s", 0);
	expect_badlen(&m, -1, "CONNECTION_REQUEST: body length");
	m = error_msg(LSTP_ERR_AUTH, "");
	expect_badlen(&m, -1, "ERROR: body length");
	m = data_msg(1, 1);
	expect_badlen(&m, -1, "SERVICE_DATA: empty body");
	/* an IPV4 request with a name's length */
	m = creq_ipv4(1, 0x01020304, 80);
	expect_badlen(&m, +2, "IPV4 body length is not 7");
}

static void test_bad_channel(void **state)
{
	struct lstp_msg m;

	(void)state;
	/* channel types with channel 0 */
	for (unsigned int t = LSTP_CONNECTION_REQUEST; t <= LSTP_SERVICE_FREE_REQUEST; t++) {
		m = (struct lstp_msg){ .type = (uint8_t)t, .channel = 1 };
		if (t == LSTP_CONNECTION_REQUEST)
			m = creq_ipv4(1, 1, 1);
		if (t == LSTP_CONNECTION_NACK || t == LSTP_SERVICE_BEGIN_NACK)
			m.u.nack.reason = LSTP_NACK_REFUSED;
		if (t == LSTP_SERVICE_DATA)
			m = data_msg(1, 10);
		if (t == LSTP_SERVICE_FREE_REQUEST)
			m.u.fr.flags = LSTP_FREE_FIN;
		assert_true(lstp_encode(&m, buf, FRAME_MAX) > 0);
		buf[7] = 0;
		expect_bad(buf, LSTP_HDR_LEN, LSTP_ERR_MALFORMED, "channel 0 on a channel message");
		m.channel = 0;
		assert_int_equal(lstp_encode(&m, buf, FRAME_MAX), -EINVAL);
	}
	/* tunnel-wide types with a channel: any byte of it */
	m = info("c", "u");
	for (unsigned int i = 4; i < 8; i++)
		expect_bad_at(&m, i, 1, "non-zero channel on a tunnel-wide message");
	m = topo(1);
	expect_bad_at(&m, 7, 1, "non-zero channel");
	m = props(1);
	expect_bad_at(&m, 4, 0x80, "non-zero channel");
	m = (struct lstp_msg){ .type = LSTP_SHUTDOWN };
	expect_bad_at(&m, 5, 1, "non-zero channel");
	m = error_msg(LSTP_ERR_INTERNAL, "x");
	expect_bad_at(&m, 6, 1, "non-zero channel");
	m.channel = 1;
	assert_int_equal(lstp_encode(&m, buf, FRAME_MAX), -EINVAL);
	m = (struct lstp_msg){ .type = LSTP_SHUTDOWN, .channel = 7 };
	assert_int_equal(lstp_encode(&m, buf, FRAME_MAX), -EINVAL);
}

static void test_bad_counts(void **state)
{
	struct lstp_msg m;

	(void)state;
	/* COMMON_UNIQUE_INFO: common 0 or above 64, unique above 64 */
	m = info("c", "u");
	expect_bad_at(&m, 8, 0, "common length not 1..64");
	m = (struct lstp_msg){ .type = LSTP_COMMON_UNIQUE_INFO };
	m.u.info.common_len = LSTP_MAX_INFO;
	m.u.info.unique_len = 1;
	assert_int_equal(lstp_encode(&m, buf, FRAME_MAX), 8 + 2 + 65);
	buf[8] = 65; /* common 65 */
	expect_bad(buf, 8 + 2 + 65, LSTP_ERR_MALFORMED, "common length not 1..64");
	m.u.info.common_len = 1;
	m.u.info.unique_len = LSTP_MAX_INFO;
	assert_int_equal(lstp_encode(&m, buf, FRAME_MAX), 8 + 2 + 65);
	buf[8] = 2, buf[8 + 1 + 2] = 63; /* common 2, unique 63: as long, and fine */
	assert_int_equal(lstp_parse(buf, 8 + 2 + 65, &m, &(size_t){ 0 }, NULL, NULL), 0);
	assert_int_equal(m.u.info.common_len, 2);
	assert_int_equal(m.u.info.unique_len, 63);
	m = info("c", "");
	m.u.info.unique_len = LSTP_MAX_INFO;
	assert_int_equal(lstp_encode(&m, buf, FRAME_MAX), 8 + 2 + 1 + 64);
	buf[3] += 1, buf[10] = 65; /* unique 65 in a body 68 long */
	expect_bad(buf, 8 + 68, LSTP_ERR_MALFORMED, "unique length above 64");

	/* TOPOLOGY_EXCHANGE: count 0, 17; name length 0, 64 */
	m = topo(1);
	expect_bad_at(&m, 8, 0, "hop count not 1..16");
	m = topo(LSTP_MAX_HOPS);
	expect_bad_at(&m, 8, LSTP_MAX_HOPS + 1, "hop count not 1..16");
	expect_bad_at(&m, 8, 255, "hop count not 1..16");
	m = topo(2);
	expect_bad_at(&m, 8 + 1 + 1, 0, "hop 0 name length not 1..63");
	expect_bad_at(&m, 8 + 1 + 16 + 8 + 1, 0, "hop 1 name length not 1..63");
	expect_bad_at(&m, 8 + 1 + 16 + 8 + 1, 64, "hop 1 name length not 1..63");

	/* PROPERTY_EXCHANGE: count 17, key length 0, 32 */
	m = props(LSTP_MAX_PROPS);
	expect_bad_at(&m, 8, LSTP_MAX_PROPS + 1, "more than 16 pairs");
	m = props(3);
	expect_bad_at(&m, 8 + 1, 0, "pair 0 key length not 1..31");
	expect_bad_at(&m, 8 + 1, 32, "pair 0 key length not 1..31");
	expect_bad_at(&m, 8 + 1 + 2 + 4 + 7, 0, "pair 1 key length");
	expect_bad_at(&m, 8 + 1 + 2 + 4 + 7, 200, "pair 1");
	/* a value length past the end */
	expect_bad_at(&m, 8 + 1 + 1 + 4, 255, "pair 0 runs past the body");

	/* encode refuses the same */
	m = topo(1);
	m.u.topo.n = 0;
	assert_int_equal(lstp_encode(&m, buf, FRAME_MAX), -EINVAL);
	m.u.topo.n = LSTP_MAX_HOPS + 1;
	assert_int_equal(lstp_encode(&m, buf, FRAME_MAX), -EINVAL);
	m = topo(1);
	m.u.topo.hop[0].name_len = 0;
	assert_int_equal(lstp_encode(&m, buf, FRAME_MAX), -EINVAL);
	m.u.topo.hop[0].name_len = LSTP_MAX_NAME + 1;
	assert_int_equal(lstp_encode(&m, buf, FRAME_MAX), -EINVAL);
	m = props(1);
	m.u.props.n = LSTP_MAX_PROPS + 1;
	assert_int_equal(lstp_encode(&m, buf, FRAME_MAX), -EINVAL);
	m = props(1);
	m.u.props.p[0].klen = 0;
	assert_int_equal(lstp_encode(&m, buf, FRAME_MAX), -EINVAL);
	m.u.props.p[0].klen = LSTP_MAX_KEY + 1;
	assert_int_equal(lstp_encode(&m, buf, FRAME_MAX), -EINVAL);
	m = info("", "u");
	assert_int_equal(lstp_encode(&m, buf, FRAME_MAX), -EINVAL);
	m = info("c", "u");
	m.u.info.common_len = LSTP_MAX_INFO + 1;
	assert_int_equal(lstp_encode(&m, buf, FRAME_MAX), -EINVAL);
	m = info("c", "u");
	m.u.info.unique_len = LSTP_MAX_INFO + 1;
	assert_int_equal(lstp_encode(&m, buf, FRAME_MAX), -EINVAL);
	m = error_msg(LSTP_ERR_AUTH, "x");
	m.u.error.text_len = LSTP_MAX_TEXT + 1;
	assert_int_equal(lstp_encode(&m, buf, FRAME_MAX), -EINVAL);
	m = data_msg(1, 0);
	assert_int_equal(lstp_encode(&m, buf, FRAME_MAX), -EINVAL);
	m = data_msg(1, LSTP_MAX_BODY + 1);
	assert_int_equal(lstp_encode(&m, buf, FRAME_MAX + 1), -EINVAL);
	m = data_msg(1, 5);
	m.u.data.data = NULL;
	assert_int_equal(lstp_encode(&m, buf, FRAME_MAX), -EINVAL);
}

static void test_not_printable(void **state)
{
	static const uint8_t bad[] = { 0x00, 0x09, 0x0a, 0x1f, 0x7f, 0x80, 0xff };
	struct lstp_msg m;
	const char *why = NULL;
	uint16_t err = 0;
	size_t used;

	(void)state;
	for (size_t i = 0; i < sizeof(bad); i++) {
		/* topology names, naming the hop */
		m = topo(4);
		expect_bad_at(&m, 8 + 1 + 2, bad[i], "hop 0 name not printable");
		m.u.topo.hop[3].name[2] = (char)bad[i];
		assert_int_equal(lstp_encode(&m, buf, FRAME_MAX), -EINVAL);
		m.u.topo.hop[3].name[2] = 'x';
		assert_true(lstp_encode(&m, buf, FRAME_MAX) > 0);
		buf[8 + 1 + 24 + 21 + 21 + 2 + 2] = bad[i];
		assert_int_equal(lstp_parse(buf, 8 + 1 + 24 + 3 * 21, &m, &used, &why, &err), -EBADMSG);
		assert_string_equal(why, "TOPOLOGY_EXCHANGE: hop 3 name not printable");
		assert_int_equal(err, LSTP_ERR_MALFORMED);

		/* property keys and values */
		m = props(2);
		expect_bad_at(&m, 8 + 1 + 1, bad[i], "pair 0 key not printable");
		expect_bad_at(&m, 8 + 1 + 2 + 4, bad[i], "pair 0 value not printable");
		m.u.props.p[1].value[3] = (char)bad[i];
		assert_int_equal(lstp_encode(&m, buf, FRAME_MAX), -EINVAL);

		/* CONNECTION_REQUEST names */
		m = creq_name(1, LSTP_DEST_DOMAIN, "example.com", 443);
		expect_bad_at(&m, 8 + 2 + 4, bad[i], "name not printable");
		m = creq_name(1, LSTP_DEST_SERVICE, "ssh", 0);
		expect_bad_at(&m, 8 + 2, bad[i], "name not printable");
		m.u.conn_req.name[1] = (char)bad[i];
		assert_int_equal(lstp_encode(&m, buf, FRAME_MAX), -EINVAL);

		/* ERROR text */
		m = error_msg(LSTP_ERR_MALFORMED, "abc");
		expect_bad_at(&m, 8 + 3 + 1, bad[i], "ERROR: text not printable");
		m.u.error.text[0] = (char)bad[i];
		assert_int_equal(lstp_encode(&m, buf, FRAME_MAX), -EINVAL);
	}
	/* '=' is not allowed in a key; keys are unique */
	m = props(2);
	expect_bad_at(&m, 8 + 1 + 1 + 1, '=', "pair 0 key not printable or holds '='");
	expect_bad_at(&m, 8 + 1 + 2 + 4 + 7 + 4, '0', "pair 1 repeats an earlier key");
	m.u.props.p[1].key[3] = '0';
	assert_int_equal(lstp_encode(&m, buf, FRAME_MAX), -EINVAL);
	/* common and unique are opaque bytes: anything goes */
	m = info("c", "u");
	m.u.info.common[0] = 0;
	m.u.info.unique[0] = 0xff;
	roundtrip(&m, 8 + 4);
}

static void test_bad_values(void **state)
{
	struct lstp_msg m;

	(void)state;
	/* SERVICE_FREE_REQUEST: exactly one of FIN, RESET */
	m = (struct lstp_msg){ .type = LSTP_SERVICE_FREE_REQUEST, .channel = 4, .u.fr.flags = 1 };
	for (unsigned int f = 0; f < 256; f++) {
		if (f == LSTP_FREE_FIN || f == LSTP_FREE_RESET)
			continue;
		expect_bad_at(&m, 8, (uint8_t)f, "flags not exactly one of FIN, RESET");
		m.u.fr.flags = (uint8_t)f;
		assert_int_equal(lstp_encode(&m, buf, FRAME_MAX), -EINVAL);
		m.u.fr.flags = LSTP_FREE_FIN;
	}

	/* CONNECTION_REQUEST: kind, port 0 */
	m = creq_ipv4(1, 0x01020304, 80);
	expect_bad_at(&m, 8, 2, "kind not 0");
	expect_bad_at(&m, 8, 4, "kind not 0");
	expect_bad_at(&m, 8, 0xff, "kind not 0");
	m.u.conn_req.kind = 2;
	assert_int_equal(lstp_encode(&m, buf, FRAME_MAX), -EINVAL);
	m = creq_ipv4(1, 0x01020304, 0x0100);
	expect_bad_at(&m, 8 + 5, 0, "port 0");
	m.u.conn_req.port = 0;
	assert_int_equal(lstp_encode(&m, buf, FRAME_MAX), -EINVAL);
	m = creq_name(1, LSTP_DEST_DOMAIN, "h", 0x0100);
	expect_bad_at(&m, 8 + 3, 0, "port 0");
	m.u.conn_req.port = 0;
	assert_int_equal(lstp_encode(&m, buf, FRAME_MAX), -EINVAL);
	/* canonical structs: what the wire does not carry is zero */
	m = creq_ipv4(1, 0x01020304, 80);
	m.u.conn_req.name_len = 1;
	assert_int_equal(lstp_encode(&m, buf, FRAME_MAX), -EINVAL);
	m = creq_name(1, LSTP_DEST_DOMAIN, "h", 80);
	m.u.conn_req.addr = 1;
	assert_int_equal(lstp_encode(&m, buf, FRAME_MAX), -EINVAL);
	m = creq_name(1, LSTP_DEST_SERVICE, "", 80);
	assert_int_equal(lstp_encode(&m, buf, FRAME_MAX), -EINVAL);

	/* NACK reasons */
	m = (struct lstp_msg){ .type = LSTP_CONNECTION_NACK, .channel = 1, .u.nack.reason = 1 };
	expect_bad_at(&m, 8, 0, "reason not");
	expect_bad_at(&m, 8, 7, "reason not");
	expect_bad_at(&m, 8, 10, "reason not");
	m.type = LSTP_SERVICE_BEGIN_NACK;
	expect_bad_at(&m, 8, 0xff, "SERVICE_BEGIN_NACK: reason not");
	m.u.nack.reason = 7;
	assert_int_equal(lstp_encode(&m, buf, FRAME_MAX), -EINVAL);

	/* ERROR codes */
	m = error_msg(LSTP_ERR_MALFORMED, "x");
	expect_bad_at(&m, 9, 0, "unknown error code");
	expect_bad_at(&m, 9, LSTP_ERR_INTERNAL + 1, "unknown error code");
	expect_bad_at(&m, 8, 1, "unknown error code");
	m.u.error.code = 0;
	assert_int_equal(lstp_encode(&m, buf, FRAME_MAX), -EINVAL);

	/* topology roles: 1..3, an end first, middles after */
	m = topo(3);
	expect_bad_at(&m, 8 + 1, 0, "hop 0 role not 1..3");
	expect_bad_at(&m, 8 + 1, 4, "hop 0 role not 1..3");
	expect_bad_at(&m, 8 + 1 + 24, 0, "hop 1 role not 1..3");
	expect_bad_at(&m, 8 + 1, LSTP_ROLE_MIDDLE, "hop 0 is a middle");
	expect_bad_at(&m, 8 + 1 + 24 + 21, LSTP_ROLE_CLIENT, "hop 2 is not a middle");
	expect_bad_at(&m, 8 + 1 + 24, LSTP_ROLE_SERVER, "hop 1 is not a middle");
	m.u.topo.hop[0].role = 9;
	assert_int_equal(lstp_encode(&m, buf, FRAME_MAX), -EINVAL);
	m.u.topo.hop[0].role = LSTP_ROLE_MIDDLE;
	assert_int_equal(lstp_encode(&m, buf, FRAME_MAX), -EINVAL);
	m = topo(2);
	m.u.topo.hop[1].role = LSTP_ROLE_SERVER;
	assert_int_equal(lstp_encode(&m, buf, FRAME_MAX), -EINVAL);

	/* unknown types do not encode */
	m = (struct lstp_msg){ .type = 0 };
	assert_int_equal(lstp_encode(&m, buf, FRAME_MAX), -EINVAL);
	m.type = LSTP_TYPE_MAX;
	assert_int_equal(lstp_encode(&m, buf, FRAME_MAX), -EINVAL);
}

static void test_peek(void **state)
{
	struct lstp_msg m = creq_name(0x0a0b0c0d, LSTP_DEST_DOMAIN, "example.net", 443);
	uint8_t type = 0;
	uint32_t chan = 0;
	uint16_t blen = 0, err = 0;
	const char *why = NULL;
	int n;

	(void)state;
	n = lstp_encode(&m, buf, FRAME_MAX);
	for (size_t l = 0; l < LSTP_HDR_LEN; l++)
		assert_int_equal(lstp_peek(buf, l, &type, &chan, &blen, &why, &err), -EAGAIN);
	assert_int_equal(lstp_peek(buf, LSTP_HDR_LEN, &type, &chan, &blen, &why, &err), 0);
	assert_int_equal(type, LSTP_CONNECTION_REQUEST);
	assert_int_equal(chan, 0x0a0b0c0d);
	assert_int_equal(blen, n - LSTP_HDR_LEN);
	assert_null(why);
	/* the header only: a body parse would reject is peek's business no more */
	buf[8] = 2;
	assert_int_equal(lstp_peek(buf, (size_t)n, &type, &chan, &blen, NULL, NULL), 0);
	memset(buf + 4, 0, 4);
	assert_int_equal(lstp_peek(buf, (size_t)n, &type, &chan, &blen, NULL, NULL), 0);
	assert_int_equal(chan, 0);
	/* the three header errors */
	buf[0] = 2;
	assert_int_equal(lstp_peek(buf, 8, &type, &chan, &blen, &why, &err), -EBADMSG);
	assert_int_equal(err, LSTP_ERR_VERSION);
	assert_non_null(why);
	buf[0] = 1, buf[1] = 99;
	assert_int_equal(lstp_peek(buf, 8, &type, &chan, &blen, &why, &err), -EBADMSG);
	assert_int_equal(err, LSTP_ERR_UNKNOWN_TYPE);
	assert_int_equal(type, 99); /* still reported, for the log */
	buf[1] = LSTP_SERVICE_DATA, buf[2] = 0xff;
	assert_int_equal(lstp_peek(buf, 8, &type, &chan, &blen, &why, &err), -EBADMSG);
	assert_int_equal(err, LSTP_ERR_OVERSIZED);
}

/* Several messages in one buffer parse one after the other. */
static void test_back_to_back(void **state)
{
	struct lstp_msg seq[5], p;
	size_t off = 0, used;
	int n;

	(void)state;
	seq[0] = info("common", "me");
	seq[1] = topo(1);
	seq[2] = creq_ipv4(1, 0x0a000001, 22);
	seq[3] = data_msg(1, 100);
	seq[4] = (struct lstp_msg){ .type = LSTP_SHUTDOWN };
	for (size_t i = 0; i < 5; i++) {
		n = lstp_encode(&seq[i], again + off, sizeof(again) - off);
		assert_true(n > 0);
		off += (size_t)n;
	}
	for (size_t i = 0, at = 0; i < 5; i++) {
		assert_int_equal(lstp_parse(again + at, off - at, &p, &used, NULL, NULL), 0);
		assert_msg_equal(&seq[i], &p);
		at += used;
		if (i == 4)
			assert_int_equal(at, off);
	}
}

/* The master rule, from both ends. */
static int master(uint8_t ra, const char *na, uint8_t a0, uint8_t rb, const char *nb, uint8_t b0)
{
	struct lstp_topology a = { .n = 1 }, b = { .n = 1 };
	int x, y;

	a.hop[0] = hop(ra, na, 0x0a000001, 0, a0);
	b.hop[0] = hop(rb, nb, 0x0a000002, 0, b0);
	x = lstp_is_master(&a, &b);
	y = lstp_is_master(&b, &a);
	/* symmetric: exactly one of the two is master, or both see a loop */
	if (x == -1)
		assert_int_equal(y, -1);
	else
		assert_int_equal(x + y, 1);
	return x;
}

static void test_is_master(void **state)
{
	struct lstp_topology a, b;

	(void)state;
	/* client over server, whatever the nonces and names */
	assert_int_equal(master(LSTP_ROLE_CLIENT, "z", 0xff, LSTP_ROLE_SERVER, "a", 0), 1);
	assert_int_equal(master(LSTP_ROLE_SERVER, "a", 0, LSTP_ROLE_CLIENT, "z", 0xff), 0);
	assert_int_equal(master(LSTP_ROLE_CLIENT, "a", 1, LSTP_ROLE_SERVER, "a", 2), 1);
	/* equal roles: the smaller nonce */
	assert_int_equal(master(LSTP_ROLE_CLIENT, "z", 1, LSTP_ROLE_CLIENT, "a", 2), 1);
	assert_int_equal(master(LSTP_ROLE_SERVER, "a", 2, LSTP_ROLE_SERVER, "z", 1), 0);
	assert_int_equal(master(LSTP_ROLE_SERVER, "a", 0x7f, LSTP_ROLE_SERVER, "a", 0x80), 1);
	/* equal nonces: the smaller name, a prefix first */
	assert_int_equal(master(LSTP_ROLE_CLIENT, "alpha", 5, LSTP_ROLE_CLIENT, "beta", 5), 1);
	assert_int_equal(master(LSTP_ROLE_CLIENT, "beta", 5, LSTP_ROLE_CLIENT, "alpha", 5), 0);
	assert_int_equal(master(LSTP_ROLE_SERVER, "ab", 5, LSTP_ROLE_SERVER, "abc", 5), 1);
	assert_int_equal(master(LSTP_ROLE_SERVER, "abc", 5, LSTP_ROLE_SERVER, "ab", 5), 0);
	/* the same end (our setup reflected back): -1 */
	assert_int_equal(master(LSTP_ROLE_CLIENT, "same", 3, LSTP_ROLE_CLIENT, "same", 3), -1);
	assert_int_equal(master(LSTP_ROLE_CLIENT, "same", 3, LSTP_ROLE_SERVER, "same", 3), -1);
	/* only hop[0] counts: the middles appended after it do not */
	a = (struct lstp_topology){ .n = 1 };
	a.hop[0] = hop(LSTP_ROLE_CLIENT, "a", 1, 0, 9);
	b = (struct lstp_topology){ .n = 3 };
	b.hop[0] = hop(LSTP_ROLE_CLIENT, "b", 2, 0, 1);
	b.hop[1] = hop(LSTP_ROLE_MIDDLE, "m1", 3, 7400, 0);
	b.hop[2] = hop(LSTP_ROLE_MIDDLE, "m2", 4, 7400, 0);
	assert_int_equal(lstp_is_master(&a, &b), 0);
	assert_int_equal(lstp_is_master(&b, &a), 1);
	/* no entry, or not an end in hop[0]: undecidable */
	b.n = 0;
	assert_int_equal(lstp_is_master(&a, &b), -1);
	assert_int_equal(lstp_is_master(&b, &a), -1);
	b.n = 1;
	b.hop[0].role = LSTP_ROLE_MIDDLE;
	assert_int_equal(lstp_is_master(&a, &b), -1);
	b.hop[0].role = 0;
	assert_int_equal(lstp_is_master(&b, &a), -1);
	assert_int_equal(lstp_is_master(NULL, &a), -1);
	/* a large sweep: antisymmetric for every pair of nonces */
	for (unsigned int x = 0; x < 256; x += 15)
		for (unsigned int y = 0; y < 256; y += 17)
			if (x != y)
				assert_int_equal(master(LSTP_ROLE_SERVER, "s", (uint8_t)x,
							LSTP_ROLE_SERVER, "s", (uint8_t)y),
						 x < y);
}

static void test_phase_ok(void **state)
{
	(void)state;
	/* clear phase: the setup messages and ERROR */
	assert_true(lstp_phase_ok(LSTP_COMMON_UNIQUE_INFO, LSTP_PHASE_CLEAR));
	assert_true(lstp_phase_ok(LSTP_TOPOLOGY_EXCHANGE, LSTP_PHASE_CLEAR));
	assert_true(lstp_phase_ok(LSTP_ERROR, LSTP_PHASE_CLEAR));
	for (unsigned int t = LSTP_PROPERTY_EXCHANGE; t <= LSTP_SHUTDOWN; t++) {
		assert_false(lstp_phase_ok((uint8_t)t, LSTP_PHASE_CLEAR));
		assert_true(lstp_phase_ok((uint8_t)t, LSTP_PHASE_SECURED));
	}
	/* secured: everything */
	for (unsigned int t = 1; t < LSTP_TYPE_MAX; t++)
		assert_true(lstp_phase_ok((uint8_t)t, LSTP_PHASE_SECURED));
	/* unknown types and phases */
	assert_false(lstp_phase_ok(0, LSTP_PHASE_CLEAR));
	assert_false(lstp_phase_ok(LSTP_TYPE_MAX, LSTP_PHASE_SECURED));
	assert_false(lstp_phase_ok(255, LSTP_PHASE_SECURED));
	assert_false(lstp_phase_ok(LSTP_ERROR, (enum lstp_phase)0));
	assert_false(lstp_phase_ok(LSTP_ERROR, (enum lstp_phase)3));
}

static void test_eq(void **state)
{
	struct lstp_msg a, b;

	(void)state;
	a = info("common", "unique");
	b = a;
	assert_true(lstp_info_eq(&a.u.info, &b.u.info));
	b.u.info.unique[5] ^= 1;
	assert_false(lstp_info_eq(&a.u.info, &b.u.info));
	b = a;
	b.u.info.common[0] ^= 1;
	assert_false(lstp_info_eq(&a.u.info, &b.u.info));
	b = a;
	b.u.info.unique_len--;
	assert_false(lstp_info_eq(&a.u.info, &b.u.info));
	b = a;
	b.u.info.common_len--;
	assert_false(lstp_info_eq(&a.u.info, &b.u.info));
	/* bytes beyond the lengths do not count */
	b = a;
	b.u.info.common[40] = 0x55;
	b.u.info.unique[60] = 0x55;
	assert_true(lstp_info_eq(&a.u.info, &b.u.info));

	a = topo(3);
	b = a;
	assert_true(lstp_topo_eq(&a.u.topo, &b.u.topo));
	b.u.topo.hop[2].name[50] = 'q'; /* beyond name_len */
	assert_true(lstp_topo_eq(&a.u.topo, &b.u.topo));
	b.u.topo.hop[7] = hop(LSTP_ROLE_MIDDLE, "unused", 1, 1, 1); /* beyond n */
	assert_true(lstp_topo_eq(&a.u.topo, &b.u.topo));
	b = a, b.u.topo.n = 2;
	assert_false(lstp_topo_eq(&a.u.topo, &b.u.topo));
	b = a, b.u.topo.hop[1].role = LSTP_ROLE_SERVER;
	assert_false(lstp_topo_eq(&a.u.topo, &b.u.topo));
	b = a, b.u.topo.hop[2].name[0] = 'M';
	assert_false(lstp_topo_eq(&a.u.topo, &b.u.topo));
	b = a, b.u.topo.hop[2].name_len--;
	assert_false(lstp_topo_eq(&a.u.topo, &b.u.topo));
	b = a, b.u.topo.hop[0].addr++;
	assert_false(lstp_topo_eq(&a.u.topo, &b.u.topo));
	b = a, b.u.topo.hop[1].port++;
	assert_false(lstp_topo_eq(&a.u.topo, &b.u.topo));
	b = a, b.u.topo.hop[0].nonce[7]++;
	assert_false(lstp_topo_eq(&a.u.topo, &b.u.topo));
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(lstp_type_name(LSTP_COMMON_UNIQUE_INFO), "COMMON_UNIQUE_INFO");
	assert_string_equal(lstp_type_name(LSTP_SERVICE_FREE_REQUEST), "SERVICE_FREE_REQUEST");
	assert_string_equal(lstp_type_name(LSTP_ERROR), "ERROR");
	assert_string_equal(lstp_type_name(0), "?");
	assert_string_equal(lstp_type_name(LSTP_TYPE_MAX), "?");
	assert_string_equal(lstp_type_name(255), "?");
	for (unsigned int t = 1; t < LSTP_TYPE_MAX; t++)
		assert_string_not_equal(lstp_type_name((uint8_t)t), "?");
	assert_string_equal(lstp_err_name(LSTP_ERR_MALFORMED), "MALFORMED");
	assert_string_equal(lstp_err_name(LSTP_ERR_MISMATCH), "MISMATCH");
	assert_string_equal(lstp_err_name(LSTP_ERR_INTERNAL), "INTERNAL");
	assert_string_equal(lstp_err_name(0), "?");
	assert_string_equal(lstp_err_name(LSTP_ERR_INTERNAL + 1), "?");
	assert_string_equal(lstp_err_name(0xffff), "?");
	for (unsigned int c = LSTP_ERR_MALFORMED; c <= LSTP_ERR_INTERNAL; c++)
		assert_string_not_equal(lstp_err_name((uint16_t)c), "?");
}

/* Every reason parse gives fits an ERROR's text as it is: the receiver can
 * answer with it unchanged. */
static void test_why_fits_error_text(void **state)
{
	static const uint8_t hdrs[][8] = {
		{ 2, 1, 0, 3, 0, 0, 0, 0 },
		{ 1, 0, 0, 3, 0, 0, 0, 0 },
		{ 1, 10, 0xff, 0xff, 0, 0, 0, 1 },
		{ 1, 14, 0, 1, 0, 0, 0, 0 },
		{ 1, 2, 0, 17, 0, 0, 0, 0 },
		{ 1, 10, 0, 1, 0, 0, 0, 0 },
	};
	struct lstp_msg m;

	(void)state;
	for (size_t i = 0; i < sizeof(hdrs) / sizeof(hdrs[0]); i++) {
		const char *why = NULL;
		uint16_t err = 0;
		size_t used;

		assert_int_equal(lstp_parse(hdrs[i], 8, &m, &used, &why, &err), -EBADMSG);
		m = error_msg(err, why);
		assert_true(lstp_encode(&m, buf, FRAME_MAX) > 0);
		assert_string_not_equal(lstp_err_name(err), "?");
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip_every_type),
		cmocka_unit_test(test_known_answers),
		cmocka_unit_test(test_version),
		cmocka_unit_test(test_unknown_type),
		cmocka_unit_test(test_oversized),
		cmocka_unit_test(test_body_length),
		cmocka_unit_test(test_bad_channel),
		cmocka_unit_test(test_bad_counts),
		cmocka_unit_test(test_not_printable),
		cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_peek),
		cmocka_unit_test(test_back_to_back),
		cmocka_unit_test(test_is_master),
		cmocka_unit_test(test_phase_ok),
		cmocka_unit_test(test_eq),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_why_fits_error_text),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
