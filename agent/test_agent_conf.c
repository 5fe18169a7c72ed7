/*
 * sluice-agent's configuration (agent_conf.c): the defaults docs/agent.md
 * promises, every key (the UDP ones and the deny list included), and each
 * rule with the line of its error; the proxy URL parser.  Pure: no files but libconfig's string reader.
 *
 * It lives beside the code (agent/meson.build registers it in the `unit`
 * suite) because sluice-agent is its own program with its own sources.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "agent_conf.h"

static struct agent_conf C;
static char err[512];

/* libconfig 1.5 leaks a string buffer on some syntax errors: not ours */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:libconfig.so\n";
}

#define REQ "appliance = \"198.18.100.1\"; ca = \"ca.pem\"; cert = \"a.pem\"; key = \"a.key\";"

static int load(const char *text)
{
	err[0] = '\0';
	return agent_conf_load_str(&C, "t.conf", text, err, sizeof(err));
}

static void expect_err(const char *text, const char *want)
{
	int rc = load(text);

	if (rc != -EINVAL || strstr(err, want) == NULL)
		fail_msg("expected an error containing \"%s\", got %d \"%s\"\n--- config:\n%s", want, rc,
			 err, text);
}

static void test_defaults(void **state)
{
	(void)state;
	assert_int_equal(load("agent = { " REQ " };"), 0);
	assert_string_equal(C.appliance, "198.18.100.1");
	assert_int_equal(C.port, 443);
	assert_false(C.proxy.set);
	assert_string_equal(C.server_name, "");
	assert_int_equal(C.stream_pool, 4);
	assert_int_equal(C.stream_pool_max, 64);
	assert_int_equal(C.max_connects, 256);
	assert_int_equal(C.max_relays, 4096);
	assert_int_equal(C.max_pings, 64);
	assert_int_equal(C.relay_buffer, 262144);
	assert_int_equal(C.connect_timeout_ms, 3000);
	assert_int_equal(C.dial_timeout_ms, 10000);
	assert_int_equal(C.backoff_min_ms, 100);
	assert_int_equal(C.backoff_max_ms, 5000);
	assert_int_equal(C.max_dgram_sessions, 64);
	assert_int_equal(C.max_das, 4096);
	assert_int_equal(C.dgram_credit, 1024);
	assert_int_equal(C.dgram_buffer, 1048576);
	assert_int_equal(C.n_deny, 0);
}

static void test_every_key(void **state)
{
	(void)state;
	assert_int_equal(load("agent = {\n"
			      "  appliance = \"gw.example.net\"; port = 8443;\n"
			      "  proxy = \"http://u%40x:p%3Aw@proxy.example.net:3128/\";\n"
			      "  ca = \"ca.pem\"; cert = \"a.pem\"; key = \"a.key\";\n"
			      "  server_name = \"appliance.sluice.test\";\n"
			      "  stream_pool = 8; stream_pool_max = 16; max_connects = 10;\n"
			      "  max_relays = 20; max_pings = 5; relay_buffer = 4096;\n"
			      "  connect_timeout_ms = 65535; dial_timeout_ms = 100;\n"
			      "  backoff_min_ms = 1; backoff_max_ms = 1;\n"
			      "  max_dgram_sessions = 4096; max_das = 1; dgram_credit = 2;\n"
			      "  dgram_buffer = 65536; deny = [ \"10.0.0.0/8\", \"0.0.0.0/0\" ];\n"
			      "};\n"),
			 0);
	assert_string_equal(C.appliance, "gw.example.net");
	assert_int_equal(C.port, 8443);
	assert_true(C.proxy.set);
	assert_true(C.proxy.auth);
	assert_string_equal(C.proxy.host, "proxy.example.net");
	assert_int_equal(C.proxy.port, 3128);
	assert_string_equal(C.proxy.user, "u@x");
	assert_string_equal(C.proxy.pass, "p:w");
	assert_string_equal(C.server_name, "appliance.sluice.test");
	assert_int_equal(C.stream_pool, 8);
	assert_int_equal(C.stream_pool_max, 16);
	assert_int_equal(C.relay_buffer, 4096);
	assert_int_equal(C.connect_timeout_ms, 65535);
	assert_int_equal(C.backoff_max_ms, 1);
	assert_int_equal(C.max_dgram_sessions, 4096);
	assert_int_equal(C.max_das, 1);
	assert_int_equal(C.dgram_credit, 2);
	assert_int_equal(C.dgram_buffer, 65536);
	assert_int_equal(C.n_deny, 2);
	assert_int_equal(C.deny[0].net, 0x0a000000u);
	assert_int_equal(C.deny[0].mask, 0xff000000u);
	assert_int_equal(C.deny[1].net, 0);
	assert_int_equal(C.deny[1].mask, 0); /* /0: everything */
}

/* The UDP keys: upper bounds, the deny list's forms (a list works as well
 * as an array, /32 is one host) and each way it can be wrong, with its line. */
static void test_dgram_keys(void **state)
{
	(void)state;
	assert_int_equal(load("agent = { " REQ " max_das = 1048576; dgram_credit = 1048576;"
			      " dgram_buffer = 67108864; deny = ( \"198.19.210.7/32\" ); };"),
			 0);
	assert_int_equal(C.max_das, 1048576);
	assert_int_equal(C.dgram_credit, 1048576);
	assert_int_equal(C.dgram_buffer, 67108864);
	assert_int_equal(C.n_deny, 1);
	assert_int_equal(C.deny[0].net, 0xc613d207u);
	assert_int_equal(C.deny[0].mask, 0xffffffffu);
	assert_int_equal(load("agent = { " REQ " deny = [ ]; };"), 0);
	assert_int_equal(C.n_deny, 0);

	expect_err("agent = { " REQ "\n max_dgram_sessions = 0; };",
		   "t.conf:2: 'max_dgram_sessions' is 0; it must be 1..4096");
	expect_err("agent = { " REQ " max_dgram_sessions = 4097; };", "'max_dgram_sessions' is 4097");
	expect_err("agent = { " REQ " max_das = 0; };", "'max_das' is 0; it must be 1..1048576");
	expect_err("agent = { " REQ " max_das = 1048577; };", "'max_das' is 1048577");
	expect_err("agent = { " REQ " dgram_credit = 1; };", "'dgram_credit' is 1; it must be 2..1048576");
	expect_err("agent = { " REQ " dgram_buffer = 65535; };",
		   "'dgram_buffer' is 65535; it must be 65536..67108864");
	expect_err("agent = { " REQ " dgram_buffer = 67108865; };", "'dgram_buffer' is 67108865");
	expect_err("agent = { " REQ " max_das = \"10\"; };", "'max_das' must be an integer");
	expect_err("agent = { " REQ "\n deny = \"10.0.0.0/8\"; };",
		   "t.conf:2: 'deny' must be an array of \"a.b.c.d/n\" strings");
	expect_err("agent = { " REQ "\n deny = [ \"10.0.0.0\" ]; };",
		   "t.conf:2: 'deny[0]' must be \"a.b.c.d/n\", got \"10.0.0.0\"");
	expect_err("agent = { " REQ " deny = [ \"10.0.0.0/8\", \"10.0.0.0/33\" ]; };",
		   "'deny[1]' must be \"a.b.c.d/n\", got \"10.0.0.0/33\"");
	expect_err("agent = { " REQ " deny = [ \"256.0.0.0/8\" ]; };", "'deny[0]' must be");
	expect_err("agent = { " REQ " deny = [ \"10.0.0.0/8x\" ]; };", "'deny[0]' must be");
	expect_err("agent = { " REQ " deny = [ \"10.0.0.1/8\" ]; };",
		   "'deny[0]' \"10.0.0.1/8\" has host bits set");
	expect_err("agent = { " REQ " deny = ( 10 ); };",
		   "'deny[0]' must be \"a.b.c.d/n\", got a non-string");
	expect_err("agent = { " REQ " deny = [ \"1.0.0.0/8\", \"2.0.0.0/8\", \"3.0.0.0/8\", \"4.0.0.0/8\","
		   " \"5.0.0.0/8\", \"6.0.0.0/8\", \"7.0.0.0/8\", \"8.0.0.0/8\", \"9.0.0.0/8\","
		   " \"10.0.0.0/8\", \"11.0.0.0/8\", \"12.0.0.0/8\", \"13.0.0.0/8\", \"14.0.0.0/8\","
		   " \"15.0.0.0/8\", \"16.0.0.0/8\", \"17.0.0.0/8\", \"18.0.0.0/8\", \"19.0.0.0/8\","
		   " \"20.0.0.0/8\", \"21.0.0.0/8\", \"22.0.0.0/8\", \"23.0.0.0/8\", \"24.0.0.0/8\","
		   " \"25.0.0.0/8\", \"26.0.0.0/8\", \"27.0.0.0/8\", \"28.0.0.0/8\", \"29.0.0.0/8\","
		   " \"30.0.0.0/8\", \"31.0.0.0/8\", \"32.0.0.0/8\", \"33.0.0.0/8\", \"34.0.0.0/8\","
		   " \"35.0.0.0/8\", \"36.0.0.0/8\", \"37.0.0.0/8\", \"38.0.0.0/8\", \"39.0.0.0/8\","
		   " \"40.0.0.0/8\", \"41.0.0.0/8\", \"42.0.0.0/8\", \"43.0.0.0/8\", \"44.0.0.0/8\","
		   " \"45.0.0.0/8\", \"46.0.0.0/8\", \"47.0.0.0/8\", \"48.0.0.0/8\", \"49.0.0.0/8\","
		   " \"50.0.0.0/8\", \"51.0.0.0/8\", \"52.0.0.0/8\", \"53.0.0.0/8\", \"54.0.0.0/8\","
		   " \"55.0.0.0/8\", \"56.0.0.0/8\", \"57.0.0.0/8\", \"58.0.0.0/8\", \"59.0.0.0/8\","
		   " \"60.0.0.0/8\", \"61.0.0.0/8\", \"62.0.0.0/8\", \"63.0.0.0/8\", \"64.0.0.0/8\","
		   " \"65.0.0.0/8\" ]; };",
		   "'deny' has 65 entries (at most 64)");
}

static void test_pool_cap_follows_pool(void **state)
{
	(void)state;
	assert_int_equal(load("agent = { " REQ " stream_pool = 100; };"), 0);
	assert_int_equal(C.stream_pool_max, 100);
	expect_err("agent = { " REQ "\n stream_pool = 8;\n stream_pool_max = 4; };",
		   "t.conf:3: 'stream_pool_max' (4) is below 'stream_pool' (8)");
}

static void test_errors(void **state)
{
	(void)state;
	expect_err("agent = { " REQ "\n  stream_poool = 4; };", "t.conf:2: unknown key 'stream_poool' in 'agent'");
	expect_err("agents = { };", "t.conf:1: unknown section 'agents'");
	expect_err("", "no 'agent = { ... };' section");
	expect_err("agent = 1;", "'agent' must be a group");
	expect_err("agent = { " REQ "\n\n port = 0; };", "t.conf:3: 'port' is 0; it must be 1..65535");
	expect_err("agent = { " REQ " port = \"443\"; };", "'port' must be an integer");
	expect_err("agent = { " REQ " relay_buffer = 100; };", "'relay_buffer' is 100");
	expect_err("agent = { " REQ " backoff_min_ms = 10; backoff_max_ms = 5; };",
		   "'backoff_max_ms' (5) is below 'backoff_min_ms' (10)");
	expect_err("agent = { ca = \"c\"; cert = \"a\"; key = \"k\"; };", "'appliance' (address or host name) is required");
	expect_err("agent = { appliance = \"x\"; cert = \"a\"; key = \"k\"; };", "'ca' (the CA file");
	expect_err("agent = { appliance = \"x\"; ca = \"c\"; key = \"k\"; };", "'cert' (our certificate");
	expect_err("agent = { appliance = \"x\"; ca = \"c\"; cert = \"a\"; };", "'key' (our private key");
	expect_err("agent = { " REQ " server_name = \"a b\"; };", "'server_name' \"a b\" is not");
	expect_err("agent = { " REQ " ca = \"\"; };", "t.conf:1:"); /* duplicate key: libconfig */
	expect_err("agent = { appliance = \"\"; ca = \"c\"; cert = \"a\"; key = \"k\"; };", "'appliance' is empty");
	expect_err("agent = { " REQ " proxy = \"http://u:hunter2@h:0\"; };", "'proxy': bad port");
	/* the password is never echoed */
	assert_null(strstr(err, "hunter2"));
	expect_err("agent = {\n " REQ " ", "t.conf:"); /* syntax: libconfig's line */
}

static void test_proxy_urls(void **state)
{
	struct agent_proxy p;

	(void)state;
	assert_null(agent_proxy_parse("http://198.18.100.2:8888", &p));
	assert_string_equal(p.host, "198.18.100.2");
	assert_int_equal(p.port, 8888);
	assert_false(p.auth);
	assert_null(agent_proxy_parse("http://proxy", &p));
	assert_int_equal(p.port, 80); /* an http URL's default */
	assert_null(agent_proxy_parse("http://user@proxy:1/", &p));
	assert_true(p.auth);
	assert_string_equal(p.user, "user");
	assert_string_equal(p.pass, "");
	assert_null(agent_proxy_parse("http://:pw@proxy:1", &p));
	assert_string_equal(p.user, "");
	assert_string_equal(p.pass, "pw");

	assert_non_null(agent_proxy_parse("https://proxy:1", &p));
	assert_non_null(agent_proxy_parse("socks5://proxy:1", &p));
	assert_non_null(agent_proxy_parse("http://", &p));
	assert_non_null(agent_proxy_parse("http://proxy:", &p));
	assert_non_null(agent_proxy_parse("http://proxy:65536", &p));
	assert_non_null(agent_proxy_parse("http://proxy:08", &p));
	assert_non_null(agent_proxy_parse("http://proxy:8x", &p));
	assert_non_null(agent_proxy_parse("http://proxy:1/path", &p));
	assert_non_null(agent_proxy_parse("http://proxy:1?q", &p));
	assert_non_null(agent_proxy_parse("http://pro xy:1", &p));
	assert_non_null(agent_proxy_parse("http://[::1]:1", &p));
	assert_non_null(agent_proxy_parse("http://u%4:p@proxy:1", &p));  /* short escape */
	assert_non_null(agent_proxy_parse("http://u%00:p@proxy:1", &p)); /* NUL */
	assert_non_null(agent_proxy_parse("http://u%3a:p@proxy:1", &p)); /* ':' in the user */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_every_key),
		cmocka_unit_test(test_pool_cap_follows_pool),
		cmocka_unit_test(test_dgram_keys),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_proxy_urls),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
