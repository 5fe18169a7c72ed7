/* cmocka: sluice-lstp's configuration parser (lstp/lstp_conf.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "lstp_conf.h"

#define TLS "tls = { ca = \"ca.pem\"; cert = \"c.pem\"; key = \"c.key\"; };"

static struct lstp_conf c;
static char err[512];

static int load(const char *text)
{
	err[0] = '\0';
	return lstp_conf_load_str(&c, "t.conf", text, err, sizeof(err));
}

static void server_ok(void **st)
{
	(void)st;
	assert_int_equal(load("lstp = { role = \"server\"; name = \"b\"; common = \"k\";\n"
			      " middle = { address = \"198.18.0.1\"; port = 4000; };\n" TLS
			      " allow = [ \"198.18.0.0/15:80\", \"10.1.2.3\", \"10.2.0.0/16\" ];\n"
			      " services = ( { name = \"web\"; address = \"10.0.0.5\"; port = 80; } );\n"
			      " limits = { max_channels = 10; };\n"
			      " proxy = \"socks5://u:p%40ss@proxy.test:1081\"; };"),
			 0);
	assert_int_equal(c.role, LC_SERVER);
	assert_int_equal(c.middle_port, 4000);
	assert_int_equal(c.max_channels, 10);
	assert_int_equal(c.n_allow, 3);
	assert_true(lstp_conf_allowed(&c, 0xc6130001, 80));
	assert_false(lstp_conf_allowed(&c, 0xc6130001, 81));
	assert_true(lstp_conf_allowed(&c, 0x0a010203, 22));
	assert_false(lstp_conf_allowed(&c, 0x0a010204, 22));
	assert_true(lstp_conf_allowed(&c, 0x0a02ffff, 1));
	assert_int_equal(c.proxy.kind, LC_PROXY_SOCKS5);
	assert_string_equal(c.proxy.pass, "p@ss");
	assert_int_equal(c.proxy.port, 1081);
	assert_string_equal(c.services[0].name, "web");
}

static void client_ok(void **st)
{
	(void)st;
	assert_int_equal(load("lstp = { role = \"middle\"; name = \"a\"; common = \"k\";\n"
			      " middle = { address = \"0.0.0.0\"; };\n" TLS
			      " socks = { port = 1090; users = ( { user = \"u\"; password = \"p\"; } ); };\n"
			      " forwards = ( { listen_port = 8080; service = \"web\"; } ); };"),
			 0);
	assert_int_equal(c.role, LC_MIDDLE);
	assert_int_equal(c.middle_port, 4433);
	assert_int_equal(c.socks_port, 1090);
	assert_int_equal(c.n_users, 1);
	assert_int_equal(c.forwards[0].addr, 0x7f000001);
}

static void refused(void **st)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
		{ "lstp = { role = \"client\"; colour = 1; };", "t.conf:1: unknown key 'colour'" },
		{ "other = 1;", "unknown section 'other'" },
		{ "lstp = { role = \"peer\"; };", "'role' must be" },
		{ "lstp = { role = \"server\"; name = \"b\"; common = \"k\";\n middle = { address = \"m\"; };\n" TLS
		  "\n allow = [ \"10.0.0.1/8\" ]; };", "t.conf:4: 'allow[0]' \"10.0.0.1/8\" has host bits set" },
		{ "lstp = { role = \"server\"; name = \"b\"; common = \"k\";\n middle = { address = \"m\"; };\n" TLS
		  " allow = [ \"10.0.0.0/8:0\" ]; };", "'allow[0]' must be" },
		{ "lstp = { role = \"server\"; name = \"b\"; common = \"k\";\n middle = { address = \"m\"; };\n" TLS
		  " };", "needs 'services' or 'allow'" },
		{ "lstp = { role = \"client\"; name = \"a\"; common = \"k\";\n middle = { address = \"m\"; };\n" TLS
		  " };", "needs 'socks' or 'forwards'" },
		{ "lstp = { role = \"client\"; name = \"a\"; common = \"k\";\n middle = { address = \"m\"; };\n" TLS
		  " socks = {}; proxy = \"ftp://x\"; };", "'proxy': must start with" },
		{ "lstp = { role = \"middle\"; name = \"a\"; common = \"k\";\n middle = { address = \"mid.test\"; };\n" TLS
		  " socks = {}; };", "must be an IPv4 address for role middle" },
		{ "lstp = { role = \"client\"; name = \"a\"; common = \"k\";\n middle = { address = \"m\"; };\n" TLS
		  " socks = {}; reconnect = { min_ms = 10; max_ms = 5; }; };", "below 'min_ms'" },
		{ "lstp = { role = \"client\"; name = \"a b\"; common = \"k\"; };", "printable" },
	};
	size_t i;

	(void)st;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_not_equal(load(cases[i].text), 0);
		if (strstr(err, cases[i].want) == NULL)
			fail_msg("case %zu: \"%s\" does not contain \"%s\"", i, err, cases[i].want);
	}
}

static void proxy_url(void **st)
{
	struct lc_proxy p;

	(void)st;
	assert_null(lstp_proxy_parse("http://proxy:3128", &p));
	assert_int_equal(p.kind, LC_PROXY_HTTP);
	assert_int_equal(p.port, 3128);
	assert_null(lstp_proxy_parse("socks5://10.0.0.1", &p));
	assert_int_equal(p.port, 1080);
	assert_false(p.auth);
	assert_non_null(lstp_proxy_parse("socks5://u@10.0.0.1", &p)); /* RFC 1929: a password */
	assert_non_null(lstp_proxy_parse("http://h:0", &p));
	assert_non_null(lstp_proxy_parse("http://h:99999", &p));
	assert_non_null(lstp_proxy_parse("http://h/path", &p));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(server_ok),
		cmocka_unit_test(client_ok),
		cmocka_unit_test(refused),
		cmocka_unit_test(proxy_url),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
