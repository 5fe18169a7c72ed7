/* Agent protocol codec: round trips, known-answer bytes, every rejection. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <sluice/agent_proto.h>

#define FRAME_MAX (AP_HDR_LEN + AP_MAX_BODY)

static uint8_t big_data[AP_MAX_PING_DATA + 1];

/* Field-by-field equality (the union has padding memcmp would see). */
static void assert_msg_equal(const struct ap_msg *a, const struct ap_msg *b)
{
	assert_int_equal(a->type, b->type);
	switch (a->type) {
	case AP_HELLO:
		assert_int_equal(a->u.hello.ver_min, b->u.hello.ver_min);
		assert_int_equal(a->u.hello.ver_max, b->u.hello.ver_max);
		assert_int_equal(a->u.hello.caps, b->u.hello.caps);
		assert_int_equal(a->u.hello.sw_len, b->u.hello.sw_len);
		assert_memory_equal(a->u.hello.sw, b->u.hello.sw, a->u.hello.sw_len);
		assert_int_equal(b->u.hello.sw[b->u.hello.sw_len], '\0');
		break;
	case AP_HELLO_ACK:
		assert_int_equal(a->u.hello_ack.version, b->u.hello_ack.version);
		assert_int_equal(a->u.hello_ack.caps, b->u.hello_ack.caps);
		assert_int_equal(a->u.hello_ack.keepalive_ms, b->u.hello_ack.keepalive_ms);
		assert_int_equal(a->u.hello_ack.pool, b->u.hello_ack.pool);
		break;
	case AP_KEEPALIVE:
	case AP_KEEPALIVE_ACK:
		assert_true(a->u.ka.ts == b->u.ka.ts);
		break;
	case AP_CONNECT:
		assert_int_equal(a->u.connect.id, b->u.connect.id);
		assert_true(a->u.connect.stream == b->u.connect.stream);
		assert_int_equal(a->u.connect.proto, b->u.connect.proto);
		assert_int_equal(b->u.connect.pad, 0);
		assert_int_equal(a->u.connect.timeout_ms, b->u.connect.timeout_ms);
		assert_int_equal(a->u.connect.dst, b->u.connect.dst);
		assert_int_equal(a->u.connect.src, b->u.connect.src);
		assert_int_equal(a->u.connect.dport, b->u.connect.dport);
		assert_int_equal(a->u.connect.sport, b->u.connect.sport);
		break;
	case AP_CONNECT_RESULT:
		assert_int_equal(a->u.cres.id, b->u.cres.id);
		assert_int_equal(a->u.cres.result, b->u.cres.result);
		assert_int_equal(a->u.cres.code, b->u.cres.code);
		assert_int_equal(a->u.cres.mss, b->u.cres.mss);
		break;
	case AP_PING:
		assert_int_equal(a->u.ping.id, b->u.ping.id);
		assert_int_equal(a->u.ping.dst, b->u.ping.dst);
		assert_int_equal(a->u.ping.src, b->u.ping.src);
		assert_int_equal(a->u.ping.ident, b->u.ping.ident);
		assert_int_equal(a->u.ping.seq, b->u.ping.seq);
		assert_int_equal(a->u.ping.ttl, b->u.ping.ttl);
		assert_int_equal(b->u.ping.pad, 0);
		assert_int_equal(a->u.ping.timeout_ms, b->u.ping.timeout_ms);
		assert_int_equal(a->u.ping.data_len, b->u.ping.data_len);
		if (a->u.ping.data_len)
			assert_memory_equal(a->u.ping.data, b->u.ping.data, a->u.ping.data_len);
		break;
	case AP_PING_RESULT:
		assert_int_equal(a->u.pres.id, b->u.pres.id);
		assert_int_equal(a->u.pres.result, b->u.pres.result);
		assert_int_equal(a->u.pres.code, b->u.pres.code);
		assert_int_equal(a->u.pres.ttl, b->u.pres.ttl);
		assert_int_equal(b->u.pres.pad, 0);
		assert_int_equal(a->u.pres.from, b->u.pres.from);
		assert_int_equal(a->u.pres.data_len, b->u.pres.data_len);
		if (a->u.pres.data_len)
			assert_memory_equal(a->u.pres.data, b->u.pres.data, a->u.pres.data_len);
		break;
	case AP_RETIRE:
		assert_true(a->u.retire.stream == b->u.retire.stream);
		break;
	case AP_DA_OPEN:
		assert_memory_equal(&a->u.da_open, &b->u.da_open, sizeof(a->u.da_open));
		break;
	case AP_DA_RESULT:
		assert_int_equal(a->u.da_result.id, b->u.da_result.id);
		assert_int_equal(a->u.da_result.result, b->u.da_result.result);
		assert_int_equal(b->u.da_result.pad, 0);
		assert_int_equal(a->u.da_result.relay_port, b->u.da_result.relay_port);
		break;
	case AP_DA_END:
		assert_int_equal(a->u.da_end.da, b->u.da_end.da);
		assert_int_equal(a->u.da_end.reason, b->u.da_end.reason);
		assert_int_equal(a->u.da_end.replies, b->u.da_end.replies);
		break;
	case AP_DGRAM_OPEN:
		assert_int_equal(a->u.dgram_open.id, b->u.dgram_open.id);
		break;
	case AP_DGRAM_UP:
		assert_int_equal(a->u.dgram_up.id, b->u.dgram_up.id);
		assert_int_equal(a->u.dgram_up.result, b->u.dgram_up.result);
		assert_true(a->u.dgram_up.session == b->u.dgram_up.session);
		break;
	case AP_DGRAM_CLOSE:
		assert_true(a->u.dgram_close.session == b->u.dgram_close.session);
		break;
	case AP_ERROR:
		assert_int_equal(a->u.error.code, b->u.error.code);
		assert_int_equal(a->u.error.text_len, b->u.error.text_len);
		assert_memory_equal(a->u.error.text, b->u.error.text, a->u.error.text_len);
		assert_int_equal(b->u.error.text[b->u.error.text_len], '\0');
		break;
	default:
		fail_msg("unexpected type %u", a->type);
	}
}

/* Encode, check the size, parse back, compare, re-encode to the same
 * bytes; also the cap boundary (-ENOSPC one byte short) and truncation
 * (-EAGAIN at every shorter length).  Returns the frame length. */
static int roundtrip(const struct ap_msg *m, size_t want_len)
{
	static uint8_t buf[FRAME_MAX], again[FRAME_MAX];
	struct ap_msg p;
	const char *why = "unset";
	size_t used = 99;
	int n;

	n = ap_encode(m, buf, sizeof(buf));
	assert_int_equal(n, (int)want_len);
	assert_int_equal(buf[0], m->type);
	assert_int_equal(buf[1], 0);
	assert_int_equal((buf[2] << 8 | buf[3]) + AP_HDR_LEN, n);

	assert_int_equal(ap_encode(m, again, (size_t)n - 1), -ENOSPC);
	assert_int_equal(ap_encode(m, again, (size_t)n), n);
	assert_memory_equal(buf, again, (size_t)n);

	assert_int_equal(ap_parse(buf, (size_t)n, &p, &used, &why), 0);
	assert_int_equal(used, (size_t)n);
	assert_string_equal(why, "unset"); /* untouched on success */
	assert_msg_equal(m, &p);
	memset(again, 0xee, sizeof(again));
	assert_int_equal(ap_encode(&p, again, sizeof(again)), n);
	assert_memory_equal(buf, again, (size_t)n);

	for (size_t l = 0; l < (size_t)n; l++) {
		used = 99;
		assert_int_equal(ap_parse(buf, l, &p, &used, NULL), -EAGAIN);
		assert_int_equal(used, 0);
	}
	return n;
}

static struct ap_msg hello(uint16_t lo, uint16_t hi, uint32_t caps, const char *sw)
{
	struct ap_msg m = { .type = AP_HELLO };

	m.u.hello.ver_min = lo;
	m.u.hello.ver_max = hi;
	m.u.hello.caps = caps;
	m.u.hello.sw_len = (uint8_t)strlen(sw);
	memcpy(m.u.hello.sw, sw, m.u.hello.sw_len + 1);
	return m;
}

static struct ap_msg cres(uint8_t result, uint8_t code, uint16_t mss)
{
	struct ap_msg m = { .type = AP_CONNECT_RESULT };

	m.u.cres.id = 42;
	m.u.cres.result = result;
	m.u.cres.code = code;
	m.u.cres.mss = mss;
	return m;
}

static struct ap_msg pres(uint8_t result, uint8_t code, uint16_t data_len)
{
	struct ap_msg m = { .type = AP_PING_RESULT };

	m.u.pres.id = 9;
	m.u.pres.result = result;
	m.u.pres.code = code;
	m.u.pres.ttl = 57;
	m.u.pres.from = 0x08080808;
	m.u.pres.data_len = data_len;
	m.u.pres.data = data_len ? big_data : NULL;
	return m;
}

static struct ap_msg ping(uint16_t data_len)
{
	struct ap_msg m = { .type = AP_PING };

	m.u.ping.id = 0xffffffff;
	m.u.ping.dst = 0x0a000001;
	m.u.ping.src = 0xc0a80001;
	m.u.ping.ident = 0xbeef;
	m.u.ping.seq = 65535;
	m.u.ping.ttl = 255;
	m.u.ping.timeout_ms = 1000;
	m.u.ping.data_len = data_len;
	m.u.ping.data = data_len ? big_data : NULL;
	return m;
}

static struct ap_msg error_msg(uint16_t code, const char *text)
{
	struct ap_msg m = { .type = AP_ERROR };

	m.u.error.code = code;
	m.u.error.text_len = (uint8_t)strlen(text);
	memcpy(m.u.error.text, text, m.u.error.text_len + 1);
	return m;
}

static struct ap_msg connect_msg(void)
{
	struct ap_msg m = { .type = AP_CONNECT };

	m.u.connect.id = 0x01020304;
	m.u.connect.stream = 0x1122334455667788ull;
	m.u.connect.proto = 6;
	m.u.connect.timeout_ms = 5000;
	m.u.connect.dst = 0x0a010203;  /* 10.1.2.3 */
	m.u.connect.src = 0xc0a8000a;  /* 192.168.0.10 */
	m.u.connect.dport = 443;
	m.u.connect.sport = 50000;
	return m;
}

static void test_roundtrip_every_type(void **state)
{
	char text[AP_MAX_TEXT + 1];
	static const uint8_t codes[] = { 0, 1, 2, 3, 13 };
	struct ap_msg m;

	(void)state;
	for (size_t i = 0; i < sizeof(big_data); i++)
		big_data[i] = (uint8_t)(i * 7 + 1);
	memset(text, 'x', AP_MAX_TEXT);
	text[AP_MAX_TEXT] = '\0';

	/* HELLO: empty and longest software string, extreme versions */
	m = hello(1, 1, 0, "");
	roundtrip(&m, 4 + 9);
	m = hello(1, 65535, 0xffffffff, text);
	roundtrip(&m, 4 + 9 + AP_MAX_TEXT);
	m = hello(65535, 65535, AP_CAP_STREAM | AP_CAP_PING, "sluice-agent 0.1.0");
	roundtrip(&m, 4 + 9 + 18);

	/* HELLO_ACK */
	m = (struct ap_msg){ .type = AP_HELLO_ACK };
	m.u.hello_ack.version = 1;
	roundtrip(&m, 4 + 14);
	m.u.hello_ack.version = 65535;
	m.u.hello_ack.caps = 0xffffffff;
	m.u.hello_ack.keepalive_ms = 0xffffffff;
	m.u.hello_ack.pool = 0xffffffff;
	roundtrip(&m, 4 + 14);

	/* KEEPALIVE, KEEPALIVE_ACK */
	for (uint8_t t = AP_KEEPALIVE; t <= AP_KEEPALIVE_ACK; t++) {
		m = (struct ap_msg){ .type = t };
		roundtrip(&m, 4 + 8);
		m.u.ka.ts = UINT64_MAX;
		roundtrip(&m, 4 + 8);
		m.u.ka.ts = 0x0102030405060708ull;
		roundtrip(&m, 4 + 8);
	}

	/* RETIRE: a stream id, all bits */
	m = (struct ap_msg){ .type = AP_RETIRE, .u.retire.stream = UINT64_MAX };
	roundtrip(&m, 4 + 8);
	{
		static const uint8_t want[] = { AP_RETIRE, 0, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8 };
		uint8_t b[16];

		m.u.retire.stream = 0x0102030405060708ull;
		assert_int_equal(ap_encode(&m, b, sizeof(b)), (int)sizeof(want));
		assert_memory_equal(b, want, sizeof(want));
	}

	/* CONNECT: typical and all-ones fields */
	m = connect_msg();
	roundtrip(&m, 4 + 28);
	m.u.connect.id = m.u.connect.dst = m.u.connect.src = 0xffffffff;
	m.u.connect.stream = UINT64_MAX;
	m.u.connect.timeout_ms = m.u.connect.dport = m.u.connect.sport = 65535;
	roundtrip(&m, 4 + 28);
	m = connect_msg();
	m.u.connect.id = 0;
	m.u.connect.stream = 0;
	m.u.connect.timeout_ms = m.u.connect.dport = m.u.connect.sport = 0;
	roundtrip(&m, 4 + 28);

	/* CONNECT_RESULT: every result, every UNREACHABLE code */
	m = cres(AP_RES_OK, 0, 1460);
	roundtrip(&m, 4 + 8);
	m = cres(AP_RES_OK, 0, 65535);
	roundtrip(&m, 4 + 8);
	m = cres(AP_RES_OK, 0, 0);
	roundtrip(&m, 4 + 8);
	m = cres(AP_RES_REFUSE, 0, 0);
	roundtrip(&m, 4 + 8);
	for (size_t i = 0; i < sizeof(codes); i++) {
		m = cres(AP_RES_UNREACHABLE, codes[i], 0);
		roundtrip(&m, 4 + 8);
	}
	m = cres(AP_RES_BUSY, 0, 0);
	roundtrip(&m, 4 + 8);
	m = cres(AP_RES_NO_STREAM, 0, 0);
	roundtrip(&m, 4 + 8);

	/* PING: no data, one byte, the most */
	m = ping(0);
	roundtrip(&m, 4 + 20);
	m = ping(1);
	roundtrip(&m, 4 + 20 + 1);
	m = ping(AP_MAX_PING_DATA);
	roundtrip(&m, 4 + 20 + AP_MAX_PING_DATA);

	/* PING_RESULT */
	m = pres(AP_RES_OK, 0, 0);
	roundtrip(&m, 4 + 12);
	m = pres(AP_RES_OK, 0, 56);
	roundtrip(&m, 4 + 12 + 56);
	m = pres(AP_RES_OK, 0, AP_MAX_PING_DATA);
	roundtrip(&m, 4 + 12 + AP_MAX_PING_DATA);
	for (size_t i = 0; i < sizeof(codes); i++) {
		m = pres(AP_RES_UNREACHABLE, codes[i], 0);
		roundtrip(&m, 4 + 12);
	}
	m = pres(AP_RES_TIMEOUT, 0, 0);
	roundtrip(&m, 4 + 12);
	m = pres(AP_RES_BUSY, 0, 0);
	roundtrip(&m, 4 + 12);

	/* ERROR: every code, empty and longest text */
	for (uint16_t c = AP_ERR_MALFORMED; c <= AP_ERR_INTERNAL; c++) {
		m = error_msg(c, "");
		roundtrip(&m, 4 + 3);
	}
	m = error_msg(AP_ERR_VERSION, text);
	roundtrip(&m, 4 + 3 + AP_MAX_TEXT);
}

/* Known answers: hand-written bytes, so a layout change is caught. */
static void test_known_answer_hello(void **state)
{
	static const uint8_t want[] = {
		0x01, 0x00, 0x00, 0x12,                         /* HELLO, flags, body 18 */
		0x00, 0x01, 0x00, 0x02,                         /* ver_min 1, ver_max 2 */
		0x00, 0x00, 0x00, 0x03,                         /* caps STREAM|PING */
		0x09, 'a', 'g', 'e', 'n', 't', ' ', '1', '.', '0', /* sw_len 9, sw */
	};
	struct ap_msg m = hello(1, 2, AP_CAP_STREAM | AP_CAP_PING, "agent 1.0"), p;
	uint8_t buf[64];
	size_t used;

	(void)state;
	assert_int_equal(ap_encode(&m, buf, sizeof(buf)), sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
	assert_int_equal(ap_parse(want, sizeof(want), &p, &used, NULL), 0);
	assert_int_equal(used, sizeof(want));
	assert_int_equal(p.type, AP_HELLO);
	assert_int_equal(p.u.hello.ver_min, 1);
	assert_int_equal(p.u.hello.ver_max, 2);
	assert_int_equal(p.u.hello.caps, 3);
	assert_string_equal(p.u.hello.sw, "agent 1.0");
}

static void test_known_answer_connect(void **state)
{
	static const uint8_t want[] = {
		0x05, 0x00, 0x00, 0x1c,                         /* CONNECT, flags, body 28 */
		0x01, 0x02, 0x03, 0x04,                         /* id */
		0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, /* stream */
		0x06, 0x00,                                     /* proto TCP, pad */
		0x13, 0x88,                                     /* timeout 5000 ms */
		0x0a, 0x01, 0x02, 0x03,                         /* dst 10.1.2.3 */
		0xc0, 0xa8, 0x00, 0x0a,                         /* src 192.168.0.10 */
		0x01, 0xbb,                                     /* dport 443 */
		0xc3, 0x50,                                     /* sport 50000 */
	};
	struct ap_msg m = connect_msg(), p;
	uint8_t buf[64];
	size_t used;

	(void)state;
	assert_int_equal(ap_encode(&m, buf, sizeof(buf)), sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
	assert_int_equal(ap_parse(want, sizeof(want), &p, &used, NULL), 0);
	assert_int_equal(used, sizeof(want));
	assert_msg_equal(&m, &p);
}

static void test_known_answer_others(void **state)
{
	static const uint8_t ack[] = {
		0x02, 0x00, 0x00, 0x0e, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01,
		0x00, 0x00, 0x27, 0x10, 0x00, 0x00, 0x00, 0x04,
	};
	static const uint8_t ka[] = {
		0x03, 0x00, 0x00, 0x08, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
	};
	static const uint8_t cr[] = {
		0x06, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00, 0x2a, 0x02, 0x0d, 0x00, 0x00,
	};
	static const uint8_t pg[] = {
		0x07, 0x00, 0x00, 0x16, 0x00, 0x00, 0x00, 0x07, 0x0a, 0x00, 0x00, 0x01,
		0xc0, 0xa8, 0x00, 0x02, 0x12, 0x34, 0x00, 0x05, 0x40, 0x00, 0x03, 0xe8,
		'h', 'i',
	};
	static const uint8_t pr[] = {
		0x08, 0x00, 0x00, 0x0e, 0x00, 0x00, 0x00, 0x07, 0x00, 0x00, 0x40, 0x00,
		0x08, 0x08, 0x08, 0x08, 'h', 'i',
	};
	static const uint8_t er[] = {
		0x09, 0x00, 0x00, 0x05, 0x00, 0x05, 0x02, 'n', 'o',
	};
	struct ap_msg p;
	size_t used;

	(void)state;
	assert_int_equal(ap_parse(ack, sizeof(ack), &p, &used, NULL), 0);
	assert_int_equal(p.u.hello_ack.version, 1);
	assert_int_equal(p.u.hello_ack.caps, AP_CAP_STREAM);
	assert_int_equal(p.u.hello_ack.keepalive_ms, 10000);
	assert_int_equal(p.u.hello_ack.pool, 4);

	assert_int_equal(ap_parse(ka, sizeof(ka), &p, &used, NULL), 0);
	assert_true(p.u.ka.ts == 0x0102030405060708ull);

	assert_int_equal(ap_parse(cr, sizeof(cr), &p, &used, NULL), 0);
	assert_int_equal(p.u.cres.id, 42);
	assert_int_equal(p.u.cres.result, AP_RES_UNREACHABLE);
	assert_int_equal(p.u.cres.code, AP_UNREACH_ADMIN);

	assert_int_equal(ap_parse(pg, sizeof(pg), &p, &used, NULL), 0);
	assert_int_equal(used, sizeof(pg));
	assert_int_equal(p.u.ping.id, 7);
	assert_int_equal(p.u.ping.dst, 0x0a000001);
	assert_int_equal(p.u.ping.src, 0xc0a80002);
	assert_int_equal(p.u.ping.ident, 0x1234);
	assert_int_equal(p.u.ping.seq, 5);
	assert_int_equal(p.u.ping.ttl, 64);
	assert_int_equal(p.u.ping.timeout_ms, 1000);
	assert_int_equal(p.u.ping.data_len, 2);
	assert_ptr_equal(p.u.ping.data, pg + 24); /* points into the buffer */

	assert_int_equal(ap_parse(pr, sizeof(pr), &p, &used, NULL), 0);
	assert_int_equal(p.u.pres.id, 7);
	assert_int_equal(p.u.pres.result, AP_RES_OK);
	assert_int_equal(p.u.pres.ttl, 64);
	assert_int_equal(p.u.pres.from, 0x08080808);
	assert_int_equal(p.u.pres.data_len, 2);
	assert_memory_equal(p.u.pres.data, "hi", 2);

	assert_int_equal(ap_parse(er, sizeof(er), &p, &used, NULL), 0);
	assert_int_equal(p.u.error.code, AP_ERR_VERSION);
	assert_string_equal(p.u.error.text, "no");
}

/* parse rc and a non-empty reason */
static int parse_rc(const uint8_t *buf, size_t len)
{
	struct ap_msg m;
	const char *why = NULL;
	size_t used = 99;
	int rc;

	rc = ap_parse(buf, len, &m, &used, &why);
	if (rc != 0 && rc != -EAGAIN) {
		assert_non_null(why);
		assert_true(strlen(why) > 0);
		assert_int_equal(used, 0);
	}
	return rc;
}

static void test_oversized(void **state)
{
	uint8_t h[AP_HDR_LEN] = { AP_PING, 0, 0x10, 0x01 }; /* body 4097 */
	const char *why = NULL;
	struct ap_msg m;
	size_t used;

	(void)state;
	/* as soon as the header is there, whatever the type */
	for (unsigned int t = 0; t < 256; t++) {
		h[0] = (uint8_t)t;
		assert_int_equal(parse_rc(h, sizeof(h)), -E2BIG);
	}
	h[0] = AP_HELLO;
	h[2] = h[3] = 0xff;
	assert_int_equal(ap_parse(h, sizeof(h), &m, &used, &why), -E2BIG);
	assert_non_null(strstr(why, "oversized"));
	assert_int_equal(ap_err_of(-E2BIG), AP_ERR_OVERSIZED);
	/* fewer than 4 bytes: not known yet */
	assert_int_equal(parse_rc(h, 3), -EAGAIN);
	/* AP_MAX_BODY itself is not oversized, just too long for any type */
	h[0] = AP_PING;
	h[2] = 0x10, h[3] = 0x00;
	assert_int_equal(parse_rc(h, sizeof(h)), -EBADMSG);
}

static void test_unknown_type_and_flags(void **state)
{
	uint8_t f[4 + 8] = { AP_KEEPALIVE, 0, 0, 8 };
	static const uint8_t bad_types[] = { 0, AP_TYPE_MAX, AP_TYPE_MAX + 1, 0x7f, 0x80, 0xff };
	const char *why = NULL;
	struct ap_msg m;
	size_t used;

	(void)state;
	assert_int_equal(parse_rc(f, sizeof(f)), 0);
	for (size_t i = 0; i < sizeof(bad_types); i++) {
		f[0] = bad_types[i];
		/* decided from the header alone */
		assert_int_equal(parse_rc(f, AP_HDR_LEN), -EPROTO);
		assert_int_equal(parse_rc(f, sizeof(f)), -EPROTO);
	}
	f[0] = AP_KEEPALIVE;
	for (unsigned int fl = 1; fl < 256; fl <<= 1) {
		f[1] = (uint8_t)fl;
		assert_int_equal(ap_parse(f, sizeof(f), &m, &used, &why), -EPROTO);
		assert_string_equal(why, "non-zero flags");
	}
	f[1] = 0;
	f[0] = 0;
	assert_int_equal(ap_parse(f, sizeof(f), &m, &used, &why), -EPROTO);
	assert_string_equal(why, "unknown message type");
	assert_int_equal(ap_err_of(-EPROTO), AP_ERR_UNKNOWN_TYPE);
	assert_int_equal(ap_err_of(-EBADMSG), AP_ERR_MALFORMED);
	assert_int_equal(ap_err_of(-ENOMEM), AP_ERR_INTERNAL);
}

/* Encode m, apply a one-byte change at offset off, expect -EBADMSG. */
static void expect_badmsg_at(const struct ap_msg *m, size_t off, uint8_t val)
{
	uint8_t buf[FRAME_MAX];
	int n;

	n = ap_encode(m, buf, sizeof(buf));
	assert_true(n > 0 && off < (size_t)n);
	buf[off] = val;
	assert_int_equal(parse_rc(buf, (size_t)n), -EBADMSG);
}

/* Encode m, then claim a body `delta` bytes longer or shorter (with the
 * bytes present): -EBADMSG, decided from the header alone when the length
 * is outside the type's bounds. */
static void expect_badlen(const struct ap_msg *m, int delta)
{
	uint8_t buf[FRAME_MAX + 16] = { 0 };
	int n, blen;

	n = ap_encode(m, buf, FRAME_MAX);
	assert_true(n > 0);
	blen = n - AP_HDR_LEN + delta;
	assert_true(blen >= 0 && blen <= AP_MAX_BODY);
	buf[2] = (uint8_t)(blen >> 8);
	buf[3] = (uint8_t)blen;
	assert_int_equal(parse_rc(buf, (size_t)(AP_HDR_LEN + blen)), -EBADMSG);
}

static size_t fixed_body(const struct ap_msg *m)
{
	uint8_t buf[FRAME_MAX];
	int n = ap_encode(m, buf, sizeof(buf));

	assert_true(n >= AP_HDR_LEN);
	return (size_t)n - AP_HDR_LEN;
}

static void test_fixed_lengths(void **state)
{
	struct ap_msg fixed[7];
	struct ap_msg m;

	(void)state;
	fixed[0] = (struct ap_msg){ .type = AP_HELLO_ACK };
	fixed[0].u.hello_ack.version = 1;
	fixed[1] = (struct ap_msg){ .type = AP_KEEPALIVE };
	fixed[2] = (struct ap_msg){ .type = AP_KEEPALIVE_ACK };
	fixed[3] = connect_msg();
	fixed[4] = cres(AP_RES_OK, 0, 1460);
	fixed[5] = cres(AP_RES_REFUSE, 0, 0);
	fixed[6] = (struct ap_msg){ .type = AP_RETIRE, .u.retire.stream = 0x0123456789abcdefull };
	for (size_t i = 0; i < 7; i++) {
		expect_badlen(&fixed[i], -1);
		expect_badlen(&fixed[i], +1);
		expect_badlen(&fixed[i], -(int)(fixed_body(&fixed[i]))); /* empty body */
	}
	/* header-only verdict: KEEPALIVE claiming 9 bytes, none of them here */
	{
		const uint8_t h[4] = { AP_KEEPALIVE, 0, 0, 9 };

		assert_int_equal(parse_rc(h, sizeof(h)), -EBADMSG);
	}
	/* bodies shorter than the fixed part of variable types */
	m = hello(1, 1, 0, "");
	expect_badlen(&m, -1);
	m = ping(0);
	expect_badlen(&m, -1);
	m = pres(AP_RES_OK, 0, 0);
	expect_badlen(&m, -1);
	m = error_msg(AP_ERR_INTERNAL, "");
	expect_badlen(&m, -1);
	/* tails above their bounds */
	m = ping(AP_MAX_PING_DATA);
	expect_badlen(&m, +1);
	m = pres(AP_RES_OK, 0, AP_MAX_PING_DATA);
	expect_badlen(&m, +1);
}

static void test_field_violations(void **state)
{
	char text[AP_MAX_TEXT + 1];
	uint8_t buf[FRAME_MAX];
	struct ap_msg m;
	const char *why;
	size_t used;
	int n;

	(void)state;
	memset(text, 'y', AP_MAX_TEXT);
	text[AP_MAX_TEXT] = '\0';

	/* HELLO: sw_len disagrees with the body (both ways), NUL inside,
	 * inverted or zero versions, the longest string plus one */
	m = hello(1, 2, 0, "abc");
	expect_badmsg_at(&m, 12, 2);
	expect_badmsg_at(&m, 12, 4);
	expect_badmsg_at(&m, 12, 255);
	expect_badmsg_at(&m, 14, 0);     /* sw "a\0c" */
	m = hello(2, 2, 0, "abc");
	expect_badmsg_at(&m, 7, 1);      /* ver_max 1 < ver_min 2 */
	expect_badmsg_at(&m, 5, 0);      /* ver_min 0x0002 -> 0x0000 */
	m = hello(1, 1, 0, text);
	n = ap_encode(&m, buf, sizeof(buf));
	assert_int_equal(n, 4 + 9 + AP_MAX_TEXT);
	buf[3]++;                        /* body 210: too long for HELLO */
	assert_int_equal(parse_rc(buf, sizeof(buf)), -EBADMSG);
	/* a NUL-containing string is rejected with a precise reason */
	m = hello(1, 1, 0, "ab");
	n = ap_encode(&m, buf, sizeof(buf));
	buf[13] = 0;
	assert_int_equal(ap_parse(buf, (size_t)n, &m, &used, &why), -EBADMSG);
	assert_string_equal(why, "HELLO: NUL byte in software string");

	/* HELLO_ACK: version 0 */
	m = (struct ap_msg){ .type = AP_HELLO_ACK };
	m.u.hello_ack.version = 1;
	expect_badmsg_at(&m, 5, 0);

	/* CONNECT: proto other than TCP, pad */
	m = connect_msg();
	expect_badmsg_at(&m, 16, 17);
	expect_badmsg_at(&m, 16, 0);
	expect_badmsg_at(&m, 17, 1);
	n = ap_encode(&m, buf, sizeof(buf));
	buf[16] = 17;
	assert_int_equal(ap_parse(buf, (size_t)n, &m, &used, &why), -EBADMSG);
	assert_string_equal(why, "CONNECT: proto is not 6 (TCP)");

	/* CONNECT_RESULT: results out of range, TIMEOUT (PING only), codes,
	 * mss without OK */
	m = cres(AP_RES_OK, 0, 0);
	expect_badmsg_at(&m, 8, AP_RES_TIMEOUT);
	expect_badmsg_at(&m, 8, AP_RES_NO_STREAM + 1);
	expect_badmsg_at(&m, 8, 255);
	expect_badmsg_at(&m, 9, 1);      /* code with OK */
	m = cres(AP_RES_UNREACHABLE, 1, 0);
	for (unsigned int c = 0; c < 256; c++) {
		if (c <= 3 || c == 13)
			continue;
		expect_badmsg_at(&m, 9, (uint8_t)c);
	}
	expect_badmsg_at(&m, 11, 1);     /* mss without OK */
	m = cres(AP_RES_REFUSE, 0, 0);
	expect_badmsg_at(&m, 9, 3);
	expect_badmsg_at(&m, 10, 5);

	/* PING: pad */
	m = ping(4);
	expect_badmsg_at(&m, 21, 1);

	/* PING_RESULT: results not allowed here, codes, pad, data without OK */
	m = pres(AP_RES_OK, 0, 0);
	expect_badmsg_at(&m, 8, AP_RES_REFUSE);
	expect_badmsg_at(&m, 8, AP_RES_NO_STREAM);
	expect_badmsg_at(&m, 8, 6);
	expect_badmsg_at(&m, 9, 3);      /* code with OK */
	expect_badmsg_at(&m, 11, 1);     /* pad */
	m = pres(AP_RES_UNREACHABLE, 0, 0);
	expect_badmsg_at(&m, 9, 4);
	expect_badmsg_at(&m, 9, 14);
	m = pres(AP_RES_OK, 0, 8);
	expect_badmsg_at(&m, 8, AP_RES_TIMEOUT); /* TIMEOUT with data */
	expect_badmsg_at(&m, 8, AP_RES_BUSY);

	/* ERROR: codes, text_len both ways, NUL in text */
	m = error_msg(AP_ERR_MALFORMED, "bad");
	expect_badmsg_at(&m, 5, 0);
	expect_badmsg_at(&m, 5, AP_ERR_INTERNAL + 1);
	expect_badmsg_at(&m, 4, 1);      /* code 0x0101 */
	expect_badmsg_at(&m, 6, 2);
	expect_badmsg_at(&m, 6, 4);
	expect_badmsg_at(&m, 8, 0);
	n = ap_encode(&m, buf, sizeof(buf));
	buf[6] = 200;
	assert_int_equal(ap_parse(buf, (size_t)n, &m, &used, &why), -EBADMSG);
	assert_string_equal(why, "ERROR: text_len does not match the body length");
}

static void test_back_to_back(void **state)
{
	uint8_t buf[256];
	struct ap_msg a = hello(1, 1, AP_CAP_STREAM, "x"), b = connect_msg(), c, p;
	size_t off = 0, used;
	int n;

	(void)state;
	c = error_msg(AP_ERR_UNEXPECTED, "CONNECT from agent");
	n = ap_encode(&a, buf, sizeof(buf));
	off = (size_t)n;
	n = ap_encode(&b, buf + off, sizeof(buf) - off);
	off += (size_t)n;
	n = ap_encode(&c, buf + off, sizeof(buf) - off);
	off += (size_t)n - 1; /* the third frame one byte short */

	assert_int_equal(ap_parse(buf, off, &p, &used, NULL), 0);
	assert_msg_equal(&a, &p);
	assert_int_equal(used, 4 + 9 + 1);
	{
		size_t pos = used;

		assert_int_equal(ap_parse(buf + pos, off - pos, &p, &used, NULL), 0);
		assert_msg_equal(&b, &p);
		assert_int_equal(used, 4 + 28);
		pos += used;
		assert_int_equal(ap_parse(buf + pos, off - pos, &p, &used, NULL), -EAGAIN);
		assert_int_equal(ap_parse(buf + pos, off - pos + 1, &p, &used, NULL), 0);
		assert_msg_equal(&c, &p);
		assert_int_equal(pos + used, off + 1);
	}
}

static void test_direction(void **state)
{
	static const struct {
		unsigned int type;
		int agent, appliance;
	} t[] = {
		{ AP_HELLO, 1, 0 },          { AP_HELLO_ACK, 0, 1 },
		{ AP_KEEPALIVE, 1, 1 },      { AP_KEEPALIVE_ACK, 1, 1 },
		{ AP_CONNECT, 0, 1 },        { AP_CONNECT_RESULT, 1, 0 },
		{ AP_PING, 0, 1 },           { AP_PING_RESULT, 1, 0 },
		{ AP_ERROR, 1, 1 },          { AP_RETIRE, 0, 1 },
		{ 0, 0, 0 },
		{ AP_TYPE_MAX, 0, 0 },       { 255, 0, 0 },
		{ 0x100 + AP_HELLO, 0, 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		assert_int_equal(ap_dir_ok(t[i].type, AP_FROM_AGENT), t[i].agent);
		assert_int_equal(ap_dir_ok(t[i].type, AP_FROM_APPLIANCE), t[i].appliance);
		assert_int_equal(ap_dir_ok(t[i].type, (enum ap_dir)0), 0);
		assert_int_equal(ap_dir_ok(t[i].type, (enum ap_dir)3), 0);
	}
}

static void test_version_pick(void **state)
{
	(void)state;
	assert_int_equal(ap_version_pick(1, 1, 1, 1), 1);
	assert_int_equal(ap_version_pick(1, 3, 2, 5), 3);
	assert_int_equal(ap_version_pick(2, 5, 1, 3), 3);
	assert_int_equal(ap_version_pick(1, 9, 4, 4), 4);
	assert_int_equal(ap_version_pick(1, 65535, 1, 65535), 65535);
	assert_int_equal(ap_version_pick(1, 1, 2, 2), -1);  /* disjoint */
	assert_int_equal(ap_version_pick(3, 4, 1, 2), -1);
	assert_int_equal(ap_version_pick(2, 1, 1, 2), -1);  /* empty range */
	assert_int_equal(ap_version_pick(1, 2, 2, 1), -1);
	assert_int_equal(ap_version_pick(0, 0, 0, 0), -1);  /* no version 0 */
	assert_int_equal(ap_version_pick(0, 1, 0, 1), 1);
	assert_int_equal(ap_version_pick(AP_VERSION, AP_VERSION, 1, AP_VERSION), AP_VERSION);
}

static void test_encode_rejects(void **state)
{
	uint8_t buf[FRAME_MAX];
	struct ap_msg m;

	(void)state;
	m = (struct ap_msg){ .type = 0 };
	assert_int_equal(ap_encode(&m, buf, sizeof(buf)), -EINVAL);
	m.type = AP_TYPE_MAX;
	assert_int_equal(ap_encode(&m, buf, sizeof(buf)), -EINVAL);

	m = hello(1, 1, 0, "");
	m.u.hello.sw_len = AP_MAX_TEXT + 1;
	memset(m.u.hello.sw, 'a', AP_MAX_TEXT + 1);
	assert_int_equal(ap_encode(&m, buf, sizeof(buf)), -EINVAL);
	m = hello(1, 1, 0, "abc");
	m.u.hello.sw_len = 4; /* takes the NUL in */
	assert_int_equal(ap_encode(&m, buf, sizeof(buf)), -EINVAL);
	m = hello(2, 1, 0, "");
	assert_int_equal(ap_encode(&m, buf, sizeof(buf)), -EINVAL);

	m = (struct ap_msg){ .type = AP_HELLO_ACK };
	assert_int_equal(ap_encode(&m, buf, sizeof(buf)), -EINVAL); /* version 0 */

	m = connect_msg();
	m.u.connect.proto = 17;
	assert_int_equal(ap_encode(&m, buf, sizeof(buf)), -EINVAL);
	m = connect_msg();
	m.u.connect.pad = 0x5a; /* ignored: always written as zero */
	assert_int_equal(ap_encode(&m, buf, sizeof(buf)), 4 + 28);
	assert_int_equal(buf[17], 0);

	m = cres(AP_RES_TIMEOUT, 0, 0);
	assert_int_equal(ap_encode(&m, buf, sizeof(buf)), -EINVAL);
	m = cres(AP_RES_UNREACHABLE, 4, 0);
	assert_int_equal(ap_encode(&m, buf, sizeof(buf)), -EINVAL);
	m = cres(AP_RES_REFUSE, 0, 1460);
	assert_int_equal(ap_encode(&m, buf, sizeof(buf)), -EINVAL);

	m = ping(AP_MAX_PING_DATA + 1);
	assert_int_equal(ap_encode(&m, buf, sizeof(buf)), -EINVAL);
	m = ping(0);
	m.u.ping.data_len = 1; /* data NULL */
	assert_int_equal(ap_encode(&m, buf, sizeof(buf)), -EINVAL);

	m = pres(AP_RES_OK, 0, AP_MAX_PING_DATA + 1);
	assert_int_equal(ap_encode(&m, buf, sizeof(buf)), -EINVAL);
	m = pres(AP_RES_TIMEOUT, 0, 4);
	assert_int_equal(ap_encode(&m, buf, sizeof(buf)), -EINVAL);
	m = pres(AP_RES_NO_STREAM, 0, 0);
	assert_int_equal(ap_encode(&m, buf, sizeof(buf)), -EINVAL);

	m = error_msg(0, "");
	assert_int_equal(ap_encode(&m, buf, sizeof(buf)), -EINVAL);
	m = error_msg(AP_ERR_INTERNAL + 1, "");
	assert_int_equal(ap_encode(&m, buf, sizeof(buf)), -EINVAL);
	m = error_msg(AP_ERR_INTERNAL, "");
	m.u.error.text_len = AP_MAX_TEXT + 1;
	memset(m.u.error.text, 'a', AP_MAX_TEXT + 1);
	assert_int_equal(ap_encode(&m, buf, sizeof(buf)), -EINVAL);

	/* -EINVAL wins over -ENOSPC; a valid message with no room is -ENOSPC */
	m = error_msg(0, "");
	assert_int_equal(ap_encode(&m, NULL, 0), -EINVAL);
	m = error_msg(AP_ERR_INTERNAL, "");
	assert_int_equal(ap_encode(&m, NULL, 0), -ENOSPC);
	assert_int_equal(ap_encode(&m, buf, AP_HDR_LEN + 2), -ENOSPC);
	assert_int_equal(ap_encode(&m, buf, AP_HDR_LEN + 3), AP_HDR_LEN + 3);
}

static void test_strings(void **state)
{
	(void)state;
	assert_string_equal(ap_type_str(AP_HELLO), "HELLO");
	assert_string_equal(ap_type_str(AP_HELLO_ACK), "HELLO_ACK");
	assert_string_equal(ap_type_str(AP_KEEPALIVE), "KEEPALIVE");
	assert_string_equal(ap_type_str(AP_KEEPALIVE_ACK), "KEEPALIVE_ACK");
	assert_string_equal(ap_type_str(AP_CONNECT), "CONNECT");
	assert_string_equal(ap_type_str(AP_CONNECT_RESULT), "CONNECT_RESULT");
	assert_string_equal(ap_type_str(AP_PING), "PING");
	assert_string_equal(ap_type_str(AP_PING_RESULT), "PING_RESULT");
	assert_string_equal(ap_type_str(AP_ERROR), "ERROR");
	assert_string_equal(ap_type_str(0), "?");
	assert_string_equal(ap_type_str(AP_TYPE_MAX), "?");
	assert_string_equal(ap_type_str(~0u), "?");

	assert_string_equal(ap_result_str(AP_RES_OK), "OK");
	assert_string_equal(ap_result_str(AP_RES_REFUSE), "REFUSE");
	assert_string_equal(ap_result_str(AP_RES_UNREACHABLE), "UNREACHABLE");
	assert_string_equal(ap_result_str(AP_RES_TIMEOUT), "TIMEOUT");
	assert_string_equal(ap_result_str(AP_RES_BUSY), "BUSY");
	assert_string_equal(ap_result_str(AP_RES_NO_STREAM), "NO_STREAM");
	assert_string_equal(ap_result_str(6), "?");
	assert_string_equal(ap_result_str(~0u), "?");

	assert_string_equal(ap_err_str(AP_ERR_MALFORMED), "MALFORMED");
	assert_string_equal(ap_err_str(AP_ERR_OVERSIZED), "OVERSIZED");
	assert_string_equal(ap_err_str(AP_ERR_UNKNOWN_TYPE), "UNKNOWN_TYPE");
	assert_string_equal(ap_err_str(AP_ERR_UNEXPECTED), "UNEXPECTED");
	assert_string_equal(ap_err_str(AP_ERR_VERSION), "VERSION");
	assert_string_equal(ap_err_str(AP_ERR_UNKNOWN_ID), "UNKNOWN_ID");
	assert_string_equal(ap_err_str(AP_ERR_REFUSED), "REFUSED");
	assert_string_equal(ap_err_str(AP_ERR_INTERNAL), "INTERNAL");
	assert_string_equal(ap_err_str(0), "?");
	assert_string_equal(ap_err_str(9), "?");
	assert_string_equal(ap_err_str(~0u), "?");
}

/* Every reason fits an ERROR's text, so a receiver can send it as is. */
static void test_why_fits_error_text(void **state)
{
	uint8_t buf[FRAME_MAX];
	struct ap_msg m, e;
	const char *why;
	size_t used;
	int n;

	(void)state;
	m = hello(1, 1, 0, "abc");
	n = ap_encode(&m, buf, sizeof(buf));
	buf[12] = 7;
	assert_int_equal(ap_parse(buf, (size_t)n, &m, &used, &why), -EBADMSG);
	assert_string_equal(why, "HELLO: sw_len does not match the body length");
	e = error_msg((uint16_t)ap_err_of(-EBADMSG), why);
	assert_true(strlen(why) <= AP_MAX_TEXT);
	n = ap_encode(&e, buf, sizeof(buf));
	assert_true(n > 0);
}

/* --- issue 10: datagram associations on the control session ------------- */

static struct ap_msg da_open_msg(void)
{
	struct ap_msg m = { .type = AP_DA_OPEN };

	m.u.da_open = (struct ap_da_open){ .id = 1, .da = 2, .session = 9, .dst = 0xc613c80a,
					   .src = 0xc6120002, .dport = 53, .sport = 40000,
					   .idle_ms = 30000, .idle2_ms = 900000 };
	return m;
}

static void test_da_messages(void **state)
{
	static const uint8_t want_open[] = { AP_DA_OPEN, 0, 0, 36,
					     0, 0, 0, 1,  0, 0, 0, 2,  0, 0, 0, 0, 0, 0, 0, 9,
					     0xc6, 0x13, 0xc8, 0x0a,  0xc6, 0x12, 0, 2,  0, 53,
					     0x9c, 0x40,  0, 0, 0x75, 0x30,  0, 0x0d, 0xbb, 0xa0 };
	uint8_t buf[FRAME_MAX];
	struct ap_msg m;

	(void)state;
	m = da_open_msg();
	assert_int_equal(ap_encode(&m, buf, sizeof(buf)), (int)sizeof(want_open));
	assert_memory_equal(buf, want_open, sizeof(want_open));
	roundtrip(&m, 4 + 36);
	expect_badlen(&m, -1);
	expect_badlen(&m, +1);
	m.u.da_open.dport = 0;
	assert_int_equal(ap_encode(&m, buf, sizeof(buf)), -EINVAL);
	m = da_open_msg();
	expect_badmsg_at(&m, 4 + 25, 0);  /* dport 53 -> 0 */
	m.u.da_open.session = 0;
	assert_int_equal(ap_encode(&m, buf, sizeof(buf)), -EINVAL);
	m = da_open_msg();
	m.u.da_open.idle2_ms = m.u.da_open.idle_ms - 1;
	assert_int_equal(ap_encode(&m, buf, sizeof(buf)), -EINVAL);
	m = da_open_msg();
	expect_badmsg_at(&m, 4 + 28, 0xff); /* idle_ms beyond idle2_ms */

	m = (struct ap_msg){ .type = AP_DA_RESULT };
	m.u.da_result = (struct ap_da_result){ .id = 7, .result = AP_RES_OK, .relay_port = 50000 };
	roundtrip(&m, 4 + 8);
	expect_badmsg_at(&m, 4 + 5, 1);   /* pad */
	expect_badmsg_at(&m, 4 + 4, 9);   /* unknown result */
	m.u.da_result.relay_port = 0;     /* OK needs the relay port */
	assert_int_equal(ap_encode(&m, buf, sizeof(buf)), -EINVAL);
	m.u.da_result.result = AP_RES_REFUSE;
	roundtrip(&m, 4 + 8);
	m.u.da_result.relay_port = 1;     /* and only OK has one */
	assert_int_equal(ap_encode(&m, buf, sizeof(buf)), -EINVAL);
	m.u.da_result = (struct ap_da_result){ .id = 7, .result = AP_RES_UNREACHABLE };
	assert_int_equal(ap_encode(&m, buf, sizeof(buf)), -EINVAL);

	for (uint8_t r = AP_DA_END_IDLE; r <= AP_DA_END_APPLIANCE; r++) {
		m = (struct ap_msg){ .type = AP_DA_END };
		m.u.da_end = (struct ap_da_end_msg){ .da = 3, .reason = r, .replies = 65535 };
		roundtrip(&m, 4 + 8);
	}
	expect_badmsg_at(&m, 4 + 4, 0);   /* reason 0 */
	expect_badmsg_at(&m, 4 + 4, 4);
	expect_badmsg_at(&m, 4 + 5, 1);   /* pad */

	m = (struct ap_msg){ .type = AP_DGRAM_OPEN, .u.dgram_open.id = 0xffffffff };
	roundtrip(&m, 4 + 4);
	m = (struct ap_msg){ .type = AP_DGRAM_UP };
	m.u.dgram_up = (struct ap_dgram_up){ .id = 5, .result = AP_RES_OK, .session = UINT64_MAX };
	roundtrip(&m, 4 + 16);
	expect_badmsg_at(&m, 4 + 6, 1);   /* pads */
	expect_badmsg_at(&m, 4 + 4, AP_RES_REFUSE);
	m.u.dgram_up.session = 0;
	assert_int_equal(ap_encode(&m, buf, sizeof(buf)), -EINVAL);
	m.u.dgram_up.result = AP_RES_BUSY;
	roundtrip(&m, 4 + 16);
	m = (struct ap_msg){ .type = AP_DGRAM_CLOSE, .u.dgram_close.session = 1 };
	roundtrip(&m, 4 + 8);
	m.u.dgram_close.session = 0;
	assert_int_equal(ap_encode(&m, buf, sizeof(buf)), -EINVAL);

	assert_true(ap_dir_ok(AP_DA_OPEN, AP_FROM_APPLIANCE) && !ap_dir_ok(AP_DA_OPEN, AP_FROM_AGENT));
	assert_true(ap_dir_ok(AP_DA_RESULT, AP_FROM_AGENT) && !ap_dir_ok(AP_DA_RESULT, AP_FROM_APPLIANCE));
	assert_true(ap_dir_ok(AP_DA_END, AP_FROM_AGENT) && ap_dir_ok(AP_DA_END, AP_FROM_APPLIANCE));
	assert_true(ap_dir_ok(AP_DGRAM_UP, AP_FROM_AGENT) && !ap_dir_ok(AP_DGRAM_OPEN, AP_FROM_AGENT));
	assert_true(ap_dir_ok(AP_DGRAM_CLOSE, AP_FROM_APPLIANCE));
}

/* --- issue 10: DGRAM session frames ---------------------------------------- */

static int dparse_rc(const uint8_t *b, size_t n)
{
	struct ap_dmsg m;
	const char *why = NULL;
	size_t used;
	int rc = ap_dparse(b, n, &m, &used, &why);

	if (rc != 0 && rc != -EAGAIN)
		assert_true(why != NULL && why[0] != '\0');
	return rc;
}

static void droundtrip(const struct ap_dmsg *m, size_t want)
{
	static uint8_t buf[AP_HDR_LEN + 0xffff];
	struct ap_dmsg p;
	size_t used;
	int n = ap_dencode(m, buf, sizeof(buf));

	assert_int_equal(n, (int)want);
	assert_int_equal(ap_dencode(m, buf, want - 1), -ENOSPC);
	assert_int_equal(ap_dparse(buf, want, &p, &used, NULL), 0);
	assert_int_equal(used, want);
	assert_int_equal(p.type, m->type);
	assert_int_equal(p.da, m->da);
	assert_int_equal(p.credit, m->credit);
	assert_int_equal(p.icmp_type, m->icmp_type);
	assert_int_equal(p.icmp_code, m->icmp_code);
	assert_int_equal(p.mtu, m->mtu);
	assert_int_equal(p.from, m->from);
	assert_int_equal(p.len, m->len);
	if (m->len)
		assert_memory_equal(p.data, m->data, m->len);
	for (size_t k = 0; k < want; k++)
		assert_int_equal(ap_dparse(buf, k, &p, &used, NULL), -EAGAIN);
}

static void test_dgram_frames(void **state)
{
	static uint8_t big[AP_DGRAM_MAX_PAYLOAD + 1];
	static uint8_t buf[AP_HDR_LEN + 0xffff];
	static const uint8_t want_data[] = { AP_D_DATA, 0, 0, 7, 0, 0, 0, 42, 'a', 'b', 'c' };
	static const uint8_t want_icmp[] = { AP_D_ICMP, 0, 0, 12, 0, 0, 0, 42, 3, 4, 0x05, 0xdc,
					     0xc6, 0x13, 0xc8, 0x01 };
	struct ap_dmsg m;

	(void)state;
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 7);
	m = (struct ap_dmsg){ .type = AP_D_DATA, .da = 42, .len = 3, .data = (const uint8_t *)"abc" };
	assert_int_equal(ap_dencode(&m, buf, sizeof(buf)), (int)sizeof(want_data));
	assert_memory_equal(buf, want_data, sizeof(want_data));
	droundtrip(&m, sizeof(want_data));
	m.len = 0;                        /* an empty datagram is a datagram */
	droundtrip(&m, 8);
	m = (struct ap_dmsg){ .type = AP_D_DATA, .da = 1, .len = AP_DGRAM_MAX_PAYLOAD, .data = big };
	droundtrip(&m, 8 + AP_DGRAM_MAX_PAYLOAD);
	m.len = AP_DGRAM_MAX_PAYLOAD + 1; /* the largest IPv4 UDP payload, no more */
	assert_int_equal(ap_dencode(&m, buf, sizeof(buf)), -EINVAL);
	{
		uint8_t h[4] = { AP_D_DATA, 0, 0xff, 0xff }; /* 4 + 65531 */

		assert_int_equal(dparse_rc(h, sizeof(h)), -EBADMSG);
		h[2] = 0, h[3] = 3;       /* shorter than the da */
		assert_int_equal(dparse_rc(h, sizeof(h)), -EBADMSG);
	}

	m = (struct ap_dmsg){ .type = AP_D_CREDIT, .credit = 64 };
	droundtrip(&m, 8);
	m.credit = 0;
	assert_int_equal(ap_dencode(&m, buf, sizeof(buf)), -EINVAL);

	m = (struct ap_dmsg){ .type = AP_D_ICMP, .da = 42, .icmp_type = 3, .icmp_code = 4,
			      .mtu = 1500, .from = 0xc613c801 };
	assert_int_equal(ap_dencode(&m, buf, sizeof(buf)), (int)sizeof(want_icmp));
	assert_memory_equal(buf, want_icmp, sizeof(want_icmp));
	droundtrip(&m, sizeof(want_icmp));
	m.icmp_code = 3;                  /* port unreachable has no mtu */
	assert_int_equal(ap_dencode(&m, buf, sizeof(buf)), -EINVAL);
	m.mtu = 0;
	droundtrip(&m, 16);
	m.icmp_code = 16;
	assert_int_equal(ap_dencode(&m, buf, sizeof(buf)), -EINVAL);
	m = (struct ap_dmsg){ .type = AP_D_ICMP, .icmp_type = 11, .icmp_code = 1 };
	droundtrip(&m, 16);
	m.icmp_code = 2;
	assert_int_equal(ap_dencode(&m, buf, sizeof(buf)), -EINVAL);
	m = (struct ap_dmsg){ .type = AP_D_ICMP, .icmp_type = 5 };
	assert_int_equal(ap_dencode(&m, buf, sizeof(buf)), -EINVAL);

	/* unknown types and flags: -EPROTO from the header */
	{
		uint8_t h[8] = { 0, 0, 0, 4, 0, 0, 0, 1 };

		assert_int_equal(dparse_rc(h, 4), -EPROTO);
		h[0] = AP_DTYPE_MAX;
		assert_int_equal(dparse_rc(h, 4), -EPROTO);
		h[0] = AP_D_CREDIT, h[1] = 1;
		assert_int_equal(dparse_rc(h, 4), -EPROTO);
		h[1] = 0;
		assert_int_equal(dparse_rc(h, 8), 0);
		h[3] = 5;                 /* CREDIT of 5 bytes */
		assert_int_equal(dparse_rc(h, 4), -EBADMSG);
	}
	assert_true(ap_ddir_ok(AP_D_DATA, AP_FROM_AGENT) && ap_ddir_ok(AP_D_DATA, AP_FROM_APPLIANCE));
	assert_true(ap_ddir_ok(AP_D_CREDIT, AP_FROM_AGENT) && !ap_ddir_ok(AP_D_CREDIT, AP_FROM_APPLIANCE));
	assert_true(ap_ddir_ok(AP_D_ICMP, AP_FROM_AGENT) && !ap_ddir_ok(AP_D_ICMP, AP_FROM_APPLIANCE));
	assert_false(ap_ddir_ok(0, AP_FROM_AGENT) || ap_ddir_ok(AP_DTYPE_MAX, AP_FROM_AGENT));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip_every_type),
		cmocka_unit_test(test_known_answer_hello),
		cmocka_unit_test(test_known_answer_connect),
		cmocka_unit_test(test_known_answer_others),
		cmocka_unit_test(test_oversized),
		cmocka_unit_test(test_unknown_type_and_flags),
		cmocka_unit_test(test_fixed_lengths),
		cmocka_unit_test(test_field_violations),
		cmocka_unit_test(test_back_to_back),
		cmocka_unit_test(test_direction),
		cmocka_unit_test(test_version_pick),
		cmocka_unit_test(test_encode_rejects),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_why_fits_error_text),
		cmocka_unit_test(test_da_messages),
		cmocka_unit_test(test_dgram_frames),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
