/*
 * S3: the LSTP middle proxy's pairing table in sluice-cp (docs/lstp.md).
 * The workers frame each end's setup (apps/lstp_mid.c) and send it here;
 * an end waits until a second one presents the same common information,
 * then both are told of each other (the middle's own topology entry
 * appended) and joined into a relay on their worker.
 *
 * Threads: lstp_mid_hello/closed/tick run on the handshake thread (the one
 * producer of the workers' down rings); the commands read the tables under
 * the module's mutex and only mark entries, which the tick then ends.
 */
#ifndef SLUICE_CP_LSTP_MID_H
#define SLUICE_CP_LSTP_MID_H

#include <stdint.h>

struct sl_conf;
struct cp_conn;
struct cmd_ctx;
struct sl_lstp_hello;
struct sl_lstp_close;

/* Main thread, before the handshake thread starts. */
int lstp_mid_init(const struct sl_conf *conf, unsigned int n_workers);
void lstp_mid_fini(void);

/* From the workers (SL_TLS_UP_LSTP_*). */
void lstp_mid_hello(const struct cp_conn *c, const struct sl_lstp_hello *h, const uint8_t *bytes);
void lstp_mid_closed(const struct cp_conn *c, const struct sl_lstp_close *cl);
/* The newer end of a pair moved to its peer's worker: c is where it is now. */
struct sl_lstp_moved;
void lstp_mid_moved(const struct cp_conn *c, const struct sl_lstp_moved *mv);
/* Cascading: the end's onward connection (c) is up and relaying. */
void lstp_mid_onward_up(const struct cp_conn *c, const struct sl_lstp_moved *mv);
/* Expiry and the operator's drops; cheap when there is nothing to do. */
void lstp_mid_tick(void);

/* sluicectl */
int cmd_show_lstp(struct cmd_ctx *c, int argc, char *argv[]);
int cmd_lstp_drop(struct cmd_ctx *c, int argc, char *argv[]);

#endif
