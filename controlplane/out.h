/*
 * Command output: a growable text buffer and a small JSON emitter on top of it.
 * Pure (libc only).  Allocation failure is sticky (`oom`) and checked once, by
 * whoever sends the buffer, so emitters need no error paths.
 */
#ifndef SLUICE_CP_OUT_H
#define SLUICE_CP_OUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sbuf {
	char *p;
	size_t len, cap;
	bool oom;
};

void sbuf_init(struct sbuf *b);
void sbuf_free(struct sbuf *b);
void sbuf_reset(struct sbuf *b);
void sbuf_put(struct sbuf *b, const char *s, size_t n);
void sbuf_puts(struct sbuf *b, const char *s);
void sbuf_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* s as a JSON string literal: quoted, escaped, invalid UTF-8 -> U+FFFD */
void sbuf_json_str(struct sbuf *b, const char *s);

#define JSON_MAX_DEPTH 16

struct json {
	struct sbuf *b;
	unsigned int depth;
	bool need_comma[JSON_MAX_DEPTH];
	char closer[JSON_MAX_DEPTH];
};

/* Every value emitter takes a key: a string inside an object, NULL in an array
 * or for the top-level value. */
void json_init(struct json *j, struct sbuf *b);
void json_obj(struct json *j, const char *key);
void json_arr(struct json *j, const char *key);
void json_close(struct json *j); /* the innermost open object or array */
void json_str(struct json *j, const char *key, const char *val);
void json_u64(struct json *j, const char *key, uint64_t v);
void json_i64(struct json *j, const char *key, int64_t v);
void json_bool(struct json *j, const char *key, bool v);
void json_null(struct json *j, const char *key);
/* a JSON number with `decimals` digits after the point, e.g. 0.5 */
void json_double(struct json *j, const char *key, double v, int decimals);

#endif
