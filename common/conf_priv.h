/*
 * Internals shared by conf.c and conf_agent.c (the libconfig walks),
 * conf_walk.c (the checks both walks make) and conf_parse.c (pure string
 * checks).  Not for other modules: use conf.h.
 */
#ifndef SLUICE_CONF_PRIV_H
#define SLUICE_CONF_PRIV_H

#include <stdint.h>

#include <stddef.h>

/* Validators of the eal and control strings: NULL when v is fine, else what
 * is wrong with it (possibly written into buf). */
const char *conf_check_lcores(const char *v, char *buf, size_t len);
const char *conf_check_file_prefix(const char *v, char *buf, size_t len);
const char *conf_check_huge_dir(const char *v, char *buf, size_t len);
const char *conf_check_socket(const char *v, char *buf, size_t len);
const char *conf_check_crypto_engine(const char *s, char *buf, size_t len);
const char *conf_check_log_level(const char *v, char *buf, size_t len);

/* 1 when s is one or more of [A-Za-z0-9_-]. */
int conf_name_ok(const char *s);

/* Levenshtein distance (UINT_MAX for strings of 40+ characters). */
unsigned int conf_edit_distance(const char *a, const char *b);

/* What is wrong with a percentage that sl_parse_pct refused. */
const char *conf_pct_problem(const char *v);

/* Why a can't be a host's unicast address, or NULL. */
const char *conf_not_unicast(uint32_t a);

/* "network" or "broadcast" when a is one of those of its /plen, else NULL. */
const char *conf_net_or_bcast(uint32_t a, unsigned int plen);

/* Find an integer literal libconfig 1.5 would silently truncate.  0 when there
 * is none; -ERANGE with its line, text and length, and whether it had the L
 * (64-bit) suffix. */
int conf_scan_int_literals(const char *text, unsigned int *line, const char **tok, int *toklen,
			   int *is64);

struct config_setting_t;

/*
 * The walk (conf_walk.c).  Lengths: CONF_FMTLEN caps strings whose format is
 * checked next, so a bad address gets "must be a.b.c.d/n", not "too long";
 * CONF_QLEN fits conf_qual's "'key' in 'ports[7].impair.out'" and friends.
 */
#define CONF_FMTLEN 255
#define CONF_QLEN 256

/* Where a walk's errors go: "file:line: message" into err (errlen bytes),
 * name standing in for the main file (libconfig reads it from memory and
 * knows no name for it). */
struct conf_walk {
	const char *name;
	char *err;
	size_t errlen;
	/* an empty "[]" always stands for an empty list "()"; with this set
	 * (the S4 sections) an empty "()" stands for an empty array too */
	int empty_either;
};

/* Every semantic error leaves through here: -EINVAL, and "file:line:
 * message" with the line of setting s, or "file: message" when no line
 * applies (s == NULL). */
int conf_fail(struct conf_walk *w, const struct config_setting_t *s, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The same at a given file (NULL: w->name) and line (0: none). */
int conf_fail_at(struct conf_walk *w, const char *file, unsigned int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* s's line, 0 for s == NULL (for "first defined at line N"). */
unsigned int conf_line_of(const struct config_setting_t *s);

/* "'burst' in 'dataplane'", "'ports'" at the top level (where == NULL),
 * "'ports[1]'" for a list element (key == NULL, where "ports[1]"). */
const char *conf_qual(char *buf, size_t len, const char *key, const char *where);

/* Strict type check of s (named as conf_qual names it): 0 or -EINVAL.
 * libconfig's two integer widths are one type to us; empty sequences as
 * w->empty_either says. */
int conf_want_type(struct conf_walk *w, const struct config_setting_t *s, const char *key,
		   const char *where, int type);

/* Every member of group g must be in known[] (NULL-terminated); a close
 * miss gets a "did you mean".  where == NULL: g is the root. */
int conf_check_keys(struct conf_walk *w, const struct config_setting_t *g, const char *where,
		    const char *const *known);

/* Member `key` of g, type-checked: 1 when present (*sp set), 0 when absent
 * (*sp NULL), -EINVAL on a wrong type. */
int conf_get_member(struct conf_walk *w, const struct config_setting_t *g, const char *key,
		    const char *where, int type, const struct config_setting_t **sp);
/* The same for an integer in min..max, */
int conf_get_int(struct conf_walk *w, const struct config_setting_t *g, const char *key,
		 const char *where, int64_t min, int64_t max, int64_t *v,
		 const struct config_setting_t **sp);
/* a string of at most maxlen characters, */
int conf_get_str(struct conf_walk *w, const struct config_setting_t *g, const char *key,
		 const char *where, size_t maxlen, const char **v,
		 const struct config_setting_t **sp);
/* one that must be there (absent: -EINVAL), */
int conf_need_str(struct conf_walk *w, const struct config_setting_t *g, const char *key,
		  const char *where, size_t maxlen, const char **v,
		  const struct config_setting_t **sp);
/* and a prefix "a.b.c.d/n" with the host bits zero. */
int conf_get_prefix(struct conf_walk *w, const struct config_setting_t *g, const char *key,
		    const char *where, uint32_t *pfx, uint8_t *plen);

/* Store v, already checked against its key's range, into the uint16_t or
 * uint32_t (size) field of a table-described struct. */
void conf_store_uint(void *field, size_t size, int64_t v);

/* The S4 sections, `agents` and `vnets` (conf_agent.c).  Defaults of the
 * agents section; then, once the ports are parsed, both sections of root:
 * 0, or -EINVAL with err "file:line: message" (name: the main file). */
struct sl_conf;
struct sl_agents_conf;
void conf_agents_defaults(struct sl_agents_conf *a);
int conf_agents_parse(struct sl_conf *c, const struct config_setting_t *root, const char *name,
		      char *err, size_t errlen);

/* The S3 section `lstp` (conf_lstp.c): defaults, then the section once the
 * ports are parsed. */
struct sl_lstp_conf;
void conf_lstp_defaults(struct sl_lstp_conf *l);
int conf_lstp_parse(struct sl_conf *c, const struct config_setting_t *root, const char *name,
		    char *err, size_t errlen);

#endif
