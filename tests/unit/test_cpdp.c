/* Ring message codec: round trips and every rejection cpdp_msg_check makes. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <sluice/cpdp.h>
#include <sluice/shm.h>

static struct cpdp_route gw_route(void)
{
	struct cpdp_route r = {
		.prefix = 0x0a000000, /* 10.0.0.0/8 */
		.plen = 8,
		.type = SL_RT_GATEWAY,
		.port = 1,
		.gw = 0xc6130002, /* 198.19.0.2 */
		.origin = SL_RO_STATIC,
	};
	return r;
}

static struct cpdp_impair imp_valid(void)
{
	struct cpdp_impair i = {
		.port = 0, .dir_mask = 1u << SL_DIR_IN,
		.drop_ppm = 10000, .reorder_ppm = 5000, .dup_ppm = 1000000, .seed = 42,
	};
	return i;
}

static void test_init(void **state)
{
	struct cpdp_msg m;

	(void)state;
	memset(&m, 0xa5, sizeof(m));
	cpdp_msg_init(&m, CPDP_STATS_CLEAR, 77);
	assert_int_equal(m.version, CPDP_VERSION);
	assert_int_equal(m.type, CPDP_STATS_CLEAR);
	assert_int_equal(m.seq, 77);
	for (size_t i = 0; i < sizeof(m.u.raw); i++)
		assert_int_equal(m.u.raw[i], 0);
	assert_int_equal(cpdp_msg_check(&m), 0);
	cpdp_msg_init(&m, CPDP_NOP, 0);
	assert_int_equal(cpdp_msg_check(&m), 0);
}

static void test_route_add_roundtrip(void **state)
{
	struct cpdp_route r = gw_route();
	struct cpdp_msg m, copy;

	(void)state;
	assert_int_equal(cpdp_route_add_encode(&m, 1234, &r), 0);
	memcpy(&copy, &m, sizeof(m)); /* what a ring does */
	assert_int_equal(cpdp_msg_check(&copy), 0);
	assert_int_equal(copy.type, CPDP_ROUTE_ADD);
	assert_int_equal(copy.seq, 1234);
	assert_int_equal(copy.u.route.prefix, r.prefix);
	assert_int_equal(copy.u.route.plen, 8);
	assert_int_equal(copy.u.route.type, SL_RT_GATEWAY);
	assert_int_equal(copy.u.route.port, 1);
	assert_int_equal(copy.u.route.gw, r.gw);
	assert_int_equal(copy.u.route.origin, SL_RO_STATIC);

	/* direct routes carry no gateway, whatever the caller left there */
	r.type = SL_RT_DIRECT;
	assert_int_equal(cpdp_route_add_encode(&m, 1, &r), 0);
	assert_int_equal(m.u.route.gw, 0);
	assert_int_equal(cpdp_msg_check(&m), 0);

	/* the default route and a host route are valid */
	r = gw_route();
	r.prefix = 0;
	r.plen = 0;
	assert_int_equal(cpdp_route_add_encode(&m, 1, &r), 0);
	r.prefix = 0x0a000001;
	r.plen = 32;
	assert_int_equal(cpdp_route_add_encode(&m, 1, &r), 0);
}

static void test_route_add_rejects(void **state)
{
	struct cpdp_route r;
	struct cpdp_msg m;

	(void)state;
	r = gw_route();
	r.plen = 33;
	assert_int_equal(cpdp_route_add_encode(&m, 1, &r), -EINVAL);
	assert_int_equal(cpdp_msg_check(&m), -EINVAL);

	r = gw_route();
	r.prefix = 0x0a000100; /* 10.0.1.0/8: host bits set */
	assert_int_equal(cpdp_route_add_encode(&m, 1, &r), -EINVAL);
	assert_int_equal(cpdp_msg_check(&m), -EINVAL);
	r.prefix = 0x00000001;
	r.plen = 0;
	assert_int_equal(cpdp_route_add_encode(&m, 1, &r), -EINVAL);

	r = gw_route();
	r.gw = 0;
	assert_int_equal(cpdp_route_add_encode(&m, 1, &r), -EINVAL);
	assert_int_equal(cpdp_msg_check(&m), -EINVAL);

	r = gw_route();
	r.type = SL_RT_LOCAL;
	assert_int_equal(cpdp_route_add_encode(&m, 1, &r), -EINVAL);
	r.type = 0;
	assert_int_equal(cpdp_route_add_encode(&m, 1, &r), -EINVAL);
	r.type = SL_RT_GATEWAY + 1;
	assert_int_equal(cpdp_route_add_encode(&m, 1, &r), -EINVAL);

	r = gw_route();
	r.port = SL_MAX_PORTS;
	assert_int_equal(cpdp_route_add_encode(&m, 1, &r), -EINVAL);

	r = gw_route();
	r.origin = 0;
	assert_int_equal(cpdp_route_add_encode(&m, 1, &r), -EINVAL);

	/* a message corrupted after encoding is caught by the receiver */
	r = gw_route();
	assert_int_equal(cpdp_route_add_encode(&m, 1, &r), 0);
	m.u.route.plen = 40;
	assert_int_equal(cpdp_msg_check(&m), -EINVAL);
}

static void test_route_del(void **state)
{
	struct cpdp_msg m;

	(void)state;
	assert_int_equal(cpdp_route_del_encode(&m, 9, 0xc0a80000, 16), 0);
	assert_int_equal(cpdp_msg_check(&m), 0);
	assert_int_equal(m.type, CPDP_ROUTE_DEL);
	assert_int_equal(m.seq, 9);
	assert_int_equal(m.u.route.prefix, 0xc0a80000);
	assert_int_equal(m.u.route.plen, 16);

	assert_int_equal(cpdp_route_del_encode(&m, 9, 0xc0a80001, 16), -EINVAL);
	assert_int_equal(cpdp_msg_check(&m), -EINVAL);
	assert_int_equal(cpdp_route_del_encode(&m, 9, 0, 33), -EINVAL);
}

static void test_impair_roundtrip(void **state)
{
	struct cpdp_impair i = imp_valid();
	struct cpdp_msg m;

	(void)state;
	assert_int_equal(cpdp_impair_encode(&m, 5, &i), 0);
	assert_int_equal(cpdp_msg_check(&m), 0);
	assert_int_equal(m.type, CPDP_IMPAIR_SET);
	assert_int_equal(m.u.impair.port, 0);
	assert_int_equal(m.u.impair.dir_mask, 1);
	assert_int_equal(m.u.impair.drop_ppm, 10000);
	assert_int_equal(m.u.impair.reorder_ppm, 5000);
	assert_int_equal(m.u.impair.dup_ppm, 1000000);
	assert_int_equal(m.u.impair.seed, 42);

	i.dir_mask = (1u << SL_DIR_IN) | (1u << SL_DIR_OUT);
	assert_int_equal(cpdp_impair_encode(&m, 5, &i), 0);
}

static void test_impair_rejects(void **state)
{
	struct cpdp_impair i;
	struct cpdp_msg m;

	(void)state;
	i = imp_valid();
	i.drop_ppm = 1000001;
	assert_int_equal(cpdp_impair_encode(&m, 1, &i), -EINVAL);
	assert_int_equal(cpdp_msg_check(&m), -EINVAL);
	i = imp_valid();
	i.reorder_ppm = 2000000;
	assert_int_equal(cpdp_impair_encode(&m, 1, &i), -EINVAL);
	i = imp_valid();
	i.dup_ppm = UINT32_MAX;
	assert_int_equal(cpdp_impair_encode(&m, 1, &i), -EINVAL);
	i = imp_valid();
	i.dir_mask = 0;
	assert_int_equal(cpdp_impair_encode(&m, 1, &i), -EINVAL);
	assert_int_equal(cpdp_msg_check(&m), -EINVAL);
	i.dir_mask = 4;
	assert_int_equal(cpdp_impair_encode(&m, 1, &i), -EINVAL);
	i.dir_mask = 0x83;
	assert_int_equal(cpdp_impair_encode(&m, 1, &i), -EINVAL);
	i = imp_valid();
	i.port = SL_MAX_PORTS;
	assert_int_equal(cpdp_impair_encode(&m, 1, &i), -EINVAL);
}

static void test_reply(void **state)
{
	struct cpdp_route r = gw_route();
	struct cpdp_msg req, rep;

	(void)state;
	assert_int_equal(cpdp_route_add_encode(&req, 0xfffffff0u, &r), 0);
	cpdp_reply_encode(&rep, &req, -EEXIST);
	assert_int_equal(cpdp_msg_check(&rep), 0);
	assert_int_equal(rep.version, CPDP_VERSION);
	assert_int_equal(rep.type, CPDP_REPLY);
	assert_int_equal(rep.seq, 0xfffffff0u);
	assert_int_equal(rep.u.reply.req_type, CPDP_ROUTE_ADD);
	assert_int_equal(rep.u.reply.status, -EEXIST);

	cpdp_reply_encode(&rep, &req, 0);
	assert_int_equal(cpdp_msg_check(&rep), 0);
	cpdp_reply_encode(&rep, &req, 1); /* status must be 0 or -errno */
	assert_int_equal(cpdp_msg_check(&rep), -EINVAL);
	cpdp_reply_encode(&rep, &req, 0);
	rep.u.reply.req_type = CPDP_TYPE_MAX;
	assert_int_equal(cpdp_msg_check(&rep), -EINVAL);
}

static void test_check_version_type(void **state)
{
	struct cpdp_msg m;

	(void)state;
	cpdp_msg_init(&m, CPDP_STATS_CLEAR, 1);
	m.version = CPDP_VERSION + 1;
	assert_int_equal(cpdp_msg_check(&m), -EPROTO);
	m.version = 0;
	assert_int_equal(cpdp_msg_check(&m), -EPROTO);

	cpdp_msg_init(&m, CPDP_STATS_CLEAR, 1);
	m.type = CPDP_TYPE_MAX;
	assert_int_equal(cpdp_msg_check(&m), -EINVAL);
	m.type = CPDP_REPLY + 1;
	assert_int_equal(cpdp_msg_check(&m), -EINVAL);
	m.type = 0xffff;
	assert_int_equal(cpdp_msg_check(&m), -EINVAL);
	assert_int_equal(cpdp_msg_check(NULL), -EINVAL);
}

static void test_type_str(void **state)
{
	(void)state;
	assert_string_equal(cpdp_type_str(CPDP_NOP), "nop");
	assert_string_equal(cpdp_type_str(CPDP_ROUTE_ADD), "route_add");
	assert_string_equal(cpdp_type_str(CPDP_ROUTE_DEL), "route_del");
	assert_string_equal(cpdp_type_str(CPDP_IMPAIR_SET), "impair_set");
	assert_string_equal(cpdp_type_str(CPDP_STATS_CLEAR), "stats_clear");
	assert_string_equal(cpdp_type_str(CPDP_REPLY), "reply");
	assert_string_equal(cpdp_type_str(CPDP_TYPE_MAX), "unknown");
	assert_string_equal(cpdp_type_str(0x81), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init),
		cmocka_unit_test(test_route_add_roundtrip),
		cmocka_unit_test(test_route_add_rejects),
		cmocka_unit_test(test_route_del),
		cmocka_unit_test(test_impair_roundtrip),
		cmocka_unit_test(test_impair_rejects),
		cmocka_unit_test(test_reply),
		cmocka_unit_test(test_check_version_type),
		cmocka_unit_test(test_type_str),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
