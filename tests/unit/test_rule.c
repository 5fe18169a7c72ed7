/* Policy rules: first match, prefixes, protocols, port ranges, list upkeep,
 * and the CLI/config parsers behind them. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "conf.h"
#include "flow/rule_match.h"

static struct sl_rule R(uint32_t id, const char *dst, uint8_t proto, const char *ports, uint8_t act)
{
	struct sl_rule r = { .id = id, .proto = proto, .action = act, .dport_hi = 65535 };

	if (dst)
		assert_int_equal(sl_parse_prefix(dst, &r.dst, &r.dst_plen), 0);
	if (ports)
		assert_int_equal(sl_parse_port_range(ports, &r.dport_lo, &r.dport_hi), 0);
	return r;
}

static struct rule_pkt P(const char *src, const char *dst, uint8_t proto, int dport)
{
	struct rule_pkt p = { .proto = proto, .has_port = dport >= 0, .dport = (uint16_t)(dport < 0 ? 0 : dport) };

	assert_int_equal(sl_parse_ipv4(src, &p.src), 0);
	assert_int_equal(sl_parse_ipv4(dst, &p.dst), 0);
	return p;
}

static void test_first_match(void **s)
{
	struct sl_rule_table *t = calloc(1, sizeof(*t));
	struct sl_rule a = R(1, "198.19.0.10/32", 6, "9000", SL_RA_FORWARD);
	struct sl_rule b = R(2, "198.19.0.0/24", 6, "8000-9999", SL_RA_REJECT);
	struct sl_rule c = R(3, "198.19.0.0/24", 0, NULL, SL_RA_DROP);
	struct rule_pkt p;
	(void)s;
	assert_int_equal(rule_list_add(t, &a), 0);
	assert_int_equal(rule_list_add(t, &b), 0);
	assert_int_equal(rule_list_add(t, &c), 0);
	p = P("198.18.0.2", "198.19.0.10", 6, 9000);
	assert_int_equal(rule_match(t, &p), 0);           /* the exception first */
	p = P("198.18.0.2", "198.19.0.11", 6, 9000);
	assert_int_equal(rule_match(t, &p), 1);
	p = P("198.18.0.2", "198.19.0.11", 6, 7999);
	assert_int_equal(rule_match(t, &p), 2);           /* outside the range */
	p = P("198.18.0.2", "198.19.0.11", 17, 9000);
	assert_int_equal(rule_match(t, &p), 2);           /* proto differs */
	p = P("198.18.0.2", "198.20.0.1", 6, 9000);
	assert_int_equal(rule_match(t, &p), -1);          /* no rule */
	/* a later fragment has no port: only port-less rules can match */
	p = P("198.18.0.2", "198.19.0.11", 6, -1);
	assert_int_equal(rule_match(t, &p), 2);
	/* delete keeps order */
	assert_int_equal(rule_list_del(t, 2), 0);
	assert_int_equal(rule_list_del(t, 2), -ENOENT);
	p = P("198.18.0.2", "198.19.0.11", 6, 9000);
	assert_int_equal(rule_match(t, &p), 1);
	assert_int_equal(t->r[1].id, 3);
	free(t);
}

static void test_src_and_any(void **s)
{
	struct sl_rule_table *t = calloc(1, sizeof(*t));
	struct sl_rule r = R(7, NULL, 0, NULL, SL_RA_DROP);
	struct rule_pkt p;
	(void)s;
	assert_int_equal(sl_parse_prefix("198.18.0.128/25", &r.src, &r.src_plen), 0);
	assert_int_equal(rule_list_add(t, &r), 0);
	p = P("198.18.0.200", "1.2.3.4", 1, -1);
	assert_int_equal(rule_match(t, &p), 0);
	p = P("198.18.0.2", "1.2.3.4", 1, -1);
	assert_int_equal(rule_match(t, &p), -1);
	free(t);
}

static void test_validation(void **s)
{
	struct sl_rule_table *t = calloc(1, sizeof(*t));
	struct sl_rule r = R(1, "10.0.0.0/8", 6, "80", SL_RA_DROP);
	(void)s;
	assert_int_equal(rule_validate(&r), 0);
	r.dst = 0x0a000001; /* host bits */
	assert_int_equal(rule_validate(&r), -EINVAL);
	r = R(1, NULL, 1, NULL, SL_RA_DROP);
	r.dport_lo = 80; r.dport_hi = 80; /* ports on ICMP */
	assert_int_equal(rule_validate(&r), -EINVAL);
	r = R(1, NULL, 47, NULL, SL_RA_DROP);
	assert_int_equal(rule_validate(&r), -EINVAL);
	r = R(1, NULL, 0, NULL, 9);
	assert_int_equal(rule_validate(&r), -EINVAL);
	r = R(0, NULL, 0, NULL, SL_RA_DROP); /* id 0 is not a handle */
	assert_int_equal(rule_list_add(t, &r), -EINVAL);
	r.id = 5;
	assert_int_equal(rule_list_add(t, &r), 0);
	assert_int_equal(rule_list_add(t, &r), -EEXIST);
	for (uint32_t i = 1; i < SL_RULES_MAX; i++) {
		r.id = 100 + i;
		assert_int_equal(rule_list_add(t, &r), 0);
	}
	r.id = 9999;
	assert_int_equal(rule_list_add(t, &r), -ENOSPC);
	free(t);
}

static void test_parsers(void **s)
{
	uint16_t lo, hi;
	uint8_t v;
	(void)s;
	assert_int_equal(sl_parse_port_range("80", &lo, &hi), 0);
	assert_true(lo == 80 && hi == 80);
	assert_int_equal(sl_parse_port_range("8000-8080", &lo, &hi), 0);
	assert_true(lo == 8000 && hi == 8080);
	assert_int_equal(sl_parse_port_range("any", &lo, &hi), 0);
	assert_true(lo == 0 && hi == 65535);
	assert_int_equal(sl_parse_port_range("65536", &lo, &hi), -EINVAL);
	assert_int_equal(sl_parse_port_range("90-80", &lo, &hi), -EINVAL);
	assert_int_equal(sl_parse_port_range("80-", &lo, &hi), -EINVAL);
	assert_int_equal(sl_parse_port_range("-80", &lo, &hi), -EINVAL);
	assert_int_equal(sl_parse_port_range("8o", &lo, &hi), -EINVAL);
	assert_int_equal(sl_parse_proto("tcp", &v), 0);
	assert_int_equal(v, 6);
	assert_int_equal(sl_parse_proto("TCP", &v), -EINVAL);
	assert_int_equal(sl_parse_rule_action("reject", &v), 0);
	assert_int_equal(v, SL_RA_REJECT);
	assert_int_equal(sl_parse_rule_action("proxy", &v), 0);
	assert_int_equal(v, SL_RA_PROXY);
	assert_int_equal(sl_parse_rule_action("relay", &v), -EINVAL);
	assert_string_equal(sl_rule_action_str(SL_RA_PROXY), "proxy");
	assert_string_equal(sl_rule_action_str(SL_RA_DROP), "drop");
}

static void test_config_rules(void **s)
{
	static const char text[] =
		"ports = ( { name = \"a\"; dev = \"net_null0\"; addr = \"198.18.0.1/24\"; } );\n"
		"rules = (\n"
		"  { dst = \"198.19.0.10/32\"; proto = \"tcp\"; dport = 9000; action = \"forward\"; },\n"
		"  { dst = \"198.19.0.0/24\"; proto = \"udp\"; dport = \"5000-5010\"; action = \"reject\"; },\n"
		"  { src = \"198.18.0.0/24\"; action = \"drop\"; }\n"
		");\n";
	struct sl_conf *c = calloc(1, sizeof(*c));
	char err[SL_CONF_ERR_LEN];
	(void)s;
	if (sl_conf_load_str(c, "r.conf", text, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_int_equal(c->n_rules, 3);
	assert_int_equal(c->rules[0].id, 1);
	assert_int_equal(c->rules[0].dport_lo, 9000);
	assert_int_equal(c->rules[1].dport_hi, 5010);
	assert_int_equal(c->rules[1].action, SL_RA_REJECT);
	assert_int_equal(c->rules[2].src_plen, 24);
	assert_int_equal(c->rules[2].dport_hi, 65535);

	static const char bad[] =
		"ports = ( { name = \"a\"; dev = \"net_null0\"; addr = \"198.18.0.1/24\"; } );\n"
		"rules = ( { dst = \"198.19.0.0/24\";\n"
		"            action = \"proxy\"; } );\n";
	assert_int_equal(sl_conf_load_str(c, "r.conf", bad, err, sizeof(err)), -EINVAL);
	/* proxy terminates TCP: a rule without proto tcp cannot have it */
	assert_non_null(strstr(err, "r.conf:3:"));
	assert_non_null(strstr(err, "action \"proxy\" in 'rules[0]' needs proto \"tcp\""));

	static const char bad2[] =
		"ports = ( { name = \"a\"; dev = \"net_null0\"; addr = \"198.18.0.1/24\"; } );\n"
		"rules = ( { proto = \"icmp\"; dport = 80; action = \"drop\"; } );\n";
	assert_int_equal(sl_conf_load_str(c, "r.conf", bad2, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "r.conf:2:"));
	assert_non_null(strstr(err, "needs proto"));
	free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_match),
		cmocka_unit_test(test_src_and_any),
		cmocka_unit_test(test_validation),
		cmocka_unit_test(test_parsers),
		cmocka_unit_test(test_config_rules),
	};
	return cmocka_run_group_tests_name("rule", tests, NULL, NULL);
}
