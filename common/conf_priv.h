/*
 * Internals shared by conf.c (the libconfig walk) and conf_parse.c (pure
 * string checks).  Not for other modules: use conf.h.
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

/* The S4 sections, `agents` and `vnets` (conf_agent.c).  Defaults of the
 * agents section; then, once the ports are parsed, both sections of root:
 * 0, or -EINVAL with err "file:line: message" (name: the main file). */
struct sl_conf;
struct sl_agents_conf;
struct config_setting_t;
void conf_agents_defaults(struct sl_agents_conf *a);
int conf_agents_parse(struct sl_conf *c, const struct config_setting_t *root, const char *name,
		      char *err, size_t errlen);

#endif
