/* Growable text buffer and JSON emitter (see out.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "out.h"

void sbuf_init(struct sbuf *b)
{
	memset(b, 0, sizeof(*b));
}

void sbuf_free(struct sbuf *b)
{
	free(b->p);
	sbuf_init(b);
}

void sbuf_reset(struct sbuf *b)
{
	b->len = 0;
	b->oom = false;
	if (b->p)
		b->p[0] = '\0';
}

/* room for n more bytes plus a NUL */
static bool reserve(struct sbuf *b, size_t n)
{
	size_t cap;
	char *p;

	if (b->oom)
		return false;
	if (b->len + n + 1 <= b->cap)
		return true;
	cap = b->cap ? b->cap : 1024;
	while (cap < b->len + n + 1)
		cap *= 2;
	p = realloc(b->p, cap);
	if (p == NULL) {
		b->oom = true;
		return false;
	}
	b->p = p;
	b->cap = cap;
	return true;
}

void sbuf_put(struct sbuf *b, const char *s, size_t n)
{
	if (!reserve(b, n))
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void sbuf_puts(struct sbuf *b, const char *s)
{
	sbuf_put(b, s, strlen(s));
}

void sbuf_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!reserve(b, 128))
		return;
	va_start(ap, fmt);
	n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->oom = true;
		return;
	}
	if ((size_t)n >= b->cap - b->len) {
		if (!reserve(b, (size_t)n))
			return;
		va_start(ap, fmt);
		vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
	}
	b->len += (size_t)n;
}

/* length of the valid UTF-8 sequence at s, or 0 (RFC 3629 section 4) */
static size_t utf8_len(const unsigned char *s)
{
	unsigned char c = s[0];
	size_t n, i;
	uint32_t cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0; /* also stops at the NUL */
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0; /* overlong, out of range or a surrogate */
	return n;
}

void sbuf_json_str(struct sbuf *b, const char *str)
{
	const unsigned char *s = (const unsigned char *)(str ? str : "");

	sbuf_put(b, "\"", 1);
	while (*s) {
		size_t n;

		switch (*s) {
		case '"':  sbuf_put(b, "\\\"", 2); s++; continue;
		case '\\': sbuf_put(b, "\\\\", 2); s++; continue;
		case '\n': sbuf_put(b, "\\n", 2); s++; continue;
		case '\r': sbuf_put(b, "\\r", 2); s++; continue;
		case '\t': sbuf_put(b, "\\t", 2); s++; continue;
		default:
			break;
		}
		if (*s < 0x20) {
			sbuf_printf(b, "\\u%04x", *s);
			s++;
			continue;
		}
		n = utf8_len(s);
		if (n == 0) {
			sbuf_puts(b, "\\ufffd");
			s++;
			continue;
		}
		sbuf_put(b, (const char *)s, n);
		s += n;
	}
	sbuf_put(b, "\"", 1);
}

void json_init(struct json *j, struct sbuf *b)
{
	memset(j, 0, sizeof(*j));
	j->b = b;
}

static void prefix(struct json *j, const char *key)
{
	if (j->depth > 0) {
		if (j->need_comma[j->depth - 1])
			sbuf_put(j->b, ",", 1);
		j->need_comma[j->depth - 1] = true;
	}
	if (key) {
		sbuf_json_str(j->b, key);
		sbuf_put(j->b, ":", 1);
	}
}

static void nest(struct json *j, const char *key, char o, char c)
{
	prefix(j, key);
	sbuf_put(j->b, &o, 1);
	if (j->depth >= JSON_MAX_DEPTH) {
		j->b->oom = true; /* a programming error; refuse to emit garbage */
		return;
	}
	j->closer[j->depth] = c;
	j->need_comma[j->depth] = false;
	j->depth++;
}

void json_obj(struct json *j, const char *key)
{
	nest(j, key, '{', '}');
}

void json_arr(struct json *j, const char *key)
{
	nest(j, key, '[', ']');
}

void json_close(struct json *j)
{
	if (j->depth == 0)
		return;
	j->depth--;
	sbuf_put(j->b, &j->closer[j->depth], 1);
}

void json_str(struct json *j, const char *key, const char *val)
{
	prefix(j, key);
	sbuf_json_str(j->b, val);
}

void json_u64(struct json *j, const char *key, uint64_t v)
{
	prefix(j, key);
	sbuf_printf(j->b, "%llu", (unsigned long long)v);
}

void json_i64(struct json *j, const char *key, int64_t v)
{
	prefix(j, key);
	sbuf_printf(j->b, "%lld", (long long)v);
}

void json_bool(struct json *j, const char *key, bool v)
{
	prefix(j, key);
	sbuf_puts(j->b, v ? "true" : "false");
}

void json_null(struct json *j, const char *key)
{
	prefix(j, key);
	sbuf_puts(j->b, "null");
}

void json_double(struct json *j, const char *key, double v, int decimals)
{
	prefix(j, key);
	if (v != v || v > 1e300 || v < -1e300)
		sbuf_puts(j->b, "null"); /* JSON has no NaN or infinity */
	else
		sbuf_printf(j->b, "%.*f", decimals, v);
}
