/*
 * Configuration: libconfig file -> struct sl_conf, fully validated.
 * Pure logic (libconfig only, no DPDK): used by sluice-dp, sluice-cp and tests.
 * The reference for every key is docs/config.md.
 */
#ifndef SLUICE_CONF_H
#define SLUICE_CONF_H

#include <stdint.h>
#include <stddef.h>

#include <sluice/shm.h>
#include <sluice/agent_types.h>

#define SL_CONF_ERR_LEN 512
#define SL_CONF_MAX_ROUTES 256
#define SL_CONF_MAX_NEIGH 64
#define SL_CONF_MAX_RULES 64

struct sl_conf_port {
	char name[SL_NAME_LEN];
	char dev[SL_DEV_LEN];   /* "net_tap0,iface=x" (vdev) or a PCI address */
	int is_vdev;
	uint32_t addr;          /* host order */
	uint8_t plen;
	int has_mac;
	uint8_t mac[6];
	uint16_t mtu;           /* 0 = leave the device default */
	struct sl_impair impair;
};

struct sl_conf_route {
	uint32_t prefix;        /* host order, host bits zero */
	uint8_t plen;
	uint8_t type;           /* SL_RT_DIRECT or SL_RT_GATEWAY */
	uint16_t port;          /* index into ports[] */
	uint32_t gw;
};

struct sl_conf_neigh {
	uint32_t ip;
	uint16_t port;
	uint8_t mac[6];
};

/* S3: the LSTP middle proxy (`lstp` section, docs/config.md). */
#define SL_LSTP_NAME_LEN 64
struct sl_lstp_conf {
	uint8_t enabled;        /* the section is present */
	uint8_t pad;
	uint16_t port;          /* listener port (7443) */
	uint32_t listen;        /* an appliance port address */
	char name[SL_LSTP_NAME_LEN]; /* the middle's topology entry name */
	uint32_t wait_ms;       /* an unpaired end waits this long, then ERROR expired */
	uint32_t hello_ms;      /* time for an end's two setup messages */
	uint32_t max_waiting;   /* unpaired ends stored, in all */
	uint32_t max_per_source;/* ... per source address */
	uint32_t max_pairs;     /* paired tunnels */
	uint32_t neighbour;     /* cascading: the next middle's address (0: none) */
	uint16_t neighbour_port;
	uint16_t pad2;
};

struct sl_conf {
	char path[256];
	/* eal */
	char lcores[64];        /* EAL -l list; the first lcore is the main lcore */
	char file_prefix[64];
	char huge_dir[128];     /* "" = EAL default */
	uint32_t mem_mb;        /* 0 = EAL default */
	char log_level[16];     /* "" = EAL default; e.g. "notice" */
	/* dataplane */
	uint32_t mbufs_per_worker;
	uint16_t burst;
	uint16_t rx_desc, tx_desc;
	uint32_t idle_sleep_us;
	uint32_t icmp_rate, icmp_burst;
	uint32_t neigh_max;
	uint32_t neigh_reachable_ms;
	uint32_t neigh_retrans_ms;
	uint32_t neigh_probes;
	uint32_t neigh_pending_per_entry;
	uint32_t neigh_pending_max;
	uint32_t stats_period_ms;
	/* crypto */
	char crypto_engine[16];     /* "auto", "ipsec-mb", "openssl" */
	uint32_t crypto_measure_ms; /* per engine, algorithm and size at start */
	/* tcp (dataplane/tcp/tcp_conn.h struct tcp_params) */
	uint32_t tcp_max_conns;       /* connection slots per worker */
	uint32_t tcp_max_half_open;   /* SYN-RECEIVED per worker, then SYN cookies */
	uint32_t tcp_sndbuf;          /* send queue per connection, bytes */
	uint32_t tcp_reass_bytes;     /* out-of-order bytes per connection */
	uint32_t tcp_mss;
	uint32_t tcp_time_wait_ms;
	uint32_t tcp_idle_timeout_ms; /* proxy: both legs silent; 0 = never */
	uint32_t tcp_syn_timeout_ms;  /* a half-open connection gives up */
	uint32_t tcp_connect_timeout_ms;
	uint32_t tcp_delack_ms;
	uint32_t tcp_keepalive_idle_ms; /* 0 = off (RFC 1122: off by default) */
	uint32_t tcp_keepalive_intvl_ms;
	uint32_t tcp_keepalive_probes;
	uint32_t tls_max_sessions;  /* TLS sessions per worker (tcp section) */
	/* control */
	char ctl_socket[108];
	/* tables */
	unsigned int n_ports;
	struct sl_conf_port ports[SL_MAX_PORTS];
	unsigned int n_routes;
	struct sl_conf_route routes[SL_CONF_MAX_ROUTES];
	unsigned int n_neigh;
	struct sl_conf_neigh neigh[SL_CONF_MAX_NEIGH];
	unsigned int n_rules;
	struct sl_rule rules[SL_CONF_MAX_RULES]; /* ids 1..n in file order */
	unsigned int n_apps;
	struct sl_app_def apps[SL_APPS_MAX];     /* index = position in the file */
	/* S4: agents and virtual networks (common/conf_agent.c) */
	struct sl_agents_conf agents;
	unsigned int n_vnets;
	struct sl_vnet_def vnets[SL_VNETS_MAX];   /* index = position in the file */
	unsigned int n_agents;
	struct sl_agent_def agent_defs[SL_AGENTS_MAX]; /* every vnet's agents, in file order */
	unsigned int n_acl;
	struct sl_acl_rule acl[SL_ACL_RULES_MAX]; /* every vnet's rules, vnet by vnet */
	/* S3: the LSTP middle proxy (common/conf_lstp.c) */
	struct sl_lstp_conf lstp;
};

/* Mbufs a worker's pool needs: every RX and TX ring of every port full, a few
 * bursts in flight and the per-lcore caches. */
static inline uint32_t sl_conf_mbufs_needed(const struct sl_conf *c)
{
	return c->n_ports * ((uint32_t)c->rx_desc + c->tx_desc) + 4 * 64 + 2 * 256;
}

/* The policy rules application `idx` installs (S1): terminate: its secure
 * port -> tls-terminate, its plain port -> deny; originate: its plain port
 * -> tls-originate.  Ids from id0 on.  Returns how many (1 or 2). */
unsigned int sl_app_rules(const struct sl_app_def *a, unsigned int idx, uint32_t id0,
			  struct sl_rule r[2]);

/* Fill defaults (everything but ports). */
void sl_conf_defaults(struct sl_conf *c);

/* Load and validate a file.  0 on success; -EINVAL with err = "file:line: message"
 * (or "file: message" when no line applies) for any error, including unknown keys. */
int sl_conf_load(struct sl_conf *c, const char *path, char *err, size_t errlen);

/* Same, from a string (tests); `name` stands in for the file name in errors. */
int sl_conf_load_str(struct sl_conf *c, const char *name, const char *text, char *err, size_t errlen);

/* Port lookup by name or decimal index; -ENOENT when none. */
int sl_conf_port_find(const struct sl_conf *c, const char *name_or_index);

/* Small parsers shared with the CLI (pure; 0 or -EINVAL). */
int sl_parse_ipv4(const char *s, uint32_t *ip);                    /* "a.b.c.d" -> host order */
int sl_parse_prefix(const char *s, uint32_t *prefix, uint8_t *plen); /* "a.b.c.d/n", host bits must be 0 */
int sl_parse_addr_plen(const char *s, uint32_t *addr, uint8_t *plen); /* "a.b.c.d/n", host bits allowed */
int sl_parse_mac(const char *s, uint8_t mac[6]);
int sl_parse_pct(const char *s, uint32_t *ppm);                     /* "1%", "0.5%", "100%"; 4 decimals max */
void sl_format_ipv4(uint32_t ip, char *buf, size_t len);
void sl_format_pct(uint32_t ppm, char *buf, size_t len);            /* 10000 -> "1%", 5000 -> "0.5%" */
int sl_parse_proto(const char *s, uint8_t *proto);                  /* "tcp" "udp" "icmp" "any" */
const char *sl_proto_str(uint8_t proto);
int sl_parse_port_range(const char *s, uint16_t *lo, uint16_t *hi); /* "80", "8000-8080", "any" */
int sl_parse_rule_action(const char *s, uint8_t *action);           /* "forward" "drop" "reject" "proxy" */
const char *sl_rule_action_str(unsigned int action);
void sl_format_mac(const uint8_t mac[6], char *buf, size_t len);    /* "02:53:4c:00:00:01" */

/* EAL -l list ("0-1", "0,2-3"; ranges ascending) or --lcores map
 * ("0@0,(1-3)@1": lcores as threads on the CPUs after '@', so there may be
 * more workers than CPUs): the number of distinct lcores, -EINVAL for bad
 * syntax, -ERANGE for an lcore id above SL_LCORE_ID_MAX.  EAL makes the
 * lowest one the main lcore; the others are workers.  sl_lcores_is_map:
 * 1 when the string is a map (EAL's --lcores rather than -l). */
#define SL_LCORE_ID_MAX (RTE_MAX_LCORE - 1)
int sl_parse_lcores(const char *s);
int sl_lcores_is_map(const char *s);

/* A port's dev: 1 for a vdev ("net_<driver>[,args]"), 0 for a PCI address
 * (DDDD:BB:DD.F or BB:DD.F), -EINVAL otherwise.  key (optional) gets the
 * device's identity: the vdev name before the first ',', or the PCI address
 * normalised to "dddd:bb:dd.f"; two ports with one key are one device. */
int sl_parse_dev(const char *dev, char *key, size_t len);

/* Netmask of a prefix length 0..32, host order (0 -> 0, 24 -> 0xffffff00). */
static inline uint32_t sl_plen_mask(unsigned int plen)
{
	return plen == 0 ? 0 : plen >= 32 ? 0xffffffffu : ~0u << (32 - plen);
}

#endif
