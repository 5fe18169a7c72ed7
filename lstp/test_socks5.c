/* cmocka: the SOCKS5 codec (lstp/socks5.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "socks5.h"

static void greeting(void **st)
{
	struct socks5_greeting g;
	size_t used;
	const uint8_t both[] = { 5, 2, 0, 2 }, bad[] = { 4, 1, 0 }, zero[] = { 5, 0 };

	(void)st;
	for (size_t i = 0; i < sizeof(both); i++)
		assert_int_equal(socks5_greeting_parse(both, i, &g, &used), -EAGAIN);
	assert_int_equal(socks5_greeting_parse(both, sizeof(both), &g, &used), 0);
	assert_int_equal(used, 4);
	assert_true(g.none && g.userpass);
	assert_int_equal(socks5_greeting_parse(bad, sizeof(bad), &g, &used), -EBADMSG);
	assert_int_equal(socks5_greeting_parse(zero, sizeof(zero), &g, &used), -EBADMSG);
}

static void auth(void **st)
{
	const uint8_t ok[] = { 1, 3, 'b', 'o', 'b', 2, 'p', 'w' }, nul[] = { 1, 1, 0, 1, 'x' };
	char u[256], p[256];
	size_t used;

	(void)st;
	for (size_t i = 0; i < sizeof(ok); i++)
		assert_int_equal(socks5_auth_parse(ok, i, u, p, &used), -EAGAIN);
	assert_int_equal(socks5_auth_parse(ok, sizeof(ok), u, p, &used), 0);
	assert_string_equal(u, "bob");
	assert_string_equal(p, "pw");
	assert_int_equal(used, sizeof(ok));
	assert_int_equal(socks5_auth_parse(nul, sizeof(nul), u, p, &used), -EBADMSG);
}

static void request(void **st)
{
	const uint8_t v4[] = { 5, 1, 0, 1, 198, 18, 0, 1, 0, 80 };
	const uint8_t dom[] = { 5, 1, 0, 3, 4, 'h', 'o', 's', 't', 1, 187 };
	const uint8_t v6[] = { 5, 1, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 80 };
	const uint8_t bind[] = { 5, 2, 0, 1, 1, 2, 3, 4, 0, 80 };
	const uint8_t rsv[] = { 5, 1, 1, 1, 1, 2, 3, 4, 0, 80 };
	const uint8_t atyp[] = { 5, 1, 0, 9, 1 };
	struct socks5_req r;
	size_t used;

	(void)st;
	assert_int_equal(socks5_req_parse(v4, 9, &r, &used), -EAGAIN);
	assert_int_equal(socks5_req_parse(v4, sizeof(v4), &r, &used), 0);
	assert_int_equal(r.addr, 0xc6120001);
	assert_int_equal(r.port, 80);
	assert_int_equal(socks5_req_parse(dom, sizeof(dom), &r, &used), 0);
	assert_string_equal(r.name, "host");
	assert_int_equal(r.port, 443);
	assert_int_equal(used, sizeof(dom));
	assert_int_equal(socks5_req_parse(v6, sizeof(v6), &r, &used), -ENOTSUP);
	assert_int_equal(r.rep, SOCKS5_REP_ATYP);
	assert_int_equal(socks5_req_parse(bind, sizeof(bind), &r, &used), -ENOTSUP);
	assert_int_equal(r.rep, SOCKS5_REP_CMD);
	assert_int_equal(socks5_req_parse(rsv, sizeof(rsv), &r, &used), -EBADMSG);
	assert_int_equal(socks5_req_parse(atyp, sizeof(atyp), &r, &used), -ENOTSUP);
	assert_int_equal(r.rep, SOCKS5_REP_ATYP);
}

static void reply_and_client(void **st)
{
	uint8_t b[300], rep, m, s;
	size_t used;
	int n;
	const uint8_t want[] = { 5, 0, 0, 1, 10, 0, 0, 1, 0x1f, 0x90 };
	const uint8_t dreply[] = { 5, 2, 0, 3, 1, 'x', 0, 1 };

	(void)st;
	assert_int_equal(socks5_reply_encode(b, 0, 0x0a000001, 8080), 10);
	assert_memory_equal(b, want, 10);
	assert_int_equal(socks5_client_greeting(b, 1), 3);
	assert_int_equal(b[2], SOCKS5_M_USERPASS);
	assert_int_equal(socks5_client_method_parse((const uint8_t[]){ 5, 2 }, 2, &m, &used), 0);
	assert_int_equal(m, 2);
	n = socks5_client_auth(b, sizeof(b), "u", "pw");
	assert_int_equal(n, 6);
	assert_int_equal(socks5_client_auth(b, sizeof(b), "", "pw"), -EINVAL);
	assert_int_equal(socks5_client_auth_parse((const uint8_t[]){ 1, 0 }, 2, &s, &used), 0);
	assert_int_equal(s, 0);
	n = socks5_client_connect(b, sizeof(b), "198.18.0.1", 4433);
	assert_int_equal(n, 10);
	assert_int_equal(b[3], SOCKS5_ATYP_IPV4);
	n = socks5_client_connect(b, sizeof(b), "middle.test", 4433);
	assert_int_equal(n, 7 + 11);
	assert_int_equal(b[3], SOCKS5_ATYP_DOMAIN);
	assert_int_equal(socks5_client_reply_parse(want, 9, &rep, &used), -EAGAIN);
	assert_int_equal(socks5_client_reply_parse(want, 10, &rep, &used), 0);
	assert_int_equal(socks5_client_reply_parse(dreply, sizeof(dreply), &rep, &used), 0);
	assert_int_equal(rep, 2);
	assert_int_equal(used, sizeof(dreply));
	assert_string_equal(socks5_rep_str(2), "connection not allowed by ruleset");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(greeting),
		cmocka_unit_test(auth),
		cmocka_unit_test(request),
		cmocka_unit_test(reply_and_client),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
