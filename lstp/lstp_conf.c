/*
 * sluice-lstp configuration (libconfig 1.5).  One section, `lstp`; every
 * key is documented in docs/sluice-lstp.md.  An unknown key, a wrong type
 * or a value out of range is an error naming the file and line.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <libconfig.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lstp_conf.h"

struct ld {
	char *err;
	size_t errlen;
	const char *name;
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

static const char *const top_keys[] = {
	"role", "name", "common", "unique", "middle", "proxy", "tls", "socks", "forwards",
	"services", "allow", "limits", "reconnect", NULL,
};
static const char *const middle_keys[] = { "address", "port", NULL };
static const char *const tls_keys[] = { "ca", "cert", "key", NULL };
static const char *const socks_keys[] = { "address", "port", "users", NULL };
static const char *const user_keys[] = { "user", "password", NULL };
static const char *const fwd_keys[] = { "listen_port", "listen_address", "service", NULL };
static const char *const svc_keys[] = { "name", "address", "port", NULL };
static const char *const limit_keys[] = { "max_channels", "channel_buffer", "tunnel_buffer",
					  "connect_timeout_ms", "handshake_timeout_ms",
					  "max_local", NULL };
static const char *const backoff_keys[] = { "min_ms", "max_ms", NULL };

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
		return fail(l, s, "unknown section '%s' (the only section is 'lstp')",
			    config_setting_name(s));
	}
	return 0;
}

static int group(struct ld *l, const config_setting_t *g, const char *key, const char *const *keys,
		 const config_setting_t **out)
{
	const config_setting_t *s = config_setting_get_member(g, key);

	*out = s;
	if (s == NULL)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_GROUP)
		return fail(l, s, "'%s' must be a group { ... }", key);
	return check_keys(l, s, key, keys) < 0 ? -EINVAL : 1;
}

static int get_u32(struct ld *l, const config_setting_t *g, const char *key, uint32_t min,
		   uint32_t max, uint32_t *v)
{
	const config_setting_t *s = g ? config_setting_get_member(g, key) : NULL;
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

static int get_port(struct ld *l, const config_setting_t *g, const char *key, uint16_t *p)
{
	uint32_t v;
	int rc = get_u32(l, g, key, 1, 65535, &v);

	if (rc > 0)
		*p = (uint16_t)v;
	return rc;
}

static int get_str(struct ld *l, const config_setting_t *g, const char *key, char *buf, size_t cap,
		   const config_setting_t **sp)
{
	const config_setting_t *s = g ? config_setting_get_member(g, key) : NULL;
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

static int printable(const char *s)
{
	for (; *s; s++)
		if (*s < 0x21 || *s > 0x7e)
			return 0;
	return 1;
}

static int host_ok(const char *h)
{
	size_t i, n = strlen(h);

	if (n == 0 || n > LC_HOST_MAX || h[0] == '-' || h[0] == '.')
		return 0;
	for (i = 0; i < n; i++) {
		char c = h[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '.'))
			return 0;
	}
	return 1;
}

static int ipv4(const char *s, uint32_t *a)
{
	struct in_addr in;

	if (inet_pton(AF_INET, s, &in) != 1)
		return -1;
	*a = ntohl(in.s_addr);
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

const char *lstp_proxy_parse(const char *url, struct lc_proxy *p)
{
	const char *s, *at, *colon, *end;
	struct lc_proxy r;
	unsigned long port;
	char *ep;
	size_t hl;

	memset(&r, 0, sizeof(r));
	if (strncmp(url, "socks5://", 9) == 0) {
		r.kind = LC_PROXY_SOCKS5;
		s = url + 9;
		port = 1080;
	} else if (strncmp(url, "http://", 7) == 0) {
		r.kind = LC_PROXY_HTTP;
		s = url + 7;
		port = 80;
	} else {
		return "must start with socks5:// or http://";
	}
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
		if (r.user[0] == '\0')
			return "empty user name";
		if (r.kind == LC_PROXY_SOCKS5 && r.pass[0] == '\0')
			return "RFC 1929 needs a password (1..255 bytes)";
		if (strchr(r.user, ':'))
			return "user name must not contain ':'";
		s = at + 1;
	}
	colon = memchr(s, ':', (size_t)(end - s));
	hl = (size_t)((colon ? colon : end) - s);
	if (hl == 0 || hl > LC_HOST_MAX)
		return "missing or too long host";
	memcpy(r.host, s, hl);
	r.host[hl] = '\0';
	if (!host_ok(r.host))
		return "bad host (a DNS name or an IPv4 address)";
	if (colon) {
		if (colon + 1 == end || colon[1] < '1' || colon[1] > '9')
			return "bad port";
		errno = 0;
		port = strtoul(colon + 1, &ep, 10);
		if ((ep != end && *ep != '/') || errno || port == 0 || port > 65535)
			return "bad port (1..65535)";
	}
	r.port = (uint16_t)port;
	*p = r;
	return NULL;
}

static void defaults(struct lstp_conf *c)
{
	memset(c, 0, sizeof(*c));
	c->middle_port = 4433;
	c->socks_addr = 0x7f000001;
	c->socks_port = 1080;
	c->max_channels = 1024;
	c->channel_buffer = 262144;
	c->tunnel_buffer = 1048576;
	c->connect_timeout_ms = 5000;
	c->handshake_timeout_ms = 10000;
	c->max_local = 1024;
	c->backoff_min_ms = 100;
	c->backoff_max_ms = 5000;
}

static int load_tls(struct ld *l, const config_setting_t *g, struct lstp_conf *c)
{
	const config_setting_t *t;
	int rc;

	if ((rc = group(l, g, "tls", tls_keys, &t)) <= 0)
		return rc < 0 ? rc : fail(l, g, "'tls = { ca, cert, key }' is required");
	if ((rc = get_str(l, t, "ca", c->ca, sizeof(c->ca), NULL)) <= 0)
		return rc < 0 ? rc : fail(l, t, "'tls.ca' (the CA the peer end must chain to) is required");
	if ((rc = get_str(l, t, "cert", c->cert, sizeof(c->cert), NULL)) <= 0)
		return rc < 0 ? rc : fail(l, t, "'tls.cert' is required");
	if ((rc = get_str(l, t, "key", c->key, sizeof(c->key), NULL)) <= 0)
		return rc < 0 ? rc : fail(l, t, "'tls.key' is required");
	return 0;
}

static int load_ident(struct ld *l, const config_setting_t *g, struct lstp_conf *c)
{
	const config_setting_t *s, *m;
	char buf[1024];
	const char *why;
	int rc;

	if ((rc = get_str(l, g, "role", buf, 16, &s)) <= 0)
		return rc < 0 ? rc : fail(l, g, "'role' (\"client\", \"server\" or \"middle\") is required");
	if (strcmp(buf, "client") == 0)
		c->role = LC_CLIENT;
	else if (strcmp(buf, "server") == 0)
		c->role = LC_SERVER;
	else if (strcmp(buf, "middle") == 0)
		c->role = LC_MIDDLE;
	else
		return fail(l, s, "'role' must be \"client\", \"server\" or \"middle\"");
	if ((rc = get_str(l, g, "name", c->name, sizeof(c->name), &s)) <= 0)
		return rc < 0 ? rc : fail(l, g, "'name' (this end's topology name) is required");
	if (!printable(c->name))
		return fail(l, s, "'name' must be printable ASCII without spaces");
	if ((rc = get_str(l, g, "common", c->common, sizeof(c->common), &s)) <= 0)
		return rc < 0 ? rc : fail(l, g, "'common' (the pairing key) is required");
	if ((rc = get_str(l, g, "unique", c->unique, sizeof(c->unique), &s)) < 0)
		return rc;
	if ((rc = group(l, g, "middle", middle_keys, &m)) <= 0)
		return rc < 0 ? rc : fail(l, g, "'middle = { address, port }' is required");
	if ((rc = get_str(l, m, "address", c->middle_host, sizeof(c->middle_host), &s)) <= 0)
		return rc < 0 ? rc : fail(l, m, "'middle.address' is required");
	if (!host_ok(c->middle_host))
		return fail(l, s, "'middle.address' \"%s\" is not a host name or IPv4 address",
			    c->middle_host);
	if (c->role == LC_MIDDLE && ipv4(c->middle_host, &(uint32_t){ 0 }) < 0)
		return fail(l, s, "'middle.address' must be an IPv4 address for role middle (it listens)");
	if ((rc = get_port(l, m, "port", &c->middle_port)) < 0)
		return rc;
	if ((rc = get_str(l, g, "proxy", buf, sizeof(buf), &s)) < 0)
		return rc;
	if (rc && c->role == LC_MIDDLE)
		return fail(l, s, "'proxy' makes no sense for role middle (it listens)");
	/* the URL may hold a password: name what is wrong, never echo it */
	if (rc && (why = lstp_proxy_parse(buf, &c->proxy)) != NULL)
		return fail(l, s, "'proxy': %s", why);
	explicit_bzero(buf, sizeof(buf));
	return 0;
}

static int load_socks(struct ld *l, const config_setting_t *g, struct lstp_conf *c)
{
	const config_setting_t *s, *u, *e;
	char a[64];
	int rc, n, i;

	if ((rc = group(l, g, "socks", socks_keys, &s)) <= 0)
		return rc;
	if (c->role == LC_SERVER)
		return fail(l, s, "'socks' is for the client end (role client or middle)");
	c->socks_set = 1;
	if ((rc = get_str(l, s, "address", a, sizeof(a), &e)) < 0)
		return rc;
	if (rc && ipv4(a, &c->socks_addr) < 0)
		return fail(l, e, "'socks.address' must be an IPv4 address");
	if ((rc = get_port(l, s, "port", &c->socks_port)) < 0)
		return rc;
	u = config_setting_get_member(s, "users");
	if (u == NULL)
		return 0;
	if (!config_setting_is_list(u))
		return fail(l, u, "'users' must be a list ( { user, password }, ... )");
	n = config_setting_length(u);
	if (n > LC_USERS_MAX)
		return fail(l, u, "'users' has %d entries (at most %d)", n, LC_USERS_MAX);
	for (i = 0; i < n; i++) {
		e = config_setting_get_elem(u, (unsigned)i);
		if (config_setting_type(e) != CONFIG_TYPE_GROUP)
			return fail(l, e, "'users[%d]' must be a group { user, password }", i);
		if ((rc = check_keys(l, e, "users", user_keys)) < 0)
			return rc;
		if ((rc = get_str(l, e, "user", c->users[i].user, sizeof(c->users[i].user), NULL)) <= 0)
			return rc < 0 ? rc : fail(l, e, "'users[%d].user' is required", i);
		if ((rc = get_str(l, e, "password", c->users[i].pass, sizeof(c->users[i].pass), NULL)) <= 0)
			return rc < 0 ? rc : fail(l, e, "'users[%d].password' is required", i);
	}
	c->n_users = (uint32_t)n;
	return 0;
}

static int load_forwards(struct ld *l, const config_setting_t *g, struct lstp_conf *c)
{
	const config_setting_t *f = config_setting_get_member(g, "forwards"), *e, *s;
	char a[64];
	int rc, n, i;

	if (f == NULL)
		return 0;
	if (c->role == LC_SERVER)
		return fail(l, f, "'forwards' is for the client end (role client or middle)");
	if (!config_setting_is_list(f))
		return fail(l, f, "'forwards' must be a list ( { listen_port, service }, ... )");
	n = config_setting_length(f);
	if (n > LC_FORWARDS_MAX)
		return fail(l, f, "'forwards' has %d entries (at most %d)", n, LC_FORWARDS_MAX);
	for (i = 0; i < n; i++) {
		struct lc_forward *w = &c->forwards[i];

		e = config_setting_get_elem(f, (unsigned)i);
		if (config_setting_type(e) != CONFIG_TYPE_GROUP)
			return fail(l, e, "'forwards[%d]' must be a group", i);
		if ((rc = check_keys(l, e, "forwards", fwd_keys)) < 0)
			return rc;
		if ((rc = get_port(l, e, "listen_port", &w->port)) <= 0)
			return rc < 0 ? rc : fail(l, e, "'forwards[%d].listen_port' is required", i);
		w->addr = 0x7f000001;
		if ((rc = get_str(l, e, "listen_address", a, sizeof(a), &s)) < 0)
			return rc;
		if (rc && ipv4(a, &w->addr) < 0)
			return fail(l, s, "'listen_address' must be an IPv4 address");
		if ((rc = get_str(l, e, "service", w->service, sizeof(w->service), &s)) <= 0)
			return rc < 0 ? rc : fail(l, e, "'forwards[%d].service' is required", i);
		if (!printable(w->service))
			return fail(l, s, "'service' must be printable ASCII without spaces");
	}
	c->n_forwards = (uint32_t)n;
	return 0;
}

static int load_services(struct ld *l, const config_setting_t *g, struct lstp_conf *c)
{
	const config_setting_t *f = config_setting_get_member(g, "services"), *e, *s;
	int rc, n, i, j;

	if (f == NULL)
		return 0;
	if (c->role != LC_SERVER)
		return fail(l, f, "'services' is for the server end (role server)");
	if (!config_setting_is_list(f))
		return fail(l, f, "'services' must be a list ( { name, address, port }, ... )");
	n = config_setting_length(f);
	if (n > LC_SERVICES_MAX)
		return fail(l, f, "'services' has %d entries (at most %d)", n, LC_SERVICES_MAX);
	for (i = 0; i < n; i++) {
		struct lc_service *v = &c->services[i];

		e = config_setting_get_elem(f, (unsigned)i);
		if (config_setting_type(e) != CONFIG_TYPE_GROUP)
			return fail(l, e, "'services[%d]' must be a group", i);
		if ((rc = check_keys(l, e, "services", svc_keys)) < 0)
			return rc;
		if ((rc = get_str(l, e, "name", v->name, sizeof(v->name), &s)) <= 0)
			return rc < 0 ? rc : fail(l, e, "'services[%d].name' is required", i);
		if (!printable(v->name))
			return fail(l, s, "'name' must be printable ASCII without spaces");
		for (j = 0; j < i; j++)
			if (strcmp(c->services[j].name, v->name) == 0)
				return fail(l, s, "service '%s' is defined twice", v->name);
		if ((rc = get_str(l, e, "address", v->host, sizeof(v->host), &s)) <= 0)
			return rc < 0 ? rc : fail(l, e, "'services[%d].address' is required", i);
		if (!host_ok(v->host))
			return fail(l, s, "'address' is not a host name or IPv4 address");
		if ((rc = get_port(l, e, "port", &v->port)) <= 0)
			return rc < 0 ? rc : fail(l, e, "'services[%d].port' is required", i);
	}
	c->n_services = (uint32_t)n;
	return 0;
}

/* "a.b.c.d[/n][:port]": 0, -1 (syntax), -2 (host bits set) */
static int parse_allow(const char *v, struct lc_allow *a)
{
	char buf[40], *colon, *slash, *ep;
	unsigned long len = 32, port = 0;
	uint32_t net;

	if (strlen(v) >= sizeof(buf))
		return -1;
	strcpy(buf, v);
	if ((colon = strchr(buf, ':')) != NULL) {
		*colon++ = '\0';
		errno = 0;
		port = strtoul(colon, &ep, 10);
		if (*colon < '1' || *colon > '9' || *ep || errno || port > 65535)
			return -1;
	}
	if ((slash = strchr(buf, '/')) != NULL) {
		*slash++ = '\0';
		errno = 0;
		len = strtoul(slash, &ep, 10);
		if (*slash < '0' || *slash > '9' || *ep || errno || len > 32)
			return -1;
	}
	if (ipv4(buf, &net) < 0)
		return -1;
	a->net = net;
	a->mask = len ? ~0u << (32 - len) : 0;
	a->port = (uint16_t)port;
	return (a->net & ~a->mask) ? -2 : 0;
}

static int load_allow(struct ld *l, const config_setting_t *g, struct lstp_conf *c)
{
	const config_setting_t *s = config_setting_get_member(g, "allow"), *e;
	int n, i, rc;

	if (s == NULL)
		return 0;
	if (c->role != LC_SERVER)
		return fail(l, s, "'allow' is for the server end (role server)");
	if (!config_setting_is_array(s) && !config_setting_is_list(s))
		return fail(l, s, "'allow' must be an array of \"a.b.c.d/n:port\" strings");
	n = config_setting_length(s);
	if (n > LC_ALLOW_MAX)
		return fail(l, s, "'allow' has %d entries (at most %d)", n, LC_ALLOW_MAX);
	for (i = 0; i < n; i++) {
		const char *v;

		e = config_setting_get_elem(s, (unsigned)i);
		v = config_setting_get_string(e);
		if (v == NULL || (rc = parse_allow(v, &c->allow[i])) == -1)
			return fail(l, e, "'allow[%d]' must be \"a.b.c.d[/n][:port]\"", i);
		if (rc < 0)
			return fail(l, e, "'allow[%d]' \"%s\" has host bits set", i, v);
	}
	c->n_allow = (uint32_t)n;
	return 0;
}

static int load_limits(struct ld *l, const config_setting_t *g, struct lstp_conf *c)
{
	const config_setting_t *s, *b;
	int rc;

	if ((rc = group(l, g, "limits", limit_keys, &s)) < 0 ||
	    (rc = group(l, g, "reconnect", backoff_keys, &b)) < 0)
		return rc;
	/* channel ids: the client end uses the odd ones of 1..2^31 */
	if ((rc = get_u32(l, s, "max_channels", 1, 65536, &c->max_channels)) < 0 ||
	    (rc = get_u32(l, s, "channel_buffer", 16384, 64u << 20, &c->channel_buffer)) < 0 ||
	    (rc = get_u32(l, s, "tunnel_buffer", 65536, 256u << 20, &c->tunnel_buffer)) < 0 ||
	    (rc = get_u32(l, s, "connect_timeout_ms", 1, 600000, &c->connect_timeout_ms)) < 0 ||
	    (rc = get_u32(l, s, "handshake_timeout_ms", 100, 600000, &c->handshake_timeout_ms)) < 0 ||
	    (rc = get_u32(l, s, "max_local", 1, 65536, &c->max_local)) < 0 ||
	    (rc = get_u32(l, b, "min_ms", 1, 3600000, &c->backoff_min_ms)) < 0 ||
	    (rc = get_u32(l, b, "max_ms", 1, 3600000, &c->backoff_max_ms)) < 0)
		return rc;
	if (c->backoff_max_ms < c->backoff_min_ms)
		return fail(l, b, "'reconnect.max_ms' (%u) is below 'min_ms' (%u)", c->backoff_max_ms,
			    c->backoff_min_ms);
	return 0;
}

static int load(struct ld *l, config_t *cfg, struct lstp_conf *c)
{
	const config_setting_t *root = config_root_setting(cfg), *g;
	int rc;

	defaults(c);
	if ((rc = check_keys(l, root, NULL, (const char *const[]){ "lstp", NULL })) < 0)
		return rc;
	g = config_setting_get_member(root, "lstp");
	if (g == NULL)
		return fail(l, NULL, "no 'lstp = { ... };' section");
	if (config_setting_type(g) != CONFIG_TYPE_GROUP)
		return fail(l, g, "'lstp' must be a group { ... }");
	if ((rc = check_keys(l, g, "lstp", top_keys)) < 0 || (rc = load_ident(l, g, c)) < 0 ||
	    (rc = load_tls(l, g, c)) < 0 || (rc = load_socks(l, g, c)) < 0 ||
	    (rc = load_forwards(l, g, c)) < 0 || (rc = load_services(l, g, c)) < 0 ||
	    (rc = load_allow(l, g, c)) < 0 || (rc = load_limits(l, g, c)) < 0)
		return rc;
	if (c->role != LC_SERVER && !c->socks_set && c->n_forwards == 0)
		return fail(l, g, "a client end needs 'socks' or 'forwards' (else it serves nothing)");
	if (c->role == LC_SERVER && c->n_services == 0 && c->n_allow == 0)
		return fail(l, g, "a server end needs 'services' or 'allow' (else it refuses everything)");
	return 0;
}

static int finish(struct ld *l, config_t *cfg, int read_ok, struct lstp_conf *c)
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
		lstp_conf_wipe(c);
	return rc;
}

int lstp_conf_load(struct lstp_conf *c, const char *path, char *err, size_t errlen)
{
	struct ld l = { err, errlen, path };
	config_t cfg;

	config_init(&cfg);
	return finish(&l, &cfg, config_read_file(&cfg, path) == CONFIG_TRUE, c);
}

int lstp_conf_load_str(struct lstp_conf *c, const char *name, const char *text, char *err,
		       size_t errlen)
{
	struct ld l = { err, errlen, name };
	config_t cfg;

	config_init(&cfg);
	return finish(&l, &cfg, config_read_string(&cfg, text) == CONFIG_TRUE, c);
}

int lstp_conf_allowed(const struct lstp_conf *c, uint32_t addr, uint16_t port)
{
	uint32_t i;

	for (i = 0; i < c->n_allow; i++)
		if ((addr & c->allow[i].mask) == c->allow[i].net &&
		    (c->allow[i].port == 0 || c->allow[i].port == port))
			return 1;
	return 0;
}

void lstp_conf_wipe(struct lstp_conf *c)
{
	explicit_bzero(c, sizeof(*c));
}

const char *lstp_conf_role_str(enum lc_role r)
{
	return r == LC_CLIENT ? "client" : r == LC_SERVER ? "server" : r == LC_MIDDLE ? "middle" : "?";
}
