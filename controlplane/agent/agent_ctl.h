/*
 * S4 in sluice-cp: the agents' control sessions, their STREAM pools, and the
 * questions the workers ask them (held SYNs, pings).  Everything here runs
 * on the handshake thread (tls/cp_tls.c), which owns the sessions' OpenSSL
 * objects and is the only producer on the workers' down rings; the command
 * thread only reads snapshots (`show agents`) and posts requests (`agent
 * kick`), under one mutex.
 */
#ifndef SLUICE_AGENT_CTL_H
#define SLUICE_AGENT_CTL_H

#include <stdint.h>
#include <stddef.h>

#include <openssl/ssl.h>

#include <sluice/tls_msg.h>

struct sl_conf;
struct sl_app_def;
struct cmd_ctx;

/* A connection on a worker, as the rings name it. */
struct cp_conn {
	uint16_t worker, app;
	uint32_t slot, gen;
};

/* Main thread, before the handshake thread starts: the agents and vnets of
 * the config sluice-cp was started with, and how many workers there are
 * (each needs idle STREAM sessions of its own). */
void agent_ctl_init(const struct sl_conf *conf, unsigned int n_workers);

/* The agents listener's OpenSSL context: agent certificates verified against
 * def->ca, the ALPN names of agent_proto.h, no tickets.  0 or -EINVAL. */
int agent_ctl_ctx_setup(SSL_CTX *ctx, const struct sl_app_def *def, char *err, size_t errlen);

enum agent_kind { AGENT_REJECT = 0, AGENT_CONTROL, AGENT_STREAM, AGENT_DGRAM };

/* A handshake on the agents listener completed: which agent, which kind of
 * session (and for a STREAM session its id).  AGENT_REJECT with *why set
 * when the certificate names no configured agent or the ALPN is missing. */
enum agent_kind agent_ctl_classify(SSL *ssl, int *agent, uint64_t *stream_id,
				   const char **why);

/* Issue 10: a DGRAM session's keys went to its worker (agent_sa.h); a
 * worker's new datagram association. */
void agent_ctl_dgram_up(int agent, const struct cp_conn *c, uint64_t session);
void agent_ctl_da_offer(const struct cp_conn *w, const struct sl_da_offer *o);
/* The control session's output, for agent_sa.c (under A.mu). */
struct agent_rt;
struct ap_msg;
int agent_ctl_send(struct agent_rt *ag, const struct ap_msg *m);
void agent_ctl_flush(struct agent_rt *ag);
/* A STREAM session's keys went to its worker: it joins the agent's pool. */
void agent_ctl_stream_up(int agent, const struct cp_conn *c, uint64_t stream_id);

/* A control session is up (its SSL stays here).  Returns the handle
 * agent_ctl_control_input/closed take, or NULL (refused: close it). */
void *agent_ctl_control_up(int agent, const struct cp_conn *c, SSL *ssl);
/* New bytes were written into the session's read BIO: read and handle the
 * messages.  0, or -1 when the session must close (an ERROR was written). */
int agent_ctl_control_input(void *h);
/* Any connection of the agents listener is gone (control or STREAM). */
void agent_ctl_conn_closed(const struct cp_conn *c);

/* Questions from the workers. */
void agent_ctl_offer(const struct cp_conn *held, const struct sl_agent_offer *o);
void agent_ctl_ping(const struct cp_conn *p, const struct sl_agent_ping *q, const uint8_t *data,
		    uint32_t dlen);

/* Handshake thread, often: keepalives, silent sessions, kicks, requests
 * that waited too long. */
void agent_ctl_tick(void);

/* Command thread. */
int cmd_show_agents(struct cmd_ctx *c, int argc, char *argv[]);
int cmd_show_vnets(struct cmd_ctx *c, int argc, char *argv[]);
int cmd_show_held(struct cmd_ctx *c, int argc, char *argv[]);
int cmd_agent_kick(struct cmd_ctx *c, int argc, char *argv[]);
int cmd_acl_add(struct cmd_ctx *c, int argc, char *argv[]);
int cmd_acl_del(struct cmd_ctx *c, int argc, char *argv[]);
int cmd_show_acl(struct cmd_ctx *c, int argc, char *argv[]);

#endif
