/*
 * The libconfig walk's checks, shared by conf.c (the main sections) and
 * conf_agent.c (agents, vnets), so that both word their errors alike:
 * "file:line: message" naming the offending setting, an unknown key with a
 * "did you mean" for a close miss, a wrong type with what was expected.
 * Pure: libconfig and the string parsers of conf_parse.c, nothing else.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <libconfig.h>

#include "conf.h"
#include "conf_priv.h"

static int vfail(struct conf_walk *w, const char *file, unsigned int line, const char *fmt,
		 va_list ap)
{
	char msg[SL_CONF_ERR_LEN];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (file == NULL)
		file = w->name;
	if (w->err != NULL && w->errlen > 0) {
		if (line > 0)
			snprintf(w->err, w->errlen, "%s:%u: %s", file, line, msg);
		else
			snprintf(w->err, w->errlen, "%s: %s", file, msg);
	}
	return -EINVAL;
}

int conf_fail_at(struct conf_walk *w, const char *file, unsigned int line, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = vfail(w, file, line, fmt, ap);
	va_end(ap);
	return rc;
}

int conf_fail(struct conf_walk *w, const config_setting_t *s, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = vfail(w, s ? config_setting_source_file(s) : NULL,
		   s ? config_setting_source_line(s) : 0, fmt, ap);
	va_end(ap);
	return rc;
}

unsigned int conf_line_of(const config_setting_t *s)
{
	return s ? config_setting_source_line(s) : 0;
}

static const char *type_str(int type)
{
	switch (type) {
	case CONFIG_TYPE_GROUP: return "a group { ... }";
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64: return "an integer";
	case CONFIG_TYPE_FLOAT: return "a float";
	case CONFIG_TYPE_STRING: return "a string";
	case CONFIG_TYPE_BOOL: return "a boolean";
	case CONFIG_TYPE_ARRAY: return "an array [ ... ]";
	case CONFIG_TYPE_LIST: return "a list ( ... )";
	}
	return "nothing";
}

const char *conf_qual(char *buf, size_t len, const char *key, const char *where)
{
	if (key == NULL)
		snprintf(buf, len, "'%s'", where ? where : "?");
	else if (where != NULL)
		snprintf(buf, len, "'%s' in '%s'", key, where);
	else
		snprintf(buf, len, "'%s'", key);
	return buf;
}

int conf_want_type(struct conf_walk *w, const config_setting_t *s, const char *key,
		   const char *where, int type)
{
	int t = config_setting_type(s);
	char q[CONF_QLEN];

	if (t == type || (type == CONFIG_TYPE_INT && t == CONFIG_TYPE_INT64))
		return 0;
	/* config_setting_length() is 0 for a scalar: test the type first */
	if (((type == CONFIG_TYPE_LIST && t == CONFIG_TYPE_ARRAY) ||
	     (w->empty_either && type == CONFIG_TYPE_ARRAY && t == CONFIG_TYPE_LIST)) &&
	    config_setting_length(s) == 0)
		return 0;
	return conf_fail(w, s, "%s must be %s, not %s", conf_qual(q, sizeof(q), key, where),
			 type_str(type), type_str(t));
}

int conf_check_keys(struct conf_walk *w, const config_setting_t *g, const char *where,
		    const char *const *known)
{
	const config_setting_t *s;
	const char *name, *hint;
	char sugg[64] = "";
	unsigned int best, d;
	size_t longest;
	int i, k;

	for (i = 0; (s = config_setting_get_elem(g, (unsigned int)i)) != NULL; i++) {
		name = config_setting_name(s);
		for (k = 0; known[k] != NULL && strcmp(known[k], name) != 0; k++)
			;
		if (known[k] != NULL)
			continue;
		hint = NULL;
		best = 3; /* suggest only close matches: at most two edits, */
		for (k = 0; known[k] != NULL; k++) {
			d = conf_edit_distance(name, known[k]);
			/* a truncation ("reachable" for "reachable_ms") is one, */
			if (strlen(name) >= 4 && strncmp(name, known[k], strlen(name)) == 0)
				d = 1;
			/* and a third of the longer word at most: 'a' is not 'eal' */
			longest = strlen(name) > strlen(known[k]) ? strlen(name) : strlen(known[k]);
			if (d < best && 3 * d <= longest) {
				best = d;
				hint = known[k];
			}
		}
		if (hint != NULL)
			snprintf(sugg, sizeof(sugg), " (did you mean '%s'?)", hint);
		if (where == NULL)
			return conf_fail(w, s, "unknown section '%s'%s", name, sugg);
		return conf_fail(w, s, "unknown key '%s' in '%s'%s", name, where, sugg);
	}
	return 0;
}

int conf_get_member(struct conf_walk *w, const config_setting_t *g, const char *key,
		    const char *where, int type, const config_setting_t **sp)
{
	const config_setting_t *s = config_setting_get_member(g, key);
	int rc;

	*sp = s;
	if (s == NULL)
		return 0;
	rc = conf_want_type(w, s, key, where, type);
	return rc < 0 ? rc : 1;
}

int conf_get_int(struct conf_walk *w, const config_setting_t *g, const char *key,
		 const char *where, int64_t min, int64_t max, int64_t *v,
		 const config_setting_t **sp)
{
	char q[CONF_QLEN];
	int rc = conf_get_member(w, g, key, where, CONFIG_TYPE_INT, sp);

	if (rc <= 0)
		return rc;
	*v = config_setting_get_int64(*sp);
	if (*v < min || *v > max)
		return conf_fail(w, *sp, "%s must be in %lld..%lld, got %lld",
				 conf_qual(q, sizeof(q), key, where), (long long)min,
				 (long long)max, (long long)*v);
	return 1;
}

int conf_get_str(struct conf_walk *w, const config_setting_t *g, const char *key,
		 const char *where, size_t maxlen, const char **v, const config_setting_t **sp)
{
	char q[CONF_QLEN];
	int rc = conf_get_member(w, g, key, where, CONFIG_TYPE_STRING, sp);

	if (rc <= 0)
		return rc;
	*v = config_setting_get_string(*sp);
	if (strlen(*v) > maxlen)
		return conf_fail(w, *sp, "%s is too long (at most %zu characters)",
				 conf_qual(q, sizeof(q), key, where), maxlen);
	return 1;
}

int conf_need_str(struct conf_walk *w, const config_setting_t *g, const char *key,
		  const char *where, size_t maxlen, const char **v, const config_setting_t **sp)
{
	int rc = conf_get_str(w, g, key, where, maxlen, v, sp);

	if (rc == 0)
		return conf_fail(w, g, "missing required key '%s' in '%s'", key, where);
	return rc;
}

int conf_get_prefix(struct conf_walk *w, const config_setting_t *g, const char *key,
		    const char *where, uint32_t *pfx, uint8_t *plen)
{
	const config_setting_t *s;
	const char *v;
	char q[CONF_QLEN];
	int rc = conf_get_str(w, g, key, where, CONF_FMTLEN, &v, &s);

	if (rc <= 0)
		return rc;
	if (sl_parse_prefix(v, pfx, plen) < 0)
		return conf_fail(w, s,
				 "%s must be \"a.b.c.d/n\" with the host bits zero, got \"%s\"",
				 conf_qual(q, sizeof(q), key, where), v);
	return 1;
}

void conf_store_uint(void *field, size_t size, int64_t v)
{
	if (size == sizeof(uint16_t)) {
		uint16_t x = (uint16_t)v;
		memcpy(field, &x, sizeof(x));
	} else {
		uint32_t x = (uint32_t)v;
		memcpy(field, &x, sizeof(x));
	}
}
