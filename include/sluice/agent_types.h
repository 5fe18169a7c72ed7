/*
 * S4 tables shared by the config, sluice-dp and sluice-cp: the agents
 * listener, virtual networks (vnets), the agents bound to them, their
 * routes and ACL rules.  Plain data, host byte order; no DPDK.
 *
 * A vnet is chosen by the client's source address (client ranges never
 * overlap across vnets); inside it, routes send server prefixes to one of
 * its agents.  Server ranges may overlap between vnets: what identifies a
 * flow is the vnet and the 5-tuple, and since the client address alone
 * names the vnet, the TCP stack's (client, server) key is unique too.
 */
#ifndef SLUICE_AGENT_TYPES_H
#define SLUICE_AGENT_TYPES_H

#include <stdint.h>

#define SL_VNETS_MAX 16
#define SL_VNET_CLIENTS_MAX 8
#define SL_VNET_ROUTES_MAX 64
#define SL_AGENTS_MAX 64
#define SL_ACL_RULES_MAX 8192   /* over all vnets */
#define SL_AGENT_NAME_LEN 64
#define SL_AGENT_PATH_LEN 256

struct sl_prefix {
	uint32_t prefix;        /* host bits zero */
	uint8_t plen;
	uint8_t pad[3];
};

struct sl_vnet_route {
	uint32_t prefix;        /* server prefix, host bits zero */
	uint8_t plen;
	uint8_t pad;
	uint16_t agent;         /* index into the agents table */
};

enum sl_acl_action {
	SL_ACL_ALLOW = 1,
	SL_ACL_REJECT,          /* ICMP 3/13 from the vnet's gateway */
	SL_ACL_DROP,            /* silently */
};

/* One ACL rule of a vnet: first match wins; no match allows. */
struct sl_acl_rule {
	uint32_t id;            /* 1.. in file order; runtime rules above */
	uint16_t vnet;          /* index into the vnets table */
	uint8_t proto;          /* 0 any, 1 icmp, 6 tcp, 17 udp */
	uint8_t action;         /* enum sl_acl_action */
	uint32_t src, dst;      /* prefixes, host bits zero */
	uint8_t src_plen, dst_plen;
	uint16_t pad;
	uint16_t sport_lo, sport_hi; /* 0-65535 = any */
	uint16_t dport_lo, dport_hi;
};

/* What happens to an SA (a DGRAM session) whose last DA ended (S2). */
enum sl_sa_policy {
	SL_SA_IDLE = 0,         /* kept idle for sa_idle_ms: a new DA reuses it */
	SL_SA_DELETE,           /* deleted at once */
};

struct sl_vnet_def {
	char name[SL_AGENT_NAME_LEN];
	uint32_t gateway;       /* an appliance port address: ICMP errors come from it */
	uint8_t n_clients;
	uint8_t pad;
	uint16_t n_routes;
	/* UDP through agents (issue 10): DA aging at the agent, SA policy (S2) */
	uint32_t da_idle_ms;    /* a DA with no datagram for this long ends */
	uint32_t da_idle2_ms;   /* ... once the server sent two: this long */
	uint32_t sa_idle_ms;    /* SL_SA_IDLE: an unused SA is deleted after this */
	uint8_t sa_policy;      /* enum sl_sa_policy */
	uint8_t pad2[3];
	struct sl_prefix clients[SL_VNET_CLIENTS_MAX];
	struct sl_vnet_route routes[SL_VNET_ROUTES_MAX];
};

struct sl_agent_def {
	char name[SL_AGENT_NAME_LEN]; /* the certificate's subject: CN or a DNS SAN */
	uint16_t vnet;          /* index into the vnets table */
	uint16_t pad;
};

/* The `agents` config section. */
struct sl_agents_conf {
	uint8_t enabled;        /* the section is present */
	uint8_t pad;
	uint16_t port;          /* listener port (443) */
	uint32_t listen;        /* an appliance port address */
	char cert[SL_AGENT_PATH_LEN], key[SL_AGENT_PATH_LEN]; /* the appliance's, PEM */
	char ca[SL_AGENT_PATH_LEN];  /* verifies agents' certificates */
	uint32_t hold_timeout_ms;    /* a held SYN without a verdict: ICMP host unreachable */
	uint32_t held_max;           /* held SYNs per worker */
	uint32_t held_per_source;    /* ... per client address, per worker */
	uint32_t held_per_vnet;      /* ... per vnet, per worker */
	uint32_t keepalive_ms;       /* control-session keepalive */
	uint32_t stream_pool;        /* idle STREAM sessions the agent keeps */
	uint32_t connect_timeout_ms; /* what the agent is told to wait for a server */
	uint32_t pings_per_client;   /* outstanding echo requests per client, per worker */
	uint32_t ping_timeout_ms;
	/* UDP through agents (issue 10) */
	uint32_t da_max;             /* datagram associations per worker (<= 65535) */
	uint32_t da_hold;            /* datagrams held per DA while it is offered */
	uint32_t da_discard_ms;      /* a refused DA drops its datagrams this long */
	uint32_t dgram_queue;        /* datagrams queued per DGRAM session beyond credits */
	uint32_t dgram_max_age_ms;   /* ... dropped when they waited longer */
	uint32_t udp_reasm_ms;       /* fragments of a client datagram wait this long */
	uint32_t sa_max;             /* SAs (DGRAM sessions) per agent */
};

/*
 * The vnets' ACL rules as the workers use them (memzone SL_ACL_ZONE, made
 * by sluice-dp from the config).  Two buffers: the workers read the active
 * one; sluice-cp writes a whole new rule set into the other, then tells
 * every worker to switch (CPDP_ACL_SET, applied between bursts) and waits
 * for all of them, so no worker ever reads a buffer being written and no
 * lock or grace period is needed.
 */
#define SL_ACL_ZONE "sl_acl"
#define SL_ACL_MAGIC 0x41434c5au /* "ACLZ" */

struct sl_acl_zone {
	uint32_t magic;
	uint32_t active;        /* the workers' buffer (cp: rw, after every worker switched) */
	uint32_t n[2];          /* rules in each buffer */
	uint32_t next_id;       /* the next runtime rule id */
	uint32_t pad;
	void *ctx[2];           /* each buffer's compiled classifier (rte_acl), or NULL */
	struct sl_acl_rule r[2][SL_ACL_RULES_MAX];
};

#endif
