/*
 * sluice-lstp's configuration: the `lstp { }` section of its libconfig file
 * (reference: docs/sluice-lstp.md).  Pure: parsing and checking only; the
 * certificate files are opened by tls.c.
 */
#ifndef SLUICE_LSTP_CONF_H
#define SLUICE_LSTP_CONF_H

#include <stddef.h>
#include <stdint.h>

#include <sluice/lstp_proto.h>

#define LC_HOST_MAX 253
#define LC_PATH_MAX 1024
#define LC_CRED_MAX 255        /* RFC 1929: user name and password, 1..255 each */
#define LC_USERS_MAX 64
#define LC_FORWARDS_MAX 64
#define LC_SERVICES_MAX 64
#define LC_ALLOW_MAX 256

enum lc_role { LC_CLIENT = 1, LC_SERVER = 2, LC_MIDDLE = 3 };
enum lc_proxy_kind { LC_PROXY_NONE, LC_PROXY_SOCKS5, LC_PROXY_HTTP };

struct lc_proxy {
	enum lc_proxy_kind kind;
	char host[LC_HOST_MAX + 1];
	uint16_t port;
	int auth;
	char user[LC_CRED_MAX + 1];
	char pass[LC_CRED_MAX + 1];
};

struct lc_user {
	char user[LC_CRED_MAX + 1];
	char pass[LC_CRED_MAX + 1];
};

struct lc_forward {
	uint32_t addr;                  /* listen address, host order */
	uint16_t port;
	char service[LSTP_MAX_HOST + 1];
};

struct lc_service {
	char name[LSTP_MAX_HOST + 1];
	char host[LC_HOST_MAX + 1];     /* address or name, resolved per connect */
	uint16_t port;
};

struct lc_allow {
	uint32_t net, mask;             /* host order */
	uint16_t port;                  /* 0: any */
};

struct lstp_conf {
	enum lc_role role;
	char name[LSTP_MAX_NAME + 1];
	char common[LSTP_MAX_INFO + 1];
	char unique[LSTP_MAX_INFO + 1];
	char middle_host[LC_HOST_MAX + 1]; /* client/server: dial; middle: listen */
	uint16_t middle_port;
	struct lc_proxy proxy;
	char ca[LC_PATH_MAX], cert[LC_PATH_MAX], key[LC_PATH_MAX];
	/* client end (and role middle) */
	int socks_set;
	uint32_t socks_addr;
	uint16_t socks_port;
	uint32_t n_users;
	struct lc_user users[LC_USERS_MAX];
	uint32_t n_forwards;
	struct lc_forward forwards[LC_FORWARDS_MAX];
	/* server end */
	uint32_t n_services;
	struct lc_service services[LC_SERVICES_MAX];
	uint32_t n_allow;
	struct lc_allow allow[LC_ALLOW_MAX];
	/* limits */
	uint32_t max_channels;
	uint32_t channel_buffer;        /* bytes queued toward one local socket before PAUSE */
	uint32_t tunnel_buffer;         /* bytes queued toward the middle before reading stops */
	uint32_t connect_timeout_ms;
	uint32_t handshake_timeout_ms;  /* dial + proxy + TLS + re-exchange */
	uint32_t max_local;             /* local connections not yet on a channel (SOCKS talk) */
	uint32_t backoff_min_ms, backoff_max_ms;
};

int lstp_conf_load(struct lstp_conf *c, const char *path, char *err, size_t errlen);
int lstp_conf_load_str(struct lstp_conf *c, const char *name, const char *text, char *err,
		       size_t errlen);
/* "socks5://[user:pass@]host:port" or "http://[user:pass@]host[:port]"; NULL or why not */
const char *lstp_proxy_parse(const char *url, struct lc_proxy *p);
/* May a CONNECTION_REQUEST reach addr:port (host order)? */
int lstp_conf_allowed(const struct lstp_conf *c, uint32_t addr, uint16_t port);
void lstp_conf_wipe(struct lstp_conf *c);
const char *lstp_conf_role_str(enum lc_role r);

#endif
