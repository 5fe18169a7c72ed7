/*
 * Small strict parsers and formatters shared by the config loader and the
 * CLI: IPv4 addresses and prefixes, MAC addresses, percentages, lcore lists,
 * device names; the defaults; and the pure string checks of the loader
 * (conf_priv.h).
 * No allocation; every parser either accepts the whole string or returns an
 * error without touching its outputs.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sluice/ctl.h>

#include "conf.h"
#include "conf_priv.h"

/* A decimal of 1..maxdig digits, no sign, and no leading zero (inet_aton(3)
 * would read "010" as octal 8; we refuse to guess).  Returns the number of
 * characters read, 0 when there is no valid number at s. */
static int dec(const char *s, int maxdig, uint32_t *v)
{
	uint32_t x = 0;
	int n = 0;

	while (s[n] >= '0' && s[n] <= '9') {
		if (n == maxdig)
			return 0;
		x = x * 10 + (uint32_t)(s[n] - '0');
		n++;
	}
	if (n == 0 || (n > 1 && s[0] == '0'))
		return 0;
	*v = x;
	return n;
}

/* Dotted quad at s; returns the end of it, or NULL. */
static const char *ipv4_at(const char *s, uint32_t *ip)
{
	uint32_t v = 0, o;
	int i, n;

	for (i = 0; i < 4; i++) {
		if (i > 0 && *s++ != '.')
			return NULL;
		n = dec(s, 3, &o);
		if (n == 0 || o > 255)
			return NULL;
		v = v << 8 | o;
		s += n;
	}
	*ip = v;
	return s;
}

int sl_parse_ipv4(const char *s, uint32_t *ip)
{
	const char *e;
	uint32_t v;

	if (s == NULL)
		return -EINVAL;
	e = ipv4_at(s, &v);
	if (e == NULL || *e != '\0')
		return -EINVAL;
	*ip = v;
	return 0;
}

int sl_parse_addr_plen(const char *s, uint32_t *addr, uint8_t *plen)
{
	const char *e;
	uint32_t v, p;
	int n;

	if (s == NULL)
		return -EINVAL;
	e = ipv4_at(s, &v);
	if (e == NULL || *e != '/')
		return -EINVAL;
	n = dec(e + 1, 2, &p);
	if (n == 0 || e[1 + n] != '\0' || p > 32)
		return -EINVAL;
	*addr = v;
	*plen = (uint8_t)p;
	return 0;
}

int sl_parse_prefix(const char *s, uint32_t *prefix, uint8_t *plen)
{
	uint32_t a;
	uint8_t p;

	if (sl_parse_addr_plen(s, &a, &p) < 0 || (a & ~sl_plen_mask(p)) != 0)
		return -EINVAL;
	*prefix = a;
	*plen = p;
	return 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int sl_parse_mac(const char *s, uint8_t mac[6])
{
	uint8_t m[6];
	int i, h, l;

	if (s == NULL)
		return -EINVAL;
	for (i = 0; i < 6; i++) {
		if (i > 0 && *s++ != ':')
			return -EINVAL;
		h = hexval(s[0]);
		l = h < 0 ? -1 : hexval(s[1]);
		if (l < 0)
			return -EINVAL;
		m[i] = (uint8_t)(h << 4 | l);
		s += 2;
	}
	if (*s != '\0')
		return -EINVAL;
	memcpy(mac, m, 6);
	return 0;
}

/* "I[.FFFF]%" with 0 <= value <= 100; 1 ppm = 0.0001% is the resolution, so
 * a fifth decimal would be silently rounded: refuse it instead. */
int sl_parse_pct(const char *s, uint32_t *ppm)
{
	uint32_t ip, frac = 0;
	int n, nd = 0;

	if (s == NULL)
		return -EINVAL;
	n = dec(s, 3, &ip);
	if (n == 0)
		return -EINVAL;
	s += n;
	if (*s == '.') {
		s++;
		while (*s >= '0' && *s <= '9') {
			if (nd == 4)
				return -EINVAL;
			frac = frac * 10 + (uint32_t)(*s++ - '0');
			nd++;
		}
		if (nd == 0)
			return -EINVAL;
	}
	for (; nd < 4; nd++)
		frac *= 10;
	if (s[0] != '%' || s[1] != '\0' || ip * 10000 + frac > 1000000)
		return -EINVAL;
	*ppm = ip * 10000 + frac;
	return 0;
}

void sl_format_ipv4(uint32_t ip, char *buf, size_t len)
{
	snprintf(buf, len, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 0xff, (ip >> 8) & 0xff, ip & 0xff);
}

void sl_format_mac(const uint8_t mac[6], char *buf, size_t len)
{
	snprintf(buf, len, "%02x:%02x:%02x:%02x:%02x:%02x",
		 mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
}

void sl_format_pct(uint32_t ppm, char *buf, size_t len)
{
	char frac[8];
	int n;

	if (ppm % 10000 == 0) {
		snprintf(buf, len, "%u%%", ppm / 10000);
		return;
	}
	snprintf(frac, sizeof(frac), "%04u", ppm % 10000);
	for (n = 4; frac[n - 1] == '0'; n--)
		;
	snprintf(buf, len, "%u.%.*s%%", ppm / 10000, n, frac);
}

int sl_conf_port_find(const struct sl_conf *c, const char *name_or_index)
{
	const char *s = name_or_index;
	unsigned int i, idx = 0;

	if (c == NULL || s == NULL || *s == '\0')
		return -ENOENT;
	/* Port names are never all digits (the loader refuses them), so a
	 * decimal string is unambiguously an index. */
	if (strspn(s, "0123456789") == strlen(s)) {
		for (i = 0; s[i] != '\0'; i++) {
			if (i == 4)
				return -ENOENT;
			idx = idx * 10 + (unsigned int)(s[i] - '0');
		}
		return idx < c->n_ports ? (int)idx : -ENOENT;
	}
	for (i = 0; i < c->n_ports; i++)
		if (strcmp(c->ports[i].name, s) == 0)
			return (int)i;
	return -ENOENT;
}

/* One id or ascending range "a-b" at *s; -EINVAL or -ERANGE (above max). */
static int lc_range(const char **s, unsigned long max, unsigned long *a, unsigned long *b)
{
	char *e;

	if (!isdigit((unsigned char)**s))
		return -EINVAL;
	errno = 0;
	*a = *b = strtoul(*s, &e, 10);
	if (errno)
		return -ERANGE;
	*s = e;
	if (**s == '-') {
		(*s)++;
		if (!isdigit((unsigned char)**s))
			return -EINVAL;
		*b = strtoul(*s, &e, 10);
		if (errno)
			return -ERANGE;
		*s = e;
	}
	if (*a > *b)
		return -EINVAL;
	return *b > max ? -ERANGE : 0;
}

/* A set: an id, "a-b" (when `range_ok`), or a group "(a,b-c,...)"; ids
 * are marked in seen[] (if not NULL) and counted into *n. */
static int lc_set(const char **s, unsigned long max, int range_ok, unsigned char *seen, int *n)
{
	unsigned long a, b;
	int group = **s == '(', rc;

	if (group)
		(*s)++;
	for (;;) {
		if ((rc = lc_range(s, max, &a, &b)) < 0)
			return rc;
		if (!group && !range_ok && a != b)
			return -EINVAL; /* EAL: "1-3@1" is not a set, "(1-3)@1" is */
		for (; seen && a <= b; a++)
			if (!seen[a]++)
				(*n)++;
		if (!group)
			return 0;
		if (**s == ')') {
			(*s)++;
			return 0;
		}
		if (*(*s)++ != ',')
			return -EINVAL;
	}
}

/* An EAL -l list ("0-1", "0,2-3") or --lcores map ("0@0,(1-3)@1": lcores
 * 1 to 3 as threads on CPU 1); ascending ranges, lcore ids below
 * RTE_MAX_LCORE, CPU ids below CPU_SETSIZE. */
int sl_parse_lcores(const char *s)
{
	unsigned char seen[SL_LCORE_ID_MAX + 1] = { 0 };
	int n = 0, rc, dummy = 0;

	if (s == NULL)
		return -EINVAL;
	for (;;) {
		const char *at = s;
		int mapped;

		/* look ahead: a set followed by '@' may not be a bare range */
		if ((rc = lc_set(&s, SL_LCORE_ID_MAX, 1, NULL, &dummy)) < 0)
			return rc;
		mapped = *s == '@';
		s = at;
		if ((rc = lc_set(&s, SL_LCORE_ID_MAX, !mapped, seen, &n)) < 0)
			return rc;
		if (mapped) {
			s++;
			if ((rc = lc_set(&s, 1023, 0, NULL, &dummy)) < 0)
				return rc == -ERANGE ? -EINVAL : rc;
		}
		if (*s == '\0')
			return n;
		if (*s++ != ',')
			return -EINVAL;
	}
}

int sl_lcores_is_map(const char *s)
{
	return strchr(s, '@') != NULL || strchr(s, '(') != NULL;
}

static int hex_field(const char **s, int ndig, unsigned int *v)
{
	const char *p = *s;
	int i;

	*v = 0;
	for (i = 0; i < ndig; i++) {
		if (!isxdigit((unsigned char)p[i]))
			return -1;
		*v = *v << 4 | (unsigned int)hexval(p[i]);
	}
	*s += ndig;
	return 0;
}

int sl_parse_dev(const char *dev, char *key, size_t len)
{
	unsigned int dom = 0, bus, slot, fn;
	const char *s = dev;
	size_t n, i;

	if (dev == NULL)
		return -EINVAL;
	if (strncmp(dev, "net_", 4) == 0) {
		n = strcspn(dev, ",");
		if (n == 4)
			return -EINVAL;
		for (i = 4; i < n; i++)
			if (!isalnum((unsigned char)dev[i]) && dev[i] != '_')
				return -EINVAL;
		for (i = 0; dev[i] != '\0'; i++) /* no blanks or control characters in devargs */
			if (!isgraph((unsigned char)dev[i]))
				return -EINVAL;
		if (key != NULL)
			snprintf(key, len, "%.*s", (int)n, dev);
		return 1;
	}
	n = strlen(dev);
	if (n == 12) {
		if (hex_field(&s, 4, &dom) < 0 || *s++ != ':')
			return -EINVAL;
	} else if (n != 7) {
		return -EINVAL;
	}
	if (hex_field(&s, 2, &bus) < 0 || *s++ != ':' || hex_field(&s, 2, &slot) < 0 ||
	    *s++ != '.' || hex_field(&s, 1, &fn) < 0 || *s != '\0' || slot > 0x1f || fn > 7)
		return -EINVAL;
	if (key != NULL)
		snprintf(key, len, "%04x:%02x:%02x.%x", dom, bus, slot, fn);
	return 0;
}

/* The values docs/config.md promises (test_conf checks both). */
void sl_conf_defaults(struct sl_conf *c)
{
	memset(c, 0, sizeof(*c));
	strcpy(c->lcores, "0-1");
	strcpy(c->file_prefix, "sluice");
	strcpy(c->log_level, "notice");
	c->mbufs_per_worker = 32767; /* TCP queues live in them: 256 KB per busy leg */
	c->burst = 32;
	c->rx_desc = 1024;
	c->tx_desc = 1024;
	c->idle_sleep_us = 0;
	c->icmp_rate = 100;
	c->icmp_burst = 50;
	c->stats_period_ms = 100;
	c->neigh_max = 1024;
	c->neigh_reachable_ms = 30000;
	c->neigh_retrans_ms = 1000;
	c->neigh_probes = 3;
	c->neigh_pending_per_entry = 4;
	c->neigh_pending_max = 256;
	snprintf(c->ctl_socket, sizeof(c->ctl_socket), "%s", CTL_DEFAULT_SOCKET);
	strcpy(c->crypto_engine, "auto");
	/* the values of tcp_params_default / tcp_timer_policy_default */
	c->tcp_max_conns = 32768;
	c->tcp_max_half_open = 4096;
	c->tcp_sndbuf = 256 * 1024;
	c->tcp_reass_bytes = 256 * 1024;
	c->tcp_mss = 1460;
	c->tcp_time_wait_ms = 60000;
	c->tcp_idle_timeout_ms = 300000;
	c->tcp_syn_timeout_ms = 30000;
	c->tcp_connect_timeout_ms = 75000;
	c->tcp_delack_ms = 40;
	c->tcp_keepalive_idle_ms = 0;
	c->tcp_keepalive_intvl_ms = 75000;
	c->tcp_keepalive_probes = 9;
	c->tls_max_sessions = 4096;
	c->crypto_measure_ms = 20;
}

/*
 * Helpers of the loader (conf_priv.h).
 */

const char *conf_check_lcores(const char *s, char *buf, size_t len)
{
	int n = sl_parse_lcores(s);

	if (n == -ERANGE) {
		snprintf(buf, len, "names an lcore above %d", SL_LCORE_ID_MAX);
		return buf;
	}
	if (n < 0)
		return "must be an EAL -l list such as \"0-1\" or \"0,2-3\", or an --lcores map "
		       "such as \"0@0,(1-3)@1\"";
	if (n < 2)
		return "needs at least 2 lcores (the main lcore and one worker)";
	if (n > SL_MAX_LCORES) {
		snprintf(buf, len, "has %d lcores; at most %d (%d workers and the main lcore)",
			 n, SL_MAX_LCORES, SL_MAX_WORKERS);
		return buf;
	}
	return NULL;
}

const char *conf_check_file_prefix(const char *s, char *buf, size_t len)
{
	(void)buf, (void)len;
	return conf_name_ok(s) ? NULL : "must be 1 or more of [A-Za-z0-9_-]";
}

const char *conf_check_huge_dir(const char *s, char *buf, size_t len)
{
	(void)buf, (void)len;
	/* relative to what?  The daemon's working directory is not a contract */
	return *s == '\0' || *s == '/' ? NULL : "must be an absolute path (or \"\" for the EAL default)";
}

const char *conf_check_socket(const char *s, char *buf, size_t len)
{
	(void)buf, (void)len;
	return *s == '/' ? NULL : "must be an absolute path";
}

const char *conf_check_log_level(const char *s, char *buf, size_t len)
{
	static const char *const levels[] = {
		"emerg", "alert", "crit", "error", "warning", "notice", "info", "debug", NULL
	};
	int i;

	(void)buf, (void)len;
	for (i = 0; levels[i] != NULL; i++)
		if (strcmp(s, levels[i]) == 0)
			return NULL;
	return "must be one of emerg, alert, crit, error, warning, notice, info, debug";
}


const char *conf_check_crypto_engine(const char *s, char *buf, size_t len)
{
	(void)buf, (void)len;
	if (strcmp(s, "auto") == 0 || strcmp(s, "ipsec-mb") == 0 || strcmp(s, "openssl") == 0)
		return NULL;
	return "must be one of auto, ipsec-mb, openssl";
}

int conf_name_ok(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-')
			return 0;
	return 1;
}

unsigned int conf_edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	unsigned int d[40], prev, tmp, best;

	if (la >= 40 || lb >= 40)
		return UINT_MAX;
	for (j = 0; j <= lb; j++)
		d[j] = (unsigned int)j;
	for (i = 1; i <= la; i++) {
		prev = d[0];
		d[0] = (unsigned int)i;
		for (j = 1; j <= lb; j++) {
			tmp = d[j];
			best = prev + (a[i - 1] != b[j - 1]);
			if (d[j] + 1 < best)
				best = d[j] + 1;
			if (d[j - 1] + 1 < best)
				best = d[j - 1] + 1;
			d[j] = best;
			prev = tmp;
		}
	}
	return d[lb];
}

const char *conf_pct_problem(const char *v)
{
	size_t n = strlen(v);
	const char *dot = strchr(v, '.');

	if (n == 0 || v[n - 1] != '%')
		return "needs a '%' sign, as in \"1%\"";
	if (dot != NULL && strspn(dot + 1, "0123456789") > 4)
		return "has more than 4 decimals (the resolution is 0.0001%)";
	if (isdigit((unsigned char)v[0]) && strtod(v, NULL) > 100.0)
		return "is above 100%";
	return "is not a percentage such as \"0.5%\"";
}

const char *conf_not_unicast(uint32_t a)
{
	if ((a >> 24) == 0)
		return "is in 0.0.0.0/8, which means 'this network' (RFC 1122 3.2.1.3)";
	if ((a >> 24) == 127)
		return "is a loopback address (127.0.0.0/8)";
	if (a >= 0xe0000000u)
		return "is multicast, reserved or broadcast (224.0.0.0 and above)";
	return NULL;
}

/* No host may use the network or broadcast address of its subnet.  A /31 has
 * neither (RFC 3021 2.1: both addresses are hosts on a point-to-point link). */
const char *conf_net_or_bcast(uint32_t a, unsigned int plen)
{
	uint32_t host = ~sl_plen_mask(plen);

	if (plen >= 31)
		return NULL;
	if ((a & host) == 0)
		return "network";
	if ((a & host) == host)
		return "broadcast";
	return NULL;
}

/* One numeric token of libconfig's lexer at t; *bad when it does not fit. */
static const char *int_literal(const char *t, int *bad, int *is64)
{
	uint64_t v = 0, lim;
	int neg = 0, hex = 0, over = 0;

	if (*t == '-' || *t == '+')
		neg = *t++ == '-';
	if (t[0] == '0' && (t[1] == 'x' || t[1] == 'X') && isxdigit((unsigned char)t[2])) {
		hex = 1;
		for (t += 2; isxdigit((unsigned char)*t); t++) {
			over |= (v >> 60) != 0;
			v = v << 4 | (uint64_t)hexval(*t);
		}
	} else {
		for (; isdigit((unsigned char)*t); t++) {
			over |= v > (UINT64_MAX - 9) / 10;
			v = v * 10 + (uint64_t)(*t - '0');
		}
		if (*t == '.' || *t == 'e' || *t == 'E') { /* a float: not our business */
			while (isdigit((unsigned char)*t) || *t == '.' || *t == 'e' || *t == 'E' ||
			       ((*t == '-' || *t == '+') && (t[-1] == 'e' || t[-1] == 'E')))
				t++;
			*bad = 0;
			return t;
		}
	}
	*is64 = *t == 'L';
	if (*is64) {
		t += t[1] == 'L' ? 2 : 1;
		/* hex is a bit pattern: 0xffffffffffffffffL is -1 */
		lim = hex ? UINT64_MAX : (uint64_t)INT64_MAX + (uint64_t)neg;
	} else {
		lim = hex ? (uint64_t)INT32_MAX : (uint64_t)INT32_MAX + (uint64_t)neg;
	}
	*bad = over || v > lim;
	return t;
}

/*
 * libconfig 1.5 reads a plain integer with atoi(): 4294967296 silently becomes
 * 0 and 0x80000000 becomes negative, so a range check would pass a value the
 * user never wrote.  Walk the text the way its lexer does (strings, three
 * comment styles, names) and report the first literal that does not fit.
 * Included files are not scanned.
 */
int conf_scan_int_literals(const char *t, unsigned int *line, const char **tok, int *toklen,
			   int *is64)
{
	const char *s;
	int bad;

	*line = 1;
	while (*t != '\0') {
		if (*t == '\n') {
			++*line;
			t++;
		} else if (*t == '"') {
			for (t++; *t != '\0' && *t != '"'; t++) {
				if (*t == '\\' && t[1] != '\0')
					t++;
				if (*t == '\n')
					++*line;
			}
			if (*t != '\0')
				t++;
		} else if (*t == '#' || (t[0] == '/' && t[1] == '/')) {
			while (*t != '\0' && *t != '\n')
				t++;
		} else if (t[0] == '/' && t[1] == '*') {
			for (t += 2; *t != '\0' && !(t[0] == '*' && t[1] == '/'); t++)
				if (*t == '\n')
					++*line;
			if (*t != '\0')
				t += 2;
		} else if (isalpha((unsigned char)*t) || *t == '*' || *t == '@') {
			/* a setting name (or @include): digits in it are no number */
			for (t++; isalnum((unsigned char)*t) || *t == '-' || *t == '_' || *t == '*'; t++)
				;
		} else if (isdigit((unsigned char)*t) ||
			   ((*t == '-' || *t == '+') && isdigit((unsigned char)t[1]))) {
			s = t;
			t = int_literal(t, &bad, is64);
			if (bad) {
				*tok = s;
				*toklen = (int)(t - s);
				return -ERANGE;
			}
		} else {
			t++;
		}
	}
	return 0;
}

int sl_parse_proto(const char *s, uint8_t *proto)
{
	static const struct { const char *name; uint8_t v; } t[] = {
		{ "any", 0 }, { "icmp", 1 }, { "tcp", 6 }, { "udp", 17 },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (strcmp(s, t[i].name) == 0) {
			*proto = t[i].v;
			return 0;
		}
	}
	return -EINVAL;
}

const char *sl_proto_str(uint8_t proto)
{
	switch (proto) {
	case 0: return "any";
	case 1: return "icmp";
	case 6: return "tcp";
	case 17: return "udp";
	default: return "?";
	}
}

static int parse_port(const char *s, const char **end, uint16_t *v)
{
	unsigned long n = 0;
	const char *p = s;

	if (*p < '0' || *p > '9')
		return -EINVAL;
	while (*p >= '0' && *p <= '9') {
		n = n * 10 + (unsigned long)(*p++ - '0');
		if (n > 65535)
			return -EINVAL;
	}
	*v = (uint16_t)n;
	*end = p;
	return 0;
}

int sl_parse_port_range(const char *s, uint16_t *lo, uint16_t *hi)
{
	const char *p;

	if (strcmp(s, "any") == 0) {
		*lo = 0;
		*hi = 65535;
		return 0;
	}
	if (parse_port(s, &p, lo) != 0)
		return -EINVAL;
	if (*p == '\0') {
		*hi = *lo;
		return 0;
	}
	if (*p != '-' || parse_port(p + 1, &p, hi) != 0 || *p != '\0' || *hi < *lo)
		return -EINVAL;
	return 0;
}

int sl_parse_rule_action(const char *s, uint8_t *action)
{
	if (strcmp(s, "forward") == 0)
		*action = SL_RA_FORWARD;
	else if (strcmp(s, "drop") == 0)
		*action = SL_RA_DROP;
	else if (strcmp(s, "reject") == 0)
		*action = SL_RA_REJECT;
	else if (strcmp(s, "proxy") == 0)
		*action = SL_RA_PROXY;
	else
		return -EINVAL;
	return 0;
}

const char *sl_rule_action_str(unsigned int action)
{
	switch (action) {
	case SL_RA_FORWARD: return "forward";
	case SL_RA_DROP:    return "drop";
	case SL_RA_REJECT:  return "reject";
	case SL_RA_PROXY:   return "proxy";
	/* these belong to applications (`apps`, `app add`), never parsed */
	case SL_RA_TLS_TERM: return "tls-terminate";
	case SL_RA_TLS_ORIG: return "tls-originate";
	case SL_RA_DENY:    return "deny";
	default:            return "?";
	}
}

unsigned int sl_app_rules(const struct sl_app_def *a, unsigned int idx, uint32_t id0,
			  struct sl_rule r[2])
{
	struct sl_rule base = {
		.dst = a->server,
		.dst_plen = 32,
		.proto = 6,
		.app = (uint16_t)(idx + 1),
	};

	r[0] = base;
	r[0].id = id0;
	if (a->mode == SL_APP_ORIGINATE) {
		r[0].action = SL_RA_TLS_ORIG;
		r[0].dport_lo = r[0].dport_hi = a->plain_port;
		r[0].flags = a->transparent ? SL_RF_TRANSPARENT : 0;
		return 1;
	}
	r[0].action = SL_RA_TLS_TERM;
	r[0].dport_lo = r[0].dport_hi = a->secure_port;
	r[0].flags = a->transparent ? SL_RF_TRANSPARENT : 0;
	r[1] = base;
	r[1].id = id0 + 1;
	r[1].action = SL_RA_DENY;
	r[1].dport_lo = r[1].dport_hi = a->plain_port;
	return 2;
}
