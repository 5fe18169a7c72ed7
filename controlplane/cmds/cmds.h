/*
 * Control commands: a data-driven table (cmds.c) of words -> handler + help.
 * Handlers read the data plane's shared memory and send ring commands through
 * dp_link; they write human text or, with --json, exactly one JSON object.
 */
#ifndef SLUICE_CP_CMDS_H
#define SLUICE_CP_CMDS_H

#include <stdbool.h>
#include <stdint.h>

#include "../dp_link.h"
#include "../out.h"

struct cmd_ctx {
	struct dp_link *dp;
	struct sbuf *out;
	struct json j;       /* on `out`, used when `json` */
	bool json;
	char err[512];
};

typedef int (*cmd_fn)(struct cmd_ctx *c, int argc, char *argv[]);

struct cmd {
	const char *words[3]; /* fixed leading words, NULL-terminated */
	const char *usage;    /* the arguments that follow, "" if none */
	const char *help;     /* NULL: an alias, not listed by `help` */
	cmd_fn fn;            /* gets only the arguments after the words */
};

/* ctl_exec_fn for ctl_socket: arg is the struct dp_link. */
int cmds_exec(void *arg, unsigned int flags, int argc, char *argv[], struct sbuf *out);

/* Set the error message; returns -1 for `return cmd_err(...)`. */
int cmd_err(struct cmd_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* -1 with an error if there are arguments (for commands that take none). */
int cmd_no_args(struct cmd_ctx *c, int argc, char *argv[]);

/* The usual success output of an action command: "ok" / {"ok":true}. */
int cmd_ok(struct cmd_ctx *c);

/* Port index by name or decimal index, from the data plane's port list;
 * -1 after setting the error. */
int cmd_port_find(struct cmd_ctx *c, const char *name_or_index);
/* The port's name, safely terminated (the shm copy is fixed-size). */
const char *cmd_port_name(const struct cmd_ctx *c, unsigned int port, char *buf, size_t len);

/* A rule's src or dst: "a.b.c.d/n" with the host bits zero, or a bare
 * address (a /32).  -1 after setting the error, which names it `what`. */
int cmd_parse_pfx(struct cmd_ctx *c, const char *what, const char *s, uint32_t *p, uint8_t *l);

/* Relaxed read of a counter another lcore writes. */
#define RD(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)

/* Combine per-slot ring reply statuses into one error message (or 0). */
int cmd_check_replies(struct cmd_ctx *c, const char *what, uint32_t slots,
		      const int32_t status[SL_MAX_LCORES]);

/* A port's impairment settings as a JSON object under `key`. */
void cmd_impair_json(struct cmd_ctx *c, const char *key, const struct sl_impair *imp);

/* Copy a route table its owner may be rewriting right now (seqcount):
 * 0, or -EBUSY if it never held still. */
/* Copy a seqcount-protected array of *n elements (at most max) out of shared
 * memory; 0, or -EBUSY when the writer never let go. */
int cmd_seq_snapshot(const rte_seqcount_t *seq, const uint32_t *n, uint32_t max,
		     const void *src, size_t esz, void *dst, uint32_t *count);
struct tbl;
/* Close a `show` list: the JSON array and object, or print the table (or
 * `empty` when there were no rows) and free it. */
void cmd_list_end(struct cmd_ctx *c, struct tbl *t, uint32_t n, const char *empty);

/* Argument syntax shared by the command table and the handlers' errors. */
#define RULE_ADD_USAGE \
	"[src PFX] [dst PFX] [proto tcp|udp|icmp|any] [dport N|LO-HI] " \
	"action forward|drop|reject|proxy [transparent]"
#define SHOW_FLOWS_USAGE "[from N] [count M]"
#define APP_ADD_USAGE \
	"NAME server ADDR secure PORT plain PORT [cert FILE key FILE] " \
	"[mode terminate|originate] [ca FILE] [transparent] [e2e HOST[,HOST...]] [ttl S]"

/* handlers */
int cmd_help(struct cmd_ctx *c, int argc, char *argv[]);
int cmd_app_add(struct cmd_ctx *c, int argc, char *argv[]);
int cmd_app_del(struct cmd_ctx *c, int argc, char *argv[]);
int cmd_show_apps(struct cmd_ctx *c, int argc, char *argv[]);
int cmd_show_tunnels(struct cmd_ctx *c, int argc, char *argv[]);
int cmd_show_ports(struct cmd_ctx *c, int argc, char *argv[]);
int cmd_show_stats(struct cmd_ctx *c, int argc, char *argv[]);
int cmd_show_errors(struct cmd_ctx *c, int argc, char *argv[]);
int cmd_show_workers(struct cmd_ctx *c, int argc, char *argv[]);
int cmd_show_routes(struct cmd_ctx *c, int argc, char *argv[]);
int cmd_show_neighbors(struct cmd_ctx *c, int argc, char *argv[]);
int cmd_route_add(struct cmd_ctx *c, int argc, char *argv[]);
int cmd_route_del(struct cmd_ctx *c, int argc, char *argv[]);
int cmd_clear_counters(struct cmd_ctx *c, int argc, char *argv[]);
int cmd_port_impair(struct cmd_ctx *c, int argc, char *argv[]);
int cmd_rule_add(struct cmd_ctx *c, int argc, char *argv[]);
int cmd_rule_del(struct cmd_ctx *c, int argc, char *argv[]);
int cmd_show_rules(struct cmd_ctx *c, int argc, char *argv[]);
int cmd_show_crypto(struct cmd_ctx *c, int argc, char *argv[]);
int cmd_show_tcp(struct cmd_ctx *c, int argc, char *argv[]);
int cmd_show_flows(struct cmd_ctx *c, int argc, char *argv[]);
int cmd_show_pools(struct cmd_ctx *c, int argc, char *argv[]);

#endif
