/*
 * Config loader and small parsers (common/conf.c, common/conf_parse.c).
 *
 * The default config and every example must load; every broken fixture in
 * tests/unit/conf/ must fail with the line and message its header announces:
 *
 *   # what the fixture breaks
 *   # expect: LINE: text the message must contain     (LINE "-": no line)
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sluice/ctl.h>
#include "conf.h"

#ifndef SRCDIR
#error "SRCDIR must point at the source tree (tests/unit/meson.build defines it)"
#endif

static struct sl_conf C;
static char err[SL_CONF_ERR_LEN];

/* Under -Db_sanitize=address: libconfig 1.5 leaks its string buffer (64
 * bytes) when a syntax error strikes inside a string token.  Not ours. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:libconfig.so\n";
}

#define PORTS2                                                                          \
	"ports = (\n"                                                                   \
	"  { name = \"client\"; dev = \"net_tap0\"; addr = \"198.18.0.1/24\"; },\n"     \
	"  { name = \"server\"; dev = \"net_tap1\"; addr = \"198.19.0.1/24\"; }\n"      \
	");\n"

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

/* Fails with "t.conf:LINE: ..." (line 0: "t.conf: ...") naming `what`. */
static void assert_err(const char *text, unsigned int line, const char *what)
{
	char prefix[64];
	int rc = load_s(text);

	if (line > 0)
		snprintf(prefix, sizeof(prefix), "t.conf:%u: ", line);
	else
		snprintf(prefix, sizeof(prefix), "t.conf: ");
	if (rc != -EINVAL || strncmp(err, prefix, strlen(prefix)) != 0 || strstr(err, what) == NULL)
		fail_msg("rc %d, err \"%s\"; wanted -EINVAL, \"%s...%s\"\n--- config:\n%s", rc, err,
			 prefix, what, text);
}

static unsigned int glob_conf(const char *pattern, glob_t *g)
{
	int rc = glob(pattern, 0, NULL, g);

	if (rc == GLOB_NOMATCH)
		return 0;
	assert_int_equal(rc, 0);
	return (unsigned int)g->gl_pathc;
}

/* --- defaults, the shipped config, the examples --- */

static void test_defaults(void **state)
{
	(void)state;
	memset(&C, 0xa5, sizeof(C));
	sl_conf_defaults(&C);
	/* these are the values docs/config.md promises */
	assert_string_equal(C.lcores, "0-1");
	assert_string_equal(C.file_prefix, "sluice");
	assert_string_equal(C.huge_dir, "");
	assert_int_equal(C.mem_mb, 0);
	assert_string_equal(C.log_level, "notice");
	assert_int_equal(C.mbufs_per_worker, 32767);
	assert_int_equal(C.burst, 32);
	assert_int_equal(C.rx_desc, 1024);
	assert_int_equal(C.tx_desc, 1024);
	assert_int_equal(C.idle_sleep_us, 0);
	assert_int_equal(C.icmp_rate, 100);
	assert_int_equal(C.icmp_burst, 50);
	assert_int_equal(C.stats_period_ms, 100);
	assert_int_equal(C.neigh_max, 1024);
	assert_int_equal(C.neigh_reachable_ms, 30000);
	assert_int_equal(C.neigh_retrans_ms, 1000);
	assert_int_equal(C.neigh_probes, 3);
	assert_int_equal(C.neigh_pending_per_entry, 4);
	assert_int_equal(C.neigh_pending_max, 256);
	assert_string_equal(C.ctl_socket, CTL_DEFAULT_SOCKET);
	assert_int_equal(C.n_ports, 0);
	assert_int_equal(C.n_routes, 0);
	assert_int_equal(C.n_neigh, 0);
}

static void test_default_file(void **state)
{
	const char *path = SRCDIR "/config/sluice.conf";
	uint8_t mac0[6] = { 0x02, 0x53, 0x4c, 0, 0, 1 };
	uint32_t ip;

	(void)state;
	if (sl_conf_load(&C, path, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_string_equal(C.path, path);
	assert_string_equal(C.lcores, "0-1");
	assert_string_equal(C.file_prefix, "sluice");
	assert_int_equal(C.mem_mb, 512);
	assert_string_equal(C.log_level, "notice");
	assert_int_equal(C.mbufs_per_worker, 32767);
	assert_int_equal(C.neigh_max, 1024);
	assert_string_equal(C.ctl_socket, "/run/sluice/ctl.sock");
	assert_int_equal(C.n_ports, 3); /* client, server, wan (S4) */
	assert_int_equal(C.agents.enabled, 1);
	assert_int_equal(C.n_vnets, 2);
	assert_string_equal(C.ports[0].name, "client");
	assert_string_equal(C.ports[0].dev, "net_tap0,iface=sl-tap0");
	assert_int_equal(C.ports[0].is_vdev, 1);
	assert_int_equal(sl_parse_ipv4("198.18.0.1", &ip), 0);
	assert_int_equal(C.ports[0].addr, ip);
	assert_int_equal(C.ports[0].plen, 24);
	assert_int_equal(C.ports[0].has_mac, 1);
	assert_memory_equal(C.ports[0].mac, mac0, 6);
	assert_int_equal(C.ports[0].mtu, 0);
	assert_int_equal(C.ports[0].impair.seed, 1);
	assert_int_equal(C.ports[0].impair.dir[SL_DIR_IN].drop_ppm, 0);
	assert_string_equal(C.ports[1].name, "server");
	assert_int_equal(C.ports[1].addr, 0xc6130001u);
	assert_int_equal(C.n_routes, 0);
	assert_int_equal(C.n_neigh, 0);
	assert_int_equal(sl_conf_port_find(&C, "server"), 1);
}

static void test_examples(void **state)
{
	glob_t g;
	unsigned int i, n;

	(void)state;
	n = glob_conf(SRCDIR "/config/examples/*.conf", &g);
	assert_true(n >= 3);
	for (i = 0; i < n; i++)
		if (sl_conf_load(&C, g.gl_pathv[i], err, sizeof(err)) != 0)
			fail_msg("example does not load: %s", err);
	globfree(&g);

	/* spot-check the one that uses everything */
	if (sl_conf_load(&C, SRCDIR "/config/examples/routed.conf", err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_int_equal(C.n_ports, 2);
	assert_int_equal(C.ports[1].impair.seed, 42);
	assert_int_equal(C.ports[1].impair.dir[SL_DIR_OUT].drop_ppm, 10000);
	assert_int_equal(C.ports[1].impair.dir[SL_DIR_OUT].reorder_ppm, 5000);
	assert_int_equal(C.ports[1].impair.dir[SL_DIR_OUT].dup_ppm, 100);
	assert_int_equal(C.ports[1].impair.dir[SL_DIR_IN].drop_ppm, 0);
	assert_int_equal(C.n_routes, 3);
	assert_int_equal(C.routes[1].prefix, 0);
	assert_int_equal(C.routes[1].plen, 0);
	assert_int_equal(C.routes[1].type, SL_RT_GATEWAY);
	assert_int_equal(C.routes[1].port, 1);
	assert_int_equal(C.routes[1].gw, 0xc61300feu);
	assert_int_equal(C.routes[2].type, SL_RT_DIRECT);
	assert_int_equal(C.routes[2].port, 0);
	assert_int_equal(C.n_neigh, 2);
	assert_int_equal(C.neigh[0].ip, 0xc61300feu);
	assert_int_equal(C.neigh[0].port, 1);
	assert_int_equal(C.neigh[0].mac[5], 0xfe);
	assert_int_equal(C.neigh_pending_per_entry, 8);
	assert_int_equal(C.neigh_retrans_ms, 1000); /* untouched default */

	if (sl_conf_load(&C, SRCDIR "/config/examples/pci.conf", err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_int_equal(C.ports[0].is_vdev, 0);
	assert_int_equal(C.ports[1].is_vdev, 0);
	assert_string_equal(C.ports[1].dev, "03:00.1");
	assert_int_equal(C.ports[1].mtu, 9000);
	assert_int_equal(C.ports[0].has_mac, 0);
	assert_string_equal(C.huge_dir, "/dev/hugepages1G");
}

/* The "A complete example" block of docs/config.md loads, and sets what it
 * says: the defaults, plus the few values its comments call out. */
static void test_doc_example(void **state)
{
	static char text[65536];
	static struct sl_conf def;
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
	start = strstr(text, "## A complete example");
	assert_non_null(start);
	start = strstr(start, "```\n");
	assert_non_null(start);
	start += 4;
	end = strstr(start, "```");
	assert_non_null(end);
	*end = '\0';
	assert_ok(start);

	sl_conf_defaults(&def);
	assert_string_equal(C.lcores, def.lcores);
	assert_string_equal(C.file_prefix, def.file_prefix);
	assert_string_equal(C.huge_dir, def.huge_dir);
	assert_string_equal(C.log_level, def.log_level);
	assert_string_equal(C.ctl_socket, def.ctl_socket);
	/* every scalar from mem_mb to stats_period_ms, as one block */
	assert_memory_equal(&C.mem_mb, &def.mem_mb,
			    offsetof(struct sl_conf, ctl_socket) - offsetof(struct sl_conf, mem_mb));
	assert_int_equal(C.n_ports, 2);
	assert_int_equal(C.ports[0].mtu, 1500);
	assert_int_equal(C.ports[0].impair.seed, 1);
	assert_int_equal(C.ports[0].impair.dir[SL_DIR_OUT].dup_ppm, 1);
	assert_int_equal(C.ports[1].impair.seed, 1);
	assert_int_equal(C.n_routes, 2);
	assert_int_equal(C.n_neigh, 1);
}

/* --- broken fixtures --- */

static void check_fixture(const char *path)
{
	char line[512], want_line[16], prefix[600], *what;
	FILE *f = fopen(path, "r");
	int rc;

	assert_non_null(f);
	if (fgets(line, sizeof(line), f) == NULL || fgets(line, sizeof(line), f) == NULL ||
	    sscanf(line, "# expect: %15[^:]:", want_line) != 1)
		fail_msg("%s: second line must be \"# expect: LINE: message\"", path);
	fclose(f);
	line[strcspn(line, "\n")] = '\0';
	what = strchr(line + strlen("# expect: "), ':') + 2;

	rc = sl_conf_load(&C, path, err, sizeof(err));
	if (rc != -EINVAL)
		fail_msg("%s: loaded (rc %d) but should fail with \"%s\"", path, rc, what);
	if (strcmp(want_line, "-") == 0)
		snprintf(prefix, sizeof(prefix), "%s: ", path);
	else
		snprintf(prefix, sizeof(prefix), "%s:%s: ", path, want_line);
	if (strncmp(err, prefix, strlen(prefix)) != 0 || strstr(err, what) == NULL)
		fail_msg("got  \"%s\"\nwant \"%s...%s...\"", err, prefix, what);
}

static void test_fixtures(void **state)
{
	/* the cases the config contract names explicitly: they must stay */
	static const char *const required[] = {
		"typo_key", "unknown_section", "unknown_dataplane_key", "wrong_type_string",
		"wrong_type_section", "range_burst", "range_int_overflow", "dup_port_name",
		"overlap", "route_via_outside", "pct_no_sign", "pct_over_100",
		"pct_too_precise", "syntax_error", "missing_ports", NULL,
	};
	char path[512];
	struct stat st;
	glob_t g;
	unsigned int i, n;

	(void)state;
	for (i = 0; required[i] != NULL; i++) {
		snprintf(path, sizeof(path), SRCDIR "/tests/unit/conf/%s.conf", required[i]);
		if (stat(path, &st) != 0)
			fail_msg("missing fixture %s", path);
	}
	n = glob_conf(SRCDIR "/tests/unit/conf/*.conf", &g);
	assert_true(n >= 50);
	for (i = 0; i < n; i++)
		check_fixture(g.gl_pathv[i]);
	globfree(&g);
}

/* --- loading from strings --- */

static void test_full(void **state)
{
	(void)state;
	assert_ok("eal = { lcores = \"0,2-4\"; file_prefix = \"t-1\"; huge_dir = \"/mnt/huge\";\n"
		  "        mem_mb = 65536; log_level = \"debug\"; };\n"
		  "dataplane = { mbufs_per_worker = 1048575; burst = 64; rx_desc = 64; tx_desc = 4096;\n"
		  "  idle_sleep_us = 100000; icmp_rate = 0; icmp_burst = 1; stats_period_ms = 10;\n"
		  "  neighbors = { max = 4096; reachable_ms = 1000; retrans_ms = 100; probes = 10;\n"
		  "                pending_per_entry = 0; pending_max = 0; }; };\n"
		  "control = { socket = \"/tmp/x.sock\"; };\n"
		  "ports = (\n"
		  "  { name = \"a-1\"; dev = \"0000:af:1f.7\"; addr = \"10.0.0.1/8\"; mac = \"0A:bb:CC:dd:ee:ff\";\n"
		  "    mtu = 68; impair = { seed = 0x123456789abcdef0L;\n"
		  "      in = { drop = \"100%\"; reorder = \"0.0001%\"; dup = \"0%\"; };\n"
		  "      out = { drop = \"12.3456%\"; }; }; },\n"
		  "  { name = \"b\"; dev = \"net_ring0\"; addr = \"192.0.2.0/31\"; mtu = 9600;\n"
		  "    impair = { seed = -1; }; }\n"
		  ");\n"
		  "routes = ( { prefix = \"0.0.0.0/0\"; via = \"192.0.2.1\"; },\n"
		  "           { prefix = \"172.16.0.0/12\"; dev = \"1\"; },\n"
		  "           { prefix = \"10.1.2.3/32\"; via = \"10.255.255.254\"; } );\n"
		  "neighbors = [];\n");
	assert_string_equal(C.lcores, "0,2-4");
	assert_string_equal(C.file_prefix, "t-1");
	assert_string_equal(C.huge_dir, "/mnt/huge");
	assert_int_equal(C.mem_mb, 65536);
	assert_string_equal(C.log_level, "debug");
	assert_int_equal(C.mbufs_per_worker, 1048575);
	assert_int_equal(C.burst, 64);
	assert_int_equal(C.rx_desc, 64);
	assert_int_equal(C.tx_desc, 4096);
	assert_int_equal(C.idle_sleep_us, 100000);
	assert_int_equal(C.icmp_rate, 0);
	assert_int_equal(C.icmp_burst, 1);
	assert_int_equal(C.stats_period_ms, 10);
	assert_int_equal(C.neigh_max, 4096);
	assert_int_equal(C.neigh_reachable_ms, 1000);
	assert_int_equal(C.neigh_retrans_ms, 100);
	assert_int_equal(C.neigh_probes, 10);
	assert_int_equal(C.neigh_pending_per_entry, 0);
	assert_int_equal(C.neigh_pending_max, 0);
	assert_string_equal(C.ctl_socket, "/tmp/x.sock");
	assert_string_equal(C.path, "t.conf");

	assert_int_equal(C.n_ports, 2);
	assert_int_equal(C.ports[0].is_vdev, 0);
	assert_int_equal(C.ports[0].addr, 0x0a000001u);
	assert_int_equal(C.ports[0].plen, 8);
	assert_int_equal(C.ports[0].mac[0], 0x0a);
	assert_int_equal(C.ports[0].mac[5], 0xff);
	assert_int_equal(C.ports[0].mtu, 68);
	assert_true(C.ports[0].impair.seed == 0x123456789abcdef0ull);
	assert_int_equal(C.ports[0].impair.dir[SL_DIR_IN].drop_ppm, 1000000);
	assert_int_equal(C.ports[0].impair.dir[SL_DIR_IN].reorder_ppm, 1);
	assert_int_equal(C.ports[0].impair.dir[SL_DIR_IN].dup_ppm, 0);
	assert_int_equal(C.ports[0].impair.dir[SL_DIR_OUT].drop_ppm, 123456);
	assert_int_equal(C.ports[1].is_vdev, 1);
	assert_int_equal(C.ports[1].has_mac, 0);
	assert_int_equal(C.ports[1].plen, 31); /* RFC 3021: .0 of a /31 is a host */
	assert_true(C.ports[1].impair.seed == UINT64_MAX);

	assert_int_equal(C.n_routes, 3);
	assert_int_equal(C.routes[0].type, SL_RT_GATEWAY);
	assert_int_equal(C.routes[0].port, 1);
	assert_int_equal(C.routes[0].gw, 0xc0000201u);
	assert_int_equal(C.routes[1].type, SL_RT_DIRECT);
	assert_int_equal(C.routes[1].port, 1); /* by index */
	assert_int_equal(C.routes[1].prefix, 0xac100000u);
	assert_int_equal(C.routes[1].plen, 12);
	assert_int_equal(C.routes[1].gw, 0);
	assert_int_equal(C.routes[2].plen, 32);
	assert_int_equal(C.routes[2].port, 0);
	assert_int_equal(C.n_neigh, 0);
}

static void test_errors(void **state)
{
	(void)state;
	/* unknown keys, at every level */
	assert_err("x = 1;\n" PORTS2, 1, "unknown section 'x'");
	assert_err("eal = { lcore = \"0-1\"; };\n" PORTS2, 1, "unknown key 'lcore' in 'eal' (did you mean 'lcores'?)");
	assert_err("control = { sock = \"/x\"; };\n" PORTS2, 1, "unknown key 'sock' in 'control' (did you mean 'socket'?)");
	assert_err("dataplane = { qwerty = 1; };\n" PORTS2, 1, "unknown key 'qwerty' in 'dataplane'");
	assert_err(PORTS2 "routes = ({ prefix = \"10.0.0.0/8\"; dev = \"client\"; metric = 1; });", 5,
		   "unknown key 'metric' in 'routes[0]'");
	assert_err(PORTS2 "neighbors = ({ addr = \"198.18.0.9\"; mac = \"02:00:00:00:00:09\";\n"
		   "port = \"client\"; ip = \"x\"; });", 6, "unknown key 'ip' in 'neighbors[0]'");
	assert_err("ports = ({ name = \"a\"; dev = \"net_tap0\"; addr = \"10.0.0.1/24\";\n"
		   "impair = { seed = 1; sideways = {}; }; });", 2, "unknown key 'sideways' in 'ports[0].impair'");
	/* types */
	assert_err("dataplane = { burst = true; };\n" PORTS2, 1, "must be an integer, not a boolean");
	assert_err("dataplane = { neighbors = 5; };\n" PORTS2, 1, "'neighbors' in 'dataplane' must be a group");
	assert_err("ports = ( 1, 2 );", 1, "'ports[0]' must be a group { ... }, not an integer");
	assert_err("ports = [ \"a\" ];", 1, "'ports' must be a list ( ... ), not an array");
	assert_err(PORTS2 "routes = { };", 5, "'routes' must be a list");
	assert_err("ports = ({ name = \"a\"; dev = \"net_tap0\"; addr = \"10.0.0.1/24\";\n"
		   "impair = { in = \"1%\"; }; });", 2, "'in' in 'ports[0].impair' must be a group");
	/* ranges: both ends, in every section */
	assert_err("dataplane = { burst = 0; };\n" PORTS2, 1, "'burst' in 'dataplane' must be in 1..64, got 0");
	assert_err("dataplane = { mbufs_per_worker = 1022; };\n" PORTS2, 1, "must be in 1023..1048575");
	assert_err("dataplane = { tx_desc = 8192; };\n" PORTS2, 1, "must be in 64..4096, got 8192");
	assert_err("dataplane = { tx_desc = 96; };\n" PORTS2, 1, "'tx_desc' in 'dataplane' must be a power of two");
	assert_err("dataplane = { icmp_burst = 0; };\n" PORTS2, 1, "must be in 1..1000000, got 0");
	assert_err("dataplane = { stats_period_ms = 10001; };\n" PORTS2, 1, "must be in 10..10000");
	assert_err("dataplane = { idle_sleep_us = -1; };\n" PORTS2, 1, "must be in 0..100000, got -1");
	assert_err("dataplane = { icmp_rate = 100000001; };\n" PORTS2, 1, "must be in 0..100000000");
	assert_err("dataplane = { neighbors = { probes = 11; }; };\n" PORTS2, 1, "'probes' in 'dataplane.neighbors' must be in 1..10");
	assert_err("dataplane = { neighbors = { max = 15; }; };\n" PORTS2, 1, "must be in 16..4096, got 15");
	assert_err("dataplane = { neighbors = { pending_max = 65537; }; };\n" PORTS2, 1, "must be in 0..65536");
	assert_err("dataplane = { neighbors = { retrans_ms = 99; }; };\n" PORTS2, 1, "must be in 100..60000");
	assert_err("dataplane = { burst = 5000000000L; };\n" PORTS2, 1, "must be in 1..64, got 5000000000");
	assert_err("eal = { mem_mb = 65537; };\n" PORTS2, 1, "must be in 0..65536, got 65537");
	/* integer literals libconfig 1.5 would silently wrap */
	assert_err("dataplane = {\nburst = 0x80000000; };\n" PORTS2, 2, "integer 0x80000000 does not fit in 32 bits");
	assert_err("dataplane = { burst = -2147483649; };\n" PORTS2, 1, "integer -2147483649 does not fit");
	assert_err("ports = ({ name = \"a\"; dev = \"net_tap0\"; addr = \"10.0.0.1/24\";\n"
		   "impair = { seed = 9223372036854775808L; }; });", 2, "does not fit in 64 bits");
	assert_ok("# 4294967296 in a comment\n/* 99999999999 */ // 0xffffffffff\n"
		  "eal = { file_prefix = \"n4294967296\"; };\n"
		  "ports = ({ name = \"p99999999999\"; dev = \"net_tap0,x=4294967296\"; addr = \"10.0.0.1/24\";\n"
		  "impair = { seed = -2147483648; }; });");
	assert_true(C.ports[0].impair.seed == (uint64_t)INT32_MIN);
	/* strings */
	assert_err("eal = { lcores = \"1-0\"; };\n" PORTS2, 1, "must be an EAL -l list");
	assert_ok("eal = { lcores = \"0@0,(1-3)@1\"; };\n" PORTS2);
	assert_err("eal = { lcores = \"0-128\"; };\n" PORTS2, 1, "names an lcore above 127");
	assert_err("eal = { lcores = \"0-17\"; };\n" PORTS2, 1, "has 18 lcores; at most 17");
	assert_ok("eal = { lcores = \"0-16\"; };\n" PORTS2);
	assert_err("eal = { lcores = \"\"; };\n" PORTS2, 1, "must be an EAL -l list");
	assert_err("eal = { file_prefix = \"\"; };\n" PORTS2, 1, "'file_prefix' in 'eal' must be 1 or more");
	assert_err("eal = { huge_dir = \"hugepages\"; };\n" PORTS2, 1, "'huge_dir' in 'eal' must be an absolute path");
	assert_err("eal = { log_level = \"NOTICE\"; };\n" PORTS2, 1, "'log_level' in 'eal' must be one of");
	assert_err("eal = { lcores = \"0-1,3,5,7,9,11,13,15,17,19,21,23,25,27,29,31,33,35,37,39,41,43,45,47,"
		   "49,51,53,55,57,59,61\"; };\n" PORTS2, 1, "'lcores' in 'eal' is too long (at most 63 characters)");
	/* ports */
	assert_err("ports = ({ name = \"a\"; dev = \"net_tap0\"; addr = \"10.0.0.1/24\"; },\n"
		   "{ name = \"b\"; dev = \"net_tap1\"; addr = \"10.0.1.1/24\"; },\n"
		   "{ name = \"a\"; dev = \"net_tap2\"; addr = \"10.0.2.1/24\"; });", 3,
		   "duplicate port name \"a\" (first at line 1)");
	assert_err("ports = ({ name = \"a\"; dev = \"net_tap0\"; addr = \"10.0.0.1/24\"; },\n"
		   "{ name = \"b\"; dev = \"net_tap1\"; addr = \"10.0.0.0/8\"; });", 2,
		   "port 'b' address \"10.0.0.0/8\" is the network address of 10.0.0.0/8");
	assert_err("ports = ({ name = \"a\"; dev = \"net_tap0\"; addr = \"10.0.0.1/24\"; },\n"
		   "{ name = \"b\"; dev = \"net_tap1\"; addr = \"10.0.0.129/25\"; });", 2,
		   "port 'b' subnet 10.0.0.128/25 overlaps port 'a' subnet 10.0.0.0/24 (line 1)");
	assert_err("ports = ({ name = \"a\"; dev = \"net_tap0\"; addr = \"10.0.0.1/0\"; });", 1, "with n in 1..31");
	assert_err("ports = ({ name = \"a\"; dev = \"net_tap0\"; addr = \"0.0.0.1/24\"; });", 1, "is in 0.0.0.0/8");
	assert_err("ports = ({ name = \"a\"; dev = \"net_tap0\"; addr = \"224.0.0.1/24\"; });", 1, "is multicast");
	assert_err("ports = ({ name = \"a\"; dev = \"net_tap0\"; addr = \"10.0.0.1 /24\"; });", 1, "must be \"a.b.c.d/n\"");
	assert_err("ports = ({ name = \"a\"; dev = \"net_tap0\"; addr = \"10.0.0.1/24\"; mac = \"00:00:00:00:00:00\"; });",
		   1, "must not be all zeros");
	assert_err("ports = ({ name = \"a b\"; dev = \"net_tap0\"; addr = \"10.0.0.1/24\"; });", 1,
		   "'name' in 'ports[0]' must be 1..31 characters of [A-Za-z0-9_-]");
	assert_err("ports = ({ name = \"\"; dev = \"net_tap0\"; addr = \"10.0.0.1/24\"; });", 1, "must be 1..31 characters");
	assert_err("ports = ({ name = \"abcdefghijabcdefghijabcdefghij12\"; dev = \"net_tap0\"; addr = \"10.0.0.1/24\"; });",
		   1, "'name' in 'ports[0]' is too long (at most 31 characters)");
	assert_ok("ports = ({ name = \"abcdefghijabcdefghijabcdefghij1\"; dev = \"net_tap0\"; addr = \"10.0.0.1/24\"; });");
	assert_err("ports = ({ name = \"a\"; dev = \"net_\"; addr = \"10.0.0.1/24\"; });", 1, "must be a DPDK virtual device");
	assert_err("ports = ({ name = \"a\"; dev = \"net_tap0,iface=a b\"; addr = \"10.0.0.1/24\"; });", 1, "must be a DPDK virtual device");
	assert_err("ports = ({ name = \"a\"; dev = \"00:20.0\"; addr = \"10.0.0.1/24\"; });", 1, "or a PCI address");
	assert_err("ports = ({ name = \"a\"; dev = \"net_tap0\"; });", 1, "missing required key 'addr' in 'ports[0]'");
	assert_err("ports = ({ name = \"a\"; dev = \"net_tap0\"; addr = \"10.0.0.1/24\"; mtu = 67; });", 1, "must be in 68..9600, got 67");
	assert_err("ports = ({ name = \"a\"; dev = \"net_tap0\"; addr = \"10.0.0.1/24\";\n"
		   "impair = { out = { drop = \"-1%\"; }; }; });", 2, "is not a percentage");
	assert_err("ports = ({ name = \"a\"; dev = \"net_tap0\"; addr = \"10.0.0.1/24\";\n"
		   "impair = { out = { drop = \"100.0001%\"; }; }; });", 2, "is above 100%");
	/* routes */
	assert_err(PORTS2 "routes = ({ prefix = \"10.0.0.0/33\"; dev = \"client\"; });", 5, "with n in 0..32");
	assert_err(PORTS2 "routes = ({ prefix = \"198.18.0.1/32\"; dev = \"client\"; });", 5,
		   "route 198.18.0.1/32 is the address of port 'client' itself");
	assert_err(PORTS2 "routes = ({ prefix = \"10.0.0.0/8\"; via = \"198.19.0.255\"; });", 5,
		   "gateway 198.19.0.255 is the broadcast address of 198.19.0.0/24");
	assert_err(PORTS2 "routes = ({ prefix = \"10.0.0.0/8\"; via = \"198.19.0\"; });", 5,
		   "'via' in 'routes[0]' must be \"a.b.c.d\"");
	assert_err(PORTS2 "routes = ({ prefix = \"10.0.0.0/8\"; dev = \"2\"; });", 5, "unknown port \"2\"");
	assert_err(PORTS2 "routes = ({ via = \"198.19.0.2\"; });", 5, "missing required key 'prefix' in 'routes[0]'");
	/* neighbours */
	assert_err(PORTS2 "neighbors = ({ addr = \"198.18.0.1\"; mac = \"02:00:00:00:00:01\"; port = \"client\"; });",
		   5, "neighbor 198.18.0.1 is the address of port 'client' itself");
	assert_err(PORTS2 "neighbors = ({ addr = \"198.18.0.0\"; mac = \"02:00:00:00:00:01\"; port = \"client\"; });",
		   5, "neighbor 198.18.0.0 is the network address of 198.18.0.0/24");
	assert_err(PORTS2 "neighbors = ({ addr = \"198.18.0.2\"; mac = \"ff:ff:ff:ff:ff:ff\"; port = \"client\"; });",
		   5, "mac \"ff:ff:ff:ff:ff:ff\" is not a unicast address");
	assert_err(PORTS2 "neighbors = ({ addr = \"198.18.0.2\"; mac = \"02:00:00:00:00:01\"; port = \"wan\"; });",
		   5, "unknown port \"wan\" (ports: client, server)");
	assert_err(PORTS2 "neighbors = ({ addr = \"198.18.0.256\"; mac = \"02:00:00:00:00:01\"; port = \"client\"; });",
		   5, "'addr' in 'neighbors[0]' must be \"a.b.c.d\"");
	/* syntax */
	assert_err("ports = (\n{ name = = \"a\"; }\n);", 2, "syntax error");
	/* an unterminated string swallows lines: libconfig reports where it chokes */
	assert_err("\n\neal = { lcores = \"0-1; };\n" PORTS2, 5, "syntax error");
	assert_err("ports = (\n{ name = \"a\"; }\n", 3, "syntax error");
}

/* --- policy rules --- */

static void test_rules(void **state)
{
	(void)state;
	assert_ok(PORTS2 "rules = (\n"
		  "  { dst = \"198.19.0.10/32\"; proto = \"tcp\"; dport = 8080; action = \"forward\"; },\n"
		  "  { src = \"198.18.0.128/25\"; action = \"drop\"; },\n"
		  "  { dst = \"198.19.0.0/24\"; proto = \"tcp\"; dport = \"1-1023\"; action = \"reject\"; },\n"
		  "  { dst = \"198.19.0.10/32\"; dport = 9000; proto = \"tcp\"; action = \"proxy\"; transparent = true; },\n"
		  "  { dst = \"198.19.0.11/32\"; proto = \"tcp\"; action = \"proxy\"; },\n"
		  "  { dst = \"198.19.0.12/32\"; proto = \"tcp\"; action = \"proxy\"; transparent = false; }\n"
		  ");\n");
	assert_int_equal(C.n_rules, 6);
	for (unsigned int i = 0; i < C.n_rules; i++)
		assert_int_equal(C.rules[i].id, i + 1);
	assert_int_equal(C.rules[0].action, SL_RA_FORWARD);
	assert_int_equal(C.rules[0].dport_lo, 8080);
	assert_int_equal(C.rules[0].dport_hi, 8080);
	assert_int_equal(C.rules[1].action, SL_RA_DROP);
	assert_int_equal(C.rules[1].src, 0xc6120080u);
	assert_int_equal(C.rules[1].src_plen, 25);
	assert_int_equal(C.rules[1].proto, 0);
	assert_int_equal(C.rules[1].dport_lo, 0);
	assert_int_equal(C.rules[1].dport_hi, 65535);
	assert_int_equal(C.rules[2].action, SL_RA_REJECT);
	assert_int_equal(C.rules[2].dport_lo, 1);
	assert_int_equal(C.rules[2].dport_hi, 1023);
	assert_int_equal(C.rules[3].action, SL_RA_PROXY);
	assert_int_equal(C.rules[3].proto, 6);
	assert_int_equal(C.rules[3].dst, 0xc613000au);
	assert_int_equal(C.rules[3].dst_plen, 32);
	assert_int_equal(C.rules[3].dport_lo, 9000);
	assert_int_equal(C.rules[3].flags, SL_RF_TRANSPARENT);
	assert_int_equal(C.rules[4].action, SL_RA_PROXY);
	assert_int_equal(C.rules[4].flags, 0);
	assert_int_equal(C.rules[5].flags, 0);
	for (unsigned int i = 0; i < 3; i++)
		assert_int_equal(C.rules[i].flags, 0);

	/* the action table, both ways */
	{
		static const char *const names[] = { "forward", "drop", "reject", "proxy" };
		uint8_t a;

		for (unsigned int i = 0; i < 4; i++) {
			assert_int_equal(sl_parse_rule_action(names[i], &a), 0);
			assert_int_equal(a, SL_RA_FORWARD + i);
			assert_string_equal(sl_rule_action_str(a), names[i]);
		}
		assert_int_equal(sl_parse_rule_action("Proxy", &a), -EINVAL);
		assert_int_equal(sl_parse_rule_action("", &a), -EINVAL);
		assert_string_equal(sl_rule_action_str(0), "?");
	}

	/* the proxy terminates TCP: nothing else, and not "any" */
	assert_err(PORTS2 "rules = (\n"
		   "{ dst = \"198.19.0.10/32\"; proto = \"udp\"; action = \"proxy\"; });", 6,
		   "action \"proxy\" in 'rules[0]' needs proto \"tcp\", got \"udp\"");
	assert_err(PORTS2 "rules = ({ dst = \"198.19.0.10/32\";\naction = \"proxy\"; });", 6,
		   "action \"proxy\" in 'rules[0]' needs proto \"tcp\", got \"any\"");
	assert_err(PORTS2 "rules = ({ proto = \"icmp\"; action = \"proxy\"; });", 5, "got \"icmp\"");
	/* transparent: only with proxy (even when false), and a boolean */
	assert_err(PORTS2 "rules = ({ proto = \"tcp\"; action = \"forward\";\ntransparent = true; });", 6,
		   "'transparent' in 'rules[0]' only applies to action \"proxy\", not \"forward\"");
	assert_err(PORTS2 "rules = ({ proto = \"tcp\"; action = \"reject\"; transparent = false; });", 5,
		   "only applies to action \"proxy\", not \"reject\"");
	assert_err(PORTS2 "rules = ({ proto = \"tcp\"; action = \"proxy\"; transparent = 1; });", 5,
		   "'transparent' in 'rules[0]' must be a boolean, not an integer");
	assert_err(PORTS2 "rules = ({ proto = \"tcp\"; action = \"proxy\"; transparent = \"yes\"; });", 5,
		   "must be a boolean, not a string");
	assert_err(PORTS2 "rules = ({ proto = \"tcp\"; action = \"proxy\"; transparnt = true; });", 5,
		   "unknown key 'transparnt' in 'rules[0]' (did you mean 'transparent'?)");
	/* the other rule errors */
	assert_err(PORTS2 "rules = ({ proto = \"tcp\"; action = \"relay\"; });", 5,
		   "'action' in 'rules[0]' must be one of forward, drop, reject, proxy; got \"relay\"");
	assert_err(PORTS2 "rules = ({ proto = \"tcp\"; });", 5, "missing required key 'action' in 'rules[0]'");
	assert_err(PORTS2 "rules = ({ dport = 80; action = \"drop\"; });", 5,
		   "'dport' in 'rules[0]' needs proto \"tcp\" or \"udp\"");
	assert_err(PORTS2 "rules = ({ dst = \"10.0.0.1/8\"; action = \"drop\"; });", 5, "host bits zero");
}

static void test_limits(void **state)
{
	char *text, *p;
	unsigned int i;

	(void)state;
	/* SL_CONF_MAX_ROUTES routes load; one more does not */
	text = malloc(64 * (SL_CONF_MAX_ROUTES + 1) + 256);
	assert_non_null(text);
	for (i = 0; i <= SL_CONF_MAX_ROUTES; i++) {
		p = text + sprintf(text, "%s", PORTS2 "routes = (\n");
		for (unsigned int k = 0; k < i; k++)
			p += sprintf(p, "{ prefix = \"10.%u.%u.0/24\"; dev = \"client\"; },\n", k >> 8, k & 0xff);
		p += sprintf(p, "{ prefix = \"11.0.0.0/8\"; dev = \"server\"; }\n);\n");
		if (i + 1 < SL_CONF_MAX_ROUTES)
			continue;
		if (i + 1 == SL_CONF_MAX_ROUTES) {
			assert_ok(text);
			assert_int_equal(C.n_routes, SL_CONF_MAX_ROUTES);
		} else {
			assert_err(text, 6 + SL_CONF_MAX_ROUTES, "too many entries in 'routes' (at most 256)");
		}
	}
	/* static neighbours must fit in the table */
	p = text + sprintf(text, "dataplane = { neighbors = { max = 16; }; };\n" PORTS2 "neighbors = (\n");
	for (i = 0; i < 17; i++)
		p += sprintf(p, "%s{ addr = \"198.18.0.%u\"; mac = \"02:00:00:00:00:%02x\"; port = \"client\"; }\n",
			     i ? "," : "", i + 2, i + 2);
	sprintf(p, ");\n");
	assert_err(text, 6, "17 static neighbors do not fit in dataplane.neighbors.max = 16");
	free(text);
}

static void test_unchanged_on_error(void **state)
{
	static struct sl_conf before;

	(void)state;
	memset(&C, 0x5a, sizeof(C));
	memcpy(&before, &C, sizeof(C));
	/* fails late: ports, eal and dataplane were already parsed */
	assert_err("eal = { mem_mb = 7; };\n" PORTS2 "routes = ({ prefix = \"1.0.0.0/8\"; via = \"9.9.9.9\"; });", 6,
		   "outside every port subnet");
	assert_memory_equal(&C, &before, sizeof(C));
}

static void test_files(void **state)
{
	char dir[] = "/tmp/sl_test_conf.XXXXXX", path[128], inc[128];
	FILE *f;

	(void)state;
	assert_int_equal(sl_conf_load(&C, "/nonexistent/sluice.conf", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "/nonexistent/sluice.conf: cannot open: No such file or directory");
	assert_int_equal(sl_conf_load(&C, SRCDIR "/config", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, SRCDIR "/config: is a directory");

	/* @include is relative to the including file's directory, and errors in
	 * an included file name that file */
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/main.conf", dir);
	snprintf(inc, sizeof(inc), "%s/ports.inc", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "eal = { mem_mb = 64; };\n@include \"ports.inc\"\n");
	fclose(f);
	f = fopen(inc, "w");
	assert_non_null(f);
	fprintf(f, "ports = (\n{ name = \"a\"; dev = \"net_tap0\"; addr = \"10.0.0.1/24\"; }\n);\n");
	fclose(f);
	if (sl_conf_load(&C, path, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_int_equal(C.n_ports, 1);
	assert_int_equal(C.mem_mb, 64);
	f = fopen(inc, "w");
	assert_non_null(f);
	fprintf(f, "ports = (\n{ name = \"a\"; dev = \"net_tap0\"; addr = \"10.0.0.1/24\"; mtu = 1; }\n);\n");
	fclose(f);
	assert_int_equal(sl_conf_load(&C, path, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "ports.inc:2: 'mtu' in 'ports[0]' must be in 68..9600, got 1"));
	unlink(inc);
	assert_int_equal(sl_conf_load(&C, path, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, ":2: cannot open include file"));
	unlink(path);
	rmdir(dir);

	/* NULLs and a tiny error buffer are survivable */
	assert_int_equal(sl_conf_load_str(&C, "x", NULL, err, sizeof(err)), -EINVAL);
	assert_int_equal(sl_conf_load_str(NULL, "x", PORTS2, err, sizeof(err)), -EINVAL);
	assert_int_equal(sl_conf_load(&C, NULL, err, sizeof(err)), -EINVAL);
	assert_int_equal(sl_conf_load_str(&C, "x", "x = 1;", NULL, 0), -EINVAL);
	assert_int_equal(sl_conf_load_str(&C, "x", "x = 1;", err, 4), -EINVAL);
	assert_string_equal(err, "x:1");
}

/* --- small parsers --- */

static void test_parse_ipv4(void **state)
{
	static const char *const bad[] = {
		"", "1", "1.2.3", "1.2.3.4.5", "256.0.0.1", "1.2.3.256", "01.2.3.4", "1.2.3.04",
		"+1.2.3.4", "-1.2.3.4", "1.-2.3.4", " 1.2.3.4", "1.2.3.4 ", "1.2.3.4/32", "1..3.4",
		"1.2.3.", ".1.2.3", "0x1.2.3.4", "1.2.3.4x", "1000.2.3.4", "1.2.3.4\n", NULL,
	};
	uint32_t ip = 7;
	char buf[16];
	int i;

	(void)state;
	assert_int_equal(sl_parse_ipv4("0.0.0.0", &ip), 0);
	assert_int_equal(ip, 0);
	assert_int_equal(sl_parse_ipv4("255.255.255.255", &ip), 0);
	assert_int_equal(ip, 0xffffffffu);
	assert_int_equal(sl_parse_ipv4("198.18.0.1", &ip), 0);
	assert_int_equal(ip, 0xc6120001u);
	assert_int_equal(sl_parse_ipv4("10.0.0.100", &ip), 0);
	assert_int_equal(ip, 0x0a000064u);
	for (i = 0; bad[i] != NULL; i++) {
		ip = 7;
		if (sl_parse_ipv4(bad[i], &ip) != -EINVAL)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_int_equal(ip, 7); /* untouched */
	}
	assert_int_equal(sl_parse_ipv4(NULL, &ip), -EINVAL);

	sl_format_ipv4(0xc6120001u, buf, sizeof(buf));
	assert_string_equal(buf, "198.18.0.1");
	sl_format_ipv4(0xffffffffu, buf, sizeof(buf));
	assert_string_equal(buf, "255.255.255.255");
	sl_format_ipv4(0, buf, sizeof(buf));
	assert_string_equal(buf, "0.0.0.0");
}

static void test_parse_prefix(void **state)
{
	uint32_t a = 7;
	uint8_t p = 7;

	(void)state;
	assert_int_equal(sl_parse_prefix("0.0.0.0/0", &a, &p), 0);
	assert_int_equal(a, 0);
	assert_int_equal(p, 0);
	assert_int_equal(sl_parse_prefix("10.0.0.0/8", &a, &p), 0);
	assert_int_equal(a, 0x0a000000u);
	assert_int_equal(p, 8);
	assert_int_equal(sl_parse_prefix("10.1.2.3/32", &a, &p), 0);
	assert_int_equal(p, 32);
	assert_int_equal(sl_parse_prefix("10.128.0.0/9", &a, &p), 0);
	a = 7;
	p = 7;
	assert_int_equal(sl_parse_prefix("10.0.0.1/8", &a, &p), -EINVAL); /* host bits */
	assert_int_equal(sl_parse_prefix("1.0.0.0/0", &a, &p), -EINVAL);
	assert_int_equal(sl_parse_prefix("10.0.0.0/33", &a, &p), -EINVAL);
	assert_int_equal(sl_parse_prefix("10.0.0.0/", &a, &p), -EINVAL);
	assert_int_equal(sl_parse_prefix("10.0.0.0", &a, &p), -EINVAL);
	assert_int_equal(sl_parse_prefix("10.0.0.0/08", &a, &p), -EINVAL);
	assert_int_equal(sl_parse_prefix("10.0.0.0/-8", &a, &p), -EINVAL);
	assert_int_equal(sl_parse_prefix("10.0.0.0/8 ", &a, &p), -EINVAL);
	assert_int_equal(sl_parse_prefix("10.0.0.0/100", &a, &p), -EINVAL);
	assert_int_equal(a, 7);
	assert_int_equal(p, 7);

	assert_int_equal(sl_parse_addr_plen("10.1.2.3/8", &a, &p), 0);
	assert_int_equal(a, 0x0a010203u);
	assert_int_equal(p, 8);
	assert_int_equal(sl_parse_addr_plen("10.1.2.3/0", &a, &p), 0);
	assert_int_equal(p, 0);
	assert_int_equal(sl_parse_addr_plen("10.1.2.3/33", &a, &p), -EINVAL);
	assert_int_equal(sl_parse_addr_plen("10.1.2.3//8", &a, &p), -EINVAL);
	assert_int_equal(sl_parse_addr_plen(NULL, &a, &p), -EINVAL);

	assert_int_equal(sl_plen_mask(0), 0);
	assert_int_equal(sl_plen_mask(1), 0x80000000u);
	assert_int_equal(sl_plen_mask(24), 0xffffff00u);
	assert_int_equal(sl_plen_mask(32), 0xffffffffu);
}

static void test_parse_mac(void **state)
{
	static const char *const bad[] = {
		"", "02:00:00:00:00", "02:00:00:00:00:00:00", "02-00-00-00-00-01", "2:0:0:0:0:1",
		"02:00:00:00:00:0g", "0200.0000.0001", "02:00:00:00:00:01 ", " 02:00:00:00:00:01",
		"02:00:00:00:00:001", "02::00:00:00:00", NULL,
	};
	uint8_t m[6] = { 9, 9, 9, 9, 9, 9 }, want[6] = { 0x02, 0x53, 0x4c, 0xab, 0xcd, 0xef };
	char buf[18];
	int i;

	(void)state;
	assert_int_equal(sl_parse_mac("02:53:4c:AB:cd:Ef", m), 0);
	assert_memory_equal(m, want, 6);
	sl_format_mac(m, buf, sizeof(buf));
	assert_string_equal(buf, "02:53:4c:ab:cd:ef");
	memset(m, 9, 6);
	for (i = 0; bad[i] != NULL; i++) {
		if (sl_parse_mac(bad[i], m) != -EINVAL)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_int_equal(m[0], 9);
	}
	assert_int_equal(sl_parse_mac(NULL, m), -EINVAL);
}

static void test_parse_pct(void **state)
{
	static const struct { const char *s; uint32_t ppm; } good[] = {
		{ "0%", 0 }, { "1%", 10000 }, { "0.5%", 5000 }, { "100%", 1000000 },
		{ "100.0000%", 1000000 }, { "0.0001%", 1 }, { "12.3456%", 123456 }, { "99.9999%", 999999 },
		{ "0.10%", 1000 }, { "3.1%", 31000 },
	};
	static const char *const bad[] = {
		"1", "101%", "100.0001%", "0.00001%", "0.50000%", "", "%", "-1%", "+1%", ".5%", "5.%",
		"1 %", " 1%", "1%%", "1%x", "01%", "1e2%", "1,5%", "1000%", "0x1%", "nan%", NULL,
	};
	uint32_t ppm;
	unsigned int i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		ppm = 7;
		if (sl_parse_pct(good[i].s, &ppm) != 0 || ppm != good[i].ppm)
			fail_msg("\"%s\": got %u, want %u", good[i].s, ppm, good[i].ppm);
	}
	for (i = 0; bad[i] != NULL; i++) {
		ppm = 7;
		if (sl_parse_pct(bad[i], &ppm) != -EINVAL)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_int_equal(ppm, 7);
	}
	assert_int_equal(sl_parse_pct(NULL, &ppm), -EINVAL);
}

static void test_format_pct(void **state)
{
	static const struct { uint32_t ppm; const char *s; } cases[] = {
		{ 0, "0%" }, { 10000, "1%" }, { 5000, "0.5%" }, { 1, "0.0001%" }, { 1000000, "100%" },
		{ 123456, "12.3456%" }, { 100, "0.01%" }, { 10, "0.001%" }, { 120000, "12%" },
		{ 1230, "0.123%" },
	};
	char buf[32];
	uint32_t ppm, back;

	(void)state;
	for (ppm = 0; ppm < sizeof(cases) / sizeof(cases[0]); ppm++) {
		sl_format_pct(cases[ppm].ppm, buf, sizeof(buf));
		assert_string_equal(buf, cases[ppm].s);
	}
	/* every representable value survives format -> parse */
	for (ppm = 0; ppm <= 1000000; ppm++) {
		sl_format_pct(ppm, buf, sizeof(buf));
		if (sl_parse_pct(buf, &back) != 0 || back != ppm)
			fail_msg("%u -> \"%s\" -> %u", ppm, buf, back);
	}
}

static void test_port_find(void **state)
{
	(void)state;
	assert_ok(PORTS2);
	assert_int_equal(sl_conf_port_find(&C, "client"), 0);
	assert_int_equal(sl_conf_port_find(&C, "server"), 1);
	assert_int_equal(sl_conf_port_find(&C, "0"), 0);
	assert_int_equal(sl_conf_port_find(&C, "1"), 1);
	assert_int_equal(sl_conf_port_find(&C, "2"), -ENOENT);
	assert_int_equal(sl_conf_port_find(&C, "99999999999"), -ENOENT);
	assert_int_equal(sl_conf_port_find(&C, "Client"), -ENOENT);
	assert_int_equal(sl_conf_port_find(&C, "clien"), -ENOENT);
	assert_int_equal(sl_conf_port_find(&C, "1x"), -ENOENT);
	assert_int_equal(sl_conf_port_find(&C, ""), -ENOENT);
	assert_int_equal(sl_conf_port_find(&C, NULL), -ENOENT);
	assert_int_equal(sl_conf_port_find(NULL, "client"), -ENOENT);
	/* names may start with digits (found by fuzz_conf: "4294967296p4") */
	assert_ok("ports = ({ name = \"12345a\"; dev = \"net_tap0\"; addr = \"10.0.0.1/24\"; },\n"
		  "{ name = \"1-2\"; dev = \"net_tap1\"; addr = \"10.0.1.1/24\"; });\n"
		  "routes = ({ prefix = \"10.9.0.0/16\"; dev = \"12345a\"; });");
	assert_int_equal(sl_conf_port_find(&C, "12345a"), 0);
	assert_int_equal(sl_conf_port_find(&C, "1-2"), 1);
	assert_int_equal(C.routes[0].port, 0);
}

static void test_parse_lcores_dev(void **state)
{
	char key[64];

	(void)state;
	assert_int_equal(sl_parse_lcores("0-1"), 2);
	assert_int_equal(sl_parse_lcores("0"), 1);
	assert_int_equal(sl_parse_lcores("0,2-5"), 5);
	assert_int_equal(sl_parse_lcores("1,1,0-1"), 2);
	assert_int_equal(sl_parse_lcores("127"), 1);
	assert_int_equal(sl_parse_lcores("128"), -ERANGE);
	assert_int_equal(sl_parse_lcores("99999999999999999999999"), -ERANGE);
	assert_int_equal(sl_parse_lcores("3-2"), -EINVAL);
	/* --lcores maps: more lcores than CPUs */
	assert_int_equal(sl_parse_lcores("0@0,(1-3)@1"), 4);
	assert_int_equal(sl_parse_lcores("0,1@1,2@1,3@1"), 4);
	assert_int_equal(sl_parse_lcores("(0,4-5)@(0-1),7"), 4);
	assert_int_equal(sl_parse_lcores("0@0,1-3@1"), -EINVAL); /* EAL wants (1-3)@1 */
	assert_int_equal(sl_parse_lcores("0@"), -EINVAL);
	assert_int_equal(sl_parse_lcores("(0,1"), -EINVAL);
	assert_int_equal(sl_parse_lcores("0@0@1"), -EINVAL);
	assert_int_equal(sl_parse_lcores("(0-200)@0"), -ERANGE);
	assert_int_equal(sl_parse_lcores("0@5000"), -EINVAL);
	assert_true(sl_lcores_is_map("0@0,(1-3)@1"));
	assert_false(sl_lcores_is_map("0-3"));
	assert_int_equal(sl_parse_lcores(""), -EINVAL);
	assert_int_equal(sl_parse_lcores("0,"), -EINVAL);
	assert_int_equal(sl_parse_lcores("0-"), -EINVAL);
	assert_int_equal(sl_parse_lcores("-1"), -EINVAL);
	assert_int_equal(sl_parse_lcores("0 1"), -EINVAL);
	assert_int_equal(sl_parse_lcores("(0-1)@0"), 2); /* a map: two lcores on CPU 0 */
	assert_int_equal(sl_parse_lcores(NULL), -EINVAL);

	assert_int_equal(sl_parse_dev("net_tap0,iface=sl-tap0", key, sizeof(key)), 1);
	assert_string_equal(key, "net_tap0");
	assert_int_equal(sl_parse_dev("net_af_xdp1", key, sizeof(key)), 1);
	assert_string_equal(key, "net_af_xdp1");
	assert_int_equal(sl_parse_dev("0000:AF:1f.7", key, sizeof(key)), 0);
	assert_string_equal(key, "0000:af:1f.7");
	assert_int_equal(sl_parse_dev("03:00.1", key, sizeof(key)), 0);
	assert_string_equal(key, "0000:03:00.1");
	assert_int_equal(sl_parse_dev("03:00.1", NULL, 0), 0);
	assert_int_equal(sl_parse_dev("03:20.1", key, sizeof(key)), -EINVAL); /* device > 0x1f */
	assert_int_equal(sl_parse_dev("03:00.8", key, sizeof(key)), -EINVAL); /* function > 7 */
	assert_int_equal(sl_parse_dev("3:00.1", key, sizeof(key)), -EINVAL);
	assert_int_equal(sl_parse_dev("0000:03:00.1x", key, sizeof(key)), -EINVAL);
	assert_int_equal(sl_parse_dev("eth0", key, sizeof(key)), -EINVAL);
	assert_int_equal(sl_parse_dev("net_", key, sizeof(key)), -EINVAL);
	assert_int_equal(sl_parse_dev("net_,iface=x", key, sizeof(key)), -EINVAL);
	assert_int_equal(sl_parse_dev("net_ta-p0", key, sizeof(key)), -EINVAL);
	assert_int_equal(sl_parse_dev("net_tap0,iface=a\tb", key, sizeof(key)), -EINVAL);
	assert_int_equal(sl_parse_dev("", key, sizeof(key)), -EINVAL);
	assert_int_equal(sl_parse_dev(NULL, key, sizeof(key)), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_default_file),
		cmocka_unit_test(test_examples),
		cmocka_unit_test(test_doc_example),
		cmocka_unit_test(test_fixtures),
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_rules),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_unchanged_on_error),
		cmocka_unit_test(test_files),
		cmocka_unit_test(test_parse_ipv4),
		cmocka_unit_test(test_parse_prefix),
		cmocka_unit_test(test_parse_mac),
		cmocka_unit_test(test_parse_pct),
		cmocka_unit_test(test_format_pct),
		cmocka_unit_test(test_port_find),
		cmocka_unit_test(test_parse_lcores_dev),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
