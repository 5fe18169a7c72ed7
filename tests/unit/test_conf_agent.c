/*
 * The S4 config sections, `agents` and `vnets` (common/conf_agent.c): the
 * shipped example, every field of a full file, the defaults docs/config.md
 * promises, and each rule with the line and message of its error.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"

#ifndef SRCDIR
#error "SRCDIR must point at the source tree (tests/unit/meson.build defines it)"
#endif

static struct sl_conf C;
static char err[SL_CONF_ERR_LEN];

/* libconfig 1.5 leaks a string buffer on some syntax errors: not ours */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:libconfig.so\n";
}

/* 5 lines: a client, a server and a wan port */
#define PORTS3                                                                              \
	"ports = (\n"                                                                       \
	"  { name = \"client\"; dev = \"net_tap0\"; addr = \"198.18.0.1/24\"; },\n"         \
	"  { name = \"server\"; dev = \"net_tap1\"; addr = \"198.19.0.1/24\"; },\n"         \
	"  { name = \"wan\"; dev = \"net_tap2\"; addr = \"198.18.100.1/24\"; }\n"           \
	");\n"
/* 1 line: the required keys only */
#define AGENTS                                                                              \
	"agents = { listen = \"198.18.100.1\"; cert = \"a.pem\"; key = \"a.key\"; ca = \"ca.pem\"; };\n"
/* 1 line: a vnet with one agent and one route */
#define VNET_A                                                                              \
	"{ name = \"a\"; clients = [ \"198.18.0.0/25\" ]; gateway = \"198.18.0.1\"; "        \
	"agents = [ \"site-a\" ]; routes = ( { dst = \"198.19.200.0/24\"; agent = \"site-a\"; } ); }"

static int load_s(const char *text)
{
	return sl_conf_load_str(&C, "t.conf", text, err, sizeof(err));
}

static void assert_ok(const char *text)
{
	int rc = load_s(text);

	if (rc != 0)
		fail_msg("expected success, got %d: %s\n--- config:\n%s", rc, err, text);
	assert_string_equal(err, "");
}

/* Fails with "t.conf:LINE: ..." naming `what`. */
static void assert_err(const char *text, unsigned int line, const char *what)
{
	char prefix[64];
	int rc = load_s(text);

	snprintf(prefix, sizeof(prefix), "t.conf:%u: ", line);
	if (rc != -EINVAL || strncmp(err, prefix, strlen(prefix)) != 0 || strstr(err, what) == NULL)
		fail_msg("rc %d, err \"%s\"; wanted -EINVAL, \"%s...%s\"\n--- config:\n%s", rc, err,
			 prefix, what, text);
}

static uint32_t ip(const char *s)
{
	uint32_t a = 0;

	assert_int_equal(sl_parse_ipv4(s, &a), 0);
	return a;
}

static void assert_agent_defaults(const struct sl_agents_conf *a)
{
	assert_int_equal(a->port, 443);
	assert_int_equal(a->hold_timeout_ms, 3000);
	assert_int_equal(a->held_max, 4096);
	assert_int_equal(a->held_per_source, 64);
	assert_int_equal(a->held_per_vnet, 2048);
	assert_int_equal(a->keepalive_ms, 5000);
	assert_int_equal(a->stream_pool, 4);
	assert_int_equal(a->connect_timeout_ms, 2500);
	assert_int_equal(a->pings_per_client, 16);
	assert_int_equal(a->ping_timeout_ms, 2000);
	/* issue 10 */
	assert_int_equal(a->da_max, 4096);
	assert_int_equal(a->da_hold, 4);
	assert_int_equal(a->da_discard_ms, 5000);
	assert_int_equal(a->dgram_queue, 512);
	assert_int_equal(a->dgram_max_age_ms, 500);
	assert_int_equal(a->udp_reasm_ms, 2000);
	assert_int_equal(a->sa_max, 64);
}

/* --- what loads --- */

static void test_defaults(void **state)
{
	(void)state;
	/* no section: disabled, no tables, and the defaults in place anyway */
	assert_ok(PORTS3);
	assert_int_equal(C.agents.enabled, 0);
	assert_agent_defaults(&C.agents);
	assert_int_equal(C.n_vnets, 0);
	assert_int_equal(C.n_agents, 0);
	assert_int_equal(C.n_acl, 0);

	/* the required keys only; an agents section without vnets is fine */
	assert_ok(PORTS3 AGENTS);
	assert_int_equal(C.agents.enabled, 1);
	assert_int_equal(C.agents.listen, ip("198.18.100.1"));
	assert_string_equal(C.agents.cert, "a.pem");
	assert_string_equal(C.agents.key, "a.key");
	assert_string_equal(C.agents.ca, "ca.pem");
	assert_agent_defaults(&C.agents);
	assert_int_equal(C.n_vnets, 0);

	/* vnets: no routes, agents or acl needed; empty lists are fine */
	assert_ok(PORTS3 "vnets = ( { name = \"v\"; clients = [ \"10.0.0.0/8\" ]; gateway = \"198.19.0.1\"; },\n"
		  "{ name = \"w\"; clients = [ \"11.0.0.0/8\" ]; gateway = \"198.19.0.1\";\n"
		  "  agents = []; routes = (); acl = (); } );\n");
	assert_int_equal(C.agents.enabled, 0);
	assert_int_equal(C.n_vnets, 2);
	assert_int_equal(C.vnets[0].n_routes, 0);
	assert_int_equal(C.vnets[1].n_clients, 1);
	/* UDP through agents: a vnet's DA aging and SA policy (issue 10) */
	assert_int_equal(C.vnets[0].da_idle_ms, 30000);
	assert_int_equal(C.vnets[0].da_idle2_ms, 900000);
	assert_int_equal(C.vnets[0].sa_idle_ms, 60000);
	assert_int_equal(C.vnets[0].sa_policy, SL_SA_IDLE);
	assert_int_equal(C.n_agents, 0);
	assert_int_equal(C.n_acl, 0);

	/* an ACL rule with only an action matches everything */
	assert_ok(PORTS3 "vnets = ({ name = \"v\"; clients = [ \"10.0.0.0/8\" ]; gateway = \"198.19.0.1\";\n"
		  "  acl = ( { action = \"drop\"; } ); });\n");
	assert_int_equal(C.n_acl, 1);
	assert_int_equal(C.acl[0].id, 1);
	assert_int_equal(C.acl[0].vnet, 0);
	assert_int_equal(C.acl[0].action, SL_ACL_DROP);
	assert_int_equal(C.acl[0].proto, 0);
	assert_int_equal(C.acl[0].src, 0);
	assert_int_equal(C.acl[0].src_plen, 0);
	assert_int_equal(C.acl[0].dst, 0);
	assert_int_equal(C.acl[0].dst_plen, 0);
	assert_int_equal(C.acl[0].sport_lo, 0);
	assert_int_equal(C.acl[0].sport_hi, 65535);
	assert_int_equal(C.acl[0].dport_lo, 0);
	assert_int_equal(C.acl[0].dport_hi, 65535);
}

static void test_full(void **state)
{
	(void)state;
	assert_ok(PORTS3
		  "agents = {\n"
		  "  listen = \"198.19.0.1\"; port = 8443;\n"
		  "  cert = \"/etc/sluice/appliance.pem\"; key = \"/etc/sluice/appliance.key\";\n"
		  "  ca = \"/etc/sluice/agent-ca.pem\";\n"
		  "  hold_timeout_ms = 60000; held_max = 1048576; held_per_source = 1;\n"
		  "  held_per_vnet = 1048576; keepalive_ms = 600000; stream_pool = 256;\n"
		  "  connect_timeout_ms = 59999; pings_per_client = 1024; ping_timeout_ms = 100;\n"
		  "};\n"
		  "vnets = (\n"
		  "  { name = \"corp.east-1_x\";\n"
		  "    clients = [ \"198.18.0.0/26\", \"198.18.0.64/26\", \"10.1.0.0/16\" ];\n"
		  "    gateway = \"198.18.0.1\";\n"
		  "    agents = [ \"site-a\", \"site-a2.example.com\" ];\n"
		  "    routes = ( { dst = \"198.19.200.0/24\"; agent = \"site-a\"; },\n"
		  "               { dst = \"0.0.0.0/0\"; agent = \"site-a2.example.com\"; },\n"
		  "               { dst = \"198.19.200.10/32\"; agent = \"site-a2.example.com\"; } );\n"
		  "    acl = ( { src = \"198.18.0.64/26\"; dst = \"198.19.200.10/32\"; proto = \"tcp\";\n"
		  "              sport = \"any\"; dport = \"80\"; action = \"reject\"; },\n"
		  "            { proto = \"udp\"; sport = \"1024-65535\"; dport = 53; action = \"allow\"; },\n"
		  "            { proto = \"icmp\"; sport = \"any\"; dport = \"0-65535\"; action = \"drop\"; } );\n"
		  "  },\n"
		  "  { name = \"b\"; clients = [ \"198.18.0.128/25\" ]; gateway = \"198.18.100.1\";\n"
		  "    agents = [ \"site-b\" ];\n"
		  "    routes = ( { dst = \"198.19.200.0/24\"; agent = \"site-b\"; } );\n"
		  "    acl = ( { dst = \"198.19.200.0/24\"; proto = \"tcp\"; dport = \"8000-8080\"; action = \"allow\"; },\n"
		  "            { action = \"reject\"; } );\n"
		  "  }\n"
		  ");\n");
	assert_int_equal(C.agents.enabled, 1);
	assert_int_equal(C.agents.listen, ip("198.19.0.1"));
	assert_int_equal(C.agents.port, 8443);
	assert_string_equal(C.agents.cert, "/etc/sluice/appliance.pem");
	assert_string_equal(C.agents.key, "/etc/sluice/appliance.key");
	assert_string_equal(C.agents.ca, "/etc/sluice/agent-ca.pem");
	assert_int_equal(C.agents.hold_timeout_ms, 60000);
	assert_int_equal(C.agents.held_max, 1048576);
	assert_int_equal(C.agents.held_per_source, 1);
	assert_int_equal(C.agents.held_per_vnet, 1048576);
	assert_int_equal(C.agents.keepalive_ms, 600000);
	assert_int_equal(C.agents.stream_pool, 256);
	assert_int_equal(C.agents.connect_timeout_ms, 59999);
	assert_int_equal(C.agents.pings_per_client, 1024);
	assert_int_equal(C.agents.ping_timeout_ms, 100);

	assert_int_equal(C.n_vnets, 2);
	assert_string_equal(C.vnets[0].name, "corp.east-1_x");
	assert_int_equal(C.vnets[0].gateway, ip("198.18.0.1"));
	assert_int_equal(C.vnets[0].n_clients, 3);
	assert_int_equal(C.vnets[0].clients[0].prefix, ip("198.18.0.0"));
	assert_int_equal(C.vnets[0].clients[0].plen, 26);
	assert_int_equal(C.vnets[0].clients[1].prefix, ip("198.18.0.64"));
	assert_int_equal(C.vnets[0].clients[1].plen, 26);
	assert_int_equal(C.vnets[0].clients[2].prefix, ip("10.1.0.0"));
	assert_int_equal(C.vnets[0].clients[2].plen, 16);
	assert_int_equal(C.vnets[0].n_routes, 3);
	assert_int_equal(C.vnets[0].routes[0].prefix, ip("198.19.200.0"));
	assert_int_equal(C.vnets[0].routes[0].plen, 24);
	assert_int_equal(C.vnets[0].routes[0].agent, 0);
	assert_int_equal(C.vnets[0].routes[1].prefix, 0);
	assert_int_equal(C.vnets[0].routes[1].plen, 0);
	assert_int_equal(C.vnets[0].routes[1].agent, 1);
	assert_int_equal(C.vnets[0].routes[2].prefix, ip("198.19.200.10"));
	assert_int_equal(C.vnets[0].routes[2].plen, 32);
	assert_int_equal(C.vnets[0].routes[2].agent, 1);
	assert_string_equal(C.vnets[1].name, "b");
	assert_int_equal(C.vnets[1].gateway, ip("198.18.100.1"));
	assert_int_equal(C.vnets[1].n_clients, 1);
	assert_int_equal(C.vnets[1].clients[0].prefix, ip("198.18.0.128"));
	assert_int_equal(C.vnets[1].clients[0].plen, 25);
	assert_int_equal(C.vnets[1].n_routes, 1);
	assert_int_equal(C.vnets[1].routes[0].prefix, ip("198.19.200.0")); /* same as vnet 0's */
	assert_int_equal(C.vnets[1].routes[0].agent, 2);

	assert_int_equal(C.n_agents, 3);
	assert_string_equal(C.agent_defs[0].name, "site-a");
	assert_int_equal(C.agent_defs[0].vnet, 0);
	assert_string_equal(C.agent_defs[1].name, "site-a2.example.com");
	assert_int_equal(C.agent_defs[1].vnet, 0);
	assert_string_equal(C.agent_defs[2].name, "site-b");
	assert_int_equal(C.agent_defs[2].vnet, 1);

	/* ids 1..n over the whole file, vnet by vnet */
	assert_int_equal(C.n_acl, 5);
	for (unsigned int i = 0; i < C.n_acl; i++) {
		assert_int_equal(C.acl[i].id, i + 1);
		assert_int_equal(C.acl[i].vnet, i < 3 ? 0 : 1);
	}
	assert_int_equal(C.acl[0].src, ip("198.18.0.64"));
	assert_int_equal(C.acl[0].src_plen, 26);
	assert_int_equal(C.acl[0].dst, ip("198.19.200.10"));
	assert_int_equal(C.acl[0].dst_plen, 32);
	assert_int_equal(C.acl[0].proto, 6);
	assert_int_equal(C.acl[0].sport_lo, 0);
	assert_int_equal(C.acl[0].sport_hi, 65535);
	assert_int_equal(C.acl[0].dport_lo, 80);
	assert_int_equal(C.acl[0].dport_hi, 80);
	assert_int_equal(C.acl[0].action, SL_ACL_REJECT);
	assert_int_equal(C.acl[1].proto, 17);
	assert_int_equal(C.acl[1].src_plen, 0);
	assert_int_equal(C.acl[1].sport_lo, 1024);
	assert_int_equal(C.acl[1].sport_hi, 65535);
	assert_int_equal(C.acl[1].dport_lo, 53);
	assert_int_equal(C.acl[1].dport_hi, 53);
	assert_int_equal(C.acl[1].action, SL_ACL_ALLOW);
	assert_int_equal(C.acl[2].proto, 1);
	assert_int_equal(C.acl[2].dport_lo, 0);
	assert_int_equal(C.acl[2].dport_hi, 65535);
	assert_int_equal(C.acl[2].action, SL_ACL_DROP);
	assert_int_equal(C.acl[3].dst, ip("198.19.200.0"));
	assert_int_equal(C.acl[3].dst_plen, 24);
	assert_int_equal(C.acl[3].dport_lo, 8000);
	assert_int_equal(C.acl[3].dport_hi, 8080);
	assert_int_equal(C.acl[3].action, SL_ACL_ALLOW);
	assert_int_equal(C.acl[4].proto, 0);
	assert_int_equal(C.acl[4].action, SL_ACL_REJECT);
}

static void test_example_file(void **state)
{
	const char *path = SRCDIR "/config/examples/agents.conf";

	(void)state;
	if (sl_conf_load(&C, path, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_int_equal(C.n_ports, 3);
	assert_string_equal(C.ports[2].name, "wan");
	assert_string_equal(C.ports[2].dev, "net_tap2,iface=sl-tap2");
	assert_int_equal(C.ports[2].addr, ip("198.18.100.1"));
	assert_int_equal(C.ports[2].plen, 24);
	assert_int_equal(C.ports[2].mac[5], 3);
	assert_int_equal(C.n_apps, 3); /* everything of sluice.conf is still there */

	assert_int_equal(C.agents.enabled, 1);
	assert_int_equal(C.agents.listen, ip("198.18.100.1"));
	assert_string_equal(C.agents.cert, "build/certs/appliance.pem");
	assert_string_equal(C.agents.key, "build/certs/appliance.key");
	assert_string_equal(C.agents.ca, "build/certs/agent-ca.pem");
	assert_agent_defaults(&C.agents); /* it spells out every default */

	assert_int_equal(C.n_vnets, 2);
	assert_int_equal(C.n_agents, 2);
	/* vnet a's two ACL rules, ids in file order */
	assert_int_equal(C.n_acl, 2);
	assert_int_equal(C.acl[0].id, 1);
	assert_int_equal(C.acl[0].vnet, 0);
	assert_int_equal(C.acl[0].action, SL_ACL_REJECT);
	assert_int_equal(C.acl[0].src, ip("198.18.0.64"));
	assert_int_equal(C.acl[0].src_plen, 26);
	assert_int_equal(C.acl[0].dport_lo, 22);
	assert_int_equal(C.acl[0].dport_hi, 22);
	assert_int_equal(C.acl[1].action, SL_ACL_DROP);
	assert_int_equal(C.acl[1].src_plen, 32);
	for (unsigned int i = 0; i < 2; i++) {
		const struct sl_vnet_def *v = &C.vnets[i];

		assert_string_equal(v->name, i ? "b" : "a");
		assert_int_equal(v->gateway, ip("198.18.0.1"));
		assert_int_equal(v->n_clients, 1);
		assert_int_equal(v->clients[0].prefix, ip(i ? "198.18.0.128" : "198.18.0.0"));
		assert_int_equal(v->clients[0].plen, 25);
		assert_int_equal(v->n_routes, 1);
		assert_int_equal(v->routes[0].prefix, ip("198.19.200.0"));
		assert_int_equal(v->routes[0].plen, 22);
		assert_int_equal(v->routes[0].agent, i);
		assert_string_equal(C.agent_defs[i].name, i ? "site-b" : "site-a");
		assert_int_equal(C.agent_defs[i].vnet, i);
	}
}

/* --- what does not --- */

static void test_agents_errors(void **state)
{
	(void)state;
	/* listen: required, an address, one of the ports' own */
	assert_err(PORTS3 "agents = { listen = \"198.18.100.2\"; cert = \"a\"; key = \"b\"; ca = \"c\"; };", 6,
		   "agents listen address 198.18.100.2 is not the address of any port (ports: "
		   "client 198.18.0.1, server 198.19.0.1, wan 198.18.100.1)");
	assert_err(PORTS3 "agents = {\n cert = \"a\"; key = \"b\"; ca = \"c\"; };", 6,
		   "missing required key 'listen' in 'agents'");
	assert_err(PORTS3 "agents = { listen = \"198.18.100\"; cert = \"a\"; key = \"b\"; ca = \"c\"; };", 6,
		   "'listen' in 'agents' must be \"a.b.c.d\", got \"198.18.100\"");
	/* the PEM paths: required, not empty, not too long */
	assert_err(PORTS3 "agents = { listen = \"198.18.100.1\"; cert = \"a\"; key = \"b\"; };", 6,
		   "missing required key 'ca' in 'agents'");
	assert_err(PORTS3 "agents = { listen = \"198.18.100.1\"; cert = \"a\";\nkey = \"\"; ca = \"c\"; };", 7,
		   "'key' in 'agents' is empty");
	{
		char text[1024], path[300];

		memset(path, 'x', 256);
		path[256] = '\0';
		snprintf(text, sizeof(text), PORTS3 "agents = { listen = \"198.18.100.1\";\ncert = \"%s\"; key = \"b\"; ca = \"c\"; };",
			 path);
		assert_err(text, 7, "'cert' in 'agents' is too long (at most 255 characters)");
	}
	/* ranges, both ends */
	assert_err(PORTS3 "agents = { listen = \"198.18.100.1\"; cert = \"a\"; key = \"b\"; ca = \"c\";\nport = 0; };", 7,
		   "'port' in 'agents' must be in 1..65535, got 0");
	assert_err(PORTS3 "agents = { listen = \"198.18.100.1\"; cert = \"a\"; key = \"b\"; ca = \"c\";\nport = 65536; };", 7,
		   "must be in 1..65535, got 65536");
	assert_err(PORTS3 "agents = { listen = \"198.18.100.1\"; cert = \"a\"; key = \"b\"; ca = \"c\";\nhold_timeout_ms = 99; };", 7,
		   "'hold_timeout_ms' in 'agents' must be in 100..60000, got 99");
	assert_err(PORTS3 "agents = { listen = \"198.18.100.1\"; cert = \"a\"; key = \"b\"; ca = \"c\";\nheld_max = 1048577; };", 7,
		   "'held_max' in 'agents' must be in 1..1048576");
	assert_err(PORTS3 "agents = { listen = \"198.18.100.1\"; cert = \"a\"; key = \"b\"; ca = \"c\";\nkeepalive_ms = 600001; };", 7,
		   "'keepalive_ms' in 'agents' must be in 100..600000");
	assert_err(PORTS3 "agents = { listen = \"198.18.100.1\"; cert = \"a\"; key = \"b\"; ca = \"c\";\nstream_pool = 0; };", 7,
		   "'stream_pool' in 'agents' must be in 1..256, got 0");
	assert_err(PORTS3 "agents = { listen = \"198.18.100.1\"; cert = \"a\"; key = \"b\"; ca = \"c\";\npings_per_client = 1025; };", 7,
		   "'pings_per_client' in 'agents' must be in 1..1024");
	assert_err(PORTS3 "agents = { listen = \"198.18.100.1\"; cert = \"a\"; key = \"b\"; ca = \"c\";\nping_timeout_ms = 60001; };", 7,
		   "'ping_timeout_ms' in 'agents' must be in 100..60000");
	assert_err(PORTS3 "agents = { listen = \"198.18.100.1\"; cert = \"a\"; key = \"b\"; ca = \"c\";\nconnect_timeout_ms = 60001; };", 7,
		   "'connect_timeout_ms' in 'agents' must be in 100..60000");
	assert_err(PORTS3 "agents = { listen = \"198.18.100.1\"; cert = \"a\"; key = \"b\"; ca = \"c\";\nport = \"443\"; };", 7,
		   "'port' in 'agents' must be an integer, not a string");
	/* connect_timeout_ms < hold_timeout_ms, blamed on the one written */
	assert_err(PORTS3 "agents = { listen = \"198.18.100.1\"; cert = \"a\"; key = \"b\"; ca = \"c\";\n"
		   "hold_timeout_ms = 3000;\nconnect_timeout_ms = 3000; };", 8,
		   "'connect_timeout_ms' in 'agents' (3000) must be less than hold_timeout_ms (3000)");
	assert_err(PORTS3 "agents = { listen = \"198.18.100.1\"; cert = \"a\"; key = \"b\"; ca = \"c\";\n"
		   "hold_timeout_ms = 2500; };", 7,
		   "'connect_timeout_ms' in 'agents' (2500) must be less than hold_timeout_ms (2500)");
	assert_ok(PORTS3 "agents = { listen = \"198.18.100.1\"; cert = \"a\"; key = \"b\"; ca = \"c\";\n"
		  "hold_timeout_ms = 2501; };");
	/* held_per_source and held_per_vnet within held_max */
	assert_err(PORTS3 "agents = { listen = \"198.18.100.1\"; cert = \"a\"; key = \"b\"; ca = \"c\";\n"
		   "held_max = 100;\nheld_per_source = 101; };", 8,
		   "'held_per_source' in 'agents' (101) must not exceed held_max (100)");
	assert_err(PORTS3 "agents = { listen = \"198.18.100.1\"; cert = \"a\"; key = \"b\"; ca = \"c\";\n"
		   "held_max = 1000; };", 7, "'held_per_vnet' in 'agents' (2048) must not exceed held_max (1000)");
	assert_ok(PORTS3 "agents = { listen = \"198.18.100.1\"; cert = \"a\"; key = \"b\"; ca = \"c\";\n"
		  "held_max = 64; held_per_source = 64; held_per_vnet = 64; };");
	/* the section itself */
	assert_err(PORTS3 "agents = ( );", 6, "'agents' must be a group { ... }, not a list ( ... )");
	assert_err(PORTS3 "agent = { };", 6, "unknown section 'agent' (did you mean 'agents'?)");
}

static void test_vnet_errors(void **state)
{
	(void)state;
	/* issue 10: aging and SA policy */
	assert_ok(PORTS3 "vnets = ({ name = \"a\"; gateway = \"198.18.0.1\"; clients = [ \"10.0.0.0/8\" ];\n"
		  "da_idle_ms = 1500; da_idle2_ms = 5000; sa_policy = \"delete\"; sa_idle_ms = 0; } );");
	assert_int_equal(C.vnets[0].da_idle_ms, 1500);
	assert_int_equal(C.vnets[0].da_idle2_ms, 5000);
	assert_int_equal(C.vnets[0].sa_policy, SL_SA_DELETE);
	assert_int_equal(C.vnets[0].sa_idle_ms, 0);
	assert_err(PORTS3 "vnets = ({ name = \"a\"; gateway = \"198.18.0.1\"; clients = [ \"10.0.0.0/8\" ];\n"
		   "da_idle_ms = 5000; da_idle2_ms = 1500; } );", 7,
		   "'da_idle2_ms' in vnets[0] (1500) must not be less than da_idle_ms (5000)");
	assert_err(PORTS3 "vnets = ({ name = \"a\"; gateway = \"198.18.0.1\"; clients = [ \"10.0.0.0/8\" ];\n"
		   "sa_policy = \"never\"; } );", 7,
		   "'sa_policy' in 'vnets[0]' must be \"idle\" or \"delete\", not \"never\"");
	assert_err(PORTS3 "vnets = ({ name = \"a\"; gateway = \"198.18.0.1\"; clients = [ \"10.0.0.0/8\" ];\n"
		   "da_idle_ms = 50; } );", 7, "'da_idle_ms' in 'vnets[0]' must be in 100..86400000");
	/* client prefixes never overlap: across vnets, nor within one */
	assert_err(PORTS3 AGENTS "vnets = (\n"
		   "{ name = \"a\"; clients = [ \"198.18.0.0/25\" ]; gateway = \"198.18.0.1\"; },\n"
		   "{ name = \"b\"; clients = [ \"10.0.0.0/8\", \"198.18.0.0/24\" ]; gateway = \"198.18.0.1\"; } );", 9,
		   "vnet 'b' client prefix 198.18.0.0/24 overlaps vnet 'a' client prefix 198.18.0.0/25 (line 8)");
	assert_err(PORTS3 "vnets = ({ name = \"a\"; gateway = \"198.18.0.1\";\n"
		   "clients = [ \"198.18.0.0/24\", \"198.18.0.128/25\" ]; } );", 7,
		   "vnet 'a' client prefix 198.18.0.128/25 overlaps its own client prefix 198.18.0.0/24 (line 7)");
	assert_err(PORTS3 "vnets = ({ name = \"a\"; gateway = \"198.18.0.1\";\n"
		   "clients = [ \"198.18.0.0/24\", \"198.18.0.0/24\" ]; } );", 7, "overlaps its own client prefix");
	assert_err(PORTS3 "vnets = ({ name = \"a\"; gateway = \"198.18.0.1\";\nclients = [ \"198.18.0.1/24\" ]; } );", 7,
		   "'clients[0]' in 'vnets[0]' must be \"a.b.c.d/n\" with the host bits zero, got \"198.18.0.1/24\"");
	assert_err(PORTS3 "vnets = ({ name = \"a\"; gateway = \"198.18.0.1\";\nclients = [ 1 ]; } );", 7,
		   "'clients[0]' in 'vnets[0]' must be a string, not an integer");
	assert_err(PORTS3 "vnets = ({ name = \"a\";\ngateway = \"198.18.0.1\"; } );", 6,
		   "missing required key 'clients' in 'vnets[0]'");
	assert_err(PORTS3 "vnets = ({ name = \"a\"; gateway = \"198.18.0.1\";\nclients = [ ]; } );", 7,
		   "'clients' in 'vnets[0]' is empty");
	assert_err(PORTS3 "vnets = ({ name = \"a\"; gateway = \"198.18.0.1\";\nclients = \"10.0.0.0/8\"; } );", 7,
		   "'clients' in 'vnets[0]' must be an array [ ... ], not a string");
	/* too many clients: the 9th is to blame */
	assert_ok(PORTS3 "vnets = ({ name = \"a\"; gateway = \"198.18.0.1\"; clients = [\n"
		  "\"10.0.0.0/24\", \"10.0.1.0/24\", \"10.0.2.0/24\", \"10.0.3.0/24\",\n"
		  "\"10.0.4.0/24\", \"10.0.5.0/24\", \"10.0.6.0/24\", \"10.0.7.0/24\" ]; } );");
	assert_int_equal(C.vnets[0].n_clients, SL_VNET_CLIENTS_MAX);
	assert_err(PORTS3 "vnets = ({ name = \"a\"; gateway = \"198.18.0.1\"; clients = [\n"
		   "\"10.0.0.0/24\", \"10.0.1.0/24\", \"10.0.2.0/24\", \"10.0.3.0/24\",\n"
		   "\"10.0.4.0/24\", \"10.0.5.0/24\", \"10.0.6.0/24\", \"10.0.7.0/24\",\n"
		   "\"10.0.8.0/24\", \"10.0.9.0/24\" ]; } );", 9,
		   "too many prefixes in 'clients' in 'vnets[0]' (at most 8)");
	/* gateway: one of the ports' own addresses */
	assert_err(PORTS3 "vnets = ({ name = \"a\"; clients = [ \"198.18.0.0/25\" ];\ngateway = \"198.18.0.2\"; } );", 7,
		   "vnet gateway 198.18.0.2 is not the address of any port (ports: client 198.18.0.1, "
		   "server 198.19.0.1, wan 198.18.100.1)");
	assert_err(PORTS3 "vnets = ({ name = \"a\";\nclients = [ \"198.18.0.0/25\" ]; } );", 6,
		   "missing required key 'gateway' in 'vnets[0]'");
	/* names */
	assert_err(PORTS3 "vnets = (\n{ name = \"a\"; clients = [ \"10.0.0.0/8\" ]; gateway = \"198.18.0.1\"; },\n"
		   "{ name = \"b\"; clients = [ \"11.0.0.0/8\" ]; gateway = \"198.18.0.1\"; },\n"
		   "{ name = \"a\"; clients = [ \"12.0.0.0/8\" ]; gateway = \"198.18.0.1\"; } );", 9,
		   "duplicate vnet name \"a\" (first at line 7)");
	assert_err(PORTS3 "vnets = ({ name = \"a b\"; clients = [ \"10.0.0.0/8\" ]; gateway = \"198.18.0.1\"; } );", 6,
		   "'name' in 'vnets[0]' must be 1..63 characters of [A-Za-z0-9_.-], got \"a b\"");
	assert_err(PORTS3 "vnets = ({ name = \"\"; clients = [ \"10.0.0.0/8\" ]; gateway = \"198.18.0.1\"; } );", 6,
		   "'name' in 'vnets[0]' must be 1..63 characters");
	assert_err(PORTS3 "vnets = ({ name = \"0123456789012345678901234567890123456789012345678901234567890123\";\n"
		   "clients = [ \"10.0.0.0/8\" ]; gateway = \"198.18.0.1\"; } );", 6,
		   "'name' in 'vnets[0]' is too long (at most 63 characters)");
	assert_err(PORTS3 "vnets = ({ clients = [ \"10.0.0.0/8\" ]; gateway = \"198.18.0.1\"; } );", 6,
		   "missing required key 'name' in 'vnets[0]'");
	/* the list itself */
	assert_err(PORTS3 "vnets = { };", 6, "'vnets' must be a list ( ... ), not a group");
	assert_err(PORTS3 "vnets = ( 1 );", 6, "'vnets[0]' must be a group { ... }, not an integer");
}

static void test_agent_route_errors(void **state)
{
	(void)state;
	/* an agent serves one vnet, and appears once */
	assert_err(PORTS3 AGENTS "vnets = (\n"
		   "{ name = \"a\"; clients = [ \"10.0.0.0/8\" ]; gateway = \"198.18.0.1\"; agents = [ \"site-a\" ]; },\n"
		   "{ name = \"b\"; clients = [ \"11.0.0.0/8\" ]; gateway = \"198.18.0.1\";\n"
		   "  agents = [ \"site-b\", \"site-a\" ]; } );", 10,
		   "agent \"site-a\" is already in vnet 'a' (line 8); an agent serves one vnet");
	assert_err(PORTS3 AGENTS "vnets = ({ name = \"a\"; clients = [ \"10.0.0.0/8\" ]; gateway = \"198.18.0.1\";\n"
		   "agents = [ \"x\", \"X\" ]; } );", 8, "agent \"X\" is listed twice in vnet 'a' (first at line 8)");
	assert_err(PORTS3 AGENTS "vnets = ({ name = \"a\"; clients = [ \"10.0.0.0/8\" ]; gateway = \"198.18.0.1\";\n"
		   "agents = [ \"site/a\" ]; } );", 8,
		   "'agents[0]' in 'vnets[0]' must be 1..63 characters of [A-Za-z0-9_.-], got \"site/a\"");
	assert_err(PORTS3 AGENTS "vnets = ({ name = \"a\"; clients = [ \"10.0.0.0/8\" ]; gateway = \"198.18.0.1\";\n"
		   "agents = \"site-a\"; } );", 8, "'agents' in 'vnets[0]' must be an array [ ... ], not a string");
	/* a route names one of its vnet's agents */
	assert_err(PORTS3 AGENTS "vnets = ({ name = \"a\"; clients = [ \"10.0.0.0/8\" ]; gateway = \"198.18.0.1\";\n"
		   "agents = [ \"site-a\", \"site-c\" ];\n"
		   "routes = ( { dst = \"198.19.200.0/24\";\nagent = \"site-b\"; } ); } );", 10,
		   "route 198.19.200.0/24 in vnet 'a': unknown agent \"site-b\" (vnet 'a' agents: site-a, site-c)");
	assert_err(PORTS3 AGENTS "vnets = (\n" VNET_A ",\n"
		   "{ name = \"b\"; clients = [ \"11.0.0.0/8\" ]; gateway = \"198.18.0.1\"; agents = [ \"site-b\" ];\n"
		   "  routes = ( { dst = \"198.19.200.0/24\"; agent = \"site-a\"; } ); } );", 10,
		   "agent \"site-a\" serves vnet 'a', not this one (vnet 'b' agents: site-b)");
	assert_err(PORTS3 AGENTS "vnets = ({ name = \"a\"; clients = [ \"10.0.0.0/8\" ]; gateway = \"198.18.0.1\";\n"
		   "agents = [ \"site-a\" ];\n"
		   "routes = ( { dst = \"198.19.200.0/24\"; agent = \"site-a\"; },\n"
		   "           { dst = \"198.19.200.0/24\"; agent = \"site-a\"; } ); } );", 10,
		   "duplicate route 198.19.200.0/24 in vnet 'a' (first at line 9)");
	assert_err(PORTS3 AGENTS "vnets = ({ name = \"a\"; clients = [ \"10.0.0.0/8\" ]; gateway = \"198.18.0.1\";\n"
		   "agents = [ \"site-a\" ];\n"
		   "routes = ( { dst = \"198.19.200.1/24\"; agent = \"site-a\"; } ); } );", 9,
		   "'dst' in 'vnets[0].routes[0]' must be \"a.b.c.d/n\" with the host bits zero");
	assert_err(PORTS3 AGENTS "vnets = ({ name = \"a\"; clients = [ \"10.0.0.0/8\" ]; gateway = \"198.18.0.1\";\n"
		   "agents = [ \"site-a\" ];\n"
		   "routes = ( { dst = \"198.19.200.0/24\"; } ); } );", 9,
		   "missing required key 'agent' in 'vnets[0].routes[0]'");
	/* routes need agents: an agents section, and agents in the vnet */
	assert_err(PORTS3 "vnets = (\n" VNET_A " );", 7, "vnets route to agents but there is no agents section");
	assert_err(PORTS3 AGENTS "vnets = ({ name = \"a\"; clients = [ \"10.0.0.0/8\" ]; gateway = \"198.18.0.1\";\n"
		   "routes = ( { dst = \"198.19.200.0/24\"; agent = \"site-a\"; } ); } );", 8,
		   "vnet 'a' has routes but no agents: name them in 'agents' in 'vnets[0]'");
	/* without routes, agents need no section (nothing would reach them) */
	assert_ok(PORTS3 "vnets = ({ name = \"a\"; clients = [ \"10.0.0.0/8\" ]; gateway = \"198.18.0.1\";\n"
		  "agents = [ \"site-a\" ]; } );");
	assert_int_equal(C.n_agents, 1);
}

static void test_acl_errors(void **state)
{
	(void)state;
#define ACL_VNET(rules) \
	PORTS3 "vnets = ({ name = \"a\"; clients = [ \"10.0.0.0/8\" ]; gateway = \"198.18.0.1\";\n" \
	"acl = ( { action = \"allow\"; },\n" rules " ); } );"
	assert_err(ACL_VNET("{ proto = \"tcp\"; action = \"deny\"; }"), 8,
		   "'action' in 'vnets[0].acl[1]' must be one of allow, reject, drop; got \"deny\"");
	assert_err(ACL_VNET("{ proto = \"tcp\"; action = \"forward\"; }"), 8, "must be one of allow, reject, drop");
	assert_err(ACL_VNET("{ proto = \"tcp\"; }"), 8, "missing required key 'action' in 'vnets[0].acl[1]'");
	assert_err(ACL_VNET("{ proto = \"icmp\"; dport = \"80\"; action = \"drop\"; }"), 8,
		   "'dport' in 'vnets[0].acl[1]' needs proto \"tcp\" or \"udp\", not \"icmp\"");
	assert_err(ACL_VNET("{ proto = \"icmp\"; sport = 7; action = \"drop\"; }"), 8,
		   "'sport' in 'vnets[0].acl[1]' needs proto \"tcp\" or \"udp\", not \"icmp\"");
	assert_err(ACL_VNET("{ sport = \"1-2\"; action = \"drop\"; }"), 8,
		   "'sport' in 'vnets[0].acl[1]' needs proto \"tcp\" or \"udp\", not \"any\"");
	assert_err(ACL_VNET("{ proto = \"tcp\"; dport = \"90-80\"; action = \"drop\"; }"), 8,
		   "'dport' in 'vnets[0].acl[1]' must be N, \"LO-HI\" (LO <= HI <= 65535) or \"any\", got \"90-80\"");
	assert_err(ACL_VNET("{ proto = \"tcp\"; dport = 65536; action = \"drop\"; }"), 8,
		   "'dport' in 'vnets[0].acl[1]' must be in 0..65535, got 65536");
	assert_err(ACL_VNET("{ proto = \"tcp\"; dport = true; action = \"drop\"; }"), 8,
		   "must be a port number or a \"LO-HI\" string");
	assert_err(ACL_VNET("{ proto = \"gre\"; action = \"drop\"; }"), 8,
		   "'proto' in 'vnets[0].acl[1]' must be one of tcp, udp, icmp, any; got \"gre\"");
	assert_err(ACL_VNET("{ src = \"10.0.0.1/8\"; action = \"drop\"; }"), 8,
		   "'src' in 'vnets[0].acl[1]' must be \"a.b.c.d/n\" with the host bits zero");
	assert_err(ACL_VNET("{ dst = \"10.0.0.0\"; action = \"drop\"; }"), 8, "'dst' in 'vnets[0].acl[1]' must be");
	assert_err(ACL_VNET("7"), 8, "'vnets[0].acl[1]' must be a group { ... }, not an integer");
	assert_ok(ACL_VNET("{ proto = \"udp\"; sport = \"any\"; dport = \"0-65535\"; action = \"reject\"; },\n"
			   "{ proto = \"icmp\"; sport = \"any\"; dport = \"any\"; action = \"drop\"; }"));
	assert_int_equal(C.n_acl, 3);
	assert_int_equal(C.acl[2].id, 3);
#undef ACL_VNET
}

static void test_unknown_keys(void **state)
{
	(void)state;
	assert_err(PORTS3 "agents = { listen = \"198.18.100.1\"; cert = \"a\"; key = \"b\"; ca = \"c\";\n"
		   "hold_timeout = 3000; };", 7,
		   "unknown key 'hold_timeout' in 'agents' (did you mean 'hold_timeout_ms'?)");
	assert_err(PORTS3 "agents = { listen = \"198.18.100.1\"; cert = \"a\"; key = \"b\"; ca = \"c\";\n"
		   "qwerty = 1; };", 7, "unknown key 'qwerty' in 'agents'");
	assert_err(PORTS3 "vnets = ({ name = \"a\"; clients = [ \"10.0.0.0/8\" ]; gateway = \"198.18.0.1\";\n"
		   "client = [ \"11.0.0.0/8\" ]; } );", 7,
		   "unknown key 'client' in 'vnets[0]' (did you mean 'clients'?)");
	assert_err(PORTS3 AGENTS "vnets = ({ name = \"a\"; clients = [ \"10.0.0.0/8\" ]; gateway = \"198.18.0.1\";\n"
		   "agents = [ \"site-a\" ];\n"
		   "routes = ( { dst = \"198.19.200.0/24\"; agent = \"site-a\";\nvia = \"x\"; } ); } );", 10,
		   "unknown key 'via' in 'vnets[0].routes[0]'");
	assert_err(PORTS3 "vnets = ({ name = \"a\"; clients = [ \"10.0.0.0/8\" ]; gateway = \"198.18.0.1\";\n"
		   "acl = ( { action = \"drop\";\ndports = \"80\"; } ); } );", 8,
		   "unknown key 'dports' in 'vnets[0].acl[0]' (did you mean 'dport'?)");
}

static void test_limits(void **state)
{
	static char text[(SL_ACL_RULES_MAX + 16) * 40 + 4096];
	size_t len = sizeof(text);
	unsigned int i;
	char *p;

	(void)state;
	/* SL_VNETS_MAX vnets; one more */
	for (unsigned int n = SL_VNETS_MAX; n <= SL_VNETS_MAX + 1; n++) {
		p = text + sprintf(text, PORTS3 "vnets = (\n");
		for (i = 0; i < n; i++)
			p += sprintf(p, "%s{ name = \"v%u\"; clients = [ \"10.%u.0.0/16\" ]; gateway = \"198.18.0.1\"; }\n",
				     i ? "," : "", i, i);
		sprintf(p, ");\n");
		if (n == SL_VNETS_MAX) {
			assert_ok(text);
			assert_int_equal(C.n_vnets, SL_VNETS_MAX);
		} else {
			assert_err(text, 7 + SL_VNETS_MAX, "too many entries in 'vnets' (at most 16)");
		}
	}
	/* SL_AGENTS_MAX agents over all vnets: 4 vnets of 16 agents, then one more */
	for (unsigned int extra = 0; extra <= 1; extra++) {
		p = text + sprintf(text, PORTS3 "vnets = (\n");
		for (i = 0; i < 4; i++) {
			p += sprintf(p, "%s{ name = \"v%u\"; clients = [ \"10.%u.0.0/16\" ]; gateway = \"198.18.0.1\";\n"
				     "  agents = [ ", i ? "," : "", i, i);
			for (unsigned int k = 0; k < 16 + (i == 3 ? extra : 0); k++)
				p += sprintf(p, "%s\"ag-%u-%u\"", k ? ", " : "", i, k);
			p += sprintf(p, " ]; }\n");
		}
		sprintf(p, ");\n");
		if (!extra) {
			assert_ok(text);
			assert_int_equal(C.n_agents, SL_AGENTS_MAX);
			assert_string_equal(C.agent_defs[63].name, "ag-3-15");
			assert_int_equal(C.agent_defs[63].vnet, 3);
		} else {
			assert_err(text, 14, "too many agents (at most 64 over all vnets)");
		}
	}
	/* SL_VNET_ROUTES_MAX routes in a vnet, then one more */
	for (unsigned int n = SL_VNET_ROUTES_MAX; n <= SL_VNET_ROUTES_MAX + 1; n++) {
		p = text + sprintf(text, PORTS3 AGENTS "vnets = ({ name = \"a\"; clients = [ \"10.0.0.0/8\" ];\n"
				   "gateway = \"198.18.0.1\"; agents = [ \"s\" ]; routes = (\n");
		for (i = 0; i < n; i++)
			p += sprintf(p, "%s{ dst = \"172.16.%u.0/24\"; agent = \"s\"; }\n", i ? "," : "", i);
		sprintf(p, "); } );\n");
		if (n == SL_VNET_ROUTES_MAX) {
			assert_ok(text);
			assert_int_equal(C.vnets[0].n_routes, SL_VNET_ROUTES_MAX);
			assert_int_equal(C.vnets[0].routes[63].prefix, ip("172.16.63.0"));
		} else {
			assert_err(text, 9 + SL_VNET_ROUTES_MAX, "too many entries in 'routes' in 'vnets[0]' (at most 64)");
		}
	}
	/* SL_ACL_RULES_MAX rules over all vnets (split over two), then one more */
	for (unsigned int n = SL_ACL_RULES_MAX; n <= SL_ACL_RULES_MAX + 1; n++) {
		p = text + sprintf(text, PORTS3 "vnets = (\n");
		for (unsigned int v = 0; v < 2; v++) {
			p += sprintf(p, "%s{ name = \"v%u\"; clients = [ \"10.%u.0.0/16\" ]; gateway = \"198.18.0.1\"; acl = (\n",
				     v ? "," : "", v, v);
			for (i = v ? n / 2 : 0; i < (v ? n : n / 2); i++)
				p += sprintf(p, "%s{ action = \"drop\"; }\n", i == (v ? n / 2 : 0) ? "" : ",");
			p += sprintf(p, "); }\n");
		}
		sprintf(p, ");\n");
		assert_true(strlen(text) < len);
		if (n == SL_ACL_RULES_MAX) {
			assert_ok(text);
			assert_int_equal(C.n_acl, SL_ACL_RULES_MAX);
			assert_int_equal(C.acl[SL_ACL_RULES_MAX - 1].id, SL_ACL_RULES_MAX);
			assert_int_equal(C.acl[SL_ACL_RULES_MAX - 1].vnet, 1);
			assert_int_equal(C.acl[n / 2 - 1].vnet, 0);
			assert_int_equal(C.acl[n / 2].vnet, 1);
		} else {
			/* lines: 6 ports+vnets, 1 vnet header, n/2 rules, "); }", header, then the rules */
			assert_err(text, 6 + 1 + n / 2 + 1 + 1 + (n - n / 2), "too many ACL rules (at most 8192 over all vnets)");
		}
	}
}

static void test_unchanged_on_error(void **state)
{
	static struct sl_conf before;

	(void)state;
	memset(&C, 0x5a, sizeof(C));
	memcpy(&before, &C, sizeof(C));
	/* fails at the last vnet: agents and a first vnet were parsed */
	assert_err(PORTS3 AGENTS "vnets = (\n" VNET_A ",\n"
		   "{ name = \"b\"; clients = [ \"198.18.0.0/24\" ]; gateway = \"198.18.0.1\"; } );", 9,
		   "overlaps vnet 'a' client prefix 198.18.0.0/25 (line 8)");
	assert_memory_equal(&C, &before, sizeof(C));
}

/* An error inside an @include'd file names that file and its line, here
 * for an element of an array. */
static void test_include(void **state)
{
	char dir[] = "/tmp/sl_test_conf_agent.XXXXXX", path[128], inc[128];
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/main.conf", dir);
	snprintf(inc, sizeof(inc), "%s/vnets.inc", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, PORTS3 AGENTS "@include \"vnets.inc\"\n");
	fclose(f);
	f = fopen(inc, "w");
	assert_non_null(f);
	fprintf(f, "vnets = (\n" VNET_A ",\n"
		"{ name = \"b\"; gateway = \"198.18.0.1\";\n"
		"  clients = [ \"198.18.0.0/16\" ]; } );\n");
	fclose(f);
	assert_int_equal(sl_conf_load(&C, path, err, sizeof(err)), -EINVAL);
	if (strstr(err, "vnets.inc:4: vnet 'b' client prefix 198.18.0.0/16 overlaps vnet 'a' client "
		   "prefix 198.18.0.0/25 (line 2)") == NULL)
		fail_msg("%s", err);
	f = fopen(inc, "w");
	assert_non_null(f);
	fprintf(f, "vnets = (\n" VNET_A " );\n");
	fclose(f);
	if (sl_conf_load(&C, path, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_int_equal(C.n_vnets, 1);
	assert_int_equal(C.vnets[0].routes[0].agent, 0);
	unlink(inc);
	unlink(path);
	rmdir(dir);
}

/* The example of the `vnets` section of docs/config.md loads (behind three
 * ports) and means what the page says. */
/* S3: the `lstp` section (common/conf_lstp.c) */
static void test_lstp(void **state)
{
	(void)state;
	/* absent: off, defaults as docs/config.md says */
	assert_ok(PORTS3);
	assert_int_equal(C.lstp.enabled, 0);
	assert_ok(PORTS3 "lstp = { listen = \"198.18.100.1\"; };\n");
	assert_int_equal(C.lstp.enabled, 1);
	assert_int_equal(C.lstp.listen, ip("198.18.100.1"));
	assert_int_equal(C.lstp.port, 7443);
	assert_string_equal(C.lstp.name, "sluice");
	assert_int_equal(C.lstp.wait_ms, 60000);
	assert_int_equal(C.lstp.hello_ms, 10000);
	assert_int_equal(C.lstp.max_waiting, 1024);
	assert_int_equal(C.lstp.max_per_source, 16);
	assert_int_equal(C.lstp.max_pairs, 4096);
	assert_ok(PORTS3 "lstp = { listen = \"198.18.0.1\"; port = 9000; name = \"mid-1\"; "
		  "wait_ms = 500; hello_timeout_ms = 200; max_waiting = 10; max_per_source = 10; "
		  "max_pairs = 3; };\n");
	assert_int_equal(C.lstp.port, 9000);
	assert_string_equal(C.lstp.name, "mid-1");
	assert_int_equal(C.lstp.wait_ms, 500);
	assert_int_equal(C.lstp.hello_ms, 200);
	assert_int_equal(C.lstp.max_waiting, 10);
	assert_int_equal(C.lstp.max_pairs, 3);
	/* errors, each at its line */
	assert_err(PORTS3 "lstp = { port = 1; };\n", 6, "listen");
	assert_err(PORTS3 "lstp = { listen = \"10.0.0.1\"; };\n", 6, "not the address of any port");
	assert_err(PORTS3 "lstp = { listen = \"198.18.0.1\"; lisen = 1; };\n", 6, "lisen");
	assert_err(PORTS3 "lstp = { listen = \"198.18.0.1\"; port = 0; };\n", 6, "port");
	assert_err(PORTS3 "lstp = { listen = \"198.18.0.1\"; name = \"a b\"; };\n", 6, "name");
	assert_err(PORTS3 "lstp = { listen = \"198.18.0.1\"; max_waiting = 8; };\n", 6,
		   "max_per_source");
	assert_err(PORTS3 "lstp = { listen = \"198.18.0.1\"; max_pairs = 65537; };\n", 6,
		   "max_pairs");
	assert_err(PORTS3 AGENTS "lstp = { listen = \"198.18.100.1\"; port = 443; };\n", 7,
		   "agents' port");
	/* cascading */
	assert_ok(PORTS3 "lstp = { listen = \"198.18.0.1\"; neighbour = { address = \"198.19.0.10\"; "
		  "port = 7444; }; };\n");
	assert_int_equal(C.lstp.neighbour, ip("198.19.0.10"));
	assert_int_equal(C.lstp.neighbour_port, 7444);
	assert_err(PORTS3 "lstp = { listen = \"198.18.0.1\"; neighbour = { address = \"198.19.0.10\"; }; };\n",
		   6, "'port' in 'lstp.neighbour' is required");
	assert_err(PORTS3 "lstp = { listen = \"198.18.0.1\"; neighbour = { address = \"x\"; port = 1; }; };\n",
		   6, "address");
	assert_err(PORTS3 "lstp = { listen = \"198.18.0.1\"; neighbour = { address = \"198.18.0.1\"; "
		   "port = 7443; }; };\n", 6, "this middle itself");
	assert_err(PORTS3 "lstp = { listen = \"198.18.0.1\"; neighbour = { address = \"198.19.0.10\"; "
		   "port = 1; via = 2; }; };\n", 6, "via");
}

static void test_doc_example(void **state)
{
	static char text[131072], conf[8192];
	char *start, *end;
	size_t n;
	FILE *f;

	(void)state;
	f = fopen(SRCDIR "/docs/config.md", "r");
	assert_non_null(f);
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	assert_true(n < sizeof(text) - 1);
	text[n] = '\0';
	start = strstr(text, "## `vnets`");
	assert_non_null(start);
	start = strstr(start, "```\n");
	assert_non_null(start);
	start += 4;
	end = strstr(start, "```");
	assert_non_null(end);
	*end = '\0';
	assert_true(strlen(PORTS3) + strlen(start) < sizeof(conf));
	snprintf(conf, sizeof(conf), "%s%s", PORTS3, start);
	assert_ok(conf);
	assert_int_equal(C.agents.enabled, 1);
	assert_agent_defaults(&C.agents);
	assert_int_equal(C.n_vnets, 2);
	assert_int_equal(C.n_agents, 2);
	assert_int_equal(C.vnets[1].routes[0].agent, 1);
	assert_int_equal(C.n_acl, 1);
	assert_int_equal(C.acl[0].action, SL_ACL_REJECT);
	assert_int_equal(C.acl[0].dport_lo, 80);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_example_file),
		cmocka_unit_test(test_doc_example),
		cmocka_unit_test(test_lstp),
		cmocka_unit_test(test_agents_errors),
		cmocka_unit_test(test_vnet_errors),
		cmocka_unit_test(test_agent_route_errors),
		cmocka_unit_test(test_acl_errors),
		cmocka_unit_test(test_unknown_keys),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_unchanged_on_error),
		cmocka_unit_test(test_include),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
