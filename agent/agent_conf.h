/*
 * sluice-agent's configuration: the `agent { }` section of its libconfig
 * file (reference: the comment at the top of agent_conf.c and docs/agent.md).
 * Pure: parsing and checking only, no files other than the config itself are
 * opened (certificates are loaded by tlsconn.c).
 */
#ifndef SLUICE_AGENT_CONF_H
#define SLUICE_AGENT_CONF_H

#include <stddef.h>
#include <stdint.h>

#define AGENT_HOST_MAX 253   /* a DNS name's longest text form */
#define AGENT_PATH_MAX 1024
#define AGENT_CRED_MAX 128   /* proxy user name and password, each */
#define AGENT_DENY_MAX 64    /* `deny` prefixes */

struct agent_proxy {
	int set;                           /* `proxy` was given */
	char host[AGENT_HOST_MAX + 1];
	uint16_t port;
	int auth;                          /* user info present: Basic auth */
	char user[AGENT_CRED_MAX + 1];     /* percent-decoded */
	char pass[AGENT_CRED_MAX + 1];
};

struct agent_conf {
	char appliance[AGENT_HOST_MAX + 1];
	uint16_t port;
	struct agent_proxy proxy;
	char ca[AGENT_PATH_MAX], cert[AGENT_PATH_MAX], key[AGENT_PATH_MAX];
	char server_name[AGENT_HOST_MAX + 1]; /* "" when not given */
	uint32_t stream_pool;
	uint32_t stream_pool_max;
	uint32_t max_connects;
	uint32_t max_relays;
	uint32_t max_pings;
	uint32_t relay_buffer;
	uint32_t connect_timeout_ms;
	uint32_t dial_timeout_ms;
	uint32_t backoff_min_ms, backoff_max_ms;
	/* UDP (DGRAM sessions, datagram associations: docs/agent-protocol.md) */
	uint32_t max_dgram_sessions;
	uint32_t max_das;
	uint32_t dgram_credit;       /* the window granted per DGRAM session */
	uint32_t dgram_buffer;       /* bytes queued toward the appliance per session */
	uint32_t n_deny;
	struct { uint32_t net, mask; } deny[AGENT_DENY_MAX]; /* host order: REFUSE */
};

/* Load and check a file.  0, or -EINVAL with "file:line: what" in err. */
int agent_conf_load(struct agent_conf *c, const char *path, char *err, size_t errlen);
/* The same for a string (unit tests); `name` stands for the file name. */
int agent_conf_load_str(struct agent_conf *c, const char *name, const char *text, char *err,
			size_t errlen);
/* "http://[user[:pass]@]host[:port][/]" -> p; NULL, or what is wrong. */
const char *agent_proxy_parse(const char *url, struct agent_proxy *p);
/* Wipe the proxy password (and everything else) from c. */
void agent_conf_wipe(struct agent_conf *c);

#endif
