/*
 * Shared-memory layout between sluice-dp (primary) and sluice-cp (secondary).
 *
 * One memzone, SL_SHM_NAME, created by sluice-dp.  Every field has exactly one
 * writer, named in its comment; everybody else only reads.  Multi-word views
 * (routes, neighbours) are read under an rte_seqcount so a reader never sees a
 * half-written table; plain counters are single 64-bit words, read relaxed.
 *
 * This is what lets sluice-cp restart: all state it shows (ports, routes,
 * neighbours, counters, impairment) lives here, owned by the data plane.
 */
#ifndef SLUICE_SHM_H
#define SLUICE_SHM_H

#include <stdint.h>
#include <rte_seqcount.h>

#include "drop_reasons.h"

#define SL_SHM_NAME       "sluice_shm"
#define SL_SHM_MAGIC      0x53554c43u /* "SULC" */
#define SL_SHM_VERSION    11u

#define SL_MAX_PORTS      8
#define SL_MAX_WORKERS    16
#define SL_MAX_LCORES     (SL_MAX_WORKERS + 1) /* workers, then main */
#define SL_NAME_LEN       32
#define SL_DEV_LEN        128
#define SL_ROUTES_MAX     1024
#define SL_NEIGH_MAX      4096
#define SL_RULES_MAX      256

/* Ring names; index = lcore slot (workers 0..n_workers-1, main = n_workers). */
#define SL_CMD_RING_FMT   "sl_cmd_%u"
#define SL_EVT_RING_FMT   "sl_evt_%u"

/* Impairment, per port and direction.  ppm = parts per million (1% = 10000). */
enum { SL_DIR_IN = 0, SL_DIR_OUT = 1, SL_DIR_MAX = 2 };

struct sl_impair_dir {
	uint32_t drop_ppm;
	uint32_t reorder_ppm;
	uint32_t dup_ppm;
	uint32_t pad;
};

struct sl_impair {
	struct sl_impair_dir dir[SL_DIR_MAX];
	uint64_t seed;
};

/* Routes.  Prefix and gateway in host byte order. */
enum sl_route_type {
	SL_RT_LOCAL = 1, /* /32 of an appliance address: deliver locally */
	SL_RT_DIRECT,    /* on-link: the destination itself is the next hop */
	SL_RT_GATEWAY,   /* via gw */
};

enum sl_route_origin {
	SL_RO_KERNEL = 1, /* made from a port address (local + connected) */
	SL_RO_CONFIG,     /* from the config file */
	SL_RO_STATIC,     /* added at runtime with `route add` */
};

struct sl_route {
	uint32_t prefix;
	uint8_t plen;
	uint8_t type;   /* enum sl_route_type */
	uint8_t origin; /* enum sl_route_origin */
	uint8_t pad;
	uint16_t port;  /* output port index (config order) */
	uint16_t pad2;
	uint32_t gw;    /* SL_RT_GATEWAY only */
};

struct sl_route_table {
	rte_seqcount_t seq;
	uint32_t n;
	struct sl_route r[SL_ROUTES_MAX];
};

/* Policy rules (P3): first match wins, in list order.  Addresses and
 * prefixes in host order; proto 0 = any; ports inclusive, 0-65535 = any. */
enum sl_rule_action {
	SL_RA_FORWARD = 1, /* route as usual (an exception to later rules) */
	SL_RA_DROP,        /* drop silently */
	SL_RA_REJECT,      /* TCP: RST as from the destination; else ICMP admin-prohibited */
	SL_RA_PROXY,       /* TCP: terminate on the worker and relay (apps/l4proxy.c) */
	SL_RA_TLS_TERM,    /* TCP: terminate TLS for application `app` (S1, apps/tls_relay.c) */
	SL_RA_TLS_ORIG,    /* TCP: plaintext in, TLS originated to app `app`'s secure port (S1 reverse) */
	SL_RA_DENY,        /* drop and count for application `app` (S1: its plain port, client side) */
	SL_RA_AGENT,       /* internal, never in a rule table: a held SYN released to the
			      client leg of an agent relay (S4, dataplane/agent/) */
	SL_RA_LSTP,        /* internal: a connection to the LSTP middle's listener (S3,
			      dataplane/apps/lstp_mid.c) */
	SL_RA_MAX
};

/* sl_rule.flags */
#define SL_RF_TRANSPARENT 0x01 /* proxy: the server leg uses the client's address */

struct sl_rule {
	uint32_t id;       /* stable handle for `rule del` */
	uint32_t src, dst;
	uint8_t src_plen, dst_plen;
	uint8_t proto;
	uint8_t action;    /* enum sl_rule_action */
	uint16_t dport_lo, dport_hi;
	uint8_t flags;     /* SL_RF_* */
	uint8_t pad;
	uint16_t app;      /* application index + 1 (SL_RA_TLS_*, SL_RA_DENY); 0 = none */
};

struct sl_rule_table {
	rte_seqcount_t seq;
	uint32_t n;
	struct sl_rule r[SL_RULES_MAX];
	uint64_t hits[SL_RULES_MAX]; /* packets matched, by position */
};

/* Neighbours, as the main lcore (their owner) last published them. */
/* Life of an entry (dataplane/l2/neigh_sm.c): INCOMPLETE (broadcast requests)
 * -> REACHABLE (answered) -> PROBE after reachable_ms (unicast requests, still
 * used) -> REACHABLE again or deleted; INCOMPLETE without answer -> FAILED
 * (packets dropped) for retrans_ms, then deleted.  PERMANENT = static entry. */
enum sl_neigh_state {
	SL_NEIGH_INCOMPLETE = 1,
	SL_NEIGH_REACHABLE,
	SL_NEIGH_PROBE,
	SL_NEIGH_FAILED,
	SL_NEIGH_PERMANENT,
};

struct sl_neigh_view_entry {
	uint32_t ip;      /* host order */
	uint16_t port;
	uint8_t mac[6];
	uint8_t state;    /* enum sl_neigh_state */
	uint8_t probes;
	uint16_t pending; /* packets waiting for resolution */
	uint32_t age_ms;  /* since last confirmation */
};

struct sl_neigh_view {
	rte_seqcount_t seq;
	uint32_t n;
	struct sl_neigh_view_entry e[SL_NEIGH_MAX];
};

/* Ports: identity written once at start, link and ethdev stats refreshed by
 * the main lcore every stats period. */
struct sl_port_view {
	char name[SL_NAME_LEN];
	char dev[SL_DEV_LEN];
	char driver[SL_NAME_LEN];
	uint16_t port_id; /* ethdev port id */
	uint16_t mtu;
	uint8_t mac[6];
	uint8_t link_up;
	uint8_t plen;
	uint32_t addr;    /* host order */
	uint32_t link_speed;
	uint64_t ipackets, opackets, ibytes, obytes;
	uint64_t imissed, ierrors, oerrors, rx_nombuf;
};

struct sl_port_counters {
	uint64_t rx_pkts, rx_bytes;
	uint64_t tx_pkts, tx_bytes;
};

/* Per-lcore counters: written only by their lcore, read relaxed by others.
 * `clear counters` is a ring command so the owner zeroes them itself. */
/* The TCP stack of one worker (dataplane/tcp/).  X(name, kind, help): kind
 * is GAUGE (a current count, summed over workers) or COUNTER (monotonic,
 * zeroed by `clear counters`).  Append only (shared-memory layout). */
#define SL_TCP_STATS(X) \
	X(active,          GAUGE,   "connections not CLOSED (each leg of a proxied connection counts)") \
	X(syn_received,    GAUGE,   "connections in SYN-RECEIVED") \
	X(syn_sent,        GAUGE,   "connections in SYN-SENT") \
	X(established,     GAUGE,   "connections in ESTABLISHED") \
	X(closing,         GAUGE,   "connections in FIN-WAIT-1/2, CLOSE-WAIT, CLOSING, LAST-ACK") \
	X(time_wait,       GAUGE,   "connections in TIME-WAIT") \
	X(opened_passive,  COUNTER, "connections accepted (SYN answered, handshake completed)") \
	X(opened_active,   COUNTER, "connections opened by the appliance (server legs)") \
	X(connect_failed,  COUNTER, "active opens that failed (RST, timeout, no route)") \
	X(closed,          COUNTER, "connections freed") \
	X(refused_full,    COUNTER, "SYNs refused: connection table full") \
	X(segs_in,         COUNTER, "segments received") \
	X(segs_out,        COUNTER, "segments sent") \
	X(bytes_in,        COUNTER, "payload bytes received in order") \
	X(bytes_out,       COUNTER, "payload bytes sent (first transmissions)") \
	X(retransmits,     COUNTER, "segments retransmitted") \
	X(rto_fired,       COUNTER, "retransmission timeouts (RFC 6298)") \
	X(fast_recoveries, COUNTER, "loss recoveries entered (RFC 6675 / RFC 6582)") \
	X(ooo_segments,    COUNTER, "segments queued out of order") \
	X(dup_segments,    COUNTER, "segments carrying nothing new") \
	X(challenge_acks,  COUNTER, "challenge ACKs sent (RFC 5961)") \
	X(resets_sent,     COUNTER, "RSTs sent") \
	X(resets_rcvd,     COUNTER, "acceptable RSTs received") \
	X(syncookies_sent, COUNTER, "SYN-ACKs carrying a SYN cookie (half-open table full)") \
	X(syncookies_ok,   COUNTER, "connections rebuilt from a valid SYN cookie") \
	X(syncookies_bad,  COUNTER, "ACKs to a listener with an invalid or expired cookie") \
	X(zwnd_probes,     COUNTER, "zero-window probes sent") \
	X(keepalives,      COUNTER, "keepalive probes sent") \
	X(delayed_acks,    COUNTER, "ACKs sent by the delayed-ACK timer") \
	X(idle_timeouts,   COUNTER, "proxied connections closed by the idle timeout") \
	X(proxied,         COUNTER, "client connections relayed by a proxy rule") \
	X(recovery_probes, COUNTER, "first hole resent two RTTs into a stalled recovery (lost retransmission)") \
	X(tail_probes,     COUNTER, "tail loss probes sent (RFC 8985 7)")

struct sl_tcp_stats {
#define X(name, kind, help) uint64_t name;
	SL_TCP_STATS(X)
#undef X
};

/* S4 on one worker (dataplane/agent/): held SYNs and pings through agents.
 * Same X(name, kind, help) convention as SL_TCP_STATS; append only. */
#define SL_AGENT_STATS(X) \
	X(held,            GAUGE,   "SYNs held now, waiting for an agent's answer") \
	X(pings_pending,   GAUGE,   "echo requests waiting for an agent's answer") \
	X(syn_held,        COUNTER, "SYNs held (offered to an agent)") \
	X(syn_dup,         COUNTER, "retransmitted SYNs absorbed during a hold") \
	X(held_refused,    COUNTER, "SYNs refused by a held-SYN bound (total, per source, per vnet)") \
	X(ok,              COUNTER, "held SYNs released: the server accepted (SYN-ACK sent)") \
	X(refused,         COUNTER, "held SYNs answered by RST: the server refused") \
	X(unreachable,     COUNTER, "held SYNs answered by ICMP unreachable (the agent's code)") \
	X(timeouts,        COUNTER, "held SYNs that got no answer in hold_timeout_ms (ICMP host unreachable)") \
	X(no_agent,        COUNTER, "held SYNs whose agent was not connected or could not serve (ICMP host unreachable)") \
	X(late,            COUNTER, "verdicts for entries that had timed out (a bound stream is reset)") \
	X(bind_failed,     COUNTER, "OK verdicts whose STREAM session or connection slot was gone") \
	X(acl_denied,      COUNTER, "packets denied by a vnet ACL (reject or drop)") \
	X(pings,           COUNTER, "echo requests sent to agents") \
	X(pongs,           COUNTER, "echo replies relayed to clients") \
	X(ping_errors,     COUNTER, "echo requests answered with ICMP unreachable or not at all") \
	X(busy,            COUNTER, "held SYNs the agent (or sluice-cp) had no room for (ICMP host unreachable)") \
	X(das,             GAUGE,   "datagram associations in the worker's table") \
	X(da_offered,      COUNTER, "datagram associations offered to an agent") \
	X(da_bound,        COUNTER, "datagram associations bound to a DGRAM session (OK)") \
	X(da_refused,      COUNTER, "datagram associations refused by the agent (discarded for da_discard_ms)") \
	X(da_failed,       COUNTER, "datagram associations that got no agent (ICMP unreachable to the client)") \
	X(da_ended,        COUNTER, "datagram associations ended (the agent's aging, SA deleted, session gone)") \
	X(dgram_up,        COUNTER, "client datagrams sent to agents (DATA frames)") \
	X(dgram_up_bytes,  COUNTER, "... their payload bytes") \
	X(dgram_down,      COUNTER, "server datagrams relayed to clients") \
	X(dgram_down_bytes, COUNTER, "... their payload bytes") \
	X(dgram_queued,    COUNTER, "client datagrams queued for want of the agent's credit") \
	X(dgram_icmp,      COUNTER, "ICMP errors from the agent's socket relayed to clients") \
	X(credits,         COUNTER, "DATA credits granted by agents") \
	X(udp_reasm,       COUNTER, "client datagrams reassembled from fragments") \
	X(udp_frags_out,   COUNTER, "fragments sent to clients (server datagrams larger than the MTU)")

struct sl_agent_stats {
#define X(name, kind, help) uint64_t name;
	SL_AGENT_STATS(X)
#undef X
};

/* Applications (S1, S5).  The table is written by dp main once before the
 * workers start (the config's apps) and from then on only by sluice-cp
 * (`app add/del`), which also keeps the handshake counters here so that a
 * restarted sluice-cp finds them.  An entry is read under its `gen` (odd
 * while it changes), like the flow zone. */
#define SL_APPS_MAX       64
#define SL_APP_NAME_LEN   32
#define SL_PATH_LEN       256
#define SL_E2E_HOSTS_LEN  512

enum sl_app_mode {
	SL_APP_TERMINATE = 1, /* clients speak TLS to secure_port; plaintext to plain_port */
	SL_APP_ORIGINATE,     /* clients speak plaintext to plain_port; TLS to secure_port */
	SL_APP_AGENTS,        /* S4: the agents' listener (server:secure_port is an appliance
				 address); made from the `agents` section, never by `app add` */
};

struct sl_app_def {
	uint32_t gen;
	uint8_t in_use;
	uint8_t mode;          /* enum sl_app_mode */
	uint8_t transparent;   /* server leg from the client's address */
	uint8_t pad;
	char name[SL_APP_NAME_LEN];
	uint32_t server;       /* host order */
	uint16_t secure_port, plain_port;
	uint32_t e2e_ttl_s;    /* S5 passthrough pair lifetime */
	char cert[SL_PATH_LEN], key[SL_PATH_LEN]; /* PEM (terminate) */
	char ca[SL_PATH_LEN];  /* PEM CA bundle that verifies the server (originate) */
	char e2e_hosts[SL_E2E_HOSTS_LEN]; /* comma-separated SNI names or *.patterns */
	uint32_t rule_ids[2];  /* the policy rules it installed (0 = none) */
	/* sluice-cp's counters */
	uint64_t handshakes, resumptions, handshake_errors, verify_failures;
	uint64_t escalated;    /* records the workers handed up (alerts, odd messages) */
};

struct sl_app_table {
	uint32_t n;            /* entries in use */
	struct sl_app_def a[SL_APPS_MAX];
};

/* What the workers count per application (index as in sl_app_table). */
struct sl_app_stats {
	uint64_t conns;        /* client connections accepted for it */
	uint64_t bytes_in;     /* plaintext from clients to the server */
	uint64_t bytes_out;    /* plaintext from the server to clients */
	uint64_t records_in, records_out;
	uint64_t denied;       /* client packets to the plain port (SL_RA_DENY) */
	uint64_t errors;       /* bad records, alerts, handshakes the cp refused */
	uint64_t passthrough;  /* connections passed through end to end (S5) */
};

/* What a worker counts for the LSTP middle (S3, apps/lstp_mid.c).  Same
 * X(name, kind, help) convention as SL_TCP_STATS; append only. */
#define SL_LSTP_STATS(X) \
	X(conns,          COUNTER, "end connections accepted on the lstp listener") \
	X(hellos,         COUNTER, "ends that sent their two setup messages (to sluice-cp)") \
	X(malformed,      COUNTER, "ends that sent something else first: ERROR, closed") \
	X(hello_timeouts, COUNTER, "ends without a setup within hello_timeout_ms: ERROR, closed") \
	X(paired,         COUNTER, "pairs joined on this worker (two connections relaying)") \
	X(pair_failed,    COUNTER, "pairings that found a connection gone (the other waits again)") \
	X(ended,          COUNTER, "connections sluice-cp ended (refused, expired, dropped)") \
	X(early_bytes,    COUNTER, "bytes ends sent before they were paired (relayed after)") \
	X(up_failed,      COUNTER, "setups that could not reach sluice-cp (no mbuf, ring full): closed") \
	X(moved_out,      COUNTER, "waiting ends moved to their peer's worker (both legs on one worker)") \
	X(moved_in,       COUNTER, "ends moved here and joined with their peer") \
	X(move_failed,    COUNTER, "moves that failed (ring full, no mbuf, table full): the end dials again") \
	X(onward,         COUNTER, "cascading: connections opened onward to the neighbour middle") \
	X(onward_up,      COUNTER, "... whose neighbour answered: the end and it relay") \
	X(onward_failed,  COUNTER, "... that could not be opened (no route, table full): ERROR to the end")

struct sl_lstp_stats {
#define X(name, kind, help) uint64_t name;
	SL_LSTP_STATS(X)
#undef X
};

struct sl_lcore_stats {
	struct sl_port_counters port[SL_MAX_PORTS];
	uint64_t drops[SL_DROP_MAX];
	uint64_t fwd;         /* IPv4 packets forwarded */
	uint64_t local_in;    /* IPv4 packets addressed to the appliance */
	uint64_t icmp_out;    /* ICMP messages generated (echo replies, errors) */
	uint64_t arp_in, arp_out;
	uint64_t slowpath;    /* packets handed to the main lcore */
	uint64_t cmds;        /* ring commands processed */
	uint64_t polls, busy_polls;
	uint64_t cycles_work; /* TSC cycles in busy iterations outside rx/tx bursts */
	uint64_t cycles_io;   /* TSC cycles inside rx/tx burst calls of busy iterations */
	uint64_t handoff_out; /* packets this worker received for a flow another owns */
	uint64_t handoff_in;  /* packets other workers handed to this one */
	struct sl_tcp_stats tcp;
	struct sl_app_stats app[SL_APPS_MAX];
	struct sl_agent_stats agent;
	struct sl_lstp_stats lstp;
};

struct sl_lcore_shm {
	/* owner lcore: rw; others: ro */
	struct sl_lcore_stats st __attribute__((aligned(64)));
	struct sl_impair impair[SL_MAX_PORTS];  /* owner applies ring commands */
	struct sl_route_table rt;               /* owner's routes (workers only) */
	struct sl_rule_table rules;             /* owner's policy rules (workers only) */
	uint32_t lcore_id;
	uint8_t is_main;
	uint8_t running;
	uint64_t heartbeat_tsc;
} __attribute__((aligned(64)));

/* TCP connections of one worker, readable by sluice-cp for `show flows`:
 * memzone SL_FLOW_ZONE_FMT (worker index) = a struct sl_flow_zone header,
 * then n_slots connections, `stride` bytes apart, each starting with a
 * struct sl_flow_ent.  The worker writes them without locks; a reader copies
 * an entry, then checks that `gen` is even and unchanged (a slot being
 * (re)used has an odd gen) and drops the copy otherwise. */
#define SL_FLOW_ZONE_FMT "sl_tcp_w%u"
#define SL_FLOW_MAGIC 0x534c464cu /* "SLFL" */

enum sl_flow_role {
	SL_FLOW_CLIENT_LEG = 1, /* the appliance answered a client as its server */
	SL_FLOW_SERVER_LEG = 2, /* the appliance connected to a server */
};

struct sl_flow_ent {
	uint32_t gen;         /* odd while the slot changes hands */
	uint8_t state;        /* RFC 9293 state, tcp_fsm.h order; 0 (CLOSED) = free */
	uint8_t role;         /* enum sl_flow_role */
	uint16_t port;        /* appliance port the peer is reached through */
	uint32_t laddr, raddr;/* host order: our address on this leg, the peer's */
	uint16_t lport, rport;
	uint32_t peer;        /* slot of the other leg, UINT32_MAX if none */
	uint32_t rule_id;     /* the proxy rule that made it */
	uint64_t bytes_in;    /* payload received in order from the peer */
	uint64_t bytes_out;   /* payload sent to the peer (first transmissions) */
	uint64_t start_tsc;
};

struct sl_flow_zone {
	uint32_t magic;
	uint32_t n_slots;
	uint32_t stride;      /* bytes from one slot to the next */
	uint32_t conn_bytes;  /* memory per connection: slot + flow-table share */
	uint8_t slots[] __attribute__((aligned(64)));
};

/* S5 end-to-end tunnels of one worker: (client, server) pairs whose TLS
 * goes through untouched until `expiry_ms` (the worker's clock, published
 * in `now_ms` once a second so sluice-cp and the other workers can tell the
 * time left).  Memzone SL_TUN_ZONE_FMT; entries are read under `gen` like
 * flow slots.  Each worker writes only its own zone and reads all of them:
 * a client's connections to one server reach different workers (by their
 * 4-tuples), so the pair's state is the newest record (`stamp`) over all
 * zones, and a worker ends a tunnel recorded elsewhere with a tombstone. */
#define SL_TUN_ZONE_FMT "sl_tun_w%u"
#define SL_TUN_MAX 1024
#define SL_TUN_SNI_LEN 64

struct sl_tunnel_ent {
	uint32_t gen;          /* odd while it changes */
	uint8_t in_use;
	uint8_t learned;       /* from the backend's marker, not e2e_hosts */
	uint8_t tomb;          /* the pair's tunnel ended here (shadows older records) */
	uint16_t app;
	uint32_t client, server; /* host order */
	uint32_t expiry_ms;
	uint32_t created_ms;
	uint64_t conns;        /* connections tunnelled under it */
	uint64_t stamp;        /* TSC when written: the newest record of a pair wins */
	char sni[SL_TUN_SNI_LEN];
};

struct sl_tunnel_zone {
	uint32_t magic;
	uint32_t n_in_use;
	uint32_t now_ms;       /* the worker's clock, refreshed every second */
	uint32_t refused;      /* pairs not recorded: table full */
	struct sl_tunnel_ent e[SL_TUN_MAX];
};

/* The AEAD engine chosen at start, per algorithm (AES-128-GCM, AES-256-GCM,
 * ChaCha20-Poly1305) and record size class (<= 2 KB, larger), with what was
 * measured (crypto/aead.h numbering). */
#define SL_AEAD_ALGS 3
#define SL_AEAD_SIZES 2
#define SL_AEAD_ENGINES 2
struct sl_crypto_view {
	uint8_t forced;         /* 1: crypto.engine pinned one engine */
	uint8_t eng[SL_AEAD_ALGS][SL_AEAD_SIZES];
	uint32_t measure_ms;
	double gbps[SL_AEAD_ALGS][SL_AEAD_SIZES][SL_AEAD_ENGINES]; /* 0 = not measured */
};

struct sl_shm {
	/* dp main: written once before workers start */
	uint32_t magic;
	uint32_t version;
	uint32_t n_ports;
	uint32_t n_workers; /* lcore slots: 0..n_workers-1 workers, n_workers main */
	int32_t dp_pid;
	uint32_t pad;
	uint64_t tsc_hz;
	uint64_t start_tsc;
	uint32_t icmp_rate, icmp_burst;
	uint32_t neigh_max;
	uint32_t pad2;
	/* dp main: rw */
	struct sl_port_view ports[SL_MAX_PORTS];
	struct sl_neigh_view neigh;
	struct sl_crypto_view crypto; /* dp main: written once before workers start */
	struct sl_app_table apps;     /* dp main before launch, then sluice-cp only */
	/* per lcore */
	struct sl_lcore_shm lcore[SL_MAX_LCORES];
};

#endif
