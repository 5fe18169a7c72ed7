/*
 * sluice-agent configuration (libconfig 1.5).  The whole file is one
 * section; every key of it is listed here (docs/agent.md has the same
 * reference with the reasoning):
 *
 * agent = {
 *   appliance = "198.18.100.1";   # required: address or host name of the
 *                                 # appliance (resolved at every dial)
 *   port = 443;                   # appliance TLS port (default 443)
 *   proxy = "http://user:pass@198.18.100.2:8888";
 *                                 # optional HTTP CONNECT proxy; the user
 *                                 # info (percent-encoded) gives Basic auth;
 *                                 # the port defaults to 80 as in any http URL
 *   ca = "certs/agent-ca.pem";    # required: CA(s) the appliance's
 *                                 # certificate must chain to
 *   cert = "certs/site-a.pem";    # required: our certificate (chain) ...
 *   key = "certs/site-a.key";     # ... and its private key
 *   server_name = "appliance.sluice.test";
 *                                 # optional: the name the appliance's
 *                                 # certificate must carry (and the SNI).
 *                                 # Default: `appliance` itself, a DNS name
 *                                 # or an IP address (then an IP SAN).
 *   stream_pool = 4;              # idle STREAM sessions kept connected (1..1024)
 *   stream_pool_max = 64;         # the appliance's pool hint may raise the
 *                                 # pool up to this (>= stream_pool)
 *   max_connects = 256;           # concurrent server connects (BUSY beyond)
 *   max_relays = 4096;            # relayed connections (BUSY beyond)
 *   max_pings = 64;               # outstanding echo requests (BUSY beyond)
 *   relay_buffer = 262144;        # bytes buffered per direction per relay
 *                                 # (4096..67108864)
 *   connect_timeout_ms = 3000;    # when a CONNECT says 0 (1..65535)
 *   dial_timeout_ms = 10000;      # TCP + proxy + TLS handshake to the appliance
 *   backoff_min_ms = 100;         # reconnect delay after the first failure,
 *   backoff_max_ms = 5000;        # doubling up to this (with jitter)
 *   max_dgram_sessions = 64;      # DGRAM sessions (SAs) at once (1..4096);
 *                                 # DGRAM_OPEN beyond: BUSY
 *   max_das = 4096;               # UDP associations at once (1..1048576)
 *   dgram_credit = 1024;          # DATA frames the appliance may send per
 *                                 # session before our next CREDIT (2..1048576)
 *   dgram_buffer = 1048576;       # bytes queued toward the appliance per
 *                                 # DGRAM session; datagrams beyond are
 *                                 # dropped and counted (65536..67108864)
 *   deny = [ "10.0.0.0/8" ];      # destinations our UDP associations
 *                                 # refuse (REFUSE), besides loopback,
 *                                 # 0/8, multicast and broadcast (at most 64)
 * };
 *
 * Relative paths are used as written, i.e. from the working directory.
 * An unknown key, a wrong type or a value out of range is an error naming
 * the file and line; nothing is guessed.
 */
#include <errno.h>
#include <libconfig.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_conf.h"

struct ld {
	char *err;
	size_t errlen;
	const char *name; /* file name for errors without a setting */
};

static int fail(struct ld *l, const config_setting_t *s, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail(struct ld *l, const config_setting_t *s, const char *fmt, ...)
{
	const char *file = s ? config_setting_source_file(s) : NULL;
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (s && config_setting_source_line(s))
		snprintf(l->err, l->errlen, "%s:%u: %s", file ? file : l->name,
			 config_setting_source_line(s), msg);
	else
		snprintf(l->err, l->errlen, "%s: %s", l->name, msg);
	return -EINVAL;
}

static const char *const keys[] = {
	"appliance", "port", "proxy", "ca", "cert", "key", "server_name",
	"stream_pool", "stream_pool_max", "max_connects", "max_relays", "max_pings",
	"relay_buffer", "connect_timeout_ms", "dial_timeout_ms", "backoff_min_ms",
	"backoff_max_ms", "max_dgram_sessions", "max_das", "dgram_credit", "dgram_buffer", "deny",
	NULL,
};

static int known(const char *name, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(*list, name) == 0)
			return 1;
	return 0;
}

static int check_keys(struct ld *l, const config_setting_t *g, const char *where,
		      const char *const *list)
{
	const config_setting_t *s;
	unsigned int i;

	for (i = 0; (s = config_setting_get_elem(g, i)) != NULL; i++) {
		if (known(config_setting_name(s), list))
			continue;
		if (where)
			return fail(l, s, "unknown key '%s' in '%s'", config_setting_name(s), where);
		return fail(l, s, "unknown section '%s' (the only section is 'agent')",
			    config_setting_name(s));
	}
	return 0;
}

/* Integer key: 1 set, 0 absent (v untouched), -EINVAL. */
static int get_u32(struct ld *l, const config_setting_t *g, const char *key, uint32_t min,
		   uint32_t max, uint32_t *v)
{
	const config_setting_t *s = config_setting_get_member(g, key);
	long long x;

	if (s == NULL)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_INT && config_setting_type(s) != CONFIG_TYPE_INT64)
		return fail(l, s, "'%s' must be an integer", key);
	x = config_setting_get_int64(s);
	if (x < (long long)min || x > (long long)max)
		return fail(l, s, "'%s' is %lld; it must be %u..%u", key, x, min, max);
	*v = (uint32_t)x;
	return 1;
}

/* String key into buf[cap]: 1 set, 0 absent, -EINVAL (wrong type, empty,
 * too long). */
static int get_str(struct ld *l, const config_setting_t *g, const char *key, char *buf,
		   size_t cap, const config_setting_t **sp)
{
	const config_setting_t *s = config_setting_get_member(g, key);
	const char *v;

	if (sp)
		*sp = s;
	if (s == NULL)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		return fail(l, s, "'%s' must be a string", key);
	v = config_setting_get_string(s);
	if (v[0] == '\0')
		return fail(l, s, "'%s' is empty", key);
	if (strlen(v) >= cap)
		return fail(l, s, "'%s' is longer than %zu characters", key, cap - 1);
	memcpy(buf, v, strlen(v) + 1);
	return 1;
}

/* A host: a DNS name (letters, digits, '-', '.') or a dotted quad.  What
 * getaddrinfo would make of anything else is not worth finding out. */
static int host_ok(const char *h)
{
	size_t i, n = strlen(h);

	if (n == 0 || n > AGENT_HOST_MAX || h[0] == '-' || h[0] == '.')
		return 0;
	for (i = 0; i < n; i++) {
		char c = h[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '.'))
			return 0;
	}
	return 1;
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

/* Percent-decode s[0..n) into out[cap]; 0 or -1. */
static int pct_decode(const char *s, size_t n, char *out, size_t cap)
{
	size_t i, o = 0;
	int h, lo;

	for (i = 0; i < n; i++) {
		char c = s[i];

		if (c == '%') {
			if (i + 2 >= n)
				return -1;
			h = hexval(s[i + 1]);
			lo = hexval(s[i + 2]);
			if (h < 0 || lo < 0 || (h == 0 && lo == 0))
				return -1;
			c = (char)(h << 4 | lo);
			i += 2;
		}
		if (o + 1 >= cap)
			return -1;
		out[o++] = c;
	}
	out[o] = '\0';
	return 0;
}

const char *agent_proxy_parse(const char *url, struct agent_proxy *p)
{
	const char *s, *at, *colon, *end, *hp;
	struct agent_proxy r;
	unsigned long port = 80;
	char *ep;
	size_t hl;

	memset(&r, 0, sizeof(r));
	if (strncmp(url, "http://", 7) != 0)
		return "must start with http:// (an HTTP CONNECT proxy)";
	s = url + 7;
	end = s + strcspn(s, "/?#");
	if (*end == '/' && end[1] != '\0')
		return "must not have a path";
	if (*end == '?' || *end == '#')
		return "must not have a query or fragment";
	at = memchr(s, '@', (size_t)(end - s));
	if (at) {
		colon = memchr(s, ':', (size_t)(at - s));
		r.auth = 1;
		if (pct_decode(s, (size_t)((colon ? colon : at) - s), r.user, sizeof(r.user)) < 0)
			return "bad user name (too long, or a bad %-escape)";
		if (colon && pct_decode(colon + 1, (size_t)(at - colon - 1), r.pass, sizeof(r.pass)) < 0)
			return "bad password (too long, or a bad %-escape)";
		if (strchr(r.user, ':'))
			return "user name must not contain ':' (Basic auth splits there)";
		s = at + 1;
	}
	hp = s;
	colon = memchr(hp, ':', (size_t)(end - hp));
	hl = (size_t)((colon ? colon : end) - hp);
	if (hl == 0 || hl > AGENT_HOST_MAX)
		return "missing or too long host";
	memcpy(r.host, hp, hl);
	r.host[hl] = '\0';
	if (!host_ok(r.host))
		return "bad host (a DNS name or an IPv4 address)";
	if (colon) {
		if (colon + 1 == end || colon[1] == '0' || colon[1] < '0' || colon[1] > '9')
			return "bad port";
		errno = 0;
		port = strtoul(colon + 1, &ep, 10);
		if (ep != end || errno || port == 0 || port > 65535)
			return "bad port (1..65535)";
	}
	r.port = (uint16_t)port;
	r.set = 1;
	*p = r;
	return NULL;
}

static void defaults(struct agent_conf *c)
{
	memset(c, 0, sizeof(*c));
	c->port = 443;
	c->stream_pool = 4;
	c->stream_pool_max = 64;
	c->max_connects = 256;
	c->max_relays = 4096;
	c->max_pings = 64;
	c->relay_buffer = 262144;
	c->connect_timeout_ms = 3000;
	c->dial_timeout_ms = 10000;
	c->backoff_min_ms = 100;
	c->backoff_max_ms = 5000;
	c->max_dgram_sessions = 64;
	c->max_das = 4096;
	c->dgram_credit = 1024;
	c->dgram_buffer = 1048576;
}

/* deny = [ "a.b.c.d/n", ... ]: host bits must be zero */
static int load_deny(struct ld *l, const config_setting_t *g, struct agent_conf *c)
{
	const config_setting_t *s = config_setting_get_member(g, "deny");
	int n, i;

	if (s == NULL)
		return 0;
	if (!config_setting_is_array(s) && !config_setting_is_list(s))
		return fail(l, s, "'deny' must be an array of \"a.b.c.d/n\" strings");
	n = config_setting_length(s);
	if (n > AGENT_DENY_MAX)
		return fail(l, s, "'deny' has %d entries (at most %d)", n, AGENT_DENY_MAX);
	for (i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned int)i);
		const char *v = config_setting_get_string(e);
		unsigned a, b, cc, d, len;
		char tail;
		uint32_t net, mask;

		if (v == NULL || sscanf(v, "%u.%u.%u.%u/%u%c", &a, &b, &cc, &d, &len, &tail) != 5 ||
		    a > 255 || b > 255 || cc > 255 || d > 255 || len > 32)
			return fail(l, e, "'deny[%d]' must be \"a.b.c.d/n\", got %s%s%s", i, v ? "\"" : "",
				    v ? v : "a non-string", v ? "\"" : "");
		net = a << 24 | b << 16 | cc << 8 | d;
		mask = len ? ~0u << (32 - len) : 0;
		if (net & ~mask)
			return fail(l, e, "'deny[%d]' \"%s\" has host bits set", i, v);
		c->deny[i].net = net;
		c->deny[i].mask = mask;
	}
	c->n_deny = (uint32_t)n;
	return 0;
}

static int load_strings(struct ld *l, const config_setting_t *g, struct agent_conf *c)
{
	const config_setting_t *s;
	char url[1024];
	const char *why;
	int rc;

	if ((rc = get_str(l, g, "appliance", c->appliance, sizeof(c->appliance), &s)) <= 0)
		return rc < 0 ? rc : fail(l, g, "'appliance' (address or host name) is required");
	if (!host_ok(c->appliance))
		return fail(l, s, "'appliance' \"%s\" is not a host name or IPv4 address", c->appliance);
	if ((rc = get_str(l, g, "server_name", c->server_name, sizeof(c->server_name), &s)) < 0)
		return rc;
	if (rc && !host_ok(c->server_name))
		return fail(l, s, "'server_name' \"%s\" is not a host name or IPv4 address",
			    c->server_name);
	if ((rc = get_str(l, g, "proxy", url, sizeof(url), &s)) < 0)
		return rc;
	/* the URL may hold a password: name what is wrong, never echo it */
	if (rc && (why = agent_proxy_parse(url, &c->proxy)) != NULL)
		return fail(l, s, "'proxy': %s", why);
	if ((rc = get_str(l, g, "ca", c->ca, sizeof(c->ca), NULL)) <= 0)
		return rc < 0 ? rc : fail(l, g, "'ca' (the CA file that signs the appliance) is required");
	if ((rc = get_str(l, g, "cert", c->cert, sizeof(c->cert), NULL)) <= 0)
		return rc < 0 ? rc : fail(l, g, "'cert' (our certificate file) is required");
	if ((rc = get_str(l, g, "key", c->key, sizeof(c->key), NULL)) <= 0)
		return rc < 0 ? rc : fail(l, g, "'key' (our private key file) is required");
	return 0;
}

static int load_numbers(struct ld *l, const config_setting_t *g, struct agent_conf *c)
{
	uint32_t port = c->port;
	int rc = 0;

	/* an unset cap follows a large stream_pool instead of contradicting it */
	if (config_setting_get_member(g, "stream_pool_max") == NULL)
		c->stream_pool_max = 0;

	if ((rc = get_u32(l, g, "port", 1, 65535, &port)) < 0 ||
	    (rc = get_u32(l, g, "stream_pool", 1, 1024, &c->stream_pool)) < 0 ||
	    (rc = get_u32(l, g, "stream_pool_max", 1, 1024, &c->stream_pool_max)) < 0 ||
	    (rc = get_u32(l, g, "max_connects", 1, 65536, &c->max_connects)) < 0 ||
	    (rc = get_u32(l, g, "max_relays", 1, 1048576, &c->max_relays)) < 0 ||
	    (rc = get_u32(l, g, "max_pings", 1, 65536, &c->max_pings)) < 0 ||
	    (rc = get_u32(l, g, "relay_buffer", 4096, 64u << 20, &c->relay_buffer)) < 0 ||
	    (rc = get_u32(l, g, "connect_timeout_ms", 1, 65535, &c->connect_timeout_ms)) < 0 ||
	    (rc = get_u32(l, g, "dial_timeout_ms", 100, 600000, &c->dial_timeout_ms)) < 0 ||
	    (rc = get_u32(l, g, "backoff_min_ms", 1, 3600000, &c->backoff_min_ms)) < 0 ||
	    (rc = get_u32(l, g, "backoff_max_ms", 1, 3600000, &c->backoff_max_ms)) < 0 ||
	    (rc = get_u32(l, g, "max_dgram_sessions", 1, 4096, &c->max_dgram_sessions)) < 0 ||
	    (rc = get_u32(l, g, "max_das", 1, 1048576, &c->max_das)) < 0 ||
	    (rc = get_u32(l, g, "dgram_credit", 2, 1048576, &c->dgram_credit)) < 0 ||
	    (rc = get_u32(l, g, "dgram_buffer", 65536, 64u << 20, &c->dgram_buffer)) < 0)
		return rc;
	c->port = (uint16_t)port;
	if (c->stream_pool_max == 0)
		c->stream_pool_max = c->stream_pool > 64 ? c->stream_pool : 64;
	if (c->stream_pool_max < c->stream_pool)
		return fail(l, config_setting_get_member(g, "stream_pool_max") ?: g,
			    "'stream_pool_max' (%u) is below 'stream_pool' (%u)", c->stream_pool_max,
			    c->stream_pool);
	if (c->backoff_max_ms < c->backoff_min_ms)
		return fail(l, config_setting_get_member(g, "backoff_max_ms") ?: g,
			    "'backoff_max_ms' (%u) is below 'backoff_min_ms' (%u)", c->backoff_max_ms,
			    c->backoff_min_ms);
	return 0;
}

static int load(struct ld *l, config_t *cfg, struct agent_conf *c)
{
	const config_setting_t *root = config_root_setting(cfg), *g;
	int rc;

	defaults(c);
	if ((rc = check_keys(l, root, NULL, (const char *const[]){ "agent", NULL })) < 0)
		return rc;
	g = config_setting_get_member(root, "agent");
	if (g == NULL)
		return fail(l, NULL, "no 'agent = { ... };' section");
	if (config_setting_type(g) != CONFIG_TYPE_GROUP)
		return fail(l, g, "'agent' must be a group { ... }");
	if ((rc = check_keys(l, g, "agent", keys)) < 0 || (rc = load_numbers(l, g, c)) < 0 ||
	    (rc = load_strings(l, g, c)) < 0 || (rc = load_deny(l, g, c)) < 0)
		return rc;
	return 0;
}

static int finish(struct ld *l, config_t *cfg, int read_ok, struct agent_conf *c)
{
	int rc;

	if (!read_ok) {
		if (config_error_type(cfg) == CONFIG_ERR_FILE_IO)
			snprintf(l->err, l->errlen, "%s: cannot read: %s", l->name, strerror(errno));
		else
			snprintf(l->err, l->errlen, "%s:%d: %s",
				 config_error_file(cfg) ? config_error_file(cfg) : l->name,
				 config_error_line(cfg), config_error_text(cfg));
		config_destroy(cfg);
		return -EINVAL;
	}
	rc = load(l, cfg, c);
	config_destroy(cfg);
	if (rc < 0)
		agent_conf_wipe(c);
	return rc;
}

int agent_conf_load(struct agent_conf *c, const char *path, char *err, size_t errlen)
{
	struct ld l = { err, errlen, path };
	config_t cfg;

	config_init(&cfg);
	return finish(&l, &cfg, config_read_file(&cfg, path) == CONFIG_TRUE, c);
}

int agent_conf_load_str(struct agent_conf *c, const char *name, const char *text, char *err,
			size_t errlen)
{
	struct ld l = { err, errlen, name };
	config_t cfg;

	config_init(&cfg);
	return finish(&l, &cfg, config_read_string(&cfg, text) == CONFIG_TRUE, c);
}

void agent_conf_wipe(struct agent_conf *c)
{
	explicit_bzero(c, sizeof(*c));
}
